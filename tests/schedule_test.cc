// Tests of the tie-breaking strategies (sim/scheduler.h, docs/scheduling.md):
// fifo stays the documented order, random and PCT are deterministic per seed
// and really reorder same-time events, PCT keeps a chain's priority between
// change points, and scenarios select the strategy. PCT versus random on the
// planted ordering bug is in schedule_explore_test.cc (label explore).
#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "harness/runner.h"
#include "harness/scenario_toml.h"
#include "sim/scheduler.h"
#include "sim/world.h"

namespace {

using sim::ScheduleOptions;
using sim::ScheduleStrategy;
using sim::Scheduler;

ScheduleOptions Options(ScheduleStrategy strategy, uint64_t seed, uint32_t depth = 3, uint64_t steps = 2000) {
  ScheduleOptions options;
  options.strategy = strategy;
  options.seed = seed;
  options.pct_depth = depth;
  options.pct_steps_expected = steps;
  return options;
}

// Three chains, each a run of `length` same-time events where every event
// schedules the next one (After(0)), all due at time 10. Returns the order
// as "<chain letter><index>" tokens.
std::vector<std::string> RunThreeChains(Scheduler& scheduler, int length) {
  std::vector<std::string> order;
  for (char letter : {'a', 'b', 'c'}) {
    const uint32_t chain = scheduler.Chain(std::string(1, letter));
    struct Link {
      static void Step(Scheduler& s, std::vector<std::string>& order, char letter, int i, int length) {
        order.push_back(std::string(1, letter) + std::to_string(i));
        if (i + 1 < length) s.After(0, [&s, &order, letter, i, length] { Step(s, order, letter, i + 1, length); });
      }
    };
    scheduler.AtInChain(10, chain, [&scheduler, &order, letter, length] {
      Link::Step(scheduler, order, letter, 0, length);
    });
  }
  scheduler.RunUntilIdle();
  return order;
}

TEST(Schedule, FifoIsTheDefaultAndKeepsSchedulingOrder) {
  Scheduler scheduler;
  EXPECT_EQ(scheduler.schedule_options().strategy, ScheduleStrategy::kFifo);
  const std::vector<std::string> order = RunThreeChains(scheduler, 3);
  EXPECT_EQ(order, (std::vector<std::string>{"a0", "b0", "c0", "a1", "b1", "c1", "a2", "b2", "c2"}));
  EXPECT_EQ(scheduler.schedule_stats().choice_points, 0u);  // fifo makes no decisions
}

TEST(Schedule, StrategyNamesRoundTrip) {
  for (ScheduleStrategy s : {ScheduleStrategy::kFifo, ScheduleStrategy::kRandom, ScheduleStrategy::kPct}) {
    ScheduleStrategy parsed = ScheduleStrategy::kFifo;
    ASSERT_TRUE(sim::ParseScheduleStrategy(sim::ScheduleStrategyName(s), &parsed));
    EXPECT_EQ(parsed, s);
  }
  ScheduleStrategy parsed;
  EXPECT_FALSE(sim::ParseScheduleStrategy("lifo", &parsed));
}

TEST(Schedule, EventsInheritTheChainOfTheEventThatScheduledThem) {
  Scheduler scheduler;
  const uint32_t chain = scheduler.Chain("node1/tm");
  EXPECT_EQ(scheduler.Chain("node1/tm"), chain);
  EXPECT_NE(scheduler.Chain("node1/rm/x"), chain);
  std::vector<uint32_t> seen;
  scheduler.AtInChain(5, chain, [&] {
    seen.push_back(scheduler.current_chain());
    scheduler.After(1, [&] { seen.push_back(scheduler.current_chain()); });
  });
  scheduler.At(1, [&] { seen.push_back(scheduler.current_chain()); });
  scheduler.RunUntilIdle();
  EXPECT_EQ(seen, (std::vector<uint32_t>{0, chain, chain}));
  EXPECT_EQ(scheduler.current_chain(), 0u);
}

TEST(Schedule, RandomAndPctAreDeterministicPerSeed) {
  for (ScheduleStrategy strategy : {ScheduleStrategy::kRandom, ScheduleStrategy::kPct}) {
    for (uint64_t seed = 1; seed <= 20; ++seed) {
      Scheduler first(UINT64_MAX, Options(strategy, seed));
      Scheduler second(UINT64_MAX, Options(strategy, seed));
      EXPECT_EQ(RunThreeChains(first, 4), RunThreeChains(second, 4)) << sim::ScheduleStrategyName(strategy);
    }
  }
}

TEST(Schedule, RandomAndPctReorderSameTimeEvents) {
  Scheduler fifo;
  const std::vector<std::string> fifo_order = RunThreeChains(fifo, 4);
  for (ScheduleStrategy strategy : {ScheduleStrategy::kRandom, ScheduleStrategy::kPct}) {
    std::set<std::vector<std::string>> orders;
    uint64_t reordered = 0;
    for (uint64_t seed = 1; seed <= 20; ++seed) {
      Scheduler scheduler(UINT64_MAX, Options(strategy, seed));
      const std::vector<std::string> order = RunThreeChains(scheduler, 4);
      EXPECT_EQ(order.size(), fifo_order.size());
      EXPECT_EQ(std::multiset<std::string>(order.begin(), order.end()),
                std::multiset<std::string>(fifo_order.begin(), fifo_order.end()));
      EXPECT_GT(scheduler.schedule_stats().choice_points, 0u);
      reordered += scheduler.schedule_stats().reordered;
      orders.insert(order);
    }
    EXPECT_GT(reordered, 0u) << sim::ScheduleStrategyName(strategy);
    EXPECT_GE(orders.size(), 3u) << sim::ScheduleStrategyName(strategy) << " explores several orders";
  }
}

// With depth 1 (no change points) PCT is a fixed priority order over chains:
// whenever two chains have events due, the same chain wins, so each chain's
// run of same-time events finishes before a lower chain's continues.
TEST(Schedule, PctWithoutChangePointsRunsChainsByPriority) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    Scheduler scheduler(UINT64_MAX, Options(ScheduleStrategy::kPct, seed, /*depth=*/1));
    const std::vector<std::string> order = RunThreeChains(scheduler, 4);
    ASSERT_EQ(order.size(), 12u);
    for (size_t i = 0; i < order.size(); ++i) {
      EXPECT_EQ(order[i][0], order[(i / 4) * 4][0]) << "seed " << seed << ": chains interleaved at " << i;
    }
    EXPECT_EQ(scheduler.schedule_stats().change_points_hit, 0u);
    EXPECT_EQ(scheduler.schedule_stats().chains, 3u);
  }
}

