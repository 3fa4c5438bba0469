// Log implementation: format, recovery scan, append, group-commit force and
// restart areas on a sim::Disk (contract in log.h, bytes in log_format.h).
//
// Every disk completion arrives through the scheduler; completions of a Log
// that no longer exists are dropped (GuardWrite/GuardRead). Client callbacks
// run last in a completion handler, after the Log's state is consistent, so
// they may call back into the Log.
#include "ktm/log/log.h"

#include <algorithm>

#include "absl/strings/str_format.h"
#include "ktm/log/log_assert.h"
#include "ktm/log/log_format.h"

namespace ktm::log {
namespace {

// Limits on what grows with client calls (a runaway client is a bug).
constexpr size_t kForceWaitersMax = 1 << 20;
constexpr size_t kRestartQueueMax = 1 << 16;

}  // namespace

struct Log::RestartSectors {
  format::RestartCheck check[format::kRestartSectorCount] = {format::RestartCheck::kCorrupt,
                                                             format::RestartCheck::kCorrupt};
  bool unreadable[format::kRestartSectorCount] = {false, false};
  format::RestartArea area[format::kRestartSectorCount];
};

struct Log::Probe {
  Lsn stop = 0;
  std::string reason;
  bool invalid = false;
  std::vector<uint8_t> bytes;  // the window read after the stop
};

struct Log::KickCell {
  Log* log;  // nullptr: the Log is gone
};

// What the KickBlockWrites event holds: move-only, and the last holder of an
// emptied cell frees it. The Log never goes away while the event runs:
// KickBlockWrites calls no client code (completions come through the disk).
class Log::KickRef {
 public:
  explicit KickRef(KickCell* cell) : cell_(cell) {}
  KickRef(KickRef&& other) noexcept : cell_(std::exchange(other.cell_, nullptr)) {}
  KickRef(const KickRef&) = delete;
  KickRef& operator=(const KickRef&) = delete;
  KickRef& operator=(KickRef&&) = delete;
  ~KickRef() {
    if (cell_ != nullptr && cell_->log == nullptr) delete cell_;
  }
  Log* log() const { return cell_->log; }

