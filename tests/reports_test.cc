// Tests of failure traces and shrinking (ctest label `reports`).
//
// - The Scenario -> TOML writer round-trips every file in scenarios/, the
//   README's every-key example and hand-made corner cases, field for field.
// - The shrinker, in-process: with planted bug 4 ("ignore-no-vote") a run
//   that violates validity shrinks to a smaller run that still does, and
//   the emitted scenario alone replays it.
// - The trace model and pictures, in-process: transactions and enlistments
//   are named as the history names them, the SVGs are XML, the row cap holds.
// - The ktmsim binary end to end: `run --planted-bug 4` finds failures,
//   shrinks each (ratio printed and bounded, transactions and faults down),
//   the shrunk replay fails the same rule; trace.svg / states.svg parse with
//   xmllint and name the hosts and the violating transaction; trace.json
//   parses and names them too; DOT files are kept; index.html links it all;
//   `ktmsim shrink` of a folder; `ktmsim trace` of a passing seed in every
//   format; bad arguments exit 2.
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"
#include "harness/markup.h"
#include "harness/runner.h"
#include "harness/scenario.h"
#include "harness/scenario_toml.h"
#include "harness/scenario_toml_writer.h"
#include "sim/fault_kinds.h"
#include "harness/shrink.h"
#include "model/history.h"
#include "reports/failure.h"
#include "reports/graphviz.h"
#include "reports/sequence_diagram.h"
#include "reports/state_diagram.h"
#include "reports/summary.h"
#include "reports/trace_model.h"

