# Tests of the CLFS-style log (ktm/log): unit tests, crash/tear scenarios and a
# RapidCheck property over random appends, forces, restart areas and crashes.
ktmsim_test(ktm_log_test ktm SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/log_test.cc LIBS ktm_log sim)
