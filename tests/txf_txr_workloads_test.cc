// Issue 18's scenario workloads through harness::RunScenario:
// scenarios/txr_volatile_keys.toml (TxR volatile keys under crashes, local
// and through the DTCs) and scenarios/txf_share_modes.toml (non-transacted
// TxF writers against transactions, both share-mode directions, under
// crashes). Each passes over seeds and its history shows the piece really
// ran: volatile writes committed and then lost in a crash (which the
// checkers accepted), granted and refused non-transacted opens, transacted
// opens refused with STATUS_TRANSACTIONAL_CONFLICT. And
// scenarios/dist_request_outcome.toml: prepared RMs asking for the outcome
// (TmRequestOutcomeEnlistment) in distributed transactions under message
// loss and crashes get the global decision. Also: the options are
// checked at load with file:line, default off, and round-trip.
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "harness/runner.h"
#include "harness/scenario.h"
#include "harness/scenario_toml.h"
#include "harness/scenario_toml_writer.h"
#include "model/history.h"
#include "sim/trace.h"

namespace harness {
namespace {

using model::EventKind;

const std::string kSourceDir = KTMSIM_SOURCE_DIR;

Scenario Load(const std::string& name) {
  absl::StatusOr<Scenario> scenario = LoadScenarioFile(kSourceDir + "/scenarios/" + name + ".toml");
  EXPECT_TRUE(scenario.ok()) << scenario.status().message();
  return scenario.ok() ? *scenario : Scenario{};
}

std::string Failures(const RunResult& r) {
  std::string text;
  for (const Violation& v : r.violations) absl::StrAppend(&text, "\n  ", v.rule, " ", v.tx, ": ", v.message);
  return text;
}

RunResult RunSeed(const Scenario& scenario, uint64_t seed) {
  RunOptions options;
  options.keep_trace = false;
  return RunScenario(scenario, seed, options);
}

TEST(TxrVolatileKeys, ScenarioPassesAndVolatileKeysDieWithTheirHost) {
  const Scenario scenario = Load("txr_volatile_keys");
  uint64_t volatile_writes = 0, stable_writes = 0, remote_volatile_writes = 0, lost_after_commit = 0,
           crashes = 0, volatile_finals_present = 0;
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    const RunResult r = RunSeed(scenario, seed);
    EXPECT_TRUE(r.passed) << "seed " << seed << Failures(r);
    std::map<std::string, uint32_t> begin_host;
    std::set<std::string> committed;  // "tx rm"
    std::map<uint32_t, size_t> last_crash;
    for (size_t i = 0; i < r.history.events.size(); ++i) {
      const model::HistoryEvent& e = r.history.events[i];
      if (e.kind == EventKind::kBegin) begin_host[e.tx] = e.host;
      if (e.kind == EventKind::kRmCommitted) committed.insert(e.tx + " " + e.rm);
      if (e.kind == EventKind::kCrash) {
        ++crashes;
        last_crash[e.host] = i;
      }
      if (e.kind == EventKind::kFinalValue && e.detail.empty() && !e.value.empty() &&
          absl::StrContains(e.key, "\\volatile\\")) {
        ++volatile_finals_present;
      }
      if (e.kind != EventKind::kWrite || e.rm.rfind("registry", 0) != 0) continue;
      const bool is_volatile = e.detail == "volatile";
      // Volatile writes are exactly the writes of keys under ...\volatile.
      EXPECT_EQ(is_volatile, absl::StartsWith(e.key, "HKLM\\Software\\ktmsim\\volatile\\k")) << e.ToText();
      ++(is_volatile ? volatile_writes : stable_writes);
      if (is_volatile && begin_host.count(e.tx) && begin_host[e.tx] != e.host) ++remote_volatile_writes;
    }
    // Committed volatile writes followed by a crash of their host: the
    // checkers expected them gone (the run passed).
    for (size_t i = 0; i < r.history.events.size(); ++i) {
      const model::HistoryEvent& e = r.history.events[i];
      if (e.kind != EventKind::kWrite || e.detail != "volatile" || e.value.empty()) continue;
      auto crash = last_crash.find(e.host);
      if (committed.count(e.tx + " " + e.rm) && crash != last_crash.end() && crash->second > i) ++lost_after_commit;
    }
  }
  EXPECT_GT(crashes, 10u);
  EXPECT_GT(volatile_writes, 100u);
  EXPECT_GT(stable_writes, 100u);
  EXPECT_GT(remote_volatile_writes, 5u);
  EXPECT_GT(lost_after_commit, 10u);
  EXPECT_GT(volatile_finals_present, 5u);  // some survive: written after the last crash
}

TEST(TxfShareModes, ScenarioPassesAndBothDirectionsAreRefused) {
  const Scenario scenario = Load("txf_share_modes");
  uint64_t granted = 0, closed = 0, sharing_violations = 0, transactional_conflicts = 0, crashes = 0;
  std::map<std::string, uint64_t> seen;  // "<tx or -> <detail>" -> count, for the failure message
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    const RunResult r = RunSeed(scenario, seed);
    EXPECT_TRUE(r.passed) << "seed " << seed << Failures(r);
    for (const model::HistoryEvent& e : r.history.events) {
      if (e.kind == EventKind::kCrash) ++crashes;
      if (e.kind != EventKind::kOpen) continue;
      ++seen[absl::StrCat(e.tx.empty() ? "- " : "tx ", e.detail)];
      if (e.tx.empty() && e.detail == "write") ++granted;
      if (e.tx.empty() && e.detail == "close") ++closed;
      if (e.tx.empty() && absl::StartsWith(e.detail, "refused STATUS_SHARING_VIOLATION ")) ++sharing_violations;
      if (!e.tx.empty() && absl::StartsWith(e.detail, "refused STATUS_TRANSACTIONAL_CONFLICT ")) ++transactional_conflicts;
    }
  }
  std::string summary;
  for (const auto& [what, count] : seen) absl::StrAppend(&summary, "\n  ", what, ": ", count);
  SCOPED_TRACE(summary);
  EXPECT_GT(crashes, 5u);
  EXPECT_GT(granted, 30u);
  EXPECT_GT(closed, 20u);
  EXPECT_GE(granted, closed);  // a crash drops a hold without a close
  EXPECT_GT(sharing_violations, 10u);       // a transaction held the file first
  EXPECT_GT(transactional_conflicts, 10u);  // a non-transacted writer held it first
}

