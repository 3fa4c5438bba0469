# Conformance: the executable TLA+ specs (model/spec_*) and the conformance
# checker (harness/conformance.*) that projects every run onto them.
ktmsim_test(spec_model_test conformance SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/spec_model_test.cc LIBS model)
ktmsim_test(conformance_test conformance SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/conformance_test.cc LIBS harness)
target_compile_definitions(conformance_test PRIVATE KTMSIM_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
# spec_coverage_report_test: spec-state coverage in summary.json and
# index.html, on hand-made records and through the ktmsim binary.
if(TARGET ktmsim AND TARGET reports)
  ktmsim_test(spec_coverage_report_test conformance
    SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/spec_coverage_report_test.cc
    LIBS reports harness nlohmann_json::nlohmann_json absl::strings)
  target_compile_definitions(spec_coverage_report_test PRIVATE
    KTMSIM_BINARY="$<TARGET_FILE:ktmsim>" KTMSIM_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
  add_dependencies(spec_coverage_report_test ktmsim)
endif()
