// TxrRm implementation: see txr_rm.h and docs/txf-txr.md. Each call checks,
// in the documented order, parameters, the handle, the transaction, the
// registry and then the locks, and only then changes anything: a failed
// call has no effect (except enlisting its transaction).
#include "ktm/txr/txr_rm.h"

#include <algorithm>
#include <array>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/escaping.h"
#include "ktm/assert.h"

namespace ktm::txr {
namespace {

constexpr uint64_t kHandleTag = uint64_t{0x52} << 48;  // 'R': never a kernel or TxF handle
constexpr uint32_t kAccessValid = KEY_ALL_ACCESS | KEY_WOW64_64KEY | KEY_WOW64_32KEY;

struct Root {
  HANDLE handle;
  const char* name;
};
constexpr std::array<Root, 4> kRoots = {{{HKEY_CLASSES_ROOT, "HKCR"},
                                         {HKEY_CURRENT_USER, "HKCU"},
                                         {HKEY_LOCAL_MACHINE, "HKLM"},
                                         {HKEY_USERS, "HKU"}}};
// Keys that always exist and can be neither created nor deleted.
constexpr std::array<const char*, 7> kProtected = {"HKCR", "HKCU", "HKLM", "HKU",
                                                   "HKLM\\Software", "HKLM\\System", "HKU\\.DEFAULT"};

bool IsProtected(const std::string& path) {
  return std::any_of(kProtected.begin(), kProtected.end(), [&](const char* p) { return EqualsIgnoringCase(p, path); });
}

// HKLM and HKU hold only their fixed children.
bool IsClosedRoot(const std::string& path) {
  return EqualsIgnoringCase(path, "HKLM") || EqualsIgnoringCase(path, "HKU");
}

bool ValidSubKey(const std::string& sub_key) {
  if (sub_key.empty()) return true;
  size_t start = 0;
  while (true) {
    size_t end = sub_key.find('\\', start);
    size_t len = (end == std::string::npos ? sub_key.size() : end) - start;
    if (len == 0 || len > kKeyNameCharsMax) return false;
    for (size_t i = start; i < start + len; ++i) {
      if (static_cast<unsigned char>(sub_key[i]) < 0x20) return false;
    }
    if (end == std::string::npos) return true;
    start = end + 1;
  }
}

size_t Depth(const std::string& path) { return static_cast<size_t>(std::count(path.begin(), path.end(), '\\')); }

std::string Parent(const std::string& path) { return path.substr(0, path.rfind('\\')); }

bool IsBeneath(const std::string& path, const std::string& key) {
  return path.size() > key.size() + 1 && StartsWithIgnoringCase(path, key) && path[key.size()] == '\\';
}

// The store key of a path: names compare without case (ktm/case_fold.h).
std::string StoreKey(std::string_view path) {
  std::string key(path);
  for (char& c : key) c = FoldCase(c);
  return key;
}

}  // namespace

std::vector<uint8_t> RegSz(const std::string& text) { return std::vector<uint8_t>(text.begin(), text.end()); }

std::vector<uint8_t> RegDword(uint32_t value) {
  return {static_cast<uint8_t>(value), static_cast<uint8_t>(value >> 8), static_cast<uint8_t>(value >> 16),
          static_cast<uint8_t>(value >> 24)};
}

std::string TxrRm::ValueText(uint32_t type, const std::vector<uint8_t>& data) {
  std::string bytes(data.begin(), data.end());
  switch (type) {
    case REG_SZ:
      return absl::StrCat("REG_SZ:", bytes);
    case REG_DWORD: {
      KTM_ASSERT(data.size() == 4, "txr: a REG_DWORD of the wrong size");
      uint32_t v = uint32_t{data[0]} | uint32_t{data[1]} << 8 | uint32_t{data[2]} << 16 | uint32_t{data[3]} << 24;
      return absl::StrCat("REG_DWORD:", v);
    }
    case REG_BINARY:
      return absl::StrCat("REG_BINARY:", absl::BytesToHexString(bytes));
    default:
      KTM_ASSERT(false, absl::StrCat("txr: a value of unknown type ", type));
  }
  return "";
}

TxrRm::TxrRm(Kernel* kernel, sim::Host* host, sim::Disk* disk, HANDLE tm, TxrOptions options)
    : RmBase(kernel, host, disk, tm, options.rm, "txr"),
      options_(std::move(options)),
      next_handle_((host->incarnation() & 0xffff) << 30),
      boot_(host->incarnation() + 1) {
  ChangeList fixed;
  for (const char* path : kProtected) fixed.emplace_back(path, Key{.id = NewId()});
  ApplyToCommitted(fixed);
}

TxrRm::~TxrRm() = default;

// ---------------------------------------------------------------------------
// Encoding of change sets and of the committed registry.

uint64_t TxrRm::EntryBytes(const std::string& path, const std::optional<Key>& key) {
  uint64_t bytes = 4 + path.size() + 1;
  if (!key) return bytes;
  bytes += 8 + 8 + 4;
  for (const auto& [name, value] : key->values) bytes += 4 + name.size() + 4 + 4 + value.data.size();
  return bytes;
}

void TxrRm::PutEntry(Writer& w, const std::string& path, const std::optional<Key>& key) {
  w.Str(path);
  w.U8(key ? 1 : 0);
  if (!key) return;
  w.U64(key->id);
  w.U64(key->volatile_boot);
  w.U32(static_cast<uint32_t>(key->values.size()));
  for (const auto& [name, value] : key->values) {
    w.Str(name);
    w.U32(value.type);
    w.Bytes(value.data);
  }
}

TxrRm::Change TxrRm::GetEntry(Reader& r) {
  Change change;
  change.first = r.Str();
  if (r.U8() == 0) return change;
  Key key;
  key.id = r.U64();
  key.volatile_boot = r.U64();
  uint32_t n = r.U32();
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    std::string name = r.Str();
    Value value;
    value.type = r.U32();
    value.data = r.Bytes();
    key.values[name] = std::move(value);
  }
  change.second = std::move(key);
  return change;
}

