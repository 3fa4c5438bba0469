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
//   <time_ns> crash host=<h> seed=<s> on=<trigger> nth=<n> restart=<ns>   (targeted:
//             right after the n-th prepare|commit|log_force of the run, on host h)
//   <time_ns> restart host=<h>
//   <time_ns> partition groups=<h,h|h,h>
//   <time_ns> heal
//   <time_ns> latent host=<h> disk=<d> sector=<n>
//   <time_ns> corrupt host=<h> disk=<d> sector=<n> seed=<s>
//   <time_ns> page_torn host=<h> disk=<d> seed=<s> restart=<ns>   (armed at time_ns: the
//   <time_ns> page_lost host=<h> disk=<d> seed=<s> restart=<ns>    next data-page write of the
//             disk tears / is lost and host h crashes with seed s, restarting restart ns later)
//   <time_ns> page_latent host=<h> disk=<d> sector=<n>
//   0 msg seq=<n> drop|dup|delay=<ns>
//   0 survive p=<probability>        (FaultSchedule::unflushed_survive_probability)
// Faults are injected only before faults_until_ns; after it every host is
// restarted and partitions healed ("faults stop"), so termination can be checked.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
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
  // Faults aimed at the data-page regions the engine tags on its disks
  // (Disk::TagRegion); per disk, Poisson. A disk without such a region
  // takes none. Opt-in: Swarm never draws them (so swarm runs keep their
  // draws), and a zero rate draws nothing.
  double page_torn_per_second = 0;    // crash while a page write is in flight; the write tears
  double page_lost_per_second = 0;    // a page write is acknowledged, lost, then the host crashes
  double page_latent_per_second = 0;  // a written data-page sector becomes unreadable

  // Each seed draws its own mix: every fault kind on or off, then a rate.
  // Never draws corrupt faults (those are "beyond" faults, opt-in).
  static FaultProbabilities Swarm(Rng& rng);
  std::string ToString() const;
};

// What a targeted crash waits for (scenario faults.crash_on): the harness
// reports each occurrence with FaultInjector::Trigger.
enum class CrashTrigger : uint8_t { kNone, kPrepare, kCommit, kLogForce };
// "prepare", "commit", "log_force" ("" for kNone).
std::string_view CrashTriggerName(CrashTrigger trigger);
// The trigger named `name`; false when there is none.
bool ParseCrashTrigger(std::string_view name, CrashTrigger* trigger);

struct FaultEvent {
  enum class Kind : uint8_t {
    kCrash, kRestart, kPartition, kHeal, kLatentError, kCorruptSector, kMessage,
    kPageTorn, kPageLost, kPageLatent
  };
  TimeNs time = 0;
  Kind kind = Kind::kCrash;
  uint32_t host = 0;
  uint32_t disk = 0;
  uint64_t sector = 0;
  uint64_t seed = 0;                        // crash / corrupt / page_torn / page_lost
  std::vector<std::vector<uint32_t>> groups;  // partition
  uint64_t message_seq = 0;                 // kMessage
  MessageFate fate;                         // kMessage
  // A targeted crash (kCrash with a trigger) fires right after the
  // trigger_count-th occurrence of `trigger` in the run (1-based, counted
  // over all hosts), on the host where it occurred (`host`), not at `time`
  // (which records when it happened); the host restarts restart_after_ns
  // later. A replay counts the same occurrences and fires at the same one.
  CrashTrigger trigger = CrashTrigger::kNone;
  uint64_t trigger_count = 0;
  TimeNs restart_after_ns = 0;  // also kPageTorn / kPageLost: restart after their crash

  std::string ToText() const;
};

struct FaultSchedule {
  std::vector<FaultEvent> events;
  // Added: crash survival probability the run's disks used (set by the
  // injector on every disk at Start); negative: leave the disks' own
  // options alone. Text form: a line "0 survive p=<probability>".
  double unflushed_survive_probability = -1;
  std::string ToText() const;
  // Errors name the 1-based line: "line 3: unknown fault kind 'crsh'".
  static absl::StatusOr<FaultSchedule> Parse(const std::string& text);
  size_t fault_count() const { return events.size(); }
  // Added: every host, disk and sector named exists in world.
  absl::Status Validate(const World& world) const;
};

