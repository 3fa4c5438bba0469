# Engine benchmarks: CPU per commit and the floor next to it (ratio printed at the end),
# default-suite runs per second, sim/wall ratio.
add_executable(engine_bench ${CMAKE_CURRENT_SOURCE_DIR}/engine_bench.cc)
target_link_libraries(engine_bench PRIVATE harness ktm sim benchmark::benchmark)
target_compile_definitions(engine_bench PRIVATE KTMSIM_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
# Simulator speed: default-suite seeds per second (1 and N threads), sim/wall ratios, latency-bench runs.
add_executable(suite_bench ${CMAKE_CURRENT_SOURCE_DIR}/suite_bench.cc)
target_link_libraries(suite_bench PRIVATE harness ktm sim benchmark::benchmark benchmark::benchmark_main)
target_compile_definitions(suite_bench PRIVATE KTMSIM_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
