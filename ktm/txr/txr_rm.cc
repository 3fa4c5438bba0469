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
#include "ktm/storage/record_cache.h"

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

// The id of a protected key: its place in kProtected, from 1 (the
// constructor gives them these ids, before any other).
uint64_t ProtectedId(const std::string& path) {
  for (size_t i = 0; i < kProtected.size(); ++i) {
    if (EqualsIgnoringCase(kProtected[i], path)) return i + 1;
  }
  KTM_ASSERT(false, "txr: " + path + " is not a protected key");
  return 0;
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
      boot_(host->incarnation() + 1),
      cache_(options_.cache_records_max) {
  ChangeList fixed;
  for (const char* path : kProtected) fixed.emplace_back(path, Key{.id = next_id_++});
  // Paged: the protected keys are read from the store like any key (absent
  // there: as created here, without values).
  if (!paged()) ApplyToCommitted(fixed);
  if (paged()) counts_ = Counts::kLoading;
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
    const std::string store_key = StoreKey(path);
    MarkCommittedDirty(store_key);
    if (paged()) {
      // The change is the key's whole new state: it needs nothing from the
      // store, except for the parent's child count (known when the key was
      // resident; else the counts are rebuilt).
      const bool resident = cache_.Has(store_key);
      const bool before = committed_.count(path) > 0;
      const bool after = key.has_value() && !Stale(*key);
      // A commit of a key not in memory (a transaction prepared before a
      // crash): its former state is unknown, so the counts are built again.
      if (!resident && counts_ == Counts::kReady) {
        counts_ = Counts::kNone;
        child_counts_.clear();
        enum_ready_ = false;
      } else if (!resident && counts_ == Counts::kScanning) {
        recount_ = true;
      }
      const bool first_change = count_changes_.count(path) == 0;
      if (counts_ != Counts::kReady) NoteCountChange(path, before, after);
      if (counts_ == Counts::kLoading && first_change) {
        // Start counted the stored state: a resident key not changed since is as stored.
        if (resident) count_changes_.at(path).counted = before;
        else ProbeStored(path);
      } else if (counts_ == Counts::kReady && before != after) {
        AdjustChildCount(Parent(path), after ? 1 : -1);
      }
      if (counts_ == Counts::kReady && enum_ready_ && Depth(path) > 0 && EqualsIgnoringCase(Parent(path), enum_path_)) {
        enum_names_.erase(path);
        if (after) enum_names_.insert(path);
      }
      if (auto it = committed_.find(path); it != committed_.end()) committed_.erase(it);
      if (after) committed_[path] = *key;  // a re-created key takes its new spelling
      cache_.MarkDirty(store_key);
      continue;
    }
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
  // Paged: read the keys in now, so that the outcome finds them resident.
  for (const auto& [path, key] : changes) {
    if (paged() && store() != nullptr && !cache_.Has(StoreKey(path))) FetchKey(path, [](NTSTATUS) {});
  }
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
  KTM_ASSERT(cache_.Dirty(key), name() + ": a flush asks for " + key + ", not dirty in the cache");
  auto it = committed_.find(key);
  if (it == committed_.end()) return std::nullopt;
  Writer w;
  PutEntry(w, it->first, it->second);
  return std::string(w.data().begin(), w.data().end());
}

// Start's stream of the store (nothing changes meanwhile): children counted, no key kept.
void TxrRm::LoadCommittedRecord(const std::string& key, const std::string& record) {
  KTM_ASSERT(counts_ == Counts::kLoading, name() + ": a store record loaded after the start");
  std::optional<Change> change = DecodeRecord(record);
  if (!change) return;
  KTM_ASSERT(StoreKey(change->first) == key, "txr: a store record does not decode to its key");
  if (Depth(change->first) > 0) AdjustChildCount(Parent(change->first), 1);
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
  if (paged()) return PagedChildren(a, path);
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
    const uint64_t id = paged() ? ProtectedId(root.name) : committed_.at(root.name).id;
    *out = OpenKey{.path = root.name, .id = id, .access = KEY_READ | KEY_CREATE_SUB_KEY};
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
  // Paged: the committed bytes are not known without reading every page;
  // the bound applies to the open transactions' changes (a page that would
  // overflow refuses the flush: docs/rm-storage.md).
  if (paged() && !a.transacted) delta = 0;
  int64_t total = static_cast<int64_t>((paged() ? 0 : committed_bytes_) + pending_bytes_) + delta;
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
  if (NTSTATUS s = EnsureResident(full, false); s != STATUS_SUCCESS) return s;
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
  if (NTSTATUS s = EnsureResident(full, false); s != STATUS_SUCCESS) return s;
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
  if (NTSTATUS s = EnsureResident(full, true); s != STATUS_SUCCESS) return s;
  Actor a;
  if (NTSTATUS s = BeginCall(transaction, &a); s != STATUS_SUCCESS) return s;
  const Key* base_key = nullptr;
  if (NTSTATUS s = KeyOf(a, base, &base_key); s != STATUS_SUCCESS) return s;
  full = Spelled(a, full);
  const Key* target = Lookup(a, full);
  if (target == nullptr) return STATUS_OBJECT_NAME_NOT_FOUND;
  if (IsProtected(full)) return STATUS_ACCESS_DENIED;
  if (paged() ? HasChildren(a, full) : !Children(a, full).empty()) return STATUS_CANNOT_DELETE;
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
  if (NTSTATUS s = EnsureResident(h.path, false); s != STATUS_SUCCESS) return s;
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
  if (NTSTATUS s = EnsureResident(h.path, false); s != STATUS_SUCCESS) return s;
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
  if (NTSTATUS s = EnsureResident(h.path, false); s != STATUS_SUCCESS) return s;
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
  if (NTSTATUS s = EnsureResident(h.path, true); s != STATUS_SUCCESS) return s;
  if (name == nullptr) return STATUS_INVALID_PARAMETER;
  if ((h.access & KEY_ENUMERATE_SUB_KEYS) == 0) return STATUS_ACCESS_DENIED;
  const Key* current = nullptr;
  if (NTSTATUS s = KeyOf(h.actor, h, &current); s != STATUS_SUCCESS) return s;
  if (paged() && !EnumerationReady(h.path)) {  // the names of the children come from one scan
    RequestEnumeration(h.path);
    return STATUS_PENDING;
  }
  std::vector<std::string> children = Children(h.actor, h.path);
  if (index >= children.size()) return STATUS_NO_MORE_ENTRIES;
  *name = children[index];
  return STATUS_SUCCESS;
}

NTSTATUS TxrRm::RegEnumValue(HANDLE key, uint32_t index, std::string* name, uint32_t* type,
                             std::vector<uint8_t>* data) {
  OpenKey h;
  if (NTSTATUS s = ResolveKey(key, &h); s != STATUS_SUCCESS) return s;
  if (NTSTATUS s = EnsureResident(h.path, false); s != STATUS_SUCCESS) return s;
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
  for (const auto& [path, key] : AllCommitted()) {
    for (const auto& [name, value] : key.values) {
      out[absl::StrCat(path, "\\", name)] = ValueText(value.type, value.data);
    }
  }
  return out;
}

std::set<std::string> TxrRm::committed_keys() const {
  std::set<std::string> out;
  for (const auto& [path, key] : AllCommitted()) out.insert(path);
  return out;
}

}  // namespace ktm::txr

