// A plugin whose registration function reports failure (returns 3).
#include "harness/plugin_api.h"

namespace {
int Register(const ktmsim_plugin_api&) { return 3; }
}  // namespace

KTMSIM_PLUGIN(Register)