namespace {

namespace fs = std::filesystem;
using reports::Json;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

std::string ShellQuote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

bool HaveProgram(const std::string& name) {
  return std::system(absl::StrCat("command -v ", name, " >/dev/null 2>&1").c_str()) == 0;
}

// ---- the TOML writer ------------------------------------------------------------

void ExpectSameLatency(const sim::Latency& a, const sim::Latency& b, const std::string& where) {
  EXPECT_EQ(a.kind, b.kind) << where;
  EXPECT_EQ(a.min_ns, b.min_ns) << where;
  EXPECT_EQ(a.max_ns, b.max_ns) << where;
  // A uniform latency's mean is not part of the format (sampling ignores it).
  if (a.kind == sim::Latency::Kind::kExponential) {
    EXPECT_EQ(a.mean_ns, b.mean_ns) << where;
  }
}

void ExpectSameDisk(const sim::DiskOptions& a, const sim::DiskOptions& b, const std::string& where) {
  EXPECT_EQ(a.sector_size, b.sector_size) << where;
  EXPECT_EQ(a.sector_count, b.sector_count) << where;
  EXPECT_EQ(a.inflight_max, b.inflight_max) << where;
  EXPECT_EQ(a.unflushed_survive_probability, b.unflushed_survive_probability) << where;
  ExpectSameLatency(a.write_latency, b.write_latency, where + ".write_latency");
  ExpectSameLatency(a.read_latency, b.read_latency, where + ".read_latency");
  ExpectSameLatency(a.flush_latency, b.flush_latency, where + ".flush_latency");
  ExpectSameLatency(a.fua_extra_latency, b.fua_extra_latency, where + ".fua_extra_latency");
}

void ExpectSameWorkload(const harness::WorkloadSpec& a, const harness::WorkloadSpec& b, const std::string& w) {
  EXPECT_EQ(a.transactions, b.transactions) << w;
  EXPECT_EQ(a.duration_ns, b.duration_ns) << w;
  EXPECT_EQ(a.arrival_per_second, b.arrival_per_second) << w;
  EXPECT_EQ(a.concurrency, b.concurrency) << w;
  EXPECT_EQ(a.ops_min, b.ops_min) << w;
  EXPECT_EQ(a.ops_max, b.ops_max) << w;
  EXPECT_EQ(a.value_bytes, b.value_bytes) << w;
  EXPECT_EQ(a.rms_per_tx_min, b.rms_per_tx_min) << w;
  EXPECT_EQ(a.rms_per_tx_max, b.rms_per_tx_max) << w;
  EXPECT_EQ(a.keys, b.keys) << w;
  EXPECT_EQ(a.read_fraction, b.read_fraction) << w;
  EXPECT_EQ(a.commit_fraction, b.commit_fraction) << w;
  EXPECT_EQ(a.rollback_fraction, b.rollback_fraction) << w;
  EXPECT_EQ(a.read_only_fraction, b.read_only_fraction) << w;
  EXPECT_EQ(a.async_commit_fraction, b.async_commit_fraction) << w;
  EXPECT_EQ(a.distributed_fraction, b.distributed_fraction) << w;
  EXPECT_EQ(a.timeout_ns, b.timeout_ns) << w;
  EXPECT_EQ(a.think_ns, b.think_ns) << w;
}

void ExpectSameFaults(const harness::FaultSpec& a, const harness::FaultSpec& b, const std::string& w) {
  EXPECT_EQ(a.mode, b.mode) << w;
  EXPECT_EQ(a.schedule_text, b.schedule_text) << w;
  EXPECT_EQ(a.faults_until_ns, b.faults_until_ns) << w;
  EXPECT_EQ(a.crash_on, b.crash_on) << w;
  EXPECT_EQ(a.crash_on_probability, b.crash_on_probability) << w;
  EXPECT_EQ(a.budget, b.budget) << w;
  const sim::FaultProbabilities& p = a.probabilities;
  const sim::FaultProbabilities& q = b.probabilities;
  EXPECT_EQ(p.crash_per_second, q.crash_per_second) << w;
  EXPECT_EQ(p.restart_delay_min_ns, q.restart_delay_min_ns) << w;
  EXPECT_EQ(p.restart_delay_max_ns, q.restart_delay_max_ns) << w;
  EXPECT_EQ(p.unflushed_survive_probability, q.unflushed_survive_probability) << w;
  EXPECT_EQ(p.latent_error_per_second, q.latent_error_per_second) << w;
  EXPECT_EQ(p.corrupt_per_second, q.corrupt_per_second) << w;
  EXPECT_EQ(p.message_loss, q.message_loss) << w;
  EXPECT_EQ(p.message_duplicate, q.message_duplicate) << w;
  EXPECT_EQ(p.message_reorder, q.message_reorder) << w;
  EXPECT_EQ(p.partition_per_second, q.partition_per_second) << w;
  EXPECT_EQ(p.partition_duration_max_ns, q.partition_duration_max_ns) << w;
  for (const sim::FaultKindInfo& kind : sim::kFaultKinds) EXPECT_EQ(p.*kind.rate, q.*kind.rate) << w << " " << kind.name;
}

// Every field but `file`.
void ExpectSameScenario(const harness::Scenario& a, const harness::Scenario& b, const std::string& w) {
  EXPECT_EQ(a.name, b.name) << w;
  EXPECT_EQ(a.description, b.description) << w;
  ASSERT_EQ(a.hosts.size(), b.hosts.size()) << w;
  for (size_t h = 0; h < a.hosts.size(); ++h) {
    const std::string where = absl::StrCat(w, " hosts[", h, "]");
    EXPECT_EQ(a.hosts[h].name, b.hosts[h].name) << where;
    EXPECT_EQ(a.hosts[h].tm_volatile, b.hosts[h].tm_volatile) << where;
    ExpectSameDisk(a.hosts[h].log_disk, b.hosts[h].log_disk, where + ".log_disk");
  }
  ASSERT_EQ(a.rms.size(), b.rms.size()) << w;
  for (size_t r = 0; r < a.rms.size(); ++r) {
    const std::string where = absl::StrCat(w, " rms[", r, "]");
    const harness::RmSpec& x = a.rms[r];
    const harness::RmSpec& y = b.rms[r];
    EXPECT_EQ(x.name, y.name) << where;
    EXPECT_EQ(x.host, y.host) << where;
    EXPECT_EQ(x.kind, y.kind) << where;
    EXPECT_EQ(x.durable, y.durable) << where;
    EXPECT_EQ(x.single_phase, y.single_phase) << where;
    EXPECT_EQ(x.vote_no_probability, y.vote_no_probability) << where;
    EXPECT_EQ(x.disconnect_probability, y.disconnect_probability) << where;
    EXPECT_EQ(x.reject_single_phase_probability, y.reject_single_phase_probability) << where;
    EXPECT_EQ(x.response_delay_ns, y.response_delay_ns) << where;
    ExpectSameDisk(x.disk, y.disk, where + ".disk");
  }
  ExpectSameWorkload(a.workload, b.workload, w + " workload");
  ExpectSameLatency(a.network.latency, b.network.latency, w + " network.latency");
  EXPECT_EQ(a.network.loss_probability, b.network.loss_probability) << w;
  EXPECT_EQ(a.network.duplicate_probability, b.network.duplicate_probability) << w;
  EXPECT_EQ(a.network.reorder_probability, b.network.reorder_probability) << w;
  EXPECT_EQ(a.network.reorder_delay_max_ns, b.network.reorder_delay_max_ns) << w;
  EXPECT_EQ(a.network.inflight_max, b.network.inflight_max) << w;
  ExpectSameFaults(a.faults, b.faults, w + " faults");
  EXPECT_EQ(a.checkers, b.checkers) << w;
  EXPECT_EQ(a.expect, b.expect) << w;
  EXPECT_EQ(a.expect_rule, b.expect_rule) << w;
  EXPECT_EQ(a.run_until_ns, b.run_until_ns) << w;
  EXPECT_EQ(a.termination_bound_ns, b.termination_bound_ns) << w;
  EXPECT_EQ(a.schedule_strategy, b.schedule_strategy) << w;
}

// Writes, reloads and compares; the reloaded scenario writes the same text.
void ExpectRoundTrip(const harness::Scenario& scenario, const std::string& what) {
  const std::string text = harness::ScenarioToToml(scenario, "written by reports_test\nsecond line");
  absl::StatusOr<harness::Scenario> reloaded = harness::LoadScenarioString(text, "roundtrip.toml");
  ASSERT_TRUE(reloaded.ok()) << what << ": " << reloaded.status() << "\n" << text;
  ExpectSameScenario(scenario, *reloaded, what);
  EXPECT_EQ(reloaded->file, "roundtrip.toml");
  EXPECT_EQ(harness::ScenarioToToml(*reloaded, "written by reports_test\nsecond line"), text) << what;
}

std::vector<std::string> ScenarioFiles() {
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(fs::path(KTMSIM_SOURCE_DIR) / "scenarios")) {
    if (entry.path().extension() == ".toml") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(ScenarioTomlWriterTest, RoundTripsEveryScenarioFile) {
  const std::vector<std::string> files = ScenarioFiles();
  ASSERT_GE(files.size(), 10u);
  for (const std::string& file : files) {
    absl::StatusOr<harness::Scenario> scenario = harness::LoadScenarioFile(file);
    ASSERT_TRUE(scenario.ok()) << scenario.status();
    ExpectRoundTrip(*scenario, file);
  }
}

// The storage and volume scenarios (not in the default suite's folder):
// value_bytes and the page fault kinds round-trip.
TEST(ScenarioTomlWriterTest, RoundTripsTheStorageAndVolumeScenarios) {
  size_t page_kinds = 0;
  for (const char* folder : {"scenarios/storage", "scenarios/volume"}) {
    for (const auto& entry : fs::directory_iterator(fs::path(KTMSIM_SOURCE_DIR) / folder)) {
      if (entry.path().extension() != ".toml") continue;
      absl::StatusOr<harness::Scenario> scenario = harness::LoadScenarioFile(entry.path().string());
      ASSERT_TRUE(scenario.ok()) << scenario.status();
      ExpectRoundTrip(*scenario, entry.path().string());
      const sim::FaultProbabilities& p = scenario->faults.probabilities;
      page_kinds += (p.page_torn_per_second > 0) + (p.page_lost_per_second > 0) + (p.page_latent_per_second > 0);
    }
  }
  EXPECT_GE(page_kinds, 3u);
}

TEST(ScenarioTomlWriterTest, RoundTripsTheReadmeExampleWithEveryKey) {
  const std::string readme = ReadAll(std::string(KTMSIM_SOURCE_DIR) + "/scenarios/README.md");
  const size_t marker = readme.find("<!-- full-example -->");
  ASSERT_NE(marker, std::string::npos);
  const size_t begin = readme.find("```toml\n", marker) + 8;
  const size_t end = readme.find("```", begin);
  absl::StatusOr<harness::Scenario> scenario =
      harness::LoadScenarioString(readme.substr(begin, end - begin), "full_example.toml");
  ASSERT_TRUE(scenario.ok()) << scenario.status();
  // The example sets every key away from its default: a writer that forgot
  // one would reload the default and differ here.
  EXPECT_EQ(scenario->faults.mode, harness::FaultMode::kProbabilities);
  EXPECT_EQ(scenario->hosts[0].log_disk.flush_latency.kind, sim::Latency::Kind::kExponential);
  ExpectRoundTrip(*scenario, "README full example");
}

// The dotted keys of a TOML text written by ScenarioToToml, as the loader
// names them in ScenarioKeysRead ("workload.think_<unit>", array tables
// without indexes), with the tables holding them. Of a latency's inline
// table only "kind" is listed.
std::set<std::string> KeysWritten(const std::string& text) {
  std::set<std::string> keys;
  std::string table;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (line.empty() || line[0] == '#' || line[0] == ' ') continue;
    if (line[0] == '[') {
      table = std::string(absl::StripSuffix(absl::StripPrefix(absl::StripPrefix(line, "["), "["), "]"));
      table = std::string(absl::StripSuffix(table, "]"));
      for (size_t dot = table.find('.'); dot != std::string::npos; dot = table.find('.', dot + 1)) {
        keys.insert(table.substr(0, dot));
      }
      keys.insert(table);
      continue;
    }
    const size_t equals = line.find(" = ");
    if (equals == absl::string_view::npos) continue;
    std::string key(line.substr(0, equals));
    for (const char* unit : {"_ns", "_us", "_ms", "_s"}) {
      if (absl::EndsWith(key, unit)) {
        key = key.substr(0, key.size() - std::string(unit).size()) + "_<unit>";
        break;
      }
    }
    const std::string path = table.empty() ? key : table + "." + key;
    keys.insert(path);
    if (absl::StartsWith(line.substr(equals + 3), "{ kind")) keys.insert(path + ".kind");
  }
  return keys;
}

TEST(ScenarioTomlWriterTest, WritesEveryKeyTheLoaderReads) {
  const std::string readme = ReadAll(std::string(KTMSIM_SOURCE_DIR) + "/scenarios/README.md");
  const size_t begin = readme.find("```toml\n", readme.find("<!-- full-example -->")) + 8;
  const std::string example = readme.substr(begin, readme.find("```", begin) - begin);
  absl::StatusOr<std::vector<std::string>> read = harness::ScenarioKeysRead(example);
  ASSERT_TRUE(read.ok()) << read.status();
  absl::StatusOr<harness::Scenario> scenario = harness::LoadScenarioString(example, "full_example.toml");
  ASSERT_TRUE(scenario.ok()) << scenario.status();
  scenario->expect = harness::Expect::kFail;
  scenario->expect_rule = "atomicity";
  const std::set<std::string> written = KeysWritten(harness::ScenarioToToml(*scenario));
  for (const std::string& key : *read) {
    // Latency parts depend on the kind; a schedule is written inline and
    // only in mode "schedule" (RoundTripsSchedulesOddStringsAndOddNumbers).
    if (absl::StrContains(key, "latency.") && !absl::EndsWith(key, ".kind")) continue;
    if (key == "faults.schedule" || key == "faults.schedule_file") continue;
    // An RM's options table (plugin kinds) is written only when it has options.
    if (key == "rms.options" && std::all_of(scenario->rms.begin(), scenario->rms.end(),
                                            [](const harness::RmSpec& rm) { return rm.options.empty(); })) {
      continue;
    }
    EXPECT_EQ(written.count(key), 1u) << "the writer does not write " << key;
  }
}

TEST(ScenarioTomlWriterTest, RoundTripsSchedulesOddStringsAndOddNumbers) {
  absl::StatusOr<harness::Scenario> base =
      harness::LoadScenarioFile(std::string(KTMSIM_SOURCE_DIR) + "/scenarios/two_phase_3rms.toml");
  ASSERT_TRUE(base.ok()) << base.status();
  harness::Scenario scenario = *base;
  scenario.name = "odd \"name\" with \\ and é";
  scenario.description = "line one\nline two\ttab 'single' \"double\" \x01 control";
  scenario.faults.mode = harness::FaultMode::kSchedule;
  scenario.faults.schedule_text = "# a comment\n0 survive p=0.25\n20000000 crash host=0 seed=42\n25000000 restart host=0\n";
  scenario.workload.read_fraction = 0.1 + 0.2;  // 0.30000000000000004: needs every digit
  scenario.workload.arrival_per_second = 1e-7;
  scenario.workload.think_ns = 1500;            // 1500ns: not a whole number of microseconds
  scenario.rms[0].response_delay_ns = 7 * sim::kSecond;
  scenario.network.latency = sim::Latency::Exponential(10, 1000, 2 * sim::kMillisecond);
  scenario.checkers = {"atomicity", "validity"};
  scenario.expect = harness::Expect::kFail;
  scenario.expect_rule = "validity";
  ASSERT_TRUE(harness::Validate(scenario).ok()) << harness::Validate(scenario);
  ExpectRoundTrip(scenario, "schedule and odd values");
  // A schedule the multi-line literal form cannot hold goes escaped.
  scenario.faults.schedule_text = "0 survive p=0.5\r\n# it's '''quoted'''\n";
  ExpectRoundTrip(scenario, "schedule with CR and '''");
}

// ---- the shrinker, in-process ---------------------------------------------------

// Two hosts, two-phase commits with frequent no votes, crashes: with planted
// bug 4 the TM ignores no votes, which the validity checker catches.
constexpr char kIgnoreNoVoteScenario[] = R"(
description = "Two hosts, two-phase commits with frequent no votes, crashes."
[[hosts]]
name = "alpha"
[[hosts]]
name = "beta"
[[rms]]
name = "kv1"
host = "alpha"
single_phase = false
[[rms]]
name = "kv2"
host = "alpha"
single_phase = false
vote_no_probability = 0.1
[[rms]]
name = "kv3"
host = "beta"
single_phase = false
[[rms]]
name = "kv4"
host = "beta"
single_phase = false
vote_no_probability = 0.1
[workload]
transactions = 60
concurrency = 4
rms_per_tx_min = 2
rms_per_tx_max = 2
keys = 8
[faults]
mode = "probabilities"
crash_per_second = 20
restart_delay_min_ms = 1
restart_delay_max_ms = 10
faults_until_ms = 100
)";