 private:
  KickCell* cell_;
};

struct Log::Scan {
  format::RestartArea area;
  bool repair = false;  // RestartChoice::repair
  RecoveredLog result;
  Lsn next = 0;  // LSN where the next block is expected
  std::vector<BlockSpan> blocks;
  std::function<void(absl::StatusOr<RecoveredLog>)> done;
};

Log::Log(sim::Disk* disk, const LogOptions& options) : disk_(disk), options_(options) {
  KTM_LOG_ASSERT(disk != nullptr, "Log needs a disk");
  sector_size_ = disk->options().sector_size;
  KTM_LOG_ASSERT(sector_size_ >= format::kRestartHeaderBytes && sector_size_ % 8 == 0,
                 "sector size too small for a restart area");
  static_assert(format::kRestartHeaderBytes >= format::kBlockHeaderBytes + format::kRecordHeaderBytes,
                "a sector that holds a restart header holds a block with one empty record");
  KTM_LOG_ASSERT(options.disk_offset % sector_size_ == 0 && options.size_bytes % sector_size_ == 0,
                 "LogOptions disk_offset and size_bytes must be sector aligned");
  KTM_LOG_ASSERT(options.disk_offset + options.size_bytes <= disk->size_bytes(),
                 "LogOptions region extends past the end of the disk");
  const uint64_t restart_bytes = uint64_t{format::kRestartSectorCount} * sector_size_;
  KTM_LOG_ASSERT(options.size_bytes > restart_bytes, "LogOptions size_bytes leaves no data region");
  region_start_ = options.disk_offset + restart_bytes;
  region_bytes_ = options.size_bytes - restart_bytes;
  // Writing limits: a block fits in the region, a record fits in a block.
  const uint64_t block_max =
      std::min<uint64_t>(options.block_bytes_max, region_bytes_ / sector_size_ * sector_size_);
  const uint64_t record_header_bytes = format::kBlockHeaderBytes + format::kRecordHeaderBytes;
  KTM_LOG_ASSERT(block_max >= record_header_bytes, "LogOptions block_bytes_max too small");
  write_limits_.block_bytes_max = static_cast<uint32_t>(block_max);
  write_limits_.record_payload_max = static_cast<uint32_t>(
      std::min<uint64_t>(options.record_payload_max, block_max - record_header_bytes));
  // Reading accepts anything that fits in the region (the checksum decides),
  // so a log stays readable when the options change between runs.
  const uint64_t read_max = std::min<uint64_t>(region_bytes_, UINT32_MAX);
  read_limits_.block_bytes_max = static_cast<uint32_t>(read_max);
  read_limits_.record_payload_max = static_cast<uint32_t>(read_max - record_header_bytes);
  self_check_every_ = format::SelfCheckEvery();
  invariant_calls_ = self_check_every_ - 1;
  kick_cell_ = std::make_unique<KickCell>(KickCell{this});
}

// The one-piece block writes still in flight would complete into a Log
// that is gone: their callbacks are dropped (every other disk callback is
// guarded). The disk outlives the Log.
Log::~Log() {
  if (kick_pending_) {
    kick_cell_->log = nullptr;
    (void)kick_cell_.release();  // the pending event's KickRef frees it
  }
  for (size_t i = in_flight_head_; i < in_flight_.size(); ++i) {
    if (in_flight_[i].disk_request != 0) disk_->Abandon(in_flight_[i].disk_request);
  }
}

uint32_t Log::restart_payload_max() const { return format::RestartPayloadMax(sector_size_); }
uint32_t Log::record_payload_max() const { return write_limits_.record_payload_max; }

// ---------------------------------------------------------------------------
// Disk access.

template <typename F>
sim::Disk::Done Log::GuardWrite(F&& fn) const {
  return [life = std::weak_ptr<char>(life_), fn = std::forward<F>(fn)](sim::IoStatus status) mutable {
    if (!life.expired()) fn(status);
  };
}

sim::Disk::ReadDone Log::GuardRead(ReadDone fn) const {
  return [life = std::weak_ptr<char>(life_), fn = std::move(fn)](sim::IoStatus status,
                                                                 std::vector<uint8_t> bytes) {
    if (!life.expired()) fn(status, std::move(bytes));
  };
}

uint64_t Log::RestartSectorOffset(uint64_t sequence) const {
  return options_.disk_offset + (sequence % format::kRestartSectorCount) * sector_size_;
}

// Reads [lsn, lsn+length) of the stream; a range crossing the region end is
// read as two pieces, one after the other.
void Log::ReadStream(Lsn lsn, uint64_t length, ReadDone done) {
  KTM_LOG_ASSERT(lsn % sector_size_ == 0 && length % sector_size_ == 0 && length > 0 &&
                     length <= region_bytes_,
                 "ReadStream range must be sector aligned and within one lap");
  const uint64_t position = lsn % region_bytes_;
  const uint64_t first = std::min(length, region_bytes_ - position);
  if (first == length) {
    disk_->Read(region_start_ + position, length, GuardRead(std::move(done)));
    return;
  }
  disk_->Read(region_start_ + position, first,
              GuardRead([this, rest = length - first, done = std::move(done)](
                            sim::IoStatus status, std::vector<uint8_t> head) mutable {
                if (status != sim::IoStatus::kOk) {
                  done(status, {});
                  return;
                }
                disk_->Read(region_start_, rest,
                            GuardRead([head = std::move(head), done = std::move(done)](
                                          sim::IoStatus status, std::vector<uint8_t> tail) mutable {
                              if (status != sim::IoStatus::kOk) {
                                done(status, {});
                                return;
                              }
                              head.insert(head.end(), tail.begin(), tail.end());
                              done(status, std::move(head));
                            }));
              }));
}

// Writes *bytes at lsn with FUA; a block crossing the region end is two
// concurrent writes, and done runs once, when both completed (first error
// wins). The one-piece write hands the buffer to the disk (WriteSwapping):
// *bytes comes back holding a spare buffer of unspecified content; its done
// is not guarded (the common case: no weak pointer per block) and the disk
// request is returned for ~Log to abandon. The two-piece write is guarded
// (returns 0).
template <typename F>
uint64_t Log::WriteStream(Lsn lsn, std::vector<uint8_t>* bytes, F&& done) {
  KTM_LOG_ASSERT(lsn % sector_size_ == 0 && bytes->size() % sector_size_ == 0 && !bytes->empty() &&
                     bytes->size() <= region_bytes_,
                 "WriteStream range must be sector aligned and within one lap");
  const uint64_t position = lsn % region_bytes_;
  const uint64_t first = std::min<uint64_t>(bytes->size(), region_bytes_ - position);
  if (first == bytes->size()) {  // one piece (the common case): no join, no copy
    return disk_->WriteSwapping(region_start_ + position, bytes, /*fua=*/true, std::forward<F>(done));
  }
  struct Join {
    int pending = 0;
    sim::IoStatus status = sim::IoStatus::kOk;
    std::function<void(sim::IoStatus)> done;
  };
  auto join = std::make_shared<Join>();
  join->pending = 2;
  join->done = std::forward<F>(done);
  auto on_piece = [join](sim::IoStatus status) {
    if (join->status == sim::IoStatus::kOk) join->status = status;
    if (--join->pending == 0) join->done(join->status);
  };
  std::span<const uint8_t> all = *bytes;
  disk_->Write(region_start_ + position, all.subspan(0, first), /*fua=*/true, GuardWrite(on_piece));
  disk_->Write(region_start_, all.subspan(first), /*fua=*/true, GuardWrite(on_piece));
  return 0;
}

// Reads restart sector 0, then 1 (separately, so a media error on one
// leaves the other usable). An unreadable sector counts as corrupt.
void Log::ReadRestartSectors(std::function<void(const RestartSectors&)> done) {
  static_assert(format::kRestartSectorCount == 2);
  auto sectors = std::make_shared<RestartSectors>();
  auto decode = [sectors](uint32_t index, sim::IoStatus status, const std::vector<uint8_t>& bytes) {
    if (status == sim::IoStatus::kOk) {
      sectors->check[index] = format::DecodeRestartArea(bytes, &sectors->area[index]);
    } else {
      sectors->unreadable[index] = true;
    }
  };
  disk_->Read(
      options_.disk_offset, sector_size_,
      GuardRead([this, sectors, decode, done = std::move(done)](
                    sim::IoStatus status, std::vector<uint8_t> bytes) mutable {
        decode(0, status, bytes);
        disk_->Read(options_.disk_offset + sector_size_, sector_size_,
                    GuardRead([sectors, decode, done = std::move(done)](
                                  sim::IoStatus status, std::vector<uint8_t> bytes) {
                      decode(1, status, bytes);
                      done(*sectors);
                    }));
      }));
}

// ---------------------------------------------------------------------------
// Format.

void Log::Format(std::function<void(absl::Status)> done) {
  if (state_ != State::kNew) {
    done(absl::FailedPreconditionError("Format: the log is already open or busy"));
    return;
  }
  state_ = State::kFormatting;
  ReadRestartSectors([this, done = std::move(done)](const RestartSectors& sectors) mutable {
    WriteFormat(sectors, std::move(done));
  });
}

// The new log id and sequences are above any valid old ones, so a torn
// format never lets the old restart area win and old blocks never match.
void Log::WriteFormat(const RestartSectors& sectors, std::function<void(absl::Status)> done) {
  uint32_t old_log_id = 0;
  uint64_t old_sequence = 0;
  for (uint32_t i = 0; i < format::kRestartSectorCount; ++i) {
    if (sectors.check[i] != format::RestartCheck::kValid) continue;
    old_log_id = std::max(old_log_id, sectors.area[i].log_id);
    old_sequence = std::max(old_sequence, sectors.area[i].sequence);
  }
  const uint32_t log_id = old_log_id + 1 == 0 ? 1 : old_log_id + 1;
  std::vector<uint8_t> bytes(uint64_t{format::kRestartSectorCount} * sector_size_);
  for (uint64_t sequence = old_sequence + 1; sequence <= old_sequence + 2; ++sequence) {
    format::RestartArea area;
    area.sequence = sequence;
    area.region_bytes = region_bytes_;
    area.log_id = log_id;
    area.sector_size = sector_size_;
    auto sector = format::EncodeRestartArea(area, sector_size_);
    std::copy(sector.begin(), sector.end(),
              bytes.begin() + (sequence % format::kRestartSectorCount) * sector_size_);
  }
  disk_->Write(options_.disk_offset, bytes, /*fua=*/true,
               GuardWrite([this, log_id, sequence = old_sequence + 2,
                           done = std::move(done)](sim::IoStatus status) mutable {
                 OnFormatWritten(log_id, sequence, status, std::move(done));
               }));
}

void Log::OnFormatWritten(uint32_t log_id, uint64_t sequence, sim::IoStatus status,
                          std::function<void(absl::Status)> done) {
  KTM_LOG_ASSERT(state_ == State::kFormatting, "format completion outside Format");
  if (status != sim::IoStatus::kOk) {
    state_ = State::kNew;
    done(absl::UnavailableError(absl::StrFormat("Format: writing the restart sectors failed: %s",
                                                sim::IoStatusName(status))));
    return;
  }
  log_id_ = log_id;
  restart_sequence_ = sequence;
  base_lsn_ = tail_lsn_ = durable_lsn_ = stream_end_ = written_end_ = requested_base_ = 0;
  end_lsn_ = format::kBlockHeaderBytes;
  last_record_lsn_ = kLsnInvalid;
  state_ = State::kOpen;
  CheckInvariantsNow();
  done(absl::OkStatus());
}

// ---------------------------------------------------------------------------
// Open: restart area, then the scan.

void Log::Open(std::function<void(absl::StatusOr<RecoveredLog>)> done) {
  if (state_ != State::kNew) {
    done(absl::FailedPreconditionError("Open: the log is already open or busy"));
    return;
  }
  state_ = State::kOpening;
  ReadRestartSectors([this, done = std::move(done)](const RestartSectors& sectors) mutable {
    OnOpenRestartRead(sectors, std::move(done));
  });
}

// Once a Format or an Open completed, both restart sectors hold valid areas
// (Format writes both; Open repairs a Format torn on a blank disk; client
// writes alternate, and a sector is written whole or not at all), so any
// other state is damage and Open refuses rather than fall back on an older
// area whose base may point at space the log has since reused.
absl::Status Log::ChooseRestartArea(const RestartSectors& sectors, RestartChoice* choice) const {
  *choice = RestartChoice{};
  for (uint32_t i = 0; i < format::kRestartSectorCount; ++i) {
    if (sectors.unreadable[i]) {
      return absl::DataLossError(absl::StrFormat(
          "Open: restart sector %d is unreadable (media error); the newest restart area may be lost", i));
    }
  }
  static_assert(format::kRestartSectorCount == 2);
  const bool valid[2] = {sectors.check[0] == format::RestartCheck::kValid,
                         sectors.check[1] == format::RestartCheck::kValid};
  if (!valid[0] && !valid[1]) {
    for (uint32_t i = 0; i < format::kRestartSectorCount; ++i) {
      if (sectors.check[i] == format::RestartCheck::kCorrupt) {
        return absl::DataLossError(absl::StrFormat(
            "Open: no valid restart area; restart sector %d holds a damaged one", i));
      }
    }
    choice->maybe_blank = true;
    return absl::OkStatus();
  }
  for (uint32_t i = 0; i < format::kRestartSectorCount; ++i) {
    if (valid[i] && sectors.area[i].sequence % format::kRestartSectorCount != i) {
      return absl::DataLossError(absl::StrFormat(
          "Open: restart area %d lies in sector %d, where the log never writes it",
          sectors.area[i].sequence, i));
    }
  }
  if (valid[0] && valid[1]) {
    const int chosen = sectors.area[1].sequence > sectors.area[0].sequence ? 1 : 0;
    const format::RestartArea& newer = sectors.area[chosen];
    const format::RestartArea& older = sectors.area[1 - chosen];
    const bool consistent =
        newer.log_id == older.log_id
            ? older.sequence + 1 == newer.sequence && older.base_lsn <= newer.base_lsn &&
                  older.scan_lsn <= newer.scan_lsn && older.durable_hint_lsn <= newer.durable_hint_lsn
            : newer.log_id > older.log_id && (newer.flags & format::kRestartFlagClient) == 0;
    if (!consistent) {
      return absl::DataLossError(absl::StrFormat(
          "Open: the restart areas contradict each other (sequence %d log %d base %d, sequence %d "
          "log %d base %d)",
          older.sequence, older.log_id, older.base_lsn, newer.sequence, newer.log_id, newer.base_lsn));
    }
    choice->chosen = chosen;
  } else {
    const int chosen = valid[1] ? 1 : 0;
    if (sectors.check[1 - chosen] == format::RestartCheck::kCorrupt ||
        (sectors.area[chosen].flags & format::kRestartFlagClient) != 0) {
      return absl::DataLossError(absl::StrFormat(
          "Open: restart sector %d holds no valid restart area: it may have held the newest one",
          1 - chosen));
    }
    // Only Format's area and no restart magic beside it: a Format torn on a
    // blank disk, accepted only while the log holds no block (OnScanBlock).
    choice->chosen = chosen;
    choice->repair = true;
  }
  return CheckRestartArea(sectors.area[choice->chosen]);
}

// A restart area must agree with the options and with itself: the log never
// writes one whose base lies beyond what it had forced (a base is at most
// end_lsn(), and WriteRestartArea forces everything before writing it).
absl::Status Log::CheckRestartArea(const format::RestartArea& area) const {
  if (area.region_bytes != region_bytes_ || area.sector_size != sector_size_) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "Open: log geometry on disk (region %d bytes, sector %d) differs from the options "
        "(region %d bytes, sector %d)",
        area.region_bytes, area.sector_size, region_bytes_, sector_size_));
  }
  const bool consistent =
      area.log_id != 0 && area.durable_hint_lsn % sector_size_ == 0 &&
      area.durable_hint_lsn - std::min(area.durable_hint_lsn, area.scan_lsn) <= region_bytes_ &&
      area.base_lsn <= area.durable_hint_lsn + format::kBlockHeaderBytes &&
      (area.base_lsn <= area.scan_lsn || area.base_lsn - area.scan_lsn < region_bytes_);
  if (!consistent) {
    return absl::DataLossError(absl::StrFormat(
        "Open: restart area %d contradicts itself (log %d, base %d, scan %d, durable %d, region "
        "%d bytes)",
        area.sequence, area.log_id, area.base_lsn, area.scan_lsn, area.durable_hint_lsn,
        region_bytes_));
  }
  return absl::OkStatus();
}

