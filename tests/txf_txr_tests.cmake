# TxF and TxR resource managers (ktm/txf, ktm/txr) and their reference
# models (model/txf_model, model/txr_model). Labels: txf, txr; the tests
# that cover both together carry the label txf (run everything with
# `ctest -L 'txf|txr'`).
ktmsim_test(txf_model_test txf SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/txf_model_test.cc LIBS model)
ktmsim_test(txr_model_test txr SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/txr_model_test.cc LIBS model)
# The tests on one host use harness::TxfTxrRig (harness/txf_txr_rig.h, via tests/txf_txr_rig.h).
ktmsim_test(txf_rm_test txf SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/txf_rm_test.cc LIBS harness ktm sim)
ktmsim_test(txr_rm_test txr SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/txr_rm_test.cc LIBS harness ktm sim)
# The RM-against-model properties run 1000 RapidCheck cases (rc_main.cc; RC_PARAMS overrides).
ktmsim_test(txf_property_test txf SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/txf_property_test.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/rc_main.cc LIBS harness ktm sim model)
ktmsim_test(txr_property_test txr SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/txr_property_test.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/rc_main.cc LIBS harness ktm sim model)
ktmsim_test(txf_txr_recovery_test txf SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/txf_txr_recovery_test.cc
  LIBS harness ktm sim model)
# The harness wiring: the TxF/TxR scenarios through harness::RunScenario.
# Labels txf and txr both: gtest_discover_tests flattens a list-valued
# property, so a ctest include file that runs after the discovered tests
# are added sets the two labels on them.
ktmsim_test(txf_txr_harness_test txf SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/txf_txr_harness_test.cc LIBS harness)
target_compile_definitions(txf_txr_harness_test PRIVATE KTMSIM_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/txf_txr_harness_labels.cmake
  "if(txf_txr_harness_test_TESTS)\n"
  "  set_tests_properties(\${txf_txr_harness_test_TESTS} PROPERTIES LABELS \"txf;txr\")\n"
  "endif()\n")
set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${CMAKE_CURRENT_BINARY_DIR}/txf_txr_harness_labels.cmake)
# Issue 18's workloads (volatile keys, share modes) through harness::RunScenario; labels txf and txr.
ktmsim_test(txf_txr_workloads_test txf SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/txf_txr_workloads_test.cc LIBS harness)
target_compile_definitions(txf_txr_workloads_test PRIVATE KTMSIM_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/txf_txr_workloads_labels.cmake
  "if(txf_txr_workloads_test_TESTS)\n"
  "  set_tests_properties(\${txf_txr_workloads_test_TESTS} PROPERTIES LABELS \"txf;txr\")\n"
  "endif()\n")
set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${CMAKE_CURRENT_BINARY_DIR}/txf_txr_workloads_labels.cmake)
