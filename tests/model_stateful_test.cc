// RapidCheck stateful test (rc::state): random sequences of KTM API calls
// (through the example KV RM), crashes, restarts and recoveries against a
// plain reference model that predicts every status and every value read.
// A failure shrinks to a minimal command sequence, printed with its seed.
#include <map>
#include <optional>
#include <set>
#include <string>

#include "gtest/gtest.h"
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include "absl/strings/str_cat.h"
#include "ktm/api.h"
#include "tests/ktm_rig.h"

namespace ktmtest {
namespace {

constexpr int kRms = 2;
constexpr int kKeys = 3;

// The model: committed state per RM, open transactions with their writes.
struct Model {
  std::map<std::pair<int, int>, std::string> committed;  // (rm, key) -> value
  struct Tx {
    std::map<std::pair<int, int>, std::string> writes;
  };
  std::map<int, Tx> open;  // by model id
  int next_id = 1;
  int next_value = 1;

  // The transaction holding the write lock on (rm, key), or 0.
  int Locker(int rm, int key) const {
    for (const auto& [id, tx] : open) {
      if (tx.writes.count({rm, key})) return id;
    }
    return 0;
  }
};

struct System {
  explicit System(uint64_t seed) : rig(seed, kRms) {}
  KtmRig rig;
  std::map<int, ktm::HANDLE> handles;  // model id -> transaction handle
};

using Command = rc::state::Command<Model, System>;

std::string Key(int k) { return absl::StrCat("k", k); }

struct Begin : Command {
  void checkPreconditions(const Model& m) const override { RC_PRE(m.open.size() < 4); }
  void apply(Model& m) const override { m.open[m.next_id++]; }
  void run(const Model& m, System& s) const override {
    ktm::HANDLE h;
    RC_ASSERT(ktm::CreateTransaction(s.rig.k(), 0, 0, "", &h) == ktm::STATUS_SUCCESS);
    s.handles[m.next_id] = h;
  }
  void show(std::ostream& os) const override { os << "Begin"; }
};

struct Write : Command {
  int pick = *rc::gen::inRange(0, 1000);
  int rm = *rc::gen::inRange(0, kRms);
  int key = *rc::gen::inRange(0, kKeys);
  int Tx(const Model& m) const {
    auto it = m.open.begin();
    std::advance(it, pick % m.open.size());
    return it->first;
  }
  void checkPreconditions(const Model& m) const override { RC_PRE(!m.open.empty()); }
  void apply(Model& m) const override {
    int tx = Tx(m);
    int locker = m.Locker(rm, key);
    if (locker == 0 || locker == tx) m.open[tx].writes[{rm, key}] = absl::StrCat("v", m.next_value);
    ++m.next_value;
  }
  void run(const Model& m, System& s) const override {
    int tx = Tx(m);
    int locker = m.Locker(rm, key);
    ktm::NTSTATUS expected = (locker == 0 || locker == tx) ? ktm::STATUS_SUCCESS : ktm::STATUS_TRANSACTIONAL_CONFLICT;
    ktm::NTSTATUS got = s.rig.rm(rm).Write(s.handles.at(tx), Key(key), absl::StrCat("v", m.next_value));
    RC_ASSERT(got == expected);
  }
  void show(std::ostream& os) const override { os << "Write(tx#" << pick << ", rm" << rm << ", k" << key << ")"; }
};

struct Read : Command {
  int pick = *rc::gen::inRange(0, 1000);
  int rm = *rc::gen::inRange(0, kRms);
  int key = *rc::gen::inRange(0, kKeys);
  bool transacted = *rc::gen::arbitrary<bool>();
  void apply(Model&) const override {}
  void run(const Model& m, System& s) const override {
    std::string expected;
    ktm::HANDLE h = ktm::INVALID_HANDLE_VALUE;
    if (transacted && !m.open.empty()) {
      auto it = m.open.begin();
      std::advance(it, pick % m.open.size());
      h = s.handles.at(it->first);
      if (auto own = it->second.writes.find({rm, key}); own != it->second.writes.end()) expected = own->second;
    }
    if (expected.empty()) {
      auto c = m.committed.find({rm, key});
      if (c != m.committed.end()) expected = c->second;
    }
    std::string got;
    RC_ASSERT(s.rig.rm(rm).Read(h, Key(key), &got) == ktm::STATUS_SUCCESS);
    RC_ASSERT(got == expected);
  }
  void show(std::ostream& os) const override {
    os << "Read(" << (transacted ? "tx" : "committed") << ", rm" << rm << ", k" << key << ")";
  }
};

struct End : Command {
  int pick = *rc::gen::inRange(0, 1000);
  bool commit = *rc::gen::arbitrary<bool>();
  int Tx(const Model& m) const {
    auto it = m.open.begin();
    std::advance(it, pick % m.open.size());
    return it->first;
  }
  void checkPreconditions(const Model& m) const override { RC_PRE(!m.open.empty()); }
  void apply(Model& m) const override {
    int tx = Tx(m);
    if (commit) {
      for (const auto& [k, v] : m.open[tx].writes) m.committed[k] = v;
    }
    m.open.erase(tx);
  }
  void run(const Model& m, System& s) const override {
    int tx = Tx(m);
    ktm::HANDLE h = s.handles.at(tx);
    std::optional<ktm::NTSTATUS> got;
    if (commit) {
      ktm::CommitTransaction(s.rig.k(), h, [&](ktm::NTSTATUS st) { got = st; });
    } else {
      ktm::RollbackTransaction(s.rig.k(), h, [&](ktm::NTSTATUS st) { got = st; });
    }
    s.rig.Settle();
    RC_ASSERT(got.has_value());
    RC_ASSERT(*got == ktm::STATUS_SUCCESS);
    ktm::TransactionInformation info;
    RC_ASSERT(ktm::GetTransactionInformation(s.rig.k(), h, &info) == ktm::STATUS_SUCCESS);
    RC_ASSERT(info.outcome == (commit ? ktm::TransactionOutcomeCommitted : ktm::TransactionOutcomeAborted));
    RC_ASSERT(ktm::CloseHandle(s.rig.k(), h) == ktm::STATUS_SUCCESS);
    s.handles.erase(tx);
  }
  void show(std::ostream& os) const override { os << (commit ? "Commit" : "Rollback") << "(tx#" << pick << ")"; }
};

// Crash the host at a random point of a commit that is in flight (or idle),
// restart, recover: open transactions die; committed state survives; the
// in-flight one is all-or-nothing (the model learns which from RM 0 and then
// requires every RM to agree).
struct CrashDuringCommit : Command {
  int pick = *rc::gen::inRange(0, 1000);
  int after_events = *rc::gen::inRange(0, 60);
  uint64_t crash_seed = *rc::gen::arbitrary<uint64_t>();
  void apply(Model& m) const override {
    // Which way the in-flight commit went is decided by the run: see run().
    m.open.clear();
  }
  void run(const Model& m, System& s) const override {
    std::optional<int> victim;
    if (!m.open.empty()) {
      auto it = m.open.begin();
      std::advance(it, pick % m.open.size());
      victim = it->first;
      ktm::CommitTransaction(s.rig.k(), s.handles.at(*victim), [](ktm::NTSTATUS) {});
    }
    int seen = 0;
    bool crashed = false;
    s.rig.world().trace().set_observer([&](const sim::TraceEvent&) {
      if (!crashed && seen++ == after_events) {
        crashed = true;
        s.rig.world().scheduler().After(0, [&s, this] { s.rig.host()->Crash(crash_seed); });
      }
    });
    s.rig.Settle();
    s.rig.world().trace().set_observer(nullptr);
    if (!crashed) s.rig.host()->Crash(crash_seed);
    RC_ASSERT(s.rig.host()->Restart());
    s.rig.Boot();
    RC_ASSERT(s.rig.ready());
    s.handles.clear();
    // Committed state: the model's, plus possibly the victim's writes on every RM or on none.
    bool victim_applied = false;
    if (victim) {
      const auto& writes = m.open.at(*victim).writes;
      int applied = 0;
      for (const auto& [k, v] : writes) {
        std::string got;
        RC_ASSERT(s.rig.rm(k.first).Read(ktm::INVALID_HANDLE_VALUE, Key(k.second), &got) == ktm::STATUS_SUCCESS);
        applied += got == v ? 1 : 0;
      }
      RC_ASSERT(applied == 0 || applied == static_cast<int>(writes.size()));
      victim_applied = applied > 0;
    }
    for (int rm = 0; rm < kRms; ++rm) {
      for (int key = 0; key < kKeys; ++key) {
        std::string expected;
        if (auto c = m.committed.find({rm, key}); c != m.committed.end()) expected = c->second;
        if (victim_applied) {
          const auto& writes = m.open.at(*victim).writes;
          if (auto w = writes.find({rm, key}); w != writes.end()) expected = w->second;
        }
        std::string got;
        RC_ASSERT(s.rig.rm(rm).Read(ktm::INVALID_HANDLE_VALUE, Key(key), &got) == ktm::STATUS_SUCCESS);
        RC_ASSERT(got == expected);
      }
    }
    // Teach the model the outcome: commands after this see the real state.
    // (rc::state passes the pre-command model to run(); the crash outcome is
    // the one thing the model cannot predict, so run() records it.)
    if (victim_applied) {
      for (const auto& [k, v] : m.open.at(*victim).writes) const_cast<Model&>(m).committed[k] = v;
    }
  }
  void show(std::ostream& os) const override {
    os << "CrashDuringCommit(tx#" << pick << ", after " << after_events << " events, seed " << crash_seed << ")";
  }
};

RC_GTEST_PROP(ModelStateful, KtmApiAgainstTheModel, ()) {
  uint64_t seed = *rc::gen::arbitrary<uint64_t>();
  Model model;
  System system(seed);
  rc::state::check(model, system,
                   rc::state::gen::execOneOfWithArgs<Begin, Write, Read, End, CrashDuringCommit>());
}

}  // namespace
}  // namespace ktmtest
