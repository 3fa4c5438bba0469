// A CLFS-style write-ahead log on a sim::Disk (one dedicated stream).
//
// Used by the KTM engine (its TM log) and by resource managers (their own
// logs on their own disks), the way KTM and TxF share CLFS.
//
// Disk layout (all offsets are bytes inside [options.disk_offset,
// options.disk_offset + options.size_bytes) of the disk):
//   two restart-area sectors (written alternately; the valid one with the
//   highest sequence wins), then a circular data region.
// LSN: a 64-bit logical byte offset in the data stream, strictly increasing,
// never reused; physical position = region start + lsn % region size.
// A Force writes one *block*: a header (magic, block LSN, length, checksum of
// the whole block) followed by records, each with its own header (type,
// length, record LSN, checksum). After a block is written the next block
// starts at the next sector boundary, so a durable sector is never rewritten
// (a torn rewrite could otherwise lose records already forced).
// Group commit: at most one block write is in flight; Forces that arrive
// meanwhile are satisfied together by the next block.
// Writes are FUA (one disk op per block; a block that wraps the region end
// is two ops). forced_writes() counts blocks written.
//
// Recovery (Open): read both restart sectors, take the newest valid one,
// then scan blocks from its base LSN; the scan stops cleanly at the first
// block whose header, LSN or checksum does not match (a torn, lost or stale
// tail), never reading garbage as a record. Appends then continue at the end
// of the valid prefix.
//
// Tail: WriteRestartArea(payload, new_base) persists the client's checkpoint
// and moves the base LSN; space before the base is reusable. Append fails
// with kResourceExhausted ("log full") when the record would overwrite
// the region before the base LSN.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "sim/disk.h"

namespace ktm::log {

using Lsn = uint64_t;
constexpr Lsn kLsnInvalid = UINT64_MAX;

struct LogOptions {
  uint64_t disk_offset = 0;            // sector aligned
  uint64_t size_bytes = 1024 * 1024;   // restart sectors + data region, sector aligned
  uint32_t record_payload_max = 64 * 1024;
  uint32_t block_bytes_max = 256 * 1024;
};

struct LogRecord {
  Lsn lsn = 0;
  uint16_t type = 0;
  std::vector<uint8_t> payload;
};

struct RecoveredLog {
  bool has_restart_area = false;
  std::vector<uint8_t> restart_payload;
  Lsn base_lsn = 0;
  Lsn end_lsn = 0;                   // where appends continue
  std::vector<LogRecord> records;    // every valid record from base_lsn on, in LSN order
  bool stopped_at_invalid_block = false;  // true when the scan ended at a torn/corrupt block
};

class Log {
 public:
  Log(sim::Disk* disk, const LogOptions& options);
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;

  // Formats an empty log (writes empty restart areas, forced). Completes via the disk.
  void Format(std::function<void(absl::Status)> done);
  // Reads the restart area and scans the tail; afterwards Append may be used.
  void Open(std::function<void(absl::StatusOr<RecoveredLog>)> done);

  // Buffers a record; returns its LSN. Not durable until a Force covers it.
  // Errors: kInvalidArgument (payload too large), kResourceExhausted (log full),
  // kFailedPrecondition (not opened/formatted, or the log failed).
  absl::StatusOr<Lsn> Append(uint16_t type, std::span<const uint8_t> payload);
  // Completes when every record with LSN <= lsn is durable (or with the I/O
  // error that made the log fail; after an I/O error the log refuses further
  // Appends). lsn == kLsnInvalid: everything appended so far.
  void Force(Lsn lsn, std::function<void(absl::Status)> done);
  // Forces everything appended, then writes the restart area (forced) and
  // moves the base LSN to new_base (<= end). Completes when durable.
  void WriteRestartArea(std::span<const uint8_t> payload, Lsn new_base,
                        std::function<void(absl::Status)> done);

  Lsn base_lsn() const { return base_lsn_; }
  Lsn end_lsn() const { return end_lsn_; }          // LSN the next record gets
  Lsn durable_lsn() const { return durable_lsn_; }  // every record below it is durable
  uint64_t forced_writes() const { return forced_writes_; }
  uint64_t restart_writes() const { return restart_writes_; }
  bool failed() const { return failed_; }

 private:
  // Implementation detail: the implementer may change everything below.
  sim::Disk* disk_;
  LogOptions options_;
  Lsn base_lsn_ = 0;
  Lsn end_lsn_ = 0;
  Lsn durable_lsn_ = 0;
  uint64_t forced_writes_ = 0;
  uint64_t restart_writes_ = 0;
  bool failed_ = false;
  bool open_ = false;
};

}  // namespace ktm::log
