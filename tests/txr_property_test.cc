// RapidCheck stateful property: random sequences of TxR calls (transacted
// and not, through predefined keys and opened handles, on a small key tree),
// commits (single-phase, or two-phase with a KvRm key), rollbacks and crashes
// (quiescent, or in the middle of a commit) against model::TxrModel, which
// predicts every status, every value read, every enumeration, which
// transactions a non-transacted change rolls back, and the committed
// registry. A crash during a commit must leave exactly the committed or the
// rolled-back state. A failure shrinks to a minimal command sequence.
#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include "absl/strings/str_cat.h"
#include "ktm/api.h"
#include "model/txr_model.h"
#include "tests/txf_txr_rig.h"

namespace ktmtest {
namespace {

using ktm::HANDLE;
using ktm::NTSTATUS;
using model::TxrModel;
using model::TxrResult;
using model::TxrStatus;
using model::TxrValue;

const std::vector<std::string> kSubKeys = {"", "A", "A\\B", "A\\B\\C", "D", "Software\\V", "X"};
const std::vector<std::string> kNames = {"", "n1", "n2"};
const std::vector<uint32_t> kAccess = {ktm::txr::KEY_ALL_ACCESS, ktm::txr::KEY_READ, ktm::txr::KEY_WRITE,
                                       ktm::txr::KEY_SET_VALUE};

NTSTATUS ToNt(TxrStatus s) {
  switch (s) {
    case TxrStatus::kOk: return ktm::STATUS_SUCCESS;
    case TxrStatus::kInvalidParameter: return ktm::STATUS_INVALID_PARAMETER;
    case TxrStatus::kNameInvalid: return ktm::STATUS_OBJECT_NAME_INVALID;
    case TxrStatus::kInvalidHandle: return ktm::STATUS_INVALID_HANDLE;
    // The model's "handle of an ended transaction": the registry answers
    // ERROR_TRANSACTION_NOT_ACTIVE there (TxF answers HANDLE_NO_LONGER_VALID).
    case TxrStatus::kHandleNoLongerValid: return ktm::STATUS_TRANSACTION_NOT_ACTIVE;
    case TxrStatus::kNotActive: return ktm::STATUS_TRANSACTION_NOT_ACTIVE;
    case TxrStatus::kAccessDenied: return ktm::STATUS_ACCESS_DENIED;
    case TxrStatus::kNameNotFound: return ktm::STATUS_OBJECT_NAME_NOT_FOUND;
    case TxrStatus::kKeyDeleted: return ktm::STATUS_KEY_DELETED;
    case TxrStatus::kCannotDelete: return ktm::STATUS_CANNOT_DELETE;
    case TxrStatus::kTransactionalConflict: return ktm::STATUS_TRANSACTIONAL_CONFLICT;
    case TxrStatus::kNoMoreEntries: return ktm::STATUS_NO_MORE_ENTRIES;
    case TxrStatus::kUnknownTransaction:
    case TxrStatus::kTransactionExists:
      break;
  }
  return 0xFFFFFFFF;
}

// Every case starts from this committed registry (made non-transacted):
// HKCU\A\B with n1, HKCU\D with n2, HKLM\Software\V.
struct Initial {
  std::string sub;
  HANDLE real_root;
  int model_root;
  std::string name;
  TxrValue value;
};
const std::vector<Initial> kInitial = {
    {"A\\B", ktm::txr::HKEY_CURRENT_USER, TxrModel::kCurrentUser, "n1", {ktm::txr::REG_SZ, {'i', 'n'}}},
    {"D", ktm::txr::HKEY_CURRENT_USER, TxrModel::kCurrentUser, "n2", {ktm::txr::REG_DWORD, {7, 0, 0, 0}}},
    {"Software\\V", ktm::txr::HKEY_LOCAL_MACHINE, TxrModel::kLocalMachine, "", {ktm::txr::REG_BINARY, {1}}},
};

// The keys' handles stay open (non-transacted, all access): returns them in order.
std::vector<int> PopulateModel(TxrModel& m) {
  std::vector<int> handles;
  for (const auto& i : kInitial) {
    TxrResult k = m.CreateKey("", i.model_root, i.sub, TxrModel::kAllAccess);
    RC_ASSERT(k.status == TxrStatus::kOk);
    RC_ASSERT(m.SetValue(k.handle, i.name, i.value) == TxrStatus::kOk);
    handles.push_back(k.handle);
  }
  return handles;
}

std::vector<HANDLE> PopulateRm(ktm::txr::TxrRm& reg) {
  std::vector<HANDLE> handles;
  for (const auto& i : kInitial) {
    HANDLE k = ktm::INVALID_HANDLE_VALUE;
    RC_ASSERT(reg.RegCreateKeyTransacted(i.real_root, i.sub, 0, ktm::txr::KEY_ALL_ACCESS, &k, nullptr,
                                         ktm::INVALID_HANDLE_VALUE) == ktm::STATUS_SUCCESS);
    RC_ASSERT(reg.RegSetValueEx(k, i.name, i.value.type, i.value.data) == ktm::STATUS_SUCCESS);
    handles.push_back(k);
  }
  return handles;
}

struct State {
  State() {
    handles = PopulateModel(model);
    open.insert(handles.begin(), handles.end());
  }
  TxrModel model;
  int next_tx = 1;
  int next_value = 1;
  std::vector<std::string> txs;          // this incarnation's transactions
  std::map<std::string, bool> ended;     // tx -> committed (true) / rolled back (false) by End
  std::vector<int> handles;              // every model handle ever returned
  std::set<int> open;                    // handles not closed, of this incarnation