void Log::OnOpenRestartRead(const RestartSectors& sectors,
                            std::function<void(absl::StatusOr<RecoveredLog>)> done) {
  KTM_LOG_ASSERT(state_ == State::kOpening, "restart read completion outside Open");
  RestartChoice choice;
  absl::Status status = ChooseRestartArea(sectors, &choice);
  if (!status.ok()) {
    state_ = State::kNew;
    done(status);
    return;
  }
  if (choice.maybe_blank) {
    ProbeBlank(std::move(done));
    return;
  }
  scan_ = std::make_unique<Scan>();
  scan_->area = sectors.area[choice.chosen];
  scan_->repair = choice.repair;
  scan_->next = scan_->area.scan_lsn;
  scan_->done = std::move(done);
  ScanNext();
}

// Bytes after a scan's end (plus the stopped block's own length, when known)
// that hold a block vouching for the stopped one if any does. While a block B
// at the stop is in flight, every other block in flight ends below the stop
// + pipeline_bytes_max (log.h), so the first block written once B is durable
// starts below max(that, B's end), and its header sector is in the window
// (a block that runs past the window is read whole). Also the blank probe:
// the stale-tail clear zeroes at most pipeline_bytes_max of it.
uint64_t Log::ProbeWindowBytes() const {
  const uint64_t pipeline = std::max<uint64_t>(options_.pipeline_bytes_max, sector_size_);
  return std::min<uint64_t>(format::RoundUp(2 * pipeline + sector_size_, sector_size_),
                            region_bytes_ / sector_size_ * sector_size_);
}

