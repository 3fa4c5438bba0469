// World: one deterministic simulated world: scheduler, trace, network, hosts.
//
// Contract: everything in a World is decided by WorldOptions.seed and the
// calls made on it; two Worlds built and driven the same way produce the
// same trace digest. Single-threaded; a World must not be shared between
// threads (different Worlds on different threads are independent).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/host.h"
#include "sim/network.h"
#include "sim/rng.h"
#include "sim/scheduler.h"
#include "sim/trace.h"

namespace sim {

struct WorldOptions {
  uint64_t seed = 1;
  NetworkOptions network;
  uint64_t events_max = 50'000'000;
  bool keep_trace_events = true;
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
  uint64_t seed() const { return options_.seed; }
  Rng DeriveRng(const std::string& name) const { return Rng::Derive(options_.seed, name); }

 private:
  WorldOptions options_;
  Scheduler scheduler_;
  Trace trace_;
  Network network_;
  std::vector<std::unique_ptr<Host>> hosts_;
};

}  // namespace sim
