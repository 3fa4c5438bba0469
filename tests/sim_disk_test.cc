// Tests of sim::Disk: request statuses (misaligned, out of range, busy),
// completion only through the scheduler, cache/flush/FUA durability, latent
// errors, corruption, deterministic garbage, and a RapidCheck property that
// random op sequences with random crash points leave exactly what the fault
// model allows: per sector, the flushed content (or the initial garbage) or
// the content of a write not yet known durable when it completed; never
// anything that was not written, and nothing older than what was flushed.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <set>
#include <vector>

#include "sim/disk.h"
#include "sim/rng.h"
#include "sim/rng_bytes.h"

namespace sim {
namespace {

DiskOptions SmallDisk() {
  DiskOptions options;
  options.sector_size = 16;
  options.sector_count = 16;
  options.write_latency = Latency::Fixed(10 * kMicrosecond);
  options.read_latency = Latency::Fixed(10 * kMicrosecond);
  options.flush_latency = Latency::Fixed(50 * kMicrosecond);
  options.fua_extra_latency = Latency::Fixed(20 * kMicrosecond);
  options.inflight_max = 4;
  return options;
}

struct Rig {
  explicit Rig(DiskOptions options = SmallDisk(), uint64_t seed = 1)
      : disk(&scheduler, &trace, 0, "d0", seed, options) {}
  Scheduler scheduler;
  Trace trace;
  Disk disk;
};

std::vector<uint8_t> Bytes(size_t n, uint8_t value) { return std::vector<uint8_t>(n, value); }

TEST(Disk, BadRequestsCompleteWithStatusThroughTheScheduler) {
  Rig rig;
  std::vector<IoStatus> got;
  auto record = [&got](IoStatus s) { got.push_back(s); };
  rig.disk.Write(3, Bytes(16, 1), false, record);
  rig.disk.Write(0, Bytes(15, 1), false, record);
  rig.disk.Write(16 * 16, Bytes(16, 1), false, record);
  rig.disk.Write(15 * 16, Bytes(32, 1), false, record);
  rig.disk.Write(UINT64_MAX - 15, Bytes(16, 1), false, record);
  rig.disk.Read(16 * 17, 16, [&got](IoStatus s, std::vector<uint8_t> d) {
    EXPECT_TRUE(d.empty());
    got.push_back(s);
  });
  rig.disk.Read(0, 7, [&got](IoStatus s, std::vector<uint8_t>) { got.push_back(s); });
  EXPECT_TRUE(got.empty());  // never inside the call
  rig.scheduler.RunUntilIdle();
  EXPECT_EQ(got, (std::vector<IoStatus>{IoStatus::kMisaligned, IoStatus::kMisaligned,
                                        IoStatus::kOutOfRange, IoStatus::kOutOfRange,
                                        IoStatus::kOutOfRange, IoStatus::kOutOfRange,
                                        IoStatus::kMisaligned}));
  EXPECT_EQ(rig.disk.stats().errors, 7u);
  EXPECT_EQ(rig.disk.stats().writes, 0u);
  EXPECT_EQ(rig.trace.events().back().Field("status"), "misaligned");
}

TEST(Disk, MoreThanInflightMaxIsBusy) {
  Rig rig;
  std::vector<IoStatus> got;
  auto record = [&got](IoStatus s) { got.push_back(s); };
  for (int i = 0; i < 4; ++i) rig.disk.Write(i * 16, Bytes(16, 1), false, record);
  EXPECT_EQ(rig.disk.inflight(), 4u);
  rig.disk.Write(0, Bytes(16, 2), false, record);
  rig.disk.Flush(record);
  rig.disk.Read(0, 16, [&got](IoStatus s, std::vector<uint8_t>) { got.push_back(s); });
  rig.scheduler.RunUntilIdle();
  ASSERT_EQ(got.size(), 7u);
  // Rejections complete at once (delay 0), before the accepted writes.
  EXPECT_EQ(got[0], IoStatus::kBusy);
  EXPECT_EQ(got[1], IoStatus::kBusy);
  EXPECT_EQ(got[2], IoStatus::kBusy);
  for (int i = 3; i < 7; ++i) EXPECT_EQ(got[i], IoStatus::kOk);
  EXPECT_EQ(rig.disk.inflight(), 0u);
  EXPECT_EQ(rig.disk.VisibleSector(0), Bytes(16, 1));  // the busy write did nothing
}

TEST(Disk, WriteIsCachedFlushMakesItDurable) {
  Rig rig;
  const std::vector<uint8_t> garbage = rig.disk.MediaSector(2);
  bool done = false;
  rig.disk.Write(32, Bytes(16, 7), false, [&](IoStatus s) {
    EXPECT_EQ(s, IoStatus::kOk);
    done = true;
  });
  EXPECT_EQ(rig.disk.VisibleSector(2), garbage);  // not before completion
  rig.scheduler.RunUntilIdle();
  EXPECT_TRUE(done);
  EXPECT_EQ(rig.scheduler.Now(), 10 * kMicrosecond);
  EXPECT_EQ(rig.disk.VisibleSector(2), Bytes(16, 7));
  EXPECT_EQ(rig.disk.MediaSector(2), garbage);
  rig.disk.Flush([](IoStatus s) { EXPECT_EQ(s, IoStatus::kOk); });
  rig.scheduler.RunUntilIdle();
  EXPECT_EQ(rig.disk.MediaSector(2), Bytes(16, 7));
  EXPECT_EQ(rig.disk.stats().flushes, 1u);
  EXPECT_EQ(rig.trace.events().back().kind, "disk.flush");
}

TEST(Disk, FuaWriteIsDurableOnCompletion) {
  Rig rig;
  rig.disk.Write(0, Bytes(32, 9), true, [](IoStatus) {});
  rig.scheduler.RunUntilIdle();
  EXPECT_EQ(rig.scheduler.Now(), 30 * kMicrosecond);  // write + fua extra
  EXPECT_EQ(rig.disk.MediaSector(0), Bytes(16, 9));
  EXPECT_EQ(rig.disk.MediaSector(1), Bytes(16, 9));
  rig.disk.Crash(123);
  EXPECT_EQ(rig.disk.VisibleSector(1), Bytes(16, 9));
  EXPECT_EQ(rig.disk.stats().fua_writes, 1u);
  const TraceEvent& write = rig.trace.events()[0];
  EXPECT_EQ(write.ToText(), "30000 h0 disk.write disk=d0 off=0 len=32 fua=1 status=ok");
}

TEST(Disk, FlushCoversOnlyWritesCompletedBeforeIt) {
  DiskOptions options = SmallDisk();
  options.unflushed_survive_probability = 0;  // a crash loses all unflushed data
  Rig rig(options);
  rig.disk.Write(0, Bytes(16, 1), false, [](IoStatus) {});
  rig.scheduler.RunUntilIdle();
  rig.disk.Flush([](IoStatus) {});  // covers the 1s
  rig.scheduler.RunFor(5 * kMicrosecond);
  rig.disk.Write(0, Bytes(16, 2), false, [](IoStatus) {});
  rig.scheduler.RunFor(20 * kMicrosecond);  // 2s complete before the flush does
  EXPECT_EQ(rig.disk.VisibleSector(0), Bytes(16, 2));
  rig.scheduler.RunUntilIdle();
  EXPECT_EQ(rig.disk.MediaSector(0), Bytes(16, 1));
  EXPECT_EQ(rig.disk.VisibleSector(0), Bytes(16, 2));
  rig.disk.Crash(5);
  EXPECT_EQ(rig.disk.VisibleSector(0), Bytes(16, 1));
}

TEST(Disk, CrashDropsCallbacksAndUnflushedDataWithProbabilityZero) {
  DiskOptions options = SmallDisk();
  options.unflushed_survive_probability = 0;
  Rig rig(options);
  const std::vector<uint8_t> garbage = rig.disk.MediaSector(3);
  int callbacks = 0;
  rig.disk.Write(48, Bytes(16, 1), false, [&](IoStatus) { ++callbacks; });
  rig.scheduler.RunUntilIdle();
  rig.disk.Write(48, Bytes(16, 2), false, [&](IoStatus) { ++callbacks; });
  rig.disk.Read(48, 16, [&](IoStatus, std::vector<uint8_t>) { ++callbacks; });
  rig.disk.Flush([&](IoStatus) { ++callbacks; });
  rig.disk.Write(0, Bytes(16, 1), true, [&](IoStatus) { ++callbacks; });
  rig.disk.Write(7, Bytes(16, 1), true, [&](IoStatus) { ++callbacks; });  // misaligned
  rig.disk.Crash(1);
  rig.scheduler.RunUntilIdle();
  EXPECT_EQ(callbacks, 1);
  EXPECT_EQ(rig.disk.inflight(), 0u);
  EXPECT_EQ(rig.disk.VisibleSector(3), garbage);
  EXPECT_EQ(rig.trace.events().back().ToText(), "10000 h0 disk.crash disk=d0 survived=0 lost=3");
}

TEST(Disk, CrashWithProbabilityOneKeepsEverythingIssued) {
  DiskOptions options = SmallDisk();
  options.unflushed_survive_probability = 1;
  Rig rig(options);
  rig.disk.Write(0, Bytes(16, 1), false, [](IoStatus) {});
  rig.scheduler.RunUntilIdle();
  rig.disk.Write(16, Bytes(32, 2), false, [](IoStatus) {});  // in flight at the crash
  rig.disk.Crash(1);
  EXPECT_EQ(rig.disk.MediaSector(0), Bytes(16, 1));
  EXPECT_EQ(rig.disk.MediaSector(1), Bytes(16, 2));
  EXPECT_EQ(rig.disk.MediaSector(2), Bytes(16, 2));
}

TEST(Disk, CrashOutcomeIsAFunctionOfTheCrashSeed) {
  auto run = [](uint64_t crash_seed) {
    Rig rig;
    for (int s = 0; s < 16; ++s) rig.disk.Write(s * 16, Bytes(16, 1), false, [](IoStatus) {});
    rig.scheduler.RunUntil(15 * kMicrosecond);
    rig.disk.Crash(crash_seed);
    std::vector<std::vector<uint8_t>> media;
    for (int s = 0; s < 16; ++s) media.push_back(rig.disk.MediaSector(s));
    return media;
  };
  EXPECT_EQ(run(1), run(1));
  EXPECT_NE(run(1), run(2));
}

TEST(Disk, ATornWriteKeepsSomeSectorsNewAndSomeOld) {
  DiskOptions options = SmallDisk();
  options.inflight_max = 64;
  bool torn = false;
  for (uint64_t seed = 1; seed < 20 && !torn; ++seed) {
    Rig rig(options, seed);
    std::vector<uint8_t> old0 = rig.disk.MediaSector(0);
    rig.disk.Write(0, Bytes(16 * 16, 5), false, [](IoStatus) { FAIL() << "ran after crash"; });
    rig.disk.Crash(seed);
    rig.scheduler.RunUntilIdle();
    int fresh = 0;
    for (int s = 0; s < 16; ++s) {
      const std::vector<uint8_t> now = rig.disk.MediaSector(s);
      if (now == Bytes(16, 5)) ++fresh;
    }
    torn = fresh > 0 && fresh < 16;
  }
  EXPECT_TRUE(torn);
}

TEST(Disk, LatentErrorFailsReadsUntilRewritten) {
  Rig rig;
  rig.disk.Write(0, Bytes(64, 3), true, [](IoStatus) {});
  rig.scheduler.RunUntilIdle();
  rig.disk.AddLatentError(2);
  std::vector<IoStatus> got;
  auto read = [&](uint64_t offset, uint64_t length) {
    rig.disk.Read(offset, length, [&got](IoStatus s, std::vector<uint8_t> data) {
      if (s != IoStatus::kOk) {
        EXPECT_TRUE(data.empty());
      }
      got.push_back(s);
    });
    rig.scheduler.RunUntilIdle();
  };
  read(0, 64);   // touches sector 2
  read(0, 32);   // does not
  read(32, 16);  // only sector 2
  EXPECT_EQ(got,
            (std::vector<IoStatus>{IoStatus::kMediaError, IoStatus::kOk, IoStatus::kMediaError}));
  EXPECT_EQ(rig.disk.latent_errors(), (std::set<uint64_t>{2}));
  rig.disk.Crash(9);  // a latent error is on the media: it survives crashes
  got.clear();
  read(32, 16);
  rig.disk.Write(32, Bytes(16, 4), false, [](IoStatus) {});
  rig.scheduler.RunUntilIdle();
  read(32, 16);
  EXPECT_EQ(got, (std::vector<IoStatus>{IoStatus::kMediaError, IoStatus::kOk}));
  EXPECT_TRUE(rig.disk.latent_errors().empty());
}

TEST(Disk, CorruptSectorChangesMediaBytes) {
  Rig rig;
  rig.disk.Write(0, Bytes(16, 3), true, [](IoStatus) {});
  rig.scheduler.RunUntilIdle();
  rig.disk.CorruptSector(0, 77);
  EXPECT_NE(rig.disk.MediaSector(0), Bytes(16, 3));
  EXPECT_EQ(rig.disk.DurableSectors(), (std::vector<uint64_t>{0}));
}

TEST(Disk, GarbageIsDeterministicPerSeedAndSector) {
  Rig a(SmallDisk(), 1), b(SmallDisk(), 1), c(SmallDisk(), 2);
  EXPECT_EQ(a.disk.MediaSector(4), b.disk.MediaSector(4));
  EXPECT_NE(a.disk.MediaSector(4), a.disk.MediaSector(5));
  EXPECT_NE(a.disk.MediaSector(4), c.disk.MediaSector(4));
  EXPECT_EQ(a.disk.MediaSector(4).size(), 16u);
  std::vector<uint8_t> read;
  a.disk.Read(64, 16, [&read](IoStatus, std::vector<uint8_t> d) { read = std::move(d); });
  a.scheduler.RunUntilIdle();
  EXPECT_EQ(read, a.disk.MediaSector(4));
}

// Never-written sectors read as GarbageBytes(garbage seed ^ scrambled sector)
// (disk.cc FillGarbage), the garbage seed the first draw of the disk's
// "disk.garbage" stream: the same on every read, in any order, within one
// multi-sector read or across reads, before and after writes nearby.
TEST(Disk, GarbageIsTheSameOnEveryRead) {
  DiskOptions options = SmallDisk();
  options.sector_count = 64 * 130 + 10;
  options.inflight_max = 1024;
  constexpr uint64_t kSeed = 5;
  Rig rig(options, kSeed);
  const uint64_t garbage_seed = Rng::Derive(kSeed, "disk.garbage").Next();
  auto expected = [&](uint64_t sector) {
    std::vector<uint8_t> bytes(options.sector_size);
    GarbageBytes(garbage_seed ^ (sector * 0x9e3779b97f4a7c15ull), bytes);
    return bytes;
  };
  auto read = [&rig, &options](uint64_t first, uint64_t count) {
    std::vector<uint8_t> got;
    rig.disk.Read(first * options.sector_size, count * options.sector_size,
                  [&got](IoStatus status, std::vector<uint8_t> bytes) {
                    EXPECT_EQ(status, IoStatus::kOk);
                    got = std::move(bytes);
                  });
    rig.scheduler.RunUntilIdle();
    return got;
  };
  auto check = [&](uint64_t first, uint64_t count) {
    const std::vector<uint8_t> got = read(first, count);
    ASSERT_EQ(got.size(), count * options.sector_size);
    for (uint64_t i = 0; i < count; ++i) {
      const std::vector<uint8_t> sector(got.begin() + i * options.sector_size,
                                        got.begin() + (i + 1) * options.sector_size);
      EXPECT_EQ(sector, expected(first + i)) << "sector " << first + i;
    }
  };
  // Every sector, in reads of 7 that cross media-chunk boundaries, three
  // times, backwards the last time.
  for (int pass = 0; pass < 2; ++pass) {
    for (uint64_t first = 0; first < options.sector_count; first += 7) {
      check(first, std::min<uint64_t>(7, options.sector_count - first));
    }
  }
  for (uint64_t sector = options.sector_count; sector-- > 0;) check(sector, 1);
  // A written sector reads as written; its neighbours stay garbage.
  rig.disk.Write(65 * options.sector_size, Bytes(options.sector_size, 9), true, [](IoStatus) {});
  rig.scheduler.RunUntilIdle();
  EXPECT_EQ(read(65, 1), Bytes(options.sector_size, 9));
  check(64, 1);
  check(66, 1);
  EXPECT_EQ(rig.disk.MediaSector(66), expected(66));
  EXPECT_EQ(rig.disk.VisibleSector(130 * 64 + 3), expected(130 * 64 + 3));
}

// One read over every kind of sector at once returns, sector by sector, what
// VisibleSector gives, and that is the newest bytes written: cached
// (unflushed) sectors, media sectors, a cached sector over an older media
// one, never-written garbage, in runs that cross media-chunk boundaries
// (FinishRead assembles a read in one pass over cache and media).
TEST(Disk, AMixedReadReturnsExactlyTheVisibleBytesOfEverySector) {
  DiskOptions options = SmallDisk();
  options.sector_count = 64 * 4;
  options.inflight_max = 1024;
  constexpr uint64_t kSeed = 11;
  Rig rig(options, kSeed);
  const uint64_t garbage_seed = Rng::Derive(kSeed, "disk.garbage").Next();
  const uint64_t sector_size = options.sector_size;
  std::map<uint64_t, std::vector<uint8_t>> newest;  // sector -> bytes written last
  auto write = [&](uint64_t sector, uint8_t value, bool fua) {
    std::vector<uint8_t> bytes(sector_size);
    for (uint64_t i = 0; i < sector_size; ++i) bytes[i] = static_cast<uint8_t>(value + i);
    rig.disk.Write(sector * sector_size, bytes, fua, [](IoStatus status) { EXPECT_EQ(status, IoStatus::kOk); });
    rig.scheduler.RunUntilIdle();
    newest[sector] = bytes;
  };
  for (uint64_t sector : {60, 62, 63, 64, 66, 130}) write(sector, static_cast<uint8_t>(sector), true);  // media
  for (uint64_t sector : {61, 63, 65, 128, 129}) write(sector, static_cast<uint8_t>(sector + 100), false);  // cache
  ASSERT_EQ(rig.disk.MediaSector(63)[0], 63);  // sector 63: cached bytes over older media bytes
  for (const auto& [first, count] : std::vector<std::pair<uint64_t, uint64_t>>{
           {56, 16}, {0, 256}, {63, 2}, {127, 5}, {129, 1}, {200, 3}}) {
    std::vector<uint8_t> got;
    rig.disk.Read(first * sector_size, count * sector_size, [&got](IoStatus status, std::vector<uint8_t> bytes) {
      EXPECT_EQ(status, IoStatus::kOk);
      got = std::move(bytes);
    });
    rig.scheduler.RunUntilIdle();
    ASSERT_EQ(got.size(), count * sector_size);
    for (uint64_t i = 0; i < count; ++i) {
      const uint64_t sector = first + i;
      const std::vector<uint8_t> one(got.begin() + i * sector_size, got.begin() + (i + 1) * sector_size);
      std::vector<uint8_t> want(sector_size);
      if (auto it = newest.find(sector); it != newest.end()) {
        want = it->second;
      } else {
        GarbageBytes(garbage_seed ^ (sector * 0x9e3779b97f4a7c15ull), want);
      }
      EXPECT_EQ(one, want) << "sector " << sector << " of read " << first << "+" << count;
      EXPECT_EQ(one, rig.disk.VisibleSector(sector)) << "sector " << sector;
    }
  }
}

// A FUA write lands on the media a chunk at a time (FinishWrite looks each
// 64-sector media chunk up once): a write that starts inside one chunk,
// fills the next and ends in a third puts every sector, and only those, on
// the media, with its own bytes; an overlapping one counts its new sectors
// once (DurableSectors) and replaces the old bytes.
TEST(Disk, AFuaWriteAcrossMediaChunksLandsSectorBySector) {
  DiskOptions options = SmallDisk();
  options.sector_count = 64 * 4;
  Rig rig(options);
  const uint64_t sector_size = options.sector_size;
  auto pattern = [&](uint64_t count, uint8_t salt) {
    std::vector<uint8_t> bytes(count * sector_size);
    for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(salt + i * 7 + i / sector_size);
    return bytes;
  };
  // Each sector from `first` on holds its slice of `bytes` on the media.
  auto expect_media = [&](uint64_t first, const std::vector<uint8_t>& bytes) {
    for (uint64_t sector = first; sector < first + bytes.size() / sector_size; ++sector) {
      const auto at = bytes.begin() + static_cast<std::ptrdiff_t>((sector - first) * sector_size);
      ASSERT_EQ(rig.disk.MediaSector(sector), std::vector<uint8_t>(at, at + static_cast<std::ptrdiff_t>(sector_size)))
          << "sector " << sector;
    }
  };
  const std::vector<uint8_t> first_bytes = pattern(70 + 64, 1);  // sectors [60, 194)
  rig.disk.Write(60 * sector_size, first_bytes, /*fua=*/true, [](IoStatus s) { EXPECT_EQ(s, IoStatus::kOk); });
  rig.scheduler.RunUntilIdle();
  std::vector<uint64_t> expected_sectors;
  for (uint64_t sector = 60; sector < 194; ++sector) expected_sectors.push_back(sector);
  EXPECT_EQ(rig.disk.DurableSectors(), expected_sectors);
  expect_media(60, first_bytes);
  // Overlapping [190, 200): 4 rewritten, 6 new.
  const std::vector<uint8_t> second_bytes = pattern(10, 99);
  rig.disk.Write(190 * sector_size, second_bytes, /*fua=*/true, [](IoStatus) {});
  rig.scheduler.RunUntilIdle();
  for (uint64_t sector = 194; sector < 200; ++sector) expected_sectors.push_back(sector);
  EXPECT_EQ(rig.disk.DurableSectors(), expected_sectors);
  expect_media(190, second_bytes);
  const auto at = first_bytes.begin() + static_cast<std::ptrdiff_t>((189 - 60) * sector_size);
  EXPECT_EQ(rig.disk.MediaSector(189), std::vector<uint8_t>(at, at + static_cast<std::ptrdiff_t>(sector_size)));
}

// WriteSwapping is Write without the copy: the same bytes land (cache or
// media), the same completion and fingerprint follow, the disk keeps the
// caller's buffer and hands back the buffer of an earlier write.
TEST(Disk, WriteSwappingTakesTheBufferAndActsAsWrite) {
  DiskOptions options = SmallDisk();
  options.sector_count = 64 * 2;
  Rig copying(options, 5);
  Rig swapping(options, 5);
  std::vector<IoStatus> copied_statuses, swapped_statuses;
  std::vector<uint8_t> buffer;
  for (int i = 0; i < 6; ++i) {
    const uint64_t offset = static_cast<uint64_t>(i * 3) * options.sector_size;
    const bool fua = i % 2 == 0;
    const std::vector<uint8_t> bytes = Bytes(options.sector_size * static_cast<size_t>(1 + i % 3), static_cast<uint8_t>(i + 1));
    copying.disk.Write(offset, bytes, fua, [&](IoStatus s) { copied_statuses.push_back(s); });
    buffer = bytes;
    const uint8_t* given = buffer.data();
    swapping.disk.WriteSwapping(offset, &buffer, fua, [&](IoStatus s) { swapped_statuses.push_back(s); });
    EXPECT_NE(buffer.data(), given) << "the disk keeps the caller's buffer";
    if (i % 2 == 1) {
      copying.scheduler.RunUntilIdle();
      swapping.scheduler.RunUntilIdle();
      EXPECT_EQ(copying.disk.Fingerprint(), swapping.disk.Fingerprint());
    }
  }
  // A rejected request (misaligned) leaves the caller's bytes alone.
  buffer = Bytes(options.sector_size, 42);
  swapping.disk.WriteSwapping(3, &buffer, false, [&](IoStatus s) { swapped_statuses.push_back(s); });
  copying.disk.Write(3, buffer, false, [&](IoStatus s) { copied_statuses.push_back(s); });
  EXPECT_EQ(buffer, Bytes(options.sector_size, 42));
  copying.scheduler.RunUntilIdle();
  swapping.scheduler.RunUntilIdle();
  EXPECT_EQ(swapped_statuses, copied_statuses);
  EXPECT_EQ(swapped_statuses.back(), IoStatus::kMisaligned);
  EXPECT_EQ(copying.disk.Fingerprint(), swapping.disk.Fingerprint());
  EXPECT_EQ(copying.trace.digest(), swapping.trace.digest());
  for (uint64_t sector = 0; sector < 20; ++sector) {
    EXPECT_EQ(copying.disk.VisibleSector(sector), swapping.disk.VisibleSector(sector)) << "sector " << sector;
  }
}

// Abandon drops a write's callback and nothing else: the write lands, is
// traced and counted as without it (same fingerprint and digest as a twin
// disk that ran the callback), for an accepted write and a rejected (busy)
// one alike; abandoning a completed request changes nothing.
TEST(Disk, AbandonDropsOnlyTheCallback) {
  Rig kept;
  Rig abandoned;
  std::vector<IoStatus> kept_statuses;
  int abandoned_calls = 0;
  std::vector<uint64_t> requests;
  for (uint64_t i = 0; i < 5; ++i) {  // the fifth is busy (inflight_max 4)
    const std::vector<uint8_t> bytes = Bytes(16, static_cast<uint8_t>(i + 1));
    kept.disk.Write(i * 16, bytes, i % 2 == 0, [&](IoStatus s) { kept_statuses.push_back(s); });
    requests.push_back(abandoned.disk.Write(i * 16, bytes, i % 2 == 0, [&](IoStatus) { ++abandoned_calls; }));
  }
  for (const uint64_t request : requests) abandoned.disk.Abandon(request);
  kept.scheduler.RunUntilIdle();
  abandoned.scheduler.RunUntilIdle();
  EXPECT_EQ(abandoned_calls, 0);
  ASSERT_EQ(kept_statuses.size(), 5u);
  EXPECT_EQ(std::count(kept_statuses.begin(), kept_statuses.end(), IoStatus::kBusy), 1);
  EXPECT_EQ(kept.disk.Fingerprint(), abandoned.disk.Fingerprint());
  EXPECT_EQ(kept.trace.digest(), abandoned.trace.digest());
  EXPECT_EQ(kept.disk.stats().writes, abandoned.disk.stats().writes);
  EXPECT_EQ(kept.disk.stats().errors, abandoned.disk.stats().errors);
  // A later write still completes; abandoning a finished request is a no-op.
  bool done = false;
  abandoned.disk.Write(0, Bytes(16, 9), false, [&](IoStatus s) { done = s == IoStatus::kOk; });
  abandoned.disk.Abandon(requests.front());
  abandoned.scheduler.RunUntilIdle();
  EXPECT_TRUE(done);
}

// A copied write of zeros keeps no bytes, and its sectors are zero marks on
// the media: the disk behaves exactly as with the same zeros as bytes (what
// WriteSwapping stores): reads, media and visible sectors, durable sectors,
// fingerprints and traces, through cache and FUA, overwrites of part of a
// zero run, a flush, a crash with zero writes in flight, and a corruption.
TEST(Disk, AWriteOfZerosActsAsTheSameBytes) {
  DiskOptions options = SmallDisk();
  options.sector_count = 64 * 3;
  options.inflight_max = 64;
  options.unflushed_survive_probability = 0.5;
  Rig marks(options, 9);
  Rig bytes(options, 9);
  const uint64_t sector_size = options.sector_size;
  auto write = [&](uint64_t sector, std::vector<uint8_t> data, bool fua) {
    marks.disk.Write(sector * sector_size, data, fua, [](IoStatus s) { EXPECT_EQ(s, IoStatus::kOk); });
    bytes.disk.WriteSwapping(sector * sector_size, &data, fua, [](IoStatus s) { EXPECT_EQ(s, IoStatus::kOk); });
  };
  auto expect_same = [&](const char* when) {
    EXPECT_EQ(marks.disk.Fingerprint(), bytes.disk.Fingerprint()) << when;
    EXPECT_EQ(marks.disk.DurableSectors(), bytes.disk.DurableSectors()) << when;
    EXPECT_EQ(marks.trace.digest(), bytes.trace.digest()) << when;
    for (uint64_t sector = 0; sector < options.sector_count; ++sector) {
      ASSERT_EQ(marks.disk.MediaSector(sector), bytes.disk.MediaSector(sector)) << when << ", sector " << sector;
      ASSERT_EQ(marks.disk.VisibleSector(sector), bytes.disk.VisibleSector(sector)) << when << ", sector " << sector;
    }
    std::vector<uint8_t> read_marks, read_bytes;
    marks.disk.Read(0, options.sector_count * sector_size,
                    [&](IoStatus, std::vector<uint8_t> got) { read_marks = std::move(got); });
    bytes.disk.Read(0, options.sector_count * sector_size,
                    [&](IoStatus, std::vector<uint8_t> got) { read_bytes = std::move(got); });
    marks.scheduler.RunUntilIdle();
    bytes.scheduler.RunUntilIdle();
    EXPECT_EQ(read_marks, read_bytes) << when;
  };
  auto run = [&] {
    marks.scheduler.RunUntilIdle();
    bytes.scheduler.RunUntilIdle();
  };
  write(60, Bytes(70 * sector_size, 0), /*fua=*/true);  // zero marks across three chunks
  write(10, Bytes(4 * sector_size, 0), /*fua=*/false);  // zeros in the cache
  run();
  expect_same("after zero writes");
  write(62, Bytes(2 * sector_size, 7), /*fua=*/true);  // bytes over part of the zero run
  write(11, Bytes(sector_size, 8), /*fua=*/false);
  write(128, Bytes(sector_size, 0), /*fua=*/true);  // zeros over bytes
  run();
  expect_same("after overwrites");
  marks.disk.Flush([](IoStatus) {});
  bytes.disk.Flush([](IoStatus) {});
  run();
  expect_same("after a flush");
  write(100, Bytes(30 * sector_size, 0), /*fua=*/true);  // in flight at the crash
  write(20, Bytes(3 * sector_size, 0), /*fua=*/false);
  write(140, Bytes(2 * sector_size, 5), /*fua=*/false);
  marks.disk.Crash(77);
  bytes.disk.Crash(77);
  run();
  expect_same("after a crash");
  marks.disk.CorruptSector(64, 3);
  bytes.disk.CorruptSector(64, 3);
  expect_same("after a corruption");
  EXPECT_NE(marks.disk.MediaSector(64), Bytes(sector_size, 0));
}

TEST(Disk, WrittenSectorsUnitesCacheAndMedia) {
  Rig rig;
  rig.disk.Write(16, Bytes(16, 1), true, [](IoStatus) {});
  rig.disk.Write(48, Bytes(32, 1), false, [](IoStatus) {});
  rig.scheduler.RunUntilIdle();
  EXPECT_EQ(rig.disk.WrittenSectors(), (std::vector<uint64_t>{1, 3, 4}));
  EXPECT_EQ(rig.disk.DurableSectors(), (std::vector<uint64_t>{1}));
}

// ---- Property: crash survival against a reference model. ----

constexpr uint64_t kSectors = 12;
constexpr uint32_t kSectorSize = 16;

// Each written sector carries (write id, sector): content identifies its write.
std::vector<uint8_t> Pattern(uint64_t id, uint64_t first, uint64_t count) {
  std::vector<uint8_t> data(count * kSectorSize);
  for (uint64_t i = 0; i < count; ++i) {
    const uint64_t sector = first + i;
    std::memcpy(&data[i * kSectorSize], &id, 8);
    std::memcpy(&data[i * kSectorSize + 8], &sector, 8);
  }
  return data;
}

struct SectorModel {
  uint64_t floor_id = 0;                  // known durable content: 0 is the initial garbage
  int64_t floor_order = -1;               // completion order of the floor's write
  std::map<uint64_t, int64_t> completed;  // write id -> completion order (since floor)
  std::set<uint64_t> in_flight;
  uint64_t visible_id = 0;
};

struct CrashModel {
  std::vector<SectorModel> sectors = std::vector<SectorModel>(kSectors);
  std::vector<std::vector<uint8_t>> garbage;
  int64_t completions = 0;
  uint64_t epoch = 0;

