// Failures a user can act on (issue 16): an engine assertion inside one run
// is a failed run (rule "assertion", message and location, a failure folder
// whose replay.sh reproduces it) and the sweep goes on; explore likewise; the
// console names every failure with a replay command; --out is checked
// before any run; --version.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "harness/run_identity.h"
#include "harness/runner.h"
#include "harness/scenario_toml.h"
#include "harness/scenario_toml_writer.h"
#include "ktm/assert.h"
#include "nlohmann/json.hpp"
#include "reports/summary.h"
#include "sim/world.h"

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

class CliFailuresTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "ktmsim_failures_test.XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code error;
    fs::remove_all(dir_, error);
  }
  struct Output {
    int exit_code = -1;
    std::string out, err;
  };
  // Runs a sh command line from the source tree.
  Output Sh(const std::string& command) {
    const std::string out = dir_ + "/sh.out", err = dir_ + "/sh.err";
    const std::string line = absl::StrCat("cd ", harness::ShellQuote(KTMSIM_SOURCE_DIR), " && ", command, " >",
                                          harness::ShellQuote(out), " 2>", harness::ShellQuote(err));
    const int status = std::system(line.c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, ReadAll(out), ReadAll(err)};
  }
  Output Ktmsim(const std::string& arguments) {
    return Sh(absl::StrCat(harness::ShellQuote(KTMSIM_BINARY), " ", arguments));
  }
  std::string dir_;
};

// A KTM_ASSERT inside a run ends that run only: the result names it, and the
// same seed gives the same digest.
TEST(AssertionTest, ABrokenInvariantIsAFailedRunNotAProcessExit) {
  absl::StatusOr<harness::Scenario> scenario =
      harness::LoadScenarioFile(std::string(KTMSIM_SOURCE_DIR) + "/scenarios/single_rm.toml");
  ASSERT_TRUE(scenario.ok()) << scenario.status();
  harness::RunOptions options;
  options.keep_trace = true;
  options.world_hook = [](sim::World& world) {
    world.scheduler().After(2'000'000, [] { KTM_ASSERT(1 + 1 == 3, "planted by the test"); });
  };
  const harness::RunResult first = harness::RunScenario(*scenario, 5, options);
  ASSERT_EQ(first.violations.size(), 1u);
  EXPECT_FALSE(first.passed);
  EXPECT_EQ(first.violations[0].rule, harness::kAssertionRule);
  EXPECT_TRUE(absl::StrContains(first.violations[0].message, "KTM_ASSERT(1 + 1 == 3) failed at tests/"))
      << first.violations[0].message;
  EXPECT_TRUE(absl::StrContains(first.violations[0].message, "planted by the test"));
  EXPECT_GT(first.trace_events, 0u);
  EXPECT_FALSE(first.trace_text.empty());
  const harness::RunResult second = harness::RunScenario(*scenario, 5, options);
  EXPECT_EQ(second.digest, first.digest);
  // And the next run on this thread is an ordinary one.
  EXPECT_TRUE(harness::RunScenario(*scenario, 5, {.keep_trace = false}).passed);
}

// A C++ exception the engine did not guard (std::map::at) ends its run as a
// broken invariant would, not the process (it once terminated a whole sweep:
// planted bug 5 on txf_txr_swarm, TxR encoding the changes of a transaction
// with none, fixed in RmBase::OnCommit).
TEST(AssertionTest, AnEscapingExceptionIsAFailedRunNotAProcessExit) {
  absl::StatusOr<harness::Scenario> scenario =
      harness::LoadScenarioFile(std::string(KTMSIM_SOURCE_DIR) + "/scenarios/single_rm.toml");
  ASSERT_TRUE(scenario.ok()) << scenario.status();
  harness::RunOptions options;
  options.keep_trace = false;
  options.world_hook = [](sim::World& world) {
    world.scheduler().After(2'000'000, [] { (void)std::map<int, int>{}.at(7); });
  };
  const harness::RunResult result = harness::RunScenario(*scenario, 5, options);
  ASSERT_EQ(result.violations.size(), 1u);
  EXPECT_FALSE(result.passed);
  EXPECT_EQ(result.violations[0].rule, harness::kAssertionRule);
  EXPECT_TRUE(absl::StrContains(result.violations[0].message, "uncaught exception: map::at")) << result.violations[0].message;
  EXPECT_TRUE(harness::RunScenario(*scenario, 5, {.keep_trace = false}).passed);
}