// No restart magic in either sector: a blank log, or both magics damaged.
// Reading garbage is harmless, reformatting a log that holds blocks is not:
// if the first window of the region holds a block header, refuse.
void Log::ProbeBlank(std::function<void(absl::StatusOr<RecoveredLog>)> done) {
  ReadStream(0, ProbeWindowBytes(),
             [this, done = std::move(done)](sim::IoStatus status, std::vector<uint8_t> bytes) {
               state_ = State::kNew;
               if (status != sim::IoStatus::kOk) {
                 done(absl::DataLossError(absl::StrFormat(
                     "Open: no restart area, and reading the log region failed (%s): cannot tell "
                     "a blank log from a damaged one",
                     sim::IoStatusName(status))));
                 return;
               }
               for (uint64_t at = 0; at < bytes.size(); at += sector_size_) {
                 if (format::GetU32(bytes, at) == format::kBlockMagic) {
                   done(absl::DataLossError(absl::StrFormat(
                       "Open: no restart area, but the region holds a log block at byte %d: the "
                       "restart sectors are damaged (not treating the log as unformatted)",
                       at)));
                   return;
                 }
               }
               done(absl::NotFoundError("Open: no restart area (log not formatted)"));
             });
}

void Log::ScanNext() {
  const Lsn lsn = scan_->next;
  if (lsn - scan_->area.scan_lsn >= region_bytes_) {
    FinishScan(lsn, "a whole lap of valid blocks", /*invalid=*/false);  // nothing after it
    return;
  }
  ReadStream(lsn, sector_size_, [this, lsn](sim::IoStatus status, std::vector<uint8_t> bytes) {
    OnScanHeader(lsn, status, std::move(bytes));
  });
}

void Log::OnScanHeader(Lsn lsn, sim::IoStatus status, std::vector<uint8_t> bytes) {
  if (status != sim::IoStatus::kOk) {
    FailScan(lsn, status);
    return;
  }
  format::BlockHeader header;
  const format::BlockCheck check =
      format::CheckBlockHeader(bytes, scan_->area.log_id, lsn, read_limits_, &header);
  if (check != format::BlockCheck::kValid) {
    // A sector is written whole or not at all, so one that names this log and
    // this LSN, or another LSN of this position, was written as this block
    // (or as this position's block of an earlier lap) and then damaged. A
    // block of another format is a clean end (old formats' blocks stay on
    // the disk, and their ids are not all known).
    ScanStop stop = ScanStop::kCorrupt;
    if (check == format::BlockCheck::kNoBlock || check == format::BlockCheck::kOtherLog ||
        (check == format::BlockCheck::kStale && (lsn - header.lsn) % region_bytes_ == 0)) {
      stop = ScanStop::kCleanEnd;
    }
    // Only the magic damaged: the length tells how far the block reached
    // (the probe for a block that vouches for it must look beyond it).
    uint64_t stopped_bytes = 0;
    if (check == format::BlockCheck::kNoBlock && format::GetU32(bytes, 4) == scan_->area.log_id &&
        format::GetU64(bytes, 8) == lsn) {
      stopped_bytes = std::min<uint64_t>(format::GetU32(bytes, 16), write_limits_.block_bytes_max);
    }
    StopScan(lsn, format::BlockCheckName(check), stop, stopped_bytes);
    return;
  }
  const uint64_t padded = format::RoundUp(header.length, sector_size_);
  if (lsn + padded - scan_->area.scan_lsn > region_bytes_) {
    StopScan(lsn, "block longer than the rest of the lap", ScanStop::kCorrupt, 0);
    return;
  }
  if (padded == sector_size_) {
    OnScanBlock(lsn, std::move(bytes));
    return;
  }
  ReadStream(lsn + sector_size_, padded - sector_size_,
             [this, lsn, head = std::move(bytes)](sim::IoStatus status,
                                                  std::vector<uint8_t> rest) mutable {
               if (status != sim::IoStatus::kOk) {
                 FailScan(lsn, status);
                 return;
               }
               head.insert(head.end(), rest.begin(), rest.end());
               OnScanBlock(lsn, std::move(head));
             });
}

void Log::OnScanBlock(Lsn lsn, std::vector<uint8_t> bytes) {
  std::vector<LogRecord> records;
  const format::BlockCheck check =
      format::DecodeBlock(bytes, scan_->area.log_id, lsn, read_limits_, &records);
  if (check != format::BlockCheck::kValid) {
    // Its header checked, so its first sector was written here as this block.
    // A torn write leaves some later sector old, which only a block of several
    // sectors has, and never changes the first sector; a matching checksum
    // over inconsistent records no crash leaves either.
    format::BlockHeader header;
    const bool torn_possible =
        check == format::BlockCheck::kBadChecksum && bytes.size() > sector_size_ &&
        format::CheckBlockHeader(bytes, scan_->area.log_id, lsn, read_limits_, &header) ==
            format::BlockCheck::kValid &&
        format::FirstSectorConsistent(bytes, header, sector_size_, read_limits_);
    StopScan(lsn, format::BlockCheckName(check),
             torn_possible ? ScanStop::kTornOrCorrupt : ScanStop::kCorrupt, bytes.size());
    return;
  }
  if (scan_->repair) {
    RefuseScan(absl::DataLossError(absl::StrFormat(
        "Open: only Format's restart area is valid and the other restart sector holds none, yet "
        "the log holds a block at LSN %d: a restart area was lost",
        lsn)));
    return;
  }
  const Lsn block_end = records.back().lsn + format::kRecordHeaderBytes + records.back().payload.size();
  KTM_LOG_ASSERT(format::RoundUp(block_end, sector_size_) == lsn + bytes.size(),
                 "a valid block's records end in its last sector");
  // Pair check of the read side: records come back in strictly increasing LSN order.
  for (auto& record : records) {
    KTM_LOG_ASSERT(record.lsn > lsn && record.lsn < lsn + bytes.size(),
                   "decoded record outside its block");
    if (record.lsn < scan_->area.base_lsn) continue;
    KTM_LOG_ASSERT(scan_->result.records.empty() || scan_->result.records.back().lsn < record.lsn,
                   "scan produced records out of LSN order");
    scan_->result.records.push_back(std::move(record));
  }
  scan_->blocks.push_back(BlockSpan{lsn, block_end});
  scan_->next = lsn + bytes.size();
  ScanNext();
}

// The scan stopped at stop_lsn. Damage no crash could leave is refused at
// once; otherwise the stop must lie at or above what the restart area
// recorded as durable, and no valid block after it may vouch (its durable
// gap) for the block at stop_lsn. Nothing is written before that is settled.
void Log::StopScan(Lsn stop_lsn, std::string reason, ScanStop stop, uint64_t stopped_bytes) {
  if (stop == ScanStop::kCorrupt) {
    RefuseScan(absl::DataLossError(absl::StrFormat(
        "Open: the log block at LSN %d is damaged (%s), which no crash leaves: refusing rather "
        "than dropping the records from there on",
        stop_lsn, reason)));
    return;
  }
  if (stop_lsn < scan_->area.durable_hint_lsn) {
    RefuseScan(absl::DataLossError(absl::StrFormat(
        "Open: log scan stopped at LSN %d (%s) below LSN %d, which was durable when the "
        "restart area was written: acknowledged records are lost",
        stop_lsn, reason, scan_->area.durable_hint_lsn)));
    return;
  }
  ProbeAfterStop(stop_lsn, std::move(reason), stop != ScanStop::kCleanEnd, stopped_bytes);
}

