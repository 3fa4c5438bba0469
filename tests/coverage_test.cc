// Tests of coverage (harness/coverage.h, reports/coverage_json.h) and of the
// determinism check (harness/determinism.h): code probes are counted per
// world and the never-reached ones listed, the state x fault matrix is
// non-empty and its sums agree with the trace, summaries carry and merge it,
// and a planted nondeterminism is caught with its first divergent event.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "harness/coverage.h"
#include "harness/determinism.h"
#include "harness/runner.h"
#include "harness/scenario_toml.h"
#include "ktm/bugs.h"
#include "ktm/probes.h"
#include "reports/coverage_json.h"
#include "reports/summary.h"

namespace {

harness::Scenario Load(const std::string& relative) {
  absl::StatusOr<harness::Scenario> scenario =
      harness::LoadScenarioFile(std::string(KTMSIM_SOURCE_DIR) + "/" + relative);
  EXPECT_TRUE(scenario.ok()) << scenario.status();
  return *scenario;
}

// Counts the trace's state transitions into each coverage row.
// Transitions by row from the run's structured trace: KTM's transaction and
// enlistment states and the RM-side phases (ktm/rm_base.h).
std::map<std::string, uint64_t> TransitionsInTrace(const std::vector<sim::TraceEvent>& trace) {
  std::map<std::string, uint64_t> rows;
  for (const sim::TraceEvent& event : trace) {
    const char* prefix = event.kind == "tx.state"   ? "tx "
                         : event.kind == "en.state" ? "en "
                         : event.kind == "rm.phase" ? "rm "
                                                    : nullptr;
    if (prefix == nullptr) continue;
    EXPECT_FALSE(event.Field("to").empty()) << event.ToText();
    ++rows[prefix + event.Field("to")];
  }
  return rows;
}

TEST(Coverage, MatrixIsNonEmptyAndItsSumsAgreeWithTheTrace) {
  const harness::Scenario scenario = Load("scenarios/crash_during_commit.toml");
  uint64_t crash_cells = 0;
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    const harness::RunResult r = harness::RunScenario(scenario, seed, {.keep_trace = true});
    const harness::Coverage& c = r.coverage;
    ASSERT_FALSE(c.matrix.empty());
    EXPECT_EQ(c.transitions, TransitionsInTrace(r.trace)) << "seed " << seed;
    for (const auto& [row, transitions] : c.transitions) {
      uint64_t sum = 0;
      for (const auto& [column, count] : c.matrix.at(row)) {
        EXPECT_NE(std::find(harness::CoverageColumns().begin(), harness::CoverageColumns().end(), column),
                  harness::CoverageColumns().end());
        sum += count;
      }
      // Each transition counts once in "none" or once per active fault kind.
      EXPECT_LE(c.Cell(row, "none"), transitions) << row;
      EXPECT_GE(sum, transitions) << row;
      if (c.Cell(row, "none") == transitions) {
        EXPECT_EQ(sum, transitions) << row;
      }
      crash_cells += c.Cell(row, "crash");
    }
  }
  EXPECT_GT(crash_cells, 0u) << "a crash scenario reaches states while a crash is active";
}

// The RM-side phase machine is seen by coverage: every phase a durable RM
// passes through in a 2PC run has a row.
TEST(Coverage, RmPhasesHaveRows) {
  const harness::Scenario scenario = Load("scenarios/crash_during_commit.toml");
  const harness::RunResult r = harness::RunScenario(scenario, 1, {.keep_trace = false});
  for (const char* row : {"rm active", "rm preparing", "rm prepared", "rm done"}) {
    EXPECT_GT(r.coverage.transitions.count(row), 0u) << row;
  }
}

TEST(Coverage, WithoutFaultsEverythingIsInTheNoneColumn) {
  const harness::Scenario scenario = Load("scenarios/single_rm.toml");
  const harness::RunResult r = harness::RunScenario(scenario, 3, {.keep_trace = false});
  ASSERT_FALSE(r.coverage.transitions.empty());
  for (const auto& [row, transitions] : r.coverage.transitions) {
    EXPECT_EQ(r.coverage.Cell(row, "none"), transitions) << row;
    EXPECT_EQ(r.coverage.matrix.at(row).size(), 1u) << row;
  }
}