// ---------------------------------------------------------------------------
// Paged storage: a bounded cache of committed keys over the store, and the
// child counts (docs/rm-storage.md "Memory bounded by the pool").

namespace ktm::txr {

std::optional<TxrRm::Change> TxrRm::DecodeRecord(const std::string& record) const {
  Reader r(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(record.data()), record.size()));
  Change change = GetEntry(r);
  KTM_ASSERT(r.done() && change.second.has_value(), name() + ": a store record does not decode");
  if (Stale(*change.second)) return std::nullopt;
  return change;
}

bool TxrRm::Resident(const std::string& path, bool children) const {
  if (!paged()) return true;
  if (children && counts_ != Counts::kReady) return false;
  const std::string key = StoreKey(path);  // folding keeps the separators in place
  for (size_t end = key.find('\\');; end = key.find('\\', end + 1)) {
    if (!cache_.Has(key.substr(0, end))) return false;
    if (end == std::string::npos) return true;
  }
}

NTSTATUS TxrRm::EnsureResident(const std::string& path, bool children) {
  if (!paged()) return STATUS_SUCCESS;
  if (!online()) return STATUS_RM_NOT_ACTIVE;
  if (counts_ == Counts::kNone) StartCounting();
  MaybeFinishLoading();
  if (!Resident(path, children)) {
    Fetch(path, children, [](NTSTATUS) {});
    return STATUS_PENDING;
  }
  Touch(path);
  return STATUS_SUCCESS;
}

