// Crash recovery of TxF and TxR together with the example KvRm on one host:
// a transaction that touches a file, a registry value and a KV key is
// crashed after every trace event of its commit (several crash seeds so
// in-flight log blocks tear differently), the host restarts and recovers,
// and all three RMs must agree on the outcome, keep an acknowledged commit
// and show nothing of a rolled-back one. Also: a second crash during
// recovery, the forced-log-write table of docs/ktm-logging.md for both RMs,
// and the model/ checkers run unchanged over histories recorded from the
// RMs' "kv.*" trace events of random concurrent workloads with crashes.
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "ktm/api.h"
#include "model/checkers.h"
#include "model/history.h"
#include "sim/rng.h"
#include "tests/txf_txr_rig.h"

namespace ktmtest {
namespace {

using namespace ktm;  // NOLINT
using txf::GENERIC_READ;
using txf::GENERIC_WRITE;
using txr::HKEY_CURRENT_USER;
using txr::KEY_ALL_ACCESS;

// ---- crash after every step --------------------------------------------------------------

struct Outcome {
  std::string file;   // committed contents of \d\f ("<absent>")
  std::string value;  // committed HKCU\App\Sub\v ("<absent>")
  std::string kv;     // committed kv key "k" ("" = absent)
  bool dir = false;   // \d exists
  bool key = false;   // HKCU\App\Sub exists (before: the old key; after: the re-created one)
  size_t in_doubt = 0;
};

Outcome Observe(TxfTxrRig& rig) {
  Outcome o;
  o.file = rig.txf().CommittedContents("\\d\\f").value_or("<absent>");
  auto values = rig.txr().committed();
  o.value = values.count("HKCU\\App\\Sub\\v") ? values.at("HKCU\\App\\Sub\\v") : "<absent>";
  EXPECT_EQ(rig.kv().Read(INVALID_HANDLE_VALUE, "k", &o.kv), STATUS_SUCCESS);
  o.dir = rig.txf().committed_directories().count("\\d") > 0;
  o.key = rig.txr().committed_keys().count("HKCU\\App\\Sub") > 0;
  o.in_doubt = rig.kv().in_doubt() + rig.txf().in_doubt() + rig.txr().in_doubt();
  return o;
}

const Outcome kBefore{"<absent>", "REG_SZ:old", "old", false, true, 0};
const Outcome kAfter{"new", "REG_SZ:new", "new", true, true, 0};

bool Same(const Outcome& a, const Outcome& b) {
  return a.file == b.file && a.value == b.value && a.kv == b.kv && a.dir == b.dir && a.key == b.key;
}

struct CrashRun {
  bool acked = false;
  bool crashed = false;
  Outcome outcome;
  int64_t events_after_commit = 0;
};

// Which RMs the transaction under test touches: all three (two-phase
// commit, with the TxF and TxR log disks slower than the others so their
// prepare forces finish last), or only TxF / only TxR (single-phase commit).
enum class Scope { kAll, kTxfOnly, kTxrOnly };

TxfTxrRigConfig ConfigFor(Scope scope) {
  TxfTxrRigConfig c;
  if (scope == Scope::kAll) c.rm_disk_extra_latency_ns = 3 * sim::kMillisecond;
  return c;
}

// What the transaction under test leaves when it commits / rolls back.
Outcome Expected(Scope scope, bool committed) {
  Outcome o = committed ? kAfter : kBefore;
  if (scope == Scope::kTxfOnly) {
    o.value = kBefore.value;
    o.kv = kBefore.kv;
  }
  if (scope == Scope::kTxrOnly) {
    o.file = kBefore.file;
    o.dir = kBefore.dir;
    o.kv = kBefore.kv;
  }
  return o;
}

// The committed state before: HKCU\App\Sub\v = "old" (no \d, no file), kv k = "old".
void Prepare(TxfTxrRig& rig, HANDLE* tx, Scope scope) {
  HANDLE key = INVALID_HANDLE_VALUE;
  ASSERT_EQ(rig.txr().RegCreateKeyTransacted(HKEY_CURRENT_USER, "App", 0, KEY_ALL_ACCESS, &key, nullptr,
                                             INVALID_HANDLE_VALUE),
            STATUS_SUCCESS);
  ASSERT_EQ(rig.txr().RegSetValueEx(key, "old", txr::REG_SZ, txr::RegSz("x")), STATUS_SUCCESS);
  HANDLE setup = rig.Begin();
  HANDLE sub = INVALID_HANDLE_VALUE;
  ASSERT_EQ(rig.txr().RegCreateKeyTransacted(HKEY_CURRENT_USER, "App\\Sub", 0, KEY_ALL_ACCESS, &sub, nullptr, setup),
            STATUS_SUCCESS);
  ASSERT_EQ(rig.txr().RegSetValueEx(sub, "v", txr::REG_SZ, txr::RegSz("old")), STATUS_SUCCESS);
  ASSERT_EQ(rig.kv().Write(setup, "k", "old"), STATUS_SUCCESS);
  ASSERT_EQ(rig.Commit(setup), STATUS_SUCCESS);
  // The transaction under test: a directory and a file, a value (its key re-created), a KV key.
  *tx = rig.Begin();
  if (scope != Scope::kTxrOnly) {
    ASSERT_EQ(rig.txf().CreateDirectoryTransacted("\\d", *tx), STATUS_SUCCESS);
    HANDLE f = INVALID_HANDLE_VALUE;
    ASSERT_EQ(rig.txf().CreateFileTransacted("\\d\\f", GENERIC_WRITE, txf::CREATE_NEW, *tx, &f), STATUS_SUCCESS);
    ASSERT_EQ(rig.txf().WriteFile(f, 0, "new"), STATUS_SUCCESS);
    ASSERT_EQ(rig.txf().CloseFileHandle(f), STATUS_SUCCESS);
  }
  if (scope != Scope::kTxfOnly) {
    ASSERT_EQ(rig.txr().RegDeleteKeyTransacted(HKEY_CURRENT_USER, "App\\Sub", 0, *tx), STATUS_SUCCESS);
    ASSERT_EQ(rig.txr().RegCreateKeyTransacted(HKEY_CURRENT_USER, "App\\Sub", 0, KEY_ALL_ACCESS, &sub, nullptr, *tx),
              STATUS_SUCCESS);
    ASSERT_EQ(rig.txr().RegSetValueEx(sub, "v", txr::REG_SZ, txr::RegSz("new")), STATUS_SUCCESS);
  }
  if (scope == Scope::kAll) {
    ASSERT_EQ(rig.kv().Write(*tx, "k", "new"), STATUS_SUCCESS);
  }
  rig.Settle();
}

// Crash after the n-th event of host 0 that follows the commit request (n < 0: no crash).
CrashRun RunWithCrashAt(Scope scope, int64_t n, uint64_t crash_seed) {
  TxfTxrRig rig(500, ConfigFor(scope));
  CrashRun run;
  HANDLE tx = INVALID_HANDLE_VALUE;
  Prepare(rig, &tx, scope);
  if (!Same(Observe(rig), kBefore)) ADD_FAILURE() << "setup did not commit";
  int64_t seen = 0;
  rig.world().trace().set_observer([&](const sim::TraceEvent& e) {
    if (e.host != 0) return;
    ++run.events_after_commit;
    if (seen++ == n) {
      run.crashed = true;
      rig.world().scheduler().After(0, [&rig, crash_seed] { rig.host()->Crash(crash_seed); });
    }
  });
  CommitTransaction(rig.k(), tx, [&](NTSTATUS s) { run.acked = s == STATUS_SUCCESS; });
  rig.Settle();
  rig.world().trace().set_observer(nullptr);
  if (run.crashed) {
    EXPECT_TRUE(rig.host()->Restart());
    rig.Boot();
  }
  EXPECT_TRUE(rig.ready());
  run.outcome = Observe(rig);
  return run;
}

void CrashAfterEveryStep(Scope scope, int64_t events_min) {
  CrashRun clean = RunWithCrashAt(scope, -1, 0);
  ASSERT_TRUE(clean.acked);
  ASSERT_TRUE(Same(clean.outcome, Expected(scope, true)));
  ASSERT_GT(clean.events_after_commit, events_min);
  int committed = 0, rolled_back = 0;
  for (int64_t n = 0; n < clean.events_after_commit; ++n) {
    for (uint64_t crash_seed : {1u, 2u, 3u}) {
      CrashRun run = RunWithCrashAt(scope, n, crash_seed);
      SCOPED_TRACE(testing::Message() << "crash after event " << n << " seed " << crash_seed);
      ASSERT_TRUE(run.crashed);
      bool after = Same(run.outcome, Expected(scope, true)), before = Same(run.outcome, Expected(scope, false));
      EXPECT_TRUE(after || before) << "partial outcome: file=" << run.outcome.file << " value=" << run.outcome.value
                                   << " kv=" << run.outcome.kv << " dir=" << run.outcome.dir
                                   << " key=" << run.outcome.key;
      if (run.acked) {
        EXPECT_TRUE(after) << "an acknowledged commit was lost";
      }
      EXPECT_EQ(run.outcome.in_doubt, 0u) << "a prepared transaction was left in doubt";
      (after ? committed : rolled_back)++;
    }
  }
  // Both outcomes must be reachable, or the crash points miss the decision.
  EXPECT_GT(committed, 0);
  EXPECT_GT(rolled_back, 0);
}

TEST(TxfTxrRecovery, CrashAfterEveryStepOfACommitAcrossTxfTxrAndKv) { CrashAfterEveryStep(Scope::kAll, 40); }

TEST(TxfTxrRecovery, CrashAfterEveryStepOfASinglePhaseTxfCommit) { CrashAfterEveryStep(Scope::kTxfOnly, 8); }

TEST(TxfTxrRecovery, CrashAfterEveryStepOfASinglePhaseTxrCommit) { CrashAfterEveryStep(Scope::kTxrOnly, 8); }

TEST(TxfTxrRecovery, SecondCrashDuringRecoveryStillCommits) {
  for (int64_t n = 0; n < 60; n += 3) {
    TxfTxrRig rig(600);
    HANDLE tx = INVALID_HANDLE_VALUE;
    Prepare(rig, &tx, Scope::kAll);
    bool first = true;
    rig.world().trace().set_observer([&](const sim::TraceEvent& e) {
      if (first && e.kind == "ktm.log_forced") {  // the commit decision is durable
        first = false;
        rig.world().scheduler().After(0, [&rig] { rig.host()->Crash(7); });
      }
    });
    CommitTransaction(rig.k(), tx, [](NTSTATUS) {});
    rig.Settle();
    ASSERT_FALSE(first);
    int64_t seen = 0;
    rig.world().trace().set_observer([&](const sim::TraceEvent&) {
      if (seen++ == n) rig.world().scheduler().After(0, [&rig] { rig.host()->Crash(8); });
    });
    ASSERT_TRUE(rig.host()->Restart());
    rig.Boot();
    rig.world().trace().set_observer(nullptr);
    if (!rig.host()->up()) {
      ASSERT_TRUE(rig.host()->Restart());
      rig.Boot();
    }
    ASSERT_TRUE(rig.ready());
    Outcome o = Observe(rig);
    EXPECT_TRUE(Same(o, kAfter)) << "n=" << n << " file=" << o.file << " value=" << o.value << " kv=" << o.kv;
    EXPECT_EQ(o.in_doubt, 0u) << "n=" << n;
  }
}

// ---- forced writes per commit ---------------------------------------------------------------

struct Forced {
  uint64_t tm = 0, kv = 0, txf = 0, txr = 0;
  bool operator==(const Forced&) const = default;
};

enum class Case { kTxfAlone, kTxrAlone, kTxfTxr, kAllThree, kTxfPlusReadOnlyTxr, kAllReadOnly, kRollback };

Forced Measure(Case c) {
  TxfTxrRig rig(700);
  HANDLE key = INVALID_HANDLE_VALUE;
  EXPECT_EQ(rig.txr().RegCreateKeyTransacted(HKEY_CURRENT_USER, "K", 0, KEY_ALL_ACCESS, &key, nullptr,
                                             INVALID_HANDLE_VALUE),
            STATUS_SUCCESS);
  HANDLE f = INVALID_HANDLE_VALUE;
  EXPECT_EQ(rig.txf().CreateFileTransacted("\\f", GENERIC_WRITE, txf::CREATE_NEW, INVALID_HANDLE_VALUE, &f),
            STATUS_SUCCESS);
  EXPECT_EQ(rig.txf().CloseFileHandle(f), STATUS_SUCCESS);
  rig.Settle();  // the non-transacted setup's own forces are done
  Forced before{rig.k().forced_log_writes(), rig.kv().forced_log_writes(), rig.txf().forced_log_writes(),
                rig.txr().forced_log_writes()};
  HANDLE tx = rig.Begin();
  auto write_file = [&] {
    EXPECT_EQ(rig.txf().CreateFileTransacted("\\f", GENERIC_WRITE, txf::OPEN_EXISTING, tx, &f), STATUS_SUCCESS);
    EXPECT_EQ(rig.txf().WriteFile(f, 0, "x"), STATUS_SUCCESS);
  };
  auto read_file = [&] {
    EXPECT_EQ(rig.txf().CreateFileTransacted("\\f", GENERIC_READ, txf::OPEN_EXISTING, tx, &f), STATUS_SUCCESS);
  };
  auto write_value = [&] {
    EXPECT_EQ(rig.txr().RegCreateKeyTransacted(HKEY_CURRENT_USER, "K", 0, KEY_ALL_ACCESS, &key, nullptr, tx),
              STATUS_SUCCESS);
    EXPECT_EQ(rig.txr().RegSetValueEx(key, "v", txr::REG_DWORD, txr::RegDword(1)), STATUS_SUCCESS);
  };
  auto read_value = [&] {
    EXPECT_EQ(rig.txr().RegOpenKeyTransacted(HKEY_CURRENT_USER, "K", 0, txr::KEY_READ, &key, tx), STATUS_SUCCESS);
    EXPECT_EQ(rig.txr().RegQueryValueEx(key, "v", nullptr, nullptr), STATUS_OBJECT_NAME_NOT_FOUND);
  };
  switch (c) {
    case Case::kTxfAlone: write_file(); break;
    case Case::kTxrAlone: write_value(); break;
    case Case::kTxfTxr: write_file(); write_value(); break;
    case Case::kAllThree: write_file(); write_value(); EXPECT_EQ(rig.kv().Write(tx, "k", "v"), STATUS_SUCCESS); break;
    case Case::kTxfPlusReadOnlyTxr: write_file(); read_value(); break;
    case Case::kAllReadOnly: read_file(); read_value(); break;
    case Case::kRollback: write_file(); write_value(); break;
  }
  EXPECT_EQ(c == Case::kRollback ? rig.Rollback(tx) : rig.Commit(tx), STATUS_SUCCESS);
  return Forced{rig.k().forced_log_writes() - before.tm, rig.kv().forced_log_writes() - before.kv,
                rig.txf().forced_log_writes() - before.txf, rig.txr().forced_log_writes() - before.txr};
}

TEST(TxfTxrLogging, ForcedWritesPerCommitMatchKvRmsTable) {
  const std::vector<std::pair<Case, Forced>> table = {
      {Case::kTxfAlone, {0, 0, 1, 0}},           {Case::kTxrAlone, {0, 0, 0, 1}},
      {Case::kTxfTxr, {1, 0, 2, 2}},             {Case::kAllThree, {1, 2, 2, 2}},
      {Case::kTxfPlusReadOnlyTxr, {1, 0, 2, 0}}, {Case::kAllReadOnly, {0, 0, 0, 0}},
      {Case::kRollback, {0, 0, 0, 0}},
  };
  for (const auto& [c, expected] : table) {
    Forced got = Measure(c);
    EXPECT_EQ(got, expected) << "case " << static_cast<int>(c) << ": tm=" << got.tm << " kv=" << got.kv
                             << " txf=" << got.txf << " txr=" << got.txr;
  }
}

// ---- the model/ checkers over recorded histories ----------------------------------------------

// Records a model::History from the RMs' typed reports (ktm::RmObserver)
// the way the harness's recorder does (harness/history_recorder.cc), plus
// the client's events.
class Recorder : public ktm::RmObserver {
 public:
  explicit Recorder(TxfTxrRig* rig) : rig_(rig) {}

