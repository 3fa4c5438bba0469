// The harness wiring of TxF and TxR RMs (harness/rm_adapter.h): the
// scenarios scenarios/txf_txr_commit.toml and scenarios/txf_txr_swarm.toml
// run through harness::RunScenario, and the history must show the file and
// registry RMs taking part in committed transactions under their own key
// names ("\d\k<N>", "HKLM\Software\ktmsim\k<N>\v"), with final values, reads,
// deletes and cross-host transactions; planted engine bugs must be caught
// on them with a violation at a TxF or TxR RM. Also the scenario keys that
// drive deletes and moves (delete_fraction, move_fraction) and their checks.
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
#include "ktm/bugs.h"
#include "model/history.h"

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

// What the histories of several runs say about one RM.
struct RmSummary {
  uint64_t committed = 0;              // kRmCommitted events
  uint64_t writes = 0, deletes = 0;    // kWrite events (deletes: value "")
  uint64_t reads = 0, absent_reads = 0;
  uint64_t final_values = 0, final_present = 0;
  std::set<std::string> keys;          // every key of its events
};

std::map<std::string, RmSummary> Summarize(const std::vector<RunResult>& runs) {
  std::map<std::string, RmSummary> out;
  for (const RunResult& r : runs) {
    for (const model::HistoryEvent& e : r.history.events) {
      if (e.rm.empty()) continue;
      RmSummary& s = out[e.rm];
      if (!e.key.empty()) s.keys.insert(e.key);
      switch (e.kind) {
        case EventKind::kRmCommitted: ++s.committed; break;
        case EventKind::kWrite: ++(e.value.empty() ? s.deletes : s.writes); break;
        case EventKind::kRead:
          ++s.reads;
          if (e.detail == "absent") ++s.absent_reads;
          break;
        case EventKind::kFinalValue:
          ++s.final_values;
          if (!e.value.empty()) ++s.final_present;
          break;
        default: break;
      }
    }
  }
  return out;
}

std::vector<RunResult> RunSeeds(const Scenario& scenario, uint64_t seeds, uint32_t planted_bug = 0) {
  std::vector<RunResult> runs;
  for (uint64_t seed = 1; seed <= seeds; ++seed) {
    RunOptions options;
    options.keep_trace = false;
    options.planted_bug = planted_bug;
    runs.push_back(RunScenario(scenario, seed, options));
  }
  return runs;
}

bool AllKeysStartWith(const RmSummary& s, const std::string& prefix) {
  for (const std::string& key : s.keys) {
    if (!absl::StartsWith(key, prefix)) return false;
  }
  return !s.keys.empty();
}

TEST(TxfTxrHarness, CommitScenarioCommitsOnFileAndRegistryRmsUnderTheirOwnKeys) {
  const Scenario scenario = Load("txf_txr_commit");
  const std::vector<RunResult> runs = RunSeeds(scenario, 8);
  for (const RunResult& r : runs) EXPECT_TRUE(r.passed) << "seed " << r.seed << Failures(r);
  std::map<std::string, RmSummary> rms = Summarize(runs);
  const RmSummary& files = rms["files"];
  const RmSummary& registry = rms["registry"];
  const RmSummary& kv = rms["kv1"];
  // Each RM committed transactions and wrote, read and (files, registry) deleted.
  for (const RmSummary* s : {&files, &registry, &kv}) {
    EXPECT_GT(s->committed, 20u);
    EXPECT_GT(s->writes, 20u);
    EXPECT_GT(s->reads, 5u);
  }
  EXPECT_GT(files.deletes, 0u);
  EXPECT_GT(registry.deletes, 0u);
  EXPECT_EQ(kv.deletes, 0u);
  // The RMs' own key names: the kv RM's "k<N>", a file path, a registry value.
  EXPECT_TRUE(AllKeysStartWith(files, "\\d\\k"));
  EXPECT_TRUE(AllKeysStartWith(registry, "HKLM\\Software\\ktmsim\\k"));
  EXPECT_TRUE(AllKeysStartWith(kv, "k"));
  // Final values: one per workload key per run (the RMs end online), most present.
  const uint64_t keys_per_run = scenario.workload.keys;
  for (const RmSummary* s : {&files, &registry, &kv}) {
    EXPECT_EQ(s->final_values, keys_per_run * runs.size());
    EXPECT_GT(s->final_present, s->final_values / 2);
  }
  // Before anybody commits "\d" or a key, reads of it find nothing: recorded as reads of "".
  EXPECT_GT(files.absent_reads + registry.absent_reads, 0u);
  EXPECT_EQ(kv.absent_reads, 0u);
}