TxrRm::ChangeList TxrRm::DecodeList(Reader& r) {
  ChangeList list;
  uint32_t n = r.U32();
  for (uint32_t i = 0; i < n && r.ok(); ++i) list.push_back(GetEntry(r));
  KTM_ASSERT(r.ok(), "txr: a change list does not decode");
  return list;
}

uint64_t TxrRm::StateBytesMax() const {
  return options_.registry_bytes_max + 4 + 4ull * options_.rm.transactions_max;
}

bool TxrRm::HasChanges(const Guid& uow) const {
  auto it = txs_.find(uow);
  return it != txs_.end() && !it->second.changes.empty();
}

void TxrRm::EncodeChanges(const Guid& uow, Writer& w) const {
  const TxChanges& tx = txs_.at(uow);
  w.U32(static_cast<uint32_t>(tx.changes.size()));
  for (const auto& [path, key] : tx.changes) PutEntry(w, path, key);
}

void TxrRm::ApplyChanges(Reader& r) { ApplyToCommitted(DecodeList(r)); }

void TxrRm::ApplyToCommitted(const ChangeList& changes) {
  for (const auto& [path, key] : changes) {
    KTM_ASSERT(key || !IsProtected(path), absl::StrCat("txr: protected key ", path, " deleted"));
    MarkCommittedDirty(StoreKey(path));
    if (auto it = committed_.find(path); it != committed_.end()) {
      committed_bytes_ -= EntryBytes(path, it->second);
      committed_.erase(it);
    }
    if (!key || Stale(*key)) continue;  // a volatile key does not outlive its host
    committed_bytes_ += EntryBytes(path, key);
    committed_[path] = *key;
    next_id_ = std::max(next_id_, key->id + 1);
  }
}