TEST(Coverage, ProbesAreCountedAndNeverReachedOnesListed) {
  const harness::Scenario timeouts = Load("scenarios/timeouts.toml");
  const harness::RunResult r = harness::RunScenario(timeouts, 1, {.keep_trace = false});
  EXPECT_EQ(r.coverage.probes.size(), ktm::kProbeCount);  // every declared probe, zeros included
  EXPECT_GT(r.coverage.probes.at("tx.timeout_abort"), 0u);
  const std::vector<std::string> never = r.coverage.NeverReachedProbes();
  EXPECT_EQ(std::count(never.begin(), never.end(), "tx.timeout_abort"), 0);
  EXPECT_EQ(std::count(never.begin(), never.end(), "bug.trust_response_order"), 1);
  for (const std::string& name : never) EXPECT_EQ(r.coverage.probes.at(name), 0u) << name;
  EXPECT_EQ(never.size() + std::count_if(r.coverage.probes.begin(), r.coverage.probes.end(),
                                          [](const auto& p) { return p.second > 0; }),
            ktm::kProbeCount);
}

TEST(Coverage, PlantedOrderingBugHitsItsProbe) {
  harness::Scenario scenario = Load("tests/data/ordering_bug.toml");
  scenario.schedule_strategy = "pct";
  uint64_t hits = 0;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    const harness::RunResult r =
        harness::RunScenario(scenario, seed, {.keep_trace = false, .planted_bug = ktm::kBugTrustResponseOrder});
    hits += r.coverage.probes.at("bug.trust_response_order");
    EXPECT_EQ(r.passed, r.coverage.probes.at("bug.trust_response_order") == 0) << "seed " << seed;
  }
  EXPECT_GT(hits, 0u);
}

// Probe counts belong to a world: a run does not see another run's hits,
// whether the runs follow each other or run on two threads at once.
TEST(Coverage, ProbeCountsDoNotLeakBetweenRunsOrThreads) {
  const harness::Scenario timeouts = Load("scenarios/timeouts.toml");
  const harness::Scenario plain = Load("scenarios/single_rm.toml");
  const harness::RunResult alone = harness::RunScenario(plain, 2, {.keep_trace = false});
  ASSERT_EQ(alone.coverage.probes.at("tx.timeout_abort"), 0u);
  (void)harness::RunScenario(timeouts, 2, {.keep_trace = false});
  const harness::RunResult after = harness::RunScenario(plain, 2, {.keep_trace = false});
  EXPECT_EQ(after.coverage.probes, alone.coverage.probes);
  const harness::RunResult timeouts_alone = harness::RunScenario(timeouts, 2, {.keep_trace = false});
  harness::RunResult threaded_plain, threaded_timeouts;
  std::thread a([&] { threaded_plain = harness::RunScenario(plain, 2, {.keep_trace = false}); });
  std::thread b([&] { threaded_timeouts = harness::RunScenario(timeouts, 2, {.keep_trace = false}); });
  a.join();
  b.join();
  EXPECT_EQ(threaded_plain.coverage.probes, alone.coverage.probes);
  EXPECT_EQ(threaded_timeouts.coverage.probes, timeouts_alone.coverage.probes);
  EXPECT_EQ(threaded_timeouts.coverage.matrix, timeouts_alone.coverage.matrix);
}

