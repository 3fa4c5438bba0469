// TxrModel implementation: see txr_model.h. Each call is its rule list from
// docs/txf-txr.md, top to bottom; the first rule that fails is the answer.
#include "model/txr_model.h"

#include <algorithm>

namespace model {
namespace {

constexpr uint32_t kAccessValid = TxrModel::kAllAccess | 0x100 | 0x200;

bool ValidSubKey(const std::string& sub_key) {
  if (sub_key.empty()) return true;
  size_t start = 0;
  while (true) {
    size_t slash = sub_key.find('\\', start);
    std::string part = sub_key.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (part.empty() || part.size() > 255) return false;
    for (char c : part) {
      if (static_cast<unsigned char>(c) < 0x20) return false;
    }
    if (slash == std::string::npos) return true;
    start = slash + 1;
  }
}

std::string Parent(const std::string& path) { return path.substr(0, path.rfind('\\')); }

bool IsBeneath(const std::string& path, const std::string& key) {
  return path.size() > key.size() + 1 && path.compare(0, key.size() + 1, key + "\\") == 0;
}

bool IsProtected(const std::string& path) {
  return path == "HKCR" || path == "HKCU" || path == "HKLM" || path == "HKU" || path == "HKLM\\Software" ||
         path == "HKLM\\System" || path == "HKU\\.DEFAULT";
}

size_t Depth(const std::string& path) { return static_cast<size_t>(std::count(path.begin(), path.end(), '\\')); }

std::string Join(const std::string& base, const std::string& sub_key) {
  return sub_key.empty() ? base : base + "\\" + sub_key;
}

}  // namespace

const char* TxrStatusName(TxrStatus status) {
  switch (status) {
    case TxrStatus::kOk: return "Ok";
    case TxrStatus::kInvalidParameter: return "InvalidParameter";
    case TxrStatus::kNameInvalid: return "NameInvalid";
    case TxrStatus::kInvalidHandle: return "InvalidHandle";
    case TxrStatus::kHandleNoLongerValid: return "HandleNoLongerValid";
    case TxrStatus::kNotActive: return "NotActive";
    case TxrStatus::kUnknownTransaction: return "UnknownTransaction";
    case TxrStatus::kTransactionExists: return "TransactionExists";
    case TxrStatus::kAccessDenied: return "AccessDenied";
    case TxrStatus::kNameNotFound: return "NameNotFound";
    case TxrStatus::kKeyDeleted: return "KeyDeleted";
    case TxrStatus::kCannotDelete: return "CannotDelete";
    case TxrStatus::kTransactionalConflict: return "TransactionalConflict";
    case TxrStatus::kNoMoreEntries: return "NoMoreEntries";
  }
  return "?";
}

// ---- transactions ------------------------------------------------------------

TxrStatus TxrModel::Begin(const std::string& tx) {
  if (tx.empty()) return TxrStatus::kInvalidParameter;
  if (txs_.count(tx)) return TxrStatus::kTransactionExists;
  txs_[tx];
  return TxrStatus::kOk;
}

TxrStatus TxrModel::Commit(const std::string& tx) {
  if (tx.empty()) return TxrStatus::kInvalidParameter;
  if (TxrStatus s = CheckTx(tx); s != TxrStatus::kOk) return s;
  Tx& t = txs_[tx];
  for (const auto& [path, key] : t.changes) {
    if (key) {
      committed_[path] = *key;
    } else {
      committed_.erase(path);
    }
  }
  t.state = TxState::kCommitted;
  return TxrStatus::kOk;
}

TxrStatus TxrModel::Rollback(const std::string& tx) {
  if (tx.empty()) return TxrStatus::kInvalidParameter;
  if (TxrStatus s = CheckTx(tx); s != TxrStatus::kOk) return s;
  txs_[tx].state = TxState::kAborted;
  return TxrStatus::kOk;
}

void TxrModel::Crash() {
  for (auto& [id, t] : txs_) {
    if (t.state == TxState::kActive) t.state = TxState::kAborted;
  }
  handles_.clear();
}

bool TxrModel::Active(const std::string& tx) const {
  auto it = txs_.find(tx);
  return it != txs_.end() && it->second.state == TxState::kActive;
}

bool TxrModel::Doomed(const std::string& tx) const {
  auto it = txs_.find(tx);
  return it != txs_.end() && it->second.doomed;
}

TxrStatus TxrModel::CheckTx(const std::string& tx) const {
  if (tx.empty()) return TxrStatus::kOk;
  auto it = txs_.find(tx);
  if (it == txs_.end()) return TxrStatus::kUnknownTransaction;
  return it->second.state == TxState::kActive ? TxrStatus::kOk : TxrStatus::kNotActive;
}

// ---- views, locks, handles ---------------------------------------------------------

TxrModel::Registry TxrModel::ViewOf(const std::string& tx) const {
  Registry view = committed_;
  if (!Active(tx)) return view;
  for (const auto& [path, key] : txs_.at(tx).changes) {
    if (key) {
      view[path] = *key;
    } else {
      view.erase(path);
    }
  }
  return view;
}

TxrStatus TxrModel::HandleOf(int key, Handle* out) const {
  static const char* const kRootNames[] = {"HKCR", "HKCU", "HKLM", "HKU"};
  if (key <= kClassesRoot && key >= kUsers) {
    std::string root = kRootNames[-key - 1];
    *out = Handle{"", root, committed_.at(root).id, 0x20019 | kCreateSubKey};
    return TxrStatus::kOk;
  }
  auto it = handles_.find(key);
  if (it == handles_.end()) return TxrStatus::kInvalidHandle;
  if (!it->second.tx.empty() && !Active(it->second.tx)) return TxrStatus::kHandleNoLongerValid;
  *out = it->second;
  return TxrStatus::kOk;
}

TxrStatus TxrModel::KeyIn(const Registry& view, const Handle& h) const {
  auto it = view.find(h.path);
  return it != view.end() && it->second.id == h.id ? TxrStatus::kOk : TxrStatus::kKeyDeleted;
}

std::vector<std::string> TxrModel::Children(const Registry& view, const std::string& path) const {
  std::vector<std::string> names;
  for (const auto& [p, key] : view) {
    if (IsBeneath(p, path) && p.find('\\', path.size() + 1) == std::string::npos) {
      names.push_back(p.substr(path.size() + 1));
    }
  }
  return names;  // map order = name order among siblings
}

std::set<std::string> TxrModel::OthersHolding(const std::string& tx, const std::string& path, bool beneath) const {
  std::set<std::string> holders;
  for (const auto& [id, t] : txs_) {
    if (t.state != TxState::kActive || id == tx) continue;
    for (const auto& [p, key] : t.changes) {
      if (p == path || (beneath && IsBeneath(p, path))) holders.insert(id);
    }
  }
  return holders;
}

TxrStatus TxrModel::Settle(const std::string& tx, const std::set<std::string>& holders) {
  if (holders.empty()) return TxrStatus::kOk;
  if (!tx.empty()) return TxrStatus::kTransactionalConflict;
  for (const auto& holder : holders) {
    txs_[holder].state = TxState::kAborted;
    txs_[holder].doomed = true;
  }
  return TxrStatus::kOk;
}

void TxrModel::Change(const std::string& tx, const std::string& path, std::optional<Key> key) {
  if (!tx.empty()) {
    txs_[tx].changes[path] = std::move(key);
  } else if (key) {
    committed_[path] = *key;
  } else {
    committed_.erase(path);
  }
}

int TxrModel::NewHandle(const std::string& tx, const std::string& path, uint32_t access) {
  int handle = next_handle_++;
  handles_[handle] = Handle{tx, path, ViewOf(tx).at(path).id, access};
  return handle;
}

// ---- key calls ------------------------------------------------------------------------

TxrResult TxrModel::CreateKey(const std::string& tx, int base, const std::string& sub_key, uint32_t access) {
  if (access == 0 || (access & ~kAccessValid) != 0) return {TxrStatus::kInvalidParameter};
  if (!ValidSubKey(sub_key)) return {TxrStatus::kNameInvalid};
  Handle b;
  if (TxrStatus s = HandleOf(base, &b); s != TxrStatus::kOk) return {s};
  if (!sub_key.empty() && (b.access & kCreateSubKey) == 0) return {TxrStatus::kAccessDenied};
  std::string full = Join(b.path, sub_key);
  if (Depth(full) > 32) return {TxrStatus::kInvalidParameter};
  if (TxrStatus s = CheckTx(tx); s != TxrStatus::kOk) return {s};
  Registry view = ViewOf(tx);
  if (TxrStatus s = KeyIn(view, b); s != TxrStatus::kOk) return {s};
  std::vector<std::string> missing;
  for (std::string p = full; p != b.path && !view.count(p); p = Parent(p)) missing.insert(missing.begin(), p);
  if (!missing.empty()) {
    std::string parent = Parent(missing.front());
    if (parent == "HKLM" || parent == "HKU") return {TxrStatus::kAccessDenied};
    std::set<std::string> holders = OthersHolding(tx, parent, false);
    for (const auto& p : missing) {
      for (const auto& h : OthersHolding(tx, p, false)) holders.insert(h);
    }
    if (TxrStatus s = Settle(tx, holders); s != TxrStatus::kOk) return {s};
    for (const auto& p : missing) Change(tx, p, Key{next_id_++, {}});
  }
  TxrResult r;
  r.created = !missing.empty();
  r.handle = NewHandle(tx, full, access);
  return r;
}

TxrResult TxrModel::OpenKey(const std::string& tx, int base, const std::string& sub_key, uint32_t access) {
  if (access == 0 || (access & ~kAccessValid) != 0) return {TxrStatus::kInvalidParameter};
  if (!ValidSubKey(sub_key)) return {TxrStatus::kNameInvalid};
  Handle b;
  if (TxrStatus s = HandleOf(base, &b); s != TxrStatus::kOk) return {s};
  std::string full = Join(b.path, sub_key);
  if (Depth(full) > 32) return {TxrStatus::kInvalidParameter};
  if (TxrStatus s = CheckTx(tx); s != TxrStatus::kOk) return {s};
  Registry view = ViewOf(tx);
  if (TxrStatus s = KeyIn(view, b); s != TxrStatus::kOk) return {s};
  if (!view.count(full)) return {TxrStatus::kNameNotFound};
  TxrResult r;
  r.handle = NewHandle(tx, full, access);
  return r;
}

TxrStatus TxrModel::DeleteKey(const std::string& tx, int base, const std::string& sub_key) {
  if (!ValidSubKey(sub_key)) return TxrStatus::kNameInvalid;
  Handle b;
  if (TxrStatus s = HandleOf(base, &b); s != TxrStatus::kOk) return s;
  std::string full = Join(b.path, sub_key);
  if (Depth(full) > 32) return TxrStatus::kInvalidParameter;
  if (TxrStatus s = CheckTx(tx); s != TxrStatus::kOk) return s;
  Registry view = ViewOf(tx);
  if (TxrStatus s = KeyIn(view, b); s != TxrStatus::kOk) return s;
  if (!view.count(full)) return TxrStatus::kNameNotFound;
  if (IsProtected(full)) return TxrStatus::kAccessDenied;
  if (!Children(view, full).empty()) return TxrStatus::kCannotDelete;
  std::set<std::string> holders = OthersHolding(tx, full, true);
  for (const auto& h : OthersHolding(tx, Parent(full), false)) holders.insert(h);
  if (TxrStatus s = Settle(tx, holders); s != TxrStatus::kOk) return s;
  Change(tx, full, std::nullopt);
  return TxrStatus::kOk;
}

TxrStatus TxrModel::CloseKey(int key) {
  if (key <= kClassesRoot && key >= kUsers) return TxrStatus::kOk;
  return handles_.erase(key) == 1 ? TxrStatus::kOk : TxrStatus::kInvalidHandle;
}

// ---- value calls -------------------------------------------------------------------------

TxrStatus TxrModel::SetValue(int key, const std::string& name, const TxrValue& value) {
  Handle h;
  if (TxrStatus s = HandleOf(key, &h); s != TxrStatus::kOk) return s;
  if (name.size() > 16383 || (value.type != 1 && value.type != 3 && value.type != 4) ||
      (value.type == 4 && value.data.size() != 4)) {
    return TxrStatus::kInvalidParameter;
  }
  if ((h.access & kSetValue) == 0) return TxrStatus::kAccessDenied;
  Registry view = ViewOf(h.tx);
  if (TxrStatus s = KeyIn(view, h); s != TxrStatus::kOk) return s;
  if (TxrStatus s = Settle(h.tx, OthersHolding(h.tx, h.path, false)); s != TxrStatus::kOk) return s;
  Key changed = view.at(h.path);
  changed.values[name] = value;
  Change(h.tx, h.path, changed);
  return TxrStatus::kOk;
}

TxrResult TxrModel::QueryValue(int key, const std::string& name) {
  Handle h;
  if (TxrStatus s = HandleOf(key, &h); s != TxrStatus::kOk) return {s};
  if ((h.access & kQueryValue) == 0) return {TxrStatus::kAccessDenied};
  Registry view = ViewOf(h.tx);
  if (TxrStatus s = KeyIn(view, h); s != TxrStatus::kOk) return {s};
  const Key& k = view.at(h.path);
  auto it = k.values.find(name);
  if (it == k.values.end()) return {TxrStatus::kNameNotFound};
  TxrResult r;
  r.value = it->second;
  return r;
}

TxrStatus TxrModel::DeleteValue(int key, const std::string& name) {
  Handle h;
  if (TxrStatus s = HandleOf(key, &h); s != TxrStatus::kOk) return s;
  if ((h.access & kSetValue) == 0) return TxrStatus::kAccessDenied;
  Registry view = ViewOf(h.tx);
  if (TxrStatus s = KeyIn(view, h); s != TxrStatus::kOk) return s;
  Key changed = view.at(h.path);
  if (changed.values.erase(name) == 0) return TxrStatus::kNameNotFound;
  if (TxrStatus s = Settle(h.tx, OthersHolding(h.tx, h.path, false)); s != TxrStatus::kOk) return s;
  Change(h.tx, h.path, changed);
  return TxrStatus::kOk;
}

TxrResult TxrModel::EnumKey(int key, uint32_t index) {
  Handle h;
  if (TxrStatus s = HandleOf(key, &h); s != TxrStatus::kOk) return {s};
  if ((h.access & kEnumerateSubKeys) == 0) return {TxrStatus::kAccessDenied};
  Registry view = ViewOf(h.tx);
  if (TxrStatus s = KeyIn(view, h); s != TxrStatus::kOk) return {s};
  std::vector<std::string> children = Children(view, h.path);
  if (index >= children.size()) return {TxrStatus::kNoMoreEntries};
  TxrResult r;
  r.name = children[index];
  return r;
}

TxrResult TxrModel::EnumValue(int key, uint32_t index) {
  Handle h;
  if (TxrStatus s = HandleOf(key, &h); s != TxrStatus::kOk) return {s};
  if ((h.access & kQueryValue) == 0) return {TxrStatus::kAccessDenied};
  Registry view = ViewOf(h.tx);
  if (TxrStatus s = KeyIn(view, h); s != TxrStatus::kOk) return {s};
  const Key& k = view.at(h.path);
  if (index >= k.values.size()) return {TxrStatus::kNoMoreEntries};
  auto it = std::next(k.values.begin(), index);
  TxrResult r;
  r.name = it->first;
  r.value = it->second;
  return r;
}

// ---- committed state ------------------------------------------------------------------------

std::map<std::string, TxrValue> TxrModel::CommittedValues() const {
  std::map<std::string, TxrValue> out;
  for (const auto& [path, key] : committed_) {
    for (const auto& [name, value] : key.values) out[path + "\\" + name] = value;
  }
  return out;
}

std::set<std::string> TxrModel::CommittedKeys() const {
  std::set<std::string> out;
  for (const auto& [path, key] : committed_) out.insert(path);
  return out;
}

}  // namespace model
