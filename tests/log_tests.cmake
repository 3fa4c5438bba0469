# Tests of the CLFS-style log (ktm/log): unit tests, crash/tear scenarios and a
# RapidCheck property over random appends, forces, restart areas and crashes.
ktmsim_test(ktm_log_test ktm SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/log_test.cc LIBS ktm_log sim)
# Integrity (issue 15): damage to forced blocks and restart areas is refused,
# a refusing Open writes nothing, a torn tail still recovers; RapidCheck property.
ktmsim_test(ktm_log_integrity_test ktm SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/log_integrity_test.cc LIBS ktm_log sim)