void Log::ProbeAfterStop(Lsn stop_lsn, std::string reason, bool invalid, uint64_t stopped_bytes) {
  const Lsn lap_end = scan_->area.scan_lsn + region_bytes_;
  const uint64_t length = std::min<uint64_t>(
      ProbeWindowBytes() + format::RoundUp(stopped_bytes, sector_size_), lap_end - stop_lsn);
  if (length == 0) {
    FinishScan(stop_lsn, std::move(reason), invalid);
    return;
  }
  ReadStream(stop_lsn, length, [this, stop_lsn, reason = std::move(reason), invalid](
                                   sim::IoStatus status, std::vector<uint8_t> bytes) mutable {
    if (status != sim::IoStatus::kOk) {
      RefuseScan(absl::DataLossError(absl::StrFormat(
          "Open: read error %s after the log's end at LSN %d: cannot tell a torn tail from damage",
          sim::IoStatusName(status), stop_lsn)));
      return;
    }
    ProbeFrom(std::make_shared<Probe>(Probe{stop_lsn, std::move(reason), invalid, std::move(bytes)}),
              sector_size_);
  });
}

// Looks, from offset `at` of the window on, for a valid block of this lap
// that vouches for the stop (any valid block when repairing a torn Format).
// A survivor of writes in flight at a crash vouches for nothing past the
// stop. A candidate that runs past the window is read whole before going on.
void Log::ProbeFrom(std::shared_ptr<Probe> probe, uint64_t at) {
  const std::span<const uint8_t> window(probe->bytes);
  for (; at < window.size(); at += sector_size_) {
    const Lsn lsn = probe->stop + at;
    format::BlockHeader header;
    if (format::CheckBlockHeader(window.subspan(at), scan_->area.log_id, lsn, read_limits_, &header) !=
            format::BlockCheck::kValid ||
        (header.vouched_lsn() <= probe->stop && !scan_->repair)) {
      continue;
    }
    const uint64_t padded = format::RoundUp(header.length, sector_size_);
    if (lsn + padded - scan_->area.scan_lsn > region_bytes_) continue;  // not a block of this lap
    if (at + padded <= window.size()) {
      if (format::DecodeBlock(window.subspan(at, padded), scan_->area.log_id, lsn, read_limits_,
                              nullptr) == format::BlockCheck::kValid) {
        return RefuseVouched(*probe, lsn, header.vouched_lsn());
      }
      continue;
    }
    ReadStream(lsn, padded, [this, probe, at, lsn, vouched = header.vouched_lsn()](
                                sim::IoStatus status, std::vector<uint8_t> block) {
      if (status != sim::IoStatus::kOk) {
        RefuseScan(absl::DataLossError(absl::StrFormat(
            "Open: read error %s in a block after the log's end at LSN %d: cannot tell a torn "
            "tail from damage",
            sim::IoStatusName(status), probe->stop)));
        return;
      }
      if (format::DecodeBlock(block, scan_->area.log_id, lsn, read_limits_, nullptr) ==
          format::BlockCheck::kValid) {
        return RefuseVouched(*probe, lsn, vouched);
      }
      ProbeFrom(probe, at + sector_size_);
    });
    return;
  }
  FinishScan(probe->stop, std::move(probe->reason), probe->invalid);
}

void Log::RefuseVouched(const Probe& probe, Lsn lsn, Lsn vouched) {
  RefuseScan(absl::DataLossError(absl::StrFormat(
      "Open: log scan stopped at LSN %d (%s), but the block at LSN %d records that everything "
      "below LSN %d was durable%s: a forced block is damaged",
      probe.stop, probe.reason, lsn, vouched,
      scan_->repair ? " (and only Format's restart area is valid)" : "")));
}

// Open refuses: nothing was written, the Log is new again.
void Log::RefuseScan(absl::Status status) {
  std::unique_ptr<Scan> scan = std::move(scan_);
  state_ = State::kNew;
  scan->done(std::move(status));
}

// An unreadable sector is not a torn tail: what it held may have been
// durable, so treating it as the end of the log could silently drop
// acknowledged records. Open refuses instead (the caller sees kDataLoss).
void Log::FailScan(Lsn lsn, sim::IoStatus status) {
  RefuseScan(absl::DataLossError(absl::StrFormat(
      "Open: read error %s in the log block at LSN %d: records there may have been durable",
      sim::IoStatusName(status), lsn)));
}

void Log::FinishScan(Lsn stop_lsn, std::string reason, bool invalid) {
  KTM_LOG_ASSERT(stop_lsn >= scan_->area.durable_hint_lsn, "the scan ends at or above the durable hint");
  std::unique_ptr<Scan> scan = std::move(scan_);
  auto done = std::move(scan->done);
  log_id_ = scan->area.log_id;
  restart_sequence_ = scan->area.sequence;
  base_lsn_ = requested_base_ = scan->area.base_lsn;
  tail_lsn_ = scan->area.scan_lsn;
  stream_end_ = durable_lsn_ = written_end_ = stop_lsn;
  end_lsn_ = stop_lsn + format::kBlockHeaderBytes;
  last_record_lsn_ = kLsnInvalid;
  blocks_ = std::move(scan->blocks);
  blocks_head_ = 0;

  RecoveredLog& result = scan->result;
  result.has_restart_area = (scan->area.flags & format::kRestartFlagClient) != 0;
  result.restart_payload = scan->area.payload;
  result.base_lsn = base_lsn_;
  result.end_lsn = end_lsn_;
  result.stopped_at_invalid_block = invalid;
  result.scan_stop_reason = std::move(reason);
  if (scan->repair) {
    RepairRestartSector(stop_lsn, std::move(result), std::move(done));
    return;
  }
  InvalidateStaleTail(stop_lsn, std::move(result), std::move(done));
}

// A Format torn on a blank disk left one restart sector without an area:
// write the chosen area's successor there (an empty log: no block was found),
// so that once Open completes both sectors are valid again (ChooseRestartArea).
void Log::RepairRestartSector(Lsn stop_lsn, RecoveredLog result,
                              std::function<void(absl::StatusOr<RecoveredLog>)> done) {
  format::RestartArea area;
  area.flags = result.has_restart_area ? format::kRestartFlagClient : 0;
  area.sequence = restart_sequence_ + 1;
  area.base_lsn = base_lsn_;
  area.scan_lsn = tail_lsn_;
  area.durable_hint_lsn = durable_lsn_;
  area.region_bytes = region_bytes_;
  area.log_id = log_id_;
  area.sector_size = sector_size_;
  area.payload = result.restart_payload;
  disk_->Write(RestartSectorOffset(area.sequence), format::EncodeRestartArea(area, sector_size_),
               /*fua=*/true,
               GuardWrite([this, stop_lsn, sequence = area.sequence, result = std::move(result),
                           done = std::move(done)](sim::IoStatus status) mutable {
                 if (status != sim::IoStatus::kOk) {
                   state_ = State::kNew;
                   done(absl::UnavailableError(absl::StrFormat(
                       "Open: repairing the restart sectors failed: %s", sim::IoStatusName(status))));
                   return;
                 }
                 restart_sequence_ = sequence;
                 InvalidateStaleTail(stop_lsn, std::move(result), std::move(done));
               }));
}