TEST(AssertionTest, ACommitBeforePrepareAtAnRmWithNoChangesIsJudgedNotThrown) {
  absl::StatusOr<harness::Scenario> scenario =
      harness::LoadScenarioFile(std::string(KTMSIM_SOURCE_DIR) + "/scenarios/txf_txr_swarm.toml");
  ASSERT_TRUE(scenario.ok()) << scenario.status();
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    const harness::RunResult result = harness::RunScenario(*scenario, seed, {.keep_trace = false, .planted_bug = 5});
    for (const harness::Violation& v : result.violations) {
      EXPECT_FALSE(absl::StrContains(v.message, "uncaught exception")) << "seed " << seed << ": " << v.message;
    }
  }
}

struct AssertingBug {
  uint32_t bug;
  const char* scenario;
  const char* seeds;
  const char* strategy = "";  // --strategy, "" for each scenario's own
};

// Planted bugs 3, 5, 6 and 7 end some runs in an engine assertion (they used
// to abort the whole sweep with exit 134): the sweep completes with exit 1,
// and each such run has a failure folder whose replay.sh reproduces it.
TEST_F(CliFailuresTest, PlantedBugsThatAssertRunToCompletionWithFolders) {
  for (const AssertingBug& c : {AssertingBug{3, "dist_coordinator_crash", "3-3"},
                                AssertingBug{5, "dist_coordinator_crash", "1"},
                                AssertingBug{6, "dist_coordinator_crash", "1"},
                                // Bug 7 (an ordering bug) asserts in the Dtc under random tie-breaking.
                                AssertingBug{7, "dist_participant_crash", "22-22", "random"}}) {
    SCOPED_TRACE(absl::StrCat("planted bug ", c.bug));
    const std::string out = absl::StrCat(dir_, "/out", c.bug);
    const Output run = Ktmsim(absl::StrCat("run scenarios/", c.scenario, ".toml --seeds ", c.seeds, " --planted-bug ",
                                           c.bug, *c.strategy ? absl::StrCat(" --strategy ", c.strategy) : "",
                                           " --shrink-budget ", c.bug == 3 ? 4 : 0, " --out ", out));
    ASSERT_EQ(run.exit_code, 1) << run.err;
    const Json summary = Json::parse(ReadAll(out + "/summary.json"));
    const Json& failure = summary["scenarios"][0]["failures"][0];
    ASSERT_EQ(failure["violations"][0]["rule"], "assertion") << failure.dump(2);
    EXPECT_TRUE(absl::StrContains(failure["violations"][0]["message"].get<std::string>(), ".cc:"));
    EXPECT_TRUE(absl::StrContains(failure["replay"].get<std::string>(), absl::StrCat("--planted-bug ", c.bug)));
    if (*c.strategy) {
      EXPECT_TRUE(absl::StrContains(failure["replay"].get<std::string>(), absl::StrCat("--strategy ", c.strategy)));
    }
    const std::string folder = out + "/" + failure["folder"].get<std::string>();
    const Output replay = Sh(harness::ShellQuote(folder + "/replay.sh"));
    EXPECT_EQ(replay.exit_code, 1) << replay.err;
    EXPECT_TRUE(absl::StartsWith(replay.out, absl::StrCat("digest ", failure["digest"].get<std::string>())))
        << replay.out;
    EXPECT_TRUE(absl::StrContains(replay.out, "violation V1 assertion")) << replay.out;
  }
}

