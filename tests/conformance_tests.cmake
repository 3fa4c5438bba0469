# Conformance: the executable TLA+ specs (model/spec_*) and the conformance
# checker (harness/conformance.*) that projects every run onto them.
ktmsim_test(spec_model_test conformance SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/spec_model_test.cc LIBS model)
ktmsim_test(conformance_test conformance SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/conformance_test.cc LIBS harness)
target_compile_definitions(conformance_test PRIVATE KTMSIM_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
