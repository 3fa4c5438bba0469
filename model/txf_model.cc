// TxfModel implementation: see txf_model.h. Each call is its rule list from
// docs/txf-txr.md, top to bottom; the first rule that fails is the answer.
#include "model/txf_model.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace model {
namespace {

void Require(bool condition, const char* what) {
  if (condition) return;
  std::fprintf(stderr, "TxfModel invariant broken: %s\n", what);
  std::abort();
}

bool ValidName(std::string_view c, bool wildcards) {
  if (c.empty() || c.size() > 255 || c == "." || c == "..") return false;
  for (char ch : c) {
    if (static_cast<unsigned char>(ch) < 0x20 || std::string_view("\\/:\"<>|").find(ch) != std::string_view::npos) {
      return false;
    }
    if (!wildcards && (ch == '*' || ch == '?')) return false;
  }
  return true;
}

bool ValidPath(const std::string& path) {
  if (path == "\\") return true;
  if (path.empty() || path[0] != '\\' || path.size() > 260) return false;
  std::string_view rest(path);
  rest.remove_prefix(1);
  while (true) {
    size_t slash = rest.find('\\');
    if (!ValidName(rest.substr(0, slash), false)) return false;
    if (slash == std::string_view::npos) return true;
    rest.remove_prefix(slash + 1);
  }
}

std::string Parent(const std::string& path) {
  size_t slash = path.rfind('\\');
  return slash == 0 ? "\\" : path.substr(0, slash);
}

bool IsBeneath(const std::string& path, const std::string& dir) {
  std::string prefix = dir == "\\" ? "\\" : dir + "\\";
  return path != dir && path.size() > prefix.size() && path.compare(0, prefix.size(), prefix) == 0;
}

bool Match(const std::string& pattern, size_t p, const std::string& name, size_t n) {
  if (p == pattern.size()) return n == name.size();
  if (pattern[p] == '*') {
    for (size_t k = n; k <= name.size(); ++k) {
      if (Match(pattern, p + 1, name, k)) return true;
    }
    return false;
  }
  return n < name.size() && (pattern[p] == '?' || pattern[p] == name[n]) && Match(pattern, p + 1, name, n + 1);
}

}  // namespace

const char* TxfStatusName(TxfStatus status) {
  switch (status) {
    case TxfStatus::kOk: return "Ok";
    case TxfStatus::kAlreadyExists: return "AlreadyExists";
    case TxfStatus::kInvalidParameter: return "InvalidParameter";
    case TxfStatus::kNameInvalid: return "NameInvalid";
    case TxfStatus::kInvalidHandle: return "InvalidHandle";
    case TxfStatus::kTypeMismatch: return "TypeMismatch";
    case TxfStatus::kHandleNoLongerValid: return "HandleNoLongerValid";
    case TxfStatus::kNotActive: return "NotActive";
    case TxfStatus::kUnknownTransaction: return "UnknownTransaction";
    case TxfStatus::kTransactionExists: return "TransactionExists";
    case TxfStatus::kAccessDenied: return "AccessDenied";
    case TxfStatus::kNameNotFound: return "NameNotFound";
    case TxfStatus::kPathNotFound: return "PathNotFound";
    case TxfStatus::kNameCollision: return "NameCollision";
    case TxfStatus::kFileIsADirectory: return "FileIsADirectory";
    case TxfStatus::kNotADirectory: return "NotADirectory";
    case TxfStatus::kDirectoryNotEmpty: return "DirectoryNotEmpty";
    case TxfStatus::kSharingViolation: return "SharingViolation";
    case TxfStatus::kTransactionalConflict: return "TransactionalConflict";
    case TxfStatus::kCantBreakDependency: return "CantBreakDependency";
    case TxfStatus::kEndOfFile: return "EndOfFile";
    case TxfStatus::kNoSuchFile: return "NoSuchFile";
    case TxfStatus::kNoMoreFiles: return "NoMoreFiles";
    case TxfStatus::kFileDeleted: return "FileDeleted";
    case TxfStatus::kDiskFull: return "DiskFull";
  }
  return "?";
}

// ---- transactions ------------------------------------------------------------

