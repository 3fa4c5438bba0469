// Tests of ktm::log::Log on a sim::Disk: the on-disk format, append/force/
// reopen, group commit, restart areas, wraparound, log full, crashes that tear
// the block in flight, stale laps, corrupt sectors, I/O errors, and a
// RapidCheck property: after any sequence of appends, forces, restart-area
// writes and crashes, recovery returns every forced record plus a prefix of
// the unforced ones, in LSN order, byte-exact, and nothing else.
#include <algorithm>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
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
// These tests decode back every block the log writes (the default samples
// one block in kSelfCheckEveryDefault: format::SetSelfCheckEvery).
[[maybe_unused]] const bool kEveryBlockSelfChecked = (format::SetSelfCheckEvery(1), true);
constexpr int kPropertyCasesMin = 200;

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
  options.sector_count = 256;
  return options;
}

// The log starts 4 sectors into the disk (exercises disk_offset).
LogOptions SmallLog(uint64_t region_sectors = 32) {
  LogOptions options;
  options.disk_offset = 4 * kSector;
  options.size_bytes = (2 + region_sectors) * kSector;
  options.record_payload_max = 1000;
  options.block_bytes_max = 4096;
  return options;
}

// One disk in one tiny world, driven directly.
struct Env {
  explicit Env(uint64_t seed, sim::DiskOptions disk_options = SmallDisk())
      : disk(&scheduler, &trace, 0, "log", seed, disk_options) {}
  sim::Scheduler scheduler;
  sim::Trace trace{/*keep_events=*/false};
  sim::Disk disk;
};

std::vector<uint8_t> MakePayload(uint64_t seed, size_t size) {
  sim::Rng rng(seed);
  std::vector<uint8_t> bytes(size);
  for (auto& byte : bytes) byte = static_cast<uint8_t>(rng.Next());
  return bytes;
}

absl::Status FormatSync(Env& env, Log& log) {
  std::optional<absl::Status> result;
  log.Format([&](absl::Status status) { result = status; });
  env.scheduler.RunUntilIdle();
  EXPECT_TRUE(result.has_value()) << "Format never completed";
  return result.value_or(absl::InternalError("Format never completed"));
}

absl::StatusOr<RecoveredLog> OpenSync(Env& env, Log& log) {
  std::optional<absl::StatusOr<RecoveredLog>> result;
  log.Open([&](absl::StatusOr<RecoveredLog> recovered) { result = std::move(recovered); });
  env.scheduler.RunUntilIdle();
  EXPECT_TRUE(result.has_value()) << "Open never completed";
  if (!result.has_value()) return absl::InternalError("Open never completed");
  return *std::move(result);
}

absl::Status ForceSync(Env& env, Log& log, Lsn lsn) {
  std::optional<absl::Status> result;
  log.Force(lsn, [&](absl::Status status) { result = status; });
  env.scheduler.RunUntilIdle();
  EXPECT_TRUE(result.has_value()) << "Force never completed";
  return result.value_or(absl::InternalError("Force never completed"));
}

absl::Status RestartSync(Env& env, Log& log, const std::vector<uint8_t>& payload, Lsn base) {
  std::optional<absl::Status> result;
  log.WriteRestartArea(payload, base, [&](absl::Status status) { result = status; });
  env.scheduler.RunUntilIdle();
  EXPECT_TRUE(result.has_value()) << "WriteRestartArea never completed";
  return result.value_or(absl::InternalError("WriteRestartArea never completed"));
}

// Destroys the log (its in-flight callbacks never run), optionally crashes
// the disk, drains the scheduler and opens a fresh Log on the same disk.
absl::StatusOr<RecoveredLog> Reopen(Env& env, std::unique_ptr<Log>& log, const LogOptions& options,
                                    std::optional<uint64_t> crash_seed) {
  if (crash_seed.has_value()) env.disk.Crash(*crash_seed);
  log.reset();
  env.scheduler.RunUntilIdle();
  log = std::make_unique<Log>(&env.disk, options);
  return OpenSync(env, *log);
}

absl::StatusOr<RecoveredLog> CrashAndRecover(Env& env, std::unique_ptr<Log>& log,
                                             const LogOptions& options, uint64_t crash_seed) {
  return Reopen(env, log, options, crash_seed);
}

// The recovery property: `got` holds, in order and byte-exact, a prefix of the
// model records with LSN >= got.base_lsn, and that prefix includes every one
// of them that is known durable (model index < durable_count). Returns "" or
// a description of the first violation.
std::string CheckRecovered(const std::vector<LogRecord>& model, size_t durable_count,
                           const RecoveredLog& got) {
  std::vector<size_t> live;  // model indexes at or above the base
  for (size_t i = 0; i < model.size(); ++i) {
    if (model[i].lsn >= got.base_lsn) live.push_back(i);
  }
  std::ostringstream error;
  if (got.records.size() > live.size()) {
    error << "recovered " << got.records.size() << " records, only " << live.size()
          << " were appended at or above base " << got.base_lsn;
    return error.str();
  }
  for (size_t i = 0; i < got.records.size(); ++i) {
    const LogRecord& want = model[live[i]];
    const LogRecord& have = got.records[i];
    if (have.lsn != want.lsn || have.type != want.type || have.payload != want.payload) {
      error << "recovered record " << i << " (lsn " << have.lsn << ", type " << have.type
            << ", " << have.payload.size() << " bytes) differs from appended record (lsn "
            << want.lsn << ", type " << want.type << ", " << want.payload.size() << " bytes)";
      return error.str();
    }
  }
  for (size_t i = got.records.size(); i < live.size(); ++i) {
    if (live[i] < durable_count) {
      error << "forced record lsn " << model[live[i]].lsn << " was lost (recovered "
            << got.records.size() << " of " << live.size() << ", stop: "
            << got.scan_stop_reason << ")";
      return error.str();
    }
  }
  if (!got.records.empty() && got.end_lsn <= got.records.back().lsn) {
    return "end_lsn is not above the last recovered record";
  }
  return "";
}

// A formatted log on a fresh Env, plus the model of what was appended.
struct Fixture {
  explicit Fixture(uint64_t seed, LogOptions log_options = SmallLog(),
                   sim::DiskOptions disk_options = SmallDisk())
      : env(seed, disk_options), options(log_options) {
    log = std::make_unique<Log>(&env.disk, options);
    EXPECT_TRUE(FormatSync(env, *log).ok());
  }
  Lsn Append(uint16_t type, size_t size) {
    auto payload = MakePayload(next_payload_seed++, size);
    absl::StatusOr<Lsn> lsn = log->Append(type, payload);
    EXPECT_TRUE(lsn.ok()) << lsn.status();
    if (!lsn.ok()) return kLsnInvalid;
    records.push_back(LogRecord{*lsn, type, std::move(payload)});
    return *lsn;
  }
  // Appends and forces one record: one block of its own.
  Lsn AppendForced(uint16_t type, size_t size) {
    const Lsn lsn = Append(type, size);
    EXPECT_TRUE(ForceSync(env, *log, lsn).ok());
    durable_count = records.size();
    return lsn;
  }
  Env env;
  LogOptions options;
  std::unique_ptr<Log> log;
  std::vector<LogRecord> records;
  size_t durable_count = 0;
  uint64_t next_payload_seed = 1000;
};

// ---------------------------------------------------------------------------
// Format (bytes on disk).

TEST(LogFormat, Crc32cMatchesTheCastagnoliCheckValue) {
  const std::string text = "123456789";
  std::vector<uint8_t> bytes(text.begin(), text.end());
  EXPECT_EQ(format::Crc32c(bytes), 0xE3069283u);
  EXPECT_EQ(format::Crc32c(std::span<const uint8_t>(bytes).subspan(4),
                           format::Crc32c(std::span<const uint8_t>(bytes).subspan(0, 4))),
            0xE3069283u);
  EXPECT_EQ(format::Crc32cPortable(bytes), 0xE3069283u);
}

TEST(LogFormat, Crc32cEqualsThePortableTablesAtEveryLengthAndSeed) {
  std::vector<uint8_t> bytes(600);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 131 + (i >> 3));
  for (size_t length = 0; length <= bytes.size(); ++length) {
    const auto data = std::span<const uint8_t>(bytes).subspan(0, length);
    for (uint32_t seed : {0u, 0xFFFFFFFFu, 0x12345678u}) {
      ASSERT_EQ(format::Crc32c(data, seed), format::Crc32cPortable(data, seed)) << "length " << length;
    }
  }
}

