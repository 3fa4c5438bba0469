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
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
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

// Every transaction but `except` has the same operations in `after` as in
// `before`; returns how many operations were compared.
size_t ExpectOthersUnchanged(const std::map<std::string, std::vector<std::string>>& before,
                             const std::map<std::string, std::vector<std::string>>& after, const std::string& except,
                             const std::string& scenario, uint64_t seed) {
  size_t compared = 0;
  for (const auto& [tx, ops] : before) {
    if (tx == except) continue;
    auto it = after.find(tx);
    if (it == after.end()) {
      ADD_FAILURE() << scenario << " seed " << seed << ": " << tx << " vanished";
      continue;
    }
    EXPECT_EQ(it->second, ops) << scenario << " seed " << seed << ": " << tx << " changed";
    compared += ops.size();
  }
  return compared;
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
  const size_t compared = ExpectOthersUnchanged(before, after, gone, scenario.name, seed);
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

// `a` is `b` with some entries left out, in order.
bool IsSubsequence(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  size_t i = 0;
  for (const std::string& entry : b) {
    if (i < a.size() && a[i] == entry) ++i;
  }
  return i == a.size();
}

// Skipping operation `op` of transaction `number` (workload.skip_ops): that
// transaction loses operations (the one skipped, and no more: it still ends
// as before), every other transaction runs exactly the same operations.
void ExpectDroppedOperationLeavesOthersAlone(harness::Scenario scenario, uint64_t seed, uint32_t number,
                                            uint32_t op) {
  const harness::RunResult whole = harness::RunScenario(scenario, seed, {.keep_trace = false});
  scenario.workload.skip_ops = {{number, op}};
  ASSERT_TRUE(harness::Validate(scenario).ok()) << harness::Validate(scenario);
  const harness::RunResult without = harness::RunScenario(scenario, seed, {.keep_trace = false});
  const auto before = OpsByTransaction(whole.history);
  const auto after = OpsByTransaction(without.history);
  const std::string changed = absl::StrCat("t", number);
  ASSERT_EQ(before.count(changed), 1u);
  const std::vector<std::string>& had = before.at(changed);
  if (had.size() <= op) return;  // the transaction did not reach operation `op` (its end is the last entry)
  ASSERT_EQ(after.count(changed), 1u);
  const std::vector<std::string>& has = after.at(changed);
  // One history event per operation in kv runs; a txf move records two.
  bool one_event_per_op = true;
  for (const harness::RmSpec& rm : scenario.rms) one_event_per_op &= rm.move_fraction == 0;
  if (one_event_per_op) {
    std::vector<std::string> expected = had;
    expected.erase(expected.begin() + (op - 1));
    EXPECT_EQ(has, expected) << scenario.name << " seed " << seed << ": " << changed << " without operation " << op;
  }
  // (An operation that records no event of its own, such as a file held open
  // outside the transaction, leaves the list as it was.)
  EXPECT_LE(has.size(), had.size()) << scenario.name << " seed " << seed << ": " << changed;
  EXPECT_TRUE(IsSubsequence(has, had)) << scenario.name << " seed " << seed << ": " << changed;
  EXPECT_EQ(has.back(), had.back()) << scenario.name << " seed " << seed << ": " << changed << " ends otherwise";
  const size_t compared = ExpectOthersUnchanged(before, after, changed, scenario.name, seed);
  EXPECT_GT(compared, 20u);
}

// One client at a time: dropping one operation of a transaction changes
// only that operation. The skipped operation still draws what it would have
// drawn, so the transaction's later operations (keys, values, reads or
// writes) and every other transaction are as they were.
TEST(WorkloadStabilityTest, DroppingOneOperationLeavesEveryOtherOperationUnchanged) {
  for (const char* name : {"two_phase_3rms", "txf_txr_commit", "single_rm", "txr_volatile_keys"}) {
    harness::Scenario scenario = LoadSuite(name);
    scenario.workload.concurrency = 1;
    scenario.workload.transactions = 20;
    scenario.faults = harness::FaultSpec{};  // no faults: a crash would meet other operations
    for (uint64_t seed : {1, 2}) {
      for (uint32_t number : {1u, 7u, 20u}) {
        for (uint32_t op : {1u, 2u, 3u}) ExpectDroppedOperationLeavesOthersAlone(scenario, seed, number, op);
      }
    }
  }
}

TEST(WorkloadStabilityTest, SkipOpsRoundTripsThroughTomlAndIsValidated) {
  harness::Scenario scenario = LoadSuite("single_rm");
  scenario.workload.transactions = 10;
  scenario.workload.skip_ops = {{2, 1}, {7, 3}};
  const std::string text = harness::ScenarioToToml(scenario);
  EXPECT_NE(text.find("skip_ops = [[2, 1], [7, 3]]"), std::string::npos) << text;
  absl::StatusOr<harness::Scenario> loaded = harness::LoadScenarioString(text, "skip_ops.toml");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->workload.skip_ops, scenario.workload.skip_ops);
  EXPECT_EQ(harness::ScenarioToToml(*loaded), text);
  scenario.workload.skip_ops = {{11, 1}};
  EXPECT_NE(harness::Validate(scenario).message().find("workload.skip_ops[0]: transaction must be in [1, 10]"),
            std::string::npos)
      << harness::Validate(scenario);
  scenario.workload.skip_ops = {{3, 1}, {3, 1}};
  EXPECT_NE(harness::Validate(scenario).message().find("workload.skip_ops[1]"), std::string::npos);
  absl::StatusOr<harness::Scenario> bad =
      harness::LoadScenarioString("[[hosts]]\nname = \"h\"\n[[rms]]\nname = \"r\"\nhost = \"h\"\n"
                                  "[workload]\nskip_ops = [[1, 2], [3], \"x\", [0, 1]]\n",
                                  "bad.toml");
  ASSERT_FALSE(bad.ok());
  const std::string message(bad.status().message());
  EXPECT_NE(message.find("bad.toml:7:21"), std::string::npos) << message;  // [3]
  EXPECT_NE(message.find("bad.toml:7:26"), std::string::npos) << message;  // "x"
  EXPECT_NE(message.find("bad.toml:7:31"), std::string::npos) << message;  // [0, 1]
}

