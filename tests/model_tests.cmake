# model/ tests: the checkers against hand-built and generated histories, and
# the sequential key-value reference model.
ktmsim_test(model_checkers_test model SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/model_checkers_test.cc LIBS model)
ktmsim_test(model_kv_model_test model SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/model_kv_model_test.cc LIBS model)