TEST(LogFormat, EveryFlippedByteOfABlockIsRejected) {
  const format::BlockLimits limits{4096, 1000};
  format::BlockBuilder builder(/*log_id=*/7, /*start=*/3 * kSector, limits);
  builder.Add(1, MakePayload(1, 100));
  builder.Add(2, MakePayload(2, 0));
  builder.Add(3, MakePayload(3, 500));
  std::vector<uint8_t> block = std::move(builder).Finish(kSector, /*durable_lsn=*/kSector);
  ASSERT_EQ(block.size(), 2 * kSector);
  std::vector<LogRecord> records;
  ASSERT_EQ(format::DecodeBlock(block, 7, 3 * kSector, limits, &records), format::BlockCheck::kValid);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[2].payload, MakePayload(3, 500));
  EXPECT_EQ(format::DecodeBlock(block, 8, 3 * kSector, limits, &records),
            format::BlockCheck::kOtherLog);
  EXPECT_EQ(format::DecodeBlock(block, 7, 3 * kSector + 32 * kSector, limits, &records),
            format::BlockCheck::kStale);
  for (size_t at = 0; at < block.size(); ++at) {  // records and padding
    std::vector<uint8_t> flipped = block;
    flipped[at] ^= 0x5A;
    std::vector<LogRecord> out;
    EXPECT_NE(format::DecodeBlock(flipped, 7, 3 * kSector, limits, &out), format::BlockCheck::kValid)
        << "byte " << at;
    EXPECT_TRUE(out.empty()) << "a rejected block must not yield records";
  }
}

// Finish's decode-back self-check is sampled: the first block of a thread
// and every SelfCheckEvery()-th after it; 1 checks every block.
TEST(LogFormat, FinishSelfCheckIsSampledUnderAFlag) {
  const format::BlockLimits limits{4096, 1000};
  const uint32_t saved = format::SelfCheckEvery();
  auto finish_blocks = [&](int blocks) {
    const uint64_t before = format::SelfChecksRun();
    for (int i = 0; i < blocks; ++i) {
      format::BlockBuilder builder(/*log_id=*/7, /*start=*/3 * kSector, limits);
      builder.Add(1, MakePayload(1, 100));
      std::move(builder).Finish(kSector, /*durable_lsn=*/kSector);
    }
    return format::SelfChecksRun() - before;
  };
  format::SetSelfCheckEvery(1);
  EXPECT_EQ(finish_blocks(40), 40u);
  format::SetSelfCheckEvery(16);
  EXPECT_EQ(finish_blocks(40), 3u);  // blocks 0, 16 and 32
  EXPECT_EQ(format::kSelfCheckEveryDefault, 16u);
  format::SetSelfCheckEvery(saved);
}

TEST(LogFormat, RestartAreaRoundTripsAndRejectsCorruption) {
  format::RestartArea area;
  area.flags = format::kRestartFlagClient;
  area.sequence = 9;
  area.base_lsn = 4000;
  area.scan_lsn = 3584;
  area.durable_hint_lsn = 5120;
  area.region_bytes = 32 * kSector;
  area.log_id = 3;
  area.sector_size = kSector;
  area.payload = MakePayload(5, format::RestartPayloadMax(kSector));
  std::vector<uint8_t> sector = format::EncodeRestartArea(area, kSector);
  format::RestartArea back;
  ASSERT_EQ(format::DecodeRestartArea(sector, &back), format::RestartCheck::kValid);
  EXPECT_EQ(back.payload, area.payload);
  EXPECT_EQ(back.durable_hint_lsn, 5120u);
  for (size_t at = 0; at < sector.size(); at += 7) {
    std::vector<uint8_t> flipped = sector;
    flipped[at] ^= 0x01;
    EXPECT_NE(format::DecodeRestartArea(flipped, &back), format::RestartCheck::kValid) << at;
  }
  std::vector<uint8_t> garbage = MakePayload(77, kSector);
  EXPECT_EQ(format::DecodeRestartArea(garbage, &back), format::RestartCheck::kNoRestartArea);
}

// Found by log_format_fuzz: a byte after the payload changed and the checksum
// recomputed to match decoded as valid, so the area no longer encoded back to
// the sector it was read from. The padding must be zero.
TEST(LogFormat, RestartAreaWithNonZeroPaddingIsCorruptEvenWithAMatchingChecksum) {
  format::RestartArea area;
  area.sequence = 2;
  area.base_lsn = 1024;
  area.scan_lsn = 512;
  area.region_bytes = 32 * kSector;
  area.log_id = 1;
  area.sector_size = kSector;
  area.payload = MakePayload(3, 40);
  std::vector<uint8_t> sector = format::EncodeRestartArea(area, kSector);
  sector.back() = 0x5a;
  // Re-seal: the checksum (bytes 60..63) covers the sector with itself zeroed.
  std::vector<uint8_t> zeroed = sector;
  std::fill(zeroed.begin() + 60, zeroed.begin() + 64, 0);
  format::PutU32(sector, 60, format::Crc32c(zeroed));
  format::RestartArea back;
  EXPECT_EQ(format::DecodeRestartArea(sector, &back), format::RestartCheck::kCorrupt);
}

// The padding is checked a word at a time, then byte by byte: a payload of
// odd length leaves padding that starts and ends off a word boundary, and a
// non-zero byte anywhere in it (first, last, inside) makes the area corrupt.
TEST(LogFormat, RestartAreaWithAnyNonZeroPaddingByteIsCorrupt) {
  format::RestartArea area;
  area.sequence = 3;
  area.region_bytes = 32 * kSector;
  area.log_id = 1;
  area.sector_size = kSector;
  area.payload = MakePayload(4, 41);
  const std::vector<uint8_t> good = format::EncodeRestartArea(area, kSector);
  format::RestartArea back;
  ASSERT_EQ(format::DecodeRestartArea(good, &back), format::RestartCheck::kValid);
  for (size_t at = format::kRestartHeaderBytes + area.payload.size(); at < kSector; ++at) {
    std::vector<uint8_t> sector = good;
    sector[at] = 1;
    format::PutU32(sector, 60, 0);  // re-sealed: the checksum covers the sector with itself zero
    format::PutU32(sector, 60, format::Crc32c(sector));
    EXPECT_EQ(format::DecodeRestartArea(sector, &back), format::RestartCheck::kCorrupt) << "byte " << at;
  }
}

// ---------------------------------------------------------------------------
// Basic operation.

TEST(Log, AppendForceReopenRoundTrip) {
  Fixture f(1);
  f.Append(1, 10);
  f.Append(2, 0);
  const Lsn last = f.Append(3, 700);
  EXPECT_LT(f.log->durable_lsn(), last);
  ASSERT_TRUE(ForceSync(f.env, *f.log, kLsnInvalid).ok());
  f.durable_count = f.records.size();
  EXPECT_GT(f.log->durable_lsn(), last);
  EXPECT_EQ(f.log->forced_writes(), 1u);

  absl::StatusOr<RecoveredLog> got = Reopen(f.env, f.log, f.options, std::nullopt);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(CheckRecovered(f.records, f.durable_count, *got), "");
  EXPECT_EQ(got->records.size(), 3u);
  EXPECT_FALSE(got->has_restart_area);
  EXPECT_FALSE(got->stopped_at_invalid_block) << got->scan_stop_reason;

  // Appends continue after the recovered end and survive the next reopen.
  const Lsn next = f.AppendForced(4, 50);
  EXPECT_GE(next, got->end_lsn);
  EXPECT_GT(next, last);
  got = Reopen(f.env, f.log, f.options, std::nullopt);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->records.size(), 4u);
  EXPECT_EQ(CheckRecovered(f.records, f.durable_count, *got), "");
}

TEST(Log, OpenOfAnUnformattedRegionIsNotFound) {
  Env env(2);
  Log log(&env.disk, SmallLog());
  absl::StatusOr<RecoveredLog> got = OpenSync(env, log);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kNotFound) << got.status();
  EXPECT_EQ(log.Append(1, {}).status().code(), absl::StatusCode::kFailedPrecondition);
  // A failed Open leaves the Log new: Format works afterwards.
  EXPECT_TRUE(FormatSync(env, log).ok());
  EXPECT_TRUE(log.Append(1, {}).ok());
}

