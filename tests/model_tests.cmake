# model/ tests: the checkers against hand-built and generated histories, and
# the sequential key-value reference model.
ktmsim_test(model_checkers_test model SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/model_checkers_test.cc LIBS model)
ktmsim_test(model_kv_model_test model SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/model_kv_model_test.cc LIBS model)

# Whole-stack property tests against the model (default 1000 cases; RC_PARAMS raises).
add_executable(model_property_test ${CMAKE_CURRENT_SOURCE_DIR}/model_property_test.cc ${CMAKE_CURRENT_SOURCE_DIR}/rc_main.cc)
target_link_libraries(model_property_test PRIVATE harness GTest::gtest rapidcheck)
gtest_discover_tests(model_property_test PROPERTIES LABELS model DISCOVERY_TIMEOUT 60)

# RapidCheck stateful test of the KTM API + example RM against a reference model.
add_executable(model_stateful_test ${CMAKE_CURRENT_SOURCE_DIR}/model_stateful_test.cc ${CMAKE_CURRENT_SOURCE_DIR}/rc_main.cc)
target_link_libraries(model_stateful_test PRIVATE ktm sim GTest::gtest rapidcheck)
gtest_discover_tests(model_stateful_test PROPERTIES LABELS model DISCOVERY_TIMEOUT 60)

# The "beyond" budget's refusals over the default suite's latent_sector_errors scenario.
ktmsim_test(fault_budget_test model SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fault_budget_test.cc LIBS harness)
target_compile_definitions(fault_budget_test PRIVATE KTMSIM_SOURCE_DIR="${CMAKE_SOURCE_DIR}")

# The interned-id checkers against the string-keyed ones they replaced (issue 19).
ktmsim_test(model_checkers_equivalence_test model
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/model_checkers_equivalence_test.cc
          ${CMAKE_CURRENT_SOURCE_DIR}/model_checkers_reference.cc
  LIBS model sim)
# The checker catalog: one list of checkers, with kinds (issue 14).
ktmsim_test(model_checker_catalog_test model SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/model_checker_catalog_test.cc LIBS model sim)
# Issue 18's rules: volatile registry keys and file share modes, with planted mistakes.
ktmsim_test(model_volatile_sharing_test model SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/model_volatile_sharing_test.cc LIBS model)
# Memory of a run: final values reserved, the world freed before the check,
# name table bytes per name (docs/rm-storage.md "Memory of a run").
ktmsim_test(run_memory_test model SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/run_memory_test.cc LIBS harness)
