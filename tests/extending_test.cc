// docs/extending.md, as a test: a new RM kind, a new checker and the fault
// kinds' catalog, each added or read the way the doc says, and seen by the
// rooms that must know them (scenario validation, the runner, the checkers,
// coverage and the fault budgets) without editing any list elsewhere.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <iterator>
#include <memory>
#include <set>
#include <string>

#include "harness/coverage.h"
#include "harness/rm_kinds.h"
#include "harness/runner.h"
#include "harness/scenario.h"
#include "harness/scenario_toml.h"
#include "ktm/kv/kv_rm.h"
#include "model/checker_catalog.h"
#include "sim/fault_kinds.h"

namespace {

// ---- A new RM kind: one factory + one RegisterRmKind call -------------------

// The adapter of the new kind: a KvRm whose keys live under "mirror/".
class MirrorAdapter : public harness::RmAdapter {
 public:
  explicit MirrorAdapter(std::unique_ptr<ktm::kv::KvRm> rm) : rm_(std::move(rm)) {}
  void Start(std::function<void(ktm::NTSTATUS)> done) override { rm_->Start(std::move(done)); }
  bool online() const override { return rm_->online(); }
  bool recovery_done() const override { return rm_->recovery_done(); }
  size_t in_doubt() const override { return rm_->in_doubt(); }
  bool ReplayedCommit(const std::string& uow) const override { return rm_->ReplayedCommit(uow); }
  ktm::NTSTATUS Disconnect(ktm::HANDLE transaction) override { return rm_->Disconnect(transaction); }
  std::map<std::string, std::string> committed() const override { return rm_->committed(); }
  std::string HistoryKey(const std::string& key) const override { return "mirror/" + key; }
  ktm::NTSTATUS Write(ktm::HANDLE transaction, const std::string& key, const std::string& value) override {
    return rm_->Write(transaction, HistoryKey(key), value);
  }
  ktm::NTSTATUS Read(ktm::HANDLE transaction, const std::string& key, std::string* value, bool* traced) override {
    *traced = true;
    return rm_->Read(transaction, HistoryKey(key), value);
  }

 private:
  std::unique_ptr<ktm::kv::KvRm> rm_;
};

std::atomic<int> mirrors_built{0};

void RegisterMirrorKind() {
  static const absl::Status registered = harness::RegisterRmKind(
      {.name = "mirror",
       .description = "a KvRm under another key space (tests/extending_test.cc)",
       .make = [](const harness::RmKindContext& c) -> std::unique_ptr<harness::RmAdapter> {
         ++mirrors_built;
         const ktm::RmOptions base = harness::RmOptionsFor(c);
         ktm::kv::KvOptions o;
         o.name = base.name;
         o.rm_id = base.rm_id;
         o.durable = base.durable;
         o.single_phase = base.single_phase;
         o.observer = base.observer;
         return std::make_unique<MirrorAdapter>(std::make_unique<ktm::kv::KvRm>(c.kernel, c.host, c.disk, c.tm, o));
       }});
  ASSERT_TRUE(registered.ok()) << registered;
}

constexpr char kScenario[] = R"(
[[hosts]]
name = "a"

[[rms]]
name = "m1"
host = "a"
kind = "mirror"

[[rms]]
name = "k1"
host = "a"

[workload]
transactions = 40
rms_per_tx_min = 2
rms_per_tx_max = 2

[faults]
mode = "probabilities"
crash_per_second = 20
faults_until_ms = 100
)";

TEST(Extending, ANewRmKindIsLoadedBuiltAndCheckedLikeTheBuiltInOnes) {
  RegisterMirrorKind();
  const std::vector<std::string> kinds = harness::RmKindNames();
  EXPECT_NE(std::find(kinds.begin(), kinds.end(), "mirror"), kinds.end());
  // A second registration of the name is refused and changes nothing.
  EXPECT_EQ(harness::RegisterRmKind({.name = "mirror", .make = [](const harness::RmKindContext&) {
                                       return std::unique_ptr<harness::RmAdapter>();
                                     }}).code(),
            absl::StatusCode::kAlreadyExists);
  absl::StatusOr<harness::Scenario> scenario = harness::LoadScenarioString(kScenario, "mirror.toml");
  ASSERT_TRUE(scenario.ok()) << scenario.status();
  const int before = mirrors_built.load();
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    const harness::RunResult result = harness::RunScenario(*scenario, seed, {.keep_trace = false});
    EXPECT_TRUE(result.passed) << "seed " << seed << ": " << result.violations.front().message;
    EXPECT_GT(result.committed, 0u);
    // The history (and so every checker) sees the new kind's keys.
    const bool mirrored = std::any_of(result.history.events.begin(), result.history.events.end(),
                                      [](const model::HistoryEvent& e) {
                                        return e.rm == "m1" && e.key.rfind("mirror/", 0) == 0;
                                      });
    EXPECT_TRUE(mirrored) << "seed " << seed;
  }
  EXPECT_GT(mirrors_built.load(), before);  // built at every boot, crashes included
  // An unknown kind is a scenario error with "did you mean".
  std::string typo = kScenario;
  typo.replace(typo.find("\"mirror\""), 8, "\"mirorr\"");
  absl::StatusOr<harness::Scenario> bad = harness::LoadScenarioString(typo, "typo.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(std::string(bad.status().message()).find("typo.toml:8:8:"), std::string::npos) << bad.status();
  EXPECT_NE(std::string(bad.status().message()).find("mirror"), std::string::npos) << bad.status();
}