void TxrRm::RestorePrepared(const Guid& uow, Reader& r) {
  ChangeList changes = DecodeList(r);
  std::erase_if(changes, [this](const Change& c) { return c.second && Stale(*c.second); });
  Stage(uow, changes);
}

void TxrRm::EndTransaction(const Guid& uow) {
  if (auto it = txs_.find(uow); it != txs_.end()) {
    for (const auto& [path, key] : it->second.changes) pending_bytes_ -= EntryBytes(path, key);
    txs_.erase(it);
  }
  for (auto it = locks_.begin(); it != locks_.end();) {
    it = it->second == uow ? locks_.erase(it) : std::next(it);
  }
}

std::optional<std::string> TxrRm::CommittedRecord(const std::string& key) const {
  auto it = committed_.find(key);
  if (it == committed_.end()) return std::nullopt;
  Writer w;
  PutEntry(w, it->first, it->second);
  return std::string(w.data().begin(), w.data().end());
}

void TxrRm::LoadCommittedRecord(const std::string& key, const std::string& record) {
  Reader r(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(record.data()), record.size()));
  Change change = GetEntry(r);
  KTM_ASSERT(r.done() && change.second.has_value() && StoreKey(change.first) == key,
             "txr: a store record does not decode to its key");
  ApplyToCommitted({change});
}

void TxrRm::EncodeCommitted(Writer& w) const {
  w.U32(static_cast<uint32_t>(committed_.size()));
  for (const auto& [path, key] : committed_) PutEntry(w, path, key);
}

void TxrRm::DecodeCommitted(Reader& r) {
  committed_.clear();
  committed_bytes_ = 0;
  ApplyToCommitted(DecodeList(r));
  for (const char* path : kProtected) KTM_ASSERT(committed_.count(path) == 1, "txr: a snapshot without a root key");
}

// ---------------------------------------------------------------------------
// Views, locks and handles.

const TxrRm::Key* TxrRm::Lookup(const Actor& a, const std::string& path) const {
  if (a.transacted) {
    if (auto tx = txs_.find(a.uow); tx != txs_.end()) {
      if (auto c = tx->second.changes.find(path); c != tx->second.changes.end()) {
        return c->second ? &*c->second : nullptr;
      }
    }
  }
  auto it = committed_.find(path);
  return it == committed_.end() ? nullptr : &it->second;
}

std::string TxrRm::Spelled(const Actor& a, const std::string& path) const {
  std::string out;
  for (size_t start = 0; start <= path.size();) {
    size_t end = std::min(path.find('\\', start), path.size());
    std::string prefix = out.empty() ? path.substr(0, end) : absl::StrCat(out, "\\", path.substr(start, end - start));
    const std::string* spelling = nullptr;
    if (a.transacted) {
      if (auto tx = txs_.find(a.uow); tx != txs_.end()) {
        if (auto c = tx->second.changes.find(prefix); c != tx->second.changes.end() && c->second) {
          spelling = &c->first;
        }
      }
    }
    if (spelling == nullptr && Lookup(a, prefix) != nullptr) spelling = &committed_.find(prefix)->first;
    out = spelling ? *spelling : prefix;
    start = end + 1;
  }
  return out;
}

std::vector<std::string> TxrRm::Children(const Actor& a, const std::string& path) const {
  std::string prefix = path + "\\";
  std::set<std::string, Names> candidates;
  for (auto it = committed_.lower_bound(prefix);
       it != committed_.end() && StartsWithIgnoringCase(it->first, prefix); ++it) {
    candidates.insert(it->first);
  }
  if (a.transacted) {
    if (auto tx = txs_.find(a.uow); tx != txs_.end()) {
      for (const auto& [p, key] : tx->second.changes) {
        if (IsBeneath(p, path)) candidates.insert(p);
      }
    }
  }
  std::vector<std::string> names;
  for (const auto& p : candidates) {
    if (p.find('\\', prefix.size()) == std::string::npos && Lookup(a, p) != nullptr) {
      names.push_back(p.substr(prefix.size()));
    }
  }
  return names;
}

