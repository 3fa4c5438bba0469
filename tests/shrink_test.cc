// Tests of shrinking (ctest label `shrink`).
//
// - Workload stability under deletion: every transaction draws its choices
//   (RMs, keys, operations, outcome, arrival gap, deletes and moves) from its
//   own stream of (seed, transaction number), so a run that skips transaction
//   7 (workload.skip, what the shrinker writes) runs every other transaction's
//   operations exactly as before. The old shared workload stream fails this:
//   transaction 8 would draw what 7 drew.
// - workload.skip round-trips through the TOML writer and loader, and bad
//   entries are refused with the field's path.
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "harness/runner.h"
#include "harness/scenario.h"
#include "harness/scenario_toml.h"
#include "harness/scenario_toml_writer.h"
#include "harness/shrink.h"
#include "model/history.h"

namespace {

std::string Source(const std::string& relative) { return std::string(KTMSIM_SOURCE_DIR) + "/" + relative; }

harness::Scenario LoadSuite(const std::string& name) {
  absl::StatusOr<harness::Scenario> scenario = harness::LoadScenarioFile(Source("scenarios/" + name + ".toml"));
  EXPECT_TRUE(scenario.ok()) << scenario.status();
  return *scenario;
}

// The operations of every transaction, in order: "<kind> <rm> <key> [<value>]"
// (a write's value names its writer and op number; a read's value depends on
// what others committed before, so reads are listed without it).
std::map<std::string, std::vector<std::string>> OpsByTransaction(const model::History& history) {
  std::map<std::string, std::vector<std::string>> ops;
  for (const model::HistoryEvent& e : history.events) {
    if (e.tx.empty()) continue;
    if (e.kind == model::EventKind::kWrite) {
      ops[e.tx].push_back(absl::StrCat("write ", e.rm, " ", e.key, " ", e.value));
    } else if (e.kind == model::EventKind::kRead) {
      ops[e.tx].push_back(absl::StrCat("read ", e.rm, " ", e.key));
    } else if (e.kind == model::EventKind::kCommitRequest || e.kind == model::EventKind::kRollbackRequest) {
      ops[e.tx].push_back(model::EventKindName(e.kind));
    }
  }
  return ops;
}

void ExpectDeletionLeavesOthersAlone(harness::Scenario scenario, uint64_t seed, uint32_t deleted) {
  const harness::RunResult whole = harness::RunScenario(scenario, seed, {.keep_trace = false});
  scenario.workload.skip = {deleted};
  const harness::RunResult without = harness::RunScenario(scenario, seed, {.keep_trace = false});
  const auto before = OpsByTransaction(whole.history);
  const auto after = OpsByTransaction(without.history);
  const std::string gone = absl::StrCat("t", deleted);
  ASSERT_EQ(whole.transactions, scenario.workload.transactions);
  EXPECT_EQ(without.transactions, whole.transactions - 1);
  EXPECT_EQ(after.count(gone), 0u);
  ASSERT_EQ(before.count(gone), 1u);
  size_t compared = 0;
  for (const auto& [tx, ops] : before) {
    if (tx == gone) continue;
    auto it = after.find(tx);
    ASSERT_NE(it, after.end()) << scenario.name << " seed " << seed << ": " << tx << " vanished";
    EXPECT_EQ(it->second, ops) << scenario.name << " seed " << seed << ": " << tx << " changed";
    compared += ops.size();
  }
  std::printf("%s seed %llu without t%u: %zu transactions, %zu operations unchanged\n", scenario.name.c_str(),
              static_cast<unsigned long long>(seed), deleted, before.size() - 1, compared);
  EXPECT_GT(compared, 20u);
}

// One client at a time (no conflicts between transactions, so each runs its
// own choices to the end): deleting any one transaction changes no other.
TEST(WorkloadStabilityTest, DeletingOneTransactionLeavesEveryOtherTransactionsOperationsUnchanged) {
  for (const char* name : {"two_phase_3rms", "txf_txr_commit", "single_rm"}) {
    harness::Scenario scenario = LoadSuite(name);
    scenario.workload.concurrency = 1;
    scenario.workload.transactions = 20;
    for (uint64_t seed : {1, 2, 3}) {
      for (uint32_t deleted : {1u, 7u, 20u}) ExpectDeletionLeavesOthersAlone(scenario, seed, deleted);
    }
  }
}

TEST(WorkloadStabilityTest, SkipRoundTripsThroughTomlAndIsValidated) {
  harness::Scenario scenario = LoadSuite("single_rm");
  scenario.workload.transactions = 10;
  scenario.workload.skip = {2, 7};
  const std::string text = harness::ScenarioToToml(scenario);
  EXPECT_NE(text.find("skip = [2, 7]"), std::string::npos) << text;
  absl::StatusOr<harness::Scenario> loaded = harness::LoadScenarioString(text, "skip.toml");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->workload.skip, (std::vector<uint32_t>{2, 7}));
  const harness::RunResult run = harness::RunScenario(*loaded, 5, {.keep_trace = false});
  EXPECT_EQ(run.transactions, 8u);
  for (const model::HistoryEvent& e : run.history.events) {
    EXPECT_NE(e.tx, "t2");
    EXPECT_NE(e.tx, "t7");
  }
  scenario.workload.skip = {11};
  EXPECT_NE(harness::Validate(scenario).message().find("workload.skip[0]"), std::string::npos);
  scenario.workload.skip = {3, 3};
  EXPECT_NE(harness::Validate(scenario).message().find("workload.skip[1]"), std::string::npos);
  absl::StatusOr<harness::Scenario> bad =
      harness::LoadScenarioString("[[hosts]]\nname = \"h\"\n[[rms]]\nname = \"r\"\nhost = \"h\"\n"
                                  "[workload]\nskip = [\"x\"]\n",
                                  "bad.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(std::string(bad.status().message()).find("bad.toml:7:9"), std::string::npos) << bad.status();
}

}  // namespace
