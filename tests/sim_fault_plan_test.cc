// Tests of sim's fault plan: the schedule's text form round-trips through
// Parse (a RapidCheck property), Parse errors name their line, Swarm draws
// sensible mixes, explicit schedules are applied exactly, faults stop at
// faults_until_ns, and replaying a probabilistic run's Injected() schedule
// in explicit mode on a fresh identical world reproduces its trace digest.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "sim/fault_plan.h"
#include "tests/sim_test_workload.h"

namespace sim {
namespace {

using Kind = FaultEvent::Kind;

FaultEvent RandomEvent() {
  FaultEvent e;
  e.kind = static_cast<Kind>(*rc::gen::inRange(0, 10));
  e.time = *rc::gen::inRange<TimeNs>(0, INT64_MAX);
  switch (e.kind) {
    case Kind::kCrash:
      e.host = *rc::gen::arbitrary<uint32_t>();
      e.seed = *rc::gen::arbitrary<uint64_t>();
      break;
    case Kind::kRestart:
      e.host = *rc::gen::arbitrary<uint32_t>();
      break;
    case Kind::kPartition:
      e.groups = *rc::gen::nonEmpty(rc::gen::container<std::vector<std::vector<uint32_t>>>(
          rc::gen::nonEmpty<std::vector<uint32_t>>()));
      break;
    case Kind::kHeal:
      break;
    case Kind::kLatentError:
    case Kind::kCorruptSector:
      e.host = *rc::gen::arbitrary<uint32_t>();
      e.disk = *rc::gen::arbitrary<uint32_t>();
      e.sector = *rc::gen::arbitrary<uint64_t>();
      if (e.kind == Kind::kCorruptSector) e.seed = *rc::gen::arbitrary<uint64_t>();
      break;
    case Kind::kPageTorn:
    case Kind::kPageLost:
      e.host = *rc::gen::arbitrary<uint32_t>();
      e.disk = *rc::gen::arbitrary<uint32_t>();
      e.seed = *rc::gen::arbitrary<uint64_t>();
      e.restart_after_ns = *rc::gen::inRange<TimeNs>(0, kTimeNever / 4);
      break;
    case Kind::kPageLatent:
      e.host = *rc::gen::arbitrary<uint32_t>();
      e.disk = *rc::gen::arbitrary<uint32_t>();
      e.sector = *rc::gen::arbitrary<uint64_t>();
      break;
    case Kind::kMessage:
      e.message_seq = *rc::gen::inRange<uint64_t>(1, UINT64_MAX);
      e.fate.drop = *rc::gen::arbitrary<bool>();
      e.fate.duplicate = *rc::gen::arbitrary<bool>();
      e.fate.extra_delay_ns =
          *rc::gen::arbitrary<bool>() ? *rc::gen::inRange<TimeNs>(1, INT64_MAX) : 0;
      break;
  }
  return e;
}

bool SameEvent(const FaultEvent& a, const FaultEvent& b) {
  return a.time == b.time && a.kind == b.kind && a.host == b.host && a.disk == b.disk &&
         a.sector == b.sector && a.seed == b.seed && a.groups == b.groups &&
         a.message_seq == b.message_seq && a.fate.drop == b.fate.drop &&
         a.fate.duplicate == b.fate.duplicate && a.fate.extra_delay_ns == b.fate.extra_delay_ns;
}

RC_GTEST_PROP(FaultSchedule, TextRoundTripsThroughParse, ()) {
  FaultSchedule schedule;
  const int n = *rc::gen::inRange(0, 20);
  for (int i = 0; i < n; ++i) schedule.events.push_back(RandomEvent());
  if (*rc::gen::arbitrary<bool>()) {
    schedule.unflushed_survive_probability =
        *rc::gen::element(0.0, 1.0, 0.1, 1.0 / 3.0, 0.123456789012345678);
  }
  const std::string text = schedule.ToText();
  const absl::StatusOr<FaultSchedule> parsed = FaultSchedule::Parse(text);
  RC_ASSERT(parsed.ok());
  RC_ASSERT(parsed->events.size() == schedule.events.size());
  for (size_t i = 0; i < schedule.events.size(); ++i) {
    RC_ASSERT(SameEvent(parsed->events[i], schedule.events[i]));
  }
  RC_ASSERT(parsed->unflushed_survive_probability == schedule.unflushed_survive_probability);
  RC_ASSERT(parsed->ToText() == text);
}

TEST(FaultSchedule, ParsesTheDocumentedFormWithComments) {
  const std::string text =
      "# a replay file\n"
      "\n"
      "0 msg seq=17 drop\n"
      "0 msg seq=18 dup delay=2500   # both\n"
      "1000 crash host=1 seed=42\n"
      "  2000 restart host=1\n"
      "3000 partition groups=0,1|2\n"
      "4000 heal\n"
      "5000 latent host=0 disk=0 sector=7\n"
      "6000 corrupt host=2 disk=1 sector=3 seed=9\n";
  const absl::StatusOr<FaultSchedule> parsed = FaultSchedule::Parse(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->fault_count(), 8u);
  EXPECT_EQ(parsed->events[1].fate.extra_delay_ns, 2500);
  EXPECT_TRUE(parsed->events[1].fate.duplicate);
  EXPECT_EQ(parsed->events[4].groups, (std::vector<std::vector<uint32_t>>{{0, 1}, {2}}));
  EXPECT_EQ(parsed->events[7].seed, 9u);
  EXPECT_EQ(parsed->ToText(),
            "0 msg seq=17 drop\n0 msg seq=18 dup delay=2500\n1000 crash host=1 seed=42\n"
            "2000 restart host=1\n3000 partition groups=0,1|2\n4000 heal\n"
            "5000 latent host=0 disk=0 sector=7\n6000 corrupt host=2 disk=1 sector=3 seed=9\n");
}

TEST(FaultSchedule, ParseErrorsNameTheLine) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"0 heal\n5 crsh host=1", "line 2: unknown fault kind 'crsh'"},
      {"x crash host=1 seed=2", "line 1: bad time 'x'"},
      {"-5 heal", "line 1: bad time '-5'"},
      {"# c\n\n7", "line 3: missing fault kind after '7'"},
      {"1 crash host=1", "line 1: missing key 'seed'"},
      {"1 crash host=1 seed=2 extra=3", "line 1: unknown key 'extra' for crash"},
      {"1 crash host=one seed=2", "line 1: bad number 'one' for 'host'"},
      {"1 crash host=1 host=2 seed=2", "line 1: duplicate key 'host'"},
      {"1 partition groups=0,a", "line 1: bad host 'a' in groups"},
      {"1 partition groups=0||1", "line 1: bad host '' in groups"},
      {"0 msg seq=0 drop", "line 1: message seq must be >= 1"},
      {"0 msg seq=3 lose", "line 1: unknown word 'lose' for msg"},
      {"0 msg seq=3 delay=0", "line 1: delay must be > 0"},
      {"0 heal now", "line 1: unknown word 'now' for heal"},
      {"0 survive p=1.5", "line 1: bad probability '1.5'"},
      {"1 latent host=0 disk=0", "line 1: missing key 'sector'"},
  };
  for (const auto& [text, message] : cases) {
    const absl::StatusOr<FaultSchedule> parsed = FaultSchedule::Parse(text);
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_EQ(parsed.status().message(), message) << text;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST(FaultProbabilities, SwarmDrawsVariedSensibleMixesAndNeverCorrupts) {
  int on[6] = {};
  for (uint64_t seed = 0; seed < 400; ++seed) {
    Rng rng(seed);
    const FaultProbabilities p = FaultProbabilities::Swarm(rng);
    EXPECT_EQ(p.corrupt_per_second, 0);
    const double rates[6] = {p.crash_per_second, p.latent_error_per_second,
                             p.message_loss,     p.message_duplicate,
                             p.message_reorder,  p.partition_per_second};
    const double max[6] = {20, 5, 0.2, 0.2, 0.3, 10};
    for (int k = 0; k < 6; ++k) {
      EXPECT_GE(rates[k], 0);
      EXPECT_LE(rates[k], max[k]);
      on[k] += rates[k] > 0 ? 1 : 0;
    }
    EXPECT_GE(p.unflushed_survive_probability, 0);
    EXPECT_LE(p.unflushed_survive_probability, 1);
  }
  for (int k = 0; k < 6; ++k) {
    EXPECT_GT(on[k], 120) << k;  // about half the seeds enable each kind
    EXPECT_LT(on[k], 280) << k;
  }
  Rng a(5), b(5);
  EXPECT_EQ(FaultProbabilities::Swarm(a).ToString(), FaultProbabilities::Swarm(b).ToString());
}

// A two-host world with disks whose trace we inspect.
struct SmallWorld {
  SmallWorld() : world(WorldOptions{}) {
    for (int h = 0; h < 2; ++h) {
      Host* host = world.AddHost("h" + std::to_string(h));
      host->AddDisk("d0", DiskOptions{});
      host->Listen([](uint32_t, std::vector<uint8_t>) {});
    }
  }
  std::vector<std::string> Kinds(TimeNs time) {
    std::vector<std::string> kinds;
    for (const TraceEvent& e : world.trace().events()) {
      if (e.time == time) kinds.push_back(e.kind);
    }
    return kinds;
  }
  World world;
};

TEST(FaultInjector, ExplicitScheduleIsAppliedExactly) {
  const absl::StatusOr<FaultSchedule> schedule = FaultSchedule::Parse(
      "0 survive p=0\n"
      "0 msg seq=2 drop\n"
      "1000000 crash host=1 seed=9\n"
      "2000000 restart host=1\n"
      "3000000 partition groups=0|1\n"
      "4000000 heal\n"
      "5000000 latent host=0 disk=0 sector=7\n"
      "6000000 corrupt host=0 disk=0 sector=8 seed=1\n"
      "6000000 heal\n");  // no partition then: not injected
  ASSERT_TRUE(schedule.ok());
  SmallWorld w;
  FaultInjector injector(&w.world, *schedule, 10 * kMillisecond);
  injector.Start();
  for (int i = 0; i < 3; ++i) w.world.host(0)->Send(1, {1});
  w.world.scheduler().RunUntil(20 * kMillisecond);
  EXPECT_EQ(w.world.network().stats().dropped, 1u);
  EXPECT_EQ(w.world.network().stats().delivered, 2u);
  EXPECT_EQ(w.Kinds(1000000), (std::vector<std::string>{"disk.crash", "crash"}));
  EXPECT_EQ(w.Kinds(2000000), (std::vector<std::string>{"restart"}));
  EXPECT_EQ(w.Kinds(3000000), (std::vector<std::string>{"net.partition"}));
  EXPECT_EQ(w.Kinds(4000000), (std::vector<std::string>{"net.heal"}));
  EXPECT_EQ(w.Kinds(5000000), (std::vector<std::string>{"disk.latent"}));
  EXPECT_EQ(w.Kinds(6000000), (std::vector<std::string>{"disk.corrupt"}));
  EXPECT_EQ(w.Kinds(10000000), (std::vector<std::string>{"faults.stop"}));
  EXPECT_EQ(w.world.host(0)->disk(0)->latent_errors(), (std::set<uint64_t>{7}));
  EXPECT_EQ(w.world.host(0)->disk(0)->options().unflushed_survive_probability, 0);
  // Injected: everything but the heal that found no partition.
  std::string expected = schedule->ToText();
  expected.erase(expected.find("6000000 heal\n"));
  EXPECT_EQ(injector.Injected().ToText(), expected);
}

TEST(FaultInjector, FaultsStopAtFaultsUntil) {
  const absl::StatusOr<FaultSchedule> schedule = FaultSchedule::Parse(
      "100 crash host=0 seed=1\n"
      "200 partition groups=0|1\n"
      "20000 crash host=1 seed=2\n");  // after faults_until: never injected
  ASSERT_TRUE(schedule.ok());
  SmallWorld w;
  FaultInjector injector(&w.world, *schedule, 10000);
  EXPECT_EQ(injector.faults_until_ns(), 10000);
  injector.Start();
  w.world.scheduler().RunUntil(5000);
  EXPECT_FALSE(w.world.host(0)->up());
  EXPECT_TRUE(w.world.network().partitioned());
  w.world.scheduler().RunUntil(30000);
  EXPECT_TRUE(w.world.host(0)->up());
  EXPECT_TRUE(w.world.host(1)->up());
  EXPECT_FALSE(w.world.network().partitioned());
  EXPECT_EQ(injector.Injected().ToText(),
            "100 crash host=0 seed=1\n200 partition groups=0|1\n"
            "10000 restart host=0\n10000 heal\n");
}

TEST(FaultInjector, ProbabilisticModeInjectsEveryKindBeforeFaultsUntil) {
  FaultProbabilities p;
  p.crash_per_second = 100;
  p.latent_error_per_second = 200;
  p.corrupt_per_second = 200;
  p.partition_per_second = 100;
  p.message_loss = 0.2;
  p.message_duplicate = 0.2;
  p.message_reorder = 0.2;
  sim_test::WorkloadOptions options;
  options.seed = 3;
  sim_test::Workload workload(options);
  workload.Run(p);
  const FaultSchedule injected = workload.injector().Injected();
  int counts[7] = {};
  for (const FaultEvent& e : injected.events) {
    ++counts[static_cast<int>(e.kind)];
    if (e.kind == Kind::kRestart || e.kind == Kind::kHeal) {
      EXPECT_LE(e.time, options.faults_until_ns);
    } else {
      EXPECT_LT(e.time, options.faults_until_ns);
    }
  }
  for (int k = 0; k < 7; ++k) EXPECT_GT(counts[k], 0) << k;
  for (uint32_t h = 0; h < options.hosts; ++h) EXPECT_TRUE(workload.world().host(h)->up());
  EXPECT_FALSE(workload.world().network().partitioned());
  EXPECT_EQ(workload.world().network().options().loss_probability, 0);
}

// Replay: a probabilistic run's Injected() schedule, printed and parsed, run
// in explicit mode on a freshly built identical world, gives the same digest.
TEST(FaultInjector, ReplayingInjectedScheduleReproducesTheDigest) {
  int kinds_seen[7] = {};
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    sim_test::WorkloadOptions options;
    options.seed = seed;
    Rng rng = Rng::Derive(seed, "swarm");
    FaultProbabilities p = FaultProbabilities::Swarm(rng);
    if (seed % 2 == 0) {  // half the seeds with every kind at a high rate
      p.crash_per_second = 80;
      p.latent_error_per_second = 100;
      p.corrupt_per_second = 100;
      p.partition_per_second = 80;
      p.message_loss = p.message_duplicate = p.message_reorder = 0.15;
    }
    sim_test::Workload original(options);
    const uint64_t digest = original.Run(p);
    const std::string text = original.injector().Injected().ToText();
    const absl::StatusOr<FaultSchedule> schedule = FaultSchedule::Parse(text);
    ASSERT_TRUE(schedule.ok()) << schedule.status();
    for (const FaultEvent& e : schedule->events) ++kinds_seen[static_cast<int>(e.kind)];

    sim_test::Workload replay(options);
    EXPECT_EQ(replay.Run(*schedule), digest) << "seed " << seed << "\n" << text;
    EXPECT_EQ(replay.injector().Injected().ToText(), text) << "seed " << seed;
  }
  for (int k = 0; k < 7; ++k)
    EXPECT_GT(kinds_seen[k], 0) << "fault kind " << k << " never replayed";
}