TxfStatus TxfModel::Begin(const std::string& tx) {
  if (tx.empty()) return TxfStatus::kInvalidParameter;
  if (txs_.count(tx)) return TxfStatus::kTransactionExists;
  txs_[tx];
  return TxfStatus::kOk;
}

TxfStatus TxfModel::Commit(const std::string& tx) {
  if (tx.empty()) return TxfStatus::kInvalidParameter;
  if (TxfStatus s = CheckTx(tx); s != TxfStatus::kOk) return s;
  Tx& t = txs_[tx];
  for (const auto& [path, node] : t.changes) {
    if (node) {
      committed_[path] = *node;
    } else {
      committed_.erase(path);
    }
  }
  t.state = TxState::kCommitted;
  return TxfStatus::kOk;
}

TxfStatus TxfModel::Rollback(const std::string& tx) {
  if (tx.empty()) return TxfStatus::kInvalidParameter;
  if (TxfStatus s = CheckTx(tx); s != TxfStatus::kOk) return s;
  txs_[tx].state = TxState::kAborted;
  return TxfStatus::kOk;
}

void TxfModel::Crash() {
  for (auto& [id, t] : txs_) {
    if (t.state == TxState::kActive) t.state = TxState::kAborted;
  }
  handles_.clear();
}

bool TxfModel::Active(const std::string& tx) const {
  auto it = txs_.find(tx);
  return it != txs_.end() && it->second.state == TxState::kActive;
}

TxfStatus TxfModel::CheckTx(const std::string& tx) const {
  if (tx.empty()) return TxfStatus::kOk;
  auto it = txs_.find(tx);
  if (it == txs_.end()) return TxfStatus::kUnknownTransaction;
  return it->second.state == TxState::kActive ? TxfStatus::kOk : TxfStatus::kNotActive;
}

// ---- views, locks, handles ------------------------------------------------------

TxfModel::Tree TxfModel::ViewOf(const std::string& tx) const {
  Tree view = committed_;
  if (!Active(tx)) return view;
  for (const auto& [path, node] : txs_.at(tx).changes) {
    if (node) {
      view[path] = *node;
    } else {
      view.erase(path);
    }
  }
  return view;
}

std::string TxfModel::LockOwner(const std::string& path) const {
  for (const auto& [id, t] : txs_) {
    if (t.state == TxState::kActive && t.locks.count(path)) return id;
  }
  return "";
}

bool TxfModel::OtherLock(const std::string& tx, const std::string& path) const {
  std::string owner = LockOwner(path);
  return !owner.empty() && owner != tx;
}

bool TxfModel::OtherLockBeneath(const std::string& tx, const std::string& dir) const {
  for (const auto& [id, t] : txs_) {
    if (t.state != TxState::kActive || id == tx) continue;
    for (const auto& path : t.locks) {
      if (IsBeneath(path, dir)) return true;
    }
  }
  return false;
}

bool TxfModel::Live(const Handle& h) const { return !h.find && (h.tx.empty() || Active(h.tx)); }

bool TxfModel::NonTxWriterOn(const std::string& path, uint64_t id) const {
  for (const auto& [n, h] : handles_) {
    if (Live(h) && h.tx.empty() && h.write && h.path == path && h.id == id) return true;
  }
  return false;
}

bool TxfModel::TxHandleOn(const std::string& path, uint64_t id) const {
  for (const auto& [n, h] : handles_) {
    if (Live(h) && !h.tx.empty() && h.path == path && h.id == id) return true;
  }
  return false;
}

bool TxfModel::BlockingHandleOn(const std::string& tx, const std::string& path, uint64_t id) const {
  for (const auto& [n, h] : handles_) {
    if (!Live(h) || h.path != path || h.id != id) continue;
    bool other_snapshot = !tx.empty() && !h.tx.empty() && h.tx != tx && h.view == View::kSnapshot;
    if (!other_snapshot) return true;
  }
  return false;
}

TxfStatus TxfModel::ParentOk(const Tree& view, const std::string& path) const {
  auto it = view.find(Parent(path));
  return it != view.end() && it->second.directory ? TxfStatus::kOk : TxfStatus::kPathNotFound;
}

TxfStatus TxfModel::CreateOk(const std::string& tx, const std::string& path) const {
  if (OtherLock(tx, path) || OtherLock(tx, Parent(path))) return TxfStatus::kTransactionalConflict;
  return TxfStatus::kOk;
}