  void Begin(const std::string& tx, HANDLE handle) {
    Guid uow;
    ASSERT_EQ(GetTransactionId(rig_->k(), handle, &uow), STATUS_SUCCESS);
    uow_to_tx_[uow.Short()] = tx;
    tx_to_uow_[tx] = uow.Short();
    Record(model::EventKind::kBegin, tx);
  }
  void Record(model::EventKind kind, const std::string& tx, const std::string& rm = "", const std::string& key = "",
              const std::string& value = "", const std::string& detail = "") {
    model::HistoryEvent e;
    e.time_ns = rig_->world().scheduler().Now();
    e.kind = kind;
    e.tx = tx;
    e.rm = rm;
    e.key = key;
    e.value = value;
    e.detail = detail;
    history_.events.push_back(std::move(e));
  }

  void OnEnlist(uint32_t, const ktm::ObservedRm& rm, const Guid& uow) override {
    Record(model::EventKind::kEnlist, Tx(uow), std::string(rm));
  }
  void OnRead(uint32_t, const ktm::ObservedRm& rm, const Guid& uow, std::string_view key, std::string_view value) override {
    Record(model::EventKind::kRead, Tx(uow), std::string(rm), std::string(key), std::string(value));
    ++reads_;
  }
  void OnWrite(uint32_t, const ktm::ObservedRm& rm, const Guid& uow, std::string_view key, std::string_view value) override {
    Record(model::EventKind::kWrite, Tx(uow), std::string(rm), std::string(key), std::string(value));
    written_.insert({std::string(rm), std::string(key)});
  }
  void OnNotify(uint32_t, const ktm::ObservedRm& rm, const Guid& uow, uint32_t n) override {
    const std::string tx = Tx(uow);
    Record(model::EventKind::kNotification, tx, std::string(rm), "", "", NotificationName(n));
    if (n == TRANSACTION_NOTIFY_SINGLE_PHASE_COMMIT) pairs_[{tx, std::string(rm)}].spc_notified = true;
  }
  void OnVote(uint32_t, const ktm::ObservedRm& rm, const Guid& uow, RmVote vote, std::string_view) override {
    const std::string tx = Tx(uow);
    Record(model::EventKind::kVote, tx, std::string(rm), "", "", std::string(RmVoteName(vote)));
    Pair& pair = pairs_[{tx, std::string(rm)}];
    if (vote == RmVote::kYes) pair.prepared = true;
    if (vote == RmVote::kReadOnly || vote == RmVote::kSinglePhase) pair.resolved = true;
  }
  void OnCommitted(uint32_t, const ktm::ObservedRm& rm, const Guid& uow) override {
    const std::string tx = Tx(uow);
    Record(model::EventKind::kRmCommitted, tx, std::string(rm));
    pairs_[{tx, std::string(rm)}].resolved = true;
  }
  void OnAborted(uint32_t, const ktm::ObservedRm& rm, const Guid& uow, std::string_view) override {
    const std::string tx = Tx(uow);
    Record(model::EventKind::kRmAborted, tx, std::string(rm));
    pairs_[{tx, std::string(rm)}].resolved = true;
  }
  void OnBranch(uint32_t, const Guid&, const Guid&) override {}

