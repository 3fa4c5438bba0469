// Tests of the log's integrity promise (ktm/log/log.h "Damage", issue 15):
// Open tells a torn tail from damage. A forced block that fails its check
// while a later block vouches for it (its durable gap) or the restart area's
// durable hint covers it, a one-sector block that names itself but fails its
// checksum, a restart sector that is damaged, a disk with blocks but no
// restart area, and a restart area that contradicts itself are all refused
// with kDataLoss, and a refusing Open writes nothing. A genuine torn tail
// still recovers. The RapidCheck property damages one sector of any vouched
// forced block (bit flip, byte change or the disk's own CorruptSector) after
// random appends, forces, restart areas and a crash, and requires Open to
// recover every forced record exactly or refuse, never to drop one silently.
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "ktm/log/log.h"
#include "ktm/log/log_format.h"
#include "sim/disk.h"
#include "sim/rng.h"
#include "sim/scheduler.h"
#include "sim/trace.h"

namespace ktm::log {
namespace {

constexpr uint32_t kSector = 512;
constexpr uint32_t kRegionSectors = 64;
constexpr int kPropertyCasesMin = 300;

// RapidCheck reads RC_PARAMS once, at its first check: raise the default case
// count before that unless the caller chose one.
const bool kRapidCheckCasesRaised = [] {
  const char* current = std::getenv("RC_PARAMS");
  std::string params = current != nullptr ? current : "";
  if (params.find("max_success") != std::string::npos) return false;
  params += (params.empty() ? "" : " ") + std::string("max_success=") +
            std::to_string(kPropertyCasesMin);
  setenv("RC_PARAMS", params.c_str(), 1);
  return true;
}();

sim::DiskOptions SmallDisk() {
  sim::DiskOptions options;
  options.sector_size = kSector;
  options.sector_count = 128;
  options.write_latency = sim::Latency::Uniform(20 * sim::kMicrosecond, 200 * sim::kMicrosecond);
  options.fua_extra_latency = sim::Latency::Uniform(0, 300 * sim::kMicrosecond);
  return options;
}

// The log starts 2 sectors into the disk; blocks of up to 4 sectors.
LogOptions SmallLog() {
  LogOptions options;
  options.disk_offset = 2 * kSector;
  options.size_bytes = (2 + kRegionSectors) * kSector;
  options.record_payload_max = 600;
  options.block_bytes_max = 2048;
  options.pipeline_bytes_max = 8 * kSector;
  return options;
}

std::vector<uint8_t> MakePayload(uint64_t seed, size_t size) {
  sim::Rng rng(seed);
  std::vector<uint8_t> bytes(size);
  for (auto& byte : bytes) byte = static_cast<uint8_t>(rng.Next());
  return bytes;
}

// A formatted log on its own disk, and what was appended and forced.
struct World {
  explicit World(uint64_t seed, LogOptions log_options = SmallLog())
      : disk(&scheduler, &trace, 0, "log", seed, SmallDisk()), options(log_options) {
    log = std::make_unique<Log>(&disk, options);
    std::optional<absl::Status> formatted;
    log->Format([&](absl::Status status) { formatted = status; });
    scheduler.RunUntilIdle();
    EXPECT_TRUE(formatted.has_value() && formatted->ok());
  }
  Lsn Append(uint16_t type, size_t size) {
    auto payload = MakePayload(next_payload_seed++, size);
    absl::StatusOr<Lsn> lsn = log->Append(type, payload);
    EXPECT_TRUE(lsn.ok()) << lsn.status();
    if (!lsn.ok()) return kLsnInvalid;
    records.push_back(LogRecord{*lsn, type, std::move(payload)});
    return *lsn;
  }
  absl::Status Force() {
    std::optional<absl::Status> result;
    log->Force(kLsnInvalid, [&](absl::Status status) { result = status; });
    scheduler.RunUntilIdle();
    if (result.has_value() && result->ok()) forced_count = records.size();
    return result.value_or(absl::InternalError("Force never completed"));
  }
  // Appends and forces one record; returns the LSN its block starts at.
  Lsn AppendForced(uint16_t type, size_t size) {
    const Lsn block = log->durable_lsn();
    Append(type, size);
    EXPECT_TRUE(Force().ok());
    return block;
  }
  absl::Status WriteRestart(const std::vector<uint8_t>& payload, Lsn base) {
    std::optional<absl::Status> result;
    log->WriteRestartArea(payload, base, [&](absl::Status status) { result = status; });
    scheduler.RunUntilIdle();
    return result.value_or(absl::InternalError("WriteRestartArea never completed"));
  }
  // The disk sector that holds stream LSN lsn, and restart sector i.
  uint64_t SectorOf(Lsn lsn) const {
    const uint64_t region_bytes = options.size_bytes - 2 * kSector;
    return (options.disk_offset + 2 * kSector + lsn % region_bytes) / kSector;
  }
  uint64_t RestartSector(uint32_t i) const { return options.disk_offset / kSector + i; }
  // Puts bytes on the media of a sector (the test's own FUA write).
  void PutSector(uint64_t sector, const std::vector<uint8_t>& bytes) {
    bool done = false;
    disk.Write(sector * kSector, bytes, /*fua=*/true, [&](sim::IoStatus status) {
      EXPECT_EQ(status, sim::IoStatus::kOk);
      done = true;
    });
    scheduler.RunUntilIdle();
    EXPECT_TRUE(done);
  }
  void FlipBit(uint64_t sector, size_t byte, int bit) {
    std::vector<uint8_t> bytes = disk.MediaSector(sector);
    bytes[byte] ^= static_cast<uint8_t>(1u << bit);
    PutSector(sector, bytes);
  }
  // Drops the Log (optionally crashing the disk first) without opening again.
  void Close(std::optional<uint64_t> crash_seed = std::nullopt) {
    if (crash_seed.has_value()) disk.Crash(*crash_seed);
    log.reset();
    scheduler.RunUntilIdle();
  }
  // Opens a fresh Log; a refusal must leave the disk exactly as it was.
  absl::StatusOr<RecoveredLog> Open() {
    if (log != nullptr) Close();
    const uint64_t writes_before = disk.stats().writes;
    const uint64_t fingerprint_before = disk.Fingerprint();
    log = std::make_unique<Log>(&disk, options);
    std::optional<absl::StatusOr<RecoveredLog>> result;
    log->Open([&](absl::StatusOr<RecoveredLog> recovered) { result = std::move(recovered); });
    scheduler.RunUntilIdle();
    if (!result.has_value()) return absl::InternalError("Open never completed");
    if (!result->ok()) {
      EXPECT_EQ(disk.stats().writes, writes_before) << "a refusing Open wrote to the disk";
      EXPECT_EQ(disk.Fingerprint(), fingerprint_before) << "a refusing Open changed the disk";
    }
    return *std::move(result);
  }
  sim::Scheduler scheduler;
  sim::Trace trace{/*keep_events=*/false};
  sim::Disk disk;
  LogOptions options;
  std::unique_ptr<Log> log;
  std::vector<LogRecord> records;
  size_t forced_count = 0;
  uint64_t next_payload_seed = 1000;
};

// "" when got holds exactly the records at or above its base, in order and
// byte-exact, and every forced one among them; else the first difference.
std::string CheckExact(const std::vector<LogRecord>& appended, size_t forced_count,
                       const RecoveredLog& got) {
  std::vector<const LogRecord*> live;
  for (size_t i = 0; i < appended.size(); ++i) {
    if (appended[i].lsn >= got.base_lsn) live.push_back(&appended[i]);
  }
  std::ostringstream error;
  if (got.records.size() > live.size()) {
    error << "recovered " << got.records.size() << " records, " << live.size() << " were appended";
    return error.str();
  }
  for (size_t i = 0; i < got.records.size(); ++i) {
    if (got.records[i].lsn != live[i]->lsn || got.records[i].payload != live[i]->payload) {
      error << "recovered record " << i << " (lsn " << got.records[i].lsn << ") differs";
      return error.str();
    }
  }
  for (size_t i = got.records.size(); i < live.size(); ++i) {
    if (live[i] - appended.data() < static_cast<std::ptrdiff_t>(forced_count)) {
      error << "forced record lsn " << live[i]->lsn << " silently lost (scan stop: "
            << got.scan_stop_reason << ")";
      return error.str();
    }
  }
  return "";
}

format::RestartArea ReadArea(World& w, uint32_t i) {
  format::RestartArea area;
  EXPECT_EQ(format::DecodeRestartArea(w.disk.MediaSector(w.RestartSector(i)), &area),
            format::RestartCheck::kValid);
  return area;
}

uint32_t NewestRestartSector(World& w) {
  return ReadArea(w, 1).sequence > ReadArea(w, 0).sequence ? 1 : 0;
}

// ---------------------------------------------------------------------------
// Damage to forced blocks.

// Issue 15: a bit flip in a flushed block after the last restart-area write
// was taken for a torn tail; Open cleared the next 64 KiB over later durable
// blocks. Every bit position of a one-sector block and of both sectors of a
// two-sector block, each vouched for by the blocks forced after it.
TEST(LogIntegrity, ABitFlipInAForcedBlockAfterTheLastRestartAreaIsRefusedWritingNothing) {
  for (const size_t payload : {size_t{100}, size_t{600}}) {
    const uint64_t sectors = payload > kSector ? 2 : 1;
    for (uint64_t at = 0; at < sectors * kSector; at += 3) {
      SCOPED_TRACE("payload " + std::to_string(payload) + " byte " + std::to_string(at));
      World w(at + 1);
      w.AppendForced(1, 50);
      ASSERT_TRUE(w.WriteRestart({1, 2, 3}, w.records[0].lsn).ok());  // the RM's last restart area
      w.AppendForced(2, 80);
      const Lsn damaged = w.AppendForced(3, payload);
      w.AppendForced(4, 80);
      w.AppendForced(5, 80);
      w.FlipBit(w.SectorOf(damaged) + at / kSector, at % kSector, static_cast<int>(at % 8));
      absl::StatusOr<RecoveredLog> got = w.Open();
      ASSERT_EQ(got.status().code(), absl::StatusCode::kDataLoss) << got.status();
    }
  }
}

// The disk's own corruption (1 to 8 random bytes) of a vouched block, and the
// log stays refused on every later Open (nothing was repaired or cleared).
TEST(LogIntegrity, DiskCorruptionOfAVouchedBlockIsRefusedOnEveryOpen) {
  for (uint64_t corrupt_seed = 1; corrupt_seed <= 60; ++corrupt_seed) {
    SCOPED_TRACE("corrupt seed " + std::to_string(corrupt_seed));
    World w(corrupt_seed);
    w.AppendForced(1, 50);
    const Lsn damaged = w.AppendForced(2, 500);  // two sectors
    w.AppendForced(3, 40);
    w.disk.CorruptSector(w.SectorOf(damaged) + corrupt_seed % 2, corrupt_seed);
    for (int open = 0; open < 2; ++open) {
      absl::StatusOr<RecoveredLog> got = w.Open();
      ASSERT_EQ(got.status().code(), absl::StatusCode::kDataLoss) << got.status();
    }
  }
}

// The newest block has no later block to vouch for it. If it is one sector,
// a sector that names this log and LSN but fails its checksum is damage (a
// sector is written whole or not at all): refused. Only its magic and log id
// (bytes 0-7) can be damaged into "never written" (docs/ktm-logging.md).
TEST(LogIntegrity, DamageToTheNewestOneSectorBlockIsRefusedOutsideItsMagicAndLogId) {
  for (uint64_t at = 0; at < kSector; ++at) {
    SCOPED_TRACE("byte " + std::to_string(at));
    World w(at + 7);
    w.AppendForced(1, 50);
    const Lsn newest = w.AppendForced(2, 100);
    w.FlipBit(w.SectorOf(newest), at, static_cast<int>(at % 8));
    absl::StatusOr<RecoveredLog> got = w.Open();
    if (at >= 8) {
      ASSERT_EQ(got.status().code(), absl::StatusCode::kDataLoss) << got.status();
    } else if (got.ok()) {  // the documented limit: the block looks never written
      EXPECT_EQ(got->records.size(), 1u);
      EXPECT_EQ(CheckExact(w.records, /*forced_count=*/1, *got), "");
    }
  }
}

// The newest block of two sectors: a tear changes only its second sector,
// so damage to a record that lies in its first sector is refused, while
// damage to the second sector or to the block checksum field looks like a
// tear (the documented limit) and ends the log before the block.
TEST(LogIntegrity, DamageToTheFirstSectorOfTheNewestMultiSectorBlockIsRefused) {
  struct Case {
    size_t at;
    bool refused;
  };
  const size_t first_payload = format::kBlockHeaderBytes + format::kRecordHeaderBytes + 10;
  for (const Case c : {Case{first_payload, true}, Case{format::kBlockHeaderBytes + 9, true},
                       Case{kSector + 100, false}, Case{24, false}}) {
    SCOPED_TRACE("byte " + std::to_string(c.at));
    World w(c.at);
    w.AppendForced(1, 50);
    const Lsn newest = w.log->durable_lsn();
    w.Append(2, 100);  // ends at byte 156 of the block: inside the first sector
    w.Append(3, 500);  // runs into the second sector
    ASSERT_TRUE(w.Force().ok());
    ASSERT_EQ(w.log->durable_lsn(), newest + 2 * kSector);
    w.FlipBit(w.SectorOf(newest) + c.at / kSector, c.at % kSector, 2);
    absl::StatusOr<RecoveredLog> got = w.Open();
    if (c.refused) {
      EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss) << got.status();
    } else {
      ASSERT_TRUE(got.ok()) << got.status();
      EXPECT_EQ(got->records.size(), 1u);
      EXPECT_TRUE(got->stopped_at_invalid_block);
    }
  }
}

// The block that vouches for a damaged one may run past the window Open reads
// after the stop (twice the pipeline window, here one sector): it is read
// whole. The damaged block lost only its magic, so it looks never written.
TEST(LogIntegrity, AVoucherThatRunsPastTheProbeWindowIsReadWhole) {
  LogOptions options = SmallLog();
  options.pipeline_bytes_max = kSector;
  World w(5, options);
  w.AppendForced(1, 50);
  const Lsn damaged = w.AppendForced(2, 50);
  const Lsn voucher = w.log->durable_lsn();
  for (uint16_t type = 3; type <= 5; ++type) w.Append(type, 600);  // one block of 4 sectors
  ASSERT_TRUE(w.Force().ok());
  ASSERT_EQ(w.log->durable_lsn() - voucher, 4 * kSector) << "the voucher runs past the window";
  w.FlipBit(w.SectorOf(damaged), 1, 4);  // the block magic
  absl::StatusOr<RecoveredLog> got = w.Open();
  EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss) << got.status();
}

