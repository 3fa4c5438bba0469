// Tests of ktm/storage/page_store.h: round trips through a small buffer
// pool, crash after every simulated step (every page write, log write,
// restart-area write) of a small commit mix recovering to the model, torn
// and corrupt pages repaired from the log or refused, the write-ahead
// assertion on a planted violation, checkpoints bounding recovery, and a
// store of 100,000 keys in a pool of 64 frames.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ktm/storage/page_store.h"
#include "sim/disk.h"
#include "sim/rng.h"
#include "sim/scheduler.h"
#include "sim/trace.h"
#include "tests/storage_small_store.h"

namespace ktm::storage {
namespace {

constexpr uint32_t kSector = 512;

sim::DiskOptions DiskFor(uint64_t bytes) {
  sim::DiskOptions options;
  options.sector_size = kSector;
  options.sector_count = bytes / kSector;
  return options;
}


struct Env {
  Env(uint64_t seed, StorageOptions store_options, uint64_t disk_bytes = 1024 * 1024)
      : disk(&scheduler, &trace, 0, "rm", seed, DiskFor(disk_bytes)), options(store_options) {}
  sim::Scheduler scheduler;
  sim::Trace trace{/*keep_events=*/false};
  sim::Disk disk;
  StorageOptions options;
  std::unique_ptr<PageStore> store;