// A transaction that committed at all three RMs, with the final value of one
// of its file writes being exactly what it wrote (a file's history value is
// its ContentDigest, a registry value's its ValueText).
TEST(TxfTxrHarness, TransactionsSpanAllThreeKindsAndTheirWritesAreFinal) {
  const Scenario scenario = Load("txf_txr_commit");
  uint64_t spanning = 0, final_matches = 0;
  for (const RunResult& r : RunSeeds(scenario, 4)) {
    std::map<std::string, std::set<std::string>> committed_at;  // tx -> rms
    std::map<std::pair<std::string, std::string>, std::string> final_value;  // (rm, key) -> value
    for (const model::HistoryEvent& e : r.history.events) {
      if (e.kind == EventKind::kRmCommitted) committed_at[e.tx].insert(e.rm);
      if (e.kind == EventKind::kFinalValue) final_value[{e.rm, e.key}] = e.value;
    }
    for (const auto& [tx, rms] : committed_at) spanning += rms.size() == 3 ? 1 : 0;
    for (const model::HistoryEvent& e : r.history.events) {
      if (e.kind != EventKind::kWrite || e.value.empty() || committed_at[e.tx].count(e.rm) == 0) continue;
      if (e.rm != "kv1" && final_value[{e.rm, e.key}] == e.value) ++final_matches;
    }
  }
  EXPECT_GT(spanning, 5u);
  EXPECT_GT(final_matches, 20u);
}

TEST(TxfTxrHarness, SwarmScenarioPassesWithDistributedTransactionsOnFileAndRegistryRms) {
  const Scenario scenario = Load("txf_txr_swarm");
  const std::vector<RunResult> runs = RunSeeds(scenario, 12);
  uint64_t faults = 0, cross_host = 0, remote_absent_reads = 0;
  for (const RunResult& r : runs) {
    EXPECT_TRUE(r.passed) << "seed " << r.seed << Failures(r);
    faults += r.faults_injected;
    // A read of an absent file or key made through another host's DTC is
    // filed under the root transaction's name, like the RM's own events.
    std::map<std::string, uint32_t> begin_host;
    for (const model::HistoryEvent& e : r.history.events) {
      if (e.kind == EventKind::kBegin) begin_host[e.tx] = e.host;
      if (e.kind != EventKind::kRead || e.detail != "absent") continue;
      ASSERT_TRUE(begin_host.count(e.tx)) << "seed " << r.seed << ": absent read of unknown tx " << e.tx;
      remote_absent_reads += begin_host[e.tx] != e.host ? 1 : 0;
    }
    std::map<std::string, std::set<std::string>> committed_at;
    for (const model::HistoryEvent& e : r.history.events) {
      if (e.kind == EventKind::kRmCommitted) committed_at[e.tx].insert(e.rm);
    }
    for (const auto& [tx, rms] : committed_at) {
      const bool node1 = rms.count("files1") || rms.count("registry1");
      const bool node2 = rms.count("files2") || rms.count("registry2");
      cross_host += node1 && node2 ? 1 : 0;
    }
  }
  EXPECT_GT(faults, 0u);
  EXPECT_GT(cross_host, 0u);
  EXPECT_GT(remote_absent_reads, 0u);
  std::map<std::string, RmSummary> rms = Summarize(runs);
  for (const std::string name : {"files1", "registry1", "files2", "registry2"}) {
    EXPECT_GT(rms[name].committed, 10u) << name;
  }
}