// The other side: a crash that tears the newest, unacknowledged, block (and
// keeps a later pipelined block) still recovers every acknowledged record.
TEST(LogIntegrity, ATornTailAfterACrashStillRecovers) {
  int torn = 0;
  for (uint64_t crash_seed = 1; crash_seed <= 60; ++crash_seed) {
    SCOPED_TRACE("crash seed " + std::to_string(crash_seed));
    World w(crash_seed);
    w.AppendForced(1, 50);
    ASSERT_TRUE(w.WriteRestart({}, w.records[0].lsn).ok());
    w.AppendForced(2, 300);
    const size_t forced = w.records.size();
    for (int i = 0; i < 6; ++i) {
      w.Append(3, 500);
      w.log->Force(kLsnInvalid, [](absl::Status) {});  // in flight at the crash
    }
    for (int step = 0; step < static_cast<int>(crash_seed % 9) && w.scheduler.Step(); ++step) {
    }
    const size_t known = std::max(forced, w.forced_count);
    w.Close(crash_seed);
    absl::StatusOr<RecoveredLog> got = w.Open();
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(CheckExact(w.records, known, *got), "");
    if (got->stopped_at_invalid_block) ++torn;
  }
  EXPECT_GT(torn, 0) << "no crash tore a block: the test lost its point";
}