TEST(FaultInjector, ReplayWithoutTheScheduleDiverges) {
  // The replay check above can fail: dropping one injected fault changes the digest.
  sim_test::WorkloadOptions options;
  options.seed = 8;
  FaultProbabilities p;
  p.crash_per_second = 80;
  p.message_loss = 0.1;
  sim_test::Workload original(options);
  const uint64_t digest = original.Run(p);
  FaultSchedule schedule = original.injector().Injected();
  auto crash = std::find_if(schedule.events.begin(), schedule.events.end(),
                            [](const FaultEvent& e) { return e.kind == Kind::kCrash; });
  ASSERT_NE(crash, schedule.events.end());
  schedule.events.erase(crash);
  sim_test::Workload replay(options);
  EXPECT_NE(replay.Run(schedule), digest);
}

}  // namespace
}  // namespace sim

// ---- Faults aimed at data pages (page_torn, page_lost, page_latent) ---------

namespace sim {
namespace {

// One host, one disk of 4,096 sectors whose sectors [2048, 3072) are tagged
// as data pages. A writer on host timers writes 8-sector "pages" with FUA,
// alternately inside and outside the region, every byte of a write its
// write number (mod 251, + 1), and remembers (outside the host, so it
// survives crashes) the last write issued to each page. Unflushed sectors
// always survive a crash (p = 1), so right after any crash every page holds
// its last issued write whole, unless a page fault tore or lost it.
struct PageFaultRig {
  static constexpr uint64_t kRegionFirst = 2048, kRegionSectors = 1024, kPageSectors = 8;
  explicit PageFaultRig(uint64_t seed) : world(WorldOptions{.seed = seed}) {
    host = world.AddHost("h0");
    host->Listen([](uint32_t, std::vector<uint8_t>) {});
    DiskOptions options;
    options.unflushed_survive_probability = 1;
    disk = host->AddDisk("d0", options);
    disk->TagRegion(DiskRegionKind::kDataPages, kRegionFirst * 512, kRegionSectors * 512);
    host->set_on_restart([this] { Tick(); });
    world.add_fault_listener([this](TimeNs, const char* kind, uint32_t) {
      ++noted[kind];
      if (std::string(kind) == "page_torn") torn_after_crash.push_back(NewlyDamaged(true, &torn_before));
      if (std::string(kind) == "page_lost") {
        lost_after_crash.push_back(NewlyDamaged(false, &lost_before));
        for (const uint64_t first : lost_after_crash.back()) lost_was_acknowledged.push_back(acked[first] == issued[first]);
      }
    });
    Tick();
  }
  void Tick() {
    host->After(150 * kMicrosecond, [this] {
      const uint64_t n = ++writes;
      const bool inside = n % 2 == 0;
      const uint64_t pages = (inside ? kRegionSectors : kRegionFirst) / kPageSectors;
      const uint64_t first = (inside ? kRegionFirst : 0) + (n / 2 * 7 % pages) * kPageSectors;
      const uint8_t fill = static_cast<uint8_t>(n % 251 + 1);
      disk->Write(first * 512, std::vector<uint8_t>(kPageSectors * 512, fill), true,
                  [this, first, fill](IoStatus status) {
                    if (status == IoStatus::kOk) acked[first] = fill;
                  });
      issued[first] = fill;
      Tick();
    });
  }
  // Pages (first sectors) not holding their last issued write whole: torn
  // (mixed: sector 0 new, a later one not) or, with !torn, lost (sector 0 old).
  std::vector<uint64_t> DamagedPages(bool torn) const {
    std::vector<uint64_t> damaged;
    for (const auto& [first, fill] : issued) {
      const bool new_head = disk->MediaSector(first)[0] == fill;
      const bool new_tail = disk->MediaSector(first + kPageSectors - 1)[0] == fill;
      if (torn ? (new_head && !new_tail) : (!new_head && !new_tail)) damaged.push_back(first);
    }
    return damaged;
  }
  // DamagedPages not damaged at the previous check (a damaged page stays so
  // until the writer comes back to it).
  std::vector<uint64_t> NewlyDamaged(bool torn, std::set<uint64_t>* before) const {
    std::vector<uint64_t> fresh;
    const std::vector<uint64_t> now = DamagedPages(torn);
    for (const uint64_t first : now) {
      if (before->count(first) == 0) fresh.push_back(first);
    }
    *before = std::set<uint64_t>(now.begin(), now.end());
    return fresh;
  }
  World world;
  Host* host;
  Disk* disk;
  uint64_t writes = 0;
  std::set<uint64_t> torn_before, lost_before;
  std::map<uint64_t, uint8_t> issued;  // page's first sector -> fill of its last issued write
  std::map<uint64_t, uint8_t> acked;   // ... of its last acknowledged write
  std::vector<bool> lost_was_acknowledged;
  std::map<std::string, int> noted;
  std::vector<std::vector<uint64_t>> torn_after_crash, lost_after_crash;
};

bool InsideRegion(uint64_t sector) {
  return sector >= PageFaultRig::kRegionFirst && sector < PageFaultRig::kRegionFirst + PageFaultRig::kRegionSectors;
}

TEST(FaultInjector, PageLatentErrorsHitOnlyWrittenDataPageSectors) {
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    PageFaultRig rig(seed);
    FaultProbabilities p;
    p.page_latent_per_second = 400;
    FaultInjector injector(&rig.world, p, 40 * kMillisecond);
    injector.Start();
    rig.world.scheduler().RunUntil(50 * kMillisecond);
    size_t latent = 0;
    for (const FaultEvent& e : injector.Injected().events) {
      ASSERT_EQ(e.kind, FaultEvent::Kind::kPageLatent);
      EXPECT_TRUE(InsideRegion(e.sector)) << e.ToText();
      ++latent;
    }
    EXPECT_GE(latent, 5u) << "seed " << seed;
    EXPECT_EQ(rig.noted["page_latent"], static_cast<int>(latent));
    for (const uint64_t sector : rig.disk->latent_errors()) EXPECT_TRUE(InsideRegion(sector)) << sector;
  }
}

// Runs a page write fault kind at 30 per second for 150 ms on the rig and
// checks that each of its crashes damaged exactly one more page, a data page.
// kind: the kind's name; damaged: the rig's per-crash list for that kind.
void RunPageWriteFault(PageFaultRig& rig, double FaultProbabilities::*rate, const std::string& kind,
                       const std::vector<std::vector<uint64_t>>& damaged) {
  FaultProbabilities p;
  p.*rate = 30;
  p.unflushed_survive_probability = 1;
  FaultInjector injector(&rig.world, p, 150 * kMillisecond);
  injector.Start();
  rig.world.scheduler().RunUntil(200 * kMillisecond);
  EXPECT_GE(rig.noted[kind], 1) << kind;
  EXPECT_EQ(rig.noted["crash"], 0);  // noted as its own kind
  ASSERT_EQ(damaged.size(), static_cast<size_t>(rig.noted[kind]));
  for (const std::vector<uint64_t>& pages : damaged) {
    ASSERT_EQ(pages.size(), 1u) << kind;
    EXPECT_TRUE(InsideRegion(pages[0])) << "a " << kind << " page outside the region: " << pages[0];
  }
}

// Right after each page_torn crash exactly one more page is torn (the write the
// crash was tied to), and it is a data page.
TEST(FaultInjector, PageTornCrashesTearOneDataPageWrite) {
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    SCOPED_TRACE(seed);
    PageFaultRig rig(seed);
    RunPageWriteFault(rig, &FaultProbabilities::page_torn_per_second, "page_torn", rig.torn_after_crash);
  }
}

