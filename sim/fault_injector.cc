// FaultInjector: realises a FaultPlan on a World and records what it injected.
//
// Start plans every timed fault up front. Probabilistic mode draws them from
// sub-streams of the "faults" stream (one per host and kind, so enabling a
// kind does not shift the others): per host a Poisson crash process, each
// crash followed by a restart after a uniform delay; per disk Poisson latent
// errors and corruptions (the sector is picked when the fault runs, among the
// written resp. durable sectors); world-wide Poisson partitions into random
// groups, each healed after a random duration; per disk Poisson page faults
// (page_torn, page_lost: the disk is armed and the crash comes with the next
// write into its data-page region; page_latent: a written data-page sector,
// picked when it runs), each from its own sub-stream, derived only when its
// rate is > 0 (a zero rate draws nothing). Message faults come from the
// Network's fate probabilities, set from FaultProbabilities. Explicit mode
// copies the schedule's timed events and answers message fates through the
// Network's fate override. Both modes only plan events before
// faults_until_ns; the stop event at faults_until_ns ends message faults,
// restarts every down host and heals any partition, the same way in both
// modes. A fault that cannot take effect when it runs (crash of a down host,
// heal without partition, latent error on an empty disk) is not recorded, so
// Injected() replays exactly what happened.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "sim/fault_plan.h"

