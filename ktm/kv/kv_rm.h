// KvRm: a small durable key-value resource manager, the example "user RM"
// of ktmsim: a subclass of RmBase (ktm/rm_base.h) that owns only its data,
// the way a user's RM built on the SDK would.
//
// Contract:
// - Data: string keys -> string values, per RM. Isolation: read committed
//   plus read-your-own-writes; one writer per key (an exclusive lock from the
//   first write until the outcome); a second writer gets
//   STATUS_TRANSACTIONAL_CONFLICT. Readers never block.
// - Limits: with KvOptions::state_bytes_max > 0, the encoded committed
//   state plus every open transaction's writes stay within it (so a snapshot
//   fits one log record); a write past it gets STATUS_DISK_FULL and changes
//   nothing. With 0 (the default) the state is unbounded: a snapshot that
//   does not fit one record is not taken, and the RM's capacity is its log
//   (once full, prepares vote no). On a paged disk (ktm/rm_base.h,
//   kPagedDiskBytesMin) each key is one record of the RM's PageStore and the
//   bound is min(state_bytes_max if set, RmBase::PagedCapacityBytes()),
//   applied to the open transactions' writes (the store refuses a commit
//   that would overflow a page: docs/rm-storage.md).
// - Memory on a paged disk (docs/rm-storage.md "Memory bounded by the
//   pool"): the committed state lives on the store; the RM keeps a cache of
//   records: the ones committed since the last flush captured them (dirty:
//   pinned until the store holds them; bounded by the RM log between
//   flushes) plus at most cache_records_max clean ones (least recently used
//   dropped). A committed value that is not cached is read from the store:
//   Fetch(key) brings it in (a page read on a miss, with its latency and
//   faults); Read of a key that is not cached starts that fetch and returns
//   STATUS_PENDING (nothing reported; call again once Fetch completes).
// - Durability and recovery: RmBase's (prepare record forced before
//   PrepareComplete, commit record before CommitComplete, one commit record
//   for a single-phase commit; replay, RECOVER, presumed abort).
// - History: every enlist, read (an absent key reads as ""), write, vote and
//   outcome goes to the RmObserver (KvOptions::observer) and the trace.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "ktm/rm_base.h"
#include "ktm/storage/record_cache.h"
#include "sim/solo_map.h"

namespace ktm::kv {

struct KvOptions {
  std::string name;                 // for traces and the history
  Guid rm_id;                       // persistent identity
  bool durable = true;
  bool single_phase = true;         // ask for SINGLE_PHASE_COMMIT
  double vote_no_probability = 0;
  double reject_single_phase_probability = 0;
  sim::TimeNs response_delay_ns = 0;
  RmObserver* observer = nullptr;   // not owned; may be null
  uint64_t state_bytes_max = 0;     // committed state + open writes, encoded; 0: unbounded
  uint64_t paged_flush_log_bytes = 0;  // RmOptions::paged_flush_log_bytes
  uint64_t snapshot_log_bytes = 0;     // RmOptions::snapshot_log_bytes
  uint32_t cache_records_max = 4096;  // paged disk: clean committed records kept in memory
};

class KvRm : public RmBase {
 public:
  // disk: the RM's own log disk (ignored for a volatile RM).
  KvRm(Kernel* kernel, sim::Host* host, sim::Disk* disk, HANDLE tm, KvOptions options);
  ~KvRm() override;

  // Transactional write/read through the client's transaction handle (the
  // RM enlists on first use). Read with INVALID_HANDLE_VALUE: committed value.
  NTSTATUS Write(HANDLE transaction, const std::string& key, const std::string& value);
  NTSTATUS Read(HANDLE transaction, const std::string& key, std::string* value);
  // Makes the committed value of key resident (paged disk; elsewhere, or when
  // it is cached already, done runs at once). done: STATUS_SUCCESS, or
  // STATUS_RM_NOT_ACTIVE (not online), STATUS_LOG_CORRUPTION_DETECTED (the
  // page is damaged), STATUS_UNEXPECTED_IO_ERROR (another store failure).
  void Fetch(const std::string& key, std::function<void(NTSTATUS)> done);
  // Whether key's committed value is in memory (always, unless paged).
  bool Resident(const std::string& key) const { return !paged() || cache_.Has(key); }

  // Every committed key. On a paged disk: inspection of the store
  // (PageStore::InspectRecords, no simulated I/O) under the cached records.
  std::map<std::string, std::string> committed() const override;

  // Memory held for the committed state (the cache on a paged disk, the
  // whole map otherwise), as the bounded-memory tests read it.
  struct MemoryStats {
    uint64_t resident_records = 0;   // cached (or, not paged, all) committed records
    uint64_t resident_bytes = 0;     // their keys, values and kCacheEntryBytes each
    uint64_t dirty_records = 0;      // pinned: committed, not yet in the store
    uint64_t resident_records_peak = 0;
    uint64_t resident_bytes_peak = 0;
    uint64_t fetches = 0;            // store reads for a miss
  };
  MemoryStats memory() const;
  // Per-record bookkeeping counted in resident_bytes (map node, LRU entry).
  static constexpr uint64_t kCacheEntryBytes = 128;