TxfStatus TxfModel::WriterOpenOk(const std::string& tx, const std::string& path, const Node& node) const {
  if (!tx.empty()) {
    if (NonTxWriterOn(path, node.id)) return TxfStatus::kTransactionalConflict;
    if (OtherLock(tx, path)) return TxfStatus::kSharingViolation;
    return TxfStatus::kOk;
  }
  if (OtherLock(tx, path) || TxHandleOn(path, node.id)) return TxfStatus::kSharingViolation;
  return TxfStatus::kOk;
}

TxfStatus TxfModel::RemoveOk(const std::string& tx, const Tree& view, const std::string& path,
                             const Node& node) const {
  if (!node.directory) {
    if (!tx.empty() && NonTxWriterOn(path, node.id)) return TxfStatus::kTransactionalConflict;
    if (OtherLock(tx, path)) return TxfStatus::kSharingViolation;
    if (BlockingHandleOn(tx, path, node.id)) return TxfStatus::kSharingViolation;
  } else {
    if (OtherLock(tx, path)) return TxfStatus::kSharingViolation;
    if (OtherLockBeneath(tx, path)) return TxfStatus::kCantBreakDependency;
    for (const auto& [p, n] : view) {
      if (IsBeneath(p, path) && !n.directory && BlockingHandleOn(tx, p, n.id)) return TxfStatus::kSharingViolation;
    }
  }
  if (OtherLock(tx, Parent(path))) return TxfStatus::kTransactionalConflict;
  return TxfStatus::kOk;
}

TxfStatus TxfModel::HandleOk(int handle, bool find) const {
  auto it = handles_.find(handle);
  if (it == handles_.end()) return TxfStatus::kInvalidHandle;
  if (it->second.find != find) return TxfStatus::kTypeMismatch;
  if (!it->second.tx.empty() && !Active(it->second.tx)) return TxfStatus::kHandleNoLongerValid;
  return TxfStatus::kOk;
}

void TxfModel::Change(const std::string& tx, const std::string& path, std::optional<Node> node) {
  if (tx.empty()) {
    if (node) {
      committed_[path] = *node;
    } else {
      committed_.erase(path);
    }
    return;
  }
  txs_[tx].changes[path] = std::move(node);
  txs_[tx].locks.insert(path);
}

// ---- handle calls ------------------------------------------------------------------

TxfResult TxfModel::CreateFile(const std::string& tx, const std::string& path, bool read, bool write,
                               TxfDisposition disposition) {
  if ((!read && !write) || (disposition != TxfDisposition::kOpenExisting && !write)) {
    return {TxfStatus::kInvalidParameter};
  }
  if (!ValidPath(path)) return {TxfStatus::kNameInvalid};
  if (TxfStatus s = CheckTx(tx); s != TxfStatus::kOk) return {s};
  Tree view = ViewOf(tx);
  if (TxfStatus s = ParentOk(view, path); s != TxfStatus::kOk) return {s};
  auto it = view.find(path);
  if (it != view.end() && it->second.directory) return {TxfStatus::kFileIsADirectory};
  TxfStatus result = TxfStatus::kOk;
  if (it == view.end()) {
    if (disposition == TxfDisposition::kOpenExisting || disposition == TxfDisposition::kTruncateExisting) {
      return {TxfStatus::kNameNotFound};
    }
    if (TxfStatus s = CreateOk(tx, path); s != TxfStatus::kOk) return {s};
    Change(tx, path, Node{false, next_id_++, ""});
  } else {
    const Node node = it->second;
    if (disposition == TxfDisposition::kCreateNew) return {TxfStatus::kNameCollision};
    if (write) {
      if (TxfStatus s = WriterOpenOk(tx, path, node); s != TxfStatus::kOk) return {s};
    } else if (!tx.empty() && NonTxWriterOn(path, node.id)) {
      return {TxfStatus::kTransactionalConflict};
    }
    if (disposition == TxfDisposition::kCreateAlways || disposition == TxfDisposition::kTruncateExisting) {
      Change(tx, path, Node{false, node.id, ""});
    }
    if (disposition == TxfDisposition::kCreateAlways || disposition == TxfDisposition::kOpenAlways) {
      result = TxfStatus::kAlreadyExists;
    }
  }
  if (write && !tx.empty()) txs_[tx].locks.insert(path);
  const Node opened = ViewOf(tx).at(path);
  Handle h{.tx = tx, .path = path, .id = opened.id, .read = read, .write = write};
  if (!tx.empty()) {
    h.view = LockOwner(path) == tx ? View::kOwn : View::kSnapshot;
    if (h.view == View::kSnapshot) h.snapshot = opened.contents;
  }
  int handle = next_handle_++;
  handles_[handle] = h;
  return {result, handle};
}