// ---------------------------------------------------------------------------
// Restart areas.

// Issue 15: a damaged restart magic made the log look never formatted (Open:
// kNotFound), so the TM and RMs formatted it again. Once a log holds blocks,
// a restart sector without a valid area is refused, never "not found".
TEST(LogIntegrity, ADamagedRestartMagicOnALogWithBlocksIsRefusedNeverNotFound) {
  enum Damage { kNewest, kOlder, kBoth };
  for (const Damage damage : {kNewest, kOlder, kBoth}) {
    SCOPED_TRACE("damage " + std::to_string(damage));
    World w(31 + damage);
    ASSERT_TRUE(w.WriteRestart({9}, 0).ok());
    w.AppendForced(1, 50);
    ASSERT_TRUE(w.WriteRestart({8}, w.records[0].lsn).ok());
    w.AppendForced(2, 50);
    const uint32_t newest = NewestRestartSector(w);
    if (damage != kOlder) w.FlipBit(w.RestartSector(newest), 0, 3);
    if (damage != kNewest) w.FlipBit(w.RestartSector(1 - newest), 1, 5);
    absl::StatusOr<RecoveredLog> got = w.Open();
    EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss) << got.status();
  }
}

// Just after Format (no client restart area yet), a damaged newest sector made
// Open fall back on Format's area: has_restart_area false, which the kernel
// reads as "no TM here" and formats a new log over the old.
TEST(LogIntegrity, ADamagedClientRestartAreaNeverFallsBackOnFormatsArea) {
  for (uint64_t corrupt_seed = 1; corrupt_seed <= 20; ++corrupt_seed) {
    SCOPED_TRACE("corrupt seed " + std::to_string(corrupt_seed));
    World w(corrupt_seed);
    ASSERT_TRUE(w.WriteRestart({7, 7}, 0).ok());  // CreateTransactionManager's first area
    w.AppendForced(1, 50);
    w.disk.CorruptSector(w.RestartSector(NewestRestartSector(w)), corrupt_seed);
    absl::StatusOr<RecoveredLog> got = w.Open();
    EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss) << got.status();
  }
}