  // What the harness does when a host crashes: unprepared work is gone,
  // single-phase commits in flight are resolved from the RM's log later.
  void Crash() {
    Record(model::EventKind::kCrash, "");
    for (auto& [key, pair] : pairs_) {
      if (pair.resolved || pair.prepared) continue;
      if (pair.spc_notified) {
        cut_.push_back(key);
        continue;
      }
      pair.resolved = true;
      Record(model::EventKind::kRmAborted, key.first, key.second, "", "", "crash");
    }
  }
  void Recovered() {
    for (const auto& [tx, rm] : cut_) {
      Pair& pair = pairs_[{tx, rm}];
      if (pair.resolved) continue;
      pair.resolved = true;
      RmBase* base = rm == "txf" ? static_cast<RmBase*>(&rig_->txf()) : static_cast<RmBase*>(&rig_->txr());
      bool replayed = rm == "kv" ? rig_->kv().ReplayedCommit(tx_to_uow_[tx]) : base->ReplayedCommit(tx_to_uow_[tx]);
      if (replayed) {
        Record(model::EventKind::kVote, tx, rm, "", "", "spc");
        Record(model::EventKind::kRmCommitted, tx, rm, "", "", "replayed");
      } else {
        Record(model::EventKind::kRmAborted, tx, rm, "", "", "crash");
      }
    }
    cut_.clear();
  }
  void Finals() {
    auto files = rig_->txf().committed();
    auto values = rig_->txr().committed();
    const auto& kv = rig_->kv().committed();
    for (const auto& [rm, key] : written_) {
      const std::map<std::string, std::string>& state = rm == "txf" ? files : rm == "txr" ? values : kv;
      auto it = state.find(key);
      Record(model::EventKind::kFinalValue, "", rm, key, it == state.end() ? "" : it->second);
    }
    history_.end_ns = rig_->world().scheduler().Now();
  }
  model::History& history() { return history_; }
  int reads() const { return reads_; }
  std::string Tx(const Guid& uow) const {
    auto it = uow_to_tx_.find(uow.Short());
    return it == uow_to_tx_.end() ? "uow-" + std::string(uow.Short()) : it->second;
  }

