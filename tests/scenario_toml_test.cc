// scenario_toml_test: the scenario file format (harness/scenario_toml.h) and
// Validate() (harness/scenario.h).
//
// - Every tests/data/bad_*.toml fails to load with exactly the expected
//   problems: one "file:line:col: message" line each, in order.
// - Every scenarios/*.toml loads, validates and is small enough for the suite.
// - Defaults, time-unit conversion, latency kinds, schedules, and the README:
//   its full example loads, and it documents every key the loader reads.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "harness/scenario.h"
#include "harness/scenario_toml.h"
#include "harness/scenario_toml_prescan.h"
#include "harness/scenario_toml_writer.h"
#include "harness/schedule_validation.h"

namespace harness {
namespace {

using ::testing::HasSubstr;

const std::string kSourceDir = KTMSIM_SOURCE_DIR;

std::string DataPath(const std::string& name) { return kSourceDir + "/tests/data/" + name; }

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A scenario with one host and one RM: the smallest valid file.
const char* const kMinimal = R"(
[[hosts]]
name = "node1"

[[rms]]
name = "kv1"
host = "node1"
)";

Scenario MinimalScenario() {
  Scenario scenario;
  scenario.hosts.push_back({.name = "node1"});
  RmSpec rm;
  rm.name = "kv1";
  rm.host = "node1";
  scenario.rms.push_back(rm);
  return scenario;
}

// ---------------------------------------------------------------------------
// Malformed files: exact positions and messages.

struct ExpectedProblem {
  int line;
  int column;
  std::string text;       // a substring of the message after "file:line:col: "
  std::string file = "";  // "" : the scenario file itself (else a tests/data file)
};

struct BadFile {
  std::string name;
  std::vector<ExpectedProblem> problems;
};

std::ostream& operator<<(std::ostream& out, const BadFile& bad) { return out << bad.name; }

const std::vector<BadFile>& BadFiles() {
  static const std::vector<BadFile>* const kFiles = new std::vector<BadFile>{
      {"bad_syntax.toml", {{6, 15, "expected value"}}},
      {"bad_unknown_top_key.toml",
       {{2, 1, "colour: unknown key"}, {11, 2, "workloads: unknown key; did you mean 'workload'?"}}},
      {"bad_unknown_nested_key.toml",
       {{8, 60, "rms[0].disk.write_latency.jitter_us: unknown key"},
        {12, 1, "workload.opz_max: unknown key; did you mean 'ops_max'?"}}},
      {"bad_wrong_type.toml",
       {{4, 15, "hosts[0].tm_volatile: expected a boolean, got a string"},
        {11, 16, "workload.transactions: expected an integer, got a string"},
        {12, 17, "workload.read_fraction: expected a number, got a boolean"},
        {13, 8, "workload.keys: expected an integer, got a float"}}},
      {"bad_probability_range.toml",
       {{8, 23, "rms[0].vote_no_probability: must be in [0, 1], got 1.5"},
        {11, 20, "network.loss_probability: must be in [0, 1], got -0.1"}}},
      {"bad_negative_count.toml",
       {{10, 8, "workload.keys: must not be negative, got -3"},
        {11, 15, "workload.concurrency: must be at most 4294967295, got 5000000000"},
        {12, 16, "workload.transactions: must be in [1, 1000000], got 0"}}},
      {"bad_page_faults.toml",
       {{11, 15, "workload.value_bytes: must be <= 2048 with a txr RM (\"reg\": registry values are at most 2048 "
                 "bytes), got 3000"},
        {15, 26, "faults.page_latent_per_second: 'page_latent' is a beyond-recoverable fault"},
        {16, 24, "faults.page_torn_per_second: must be in [0, 1e+06], got -1"}}},
      {"bad_ops_range.toml",
       {{10, 11, "workload.ops_min: must be <= ops_max (2), got 5"},
        {12, 18, "workload.rms_per_tx_min: must be in [1, 256], got 0"}}},
      {"bad_unknown_host.toml", {{7, 8, "rms[0].host: unknown host \"nod1\"; did you mean \"node1\"?"}}},
      {"bad_duplicate_names.toml",
       {{6, 8, "hosts[1].name: duplicate host name \"node1\""},
        {13, 8, "rms[1].name: duplicate RM name \"kv1\""}}},
      {"bad_latency_kind.toml",
       {{10, 20,
         "network.latency.kind: unknown value \"gaussian\"; expected \"fixed\", \"uniform\" or "
         "\"exponential\""},
        {13, 50,
         "hosts[0].log_disk.flush_latency.mean_us: not used by kind \"uniform\" (it takes min_<unit>, "
         "max_<unit>)"},
        {14, 17, "hosts[0].log_disk.write_latency.mean_<unit>: required by kind \"exponential\""}}},
      {"bad_fault_mode.toml",
       {{10, 8,
         "faults.mode: unknown value \"chaos\"; expected \"none\", \"probabilities\", \"swarm\" or "
         "\"schedule\""}}},
      {"bad_schedule_parse.toml", {{14, 1, "faults.schedule: unknown fault kind 'crsh'"}}},
      {"bad_schedule_file_missing.toml",
       {{11, 17, "faults.schedule_file: cannot open \"" + DataPath("no_such_schedule.txt") +
                     "\": No such file or directory"}}},
      {"bad_schedule_file_parse.toml",
       {{3, 1, "fault schedule: missing key 'host'", "bad_schedule_file_parse.txt"}}},
      {"bad_schedule_host.toml",
       {{11, 12, "faults.schedule: names host 3, but the scenario has 1 host(s), numbered from 0"}}},
      {"bad_schedule_events.toml",
       {{13, 1, "faults.schedule: no disk 5 on host 0 (\"node1\" has 2 disk(s)"},
        {14, 1, "faults.schedule: no sector 4096 on disk 1 of host 0 (4096 sectors, numbered from 0)"},
        {15, 1, "faults.schedule: delay must be at most 60000000000 (60s), got 9223372036854775807"},
        {16, 1, "faults.schedule: time must be at most 3600000000000 (3600s, the longest run), got "
                "9223372036854775807"},
        {17, 1, "faults.schedule: host 0 is in two partition groups"}}},
      {"bad_schedule_budget.toml",
       {{13, 1, "faults.schedule: a corrupted sector is a beyond-recoverable fault (a log has no second "
                "copy): needs budget \"beyond\""},
        {14, 1, "faults.schedule: a latent sector error is a beyond-recoverable fault"}}},
      {"bad_schedule_file_events.toml",
       {{3, 1, "fault schedule: a latent sector error is a beyond-recoverable fault",
         "bad_schedule_file_events.txt"},
        {3, 1, "fault schedule: no disk 0 on host 0 (\"node1\" has 0 disk(s)", "bad_schedule_file_events.txt"},
        {4, 1, "fault schedule: names host 1, but the scenario has 1 host(s)", "bad_schedule_file_events.txt"}}},
      {"bad_engine_limits.toml",
       {{7, 15, "hosts[0].log_disk.sector_size: must be at least 128 for a durable TM"},
        {25, 27, "faults.latent_error_per_second: latent sector errors under a log are a "
                 "beyond-recoverable fault: needs budget \"beyond\""}}},
      {"bad_checker_name.toml",
       {{10, 21, "checkers.run[1]: unknown value \"atomicty\"; expected \"atomicity\", \"agreement\", "
                 "\"validity\", \"durability\", \"isolation\", \"termination\" or \"conformance\"; did you mean \"atomicity\"?"},
        {10, 47, "checkers.run[3]: \"durability\" is listed twice"},
        {10, 61, "checkers.run[4]: expected a string, got an integer"}}},
      {"bad_durable_on_volatile.toml",
       {{6, 1, "rms[0].durable: durable RM \"kv1\" on host \"node1\", whose TM is volatile"},
        {13, 11, "rms[1].durable: durable RM \"kv2\" on host \"node1\", whose TM is volatile"}}},
      {"bad_expect_verdict.toml",
       {{10, 11, "expect.verdict: unknown value \"maybe\"; expected \"pass\" or \"fail\""}}},
      {"bad_expect_rule.toml",
       {{11, 8, "expect.rule: unknown value \"atomicty\"; expected \"atomicity\""}}},
      {"bad_fractions_sum.toml",
       {{10, 19,
         "workload.commit_fraction: commit_fraction + rollback_fraction + read_only_fraction must be "
         "<= 1, got 0.8 + 0.2 + 0.1 = 1.1"}}},
      {"bad_enums.toml",
       {{2, 21, "schedule_strategy: unknown value \"lifo\"; expected \"fifo\", \"random\" or \"pct\"; did "
                "you mean \"fifo\"?"},
        {10, 8, "rms[0].kind: unknown value \"kvv\"; expected \"kv\", \"txf\" or \"txr\"; did you mean \"kv\"?"},
        {14, 12, "faults.crash_on: unknown value \"abort\"; expected \"\", \"prepare\", \"commit\" or "
                 "\"log_force\""},
        {16, 10, "faults.budget: unknown value \"unlimited\"; expected \"recoverable\" or \"beyond\""}}},
      {"bad_time_keys.toml",
       {{3, 1, "run_until: a time needs a unit: write run_until_ns, run_until_us, run_until_ms or "
               "run_until_s"},
        {11, 21, "rms[0].response_delay_ns: must be a whole number of nanoseconds, got 0.5ns"},
        {15, 12, "workload.think_ms: sets the same time as 'think_us'; keep one"},
        {16, 14, "workload.timeout_ms: expected a number, got a string"}}},
      {"bad_missing_required.toml",
       {{2, 1, "hosts[0].name: required key is missing"}, {5, 1, "rms[0].host: required key is missing"}}},
      {"bad_no_hosts.toml",
       {{1, 1, "hosts: at least one host is required"},
        {1, 1, "rms: at least one resource manager is required"}}},
      {"bad_probabilities_wrong_mode.toml",
       {{12, 20, "faults.crash_per_second: only used with mode \"probabilities\" (mode \"swarm\" draws"},
        {13, 24, "faults.restart_delay_max_ms: only used with mode \"probabilities\""},
        {14, 12, "faults.schedule: a schedule is only used with mode \"schedule\""}}},
      {"bad_run_times.toml",
       {{3, 16, "run_until_ms: must be >= faults_until + termination_bound (600ms), got 500ms"},
        {15, 22, "faults.corrupt_per_second: corrupting flushed sectors is a beyond-recoverable fault: "
                 "needs budget \"beyond\""},
        {16, 24, "faults.restart_delay_min_ms: must be <= restart_delay_max (10ms), got 30ms"}}},
      {"bad_disk.toml",
       {{7, 15, "hosts[0].log_disk.sector_size: must be a power of two in [64, 65536], got 500"},
        {8, 16, "hosts[0].log_disk.sector_count: must be in [8, 16777216], got 4"},
        {9, 17, "hosts[0].log_disk.flush_latency: min (5ms) must be <= max (1ms)"}}},
      {"bad_not_tables.toml",
       {{3, 30, "hosts[1]: expected a table, got a string"},
        {4, 47, "rms[0].disk: expected a table, got an integer"},
        {5, 12, "workload: expected a table, got an integer"},
        {6, 20, "checkers.run: expected an array, got a string"}}},
  };
  return *kFiles;
}

class ScenarioBadFileTest : public ::testing::TestWithParam<BadFile> {};

TEST_P(ScenarioBadFileTest, ReportsExactlyTheExpectedProblems) {
  const BadFile& bad = GetParam();
  const std::string path = DataPath(bad.name);
  const absl::StatusOr<Scenario> scenario = LoadScenarioFile(path);
  ASSERT_FALSE(scenario.ok()) << bad.name << " loaded";
  EXPECT_EQ(scenario.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string message(scenario.status().message());
  const std::vector<std::string> lines = absl::StrSplit(message, '\n');
  ASSERT_EQ(lines.size(), bad.problems.size()) << message;
  for (size_t i = 0; i < lines.size(); ++i) {
    const ExpectedProblem& expected = bad.problems[i];
    const std::string file = expected.file.empty() ? path : DataPath(expected.file);
    const std::string prefix = absl::StrCat(file, ":", expected.line, ":", expected.column, ": ");
    EXPECT_TRUE(absl::StartsWith(lines[i], prefix)) << "line " << i << ": " << lines[i] << "\nexpected "
                                                    << prefix;
    EXPECT_THAT(lines[i], HasSubstr(": " + expected.text)) << "line " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(AllBadFiles, ScenarioBadFileTest, ::testing::ValuesIn(BadFiles()),
                         [](const ::testing::TestParamInfo<BadFile>& info) {
                           std::string name = info.param.name.substr(0, info.param.name.find('.'));
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST(ScenarioBadFiles, EveryBadFileInTestDataHasExpectations) {
  std::set<std::string> listed;
  for (const BadFile& bad : BadFiles()) listed.insert(bad.name);
  size_t on_disk = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kSourceDir + "/tests/data")) {
    const std::string name = entry.path().filename().string();
    if (!absl::StartsWith(name, "bad_") || entry.path().extension() != ".toml") continue;
    ++on_disk;
    EXPECT_EQ(listed.count(name), 1u) << name << " has no expected problems in this test";
  }
  EXPECT_EQ(on_disk, listed.size());
  EXPECT_GE(on_disk, 18u);
}

TEST(ScenarioBadFiles, ScheduleHostProblemNamesTheHost) {
  const absl::StatusOr<Scenario> scenario = LoadScenarioFile(DataPath("bad_schedule_host.toml"));
  ASSERT_FALSE(scenario.ok());
  EXPECT_THAT(std::string(scenario.status().message()),
              HasSubstr("names host 3, but the scenario has 1 host(s), numbered from 0"));
}

TEST(ScenarioLoadFile, MissingFileIsReportedAtLineOneColumnOne) {
  const std::string path = DataPath("does_not_exist.toml");
  const absl::StatusOr<Scenario> scenario = LoadScenarioFile(path);
  ASSERT_FALSE(scenario.ok());
  EXPECT_EQ(scenario.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(scenario.status().message(), path + ":1:1: cannot open: No such file or directory");
}

TEST(ScenarioLoadFile, DirectoryIsReportedAsUnopenable) {
  const std::string path = kSourceDir + "/tests/data";
  const absl::StatusOr<Scenario> scenario = LoadScenarioFile(path);
  ASSERT_FALSE(scenario.ok());
  EXPECT_EQ(scenario.status().message(), path + ":1:1: cannot open: Is a directory");
}

TEST(ScenarioLoadString, ProblemsAreSortedByPositionAndAllReported) {
  const std::string text = std::string(kMinimal) + R"(
[workload]
ops_min = 9
ops_max = 3
keys = -1
bogus = 1
[network]
loss_probability = 2
)";
  const absl::StatusOr<Scenario> scenario = LoadScenarioString(text, "mem.toml");
  ASSERT_FALSE(scenario.ok());
  const std::vector<std::string> lines = absl::StrSplit(scenario.status().message(), '\n');
  ASSERT_EQ(lines.size(), 4u) << scenario.status().message();
  EXPECT_THAT(lines[0], HasSubstr("mem.toml:10:11: workload.ops_min: must be <= ops_max (3), got 9"));
  EXPECT_THAT(lines[1], HasSubstr("mem.toml:12:8: workload.keys: must not be negative"));
  EXPECT_THAT(lines[2], HasSubstr("mem.toml:13:1: workload.bogus: unknown key"));
  EXPECT_THAT(lines[3], HasSubstr("mem.toml:15:20: network.loss_probability: must be in [0, 1], got 2"));
}

TEST(ScenarioLoadString, InlineScheduleErrorOnTheOpeningLineMapsToItsColumn) {
  const std::string text = std::string(kMinimal) +
                           "[faults]\nmode = \"schedule\"\nschedule = \"\"\"0 heal\n5 crsh host=0\"\"\"\n";
  const absl::StatusOr<Scenario> scenario = LoadScenarioString(text, "mem.toml");
  ASSERT_FALSE(scenario.ok());
  // The string opens on line 10 at column 12; schedule line 2 is file line 11.
  EXPECT_EQ(scenario.status().message(), "mem.toml:11:1: faults.schedule: unknown fault kind 'crsh'");
  const std::string first_line_bad = std::string(kMinimal) +
                                     "[faults]\nmode = \"schedule\"\nschedule = \"\"\"0 hel\n\"\"\"\n";
  const absl::StatusOr<Scenario> first = LoadScenarioString(first_line_bad, "mem.toml");
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.status().message(), "mem.toml:10:15: faults.schedule: unknown fault kind 'hel'");
}

TEST(ScenarioLoadString, ScheduleAndScheduleFileAreExclusive) {
  const std::string text = std::string(kMinimal) +
                           "[faults]\nmode = \"schedule\"\nschedule = \"0 heal\"\nschedule_file = \"x.txt\"\n";
  const absl::StatusOr<Scenario> scenario = LoadScenarioString(text, "mem.toml");
  ASSERT_FALSE(scenario.ok());
  EXPECT_EQ(scenario.status().message(),
            "mem.toml:11:17: faults.schedule_file: give either schedule or schedule_file, not both");
}

// ---------------------------------------------------------------------------
// The default suite.

std::vector<std::string> SuiteFiles() {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(kSourceDir + "/scenarios")) {
    if (entry.path().extension() == ".toml") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Found by scenario_loader_fuzz (fuzz/corpus/scenario_loader_fuzz/
// crash_multiline_value): a multi-line string where a choice was expected was
// quoted into the message as it stood, so one problem printed as three lines,
// two of them without their place. Every problem is one line.
TEST(ScenarioLoadString, AMultiLineValueIsEscapedIntoOneProblemLine) {
  const std::string text = std::string(kMinimal) + "[faults]\nmode = \"\"\"\n1 crash\n\t2 heal\n\"\"\"\n";
  const absl::StatusOr<Scenario> scenario = LoadScenarioString(text, "mem.toml");
  ASSERT_FALSE(scenario.ok());
  EXPECT_EQ(scenario.status().message(),
            "mem.toml:9:8: faults.mode: unknown value \"1 crash\\n\\t2 heal\\n\"; expected \"none\", "
            "\"probabilities\", \"swarm\" or \"schedule\"");
}

TEST(ScenarioDefaultSuite, EveryScenarioLoadsValidatesAndExpectsPass) {
  const std::vector<std::string> files = SuiteFiles();
  ASSERT_GE(files.size(), 10u);
  for (const std::string& file : files) {
    SCOPED_TRACE(file);
    const absl::StatusOr<Scenario> scenario = LoadScenarioFile(file);
    ASSERT_TRUE(scenario.ok()) << scenario.status().message();
    EXPECT_TRUE(Validate(*scenario).ok()) << Validate(*scenario).message();
    EXPECT_EQ(scenario->name, std::filesystem::path(file).stem().string());
    EXPECT_EQ(scenario->file, file);
    EXPECT_FALSE(scenario->description.empty());
    EXPECT_EQ(scenario->expect, Expect::kPass);
  }
}

// 200 seeds of the whole suite must run in well under a minute on two cores.
TEST(ScenarioDefaultSuite, EveryScenarioIsSmall) {
  for (const std::string& file : SuiteFiles()) {
    SCOPED_TRACE(file);
    const absl::StatusOr<Scenario> scenario = LoadScenarioFile(file);
    ASSERT_TRUE(scenario.ok()) << scenario.status().message();
    EXPECT_LE(scenario->workload.transactions, 300u);
    EXPECT_LE(scenario->faults.faults_until_ns, 300 * sim::kMillisecond);
    EXPECT_LE(scenario->rms.size(), 4u);
  }
}

TEST(ScenarioDefaultSuite, HasTheRequiredScenarios) {
  for (const char* name : {"single_rm", "two_phase_3rms", "read_only", "timeouts", "crash_during_prepare",
                           "crash_during_commit", "torn_log_writes", "latent_sector_errors",
                           "rm_disconnect", "soak", "swarm"}) {
    EXPECT_TRUE(std::filesystem::exists(kSourceDir + "/scenarios/" + name + ".toml")) << name;
  }
}

TEST(ScenarioDefaultSuite, ScenariosExerciseWhatTheirNamesSay) {
  auto load = [](const std::string& name) {
    absl::StatusOr<Scenario> scenario = LoadScenarioFile(kSourceDir + "/scenarios/" + name + ".toml");
    EXPECT_TRUE(scenario.ok()) << scenario.status().message();
    return scenario.value_or(Scenario{});
  };
  const Scenario single = load("single_rm");
  EXPECT_EQ(single.rms.size(), 1u);
  EXPECT_TRUE(single.rms.at(0).single_phase);
  const Scenario two_phase = load("two_phase_3rms");
  EXPECT_EQ(two_phase.rms.size(), 3u);
  for (const RmSpec& rm : two_phase.rms) EXPECT_FALSE(rm.single_phase);
  EXPECT_GE(two_phase.workload.rms_per_tx_min, 2u);
  EXPECT_GT(load("read_only").workload.read_only_fraction, 0.3);
  EXPECT_GT(load("timeouts").workload.timeout_ns, 0);
  EXPECT_EQ(load("crash_during_prepare").faults.crash_on, "prepare");
  EXPECT_EQ(load("crash_during_commit").faults.crash_on, "commit");
  const Scenario torn = load("torn_log_writes");
  EXPECT_GT(torn.faults.probabilities.crash_per_second, 0);
  EXPECT_GT(torn.faults.probabilities.unflushed_survive_probability, 0);
  EXPECT_LT(torn.faults.probabilities.unflushed_survive_probability, 1);
  EXPECT_EQ(torn.hosts.at(0).log_disk.write_latency.kind, sim::Latency::Kind::kUniform);
  EXPECT_GT(load("latent_sector_errors").faults.probabilities.latent_error_per_second, 0);
  bool disconnects = false;
  for (const RmSpec& rm : load("rm_disconnect").rms) disconnects |= rm.disconnect_probability > 0;
  EXPECT_TRUE(disconnects);
  EXPECT_GT(load("soak").workload.transactions, 2 * single.workload.transactions);
  EXPECT_EQ(load("swarm").faults.mode, FaultMode::kSwarm);
}

// ---------------------------------------------------------------------------
// Defaults and conversions.

void ExpectSameLatency(const sim::Latency& a, const sim::Latency& b, const std::string& what) {
  EXPECT_EQ(a.kind, b.kind) << what;
  EXPECT_EQ(a.min_ns, b.min_ns) << what;
  EXPECT_EQ(a.max_ns, b.max_ns) << what;
  EXPECT_EQ(a.mean_ns, b.mean_ns) << what;
}

void ExpectSameDisk(const sim::DiskOptions& a, const sim::DiskOptions& b, const std::string& what) {
  EXPECT_EQ(a.sector_size, b.sector_size) << what;
  EXPECT_EQ(a.sector_count, b.sector_count) << what;
  EXPECT_EQ(a.inflight_max, b.inflight_max) << what;
  EXPECT_EQ(a.unflushed_survive_probability, b.unflushed_survive_probability) << what;
  ExpectSameLatency(a.write_latency, b.write_latency, what + ".write_latency");
  ExpectSameLatency(a.read_latency, b.read_latency, what + ".read_latency");
  ExpectSameLatency(a.flush_latency, b.flush_latency, what + ".flush_latency");
  ExpectSameLatency(a.fua_extra_latency, b.fua_extra_latency, what + ".fua_extra_latency");
}

TEST(ScenarioDefaults, AbsentKeysKeepTheCppDefaults) {
  const absl::StatusOr<Scenario> loaded = LoadScenarioString(kMinimal, "dir/minimal_case.toml");
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  const Scenario defaults;
  const RmSpec rm_defaults;
  EXPECT_EQ(loaded->name, "minimal_case");
  EXPECT_EQ(loaded->file, "dir/minimal_case.toml");
  EXPECT_EQ(loaded->description, "");
  ASSERT_EQ(loaded->hosts.size(), 1u);
  EXPECT_FALSE(loaded->hosts[0].tm_volatile);
  ExpectSameDisk(loaded->hosts[0].log_disk, sim::DiskOptions{}, "log_disk");
  ASSERT_EQ(loaded->rms.size(), 1u);
  const RmSpec& rm = loaded->rms[0];
  EXPECT_EQ(rm.kind, rm_defaults.kind);
  EXPECT_EQ(rm.durable, rm_defaults.durable);
  EXPECT_EQ(rm.single_phase, rm_defaults.single_phase);
  EXPECT_EQ(rm.vote_no_probability, rm_defaults.vote_no_probability);
  EXPECT_EQ(rm.disconnect_probability, rm_defaults.disconnect_probability);
  EXPECT_EQ(rm.reject_single_phase_probability, rm_defaults.reject_single_phase_probability);
  EXPECT_EQ(rm.response_delay_ns, rm_defaults.response_delay_ns);
  ExpectSameDisk(rm.disk, sim::DiskOptions{}, "rm.disk");
  const WorkloadSpec& w = loaded->workload;
  const WorkloadSpec& dw = defaults.workload;
  EXPECT_EQ(w.transactions, dw.transactions);
  EXPECT_EQ(w.duration_ns, dw.duration_ns);
  EXPECT_EQ(w.arrival_per_second, dw.arrival_per_second);
  EXPECT_EQ(w.concurrency, dw.concurrency);
  EXPECT_EQ(w.ops_min, dw.ops_min);
  EXPECT_EQ(w.ops_max, dw.ops_max);
  EXPECT_EQ(w.rms_per_tx_min, dw.rms_per_tx_min);
  EXPECT_EQ(w.rms_per_tx_max, dw.rms_per_tx_max);
  EXPECT_EQ(w.keys, dw.keys);
  EXPECT_EQ(w.read_fraction, dw.read_fraction);
  EXPECT_EQ(w.commit_fraction, dw.commit_fraction);
  EXPECT_EQ(w.rollback_fraction, dw.rollback_fraction);
  EXPECT_EQ(w.read_only_fraction, dw.read_only_fraction);
  EXPECT_EQ(w.async_commit_fraction, dw.async_commit_fraction);
  EXPECT_EQ(w.timeout_ns, dw.timeout_ns);
  EXPECT_EQ(w.think_ns, dw.think_ns);
  ExpectSameLatency(loaded->network.latency, defaults.network.latency, "network.latency");
  EXPECT_EQ(loaded->network.loss_probability, defaults.network.loss_probability);
  EXPECT_EQ(loaded->network.duplicate_probability, defaults.network.duplicate_probability);
  EXPECT_EQ(loaded->network.reorder_probability, defaults.network.reorder_probability);
  EXPECT_EQ(loaded->network.reorder_delay_max_ns, defaults.network.reorder_delay_max_ns);
  EXPECT_EQ(loaded->network.inflight_max, defaults.network.inflight_max);
  const FaultSpec& f = loaded->faults;
  EXPECT_EQ(f.mode, FaultMode::kNone);
  EXPECT_EQ(f.probabilities.ToString(), sim::FaultProbabilities{}.ToString());
  EXPECT_EQ(f.schedule_text, "");
  EXPECT_EQ(f.faults_until_ns, defaults.faults.faults_until_ns);
  EXPECT_EQ(f.crash_on, "");
  EXPECT_EQ(f.crash_on_probability, 0);
  EXPECT_EQ(f.budget, "recoverable");
  EXPECT_TRUE(loaded->checkers.empty());
  EXPECT_EQ(loaded->expect, Expect::kPass);
  EXPECT_EQ(loaded->expect_rule, "");
  EXPECT_EQ(loaded->run_until_ns, defaults.run_until_ns);
  EXPECT_EQ(loaded->termination_bound_ns, defaults.termination_bound_ns);
  EXPECT_EQ(loaded->schedule_strategy, "fifo");
}

TEST(ScenarioDefaults, NameKeyOverridesTheFileStem) {
  const absl::StatusOr<Scenario> loaded =
      LoadScenarioString(std::string("name = \"custom\"\n") + kMinimal, "x/y/stem.toml");
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_EQ(loaded->name, "custom");
}

TEST(ScenarioTimeToNanoseconds, ConvertsEveryUnit) {
  EXPECT_EQ(TimeToNanoseconds(int64_t{7}, "ns").value(), 7);
  EXPECT_EQ(TimeToNanoseconds(int64_t{250}, "us").value(), 250'000);
  EXPECT_EQ(TimeToNanoseconds(int64_t{5}, "ms").value(), 5'000'000);
  EXPECT_EQ(TimeToNanoseconds(int64_t{2}, "s").value(), 2'000'000'000);
  EXPECT_EQ(TimeToNanoseconds(int64_t{0}, "s").value(), 0);
  EXPECT_EQ(TimeToNanoseconds(1.5, "us").value(), 1'500);
  EXPECT_EQ(TimeToNanoseconds(0.1, "ms").value(), 100'000);
  EXPECT_EQ(TimeToNanoseconds(0.25, "s").value(), 250'000'000);
  EXPECT_EQ(TimeToNanoseconds(3.0, "ns").value(), 3);
  EXPECT_EQ(TimeToNanoseconds(0.001, "us").value(), 1);
}

TEST(ScenarioTimeToNanoseconds, RejectsWhatIsNotAWholeNonNegativeInt64OfNanoseconds) {
  EXPECT_THAT(std::string(TimeToNanoseconds(0.5, "ns").status().message()),
              HasSubstr("whole number of nanoseconds"));
  EXPECT_THAT(std::string(TimeToNanoseconds(0.0001, "us").status().message()),
              HasSubstr("whole number of nanoseconds"));
  EXPECT_THAT(std::string(TimeToNanoseconds(int64_t{-1}, "ms").status().message()),
              HasSubstr("must not be negative, got -1ms"));
  EXPECT_THAT(std::string(TimeToNanoseconds(-0.5, "s").status().message()), HasSubstr("negative"));
  EXPECT_THAT(std::string(TimeToNanoseconds(std::numeric_limits<int64_t>::max(), "s").status().message()),
              HasSubstr("too large"));
  EXPECT_TRUE(TimeToNanoseconds(std::numeric_limits<int64_t>::max(), "ns").ok());
  EXPECT_THAT(std::string(TimeToNanoseconds(int64_t{9'223'372'037}, "s").status().message()),
              HasSubstr("too large"));
  EXPECT_TRUE(TimeToNanoseconds(int64_t{9'223'372'036}, "s").ok());
  EXPECT_THAT(std::string(TimeToNanoseconds(1e10, "s").status().message()), HasSubstr("too large"));
  EXPECT_FALSE(TimeToNanoseconds(std::numeric_limits<double>::infinity(), "s").ok());
  EXPECT_FALSE(TimeToNanoseconds(std::numeric_limits<double>::quiet_NaN(), "s").ok());
  EXPECT_THAT(std::string(TimeToNanoseconds(int64_t{1}, "min").status().message()),
              HasSubstr("unknown time unit 'min'"));
}

TEST(ScenarioTimeKeys, EveryFieldAcceptsEveryUnit) {
  const absl::StatusOr<Scenario> loaded = LoadScenarioString(std::string(kMinimal) + R"(
[workload]
think_us = 250
timeout_s = 0.25
duration_ns = 12345
[network]
reorder_delay_max_us = 1.5
[faults]
mode = "probabilities"
faults_until_ms = 120
restart_delay_min_us = 10
restart_delay_max_ms = 2
partition_duration_max_s = 0.01
)", "mem.toml");
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_EQ(loaded->workload.think_ns, 250'000);
  EXPECT_EQ(loaded->workload.timeout_ns, 250'000'000);
  EXPECT_EQ(loaded->workload.duration_ns, 12'345);
  EXPECT_EQ(loaded->network.reorder_delay_max_ns, 1'500);
  EXPECT_EQ(loaded->faults.faults_until_ns, 120'000'000);
  EXPECT_EQ(loaded->faults.probabilities.restart_delay_min_ns, 10'000);
  EXPECT_EQ(loaded->faults.probabilities.restart_delay_max_ns, 2'000'000);
  EXPECT_EQ(loaded->faults.probabilities.partition_duration_max_ns, 10'000'000);
}

TEST(ScenarioTimeKeys, TopLevelTimesConvert) {
  const absl::StatusOr<Scenario> loaded = LoadScenarioString(
      std::string("run_until_s = 3\ntermination_bound_ms = 1500.5\n") + kMinimal, "mem.toml");
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_EQ(loaded->run_until_ns, 3 * sim::kSecond);
  EXPECT_EQ(loaded->termination_bound_ns, 1'500'500'000);
}

TEST(ScenarioTimeKeys, KeysAfterAnArrayTableBelongToIt) {
  // A TOML subtlety worth a clear message: run_until_s below is inside [[rms]].
  const absl::StatusOr<Scenario> loaded =
      LoadScenarioString(std::string(kMinimal) + "run_until_s = 3\n", "mem.toml");
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().message(), "mem.toml:8:1: rms[0].run_until_s: unknown key");
}

TEST(ScenarioLatency, EveryKindConvertsToSimLatency) {
  const absl::StatusOr<Scenario> loaded = LoadScenarioString(std::string(kMinimal) + R"(
[rms.disk]
write_latency = { kind = "fixed", value_us = 70 }
read_latency = { kind = "uniform", min_us = 50, max_ms = 0.2 }
flush_latency = { kind = "exponential", min_us = 300, mean_us = 800, max_ms = 5 }
[network]
latency = { kind = "fixed", value_ns = 0 }
)", "mem.toml");
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  const sim::DiskOptions& disk = loaded->rms.at(0).disk;
  EXPECT_EQ(disk.write_latency.kind, sim::Latency::Kind::kFixed);
  EXPECT_EQ(disk.write_latency.min_ns, 70'000);
  EXPECT_EQ(disk.write_latency.max_ns, 70'000);
  EXPECT_EQ(disk.read_latency.kind, sim::Latency::Kind::kUniform);
  EXPECT_EQ(disk.read_latency.min_ns, 50'000);
  EXPECT_EQ(disk.read_latency.max_ns, 200'000);
  EXPECT_EQ(disk.flush_latency.kind, sim::Latency::Kind::kExponential);
  EXPECT_EQ(disk.flush_latency.min_ns, 300'000);
  EXPECT_EQ(disk.flush_latency.mean_ns, 800'000);
  EXPECT_EQ(disk.flush_latency.max_ns, 5'000'000);
  ExpectSameLatency(disk.fua_extra_latency, sim::DiskOptions{}.fua_extra_latency, "untouched");
  EXPECT_EQ(loaded->network.latency.min_ns, 0);
}

TEST(ScenarioLatency, ExponentialMeanOutsideMinMaxIsReported) {
  const absl::StatusOr<Scenario> loaded = LoadScenarioString(std::string(kMinimal) + R"(
[network]
latency = { kind = "exponential", min_us = 300, mean_us = 100, max_ms = 5 }
)", "mem.toml");
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().message(),
            "mem.toml:10:11: network.latency: mean (100us) must be in [min, max] = [300us, 5ms]");
}

// ---------------------------------------------------------------------------
// Other shapes of valid input.

TEST(ScenarioShapes, InlineArraysAndDottedKeysAreEquivalent) {
  const absl::StatusOr<Scenario> loaded = LoadScenarioString(R"(
hosts = [{ name = "a" }, { name = "b", tm_volatile = true }]
rms = [{ name = "r1", host = "a", kind = "txf" }, { name = "r2", host = "b", durable = false, kind = "txr" }]
workload.transactions = 7
checkers.run = ["atomicity", "termination"]
expect = { verdict = "fail", rule = "termination" }
)", "mem.toml");
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  ASSERT_EQ(loaded->hosts.size(), 2u);
  EXPECT_TRUE(loaded->hosts[1].tm_volatile);
  EXPECT_EQ(loaded->rms[0].kind, "txf");
  EXPECT_EQ(loaded->rms[1].kind, "txr");
  EXPECT_EQ(loaded->workload.transactions, 7u);
  EXPECT_EQ(loaded->checkers, (std::vector<std::string>{"atomicity", "termination"}));
  EXPECT_EQ(loaded->expect, Expect::kFail);
  EXPECT_EQ(loaded->expect_rule, "termination");
}

TEST(ScenarioShapes, ScheduleFileIsReadRelativeToTheScenario) {
  const absl::StatusOr<Scenario> loaded = LoadScenarioFile(DataPath("schedule_ok.toml"));
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_EQ(loaded->faults.mode, FaultMode::kSchedule);
  EXPECT_EQ(loaded->faults.schedule_text, ReadText(DataPath("schedule_ok.txt")));
  const absl::StatusOr<sim::FaultSchedule> schedule = sim::FaultSchedule::Parse(loaded->faults.schedule_text);
  ASSERT_TRUE(schedule.ok());
  EXPECT_EQ(schedule->fault_count(), 2u);
}

TEST(ScenarioShapes, InlineScheduleKeepsItsText) {
  const absl::StatusOr<Scenario> loaded = LoadScenarioString(std::string(kMinimal) + R"(
[faults]
mode = "schedule"
faults_until_ms = 50
schedule = """
# crash and come back
10000000 crash host=0 seed=5
15000000 restart host=0
"""
)", "mem.toml");
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_EQ(loaded->faults.schedule_text,
            "# crash and come back\n10000000 crash host=0 seed=5\n15000000 restart host=0\n");
}

// ---------------------------------------------------------------------------
// Validate() on scenarios built in C++.

TEST(ScenarioValidate, MinimalScenarioIsValid) { EXPECT_TRUE(Validate(MinimalScenario()).ok()); }

TEST(ScenarioValidate, EmptyScenarioNeedsHostsAndRms) {
  const absl::Status status = Validate(Scenario{});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "hosts: at least one host is required\nrms: at least one resource manager is required");
}

TEST(ScenarioValidate, FractionSumAllowsRoundingSlack) {
  Scenario scenario = MinimalScenario();
  scenario.workload.commit_fraction = 0.7;
  scenario.workload.rollback_fraction = 0.2;
  scenario.workload.read_only_fraction = 0.1 + 1e-12;
  EXPECT_TRUE(Validate(scenario).ok()) << Validate(scenario).message();
  scenario.workload.read_only_fraction = 0.1 + 1e-6;
  EXPECT_THAT(std::string(Validate(scenario).message()), HasSubstr("workload.commit_fraction: "));
}

TEST(ScenarioValidate, DurableRmOnVolatileTmIsRejectedVolatileRmAccepted) {
  Scenario scenario = MinimalScenario();
  scenario.hosts[0].tm_volatile = true;
  EXPECT_THAT(std::string(Validate(scenario).message()), HasSubstr("rms[0].durable: durable RM \"kv1\""));
  scenario.rms[0].durable = false;
  EXPECT_TRUE(Validate(scenario).ok()) << Validate(scenario).message();
}

TEST(ScenarioValidate, ScheduleModeNeedsAParseableSchedule) {
  Scenario scenario = MinimalScenario();
  scenario.faults.mode = FaultMode::kSchedule;
  EXPECT_EQ(Validate(scenario).message(), "faults.schedule_text: mode \"schedule\" needs a schedule");
  scenario.faults.schedule_text = "10 crash host=0\n";
  EXPECT_EQ(Validate(scenario).message(), "faults.schedule_text: line 1: missing key 'seed'");
  scenario.faults.schedule_text = "10 crash host=0 seed=1\n";
  EXPECT_TRUE(Validate(scenario).ok()) << Validate(scenario).message();
}

TEST(ScenarioValidate, TargetedCrashesNeedAProbabilisticModeAndAProbability) {
  Scenario scenario = MinimalScenario();
  scenario.faults.crash_on = "prepare";
  scenario.faults.crash_on_probability = 0.1;
  EXPECT_EQ(Validate(scenario).message(),
            "faults.crash_on: targeted crashes need mode \"probabilities\" or \"swarm\"");
  scenario.faults.mode = FaultMode::kSwarm;
  EXPECT_TRUE(Validate(scenario).ok()) << Validate(scenario).message();
  scenario.faults.crash_on_probability = 0;
  EXPECT_EQ(Validate(scenario).message(),
            "faults.crash_on_probability: must be > 0 with crash_on = \"prepare\"");
}

TEST(ScenarioValidate, ExpectRuleMustBeACheckerThatRuns) {
  Scenario scenario = MinimalScenario();
  scenario.expect_rule = "atomicity";
  EXPECT_EQ(Validate(scenario).message(), "expect_rule: a rule is only used with verdict \"fail\"");
  scenario.expect = Expect::kFail;
  EXPECT_TRUE(Validate(scenario).ok());
  scenario.checkers = {"durability"};
  EXPECT_THAT(std::string(Validate(scenario).message()), HasSubstr("is not among the checkers run"));
}

TEST(ScenarioValidate, EveryCheckerNameIsAccepted) {
  Scenario scenario = MinimalScenario();
  scenario.checkers = AllCheckerNames();
  EXPECT_TRUE(Validate(scenario).ok()) << Validate(scenario).message();
  EXPECT_EQ(AllCheckerNames(), (std::vector<std::string>{"atomicity", "agreement", "validity",
                                                         "durability", "isolation", "termination",
                                                         "conformance"}));
}

// ---------------------------------------------------------------------------
// Engine limits checked at load (issue 15): a scenario the engine cannot run
// is refused instead of passing with nothing checked.

// A scenario with `rms` kv RMs on one host.
Scenario ManyRmScenario(size_t rms) {
  Scenario scenario = MinimalScenario();
  scenario.rms.clear();
  for (size_t r = 0; r < rms; ++r) {
    RmSpec rm;
    rm.name = absl::StrCat("kv", r);
    rm.host = "node1";
    scenario.rms.push_back(rm);
  }
  return scenario;
}

TEST(ScenarioEngineLimits, MoreRmsPerTransactionThanEnlistmentsIsRefused) {
  Scenario scenario = ManyRmScenario(65);
  scenario.workload.rms_per_tx_min = 65;
  scenario.workload.rms_per_tx_max = 65;
  EXPECT_THAT(std::string(Validate(scenario).message()),
              HasSubstr("workload.rms_per_tx_min: a transaction could touch 65 RMs, but the engine allows "
                        "at most 64 enlistments per transaction (every transaction would be refused)"));
  scenario.workload.rms_per_tx_min = 1;  // now only some transactions would be refused
  EXPECT_THAT(std::string(Validate(scenario).message()),
              HasSubstr("workload.rms_per_tx_max: a transaction could touch 65 RMs"));
  scenario.workload.rms_per_tx_max = 64;
  EXPECT_TRUE(Validate(scenario).ok()) << Validate(scenario);
}

TEST(ScenarioEngineLimits, RmsPerTransactionIsClampedToTheRmsOfOneHost) {
  // 65 RMs split over two hosts: a local transaction touches at most 33.
  Scenario scenario = ManyRmScenario(65);
  scenario.hosts.push_back({.name = "node2"});
  for (size_t r = 0; r < 32; ++r) scenario.rms[r].host = "node2";
  scenario.workload.rms_per_tx_max = 200;
  EXPECT_TRUE(Validate(scenario).ok()) << Validate(scenario);
  scenario.workload.distributed_fraction = 0.5;  // now all 65 are reachable
  EXPECT_THAT(std::string(Validate(scenario).message()), HasSubstr("could touch 65 RMs"));
}

TEST(ScenarioEngineLimits, TmLogSectorsMustHoldTheTmCheckpoint) {
  Scenario scenario = MinimalScenario();
  scenario.hosts[0].log_disk.sector_size = 64;
  EXPECT_THAT(std::string(Validate(scenario).message()),
              HasSubstr("hosts[0].log_disk.sector_size: must be at least 128 for a durable TM"));
  scenario.hosts[0].log_disk.sector_size = 128;
  EXPECT_TRUE(Validate(scenario).ok());
  // A volatile TM has no log; an RM's log writes an empty checkpoint.
  scenario.hosts[0].tm_volatile = true;
  scenario.hosts[0].log_disk.sector_size = 64;
  scenario.rms[0].durable = false;
  EXPECT_TRUE(Validate(scenario).ok()) << Validate(scenario);
  scenario = MinimalScenario();
  scenario.rms[0].disk.sector_size = 64;
  EXPECT_TRUE(Validate(scenario).ok()) << Validate(scenario);
}

TEST(ScenarioEngineLimits, LatentErrorsNeedTheBeyondBudget) {
  Scenario scenario = MinimalScenario();
  scenario.faults.mode = FaultMode::kProbabilities;
  scenario.faults.probabilities.latent_error_per_second = 5;
  EXPECT_THAT(std::string(Validate(scenario).message()),
              HasSubstr("faults.probabilities.latent_error_per_second: latent sector errors under a log are a "
                        "beyond-recoverable fault"));
  scenario.faults.budget = "beyond";
  EXPECT_TRUE(Validate(scenario).ok()) << Validate(scenario);
}

// ---------------------------------------------------------------------------
// Schedules checked against the scenario (harness/schedule_validation.h).

TEST(ScheduleValidation, EveryLineIsCheckedWithItsLineNumber) {
  Scenario scenario = MinimalScenario();  // node1: disk 0 = TM log, disk 1 = kv1's log
  scenario.faults.budget = "beyond";
  const std::vector<ScheduleProblem> problems = CheckFaultSchedule(
      scenario,
      "# comment\n"
      "1000 corrupt host=0 disk=2 sector=1 seed=1\n"
      "\n"
      "2000 latent host=0 disk=0 sector=4096\n"
      "3000 crash host=1 seed=2\n"
      "0 msg seq=3 delay=60000000001\n"
      "5 msg seq=4 drop\n"
      "4000 crash host=x seed=2\n"
      "4000 partition groups=0|1\n"
      "4000 latent host=0 disk=1 sector=4095\n"
      "0 msg seq=3 dup\n");
  ASSERT_EQ(problems.size(), 8u);
  EXPECT_EQ(problems[0].line, 2);
  EXPECT_THAT(problems[0].message, HasSubstr("no disk 2 on host 0"));
  EXPECT_EQ(problems[1].line, 4);
  EXPECT_THAT(problems[1].message, HasSubstr("no sector 4096 on disk 0 of host 0"));
  EXPECT_EQ(problems[2].line, 5);
  EXPECT_THAT(problems[2].message, HasSubstr("names host 1"));
  EXPECT_EQ(problems[3].line, 6);
  EXPECT_THAT(problems[3].message, HasSubstr("delay must be at most 60000000000"));
  EXPECT_EQ(problems[4].line, 7);
  EXPECT_THAT(problems[4].message, HasSubstr("its time must be 0, got 5"));
  EXPECT_EQ(problems[5].line, 8);
  EXPECT_THAT(problems[5].message, HasSubstr("bad number 'x' for 'host'"));
  EXPECT_EQ(problems[6].line, 9);
  EXPECT_THAT(problems[6].message, HasSubstr("names host 1"));
  EXPECT_EQ(problems[7].line, 11);
  EXPECT_THAT(problems[7].message, HasSubstr("message 3 already has a fate (line 6)"));
}

TEST(ScheduleValidation, CheckScheduleTextNamesFileAndLine) {
  const absl::Status status =
      CheckScheduleText(MinimalScenario(), "10 crash host=0 seed=1\n20 restart host=4\n", "s.txt");
  EXPECT_EQ(status.message(), "s.txt:2: names host 4, but the scenario has 1 host(s), numbered from 0");
  EXPECT_TRUE(CheckScheduleText(MinimalScenario(), "10 crash host=0 seed=1\n", "s.txt").ok());
}

TEST(ScheduleValidation, HostDisksFollowTheHarnessOrder) {
  Scenario scenario = MinimalScenario();
  scenario.hosts.push_back({.name = "node2"});
  RmSpec rm = scenario.rms[0];
  rm.name = "kv2";
  rm.host = "node2";
  rm.disk.sector_count = 100;
  scenario.rms.push_back(rm);
  rm.name = "kv3";
  rm.durable = false;
  scenario.rms.push_back(rm);
  ASSERT_EQ(HostDisks(scenario, 1).size(), 2u);  // TM log, kv2 (kv3 is volatile)
  EXPECT_EQ(HostDisks(scenario, 1)[1].sector_count, 100u);
  scenario.workload.distributed_fraction = 0.5;
  EXPECT_EQ(HostDisks(scenario, 1).size(), 3u);  // + the Dtc's log
  EXPECT_TRUE(HostDisks(scenario, 2).empty());
}

// ---------------------------------------------------------------------------
// Input toml++ 3.3 cannot handle safely is refused before parsing (issue 15).

std::string LoadError(const std::string& text) {
  const absl::StatusOr<Scenario> scenario = LoadScenarioString(text, "s.toml");
  return scenario.ok() ? "(loaded)" : std::string(scenario.status().message());
}

TEST(ScenarioPrescan, TableHeaderThatDoesNotStartWithAKeyIsRefused) {
  // toml++ fails TOML_ASSERT_ASSUME in parse_key on these (undefined
  // behaviour when built with NDEBUG).
  EXPECT_EQ(LoadError("[[*"), "s.toml:1:3: a table header must start with a key (A-Z a-z 0-9 _ - or a quote)");
  EXPECT_EQ(LoadError("name = \"x\"\n  [ %x]\n"),
            "s.toml:2:5: a table header must start with a key (A-Z a-z 0-9 _ - or a quote)");
  EXPECT_EQ(LoadError(std::string(kMinimal) + "[ \"workload\" ]\ntransactions = 3\n"), "(loaded)");
}

TEST(ScenarioPrescan, AClosingBraceWhereAnArrayExpectsAValueIsRefused) {
  // toml++ fails TOML_ASSERT_ASSUME in parse_value on these (found by
  // scenario_loader_fuzz in CI's run: fuzz/corpus/.../crash_array_brace).
  const std::string message = "'}' where an array expects a value or ']'";
  EXPECT_EQ(LoadError("hosts = [{ name = \"node1\" }, }]\n"), "s.toml:1:30: " + message);
  EXPECT_EQ(LoadError("x = [ }\n"), "s.toml:1:7: " + message);
  EXPECT_EQ(LoadError("x = [1,\n  # a comment\n  }\n"), "s.toml:3:3: " + message);
  // A brace that closes an inline table inside an array is fine.
  EXPECT_EQ(LoadError(std::string(kMinimal) + "[workload]\ntransactions = 3\n"), "(loaded)");
  EXPECT_THAT(LoadError("x = [ { a = [1, 2] }, {b = 1} ]\n"), ::testing::Not(HasSubstr(message)));
}

TEST(ScenarioPrescan, NonAsciiOutsideStringsAndCommentsIsRefused) {
  // U+3000 IDEOGRAPHIC SPACE after a value; U+00A0 NO-BREAK SPACE before it.
  EXPECT_EQ(LoadError("run_until_ms = 5\xE3\x80\x80\n"),
            "s.toml:1:17: non-ASCII character U+3000 outside a string or comment (TOML keys, values and "
            "whitespace are ASCII)");
  EXPECT_THAT(LoadError("run_until_ms =\xC2\xA0" "5\n"), HasSubstr("s.toml:1:15: non-ASCII character U+00A0"));
  // Inside strings and comments non-ASCII text is fine, and columns count characters.
  const std::string text = "# caf\xC3\xA9 \xE2\x80\x94 \xF0\x9F\x98\x80\n"
                           "description = \"na\xC3\xAFve \\\"\xE2\x80\x94\\\"\" # \xE2\x80\x94\n"
                           "name = '''\xC3\xA9'''\n" +
                           std::string(kMinimal);
  EXPECT_EQ(LoadError(text), "(loaded)");
  EXPECT_EQ(LoadError("\xEF\xBB\xBF" + text), "(loaded)");  // a byte order mark first is fine
  // A comment's ASCII is skipped a line at a time: a bad byte after it is
  // still placed by its column, on its line.
  EXPECT_EQ(LoadError("# ok\n# caf\xC3\xA9 abc\xFF\n"), "s.toml:2:11: invalid UTF-8 (byte 0xFF)");
  EXPECT_THAT(LoadError("x = 1 # ab\n# c\n\xC2\xA0"), HasSubstr("s.toml:3:1: non-ASCII character U+00A0"));
  EXPECT_EQ(LoadError("description = \"\xC3\xA9\" \xC3\xA9\n"),
            "s.toml:1:19: non-ASCII character U+00E9 outside a string or comment (TOML keys, values and "
            "whitespace are ASCII)");
}

TEST(ScenarioPrescan, InputThatReachedTomlUnreachableIsRefused) {
  // Found by fuzzing toml++ 3.3 itself (fuzz/corpus/scenario_loader_fuzz/
  // crash_unreachable_u3001): U+3001 after a value reaches TOML_UNREACHABLE
  // in is_non_ascii_horizontal_whitespace (unicode_autogenerated.h:44).
  EXPECT_EQ(LoadError("a = 1\xE3\x80\x81\n"),
            "s.toml:1:6: non-ASCII character U+3001 outside a string or comment (TOML keys, values and "
            "whitespace are ASCII)");
}

TEST(ScenarioPrescan, AQuoteInsideABareKeyOrValueIsRefused) {
  // toml++ scans a value up to the next value terminator, quotes included, and
  // asks of every character whether it is whitespace: "a = 1'<U+3001>" reached
  // TOML_UNREACHABLE (CI's fixed fuzz run; corpus crash_quote_in_value).
  EXPECT_EQ(LoadError("a = 1'\xE3\x80\x81\n"), "s.toml:1:6: a quote right after '1': a string starts a key or a value");
  EXPECT_EQ(LoadError("a = [1, x\"\xC3\xA9\"]\n"), "s.toml:1:10: a quote right after 'x': a string starts a key or a value");
  EXPECT_EQ(LoadError("a = { b = 1.'\xC3\xA9' }\n"), "s.toml:1:13: a quote right after '.': a string starts a key or a value");
  EXPECT_EQ(LoadError("a'\xC3\xA9' = 1\n"), "s.toml:1:2: a quote right after 'a': a string starts a key or a value");
  EXPECT_EQ(LoadError("x = { a = 1, b'c' = 2 }\n"), "s.toml:1:15: a quote right after 'b': a string starts a key or a value");
  // Quotes that start keys and values are fine: after blanks, '=', '[', ',',
  // '.' in a dotted key, and on the line after a comment.
  for (const char* text : {"x = \"a\"\n", "x=['a',\"b\" ,\n'c']\n", "\"q\".'r' = 1\n", "a.\"b\" = 1\n",
                           "x = { a = \"1\", 'b' = 2, c.\"d\" = [\"e\"] }\n", "x = 1 # c\n\"y\" = 2\n",
                           "[a.\"b\"]\n", "x = [\n  # c\n  \"a\", # d\n]\n"}) {
    EXPECT_THAT(LoadError(text), ::testing::Not(HasSubstr("a quote right after"))) << text;
  }
}

TEST(ScenarioPrescan, AnEqualsSignInsideAValueIsRefused) {
  // CI's fixed fuzz run (corpus crash_equals_in_value): toml++ read "1run_un='"
  // as one value and asked whether U+3001 is whitespace (TOML_UNREACHABLE);
  // the '=' let the quote pass for one that starts a value.
  const std::string message = "'=' where a value is read: a key takes one '=', and a value has none outside its strings";
  EXPECT_EQ(LoadError("a = 1run_un='\xE3\x80\x81"), "s.toml:1:12: " + message);
  EXPECT_EQ(LoadError("a = [1, b = 2]\n"), "s.toml:1:11: " + message);
  EXPECT_EQ(LoadError("a = { b = 1 = 2 }\n"), "s.toml:1:13: " + message);
  // Every '=' that TOML reads: one a key, in inline tables too, and none
  // inside strings or comments.
  for (const char* text : {"x = 1\ny = 2\n", "x = { a = 1, b.c = [ { d = 2 } ] }\n", "x = \"a=b\" # c = d\n",
                           "x = [\n  { a = 1 },\n  { b = 2 },\n]\n", "x = '''a = b'''\n"}) {
    EXPECT_THAT(LoadError(text), ::testing::Not(HasSubstr("'=' where a value is read"))) << text;
  }
}

TEST(ScenarioPrescan, ABracketInsideABareValueIsRefused) {
  // CI's fixed fuzz run (corpus crash_bracket_in_value): toml++ read "1['" as
  // one value and asked whether U+3001 is whitespace (TOML_UNREACHABLE).
  EXPECT_EQ(LoadError("''= 1['\xE3\x80\x81\n"),
            "s.toml:1:6: '[' right after '1': an array or inline table starts a value");
  EXPECT_EQ(LoadError("a = x{b = 1}\n"), "s.toml:1:6: '{' right after 'x': an array or inline table starts a value");
  for (const char* text : {"x = [1, [2], [ 3 ]]\n", "x=[[1],[2]]\n", "x = {a = [1], b = {c = 2}}\n",
                           "x = [\n[1],\n]\n", "[a]\nx = 1\n[[b]]\n"}) {
    EXPECT_THAT(LoadError(text), ::testing::Not(HasSubstr("right after"))) << text;
  }
}

TEST(ScenarioPrescan, WhatFollowsABackslashInAMultiLineStringIsCheckedAsTomlPlusPlusReadsIt) {
  // toml++ asks is_whitespace of the character after a backslash and of the
  // first one after a line-ending backslash's blanks and line breaks; on
  // U+00E9 (valid TOML there) and U+3001 it reaches TOML_UNREACHABLE.
  EXPECT_EQ(LoadError("description = \"\"\"x \\\n  \n  \xC3\xA9\"\"\"\n"),
            "s.toml:3:3: U+00E9 right after a backslash (or a line-ending backslash's line break) in a "
            "multi-line string: toml++ 3.3 cannot read it there");
  EXPECT_THAT(LoadError("description = \"\"\"\\\xE3\x80\x81\"\"\"\n"), HasSubstr("s.toml:1:19: U+3001 right after"));
  EXPECT_THAT(LoadError("description = \"\"\"\\  \xC3\xA9\"\"\"\n"), HasSubstr("s.toml:1:21: U+00E9 right after"));
  // Elsewhere in the string, after an escape letter, and the characters toml++
  // does classify (U+2000 is whitespace to it) are fine.
  EXPECT_EQ(LoadError("description = \"\"\"caf\xC3\xA9 \\\n  ok \\\\\xC3\xA9 \\t\xC3\xA9\"\"\"\n" + std::string(kMinimal)),
            "(loaded)");
  EXPECT_THAT(LoadError("description = \"\"\"\\\n\xE2\x80\x80x\"\"\"\n"), ::testing::Not(HasSubstr("right after")));
  // A backslash at the end of a line, then the closing quotes or another escape.
  EXPECT_EQ(LoadError("description = \"\"\"a \\\n  \\\\ \\\n\"\"\"\n" + std::string(kMinimal)), "(loaded)");
}

TEST(ScenarioPrescan, InvalidUtf8AndControlCharactersAreRefused) {
  EXPECT_EQ(LoadError("description = \"\xC3\"\n"), "s.toml:1:16: invalid UTF-8 (byte 0xC3)");
  EXPECT_EQ(LoadError("# \xED\xA0\x80 surrogate\n"), "s.toml:1:3: invalid UTF-8 (byte 0xED)");
  EXPECT_EQ(LoadError("# \xC0\xAF overlong\n"), "s.toml:1:3: invalid UTF-8 (byte 0xC0)");
  EXPECT_EQ(LoadError("a = 1\x01\n"), "s.toml:1:6: control character U+0001 outside a string");
}

TEST(ScenarioPrescan, ParserMessagesStayOnOneLine) {
  // toml++ says "expected 'true', saw 'tru\n'" with a real newline.
  const std::string message = LoadError("name = tru\n");
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  EXPECT_THAT(message, HasSubstr("saw 'tru\\n'"));
  EXPECT_EQ(OneLine("a\nb\x01\t"), "a\\nb\\x01\\t");
}

TEST(ScenarioFormatTime, UsesTheLargestExactUnit) {
  EXPECT_EQ(FormatTime(0), "0ns");
  EXPECT_EQ(FormatTime(1), "1ns");
  EXPECT_EQ(FormatTime(1'500), "1500ns");
  EXPECT_EQ(FormatTime(2'000), "2us");
  EXPECT_EQ(FormatTime(1'500'000), "1500us");
  EXPECT_EQ(FormatTime(5'000'000), "5ms");
  EXPECT_EQ(FormatTime(2'000'000'000), "2s");
  EXPECT_EQ(FormatTime(-3'000'000), "-3ms");
}

TEST(ScenarioClosestName, SuggestsOnlyLikelyTypos) {
  const std::vector<std::string> names = {"ops_min", "ops_max", "keys", "workload"};
  EXPECT_EQ(ClosestName("opz_max", names), "ops_max");
  EXPECT_EQ(ClosestName("workloads", names), "workload");
  EXPECT_EQ(ClosestName("key", names), "keys");
  EXPECT_EQ(ClosestName("colour", names), "");
  EXPECT_EQ(ClosestName("ab", {"xy"}), "");
}

// ---------------------------------------------------------------------------
// The README.

// The ```toml block after the "<!-- full-example -->" marker.
std::string ReadmeFullExample(const std::string& readme) {
  const size_t marker = readme.find("<!-- full-example -->");
  if (marker == std::string::npos) return "";
  const size_t begin = readme.find("```toml\n", marker);
  if (begin == std::string::npos) return "";
  const size_t end = readme.find("```", begin + 8);
  return readme.substr(begin + 8, end - begin - 8);
}

TEST(ScenarioReadme, FullExampleLoads) {
  const std::string example = ReadmeFullExample(ReadText(kSourceDir + "/scenarios/README.md"));
  ASSERT_FALSE(example.empty());
  const absl::StatusOr<Scenario> loaded = LoadScenarioString(example, "README.md");
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_EQ(loaded->name, "full_example");
}

TEST(ScenarioReadme, DocumentsEveryKeyTheLoaderReads) {
  const std::string readme = ReadText(kSourceDir + "/scenarios/README.md");
  const absl::StatusOr<std::vector<std::string>> keys = ScenarioKeysRead(ReadmeFullExample(readme));
  ASSERT_TRUE(keys.ok()) << keys.status().message();
  // Every table is present in the full example, so this is the whole format.
  EXPECT_GE(keys->size(), 120u);
  for (const std::string& key : *keys) {
    const size_t dot = key.rfind('.');
    const std::string leaf = dot == std::string::npos ? key : key.substr(dot + 1);
    const std::string parent = dot == std::string::npos ? "" : key.substr(0, dot);
    // Latency keys are documented once, in the latency conventions; every
    // other key has its own row in a table.
    const std::string documented = absl::EndsWith(parent, "latency") ? "`" + leaf + "`" : "| `" + leaf + "` |";
    EXPECT_THAT(readme, HasSubstr(documented)) << key;
  }
}

// snapshot_log_bytes: read, written back only when set, refused for a
// volatile RM with its file and line.
TEST(ScenarioRmSnapshot, ReadsWritesBackAndRefusesAVolatileRm) {
  const std::string text = R"([[hosts]]
name = "node1"

[[rms]]
name = "kv1"
host = "node1"
snapshot_log_bytes = 131072

[[rms]]
name = "kv2"
host = "node1"
)";
  const absl::StatusOr<Scenario> s = LoadScenarioString(text, "snap.toml");
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->rms[0].snapshot_log_bytes, 131072u);
  EXPECT_EQ(s->rms[1].snapshot_log_bytes, 0u);
  const std::string written = ScenarioToToml(*s);
  EXPECT_EQ(written.find("snapshot_log_bytes = 131072"), written.rfind("snapshot_log_bytes"))
      << "written for kv1 only:\n" << written;
  EXPECT_NE(written.find("snapshot_log_bytes = 131072"), std::string::npos) << written;
  const absl::StatusOr<Scenario> back = LoadScenarioString(written, "back.toml");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->rms[0].snapshot_log_bytes, 131072u);
  EXPECT_EQ(back->rms[1].snapshot_log_bytes, 0u);

  const absl::StatusOr<Scenario> bad = LoadScenarioString(R"([[hosts]]
name = "node1"

[[rms]]
name = "cache"
host = "node1"
durable = false
snapshot_log_bytes = 4096
)", "bad.toml");
  ASSERT_FALSE(bad.ok());
  const std::string message(bad.status().message());
  EXPECT_THAT(message, HasSubstr("bad.toml:8:"));
  EXPECT_THAT(message, HasSubstr("must be 0 for a volatile RM"));
}

}  // namespace
}  // namespace harness
