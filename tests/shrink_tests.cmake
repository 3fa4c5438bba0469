# shrink tests (label `shrink`): workload stability under deletion and the
# shrinker's figures over the planted bugs (see tests/shrink_test.cc).
if(TARGET harness)
  ktmsim_test(shrink_test shrink
    SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/shrink_test.cc
    LIBS harness absl::strings)
  target_compile_definitions(shrink_test PRIVATE KTMSIM_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
endif()
