// Tests of the reports library and the ktmsim binary.
//
// Unit tests build RunRecords and RunResults by hand: the atomic writer,
// summary.json (shape, independence from record order, merge of shards ==
// whole, validation), junit.xml (well-formed, escaped), failure folders.
// End-to-end tests run the ktmsim binary (KTMSIM_BINARY) from the source
// tree (KTMSIM_SOURCE_DIR) on the real scenarios: exit codes, --jobs not
// changing the report, replay printing the recorded digest, shards through
// GNU parallel merging into the unsharded report, failure folders whose
// replay.sh reproduces the digest, and bad input rejected with exit 2 and
// no output directory. Built with KTMSIM_CLI_SUITE_ONLY, only the 200-seed
// run of the whole suite is compiled (ctest label `suite`).
#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "harness/run_identity.h"
#include "harness/runner.h"
#include "harness/scenario.h"
#include "model/history.h"
#include "reports/atomic_file.h"
#include "reports/failure.h"
#include "reports/report_files.h"
#include "reports/summary.h"

namespace {

namespace fs = std::filesystem;
using reports::Json;

// ---- helpers ----------------------------------------------------------------

[[maybe_unused]] std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

[[maybe_unused]] void WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

[[maybe_unused]] std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

[[maybe_unused]] std::string ShellQuote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

// A fresh directory per test, removed afterwards.
class TempDirTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "ktmsim_cli_test.XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code error;
    fs::remove_all(dir_, error);
  }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  struct CommandResult {
    int exit_code = -1;
    std::string out;
    std::string err;
  };
  // Runs a shell command line from the source tree; captures its output.
  CommandResult Shell(const std::string& command) {
    const std::string out = Path(absl::StrCat("stdout.", commands_));
    const std::string err = Path(absl::StrCat("stderr.", commands_++));
    const std::string line = absl::StrCat("cd ", ShellQuote(KTMSIM_SOURCE_DIR), " && ", command,
                                          " >", ShellQuote(out), " 2>", ShellQuote(err));
    const int status = std::system(line.c_str());
    CommandResult result;
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    result.out = ReadAll(out);
    result.err = ReadAll(err);
    return result;
  }
  // "ktmsim <arguments>" with the binary under test.
  CommandResult Ktmsim(const std::string& arguments) {
    return Shell(absl::StrCat(ShellQuote(KTMSIM_BINARY), " ", arguments));
  }

  std::string dir_;
  int commands_ = 0;
};

[[maybe_unused]] bool HaveProgram(const std::string& name) {
  return std::system(absl::StrCat("command -v ", name, " >/dev/null 2>&1").c_str()) == 0;
}

[[maybe_unused]] std::string LastLine(const std::string& text) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n', absl::SkipEmpty());
  return lines.empty() ? "" : lines.back();
}

// No leftover "<name>.tmp.<pid>.<n>" or "<dir>.tmp-<pid>" anywhere below dir.
[[maybe_unused]] std::vector<std::string> TemporaryFilesUnder(const std::string& dir) {
  std::vector<std::string> found;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (absl::StrContains(entry.path().filename().string(), ".tmp")) {
      found.push_back(entry.path().string());
    }
  }
  return found;
}

#ifndef KTMSIM_CLI_SUITE_ONLY

// ---- atomic writer ----------------------------------------------------------

using AtomicFileTest = TempDirTest;

TEST_F(AtomicFileTest, WritesTheContentsAndLeavesNoTemporaryFile) {
  const std::string path = Path("report.txt");
  ASSERT_TRUE(reports::WriteFileAtomically(path, "first\n").ok());
  ASSERT_TRUE(reports::WriteFileAtomically(path, "second, longer\n").ok());
  EXPECT_EQ(ReadAll(path), "second, longer\n");
  EXPECT_EQ(ListDir(dir_), std::vector<std::string>{"report.txt"});
  struct stat info;
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0644u);
}

TEST_F(AtomicFileTest, SetsTheModeExactly) {
  const std::string path = Path("replay.sh");
  ASSERT_TRUE(reports::WriteFileAtomically(path, "#!/bin/sh\nexit 0\n", 0755).ok());
  struct stat info;
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0755u);
}

TEST_F(AtomicFileTest, AReaderSeesTheOldOrTheNewFileNeverAPrefix) {
  const std::string path = Path("big.txt");
  const std::string small(64 * 1024, 'a');
  const std::string large(1024 * 1024, 'b');
  ASSERT_TRUE(reports::WriteFileAtomically(path, small).ok());
  std::atomic<bool> writing{true};
  std::thread writer([&] {
    for (int i = 0; i < 60; ++i) {
      ASSERT_TRUE(reports::WriteFileAtomically(path, i % 2 == 0 ? large : small).ok());
    }
    writing = false;
  });
  int reads = 0, torn = 0;
  while (writing.load() || reads < 10) {
    const std::string seen = ReadAll(path);
    if (seen != small && seen != large) ++torn;
    ++reads;
  }
  writer.join();
  EXPECT_EQ(torn, 0) << "of " << reads << " reads";
  EXPECT_EQ(ListDir(dir_), std::vector<std::string>{"big.txt"});
}

TEST_F(AtomicFileTest, AFailedWriteLeavesTheTargetAndNoTemporaryFile) {
  // The target is a directory: rename fails after the temporary was written.
  ASSERT_TRUE(fs::create_directory(Path("taken")));
  WriteText(Path("taken/inside"), "keep");
  const absl::Status status = reports::WriteFileAtomically(Path("taken"), "new contents");
  EXPECT_FALSE(status.ok());
  EXPECT_TRUE(fs::is_directory(Path("taken")));
  EXPECT_EQ(ReadAll(Path("taken/inside")), "keep");
  EXPECT_EQ(ListDir(dir_), std::vector<std::string>{"taken"});
  // A missing directory is reported, nothing is created.
  EXPECT_EQ(reports::WriteFileAtomically(Path("missing/x.txt"), "x").code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(ListDir(dir_), std::vector<std::string>{"taken"});
}

TEST_F(AtomicFileTest, ConcurrentWritersEachLeaveACompleteFile) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < 25; ++i) {
        const std::string contents(1000 + t, static_cast<char>('a' + t));
        ASSERT_TRUE(reports::WriteFileAtomically(Path("shared.txt"), contents).ok());
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  const std::string seen = ReadAll(Path("shared.txt"));
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen, std::string(seen.size(), seen[0]));
  EXPECT_EQ(seen.size(), 1000u + static_cast<size_t>(seen[0] - 'a'));
  EXPECT_EQ(ListDir(dir_), std::vector<std::string>{"shared.txt"});
}