TxfResult TxfModel::Read(int handle, uint64_t offset, uint32_t length) {
  if (TxfStatus s = HandleOk(handle, false); s != TxfStatus::kOk) return {s};
  const Handle& h = handles_.at(handle);
  if (!h.read) return {TxfStatus::kAccessDenied};
  std::string contents = h.snapshot;
  if (h.view != View::kSnapshot) {
    Tree view = ViewOf(h.tx);
    auto it = view.find(h.path);
    if (h.view == View::kLive && (it == view.end() || it->second.id != h.id)) return {TxfStatus::kFileDeleted};
    Require(it != view.end() && it->second.id == h.id, "a transaction's own file vanished");
    contents = it->second.contents;
  }
  if (length > 0 && offset >= contents.size()) return {TxfStatus::kEndOfFile};
  TxfResult r;
  r.data = length == 0 ? "" : contents.substr(offset, length);
  return r;
}

TxfStatus TxfModel::ChangeContents(int handle, const std::string& contents) {
  const Handle& h = handles_.at(handle);
  Node node = ViewOf(h.tx).at(h.path);
  node.contents = contents;
  Change(h.tx, h.path, node);
  return TxfStatus::kOk;
}

TxfStatus TxfModel::Write(int handle, uint64_t offset, const std::string& data) {
  if (TxfStatus s = HandleOk(handle, false); s != TxfStatus::kOk) return s;
  const Handle& h = handles_.at(handle);
  if (!h.write) return TxfStatus::kAccessDenied;
  Tree view = ViewOf(h.tx);
  auto it = view.find(h.path);
  Require(it != view.end() && it->second.id == h.id, "the file of a writer handle vanished");
  if (data.empty()) return TxfStatus::kOk;
  if (offset > options_.file_bytes_max || offset + data.size() > options_.file_bytes_max) return TxfStatus::kDiskFull;
  std::string contents = it->second.contents;
  if (contents.size() < offset + data.size()) contents.resize(offset + data.size(), '\0');
  contents.replace(offset, data.size(), data);
  return ChangeContents(handle, contents);
}

TxfStatus TxfModel::SetEndOfFile(int handle, uint64_t size) {
  if (TxfStatus s = HandleOk(handle, false); s != TxfStatus::kOk) return s;
  const Handle& h = handles_.at(handle);
  if (!h.write) return TxfStatus::kAccessDenied;
  Tree view = ViewOf(h.tx);
  auto it = view.find(h.path);
  Require(it != view.end() && it->second.id == h.id, "the file of a writer handle vanished");
  if (size > options_.file_bytes_max) return TxfStatus::kDiskFull;
  std::string contents = it->second.contents;
  contents.resize(size, '\0');
  return ChangeContents(handle, contents);
}

TxfStatus TxfModel::Close(int handle) {
  auto it = handles_.find(handle);
  if (it == handles_.end()) return TxfStatus::kInvalidHandle;
  if (it->second.find) return TxfStatus::kTypeMismatch;
  handles_.erase(it);
  return TxfStatus::kOk;
}

// ---- name calls ---------------------------------------------------------------------

TxfStatus TxfModel::Delete(const std::string& tx, const std::string& path) {
  if (!ValidPath(path)) return TxfStatus::kNameInvalid;
  if (TxfStatus s = CheckTx(tx); s != TxfStatus::kOk) return s;
  Tree view = ViewOf(tx);
  if (TxfStatus s = ParentOk(view, path); s != TxfStatus::kOk) return s;
  auto it = view.find(path);
  if (it == view.end()) return TxfStatus::kNameNotFound;
  if (it->second.directory) return TxfStatus::kFileIsADirectory;
  if (TxfStatus s = RemoveOk(tx, view, path, it->second); s != TxfStatus::kOk) return s;
  Change(tx, path, std::nullopt);
  return TxfStatus::kOk;
}

