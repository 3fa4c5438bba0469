# Scheduling strategies, coverage and the determinism check (issue 10, part B).
# schedule_test (label sim): the strategies; schedule_explore_test (label
# explore): PCT versus random on the planted ordering bug; coverage_test
# (label reports): coverage, probes, summary and the determinism check.
if(TARGET harness AND TARGET reports)
  ktmsim_test(schedule_test sim
    SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/schedule_test.cc
    LIBS harness)
  target_compile_definitions(schedule_test PRIVATE KTMSIM_SOURCE_DIR="${CMAKE_SOURCE_DIR}")

  ktmsim_test(schedule_explore_test explore
    SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/schedule_explore_test.cc
    LIBS harness)
  target_compile_definitions(schedule_explore_test PRIVATE KTMSIM_SOURCE_DIR="${CMAKE_SOURCE_DIR}")

  ktmsim_test(coverage_test reports
    SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/coverage_test.cc
    LIBS reports harness nlohmann_json::nlohmann_json absl::strings)
  target_compile_definitions(coverage_test PRIVATE KTMSIM_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
endif()