// With skipped transactions, the later ones arrive when they did: the gaps
// of the skipped ones are still waited (one client at a time, so only the
// arrival gaps and each transaction's own length decide its begin time).
TEST(WorkloadStabilityTest, SkippedTransactionsKeepTheLaterOnesArrivalTimes) {
  harness::Scenario scenario = LoadSuite("single_rm");
  scenario.workload.transactions = 12;
  scenario.workload.concurrency = 100;
  const auto begins = [](const harness::RunResult& run) {
    std::map<std::string, int64_t> at;
    for (const model::HistoryEvent& e : run.history.events) {
      if (e.kind == model::EventKind::kBegin) at[e.tx] = e.time_ns;
    }
    return at;
  };
  const auto whole = begins(harness::RunScenario(scenario, 3, {.keep_trace = false}));
  scenario.workload.skip = {4, 5, 9};
  const auto without = begins(harness::RunScenario(scenario, 3, {.keep_trace = false}));
  ASSERT_EQ(whole.size(), 12u);
  ASSERT_EQ(without.size(), 9u);
  for (const auto& [tx, at] : without) EXPECT_EQ(at, whole.at(tx)) << tx;
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

// A no vote ignored (planted bug 4) in two_phase_3rms: the shrinker deletes
// every transaction but the one that shows it, reaches a fixed point, and the
// emitted scenario (with workload.skip) replays the failure alone.
TEST(ShrinkTest, DeletesTransactionsToAFixedPointAndTheShrunkScenarioReplaysAlone) {
  const harness::Scenario scenario = LoadSuite("two_phase_3rms");
  const harness::RunOptions options{.keep_trace = false, .planted_bug = 4};
  uint64_t seed = 0;
  std::string rule;
  for (uint64_t candidate = 1; candidate <= 20 && seed == 0; ++candidate) {
    const harness::RunResult run = harness::RunScenario(scenario, candidate, options);
    if (!run.violations.empty()) {
      seed = candidate;
      rule = run.violations.front().rule;
    }
  }
  ASSERT_NE(seed, 0u) << "no seed of 20 shows planted bug 4";
  const harness::ShrinkResult r = harness::Shrink(scenario, seed, options, rule, harness::kShrinkBudgetDefault);
  ASSERT_TRUE(r.ok) << r.error;
  std::printf("two_phase_3rms seed %llu bug 4 (%s): events %llu -> %llu, transactions %llu -> %llu, rms %llu -> %llu, "
              "runs %d, fixed point %d\n",
              static_cast<unsigned long long>(seed), rule.c_str(), static_cast<unsigned long long>(r.before.trace_events),
              static_cast<unsigned long long>(r.after.trace_events),
              static_cast<unsigned long long>(r.before.transactions),
              static_cast<unsigned long long>(r.after.transactions), static_cast<unsigned long long>(r.before.rms),
              static_cast<unsigned long long>(r.after.rms), r.runs, r.fixed_point ? 1 : 0);
  EXPECT_TRUE(r.fixed_point);
  EXPECT_FALSE(r.budget_exhausted);
  EXPECT_EQ(r.after.transactions, 1u);
  EXPECT_LE(r.ratio(), 0.05);
  EXPECT_EQ(r.before.transactions, 100u);
  EXPECT_EQ(r.before.rms, 3u);
  EXPECT_LE(r.after.rms, r.before.rms);
  absl::StatusOr<harness::Scenario> emitted =
      harness::LoadScenarioString(harness::ScenarioToToml(r.scenario), "shrunk.toml");
  ASSERT_TRUE(emitted.ok()) << emitted.status();
  const harness::RunResult alone = harness::RunScenario(*emitted, seed, options);
  EXPECT_EQ(alone.digest, r.result.digest);
  bool violates = false;
  for (const harness::Violation& v : alone.violations) violates |= v.rule == rule;
  EXPECT_TRUE(violates);
}

// The first violated rule of a run, in a forked child: a planted bug may
// trip an engine assertion, which aborts the process (ktm/assert.h).
// "" when the run passes or dies (the shrinker could not start from it).
std::string FirstRuleIsolated(const harness::Scenario& scenario, uint64_t seed, const harness::RunOptions& options) {
  int fds[2];
  if (::pipe(fds) != 0) return "";
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(fds[0]);
    const int null = ::open("/dev/null", O_WRONLY);
    if (null >= 0) ::dup2(null, STDERR_FILENO);
    std::string rule;
    try {
      const harness::RunResult run = harness::RunScenario(scenario, seed, options);
      rule = run.violations.empty() ? "" : run.violations.front().rule;
    } catch (...) {
      ::_exit(1);  // never back into the test body: this is a copy of the test process
    }
    const bool sent = ::write(fds[1], rule.data(), rule.size()) == static_cast<ssize_t>(rule.size());
    ::_exit(sent ? 0 : 1);
  }
  ::close(fds[1]);
  std::string rule;
  char buffer[256];
  for (ssize_t got; (got = ::read(fds[0], buffer, sizeof buffer)) > 0;) rule.append(buffer, static_cast<size_t>(got));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? rule : "";
}

