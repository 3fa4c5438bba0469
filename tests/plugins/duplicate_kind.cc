// A plugin that registers the built-in kind "kv" again and ignores the
// refusal (tests/sdk_tests.cmake: the load fails anyway, exit 2).
#include "harness/plugin_api.h"
#include "harness/rm_kinds.h"

namespace {

int Register(const ktmsim_plugin_api& api) {
  harness::RmKindInfo kind{.name = "kv",
                           .description = "a second kv",
                           .make = [](const harness::RmKindContext&) -> std::unique_ptr<harness::RmAdapter> {
                             return nullptr;
                           }};
  (void)api.register_rm_kind(std::move(kind));
  return 0;
}

}  // namespace

KTMSIM_PLUGIN(Register)