// Blocks the previous incarnation had in flight together lie inside
// pipeline_bytes_max bytes above its durable LSN <= stop_lsn. Any of them that
// survived a crash behind a lost one is stale; overwriting that window (only
// free space: never past the tail's lap) before the first new block makes
// sure no later scan can read one as a continuation of the new blocks. A
// crash during this write leaves the same valid prefix: the next Open
// repeats it.
namespace {
// `bytes` zero bytes: a view of one static zero block (never written) when
// they fit it, else *owned filled with zeros.
constexpr size_t kZeroBlockBytes = 256 * 1024;
alignas(64) const uint8_t kZeroBlock[kZeroBlockBytes] = {};
std::span<const uint8_t> ZeroBytes(uint64_t bytes, std::vector<uint8_t>* owned) {
  if (bytes <= kZeroBlockBytes) return std::span<const uint8_t>(kZeroBlock, bytes);
  owned->assign(bytes, 0);
  return *owned;
}
}  // namespace

void Log::InvalidateStaleTail(Lsn stop_lsn, RecoveredLog result,
                              std::function<void(absl::StatusOr<RecoveredLog>)> done) {
  // The same free space the previous incarnation could write to (the newest
  // restart area's lap), so the whole window of its pipelined blocks.
  const uint64_t free_bytes = tail_lsn_ + region_bytes_ - stop_lsn;
  const uint64_t window = std::min<uint64_t>(
      format::RoundUp(std::max<uint64_t>(options_.pipeline_bytes_max, sector_size_), sector_size_),
      free_bytes / sector_size_ * sector_size_);
  auto finish = [this, stop_lsn, result = std::move(result),
                 done = std::move(done)](sim::IoStatus status) mutable {
    if (status != sim::IoStatus::kOk) {
      state_ = State::kNew;
      done(absl::UnavailableError(absl::StrFormat(
          "Open: clearing the stale tail at LSN %d failed: %s", stop_lsn, sim::IoStatusName(status))));
      return;
    }
    state_ = State::kOpen;
    CheckInvariantsNow();
    done(std::move(result));
  };
  if (window == 0) {
    finish(sim::IoStatus::kOk);
    return;
  }
  // One piece, or two at the region end written one after the other (a disk
  // may take a single request at a time).
  const uint64_t position = stop_lsn % region_bytes_;
  const uint64_t first = std::min<uint64_t>(window, region_bytes_ - position);
  // The zeros come from a shared read-only zero block (zero-initialised
  // static storage: no fill per open) when the window fits it, as it does
  // for the default pipeline_bytes_max; the disk copies what it is given.
  std::vector<uint8_t> zeros_owned;
  std::span<const uint8_t> zeros = ZeroBytes(window, &zeros_owned);
  auto second = [this, rest = window - first, finish = std::move(finish)](sim::IoStatus status) mutable {
    if (status != sim::IoStatus::kOk || rest == 0) {
      finish(status);
      return;
    }
    std::vector<uint8_t> rest_owned;
    disk_->Write(region_start_, ZeroBytes(rest, &rest_owned), /*fua=*/true, GuardWrite(std::move(finish)));
  };
  disk_->Write(region_start_ + position, zeros.subspan(0, first), /*fua=*/true, GuardWrite(std::move(second)));
}

// ---------------------------------------------------------------------------
// Append and Force.

// Inline into KickBlockWrites and SealOpenBlock: once per block.
[[gnu::always_inline]] inline void Log::CloseOpenBlock() {
  KTM_LOG_ASSERT(block_open_ && open_block_->record_count() > 0, "closing needs a non-empty open block");
  blocks_.push_back(BlockSpan{open_block_->start(), open_block_->end()});
  stream_end_ = format::RoundUp(open_block_->end(), sector_size_);
  end_lsn_ = stream_end_ + format::kBlockHeaderBytes;
  block_open_ = false;
}

// Inline into Append, its caller: once per block.
[[gnu::always_inline]] inline void Log::OpenBlock() {
  if (open_block_ == nullptr) {
    open_block_ = std::make_unique<format::BlockBuilder>(log_id_, stream_end_, write_limits_);
  } else {
    open_block_->Reset(log_id_, stream_end_);
  }
  block_open_ = true;
}

absl::StatusOr<Lsn> Log::Append(uint16_t type, std::span<const uint8_t> payload) {
  if (state_ != State::kOpen) return absl::FailedPreconditionError("Append: log is not open");
  if (failed_) {
    return absl::FailedPreconditionError(absl::StrCat("Append: log failed: ", failure_.message()));
  }
  if (payload.size() > write_limits_.record_payload_max) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "Append: payload of %d bytes exceeds record_payload_max %d", payload.size(),
        write_limits_.record_payload_max));
  }
  const uint64_t record_bytes = format::kRecordHeaderBytes + payload.size();
  const bool fits_open = block_open_ && open_block_->Fits(payload.size());
  const Lsn record_end =
      fits_open ? open_block_->end() + record_bytes
                : (block_open_ ? format::RoundUp(open_block_->end(), sector_size_) : stream_end_) +
                      format::kBlockHeaderBytes + record_bytes;
  if (format::RoundUp(record_end, sector_size_) - tail_lsn_ > region_bytes_) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "log full: a %d-byte record would end at LSN %d, beyond tail %d + region %d bytes; "
        "advance the base with WriteRestartArea",
        payload.size(), record_end, tail_lsn_, region_bytes_));
  }
  if (!fits_open) {
    if (block_open_) SealOpenBlock();
    OpenBlock();
  }
  const Lsn lsn = open_block_->Add(type, payload);
  KTM_LOG_ASSERT(lsn >= end_lsn_ && (last_record_lsn_ == kLsnInvalid || lsn > last_record_lsn_),
                 "record LSNs must increase");
  last_record_lsn_ = lsn;
  end_lsn_ = open_block_->end();
  CheckInvariants();
  return lsn;
}

void Log::SealOpenBlock() {
  CloseOpenBlock();
  sealed_.push_back(std::move(open_block_));
  open_block_ = std::move(spare_block_);  // null: OpenBlock builds one
}

absl::Status Log::ForceStatusNow() const {
  if (state_ != State::kOpen) return absl::FailedPreconditionError("Force: log is not open");
  return failed_ ? failure_ : absl::OkStatus();
}