// Under ASan a candidate runs in-process (harness/shrink.cc: no fork) and
// every run is several times slower: the figures test takes a smaller sample.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

// The figures of issue 17 over the planted bugs 1-7 on the default suite
// (scenarios/*.toml, those that expect a pass): every shrunk run fails the
// original's rule on the same kind of event, median events after/before
// <= 0.05 (over all runs and over the checker-rule runs), never above 1,
// >= 90% have <= 3 transactions and >= 90% reach a fixed point within the
// default budget. The sample: seed 1 of every (scenario, planted bug) whose
// run fails (47 failures, about 3,000 runs, 10-20 s of CPU in a Release
// build); under ASan only crash_during_commit, txf_txr_commit and read_only
// (9 failures). Environment, to
// measure more: KTMSIM_SHRINK_SEEDS=N (seeds 1..N; the figure is
// 20), KTMSIM_SHRINK_SEED_FIRST=F (seeds F..N, to split a measurement),
// KTMSIM_SHRINK_ONLY=a,b (scenario names), KTMSIM_SHRINK_BUGS=123,
// KTMSIM_SHRINK_VERBOSE=1 (every shrunk run with its steps and runs per phase).
TEST(ShrinkFiguresTest, PlantedBugsOnTheDefaultSuiteShrinkToMinimalRuns) {
  uint64_t seeds = 1;
  if (const char* env = std::getenv("KTMSIM_SHRINK_SEEDS")) seeds = std::strtoull(env, nullptr, 10);
  uint64_t seed_first = 1;
  if (const char* env = std::getenv("KTMSIM_SHRINK_SEED_FIRST")) seed_first = std::strtoull(env, nullptr, 10);
  const char* only = std::getenv("KTMSIM_SHRINK_ONLY");
  const char* bugs_env = std::getenv("KTMSIM_SHRINK_BUGS");
  // Under ASan seed 1 of three scenarios: 9 failures (bugs 1-5), about 260 runs.
  if (kSanitized && only == nullptr) only = "crash_during_commit,txf_txr_commit,read_only";
  const bool verbose = std::getenv("KTMSIM_SHRINK_VERBOSE") != nullptr;
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(Source("scenarios"))) {
    if (entry.path().extension() != ".toml") continue;
    if (only != nullptr && std::string(only).find(entry.path().stem().string()) == std::string::npos) continue;
    files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  std::vector<harness::ShrinkResult> results;
  for (const std::string& file : files) {
    absl::StatusOr<harness::Scenario> scenario = harness::LoadScenarioFile(file);
    ASSERT_TRUE(scenario.ok()) << scenario.status();
    if (scenario->expect != harness::Expect::kPass) continue;
    for (uint32_t bug = 1; bug <= 7; ++bug) {
      if (bugs_env != nullptr && std::string(bugs_env).find(std::to_string(bug)) == std::string::npos) continue;
      for (uint64_t seed = seed_first; seed <= seeds; ++seed) {
        const harness::RunOptions options{.keep_trace = false, .planted_bug = bug};
        const std::string rule = FirstRuleIsolated(*scenario, seed, options);
        if (rule.empty()) continue;
        results.push_back(harness::Shrink(*scenario, seed, options, rule, harness::kShrinkBudgetDefault));
        const harness::ShrinkResult& r = results.back();
        EXPECT_TRUE(r.ok) << scenario->name << " seed " << seed << " bug " << bug << ": " << r.error;
        if (verbose || !r.fixed_point || r.after.transactions > 3 || r.ratio() > 0.05) {
          std::printf("  %s seed %llu bug %u (%s): events %llu -> %llu, transactions %llu -> %llu, runs %d (died %d)%s\n",
                      scenario->name.c_str(), static_cast<unsigned long long>(seed), bug, rule.c_str(),
                      static_cast<unsigned long long>(r.before.trace_events),
                      static_cast<unsigned long long>(r.after.trace_events),
                      static_cast<unsigned long long>(r.before.transactions),
                      static_cast<unsigned long long>(r.after.transactions), r.runs, r.died,
                      r.fixed_point ? "" : " (no fixed point)");
          if (verbose) {
            for (const std::string& step : r.steps) std::printf("      %s\n", step.c_str());
            for (const std::string& round : r.rounds) std::printf("      %s\n", round.c_str());
          }
        }
      }
    }
  }
  const harness::ShrinkSummary summary = harness::Summarize(results);
  std::printf("shrink figures (seeds %llu-%llu, planted bugs 1-7, budget %d): %s\n",
              static_cast<unsigned long long>(seed_first), static_cast<unsigned long long>(seeds), harness::kShrinkBudgetDefault,
              harness::SummaryLine(summary).c_str());
  std::vector<harness::ShrinkResult> protocol;
  for (const harness::ShrinkResult& r : results) {
    if (r.rule != harness::kAssertionRule) protocol.push_back(r);
  }
  std::printf("without engine assertions: %s\n", harness::SummaryLine(harness::Summarize(protocol)).c_str());
  ASSERT_GE(summary.shrunk, kSanitized ? 4u : 20u);
  EXPECT_EQ(summary.failed, 0u);
  EXPECT_EQ(summary.same_rule, summary.shrunk);
  EXPECT_EQ(summary.same_kind, summary.shrunk);
  // A run an engine assertion ends (rule "assertion", most runs of bugs 5
  // and 6) is short already (a few hundred events, of which boot and log
  // format are about 110 on two durable hosts with a Dtc), so its ratio
  // stays near 0.2-0.4 even at one transaction; the median over all runs
  // still holds, and the checker-rule runs' median is asserted on its own.
  // Seed 1 measures 0.022 over all (0.018 for checker rules), 100% with
  // <= 3 transactions, 94% fixed points: dist_coordinator_crash bug 4 and
  // dist_participant_crash bug 3 (network latency from one shared stream
  // moves when transactions go) and txr_volatile_keys bug 4 stop on the budget.
  // Seeds 1-20 (1,067 failures, 78,694 runs; KTMSIM_SHRINK_SEEDS=20, split
  // by KTMSIM_SHRINK_BUGS and KTMSIM_SHRINK_SEED_FIRST): same rule and kind
  // 100%, median 0.031 (0.019 for checker rules), <= 3 transactions 93%,
  // fixed points 93%; bug 7 keeps 4 or more transactions, and the dist crash
  // scenarios and torn_log_writes make most of the runs without a fixed point.
  EXPECT_LE(summary.ratio_median, 0.05);
  EXPECT_LE(harness::Summarize(protocol).ratio_median, 0.05);
  EXPECT_LE(summary.ratio_worst, 1.0);
  EXPECT_GE(summary.at_most_3_transactions * 100, summary.shrunk * 90);
  EXPECT_GE(summary.fixed_points * 100, summary.shrunk * 90);
}

}  // namespace