TEST(Log, ReformatHidesTheOldLogsBlocks) {
  Fixture f(3);
  f.AppendForced(1, 100);
  f.AppendForced(1, 100);
  f.log = std::make_unique<Log>(&f.env.disk, f.options);
  ASSERT_TRUE(FormatSync(f.env, *f.log).ok());
  absl::StatusOr<RecoveredLog> got = Reopen(f.env, f.log, f.options, std::nullopt);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(got->records.empty());
  EXPECT_NE(got->scan_stop_reason.find("earlier format"), std::string::npos)
      << got->scan_stop_reason;
}

TEST(Log, ArgumentAndStateErrors) {
  Env env(4);
  Log log(&env.disk, SmallLog());
  std::optional<absl::Status> forced;
  log.Force(kLsnInvalid, [&](absl::Status s) { forced = s; });
  ASSERT_TRUE(forced.has_value());
  EXPECT_EQ(forced->code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(FormatSync(env, log).ok());
  std::optional<absl::Status> again;
  log.Format([&](absl::Status s) { again = s; });
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->code(), absl::StatusCode::kFailedPrecondition);
  std::vector<uint8_t> big(1001);
  EXPECT_EQ(log.Append(1, big).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(log.Append(1, std::vector<uint8_t>(1000)).ok());
}

// The smallest disk a scenario allows (8 sectors of 64 bytes) with default
// LogOptions: the limits shrink to the region, nothing aborts.
TEST(Log, DefaultOptionsOnTheSmallestDiskAreClampedToTheRegion) {
  sim::DiskOptions disk_options;
  disk_options.sector_size = 64;
  disk_options.sector_count = 8;
  Env env(22, disk_options);
  LogOptions options;
  options.size_bytes = env.disk.size_bytes();
  auto log = std::make_unique<Log>(&env.disk, options);
  EXPECT_EQ(log->region_bytes(), 6u * 64);
  EXPECT_EQ(log->record_payload_max(), 6u * 64 - format::kBlockHeaderBytes - format::kRecordHeaderBytes);
  EXPECT_EQ(log->restart_payload_max(), 0u);
  ASSERT_TRUE(FormatSync(env, *log).ok());
  const auto big = MakePayload(1, log->record_payload_max());
  EXPECT_EQ(log->Append(1, MakePayload(1, log->record_payload_max() + 1)).status().code(),
            absl::StatusCode::kInvalidArgument);
  absl::StatusOr<Lsn> lsn = log->Append(1, big);
  ASSERT_TRUE(lsn.ok()) << lsn.status();
  ASSERT_TRUE(ForceSync(env, *log, *lsn).ok());
  EXPECT_EQ(log->Append(2, {}).status().code(), absl::StatusCode::kResourceExhausted);
  std::optional<absl::Status> result;
  log->WriteRestartArea(std::vector<uint8_t>(1), *lsn, [&](absl::Status st) { result = st; });
  EXPECT_EQ(result->code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(RestartSync(env, *log, {}, log->end_lsn()).ok());
  ASSERT_TRUE(log->Append(2, {}).ok());  // the base moved past the full block

  absl::StatusOr<RecoveredLog> got = Reopen(env, log, options, std::nullopt);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(got->records.empty());  // the record is below the new base
  EXPECT_TRUE(got->has_restart_area);
}

TEST(Log, ForceOfADurableLsnCompletesInline) {
  Fixture f(5);
  const Lsn lsn = f.AppendForced(1, 10);
  bool done = false;
  f.log->Force(lsn, [&](absl::Status s) {
    EXPECT_TRUE(s.ok());
    done = true;
  });
  EXPECT_TRUE(done);
  bool nothing_appended_done = false;
  f.log->Force(kLsnInvalid, [&](absl::Status s) { nothing_appended_done = s.ok(); });
  EXPECT_TRUE(nothing_appended_done);
  EXPECT_EQ(f.log->forced_writes(), 1u);
}

// A Log destroyed with work pending leaves nothing behind that calls it:
// its instant's block-write event (KickRef) and its block writes in flight
// (abandoned: they still land and are traced) run without it, and the
// Force callbacks never run.
TEST(Log, DestroyedWithAForcePendingOrABlockInFlightCallsNothing) {
  for (const bool write_issued : {false, true}) {
    Fixture f(6);
    f.Append(1, 10);
    bool called = false;
    f.log->Force(kLsnInvalid, [&](absl::Status) { called = true; });
    if (write_issued) {
      f.env.scheduler.RunUntil(f.env.scheduler.Now());  // the instant's event issues the write
      ASSERT_EQ(f.log->forced_writes(), 1u);
      ASSERT_EQ(f.env.disk.inflight(), 1u);
    }
    const uint64_t writes_before = f.env.disk.stats().writes;
    f.log.reset();
    f.env.scheduler.RunUntilIdle();
    EXPECT_FALSE(called) << "write issued: " << write_issued;
    EXPECT_EQ(f.env.disk.stats().writes, writes_before + (write_issued ? 1 : 0));
  }
}

// ---------------------------------------------------------------------------
// Group commit.

TEST(Log, GroupCommitSatisfiesForcesThatArriveDuringAWriteWithOneBlock) {
  LogOptions options = SmallLog();
  options.blocks_in_flight_max = 1;  // every later Force finds the only write slot busy
  Fixture f(6, options);
  const uint64_t fua_before = f.env.disk.stats().fua_writes;
  int ok = 0;
  auto count = [&](absl::Status s) { ok += s.ok() ? 1 : 0; };
  const Lsn first = f.Append(1, 100);
  f.log->Force(first, count);
  EXPECT_EQ(f.log->forced_writes(), 0u);  // the write starts at the end of this instant
  f.env.scheduler.RunUntil(f.env.scheduler.Now());
  EXPECT_EQ(f.log->forced_writes(), 1u);  // block 1 is in flight
  for (int i = 0; i < 4; ++i) f.log->Force(first, count);  // wait on block 1 itself
  Lsn last = first;
  for (int i = 0; i < 10; ++i) {
    last = f.Append(2, 60);
    f.log->Force(last, count);  // all wait for the next block
    f.env.scheduler.RunUntil(f.env.scheduler.Now());  // even at different instants: no free slot
  }
  EXPECT_EQ(f.log->forced_writes(), 1u);
  EXPECT_EQ(ok, 0);
  f.env.scheduler.RunUntilIdle();
  EXPECT_EQ(ok, 15);
  EXPECT_EQ(f.log->forced_writes(), 2u);
  EXPECT_EQ(f.env.disk.stats().fua_writes - fua_before, 2u);
  EXPECT_GT(f.log->durable_lsn(), last);
  f.durable_count = f.records.size();
  absl::StatusOr<RecoveredLog> got = Reopen(f.env, f.log, f.options, std::nullopt);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->records.size(), 11u);
  EXPECT_EQ(CheckRecovered(f.records, f.durable_count, *got), "");
}

TEST(Log, FullBlocksAreWrittenOneAtATimeInOrder) {
  LogOptions options = SmallLog();
  options.block_bytes_max = 1024;
  options.record_payload_max = 400;
  Fixture f(7, options);
  for (int i = 0; i < 7; ++i) f.Append(1, 400);  // two records per block: 4 blocks
  ASSERT_TRUE(ForceSync(f.env, *f.log, kLsnInvalid).ok());
  f.durable_count = f.records.size();
  EXPECT_EQ(f.log->forced_writes(), 4u);
  absl::StatusOr<RecoveredLog> got = Reopen(f.env, f.log, f.options, std::nullopt);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->records.size(), 7u);
  EXPECT_EQ(CheckRecovered(f.records, f.durable_count, *got), "");
}