void TxrRm::OtherHolder(const Actor& a, const std::string& path, std::set<Guid>* owners) const {
  auto it = locks_.find(path);
  if (it != locks_.end() && (!a.transacted || it->second != a.uow)) owners->insert(it->second);
}

void TxrRm::OtherHoldersBeneath(const Actor& a, const std::string& path, std::set<Guid>* owners) const {
  std::string prefix = path + "\\";
  for (auto it = locks_.lower_bound(prefix); it != locks_.end() && StartsWithIgnoringCase(it->first, prefix); ++it) {
    if (!a.transacted || it->second != a.uow) owners->insert(it->second);
  }
}

NTSTATUS TxrRm::BeginCall(HANDLE transaction, Actor* actor) {
  if (!online()) return STATUS_RM_NOT_ACTIVE;
  *actor = Actor{};
  if (transaction == INVALID_HANDLE_VALUE) return STATUS_SUCCESS;
  actor->transacted = true;
  return Enlist(transaction, &actor->uow);
}

NTSTATUS TxrRm::ResolveKey(HANDLE key, OpenKey* out) const {
  for (const Root& root : kRoots) {
    if (key != root.handle) continue;
    *out = OpenKey{.path = root.name, .id = committed_.at(root.name).id, .access = KEY_READ | KEY_CREATE_SUB_KEY};
    return STATUS_SUCCESS;
  }
  auto it = handles_.find(key);
  if (it == handles_.end()) return STATUS_INVALID_HANDLE;
  if (it->second.actor.transacted) {
    RmTxPhase phase = PhaseOf(it->second.actor.uow);
    // Ended (rolled back or committed) or preparing: Windows' registry calls
    // fail with ERROR_TRANSACTION_NOT_ACTIVE through a key bound to it.
    if (phase != RmTxPhase::kActive) return STATUS_TRANSACTION_NOT_ACTIVE;
  }
  *out = it->second;
  return STATUS_SUCCESS;
}

NTSTATUS TxrRm::KeyOf(const Actor& a, const OpenKey& handle, const Key** out) const {
  const Key* key = Lookup(a, handle.path);
  if (key == nullptr || key->id != handle.id) return STATUS_KEY_DELETED;
  *out = key;
  return STATUS_SUCCESS;
}

NTSTATUS TxrRm::NewHandle(const Actor& a, const std::string& path, uint32_t access, HANDLE* out) {
  const Key* key = Lookup(a, path);
  KTM_ASSERT(key != nullptr, "txr: an opened key is missing from the opener's view");
  HANDLE h = kHandleTag | (next_handle_++ << 2);
  handles_.emplace(h, OpenKey{.actor = a, .path = path, .id = key->id, .access = access});
  *out = h;
  return STATUS_SUCCESS;
}

NTSTATUS TxrRm::CheckBudget(const Actor& a, const ChangeList& changes) const {
  int64_t delta = 0;
  auto tx = a.transacted ? txs_.find(a.uow) : txs_.end();
  for (const auto& [path, key] : changes) {
    if (a.transacted) {
      delta += static_cast<int64_t>(EntryBytes(path, key));
      if (tx == txs_.end()) continue;
      if (auto c = tx->second.changes.find(path); c != tx->second.changes.end()) {
        delta -= static_cast<int64_t>(EntryBytes(path, c->second));
      }
      continue;
    }
    if (key) delta += static_cast<int64_t>(EntryBytes(path, key));
    if (auto it = committed_.find(path); it != committed_.end()) {
      delta -= static_cast<int64_t>(EntryBytes(path, it->second));
    }
  }
  int64_t total = static_cast<int64_t>(committed_bytes_ + pending_bytes_) + delta;
  const uint64_t limit = paged() ? PagedCapacityBytes() : options_.registry_bytes_max;
  return total <= static_cast<int64_t>(limit) ? STATUS_SUCCESS : STATUS_DISK_FULL;
}