// ---- summary ----------------------------------------------------------------

reports::RunRecord Record(const std::string& scenario, uint64_t seed, bool passed) {
  reports::RunRecord record;
  record.scenario = scenario;
  record.seed = seed;
  record.passed = passed;
  record.digest = seed * 0x9e3779b97f4a7c15ull + scenario.size();
  record.transactions = 10 + seed % 3;
  record.committed = 7 + seed % 2;
  record.aborted = 2;
  record.unresolved = passed ? 0 : 1;
  record.faults_injected = seed % 5;
  if (!passed) {
    record.violations = {{"atomicity", absl::StrCat("t", seed), "rm kv2 committed, kv1 aborted"},
                         {"durability", "t1", "acknowledged commit lost <&>\"'"}};
    record.replay_command =
        harness::ReplayCommandLine({.scenario_file = absl::StrCat("scenarios/", scenario, ".toml"), .seed = seed});
  }
  return record;
}

const std::vector<reports::ScenarioInfo> kScenarios = {
    {"two_phase", "scenarios/two_phase.toml"},
    {"crash <&> \"quoted\"", "scenarios/odd.toml"},
    {"single", "scenarios/single.toml"}};

// Three scenarios x seeds 1..40, some failing.
std::vector<reports::RunRecord> SomeRecords() {
  std::vector<reports::RunRecord> records;
  for (const reports::ScenarioInfo& scenario : kScenarios) {
    for (uint64_t seed = 1; seed <= 40; ++seed) {
      const bool passed = scenario.name == "single" || seed % 13 != 0;
      records.push_back(Record(scenario.name, seed, passed));
    }
  }
  return records;
}

std::string SummaryTextOf(const std::vector<reports::ScenarioInfo>& scenarios,
                          const std::vector<reports::RunRecord>& records,
                          uint64_t failure_folders_max = reports::kFailureFoldersMaxDefault) {
  absl::StatusOr<Json> summary = reports::BuildSummary(scenarios, records, failure_folders_max);
  EXPECT_TRUE(summary.ok()) << summary.status();
  return summary.ok() ? reports::SummaryText(*summary) : "";
}

TEST(SummaryTest, CountsRunsFailuresAndTotals) {
  absl::StatusOr<Json> summary = reports::BuildSummary(kScenarios, SomeRecords());
  ASSERT_TRUE(summary.ok()) << summary.status();
  // Printed and parsed back: valid JSON that passes the summary's own checks.
  absl::StatusOr<Json> parsed = reports::ParseSummary(reports::SummaryText(*summary));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const Json& totals = (*parsed)["totals"];
  EXPECT_EQ((*parsed)["schema"], "ktmsim-summary");
  EXPECT_EQ((*parsed)["version"], 1);
  EXPECT_EQ(totals["scenarios"], 3);
  EXPECT_EQ(totals["runs"], 120);
  EXPECT_EQ(totals["failed"], 6);  // seeds 13, 26, 39 of two scenarios
  EXPECT_EQ(totals["failure_folders"], 6);
  EXPECT_EQ(totals["passed"], 114);
  // Scenarios sorted by name; runs and failures by seed.
  std::vector<std::string> names;
  for (const Json& scenario : (*parsed)["scenarios"]) names.push_back(scenario["name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"crash <&> \"quoted\"", "single", "two_phase"}));
  const Json& two_phase = (*parsed)["scenarios"][2];
  EXPECT_EQ(two_phase["seeds_run"], 40);
  ASSERT_EQ(two_phase["failures"].size(), 3u);
  const Json& failure = two_phase["failures"][0];
  EXPECT_EQ(failure["seed"], 13);
  EXPECT_EQ(failure["rules"], Json::array({"atomicity", "durability"}));
  EXPECT_EQ(failure["folder"], "failures/two_phase-13");
  EXPECT_EQ(failure["digest"], reports::DigestText(Record("two_phase", 13, false).digest));
  EXPECT_EQ(failure["replay"], "ktmsim replay scenarios/two_phase.toml --seed 13");
  EXPECT_EQ(two_phase["runs"][12], Json::array({13, failure["digest"], false}));
  // One line per run in the text.
  EXPECT_TRUE(absl::StrContains(reports::SummaryText(*summary),
                                absl::StrCat("[13, \"", failure["digest"].get<std::string>(),
                                             "\", false]")));
}

TEST(SummaryTest, DoesNotDependOnTheOrderRunsFinished) {
  const std::vector<reports::RunRecord> records = SomeRecords();
  const std::string in_order = SummaryTextOf(kScenarios, records);
  std::vector<reports::RunRecord> shuffled = records;
  std::mt19937 random(7);
  for (int round = 0; round < 5; ++round) {
    std::shuffle(shuffled.begin(), shuffled.end(), random);
    std::vector<reports::ScenarioInfo> scenarios = kScenarios;
    std::shuffle(scenarios.begin(), scenarios.end(), random);
    EXPECT_EQ(SummaryTextOf(scenarios, shuffled), in_order);
  }
}

TEST(SummaryTest, TheSmallestFailingSeedsGetFolders) {
  absl::StatusOr<Json> summary = reports::BuildSummary(kScenarios, SomeRecords(), 2);
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ((*summary)["failure_folders_max"], 2);
  EXPECT_EQ((*summary)["totals"]["failure_folders"], 4);
  const Json& failures = (*summary)["scenarios"][2]["failures"];
  ASSERT_EQ(failures.size(), 3u);
  EXPECT_EQ(failures[0]["folder"], "failures/two_phase-13");
  EXPECT_EQ(failures[1]["folder"], "failures/two_phase-26");
  EXPECT_EQ(failures[2]["folder"], "");
  EXPECT_TRUE(reports::ParseSummary(reports::SummaryText(*summary)).ok());
  EXPECT_TRUE(absl::StrContains(reports::JunitXml(*summary), "beyond failure_folders_max"));
}