// Writes `area` (CRC-valid) into the sector its sequence belongs in.
void PutArea(World& w, const format::RestartArea& area) {
  w.PutSector(w.RestartSector(static_cast<uint32_t>(area.sequence % 2)),
              format::EncodeRestartArea(area, kSector));
}

// Issue 15: a CRC-valid restart area whose base lies beyond the log's end
// opened, and records appended then vanished on the next Open. Each field
// that no Log could have written is refused.
TEST(LogIntegrity, ARestartAreaThatContradictsItselfIsRefused) {
  struct Case {
    const char* name;
    void (*edit)(format::RestartArea& area, Lsn end);
  };
  const Case cases[] = {
      {"base beyond the end",
       [](format::RestartArea& a, Lsn end) { a.base_lsn = end + 8 * kSector; }},
      {"base and scan beyond the end",
       [](format::RestartArea& a, Lsn end) { a.base_lsn = a.scan_lsn = end + 8 * kSector; }},
      {"durable hint beyond the end",
       [](format::RestartArea& a, Lsn end) { a.durable_hint_lsn = end + 4 * kSector; }},
      {"durable hint unaligned", [](format::RestartArea& a, Lsn) { a.durable_hint_lsn += 8; }},
      {"log id 0", [](format::RestartArea& a, Lsn) { a.log_id = 0; }},
      {"sequence gap", [](format::RestartArea& a, Lsn) { a.sequence += 2; }},
      {"base below the older area's", [](format::RestartArea& a, Lsn) { a.base_lsn = a.scan_lsn = 0; }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    World w(77);
    w.AppendForced(1, 50);
    w.AppendForced(2, 50);
    ASSERT_TRUE(w.WriteRestart({1}, w.records[1].lsn).ok());
    w.AppendForced(3, 50);
    const Lsn end = w.log->durable_lsn();
    format::RestartArea area = ReadArea(w, NewestRestartSector(w));
    area.sequence += 1;
    c.edit(area, end);
    PutArea(w, area);
    absl::StatusOr<RecoveredLog> got = w.Open();
    EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss) << got.status();
  }
}