Log::ForceDone* Log::AddForceWaiter(Lsn lsn) {
  if (state_ != State::kOpen || failed_) return nullptr;
  if (last_record_lsn_ == kLsnInvalid || lsn < durable_lsn_) return nullptr;
  const Lsn target = std::min(lsn, last_record_lsn_);
  if (target < durable_lsn_) return nullptr;
  KTM_LOG_ASSERT(force_waiters_.size() < kForceWaitersMax, "too many Force calls waiting");
  ForceDone* waiter = &force_waiters_.emplace_back(target, nullptr).second;
  force_needed_ = std::max(force_needed_, target);
  // Group commit: the block write starts at the end of this instant, after
  // every other event of it (also those scheduled at this time after this
  // Force: a plain After(0) would run before them, and each Force of the
  // instant would take a block and a write slot of its own), so Forces
  // issued at the same simulated time share one block.
  if (kick_pending_) return waiter;
  kick_pending_ = true;
  disk_->scheduler()->AtEndOfInstant([kick = KickRef(kick_cell_.get())] {
    Log* log = kick.log();
    if (log == nullptr) return;  // the Log is gone
    log->kick_pending_ = false;
    log->KickBlockWrites();
  });
  return waiter;
}

// Starts block writes while a Force waits for records not handed to the disk
// yet and a write slot is free (see log.h); Forces that arrive while every
// slot is busy share the next block (group commit).
void Log::KickBlockWrites() {
  if (failed_ || force_waiters_.empty()) return;
  // The waiters stay as they are while this runs (a write completes later,
  // through the scheduler).
  const Lsn needed = force_needed_;
  while (needed >= written_end_) {  // until blocks in flight cover every waiter
    KTM_LOG_ASSERT(!sealed_.empty() || block_open_,
                   "a Force waits but no block holds unwritten records");
    // Check the slot before sealing: a block sealed early would stop taking
    // the records of Forces that arrive while the slots are busy.
    format::BlockBuilder* block = sealed_.empty() ? open_block_.get() : sealed_.front().get();
    const Lsn padded_end = format::RoundUp(block->end(), sector_size_);
    if (in_flight_count() != 0 && (in_flight_count() >= std::max<uint32_t>(options_.blocks_in_flight_max, 1) ||
                                padded_end - durable_lsn_ > options_.pipeline_bytes_max)) {
      return;
    }
    // The open block is written from its builder, without passing through
    // the queue it would leave at once.
    if (sealed_.empty()) CloseOpenBlock();
    const Lsn start = block->start();
    KTM_LOG_ASSERT(start == written_end_, "blocks must be written in order, without gaps");
    std::vector<uint8_t>* bytes = block->FinishInPlace(sector_size_, durable_lsn_);
    KTM_LOG_ASSERT(start + bytes->size() - tail_lsn_ <= region_bytes_,
                   "a block write would overwrite the live part of the log");
    written_end_ = start + bytes->size();
    ++forced_writes_;
    const uint64_t disk_request =
        WriteStream(start, bytes, [this, start](sim::IoStatus status) { OnBlockWritten(start, status); });
    in_flight_.push_back(InFlightBlock{start, written_end_, false, disk_request});
    if (block != open_block_.get()) {  // a sealed block: its builder becomes the spare
      spare_block_ = std::move(sealed_.front());
      sealed_.pop_front();
    }
  }
}

void Log::OnBlockWritten(Lsn start, sim::IoStatus status) {
  if (failed_) return;  // the callbacks already got the failure
  // Usually the oldest block in flight completes (writes complete in issue
  // order unless latencies vary): looked at first.
  const auto live = in_flight_.begin() + static_cast<std::ptrdiff_t>(in_flight_head_);
  auto it = live;
  if (it == in_flight_.end() || it->start != start) {
    it = std::find_if(live, in_flight_.end(),
                      [start](const InFlightBlock& block) { return block.start == start; });
  }
  KTM_LOG_ASSERT(it != in_flight_.end() && !it->written, "block completion without that block in flight");
  if (status != sim::IoStatus::kOk) {
    Fail(absl::DataLossError(absl::StrFormat(
        "log failed: write of the block at LSN %d returned %s; records from LSN %d on are "
        "not durable",
        start, sim::IoStatusName(status), start)));
    return;
  }
  it->written = true;
  const Lsn before = durable_lsn_;
  while (in_flight_head_ < in_flight_.size() && in_flight_[in_flight_head_].written) {
    durable_lsn_ = in_flight_[in_flight_head_].padded_end;
    ++in_flight_head_;
  }
  if (in_flight_head_ == in_flight_.size()) {  // every block durable (the usual case)
    in_flight_.clear();
    in_flight_head_ = 0;
  } else if (2 * in_flight_head_ >= in_flight_.size()) {
    in_flight_.erase(in_flight_.begin(), in_flight_.begin() + static_cast<std::ptrdiff_t>(in_flight_head_));
    in_flight_head_ = 0;
  }
  // Empty, with the storage of an earlier completion's list.
  std::vector<std::pair<Lsn, ForceDone>> ready;
  ready.swap(spare_ready_);
  if (durable_lsn_ != before) {
    // The satisfied waiters leave, in order, and the rest stay, in order.
    // Usually every waiter is satisfied: the lists swap, nothing moves.
    if (force_needed_ < durable_lsn_) {
      ready.swap(force_waiters_);
      force_needed_ = 0;
    } else {
      size_t kept = 0;
      force_needed_ = 0;
      for (size_t i = 0; i < force_waiters_.size(); ++i) {
        if (force_waiters_[i].first < durable_lsn_) {
          ready.push_back(std::move(force_waiters_[i]));
        } else {
          force_needed_ = std::max(force_needed_, force_waiters_[i].first);
          if (kept != i) force_waiters_[kept] = std::move(force_waiters_[i]);
          ++kept;
        }
      }
      force_waiters_.erase(force_waiters_.begin() + static_cast<std::ptrdiff_t>(kept), force_waiters_.end());
    }
  }
  // Usually every waiter was satisfied: nothing to write, no call.
  if (!force_waiters_.empty()) KickBlockWrites();
  CheckInvariants();
  // Each callback called and destroyed in one go (InvokeOnce).
  for (auto& waiter : ready) waiter.second.InvokeOnce(absl::OkStatus());
  // Keep the list's storage for the next completion, empty (a callback that
  // led to a nested completion left its own list there: either will do).
  ready.clear();
  spare_ready_.swap(ready);
}

// ---------------------------------------------------------------------------
// Restart area.

void Log::WriteRestartArea(std::span<const uint8_t> payload, Lsn new_base,
                           std::function<void(absl::Status)> done) {
  if (state_ != State::kOpen) {
    done(absl::FailedPreconditionError("WriteRestartArea: log is not open"));
    return;
  }
  if (failed_) {
    done(failure_);
    return;
  }
  if (payload.size() > restart_payload_max()) {
    done(absl::InvalidArgumentError(absl::StrFormat(
        "WriteRestartArea: payload of %d bytes exceeds restart_payload_max %d", payload.size(),
        restart_payload_max())));
    return;
  }
  if (new_base < requested_base_ || new_base > end_lsn_) {
    done(absl::InvalidArgumentError(absl::StrFormat(
        "WriteRestartArea: new base %d outside [%d, %d]", new_base, requested_base_, end_lsn_)));
    return;
  }
  requested_base_ = new_base;
  RestartRequest request{std::vector<uint8_t>(payload.begin(), payload.end()), new_base,
                         std::move(done)};
  Force(kLsnInvalid, [this, request = std::move(request)](absl::Status status) mutable {
    if (!status.ok()) {
      request.done(status);
      return;
    }
    KTM_LOG_ASSERT(restart_queue_.size() < kRestartQueueMax, "too many restart areas queued");
    restart_queue_.push_back(std::move(request));
    KickRestartWrites();
  });
}

