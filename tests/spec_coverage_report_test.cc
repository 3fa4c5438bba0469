// Spec-state coverage in the reports (issue 21): summary.json's
// coverage.spec_coverage figures per number of RMs, their merge-able raw form
// coverage.spec_states (order- and shard-independent), parse-time checking,
// and the section in index.html — on hand-made records and on a real run of
// the ktmsim binary.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "harness/conformance.h"
#include "reports/coverage_json.h"
#include "reports/index_html.h"
#include "reports/spec_coverage.h"
#include "reports/summary.h"

namespace reports {
namespace {

namespace fs = std::filesystem;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

RunRecord Record(uint64_t seed, std::map<int, std::set<uint64_t>> spec_states) {
  RunRecord record;
  record.scenario = "s";
  record.seed = seed;
  record.passed = true;
  record.coverage.spec_states = std::move(spec_states);
  return record;
}

TEST(SpecCoverageReport, SummaryFiguresAreOrderAndShardIndependent) {
  // Real state keys: the initial KtmTwoPhase states for 1 and 3 RMs.
  const uint64_t init1 = model::spec::TwoPhase::Init(1).Key(), init3 = model::spec::TwoPhase::Init(3).Key();
  const std::vector<ScenarioInfo> scenarios = {{"s", "s.toml"}};
  std::vector<RunRecord> records = {Record(1, {{3, {init3}}}), Record(2, {{1, {init1}}, {3, {init3}}}),
                                    Record(3, {})};
  absl::StatusOr<Json> forward = BuildSummary(scenarios, records);
  ASSERT_TRUE(forward.ok()) << forward.status();
  std::vector<RunRecord> reversed(records.rbegin(), records.rend());
  absl::StatusOr<Json> backward = BuildSummary(scenarios, reversed);
  ASSERT_TRUE(backward.ok());
  EXPECT_EQ(SummaryText(*forward), SummaryText(*backward));

  const Json& figures = (*forward)["coverage"]["spec_coverage"];
  ASSERT_EQ(figures.size(), 3u);
  EXPECT_EQ(figures[0]["two_phase"], Json::array({1, 12}));
  EXPECT_EQ(figures[2]["two_phase"], Json::array({1, 288}));
  EXPECT_EQ(figures[2]["crash"], Json::array({1, 2334}));
  EXPECT_EQ(figures[2]["two_phase_unreached"].size(), 287u);
  EXPECT_EQ(figures[2]["unreached_ktm_impossible"], 32);  // none of the 32 is the initial state
  EXPECT_EQ(figures[1]["two_phase"][0], 0);

  // Shards: the merge of two halves is the whole, byte for byte.
  absl::StatusOr<Json> a = BuildSummary(scenarios, {records[0]});
  absl::StatusOr<Json> b = BuildSummary(scenarios, {records[1], records[2]});
  ASSERT_TRUE(a.ok() && b.ok());
  absl::StatusOr<Json> pa = ParseSummary(SummaryText(*a)), pb = ParseSummary(SummaryText(*b));
  ASSERT_TRUE(pa.ok()) << pa.status();
  ASSERT_TRUE(pb.ok()) << pb.status();
  absl::StatusOr<Json> merged = MergeSummaries({*pb, *pa});
  ASSERT_TRUE(merged.ok()) << merged.status();
  EXPECT_EQ(SummaryText(*merged), SummaryText(*forward));
}

TEST(SpecCoverageReport, ParsingRejectsFiguresThatDisagreeWithTheStates) {
  absl::StatusOr<Json> summary = BuildSummary({{"s", "s.toml"}}, {Record(1, {{1, {model::spec::TwoPhase::Init(1).Key()}}})});
  ASSERT_TRUE(summary.ok());
  Json bad = *summary;
  bad["coverage"]["spec_coverage"][0]["two_phase"][0] = 5;
  absl::StatusOr<Json> parsed = ParseSummary(SummaryText(bad));
  ASSERT_FALSE(parsed.ok());
  EXPECT_TRUE(absl::StrContains(parsed.status().message(), "spec_coverage")) << parsed.status();
  Json bad_key = *summary;
  bad_key["coverage"]["spec_states"]["99"] = Json::array({1});
  EXPECT_FALSE(ParseSummary(SummaryText(bad_key)).ok());
}

TEST(SpecCoverageReport, IndexHtmlShowsFiguresAndCollapsedUnreachedList) {
  absl::StatusOr<Json> summary =
      BuildSummary({{"s", "s.toml"}}, {Record(1, {{3, {model::spec::TwoPhase::Init(3).Key()}}})});
  ASSERT_TRUE(summary.ok());
  const std::string html = IndexHtml(*summary, {});
  EXPECT_TRUE(absl::StrContains(html, "<h3>Spec-state coverage</h3>")) << html;
  EXPECT_TRUE(absl::StrContains(html, "<tr><td>3</td><td>1/288</td><td>1/2334</td><td>32</td></tr>")) << html;
  EXPECT_TRUE(absl::StrContains(html, "<details><summary>Unreached KtmTwoPhase states with 3 RMs (287)</summary>"));
}

// The binary: a small suite's summary.json carries the figures, the same
// bytes with --jobs 1 and 2, and index.html shows them.
TEST(SpecCoverageReport, RunWritesPlausibleFigures) {
  const std::string dir = absl::StrCat(::testing::TempDir(), "/spec_coverage_report.", getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::string texts[2];
  for (int jobs = 1; jobs <= 2; ++jobs) {
    const std::string out = absl::StrCat(dir, "/out", jobs);
    const std::string line =
        absl::StrCat("cd '", KTMSIM_SOURCE_DIR, "' && '", KTMSIM_BINARY,
                     "' run scenarios/two_phase_3rms.toml scenarios/single_rm.toml --seeds 1-3 --quiet --jobs ", jobs,
                     " --out '", out, "' >/dev/null 2>&1");
    const int status = std::system(line.c_str());
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << line;
    texts[jobs - 1] = ReadAll(out + "/summary.json");
  }
  EXPECT_EQ(texts[0], texts[1]);
  absl::StatusOr<Json> summary = ParseSummary(texts[0]);
  ASSERT_TRUE(summary.ok()) << summary.status();
  const Json& figures = (*summary)["coverage"]["spec_coverage"];
  ASSERT_EQ(figures.size(), 3u);
  for (const Json& f : figures) {
    const uint64_t reached = f["two_phase"][0], states = f["two_phase"][1];
    EXPECT_LE(reached, states);
    EXPECT_EQ(f["two_phase_unreached"].size(), states - reached);
    EXPECT_LE(f["unreached_ktm_impossible"].get<uint64_t>(), f["two_phase_unreached"].size());
    EXPECT_GE(f["crash"][0].get<uint64_t>(), reached);
  }
  // single_rm: 1 RM; two_phase_3rms: 3 RMs, a commit path at least
  // (RMPrepare and TMRcvPrepared per RM, TMCommit, RMRcvCommitMsg per RM).
  EXPECT_GE(figures[0]["two_phase"][0].get<uint64_t>(), 4u);
  EXPECT_GE(figures[2]["two_phase"][0].get<uint64_t>(), 11u);
  EXPECT_EQ(figures[2]["two_phase"][1], 288);
  EXPECT_EQ(figures[2]["unreached_ktm_impossible"], 32);
  const std::string html = ReadAll(absl::StrCat(dir, "/out1/index.html"));
  EXPECT_TRUE(absl::StrContains(
      html, absl::StrCat("<tr><td>3</td><td>", figures[2]["two_phase"][0].dump(), "/288</td>")));
  EXPECT_TRUE(absl::StrContains(html, "Unreached KtmTwoPhase states with 3 RMs"));
  fs::remove_all(dir);
}

// `explore --spec-baseline SUMMARY`: the suite's states count as reached, so
// the explore reports fewer unreached states than without; a file that is
// no summary is bad input (exit 2).
TEST(SpecCoverageReport, ExploreTakesASuiteSummaryAsBaseline) {
  const std::string dir = absl::StrCat(::testing::TempDir(), "/spec_baseline.", getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto run = [&](const std::string& arguments) {
    const std::string line = absl::StrCat("cd '", KTMSIM_SOURCE_DIR, "' && '", KTMSIM_BINARY, "' ", arguments,
                                          " >'", dir, "/out.txt' 2>&1");
    const int status = std::system(line.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  };
  ASSERT_EQ(run(absl::StrCat("run scenarios/two_phase_3rms.toml scenarios/spec_states_vote_no.toml --seeds 1-3 --quiet --out '",
                             dir, "/suite'")), 0);
  const std::string explore = "explore scenarios/explore/two_rms_2pc.toml --depth 1 --quiet";
  ASSERT_EQ(run(absl::StrCat(explore, " --out '", dir, "/plain'")), 0) << ReadAll(dir + "/out.txt");
  ASSERT_EQ(run(absl::StrCat(explore, " --target-spec-states --spec-baseline '", dir, "/suite/summary.json' --out '",
                             dir, "/based'")), 0) << ReadAll(dir + "/out.txt");
  EXPECT_TRUE(absl::StrContains(ReadAll(dir + "/out.txt"), "(targeted)"));
  const Json plain = Json::parse(ReadAll(dir + "/plain/explore.json"));
  const Json based = Json::parse(ReadAll(dir + "/based/explore.json"));
  ASSERT_EQ(plain["spec_states_closed"].size(), based["spec_states_closed"].size());
  bool fewer = false;
  for (size_t i = 0; i < plain["spec_states_closed"].size(); ++i) {
    const Json &p = plain["spec_states_closed"][i], &b = based["spec_states_closed"][i];
    EXPECT_EQ(p["rms"], b["rms"]);
    EXPECT_LE(b["crash_unreached"].get<uint64_t>(), p["crash_unreached"].get<uint64_t>());
    EXPECT_LE(b["crash_closed"].get<uint64_t>(), p["crash_closed"].get<uint64_t>());
    fewer = fewer || b["crash_unreached"].get<uint64_t>() < p["crash_unreached"].get<uint64_t>();
  }
  EXPECT_TRUE(fewer) << plain["spec_states_closed"].dump() << " vs " << based["spec_states_closed"].dump();
  std::ofstream(dir + "/bad.json") << "{\"schema\": 1}";
  EXPECT_EQ(run(absl::StrCat(explore, " --spec-baseline '", dir, "/bad.json' --out '", dir, "/bad'")), 2);
  EXPECT_TRUE(absl::StrContains(ReadAll(dir + "/out.txt"), "--spec-baseline")) << ReadAll(dir + "/out.txt");
  EXPECT_FALSE(fs::exists(dir + "/bad/explore.json"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace reports
