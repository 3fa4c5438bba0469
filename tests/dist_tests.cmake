# Distributed transactions (ktm/dist, harness/cluster.*): label dist.
# dist_test: wire format, messages per commit, crash points of coordinator
# and participant. dist_property_test: random distributed workloads and fault
# plans through harness::RunScenario (500 cases by default; RC_PARAMS raises).
# dist_suite_test: every scenarios/dist_*.toml over 500 seeds (label suite,
# like cli_suite_test, so sanitizer builds can leave it out with -LE suite).
if(TARGET harness)
  ktmsim_test(dist_test dist SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/dist_test.cc LIBS harness)
  target_compile_definitions(dist_test PRIVATE KTMSIM_SOURCE_DIR="${CMAKE_SOURCE_DIR}")

  add_executable(dist_property_test ${CMAKE_CURRENT_SOURCE_DIR}/dist_property_test.cc)
  target_link_libraries(dist_property_test PRIVATE harness GTest::gtest rapidcheck)
  gtest_discover_tests(dist_property_test PROPERTIES LABELS dist DISCOVERY_TIMEOUT 60
    ENVIRONMENT "LSAN_OPTIONS=suppressions=${CMAKE_SOURCE_DIR}/tests/lsan.supp")

  ktmsim_test(dist_suite_test suite SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/dist_suite_test.cc LIBS harness)
  target_compile_definitions(dist_suite_test PRIVATE KTMSIM_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
endif()
