// A small, cheap, deterministic workload over a sim::World for sim's tests
// and benchmarks: a few hosts with one disk each; every host runs an
// "engine" that ticks on host timers, writes (sometimes FUA), flushes,
// reads (tracing a checksum of what it read, so surviving disk content
// reaches the digest) and sends datagrams that are answered. Engines are
// destroyed on crash and rebuilt on restart, as the real engine will be.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/fault_plan.h"
#include "sim/world.h"

namespace sim_test {

struct WorkloadOptions {
  uint64_t seed = 1;
  uint32_t hosts = 3;
  sim::TimeNs run_ns = 60 * sim::kMillisecond;
  sim::TimeNs faults_until_ns = 40 * sim::kMillisecond;
  bool keep_trace_events = false;
};

class Engine {
 public:
  Engine(sim::Host* host, uint32_t host_count)
      : host_(host),
        host_count_(host_count),
        rng_(host->DeriveRng("workload/" + std::to_string(host->incarnation()))) {
    ScheduleTick();
  }
  void OnMessage(uint32_t from, const std::vector<uint8_t>& payload) {
    if (!payload.empty() && payload[0] == 'q')
      host_->Send(from, {'a', payload.size() > 1 ? payload[1] : uint8_t{0}});
  }

 private:
  void ScheduleTick() {
    host_->After(rng_.Range(100 * sim::kMicrosecond, 1500 * sim::kMicrosecond), [this] { Tick(); });
  }
  void Tick() {
    sim::Disk* disk = host_->disk(0);
    const uint64_t sector_size = disk->options().sector_size;
    const uint64_t sector = rng_.Uniform(disk->options().sector_count - 2);
    switch (rng_.Uniform(5)) {
      case 0:
      case 1: {
        std::vector<uint8_t> data(sector_size * (1 + rng_.Uniform(2)));
        for (uint8_t& b : data) b = static_cast<uint8_t>(rng_.Next());
        disk->Write(sector * sector_size, data, rng_.Bernoulli(0.2), [](sim::IoStatus) {});
        break;
      }
      case 2:
        disk->Flush([](sim::IoStatus) {});
        break;
      case 3:
        disk->Read(
            sector * sector_size, sector_size, [this](sim::IoStatus s, std::vector<uint8_t> d) {
              uint64_t sum = 0;
              for (uint8_t b : d) sum = sum * 31 + b;
              host_->TraceEvent("wl.read",
                                {{"status", sim::IoStatusName(s)}, {"sum", std::to_string(sum)}});
            });
        break;
      default: {
        const uint32_t to = static_cast<uint32_t>(rng_.Uniform(host_count_));
        host_->Send(to, {'q', static_cast<uint8_t>(rng_.Next())});
      }
    }
    ScheduleTick();
  }
  sim::Host* host_;
  uint32_t host_count_;
  sim::Rng rng_;
};

// A world with the workload installed; faults come from a FaultInjector.
class Workload {
 public:
  explicit Workload(const WorkloadOptions& options) : options_(options) {
    sim::WorldOptions world_options;
    world_options.seed = options.seed;
    world_options.keep_trace_events = options.keep_trace_events;
    world_ = std::make_unique<sim::World>(world_options);
    sim::DiskOptions disk;
    disk.sector_size = 64;
    disk.sector_count = 32;
    disk.write_latency = sim::Latency::Uniform(20 * sim::kMicrosecond, 300 * sim::kMicrosecond);
    disk.read_latency = sim::Latency::Uniform(20 * sim::kMicrosecond, 200 * sim::kMicrosecond);
    disk.flush_latency = sim::Latency::Exponential(100 * sim::kMicrosecond, 500 * sim::kMicrosecond,
                                                   3 * sim::kMillisecond);
    engines_.resize(options.hosts);
    for (uint32_t h = 0; h < options.hosts; ++h) {
      sim::Host* host = world_->AddHost("h" + std::to_string(h));
      host->AddDisk("d0", disk);
      host->set_on_crash([this, h] { engines_[h].reset(); });
      host->set_on_restart([this, h] { Boot(h); });
    }
  }

  // Runs with the given injector mode; returns the trace digest.
  uint64_t Run(const sim::FaultProbabilities& probabilities) {
    injector_.emplace(world_.get(), probabilities, options_.faults_until_ns);
    return RunWithInjector();
  }
  uint64_t Run(const sim::FaultSchedule& schedule) {
    injector_.emplace(world_.get(), schedule, options_.faults_until_ns);
    return RunWithInjector();
  }

  sim::World& world() { return *world_; }
  sim::FaultInjector& injector() { return *injector_; }

 private:
  void Boot(uint32_t h) {
    sim::Host* host = world_->host(h);
    engines_[h] = std::make_unique<Engine>(host, options_.hosts);
    host->Listen([this, h](uint32_t from, std::vector<uint8_t> payload) {
      if (engines_[h]) engines_[h]->OnMessage(from, payload);
    });
  }
  uint64_t RunWithInjector() {
    for (uint32_t h = 0; h < options_.hosts; ++h) Boot(h);
    injector_->Start();
    world_->scheduler().RunUntil(options_.run_ns);
    return world_->trace().digest();
  }

  WorkloadOptions options_;
  std::unique_ptr<sim::World> world_;
  std::vector<std::unique_ptr<Engine>> engines_;
  std::optional<sim::FaultInjector> injector_;
};

}  // namespace sim_test