  absl::Status Open() {
    store = std::make_unique<PageStore>(&disk, options);
    std::optional<absl::Status> result;
    store->Open([&](absl::Status status) { result = status; });
    scheduler.RunUntilIdle();
    return result.value_or(absl::InternalError("Open never completed"));
  }
  absl::Status Commit(std::vector<Change> changes) {
    std::optional<absl::Status> result;
    store->Commit(std::move(changes), [&](absl::Status status) { result = status; });
    scheduler.RunUntilIdle();
    return result.value_or(absl::InternalError("Commit never completed"));
  }
  absl::Status Checkpoint() {
    std::optional<absl::Status> result;
    store->Checkpoint([&](absl::Status status) { result = status; });
    scheduler.RunUntilIdle();
    return result.value_or(absl::InternalError("Checkpoint never completed"));
  }
  absl::StatusOr<std::map<std::string, std::string>> ReadAll() {
    std::optional<absl::StatusOr<std::map<std::string, std::string>>> result;
    store->ReadAll([&](absl::StatusOr<std::map<std::string, std::string>> all) { result = std::move(all); });
    scheduler.RunUntilIdle();
    if (!result.has_value()) return absl::InternalError("ReadAll never completed");
    return *std::move(result);
  }
  absl::StatusOr<std::optional<std::string>> Get(const std::string& key) {
    std::optional<absl::StatusOr<std::optional<std::string>>> result;
    store->Get(key, [&](absl::StatusOr<std::optional<std::string>> value) { result = std::move(value); });
    scheduler.RunUntilIdle();
    if (!result.has_value()) return absl::InternalError("Get never completed");
    return *std::move(result);
  }
  // Crash (crash_seed decides which unflushed sectors survive), drop the
  // store (its callbacks never run), recover on a fresh object.
  absl::Status CrashAndRecover(uint64_t crash_seed) {
    disk.Crash(crash_seed);
    store.reset();
    scheduler.RunUntilIdle();
    return Open();
  }
};

// A small commit mix: puts, overwrites and deletes over 24 keys on 16 pages.
std::vector<std::vector<Change>> Workload(uint64_t seed, size_t commits) {
  sim::Rng rng(seed);
  std::vector<std::vector<Change>> mix;
  for (size_t c = 0; c < commits; ++c) {
    std::vector<Change> changes;
    const size_t n = 1 + rng.Next() % 3;
    for (size_t i = 0; i < n; ++i) {
      std::string key = "k" + std::to_string(rng.Next() % 24);
      if (rng.Next() % 5 == 0) {
        changes.push_back(Change{key, std::nullopt});
      } else {
        changes.push_back(Change{key, "v" + std::to_string(c) + "." + std::to_string(i) +
                                          std::string(rng.Next() % 40, 'x')});
      }
    }
    mix.push_back(std::move(changes));
  }
  return mix;
}

std::map<std::string, std::string> ApplyModel(std::map<std::string, std::string> state,
                                              const std::vector<Change>& changes) {
  for (const Change& change : changes) {
    if (change.value.has_value()) state[change.key] = *change.value; else state.erase(change.key);
  }
  return state;
}

TEST(PageStore, CommitsSurviveEvictionAndReopen) {
  Env env(1, SmallStore(/*page_count=*/16, /*frames_max=*/6));
  ASSERT_TRUE(env.Open().ok());
  std::map<std::string, std::string> model;
  for (const auto& changes : Workload(7, 40)) {
    ASSERT_TRUE(env.Commit(changes).ok());
    model = ApplyModel(model, changes);
  }
  EXPECT_LE(env.store->stats().frames_peak, 6u);
  EXPECT_GT(env.store->stats().page_writes, 0u);  // evictions and the background writer wrote pages
  auto all = env.ReadAll();
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(*all, model);
  // A clean reopen (no crash) reads the same.
  env.store.reset();
  env.scheduler.RunUntilIdle();
  ASSERT_TRUE(env.Open().ok());
  all = env.ReadAll();
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(*all, model);
  auto value = env.Get("missing-key");
  ASSERT_TRUE(value.ok());
  EXPECT_FALSE(value->has_value());
}

TEST(PageStore, BadOptionsAreRefusedAtOpen) {
  StorageOptions overlap = SmallStore();
  overlap.data_offset = 128 * 1024;  // inside the log region
  Env a(30, overlap);
  EXPECT_TRUE(absl::IsInvalidArgument(a.Open()));
  StorageOptions big_page = SmallStore();
  big_page.page_bytes = 32 * 1024;  // its image exceeds record_payload_max (16 KiB)
  big_page.page_count = 4;
  Env b(31, big_page);
  EXPECT_TRUE(absl::IsInvalidArgument(b.Open()));
  StorageOptions odd_page = SmallStore();
  odd_page.page_bytes = 1000;  // not a multiple of the sector
  Env c(32, odd_page);
  EXPECT_TRUE(absl::IsInvalidArgument(c.Open()));
}

TEST(PageStore, AFullPageRefusesTheCommitAndChangesNothing) {
  StorageOptions options = SmallStore(/*page_count=*/1, /*frames_max=*/4);
  Env env(2, options);
  ASSERT_TRUE(env.Open().ok());
  ASSERT_TRUE(env.Commit({{"a", std::string(600, 'a')}}).ok());
  absl::Status status = env.Commit({{"b", std::string(600, 'b')}});
  EXPECT_TRUE(absl::IsResourceExhausted(status)) << status;
  auto all = env.ReadAll();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 1u);
}

// The crash-after-every-step property: run the mix, crash after step k
// (every scheduler event: log block writes, page writes, restart-area
// writes, completions), recover, and the store holds exactly the state after
// some prefix of the commits that includes every acknowledged one.
void CrashAfterEveryStep(uint64_t workload_seed, uint32_t checkpoint_every) {
  StorageOptions options = SmallStore();
  options.checkpoint_every_commits = checkpoint_every;
  const auto mix = Workload(workload_seed, 14);
  std::vector<std::map<std::string, std::string>> states{{}};
  for (const auto& changes : mix) states.push_back(ApplyModel(states.back(), changes));
  // Count the steps of an uncrashed run.
  uint64_t total_steps = 0;
  {
    Env env(3, options);
    ASSERT_TRUE(env.Open().ok());
    size_t acked = 0;
    for (const auto& changes : mix) env.store->Commit(changes, [&](absl::Status s) { acked += s.ok(); });
    while (env.scheduler.Step()) ++total_steps;
    ASSERT_EQ(acked, mix.size());
  }
  ASSERT_GT(total_steps, 40u);
  uint64_t page_writes_seen = 0, repaired = 0;
  for (uint64_t k = 0; k <= total_steps; ++k) {
    for (uint64_t crash_seed : {k * 2 + 1, k * 2 + 2}) {
      Env env(3, options);
      ASSERT_TRUE(env.Open().ok());
      size_t acked = 0;
      for (const auto& changes : mix) env.store->Commit(changes, [&](absl::Status s) { acked += s.ok(); });
      for (uint64_t step = 0; step < k && env.scheduler.Step(); ++step) {}
      page_writes_seen = std::max(page_writes_seen, env.store->stats().page_writes);
      absl::Status recovered = env.CrashAndRecover(crash_seed);
      ASSERT_TRUE(recovered.ok()) << "k=" << k << " seed=" << crash_seed << ": " << recovered;
      repaired += env.store->stats().pages_repaired;
      auto all = env.ReadAll();
      ASSERT_TRUE(all.ok()) << "k=" << k << ": " << all.status();
      bool matches = false;
      for (size_t prefix = acked; prefix < states.size() && !matches; ++prefix) matches = *all == states[prefix];
      EXPECT_TRUE(matches) << "k=" << k << " seed=" << crash_seed << " acked=" << acked
                           << ": recovered state is no prefix of the commits";
      // And it keeps working: one more commit, crash-free reopen.
      ASSERT_TRUE(env.Commit({{"after", "crash"}}).ok());
    }
  }
  EXPECT_GT(page_writes_seen, 0u);
  std::printf("crash points %llu, pages repaired over all recoveries %llu\n",
              static_cast<unsigned long long>(total_steps), static_cast<unsigned long long>(repaired));
}

TEST(PageStore, CrashAfterEveryStepRecoversToAPrefixOfTheCommits) { CrashAfterEveryStep(11, 4); }
TEST(PageStore, CrashAfterEveryStepWithACheckpointEveryOtherCommit) { CrashAfterEveryStep(12, 2); }
TEST(PageStore, CrashAfterEveryStepWithoutCheckpoints) { CrashAfterEveryStep(13, 0); }

// A page write torn by a crash (or any damage to a page that is still dirty
// since its image record) is rebuilt from the log.
TEST(PageStore, ATornPageIsDetectedAndRepairedFromItsImageRecord) {
  Env env(4, SmallStore(/*page_count=*/16, /*frames_max=*/8));
  env.options.checkpoint_every_commits = 0;
  ASSERT_TRUE(env.Open().ok());
  std::map<std::string, std::string> model;
  // Every commit applies at once (a commit's op does not wait for its
  // force), so the checkpoint sees every page dirty: all of them in its
  // dirty page table and content bitmap, the base at the first image.
  size_t acked = 0;
  for (const auto& changes : Workload(21, 10)) {
    env.store->Commit(changes, [&](absl::Status s) { acked += s.ok(); });
    model = ApplyModel(model, changes);
  }
  env.store->Checkpoint([](absl::Status) {});
  env.scheduler.RunUntilIdle();  // then the writer writes every page
  ASSERT_EQ(acked, 10u);
  ASSERT_EQ(env.store->dirty_pages(), 0u);
  ASSERT_GT(env.store->stats().page_writes, 0u);
  ASSERT_FALSE(model.empty());
  const uint32_t page = env.store->PageOf(model.begin()->first);
  // Tear it: the second sector of the page is garbage.
  env.disk.CorruptSector(env.store->PageOffset(page) / kSector + 1, 99);
  ASSERT_TRUE(env.CrashAndRecover(5).ok());
  EXPECT_GE(env.store->stats().pages_repaired, 1u);
  auto all = env.ReadAll();
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(*all, model);
}

// Once a checkpoint has moved the log past a clean page's image, damage to
// that page cannot be repaired: reads of it are refused (kDataLoss), never
// answered with garbage or an empty page.
TEST(PageStore, ACorruptPageTheLogNoLongerDescribesIsRefused) {
  Env env(6, SmallStore(/*page_count=*/16, /*frames_max=*/8));
  env.options.checkpoint_every_commits = 0;
  ASSERT_TRUE(env.Open().ok());
  for (const auto& changes : Workload(31, 10)) ASSERT_TRUE(env.Commit(changes).ok());
  env.scheduler.RunUntilIdle();
  ASSERT_EQ(env.store->dirty_pages(), 0u);
  ASSERT_TRUE(env.Checkpoint().ok());  // empty dirty page table: the base moves to the checkpoint
  const uint32_t page = env.store->PageOf("k1");
  env.disk.CorruptSector(env.store->PageOffset(page) / kSector, 77);
  ASSERT_TRUE(env.CrashAndRecover(8).ok());
  auto value = env.Get("k1");
  EXPECT_TRUE(absl::IsDataLoss(value.status())) << value.status();
  auto all = env.ReadAll();
  EXPECT_TRUE(absl::IsDataLoss(all.status())) << all.status();
  // A latent media error on another page is refused the same way.
  for (int i = 0; i < 24; ++i) {
    const std::string key = "k" + std::to_string(i);
    if (env.store->PageOf(key) == page) continue;
    ASSERT_TRUE(env.CrashAndRecover(9).ok());
    env.disk.AddLatentError(env.store->PageOffset(env.store->PageOf(key)) / kSector);
    auto other = env.Get(key);
    EXPECT_TRUE(absl::IsDataLoss(other.status())) << other.status();
    break;
  }
}

// A page clean at the checkpoint, changed after it (image + redo), written,
// then damaged: recovery reads it for the redo, finds the bad checksum and
// rebuilds it from the image record.
TEST(PageStore, ADamagedPageChangedAfterTheCheckpointIsRepaired) {
  Env env(12, SmallStore(/*page_count=*/16, /*frames_max=*/8));
  env.options.checkpoint_every_commits = 0;
  ASSERT_TRUE(env.Open().ok());
  ASSERT_TRUE(env.Commit({{"k1", "one"}}).ok());
  env.scheduler.RunUntilIdle();  // written, clean
  ASSERT_TRUE(env.Checkpoint().ok());
  ASSERT_TRUE(env.Commit({{"k1", "two"}}).ok());  // image + redo after the checkpoint
  env.scheduler.RunUntilIdle();  // written again, clean
  const uint32_t page = env.store->PageOf("k1");
  env.disk.CorruptSector(env.store->PageOffset(page) / kSector, 3);
  ASSERT_TRUE(env.CrashAndRecover(13).ok());  // the image at its rec LSN repairs it
  EXPECT_EQ(env.store->stats().pages_repaired, 1u);
  auto value = env.Get("k1");
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(value->value_or(""), "two");
}

TEST(PageStoreDeathTest, AWriteBeforeItsLogRecordIsDurableTripsTheWriteAheadAssertion) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        Env env(14, SmallStore());
        if (!env.Open().ok()) return;
        env.store->Commit({{"k1", "v"}}, [](absl::Status) {});
        // Run only until the commit applied (its log force not yet done).
        while (env.store->dirty_pages() == 0 && env.scheduler.Step()) {}
        env.store->WritePageIgnoringWalForTest(env.store->PageOf("k1"));
      },
      "write-ahead rule");
}