void TxrRm::Stage(const Guid& uow, const ChangeList& changes) {
  TxChanges& tx = txs_[uow];
  for (const auto& [path, key] : changes) {
    if (auto c = tx.changes.find(path); c != tx.changes.end()) {
      pending_bytes_ -= EntryBytes(c->first, c->second);
      tx.changes.erase(c);  // a re-created key takes its new spelling
    }
    tx.changes[path] = key;
    pending_bytes_ += EntryBytes(path, key);
    auto [lock, inserted] = locks_.emplace(path, uow);
    KTM_ASSERT(lock->second == uow, absl::StrCat("txr: lock of ", path, " taken over from another transaction"));
  }
}

NTSTATUS TxrRm::Perform(const Actor& a, const std::set<Guid>& owners, const ChangeList& changes, const char* what) {
  if (a.transacted && !owners.empty()) return STATUS_TRANSACTIONAL_CONFLICT;
  for (const Guid& owner : owners) {
    if (PhaseOf(owner) != RmTxPhase::kActive) return STATUS_TRANSACTIONAL_CONFLICT;
  }
  if (NTSTATUS s = CheckBudget(a, changes); s != STATUS_SUCCESS) return s;
  if (a.transacted) {
    Stage(a.uow, changes);
    return STATUS_SUCCESS;
  }
  Writer w;
  w.U32(static_cast<uint32_t>(changes.size()));
  for (const auto& [path, key] : changes) PutEntry(w, path, key);
  // The documented TxR rule: a non-transacted change of a key a transaction
  // changed rolls that transaction back — once the change is logged (a
  // change refused for a full log rolls nothing back). The rolled-back
  // transactions were active, so they have nothing in the log to undo.
  NTSTATUS s = LogNonTransacted(w.data(), [this, &owners, &changes] {
    for (const Guid& owner : owners) {
      bool doomed = Doom(owner, "nontx_write");
      KTM_ASSERT(doomed, "txr: an active transaction could not be rolled back");
    }
    ApplyToCommitted(changes);
  });
  if (s == STATUS_SUCCESS) TraceRm("nontx", {{"op", what}, {"key", changes.front().first}});
  return s;
}

void TxrRm::ReportValue(bool write, const Actor& a, const std::string& path, const std::string& name,
                        const Value* value) {
  if (!a.transacted) return;
  const std::string key = absl::StrCat(path, "\\", name);
  const std::string text = value ? ValueText(value->type, value->data) : "";
  if (write) return ReportWrite(a.uow, key, text);
  ReportRead(a.uow, key, text);
}

// ---------------------------------------------------------------------------
// Key calls.

// The shared first half of create and open: base handle, path, handle limit.
NTSTATUS TxrRm::OpenCommon(HANDLE key, const std::string& sub_key, bool create, OpenKey* base, std::string* full) {
  if (!ValidSubKey(sub_key)) return STATUS_OBJECT_NAME_INVALID;
  if (NTSTATUS s = ResolveKey(key, base); s != STATUS_SUCCESS) return s;
  if (create && !sub_key.empty() && (base->access & KEY_CREATE_SUB_KEY) == 0) return STATUS_ACCESS_DENIED;
  *full = sub_key.empty() ? base->path : absl::StrCat(base->path, "\\", sub_key);
  if (Depth(*full) > kKeyDepthMax) return STATUS_INVALID_PARAMETER;
  if (handles_.size() >= options_.handles_max) return STATUS_INSUFFICIENT_RESOURCES;
  return STATUS_SUCCESS;
}