// Pipelining: a Force that finds a free write slot starts its block at once,
// so two back-to-back forces complete one FUA latency after the second, not
// two; blocks_in_flight_max and pipeline_bytes_max bound the overlap.
TEST(Log, ForcesPipelineBlockWritesUpToTheSlotLimit) {
  LogOptions options = SmallLog();
  options.blocks_in_flight_max = 2;
  Fixture f(61, options);
  const sim::TimeNs fua = 100 * sim::kMicrosecond + 1 * sim::kMillisecond;  // SmallDisk: fixed latencies
  const sim::TimeNs start = f.env.scheduler.Now();
  std::vector<sim::TimeNs> done_at(3, -1);
  for (int i = 0; i < 3; ++i) {
    const Lsn lsn = f.Append(1, 100);
    f.log->Force(lsn, [&, i](absl::Status s) {
      EXPECT_TRUE(s.ok()) << s;
      done_at[i] = f.env.scheduler.Now();
    });
    f.env.scheduler.RunUntil(f.env.scheduler.Now());  // one block each (see the batching case below)
  }
  EXPECT_EQ(f.log->forced_writes(), 2u);  // the third waits for a slot
  f.env.scheduler.RunUntilIdle();
  EXPECT_EQ(done_at[0] - start, fua);
  EXPECT_EQ(done_at[1] - start, fua);  // overlapped with the first
  EXPECT_EQ(done_at[2] - start, 2 * fua);
  EXPECT_EQ(f.log->forced_writes(), 3u);
  f.durable_count = f.records.size();
  absl::StatusOr<RecoveredLog> got = Reopen(f.env, f.log, f.options, std::nullopt);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(CheckRecovered(f.records, f.durable_count, *got), "");

  LogOptions narrow = SmallLog();
  narrow.pipeline_bytes_max = kSector;  // a second block would end 2 sectors above durable
  Fixture g(62, narrow);
  g.log->Force(g.Append(1, 100), [](absl::Status) {});
  g.env.scheduler.RunUntil(g.env.scheduler.Now());
  g.log->Force(g.Append(1, 100), [](absl::Status) {});
  g.env.scheduler.RunUntil(g.env.scheduler.Now());
  EXPECT_EQ(g.log->forced_writes(), 1u);
  g.env.scheduler.RunUntilIdle();
  EXPECT_EQ(g.log->forced_writes(), 2u);

  // Forces issued at the same simulated instant share one block (group
  // commit without added latency): 10 forces, one write, all done after one FUA.
  Fixture h(63);
  const sim::TimeNs at = h.env.scheduler.Now();
  int done = 0;
  for (int i = 0; i < 10; ++i) {
    h.log->Force(h.Append(1, 30), [&](absl::Status s) { done += s.ok() ? 1 : 0; });
  }
  h.env.scheduler.RunUntilIdle();
  EXPECT_EQ(done, 10);
  EXPECT_EQ(h.log->forced_writes(), 1u);
  EXPECT_EQ(h.env.scheduler.Now() - at, fua);
}

// Forces issued at one instant by a chain of zero-delay events (clients that
// commit, get their outcome and commit their next transaction within the
// same simulated instant, as in `ktmsim bench` at concurrency 64) share one
// block too: the write starts at the end of the instant
// (Scheduler::AtEndOfInstant), not right after the first Force's event.
// With a plain After(0) the first 8 Forces of the chain took a block and a
// write slot each, and the other 16 waited for a slot: one FUA write more.
TEST(Log, ForcesFromAChainOfSameInstantEventsShareOneBlock) {
  Fixture f(64, SmallLog(64));
  const sim::TimeNs fua = 100 * sim::kMicrosecond + 1 * sim::kMillisecond;  // SmallDisk: fixed latencies
  const sim::TimeNs at = f.env.scheduler.Now();
  constexpr int kForces = 24;  // three times blocks_in_flight_max
  static_assert(kForces > 2 * LogOptions{}.blocks_in_flight_max);
  std::vector<sim::TimeNs> done_at;
  std::function<void(int)> force_then_next = [&](int left) {
    f.log->Force(f.Append(1, 30), [&](absl::Status s) {
      EXPECT_TRUE(s.ok()) << s;
      done_at.push_back(f.env.scheduler.Now());
    });
    if (left > 1) f.env.scheduler.After(0, [&force_then_next, left] { force_then_next(left - 1); });
  };
  f.env.scheduler.After(0, [&] { force_then_next(kForces); });
  f.env.scheduler.RunUntilIdle();
  ASSERT_EQ(done_at.size(), size_t{kForces});
  for (const sim::TimeNs t : done_at) EXPECT_EQ(t - at, fua);
  EXPECT_EQ(f.log->forced_writes(), 1u);
  f.durable_count = f.records.size();
  absl::StatusOr<RecoveredLog> got = Reopen(f.env, f.log, f.options, std::nullopt);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(CheckRecovered(f.records, f.durable_count, *got), "");
}

// Stale tail: blocks B and C are in flight together; the crash loses B and
// keeps C. Recovery ends before B, and the next incarnation's first block B'
// (same size as B) ends exactly where C starts, with C's LSN. Unless Open
// cleared the window after its end, a crash after B' would make the scan
// accept C as the continuation of B': records that were never acknowledged
// (and that the restarted client never appended) would come back.
TEST(Log, ABlockThatSurvivedBehindALostOneIsNeverReadAfterRecovery) {
  int cases = 0;
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    Fixture f(seed);
    f.AppendForced(1, 100);                  // A: durable, one sector
    const Lsn b = f.Append(2, 100);
    f.log->Force(b, [](absl::Status) {});    // B in flight
    f.env.scheduler.RunUntil(f.env.scheduler.Now());
    const Lsn c = f.Append(3, 100);
    f.log->Force(c, [](absl::Status) {});    // C in flight too
    f.env.scheduler.RunUntil(f.env.scheduler.Now());
    ASSERT_EQ(f.log->forced_writes(), 3u);
    const uint64_t first_sector = f.options.disk_offset / kSector + 2;  // data region start
    const uint64_t b_sector = first_sector + b / kSector;
    const uint64_t c_sector = first_sector + c / kSector;
    const std::vector<uint8_t> b_before = f.env.disk.MediaSector(b_sector);
    const std::vector<uint8_t> c_before = f.env.disk.MediaSector(c_sector);
    f.env.disk.Crash(seed * 31);
    const bool b_lost = f.env.disk.MediaSector(b_sector) == b_before;
    const bool c_kept = f.env.disk.MediaSector(c_sector) != c_before;
    if (!b_lost || !c_kept) continue;
    f.log.reset();
    f.env.scheduler.RunUntilIdle();
    f.log = std::make_unique<Log>(&f.env.disk, f.options);
    absl::StatusOr<RecoveredLog> first = OpenSync(f.env, *f.log);
    ASSERT_TRUE(first.ok()) << first.status();
    ASSERT_EQ(first->records.size(), 1u) << "seed " << seed;
    ++cases;
    // The new incarnation appends B' (same size as B) and crashes after it is durable.
    f.records.resize(1);
    f.durable_count = 1;
    f.AppendForced(4, 100);
    EXPECT_EQ(f.records.back().lsn, b);
    absl::StatusOr<RecoveredLog> second = Reopen(f.env, f.log, f.options, seed * 37);
    ASSERT_TRUE(second.ok()) << second.status();
    EXPECT_EQ(CheckRecovered(f.records, f.durable_count, *second), "") << "seed " << seed;
    EXPECT_EQ(second->records.size(), 2u) << "seed " << seed << ": stale block C read back";
  }
  EXPECT_GT(cases, 0) << "no crash seed lost B and kept C";
}

// ---------------------------------------------------------------------------
// Restart area.

format::RestartArea ReadRestartSector(Env& env, const LogOptions& options, int index,
                                      format::RestartCheck* check) {
  format::RestartArea area;
  *check = format::DecodeRestartArea(
      env.disk.MediaSector(options.disk_offset / kSector + index), &area);
  return area;
}