// Prepared RMs ask for the outcome; on participant hosts the DTC asks the
// coordinator. What each asking RM then did is what the transaction's
// other RMs and its client saw.
TEST(DistRequestOutcome, ScenarioPassesAndAskingRmsGetTheGlobalDecision) {
  const Scenario scenario = Load("dist_request_outcome");
  uint64_t requests = 0, remote_requests = 0, answered_committed = 0, answered_aborted = 0, dtc_asked = 0;
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    RunOptions options;
    options.keep_trace = true;
    const RunResult r = RunScenario(scenario, seed, options);
    EXPECT_TRUE(r.passed) << "seed " << seed << Failures(r);
    for (const sim::TraceEvent& t : r.trace) {
      if (t.kind == "dist.notify" && t.Field("n") == "REQUEST_OUTCOME") ++dtc_asked;
    }
    const std::vector<model::HistoryEvent>& events = r.history.events;
    std::map<std::string, uint32_t> begin_host;
    std::map<std::string, std::set<std::string>> decided;  // tx -> {"committed", "aborted"} over RMs and client
    for (const model::HistoryEvent& e : events) {
      if (e.kind == EventKind::kBegin) begin_host[e.tx] = e.host;
      if (e.kind == EventKind::kRmCommitted) decided[e.tx].insert("committed");
      if (e.kind == EventKind::kRmAborted) decided[e.tx].insert("aborted");
      if (e.kind == EventKind::kOutcome) decided[e.tx].insert(e.detail);
    }
    for (size_t i = 0; i < events.size(); ++i) {
      const model::HistoryEvent& asked = events[i];
      if (asked.kind != EventKind::kRequestOutcome) continue;
      ++requests;
      if (begin_host.count(asked.tx) && begin_host[asked.tx] != asked.host) ++remote_requests;
      for (size_t j = i + 1; j < events.size(); ++j) {
        const model::HistoryEvent& e = events[j];
        if (e.tx != asked.tx || e.rm != asked.rm) continue;
        if (e.kind != EventKind::kRmCommitted && e.kind != EventKind::kRmAborted) continue;
        const std::string got = e.kind == EventKind::kRmCommitted ? "committed" : "aborted";
        ++(got == "committed" ? answered_committed : answered_aborted);
        EXPECT_EQ(decided[asked.tx], std::set<std::string>{got}) << "seed " << seed << ": " << asked.ToText();
        break;
      }
    }
  }
  EXPECT_GT(requests, 20u);
  EXPECT_GT(remote_requests, 10u);
  EXPECT_GT(dtc_asked, 10u);
  EXPECT_GT(answered_committed, 10u);
  EXPECT_GT(answered_aborted, 0u);
}