constexpr uint32_t kIgnoreNoVote = 4;

harness::Scenario IgnoreNoVoteScenario() {
  absl::StatusOr<harness::Scenario> scenario =
      harness::LoadScenarioString(kIgnoreNoVoteScenario, "ignore_no_vote.toml");
  EXPECT_TRUE(scenario.ok()) << scenario.status();
  return scenario.ok() ? *scenario : harness::Scenario{};
}

bool Violates(const harness::RunResult& result, const std::string& rule) {
  return std::any_of(result.violations.begin(), result.violations.end(),
                     [&rule](const harness::Violation& v) { return v.rule == rule; });
}

// The first seed whose run with the planted bug violates validity.
uint64_t FailingSeed(const harness::Scenario& scenario) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    if (Violates(harness::RunScenario(scenario, seed, {.keep_trace = false, .planted_bug = kIgnoreNoVote}),
                 "validity")) {
      return seed;
    }
  }
  return 0;
}

TEST(ShrinkTest, KeepsTheRuleFailingWithFewerEventsTransactionsAndFaults) {
  const harness::Scenario scenario = IgnoreNoVoteScenario();
  const uint64_t seed = FailingSeed(scenario);
  ASSERT_NE(seed, 0u) << "planted bug 4 never violated validity in seeds 1..20";
  const harness::RunOptions options{.keep_trace = true, .planted_bug = kIgnoreNoVote};
  const harness::ShrinkResult shrink = harness::Shrink(scenario, seed, options, "validity", 120);
  ASSERT_TRUE(shrink.ok) << shrink.error;
  std::printf("shrink seed %llu: trace events %llu -> %llu (ratio %.3f), transactions %llu -> %llu, "
              "faults %llu -> %llu, %d runs\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(shrink.before.trace_events),
              static_cast<unsigned long long>(shrink.after.trace_events), shrink.ratio(),
              static_cast<unsigned long long>(shrink.before.transactions),
              static_cast<unsigned long long>(shrink.after.transactions),
              static_cast<unsigned long long>(shrink.before.faults),
              static_cast<unsigned long long>(shrink.after.faults), shrink.runs);
  EXPECT_LE(shrink.runs, 120);
  EXPECT_LE(shrink.ratio(), 0.5);
  EXPECT_LT(shrink.after.transactions, shrink.before.transactions);
  EXPECT_GT(shrink.before.faults, 0u);
  EXPECT_LT(shrink.after.faults, shrink.before.faults);
  EXPECT_TRUE(Violates(shrink.result, "validity"));
  EXPECT_FALSE(shrink.result.trace_text.empty());
  EXPECT_FALSE(shrink.steps.empty());
  EXPECT_EQ(shrink.scenario.name, scenario.name + "-shrunk");
  // The minimal scenario, written and read back, fails alone (its faults are
  // inline) and with the schedule, with the digest of the shrunk run.
  ASSERT_TRUE(shrink.uses_schedule);
  absl::StatusOr<harness::Scenario> emitted =
      harness::LoadScenarioString(harness::ScenarioToToml(shrink.scenario), "shrunk.toml");
  ASSERT_TRUE(emitted.ok()) << emitted.status();
  EXPECT_EQ(emitted->faults.mode, harness::FaultMode::kSchedule);
  const harness::RunResult alone = harness::RunScenario(*emitted, seed, {.keep_trace = false, .planted_bug = kIgnoreNoVote});
  EXPECT_TRUE(Violates(alone, "validity"));
  EXPECT_EQ(alone.trace_events, shrink.after.trace_events);
  const harness::RunResult replayed = harness::RunScenario(
      *emitted, seed, {.keep_trace = false, .schedule = shrink.schedule, .planted_bug = kIgnoreNoVote});
  EXPECT_EQ(replayed.digest, shrink.result.digest);
  // Without the planted bug the minimal run passes: the bug, not the
  // shrinking, makes it fail.
  EXPECT_TRUE(harness::RunScenario(*emitted, seed, {.keep_trace = false, .schedule = shrink.schedule}).passed);
}