// Used: the resident clean keys of the path move to the young end of the LRU.
void TxrRm::Touch(const std::string& path) {
  const std::string key = StoreKey(path);
  for (size_t end = key.find('\\');; end = key.find('\\', end + 1)) {
    cache_.Touch(key.substr(0, end));
    if (end == std::string::npos) return;
  }
}

void TxrRm::Fetch(const std::string& path, bool children, std::function<void(NTSTATUS)> done) {
  if (!paged()) return done(STATUS_SUCCESS);
  if (!online() || store() == nullptr) return done(STATUS_RM_NOT_ACTIVE);
  if (counts_ == Counts::kNone) StartCounting();
  Touch(path);  // what is resident stays while the rest is read in
  std::vector<std::string> missing;
  for (size_t end = path.find('\\');; end = path.find('\\', end + 1)) {
    if (!cache_.Has(StoreKey(path.substr(0, end)))) missing.push_back(path.substr(0, end));
    if (end == std::string::npos) break;
  }
  const bool wait_counts = children && counts_ != Counts::kReady;
  if (missing.empty() && !wait_counts) return done(STATUS_SUCCESS);
  std::function<void(NTSTATUS)> one =
      storage::RecordCache::Join(missing.size() + (wait_counts ? 1 : 0), std::move(done));
  if (wait_counts) count_waiters_.push_back(one);
  for (const std::string& key : missing) FetchKey(key, one);
  MaybeFinishLoading();
}

// The replay changed path: its state in the store (as Start counted it) is
// read before any flush can change it (the store serves its operations in
// order, and no flush starts before the RM is online).
void TxrRm::ProbeStored(const std::string& path) {
  ++probes_pending_;
  std::weak_ptr<bool> alive = alive_;
  store()->Get(StoreKey(path), [this, alive, path](absl::StatusOr<std::optional<std::string>> got) {
    if (alive.expired()) return;
    --probes_pending_;
    if (!got.ok()) {
      counts_ = Counts::kNone;  // counted again by a scan (which reports the failure to its waiters)
      child_counts_.clear();
      StartCounting();
      return;
    }
    if (counts_ != Counts::kLoading) return;
    auto it = count_changes_.find(path);
    KTM_ASSERT(it != count_changes_.end(), name() + ": a probe of a key the replay did not change");
    it->second.counted = *got && DecodeRecord(**got).has_value();
    MaybeFinishLoading();
  });
}

void TxrRm::MaybeFinishLoading() {
  if (counts_ != Counts::kLoading || probes_pending_ > 0 || !online()) return;
  counts_ = Counts::kScanning;  // CountingDone merges the replay's changes as a scan's
  ++memory_.count_scans;
  CountingDone(STATUS_SUCCESS);
}

void TxrRm::FetchKey(const std::string& path, std::function<void(NTSTATUS)> done) {
  const std::string key = StoreKey(path);
  cache_.Fetch(
      store(), key, alive_,
      [this, path, key](std::optional<std::string> record) {
        std::optional<Change> change = record ? DecodeRecord(*record) : std::nullopt;
        if (change) {
          committed_[change->first] = std::move(*change->second);
        } else if (IsProtected(path)) {
          committed_[kProtected[ProtectedId(path) - 1]] = Key{.id = ProtectedId(path)};
        }
        cache_.MarkClean(key, false);
        EvictClean();
      },
      std::move(done));
}

TxrRm::MemoryStats TxrRm::memory() const {
  const storage::RecordCache::Stats& c = cache_.stats();
  MemoryStats m = memory_;  // the child counts and scans
  m.resident_records = c.resident;
  m.resident_records_peak = c.resident_peak;
  m.dirty_records = c.dirty;
  m.fetches = c.reads;
  return m;
}