TxfStatus TxfModel::CreateDirectory(const std::string& tx, const std::string& path) {
  if (!ValidPath(path)) return TxfStatus::kNameInvalid;
  if (TxfStatus s = CheckTx(tx); s != TxfStatus::kOk) return s;
  Tree view = ViewOf(tx);
  if (TxfStatus s = ParentOk(view, path); s != TxfStatus::kOk) return s;
  if (view.count(path)) return TxfStatus::kNameCollision;
  if (TxfStatus s = CreateOk(tx, path); s != TxfStatus::kOk) return s;
  Change(tx, path, Node{true, next_id_++, ""});
  return TxfStatus::kOk;
}

TxfStatus TxfModel::RemoveDirectory(const std::string& tx, const std::string& path) {
  if (!ValidPath(path)) return TxfStatus::kNameInvalid;
  if (TxfStatus s = CheckTx(tx); s != TxfStatus::kOk) return s;
  Tree view = ViewOf(tx);
  if (TxfStatus s = ParentOk(view, path); s != TxfStatus::kOk) return s;
  auto it = view.find(path);
  if (it == view.end()) return TxfStatus::kNameNotFound;
  if (!it->second.directory) return TxfStatus::kNotADirectory;
  if (path == "\\") return TxfStatus::kAccessDenied;
  for (const auto& [p, n] : view) {
    if (IsBeneath(p, path)) return TxfStatus::kDirectoryNotEmpty;
  }
  if (TxfStatus s = RemoveOk(tx, view, path, it->second); s != TxfStatus::kOk) return s;
  Change(tx, path, std::nullopt);
  return TxfStatus::kOk;
}

TxfStatus TxfModel::Move(const std::string& tx, const std::string& from, const std::string& to, bool replace) {
  if (!ValidPath(from) || !ValidPath(to)) return TxfStatus::kNameInvalid;
  if (from == to || IsBeneath(to, from)) return TxfStatus::kInvalidParameter;
  if (from == "\\" || to == "\\") return TxfStatus::kAccessDenied;
  if (TxfStatus s = CheckTx(tx); s != TxfStatus::kOk) return s;
  Tree view = ViewOf(tx);
  if (TxfStatus s = ParentOk(view, from); s != TxfStatus::kOk) return s;
  auto source = view.find(from);
  if (source == view.end()) return TxfStatus::kNameNotFound;
  if (TxfStatus s = ParentOk(view, to); s != TxfStatus::kOk) return s;
  if (TxfStatus s = RemoveOk(tx, view, from, source->second); s != TxfStatus::kOk) return s;
  if (auto target = view.find(to); target != view.end()) {
    if (!replace) return TxfStatus::kNameCollision;
    if (target->second.directory || source->second.directory) return TxfStatus::kAccessDenied;
    if (TxfStatus s = RemoveOk(tx, view, to, target->second); s != TxfStatus::kOk) return s;
  } else if (TxfStatus s = CreateOk(tx, to); s != TxfStatus::kOk) {
    return s;
  }
  for (const auto& [p, n] : view) {
    if (p == from || IsBeneath(p, from)) Change(tx, p, std::nullopt);
  }
  for (const auto& [p, n] : view) {
    if (p == from || IsBeneath(p, from)) Change(tx, to + p.substr(from.size()), n);
  }
  return TxfStatus::kOk;
}