TEST_F(CliFailuresTest, ExploreReportsAnAssertionAsAViolation) {
  const Output explore = Ktmsim(absl::StrCat("explore scenarios/explore/dist_two_hosts.toml --planted-bug 6 ",
                                             "--budget 5 --quiet --out ", dir_, "/explore"));
  ASSERT_EQ(explore.exit_code, 1) << explore.err;
  const Json json = Json::parse(ReadAll(dir_ + "/explore/explore.json"));
  ASSERT_FALSE(json["violations"].empty());
  EXPECT_EQ(json["violations"][0]["violations"][0]["rule"], "assertion");
  const std::string folder = absl::StrCat(dir_, "/explore/", json["violations"][0]["folder"].get<std::string>());
  const Output replay = Sh(harness::ShellQuote(folder + "/replay.sh"));
  EXPECT_EQ(replay.exit_code, 1) << replay.err << replay.out;
}

// The console: a start line naming the version, strategy and planted bug;
// at the end every failure's replay command, grouped by signature.
TEST_F(CliFailuresTest, ConsoleNamesEveryFailureWithAReplayCommand) {
  const Output run = Ktmsim(absl::StrCat("run scenarios/two_phase_3rms.toml --seeds 12 --strategy pct --planted-bug 4 ",
                                         "--shrink-budget 0 --failure-folders-max 1 --out ", dir_, "/out"));
  ASSERT_EQ(run.exit_code, 1) << run.err;
  EXPECT_TRUE(absl::StartsWith(run.err, "ktmsim 0.16.0: 1 scenarios, seeds 1-12, strategy pct, planted bug 4,"))
      << run.err;
  EXPECT_TRUE(absl::StrContains(run.err, "1 failure folders in")) << run.err;  // progress of the folder phase
  const Json summary = Json::parse(ReadAll(dir_ + "/out/summary.json"));
  const Json& failures = summary["scenarios"][0]["failures"];
  ASSERT_GE(failures.size(), 6u);
  EXPECT_TRUE(absl::StrContains(run.out, absl::StrCat("failures (", failures.size(), "), by signature")))
      << run.out;
  // Grouped by signature (the rules a run broke), up to five commands per
  // signature, the rest counted.
  std::map<std::string, std::vector<std::string>> groups;
  for (const Json& failure : failures) {
    std::string rules;
    for (const Json& rule : failure["rules"]) rules += (rules.empty() ? "" : ", ") + rule.get<std::string>();
    groups[rules].push_back(failure["replay"].get<std::string>());
  }
  for (const auto& [rules, replays] : groups) {
    EXPECT_TRUE(absl::StrContains(run.out, absl::StrCat("  ", rules, ": ", replays.size(), "\n"))) << run.out;
    for (size_t f = 0; f < replays.size(); ++f) {
      EXPECT_EQ(absl::StrContains(run.out, "    " + replays[f] + "\n"), f < 5) << rules << " " << f;
    }
    if (replays.size() > 5) {
      EXPECT_TRUE(absl::StrContains(run.out, absl::StrCat("... and ", replays.size() - 5, " more"))) << run.out;
    }
  }
  // summary.json records the version and the options that decide the report.
  EXPECT_EQ(summary["ktmsim"]["version"], "0.16.0");
  EXPECT_EQ(summary["ktmsim"]["options"]["strategy"], "pct");
  EXPECT_EQ(summary["ktmsim"]["options"]["planted_bug"], 4);
  EXPECT_EQ(summary["ktmsim"]["options"]["seeds"], "1-12");
}

TEST_F(CliFailuresTest, VersionIsPrinted) {
  const Output version = Ktmsim("--version");
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.out, "ktmsim 0.16.0\n");
}

