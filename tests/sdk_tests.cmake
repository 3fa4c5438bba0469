# sdk: the installable SDK, plugins and the out-of-tree example
# (docs/writing-an-rm.md). The bad plugins are built here (they need only
# the plugin header); sdk_test.sh installs, builds examples/ against the
# install and runs it through the installed ktmsim.
if(TARGET ktmsim AND TARGET ktmsim_plugin)
  set(_sdk_bad_plugins no_symbol wrong_version duplicate_kind failing_register)
  set(_sdk_bad_plugin_files)
  foreach(_p IN LISTS _sdk_bad_plugins)
    add_library(sdk_bad_plugin_${_p} MODULE ${CMAKE_CURRENT_SOURCE_DIR}/plugins/${_p}.cc)
    target_link_libraries(sdk_bad_plugin_${_p} PRIVATE ktmsim_plugin)
    list(APPEND _sdk_bad_plugin_files $<TARGET_FILE:sdk_bad_plugin_${_p}>)
  endforeach()
  add_test(NAME sdk_install_examples_plugins
    COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/sdk_test.sh ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR}
            ${_sdk_bad_plugin_files})
  set_tests_properties(sdk_install_examples_plugins PROPERTIES LABELS sdk TIMEOUT 300)
  if(KTMSIM_SANITIZE)
    # The installed libraries are instrumented: the example links them with the same flags.
    set_tests_properties(sdk_install_examples_plugins PROPERTIES ENVIRONMENT
      "KTMSIM_SDK_SANITIZE_FLAGS=-fsanitize=address,undefined -fno-omit-frame-pointer;LSAN_OPTIONS=suppressions=${CMAKE_SOURCE_DIR}/tests/lsan.supp")
  endif()
endif()

ktmsim_test(sdk_rm_options_test sdk SOURCES sdk_rm_options_test.cc LIBS harness)
# conform_test: each RM-contract rule's check (harness/conform.h) fires on a
# history that breaks it and not on one that keeps it; the battery passes
# the clean kv RM; JUnit; option checks at file:line; --plugin in replay commands.
ktmsim_test(conform_test sdk SOURCES conform_test.cc LIBS harness)