TEST(Log, RestartAreaAlternatesSectorsAndMovesTheBase) {
  // Open clears pipeline_bytes_max of free space after the end (stale
  // tails): keep it to one sector (the test once checked a fall-back on the
  // older copy, which needed the blocks below the newest base).
  LogOptions options = SmallLog();
  options.pipeline_bytes_max = kSector;
  Fixture f(8, options);
  std::vector<Lsn> lsns;
  for (int i = 0; i < 6; ++i) lsns.push_back(f.AppendForced(1, 50));
  uint64_t previous_sequence = 0;
  for (int i = 1; i <= 3; ++i) {
    const auto payload = MakePayload(100 + i, 10 * i);
    ASSERT_TRUE(RestartSync(f.env, *f.log, payload, lsns[i]).ok());
    EXPECT_EQ(f.log->base_lsn(), lsns[i]);
    EXPECT_EQ(f.log->restart_writes(), static_cast<uint64_t>(i));
    format::RestartCheck checks[2];
    format::RestartArea areas[2] = {ReadRestartSector(f.env, f.options, 0, &checks[0]),
                                    ReadRestartSector(f.env, f.options, 1, &checks[1])};
    ASSERT_EQ(checks[0], format::RestartCheck::kValid);
    ASSERT_EQ(checks[1], format::RestartCheck::kValid);
    const int newest = areas[0].sequence > areas[1].sequence ? 0 : 1;
    EXPECT_EQ(areas[newest].sequence % 2, static_cast<uint64_t>(newest));
    EXPECT_EQ(areas[1 - newest].sequence + 1, areas[newest].sequence);
    EXPECT_EQ(areas[newest].payload, payload);
    EXPECT_EQ(areas[newest].base_lsn, lsns[i]);
    if (previous_sequence != 0) {
      EXPECT_EQ(areas[1 - newest].sequence, previous_sequence);  // the older copy is kept
    }
    previous_sequence = areas[newest].sequence;
  }
  absl::StatusOr<RecoveredLog> got = Reopen(f.env, f.log, f.options, std::nullopt);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(got->has_restart_area);
  EXPECT_EQ(got->restart_payload, MakePayload(103, 30));
  EXPECT_EQ(got->base_lsn, lsns[3]);
  ASSERT_EQ(got->records.size(), 3u);
  EXPECT_EQ(got->records.front().lsn, lsns[3]);
  EXPECT_EQ(CheckRecovered(f.records, f.records.size(), *got), "");

  // The newest copy corrupt: refused (issue 15). Falling back on the older
  // copy is only as good as what its base still points at, which the log may
  // have reused; both sectors always hold a valid area unless damaged.
  const uint64_t newest_sector = f.options.disk_offset / kSector + previous_sequence % 2;
  f.env.disk.CorruptSector(newest_sector, 1);
  got = Reopen(f.env, f.log, f.options, std::nullopt);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss) << got.status();
}

TEST(Log, RestartAreaArgumentErrors) {
  Fixture f(9);
  const Lsn a = f.AppendForced(1, 10);
  const Lsn b = f.AppendForced(1, 10);
  std::optional<absl::Status> result;
  auto keep = [&](absl::Status s) { result = s; };
  f.log->WriteRestartArea(std::vector<uint8_t>(f.log->restart_payload_max() + 1), a, keep);
  EXPECT_EQ(result->code(), absl::StatusCode::kInvalidArgument);
  f.log->WriteRestartArea({}, f.log->end_lsn() + 1, keep);
  EXPECT_EQ(result->code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(RestartSync(f.env, *f.log, std::vector<uint8_t>(f.log->restart_payload_max()), b).ok());
  f.log->WriteRestartArea({}, a, keep);  // backwards
  EXPECT_EQ(result->code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(f.log->base_lsn(), b);
}

TEST(Log, RestartBaseAtTheEndRecoversNoRecordsAndKeepsAppending) {
  Fixture f(10);
  f.AppendForced(1, 10);
  f.Append(1, 20);  // forced by WriteRestartArea itself
  ASSERT_TRUE(RestartSync(f.env, *f.log, {}, f.log->end_lsn()).ok());
  f.durable_count = f.records.size();
  EXPECT_EQ(f.log->tail_lsn(), f.log->durable_lsn());
  absl::StatusOr<RecoveredLog> got = Reopen(f.env, f.log, f.options, std::nullopt);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(got->records.empty());
  f.AppendForced(2, 30);
  got = Reopen(f.env, f.log, f.options, std::nullopt);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->records.size(), 1u);
  EXPECT_EQ(CheckRecovered(f.records, f.durable_count, *got), "");
}

// ---------------------------------------------------------------------------
// Wraparound and log full.

TEST(Log, WrapsAroundManyLapsWithTailAdvancement) {
  Fixture f(11);
  sim::Rng rng(11);
  const uint64_t region = f.log->region_bytes();
  uint64_t reopen_checks = 0;
  while (f.log->end_lsn() < 12 * region) {
    const size_t batch = 1 + rng.Uniform(4);
    for (size_t i = 0; i < batch; ++i) f.Append(static_cast<uint16_t>(rng.Uniform(5)), rng.Uniform(900));
    ASSERT_TRUE(ForceSync(f.env, *f.log, kLsnInvalid).ok());
    f.durable_count = f.records.size();
    // Keep roughly the last 6 records live.
    const Lsn base = f.records[f.records.size() > 6 ? f.records.size() - 6 : 0].lsn;
    if (base > f.log->base_lsn()) {
      ASSERT_TRUE(RestartSync(f.env, *f.log, MakePayload(base, 8), base).ok());
    }
    ASSERT_LE(format::RoundUp(f.log->end_lsn(), kSector) - f.log->tail_lsn(), region + kSector);
    if (rng.Uniform(8) == 0) {
      absl::StatusOr<RecoveredLog> got = Reopen(f.env, f.log, f.options, std::nullopt);
      ASSERT_TRUE(got.ok()) << got.status();
      ASSERT_EQ(CheckRecovered(f.records, f.durable_count, *got), "");
      ASSERT_EQ(got->records.size(),
                static_cast<size_t>(std::count_if(f.records.begin(), f.records.end(),
                                                  [&](const LogRecord& r) {
                                                    return r.lsn >= got->base_lsn;
                                                  })));
      ++reopen_checks;
    }
  }
  EXPECT_GT(reopen_checks, 5u);
  // Every FUA write is a block, a restart area or the format, except the
  // second half of blocks that wrapped the region end.
  const uint64_t wrapped = f.env.disk.stats().fua_writes -
                           (f.log->forced_writes() + f.log->restart_writes() + 1);
  EXPECT_GT(wrapped, 0u) << "no block wrapped the region end";
}

TEST(Log, LogFullUntilTheBaseAdvances) {
  Fixture f(12);  // 32-sector region, one sector per forced block
  const uint64_t region_sectors = f.log->region_bytes() / kSector;
  for (uint64_t i = 0; i < region_sectors; ++i) f.AppendForced(1, 100);
  absl::StatusOr<Lsn> full = f.log->Append(1, std::vector<uint8_t>(100));
  EXPECT_EQ(full.status().code(), absl::StatusCode::kResourceExhausted) << full.status();
  EXPECT_EQ(f.log->Append(1, {}).status().code(), absl::StatusCode::kResourceExhausted);

  // Everything that fit is recoverable: exactly one lap.
  absl::StatusOr<RecoveredLog> got = Reopen(f.env, f.log, f.options, std::nullopt);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->records.size(), region_sectors);
  EXPECT_EQ(CheckRecovered(f.records, f.durable_count, *got), "");
  EXPECT_EQ(f.log->Append(1, {}).status().code(), absl::StatusCode::kResourceExhausted);

  // Moving the base past 3 blocks frees exactly 3 sectors.
  ASSERT_TRUE(RestartSync(f.env, *f.log, {}, f.records[3].lsn).ok());
  for (int i = 0; i < 3; ++i) f.AppendForced(2, 100);
  EXPECT_EQ(f.log->Append(1, {}).status().code(), absl::StatusCode::kResourceExhausted);
  got = Reopen(f.env, f.log, f.options, std::nullopt);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->records.size(), region_sectors);
  EXPECT_EQ(CheckRecovered(f.records, f.durable_count, *got), "");
}

// ---------------------------------------------------------------------------
// Crashes, torn and stale blocks, corruption.