// Drops least recently used clean keys beyond cache_records_max (a key read
// in goes to the young end of the LRU, one the store has just taken from a
// flush to the old end: storage::RecordCache); a key an open transaction
// changed stays (its commit needs the committed state).
void TxrRm::EvictClean() {
  cache_.Evict([this](const std::string& key) { return locks_.count(key) > 0; },
               [this](const std::string& key) { committed_.erase(key); });
}

void TxrRm::CommittedRecordsStored(std::span<const storage::Change> records) {
  for (const storage::Change& change : records) {
    if (!cache_.Dirty(change.key) || IsCommittedDirty(change.key)) continue;
    cache_.MarkClean(change.key, true);
  }
  EvictClean();
}

void TxrRm::AdjustChildCount(const std::string& parent, int delta) {
  uint64_t& count = child_counts_[parent];
  KTM_ASSERT(delta > 0 || count > 0, name() + ": the child count of " + parent + " goes below zero");
  count = delta > 0 ? count + 1 : count - 1;
  if (count == 0) child_counts_.erase(parent);
  memory_.child_counts = child_counts_.size();
  memory_.child_counts_peak = std::max(memory_.child_counts_peak, memory_.child_counts);
}

// The scan holds the store (ScanAll is one store operation: no flush
// changes a page meanwhile), and delivers the pages in order: a key changed
// during the scan whose page it passed already was counted as it was before.
void TxrRm::NoteCountChange(const std::string& path, bool before, bool after) {
  const bool counted = counts_ == Counts::kScanning && before && store() != nullptr &&
                       static_cast<int64_t>(store()->PageOf(StoreKey(path))) <= scan_page_;
  auto [it, inserted] = count_changes_.try_emplace(path, CountChange{.counted = counted});
  it->second.after = after;
}

// One scan of the store, merged with the changes made meanwhile: a key
// changed since the scan began counts as it is now; the scan's own view of
// it (its state before that change, if the scan met it first) is taken out.
void TxrRm::StartCounting() {
  if (counts_ != Counts::kNone || !online() || store() == nullptr) return;
  counts_ = Counts::kScanning;
  ++memory_.count_scans;
  child_counts_.clear();
  enum_names_.clear();
  enum_ready_ = false;
  // What the store does not hold yet: the dirty keys count as they are now.
  std::map<std::string, CountChange, Names> changes;
  cache_.ForEachWithPrefix("", [&](const std::string& key) {
    if (!cache_.Dirty(key)) return;
    auto it = committed_.find(key);  // its spelling, when it is present
    changes[it != committed_.end() ? it->first : key] = CountChange{.counted = false, .after = it != committed_.end()};
  });
  for (auto& [path, change] : count_changes_) changes[path] = CountChange{.counted = false, .after = change.after};
  scan_page_ = -1;
  count_changes_ = std::move(changes);
  std::weak_ptr<bool> alive = alive_;
  store()->ScanAll(
      [this, alive](const std::string& key, const std::string& record) {
        if (alive.expired() || counts_ != Counts::kScanning) return;
        scan_page_ = std::max<int64_t>(scan_page_, store()->PageOf(key));
        std::optional<Change> change = DecodeRecord(record);
        if (!change || Depth(change->first) == 0) return;
        if (count_changes_.count(change->first) > 0) return;  // counted as it is now, at the end
        AdjustChildCount(Parent(change->first), 1);
        if (!enum_path_.empty() && EqualsIgnoringCase(Parent(change->first), enum_path_)) {
          enum_names_.insert(change->first);
        }
      },
      [this, alive](absl::Status status) {
        if (alive.expired()) return;
        if (!status.ok()) {
          return CountingDone(storage::StoreStatus(status));
        }
        CountingDone(STATUS_SUCCESS);
      });
}