namespace {

// Back-to-back arrivals (what the shrinker's simplification writes) while
// the only host is down: the client waits for the host instead of retrying
// at the same virtual instant for ever (a livelock the shrinker once hit:
// its candidate never finished). The run ends, and transactions start again
// after the restart.
TEST(WorkloadStabilityTest, BackToBackArrivalsWaitForADownHost) {
  harness::Scenario scenario = LoadSuite("single_rm");
  scenario.workload.arrival_per_second = 0;
  scenario.workload.transactions = 20;
  scenario.faults.mode = harness::FaultMode::kSchedule;
  scenario.faults.schedule_text = "1000000 crash host=0 seed=1\n40000000 restart host=0\n";
  ASSERT_TRUE(harness::Validate(scenario).ok()) << harness::Validate(scenario);
  const harness::RunResult run = harness::RunScenario(scenario, 1, {.keep_trace = false});
  EXPECT_EQ(run.transactions, 20u);
  EXPECT_LT(run.sim_time_ns, scenario.run_until_ns);
  bool started_after_restart = false;
  for (const model::HistoryEvent& e : run.history.events) {
    started_after_restart |= e.kind == model::EventKind::kBegin && e.time_ns > 40000000;
  }
  EXPECT_TRUE(started_after_restart);
}

}  // namespace