// ---- A new checker: one function + one RegisterChecker call ----------------

std::atomic<int> checks_run{0};

// Every RM that committed a transaction saw its commit requested first
// (a weaker cousin of validity, enough to show the seam).
std::vector<model::Violation> CommitFollowsRequest(const model::History& history, int64_t) {
  ++checks_run;
  std::set<std::string> requested;
  std::vector<model::Violation> out;
  for (size_t i = 0; i < history.events.size(); ++i) {
    const model::HistoryEvent& e = history.events[i];
    if (e.kind == model::EventKind::kCommitRequest) requested.insert(e.tx);
    if (e.kind == model::EventKind::kRmCommitted && !e.tx.empty() && requested.count(e.tx) == 0 &&
        e.detail != "replayed") {
      out.push_back({"commit_follows_request", e.tx, e.rm + " committed before any commit request", {i}});
    }
  }
  return out;
}

TEST(Extending, ANewCheckerIsNamedRunAndReportedLikeTheBuiltInOnes) {
  static const absl::Status registered = model::RegisterChecker(
      {"commit_follows_request", model::CheckerKind::kSafety, &CommitFollowsRequest,
       "an RM commits a transaction only after its commit was requested"});
  ASSERT_TRUE(registered.ok()) << registered;
  const std::vector<std::string> names = harness::AllCheckerNames();
  EXPECT_NE(std::find(names.begin(), names.end(), "commit_follows_request"), names.end());
  // A scenario may name it alone; the runner runs it.
  std::string text = kScenario;
  text.replace(text.find("\"mirror\""), 8, "\"kv\"");
  text += "\n[checkers]\nrun = [\"commit_follows_request\"]\n";
  absl::StatusOr<harness::Scenario> scenario = harness::LoadScenarioString(text, "checked.toml");
  ASSERT_TRUE(scenario.ok()) << scenario.status();
  const int before = checks_run.load();
  const harness::RunResult result = harness::RunScenario(*scenario, 3, {.keep_trace = false});
  EXPECT_TRUE(result.passed);
  EXPECT_EQ(checks_run.load(), before + 1);
  // And it catches what it promises to: a commit nobody requested.
  model::History tampered;
  tampered.events.push_back({.kind = model::EventKind::kBegin, .tx = "t1"});
  tampered.events.push_back({.kind = model::EventKind::kRmCommitted, .tx = "t1", .rm = "kv1"});
  const std::vector<model::Violation> found = model::CheckAll(tampered, {"commit_follows_request"}, 0);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].rule, "commit_follows_request");
}

// ---- Fault kinds: one catalog line each, read by coverage and budgets -------

TEST(Extending, FaultKindsComeFromOneCatalog) {
  const std::vector<std::string>& columns = harness::CoverageColumns();
  ASSERT_EQ(columns.size(), 1 + sim::kFaultKindCount);
  EXPECT_EQ(columns[0], "none");
  for (size_t i = 0; i < sim::kFaultKindCount; ++i) {
    EXPECT_EQ(columns[1 + i], sim::kFaultKinds[i].name);
    EXPECT_EQ(sim::FaultKindIndex(sim::kFaultKinds[i].name), i);
    for (size_t j = 0; j < i; ++j) EXPECT_NE(sim::kFaultKinds[i].rate, sim::kFaultKinds[j].rate) << "shared rate field";
  }
  // docs/faults.md lists every kind with its scenario key and budget.
  std::ifstream docs(std::string(KTMSIM_SOURCE_DIR) + "/docs/faults.md");
  const std::string text((std::istreambuf_iterator<char>(docs)), std::istreambuf_iterator<char>());
  for (const sim::FaultKindInfo& kind : sim::kFaultKinds) {
    const std::string row = "| `" + std::string(kind.name) + "` | `" + std::string(kind.rate_key) + "` | " +
                            (kind.budget == sim::FaultBudget::kBeyond ? "beyond" : "recoverable") + " |";
    EXPECT_NE(text.find(row), std::string::npos) << "docs/faults.md lacks the row " << row;
    EXPECT_EQ(sim::FaultKindIndexByKey(kind.rate_key), sim::FaultKindIndex(kind.name));
  }
  // The recoverable budget switches off exactly the catalog's beyond kinds.
  sim::FaultProbabilities all;
  for (const sim::FaultKindInfo& kind : sim::kFaultKinds) all.*kind.rate = 0.5;
  const sim::FaultProbabilities kept = sim::WithinBudget(all, sim::FaultBudget::kRecoverable);
  for (const sim::FaultKindInfo& kind : sim::kFaultKinds) {
    EXPECT_EQ(kept.*kind.rate, kind.budget == sim::FaultBudget::kBeyond ? 0 : 0.5) << kind.name;
  }
}

}  // namespace