// Right after each page_lost crash exactly one more page misses its last write
// (acknowledged: the crash came after its completion), and it is a data page.
TEST(FaultInjector, PageLostWritesAreAcknowledgedThenMissingOnlyInTheRegion) {
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    SCOPED_TRACE(seed);
    PageFaultRig rig(seed);
    RunPageWriteFault(rig, &FaultProbabilities::page_lost_per_second, "page_lost", rig.lost_after_crash);
    for (const bool acknowledged : rig.lost_was_acknowledged) EXPECT_TRUE(acknowledged);
  }
}

TEST(FaultInjector, PageFaultsReplayFromTheirScheduleAndZeroRatesDrawNothing) {
  auto run = [](const FaultProbabilities* p, const FaultSchedule* schedule, FaultSchedule* injected) {
    PageFaultRig rig(7);
    std::unique_ptr<FaultInjector> injector =
        p != nullptr ? std::make_unique<FaultInjector>(&rig.world, *p, 150 * kMillisecond)
                     : std::make_unique<FaultInjector>(&rig.world, *schedule, 150 * kMillisecond);
    injector->Start();
    rig.world.scheduler().RunUntil(200 * kMillisecond);
    if (injected != nullptr) *injected = injector->Injected();
    return rig.world.trace().digest();
  };
  FaultProbabilities p;
  p.crash_per_second = 20;
  p.page_torn_per_second = 20;
  p.page_lost_per_second = 20;
  p.page_latent_per_second = 100;
  FaultSchedule recorded;
  const uint64_t digest = run(&p, nullptr, &recorded);
  const std::string text = recorded.ToText();
  EXPECT_NE(text.find("page_torn"), std::string::npos) << text;
  EXPECT_NE(text.find("page_lost"), std::string::npos) << text;
  EXPECT_NE(text.find("page_latent"), std::string::npos) << text;
  const absl::StatusOr<FaultSchedule> parsed = FaultSchedule::Parse(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(run(nullptr, &*parsed, nullptr), digest);
  // The page kinds at zero draw nothing: the crash-only run is the same
  // whether or not they exist.
  FaultProbabilities crash_only;
  crash_only.crash_per_second = 20;
  FaultSchedule crash_schedule;
  run(&crash_only, nullptr, &crash_schedule);
  for (const FaultEvent& e : crash_schedule.events) {
    EXPECT_TRUE(e.kind == FaultEvent::Kind::kCrash || e.kind == FaultEvent::Kind::kRestart) << e.ToText();
  }
  FaultProbabilities with_crashes_of_p = p;
  with_crashes_of_p.page_torn_per_second = with_crashes_of_p.page_lost_per_second = 0;
  with_crashes_of_p.page_latent_per_second = 0;
  FaultSchedule same;
  run(&with_crashes_of_p, nullptr, &same);
  EXPECT_EQ(same.ToText(), crash_schedule.ToText());
}

TEST(FaultSchedule, PageFaultsRoundTripTheirText) {
  const std::string text =
      "100 page_torn host=0 disk=1 seed=5 restart=2000000\n"
      "200 page_lost host=1 disk=2 seed=6 restart=3000000\n"
      "300 page_latent host=0 disk=1 sector=16391\n";
  const absl::StatusOr<FaultSchedule> parsed = FaultSchedule::Parse(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->fault_count(), 3u);
  EXPECT_EQ(parsed->events[0].kind, FaultEvent::Kind::kPageTorn);
  EXPECT_EQ(parsed->events[1].restart_after_ns, 3000000);
  EXPECT_EQ(parsed->events[2].sector, 16391u);
  EXPECT_EQ(parsed->ToText(), text);
  EXPECT_EQ(FaultSchedule::Parse("1 page_torn host=0 disk=0 seed=1").status().message(),
            "line 1: missing key 'restart'");
}

}  // namespace
}  // namespace sim
