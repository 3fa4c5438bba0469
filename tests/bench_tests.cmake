# bench tests: the latency bench (harness/latency_bench.*) and `ktmsim bench`.
# Deterministic outputs only (simulated latencies, forced-write counts, JSON
# and SVG well-formedness), never timing. KTMSIM_SOURCE_DIR locates
# bench/latency.toml; KTMSIM_BINARY is the ktmsim binary for the end-to-end test.
if(TARGET harness AND TARGET ktmsim)
  ktmsim_test(bench_test bench
    SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/bench_test.cc
    LIBS harness nlohmann_json::nlohmann_json absl::strings)
  target_compile_definitions(bench_test PRIVATE
    KTMSIM_BINARY="$<TARGET_FILE:ktmsim>" KTMSIM_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
  add_dependencies(bench_test ktmsim)
endif()
