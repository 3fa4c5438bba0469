# Engine benchmarks: CPU per commit and the floor next to it (ratio printed at the end),
# default-suite runs per second, sim/wall ratio.
add_executable(engine_bench ${CMAKE_CURRENT_SOURCE_DIR}/engine_bench.cc)
target_link_libraries(engine_bench PRIVATE harness ktm sim benchmark::benchmark)
target_compile_definitions(engine_bench PRIVATE KTMSIM_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
# Simulator speed: default-suite seeds per second (1 and N threads), sim/wall ratios, latency-bench runs.
add_executable(suite_bench ${CMAKE_CURRENT_SOURCE_DIR}/suite_bench.cc)
target_link_libraries(suite_bench PRIVATE harness ktm sim benchmark::benchmark benchmark::benchmark_main)
target_compile_definitions(suite_bench PRIVATE KTMSIM_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
# Checkers: CheckAll throughput over generated histories of 1k..1M transactions, and linearity.
add_executable(checker_bench ${CMAKE_CURRENT_SOURCE_DIR}/checker_bench.cc)
target_link_libraries(checker_bench PRIVATE model sim benchmark::benchmark)
# Long runs: CPU and peak RSS per transaction of the soak workload at 1x, 16x and 256x.
add_executable(soak_bench ${CMAKE_CURRENT_SOURCE_DIR}/soak_bench.cc)
target_link_libraries(soak_bench PRIVATE harness ktm sim benchmark::benchmark)
target_compile_definitions(soak_bench PRIVATE KTMSIM_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
if(KTMSIM_USE_MIMALLOC)
  target_compile_definitions(soak_bench PRIVATE KTMSIM_SOAK_MIMALLOC=1)
endif()
# The ratio reporter's console output into a pipe: plain text (no colour codes,
# which once came before the first ratio line) with the ratio printed.
add_test(NAME bench_ratio_output_is_plain
         COMMAND sh -c "\"$0\" --benchmark_filter='Commit/1$' --benchmark_min_time=0.01 > bench_ratio_output.txt && grep -q '^ratio BM_EngineCommit/1 / BM_FloorCommit/1 = ' bench_ratio_output.txt && ! grep -q \"$(printf '\\033')\" bench_ratio_output.txt"
                 $<TARGET_FILE:engine_bench>
         WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
set_tests_properties(bench_ratio_output_is_plain PROPERTIES LABELS bench)