TEST(SummaryTest, MergingShardSummariesGivesTheWholeSummary) {
  const std::vector<reports::RunRecord> records = SomeRecords();
  for (uint64_t folders_max : {0u, 1u, 2u, 100u})
  for (size_t shards : {1u, 2u, 3u, 7u, 200u}) {  // 200: most shards hold few scenarios' runs
    const std::string whole = SummaryTextOf(kScenarios, records, folders_max);
    std::vector<Json> parts;
    for (size_t shard = 0; shard < shards; ++shard) {
      std::vector<reports::RunRecord> mine;
      for (size_t i = shard; i < records.size(); i += shards) mine.push_back(records[i]);
      absl::StatusOr<Json> part = reports::BuildSummary(kScenarios, mine, folders_max);
      ASSERT_TRUE(part.ok());
      // Through text, as ktmsim merge reads them.
      absl::StatusOr<Json> reread = reports::ParseSummary(reports::SummaryText(*part));
      ASSERT_TRUE(reread.ok()) << reread.status();
      parts.push_back(*reread);
    }
    absl::StatusOr<Json> merged = reports::MergeSummaries(parts);
    ASSERT_TRUE(merged.ok()) << merged.status();
    EXPECT_EQ(reports::SummaryText(*merged), whole) << shards << " shards, " << folders_max;
    EXPECT_EQ(reports::JunitXml(*merged), reports::JunitXml(*reports::ParseSummary(whole)));
  }
}

TEST(SummaryTest, MergeRejectsOverlappingShardsAndConflictingFiles) {
  const std::vector<reports::RunRecord> records = SomeRecords();
  absl::StatusOr<Json> whole = reports::BuildSummary(kScenarios, records);
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(reports::MergeSummaries({*whole, *whole}).status().code(),
            absl::StatusCode::kInvalidArgument);
  absl::StatusOr<Json> other =
      reports::BuildSummary({{"single", "elsewhere/single.toml"}}, {Record("single", 99, true)});
  ASSERT_TRUE(other.ok());
  const absl::Status conflict = reports::MergeSummaries({*whole, *other}).status();
  EXPECT_EQ(conflict.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(conflict.message(), "two files")) << conflict;
  absl::StatusOr<Json> other_limit =
      reports::BuildSummary(kScenarios, {Record("single", 99, true)}, 5);
  ASSERT_TRUE(other_limit.ok());
  EXPECT_FALSE(reports::MergeSummaries({*whole, *other_limit}).ok());
  EXPECT_FALSE(reports::MergeSummaries({}).ok());
}

TEST(SummaryTest, BuildRejectsDuplicateRunsAndUnknownScenarios) {
  EXPECT_FALSE(reports::BuildSummary(kScenarios, {Record("single", 1, true), Record("single", 1, true)}).ok());
  EXPECT_FALSE(reports::BuildSummary(kScenarios, {Record("nope", 1, true)}).ok());
}

TEST(SummaryTest, ParseRejectsTamperedSummaries) {
  absl::StatusOr<Json> summary = reports::BuildSummary(kScenarios, SomeRecords());
  ASSERT_TRUE(summary.ok());
  auto rejects = [](Json changed, const std::string& what) {
    const absl::StatusOr<Json> parsed = reports::ParseSummary(reports::SummaryText(changed));
    EXPECT_FALSE(parsed.ok()) << what;
  };
  Json changed = *summary;
  changed["scenarios"][2]["passed"] = 40;
  rejects(changed, "count that disagrees with the runs");
  changed = *summary;
  changed["scenarios"][2]["failures"][0]["folder"] = "../../../etc";
  rejects(changed, "folder outside failures/");
  changed = *summary;
  changed["totals"]["committed"] = 1;
  rejects(changed, "totals");
  changed = *summary;
  changed["version"] = 2;
  rejects(changed, "version");
  changed = *summary;
  changed["scenarios"][0]["runs"][0][1] = "not a digest";
  rejects(changed, "digest");
  EXPECT_FALSE(reports::ParseSummary("{\"schema\": ").ok());
  EXPECT_TRUE(reports::ParseSummary(reports::SummaryText(*summary)).ok());
}

// ---- JUnit ------------------------------------------------------------------

using JunitTest = TempDirTest;

TEST_F(JunitTest, IsWellFormedAndEscaped) {
  std::vector<reports::RunRecord> records = SomeRecords();
  records[12].violations[0].message = "bad bytes \x01\x1b and \xff\xfe and ]]> and \xc3\xa9";
  // A scenario without runs (an empty shard) gets a skipped test case.
  std::vector<reports::ScenarioInfo> scenarios = kScenarios;
  scenarios.push_back({"empty", "scenarios/empty.toml"});
  absl::StatusOr<Json> summary = reports::BuildSummary(scenarios, records);
  ASSERT_TRUE(summary.ok());
  const std::string xml = reports::JunitXml(*summary);
  EXPECT_EQ(std::count(xml.begin(), xml.end(), '<') - std::count(xml.begin(), xml.end(), '>'), 0);
  EXPECT_FALSE(absl::StrContains(xml, "<&>"));
  EXPECT_TRUE(absl::StrContains(xml, "name=\"crash &lt;&amp;&gt; &quot;quoted&quot;\""));
  EXPECT_TRUE(absl::StrContains(xml, "\\x1b"));
  EXPECT_TRUE(absl::StrContains(xml, "\xc3\xa9"));  // valid UTF-8 is kept
  EXPECT_FALSE(absl::StrContains(xml, "\xff"));
  // 4 suites; 6 failing cases + 3 aggregated passing + 1 skipped.
  EXPECT_TRUE(absl::StrContains(xml, "<testsuites name=\"ktmsim\" tests=\"10\" failures=\"6\""));
  EXPECT_TRUE(absl::StrContains(xml, "name=\"passing seeds\">\n      <system-out>37 of 40 seeds passed"));
  EXPECT_TRUE(absl::StrContains(xml, "name=\"passing seeds\">\n      <system-out>40 of 40 seeds passed"));
  EXPECT_FALSE(absl::StrContains(xml, "passing seeds (")) << "the name must not change with the count";
  EXPECT_TRUE(absl::StrContains(xml, "<skipped"));
  if (!HaveProgram("xmllint")) GTEST_SKIP() << "xmllint not installed; structure checked above";
  WriteText(Path("junit.xml"), xml);
  const int status = std::system(absl::StrCat("xmllint --noout ", ShellQuote(Path("junit.xml"))).c_str());
  EXPECT_EQ(status, 0) << xml;
}

