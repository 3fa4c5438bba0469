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
// Group commit and pipelining: a Force starts a block write at the end of the
// current instant (sim::Scheduler::AtEndOfInstant: after every other event
// due at the same simulated time, also those scheduled meanwhile, so every
// Force of an instant shares a block) when a write slot is free (up to blocks_in_flight_max writes in flight, all inside
// pipeline_bytes_max bytes above the durable LSN; a single block is always
// allowed); Forces that arrive while every slot is busy share the next block.
// Writes may complete in any order, but a Force completes only when every
// block up to its LSN is durable (the durable LSN moves over the completed
// prefix).
// Stale tails: with writes in flight together, a crash can keep a later block
// and lose an earlier one. The scan stops at the lost one, so the survivor is
// stale, and appends after recovery reuse its LSNs: a later scan could take
// it for a current block. Open therefore overwrites (FUA) the
// pipeline_bytes_max bytes after the scan's end (only free space) before it
// completes; new blocks are written only after that.
// Writes are FUA (one disk op per block; a block that wraps the region end
// is two ops). forced_writes() counts blocks written.
//
// Recovery (Open): read both restart sectors, take the newest valid one,
// then scan blocks from its base LSN; the scan stops at the first block whose
// header, LSN or checksum does not match, never reading garbage as a record.
// Appends then continue at the end of the valid prefix.
// Damage: a crash only loses unacknowledged writes and tears multi-sector
// writes at sector granularity; anything else is damage, and Open refuses
// (kDataLoss) before writing anything rather than take it for a torn tail.
// Each block header carries a durable gap (LSN - durable LSN when written):
// a valid block after the scan's stop that vouches for the stopped block, the
// restart area's durable hint above the stop, a block whose first sector
// names it but is not what was written, two restart areas that disagree or
// one that contradicts itself, or a lone restart area once the log holds
// blocks are all refused. docs/ktm-logging.md ("Damage") lists what is
// detected and what cannot be (the newest blocks that nothing vouches for).
//
// Tail: WriteRestartArea(payload, new_base) persists the client's checkpoint
// and moves the base LSN; space before the base is reusable. Append fails
// with kResourceExhausted ("log full") when the record would overwrite
// the region before the base LSN.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "sim/disk.h"
#include "sim/function.h"

namespace ktm::log {

namespace format {
class BlockBuilder;
struct RestartArea;
// Size limits of a block (header + records) and of one record's payload.
struct BlockLimits {
  uint32_t block_bytes_max = 0;
  uint32_t record_payload_max = 0;
};
}  // namespace format

using Lsn = uint64_t;
constexpr Lsn kLsnInvalid = UINT64_MAX;

// block_bytes_max and record_payload_max are clamped to what the data region
// can hold (Log::record_payload_max() gives the effective payload limit).
struct LogOptions {
  uint64_t disk_offset = 0;            // sector aligned
  uint64_t size_bytes = 1024 * 1024;   // restart sectors + data region, sector aligned
  uint32_t record_payload_max = 64 * 1024;
  uint32_t block_bytes_max = 256 * 1024;
  uint32_t blocks_in_flight_max = 8;        // block writes in flight at once (>= 1)
  uint32_t pipeline_bytes_max = 64 * 1024;  // bytes above the durable LSN they may span
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
  std::string scan_stop_reason;      // why the scan stopped (diagnostics, traces)
};

class Log {
 public:
  // disk (and its scheduler) must outlive the Log: ~Log abandons the
  // Log's block writes still in flight there.
  Log(sim::Disk* disk, const LogOptions& options);
  ~Log();
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;

  // Formats an empty log (writes empty restart areas, forced). Completes via the disk.
  // Only on a new Log object (else kFailedPrecondition); kUnavailable when the
  // restart sectors could not be written. Older blocks in the region can never
  // be read as part of the new log (a new log id is stamped in every block).
  void Format(std::function<void(absl::Status)> done);
  // Reads the restart area and scans the tail; afterwards Append may be used.
  // Errors (the Log object stays unopened, nothing was written, and Format
  // may then be used): kNotFound (no restart area and no block in the first
  // window of the region: never formatted), kDataLoss (damage: see "Damage"
  // above and docs/ktm-logging.md), kFailedPrecondition (on-disk geometry
  // differs from the options, or the Log is not new), kUnavailable (a write
  // of a successful Open failed: clearing the stale tail, or repairing the
  // restart sector a Format torn on a blank disk left without an area).
  void Open(std::function<void(absl::StatusOr<RecoveredLog>)> done);

