// KvRm implementation: see kv_rm.h for the contract. Only the data lives
// here; the commit protocol is RmBase's.
#include "ktm/kv/kv_rm.h"

#include <algorithm>
#include <utility>

#include "ktm/assert.h"
#include "ktm/codec.h"
#include "ktm/storage/record_cache.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ktm::kv {
namespace {

RmOptions BaseOptions(const KvOptions& o) {
  RmOptions rm;
  rm.name = o.name;
  rm.rm_id = o.rm_id;
  rm.durable = o.durable;
  rm.single_phase = o.single_phase;
  rm.vote_no_probability = o.vote_no_probability;
  rm.reject_single_phase_probability = o.reject_single_phase_probability;
  rm.response_delay_ns = o.response_delay_ns;
  rm.observer = o.observer;
  rm.paged_flush_log_bytes = o.paged_flush_log_bytes;
  rm.snapshot_log_bytes = o.snapshot_log_bytes;
  return rm;
}

template <class Map>
void PutWrites(Writer& w, const Map& writes) {
  w.U32(static_cast<uint32_t>(writes.size()));
  for (const auto& [k, v] : writes) {
    w.Str(k);
    w.Str(v);
  }
}

std::map<std::string, std::string> GetWrites(Reader& r) {
  std::map<std::string, std::string> writes;
  uint32_t n = r.U32();
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    std::string k = r.Str();
    writes[k] = r.Str();
  }
  return writes;
}

// A write set as PutWrites encoded it, as views into the record, in record
// order (`out` reused). Decodes exactly what GetWrites does: a pair cut short
// by the end of the record reads as empty texts.
void GetWriteViews(Reader& r, std::vector<std::pair<std::string_view, std::string_view>>& out) {
  out.clear();
  uint32_t n = r.U32();
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    std::string_view k = r.StrView();
    out.emplace_back(k, r.StrView());
  }
}

// Puts views in GetWrites's map order: by key, the last of equal keys kept.
// PutWrites writes from a map, so its records are in that order already.
void AsMapOrder(std::vector<std::pair<std::string_view, std::string_view>>& views) {
  auto by_key = [](const auto& a, const auto& b) { return a.first < b.first; };
  bool ordered = true;
  for (size_t i = 1; i < views.size() && ordered; ++i) ordered = views[i - 1].first < views[i].first;
  if (ordered) return;
  std::stable_sort(views.begin(), views.end(), by_key);
  size_t kept = 0;
  for (size_t i = 0; i < views.size(); ++i) {
    if (i + 1 < views.size() && views[i + 1].first == views[i].first) continue;  // a later one wins
    views[kept++] = views[i];
  }
  views.resize(kept);
}

// to = text, where text is not inside `to`: cleared and appended, where
// assign (std::string::_M_replace) pays for the overlap cases first.
void Overwrite(std::string& to, std::string_view text) {
  to.clear();
  to.append(text.data(), text.size());
}

}  // namespace

KvRm::WriteSet::Entry* KvRm::WriteSet::LowerBound(std::string_view key) {
  return std::lower_bound(entries_.data(), entries_.data() + size_, key,
                          [](const Entry& entry, std::string_view k) { return std::string_view(entry.first) < k; });
}

std::string* KvRm::WriteSet::Find(std::string_view key) {
  Entry* entry = LowerBound(key);
  return entry != entries_.data() + size_ && entry->first == key ? &entry->second : nullptr;
}

void KvRm::WriteSet::Insert(std::string_view key, std::string_view value) {
  const auto at = LowerBound(key) - entries_.data();
  if (size_ == entries_.size()) entries_.emplace_back();
  // The first spare (its strings' storage kept) moves into place.
  const auto first_spare = entries_.begin() + static_cast<std::ptrdiff_t>(size_);
  std::rotate(entries_.begin() + at, first_spare, first_spare + 1);
  Overwrite(entries_[static_cast<size_t>(at)].first, key);
  Overwrite(entries_[static_cast<size_t>(at)].second, value);
  ++size_;
}