// A change point drops the chain about to run below every other: with one
// expected step, depth 2 puts the change point at the first choice point.
TEST(Schedule, PctChangePointLowersTheRunningChain) {
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    Scheduler scheduler(UINT64_MAX, Options(ScheduleStrategy::kPct, seed, /*depth=*/2, /*steps=*/1));
    const std::vector<std::string> order = RunThreeChains(scheduler, 2);
    EXPECT_EQ(scheduler.schedule_stats().change_points_hit, 1u);
    // The lowered chain runs last of all.
    const char lowered = order.back()[0];
    EXPECT_EQ(order[order.size() - 2][0], lowered);
  }
}

// Random and PCT reorder ordinary events of an instant, and end-of-instant
// events among themselves, but never run an end-of-instant event before an
// ordinary one of its time (group commit relies on it: ktm/log).
TEST(Schedule, TieBreakingKeepsEndOfInstantEventsLast) {
  for (ScheduleStrategy strategy : {ScheduleStrategy::kRandom, ScheduleStrategy::kPct}) {
    for (uint64_t seed = 1; seed <= 50; ++seed) {
      Scheduler scheduler(UINT64_MAX, Options(strategy, seed, 3, 20));
      std::vector<int> order;  // ordinary events >= 0, end-of-instant ones < 0
      scheduler.At(7, [&] {
        for (int i = 1; i <= 3; ++i) {
          scheduler.AtEndOfInstant([&order, i] { order.push_back(-i); });
          scheduler.AtInChain(7, scheduler.Chain("c" + std::to_string(i)), [&, i] {
            order.push_back(i);
            scheduler.After(0, [&order, i] { order.push_back(10 + i); });
          });
        }
      });
      scheduler.RunUntilIdle();
      ASSERT_EQ(order.size(), 9u);
      for (size_t k = 0; k < 6; ++k) EXPECT_GE(order[k], 0) << "seed " << seed;
      for (size_t k = 6; k < 9; ++k) EXPECT_LT(order[k], 0) << "seed " << seed;
    }
  }
}