NTSTATUS TxrRm::RegCreateKeyTransacted(HANDLE key, const std::string& sub_key, uint32_t options,
                                       uint32_t sam_desired, HANDLE* result, uint32_t* disposition,
                                       HANDLE transaction) {
  if (result == nullptr || (options != REG_OPTION_NON_VOLATILE && options != REG_OPTION_VOLATILE) ||
      sam_desired == 0 || (sam_desired & ~kAccessValid) != 0) {
    return STATUS_INVALID_PARAMETER;
  }
  OpenKey base;
  std::string full;
  if (NTSTATUS s = OpenCommon(key, sub_key, true, &base, &full); s != STATUS_SUCCESS) return s;
  Actor a;
  if (NTSTATUS s = BeginCall(transaction, &a); s != STATUS_SUCCESS) return s;
  const Key* base_key = nullptr;
  if (NTSTATUS s = KeyOf(a, base, &base_key); s != STATUS_SUCCESS) return s;
  full = Spelled(a, full);
  // The keys to create, top down.
  std::vector<std::string> missing;
  for (size_t pos = base.path.size(); pos < full.size();) {
    size_t next = full.find('\\', pos + 1);
    std::string prefix = full.substr(0, next);
    if (!missing.empty() || Lookup(a, prefix) == nullptr) missing.push_back(prefix);
    pos = next == std::string::npos ? full.size() : next;
  }
  if (!missing.empty()) {
    if (IsClosedRoot(Parent(missing.front()))) return STATUS_ACCESS_DENIED;
    // RegCreateKeyEx: a stable key cannot be created under a volatile one
    // (ERROR_CHILD_MUST_BE_VOLATILE).
    const Key* parent = Lookup(a, Parent(missing.front()));
    if (parent->volatile_boot != 0 && options != REG_OPTION_VOLATILE) return STATUS_CHILD_MUST_BE_VOLATILE;
    const uint64_t volatile_boot = options == REG_OPTION_VOLATILE ? boot_ : 0;
    std::set<Guid> owners;
    OtherHolder(a, Parent(missing.front()), &owners);
    ChangeList changes;
    for (const auto& path : missing) {
      OtherHolder(a, path, &owners);
      changes.emplace_back(path, Key{.id = NewId(), .volatile_boot = volatile_boot});
    }
    if (NTSTATUS s = Perform(a, owners, changes, "create_key"); s != STATUS_SUCCESS) return s;
  }
  if (disposition != nullptr) *disposition = missing.empty() ? REG_OPENED_EXISTING_KEY : REG_CREATED_NEW_KEY;
  return NewHandle(a, full, sam_desired, result);
}

NTSTATUS TxrRm::RegOpenKeyTransacted(HANDLE key, const std::string& sub_key, uint32_t options, uint32_t sam_desired,
                                     HANDLE* result, HANDLE transaction) {
  if (result == nullptr || options != 0 || sam_desired == 0 || (sam_desired & ~kAccessValid) != 0) {
    return STATUS_INVALID_PARAMETER;
  }
  OpenKey base;
  std::string full;
  if (NTSTATUS s = OpenCommon(key, sub_key, false, &base, &full); s != STATUS_SUCCESS) return s;
  Actor a;
  if (NTSTATUS s = BeginCall(transaction, &a); s != STATUS_SUCCESS) return s;
  const Key* base_key = nullptr;
  if (NTSTATUS s = KeyOf(a, base, &base_key); s != STATUS_SUCCESS) return s;
  full = Spelled(a, full);
  if (Lookup(a, full) == nullptr) return STATUS_OBJECT_NAME_NOT_FOUND;
  return NewHandle(a, full, sam_desired, result);
}