namespace {

// Under --strategy pct (and random) the tie-breaking choices are pinned: every
// candidate runs with the same strategy and seed (RunOptions::strategy), the
// shrunk run keeps them in its identity, and replaying the emitted scenario
// with them fails the same rule with the same digest.
TEST(ShrinkTest, UnderPctTheScheduleChoicesArePinnedAndTheShrunkRunStillFails) {
  const harness::Scenario scenario = LoadSuite("two_phase_3rms");
  harness::RunOptions options{.keep_trace = false, .planted_bug = 4};
  options.strategy = "pct";
  uint64_t seed = 0;
  std::string rule;
  for (uint64_t candidate = 1; candidate <= 20 && seed == 0; ++candidate) {
    const harness::RunResult run = harness::RunScenario(scenario, candidate, options);
    if (!run.violations.empty()) {
      seed = candidate;
      rule = run.violations.front().rule;
    }
  }
  ASSERT_NE(seed, 0u) << "no seed of 20 shows planted bug 4 under pct";
  const harness::ShrinkResult r = harness::Shrink(scenario, seed, options, rule, harness::kShrinkBudgetDefault);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.result.identity.strategy, "pct");
  EXPECT_LT(r.after.transactions, r.before.transactions);
  harness::RunOptions replay = options;
  replay.schedule = r.uses_schedule ? std::optional<sim::FaultSchedule>(r.schedule) : std::nullopt;
  const harness::RunResult again = harness::RunScenario(r.scenario, seed, replay);
  EXPECT_EQ(again.digest, r.result.digest);
  bool violates = false;
  for (const harness::Violation& v : again.violations) violates |= v.rule == rule;
  EXPECT_TRUE(violates);
}

}  // namespace

