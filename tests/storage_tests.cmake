# The RM storage layer (ktm/storage, issue 22): page store, buffer pool,
# write-ahead rule, fuzzy checkpoints, redo recovery, torn-page repair.
ktmsim_test(storage_page_store_test storage SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/storage_page_store_test.cc LIBS ktm sim)
# The built-in RMs (kv, TxF, TxR) on paged storage: crash after every disk write of a mix.
ktmsim_test(storage_rm_test storage SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/storage_rm_test.cc LIBS ktm sim)