TEST(ShrinkTest, ReportsARunThatDoesNotFailAndSpendsAtMostTheBudget) {
  const harness::Scenario scenario = IgnoreNoVoteScenario();
  const harness::ShrinkResult passing = harness::Shrink(scenario, 1, {.keep_trace = false}, "validity", 50);
  EXPECT_FALSE(passing.ok);
  EXPECT_TRUE(absl::StrContains(passing.error, "does not violate")) << passing.error;
  EXPECT_EQ(passing.runs, 1);
  const uint64_t seed = FailingSeed(scenario);
  ASSERT_NE(seed, 0u);
  const harness::ShrinkResult tight =
      harness::Shrink(scenario, seed, {.keep_trace = false, .planted_bug = kIgnoreNoVote}, "validity", 6);
  EXPECT_TRUE(tight.ok) << tight.error;
  EXPECT_TRUE(tight.budget_exhausted);
  EXPECT_LE(tight.runs, 6);
  EXPECT_TRUE(Violates(tight.result, "validity"));
}

// ---- trace model and pictures, in-process ----------------------------------------

struct FailingRun {
  harness::Scenario scenario;
  harness::RunResult result;
};

FailingRun TracedFailingRun() {
  FailingRun run;
  run.scenario = IgnoreNoVoteScenario();
  const uint64_t seed = FailingSeed(run.scenario);
  run.result = harness::RunScenario(run.scenario, seed, {.keep_trace = true, .planted_bug = kIgnoreNoVote});
  return run;
}