TEST(Coverage, SummaryCarriesMergesAndRendersIt) {
  const harness::Scenario a = Load("scenarios/crash_during_commit.toml");
  const harness::Scenario b = Load("scenarios/timeouts.toml");
  std::vector<reports::RunRecord> first, second, all;
  harness::Coverage expected;
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    for (const harness::Scenario* s : {&a, &b}) {
      const harness::RunResult r = harness::RunScenario(*s, seed, {.keep_trace = false});
      expected.Merge(r.coverage);
      reports::RunRecord record = reports::MakeRunRecord(*s, r);
      (seed <= 2 ? first : second).push_back(record);
      all.push_back(record);
    }
  }
  const std::vector<reports::ScenarioInfo> infos = {{a.name, a.file}, {b.name, b.file}};
  absl::StatusOr<reports::Json> whole = reports::BuildSummary(infos, all);
  ASSERT_TRUE(whole.ok()) << whole.status();
  ASSERT_TRUE((*whole).contains("coverage"));
  absl::StatusOr<harness::Coverage> back = reports::CoverageFromJson((*whole)["coverage"]);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->transitions, expected.transitions);
  EXPECT_EQ(back->matrix, expected.matrix);
  EXPECT_EQ(back->probes, expected.probes);
  // Shards merge to the whole, byte for byte.
  absl::StatusOr<reports::Json> part1 = reports::BuildSummary(infos, first);
  absl::StatusOr<reports::Json> part2 = reports::BuildSummary(infos, second);
  ASSERT_TRUE(part1.ok() && part2.ok());
  absl::StatusOr<reports::Json> parsed1 = reports::ParseSummary(reports::SummaryText(*part1));
  absl::StatusOr<reports::Json> parsed2 = reports::ParseSummary(reports::SummaryText(*part2));
  ASSERT_TRUE(parsed1.ok()) << parsed1.status();
  ASSERT_TRUE(parsed2.ok()) << parsed2.status();
  absl::StatusOr<reports::Json> merged = reports::MergeSummaries({*parsed1, *parsed2});
  ASSERT_TRUE(merged.ok()) << merged.status();
  EXPECT_EQ(reports::SummaryText(*merged), reports::SummaryText(*whole));
  // A tampered never-reached list is rejected.
  reports::Json tampered = *whole;
  tampered["coverage"]["probes_never_reached"] = reports::Json::array();
  EXPECT_FALSE(reports::ParseSummary(reports::SummaryText(tampered)).ok());
  const std::string html = reports::CoverageHtml((*whole)["coverage"]);
  EXPECT_TRUE(absl::StrContains(html, "<h2>Coverage</h2>"));
  EXPECT_TRUE(absl::StrContains(html, "tx.timeout_abort"));
  EXPECT_TRUE(absl::StrContains(html, "Never reached ("));
  EXPECT_TRUE(absl::StrContains(html, "bug.trust_response_order"));
  EXPECT_TRUE(absl::StrContains(reports::CoverageFileText((*whole)["coverage"]), "\"ktmsim-coverage\""));
}

TEST(Determinism, RepeatedRunsMatch) {
  for (const char* file : {"scenarios/swarm.toml", "scenarios/dist_swarm.toml"}) {
    harness::Scenario scenario = Load(file);
    for (const char* strategy : {"fifo", "pct"}) {
      scenario.schedule_strategy = strategy;
      const harness::DeterminismCheck check = harness::CheckDeterminism(scenario, 4, {});
      EXPECT_TRUE(check.same) << harness::DescribeDivergence(scenario, 4, check);
      EXPECT_EQ(check.digest_first, check.digest_second);
      EXPECT_EQ(check.first.digest, check.digest_first);
    }
  }
}

// A test-only hook plants nondeterminism: the second run of the pair gets an
// extra event at 5ms. The check must catch it and name that event.
TEST(Determinism, PlantedNondeterminismIsCaughtAtItsFirstEvent) {
  const harness::Scenario scenario = Load("scenarios/single_rm.toml");
  int runs = 0;
  harness::RunOptions options;
  options.world_hook = [&runs](sim::World& world) {
    if (++runs != 2) return;
    world.scheduler().At(5 * sim::kMillisecond, [&world] {
      world.trace().Record(world.scheduler().Now(), sim::kNoHost, "test.nondeterminism", {{"run", "2"}});
    });
  };
  const harness::DeterminismCheck check = harness::CheckDeterminism(scenario, 1, options);
  EXPECT_EQ(runs, 2);
  ASSERT_FALSE(check.same);
  EXPECT_NE(check.digest_first, check.digest_second);
  EXPECT_GT(check.divergent_index, 0u);
  EXPECT_TRUE(absl::StrContains(check.event_second, "test.nondeterminism")) << check.event_second;
  EXPECT_TRUE(absl::StartsWith(check.event_second, "5000000 ")) << check.event_second;
  EXPECT_FALSE(absl::StrContains(check.event_first, "test.nondeterminism"));
  const std::string text = harness::DescribeDivergence(scenario, 1, check);
  EXPECT_TRUE(absl::StrContains(text, "NONDETERMINISTIC")) << text;
  EXPECT_TRUE(absl::StrContains(text, "first divergent event #")) << text;
}

}  // namespace