  std::vector<std::string> Active() const {
    std::vector<std::string> out;
    for (const auto& tx : txs) {
      if (model.Active(tx)) out.push_back(tx);
    }
    return out;
  }
};

struct Sut {
  explicit Sut(uint64_t seed) : rig(seed, Config()) {
    TxrModel scratch;
    std::vector<int> ids = PopulateModel(scratch);
    std::vector<HANDLE> real = PopulateRm(rig.txr());
    for (size_t i = 0; i < ids.size(); ++i) handles[ids[i]] = real[i];
    rig.Settle();
  }
  static TxfTxrRigConfig Config() {
    TxfTxrRigConfig c;
    c.txf = false;
    return c;
  }
  TxfTxrRig rig;
  std::map<std::string, HANDLE> txs;
  std::map<int, HANDLE> handles;
  ktm::txr::TxrRm& reg() { return rig.txr(); }
};

using Command = rc::state::Command<State, Sut>;

std::map<std::string, TxrValue> CommittedValues(ktm::txr::TxrRm& reg) {
  // Re-read every committed value through a non-transacted handle, so the
  // comparison goes through the public API.
  std::map<std::string, TxrValue> out;
  for (const std::string& path : reg.committed_keys()) {
    size_t slash = path.find('\\');
    std::string root = path.substr(0, slash);
    HANDLE base = root == "HKCR" ? ktm::txr::HKEY_CLASSES_ROOT
                  : root == "HKCU" ? ktm::txr::HKEY_CURRENT_USER
                  : root == "HKLM" ? ktm::txr::HKEY_LOCAL_MACHINE
                                   : ktm::txr::HKEY_USERS;
    HANDLE h = ktm::INVALID_HANDLE_VALUE;
    std::string sub = slash == std::string::npos ? "" : path.substr(slash + 1);
    RC_ASSERT(reg.RegOpenKeyTransacted(base, sub, 0, ktm::txr::KEY_READ, &h, ktm::INVALID_HANDLE_VALUE) ==
              ktm::STATUS_SUCCESS);
    std::string name;
    TxrValue v;
    for (uint32_t i = 0; reg.RegEnumValue(h, i, &name, &v.type, &v.data) == ktm::STATUS_SUCCESS; ++i) {
      out[path + "\\" + name] = v;
    }
    RC_ASSERT(reg.RegCloseKey(h) == ktm::STATUS_SUCCESS);
  }
  return out;
}

void AssertSameCommitted(const TxrModel& m, Sut& s) {
  RC_ASSERT(s.reg().committed_keys() == m.CommittedKeys());
  RC_ASSERT(CommittedValues(s.reg()) == m.CommittedValues());
}

// The transactions a call's non-transacted change rolled back are exactly
// those the model rolled back: they refuse new work, the others accept it.
void AssertRolledBackAsModelled(const State& before, const TxrModel& after, Sut& s) {
  for (const auto& tx : before.txs) {
    if (!before.model.Active(tx)) continue;
    HANDLE probe = ktm::INVALID_HANDLE_VALUE;
    NTSTATUS got = s.reg().RegOpenKeyTransacted(ktm::txr::HKEY_CURRENT_USER, "", 0, ktm::txr::KEY_READ, &probe,
                                                s.txs.at(tx));
    if (after.Active(tx)) {
      RC_ASSERT(got == ktm::STATUS_SUCCESS);
      RC_ASSERT(s.reg().RegCloseKey(probe) == ktm::STATUS_SUCCESS);
    } else {
      RC_ASSERT(after.Doomed(tx));
      RC_ASSERT(got == ktm::STATUS_TRANSACTION_NOT_ACTIVE);
    }
  }
}

// Mostly a handle still open, sometimes any handle ever returned (closed,
// dead, or of an earlier incarnation).
int PickHandle(const State& st, int pick) {
  if (pick % 5 != 0 && !st.open.empty()) {
    return *std::next(st.open.begin(), static_cast<long>(static_cast<size_t>(pick) % st.open.size()));
  }
  return st.handles.empty() ? 0 : st.handles[static_cast<size_t>(pick) % st.handles.size()];
}

struct Picks {
  int actor = *rc::gen::inRange(0, 10);
  int base_pick = *rc::gen::inRange(0, 10);  // 0-1: HKCU, 2: HKLM, 3: HKCR, else an opened handle
  int base = base_pick <= 1 ? -2 : base_pick == 2 ? -3 : base_pick == 3 ? -1 : *rc::gen::inRange(0, 1000);
  int sub = *rc::gen::inRange(0, static_cast<int>(kSubKeys.size()));
  int handle = *rc::gen::inRange(0, 1000);
  int name = *rc::gen::inRange(0, static_cast<int>(kNames.size()));