TEST(TraceModelTest, NamesTransactionsAndEnlistmentsAsTheHistoryDoes) {
  const FailingRun run = TracedFailingRun();
  ASSERT_FALSE(run.result.violations.empty());
  const reports::TraceModel model = reports::BuildTraceModel(run.scenario, run.result);
  EXPECT_EQ(model.focus_tx, run.result.violations[0].tx);
  EXPECT_EQ(model.hosts, (std::vector<std::string>{"alpha", "beta"}));
  // Every started transaction got its history name.
  EXPECT_EQ(model.tx_names.size(), run.result.transactions);
  std::set<std::string> names;
  for (const auto& [id, name] : model.tx_names) names.insert(name);
  EXPECT_EQ(names.size(), run.result.transactions);
  EXPECT_EQ(names.count(model.focus_tx), 1u);
  // The focus transaction's enlistments are known, with the RM names the
  // history gives its Enlist events.
  std::multiset<std::string> model_rms, history_rms;
  for (const auto& [en, info] : model.enlistments) {
    EXPECT_FALSE(info.rm.empty()) << en;
    if (model.TxLabel(info.tx) == model.focus_tx) {
      model_rms.insert(info.rm);
      EXPECT_EQ(model.focus_ids.count(en), 1u);
    }
  }
  for (const model::HistoryEvent& event : run.result.history.events) {
    if (event.kind == model::EventKind::kEnlist && event.tx == model.focus_tx) history_rms.insert(event.rm);
  }
  EXPECT_FALSE(model_rms.empty());
  EXPECT_EQ(model_rms, history_rms);
  EXPECT_FALSE(model.violating.empty());
  for (const auto& [record, numbers] : model.violating) {
    EXPECT_TRUE(model.MentionsFocus(model.records[record]) || !numbers.empty());
  }
}

TEST(TraceModelTest, SequenceDiagramKeepsItsRowLimitAndRenders) {
  const FailingRun run = TracedFailingRun();
  const reports::TraceModel model = reports::BuildTraceModel(run.scenario, run.result);
  reports::SequenceOptions options;
  options.events_max = 20;
  const std::string dot = reports::SequenceDiagramDot(model, options);
  // One time cell ("t<row>" node) per row: at most 20 event rows plus the
  // "not drawn" rows between them (at most one more than the event rows).
  size_t rows = 0;
  for (size_t at = dot.find("\n  { rank=same; t"); at != std::string::npos;
       at = dot.find("\n  { rank=same; t", at + 1)) {
    ++rows;
  }
  EXPECT_GT(rows, 0u);
  EXPECT_LE(rows, 41u);
  EXPECT_TRUE(absl::StrContains(dot, "drawn: 20 of ")) << dot.substr(0, 800);
  EXPECT_TRUE(absl::StrContains(dot, "events not drawn"));
  EXPECT_TRUE(absl::StrContains(dot, "#d00000"));  // the violating events are red
  absl::StatusOr<std::string> svg = reports::RenderSvg(dot);
  ASSERT_TRUE(svg.ok()) << svg.status();
  EXPECT_TRUE(absl::StrContains(*svg, "<svg")) << svg->substr(0, 300);
  EXPECT_TRUE(absl::StrContains(*svg, model.focus_tx));
  absl::StatusOr<std::string> states = reports::RenderSvg(reports::StateDiagramDot(model));
  ASSERT_TRUE(states.ok()) << states.status();
  EXPECT_TRUE(absl::StrContains(*states, "enlistment states of " + model.focus_tx));
}