// Checkpoints bound recovery: with a checkpoint every 4 commits recovery
// scans fewer records than with none.
TEST(PageStore, CheckpointsBoundTheRedoWork) {
  auto records_after_crash = [](uint32_t checkpoint_every) {
    Env env(15, SmallStore(16, 8));
    env.options.checkpoint_every_commits = checkpoint_every;
    EXPECT_TRUE(env.Open().ok());
    for (const auto& changes : Workload(41, 60)) EXPECT_TRUE(env.Commit(changes).ok());
    EXPECT_TRUE(env.CrashAndRecover(16).ok());
    return env.store->stats().redo_records_scanned;
  };
  const uint64_t with = records_after_crash(4);
  const uint64_t without = records_after_crash(0);
  EXPECT_LT(with * 3, without) << "with checkpoints " << with << ", without " << without;
}

// Many keys: 100,000 keys on 512 pages of 4 KiB with 64 frames (256 KiB of
// page memory for ~3 MiB of data), then a crash and recovery.
TEST(PageStore, OneHundredThousandKeysInABoundedPool) {
  StorageOptions options;
  options.log.disk_offset = 0;
  options.log.size_bytes = 8 * 1024 * 1024;
  options.data_offset = 8 * 1024 * 1024;
  options.page_bytes = 4096;
  options.page_count = 1024;
  options.frames_max = 64;
  options.page_writes_in_flight_max = 8;
  options.checkpoint_every_commits = 50;
  Env env(17, options, 16 * 1024 * 1024);
  ASSERT_TRUE(env.Open().ok());
  constexpr int kKeys = 100000, kPerCommit = 20;
  int acked = 0;  // outlives every commit callback (they run after the loop's iteration)
  for (int base = 0; base < kKeys; base += kPerCommit) {
    std::vector<Change> changes;
    for (int i = base; i < base + kPerCommit; ++i) changes.push_back({"key" + std::to_string(i), std::to_string(i * 7)});
    env.store->Commit(std::move(changes), [&acked](absl::Status s) {
      ASSERT_TRUE(s.ok()) << s;
      ++acked;
    });
    if (base % 2000 == 0) env.scheduler.RunUntilIdle();
  }
  env.scheduler.RunUntilIdle();
  EXPECT_EQ(acked, kKeys / kPerCommit);
  EXPECT_LE(env.store->stats().frames_peak, 64u);
  ASSERT_TRUE(env.CrashAndRecover(18).ok());
  auto all = env.ReadAll();
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), static_cast<size_t>(kKeys));
  for (int i = 0; i < kKeys; i += 997) EXPECT_EQ(all->at("key" + std::to_string(i)), std::to_string(i * 7));
}

}  // namespace
}  // namespace ktm::storage