  // Mostly an active transaction, sometimes non-transacted, sometimes any
  // transaction of this incarnation (maybe ended).
  std::string Actor(const State& st) const {
    std::vector<std::string> active = st.Active();
    if (actor < 6 && !active.empty()) return active[static_cast<size_t>(actor) % active.size()];
    if (actor < 8 || st.txs.empty()) return "";
    return st.txs[static_cast<size_t>(actor) % st.txs.size()];
  }
  HANDLE TxHandle(const State& st, Sut& s) const {
    std::string tx = Actor(st);
    return tx.empty() ? ktm::INVALID_HANDLE_VALUE : s.txs.at(tx);
  }
  int ModelHandle(const State& st, int pick) const {
    if (pick < 0) return pick == -3 ? TxrModel::kLocalMachine : pick == -2 ? TxrModel::kCurrentUser
                                                                          : TxrModel::kClassesRoot;
    return PickHandle(st, pick);
  }
  HANDLE RealHandle(const State& st, Sut& s, int pick) const {
    if (pick < 0) return pick == -3 ? ktm::txr::HKEY_LOCAL_MACHINE : pick == -2 ? ktm::txr::HKEY_CURRENT_USER
                                                                               : ktm::txr::HKEY_CLASSES_ROOT;
    auto it = s.handles.find(ModelHandle(st, pick));
    return it == s.handles.end() ? HANDLE{0x52ull << 48} : it->second;
  }
  const std::string& Sub() const { return kSubKeys[static_cast<size_t>(sub)]; }
  const std::string& Name() const { return kNames[static_cast<size_t>(name)]; }
};

struct Begin : Command {
  void checkPreconditions(const State& st) const override { RC_PRE(st.Active().size() < 3); }
  void apply(State& st) const override {
    std::string tx = absl::StrCat("t", st.next_tx++);
    st.model.Begin(tx);
    st.txs.push_back(tx);
  }
  void run(const State& st, Sut& s) const override {
    HANDLE h = ktm::INVALID_HANDLE_VALUE;
    RC_ASSERT(ktm::CreateTransaction(s.rig.k(), 0, 0, "", &h) == ktm::STATUS_SUCCESS);
    s.txs[absl::StrCat("t", st.next_tx)] = h;
  }
  void show(std::ostream& os) const override { os << "Begin"; }
};

struct KeyCall : Command {
  Picks p;
  int call = *rc::gen::inRange(0, 3);  // create, open, delete
  int access = *rc::gen::inRange(0, static_cast<int>(kAccess.size()));
  TxrResult Do(TxrModel& m, const State& st) const {
    int base = p.ModelHandle(st, p.base);
    if (call == 0) return m.CreateKey(p.Actor(st), base, p.Sub(), kAccess[static_cast<size_t>(access)]);
    if (call == 1) return m.OpenKey(p.Actor(st), base, p.Sub(), kAccess[static_cast<size_t>(access)]);
    return TxrResult{m.DeleteKey(p.Actor(st), base, p.Sub())};
  }
  void apply(State& st) const override {
    TxrResult r = Do(st.model, st);
    if (call != 2 && r.status == TxrStatus::kOk) {
      st.handles.push_back(r.handle);
      st.open.insert(r.handle);
    }
  }
  void run(const State& st, Sut& s) const override {
    TxrModel copy = st.model;
    TxrResult expected = Do(copy, st);
    HANDLE base = p.RealHandle(st, s, p.base), tx = p.TxHandle(st, s), h = ktm::INVALID_HANDLE_VALUE;
    uint32_t disposition = 0;
    uint32_t sam = kAccess[static_cast<size_t>(access)];
    NTSTATUS got = call == 0   ? s.reg().RegCreateKeyTransacted(base, p.Sub(), 0, sam, &h, &disposition, tx)
                   : call == 1 ? s.reg().RegOpenKeyTransacted(base, p.Sub(), 0, sam, &h, tx)
                               : s.reg().RegDeleteKeyTransacted(base, p.Sub(), 0, tx);
    RC_ASSERT(got == ToNt(expected.status));
    if (got == ktm::STATUS_SUCCESS && call != 2) s.handles[expected.handle] = h;
    if (got == ktm::STATUS_SUCCESS && call == 0) {
      RC_ASSERT(disposition == (expected.created ? ktm::txr::REG_CREATED_NEW_KEY : ktm::txr::REG_OPENED_EXISTING_KEY));
    }
    AssertSameCommitted(copy, s);
    AssertRolledBackAsModelled(st, copy, s);
  }
  void show(std::ostream& os) const override {
    os << (call == 0 ? "CreateKey" : call == 1 ? "OpenKey" : "DeleteKey") << "(actor " << p.actor << ", base "
       << p.base << ", \"" << p.Sub() << "\", access " << access << ")";
  }
};

struct ValueCall : Command {
  Picks p;
  int call = *rc::gen::inRange(0, 5);  // set, query, delete, enum key, enum value
  int type = *rc::gen::inRange(0, 4);  // REG_SZ, REG_DWORD, REG_BINARY, a bad REG_DWORD
  uint32_t index = *rc::gen::inRange(0, 4);
  TxrValue Value(const State& st) const {
    std::string text = absl::StrCat("s", st.next_value);
    switch (type) {
      case 0: return TxrValue{ktm::txr::REG_SZ, std::vector<uint8_t>(text.begin(), text.end())};
      case 1: return TxrValue{ktm::txr::REG_DWORD, ktm::txr::RegDword(static_cast<uint32_t>(st.next_value))};
      case 2: return TxrValue{ktm::txr::REG_BINARY, {static_cast<uint8_t>(st.next_value), 0xAB}};
      default: return TxrValue{ktm::txr::REG_DWORD, {1, 2}};
    }
  }
  TxrResult Do(TxrModel& m, const State& st) const {
    int h = p.ModelHandle(st, p.handle);
    switch (call) {
      case 0: return TxrResult{m.SetValue(h, p.Name(), Value(st))};
      case 1: return m.QueryValue(h, p.Name());
      case 2: return TxrResult{m.DeleteValue(h, p.Name())};
      case 3: return m.EnumKey(h, index);
      default: return m.EnumValue(h, index);
    }
  }
  void apply(State& st) const override {
    Do(st.model, st);
    ++st.next_value;
  }
  void run(const State& st, Sut& s) const override {
    TxrModel copy = st.model;
    TxrResult expected = Do(copy, st);
    HANDLE h = p.RealHandle(st, s, p.handle);
    std::string name;
    TxrValue v;
    NTSTATUS got = 0;
    switch (call) {
      case 0: got = s.reg().RegSetValueEx(h, p.Name(), Value(st).type, Value(st).data); break;
      case 1: got = s.reg().RegQueryValueEx(h, p.Name(), &v.type, &v.data); break;
      case 2: got = s.reg().RegDeleteValue(h, p.Name()); break;
      case 3: got = s.reg().RegEnumKeyEx(h, index, &name); break;
      default: got = s.reg().RegEnumValue(h, index, &name, &v.type, &v.data); break;
    }
    RC_ASSERT(got == ToNt(expected.status));
    if (got == ktm::STATUS_SUCCESS) {
      if (call == 1 || call == 4) RC_ASSERT(v == expected.value);
      if (call == 3 || call == 4) RC_ASSERT(name == expected.name);
    }
    AssertSameCommitted(copy, s);
    AssertRolledBackAsModelled(st, copy, s);
  }
  void show(std::ostream& os) const override {
    const char* names[] = {"SetValue", "QueryValue", "DeleteValue", "EnumKey", "EnumValue"};
    os << names[call] << "(h#" << p.handle << ", \"" << p.Name() << "\", type " << type << ", index " << index << ")";
  }
};

struct CloseKey : Command {
  Picks p;
  void apply(State& st) const override {
    if (st.model.CloseKey(p.ModelHandle(st, p.handle)) == TxrStatus::kOk) st.open.erase(p.ModelHandle(st, p.handle));
  }
  void run(const State& st, Sut& s) const override {
    TxrModel copy = st.model;
    RC_ASSERT(s.reg().RegCloseKey(p.RealHandle(st, s, p.handle)) == ToNt(copy.CloseKey(p.ModelHandle(st, p.handle))));
  }
  void show(std::ostream& os) const override { os << "CloseKey(h#" << p.handle << ")"; }
};

struct End : Command {
  int pick = *rc::gen::inRange(0, 1000);
  bool commit = *rc::gen::arbitrary<bool>();
  bool two_phase = *rc::gen::arbitrary<bool>();
  std::string Tx(const State& st) const { return st.txs[static_cast<size_t>(pick) % st.txs.size()]; }
  void checkPreconditions(const State& st) const override { RC_PRE(!st.txs.empty()); }
  void apply(State& st) const override {
    std::string tx = Tx(st);
    if (!st.model.Active(tx)) return;
    if (commit) {
      st.model.Commit(tx);
    } else {
      st.model.Rollback(tx);
    }
    st.ended[tx] = commit;
  }
  void run(const State& st, Sut& s) const override {
    std::string tx = Tx(st);
    HANDLE h = s.txs.at(tx);
    if (!st.model.Active(tx)) {
      // Ended already: by End, or rolled back by a non-transacted change.
      bool committed = st.ended.count(tx) && st.ended.at(tx);
      RC_ASSERT(s.rig.Commit(h) ==
                (committed ? ktm::STATUS_TRANSACTION_ALREADY_COMMITTED : ktm::STATUS_TRANSACTION_ALREADY_ABORTED));
      return;
    }
    if (commit && two_phase) RC_ASSERT(s.rig.kv().Write(h, "k" + tx, tx) == ktm::STATUS_SUCCESS);
    RC_ASSERT((commit ? s.rig.Commit(h) : s.rig.Rollback(h)) == ktm::STATUS_SUCCESS);
    TxrModel copy = st.model;
    if (commit) {
      copy.Commit(tx);
    } else {
      copy.Rollback(tx);
    }
    AssertSameCommitted(copy, s);
    RC_ASSERT(s.reg().in_doubt() == 0u);
  }
  void show(std::ostream& os) const override {
    os << (commit ? (two_phase ? "Commit2PC" : "Commit") : "Rollback") << "(tx#" << pick << ")";
  }
};

struct Crash : Command {
  bool enabled = *rc::gen::inRange(0, 4) == 0;  // rarer than the other commands: handles live longer
  int pick = *rc::gen::inRange(0, 1000);
  bool during_commit = *rc::gen::arbitrary<bool>();
  bool two_phase = *rc::gen::arbitrary<bool>();
  int after_events = *rc::gen::inRange(0, 50);
  uint64_t crash_seed = *rc::gen::arbitrary<uint64_t>();
  mutable bool victim_committed = false;  // learnt by run, used by apply
  std::optional<std::string> Victim(const State& st) const {
    auto active = st.Active();
    if (!during_commit || active.empty()) return std::nullopt;
    return active[static_cast<size_t>(pick) % active.size()];
  }
  void checkPreconditions(const State&) const override { RC_PRE(enabled); }
  void apply(State& st) const override {
    if (auto victim = Victim(st); victim && victim_committed) st.model.Commit(*victim);
    st.model.Crash();
    st.txs.clear();
    st.ended.clear();
    st.open.clear();
  }
  void run(const State& st, Sut& s) const override {
    victim_committed = false;
    s.rig.Settle();  // earlier non-transacted changes finish their log writes
    std::optional<std::string> victim = Victim(st);
    bool acked = false;
    if (victim) {
      HANDLE h = s.txs.at(*victim);
      if (two_phase) RC_ASSERT(s.rig.kv().Write(h, "k" + *victim, *victim) == ktm::STATUS_SUCCESS);
      ktm::CommitTransaction(s.rig.k(), h, [&acked](NTSTATUS st) { acked = st == ktm::STATUS_SUCCESS; });
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
    }
    s.rig.host()->Crash(crash_seed);  // no-op if already down
    RC_ASSERT(s.rig.host()->Restart());
    s.rig.Boot();
    RC_ASSERT(s.rig.ready());
    s.txs.clear();
    TxrModel rolled_back = st.model, committed = st.model;
    if (victim) committed.Commit(*victim);
    rolled_back.Crash();
    committed.Crash();
    auto keys = s.reg().committed_keys();
    auto values = CommittedValues(s.reg());
    bool is_committed = keys == committed.CommittedKeys() && values == committed.CommittedValues();
    bool is_rolled_back = keys == rolled_back.CommittedKeys() && values == rolled_back.CommittedValues();
    RC_ASSERT(is_committed || is_rolled_back);
    if (acked) RC_ASSERT(is_committed);  // an acknowledged commit survives the crash
    victim_committed = is_committed;
    RC_ASSERT(s.reg().in_doubt() == 0u);
  }
  void show(std::ostream& os) const override {
    os << "Crash(" << (during_commit ? absl::StrCat("during commit of tx#", pick, two_phase ? " 2PC" : "",
                                                     " after ", after_events, " events")
                                      : std::string("quiescent"))
       << ")";
  }
};

RC_GTEST_PROP(TxrProperties, TxrRmBehavesLikeTxrModel, ()) {
  uint64_t seed = *rc::gen::arbitrary<uint64_t>();
  State state;
  Sut sut(seed);
  rc::state::check(state, sut,
                   rc::state::gen::execOneOfWithArgs<Begin, Begin, KeyCall, KeyCall, KeyCall, ValueCall, ValueCall,
                                                     ValueCall, ValueCall, CloseKey, End, Crash>());
}

}  // namespace
}  // namespace ktmtest
