// World: one deterministic simulated world: scheduler, trace, network, hosts.
//
// Contract: everything in a World is decided by WorldOptions.seed and the
// calls made on it; two Worlds built and driven the same way produce the
// same trace digest. Single-threaded; a World must not be shared between
// threads (different Worlds on different threads are independent).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sim/host.h"
#include "sim/network.h"
#include "sim/probes.h"
#include "sim/rng.h"
#include "sim/scheduler.h"
#include "sim/trace.h"

namespace sim {

struct WorldOptions {
  uint64_t seed = 1;
  NetworkOptions network;
  uint64_t events_max = 50'000'000;
  bool keep_trace_events = true;
  // How ties between events due at the same time are broken (docs/scheduling.md).
  // The tie-breaking stream derives from (seed, "schedule"); schedule.seed is ignored.
  ScheduleOptions schedule;
};

class World {
 public:
  explicit World(const WorldOptions& options);
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  Host* AddHost(const std::string& name);  // host id = index
  Host* host(uint32_t id) const { return hosts_.at(id).get(); }
  size_t host_count() const { return hosts_.size(); }

  Scheduler& scheduler() { return scheduler_; }
  Trace& trace() { return trace_; }
  Network& network() { return network_; }
  CodeProbes& probes() { return probes_; }

  // Faults as the FaultInjector injects them, for coverage (never traced, so
  // listening changes no digest). kind: "crash", "restart", "partition",
  // "heal", "latent", "corrupt" (host: the host, kNoHost for the network
  // ones) and per datagram "loss", "dup", "reorder" (host: the sender).
  using FaultListener = std::function<void(TimeNs time, const char* kind, uint32_t host)>;
  void add_fault_listener(FaultListener listener) { fault_listeners_.push_back(std::move(listener)); }
  void NoteFault(const char* kind, uint32_t host) {
    for (const auto& listener : fault_listeners_) listener(scheduler_.Now(), kind, host);
  }
  uint64_t seed() const { return options_.seed; }
  Rng DeriveRng(const std::string& name) const { return Rng::Derive(options_.seed, name); }

 private:
  WorldOptions options_;
  Scheduler scheduler_;
  Trace trace_;
  CodeProbes probes_;
  std::vector<FaultListener> fault_listeners_;
  Network network_;
  std::vector<std::unique_ptr<Host>> hosts_;
};

}  // namespace sim
