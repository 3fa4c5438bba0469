// --plugin loading (see plugins.h and harness/plugin_api.h).
#include "cli/plugins.h"

#include <dlfcn.h>

#include <cstdio>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "harness/plugin_api.h"
#include "harness/run_identity.h"
#include "harness/rm_kinds.h"
#include "harness/scenario_toml_prescan.h"

namespace cli {
namespace {

constexpr int kExitPluginError = 2;

// The first refused registration of the plugin being loaded (the plugin may
// ignore the status it gets; the load fails anyway). Loading is single-threaded.
absl::Status* first_refusal = nullptr;

absl::Status RegisterFromPlugin(harness::RmKindInfo kind) {
  absl::Status status = harness::RegisterRmKind(std::move(kind));
  if (!status.ok() && first_refusal != nullptr && first_refusal->ok()) *first_refusal = status;
  return status;
}

}  // namespace

std::string LoadPlugin(const std::string& path) {
  // A bare name would make dlopen search the library path: always a file.
  const std::string file = absl::StrContains(path, '/') ? path : absl::StrCat("./", path);
  void* handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* error = dlerror();
    return harness::OneLine(error != nullptr ? error : "cannot be loaded");
  }
  // Registered kinds keep pointers into the library: it stays loaded.
  const auto* version = static_cast<const uint32_t*>(dlsym(handle, "ktmsim_plugin_sdk_version"));
  using RegisterFn = int (*)(const ktmsim_plugin_api*);
  auto register_fn = reinterpret_cast<RegisterFn>(dlsym(handle, "ktmsim_plugin_register"));
  if (register_fn == nullptr) return "no ktmsim_plugin_register symbol (see harness/plugin_api.h)";
  if (version == nullptr) return "no ktmsim_plugin_sdk_version symbol (see harness/plugin_api.h)";
  if (*version != KTMSIM_SDK_VERSION) {
    return absl::StrCat("built for SDK version ", *version, ", this ktmsim has SDK version ", KTMSIM_SDK_VERSION);
  }
  absl::Status refusal;
  first_refusal = &refusal;
  const ktmsim_plugin_api api{.sdk_version = KTMSIM_SDK_VERSION, .register_rm_kind = &RegisterFromPlugin};
  const int rc = register_fn(&api);
  first_refusal = nullptr;
  if (!refusal.ok()) return harness::OneLine(std::string(refusal.message()));
  if (rc != 0) return absl::StrCat("registration failed (returned ", rc, ")");
  return "";
}

int LoadPluginFlags(std::vector<std::string>* args) {
  std::vector<std::string> rest;
  std::vector<std::string> paths;
  for (size_t i = 0; i < args->size(); ++i) {
    const std::string& arg = (*args)[i];
    if (arg == "--plugin") {
      if (i + 1 >= args->size()) {
        absl::FPrintF(stderr, "ktmsim: --plugin needs a path\n");
        return kExitPluginError;
      }
      paths.push_back((*args)[++i]);
    } else if (absl::StartsWith(arg, "--plugin=")) {
      paths.push_back(arg.substr(9));
    } else {
      rest.push_back(arg);
    }
  }
  for (const std::string& path : paths) {
    const std::string why = LoadPlugin(path);
    if (!why.empty()) {
      absl::FPrintF(stderr, "ktmsim: plugin %s: %s\n", path, why);
      return kExitPluginError;
    }
    // Replay commands name it (harness/run_identity.h): absolute, so they work from anywhere.
    std::error_code error;
    const std::filesystem::path absolute = std::filesystem::absolute(path, error);
    harness::AddLoadedPlugin(error ? path : absolute.lexically_normal().string());
  }
  *args = std::move(rest);
  return -1;
}

}  // namespace cli
