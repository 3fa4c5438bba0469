// PageStore: key -> value records on fixed-size data pages of a simulated
// disk, behind a write-ahead log (ktm/log) on the same disk, with a bounded
// buffer pool, fuzzy checkpoints and ARIES-style redo recovery. The storage
// layer of issue 22 (docs/rm-storage.md has the design and the reasoning).
//
// Disk layout: the log region (StorageOptions::log: disk_offset, size_bytes)
// and the data region [data_offset, data_offset + page_count * page_bytes),
// which must not overlap. Page p lives at data_offset + p * page_bytes.
// A page: 32-byte header (magic, page id, page LSN, payload length, CRC32C
// of the whole page with the CRC field zeroed), then its records (a count,
// then length-prefixed key and value strings, sorted by key).
// Keyed structure: a static hash directory: key k lives on page
// Fnv1a64(k) % page_count; a page that would overflow refuses the commit
// (kResourceExhausted, nothing logged or changed).
//
// Policy: no-force (a commit forces only its log record; pages are written
// by a background writer and on eviction) and no-steal (a page only ever
// holds committed changes: Commit applies a transaction's changes when it
// commits, the way RmBase::ApplyChanges does), so recovery is redo only.
// Write-ahead rule: a page is written only once every log record that
// changed it is durable (page LSN < Log::durable_lsn()); KTM_ASSERT checks
// it at every page write. Torn pages: whenever a clean page becomes dirty,
// its recovery LSN is an image record of its content (as PostgreSQL's
// full_page_writes): its last one while no checkpoint came after it, else a
// new one logged first (one image per page per checkpoint interval), so
// every page that may be torn (a write in flight at a crash is of a dirty
// page) has its image in the redo range and is rebuilt from it.
// Reads: an operation's missing pages are read in parallel once the pool
// has room for all of them.
// Checkpoint (fuzzy): a record holding the dirty page table (page -> rec LSN)
// and the bitmap of pages ever written; the restart area names it and the
// log base moves to min(checkpoint LSN, every rec LSN).
// Recovery (Open): redo every record from the base; a record before the
// checkpoint is skipped for a page not in the dirty page table or below its
// rec LSN; a record is applied to a page whose page LSN is below it. A page
// that fails its checksum (or reads with a media error) is rebuilt from its
// image record; when the log holds none, recovery (or the read in normal
// operation) refuses with kDataLoss (STATUS_LOG_CORRUPTION_DETECTED).
//
// Operations run one at a time in arrival order (a queue); a Commit's
// completion waits for its log force, the next operation does not.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ktm/log/log.h"
#include "sim/disk.h"

namespace ktm::storage {

inline constexpr uint32_t kPageHeaderBytes = 32;
inline constexpr uint32_t kPageMagic = 0x4B504731;  // "KPG1"
// Log record types of the store (distinct from RmBase's).
inline constexpr uint16_t kRecordPageImage = 0x5301;
inline constexpr uint16_t kRecordRedo = 0x5302;
inline constexpr uint16_t kRecordCheckpoint = 0x5303;

struct StorageOptions {
  log::LogOptions log;                       // the log region of the disk
  uint64_t data_offset = 2 * 1024 * 1024;    // data region start, sector aligned
  uint32_t page_bytes = 4096;                // multiple of the sector size, > kPageHeaderBytes
  uint32_t page_count = 64;                  // hash buckets (= data pages)
  uint32_t frames_max = 16;                  // buffer pool bound (pages in memory), >= 4
  uint32_t page_writes_in_flight_max = 4;    // background writer
  sim::TimeNs writer_interval_ns = 2 * sim::kMillisecond;  // background writer tick
  uint32_t checkpoint_every_commits = 64;    // automatic fuzzy checkpoint; 0: only Checkpoint()
};

// One change of a commit: value nullopt deletes the key.
struct Change {
  std::string key;
  std::optional<std::string> value;
};

struct StorageStats {
  uint64_t page_reads = 0;
  uint64_t page_writes = 0;
  uint64_t page_images_logged = 0;
  uint64_t page_images_reused = 0;    // a clean page dirtied again within its image's checkpoint interval
  uint64_t checkpoints = 0;
  uint64_t pages_repaired = 0;        // rebuilt from an image during recovery
  uint64_t redo_records_scanned = 0;  // records recovery looked at
  uint64_t redo_applied = 0;          // page changes recovery applied
  uint64_t frames_peak = 0;
};

class PageStore {
 public:
  PageStore(sim::Disk* disk, StorageOptions options);
  ~PageStore();
  PageStore(const PageStore&) = delete;
  PageStore& operator=(const PageStore&) = delete;

  // Opens the log and recovers (or formats a new store when the log region
  // was never formatted). Errors: kDataLoss (damage the log cannot repair),
  // kUnavailable (I/O), kInvalidArgument (bad options).
  void Open(std::function<void(absl::Status)> done);
  // Applies changes atomically and completes when its log record is durable.
  // kResourceExhausted (a page or the log is full; nothing changed),
  // kInvalidArgument (more distinct pages than frames_max / 2),
  // kDataLoss (a page it needs is damaged), kFailedPrecondition (not open).
  void Commit(std::vector<Change> changes, std::function<void(absl::Status)> done);
  void Get(std::string key, std::function<void(absl::StatusOr<std::optional<std::string>>)> done);
  // Every key -> value (reads every written page; for tests and checkers).
  void ReadAll(std::function<void(absl::StatusOr<std::map<std::string, std::string>>)> done);
  // Calls record(key, value) for every record, page by page (pages with
  // content only, half the pool at a time, read in parallel; memory stays
  // bounded by the pool), then done. kDataLoss: a page fails its checksum.
  void ScanAll(std::function<void(const std::string&, const std::string&)> record, std::function<void(absl::Status)> done);
  // Inspection for tests and checkers (synchronous, no simulated I/O, like
  // sim::Disk::VisibleSector): every record the store holds now, from the
  // resident frames and, for the other pages with content, the bytes a
  // read would return. kDataLoss: such a page fails its checksum. Not an
  // operation of the store: an RM's reads go through Get.
  absl::StatusOr<std::map<std::string, std::string>> InspectRecords() const;
  // A fuzzy checkpoint now (also taken every checkpoint_every_commits).
  void Checkpoint(std::function<void(absl::Status)> done);