  // Buffers a record; returns its LSN. Not durable until a Force covers it.
  // Errors: kInvalidArgument (payload too large), kResourceExhausted (log full),
  // kFailedPrecondition (not opened/formatted, or the log failed).
  absl::StatusOr<Lsn> Append(uint16_t type, std::span<const uint8_t> payload);
  // Completes when every record with LSN <= lsn is durable (or with the I/O
  // error that made the log fail; after an I/O error the log refuses further
  // Appends). lsn == kLsnInvalid: everything appended so far.
  // When nothing needs writing (already durable, log not open, log failed),
  // done runs inline, before Force returns; otherwise from a disk completion.
  // done (any callable taking an absl::Status) is kept as a ForceDone, which
  // holds captures of up to 48 bytes inline (an engine's `this`, a weak_ptr
  // guard and a shared_ptr or id): no allocation per Force, and the callable
  // is constructed in its place among the waiters (no move of it on the way).
  using ForceDone = sim::InlineFunction<void(absl::Status), 48>;
  template <class F>
  void Force(Lsn lsn, F&& done) {
    if (ForceDone* waiter = AddForceWaiter(lsn)) {
      waiter->Emplace(std::forward<F>(done));
    } else {
      done(ForceStatusNow());
    }
  }
  // Forces everything appended, then writes the restart area (forced) and
  // moves the base LSN to new_base (<= end). Completes when durable.
  // kInvalidArgument (inline) when the payload exceeds restart_payload_max() or
  // new_base is below the base of an earlier call or above end_lsn(). The
  // base (and the reusable space) moves only once the area is durable.
  void WriteRestartArea(std::span<const uint8_t> payload, Lsn new_base,
                        std::function<void(absl::Status)> done);

  Lsn base_lsn() const { return base_lsn_; }
  // LSN the next record gets (when it starts a new block because the open
  // one is full, it gets a later LSN: end_lsn() is then a lower bound).
  Lsn end_lsn() const { return end_lsn_; }
  Lsn durable_lsn() const { return durable_lsn_; }  // every record below it is durable
  uint64_t forced_writes() const { return forced_writes_; }
  uint64_t restart_writes() const { return restart_writes_; }
  bool failed() const { return failed_; }

  // Added accessors (implementation facts a client or test may rely on).
  // tail_lsn: start of the oldest block still live; space before it is
  // reusable. It is <= base_lsn, or the next block start (< base_lsn + one
  // sector) when the block holding base_lsn has no record at or above it.
  // region_bytes: capacity of the circular data region.
  Lsn tail_lsn() const { return tail_lsn_; }
  uint64_t region_bytes() const { return region_bytes_; }
  uint32_t sector_size() const { return sector_size_; }
  uint32_t restart_payload_max() const;  // sector size - 64 (0 for 64-byte sectors)
  uint32_t record_payload_max() const;   // effective: options clamped to the region
  // The status every Force/WriteRestartArea gets once failed() (OK before).
  const absl::Status& failure() const { return failure_; }

 private:
  // Implementation detail: the implementer may change everything below.
  enum class State : uint8_t { kNew, kFormatting, kOpening, kOpen };
  struct InFlightBlock {
    Lsn start = 0;
    Lsn padded_end = 0;  // durable_lsn_ once it and every block before it completed
    bool written = false;
    uint64_t disk_request = 0;  // its one-piece write's (~Log abandons it); 0: two guarded pieces
  };
  struct RestartRequest {
    std::vector<uint8_t> payload;
    Lsn new_base = 0;
    std::function<void(absl::Status)> done;
    uint64_t sequence = 0;  // set when written
    Lsn scan_lsn = 0;       // set when written
  };
  struct BlockSpan {
    Lsn start = 0;
    Lsn end = 0;  // unpadded; grows while the block is open
  };
  struct RestartSectors;
  struct Scan;
  using ReadDone = std::function<void(sim::IoStatus, std::vector<uint8_t>)>;