// Crash while a multi-sector block (possibly wrapping the region end) is in
// flight, for many crash seeds; then a second round over the leftovers.
TEST(Log, RecoveryStopsCleanlyAtATornTail) {
  int survived = 0, torn = 0, lost = 0;
  for (uint64_t seed = 1; seed <= 300; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    sim::DiskOptions disk_options = SmallDisk();
    disk_options.write_latency = sim::Latency::Uniform(50 * sim::kMicrosecond, 200 * sim::kMicrosecond);
    disk_options.fua_extra_latency = sim::Latency::Uniform(0, 400 * sim::kMicrosecond);
    Fixture f(seed, SmallLog(), disk_options);
    sim::Rng rng(seed);
    const uint64_t prefill = rng.Uniform(60);
    for (uint64_t i = 0; i < prefill; ++i) {
      f.AppendForced(1, 100);
      if (i % 8 == 7) {
        ASSERT_TRUE(RestartSync(f.env, *f.log, {}, f.records.back().lsn).ok());
      }
    }
    for (int round = 0; round < 2; ++round) {
      f.AppendForced(2, rng.Uniform(300));  // acknowledged
      const size_t acked = f.records.size();
      for (int i = 0; i < 4; ++i) f.Append(3, 440);  // a 4-sector block
      f.log->Force(kLsnInvalid, [](absl::Status) {});
      f.env.scheduler.RunFor(static_cast<sim::TimeNs>(rng.Uniform(200 * sim::kMicrosecond)));
      if (rng.Uniform(2) == 0) f.Append(4, 10);  // waits behind the block in flight
      absl::StatusOr<RecoveredLog> got = CrashAndRecover(f.env, f.log, f.options, seed * 7 + round);
      ASSERT_TRUE(got.ok()) << got.status();
      ASSERT_EQ(CheckRecovered(f.records, acked, *got), "");
      const bool block_back = got->records.size() > 0 && got->records.back().lsn > f.records[acked - 1].lsn;
      if (block_back) {
        ++survived;
      } else if (got->stopped_at_invalid_block) {
        ++torn;
      } else {
        ++lost;
      }
      // The model continues from what was recovered.
      f.records.resize(acked + (block_back ? 4 : 0));
      f.durable_count = f.records.size();
    }
  }
  // Each outcome of a tear happened at least once across the seeds.
  EXPECT_GT(survived, 0);
  EXPECT_GT(torn, 0);
  EXPECT_GT(lost, 0);
}

TEST(Log, StaleBlocksFromAnEarlierLapAreRejected) {
  Fixture f(13, SmallLog(/*region_sectors=*/16));
  const uint64_t region = f.log->region_bytes();
  for (int i = 0; i < 16; ++i) f.AppendForced(1, 100);  // lap 0, one sector each
  ASSERT_TRUE(RestartSync(f.env, *f.log, {}, f.log->end_lsn()).ok());
  for (int i = 0; i < 3; ++i) f.AppendForced(2, 100);  // lap 1, sectors 0..2
  const Lsn expected_next = f.log->durable_lsn();
  EXPECT_EQ(expected_next, region + 3 * kSector);

  // The sector after the end holds a well-formed lap-0 block of this log.
  format::RestartCheck check;
  const uint32_t log_id = ReadRestartSector(f.env, f.options, 0, &check).log_id;
  ASSERT_EQ(check, format::RestartCheck::kValid);
  const uint64_t sector = (f.options.disk_offset + 2 * kSector + expected_next % region) / kSector;
  format::BlockHeader header;
  EXPECT_EQ(format::CheckBlockHeader(f.env.disk.MediaSector(sector), log_id, expected_next,
                                     {f.options.block_bytes_max, f.options.record_payload_max},
                                     &header),
            format::BlockCheck::kStale);
  EXPECT_EQ(header.lsn, expected_next - region);

  absl::StatusOr<RecoveredLog> got = Reopen(f.env, f.log, f.options, std::nullopt);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->records.size(), 3u);
  EXPECT_EQ(CheckRecovered(f.records, f.durable_count, *got), "");
  EXPECT_FALSE(got->stopped_at_invalid_block);
  EXPECT_NE(got->scan_stop_reason.find("stale"), std::string::npos) << got->scan_stop_reason;
  EXPECT_EQ(got->end_lsn, expected_next + format::kBlockHeaderBytes);
}

// A 2-sector block whose records fill it exactly (no padding to hide a flip).
void AppendTwoSectorBlock(Fixture& f) {
  const size_t payload = (2 * kSector - format::kBlockHeaderBytes) / 2 - format::kRecordHeaderBytes;
  f.Append(5, payload);
  f.Append(5, payload);
  ASSERT_TRUE(ForceSync(f.env, *f.log, kLsnInvalid).ok());
  f.durable_count = f.records.size();
}

// The newest block, when no later block vouches for it and it spans several
// sectors, cannot be told from a torn write (docs/ktm-logging.md): damage to
// its second sector ends the log there, without garbage. Damage to a block
// that a later one vouches for is refused (tests/log_integrity_test.cc).
TEST(Log, CorruptSectorInTheNewestBlockStopsTheScanWithoutGarbage) {
  for (uint64_t corrupt_seed = 1; corrupt_seed <= 40; ++corrupt_seed) {
    SCOPED_TRACE("corrupt seed " + std::to_string(corrupt_seed));
    Fixture f(14);
    f.AppendForced(1, 50);
    ASSERT_TRUE(RestartSync(f.env, *f.log, {}, f.records[0].lsn).ok());  // durable hint here
    f.AppendForced(1, 50);
    AppendTwoSectorBlock(f);
    const Lsn corrupt_block = f.log->durable_lsn();
    AppendTwoSectorBlock(f);
    const size_t good = 4;
    // Corrupt the second sector of the newest 2-sector block (all record bytes).
    const uint64_t sector =
        (f.options.disk_offset + 2 * kSector + corrupt_block % f.log->region_bytes()) / kSector + 1;
    f.env.disk.CorruptSector(sector, corrupt_seed);
    absl::StatusOr<RecoveredLog> got = Reopen(f.env, f.log, f.options, std::nullopt);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(got->records.size(), good);
    EXPECT_EQ(CheckRecovered(f.records, /*durable_count=*/good, *got), "");
    EXPECT_TRUE(got->stopped_at_invalid_block);
    EXPECT_NE(got->scan_stop_reason.find("checksum"), std::string::npos) << got->scan_stop_reason;
  }
}

TEST(Log, CorruptionBelowTheRestartAreasDurableHintIsDataLoss) {
  for (uint64_t corrupt_seed = 1; corrupt_seed <= 20; ++corrupt_seed) {
    SCOPED_TRACE("corrupt seed " + std::to_string(corrupt_seed));
    Fixture f(15);
    const Lsn first_block = f.log->durable_lsn();
    f.AppendForced(1, 50);
    f.AppendForced(1, 50);
    ASSERT_TRUE(RestartSync(f.env, *f.log, {}, f.records[0].lsn).ok());  // hint covers both
    f.env.disk.CorruptSector((f.options.disk_offset + 2 * kSector + first_block) / kSector,
                             corrupt_seed);
    absl::StatusOr<RecoveredLog> got = Reopen(f.env, f.log, f.options, std::nullopt);
    EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss) << got.status();
  }
}

TEST(Log, LatentReadErrors) {
  {
    // On a restart sector: Open refuses (kDataLoss). The unreadable copy may be
    // the newest, and the older one may point at space the log already reused.
    for (int which = 0; which < 2; ++which) {
      Fixture f(16);
      f.AppendForced(1, 50);
      ASSERT_TRUE(RestartSync(f.env, *f.log, MakePayload(1, 4), f.records[0].lsn).ok());
      ASSERT_TRUE(RestartSync(f.env, *f.log, MakePayload(2, 4), f.records[0].lsn).ok());
      f.env.disk.AddLatentError(f.options.disk_offset / kSector + which);
      absl::StatusOr<RecoveredLog> got = Reopen(f.env, f.log, f.options, std::nullopt);
      EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss) << got.status();
    }
  }
  {
    // On a block after the durable hint: the block was forced, so an
    // unreadable sector is lost data, never a clean end of the log.
    Fixture f(17);
    f.AppendForced(1, 50);
    const Lsn second = f.log->durable_lsn();
    f.AppendForced(1, 50);
    f.env.disk.AddLatentError((f.options.disk_offset + 2 * kSector + second) / kSector);
    absl::StatusOr<RecoveredLog> got = Reopen(f.env, f.log, f.options, std::nullopt);
    EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss) << got.status();
    EXPECT_NE(std::string(got.status().message()).find("read error"), std::string::npos);
  }
  {
    // On a block below the durable hint: data loss.
    Fixture f(18);
    f.AppendForced(1, 50);
    ASSERT_TRUE(RestartSync(f.env, *f.log, {}, f.records[0].lsn).ok());
    f.env.disk.AddLatentError((f.options.disk_offset + 2 * kSector) / kSector);
    absl::StatusOr<RecoveredLog> got = Reopen(f.env, f.log, f.options, std::nullopt);
    EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss) << got.status();
  }
}