TEST(TraceModelTest, RenderSvgReportsBadDotAsAStatus) {
  absl::StatusOr<std::string> svg = reports::RenderSvg("digraph { a -> ");
  EXPECT_FALSE(svg.ok());
  EXPECT_EQ(reports::DotQuote("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
}

// ---- the binary -------------------------------------------------------------------

class ReportsCliTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "ktmsim_reports_test.XXXXXX").string();
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
  CommandResult Shell(const std::string& command, const std::string& cwd = KTMSIM_SOURCE_DIR) {
    const std::string out = Path(absl::StrCat("stdout.", commands_));
    const std::string err = Path(absl::StrCat("stderr.", commands_++));
    const std::string line = absl::StrCat("cd ", ShellQuote(cwd), " && ", command, " >", ShellQuote(out), " 2>",
                                          ShellQuote(err));
    const int status = std::system(line.c_str());
    CommandResult result;
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    result.out = ReadAll(out);
    result.err = ReadAll(err);
    return result;
  }
  CommandResult Ktmsim(const std::string& arguments, const std::string& cwd = KTMSIM_SOURCE_DIR) {
    return Shell(absl::StrCat(ShellQuote(KTMSIM_BINARY), " ", arguments), cwd);
  }
  // libxml2's HTML parser knows HTML 4 only: it notes each HTML5 element
  // (<details>, <summary>) as an invalid tag, in three lines (message,
  // source line, caret). Those notes are dropped; every other error stays.
  static std::string WithoutHtml5TagNotes(const std::string& err) {
    std::vector<std::string> lines = absl::StrSplit(err, '\n');
    std::string kept;
    for (size_t i = 0; i < lines.size(); ++i) {
      if (absl::StrContains(lines[i], "HTML parser error : Tag details invalid") ||
          absl::StrContains(lines[i], "HTML parser error : Tag summary invalid")) {
        i += 2;
        continue;
      }
      if (!lines[i].empty()) absl::StrAppend(&kept, lines[i], "\n");
    }
    return kept;
  }
  // Well-formed XML (or, with `html`, HTML that parses without errors), by
  // xmllint when installed (it is, with libxml2-utils).
  void ExpectXml(const std::string& file, bool html = false) {
    ASSERT_TRUE(fs::exists(file)) << file;
    if (!HaveProgram("xmllint")) GTEST_SKIP() << "xmllint not installed";
    CommandResult lint = Shell(absl::StrCat("xmllint --noout ", html ? "--html " : "", ShellQuote(file)));
    EXPECT_EQ(lint.exit_code, 0) << file << ": " << lint.err;
    EXPECT_EQ(html ? WithoutHtml5TagNotes(lint.err) : lint.err, "") << file;
  }
  // A report of `ktmsim run` of the ignore-no-vote scenario with planted bug 4.
  std::string RunPlantedBug(const std::string& extra) {
    fs::create_directory(Path("suite"));
    WriteText(Path("suite/ignore_no_vote.toml"), kIgnoreNoVoteScenario);
    const std::string out = Path("out");
    CommandResult run = Ktmsim(absl::StrCat("run ", Path("suite"), " --seeds 3 --jobs 2 --planted-bug 4 --out ", out,
                                            " ", extra));
    EXPECT_EQ(run.exit_code, 1) << run.out << run.err;
    return out;
  }

  std::string dir_;
  int commands_ = 0;
};

// Host "h<N>" of the history's Begin of `tx` ("#3 12000 h1 Begin tx=t5").
std::string BeginHost(const std::string& history, const std::string& tx) {
  for (absl::string_view line : absl::StrSplit(history, '\n')) {
    std::vector<std::string> words = absl::StrSplit(absl::StripLeadingAsciiWhitespace(line.substr(std::min<size_t>(3, line.size()))), ' ');
    if (words.size() >= 5 && words[3] == "Begin" && words[4] == "tx=" + tx) return words[2];
  }
  return "";
}

TEST_F(ReportsCliTest, RunShrinksEveryFailureAndTheShrunkRunFailsTheSameRule) {
  const std::string out = RunPlantedBug("");
  absl::StatusOr<Json> summary = reports::ParseSummary(ReadAll(out + "/summary.json"));
  ASSERT_TRUE(summary.ok()) << summary.status();
  const Json& failures = (*summary)["scenarios"][0]["failures"];
  ASSERT_FALSE(failures.empty());
  bool faults_dropped = false;
  for (const Json& failure : failures) {
    const std::string folder = out + "/" + failure["folder"].get<std::string>();
    EXPECT_TRUE(absl::StrContains(failure["replay"].get<std::string>(), "--planted-bug 4")) << failure["replay"];
    const Json result = Json::parse(ReadAll(folder + "/result.json"));
    EXPECT_EQ(result["planted_bug"], 4);
    const Json& shrink = result["shrink"];
    ASSERT_EQ(shrink["ok"], true) << shrink.dump(2);
    const std::string rule = result["violations"][0]["rule"].get<std::string>();
    EXPECT_EQ(shrink["rule"], rule);
    const double ratio = shrink["ratio"].get<double>();
    std::printf("%s: trace events %llu -> %llu (ratio %.4f), transactions %llu -> %llu, faults %llu -> %llu\n",
                failure["folder"].get<std::string>().c_str(), shrink["before"]["trace_events"].get<unsigned long long>(),
                shrink["after"]["trace_events"].get<unsigned long long>(), ratio,
                shrink["before"]["transactions"].get<unsigned long long>(),
                shrink["after"]["transactions"].get<unsigned long long>(),
                shrink["before"]["faults"].get<unsigned long long>(), shrink["after"]["faults"].get<unsigned long long>());
    EXPECT_LE(ratio, 0.5);
    EXPECT_LT(shrink["after"]["transactions"].get<uint64_t>(), shrink["before"]["transactions"].get<uint64_t>());
    EXPECT_LE(shrink["after"]["faults"].get<uint64_t>(), shrink["before"]["faults"].get<uint64_t>());
    if (shrink["after"]["faults"] < shrink["before"]["faults"]) faults_dropped = true;
    EXPECT_LE(shrink["runs"].get<int>(), shrink["budget"].get<int>());
    // Before -> after for every size, and what stopped the search.
    for (const char* size : {"hosts", "rms", "trace_lines"}) {
      EXPECT_LE(shrink["after"][size].get<uint64_t>(), shrink["before"][size].get<uint64_t>()) << size;
    }
    EXPECT_EQ(shrink["after"]["trace_lines"], shrink["after"]["trace_events"]);
    EXPECT_EQ(shrink["stopped_by"], shrink["fixed_point"].get<bool>() ? "fixed point" : "budget") << shrink.dump(2);
    // shrunk/replay.sh, run from elsewhere, fails the same rule with the recorded digest.
    const Json shrunk = Json::parse(ReadAll(folder + "/shrunk/result.json"));
    CommandResult replay = Shell(ShellQuote(folder + "/shrunk/replay.sh"), "/");
    EXPECT_EQ(replay.exit_code, 1) << replay.out << replay.err;
    EXPECT_TRUE(absl::StartsWith(replay.out, "digest " + shrunk["digest"].get<std::string>() + "\n")) << replay.out;
    EXPECT_TRUE(absl::StrContains(replay.out, "violation V1 " + rule + " ")) << replay.out;
    // The printed replay command works from the report directory.
    const std::string command = shrink["replay"].get<std::string>();
    ASSERT_TRUE(absl::StartsWith(command, "ktmsim replay failures/")) << command;
    CommandResult typed = Ktmsim(command.substr(std::string("ktmsim ").size()), out);
    EXPECT_EQ(typed.exit_code, 1) << typed.err;
    EXPECT_TRUE(absl::StartsWith(typed.out, "digest " + shrunk["digest"].get<std::string>() + "\n")) << typed.out;
    const std::string toml = ReadAll(folder + "/shrunk/scenario.toml");
    EXPECT_TRUE(absl::StrContains(toml, "name = \"ignore_no_vote-shrunk\"")) << toml.substr(0, 600);
  }
  EXPECT_TRUE(faults_dropped) << "no failure lost a fault while shrinking";
  // The suite's figures (harness::ShrinkSummary) in shrink.json.
  const Json figures = Json::parse(ReadAll(out + "/shrink.json"));
  EXPECT_EQ(figures["total"]["shrunk"].get<size_t>(), failures.size()) << figures.dump(2);
  EXPECT_EQ(figures["total"]["same_rule"], figures["total"]["shrunk"]);
  EXPECT_LE(figures["total"]["ratio_median"].get<double>(), figures["total"]["ratio_worst"].get<double>());
  EXPECT_LE(figures["total"]["ratio_worst"].get<double>(), 0.5);
  EXPECT_GT(figures["total"]["runs"].get<uint64_t>(), 0u);
  EXPECT_LE(figures["total"]["fixed_points"].get<size_t>(), failures.size());
  EXPECT_EQ(figures["scenarios"].size(), 1u);
}

