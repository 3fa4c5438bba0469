# explore tests (label `explore`): harness/explore.h, the fingerprints of
# sim::Disk and sim::Network, and `ktmsim explore` / `replay --fault-points`
# end to end. KTMSIM_SOURCE_DIR locates scenarios/explore/; KTMSIM_BINARY is
# the ktmsim the command tests run.
if(TARGET harness AND TARGET ktmsim)
  ktmsim_test(explore_test explore
    SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/explore_test.cc
    LIBS harness nlohmann_json::nlohmann_json absl::strings absl::str_format)
  target_compile_definitions(explore_test PRIVATE
    KTMSIM_BINARY="$<TARGET_FILE:ktmsim>" KTMSIM_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
  add_dependencies(explore_test ktmsim)
endif()