class FaultInjector {
 public:
  // The injector's hooks (scheduled events, the Network's fate override and
  // fault observer) point at it: keep it alive as long as the world runs.
  // Probabilistic mode.
  FaultInjector(World* world, const FaultProbabilities& probabilities, TimeNs faults_until_ns);
  // Explicit mode.
  FaultInjector(World* world, const FaultSchedule& schedule, TimeNs faults_until_ns);

  // Schedules the faults on the world's scheduler (call once, at time 0,
  // after every host and disk exists). Replaying Injected() needs Start to
  // be called at the same point of an identically built and driven world.
  void Start();
  // Every fault injected so far, as an explicit schedule (sorted by time,
  // message fates by sequence number).
  FaultSchedule Injected() const;
  TimeNs faults_until_ns() const { return faults_until_ns_; }

  // Targeted crashes, probabilistic mode (call before Start): at each
  // occurrence of `trigger` before faults stop, crash its host with
  // `probability` (seed and restart delay from the injector's own
  // "crash_on" stream and the restart delay range). Explicit mode fires the
  // schedule's targeted crashes instead and ignores this.
  void SetTargetedCrashes(CrashTrigger trigger, double probability);
  // One occurrence of `trigger` on `host`, reported by the harness at the
  // moment it happens; a crash it decides runs right after the current event.
  void Trigger(CrashTrigger trigger, uint32_t host);

 private:
  // Implementation detail: the implementer may change everything below.
  //
  // Both modes plan every timed event up front in Start (probabilistic mode
  // draws them; explicit mode copies them), stable-sorted by time, and put
  // them on the scheduler in that order, followed by the "faults stop" event
  // at faults_until_ns. A replayed schedule is the subsequence of the plan
  // that took effect, so same-time events keep their relative order.
  struct Planned {
    FaultEvent event;
    bool pick_sector = false;  // probabilistic latent/corrupt: sector chosen when it runs
    uint64_t pick = 0;
  };
  void Plan();
  void PlanCrashes(Rng& rng, uint32_t host);
  void PlanDiskFaults(Rng& rng, uint32_t host, uint32_t disk, FaultEvent::Kind kind, double rate);
  void PlanPartitions(Rng& rng);
  // page_torn / page_lost / page_latent on every disk (only disks with a
  // data-page region take them, decided when each runs).
  void PlanPageFaults(uint64_t base, uint32_t host, uint32_t disk);
  void Apply(const Planned& planned);
  // kPageTorn / kPageLost: arms the disk; false when it cannot take effect.
  bool ArmPageWriteFault(const FaultEvent& event);
  // kLatentError / kCorruptSector / kPageLatent; false when it cannot take effect.
  bool ApplySectorFault(const Planned& planned, FaultEvent* event);
  void StopFaults();
  // Crashes `event.host` after the current event and restarts it later.
  void FireTargetedCrash(FaultEvent event);
  // Keeps an injected fault for Injected() and tells the world's fault listeners.
  // note: also tell the listeners now (page_torn / page_lost tell them at their crash).
  void Record(FaultEvent event, bool note = true);

  World* world_;
  bool explicit_mode_;
  FaultProbabilities probabilities_;
  FaultSchedule schedule_;
  TimeNs faults_until_ns_;
  Rng rng_;
  bool started_ = false;
  bool stopped_ = false;
  double survive_probability_ = -1;
  std::vector<Planned> planned_;
  std::map<uint64_t, MessageFate> scheduled_fates_;  // explicit mode
  std::vector<FaultEvent> injected_;
  std::map<uint64_t, MessageFate> message_fates_;
  CrashTrigger crash_on_ = CrashTrigger::kNone;  // probabilistic mode
  double crash_on_probability_ = 0;
  Rng crash_on_rng_;
  std::map<CrashTrigger, uint64_t> trigger_counts_;
  // Explicit mode: the schedule's targeted crashes by (trigger, count).
  std::map<std::pair<CrashTrigger, uint64_t>, FaultEvent> targeted_;
};

}  // namespace sim