void KvRm::WriteSet::Put(std::string_view key, std::string_view value) {
  if (std::string* own = Find(key)) {
    Overwrite(*own, value);
  } else {
    Insert(key, value);
  }
}

void KvRm::WriteSet::clear() {
  size_ = 0;
  if (entries_.size() > kSpareEntriesMax) entries_.resize(kSpareEntriesMax);
}

KvRm::KvRm(Kernel* kernel, sim::Host* host, sim::Disk* disk, HANDLE tm, KvOptions options)
    : RmBase(kernel, host, disk, tm, BaseOptions(options), "kv"),
      options_(std::move(options)),
      cache_(options_.cache_records_max) {}

KvRm::~KvRm() = default;

void KvRm::TakeWrite(const Guid& uow, const std::string& key, const std::string& value) {
  WriteSet& writes = writes_[uow];
  if (const std::string* own = writes.Find(key)) bytes_ -= PairBytes(key, *own);
  bytes_ += PairBytes(key, value);
  writes.Put(key, value);
  locks_[key] = uow;
}

NTSTATUS KvRm::Write(HANDLE transaction, const std::string& key, const std::string& value) {
  Guid uow;
  if (NTSTATUS s = Enlist(transaction, &uow); s != STATUS_SUCCESS) return s;
  // The lock found or taken with one hash of the key (a find, then an
  // insert, hashed it twice); a write refused below gives back a lock it took.
  auto [lock, locked_now] = locks_.try_emplace(key, uow);
  if (lock->second != uow) return STATUS_TRANSACTIONAL_CONFLICT;
  WriteSet& writes = writes_[uow];
  std::string* own = writes.Find(key);
  const uint64_t before = own == nullptr ? 0 : PairBytes(key, *own);
  if (BytesMax() > 0 && bytes_ - before + PairBytes(key, value) > BytesMax()) {
    if (locked_now) locks_.erase(lock);
    return STATUS_DISK_FULL;
  }
  // TakeWrite's bookkeeping with the lookups above reused (one search per
  // map where it took two or three).
  bytes_ = bytes_ - before + PairBytes(key, value);
  if (own != nullptr) {
    Overwrite(*own, value);
  } else {
    writes.Insert(key, value);
  }
  ReportWrite(uow, key, value);
  return STATUS_SUCCESS;
}

NTSTATUS KvRm::Read(HANDLE transaction, const std::string& key, std::string* value) {
  if (value == nullptr) return STATUS_INVALID_PARAMETER;
  if (transaction == INVALID_HANDLE_VALUE) {
    if (!online()) return STATUS_RM_NOT_ACTIVE;
    if (LookupCommitted(key, value)) return STATUS_SUCCESS;
    Fetch(key, [](NTSTATUS) {});
    return STATUS_PENDING;
  }
  Guid uow;
  if (NTSTATUS s = Enlist(transaction, &uow); s != STATUS_SUCCESS) return s;
  WriteSet& writes = writes_[uow];
  if (const std::string* own = writes.Find(key)) {
    *value = *own;
  } else if (!LookupCommitted(key, value)) {
    Fetch(key, [](NTSTATUS) {});
    return STATUS_PENDING;
  }
  ReportRead(uow, key, *value);
  return STATUS_SUCCESS;
}

// ---------------------------------------------------------------------------
// The committed state: the whole map, or (paged) a bounded cache over the store.

bool KvRm::LookupCommitted(const std::string& key, std::string* value) {
  if (!paged()) {
    auto it = committed_.find(key);
    *value = it == committed_.end() ? "" : it->second;
    return true;
  }
  auto it = cached_.find(key);
  if (it == cached_.end()) return false;
  cache_.Touch(key);
  *value = it->second.value_or("");
  return true;
}