// A bad --out is refused before the first run, not after the last one.
TEST_F(CliFailuresTest, BadOutIsRefusedBeforeAnyRun) {
  std::ofstream(dir_ + "/file") << "x";
  for (const std::string& out : {dir_ + "/file", dir_ + "/file/below"}) {
    const Output run = Ktmsim(absl::StrCat("run scenarios --seeds 200 --out ", harness::ShellQuote(out)));
    EXPECT_EQ(run.exit_code, 2) << run.err;
    EXPECT_FALSE(absl::StrContains(run.err, "runs on")) << run.err;  // no start line: nothing ran
  }
  EXPECT_EQ(ReadAll(dir_ + "/file"), "x");
}

// SIGINT mid-run: a valid report of the finished runs, marked interrupted,
// no temporaries, exit 130.
TEST_F(CliFailuresTest, InterruptWritesAPartialReportAndNoTemporaries) {
  const std::string out = dir_ + "/out";
  const Output run = Sh(absl::StrCat("{ ", harness::ShellQuote(KTMSIM_BINARY), " run scenarios --seeds 5000 --jobs 2 ",
                                     "--quiet --out ", harness::ShellQuote(out), " & pid=$!; sleep 3; kill -INT $pid; ",
                                     "wait $pid; }"));
  EXPECT_EQ(run.exit_code, 130) << run.err;
  EXPECT_TRUE(absl::StrContains(run.err, "interrupted")) << run.err;
  const Json summary = Json::parse(ReadAll(out + "/summary.json"));
  EXPECT_EQ(summary["interrupted"], true);
  const uint64_t runs = summary["totals"]["runs"].get<uint64_t>();
  EXPECT_GT(runs, 0u);
  EXPECT_LT(runs, 19u * 5000u);
  uint64_t listed = 0;
  for (const Json& scenario : summary["scenarios"]) listed += scenario["runs"].size();
  EXPECT_EQ(listed, runs);
  for (const auto& entry : fs::recursive_directory_iterator(dir_)) {
    EXPECT_FALSE(absl::StrContains(entry.path().string(), ".tmp")) << entry.path();
  }
  // The partial report is a report: merge reads it.
  EXPECT_EQ(Ktmsim(absl::StrCat("merge ", out, " --out ", dir_, "/merged")).exit_code, 0);
}

// Bad input of any kind is refused at once (exit 2, FILE:1:1: why), and
// nothing is written.
TEST_F(CliFailuresTest, FifoDirectoryUnreadableAndBinaryInputsAreRefusedAtOnce) {
  const std::string fifo = dir_ + "/fifo.toml", binary = dir_ + "/binary.toml", locked = dir_ + "/locked.toml";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  std::ofstream(binary, std::ios::binary) << std::string("name = \"x\"\0\x01\x02", 13);
  std::ofstream(locked) << "name = \"x\"\n";
  ::chmod(locked.c_str(), 0);
  std::vector<std::pair<std::string, std::string>> cases = {
      {"run " + fifo, fifo + ":1:1: not a regular file"},
      {"replay " + fifo + " --seed 1", "not a regular file"},
      {"replay scenarios/single_rm.toml --seed 1 --schedule " + fifo, fifo + ":1:1: not a regular file"},
      {"run " + binary, binary + ":1:1: binary file"},
      {"trace " + binary + " --seed 1", "binary file"},
      {"replay scenarios --seed 1", "is a directory"},
  };
  if (::geteuid() != 0) cases.push_back({"run " + locked, locked + ":1:1: cannot read"});  // root reads anything
  for (const auto& [arguments, message] : cases) {
    const bool writes = absl::StartsWith(arguments, "run ") || absl::StartsWith(arguments, "trace ");
    const Output run = Ktmsim(absl::StrCat(arguments, writes ? absl::StrCat(" --out ", dir_, "/out") : ""));
    EXPECT_EQ(run.exit_code, 2) << arguments << "\n" << run.err;
    EXPECT_TRUE(absl::StrContains(run.err, message)) << arguments << "\n" << run.err;
    EXPECT_FALSE(fs::exists(dir_ + "/out")) << arguments;
  }
}