void TxrRm::CountingDone(NTSTATUS status) {
  KTM_ASSERT(counts_ == Counts::kScanning, name() + ": a count scan ended while none ran");
  if (status == STATUS_SUCCESS && recount_) {  // a key not in memory changed meanwhile: count again
    recount_ = false;
    counts_ = Counts::kNone;
    return StartCounting();
  }
  if (status != STATUS_SUCCESS) {
    counts_ = Counts::kNone;
    child_counts_.clear();
  } else {
    for (const auto& [path, change] : count_changes_) {
      if (Depth(path) == 0) continue;
      const int delta = (change.after ? 1 : 0) - (change.counted ? 1 : 0);
      if (delta != 0) AdjustChildCount(Parent(path), delta);
      if (!enum_path_.empty() && EqualsIgnoringCase(Parent(path), enum_path_)) {
        enum_names_.erase(path);
        if (change.after) enum_names_.insert(path);
      }
    }
    enum_ready_ = !enum_path_.empty();
    count_changes_.clear();
    counts_ = Counts::kReady;
  }
  std::vector<std::function<void(NTSTATUS)>> waiters = std::move(count_waiters_);
  count_waiters_.clear();
  for (auto& waiter : waiters) waiter(status);
}

bool TxrRm::EnumerationReady(const std::string& path) const {
  return counts_ == Counts::kReady && enum_ready_ && EqualsIgnoringCase(path, enum_path_);
}

// The names come with the next count scan (Fetch(path, true) waits for it).
void TxrRm::RequestEnumeration(const std::string& path) {
  if (EqualsIgnoringCase(path, enum_path_) && counts_ != Counts::kReady) return;  // on its way
  enum_path_ = path;
  enum_ready_ = false;
  if (counts_ == Counts::kScanning || counts_ == Counts::kLoading) {
    recount_ = true;
    return;
  }
  counts_ = Counts::kNone;
  child_counts_.clear();
  StartCounting();
}

std::vector<std::string> TxrRm::PagedChildren(const Actor& a, const std::string& path) const {
  KTM_ASSERT(EnumerationReady(path), name() + ": the children of " + path + " are not in memory");
  const std::string prefix = path + "\\";
  std::map<std::string, bool, Names> view;  // child path -> exists in a's view
  for (const auto& p : enum_names_) view[p] = true;
  if (a.transacted) {
    if (auto tx = txs_.find(a.uow); tx != txs_.end()) {
      for (const auto& [p, key] : tx->second.changes) {
        if (IsBeneath(p, path) && p.find('\\', prefix.size()) == std::string::npos) view[p] = key && !Stale(*key);
      }
    }
  }
  std::vector<std::string> names;
  for (const auto& [p, exists] : view) {
    if (exists) names.push_back(p.substr(prefix.size()));
  }
  return names;
}

bool TxrRm::HasChildren(const Actor& a, const std::string& path) const {
  auto it = child_counts_.find(path);
  int64_t count = it == child_counts_.end() ? 0 : static_cast<int64_t>(it->second);
  if (a.transacted) {
    if (auto tx = txs_.find(a.uow); tx != txs_.end()) {
      for (const auto& [p, key] : tx->second.changes) {
        if (!IsBeneath(p, path) || p.find('\\', path.size() + 1) != std::string::npos) continue;
        count += (key && !Stale(*key) ? 1 : 0) - (committed_.count(p) > 0 ? 1 : 0);
      }
    }
  }
  return count > 0;
}

std::map<std::string, TxrRm::Key, TxrRm::Names> TxrRm::AllCommitted() const {
  if (!paged()) return committed_;
  std::map<std::string, Key, Names> all;
  if (store() != nullptr && store()->open()) {
    absl::StatusOr<std::map<std::string, std::string>> stored = store()->InspectRecords();
    KTM_ASSERT(stored.ok(), name() + ": inspecting the store: " + stored.status().ToString());
    for (const auto& [store_key, record] : *stored) {
      if (std::optional<Change> change = DecodeRecord(record)) all[change->first] = std::move(*change->second);
    }
  }
  cache_.ForEachWithPrefix("", [&](const std::string& key) {
    all.erase(key);
    if (auto it = committed_.find(key); it != committed_.end()) all[it->first] = it->second;
  });
  for (const char* path : kProtected) {
    if (all.count(path) == 0 && !cache_.Has(StoreKey(path))) all[path] = Key{.id = ProtectedId(path)};
  }
  return all;
}

}  // namespace ktm::txr
