// Tests of ktm/storage/record_cache.h, the residency bookkeeping the paged
// kv, TxF and TxR RMs share: the LRU (young and cold ends), dirty and held
// keys that never leave, pinned keys that do not count against the bound,
// joined outcomes, and Fetch: one store read for every waiter, a commit
// during the read winning over the read, a store failure as an NTSTATUS,
// and nothing called once the RM is gone.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ktm/status.h"
#include "ktm/storage/page_store.h"
#include "ktm/storage/record_cache.h"
#include "sim/disk.h"
#include "sim/scheduler.h"
#include "sim/trace.h"
#include "tests/storage_small_store.h"

namespace ktm::storage {
namespace {

std::set<std::string> Resident(const RecordCache& cache) {
  std::set<std::string> keys;
  cache.ForEachWithPrefix("", [&](const std::string& key) { keys.insert(key); });
  return keys;
}

const auto kNothingPinned = [](const std::string&) { return false; };

TEST(RecordCache, EvictsTheLeastRecentlyUsedCleanKeysAndTakesColdKeysFirst) {
  RecordCache cache(2);
  std::vector<std::string> dropped;
  auto drop = [&](const std::string& key) { dropped.push_back(key); };
  cache.MarkClean("a", false);
  cache.MarkClean("b", false);
  cache.MarkClean("c", false);
  cache.Touch("a");              // a is now the youngest
  cache.MarkClean("f", true);    // a flush's write-back: the old end
  cache.Evict(kNothingPinned, drop);
  EXPECT_EQ(dropped, (std::vector<std::string>{"f", "b"}));
  EXPECT_EQ(Resident(cache), (std::set<std::string>{"a", "c"}));
  EXPECT_EQ(cache.stats().resident, 2u);
  EXPECT_EQ(cache.stats().resident_peak, 4u);
}

TEST(RecordCache, DirtyAndHeldKeysStayAndPinnedOnesDoNotCountAgainstTheBound) {
  RecordCache cache(1);
  auto drop = [](const std::string&) {};
  cache.MarkDirty("d");
  cache.MarkClean("h", false);
  cache.Hold("h");
  cache.MarkClean("p", false);
  cache.MarkClean("q", false);
  // p is the oldest clean key; pinned, it is kept and does not count: q stays too.
  cache.Evict([](const std::string& key) { return key == "p"; }, drop);
  EXPECT_EQ(Resident(cache), (std::set<std::string>{"d", "h", "p", "q"}));
  EXPECT_EQ(cache.stats().dirty, 1u);
  EXPECT_EQ(cache.stats().held, 1u);
  // Unpinned, the least recently used clean key goes (q: p was moved to the young end).
  cache.Evict(kNothingPinned, drop);
  EXPECT_EQ(Resident(cache), (std::set<std::string>{"d", "h", "p"}));
  // The dirty key once stored and the held one once released are clean like any.
  cache.MarkClean("d", false);
  cache.Release("h");  // to the old end
  cache.Evict(kNothingPinned, drop);
  EXPECT_EQ(Resident(cache), (std::set<std::string>{"d"}));
  EXPECT_EQ(cache.stats().dirty, 0u);
  EXPECT_EQ(cache.stats().held, 0u);
}

TEST(RecordCache, JoinReportsTheFirstFailureOnceAllHaveAnswered) {
  std::vector<NTSTATUS> outcomes;
  auto one = RecordCache::Join(3, [&](NTSTATUS s) { outcomes.push_back(s); });
  one(STATUS_SUCCESS);
  one(STATUS_UNEXPECTED_IO_ERROR);
  EXPECT_TRUE(outcomes.empty());
  one(STATUS_LOG_CORRUPTION_DETECTED);
  EXPECT_EQ(outcomes, (std::vector<NTSTATUS>{STATUS_UNEXPECTED_IO_ERROR}));
  RecordCache::Join(0, [&](NTSTATUS s) { outcomes.push_back(s); });
  EXPECT_EQ(outcomes.size(), 2u);
  EXPECT_EQ(outcomes.back(), STATUS_SUCCESS);
}

// A store holding k -> v on a small simulated disk.
struct StoreEnv {
  StoreEnv() {
    sim::DiskOptions disk_options;
    disk_options.sector_size = 512;
    disk_options.sector_count = 1024 * 1024 / 512;
    disk = std::make_unique<sim::Disk>(&scheduler, &trace, 0, "rm", 7, disk_options);
    store = std::make_unique<PageStore>(disk.get(), SmallStore());
  }
  void OpenWithK() {
    std::optional<absl::Status> opened, committed;
    store->Open([&](absl::Status s) { opened = s; });
    scheduler.RunUntilIdle();
    ASSERT_TRUE(opened.has_value() && opened->ok());
    store->Commit({Change{.key = "k", .value = std::string("v")}}, [&](absl::Status s) { committed = s; });
    scheduler.RunUntilIdle();
    ASSERT_TRUE(committed.has_value() && committed->ok());
  }
  sim::Scheduler scheduler;
  sim::Trace trace{/*keep_events=*/false};
  std::unique_ptr<sim::Disk> disk;
  std::unique_ptr<PageStore> store;
};

TEST(RecordCache, FetchReadsAKeyOnceForEveryWaiter) {
  StoreEnv env;
  env.OpenWithK();
  RecordCache cache(8);
  auto alive = std::make_shared<bool>(true);
  std::vector<std::optional<std::string>> filled;
  std::vector<NTSTATUS> outcomes;
  auto fill = [&](std::optional<std::string> record) {
    filled.push_back(record);
    cache.MarkClean("k", false);
  };
  cache.Fetch(env.store.get(), "k", alive, fill, [&](NTSTATUS s) { outcomes.push_back(s); });
  cache.Fetch(env.store.get(), "k", alive, fill, [&](NTSTATUS s) { outcomes.push_back(s); });
  cache.Fetch(env.store.get(), "absent", alive, [&](std::optional<std::string> record) { filled.push_back(record); },
              [&](NTSTATUS s) { outcomes.push_back(s); });
  env.scheduler.RunUntilIdle();
  EXPECT_EQ(cache.stats().reads, 2u);  // k once, absent once
  EXPECT_EQ(filled, (std::vector<std::optional<std::string>>{std::string("v"), std::nullopt}));
  EXPECT_EQ(outcomes, (std::vector<NTSTATUS>{STATUS_SUCCESS, STATUS_SUCCESS, STATUS_SUCCESS}));
  EXPECT_TRUE(cache.Has("k"));
}

// One Fetch of key "k" that records whether fill ran and the outcome.
struct OneFetch {
  OneFetch(RecordCache& cache, PageStore* store, std::weak_ptr<bool> alive) {
    cache.Fetch(store, "k", std::move(alive), [this](std::optional<std::string>) { filled = true; },
                [this](NTSTATUS s) { outcome = s; });
  }
  bool filled = false;
  std::optional<NTSTATUS> outcome;
};

TEST(RecordCache, ACommitDuringTheReadWinsOverTheRecordRead) {
  StoreEnv env;
  env.OpenWithK();
  RecordCache cache(8);
  auto alive = std::make_shared<bool>(true);
  OneFetch fetch(cache, env.store.get(), alive);
  cache.MarkDirty("k");  // a commit of k before the read completes
  env.scheduler.RunUntilIdle();
  EXPECT_FALSE(fetch.filled);
  EXPECT_EQ(fetch.outcome, STATUS_SUCCESS);
  EXPECT_TRUE(cache.Dirty("k"));
}

TEST(RecordCache, AFailedReadIsAnNtStatusAndAGoneRmHearsNothing) {
  StoreEnv env;  // never opened: every Get fails
  RecordCache cache(8);
  auto alive = std::make_shared<bool>(true);
  OneFetch failed(cache, env.store.get(), alive);
  env.scheduler.RunUntilIdle();
  EXPECT_FALSE(failed.filled);
  EXPECT_EQ(failed.outcome, STATUS_UNEXPECTED_IO_ERROR);
  EXPECT_FALSE(cache.Has("k"));

  StoreEnv opened;
  opened.OpenWithK();
  auto gone = std::make_shared<bool>(true);
  OneFetch unheard(cache, opened.store.get(), gone);
  gone.reset();  // the RM is destroyed before the read completes
  opened.scheduler.RunUntilIdle();
  EXPECT_FALSE(unheard.filled);
  EXPECT_FALSE(unheard.outcome.has_value());
}

}  // namespace
}  // namespace ktm::storage