  uint32_t PageOf(const std::string& key) const;
  uint64_t PageOffset(uint32_t page) const { return options_.data_offset + uint64_t{page} * options_.page_bytes; }
  const StorageStats& stats() const { return stats_; }
  size_t frames_in_use() const { return frames_.size(); }
  size_t dirty_pages() const;
  bool open() const { return open_; }
  log::Log* log() const { return log_.get(); }
  // Planted violation for tests: writes a resident dirty page now without
  // waiting for its log records (the write-ahead assertion must fire).
  void WritePageIgnoringWalForTest(uint32_t page);

 private:
  struct Frame {
    std::map<std::string, std::string> records;
    log::Lsn page_lsn = 0;
    log::Lsn rec_lsn = log::kLsnInvalid;  // first change since clean (an image record); invalid: clean
    // The newest image record of this page (kLsnInvalid: none known). Reused
    // as the recovery LSN of a clean page that becomes dirty again while it
    // is newer than the newest checkpoint (one image per checkpoint interval).
    log::Lsn image_lsn = log::kLsnInvalid;
    bool writing = false;
    bool damaged = false;   // recovery only: failed its checksum, awaiting its image
    uint64_t last_use = 0;
  };
  using StatusFn = std::function<void(absl::Status)>;

  void Enqueue(std::function<void()> op);
  void OpDone();
  // Brings page into a frame (reading it if written before), pinned for the
  // current op. tolerate_damage: recovery (mark damaged instead of failing).
  // Brings pages (sorted, distinct) into frames, pinned for the current op;
  // the missing ones are read in parallel. Recovery (!open_) marks a damaged
  // page instead of failing.
  void FetchAll(std::vector<uint32_t> pages, StatusFn done);
  void ReadPages(const std::vector<uint32_t>& pages, bool tolerate_damage, StatusFn done);
  // Frees frames until `needed` more fit (drops clean ones, writes dirty ones).
  void MakeRoom(size_t needed, StatusFn done);
  void ReadPage(uint32_t page, bool tolerate_damage, StatusFn done);
  std::vector<uint8_t> EncodePage(uint32_t page, const Frame& frame) const;
  absl::Status DecodePage(uint32_t page, const std::vector<uint8_t>& bytes, Frame* frame) const;
  uint64_t EncodedBytes(const std::map<std::string, std::string>& records) const;
  void WritePage(uint32_t page, StatusFn done);
  void IssueWrite(uint32_t page);
  void OnWriteDone(uint32_t page, log::Lsn written_lsn, sim::IoStatus status);
  void ArmWriter();
  void WriterTick();
  void CommitFetched(const std::vector<Change>& changes, std::vector<uint32_t> pages, StatusFn done);
  void CheckpointNow(StatusFn done);
  void ScanFrom(uint32_t page, std::shared_ptr<std::function<void(const std::string&, const std::string&)>> record,
                StatusFn done);
  void Recover(log::RecoveredLog recovered, StatusFn done);
  void RedoNext(std::shared_ptr<log::RecoveredLog> recovered, size_t index, StatusFn done);
  absl::Status RedoRecord(const log::LogRecord& record);
  bool RedoSkips(uint32_t page, log::Lsn lsn) const;
  void MarkDirty(Frame& frame, log::Lsn first_lsn);
  // Whether frame's last image record is still in every future redo range.
  bool ImageStillCovers(const Frame& frame) const;
  absl::Status Fail(absl::Status status);

  sim::Disk* disk_;
  StorageOptions options_;
  std::unique_ptr<log::Log> log_;
  bool open_ = false;
  absl::Status failure_;
  std::map<uint32_t, Frame> frames_;
  std::set<uint32_t> pinned_;
  std::vector<bool> written_;   // page has content (on disk or dirty in a frame)
  std::deque<std::function<void()>> ops_;
  bool op_running_ = false;
  std::vector<StatusFn> write_waiters_;   // run when any page write completes
  uint32_t writes_in_flight_ = 0;
  bool writer_armed_ = false;
  uint64_t use_clock_ = 0;
  uint64_t commits_since_checkpoint_ = 0;
  // The newest checkpoint record (appended, or the one recovery started
  // from); an image at or below it may be skipped by redo, so it is not reused.
  log::Lsn last_checkpoint_lsn_ = log::kLsnInvalid;
  // Recovery state.
  log::Lsn checkpoint_lsn_ = log::kLsnInvalid;
  std::map<uint32_t, log::Lsn> checkpoint_dpt_;
  std::map<uint32_t, log::Lsn> image_seen_;  // page -> newest image record redo passed
  StorageStats stats_;
  std::shared_ptr<char> life_ = std::make_shared<char>(0);
};

}  // namespace ktm::storage
