// PCT versus random tie-breaking on planted bug 7 (trust-response-order,
// ktm/bugs.h) in tests/data/ordering_bug.toml: fifo never finds it, and PCT
// needs fewer runs per find than random (docs/scheduling.md). Label explore.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "harness/runner.h"
#include "harness/scenario_toml.h"
#include "ktm/bugs.h"

namespace {

harness::Scenario OrderingScenario(const std::string& strategy) {
  absl::StatusOr<harness::Scenario> scenario =
      harness::LoadScenarioFile(std::string(KTMSIM_SOURCE_DIR) + "/tests/data/ordering_bug.toml");
  EXPECT_TRUE(scenario.ok()) << scenario.status();
  scenario->schedule_strategy = strategy;
  return *scenario;
}

// Failing seeds among 1..seeds with planted bug 7 on.
int FailingRuns(const std::string& strategy, uint64_t seeds) {
  const harness::Scenario scenario = OrderingScenario(strategy);
  int failing = 0;
  for (uint64_t seed = 1; seed <= seeds; ++seed) {
    const harness::RunResult r =
        harness::RunScenario(scenario, seed, {.keep_trace = false, .planted_bug = ktm::kBugTrustResponseOrder});
    failing += r.passed ? 0 : 1;
  }
  return failing;
}

TEST(ScheduleExplore, PctFindsTheOrderingBugInFewerRunsThanRandom) {
  constexpr uint64_t kSeeds = 200;
  const int fifo = FailingRuns("fifo", kSeeds);
  const int random = FailingRuns("random", kSeeds);
  const int pct = FailingRuns("pct", kSeeds);
  EXPECT_EQ(fifo, 0) << "the planted ordering bug must need a non-fifo order";
  ASSERT_GT(random, 0) << "random tie-breaking should find the bug at least once in " << kSeeds << " runs";
  ASSERT_GT(pct, 0);
  // Runs needed per bug found (the expected runs to the first find).
  const double random_runs = static_cast<double>(kSeeds) / random;
  const double pct_runs = static_cast<double>(kSeeds) / pct;
  std::printf("ordering bug over %d seeds: fifo %d, random %d, pct %d failing runs\n", static_cast<int>(kSeeds),
              fifo, random, pct);
  std::printf("PCT %.1f runs, random %.1f runs, ratio %.2f\n", pct_runs, random_runs, random_runs / pct_runs);
  EXPECT_LT(pct_runs * 2, random_runs) << "PCT should need at most half the runs random needs";
}


// The example RM handles its notifications in delivery order even when a
// tie-breaking strategy runs the handler events of one instant in another
// order (ktm/kv/kv_rm.cc, OnNotification). Before that, random tie-breaking
// let a LAST_RECOVER overtake the RECOVERs before it and the RM presumed
// abort for a committed transaction (crash_during_commit seed 3 among others).
TEST(ScheduleExplore, CrashScenariosPassUnderRandomAndPctTieBreaking) {
  for (const char* name : {"crash_during_commit", "crash_during_prepare", "torn_log_writes"}) {
    auto scenario = harness::LoadScenarioFile(std::string(KTMSIM_SOURCE_DIR) + "/scenarios/" + name + ".toml");
    ASSERT_TRUE(scenario.ok()) << scenario.status();
    for (const char* strategy : {"random", "pct"}) {
      scenario->schedule_strategy = strategy;
      harness::RunOptions options;
      options.keep_trace = false;
      for (uint64_t seed = 1; seed <= 40; ++seed) {
        const harness::RunResult result = harness::RunScenario(*scenario, seed, options);
        ASSERT_TRUE(result.passed) << name << " " << strategy << " seed " << seed << ": "
                                   << result.violations.front().rule << " " << result.violations.front().message;
      }
    }
  }
}

}  // namespace