// The same edit with a consistent base (one that was forced) is accepted: the
// checks above refuse contradictions, not restart areas the test wrote.
TEST(LogIntegrity, AConsistentRestartAreaIsAccepted) {
  World w(78);
  w.AppendForced(1, 50);
  w.AppendForced(2, 50);
  ASSERT_TRUE(w.WriteRestart({1}, w.records[0].lsn).ok());
  w.AppendForced(3, 50);
  format::RestartArea area = ReadArea(w, NewestRestartSector(w));
  area.sequence += 1;
  area.base_lsn = w.records[1].lsn;
  PutArea(w, area);
  absl::StatusOr<RecoveredLog> got = w.Open();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->base_lsn, w.records[1].lsn);
  EXPECT_EQ(got->records.size(), 2u);
}

// A Format torn on a blank disk leaves one restart sector without an area.
// Open accepts that while the log holds no block and repairs the sector, so
// the log never again has a single valid restart area; once blocks exist,
// the same state means a restart area was lost: refused.
TEST(LogIntegrity, AFormatTornOnABlankDiskIsRepairedButNeverOnceBlocksExist) {
  {
    World w(90);
    const std::vector<uint8_t> zeros(kSector, 0);
    w.PutSector(w.RestartSector(0), zeros);
    absl::StatusOr<RecoveredLog> got = w.Open();
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_TRUE(got->records.empty());
    ReadArea(w, 0);  // repaired: both sectors valid again
    ReadArea(w, 1);
    w.AppendForced(1, 50);
    got = w.Open();
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(got->records.size(), 1u);
  }
  {
    World w(91);
    w.AppendForced(1, 50);
    w.PutSector(w.RestartSector(0), std::vector<uint8_t>(kSector, 0));
    absl::StatusOr<RecoveredLog> got = w.Open();
    EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss) << got.status();
  }
}