 private:
  struct Pair {
    bool prepared = false, resolved = false, spc_notified = false;
  };
  TxfTxrRig* rig_;
  model::History history_;
  std::map<std::string, std::string> uow_to_tx_, tx_to_uow_;
  std::map<std::pair<std::string, std::string>, Pair> pairs_;
  std::vector<std::pair<std::string, std::string>> cut_;
  std::set<std::pair<std::string, std::string>> written_;
  int reads_ = 0;
};

struct Client {
  std::string name;
  HANDLE handle = INVALID_HANDLE_VALUE;
  int ops = 0;
};

// One operation of a random workload on a transaction (failures are part of the workload).
void RandomOp(TxfTxrRig& rig, sim::Rng& rng, Client& c) {
  std::string unique = absl::StrCat(c.name, ".", c.ops++);
  std::string path = absl::StrCat("\\f", rng.Uniform(3));
  std::string key = absl::StrCat("App\\K", rng.Uniform(3));
  HANDLE h = INVALID_HANDLE_VALUE;
  switch (rng.Uniform(7)) {
    case 0:  // write a file (CREATE_ALWAYS truncates, then unique contents)
      if (NT_SUCCESS(rig.txf().CreateFileTransacted(path, GENERIC_WRITE, txf::CREATE_ALWAYS, c.handle, &h))) {
        (void)rig.txf().WriteFile(h, 0, unique);
        (void)rig.txf().CloseFileHandle(h);
      }
      break;
    case 1: {  // read a file
      if (rig.txf().CreateFileTransacted(path, GENERIC_READ, txf::OPEN_EXISTING, c.handle, &h) == STATUS_SUCCESS) {
        std::string data;
        (void)rig.txf().ReadFile(h, 0, 100, &data);
        (void)rig.txf().CloseFileHandle(h);
      }
      break;
    }
    case 2:
      (void)rig.txf().DeleteFileTransacted(path, c.handle);
      break;
    case 3:  // set a registry value
      if (rig.txr().RegCreateKeyTransacted(HKEY_CURRENT_USER, key, 0, KEY_ALL_ACCESS, &h, nullptr, c.handle) ==
          STATUS_SUCCESS) {
        (void)rig.txr().RegSetValueEx(h, "v", txr::REG_SZ, txr::RegSz(unique));
        (void)rig.txr().RegCloseKey(h);
      }
      break;
    case 4:  // read or delete a registry value
      if (rig.txr().RegOpenKeyTransacted(HKEY_CURRENT_USER, key, 0, KEY_ALL_ACCESS, &h, c.handle) == STATUS_SUCCESS) {
        if (rng.Bernoulli(0.7)) {
          (void)rig.txr().RegQueryValueEx(h, "v", nullptr, nullptr);
        } else {
          (void)rig.txr().RegDeleteValue(h, "v");
        }
        (void)rig.txr().RegCloseKey(h);
      }
      break;
    case 5:
      (void)rig.kv().Write(c.handle, absl::StrCat("k", rng.Uniform(3)), unique);
      break;
    default: {
      std::string v;
      (void)rig.kv().Read(c.handle, absl::StrCat("k", rng.Uniform(3)), &v);
      break;
    }
  }
}

struct WorkloadStats {
  int committed = 0, aborted = 0, crashes = 0, reads = 0;
};

// A random concurrent workload with crashes; returns the recorded history.
model::History RunWorkload(uint64_t seed, WorkloadStats* stats) {
  TxfTxrRig rig(seed);
  Recorder recorder(&rig);
  rig.set_observer(&recorder);
  sim::Rng rng(seed * 7919 + 1);
  std::vector<Client> active;
  int next = 1;
  auto end = [&](size_t i, bool commit) {
    Client c = active[i];
    active.erase(active.begin() + static_cast<long>(i));
    uint64_t incarnation = rig.host()->incarnation();
    auto done = [&, c, commit, incarnation](NTSTATUS s) {
      if (rig.host()->incarnation() != incarnation) return;
      if (s == STATUS_SUCCESS || s == STATUS_TRANSACTION_ALREADY_ABORTED) {
        bool ok = commit && s == STATUS_SUCCESS;
        recorder.Record(model::EventKind::kOutcome, c.name, "", "", "", ok ? "committed" : "aborted");
        (ok ? stats->committed : stats->aborted)++;
      }
      (void)CloseHandle(rig.k(), c.handle);
    };
    recorder.Record(commit ? model::EventKind::kCommitRequest : model::EventKind::kRollbackRequest, c.name);
    if (commit) {
      CommitTransaction(rig.k(), c.handle, done);
    } else {
      RollbackTransaction(rig.k(), c.handle, done);
    }
  };
  for (int step = 0; step < 120; ++step) {
    uint64_t action = rng.Uniform(100);
    if (active.size() < 3 && (active.empty() || action < 15)) {
      Client c{absl::StrCat("t", next++)};
      c.handle = rig.Begin();
      recorder.Begin(c.name, c.handle);
      active.push_back(c);
    } else if (action < 70) {
      RandomOp(rig, rng, active[rng.Uniform(active.size())]);
    } else if (action < 85) {
      end(rng.Uniform(active.size()), true);
    } else if (action < 90) {
      end(rng.Uniform(active.size()), false);
    } else if (action < 98) {
      rig.world().scheduler().RunFor(rng.Uniform(4) * sim::kMillisecond);
    } else {
      rig.world().scheduler().RunFor(rng.Uniform(3) * sim::kMillisecond);  // mid-commit, often
      rig.host()->Crash(rng.Next());
      recorder.Crash();
      ++stats->crashes;
      active.clear();
      rig.host()->Restart();
      rig.Boot();
      EXPECT_TRUE(rig.ready());
      recorder.Recovered();
    }
  }
  while (!active.empty()) end(0, true);
  rig.Settle();
  recorder.Finals();
  rig.world().trace().set_observer(nullptr);
  stats->reads += recorder.reads();
  return recorder.history();
}

const std::vector<std::string> kRules = {"atomicity", "agreement", "validity", "durability", "isolation"};

TEST(TxfTxrHistory, CheckersAcceptRandomWorkloadsWithCrashes) {
  WorkloadStats stats;
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    model::History history = RunWorkload(seed, &stats);
    std::vector<model::Violation> found = model::CheckAll(history, kRules, 0);
    for (const auto& v : found) ADD_FAILURE() << "seed " << seed << ": " << v.ToText();
    if (!found.empty()) {
      std::printf("%s\n", history.ToText().c_str());
      break;
    }
  }
  // The workloads did what the test needs to mean something.
  EXPECT_GT(stats.committed, 20);
  EXPECT_GT(stats.aborted, 3);
  EXPECT_GT(stats.crashes, 2);
  EXPECT_GT(stats.reads, 20);
}

TEST(TxfTxrHistory, CheckersRejectATamperedHistory) {
  WorkloadStats stats;
  model::History history = RunWorkload(3, &stats);
  ASSERT_TRUE(model::CheckAll(history, kRules, 0).empty());
  // A final file or registry value no transaction wrote: atomicity.
  model::History wrong_final = history;
  bool changed = false;
  for (auto& e : wrong_final.events) {
    if (e.kind == model::EventKind::kFinalValue && (e.rm == "txf" || e.rm == "txr") && !e.value.empty()) {
      e.value = "3:0000000000000000";
      changed = true;
      break;
    }
  }
  ASSERT_TRUE(changed);
  EXPECT_FALSE(model::CheckAll(wrong_final, {"atomicity"}, 0).empty());
  // A read of a value nobody committed: isolation.
  model::History dirty = history;
  changed = false;
  for (auto& e : dirty.events) {
    if (e.kind == model::EventKind::kRead && (e.rm == "txf" || e.rm == "txr")) {
      e.value = "REG_SZ:never written";
      changed = true;
      break;
    }
  }
  ASSERT_TRUE(changed);
  EXPECT_FALSE(model::CheckAll(dirty, {"isolation"}, 0).empty());
}

}  // namespace
}  // namespace ktmtest