  uint64_t IdOf(uint64_t sector, const std::vector<uint8_t>& bytes) const {
    if (bytes == garbage[sector]) return 0;
    uint64_t id = 0, s = 0;
    std::memcpy(&id, bytes.data(), 8);
    std::memcpy(&s, bytes.data() + 8, 8);
    RC_ASSERT(s == sector);
    RC_ASSERT(id != 0);
    return id;
  }
  void Completed(uint64_t id, uint64_t first, uint64_t count, bool fua) {
    const int64_t order = completions++;
    for (uint64_t s = first; s < first + count; ++s) {
      SectorModel& m = sectors[s];
      m.in_flight.erase(id);
      m.visible_id = id;
      if (fua) {
        m.floor_id = id;
        m.floor_order = order;
        m.completed.clear();
      } else {
        m.completed[id] = order;
      }
    }
  }
  // A flush issued when `watermark` writes had completed has completed.
  void Flushed(int64_t watermark) {
    for (SectorModel& m : sectors) {
      int64_t best = -1;
      uint64_t best_id = 0;
      for (const auto& [id, order] : m.completed) {
        if (order < watermark && order > best) best = order, best_id = id;
      }
      if (best <= m.floor_order) continue;
      m.floor_id = best_id;
      m.floor_order = best;
      for (auto it = m.completed.begin(); it != m.completed.end();) {
        it = it->second <= best ? m.completed.erase(it) : std::next(it);
      }
    }
  }
  void CheckCrash(const Disk& disk) {
    for (uint64_t s = 0; s < kSectors; ++s) {
      SectorModel& m = sectors[s];
      const uint64_t id = IdOf(s, disk.MediaSector(s));
      const bool allowed =
          id == m.floor_id || m.completed.count(id) != 0 || m.in_flight.count(id) != 0;
      RC_ASSERT(allowed);
      RC_ASSERT(disk.VisibleSector(s) == disk.MediaSector(s));
      m = SectorModel{};
      m.floor_id = id;
      m.visible_id = id;
    }
    ++epoch;
  }
};

RC_GTEST_PROP(DiskProperty, CrashKeepsFlushedDataAndOnlyWrittenData, ()) {
  DiskOptions options;
  options.sector_size = kSectorSize;
  options.sector_count = kSectors;
  options.write_latency = Latency::Uniform(5 * kMicrosecond, 200 * kMicrosecond);
  options.read_latency = Latency::Uniform(5 * kMicrosecond, 100 * kMicrosecond);
  options.flush_latency = Latency::Uniform(20 * kMicrosecond, 300 * kMicrosecond);
  options.fua_extra_latency = Latency::Uniform(0, 100 * kMicrosecond);
  options.inflight_max = 6;
  options.unflushed_survive_probability = *rc::gen::element(0.0, 0.3, 0.7, 1.0);
  Scheduler scheduler;
  Trace trace(false);
  Disk disk(&scheduler, &trace, 0, "d", *rc::gen::arbitrary<uint64_t>(), options);
  CrashModel model;
  for (uint64_t s = 0; s < kSectors; ++s) model.garbage.push_back(disk.MediaSector(s));
  uint64_t next_id = 1;
  bool in_call = false;

  const int ops = *rc::gen::inRange(1, 60);
  for (int op = 0; op < ops; ++op) {
    const int kind = *rc::gen::inRange(0, 100);
    const uint64_t first = *rc::gen::inRange<uint64_t>(0, kSectors);
    const uint64_t count = *rc::gen::inRange<uint64_t>(1, kSectors - first + 1);
    const bool busy = disk.inflight() >= options.inflight_max;
    const uint64_t epoch = model.epoch;
    in_call = true;
    if (kind < 35) {
      const uint64_t id = next_id++;
      const bool fua = *rc::gen::inRange(0, 4) == 0;
      if (!busy) {
        for (uint64_t s = first; s < first + count; ++s) model.sectors[s].in_flight.insert(id);
      }
      disk.Write(first * kSectorSize, Pattern(id, first, count), fua,
                 [&, id, first, count, fua, busy, epoch](IoStatus st) {
                   RC_ASSERT(!in_call);
                   RC_ASSERT(epoch == model.epoch);
                   RC_ASSERT(st == (busy ? IoStatus::kBusy : IoStatus::kOk));
                   if (!busy) model.Completed(id, first, count, fua);
                 });
    } else if (kind < 50) {
      disk.Read(first * kSectorSize, count * kSectorSize,
                [&, first, count, busy, epoch](IoStatus st, std::vector<uint8_t> data) {
                  RC_ASSERT(!in_call);
                  RC_ASSERT(epoch == model.epoch);
                  RC_ASSERT(st == (busy ? IoStatus::kBusy : IoStatus::kOk));
                  if (busy) return;
                  RC_ASSERT(data.size() == count * kSectorSize);
                  for (uint64_t i = 0; i < count; ++i) {
                    std::vector<uint8_t> sector(data.begin() + i * kSectorSize,
                                                data.begin() + (i + 1) * kSectorSize);
                    RC_ASSERT(model.IdOf(first + i, sector) == model.sectors[first + i].visible_id);
                  }
                });
    } else if (kind < 62) {
      const int64_t watermark = model.completions;
      disk.Flush([&, watermark, busy, epoch](IoStatus st) {
        RC_ASSERT(!in_call);
        RC_ASSERT(epoch == model.epoch);
        RC_ASSERT(st == (busy ? IoStatus::kBusy : IoStatus::kOk));
        if (!busy) model.Flushed(watermark);
      });
    } else if (kind < 67) {
      // Invalid requests: never a crash, always the right status.
      const IoStatus expected =
          *rc::gen::inRange(0, 2) == 0 ? IoStatus::kMisaligned : IoStatus::kOutOfRange;
      const uint64_t offset = expected == IoStatus::kMisaligned ? first * kSectorSize + 1
                                                                : (kSectors + first) * kSectorSize;
      disk.Write(offset, Pattern(next_id++, 0, 1), false, [&, expected, epoch](IoStatus st) {
        RC_ASSERT(epoch == model.epoch);
        RC_ASSERT(st == expected);
      });
    } else if (kind < 92) {
      in_call = false;
      scheduler.RunFor(*rc::gen::inRange<TimeNs>(0, 300 * kMicrosecond));
    } else {
      in_call = false;
      disk.Crash(*rc::gen::arbitrary<uint64_t>());
      model.CheckCrash(disk);
      RC_ASSERT(disk.inflight() == 0u);
    }
    in_call = false;
  }
  scheduler.RunUntilIdle();
  disk.Crash(*rc::gen::arbitrary<uint64_t>());
  model.CheckCrash(disk);
}

// A write in flight at a crash is dropped: its completion event still runs
// later and must find nothing. In-flight writes live in reused slots, so the
// first write after the crash takes the dropped one's slot; the dropped
// write's completion (due first) must not complete that write early, nor
// twice, nor with the dropped write's bytes.
TEST(Disk, ADroppedWritesCompletionDoesNotCompleteTheWriteReusingItsSlot) {
  Rig rig;
  int dropped_done = 0;
  std::vector<TimeNs> later_done;
  rig.disk.Write(0, Bytes(16, 1), true, [&dropped_done](IoStatus) { ++dropped_done; });  // due at 30us
  rig.scheduler.RunUntil(5 * kMicrosecond);
  rig.disk.Crash(1);
  rig.disk.Write(16, Bytes(16, 2), true, [&](IoStatus s) {  // due at 35us, in the dropped write's slot
    EXPECT_EQ(s, IoStatus::kOk);
    later_done.push_back(rig.scheduler.Now());
  });
  rig.scheduler.RunUntil(32 * kMicrosecond);  // the dropped write's completion has run
  EXPECT_TRUE(later_done.empty());
  EXPECT_EQ(rig.disk.inflight(), 1u);
  EXPECT_NE(rig.disk.MediaSector(1), Bytes(16, 2));
  rig.scheduler.RunUntilIdle();
  EXPECT_EQ(dropped_done, 0);
  EXPECT_EQ(later_done, (std::vector<TimeNs>{35 * kMicrosecond}));
  EXPECT_EQ(rig.disk.MediaSector(1), Bytes(16, 2));
  EXPECT_EQ(rig.disk.inflight(), 0u);
}

}  // namespace
}  // namespace sim
