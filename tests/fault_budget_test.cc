// The "beyond" fault budget (docs/faults.md): latent sector errors make an
// RM's log unreadable, so the RM refuses to start (it never guesses). The
// harness then resolves the transactions it had open as unavailable
// (kRmLost "refused"), while every other checker still runs. This test runs
// the default suite's latent_sector_errors scenario over many seeds: all
// pass, refusals happen, and at least one refusal concerns a transaction that
// committed at another RM (the case that would otherwise read as an
// atomicity violation). Removing the harness rule makes this test fail.
#include <cstdint>
#include <set>
#include <string>

#include "gtest/gtest.h"
#include "harness/runner.h"
#include "harness/scenario_toml.h"
#include "model/history.h"

namespace {

TEST(FaultBudget, BeyondRefusalsResolveOpenTransactionsAsUnavailable) {
  auto scenario = harness::LoadScenarioFile(KTMSIM_SOURCE_DIR "/scenarios/latent_sector_errors.toml");
  ASSERT_TRUE(scenario.ok()) << scenario.status();
  ASSERT_EQ(scenario->faults.budget, "beyond");
  int refused = 0, refused_after_commit_elsewhere = 0;
  harness::RunOptions options;
  options.keep_trace = false;
  for (uint64_t seed = 1; seed <= 400; ++seed) {
    const harness::RunResult result = harness::RunScenario(*scenario, seed, options);
    ASSERT_TRUE(result.passed) << "seed " << seed << ": " << result.violations.front().rule << " "
                               << result.violations.front().message;
    std::set<std::pair<std::string, std::string>> committed;  // (tx, rm)
    for (const model::HistoryEvent& e : result.history.events) {
      if (e.kind == model::EventKind::kRmCommitted) committed.insert({e.tx, e.rm});
    }
    for (const model::HistoryEvent& e : result.history.events) {
      if (e.kind != model::EventKind::kRmLost || e.detail != "refused") continue;
      ++refused;
      for (const auto& [tx, rm] : committed) {
        if (tx == e.tx && rm != e.rm) {
          ++refused_after_commit_elsewhere;
          break;
        }
      }
    }
  }
  std::printf("refused enlistments: %d, of transactions committed at another RM: %d\n", refused,
              refused_after_commit_elsewhere);
  EXPECT_GT(refused, 0);
  EXPECT_GT(refused_after_commit_elsewhere, 0);
}

}  // namespace

namespace {

// When corruption damages a host's TM log, the TM refuses to start and so
// do its RMs (they never start without their TM): their open transactions
// are unavailable there too (kRmLost "tm refused"), not violations. Found
// with 200 corruptions/s per disk on dist_participant_crash (seeds 26, 30,
// 37, 38 failed atomicity/durability before the harness rule).
// A refusing TM that is the root of a distributed transaction also leaves
// that transaction's prepared participants on healthy hosts in doubt for
// good (kRmLost "root tm refused"): seed 26 (per-transaction workload
// streams) has t3 committed at the root's kv1, its COMMIT to node3 lost, the
// root crashed and its TM refusing, and kv3 prepared and inquiring forever;
// without that rule it reads as an atomicity and durability violation.
TEST(FaultBudget, ARefusingTmExcusesItsRmsToo) {
  auto scenario = harness::LoadScenarioFile(KTMSIM_SOURCE_DIR "/scenarios/dist_participant_crash.toml");
  ASSERT_TRUE(scenario.ok()) << scenario.status();
  scenario->faults.budget = "beyond";
  scenario->faults.probabilities.corrupt_per_second = 200;
  harness::RunOptions options;
  options.keep_trace = false;
  int tm_refusals = 0, root_refusals = 0, root_refusals_seed_26 = 0;
  for (uint64_t seed = 20; seed <= 45; ++seed) {
    const harness::RunResult result = harness::RunScenario(*scenario, seed, options);
    ASSERT_TRUE(result.passed) << "seed " << seed << ": " << result.violations.front().rule << " "
                               << result.violations.front().message;
    for (const model::HistoryEvent& e : result.history.events) {
      tm_refusals += e.kind == model::EventKind::kRmLost && e.detail == "tm refused" ? 1 : 0;
      const int root = e.kind == model::EventKind::kRmLost && e.detail == "root tm refused" ? 1 : 0;
      root_refusals += root;
      if (seed == 26) root_refusals_seed_26 += root;
    }
  }
  std::printf("enlistments excused by a refusing TM: %d, in-doubt participants of a refusing root: %d\n",
              tm_refusals, root_refusals);
  EXPECT_GT(tm_refusals, 0);
  EXPECT_GT(root_refusals_seed_26, 0);
}

}  // namespace