void KvRm::Fetch(const std::string& key, std::function<void(NTSTATUS)> done) {
  if (!paged() || cache_.Has(key)) return done(STATUS_SUCCESS);
  if (!online() || store() == nullptr) return done(STATUS_RM_NOT_ACTIVE);
  cache_.Fetch(
      store(), key, alive_,
      [this, key](std::optional<std::string> record) {
        CachePut(key, std::move(record), false);
        EvictClean();
      },
      std::move(done));
}

// A committed record of key in memory: dirty (pinned until the store holds
// it) or clean (young end of the LRU).
void KvRm::CachePut(const std::string& key, std::optional<std::string> value, bool dirty) {
  auto [it, inserted] = cached_.try_emplace(key);
  if (!inserted) memory_.resident_bytes -= CachedBytes(key, it->second);
  it->second = std::move(value);
  memory_.resident_bytes += CachedBytes(key, it->second);
  if (dirty) {
    cache_.MarkDirty(key);
  } else {
    cache_.MarkClean(key, false);
  }
  UpdatePeaks();
}

// Drops least recently used clean records beyond cache_records_max (dirty
// ones are pinned until the store holds them).
void KvRm::EvictClean() {
  cache_.Evict([](const std::string&) { return false; },
               [this](const std::string& key) {
                 auto it = cached_.find(key);
                 KTM_ASSERT(it != cached_.end(), name() + ": the cache drops a record it has no value for");
                 memory_.resident_bytes -= CachedBytes(key, it->second);
                 cached_.erase(it);
               });
}

KvRm::MemoryStats KvRm::memory() const {
  if (!paged()) return memory_;
  const storage::RecordCache::Stats& c = cache_.stats();
  MemoryStats m = memory_;  // the bytes
  m.resident_records = c.resident;
  m.resident_records_peak = c.resident_peak;
  m.dirty_records = c.dirty;
  m.fetches = c.reads;
  return m;
}

void KvRm::UpdatePeaks() {
  memory_.resident_records_peak = std::max(memory_.resident_records_peak, memory_.resident_records);
  memory_.resident_bytes_peak = std::max(memory_.resident_bytes_peak, memory_.resident_bytes);
}

void KvRm::CommittedRecordsStored(std::span<const storage::Change> records) {
  for (const storage::Change& change : records) {
    if (!cache_.Dirty(change.key) || IsCommittedDirty(change.key)) continue;
    cache_.MarkClean(change.key, false);
  }
  EvictClean();
}

std::map<std::string, std::string> KvRm::committed() const {
  if (!paged()) return {committed_.begin(), committed_.end()};  // std::map sorts
  std::map<std::string, std::string> all;
  if (store() != nullptr && store()->open()) {
    absl::StatusOr<std::map<std::string, std::string>> stored = store()->InspectRecords();
    KTM_ASSERT(stored.ok(), name() + ": inspecting the store: " + stored.status().ToString());
    all = std::move(*stored);
  }
  for (const auto& [key, value] : cached_) {
    if (value) all[key] = *value;
    else all.erase(key);
  }
  return all;
}

// ---------------------------------------------------------------------------
// What RmBase asks of the data.

bool KvRm::HasChanges(const Guid& uow) const {
  const WriteSet* writes = writes_.find(uow);
  return writes != nullptr && !writes->empty();
}

void KvRm::EncodeChanges(const Guid& uow, Writer& w) const {
  if (const WriteSet* writes = writes_.find(uow)) {
    PutWrites(w, *writes);
  } else {
    w.U32(0);  // an empty write set
  }
}

void KvRm::ApplyChanges(Reader& r) {
  GetWriteViews(r, apply_views_);
  AsMapOrder(apply_views_);
  for (const auto& [key, value] : apply_views_) {
    if (!paged()) {
      ApplyCommitted(key, value);  // from the views: no copy for a key already there
      continue;
    }
    apply_key_.assign(key);
    apply_value_.assign(value);
    MarkCommittedDirty(apply_key_);
    CachePut(apply_key_, apply_value_, true);
  }
}