TEST(XmlEscapeTest, EscapesMarkupQuotesAndControlCharacters) {
  EXPECT_EQ(reports::XmlEscape("a<b>&\"c'\n"), "a&lt;b&gt;&amp;&quot;c&apos;&#10;");
  EXPECT_EQ(reports::XmlEscape(std::string("\x00\x07", 2)), "\\x00\\x07");
  EXPECT_EQ(reports::XmlEscape("a\nb\tc<", /*in_attribute=*/false), "a\nb\tc&lt;");
  EXPECT_EQ(reports::XmlEscape("\xe2\x82\xac"), "\xe2\x82\xac");   // euro sign, valid
  EXPECT_EQ(reports::XmlEscape("\xe2\x82"), "\\xe2\\x82");          // truncated sequence
  EXPECT_EQ(reports::XmlEscape("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // surrogate
}

// ---- failure folders ---------------------------------------------------------

// The files of a failure folder (reports/failure.h), without shrunk/.
std::vector<std::string> FailureFolderFiles() {
  return {"history.txt", "replay.sh",  "result.json", "scenario.toml", "schedule.txt", "states.dot",
          "states.svg",  "trace.dot",  "trace.json",  "trace.svg",     "trace.txt"};
}

harness::Scenario FailingScenario() {
  harness::Scenario scenario;
  scenario.name = "two/phase x";  // '/' and ' ' must not reach the folder name
  scenario.file = "scenarios/two_phase.toml";
  return scenario;
}

model::HistoryEvent Event(int64_t time, uint32_t host, model::EventKind kind, const std::string& tx,
                          const std::string& rm, const std::string& detail = "") {
  model::HistoryEvent event;
  event.time_ns = time;
  event.host = host;
  event.kind = kind;
  event.tx = tx;
  event.rm = rm;
  event.detail = detail;
  return event;
}

// A run's structured trace from hand-written lines "<time> h<host> <kind> k=v ...",
// and its rendering (what a run keeps: RunResult::trace and trace_text).
void SetTrace(harness::RunResult* result, const std::string& lines) {
  result->trace.clear();
  result->trace_text.clear();
  for (absl::string_view line : absl::StrSplit(lines, '\n', absl::SkipEmpty())) {
    const std::vector<std::string> words = absl::StrSplit(line, ' ');
    sim::TraceEvent event;
    EXPECT_TRUE(absl::SimpleAtoi(words[0], &event.time)) << line;
    EXPECT_TRUE(absl::SimpleAtoi(words[1].substr(1), &event.host)) << line;
    event.kind = words[2];
    for (size_t i = 3; i < words.size(); ++i) {
      const size_t eq = words[i].find('=');
      event.fields.emplace_back(words[i].substr(0, eq), words[i].substr(eq + 1));
    }
    result->trace_text += event.ToText() + "\n";
    result->trace.push_back(std::move(event));
  }
}

harness::RunResult FailingResult() {
  harness::RunResult result;
  result.scenario = "two/phase x";
  result.seed = 42;
  result.identity.scenario_file = "scenarios/two phase.toml";
  result.identity.seed = 42;
  result.passed = false;
  result.digest = 0x0123456789abcdefull;
  result.transactions = 3;
  result.committed = 1;
  result.aborted = 1;
  result.unresolved = 1;
  result.faults_injected = 1;
  result.history.events = {
      Event(100, 0, model::EventKind::kBegin, "t1", ""),
      Event(200, 1, model::EventKind::kRmCommitted, "t1", "kv1"),
      Event(250, 0, model::EventKind::kCrash, "", ""),
      Event(300, 2, model::EventKind::kRmAborted, "t1", "kv2"),
  };
  result.history.end_ns = 400;
  result.violations = {{"atomicity", "t1", "kv1 committed t1 but kv2 aborted it", {1, 3}},
                        {"agreement", "t1", "participants disagree", {3}}};
  SetTrace(&result,
           "100 h0 tx_begin tx=t1\n"
           "200 h1 rm_commit tx=t1 rm=kv1\n"
           "200 h1 rm_commit tx=t10 rm=kv1\n"
           "250 h0 crash\n"
           "400 h0 end\n");
  result.schedule_text = "250 crash host=0 seed=7\n";
  result.commit_latencies_ns = {50, 10, 30};
  return result;
}

using FailureFolderTest = TempDirTest;

TEST_F(FailureFolderTest, HoldsTheExplanationTraceHistoryScheduleAndReplay) {
  const harness::Scenario scenario = FailingScenario();
  const harness::RunResult result = FailingResult();
  reports::FailureFolderOptions options;
  options.ktmsim_binary = "/opt/it's here/ktmsim";
  ASSERT_TRUE(reports::WriteFailureFolder(dir_, scenario, result, options).ok());
  const std::string folder = Path("failures/two_phase_x-42");
  EXPECT_EQ(ListDir(folder), FailureFolderFiles());
  EXPECT_TRUE(TemporaryFilesUnder(dir_).empty());

  const std::string trace = ReadAll(folder + "/trace.txt");
  // The explanation comes first, then the trace with the events marked.
  const size_t explanation = trace.find("V1 atomicity tx=t1: kv1 committed t1 but kv2 aborted it");
  const size_t trace_start = trace.find("\ntrace (");
  ASSERT_NE(explanation, std::string::npos) << trace;
  ASSERT_NE(trace_start, std::string::npos) << trace;
  EXPECT_LT(explanation, trace_start);
  EXPECT_TRUE(absl::StrContains(trace, ">> 200 h1 rm_commit tx=t1 rm=kv1    <-- V1 atomicity"))
      << trace;
  EXPECT_TRUE(absl::StrContains(trace, "   200 h1 rm_commit tx=t10 rm=kv1\n")) << trace;
  // History #3 (300 h2) has no trace line: a note at its place in time.
  const size_t note = trace.find(">> (no trace line) V1 atomicity: history #3");
  ASSERT_NE(note, std::string::npos) << trace;
  EXPECT_LT(note, trace.find("400 h0 end"));
  EXPECT_GT(note, trace.find("250 h0 crash"));

  const std::string history = ReadAll(folder + "/history.txt");
  EXPECT_TRUE(absl::StrContains(history, ">> #1 ")) << history;
  EXPECT_TRUE(absl::StrContains(history, "<-- V1 atomicity, V2 agreement")) << history;
  EXPECT_TRUE(absl::StrContains(history, "   #0 ")) << history;

  const std::string schedule = ReadAll(folder + "/schedule.txt");
  EXPECT_TRUE(absl::StrContains(schedule, "\n250 crash host=0 seed=7\n")) << schedule;

  const std::string script = ReadAll(folder + "/replay.sh");
  EXPECT_TRUE(absl::StartsWith(script, "#!/bin/sh\n"));
  EXPECT_TRUE(absl::StrContains(script, "ktmsim='/opt/it'\\''s here/ktmsim'\n")) << script;
  // The folder's own scenario.toml, wherever the folder is.
  EXPECT_TRUE(absl::StrContains(script, "\"$ktmsim\" replay \"$here\"/scenario.toml --seed 42")) << script;
  EXPECT_TRUE(absl::StrContains(script, "expected=0123456789abcdef\n")) << script;
  EXPECT_TRUE(absl::StrContains(script, "digest 0123456789abcdef")) << script;
  struct stat info;
  ASSERT_EQ(::stat((folder + "/replay.sh").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0755u);

  const Json json = Json::parse(ReadAll(folder + "/result.json"));
  EXPECT_EQ(json["seed"], 42);
  EXPECT_EQ(json["digest"], "0123456789abcdef");
  EXPECT_EQ(json["passed"], false);
  EXPECT_EQ(json["violations"][0]["events"], Json::array({1, 3}));
  EXPECT_EQ(json["commit_latency"]["count"], 3);
  EXPECT_EQ(json["commit_latency"]["max_ns"], 50);
  EXPECT_EQ(json["folder"], "failures/two_phase_x-42");
}

TEST_F(FailureFolderTest, MarksTheTraceLineThatUsesTheEngineIdOfTheTransaction) {
  harness::RunResult result = FailingResult();
  model::HistoryEvent write = Event(150, 0, model::EventKind::kWrite, "t9", "kv1");
  write.key = "k1";
  write.value = "t9.1";
  result.history.events = {write, Event(200, 0, model::EventKind::kRmCommitted, "t9", "kv1")};
  result.violations = {{"agreement", "t9", "kv1 committed t9, the client saw it abort", {1}}};
  SetTrace(&result,
           "100 h0 tx.create tx=abc123\n"
           "150 h0 rm.write rm=kv1 uow=abc123 key=k1 value=t9.1\n"
           "200 h0 rm.committed rm=kv1 uow=def456\n"
           "200 h0 rm.notify rm=kv1 uow=abc123 n=COMMIT\n"
           "200 h0 rm.committed rm=kv1 uow=abc123\n");
  result.names.tx_by_uow = {{"abc123", "t9"}, {"def456", "t8"}};  // the run's name map
  const std::string trace = reports::FailureTraceText(FailingScenario(), result);
  EXPECT_TRUE(absl::StrContains(trace, ">> 200 h0 rm.committed rm=kv1 uow=abc123    <-- V1 agreement"))
      << trace;
  EXPECT_TRUE(absl::StrContains(trace, "   200 h0 rm.committed rm=kv1 uow=def456\n")) << trace;
  EXPECT_TRUE(absl::StrContains(trace, "   200 h0 rm.notify rm=kv1 uow=abc123 n=COMMIT\n")) << trace;
  EXPECT_FALSE(absl::StrContains(trace, "(no trace line)")) << trace;
}

TEST_F(FailureFolderTest, NamesAreSafeAndMatchTheSummary) {
  EXPECT_EQ(reports::FailureFolderName("a/b c", 7), "failures/a_b_c-7");
  EXPECT_EQ(reports::FailureFolderName("..", 1), "failures/_..-1");
  EXPECT_EQ(reports::FailureFolderName("soak", 18446744073709551615ull),
            "failures/soak-18446744073709551615");
  absl::StatusOr<Json> summary =
      reports::BuildSummary({{"a/b c", "x.toml"}}, {Record("a/b c", 7, false)});
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ((*summary)["scenarios"][0]["failures"][0]["folder"], "failures/a_b_c-7");
}

// ---- the binary: bad input ------------------------------------------------------

using CliTest = TempDirTest;

TEST_F(CliTest, HelpIsPerSubcommand) {
  CommandResult run_help = Ktmsim("run --help");
  EXPECT_EQ(run_help.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(run_help.out, "--seeds")) << run_help.out;
  EXPECT_TRUE(absl::StrContains(run_help.out, "--shard")) << run_help.out;
  EXPECT_FALSE(absl::StrContains(run_help.out, "--schedule")) << run_help.out;
  CommandResult replay_help = Ktmsim("help replay");
  EXPECT_EQ(replay_help.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(replay_help.out, "--schedule")) << replay_help.out;
  EXPECT_FALSE(absl::StrContains(replay_help.out, "--jobs")) << replay_help.out;
  CommandResult general = Ktmsim("help");
  EXPECT_EQ(general.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(general.out, "merge")) << general.out;
  EXPECT_EQ(Ktmsim("").exit_code, 2);
  EXPECT_EQ(Ktmsim("frobnicate").exit_code, 2);
}

TEST_F(CliTest, BadSeedsShardJobsAndFlagsExitTwoAndWriteNothing) {
  const std::string out = Path("out");
  for (const std::string flags :
       {"--seeds 0", "--seeds 5-3", "--seeds abc", "--seeds 1-", "--seeds -4", "--seeds 1-2-3",
        "--shard 0/2", "--shard 3/2", "--shard 1/0", "--shard x", "--shard 1/2/3", "--jobs 0",
        "--jobs many", "--bogus 1", "--seed 3", "--seeds"}) {
    CommandResult result = Ktmsim(absl::StrCat("run scenarios/single_rm.toml --out ", out, " ", flags));
    EXPECT_EQ(result.exit_code, 2) << flags << "\n" << result.err;
    EXPECT_FALSE(result.err.empty()) << flags;
    EXPECT_EQ(ListDir(dir_).size(), static_cast<size_t>(commands_) * 2) << flags;  // only captures
  }
  EXPECT_FALSE(fs::exists(out));
}

TEST_F(CliTest, MalformedScenariosExitTwoWithEveryErrorAndNoOutput) {
  fs::create_directory(Path("bad"));
  WriteText(Path("bad/a_syntax.toml"), "[[hosts]]\nname = \"node1\"\n[workload]\ntransactions =\n");
  WriteText(Path("bad/b_unknown_key.toml"),
            "[[hosts]]\nname = \"node1\"\n[[rms]]\nname = \"kv1\"\nhost = \"node1\"\n"
            "[workload]\ntransactionz = 5\n");
  const std::string out = Path("out");
  CommandResult result = Ktmsim(absl::StrCat("run ", Path("bad"), " scenarios --seeds 3 --out ", out));
  EXPECT_EQ(result.exit_code, 2) << result.err;
  for (const char* file : {"a_syntax.toml:", "b_unknown_key.toml:"}) {
    bool found = false;
    for (absl::string_view line : absl::StrSplit(result.err, '\n')) {
      // "<path>/<file>:<line>:<col>: message"
      const size_t at = line.find(file);
      if (at == absl::string_view::npos) continue;
      std::vector<std::string> parts = absl::StrSplit(line.substr(at), absl::MaxSplits(':', 3));
      found = parts.size() == 4 && !parts[1].empty() &&
              std::all_of(parts[1].begin(), parts[1].end(), ::isdigit) && !parts[2].empty() &&
              std::all_of(parts[2].begin(), parts[2].end(), ::isdigit);
      if (found) break;
    }
    EXPECT_TRUE(found) << file << " in:\n" << result.err;
  }
  EXPECT_TRUE(result.out.empty()) << result.out;
  EXPECT_FALSE(fs::exists(out));
  for (const std::string& name : ListDir(dir_)) EXPECT_FALSE(absl::StartsWith(name, "out")) << name;
}

TEST_F(CliTest, MissingPathsAndBadReplayArgumentsExitTwo) {
  EXPECT_EQ(Ktmsim(absl::StrCat("run ", Path("nowhere"), " --out ", Path("out"))).exit_code, 2);
  EXPECT_FALSE(fs::exists(Path("out")));
  EXPECT_EQ(Ktmsim("replay scenarios/single_rm.toml").exit_code, 2);  // no --seed
  EXPECT_EQ(Ktmsim("replay --seed 1").exit_code, 2);                  // no scenario
  EXPECT_EQ(Ktmsim("replay scenarios --seed 1").exit_code, 2);        // a directory
  WriteText(Path("bad_schedule.txt"), "# comment\n0 crsh host=node1\n");
  CommandResult bad_schedule = Ktmsim(
      absl::StrCat("replay scenarios/single_rm.toml --seed 1 --schedule ", Path("bad_schedule.txt")));
  EXPECT_EQ(bad_schedule.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(bad_schedule.err, Path("bad_schedule.txt") + ":2:"))
      << bad_schedule.err;
}

TEST_F(CliTest, MergeRejectsMissingCorruptAndOverlappingInputs) {
  EXPECT_EQ(Ktmsim(absl::StrCat("merge ", Path("none"), " --out ", Path("m"))).exit_code, 2);
  fs::create_directory(Path("corrupt"));
  WriteText(Path("corrupt/summary.json"), "{\"schema\": \"ktmsim-summary\", \"version\": 1");
  EXPECT_EQ(Ktmsim(absl::StrCat("merge ", Path("corrupt"), " --out ", Path("m"))).exit_code, 2);
  // Two copies of one report: every seed twice.
  fs::create_directory(Path("a"));
  absl::StatusOr<Json> summary =
      reports::BuildSummary({{"single", "x.toml"}}, {Record("single", 1, true)});
  ASSERT_TRUE(summary.ok());
  WriteText(Path("a/summary.json"), reports::SummaryText(*summary));
  CommandResult overlap = Ktmsim(absl::StrCat("merge ", Path("a"), " ", Path("a"), " --out ", Path("m")));
  EXPECT_EQ(overlap.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(overlap.err, "more than one summary")) << overlap.err;
  // A failure whose folder is missing.
  absl::StatusOr<Json> failing =
      reports::BuildSummary({{"single", "x.toml"}}, {Record("single", 2, false)});
  ASSERT_TRUE(failing.ok());
  fs::create_directory(Path("b"));
  WriteText(Path("b/summary.json"), reports::SummaryText(*failing));
  CommandResult missing = Ktmsim(absl::StrCat("merge ", Path("b"), " --out ", Path("m")));
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(missing.err, "missing failure folder")) << missing.err;
  EXPECT_EQ(Ktmsim(absl::StrCat("merge ", Path("a"))).exit_code, 2);  // no --out
  EXPECT_FALSE(fs::exists(Path("m")));
  // A good input merges alone.
  CommandResult alone = Ktmsim(absl::StrCat("merge ", Path("a"), " --out ", Path("m")));
  EXPECT_EQ(alone.exit_code, 0) << alone.err;
  EXPECT_EQ(ReadAll(Path("m/summary.json")), reports::SummaryText(*summary));
}

// ---- the binary: runs (need the harness runner) ----------------------------------

// A scenario that fails on every seed: it expects an atomicity violation, and
// with no faults a correct engine produces none.
constexpr char kExpectFailScenario[] =
    "description = \"expects a violation that a fault-free run cannot produce\"\n"
    "[[hosts]]\nname = \"node1\"\n"
    "[[rms]]\nname = \"kv1\"\nhost = \"node1\"\n"
    "[workload]\ntransactions = 5\n"
    "[faults]\nmode = \"none\"\n"
    "[expect]\nverdict = \"fail\"\nrule = \"atomicity\"\n";

TEST_F(CliTest, ReportDoesNotDependOnJobs) {
  const std::string one = Path("jobs1"), two = Path("jobs2");
  CommandResult first = Ktmsim(absl::StrCat("run scenarios --seeds 1-12 --quiet --jobs 1 --out ", one));
  CommandResult second = Ktmsim(absl::StrCat("run scenarios --seeds 1-12 --quiet --jobs 2 --out ", two));
  ASSERT_NE(first.exit_code, 2) << first.err;
  EXPECT_EQ(first.exit_code, second.exit_code);
  EXPECT_EQ(first.out, absl::StrReplaceAll(second.out, {{two, one}}));
  const std::string summary = ReadAll(one + "/summary.json");
  ASSERT_FALSE(summary.empty());
  EXPECT_EQ(summary, ReadAll(two + "/summary.json"));
  EXPECT_EQ(ReadAll(one + "/junit.xml"), ReadAll(two + "/junit.xml"));
  EXPECT_EQ(ListDir(one + "/failures"), ListDir(two + "/failures"));
  EXPECT_TRUE(TemporaryFilesUnder(dir_).empty());
  for (const std::string& name : ListDir(dir_)) EXPECT_FALSE(absl::StrContains(name, ".tmp-")) << name;
}

// run and merge write exactly the report files of the catalog
// (reports/report_files.h), and every one of them is in the commit order.
TEST_F(CliTest, RunAndMergeWriteTheReportFileCatalog) {
  fs::create_directory(Path("suite"));
  WriteText(Path("suite/expect_fail.toml"), kExpectFailScenario);
  std::vector<std::string> expected = reports::CommitOrder();
  EXPECT_EQ(expected.size(), reports::ReportFiles().size() + 2);  // + failures/ and shrink.json
  // Nothing here is shrunk (the run meets no rule to keep failing), so no
  // shrink.json (MergeRecomputesTheShrinkFiguresOfTheShards has one).
  std::erase(expected, std::string(reports::kShrinkFile));
  std::sort(expected.begin(), expected.end());
  CommandResult run = Ktmsim(absl::StrCat("run ", Path("suite"), " --seeds 1 --quiet --out ", Path("out")));
  ASSERT_EQ(run.exit_code, 1) << run.err;
  EXPECT_EQ(ListDir(Path("out")), expected);
  CommandResult merge = Ktmsim(absl::StrCat("merge ", Path("out"), " --out ", Path("merged")));
  ASSERT_EQ(merge.exit_code, 1) << merge.err;
  EXPECT_EQ(ListDir(Path("merged")), expected);
  for (const reports::ReportFile& file : reports::ReportFiles()) {
    EXPECT_EQ(ReadAll(Path("out/") + file.name), ReadAll(Path("merged/") + file.name)) << file.name;
  }
}

// shrink.json keeps one record per shrunk failure, so merging shards gives
// the unsharded figures byte for byte (a median does not merge, its inputs do).
TEST_F(CliTest, MergeRecomputesTheShrinkFiguresOfTheShards) {
  const std::string common = "run scenarios/two_phase_3rms.toml --seeds 4 --planted-bug 4 --quiet";
  ASSERT_EQ(Ktmsim(absl::StrCat(common, " --out ", Path("all"))).exit_code, 1);
  ASSERT_EQ(Ktmsim(absl::StrCat(common, " --shard 1/2 --out ", Path("s1"))).exit_code, 1);
  ASSERT_EQ(Ktmsim(absl::StrCat(common, " --shard 2/2 --out ", Path("s2"))).exit_code, 1);
  CommandResult merge = Ktmsim(absl::StrCat("merge ", Path("s1"), " ", Path("s2"), " --out ", Path("merged")));
  ASSERT_EQ(merge.exit_code, 1) << merge.err;
  const std::string all = ReadAll(Path("all/shrink.json"));
  EXPECT_EQ(ReadAll(Path("merged/shrink.json")), all);
  const Json figures = Json::parse(all);
  EXPECT_GE(figures["failures"].size(), 2u) << all;
  EXPECT_LT(Json::parse(ReadAll(Path("s1/shrink.json")))["failures"].size(), figures["failures"].size());
  EXPECT_EQ(figures["total"]["shrunk"], figures["failures"].size());
  // The kind of event is re-checked on the minimal run (it needs its history).
  EXPECT_EQ(figures["total"]["same_kind"], figures["total"]["shrunk"]) << all;
}

// A report re-written into the same directory is the new run's alone: a
// shrink.json of an earlier run that shrank is removed when this one did not.
TEST_F(CliTest, ARunIntoAnExistingReportReplacesEveryFileAndDropsAStaleShrinkFile) {
  const std::string out = Path("out");
  ASSERT_EQ(Ktmsim("run scenarios/two_phase_3rms.toml --seeds 2 --planted-bug 4 --quiet --out " + out).exit_code, 1);
  ASSERT_TRUE(fs::exists(out + "/shrink.json"));
  CommandResult again = Ktmsim("run scenarios/two_phase_3rms.toml --seeds 2 --planted-bug 4 --quiet --out " + out);
  ASSERT_EQ(again.exit_code, 1) << again.err;
  ASSERT_TRUE(fs::exists(out + "/shrink.json"));
  CommandResult clean = Ktmsim("run scenarios/two_phase_3rms.toml --seeds 2 --quiet --out " + out);
  ASSERT_EQ(clean.exit_code, 0) << clean.err;
  EXPECT_FALSE(fs::exists(out + "/shrink.json"));
  for (const std::string& name : ListDir(Path(""))) EXPECT_EQ(name.find(".tmp-"), std::string::npos) << name;
}

TEST_F(CliTest, ReplayPrintsTheDigestRecordedByRun) {
  const std::string out = Path("out");
  CommandResult run = Ktmsim(absl::StrCat("run scenarios --seeds 5 --quiet --out ", out));
  ASSERT_NE(run.exit_code, 2) << run.err;
  absl::StatusOr<Json> summary = reports::ParseSummary(ReadAll(out + "/summary.json"));
  ASSERT_TRUE(summary.ok()) << summary.status();
  int replays = 0;
  for (const Json& scenario : (*summary)["scenarios"]) {
    for (const Json& entry : scenario["runs"]) {
      if (entry[0].get<uint64_t>() % 2 == 0) continue;  // seeds 1, 3, 5 of each scenario
      CommandResult replay = Ktmsim(absl::StrCat("replay ", scenario["file"].get<std::string>(),
                                                 " --seed ", entry[0].get<uint64_t>()));
      EXPECT_EQ(replay.exit_code, entry[2].get<bool>() ? 0 : 1) << replay.out << replay.err;
      EXPECT_TRUE(absl::StartsWith(replay.out, absl::StrCat("digest ", entry[1].get<std::string>(), "\n")))
          << scenario["name"] << " seed " << entry[0] << ":\n" << replay.out;
      ++replays;
    }
  }
  EXPECT_GE(replays, 3);
}

TEST_F(CliTest, ShardsRunThroughGnuParallelMergeIntoTheUnshardedReport) {
  if (!HaveProgram("parallel")) GTEST_SKIP() << "GNU parallel not installed";
  const std::string whole = Path("whole");
  CommandResult unsharded = Ktmsim(absl::StrCat("run scenarios --seeds 1-9 --quiet --out ", whole));
  ASSERT_NE(unsharded.exit_code, 2) << unsharded.err;
  const std::string binary = ShellQuote(KTMSIM_BINARY);
  CommandResult sharded = Shell(absl::StrCat(
      "parallel --will-cite --halt never ::: ",
      ShellQuote(absl::StrCat(binary, " run scenarios --seeds 1-9 --quiet --shard 1/2 --out ", Path("A"))), " ",
      ShellQuote(absl::StrCat(binary, " run scenarios --seeds 1-9 --quiet --shard 2/2 --out ", Path("B")))));
  ASSERT_TRUE(fs::exists(Path("A/summary.json"))) << sharded.err;
  ASSERT_TRUE(fs::exists(Path("B/summary.json"))) << sharded.err;
  EXPECT_NE(ReadAll(Path("A/summary.json")), ReadAll(whole + "/summary.json"));
  CommandResult merge = Ktmsim(absl::StrCat("merge ", Path("A"), " ", Path("B"), " --out ", Path("M")));
  EXPECT_EQ(merge.exit_code, unsharded.exit_code) << merge.err;
  EXPECT_EQ(ReadAll(Path("M/summary.json")), ReadAll(whole + "/summary.json"));
  EXPECT_EQ(ReadAll(Path("M/junit.xml")), ReadAll(whole + "/junit.xml"));
  EXPECT_EQ(ListDir(Path("M/failures")), ListDir(whole + "/failures"));
}

TEST_F(CliTest, FailedRunsGetFailureFoldersThatReplay) {
  fs::create_directory(Path("suite"));
  WriteText(Path("suite/expect_fail.toml"), kExpectFailScenario);
  const std::string out = Path("out");
  CommandResult run = Ktmsim(absl::StrCat("run ", Path("suite"), " --seeds 3 --jobs 2 --out ", out));
  ASSERT_EQ(run.exit_code, 1) << run.out << run.err;
  EXPECT_EQ(LastLine(run.out),
            absl::StrCat("reports: ", out, "/summary.json (and junit.xml, 3 failure folders)"));
  EXPECT_EQ(ListDir(out + "/failures"),
            (std::vector<std::string>{"expect_fail-1", "expect_fail-2", "expect_fail-3"}));
  absl::StatusOr<Json> summary = reports::ParseSummary(ReadAll(out + "/summary.json"));
  ASSERT_TRUE(summary.ok()) << summary.status();
  const Json& failure = (*summary)["scenarios"][0]["failures"][1];
  EXPECT_EQ(failure["expected"], "fail:atomicity");
  const std::string folder = out + "/" + failure["folder"].get<std::string>();
  // No violation to keep failing: nothing to shrink, so no shrunk/.
  EXPECT_EQ(ListDir(folder), FailureFolderFiles());
  EXPECT_EQ(Json::parse(ReadAll(folder + "/result.json"))["shrink"]["ok"], false);
  const std::string trace = ReadAll(folder + "/trace.txt");
  EXPECT_TRUE(absl::StrContains(trace, "no violation was found, but the scenario expects fail:atomicity"))
      << trace.substr(0, 2000);
  EXPECT_TRUE(absl::StrContains(trace, "\ntrace (")) << trace.substr(0, 2000);
  EXPECT_FALSE(absl::StrContains(trace, "(no trace kept")) << trace.substr(0, 2000);
  // replay.sh, from anywhere, reproduces the recorded digest.
  CommandResult replay = Shell(absl::StrCat("cd / && ", ShellQuote(folder + "/replay.sh")));
  EXPECT_EQ(replay.exit_code, 1) << replay.err;
  EXPECT_TRUE(absl::StartsWith(replay.out, absl::StrCat("digest ", failure["digest"].get<std::string>(), "\n")))
      << replay.out;
  // A second run into the same directory replaces the report, keeps other files.
  WriteText(out + "/notes.txt", "mine");
  CommandResult again = Ktmsim(absl::StrCat("run ", Path("suite"), " --seeds 1 --quiet --out ", out));
  EXPECT_EQ(again.exit_code, 1) << again.err;
  EXPECT_EQ(ListDir(out), (std::vector<std::string>{"coverage.json", "failures", "index.html", "junit.xml",
                                                   "notes.txt", "summary.json"}));
  EXPECT_EQ(ListDir(out + "/failures"), std::vector<std::string>{"expect_fail-1"});
  EXPECT_TRUE(TemporaryFilesUnder(dir_).empty());
  // Merge copies failure folders.
  CommandResult merge = Ktmsim(absl::StrCat("merge ", out, " --out ", Path("merged")));
  EXPECT_EQ(merge.exit_code, 1) << merge.err;
  EXPECT_EQ(ReadAll(Path("merged/failures/expect_fail-1/trace.txt")),
            ReadAll(out + "/failures/expect_fail-1/trace.txt"));
  // ... and writes an index.html of the merged report that links them.
  EXPECT_TRUE(absl::StrContains(ReadAll(Path("merged/index.html")),
                                "href=\"failures/expect_fail-1/trace.svg\""));
}

TEST_F(CliTest, FolderLimitGivesTheSameFoldersShardedAndWhole) {
  fs::create_directory(Path("suite"));
  WriteText(Path("suite/expect_fail.toml"), kExpectFailScenario);
  const std::string common = absl::StrCat("run ", Path("suite"), " --seeds 6 --quiet --failure_folders_max 2");
  CommandResult whole = Ktmsim(absl::StrCat(common, " --out ", Path("whole")));
  ASSERT_EQ(whole.exit_code, 1) << whole.err;
  EXPECT_EQ(LastLine(whole.out),
            absl::StrCat("reports: ", Path("whole"), "/summary.json (and junit.xml, 2 failure folders)"));
  EXPECT_EQ(ListDir(Path("whole/failures")),
            (std::vector<std::string>{"expect_fail-1", "expect_fail-2"}));
  for (const char* shard : {"1/3", "2/3", "3/3"}) {
    CommandResult part = Ktmsim(absl::StrCat(common, " --shard ", shard, " --out ", Path(absl::StrCat("part", std::string(1, shard[0])))));
    EXPECT_EQ(part.exit_code, 1) << part.err;
  }
  CommandResult merge = Ktmsim(absl::StrCat("merge ", Path("part1"), " ", Path("part2"), " ",
                                            Path("part3"), " --out ", Path("merged")));
  EXPECT_EQ(merge.exit_code, 1) << merge.err;
  EXPECT_EQ(ReadAll(Path("merged/summary.json")), ReadAll(Path("whole/summary.json")));
  EXPECT_EQ(ListDir(Path("merged/failures")), ListDir(Path("whole/failures")));
  EXPECT_EQ(ReadAll(Path("merged/failures/expect_fail-2/result.json")),
            ReadAll(Path("whole/failures/expect_fail-2/result.json")));
}

#endif  // KTMSIM_CLI_SUITE_ONLY

// ---- the whole suite ----------------------------------------------------------

using CliSuiteTest = TempDirTest;

#ifdef KTMSIM_CLI_SUITE_ONLY
TEST_F(CliSuiteTest, EveryScenarioPassesTwoHundredSeeds) {
  const std::string out = Path("out");
  CommandResult run = Ktmsim(absl::StrCat("run scenarios --seeds 200 --quiet --out ", out));
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  absl::StatusOr<Json> summary = reports::ParseSummary(ReadAll(out + "/summary.json"));
  ASSERT_TRUE(summary.ok()) << summary.status();
  const Json& totals = (*summary)["totals"];
  EXPECT_GT(totals["scenarios"].get<uint64_t>(), 0u);
  EXPECT_EQ(totals["runs"].get<uint64_t>(), 200 * totals["scenarios"].get<uint64_t>());
  EXPECT_EQ(totals["failed"], 0) << reports::SummaryText(*summary).substr(0, 4000);
  EXPECT_EQ(LastLine(run.out),
            absl::StrCat("reports: ", out, "/summary.json (and junit.xml, 0 failure folders)"));
}
#endif  // KTMSIM_CLI_SUITE_ONLY

}  // namespace