TEST_F(ReportsCliTest, FailureFoldersHaveSvgJsonAndDotThatNameHostsAndTheTransaction) {
  const std::string out = RunPlantedBug("--shrink_budget 0");
  absl::StatusOr<Json> summary = reports::ParseSummary(ReadAll(out + "/summary.json"));
  ASSERT_TRUE(summary.ok()) << summary.status();
  const Json& failure = (*summary)["scenarios"][0]["failures"][0];
  const std::string folder = out + "/" + failure["folder"].get<std::string>();
  EXPECT_FALSE(fs::exists(folder + "/shrunk"));  // --shrink_budget 0
  const std::string tx = failure["violations"][0]["tx"].get<std::string>();
  const std::string host_id = BeginHost(ReadAll(folder + "/history.txt"), tx);
  ASSERT_TRUE(host_id == "h0" || host_id == "h1") << host_id;
  const std::string host = host_id == "h0" ? "alpha" : "beta";
  for (const char* picture : {"trace.svg", "states.svg"}) {
    ExpectXml(folder + "/" + picture);
    const std::string svg = ReadAll(folder + "/" + picture);
    EXPECT_TRUE(absl::StrContains(svg, "<svg")) << picture;
    EXPECT_TRUE(absl::StrContains(svg, tx)) << picture << " lacks " << tx;
  }
  const std::string trace_svg = ReadAll(folder + "/trace.svg");
  EXPECT_TRUE(absl::StrContains(trace_svg, host)) << "trace.svg lacks host " << host;
  EXPECT_TRUE(absl::StrContains(trace_svg, "#d00000")) << "no violating event drawn red";
  for (const char* dot : {"trace.dot", "states.dot"}) {
    EXPECT_TRUE(absl::StartsWith(ReadAll(folder + "/" + dot), "digraph ")) << dot;
  }
  // trace.json: Chrome trace events naming both hosts and the violating transaction.
  const Json trace = Json::parse(ReadAll(folder + "/trace.json"), nullptr, false);
  ASSERT_TRUE(trace.is_array()) << "trace.json does not parse as a JSON array";
  std::set<std::string> processes, phases;
  bool names_tx = false, violation = false;
  for (const Json& event : trace) {
    ASSERT_TRUE(event.contains("ph") && event.contains("pid")) << event.dump();
    phases.insert(event["ph"].get<std::string>());
    if (event["name"] == "process_name") processes.insert(event["args"]["name"].get<std::string>());
    if (event["name"] == "thread_name" && event["args"]["name"] == "tx " + tx) names_tx = true;
    if (absl::StartsWith(event.value("name", std::string()), "VIOLATION")) violation = true;
    if (event["ph"] != "M") {
      EXPECT_TRUE(event["ts"].is_number()) << event.dump();
    }
  }
  EXPECT_EQ(processes, (std::set<std::string>{"alpha", "beta", "world"}));
  EXPECT_TRUE(names_tx) << "no thread for " << tx;
  EXPECT_TRUE(violation);
  for (const char* phase : {"M", "X", "i", "s", "f"}) EXPECT_EQ(phases.count(phase), 1u) << phase;
  // index.html links the folder, its pictures and its replay command.
  const std::string index = ReadAll(out + "/index.html");
  ExpectXml(out + "/index.html", /*html=*/true);
  const std::string name = failure["folder"].get<std::string>();
  EXPECT_TRUE(absl::StrContains(index, "href=\"" + name + "/trace.svg\"")) << index.substr(0, 2000);
  EXPECT_TRUE(absl::StrContains(index, "src=\"" + name + "/states.svg\""));
  EXPECT_TRUE(absl::StrContains(index, "href=\"" + name + "/trace.json\""));
  EXPECT_TRUE(absl::StrContains(index, "--planted-bug 4"));
  EXPECT_TRUE(absl::StrContains(index, "<td>ignore_no_vote</td><td>3</td>"));

  // `ktmsim shrink` of the folder adds shrunk/, the figures and index.html's section.
  CommandResult shrink = Ktmsim(absl::StrCat("shrink ", folder, " --budget 80"));
  ASSERT_EQ(shrink.exit_code, 0) << shrink.out << shrink.err;
  std::printf("%s", shrink.out.c_str());
  EXPECT_TRUE(absl::StrContains(shrink.out, "(ratio ")) << shrink.out;
  // Before -> after for every size, and what stopped the search.
  for (const char* size : {"\n  transactions  60 -> ", "\n  faults  ", "\n  hosts         2 -> ",
                           "\n  rms           4 -> ", "\n  events  ", "\n  trace lines  ", "\n  stopped by    "}) {
    EXPECT_TRUE(absl::StrContains(shrink.out, size)) << size << "\n" << shrink.out;
  }
  EXPECT_TRUE(absl::StrContains(shrink.out, "replay: ktmsim replay " + folder + "/shrunk/scenario.toml")) << shrink.out;
  for (const char* file : {"scenario.toml", "schedule.txt", "replay.sh", "trace.txt", "trace.svg", "trace.dot",
                           "states.svg", "states.dot", "trace.json", "result.json"}) {
    EXPECT_TRUE(fs::exists(folder + "/shrunk/" + file)) << file;
  }
  const Json result = Json::parse(ReadAll(folder + "/result.json"));
  EXPECT_EQ(result["shrink"]["ok"], true);
  EXPECT_EQ(result["shrink"]["budget"], 80);
  EXPECT_TRUE(absl::StrContains(ReadAll(out + "/index.html"), "href=\"" + name + "/shrunk/scenario.toml\""));
  EXPECT_EQ(Ktmsim(absl::StrCat("shrink ", Path("nowhere"))).exit_code, 2);
  EXPECT_EQ(Ktmsim(absl::StrCat("shrink ", folder, " --budget 1")).exit_code, 2);
}