// Planted engine bugs (ktm/bugs.h) must be caught on the new scenario, by a
// violation whose evidence includes an event at a TxF or TxR RM.
void ExpectCaughtAtFileOrRegistryRm(uint32_t bug, uint64_t seeds_max) {
  const Scenario scenario = Load("txf_txr_commit");
  uint64_t caught_at = 0;
  for (uint64_t seed = 1; seed <= seeds_max && caught_at == 0; ++seed) {
    RunOptions options;
    options.keep_trace = false;
    options.planted_bug = bug;
    const RunResult r = RunScenario(scenario, seed, options);
    for (const Violation& v : r.violations) {
      for (size_t index : v.events) {
        const std::string& rm = r.history.events.at(index).rm;
        if (rm == "files" || rm == "registry") caught_at = seed;
      }
    }
  }
  EXPECT_NE(caught_at, 0u) << "planted bug " << bug << " not caught at a TxF/TxR RM within " << seeds_max
                           << " seeds";
}

TEST(TxfTxrHarness, PlantedSkipCommitRecordIsCaught) { ExpectCaughtAtFileOrRegistryRm(ktm::kBugSkipCommitRecord, 10); }

TEST(TxfTxrHarness, PlantedIgnoreNoVoteIsCaught) { ExpectCaughtAtFileOrRegistryRm(ktm::kBugIgnoreNoVote, 20); }

// Deletes and moves only where the RM has them; the keys round-trip.
TEST(TxfTxrHarness, DeleteAndMoveFractionsAreCheckedPerKind) {
  Scenario s = Load("txf_txr_commit");
  ASSERT_EQ(s.rms.size(), 3u);
  EXPECT_TRUE(Validate(s).ok());
  Scenario kv_delete = s;
  kv_delete.rms[0].delete_fraction = 0.1;  // kv1
  EXPECT_TRUE(absl::StrContains(Validate(kv_delete).message(), "rms[0].delete_fraction"));
  Scenario txr_move = s;
  txr_move.rms[2].move_fraction = 0.1;  // registry
  EXPECT_TRUE(absl::StrContains(Validate(txr_move).message(), "rms[2].move_fraction"));
  Scenario too_much = s;
  too_much.rms[1].delete_fraction = 0.6;  // files: 0.6 + 0.1 moves is fine, 0.6 + 0.5 is not
  EXPECT_TRUE(Validate(too_much).ok());
  too_much.rms[1].move_fraction = 0.5;
  EXPECT_FALSE(Validate(too_much).ok());
  absl::StatusOr<Scenario> back = LoadScenarioString(ScenarioToToml(s), "round-trip.toml");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->rms[1].kind, "txf");
  EXPECT_EQ(back->rms[1].delete_fraction, 0.1);
  EXPECT_EQ(back->rms[1].move_fraction, 0.1);
  EXPECT_EQ(back->rms[2].kind, "txr");
  EXPECT_EQ(back->rms[2].delete_fraction, 0.1);
}

// One seed, one run: the adapters, deletes and moves (their own random
// stream) and the recorded absent reads depend on nothing else.
TEST(TxfTxrHarness, RunsAreDeterministic) {
  const Scenario scenario = Load("txf_txr_swarm");
  for (uint64_t seed : {3u, 7u}) {
    const RunResult a = RunScenario(scenario, seed, {.keep_trace = false});
    const RunResult b = RunScenario(scenario, seed, {.keep_trace = false});
    EXPECT_EQ(a.digest, b.digest);
    EXPECT_EQ(a.history.ToText(), b.history.ToText());
  }
}

}  // namespace
}  // namespace harness