// Each command's --help: one spelling per flag (with '-'), that command's
// own defaults, and an example.
TEST_F(CliFailuresTest, HelpShowsOneSpellingTheCommandsOwnDefaultsAndAnExample) {
  const std::vector<std::pair<std::string, std::string>> defaults = {
      {"trace", "--out (stdout)"},       {"trace", "--seed (required)"}, {"replay", "--seed (required)"},
      {"explore", "--budget (default: 10000)"}, {"explore", "--seed (default: 1)"},
      {"bench", "--format (default: text)"},    {"shrink", "--budget (default: 200)"},
      {"run", "--planted-bug (default: 0)"},    {"run", "--shrink-budget (default: 200)"}};
  for (const auto& [command, line] : defaults) {
    const Output help = Ktmsim(command + " --help");
    EXPECT_EQ(help.exit_code, 0);
    EXPECT_TRUE(absl::StrContains(help.out, "\n  " + line + "\n")) << command << ": " << line << "\n" << help.out;
    EXPECT_TRUE(absl::StrContains(help.out, "\nexample:\n  ktmsim " + command)) << help.out;
    for (const char* underscore : {"--planted_bug", "--shrink_budget", "--failure_folders_max", "--pct_depth"}) {
      EXPECT_FALSE(absl::StrContains(help.out, underscore)) << command << ": " << underscore;
    }
  }
  const Output bad = Ktmsim("replay scenarios/single_rm.toml --seed 1 --jobs 2");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(bad.err, "--planted-bug")) << bad.err;
  EXPECT_FALSE(absl::StrContains(bad.err, "--planted_bug")) << bad.err;
}

// The regression loop: fail -> shrink -> promote -> (bug still in) fail ->
// fix -> green; the promoted scenario pins its seed, and `ktmsim run`
// without paths runs scenarios/regressions/ too.
TEST_F(CliFailuresTest, PromoteLoopEndToEnd) {
  const std::string out = dir_ + "/out";
  // Seed 2: the first seed whose workload draws a no vote (seed 1 commits cleanly even with the bug).
  ASSERT_EQ(Ktmsim(absl::StrCat("run scenarios/two_phase_3rms.toml --seeds 2-2 --planted-bug 4 --shrink-budget 20 ",
                                "--quiet --out ", out)).exit_code, 1);
  const std::string work = dir_ + "/work";
  const std::string regressions = work + "/scenarios/regressions";
  const Output promote = Ktmsim(absl::StrCat("promote ", out, "/failures/two_phase_3rms-2 --name caught --out ",
                                             regressions));
  ASSERT_EQ(promote.exit_code, 0) << promote.err;
  const std::string toml = ReadAll(regressions + "/caught.toml");
  EXPECT_TRUE(absl::StrContains(toml, "\nname = \"caught\"\n")) << toml;
  EXPECT_TRUE(absl::StrContains(toml, "\nseeds = [2]\n")) << toml;
  // Promoting again under the same name is refused.
  EXPECT_EQ(Ktmsim(absl::StrCat("promote ", out, "/failures/two_phase_3rms-2 --name caught --out ", regressions))
                .exit_code,
            2);
  // The default suite (no paths) of a checkout with scenarios/regressions runs it, its pinned seed only.
  fs::copy_file(std::string(KTMSIM_SOURCE_DIR) + "/scenarios/single_rm.toml", work + "/scenarios/single_rm.toml");
  const std::string binary = harness::ShellQuote(KTMSIM_BINARY);
  const Output buggy = Sh(absl::StrCat("cd ", harness::ShellQuote(work), " && ", binary,
                                       " run --seeds 3 --planted-bug 4 --quiet --out r1"));
  EXPECT_EQ(buggy.exit_code, 1) << buggy.err;
  const Json summary = Json::parse(ReadAll(work + "/r1/summary.json"));
  ASSERT_EQ(summary["scenarios"].size(), 2u);
  EXPECT_EQ(summary["scenarios"][0]["name"], "caught");
  EXPECT_EQ(summary["scenarios"][0]["seeds_run"], 1);  // pinned: seed 2 only, whatever --seeds says
  EXPECT_EQ(summary["scenarios"][0]["failed"], 1);
  // "Fixed" (the planted bug off): green.
  const Output fixed = Sh(absl::StrCat("cd ", harness::ShellQuote(work), " && ", binary, " run --seeds 3 --quiet --out r2"));
  EXPECT_EQ(fixed.exit_code, 0) << fixed.err << fixed.out;
}

