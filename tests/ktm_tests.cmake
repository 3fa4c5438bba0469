# The engine's tests (label ktm).
ktmsim_test(ktm_api_test ktm SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/ktm_api_test.cc LIBS ktm sim)
ktmsim_test(ktm_recovery_test ktm SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/ktm_recovery_test.cc LIBS ktm sim)
ktmsim_test(ktm_superior_test ktm SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/ktm_superior_test.cc LIBS ktm sim)
ktmsim_test(ktm_status_test ktm SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/ktm_status_test.cc LIBS ktm sim)
ktmsim_test(ktm_windows_test ktm SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/ktm_windows_test.cc LIBS ktm sim)
ktmsim_test(ktm_win32_test ktm SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/ktm_win32_test.cc LIBS ktm sim)
# A long engine run's live kernel objects stay bounded (issue 19).
ktmsim_test(ktm_live_objects_test ktm SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/ktm_live_objects_test.cc LIBS harness ktm sim)
# Writer's byte layout and Reader's round trip (ktm/codec.h).
ktmsim_test(ktm_codec_test ktm SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/ktm_codec_test.cc LIBS ktm sim)
# Heap allocations per steady commit stay at the transaction's own objects (issue 19).
ktmsim_test(ktm_allocations_test ktm SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/ktm_allocations_test.cc LIBS ktm sim)
# Case-insensitive name order, eight bytes at a time (ktm/case_fold.h), against the byte definition.
ktmsim_test(ktm_case_fold_test ktm SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/ktm_case_fold_test.cc LIBS ktm sim)
