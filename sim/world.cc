// World: owns the scheduler, trace, network and hosts of one simulation.
//
// Hosts get ids in the order they are added; every host's random streams
// derive from (world seed, host name), the network's from the world seed.
#include "sim/world.h"

#include <cstdio>
#include <cstdlib>

namespace sim {
namespace {

ScheduleOptions SeededSchedule(const WorldOptions& options) {
  ScheduleOptions schedule = options.schedule;
  schedule.seed = Rng::Derive(options.seed, "schedule").Next();
  return schedule;
}

}  // namespace

World::World(const WorldOptions& options)
    : options_(options),
      scheduler_(options.events_max, SeededSchedule(options)),
      trace_(options.keep_trace_events),
      network_(&scheduler_, &trace_, Rng::Derive(options.seed, "network").Next(), options.network) {
}

Host* World::AddHost(const std::string& name) {
  for (const auto& host : hosts_) {
    if (host->name() == name) {  // names key the hosts' random streams
      std::fprintf(stderr, "sim::World: duplicate host name '%s'\n", name.c_str());
      std::abort();
    }
  }
  const uint32_t id = static_cast<uint32_t>(hosts_.size());
  const uint64_t host_seed = Rng::Derive(options_.seed, "host").Next();
  hosts_.push_back(std::make_unique<Host>(&scheduler_, &trace_, &network_, id, name, host_seed));
  hosts_.back()->set_probes(&probes_);
  return hosts_.back().get();
}

}  // namespace sim