// seeds = [..] pins a scenario's seeds; bad entries are file:line:col errors;
// the writer keeps them.
TEST(PinnedSeedsTest, AreReadCheckedAndWrittenBack) {
  const std::string base = ReadAll(std::string(KTMSIM_SOURCE_DIR) + "/scenarios/single_rm.toml");
  absl::StatusOr<harness::Scenario> pinned = harness::LoadScenarioString("seeds = [7, 3]\n" + base, "p.toml");
  ASSERT_TRUE(pinned.ok()) << pinned.status();
  EXPECT_EQ(pinned->seeds, (std::vector<uint64_t>{7, 3}));
  absl::StatusOr<harness::Scenario> again =
      harness::LoadScenarioString(harness::ScenarioToToml(*pinned), "p.toml");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->seeds, pinned->seeds);
  absl::StatusOr<harness::Scenario> bad = harness::LoadScenarioString("seeds = [1, -2, \"x\"]\n" + base, "b.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(absl::StrContains(bad.status().message(), "b.toml:1:")) << bad.status();
  EXPECT_TRUE(absl::StrContains(bad.status().message(), "seeds[1]")) << bad.status();
  EXPECT_TRUE(absl::StrContains(bad.status().message(), "seeds[2]")) << bad.status();
}

// trace.json is capped (reports/chrome_trace.h): a long run's file ends in a
// "truncated" event counting what was left out.
TEST_F(CliFailuresTest, TraceJsonIsCappedWithATruncationNote) {
  const std::string file = dir_ + "/trace.json";
  const Output trace = Ktmsim(absl::StrCat("trace scenarios/soak.toml --seed 1 --format json --out ", file));
  ASSERT_NE(trace.exit_code, 2) << trace.err;
  const Json events = Json::parse(ReadAll(file));
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back()["name"], "truncated");
  EXPECT_GT(events.back()["args"]["records_not_converted"].get<uint64_t>(), 0u);
  EXPECT_LT(fs::file_size(file), 4u << 20);
}

// Failure folders are capped per signature: 14 runs failing the same way get
// kFailureFoldersPerSignatureMax folders, another signature still gets its own.
TEST(FolderCapTest, FoldersAreCappedPerSignatureAndShardsAgree) {
  std::vector<reports::RunRecord> records;
  for (uint64_t seed = 1; seed <= 15; ++seed) {
    reports::RunRecord record;
    record.scenario = "s";
    record.seed = seed;
    record.replay_command = harness::ReplayCommandLine({.scenario_file = "s.toml", .seed = seed});
    record.violations.push_back({seed == 15 ? "atomicity" : "validity", "t1", "m"});
    records.push_back(record);
  }
  absl::StatusOr<Json> summary = reports::BuildSummary({{"s", "s.toml"}}, records);
  ASSERT_TRUE(summary.ok()) << summary.status();
  uint64_t validity = 0, atomicity = 0;
  for (const Json& failure : (*summary)["scenarios"][0]["failures"]) {
    if (failure["folder"] == "") continue;
    (failure["rules"][0] == "validity" ? validity : atomicity) += 1;
  }
  EXPECT_EQ(validity, reports::kFailureFoldersPerSignatureMax);
  EXPECT_EQ(atomicity, 1u);
  EXPECT_EQ((*summary)["totals"]["failure_folders"], reports::kFailureFoldersPerSignatureMax + 1);
  // Two shards (odd and even seeds) merge into the same summary.
  std::vector<reports::RunRecord> odd, even;
  for (const reports::RunRecord& record : records) (record.seed % 2 ? odd : even).push_back(record);
  absl::StatusOr<Json> a = reports::BuildSummary({{"s", "s.toml"}}, odd);
  absl::StatusOr<Json> b = reports::BuildSummary({{"s", "s.toml"}}, even);
  ASSERT_TRUE(a.ok() && b.ok());
  absl::StatusOr<Json> merged = reports::MergeSummaries({*a, *b});
  ASSERT_TRUE(merged.ok()) << merged.status();
  EXPECT_EQ(reports::SummaryText(*merged), reports::SummaryText(*summary));
}