namespace ktm::storage {
namespace {

// Recovery time (simulated: the disk latencies of the log scan and the page
// reads of redo) against the checkpoint interval, after 390 commits of 3
// keys over 2,000 keys (256 pages of 4 KiB, 32 frames). Prints the table
// docs/rm-storage.md quotes; holds the shape: more frequent checkpoints,
// less redo and less time.
TEST(PageStore, RecoveryTimeFallsWithTheCheckpointInterval) {
  struct Row { uint32_t every; uint64_t records; uint64_t page_reads; sim::TimeNs ns; };
  std::vector<Row> rows;
  for (uint32_t every : {0u, 200u, 50u, 10u}) {
    StorageOptions options;
    options.log.disk_offset = 0;
    options.log.size_bytes = 4 * 1024 * 1024;
    options.data_offset = 4 * 1024 * 1024;
    options.page_bytes = 4096;
    options.page_count = 256;
    options.frames_max = 32;
    options.checkpoint_every_commits = every;
    Env env(19, options, 8 * 1024 * 1024);
    ASSERT_TRUE(env.Open().ok());
    sim::Rng rng(23);
    for (int c = 0; c < 390; ++c) {
      std::vector<Change> changes;
      for (int i = 0; i < 3; ++i) changes.push_back({"key" + std::to_string(rng.Next() % 2000), std::to_string(c)});
      env.store->Commit(std::move(changes), [](absl::Status s) { ASSERT_TRUE(s.ok()) << s; });
      if (c % 20 == 19) env.scheduler.RunUntilIdle();
    }
    env.scheduler.RunUntilIdle();
    env.disk.Crash(20);
    env.store.reset();
    env.scheduler.RunUntilIdle();
    const sim::TimeNs start = env.scheduler.Now();
    ASSERT_TRUE(env.Open().ok());
    rows.push_back(Row{every, env.store->stats().redo_records_scanned, env.store->stats().page_reads,
                       env.scheduler.Now() - start});
  }
  std::printf("checkpoint every (commits) | records redone | page reads | recovery (simulated ms)\n");
  for (const Row& row : rows) {
    std::printf("%u | %llu | %llu | %.1f\n", row.every, static_cast<unsigned long long>(row.records),
                static_cast<unsigned long long>(row.page_reads), row.ns / 1e6);
  }
  EXPECT_LT(rows.back().records, rows.front().records);
  EXPECT_LT(rows.back().ns, rows.front().ns);
}

}  // namespace
}  // namespace ktm::storage