TEST(Schedule, CancelWorksUnderRandomTieBreaking) {
  Scheduler scheduler(UINT64_MAX, Options(ScheduleStrategy::kRandom, 7));
  int ran = 0;
  std::vector<sim::EventId> ids;
  for (int i = 0; i < 10; ++i) ids.push_back(scheduler.At(5, [&ran] { ++ran; }));
  for (int i = 0; i < 10; i += 2) EXPECT_TRUE(scheduler.Cancel(ids[i]));
  scheduler.RunUntilIdle();
  EXPECT_EQ(ran, 5);
  EXPECT_EQ(scheduler.pending(), 0u);
}

harness::Scenario OrderingScenario(const std::string& strategy) {
  absl::StatusOr<harness::Scenario> scenario =
      harness::LoadScenarioFile(std::string(KTMSIM_SOURCE_DIR) + "/tests/data/ordering_bug.toml");
  EXPECT_TRUE(scenario.ok()) << scenario.status();
  scenario->schedule_strategy = strategy;
  return *scenario;
}

// The schedule keys of a scenario file: read, defaulted, and a bad value is
// reported at its file:line:column like every other key.
TEST(ScheduleScenario, TomlKeysAreReadAndCheckedWithPositions) {
  const std::string hosts = "[[hosts]]\nname = \"n\"\n[[rms]]\nname = \"r\"\nhost = \"n\"\n";
  absl::StatusOr<harness::Scenario> good =
      harness::LoadScenarioString("schedule_strategy = \"pct\"\nschedule_pct_depth = 5\n" + hosts, "s.toml");
  ASSERT_TRUE(good.ok()) << good.status();
  EXPECT_EQ(good->schedule_strategy, "pct");
  EXPECT_EQ(good->schedule_pct_depth, 5u);
  absl::StatusOr<harness::Scenario> defaults = harness::LoadScenarioString(hosts, "d.toml");
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_EQ(defaults->schedule_strategy, "fifo");
  EXPECT_EQ(defaults->schedule_pct_depth, 3u);
  absl::StatusOr<harness::Scenario> zero =
      harness::LoadScenarioString("name = \"z\"\nschedule_pct_depth = 0\n" + hosts, "z.toml");
  ASSERT_FALSE(zero.ok());
  EXPECT_NE(std::string(zero.status().message()).find("z.toml:2:22: schedule_pct_depth: "), std::string::npos)
      << zero.status();
  absl::StatusOr<harness::Scenario> text =
      harness::LoadScenarioString("schedule_pct_depth = \"deep\"\n" + hosts, "t.toml");
  ASSERT_FALSE(text.ok());
  EXPECT_NE(std::string(text.status().message()).find("t.toml:1:22: schedule_pct_depth: "), std::string::npos)
      << text.status();
}

TEST(ScheduleScenario, EveryStrategyIsDeterministicPerSeedAndPasses) {
  for (const char* strategy : {"fifo", "random", "pct"}) {
    const harness::Scenario scenario = OrderingScenario(strategy);
    for (uint64_t seed = 1; seed <= 5; ++seed) {
      const harness::RunResult a = harness::RunScenario(scenario, seed, {.keep_trace = false});
      const harness::RunResult b = harness::RunScenario(scenario, seed, {.keep_trace = false});
      EXPECT_EQ(a.digest, b.digest) << strategy << " seed " << seed;
      EXPECT_TRUE(a.passed) << strategy << " seed " << seed;
    }
  }
}

TEST(ScheduleScenario, RandomAndPctChangeTheRunButFifoDoesNot) {
  const harness::Scenario fifo = OrderingScenario("fifo");
  for (const char* strategy : {"random", "pct"}) {
    const harness::Scenario other = OrderingScenario(strategy);
    int differ = 0;
    for (uint64_t seed = 1; seed <= 5; ++seed) {
      const harness::RunResult f = harness::RunScenario(fifo, seed, {.keep_trace = false});
      const harness::RunResult o = harness::RunScenario(other, seed, {.keep_trace = false});
      EXPECT_EQ(f.schedule.choice_points, 0u);
      EXPECT_GT(o.schedule.choice_points, 0u);
      EXPECT_GT(o.schedule.reordered, 0u) << strategy;
      differ += f.digest != o.digest ? 1 : 0;
    }
    EXPECT_EQ(differ, 5) << strategy;
  }
}

}  // namespace