// One restart write at a time, in request order; sequence s goes to sector s % 2.
void Log::KickRestartWrites() {
  if (restart_in_flight_ != nullptr || restart_queue_.empty() || failed_) return;
  restart_in_flight_ = std::make_unique<RestartRequest>(std::move(restart_queue_.front()));
  restart_queue_.pop_front();
  RestartRequest& request = *restart_in_flight_;
  format::RestartArea area;
  area.flags = format::kRestartFlagClient;
  area.sequence = restart_sequence_ + 1;
  area.base_lsn = request.new_base;
  area.scan_lsn = ScanStartFor(request.new_base);
  area.durable_hint_lsn = durable_lsn_;
  area.region_bytes = region_bytes_;
  area.log_id = log_id_;
  area.sector_size = sector_size_;
  area.payload = request.payload;
  KTM_LOG_ASSERT(area.scan_lsn >= tail_lsn_ &&
                     area.scan_lsn <= format::RoundUp(area.base_lsn, sector_size_) &&
                     area.base_lsn >= base_lsn_,
                 "restart area must not move the base or the tail backwards");
  request.sequence = area.sequence;
  request.scan_lsn = area.scan_lsn;
  disk_->Write(RestartSectorOffset(area.sequence), format::EncodeRestartArea(area, sector_size_),
               /*fua=*/true,
               GuardWrite([this](sim::IoStatus status) { OnRestartWritten(status); }));
}

void Log::OnRestartWritten(sim::IoStatus status) {
  if (failed_) return;  // the callbacks already got the failure
  KTM_LOG_ASSERT(restart_in_flight_ != nullptr, "restart completion without a restart write");
  if (status != sim::IoStatus::kOk) {
    Fail(absl::DataLossError(absl::StrFormat(
        "log failed: write of restart area %d returned %s", restart_in_flight_->sequence,
        sim::IoStatusName(status))));
    return;
  }
  std::unique_ptr<RestartRequest> request = std::move(restart_in_flight_);
  restart_sequence_ = request->sequence;
  base_lsn_ = request->new_base;
  tail_lsn_ = request->scan_lsn;
  while (blocks_head_ < blocks_.size() && blocks_[blocks_head_].start < tail_lsn_) ++blocks_head_;
  if (2 * blocks_head_ >= blocks_.size()) {
    blocks_.erase(blocks_.begin(), blocks_.begin() + static_cast<std::ptrdiff_t>(blocks_head_));
    blocks_head_ = 0;
  }
  ++restart_writes_;
  KickRestartWrites();
  CheckInvariants();
  request->done(absl::OkStatus());
}

// Where a scan must start to find every record with LSN >= base: the start of
// the block holding base, or the next block's start when that block is
// sealed and all its records lie below base (a base at end_lsn() then pins
// no block). The open block, or the next one to be created when none is
// open, starts at stream_end_.
Lsn Log::ScanStartFor(Lsn base) const {
  Lsn start = tail_lsn_;
  const auto live = blocks_.begin() + static_cast<std::ptrdiff_t>(blocks_head_);
  auto it = std::upper_bound(live, blocks_.end(), base,
                             [](Lsn lsn, const BlockSpan& block) { return lsn < block.start; });
  if (it != live) {
    const BlockSpan& block = *std::prev(it);
    start = std::max(start, base >= block.end ? format::RoundUp(block.end, sector_size_) : block.start);
  }
  // The open block, or the next one to be created, starts at stream_end_.
  if (stream_end_ <= base) start = std::max(start, stream_end_);
  return start;
}

// An I/O error makes the log unusable: everything waiting gets the error now,
// every later call gets it too.
void Log::Fail(absl::Status status) {
  KTM_LOG_ASSERT(!status.ok() && !failed_, "Fail needs an error and a healthy log");
  failed_ = true;
  failure_ = status;
  std::vector<ForceDone> force_callbacks;
  for (auto& waiter : force_waiters_) force_callbacks.push_back(std::move(waiter.second));
  force_waiters_.clear();
  force_needed_ = 0;
  std::vector<std::function<void(absl::Status)>> callbacks;
  if (restart_in_flight_ != nullptr) callbacks.push_back(std::move(restart_in_flight_->done));
  restart_in_flight_.reset();
  for (auto& request : restart_queue_) callbacks.push_back(std::move(request.done));
  restart_queue_.clear();
  // in_flight_ stays: ~Log abandons the writes still in flight (their
  // completions return at once: failed_).
  for (auto& done : force_callbacks) done(status);
  for (auto& done : callbacks) done(status);
}

void Log::CheckInvariantsNow() const {
  KTM_LOG_ASSERT(tail_lsn_ <= format::RoundUp(base_lsn_, sector_size_) &&
                     base_lsn_ <= requested_base_,
                 "tail <= base (rounded up to a sector) <= requested base");
  KTM_LOG_ASSERT(durable_lsn_ <= written_end_ && written_end_ <= stream_end_ && stream_end_ < end_lsn_,
                 "durable <= written end <= stream end < end");
  if (!failed_) {  // after Fail the blocks in flight are stale (kept for ~Log)
    KTM_LOG_ASSERT(in_flight_count() == 0 ? durable_lsn_ == written_end_
                                          : in_flight_[in_flight_head_].start == durable_lsn_ &&
                                                in_flight_.back().padded_end == written_end_,
                   "the blocks in flight span [durable, written end)");
  }
  KTM_LOG_ASSERT(tail_lsn_ % sector_size_ == 0 && durable_lsn_ % sector_size_ == 0 &&
                     stream_end_ % sector_size_ == 0,
                 "tail, durable and stream end are sector aligned");
  KTM_LOG_ASSERT(format::RoundUp(end_lsn_, sector_size_) - tail_lsn_ <=
                     region_bytes_ + format::RoundUp(format::kBlockHeaderBytes, sector_size_),
                 "the live log fits in the region");
  KTM_LOG_ASSERT(blocks_head_ <= blocks_.size() &&
                     (blocks_head_ == blocks_.size() || blocks_[blocks_head_].start >= tail_lsn_),
                 "no live block start below the tail");
  KTM_LOG_ASSERT(blocks_.size() - blocks_head_ <= region_bytes_ / sector_size_ + 1,
                 "more live blocks than sectors in the region");
}

}  // namespace ktm::log