namespace {

// Planted bug 7 is an ordering bug that fifo tie-breaking never takes
// (ktm/bugs.h): a failure under --strategy random exists only through the
// strategy's choices. The shrinker runs every candidate with the same
// strategy and seed (RunOptions::strategy pins them; Simplify does not try
// fifo then), so the shrunk run still fails under random, replays with the
// same digest, and passes when the choices are taken away (fifo).
TEST(ShrinkTest, UnderRandomTheScheduleChoicesArePinnedAndTheShrunkRunStillFails) {
  // docs/scheduling.md: random finds bug 7 in 9 of seeds 1..200 here.
  absl::StatusOr<harness::Scenario> loaded = harness::LoadScenarioFile(Source("tests/data/ordering_bug.toml"));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const harness::Scenario& scenario = *loaded;
  harness::RunOptions options{.keep_trace = false, .planted_bug = 7};
  options.strategy = "random";
  uint64_t seed = 0;
  std::string rule;
  for (uint64_t candidate = 1; candidate <= 200 && seed == 0; ++candidate) {
    rule = FirstRuleIsolated(scenario, candidate, options);
    if (!rule.empty()) seed = candidate;
  }
  ASSERT_NE(seed, 0u) << "no seed of 200 shows planted bug 7 under random";
  const harness::ShrinkResult r = harness::Shrink(scenario, seed, options, rule, harness::kShrinkBudgetDefault);
  ASSERT_TRUE(r.ok) << r.error;
  std::printf("ordering_bug seed %llu bug 7 under random (%s): events %llu -> %llu, transactions %llu -> %llu, "
              "runs %d, %s\n",
              static_cast<unsigned long long>(seed), rule.c_str(), static_cast<unsigned long long>(r.before.trace_events),
              static_cast<unsigned long long>(r.after.trace_events),
              static_cast<unsigned long long>(r.before.transactions),
              static_cast<unsigned long long>(r.after.transactions), r.runs, r.stopped_by());
  EXPECT_EQ(r.result.identity.strategy, "random");
  EXPECT_LT(r.after.transactions, r.before.transactions);
  EXPECT_LT(r.ratio(), 0.5);
  harness::RunOptions replay = options;
  replay.schedule = r.uses_schedule ? std::optional<sim::FaultSchedule>(r.schedule) : std::nullopt;
  const harness::RunResult again = harness::RunScenario(r.scenario, seed, replay);
  EXPECT_EQ(again.digest, r.result.digest);
  bool violates = false;
  for (const harness::Violation& v : again.violations) violates |= v.rule == rule;
  EXPECT_TRUE(violates);
  harness::RunOptions fifo = replay;
  fifo.strategy = "fifo";
  EXPECT_EQ(FirstRuleIsolated(r.scenario, seed, fifo), "") << "the shrunk run fails without the random choices";
}

}  // namespace
