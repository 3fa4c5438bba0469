// RM kinds: the one catalog of resource-manager kinds a scenario may name
// (`kind = "..."` of an [[rms]] table). The built-in kinds (kv, txf, txr)
// are registered on first use; a test or a plugin adds its own with
// RegisterRmKind before any scenario naming it is loaded. The scenario
// loader and Validate, the cluster (which builds an RM through its
// factory), the latency bench and the reports all read this catalog: adding
// a kind is one factory plus one RegisterRmKind call (docs/extending.md).
//
// Contract: names are unique (a second registration of a name is refused
// with kAlreadyExists and changes nothing); registered kinds are never
// removed, so a pointer from FindRmKind stays valid for the process.
// Thread-safe: registration and lookup may race (runs on worker threads
// look kinds up while nothing registers in practice).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "harness/rm_adapter.h"
#include "harness/scenario.h"
#include "ktm/api.h"
#include "ktm/rm_base.h"
#include "ktm/rm_observer.h"
#include "sim/disk.h"
#include "sim/host.h"

namespace harness {

// What a factory gets to build one RM of a run, at each boot of its host.
struct RmKindContext {
  const RmSpec* spec = nullptr;       // the scenario's RM (name, options)
  ktm::Guid rm_id;                    // its persistent identity
  ktm::Kernel* kernel = nullptr;
  sim::Host* host = nullptr;
  sim::Disk* disk = nullptr;          // its log disk (nullptr when volatile)
  ktm::HANDLE tm = ktm::INVALID_HANDLE_VALUE;
  ktm::RmObserver* observer = nullptr;  // the run's history recorder
};

struct RmKindInfo {
  std::string name;                   // what a scenario writes: kind = "<name>"
  std::string description;            // one line, for --help and docs
  bool supports_delete = false;       // the workload may delete keys (delete_fraction)
  bool supports_move = false;         // the workload may move keys (move_fraction)
  bool supports_volatile_keys = false;  // volatile twins "v<N>" of keys (volatile_fraction)
  bool supports_nontransacted_opens = false;  // RmAdapter::HoldWriterOpen (nontransacted_open_fraction)
  bool supports_request_outcome = false;  // RmOptionsFor's request_outcome_after_ns reaches the RM
  std::function<std::unique_ptr<RmAdapter>(const RmKindContext&)> make;
  // Checks one entry of a scenario's [rms.options] table when the scenario
  // loads (Validate): OK, or why the key or value is refused (reported at
  // the key's file:line). Empty: the kind takes any option.
  std::function<absl::Status(const std::string& key, const std::string& value)> check_option;
};

// Adds a kind. Errors: kInvalidArgument (empty name or no factory),
// kAlreadyExists (the name is taken).
absl::Status RegisterRmKind(RmKindInfo kind);
// The kind named `name`, or nullptr.
const RmKindInfo* FindRmKind(std::string_view name);
// Every kind's name, sorted.
std::vector<std::string> RmKindNames();

// The RmOptions a scenario's RM spec asks for (name, id, durability,
// single-phase, vote and reject probabilities, response delay, request-outcome
// delay, observer):
// what every RM kind built on RmBase starts from.
ktm::RmOptions RmOptionsFor(const RmKindContext& context);

// The built-in kinds kv, txf and txr (defined with their adapters, rm_adapter.cc).
std::vector<RmKindInfo> BuiltInRmKinds();

}  // namespace harness
