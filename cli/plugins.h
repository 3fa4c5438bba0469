// --plugin PATH (repeatable, any command): loads RM-kind plugins
// (harness/plugin_api.h) before anything else reads the RM-kind catalog.
#pragma once

#include <string>
#include <vector>

namespace cli {

// Removes every "--plugin PATH" / "--plugin=PATH" from `args` and loads the
// plugins in order. Returns -1 when all loaded (or there were none), else
// the exit status (2) after printing one line to stderr:
//   ktmsim: plugin PATH: <why>
// why: the loader's error (not a shared library, missing file, undefined
// symbol), "no ktmsim_plugin_register symbol", "built for SDK version N,
// this ktmsim has M", a refused registration (a kind registered twice), or
// "registration failed (returned N)".
int LoadPluginFlags(std::vector<std::string>* args);

// Loads one plugin; "" on success, else the reason (as above, without the prefix).
std::string LoadPlugin(const std::string& path);

}  // namespace cli
