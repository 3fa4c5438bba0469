// RecordCache: see record_cache.h.
#include "ktm/storage/record_cache.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "ktm/assert.h"
#include "ktm/storage/page_store.h"

namespace ktm::storage {

bool RecordCache::Dirty(const std::string& key) const {
  auto it = entries_.find(key);
  return it != entries_.end() && it->second.dirty;
}

void RecordCache::Count() {
  stats_.resident = entries_.size();
  stats_.resident_peak = std::max(stats_.resident_peak, stats_.resident);
}

void RecordCache::MarkDirty(const std::string& key) {
  auto [it, inserted] = entries_.try_emplace(key);
  if (!inserted && InLru(it->second)) lru_.erase(it->second.last_use);
  if (!it->second.dirty) ++stats_.dirty;
  it->second.dirty = true;
  Count();
}

void RecordCache::MarkClean(const std::string& key, bool cold) {
  auto [it, inserted] = entries_.try_emplace(key);
  Entry& e = it->second;
  if (!inserted && InLru(e)) lru_.erase(e.last_use);
  if (e.dirty) --stats_.dirty;
  e.dirty = false;
  e.last_use = cold ? --cold_clock_ : ++use_clock_;
  if (InLru(e)) lru_.emplace(e.last_use, key);
  Count();
}

void RecordCache::Touch(const std::string& key) {
  auto it = entries_.find(key);
  if (it == entries_.end() || !InLru(it->second)) return;
  lru_.erase(it->second.last_use);
  it->second.last_use = ++use_clock_;
  lru_.emplace(it->second.last_use, key);
}

void RecordCache::Hold(const std::string& key) {
  auto it = entries_.find(key);
  KTM_ASSERT(it != entries_.end(), "record cache: a hold of a key not resident: " + key);
  if (it->second.held) return;
  if (InLru(it->second)) lru_.erase(it->second.last_use);
  it->second.held = true;
  ++stats_.held;
}

void RecordCache::Release(const std::string& key) {
  auto it = entries_.find(key);
  if (it == entries_.end() || !it->second.held) return;
  it->second.held = false;
  --stats_.held;
  if (!it->second.dirty) {
    it->second.last_use = --cold_clock_;
    lru_.emplace(it->second.last_use, key);
  }
}

void RecordCache::Evict(const std::function<bool(const std::string&)>& pinned,
                        const std::function<void(const std::string&)>& drop) {
  // A pinned key does not count against clean_max (its pin bounds it).
  size_t passes = lru_.size();
  size_t kept = 0;
  while (lru_.size() > clean_max_ + kept && passes-- > 0) {
    auto oldest = lru_.begin();
    const std::string key = oldest->second;
    lru_.erase(oldest);
    auto it = entries_.find(key);
    KTM_ASSERT(it != entries_.end() && InLru(it->second), "record cache: the LRU names a key not cached clean: " + key);
    if (pinned(key)) {
      it->second.last_use = ++use_clock_;
      lru_.emplace(it->second.last_use, key);
      ++kept;
      continue;
    }
    drop(key);
    entries_.erase(it);
  }
  Count();
}

void RecordCache::ForEachWithPrefix(const std::string& prefix, const std::function<void(const std::string&)>& fn) const {
  for (auto it = entries_.lower_bound(prefix); it != entries_.end() && it->first.starts_with(prefix); ++it) {
    fn(it->first);
  }
}

bool RecordCache::Await(const std::string& key, std::function<void(NTSTATUS)> done) {
  auto [waiting, first] = reading_.try_emplace(key);
  waiting->second.push_back(std::move(done));
  if (first) ++stats_.reads;
  return first;
}

void RecordCache::Complete(const std::string& key, NTSTATUS status) {
  auto node = reading_.extract(key);
  KTM_ASSERT(!node.empty(), "record cache: a read of a key completed that nobody waits for: " + key);
  for (auto& waiter : node.mapped()) waiter(status);
}

void RecordCache::Fetch(PageStore* store, const std::string& key, std::weak_ptr<bool> alive,
                        std::function<void(std::optional<std::string>)> fill, std::function<void(NTSTATUS)> done) {
  if (!Await(key, std::move(done))) return;  // a read of it is on its way
  store->Get(key, [this, alive = std::move(alive), key, fill = std::move(fill)](
                      absl::StatusOr<std::optional<std::string>> got) {
    if (alive.expired()) return;
    NTSTATUS status = STATUS_SUCCESS;
    if (!got.ok()) {
      status = StoreStatus(got.status());
    } else if (!Has(key)) {  // a commit since the read started holds the newer state
      fill(std::move(*got));
    }
    Complete(key, status);
  });
}

std::function<void(NTSTATUS)> RecordCache::Join(size_t n, std::function<void(NTSTATUS)> done) {
  if (n == 0) {
    done(STATUS_SUCCESS);
    return [](NTSTATUS) { KTM_ASSERT(false, "record cache: a join of nothing called"); };
  }
  struct State {
    size_t pending = 0;
    NTSTATUS status = STATUS_SUCCESS;
    std::function<void(NTSTATUS)> done;
  };
  auto state = std::make_shared<State>(State{.pending = n, .done = std::move(done)});
  return [state](NTSTATUS s) {
    if (s != STATUS_SUCCESS && state->status == STATUS_SUCCESS) state->status = s;
    KTM_ASSERT(state->pending > 0, "record cache: a join called more often than joined");
    if (--state->pending == 0) state->done(state->status);
  };
}

}  // namespace ktm::storage