// A blank disk (never-written sectors read as garbage) is "not found"; the
// same disk with both restart magics damaged but blocks in its region is not.
TEST(LogIntegrity, OnlyABlankDiskIsNotFound) {
  {
    World w(95);
    w.Close();
    // A second disk, never written.
    sim::Disk blank(&w.scheduler, &w.trace, 0, "blank", 96, SmallDisk());
    Log log(&blank, w.options);
    std::optional<absl::StatusOr<RecoveredLog>> result;
    log.Open([&](absl::StatusOr<RecoveredLog> recovered) { result = std::move(recovered); });
    w.scheduler.RunUntilIdle();
    ASSERT_TRUE(result.has_value());
    EXPECT_EQ(result->status().code(), absl::StatusCode::kNotFound) << result->status();
    EXPECT_EQ(blank.stats().writes, 0u);
  }
  {
    World w(97);
    w.AppendForced(1, 50);
    w.FlipBit(w.RestartSector(0), 2, 1);
    w.FlipBit(w.RestartSector(1), 2, 1);
    absl::StatusOr<RecoveredLog> got = w.Open();
    EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss) << got.status();
  }
}

// ---------------------------------------------------------------------------
// The property.

struct IntegrityProbes {
  uint64_t refused = 0, recovered = 0, crashed = 0, below_scan = 0;
} probes;

enum class Damage : uint8_t { kBitFlip, kByteChange, kDiskCorrupt };