  // Disk access inside the region; callbacks are dropped once the Log is gone
  // (guarded, or abandoned by ~Log: WriteStream's one-piece write).
  // Templates (defined in log.cc, used only there) so the guard and fn share
  // one inline sim::Disk::Done: no allocation per guarded write.
  template <typename F>
  sim::Disk::Done GuardWrite(F&& fn) const;
  sim::Disk::ReadDone GuardRead(ReadDone fn) const;
  uint64_t RestartSectorOffset(uint64_t sequence) const;
  void ReadStream(Lsn lsn, uint64_t length, ReadDone done);
  template <typename F>
  uint64_t WriteStream(Lsn lsn, std::vector<uint8_t>* bytes, F&& done);
  void ReadRestartSectors(std::function<void(const RestartSectors&)> done);

  // Format and Open.
  void WriteFormat(const RestartSectors& sectors, std::function<void(absl::Status)> done);
  void OnFormatWritten(uint32_t log_id, uint64_t sequence, sim::IoStatus status,
                       std::function<void(absl::Status)> done);
  // What the restart sectors tell Open (see ChooseRestartArea).
  struct RestartChoice {
    int chosen = -1;           // sector whose area the scan uses
    bool maybe_blank = false;  // no restart magic at all: blank, unless the region holds blocks
    bool repair = false;       // a Format torn on a blank disk: rewrite the other sector
  };
  // How a scan ended at a block that did not check (see StopScan).
  enum class ScanStop : uint8_t {
    kCleanEnd,       // nothing of this lap there: never written, cleared, earlier lap or format
    kTornOrCorrupt,  // what a torn write of the newest block leaves, or damage
    kCorrupt,        // no crash leaves this: damage
  };
  absl::Status ChooseRestartArea(const RestartSectors& sectors, RestartChoice* choice) const;
  absl::Status CheckRestartArea(const format::RestartArea& area) const;
  void OnOpenRestartRead(const RestartSectors& sectors,
                         std::function<void(absl::StatusOr<RecoveredLog>)> done);
  void ProbeBlank(std::function<void(absl::StatusOr<RecoveredLog>)> done);
  uint64_t ProbeWindowBytes() const;
  void ScanNext();
  void OnScanHeader(Lsn lsn, sim::IoStatus status, std::vector<uint8_t> bytes);
  void OnScanBlock(Lsn lsn, std::vector<uint8_t> bytes);
  struct Probe;
  void StopScan(Lsn stop_lsn, std::string reason, ScanStop stop, uint64_t stopped_bytes);
  void ProbeAfterStop(Lsn stop_lsn, std::string reason, bool invalid, uint64_t stopped_bytes);
  void ProbeFrom(std::shared_ptr<Probe> probe, uint64_t at);
  void RefuseVouched(const Probe& probe, Lsn lsn, Lsn vouched);
  void RefuseScan(absl::Status status);
  void FailScan(Lsn lsn, sim::IoStatus status);
  void FinishScan(Lsn stop_lsn, std::string reason, bool invalid);
  void RepairRestartSector(Lsn stop_lsn, RecoveredLog result,
                           std::function<void(absl::StatusOr<RecoveredLog>)> done);

  // Appending, forcing and the restart area.
  // Starts the open block at stream_end_ in open_block_.
  void OpenBlock();
  // Closes the open block: the stream ends after it, blocks_ records it.
  void CloseOpenBlock();
  void SealOpenBlock();  // CloseOpenBlock, its builder into sealed_
  // Force's work: files a waiter for lsn (and the instant's block write) and
  // returns its empty callback for Force to fill, or nullptr when nothing
  // needs writing (done then gets ForceStatusNow() at once).
  ForceDone* AddForceWaiter(Lsn lsn);
  absl::Status ForceStatusNow() const;
  void KickBlockWrites();
  void OnBlockWritten(Lsn start, sim::IoStatus status);
  void InvalidateStaleTail(Lsn stop_lsn, RecoveredLog result,
                           std::function<void(absl::StatusOr<RecoveredLog>)> done);
  void KickRestartWrites();
  void OnRestartWritten(sim::IoStatus status);
  Lsn ScanStartFor(Lsn base) const;
  void Fail(absl::Status status);
  // The log's own invariants (always on, like every KTM_LOG_ASSERT) on
  // every `self_check_every_`-th call, the first one included: the rate
  // format::SelfCheckEvery() gave when the Log was built (1 in the log
  // tests: every call; sampled elsewhere, as Finish's decode check). The
  // count only decides whether the assertions run.
  void CheckInvariants() {
    if (++invariant_calls_ >= self_check_every_) {
      invariant_calls_ = 0;
      CheckInvariantsNow();
    }
  }
  void CheckInvariantsNow() const;

