// RapidCheck stateful property: random sequences of TxF calls (transacted
// and not, on a small namespace where files, directories and missing paths
// mix), commits (single-phase, or two-phase with a KvRm key), rollbacks and
// crashes (quiescent, or in the middle of a commit) against model::TxfModel,
// which predicts every status, every byte read, every directory listing and
// the committed namespace. A crash during a commit must leave exactly the
// committed or the rolled-back state. A failure shrinks to a minimal
// command sequence.
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
#include "model/txf_model.h"
#include "tests/txf_txr_rig.h"

namespace ktmtest {
namespace {

using ktm::HANDLE;
using ktm::NTSTATUS;
using model::TxfDisposition;
using model::TxfModel;
using model::TxfResult;
using model::TxfStatus;

const std::vector<std::string> kPaths = {"\\a", "\\b", "\\d", "\\d\\a", "\\d\\e", "\\d\\e\\f", "\\x\\y"};
const std::vector<std::string> kPatterns = {"\\*", "\\d\\*", "\\d\\?", "\\d\\e\\*", "\\*a*", "\\x\\*"};


NTSTATUS ToNt(TxfStatus s) {
  switch (s) {
    case TxfStatus::kOk: return ktm::STATUS_SUCCESS;
    case TxfStatus::kAlreadyExists: return ktm::STATUS_OBJECT_NAME_EXISTS;
    case TxfStatus::kInvalidParameter: return ktm::STATUS_INVALID_PARAMETER;
    case TxfStatus::kNameInvalid: return ktm::STATUS_OBJECT_NAME_INVALID;
    case TxfStatus::kInvalidHandle: return ktm::STATUS_INVALID_HANDLE;
    case TxfStatus::kTypeMismatch: return ktm::STATUS_OBJECT_TYPE_MISMATCH;
    case TxfStatus::kHandleNoLongerValid: return ktm::STATUS_HANDLE_NO_LONGER_VALID;
    case TxfStatus::kNotActive: return ktm::STATUS_TRANSACTION_NOT_ACTIVE;
    case TxfStatus::kAccessDenied: return ktm::STATUS_ACCESS_DENIED;
    case TxfStatus::kNameNotFound: return ktm::STATUS_OBJECT_NAME_NOT_FOUND;
    case TxfStatus::kPathNotFound: return ktm::STATUS_OBJECT_PATH_NOT_FOUND;
    case TxfStatus::kNameCollision: return ktm::STATUS_OBJECT_NAME_COLLISION;
    case TxfStatus::kFileIsADirectory: return ktm::STATUS_FILE_IS_A_DIRECTORY;
    case TxfStatus::kNotADirectory: return ktm::STATUS_NOT_A_DIRECTORY;
    case TxfStatus::kDirectoryNotEmpty: return ktm::STATUS_DIRECTORY_NOT_EMPTY;
    case TxfStatus::kSharingViolation: return ktm::STATUS_SHARING_VIOLATION;
    case TxfStatus::kTransactionalConflict: return ktm::STATUS_TRANSACTIONAL_CONFLICT;
    case TxfStatus::kCantBreakDependency: return ktm::STATUS_CANT_BREAK_TRANSACTIONAL_DEPENDENCY;
    case TxfStatus::kEndOfFile: return ktm::STATUS_END_OF_FILE;
    case TxfStatus::kNoSuchFile: return ktm::STATUS_NO_SUCH_FILE;
    case TxfStatus::kNoMoreFiles: return ktm::STATUS_NO_MORE_FILES;
    case TxfStatus::kFileDeleted: return ktm::STATUS_FILE_DELETED;
    case TxfStatus::kDiskFull: return ktm::STATUS_DISK_FULL;
    case TxfStatus::kUnknownTransaction:
    case TxfStatus::kTransactionExists:
      break;
  }
  return 0xFFFFFFFF;  // never returned by the RM: fails any comparison
}

// Every case starts from this committed namespace (made non-transacted).
const std::vector<std::string> kInitialDirectories = {"\\d", "\\d\\e"};
const std::map<std::string, std::string> kInitialFiles = {{"\\a", "A0"}, {"\\d\\a", "DA"}, {"\\d\\e\\f", "F"}};

// Leaves open, in order: a non-transacted reader of \a and a non-transacted
// writer of \d\e\f (which keeps transactions out of it until closed).
std::vector<int> PopulateModel(TxfModel& m) {
  for (const auto& dir : kInitialDirectories) RC_ASSERT(m.CreateDirectory("", dir) == TxfStatus::kOk);
  for (const auto& [path, contents] : kInitialFiles) {
    TxfResult h = m.CreateFile("", path, false, true, TxfDisposition::kCreateNew);
    RC_ASSERT(m.Write(h.handle, 0, contents) == TxfStatus::kOk);
    RC_ASSERT(m.Close(h.handle) == TxfStatus::kOk);
  }
  return {m.CreateFile("", "\\a", true, false, TxfDisposition::kOpenExisting).handle,
          m.CreateFile("", "\\d\\e\\f", true, true, TxfDisposition::kOpenExisting).handle};
}

std::vector<HANDLE> PopulateRm(ktm::txf::TxfRm& fs) {
  for (const auto& dir : kInitialDirectories) {
    RC_ASSERT(fs.CreateDirectoryTransacted(dir, ktm::INVALID_HANDLE_VALUE) == ktm::STATUS_SUCCESS);
  }
  for (const auto& [path, contents] : kInitialFiles) {
    HANDLE h = ktm::INVALID_HANDLE_VALUE;
    RC_ASSERT(fs.CreateFileTransacted(path, ktm::txf::GENERIC_WRITE, ktm::txf::CREATE_NEW, ktm::INVALID_HANDLE_VALUE,
                                      &h) == ktm::STATUS_SUCCESS);
    RC_ASSERT(fs.WriteFile(h, 0, contents) == ktm::STATUS_SUCCESS);
    RC_ASSERT(fs.CloseFileHandle(h) == ktm::STATUS_SUCCESS);
  }
  HANDLE reader = ktm::INVALID_HANDLE_VALUE, writer = ktm::INVALID_HANDLE_VALUE;
  RC_ASSERT(fs.CreateFileTransacted("\\a", ktm::txf::GENERIC_READ, ktm::txf::OPEN_EXISTING, ktm::INVALID_HANDLE_VALUE,
                                    &reader) == ktm::STATUS_SUCCESS);
  RC_ASSERT(fs.CreateFileTransacted("\\d\\e\\f", ktm::txf::GENERIC_READ | ktm::txf::GENERIC_WRITE,
                                    ktm::txf::OPEN_EXISTING, ktm::INVALID_HANDLE_VALUE,
                                    &writer) == ktm::STATUS_SUCCESS);
  return {reader, writer};
}

struct State {
  State() {
    handles = PopulateModel(model);
    open.insert(handles.begin(), handles.end());
  }
  TxfModel model;
  int next_tx = 1;
  int next_data = 1;
  std::vector<std::string> txs;  // this incarnation's transactions, active or ended
  std::vector<int> handles;      // every model handle ever returned (old incarnations' too)
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
    TxfModel scratch;
    std::vector<int> ids = PopulateModel(scratch);
    std::vector<HANDLE> real = PopulateRm(rig.txf());
    for (size_t i = 0; i < ids.size(); ++i) handles[ids[i]] = real[i];
    rig.Settle();
  }
  static TxfTxrRigConfig Config() {
    TxfTxrRigConfig c;
    c.txr = false;
    return c;
  }
  TxfTxrRig rig;
  std::map<std::string, HANDLE> txs;  // model tx -> kernel transaction handle
  std::map<int, HANDLE> handles;      // model handle -> TxF handle
  ktm::txf::TxfRm& fs() { return rig.txf(); }
};

using Command = rc::state::Command<State, Sut>;

// The committed namespace of the RM, in the model's terms.
std::pair<std::map<std::string, std::string>, std::set<std::string>> Committed(ktm::txf::TxfRm& fs) {
  std::map<std::string, std::string> files;
  for (const auto& [path, digest] : fs.committed()) files[path] = *fs.CommittedContents(path);
  return {files, fs.committed_directories()};
}

void AssertSameCommitted(const TxfModel& m, Sut& s) {
  auto [files, dirs] = Committed(s.fs());
  RC_ASSERT(files == m.CommittedFiles());
  RC_ASSERT(dirs == m.CommittedDirectories());
}

// Mostly a handle still open, sometimes any handle ever returned (closed,
// dead, or of an earlier incarnation).
int PickHandle(const State& st, int pick) {
  if (pick % 5 != 0 && !st.open.empty()) {
    return *std::next(st.open.begin(), static_cast<long>(static_cast<size_t>(pick) % st.open.size()));
  }
  return st.handles.empty() ? 0 : st.handles[static_cast<size_t>(pick) % st.handles.size()];
}

// Picks: an actor ("" = non-transacted), a path, a handle.
struct Picks {
  int actor = *rc::gen::inRange(0, 10);
  int path = *rc::gen::inRange(0, static_cast<int>(kPaths.size()));
  int path2 = *rc::gen::inRange(0, static_cast<int>(kPaths.size()));
  int handle = *rc::gen::inRange(0, 1000);

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
  int Handle(const State& st) const {
    return PickHandle(st, handle);
  }
  HANDLE RealHandle(const State& st, Sut& s) const {
    auto it = s.handles.find(Handle(st));
    return it == s.handles.end() ? HANDLE{0x46ull << 48} : it->second;
  }
  std::string Path() const { return kPaths[static_cast<size_t>(path)]; }
  std::string Path2() const { return kPaths[static_cast<size_t>(path2)]; }
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

struct CreateFile : Command {
  Picks p;
  int access = *rc::gen::inRange(0, 10);       // 0: none (invalid), 1-3: read, 4-6: write, 7-9: both
  int any_disposition = *rc::gen::inRange(1, 6);
  bool open_existing = *rc::gen::inRange(0, 10) < 7;
  bool read = access >= 1 && (access <= 3 || access >= 7);
  bool write = access >= 4;
  // A read-only open is valid only with OPEN_EXISTING: usually pick that.
  int disposition = !write && open_existing ? static_cast<int>(TxfDisposition::kOpenExisting) : any_disposition;
  TxfResult Do(TxfModel& m, const State& st) const {
    return m.CreateFile(p.Actor(st), p.Path(), read, write, static_cast<TxfDisposition>(disposition));
  }
  void apply(State& st) const override {
    TxfResult r = Do(st.model, st);
    if (model::TxfSucceeded(r.status)) {
      st.handles.push_back(r.handle);
      st.open.insert(r.handle);
    }
  }
  void run(const State& st, Sut& s) const override {
    TxfModel copy = st.model;
    TxfResult expected = Do(copy, st);
    HANDLE h = ktm::INVALID_HANDLE_VALUE;
    uint32_t access = (read ? ktm::txf::GENERIC_READ : 0) | (write ? ktm::txf::GENERIC_WRITE : 0);
    NTSTATUS got =
        s.fs().CreateFileTransacted(p.Path(), access, static_cast<uint32_t>(disposition), p.TxHandle(st, s), &h);
    RC_ASSERT(got == ToNt(expected.status));
    if (model::TxfSucceeded(expected.status)) s.handles[expected.handle] = h;
    AssertSameCommitted(copy, s);
  }
  void show(std::ostream& os) const override {
    os << "CreateFile(actor " << p.actor << ", " << p.Path() << ", r" << read << " w" << write << ", disp "
       << disposition << ")";
  }
};

struct Read : Command {
  Picks p;
  uint64_t offset = *rc::gen::inRange(0, 8);
  uint32_t length = *rc::gen::inRange(0, 8);
  void apply(State&) const override {}
  void run(const State& st, Sut& s) const override {
    TxfModel copy = st.model;
    TxfResult expected = copy.Read(p.Handle(st), offset, length);
    std::string data;
    NTSTATUS got = s.fs().ReadFile(p.RealHandle(st, s), offset, length, &data);
    RC_ASSERT(got == ToNt(expected.status));
    if (got == ktm::STATUS_SUCCESS) RC_ASSERT(data == expected.data);
  }
  void show(std::ostream& os) const override { os << "Read(h#" << p.handle << ", " << offset << ", " << length << ")"; }
};

struct Write : Command {
  Picks p;
  uint64_t offset = *rc::gen::inRange(0, 6);
  bool truncate = *rc::gen::inRange(0, 5) == 0;
  uint64_t size = *rc::gen::inRange(0, 10);
  std::string Data(const State& st) const { return absl::StrCat("w", st.next_data); }
  TxfStatus Do(TxfModel& m, const State& st) const {
    return truncate ? m.SetEndOfFile(p.Handle(st), size) : m.Write(p.Handle(st), offset, Data(st));
  }
  void apply(State& st) const override {
    Do(st.model, st);
    ++st.next_data;
  }
  void run(const State& st, Sut& s) const override {
    TxfModel copy = st.model;
    TxfStatus expected = Do(copy, st);
    HANDLE h = p.RealHandle(st, s);
    NTSTATUS got = truncate ? s.fs().SetEndOfFile(h, size) : s.fs().WriteFile(h, offset, Data(st));
    RC_ASSERT(got == ToNt(expected));
    AssertSameCommitted(copy, s);
  }
  void show(std::ostream& os) const override {
    if (truncate) {
      os << "SetEndOfFile(h#" << p.handle << ", " << size << ")";
    } else {
      os << "Write(h#" << p.handle << ", " << offset << ")";
    }
  }
};

struct CloseHandles : Command {
  Picks p;
  int which = *rc::gen::inRange(0, 3);  // 0: CloseFileHandle, 1: FindClose, 2: FindNextFile
  TxfResult Do(TxfModel& m, const State& st) const {
    if (which == 2) return m.FindNext(p.Handle(st));
    return TxfResult{which == 0 ? m.Close(p.Handle(st)) : m.FindClose(p.Handle(st))};
  }
  void apply(State& st) const override {
    if (Do(st.model, st).status == TxfStatus::kOk && which != 2) st.open.erase(p.Handle(st));
  }
  void run(const State& st, Sut& s) const override {
    TxfModel copy = st.model;
    TxfResult expected = Do(copy, st);
    HANDLE h = p.RealHandle(st, s);
    ktm::txf::FindData d;
    NTSTATUS got = which == 0   ? s.fs().CloseFileHandle(h)
                   : which == 1 ? s.fs().FindClose(h)
                                : s.fs().FindNextFile(h, &d);
    RC_ASSERT(got == ToNt(expected.status));
    if (which == 2 && got == ktm::STATUS_SUCCESS) {
      RC_ASSERT(d.name == expected.entry.name);
      RC_ASSERT((d.attributes == ktm::txf::FILE_ATTRIBUTE_DIRECTORY) == expected.entry.directory);
      RC_ASSERT(d.size == expected.entry.size);
    }
  }
  void show(std::ostream& os) const override {
    os << (which == 0 ? "CloseFileHandle" : which == 1 ? "FindClose" : "FindNextFile") << "(h#" << p.handle << ")";
  }
};

struct NameCall : Command {
  Picks p;
  int call = *rc::gen::inRange(0, 7);  // Delete, CreateDir, RemoveDir, Move, Copy, Attributes, FindFirst
  bool flag = *rc::gen::arbitrary<bool>();
  int pattern = *rc::gen::inRange(0, static_cast<int>(kPatterns.size()));
  TxfResult Do(TxfModel& m, const State& st) const {
    std::string a = p.Actor(st);
    switch (call) {
      case 0: return {m.Delete(a, p.Path())};
      case 1: return {m.CreateDirectory(a, p.Path())};
      case 2: return {m.RemoveDirectory(a, p.Path())};
      case 3: return {m.Move(a, p.Path(), p.Path2(), flag)};
      case 4: return {m.Copy(a, p.Path(), p.Path2(), flag)};
      case 5: return m.Attributes(a, p.Path());
      default: return m.FindFirst(a, kPatterns[static_cast<size_t>(pattern)]);
    }
  }
  void apply(State& st) const override {
    TxfResult r = Do(st.model, st);
    if (call == 6 && r.status == TxfStatus::kOk) {
      st.handles.push_back(r.handle);
      st.open.insert(r.handle);
    }
  }
  void run(const State& st, Sut& s) const override {
    TxfModel copy = st.model;
    TxfResult expected = Do(copy, st);
    HANDLE tx = p.TxHandle(st, s);
    ktm::txf::FileAttributeData attrs;
    ktm::txf::FindData d;
    HANDLE find = ktm::INVALID_HANDLE_VALUE;
    NTSTATUS got = 0;
    switch (call) {
      case 0: got = s.fs().DeleteFileTransacted(p.Path(), tx); break;
      case 1: got = s.fs().CreateDirectoryTransacted(p.Path(), tx); break;
      case 2: got = s.fs().RemoveDirectoryTransacted(p.Path(), tx); break;
      case 3:
        got = s.fs().MoveFileTransacted(p.Path(), p.Path2(), flag ? ktm::txf::MOVEFILE_REPLACE_EXISTING : 0, tx);
        break;
      case 4:
        got = s.fs().CopyFileTransacted(p.Path(), p.Path2(), flag ? ktm::txf::COPY_FILE_FAIL_IF_EXISTS : 0, tx);
        break;
      case 5: got = s.fs().GetFileAttributesTransacted(p.Path(), tx, &attrs); break;
      default: got = s.fs().FindFirstFileTransacted(kPatterns[static_cast<size_t>(pattern)], tx, &d, &find); break;
    }
    RC_ASSERT(got == ToNt(expected.status));
    if (got == ktm::STATUS_SUCCESS && call == 5) {
      RC_ASSERT((attrs.attributes == ktm::txf::FILE_ATTRIBUTE_DIRECTORY) == expected.entry.directory);
      RC_ASSERT(attrs.size == expected.entry.size);
    }
    if (got == ktm::STATUS_SUCCESS && call == 6) {
      RC_ASSERT(d.name == expected.entry.name);
      RC_ASSERT(d.size == expected.entry.size);
      s.handles[expected.handle] = find;
    }
    AssertSameCommitted(copy, s);
  }
  void show(std::ostream& os) const override {
    const char* names[] = {"Delete", "CreateDirectory", "RemoveDirectory", "Move", "Copy", "Attributes", "FindFirst"};
    os << names[call] << "(actor " << p.actor << ", "
       << (call == 6 ? kPatterns[static_cast<size_t>(pattern)] : p.Path());
    if (call == 3 || call == 4) os << " -> " << p.Path2() << (flag ? ", flag" : "");
    os << ")";
  }
};

struct End : Command {
  int pick = *rc::gen::inRange(0, 1000);
  bool commit = *rc::gen::arbitrary<bool>();
  bool two_phase = *rc::gen::arbitrary<bool>();
  std::string Tx(const State& st) const {
    auto active = st.Active();
    return active[static_cast<size_t>(pick) % active.size()];
  }
  void checkPreconditions(const State& st) const override { RC_PRE(!st.Active().empty()); }
  void apply(State& st) const override {
    std::string tx = Tx(st);
    if (commit) {
      st.model.Commit(tx);
    } else {
      st.model.Rollback(tx);
    }
  }
  void run(const State& st, Sut& s) const override {
    std::string tx = Tx(st);
    HANDLE h = s.txs.at(tx);
    if (commit && two_phase) RC_ASSERT(s.rig.kv().Write(h, "k" + tx, tx) == ktm::STATUS_SUCCESS);
    RC_ASSERT((commit ? s.rig.Commit(h) : s.rig.Rollback(h)) == ktm::STATUS_SUCCESS);
    TxfModel copy = st.model;
    if (commit) {
      copy.Commit(tx);
    } else {
      copy.Rollback(tx);
    }
    AssertSameCommitted(copy, s);
    RC_ASSERT(s.fs().in_doubt() == 0u);
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
    st.open.clear();
  }
  void run(const State& st, Sut& s) const override {
    victim_committed = false;
    // Earlier non-transacted changes are durable one disk write after their
    // call: let those writes finish, so only the commit is cut.
    s.rig.Settle();
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
    } else {
      s.rig.Settle();
    }
    s.rig.host()->Crash(crash_seed);  // no-op if already down
    RC_ASSERT(s.rig.host()->Restart());
    s.rig.Boot();
    RC_ASSERT(s.rig.ready());
    s.txs.clear();
    TxfModel rolled_back = st.model, committed = st.model;
    if (victim) committed.Commit(*victim);
    rolled_back.Crash();
    committed.Crash();
    auto got = Committed(s.fs());
    bool is_committed = got.first == committed.CommittedFiles() && got.second == committed.CommittedDirectories();
    bool is_rolled_back =
        got.first == rolled_back.CommittedFiles() && got.second == rolled_back.CommittedDirectories();
    RC_ASSERT(is_committed || is_rolled_back);
    if (acked) RC_ASSERT(is_committed);  // an acknowledged commit survives the crash
    victim_committed = is_committed;
    RC_ASSERT(s.fs().in_doubt() == 0u);
  }
  void show(std::ostream& os) const override {
    os << "Crash(" << (during_commit ? absl::StrCat("during commit of tx#", pick, two_phase ? " 2PC" : "",
                                                     " after ", after_events, " events")
                                      : std::string("quiescent"))
       << ")";
  }
};

RC_GTEST_PROP(TxfProperties, TxfRmBehavesLikeTxfModel, ()) {
  uint64_t seed = *rc::gen::arbitrary<uint64_t>();
  State state;
  Sut sut(seed);
  rc::state::check(state, sut,
                   rc::state::gen::execOneOfWithArgs<Begin, Begin, CreateFile, CreateFile, CreateFile, Read, Read,
                                                     Write, Write, CloseHandles, NameCall, NameCall, NameCall,
                                                     NameCall, End, Crash>());
}

}  // namespace
}  // namespace ktmtest