NTSTATUS TxrRm::RegDeleteKeyTransacted(HANDLE key, const std::string& sub_key, uint32_t sam_desired,
                                       HANDLE transaction) {
  if ((sam_desired & ~(KEY_WOW64_64KEY | KEY_WOW64_32KEY)) != 0) return STATUS_INVALID_PARAMETER;
  if (!ValidSubKey(sub_key)) return STATUS_OBJECT_NAME_INVALID;
  OpenKey base;
  if (NTSTATUS s = ResolveKey(key, &base); s != STATUS_SUCCESS) return s;
  std::string full = sub_key.empty() ? base.path : absl::StrCat(base.path, "\\", sub_key);
  if (Depth(full) > kKeyDepthMax) return STATUS_INVALID_PARAMETER;
  Actor a;
  if (NTSTATUS s = BeginCall(transaction, &a); s != STATUS_SUCCESS) return s;
  const Key* base_key = nullptr;
  if (NTSTATUS s = KeyOf(a, base, &base_key); s != STATUS_SUCCESS) return s;
  full = Spelled(a, full);
  const Key* target = Lookup(a, full);
  if (target == nullptr) return STATUS_OBJECT_NAME_NOT_FOUND;
  if (IsProtected(full)) return STATUS_ACCESS_DENIED;
  if (!Children(a, full).empty()) return STATUS_CANNOT_DELETE;
  std::set<Guid> owners;
  OtherHolder(a, full, &owners);
  OtherHoldersBeneath(a, full, &owners);
  OtherHolder(a, Parent(full), &owners);
  Key removed = *target;
  if (NTSTATUS s = Perform(a, owners, {{full, std::nullopt}}, "delete_key"); s != STATUS_SUCCESS) return s;
  for (const auto& [name, value] : removed.values) ReportValue(true, a, full, name, nullptr);
  return STATUS_SUCCESS;
}

NTSTATUS TxrRm::RegCloseKey(HANDLE key) {
  for (const Root& root : kRoots) {
    if (key == root.handle) return STATUS_SUCCESS;
  }
  return handles_.erase(key) == 1 ? STATUS_SUCCESS : STATUS_INVALID_HANDLE;
}

// ---------------------------------------------------------------------------
// Value calls (transacted when the handle is).

NTSTATUS TxrRm::RegSetValueEx(HANDLE key, const std::string& value_name, uint32_t type,
                              const std::vector<uint8_t>& data) {
  OpenKey h;
  if (NTSTATUS s = ResolveKey(key, &h); s != STATUS_SUCCESS) return s;
  if (value_name.size() > kValueNameCharsMax || (type != REG_SZ && type != REG_BINARY && type != REG_DWORD) ||
      (type == REG_DWORD && data.size() != 4) || data.size() > options_.value_bytes_max) {
    return STATUS_INVALID_PARAMETER;
  }
  if ((h.access & KEY_SET_VALUE) == 0) return STATUS_ACCESS_DENIED;
  const Key* current = nullptr;
  if (NTSTATUS s = KeyOf(h.actor, h, &current); s != STATUS_SUCCESS) return s;
  std::set<Guid> owners;
  OtherHolder(h.actor, h.path, &owners);
  Key changed = *current;
  Value value{.type = type, .data = data};
  // Value names compare without case; an existing value keeps its spelling.
  auto existing = current->values.find(value_name);
  const std::string name = existing != current->values.end() ? existing->first : value_name;
  changed.values[name] = value;
  if (NTSTATUS s = Perform(h.actor, owners, {{h.path, std::move(changed)}}, "set_value"); s != STATUS_SUCCESS) {
    return s;
  }
  ReportValue(true, h.actor, h.path, name, &value);
  return STATUS_SUCCESS;
}

NTSTATUS TxrRm::RegQueryValueEx(HANDLE key, const std::string& value_name, uint32_t* type,
                                std::vector<uint8_t>* data) {
  OpenKey h;
  if (NTSTATUS s = ResolveKey(key, &h); s != STATUS_SUCCESS) return s;
  if ((h.access & KEY_QUERY_VALUE) == 0) return STATUS_ACCESS_DENIED;
  const Key* current = nullptr;
  if (NTSTATUS s = KeyOf(h.actor, h, &current); s != STATUS_SUCCESS) return s;
  auto it = current->values.find(value_name);
  if (it == current->values.end()) {
    ReportValue(false, h.actor, h.path, value_name, nullptr);
    return STATUS_OBJECT_NAME_NOT_FOUND;
  }
  if (type != nullptr) *type = it->second.type;
  if (data != nullptr) *data = it->second.data;
  ReportValue(false, h.actor, h.path, it->first, &it->second);
  return STATUS_SUCCESS;
}

