// FaultPlan: when faults happen (policy), separate from how (Disk, Network,
// Host implement the mechanism).
//
// Two modes:
// - probabilistic: FaultProbabilities, drawn per seed in swarm style
//   (FaultProbabilities::Swarm: each seed enables a random subset of fault
//   kinds with random rates), realised by the FaultInjector from its own
//   Rng stream "faults";
// - explicit: a FaultSchedule of timed events (and per-message fates),
//   applied exactly, with no other fault.
// Either way the injector records every fault it injected as a FaultSchedule;
// replaying that schedule on the same scenario and seed reproduces the run.
//
// Text form of a schedule, one event per line, '#' comments allowed:
//   <time_ns> crash host=<h> seed=<s>
//   <time_ns> restart host=<h>
//   <time_ns> partition groups=<h,h|h,h>
//   <time_ns> heal
//   <time_ns> latent host=<h> disk=<d> sector=<n>
//   <time_ns> corrupt host=<h> disk=<d> sector=<n> seed=<s>
//   0 msg seq=<n> drop|dup|delay=<ns>
// Faults are injected only before faults_until_ns; after it every host is
// restarted and partitions healed ("faults stop"), so termination can be checked.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sim/network.h"
#include "sim/rng.h"
#include "sim/time.h"
#include "sim/world.h"

namespace sim {

struct FaultProbabilities {
  double crash_per_second = 0;  // per host, Poisson
  TimeNs restart_delay_min_ns = 1 * kMillisecond;
  TimeNs restart_delay_max_ns = 50 * kMillisecond;
  double unflushed_survive_probability = 0.5;
  double latent_error_per_second = 0;  // per disk
  double corrupt_per_second = 0;       // beyond-recoverable: flushed sector corrupted
  double message_loss = 0;
  double message_duplicate = 0;
  double message_reorder = 0;
  double partition_per_second = 0;
  TimeNs partition_duration_max_ns = 100 * kMillisecond;

  // Each seed draws its own mix: every fault kind on or off, then a rate.
  // Never draws corrupt faults (those are "beyond" faults, opt-in).
  static FaultProbabilities Swarm(Rng& rng);
  std::string ToString() const;
};

struct FaultEvent {
  enum class Kind : uint8_t {
    kCrash, kRestart, kPartition, kHeal, kLatentError, kCorruptSector, kMessage
  };
  TimeNs time = 0;
  Kind kind = Kind::kCrash;
  uint32_t host = 0;
  uint32_t disk = 0;
  uint64_t sector = 0;
  uint64_t seed = 0;                        // crash / corrupt
  std::vector<std::vector<uint32_t>> groups;  // partition
  uint64_t message_seq = 0;                 // kMessage
  MessageFate fate;                         // kMessage

  std::string ToText() const;
};

struct FaultSchedule {
  std::vector<FaultEvent> events;
  std::string ToText() const;
  // Errors name the 1-based line: "line 3: unknown fault kind 'crsh'".
  static absl::StatusOr<FaultSchedule> Parse(const std::string& text);
  size_t fault_count() const { return events.size(); }
};

class FaultInjector {
 public:
  // Probabilistic mode.
  FaultInjector(World* world, const FaultProbabilities& probabilities, TimeNs faults_until_ns);
  // Explicit mode.
  FaultInjector(World* world, const FaultSchedule& schedule, TimeNs faults_until_ns);

  // Schedules the faults on the world's scheduler (call once, at time 0).
  void Start();
  // Every fault injected so far, as an explicit schedule (sorted by time,
  // message fates by sequence number).
  FaultSchedule Injected() const;
  TimeNs faults_until_ns() const { return faults_until_ns_; }

 private:
  // Implementation detail: the implementer may change everything below.
  World* world_;
  bool explicit_mode_;
  FaultProbabilities probabilities_;
  FaultSchedule schedule_;
  TimeNs faults_until_ns_;
  Rng rng_;
  std::vector<FaultEvent> injected_;
  std::map<uint64_t, MessageFate> message_fates_;
};

}  // namespace sim