TEST(LogIntegrityProperty, DamageToAnyVouchedForcedBlockIsRecoveredExactlyOrRefused) {
  rc::detail::TestMetadata metadata;
  metadata.id = "LogIntegrityProperty/DamageToAnyVouchedForcedBlockIsRecoveredExactlyOrRefused";
  metadata.description = metadata.id;
  const auto result = rc::detail::checkTestable(
      [] {
        const uint64_t seed = *rc::gen::arbitrary<uint64_t>();
        // (payload bytes, action): 0-5 append, 6-8 append + force, 9 also a restart area.
        const auto ops = *rc::gen::container<std::vector<std::tuple<uint32_t, uint32_t>>>(
            rc::gen::tuple(rc::gen::inRange<uint32_t>(0, 601), rc::gen::inRange<uint32_t>(0, 10)));
        World w(seed);
        for (const auto& [size, action] : ops) {
          if (w.log->end_lsn() + 4096 > w.log->region_bytes() * 3 / 4) break;  // one lap
          w.Append(static_cast<uint16_t>(action + 1), size);
          if (action >= 6) RC_ASSERT(w.Force().ok());
          if (action == 9) RC_ASSERT(w.WriteRestart({static_cast<uint8_t>(size)}, w.records.back().lsn).ok());
        }
        // Everything forced so far is vouched for by the next block written.
        RC_ASSERT(w.Force().ok());
        const Lsn vouched_end = w.log->durable_lsn();
        w.AppendForced(100, *rc::gen::inRange<size_t>(0, 601));
        const Lsn base = w.log->base_lsn();
        // Maybe a crash with blocks in flight: a torn tail after the damage.
        const bool crash = *rc::gen::arbitrary<bool>();
        if (crash) {
          for (int i = 0; i < 3; ++i) {
            w.Append(101, 400);
            w.log->Force(kLsnInvalid, [](absl::Status) {});
          }
          const int steps = *rc::gen::inRange(0, 12);
          for (int step = 0; step < steps && w.scheduler.Step(); ++step) {
          }
        }
        const size_t forced = w.forced_count;
        w.Close(crash ? std::optional<uint64_t>(seed) : std::nullopt);
        if (vouched_end == 0) return;  // nothing forced before the marker
        // Damage one sector of one forced block below vouched_end.
        const Lsn damaged = *rc::gen::inRange<Lsn>(0, vouched_end / kSector) * kSector;
        const uint64_t sector = w.SectorOf(damaged);
        const auto kind = *rc::gen::element(Damage::kBitFlip, Damage::kByteChange, Damage::kDiskCorrupt);
        const size_t at = *rc::gen::inRange<size_t>(0, kSector);
        std::vector<uint8_t> bytes = w.disk.MediaSector(sector);
        switch (kind) {
          case Damage::kBitFlip: bytes[at] ^= static_cast<uint8_t>(1u << *rc::gen::inRange(0, 8)); break;
          case Damage::kByteChange: bytes[at] ^= *rc::gen::inRange<uint8_t>(1, 255); break;
          case Damage::kDiskCorrupt: break;
        }
        if (kind == Damage::kDiskCorrupt) {
          w.disk.CorruptSector(sector, seed);
        } else {
          w.PutSector(sector, bytes);
        }
        absl::StatusOr<RecoveredLog> got = w.Open();
        if (crash) ++probes.crashed;
        if (damaged < base / kSector * kSector) ++probes.below_scan;
        if (!got.ok()) {
          RC_ASSERT(got.status().code() == absl::StatusCode::kDataLoss);
          ++probes.refused;
          return;
        }
        ++probes.recovered;
        RC_ASSERT(got->base_lsn == base);
        const std::string error = CheckExact(w.records, forced, *got);
        if (!error.empty()) RC_FAIL(error);
      },
      metadata);
  if (result.is<rc::detail::SuccessResult>()) {
    if (kRapidCheckCasesRaised) {
      EXPECT_GE(result.get<rc::detail::SuccessResult>().numSuccess, kPropertyCasesMin);
    }
    EXPECT_GT(probes.refused, 0u);
    EXPECT_GT(probes.crashed, 0u);
    std::cout << "probes: refused=" << probes.refused << " recovered=" << probes.recovered
              << " crashed=" << probes.crashed << " below_scan=" << probes.below_scan << "\n";
  } else {
    std::ostringstream message;
    rc::detail::printResultMessage(result, message);
    FAIL() << message.str();
  }
}

}  // namespace
}  // namespace ktm::log