// ---------------------------------------------------------------------------
// I/O errors on write.

TEST(Log, WriteErrorFailsTheLogAndEveryWaiter) {
  sim::DiskOptions disk_options = SmallDisk();
  disk_options.inflight_max = 1;
  Fixture f(19, SmallLog(), disk_options);
  f.AppendForced(1, 50);
  // Occupy the disk's only request slot, so the next block write is refused.
  f.env.disk.Read(0, kSector, [](sim::IoStatus, std::vector<uint8_t>) {});
  std::vector<absl::Status> results;
  auto keep = [&](absl::Status s) { results.push_back(s); };
  const Lsn a = f.Append(2, 50);
  f.log->Force(a, keep);
  f.log->Force(a, keep);
  f.env.scheduler.RunUntilIdle();
  ASSERT_EQ(results.size(), 2u);
  for (const auto& status : results) {
    EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
    EXPECT_NE(status.message().find("busy"), std::string::npos) << status;
  }
  EXPECT_TRUE(f.log->failed());
  EXPECT_EQ(f.log->Append(1, {}).status().code(), absl::StatusCode::kFailedPrecondition);
  results.clear();
  f.log->Force(a, keep);
  f.log->WriteRestartArea({}, f.log->base_lsn(), keep);
  ASSERT_EQ(results.size(), 2u);  // inline: nothing to wait for
  EXPECT_EQ(results[0].code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(results[1].code(), absl::StatusCode::kDataLoss);

  // The acknowledged record is still there after a reopen.
  absl::StatusOr<RecoveredLog> got = Reopen(f.env, f.log, f.options, std::nullopt);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(CheckRecovered(f.records, f.durable_count, *got), "");
}

TEST(Log, WriteErrorOnTheSecondHalfOfAWrappedBlock) {
  sim::DiskOptions disk_options = SmallDisk();
  disk_options.inflight_max = 1;  // a wrapped block needs two requests at once
  Fixture f(20, SmallLog(/*region_sectors=*/16), disk_options);
  for (int i = 0; i < 14; ++i) f.AppendForced(1, 100);
  ASSERT_TRUE(RestartSync(f.env, *f.log, {}, f.log->end_lsn()).ok());
  for (int i = 0; i < 3; ++i) f.Append(2, 440);  // 3 sectors: 14, 15 | 0
  std::vector<absl::Status> results;
  f.log->Force(kLsnInvalid, [&](absl::Status s) { results.push_back(s); });
  const Lsn after = f.Append(3, 10);
  f.log->Force(after, [&](absl::Status s) { results.push_back(s); });
  f.env.scheduler.RunUntilIdle();
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(results[1].code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(f.log->failed(), true);
  absl::StatusOr<RecoveredLog> got = Reopen(f.env, f.log, f.options, std::nullopt);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(got->records.empty());  // the half-written block is rejected
  EXPECT_TRUE(got->stopped_at_invalid_block) << got->scan_stop_reason;
}

TEST(Log, RestartAreaWriteErrorFailsTheLog) {
  sim::DiskOptions disk_options = SmallDisk();
  disk_options.inflight_max = 1;
  Fixture f(21, SmallLog(), disk_options);
  f.AppendForced(1, 50);
  f.env.disk.Read(0, kSector, [](sim::IoStatus, std::vector<uint8_t>) {});
  std::optional<absl::Status> result;
  f.log->WriteRestartArea({}, f.records[0].lsn, [&](absl::Status s) { result = s; });
  f.env.scheduler.RunUntilIdle();
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->code(), absl::StatusCode::kDataLoss) << *result;
  EXPECT_TRUE(f.log->failed());
  EXPECT_EQ(f.log->base_lsn(), 0u);  // the base did not move
}

// ---------------------------------------------------------------------------
// The property.

struct Op {
  enum Kind : uint8_t { kAppend, kForce, kForceAll, kRestart, kRun, kCrash };
  Kind kind = kAppend;
  uint32_t a = 0;  // append: payload size; force: record pick; restart: payload size; run: steps
  uint32_t b = 0;  // append: type; restart: base pick; crash: crash seed
};

std::ostream& operator<<(std::ostream& os, const Op& op) {
  static const char* const kNames[] = {"Append", "Force", "ForceAll", "Restart", "Run", "Crash"};
  return os << kNames[op.kind] << "(" << op.a << "," << op.b << ")";
}

// Every field is drawn at full size (RapidCheck scales inRange by the case
// size, which would make early cases all tiny appends); shrinking still works.
rc::Gen<Op> GenOp() {
  return rc::gen::resize(100, rc::gen::map(
      rc::gen::tuple(rc::gen::inRange(0, 100), rc::gen::inRange<uint32_t>(0, 601),
                     rc::gen::arbitrary<uint32_t>()),
      [](const std::tuple<int, uint32_t, uint32_t>& t) {
        const int pick = std::get<0>(t);
        Op op;
        op.kind = pick < 40   ? Op::kAppend
                  : pick < 52 ? Op::kForce
                  : pick < 60 ? Op::kForceAll
                  : pick < 70 ? Op::kRestart
                  : pick < 94 ? Op::kRun
                              : Op::kCrash;
        op.a = std::get<1>(t);
        op.b = std::get<2>(t);
        return op;
      }));
}

// Code probes: counts of rare paths the property ran through (over all cases).
struct Probes {
  uint64_t crashes = 0;
  uint64_t unforced_recovered = 0;  // a crash brought back records nobody forced
  uint64_t unforced_lost = 0;       // a crash lost appended, unforced records
  uint64_t torn = 0;                // the scan stopped at a torn block
  uint64_t pending_base = 0;        // the recovered base came from an unacknowledged restart
  uint64_t log_full = 0;
  uint64_t second_lap = 0;          // a case went past two laps of the region
};
Probes probes;

// The model of one log across crashes.
struct Model {
  std::vector<LogRecord> records;  // appended, in LSN order (recovered ones first)
  size_t durable_count = 0;        // records[0, durable_count) are known durable
  Lsn base = 0;                    // base of the newest acknowledged restart area
  std::vector<uint8_t> payload;
  bool has_restart = false;
  // Restart areas asked for but not acknowledged: any may be on disk.
  std::vector<std::pair<Lsn, std::vector<uint8_t>>> pending_restarts;
  uint64_t incarnation = 0;
  std::vector<std::string> errors;  // found inside callbacks, checked after each op
};

struct PropertyWorld {
  explicit PropertyWorld(uint64_t seed) : env(seed, MakeDiskOptions()) {
    options.disk_offset = kSector;
    options.size_bytes = (2 + 16) * kSector;
    options.record_payload_max = 600;
    options.block_bytes_max = 2048;
  }
  static sim::DiskOptions MakeDiskOptions() {
    sim::DiskOptions disk = SmallDisk();
    disk.sector_count = 64;
    disk.write_latency = sim::Latency::Uniform(20 * sim::kMicrosecond, 200 * sim::kMicrosecond);
    disk.fua_extra_latency = sim::Latency::Uniform(0, 300 * sim::kMicrosecond);
    disk.read_latency = sim::Latency::Uniform(20 * sim::kMicrosecond, 100 * sim::kMicrosecond);
    return disk;
  }
  Env env;
  LogOptions options;
  std::unique_ptr<Log> log;
  Model model;
};

void RunAppend(PropertyWorld& w, const Op& op) {
  const uint16_t type = static_cast<uint16_t>(op.b);
  auto payload = MakePayload(op.b ^ (uint64_t{op.a} << 32), op.a);
  const Lsn end_before = w.log->end_lsn();
  const Lsn tail = w.log->tail_lsn();
  absl::StatusOr<Lsn> lsn = w.log->Append(type, payload);
  const uint64_t record_bytes = format::kRecordHeaderBytes + payload.size();
  if (lsn.ok()) {
    RC_ASSERT(*lsn >= end_before);
    RC_ASSERT((w.model.records.empty() || *lsn > w.model.records.back().lsn));
    RC_ASSERT(format::RoundUp(*lsn + record_bytes, kSector) - tail <= w.log->region_bytes());
    w.model.records.push_back(LogRecord{*lsn, type, std::move(payload)});
    return;
  }
  RC_ASSERT(lsn.status().code() == absl::StatusCode::kResourceExhausted);
  ++probes.log_full;
  // Full only if even a record starting a new block right after the end could not fit.
  const uint64_t worst_end =
      format::RoundUp(end_before, kSector) + format::kBlockHeaderBytes + record_bytes;
  RC_ASSERT(format::RoundUp(worst_end, kSector) - tail > w.log->region_bytes());
}

void RunForce(PropertyWorld& w, const Op& op) {
  Lsn lsn = kLsnInvalid;
  size_t covered = w.model.records.size();
  if (op.kind == Op::kForce && !w.model.records.empty()) {
    covered = op.a % w.model.records.size() + 1;
    lsn = w.model.records[covered - 1].lsn;
  }
  Model* model = &w.model;
  Log* log = w.log.get();
  const uint64_t incarnation = model->incarnation;
  log->Force(lsn, [model, log, covered, incarnation](absl::Status status) {
    if (incarnation != model->incarnation) {
      model->errors.push_back("a Force callback ran after its log was destroyed");
      return;
    }
    if (!status.ok()) {
      model->errors.push_back("Force failed: " + status.ToString());
      return;
    }
    if (covered > 0 && log->durable_lsn() <= model->records[covered - 1].lsn) {
      model->errors.push_back("Force completed but durable_lsn does not cover the record");
    }
    model->durable_count = std::max(model->durable_count, covered);
  });
}

void RunRestart(PropertyWorld& w, const Op& op) {
  // Base picks: the current base, the end, or a record at or above the base.
  std::vector<Lsn> choices = {w.log->base_lsn(), w.log->end_lsn()};
  for (const auto& record : w.model.records) {
    if (record.lsn >= w.log->base_lsn()) choices.push_back(record.lsn);
  }
  const Lsn base = choices[op.b % choices.size()];
  auto payload = MakePayload(op.b, op.a % (w.log->restart_payload_max() + 1));
  Model* model = &w.model;
  const uint64_t incarnation = model->incarnation;
  auto rejected = std::make_shared<bool>(false);
  model->pending_restarts.emplace_back(base, payload);
  w.log->WriteRestartArea(payload, base, [model, base, payload, incarnation,
                                          rejected](absl::Status status) {
    if (incarnation != model->incarnation) {
      model->errors.push_back("a restart callback ran after its log was destroyed");
      return;
    }
    if (status.code() == absl::StatusCode::kInvalidArgument) {  // base below an earlier ask
      *rejected = true;
      return;
    }
    if (!status.ok()) {
      model->errors.push_back("WriteRestartArea failed: " + status.ToString());
      return;
    }
    model->base = base;
    model->payload = payload;
    model->has_restart = true;
  });
  if (*rejected) w.model.pending_restarts.pop_back();  // never reaches the disk
}

// Crash (or clean reopen) and check the recovered log against the model.
void RunCrash(PropertyWorld& w, std::optional<uint64_t> crash_seed) {
  Model& m = w.model;
  ++m.incarnation;
  absl::StatusOr<RecoveredLog> got = Reopen(w.env, w.log, w.options, crash_seed);
  RC_ASSERT(got.ok());
  // The base is the acknowledged one or one that was asked for later.
  bool base_ok = got->base_lsn == m.base && got->restart_payload == m.payload &&
                 got->has_restart_area == m.has_restart;
  for (const auto& [base, payload] : m.pending_restarts) {
    if (got->base_lsn == base && got->restart_payload == payload && got->has_restart_area) {
      RC_ASSERT(base >= m.base);
      base_ok = true;
    }
  }
  RC_ASSERT(base_ok);
  const std::string error = CheckRecovered(m.records, m.durable_count, *got);
  if (!error.empty()) RC_FAIL(error);
  if (crash_seed.has_value()) {
    ++probes.crashes;
    size_t live = 0, live_durable = 0;
    for (size_t i = 0; i < m.records.size(); ++i) {
      if (m.records[i].lsn < got->base_lsn) continue;
      ++live;
      if (i < m.durable_count) ++live_durable;
    }
    if (got->records.size() > live_durable) ++probes.unforced_recovered;
    if (got->records.size() < live) ++probes.unforced_lost;
    if (got->stopped_at_invalid_block) ++probes.torn;
    if (got->base_lsn != m.base) ++probes.pending_base;
  }
  m.records = got->records;
  m.durable_count = m.records.size();
  m.base = got->base_lsn;
  m.payload = got->restart_payload;
  m.has_restart = got->has_restart_area;
  m.pending_restarts.clear();
  RC_ASSERT(w.log->end_lsn() == got->end_lsn);
}

TEST(LogProperty, RecoveredRecordsAreTheForcedOnesPlusAPrefixOfTheUnforced) {
  rc::detail::TestMetadata metadata;
  metadata.id = "LogProperty/RecoveredRecordsAreTheForcedOnesPlusAPrefixOfTheUnforced";
  metadata.description = metadata.id;
  const auto property = [] {
    const uint64_t seed = *rc::gen::arbitrary<uint64_t>();
    const size_t count = *rc::gen::resize(100, rc::gen::inRange<size_t>(1, 200));
    const auto ops = *rc::gen::container<std::vector<Op>>(count, GenOp());
    PropertyWorld w(seed);
    w.log = std::make_unique<Log>(&w.env.disk, w.options);
    RC_ASSERT(FormatSync(w.env, *w.log).ok());
    for (const Op& op : ops) {
      switch (op.kind) {
        case Op::kAppend: RunAppend(w, op); break;
        case Op::kForce:
        case Op::kForceAll: RunForce(w, op); break;
        case Op::kRestart: RunRestart(w, op); break;
        case Op::kRun:
          for (uint32_t i = 0; i < op.a % 16 + 1 && w.env.scheduler.Step(); ++i) {
          }
          break;
        case Op::kCrash: RunCrash(w, op.b); break;
      }
      if (!w.model.errors.empty()) RC_FAIL(w.model.errors.front());
    }
    // Let everything finish: every Force completes, then both a clean
    // reopen and a crash recover exactly the model.
    w.env.scheduler.RunUntilIdle();
    if (!w.model.errors.empty()) RC_FAIL(w.model.errors.front());
    if (w.log->end_lsn() > 2 * w.log->region_bytes()) ++probes.second_lap;
    RunCrash(w, std::nullopt);
    RunCrash(w, seed);
  };
  // Twice: with RapidCheck's seed (new cases every run), then with a fixed
  // one, whose cases reach every probe below. The probes count over both, so
  // their checks cannot fail by the luck of the first seed (a torn block is
  // about one crash in 250: seed 4590501025115077524 alone had none in 200
  // cases), yet fail when the log or the generator stops reaching a path.
  auto result = rc::detail::checkTestable(property, metadata);
  if (result.is<rc::detail::SuccessResult>()) {
    rc::detail::TestParams fixed = rc::detail::configuration().testParams;
    fixed.seed = 1;
    result = rc::detail::checkTestable(property, metadata, fixed);
  }
  if (result.is<rc::detail::SuccessResult>()) {
    if (kRapidCheckCasesRaised) {
      EXPECT_GE(result.get<rc::detail::SuccessResult>().numSuccess, kPropertyCasesMin);
      // The rare paths ran (the fixed seed's cases reach each of them).
      EXPECT_GT(probes.unforced_recovered, 0u);
      EXPECT_GT(probes.unforced_lost, 0u);
      EXPECT_GT(probes.torn, 0u);
      EXPECT_GT(probes.pending_base, 0u);
      EXPECT_GT(probes.log_full, 0u);
      EXPECT_GT(probes.second_lap, 0u);
    }
    std::cout << "probes: crashes=" << probes.crashes
              << " unforced_recovered=" << probes.unforced_recovered
              << " unforced_lost=" << probes.unforced_lost << " torn=" << probes.torn
              << " pending_base=" << probes.pending_base << " log_full=" << probes.log_full
              << " second_lap=" << probes.second_lap << "\n";
  } else {
    std::ostringstream message;
    rc::detail::printResultMessage(result, message);
    FAIL() << message.str();
  }
}

}  // namespace
}  // namespace ktm::log