// replay's verdict line reads right both for scenarios that expect a pass and
// for those that expect a failure.
TEST_F(CliFailuresTest, ReplayVerdictReadsRightForExpectedFailures) {
  const std::string file = dir_ + "/expect_fail.toml";
  std::ofstream(file) << ReadAll(std::string(KTMSIM_SOURCE_DIR) + "/scenarios/two_phase_3rms.toml")
                      << "\n[expect]\nverdict = \"fail\"\nrule = \"validity\"\n";
  const Output caught = Ktmsim(absl::StrCat("replay ", file, " --seed 2 --planted-bug 4"));
  EXPECT_EQ(caught.exit_code, 0) << caught.err;
  EXPECT_TRUE(absl::StrContains(caught.out, "\nverdict pass (a violation of validity, as the scenario expects)\n"))
      << caught.out;
  const Output missed = Ktmsim(absl::StrCat("replay ", file, " --seed 2"));
  EXPECT_EQ(missed.exit_code, 1) << missed.err;
  EXPECT_TRUE(absl::StrContains(missed.out, "\nverdict FAIL (the scenario expects a violation of validity; none found)\n"))
      << missed.out;
  const Output plain = Ktmsim("replay scenarios/single_rm.toml --seed 1");
  EXPECT_TRUE(absl::StrContains(plain.out, "\nverdict pass (no violation, as expected)\n")) << plain.out;
}

// Every report file, pictures included, is the same bytes for --jobs 1,
// --jobs 2 and two shards merged (states.svg used to depend on what the
// process had rendered before: reports/graphviz.cc).
TEST_F(CliFailuresTest, ReportsAreByteIdenticalForAnyJobsAndShardSplit) {
  const std::string common = "run scenarios/two_phase_3rms.toml scenarios/dist_swarm.toml --seeds 4 --planted-bug 4 "
                             "--shrink-budget 0 --quiet";
  ASSERT_EQ(Ktmsim(absl::StrCat(common, " --jobs 1 --out ", dir_, "/j1")).exit_code, 1);
  ASSERT_EQ(Ktmsim(absl::StrCat(common, " --jobs 2 --out ", dir_, "/j2")).exit_code, 1);
  ASSERT_EQ(Ktmsim(absl::StrCat(common, " --jobs 2 --shard 1/2 --out ", dir_, "/s1")).exit_code, 1);
  ASSERT_NE(Ktmsim(absl::StrCat(common, " --jobs 1 --shard 2/2 --out ", dir_, "/s2")).exit_code, 2);
  ASSERT_EQ(Ktmsim(absl::StrCat("merge ", dir_, "/s1 ", dir_, "/s2 --out ", dir_, "/merged")).exit_code, 1);
  size_t svgs = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir_ + "/j1")) {
    if (!entry.is_regular_file()) continue;
    const std::string relative = fs::relative(entry.path(), dir_ + "/j1").string();
    if (absl::EndsWith(relative, ".svg")) ++svgs;
    const std::string bytes = ReadAll(entry.path().string());
    EXPECT_EQ(bytes, ReadAll(dir_ + "/j2/" + relative)) << relative << " differs between --jobs 1 and 2";
    EXPECT_EQ(bytes, ReadAll(dir_ + "/merged/" + relative)) << relative << " differs in the merged shards";
  }
  EXPECT_GE(svgs, 4u);
}

}  // namespace