void KvRm::ApplyCommitted(std::string_view key, std::string_view value) {
  // absl's string hash takes absl::string_view (its own type in this abseil build).
  auto it = committed_.find(absl::string_view(key.data(), key.size()));
  if (it != committed_.end()) {
    bytes_ -= 8 + key.size() + it->second.size();
    memory_.resident_bytes -= kCacheEntryBytes + key.size() + it->second.size();
  }
  bytes_ += 8 + key.size() + value.size();
  memory_.resident_bytes += kCacheEntryBytes + key.size() + value.size();
  if (it != committed_.end()) {
    Overwrite(it->second, value);  // value is a view into the record being applied
  } else {
    committed_.emplace(std::string(key), std::string(value));
    committed_in_order_valid_ = false;
  }
  memory_.resident_records = committed_.size();
  UpdatePeaks();
}

uint64_t KvRm::BytesMax() const {
  if (!paged()) return options_.state_bytes_max;
  if (options_.state_bytes_max == 0) return PagedCapacityBytes();
  return std::min(options_.state_bytes_max, PagedCapacityBytes());
}

// Paged: a flush captures the records dirtied since the last one, which are
// pinned in the cache.
std::optional<std::string> KvRm::CommittedRecord(const std::string& key) const {
  KTM_ASSERT(cache_.Dirty(key), name() + ": a flush asks for " + key + ", not dirty in the cache");
  return cached_.at(key);
}

void KvRm::RestorePrepared(const Guid& uow, Reader& r) {
  for (const auto& [key, value] : GetWrites(r)) TakeWrite(uow, key, value);
}

void KvRm::EndTransaction(const Guid& uow) {
  // The set is cleared as a recycled node: its entries' storage kept.
  writes_.erase(uow, [this, &uow](WriteSet& writes) {
    for (const auto& [key, value] : writes) {
      bytes_ -= PairBytes(key, value);
      auto lock = locks_.find(key);
      if (lock != locks_.end() && lock->second == uow) locks_.erase(lock);
    }
  });
}

// The state bound plus each open transaction's 4-byte write count.
uint64_t KvRm::StateBytesMax() const {
  if (options_.state_bytes_max == 0) return kStateBytesUnbounded;
  return options_.state_bytes_max + 4ull * RmOptions{}.transactions_max;
}

void KvRm::EncodeCommitted(Writer& w) const {
  KTM_ASSERT(!paged(), name() + ": a snapshot of a paged kv RM");
  // PutWrites' layout, in key order (the hash map's entries sorted).
  std::vector<const std::pair<const std::string, std::string>*>& entries = committed_in_order_;
  if (!committed_in_order_valid_) {
    entries.clear();
    for (const auto& entry : committed_) entries.push_back(&entry);
    std::sort(entries.begin(), entries.end(), [](const auto* a, const auto* b) { return a->first < b->first; });
    committed_in_order_valid_ = true;
  }
  w.U32(static_cast<uint32_t>(entries.size()));
  for (const auto* entry : entries) {
    w.Str(entry->first);
    w.Str(entry->second);
  }
}

void KvRm::DecodeCommitted(Reader& r) {
  KTM_ASSERT(!paged(), name() + ": a snapshot record in a paged kv RM's log");
  for (const auto& [key, value] : committed_) bytes_ -= PairBytes(key, value);
  std::map<std::string, std::string> decoded = GetWrites(r);
  committed_.clear();
  committed_.insert(std::make_move_iterator(decoded.begin()), std::make_move_iterator(decoded.end()));
  committed_in_order_valid_ = false;
  memory_.resident_bytes = 0;
  for (const auto& [key, value] : committed_) {
    bytes_ += PairBytes(key, value);
    memory_.resident_bytes += kCacheEntryBytes + key.size() + value.size();
  }
  memory_.resident_records = committed_.size();
  UpdatePeaks();
}

}  // namespace ktm::kv