 protected:
  bool HasChanges(const Guid& uow) const override;
  void EncodeChanges(const Guid& uow, Writer& w) const override;
  void ApplyChanges(Reader& r) override;
  void RestorePrepared(const Guid& uow, Reader& r) override;
  void EndTransaction(const Guid& uow) override;
  void EncodeCommitted(Writer& w) const override;
  void DecodeCommitted(Reader& r) override;
  uint64_t StateBytesMax() const override;
  bool SupportsPagedStorage() const override { return true; }
  std::optional<std::string> CommittedRecord(const std::string& key) const override;
  bool LoadsStoreAtStart() const override { return false; }
  void CommittedRecordsStored(std::span<const storage::Change> records) override;

 private:
  uint64_t BytesMax() const;
  // Bytes a key/value pair takes encoded (two length-prefixed strings).
  static uint64_t PairBytes(const std::string& key, const std::string& value) {
    return 8 + key.size() + value.size();
  }
  // Takes the writes of a transaction (a write or a replayed prepare): locks and byte count.
  void TakeWrite(const Guid& uow, const std::string& key, const std::string& value);

  // Paged: the cached committed record of a key (nullopt: known absent).
  static uint64_t CachedBytes(const std::string& key, const std::optional<std::string>& value) {
    return kCacheEntryBytes + key.size() + (value ? value->size() : 0);
  }
  // The committed value of key ("" when absent); false: paged and not
  // cached (Fetch first).
  bool LookupCommitted(const std::string& key, std::string* value);
  void CachePut(const std::string& key, std::optional<std::string> value, bool dirty);
  void EvictClean();
  void UpdatePeaks();

  KvOptions options_;
  // Not paged: the whole committed state (looked up by string_view too). A
  // hash map: every commit looks its keys up, where a tree of even 16 keys
  // took five string comparisons a key; only snapshots and committed() walk
  // it, in key order (sorting).
  absl::flat_hash_map<std::string, std::string> committed_;
  // committed_'s entries in key order, for snapshots (EncodeCommitted), kept
  // until a key comes or goes: a snapshot every few dozen commits sorted
  // the same keys again each time. Entries of a flat_hash_map stay put
  // until one is inserted or erased, which is when the order is dropped.
  mutable std::vector<const std::pair<const std::string, std::string>*> committed_in_order_;
  mutable bool committed_in_order_valid_ = false;
  // Paged: the resident records' values, and which of them are dirty, the
  // LRU and joined reads (storage::RecordCache, shared with TxF and TxR).
  std::map<std::string, std::optional<std::string>> cached_;
  storage::RecordCache cache_;
  MemoryStats memory_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  // One open transaction's writes, key -> value in key order (the encoded
  // write set's order): a sorted vector, searched by bisection. A write set
  // holds a few keys, where a map node per key cost a tree insert and a
  // rebalancing erase per write. Entries past size() are spares that keep
  // their strings' storage (at most kSpareEntriesMax kept by clear()), so
  // steady commits allocate nothing here.
  class WriteSet {
   public:
    using Entry = std::pair<std::string, std::string>;
    const Entry* begin() const { return entries_.data(); }
    const Entry* end() const { return entries_.data() + size_; }
    size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    // key's value, or nullptr when key has no write here.
    std::string* Find(std::string_view key);
    // Adds key = value; key must have no write here yet (Find).
    void Insert(std::string_view key, std::string_view value);
    // key = value, added or replaced.
    void Put(std::string_view key, std::string_view value);
    // Empties the set (sim::SoloMap calls it when the transaction ends), keeping its storage.
    void clear();

   private:
    static constexpr size_t kSpareEntriesMax = 16;
    // The first entry whose key is not below key.
    Entry* LowerBound(std::string_view key);
    std::vector<Entry> entries_;  // [0, size_) in key order; the rest spares
    size_t size_ = 0;
  };
  // Per open transaction. A SoloMap: one (the only one, in most runs)
  // outside the tree, so a commit, which looks its set up on every write,
  // twice at prepare and once more at its end, costs no tree insert, search
  // or rebalancing erase. Write sets are never walked.
  sim::SoloMap<Guid, WriteSet> writes_;
  // key -> writer UOW. Only ever looked up by key (never walked), so a hash
  // map: a write and a transaction's end each search it per key.
  absl::flat_hash_map<std::string, Guid> locks_;
  // ApplyChanges' decoded write set (views into the record) and the key and
  // value it applies, reused from commit to commit.
  std::vector<std::pair<std::string_view, std::string_view>> apply_views_;
  std::string apply_key_, apply_value_;
  // Not paged: one committed write, from ApplyChanges' views.
  void ApplyCommitted(std::string_view key, std::string_view value);
  uint64_t bytes_ = 4;                  // encoded committed state + open writes
};

}  // namespace ktm::kv
