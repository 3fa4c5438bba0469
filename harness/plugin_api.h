// The plugin interface: a shared library that adds RM kinds to the ktmsim
// binary (`ktmsim <command> --plugin PATH`, docs/writing-an-rm.md). It
// exports two C symbols, both written by KTMSIM_PLUGIN(fn):
//   const uint32_t ktmsim_plugin_sdk_version;   // KTMSIM_SDK_VERSION it was built with
//   int ktmsim_plugin_register(const ktmsim_plugin_api* api);
// The binary dlopens the library (RTLD_NOW), refuses it unless its
// ktmsim_plugin_sdk_version equals the binary's KTMSIM_SDK_VERSION, then
// calls ktmsim_plugin_register once; the plugin registers each of its kinds
// through api->register_rm_kind, which adds it to the binary's RM-kind
// catalog (harness/rm_kinds.h). Register through the API, never by calling
// harness::RegisterRmKind directly: that would reach the plugin's own copy of
// the catalog if it linked the harness statically. Return 0 on success;
// anything else (or any refused registration, e.g. a kind registered twice)
// makes the binary print one line and exit 2.
//
// Linking: a plugin links ktmsim::plugin (headers and absl, no archives) and
// takes the engine's symbols (RmBase, the kernel API, ...) from the binary,
// which is linked with -rdynamic. A symbol the binary does not contain is
// reported by dlopen ("undefined symbol: ...") as a load failure.
//
// KTMSIM_SDK_VERSION changes whenever RmKindInfo, RmKindContext, RmAdapter,
// RmBase's virtual interface or this struct change layout.
#pragma once

#include <cstdint>

#include "absl/status/status.h"
#include "harness/rm_kinds.h"

// 2: RmKindInfo::check_option, RmOptions::protocol_bug.
#define KTMSIM_SDK_VERSION 2u

extern "C" {
struct ktmsim_plugin_api {
  uint32_t sdk_version;  // the binary's KTMSIM_SDK_VERSION
  // Adds a kind to the binary's catalog: RegisterRmKind's statuses
  // (kInvalidArgument, kAlreadyExists).
  absl::Status (*register_rm_kind)(harness::RmKindInfo kind);
};
}

// In exactly one source file of a plugin: KTMSIM_PLUGIN(MyRegister), where
// `int MyRegister(const ktmsim_plugin_api& api)` registers the kinds.
#define KTMSIM_PLUGIN(register_fn)                                                              \
  extern "C" __attribute__((visibility("default"))) const uint32_t ktmsim_plugin_sdk_version = \
      KTMSIM_SDK_VERSION;                                                                       \
  extern "C" __attribute__((visibility("default"))) int ktmsim_plugin_register(                 \
      const ktmsim_plugin_api* api) {                                                           \
    return register_fn(*api);                                                                   \
  }
