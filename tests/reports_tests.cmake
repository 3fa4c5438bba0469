# reports tests (label `reports`): failure traces, pictures and shrinking.
# reports_test: the Scenario -> TOML writer round trip, the shrinker and the
# trace model in-process, and the ktmsim binary end to end (run with a
# planted bug, shrink, trace). It renders SVG through libgvc, whose plugins
# LeakSanitizer reports; ktmsim_test passes tests/lsan.supp in LSAN_OPTIONS
# (to the test and to the ktmsim processes it starts).
if(TARGET ktmsim AND TARGET reports)
  ktmsim_test(reports_test reports
    SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/reports_test.cc
    LIBS reports harness nlohmann_json::nlohmann_json absl::strings absl::str_format)
  target_compile_definitions(reports_test PRIVATE
    KTMSIM_BINARY="$<TARGET_FILE:ktmsim>" KTMSIM_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
  add_dependencies(reports_test ktmsim)
endif()