// The options are off by default: scenarios that do not name them run and
// write themselves as before.
TEST(Issue18Options, DefaultOffAndRoundTrip) {
  const RmSpec defaults;
  EXPECT_EQ(defaults.volatile_fraction, 0);
  EXPECT_EQ(defaults.nontransacted_open_fraction, 0);
  EXPECT_EQ(defaults.request_outcome_after_ns, 0);
  const Scenario plain = Load("txf_txr_commit");
  EXPECT_FALSE(absl::StrContains(ScenarioToToml(plain), "volatile_fraction"));
  EXPECT_FALSE(absl::StrContains(ScenarioToToml(plain), "nontransacted"));
  EXPECT_FALSE(absl::StrContains(ScenarioToToml(plain), "request_outcome"));
  for (const std::string name : {"txr_volatile_keys", "txf_share_modes", "dist_request_outcome"}) {
    const Scenario s = Load(name);
    absl::StatusOr<Scenario> back = LoadScenarioString(ScenarioToToml(s), "round-trip.toml");
    ASSERT_TRUE(back.ok()) << back.status().message();
    ASSERT_EQ(back->rms.size(), s.rms.size());
    for (size_t i = 0; i < s.rms.size(); ++i) {
      EXPECT_EQ(back->rms[i].volatile_fraction, s.rms[i].volatile_fraction);
      EXPECT_EQ(back->rms[i].nontransacted_open_fraction, s.rms[i].nontransacted_open_fraction);
      EXPECT_EQ(back->rms[i].nontransacted_hold_ns, s.rms[i].nontransacted_hold_ns);
      EXPECT_EQ(back->rms[i].request_outcome_after_ns, s.rms[i].request_outcome_after_ns);
    }
  }
}

TEST(Issue18Options, RefusedAtLoadWithFileAndLine) {
  const std::string text = R"([[hosts]]
name = "node1"

[[rms]]
name = "files"
host = "node1"
kind = "txf"
volatile_fraction = 0.2

[[rms]]
name = "registry"
host = "node1"
kind = "txr"
nontransacted_open_fraction = 0.1

[[rms]]
name = "kv"
host = "node1"
volatile_fraction = 1.5
nontransacted_hold_ms = -1
request_outcome_after_ms = 2
)";
  absl::StatusOr<Scenario> s = LoadScenarioString(text, "bad.toml");
  ASSERT_FALSE(s.ok());
  const std::string message(s.status().message());
  EXPECT_TRUE(absl::StrContains(message, "bad.toml:8:")) << message;
  EXPECT_TRUE(absl::StrContains(message, "must be 0 for a txf RM (its kind has no volatile keys")) << message;
  EXPECT_TRUE(absl::StrContains(message, "bad.toml:14:")) << message;
  EXPECT_TRUE(absl::StrContains(message, "must be 0 for a txr RM (its kind has no file opens")) << message;
  EXPECT_TRUE(absl::StrContains(message, "bad.toml:19:")) << message;
  EXPECT_TRUE(absl::StrContains(message, "bad.toml:20:")) << message;
  EXPECT_TRUE(absl::StrContains(message, "bad.toml:21:")) << message;
  EXPECT_TRUE(absl::StrContains(message, "only txf and txr RMs request outcomes")) << message;
}

TEST(Issue18Options, RunsAreDeterministic) {
  for (const std::string name : {"txr_volatile_keys", "txf_share_modes", "dist_request_outcome"}) {
    const Scenario scenario = Load(name);
    const RunResult a = RunSeed(scenario, 5);
    const RunResult b = RunSeed(scenario, 5);
    EXPECT_EQ(a.digest, b.digest) << name;
    EXPECT_EQ(a.history.ToText(), b.history.ToText()) << name;
  }
}

}  // namespace
}  // namespace harness