TxfStatus TxfModel::Copy(const std::string& tx, const std::string& from, const std::string& to,
                         bool fail_if_exists) {
  if (!ValidPath(from) || !ValidPath(to)) return TxfStatus::kNameInvalid;
  if (from == to) return TxfStatus::kInvalidParameter;
  if (TxfStatus s = CheckTx(tx); s != TxfStatus::kOk) return s;
  Tree view = ViewOf(tx);
  if (TxfStatus s = ParentOk(view, from); s != TxfStatus::kOk) return s;
  auto source = view.find(from);
  if (source == view.end()) return TxfStatus::kNameNotFound;
  if (source->second.directory) return TxfStatus::kFileIsADirectory;
  if (!tx.empty() && NonTxWriterOn(from, source->second.id)) return TxfStatus::kTransactionalConflict;
  if (TxfStatus s = ParentOk(view, to); s != TxfStatus::kOk) return s;
  uint64_t id = 0;
  if (auto target = view.find(to); target != view.end()) {
    if (target->second.directory) return TxfStatus::kAccessDenied;
    if (fail_if_exists) return TxfStatus::kNameCollision;
    if (TxfStatus s = WriterOpenOk(tx, to, target->second); s != TxfStatus::kOk) return s;
    id = target->second.id;
  } else {
    if (TxfStatus s = CreateOk(tx, to); s != TxfStatus::kOk) return s;
    id = next_id_++;
  }
  Change(tx, to, Node{false, id, source->second.contents});
  return TxfStatus::kOk;
}

TxfResult TxfModel::Attributes(const std::string& tx, const std::string& path) {
  if (!ValidPath(path)) return {TxfStatus::kNameInvalid};
  if (TxfStatus s = CheckTx(tx); s != TxfStatus::kOk) return {s};
  Tree view = ViewOf(tx);
  if (TxfStatus s = ParentOk(view, path); s != TxfStatus::kOk) return {s};
  auto it = view.find(path);
  if (it == view.end()) return {TxfStatus::kNameNotFound};
  TxfResult r;
  r.entry = TxfEntry{"", it->second.directory, it->second.contents.size()};
  return r;
}

TxfResult TxfModel::FindFirst(const std::string& tx, const std::string& pattern) {
  size_t slash = pattern.rfind('\\');
  if (slash == std::string::npos || pattern.size() > 260) return {TxfStatus::kNameInvalid};
  std::string dir = slash == 0 ? "\\" : pattern.substr(0, slash);
  std::string name = pattern.substr(slash + 1);
  if (!ValidPath(dir) || !ValidName(name, true)) return {TxfStatus::kNameInvalid};
  if (TxfStatus s = CheckTx(tx); s != TxfStatus::kOk) return {s};
  Tree view = ViewOf(tx);
  auto d = view.find(dir);
  if (d == view.end() || !d->second.directory) return {TxfStatus::kPathNotFound};
  Handle h{.find = true, .tx = tx, .path = dir, .id = d->second.id};
  for (const auto& [p, n] : view) {  // path order is name order among siblings
    if (!IsBeneath(p, dir) || Parent(p) != dir) continue;
    std::string leaf = p.substr(p.rfind('\\') + 1);
    if (Match(name, 0, leaf, 0)) h.entries.push_back(TxfEntry{leaf, n.directory, n.contents.size()});
  }
  std::sort(h.entries.begin(), h.entries.end(), [](const TxfEntry& a, const TxfEntry& b) { return a.name < b.name; });
  if (h.entries.empty()) return {TxfStatus::kNoSuchFile};
  TxfResult r;
  r.entry = h.entries.front();
  h.next = 1;
  r.handle = next_handle_++;
  handles_[r.handle] = h;
  return r;
}

TxfResult TxfModel::FindNext(int handle) {
  if (TxfStatus s = HandleOk(handle, true); s != TxfStatus::kOk) return {s};
  Handle& h = handles_.at(handle);
  if (h.next >= h.entries.size()) return {TxfStatus::kNoMoreFiles};
  TxfResult r;
  r.entry = h.entries[h.next++];
  return r;
}

TxfStatus TxfModel::FindClose(int handle) {
  auto it = handles_.find(handle);
  if (it == handles_.end()) return TxfStatus::kInvalidHandle;
  if (!it->second.find) return TxfStatus::kTypeMismatch;
  handles_.erase(it);
  return TxfStatus::kOk;
}

// ---- committed state ------------------------------------------------------------------

std::map<std::string, std::string> TxfModel::CommittedFiles() const {
  std::map<std::string, std::string> out;
  for (const auto& [path, node] : committed_) {
    if (!node.directory) out[path] = node.contents;
  }
  return out;
}

std::set<std::string> TxfModel::CommittedDirectories() const {
  std::set<std::string> out;
  for (const auto& [path, node] : committed_) {
    if (node.directory) out.insert(path);
  }
  return out;
}

}  // namespace model