NTSTATUS TxrRm::RegDeleteValue(HANDLE key, const std::string& value_name) {
  OpenKey h;
  if (NTSTATUS s = ResolveKey(key, &h); s != STATUS_SUCCESS) return s;
  if ((h.access & KEY_SET_VALUE) == 0) return STATUS_ACCESS_DENIED;
  const Key* current = nullptr;
  if (NTSTATUS s = KeyOf(h.actor, h, &current); s != STATUS_SUCCESS) return s;
  auto existing = current->values.find(value_name);
  if (existing == current->values.end()) return STATUS_OBJECT_NAME_NOT_FOUND;
  const std::string name = existing->first;
  std::set<Guid> owners;
  OtherHolder(h.actor, h.path, &owners);
  Key changed = *current;
  changed.values.erase(name);
  if (NTSTATUS s = Perform(h.actor, owners, {{h.path, std::move(changed)}}, "delete_value"); s != STATUS_SUCCESS) {
    return s;
  }
  ReportValue(true, h.actor, h.path, name, nullptr);
  return STATUS_SUCCESS;
}

NTSTATUS TxrRm::RegEnumKeyEx(HANDLE key, uint32_t index, std::string* name) {
  OpenKey h;
  if (NTSTATUS s = ResolveKey(key, &h); s != STATUS_SUCCESS) return s;
  if (name == nullptr) return STATUS_INVALID_PARAMETER;
  if ((h.access & KEY_ENUMERATE_SUB_KEYS) == 0) return STATUS_ACCESS_DENIED;
  const Key* current = nullptr;
  if (NTSTATUS s = KeyOf(h.actor, h, &current); s != STATUS_SUCCESS) return s;
  std::vector<std::string> children = Children(h.actor, h.path);
  if (index >= children.size()) return STATUS_NO_MORE_ENTRIES;
  *name = children[index];
  return STATUS_SUCCESS;
}

NTSTATUS TxrRm::RegEnumValue(HANDLE key, uint32_t index, std::string* name, uint32_t* type,
                             std::vector<uint8_t>* data) {
  OpenKey h;
  if (NTSTATUS s = ResolveKey(key, &h); s != STATUS_SUCCESS) return s;
  if (name == nullptr) return STATUS_INVALID_PARAMETER;
  if ((h.access & KEY_QUERY_VALUE) == 0) return STATUS_ACCESS_DENIED;
  const Key* current = nullptr;
  if (NTSTATUS s = KeyOf(h.actor, h, &current); s != STATUS_SUCCESS) return s;
  if (index >= current->values.size()) return STATUS_NO_MORE_ENTRIES;
  auto it = std::next(current->values.begin(), index);
  *name = it->first;
  if (type != nullptr) *type = it->second.type;
  if (data != nullptr) *data = it->second.data;
  ReportValue(false, h.actor, h.path, it->first, &it->second);
  return STATUS_SUCCESS;
}

// ---------------------------------------------------------------------------
// Committed state.

std::map<std::string, std::string> TxrRm::committed() const {
  std::map<std::string, std::string> out;
  for (const auto& [path, key] : committed_) {
    for (const auto& [name, value] : key.values) {
      out[absl::StrCat(path, "\\", name)] = ValueText(value.type, value.data);
    }
  }
  return out;
}

std::set<std::string> TxrRm::committed_keys() const {
  std::set<std::string> out;
  for (const auto& [path, key] : committed_) out.insert(path);
  return out;
}

}  // namespace ktm::txr
