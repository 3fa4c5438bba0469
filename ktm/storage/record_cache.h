// RecordCache: which committed records of a paged RM are in memory
// (docs/rm-storage.md "Memory bounded by the pool (TxF)"). The RM keeps the
// values; this unit keeps the residency of each store key and decides what
// may be dropped:
// - dirty: committed in memory, not yet held by the store (pinned until
//   MarkClean, which the RM calls from RmBase::CommittedRecordsStored);
// - held: pinned by the RM for a while (TxF: the whole subtree of the one
//   directory an operation needs beneath it);
// - clean: on the store; at most clean_max of them, least recently used
//   dropped by Evict, except those the RM's `pinned` predicate keeps
//   (locked by an open transaction, an open handle on them).
// A key read in goes to the young end of the LRU; a key the store has just
// taken from a flush (cold) to the old end, so that a flush's write-back
// does not push out what operations have just read.
// Reads of one key are joined: the first waiter starts the read, the rest
// wait for its completion (Await / Complete).
// Keys are store keys (the RM's case folding already applied), ordered as
// bytes, so a range of keys under a prefix is one contiguous range.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "ktm/status.h"

namespace ktm::storage {

class PageStore;

// What a paged RM reports for a store operation's outcome: a damaged page
// (kDataLoss) is log corruption, any other failure an I/O error.
inline NTSTATUS StoreStatus(const absl::Status& status) {
  if (status.ok()) return STATUS_SUCCESS;
  return status.code() == absl::StatusCode::kDataLoss ? STATUS_LOG_CORRUPTION_DETECTED : STATUS_UNEXPECTED_IO_ERROR;
}

class RecordCache {
 public:
  struct Stats {
    uint64_t resident = 0;       // keys in memory (present or known absent)
    uint64_t resident_peak = 0;
    uint64_t dirty = 0;          // pinned until the store holds them
    uint64_t held = 0;           // pinned by the RM (Hold)
    uint64_t reads = 0;          // store reads started (Await's first waiters)
  };

  explicit RecordCache(uint64_t clean_max) : clean_max_(clean_max) {}

  bool Has(const std::string& key) const { return entries_.count(key) > 0; }
  bool Dirty(const std::string& key) const;
  // A committed change of key: dirty (it keeps its hold, if any).
  void MarkDirty(const std::string& key);
  // key is what the store holds (read in, loaded at start, or just stored):
  // clean; in the LRU unless held.
  void MarkClean(const std::string& key, bool cold);
  // Used: a clean key moves to the young end of the LRU (no-op if absent).
  void Touch(const std::string& key);
  // Pins a resident key until Release (out of the LRU while clean).
  void Hold(const std::string& key);
  void Release(const std::string& key);
  // Drops least recently used clean keys beyond clean_max; a key for which
  // pinned(key) is true stays (moved to the young end) and does not count
  // against clean_max; drop(key) is called for every key dropped, before it
  // leaves the cache.
  void Evict(const std::function<bool(const std::string&)>& pinned, const std::function<void(const std::string&)>& drop);
  // Every resident key starting with prefix, in order.
  void ForEachWithPrefix(const std::string& prefix, const std::function<void(const std::string&)>& fn) const;

  // Joined reads: true when done is the first waiter (the caller starts the read).
  bool Await(const std::string& key, std::function<void(NTSTATUS)> done);
  // The read of key ended: every waiter is called with status.
  void Complete(const std::string& key, NTSTATUS status);
  // A paged RM's read of one key: joined (Await), the store's Get, then, if
  // the RM is still alive (alive not expired) and read without failure,
  // fill(record) unless a commit since the read started made the key
  // resident (that commit holds the newer state); then every waiter gets
  // the outcome (StoreStatus). fill takes the record into the RM and marks
  // the key clean.
  void Fetch(PageStore* store, const std::string& key, std::weak_ptr<bool> alive,
             std::function<void(std::optional<std::string>)> fill, std::function<void(NTSTATUS)> done);

  const Stats& stats() const { return stats_; }
  uint64_t clean_count() const { return lru_.size(); }

  // Calls done once, with the first failure of n calls of the returned
  // function (or STATUS_SUCCESS); n == 0 calls done at once.
  static std::function<void(NTSTATUS)> Join(size_t n, std::function<void(NTSTATUS)> done);

 private:
  struct Entry {
    bool dirty = false;
    bool held = false;
    uint64_t last_use = 0;  // its lru_ key while clean and not held
  };
  bool InLru(const Entry& e) const { return !e.dirty && !e.held; }
  void Count();

  uint64_t clean_max_;
  std::map<std::string, Entry> entries_;
  std::map<uint64_t, std::string> lru_;  // last_use -> key of clean, unheld entries
  uint64_t use_clock_ = uint64_t{1} << 62;   // young end: counts up
  uint64_t cold_clock_ = uint64_t{1} << 62;  // old end: counts down
  std::map<std::string, std::vector<std::function<void(NTSTATUS)>>> reading_;
  Stats stats_;
};

}  // namespace ktm::storage