  sim::Disk* disk_;
  LogOptions options_;
  format::BlockLimits write_limits_;  // what Append and the block builder enforce
  format::BlockLimits read_limits_;   // what the scan accepts
  uint32_t sector_size_ = 0;
  uint64_t region_start_ = 0;   // disk byte offset of the data region
  uint64_t region_bytes_ = 0;
  State state_ = State::kNew;
  uint32_t log_id_ = 0;           // distinguishes this format's blocks from older ones
  uint64_t restart_sequence_ = 0; // sequence of the newest durable restart area
  Lsn base_lsn_ = 0;
  Lsn tail_lsn_ = 0;
  Lsn end_lsn_ = 0;
  Lsn durable_lsn_ = 0;
  Lsn stream_end_ = 0;            // padded end of the last sealed block
  Lsn last_record_lsn_ = kLsnInvalid;  // newest record appended since Format/Open
  Lsn requested_base_ = 0;        // highest base a WriteRestartArea asked for
  uint64_t forced_writes_ = 0;
  uint64_t restart_writes_ = 0;
  bool failed_ = false;
  uint32_t self_check_every_ = 1;
  uint32_t invariant_calls_ = 0;  // self_check_every_ - 1 at first: the first call checks
  absl::Status failure_;
  // The builder of the open block (it receives Appends) while block_open_;
  // it stays when the block is written and builds the next one in place.
  std::unique_ptr<format::BlockBuilder> open_block_;
  bool block_open_ = false;
  std::deque<std::unique_ptr<format::BlockBuilder>> sealed_;  // full, waiting for a Force
  // Every closed block (sealed or written) from tail_lsn_ on, ascending, is
  // blocks_[blocks_head_, end); the open block is open_block_. A vector (one
  // inline push per block): the blocks the tail passed are erased once they
  // are half of it, so each block is moved O(1) times.
  std::vector<BlockSpan> blocks_;
  size_t blocks_head_ = 0;
  // Block writes not yet durable, ascending: in_flight_[in_flight_head_,
  // end). A vector with a head (as blocks_): one inline push per block; the
  // durable prefix is dropped once it is half of it (usually: all of it).
  std::vector<InFlightBlock> in_flight_;
  size_t in_flight_head_ = 0;
  size_t in_flight_count() const { return in_flight_.size() - in_flight_head_; }
  Lsn written_end_ = 0;                  // padded end of the last block handed to the disk
  bool kick_pending_ = false;            // a KickBlockWrites is scheduled for this instant
  // That event reaches the Log through kick_cell_ (one per Log: no weak
  // pointer per Force). ~Log empties the cell while the event is pending and
  // leaves it to the event's KickRef, which frees it; otherwise ~Log frees it.
  struct KickCell;
  class KickRef;
  std::unique_ptr<KickCell> kick_cell_;
  std::vector<std::pair<Lsn, ForceDone>> force_waiters_;  // in Force order
  Lsn force_needed_ = 0;  // the highest LSN a waiter waits for (0: none waits)
  // Reused between blocks, so a steady stream of forced blocks allocates
  // nothing once warm: the builder of the last sealed block written (the
  // next block sealed before its write hands open_block_ over and takes it)
  // and OnBlockWritten's list of waiters.
  std::unique_ptr<format::BlockBuilder> spare_block_;
  std::vector<std::pair<Lsn, ForceDone>> spare_ready_;
  std::deque<RestartRequest> restart_queue_;
  std::unique_ptr<RestartRequest> restart_in_flight_;
  std::unique_ptr<Scan> scan_;
  std::shared_ptr<char> life_ = std::make_shared<char>(0);  // Guard's weak token
};

}  // namespace ktm::log