TEST_F(ReportsCliTest, TraceRendersAPassingSeedInEveryFormat) {
  const std::string scenario = "scenarios/single_rm.toml";
  CommandResult txt = Ktmsim(absl::StrCat("trace ", scenario, " --seed 1"));
  ASSERT_EQ(txt.exit_code, 0) << txt.err;
  EXPECT_TRUE(absl::StrContains(txt.out, "no violation: the run passed")) << txt.out.substr(0, 800);
  EXPECT_TRUE(absl::StrContains(txt.out, " tx.create ")) << txt.out.substr(0, 800);
  CommandResult dot = Ktmsim(absl::StrCat("trace ", scenario, " --seed 1 --format dot"));
  ASSERT_EQ(dot.exit_code, 0) << dot.err;
  EXPECT_TRUE(absl::StartsWith(dot.out, "digraph trace {")) << dot.out.substr(0, 200);
  CommandResult svg = Ktmsim(absl::StrCat("trace ", scenario, " --seed 1 --format svg --out ", Path("t.svg")));
  ASSERT_EQ(svg.exit_code, 0) << svg.err;
  EXPECT_TRUE(svg.out.empty());
  ExpectXml(Path("t.svg"));
  EXPECT_TRUE(absl::StrContains(ReadAll(Path("t.svg")), "node1"));
  CommandResult json = Ktmsim(absl::StrCat("trace ", scenario, " --seed 1 --format json"));
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const Json events = Json::parse(json.out, nullptr, false);
  ASSERT_TRUE(events.is_array());
  EXPECT_GT(events.size(), 100u);
  EXPECT_TRUE(absl::StrContains(json.out, "\"name\":\"node1\""));
  // A failing run renders too, and says so in the exit status.
  CommandResult failing = Ktmsim(absl::StrCat("trace ", Path("x.toml"), " --seed 1"));
  EXPECT_EQ(failing.exit_code, 2);  // no such file
  WriteText(Path("x.toml"), kIgnoreNoVoteScenario);
  const uint64_t seed = FailingSeed(IgnoreNoVoteScenario());
  CommandResult bad = Ktmsim(absl::StrCat("trace ", Path("x.toml"), " --seed ", seed, " --planted-bug 4"));
  EXPECT_EQ(bad.exit_code, 1) << bad.err;
  EXPECT_TRUE(absl::StrContains(bad.out, "planted   bug 4 (ignore-no-vote")) << bad.out.substr(0, 800);
  EXPECT_EQ(Ktmsim(absl::StrCat("trace ", scenario, " --seed 1 --format png")).exit_code, 2);
  EXPECT_EQ(Ktmsim(absl::StrCat("trace ", scenario)).exit_code, 2);  // no --seed
  EXPECT_EQ(Ktmsim(absl::StrCat("replay ", scenario, " --seed 1 --planted-bug 9")).exit_code, 2);
}

}  // namespace

TEST(MarkupEscapeTest, EscapesMarkupAndReplacesCharactersXmlForbids) {
  EXPECT_EQ(harness::MarkupEscape("a<b>&\"c\"'d'"), "a&lt;b&gt;&amp;&quot;c&quot;&#39;d&#39;");
  EXPECT_EQ(harness::MarkupEscape("line\n\tnext\r"), "line\n\tnext\r");
  EXPECT_EQ(harness::MarkupEscape(std::string("x\x01y\x7Fz\0", 6)), "x?y?z?");
  EXPECT_EQ(harness::MarkupEscape("caf\xC3\xA9"), "caf\xC3\xA9");  // UTF-8 passes through
}