namespace sim {
namespace {

// Gap to the next event of a Poisson process with `rate` per second.
TimeNs ExponentialGapNs(Rng& rng, double rate_per_second) {
  const double u = rng.UnitDouble();
  const double ns = -std::log(1.0 - u) / rate_per_second * 1e9;
  if (!(ns < 1e18)) return kTimeNever / 2;
  return std::max<TimeNs>(1, static_cast<TimeNs>(ns));
}

[[noreturn]] void InjectorFail(const std::string& what) {
  std::fprintf(stderr, "sim::FaultInjector: %s\n", what.c_str());
  std::abort();
}

}  // namespace

FaultInjector::FaultInjector(World* world, const FaultProbabilities& probabilities,
                             TimeNs faults_until_ns)
    : world_(world),
      explicit_mode_(false),
      probabilities_(probabilities),
      faults_until_ns_(faults_until_ns),
      rng_(world->DeriveRng("faults")),
      crash_on_rng_(world->DeriveRng("crash_on")) {}

FaultInjector::FaultInjector(World* world, const FaultSchedule& schedule, TimeNs faults_until_ns)
    : world_(world),
      explicit_mode_(true),
      schedule_(schedule),
      faults_until_ns_(faults_until_ns),
      rng_(world->DeriveRng("faults")),
      crash_on_rng_(world->DeriveRng("crash_on")) {}

void FaultInjector::SetTargetedCrashes(CrashTrigger trigger, double probability) {
  if (started_) InjectorFail("SetTargetedCrashes after Start");
  if (!(probability >= 0 && probability <= 1)) InjectorFail("targeted crash probability outside [0, 1]");
  crash_on_ = trigger;
  crash_on_probability_ = probability;
}

void FaultInjector::Trigger(CrashTrigger trigger, uint32_t host) {
  if (!started_ || stopped_ || trigger == CrashTrigger::kNone) return;
  const uint64_t count = ++trigger_counts_[trigger];
  if (explicit_mode_) {
    auto it = targeted_.find({trigger, count});
    if (it == targeted_.end()) return;
    FaultEvent event = it->second;
    // On the recorded host even if this occurrence happened elsewhere (a
    // hand-edited schedule): the schedule is applied exactly.
    return FireTargetedCrash(event);
  }
  if (trigger != crash_on_ || !crash_on_rng_.Bernoulli(crash_on_probability_)) return;
  FaultEvent event;
  event.kind = FaultEvent::Kind::kCrash;
  event.host = host;
  event.seed = crash_on_rng_.Next();
  event.trigger = trigger;
  event.trigger_count = count;
  event.restart_after_ns =
      crash_on_rng_.Range(probabilities_.restart_delay_min_ns,
                          std::max(probabilities_.restart_delay_min_ns, probabilities_.restart_delay_max_ns));
  FireTargetedCrash(event);
}

void FaultInjector::FireTargetedCrash(FaultEvent event) {
  Scheduler& scheduler = world_->scheduler();
  event.time = scheduler.Now();
  // Recorded when decided, so a replay schedules exactly the same crash and
  // restart events (even when another fault took the host down meanwhile).
  injected_.push_back(event);
  Host* host = world_->host(event.host);
  const uint32_t id = event.host;
  const uint64_t seed = event.seed;
  // Right after the event that triggered it, never inside it.
  scheduler.After(0, [this, host, id, seed] {
    if (host->Crash(seed)) world_->NoteFault("crash", id);
  });
  scheduler.After(event.restart_after_ns, [this, host, id] {
    if (host->Restart()) world_->NoteFault("restart", id);
  });
}

void FaultInjector::PlanCrashes(Rng& rng, uint32_t host) {
  const double rate = probabilities_.crash_per_second;
  if (rate <= 0) return;
  const TimeNs restart_min = probabilities_.restart_delay_min_ns;
  const TimeNs restart_max = std::max(restart_min, probabilities_.restart_delay_max_ns);
  TimeNs t = world_->scheduler().Now();
  for (;;) {
    t += ExponentialGapNs(rng, rate);
    if (t >= faults_until_ns_) return;
    Planned crash;
    crash.event.time = t;
    crash.event.kind = FaultEvent::Kind::kCrash;
    crash.event.host = host;
    crash.event.seed = rng.Next();
    planned_.push_back(crash);
    t += rng.Range(restart_min, restart_max);
    if (t >= faults_until_ns_) return;  // the stop event restarts it
    Planned restart;
    restart.event.time = t;
    restart.event.kind = FaultEvent::Kind::kRestart;
    restart.event.host = host;
    planned_.push_back(restart);
  }
}

void FaultInjector::PlanDiskFaults(Rng& rng, uint32_t host, uint32_t disk, FaultEvent::Kind kind,
                                   double rate) {
  if (rate <= 0) return;
  TimeNs t = world_->scheduler().Now();
  for (;;) {
    t += ExponentialGapNs(rng, rate);
    if (t >= faults_until_ns_) return;
    Planned fault;
    fault.event.time = t;
    fault.event.kind = kind;
    fault.event.host = host;
    fault.event.disk = disk;
    fault.event.seed = kind == FaultEvent::Kind::kCorruptSector ? rng.Next() : 0;
    fault.pick_sector = true;
    fault.pick = rng.Next();
    planned_.push_back(fault);
  }
}

void FaultInjector::PlanPageFaults(uint64_t base, uint32_t host, uint32_t disk) {
  using Kind = FaultEvent::Kind;
  const std::string where = std::to_string(host) + "/" + std::to_string(disk);
  const std::pair<Kind, double> kinds[] = {{Kind::kPageTorn, probabilities_.page_torn_per_second},
                                           {Kind::kPageLost, probabilities_.page_lost_per_second},
                                           {Kind::kPageLatent, probabilities_.page_latent_per_second}};
  const TimeNs restart_min = probabilities_.restart_delay_min_ns;
  const TimeNs restart_max = std::max(restart_min, probabilities_.restart_delay_max_ns);
  for (const auto& [kind, rate] : kinds) {
    if (rate <= 0) continue;
    const char* name = kind == Kind::kPageTorn ? "page_torn/" : kind == Kind::kPageLost ? "page_lost/" : "page_latent/";
    Rng rng = Rng::Derive(base, name + where);
    for (TimeNs t = world_->scheduler().Now() + ExponentialGapNs(rng, rate); t < faults_until_ns_;
         t += ExponentialGapNs(rng, rate)) {
      Planned fault;
      fault.event.time = t;
      fault.event.kind = kind;
      fault.event.host = host;
      fault.event.disk = disk;
      if (kind == Kind::kPageLatent) {
        fault.pick_sector = true;
        fault.pick = rng.Next();
      } else {
        fault.event.seed = rng.Next();
        fault.event.restart_after_ns = rng.Range(restart_min, restart_max);
      }
      planned_.push_back(fault);
    }
  }
}

void FaultInjector::PlanPartitions(Rng& rng) {
  const double rate = probabilities_.partition_per_second;
  const uint32_t hosts = static_cast<uint32_t>(world_->host_count());
  if (rate <= 0 || hosts < 2) return;
  TimeNs t = world_->scheduler().Now();
  for (;;) {
    t += ExponentialGapNs(rng, rate);
    if (t >= faults_until_ns_) return;
    // Random groups: 2 or 3 sides, each host on a random side; at least two
    // sides are non-empty (host 0's side differs from one other host's).
    const uint32_t sides = static_cast<uint32_t>(rng.Range(2, std::min<uint32_t>(3, hosts)));
    std::vector<uint32_t> side_of(hosts);
    for (uint32_t& side : side_of) side = static_cast<uint32_t>(rng.Uniform(sides));
    const uint32_t other = 1 + static_cast<uint32_t>(rng.Uniform(hosts - 1));
    if (side_of[other] == side_of[0]) side_of[other] = (side_of[0] + 1) % sides;
    Planned partition;
    partition.event.time = t;
    partition.event.kind = FaultEvent::Kind::kPartition;
    for (uint32_t side = 0; side < sides; ++side) {
      std::vector<uint32_t> group;
      for (uint32_t h = 0; h < hosts; ++h) {
        if (side_of[h] == side) group.push_back(h);
      }
      if (!group.empty()) partition.event.groups.push_back(std::move(group));
    }
    planned_.push_back(partition);
    t += rng.Range(1, std::max<TimeNs>(1, probabilities_.partition_duration_max_ns));
    if (t >= faults_until_ns_) return;  // the stop event heals it
    Planned heal;
    heal.event.time = t;
    heal.event.kind = FaultEvent::Kind::kHeal;
    planned_.push_back(heal);
  }
}

void FaultInjector::Plan() {
  if (explicit_mode_) {
    for (const FaultEvent& event : schedule_.events) {
      if (event.kind == FaultEvent::Kind::kMessage) {
        scheduled_fates_[event.message_seq] = event.fate;
      } else if (event.trigger != CrashTrigger::kNone) {
        continue;  // fired by Trigger at its occurrence
      } else if (event.time < faults_until_ns_) {
        planned_.push_back(Planned{event, false, 0});
      }
    }
    return;
  }
  const uint64_t base = rng_.Next();
  for (uint32_t h = 0; h < world_->host_count(); ++h) {
    Rng crash_rng = Rng::Derive(base, "crash/" + std::to_string(h));
    PlanCrashes(crash_rng, h);
    const Host* host = world_->host(h);
    for (uint32_t d = 0; d < host->disk_count(); ++d) {
      const std::string disk = std::to_string(h) + "/" + std::to_string(d);
      Rng latent_rng = Rng::Derive(base, "latent/" + disk);
      PlanDiskFaults(latent_rng, h, d, FaultEvent::Kind::kLatentError,
                     probabilities_.latent_error_per_second);
      Rng corrupt_rng = Rng::Derive(base, "corrupt/" + disk);
      PlanDiskFaults(corrupt_rng, h, d, FaultEvent::Kind::kCorruptSector,
                     probabilities_.corrupt_per_second);
      PlanPageFaults(base, h, d);
    }
  }
  Rng partition_rng = Rng::Derive(base, "partition");
  PlanPartitions(partition_rng);
}

void FaultInjector::Start() {
  if (started_) InjectorFail("Start called twice");
  started_ = true;
  if (explicit_mode_) {
    const absl::Status valid = schedule_.Validate(*world_);
    if (!valid.ok()) InjectorFail("invalid schedule: " + std::string(valid.message()));
    survive_probability_ = schedule_.unflushed_survive_probability;
    for (const FaultEvent& event : schedule_.events) {
      if (event.kind == FaultEvent::Kind::kCrash && event.trigger != CrashTrigger::kNone) {
        targeted_.emplace(std::make_pair(event.trigger, event.trigger_count), event);
      }
    }
  } else {
    survive_probability_ = probabilities_.unflushed_survive_probability;
  }
  if (survive_probability_ >= 0) {
    for (uint32_t h = 0; h < world_->host_count(); ++h) {
      Host* host = world_->host(h);
      for (size_t d = 0; d < host->disk_count(); ++d) {
        host->disk(d)->set_unflushed_survive_probability(survive_probability_);
      }
    }
  }
  Network& network = world_->network();
  network.set_fault_observer([this](uint64_t seq, const MessageFate& fate) {
    if (stopped_) return;
    message_fates_[seq] = fate;
    if (fate.drop) world_->NoteFault("loss", kNoHost);
    if (fate.duplicate) world_->NoteFault("dup", kNoHost);
    if (fate.extra_delay_ns > 0) world_->NoteFault("reorder", kNoHost);
  });
  if (explicit_mode_) {
    network.set_fate_override([this](uint64_t seq) {
      if (stopped_) return MessageFate{};
      auto it = scheduled_fates_.find(seq);
      return it == scheduled_fates_.end() ? MessageFate{} : it->second;
    });
  } else {
    NetworkOptions options = network.options();
    options.loss_probability = probabilities_.message_loss;
    options.duplicate_probability = probabilities_.message_duplicate;
    options.reorder_probability = probabilities_.message_reorder;
    network.set_options(options);
  }
  Plan();
  std::stable_sort(planned_.begin(), planned_.end(),
                   [](const Planned& a, const Planned& b) { return a.event.time < b.event.time; });
  Scheduler& scheduler = world_->scheduler();
  for (size_t i = 0; i < planned_.size(); ++i) {
    scheduler.At(std::max(planned_[i].event.time, scheduler.Now()),
                 [this, i] { Apply(planned_[i]); });
  }
  scheduler.At(std::max(faults_until_ns_, scheduler.Now()), [this] { StopFaults(); });
}

void FaultInjector::Record(FaultEvent event, bool note) {
  using Kind = FaultEvent::Kind;
  const char* kind = "crash";
  switch (event.kind) {
    case Kind::kCrash: kind = "crash"; break;
    case Kind::kRestart: kind = "restart"; break;
    case Kind::kPartition: kind = "partition"; break;
    case Kind::kHeal: kind = "heal"; break;
    case Kind::kLatentError: kind = "latent"; break;
    case Kind::kCorruptSector: kind = "corrupt"; break;
    case Kind::kMessage: kind = "message"; break;
    case Kind::kPageTorn: kind = "page_torn"; break;
    case Kind::kPageLost: kind = "page_lost"; break;
    case Kind::kPageLatent: kind = "page_latent"; break;
  }
  const bool network_wide = event.kind == Kind::kPartition || event.kind == Kind::kHeal;
  const uint32_t host = network_wide ? kNoHost : event.host;
  injected_.push_back(std::move(event));
  if (note) world_->NoteFault(kind, host);
}

void FaultInjector::Apply(const Planned& planned) {
  using Kind = FaultEvent::Kind;
  FaultEvent event = planned.event;
  event.time = world_->scheduler().Now();
  Network& network = world_->network();
  switch (event.kind) {
    case Kind::kCrash:
      if (event.trigger != CrashTrigger::kNone) return;  // fired by Trigger, never planned
      if (world_->host(event.host)->Crash(event.seed)) Record(event);
      return;
    case Kind::kRestart:
      if (world_->host(event.host)->Restart()) Record(event);
      return;
    case Kind::kPartition: {
      std::vector<std::set<uint32_t>> groups;
      for (const auto& group : event.groups) groups.emplace_back(group.begin(), group.end());
      network.Partition(groups);
      Record(event);
      return;
    }
    case Kind::kHeal:
      if (!network.partitioned()) return;
      network.Heal();
      Record(event);
      return;
    case Kind::kLatentError:
    case Kind::kCorruptSector:
    case Kind::kPageLatent:
      if (ApplySectorFault(planned, &event)) Record(event);
      return;
    case Kind::kPageTorn:
    case Kind::kPageLost:
      // Recorded when armed (a replay arms at the same point); noted to the
      // fault listeners when its crash happens.
      if (ArmPageWriteFault(event)) Record(event, /*note=*/false);
      return;
    case Kind::kMessage:
      return;  // never planned: message fates go through the Network
  }
}

bool FaultInjector::ApplySectorFault(const Planned& planned, FaultEvent* event) {
  using Kind = FaultEvent::Kind;
  Disk* disk = world_->host(event->host)->disk(event->disk);
  if (planned.pick_sector) {
    const std::vector<uint64_t> sectors = event->kind == Kind::kLatentError  ? disk->WrittenSectors()
                                          : event->kind == Kind::kPageLatent ? disk->WrittenSectorsIn(DiskRegionKind::kDataPages)
                                                                             : disk->DurableSectors();
    if (sectors.empty()) return false;
    event->sector = sectors[planned.pick % sectors.size()];
  }
  if (event->kind == Kind::kCorruptSector) {
    disk->CorruptSector(event->sector, event->seed);
  } else {
    disk->AddLatentError(event->sector);
  }
  return true;
}

bool FaultInjector::ArmPageWriteFault(const FaultEvent& event) {
  Host* host = world_->host(event.host);
  if (!host->up()) return false;
  const bool torn = event.kind == FaultEvent::Kind::kPageTorn;
  const uint32_t id = event.host;
  const uint64_t seed = event.seed;
  const TimeNs restart_after = event.restart_after_ns;
  return host->disk(event.disk)->ArmRegionWriteFault(
      DiskRegionKind::kDataPages, torn ? RegionWriteFault::kTorn : RegionWriteFault::kLost,
      [this, host, id, seed, restart_after, torn] {
        if (stopped_ || !host->Crash(seed)) return;
        world_->NoteFault(torn ? "page_torn" : "page_lost", id);
        world_->scheduler().After(restart_after, [this, host, id] {
          if (host->Restart()) world_->NoteFault("restart", id);
        });
      });
}

void FaultInjector::StopFaults() {
  stopped_ = true;
  Scheduler& scheduler = world_->scheduler();
  world_->trace().Record(scheduler.Now(), kNoHost, "faults.stop");
  Network& network = world_->network();
  if (!explicit_mode_) {
    NetworkOptions options = network.options();
    options.loss_probability = 0;
    options.duplicate_probability = 0;
    options.reorder_probability = 0;
    network.set_options(options);
  }
  for (uint32_t h = 0; h < world_->host_count(); ++h) {
    Host* host = world_->host(h);
    for (size_t d = 0; d < host->disk_count(); ++d) host->disk(d)->DisarmRegionWriteFault();
    if (host->Restart()) {
      FaultEvent restart;
      restart.time = scheduler.Now();
      restart.kind = FaultEvent::Kind::kRestart;
      restart.host = h;
      Record(restart);
    }
  }
  if (network.partitioned()) {
    network.Heal();
    FaultEvent heal;
    heal.time = scheduler.Now();
    heal.kind = FaultEvent::Kind::kHeal;
    Record(heal);
  }
}

FaultSchedule FaultInjector::Injected() const {
  FaultSchedule schedule;
  schedule.unflushed_survive_probability = survive_probability_;
  for (const auto& [seq, fate] : message_fates_) {
    FaultEvent event;
    event.time = 0;
    event.kind = FaultEvent::Kind::kMessage;
    event.message_seq = seq;
    event.fate = fate;
    schedule.events.push_back(event);
  }
  // injected_ is in execution order, hence already sorted by time.
  schedule.events.insert(schedule.events.end(), injected_.begin(), injected_.end());
  return schedule;
}

}  // namespace sim
