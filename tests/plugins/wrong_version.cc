// A plugin built for another SDK version (tests/sdk_tests.cmake: refused
// before its registration function runs, which would register "never").
#include <cstdint>

#include "harness/plugin_api.h"

extern "C" __attribute__((visibility("default"))) const uint32_t ktmsim_plugin_sdk_version = KTMSIM_SDK_VERSION + 1;
extern "C" __attribute__((visibility("default"))) int ktmsim_plugin_register(const ktmsim_plugin_api*) { return 0; }
