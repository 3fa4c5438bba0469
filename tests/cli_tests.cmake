# cli tests: scenario files, runner and command line. Each block below is
# owned by one author; add new blocks rather than editing another's.

# --- scenario files (harness/scenario*.cc, scenarios/, tests/data/) --------
# Linked with the harness library: Validate reads the RM-kind catalog
# (harness/rm_kinds.h); KTMSIM_SOURCE_DIR locates scenarios/ and tests/data/.
ktmsim_test(scenario_toml_test cli
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/scenario_toml_test.cc
  LIBS harness model sim absl::status absl::statusor absl::strings absl::str_format)
target_compile_definitions(scenario_toml_test PRIVATE KTMSIM_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
# --- end scenario files -----------------------------------------------------

# --- ktmsim command line and reports (cli/, reports/) -----------------------
# cli_test: the reports library (atomic writer, summary, merge, JUnit,
# failure folders) with hand-made results, and the ktmsim binary end to end
# (exit codes, --jobs independence, replay digests, shards through GNU
# parallel + merge). cli_suite_test: the same file built with
# KTMSIM_CLI_SUITE_ONLY, holding only "ktmsim run scenarios --seeds 200";
# its label is `suite` so it can be chosen (ctest -L suite) or left out
# (ctest -LE suite, e.g. in sanitizer builds).
if(TARGET ktmsim AND TARGET reports)
  ktmsim_test(cli_test cli
    SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/cli_test.cc
    LIBS reports harness nlohmann_json::nlohmann_json absl::strings absl::str_format)
  target_compile_definitions(cli_test PRIVATE
    KTMSIM_BINARY="$<TARGET_FILE:ktmsim>" KTMSIM_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
  add_dependencies(cli_test ktmsim)

  ktmsim_test(cli_suite_test suite
    SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/cli_test.cc
    LIBS reports harness nlohmann_json::nlohmann_json absl::strings absl::str_format)
  target_compile_definitions(cli_suite_test PRIVATE KTMSIM_CLI_SUITE_ONLY=1
    KTMSIM_BINARY="$<TARGET_FILE:ktmsim>" KTMSIM_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
  add_dependencies(cli_suite_test ktmsim)

  # run_identity_test: the replay command round trip, and every replay command
  # `ktmsim run` writes reproducing its run (strategies, planted bug, crash_on).
  ktmsim_test(run_identity_test cli
    SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/run_identity_test.cc
    LIBS harness nlohmann_json::nlohmann_json absl::strings)
  target_compile_definitions(run_identity_test PRIVATE
    KTMSIM_BINARY="$<TARGET_FILE:ktmsim>" KTMSIM_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
  add_dependencies(run_identity_test ktmsim)

  # cli_failures_test: engine assertions as failed runs (run, explore), the
  # console's failure list, --out checked first, --version.
  ktmsim_test(cli_failures_test cli
    SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/cli_failures_test.cc
    LIBS reports harness nlohmann_json::nlohmann_json absl::strings)
  target_compile_definitions(cli_failures_test PRIVATE
    KTMSIM_BINARY="$<TARGET_FILE:ktmsim>" KTMSIM_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
  add_dependencies(cli_failures_test ktmsim)
endif()
# --- end ktmsim command line and reports -------------------------------------

# --- input validation, issue 15 (harness/schedule_validation.*, vacuous.*) --
# input_validation_test: vacuous runs, the enlistment limit against the
# engine, schedule checks against the Cluster, and replay --schedule refusals.
if(TARGET ktmsim)
  ktmsim_test(input_validation_test cli
    SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/input_validation_test.cc
    LIBS harness absl::strings)
  target_compile_definitions(input_validation_test PRIVATE
    KTMSIM_BINARY="$<TARGET_FILE:ktmsim>" KTMSIM_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
  add_dependencies(input_validation_test ktmsim)
endif()
# --- end input validation ---------------------------------------------------

# --- extending (docs/extending.md): a new RM kind, checker and the fault-kind catalog
ktmsim_test(extending_test cli SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/extending_test.cc LIBS harness ktm model sim)
target_compile_definitions(extending_test PRIVATE KTMSIM_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
