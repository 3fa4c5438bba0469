// PageStore implementation (contract and reasoning in page_store.h and
// docs/rm-storage.md).
#include "ktm/storage/page_store.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "ktm/assert.h"
#include "ktm/codec.h"
#include "ktm/log/log_format.h"

namespace ktm::storage {
namespace {

uint64_t Fnv1a64(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) { h ^= c; h *= 1099511628211ull; }
  return h;
}

void PutU32(std::vector<uint8_t>& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * i));
}
uint32_t GetU32(const std::vector<uint8_t>& b, size_t at) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t{b[at + i]} << (8 * i);
  return v;
}
void PutU64(std::vector<uint8_t>& b, size_t at, uint64_t v) {
  for (int i = 0; i < 8; ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * i));
}
uint64_t GetU64(const std::vector<uint8_t>& b, size_t at) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t{b[at + i]} << (8 * i);
  return v;
}

// Header offsets.
constexpr size_t kMagicAt = 0, kPageIdAt = 4, kPageLsnAt = 8, kLengthAt = 16, kCrcAt = 20;
static_assert(kCrcAt + 4 <= kPageHeaderBytes);

void EncodeRecords(const std::map<std::string, std::string>& records, Writer& w) {
  w.U32(static_cast<uint32_t>(records.size()));
  for (const auto& [key, value] : records) { w.Str(key); w.Str(value); }
}
bool DecodeRecords(Reader& r, std::map<std::string, std::string>* records) {
  const uint32_t count = r.U32();
  for (uint32_t i = 0; i < count && r.ok(); ++i) {
    std::string key = r.Str();
    std::string value = r.Str();
    (*records)[std::move(key)] = std::move(value);
  }
  return r.ok();
}

}  // namespace

PageStore::PageStore(sim::Disk* disk, StorageOptions options)
    : disk_(disk), options_(std::move(options)), written_(options_.page_count, false) {}

PageStore::~PageStore() = default;

uint32_t PageStore::PageOf(const std::string& key) const {
  return static_cast<uint32_t>(Fnv1a64(key) % options_.page_count);
}

size_t PageStore::dirty_pages() const {
  size_t n = 0;
  for (const auto& [page, frame] : frames_) n += frame.rec_lsn != log::kLsnInvalid;
  return n;
}

absl::Status PageStore::Fail(absl::Status status) {
  if (failure_.ok()) failure_ = status;
  open_ = false;
  return status;
}

// ---- The op queue: one operation at a time, each started from the scheduler.
void PageStore::Enqueue(std::function<void()> op) {
  ops_.push_back(std::move(op));
  if (!op_running_) OpDone();
}

void PageStore::OpDone() {
  pinned_.clear();
  if (ops_.empty()) { op_running_ = false; return; }
  op_running_ = true;
  std::weak_ptr<char> life = life_;
  disk_->scheduler()->After(0, [this, life] {
    if (life.expired() || ops_.empty()) return;
    auto op = std::move(ops_.front());
    ops_.pop_front();
    op();
  });
}

// ---- Pages: encoding, reading, the buffer pool.
uint64_t PageStore::EncodedBytes(const std::map<std::string, std::string>& records) const {
  uint64_t bytes = kPageHeaderBytes + 4;
  for (const auto& [key, value] : records) bytes += 8 + key.size() + value.size();
  return bytes;
}

std::vector<uint8_t> PageStore::EncodePage(uint32_t page, const Frame& frame) const {
  Writer w;
  EncodeRecords(frame.records, w);
  const std::vector<uint8_t>& payload = w.data();
  KTM_ASSERT(kPageHeaderBytes + payload.size() <= options_.page_bytes, "page overflow reached a write");
  std::vector<uint8_t> bytes(options_.page_bytes, 0);
  PutU32(bytes, kMagicAt, kPageMagic);
  PutU32(bytes, kPageIdAt, page);
  PutU64(bytes, kPageLsnAt, frame.page_lsn);
  PutU32(bytes, kLengthAt, static_cast<uint32_t>(payload.size()));
  std::copy(payload.begin(), payload.end(), bytes.begin() + kPageHeaderBytes);
  PutU32(bytes, kCrcAt, log::format::Crc32c(bytes));
  return bytes;
}

absl::Status PageStore::DecodePage(uint32_t page, const std::vector<uint8_t>& bytes, Frame* frame) const {
  if (bytes.size() != options_.page_bytes) return absl::DataLossError("short page read");
  std::vector<uint8_t> copy = bytes;
  const uint32_t crc = GetU32(copy, kCrcAt);
  PutU32(copy, kCrcAt, 0);
  const uint32_t length = GetU32(bytes, kLengthAt);
  if (GetU32(bytes, kMagicAt) != kPageMagic || GetU32(bytes, kPageIdAt) != page ||
      log::format::Crc32c(copy) != crc || length > options_.page_bytes - kPageHeaderBytes) {
    return absl::DataLossError(absl::StrCat("page ", page, " fails its checksum (torn or corrupt)"));
  }
  frame->page_lsn = GetU64(bytes, kPageLsnAt);
  frame->records.clear();
  Reader r(std::span<const uint8_t>(bytes).subspan(kPageHeaderBytes, length));
  KTM_ASSERT(DecodeRecords(r, &frame->records) && r.done(), "a page that passed its checksum does not decode");
  return absl::OkStatus();
}

// Brings every page of `pages` (sorted, distinct) into the pool, pinned for
// the current op: resident pages at once, the others read in parallel once
// the pool has room for all of them (recovery reads a damaged page as
// damaged instead of failing). A page whose write is in flight is waited
// for first (a change made now would be missing from the write).
void PageStore::FetchAll(std::vector<uint32_t> pages, StatusFn done) {
  for (uint32_t page : pages) {
    auto it = frames_.find(page);
    if (it != frames_.end() && it->second.writing) {
      write_waiters_.push_back([this, pages = std::move(pages), done = std::move(done)](absl::Status) mutable {
        FetchAll(std::move(pages), std::move(done));
      });
      return;
    }
  }
  auto missing = std::make_shared<std::vector<uint32_t>>();
  for (uint32_t page : pages) {
    auto it = frames_.find(page);
    if (it == frames_.end()) {
      missing->push_back(page);
      continue;
    }
    it->second.last_use = ++use_clock_;
    pinned_.insert(page);
  }
  if (missing->empty()) return done(absl::OkStatus());
  KTM_ASSERT(pinned_.size() + missing->size() <= options_.frames_max, "one op pins more pages than the pool holds");
  MakeRoom(missing->size(), [this, missing, done = std::move(done)](absl::Status status) mutable {
    if (!status.ok()) return done(status);
    ReadPages(*missing, !open_, std::move(done));
  });
}

// Every read is issued at once; done runs when the last completes, with the
// first error (the pages that did read stay in the pool).
void PageStore::ReadPages(const std::vector<uint32_t>& pages, bool tolerate_damage, StatusFn done) {
  struct Pending {
    size_t remaining;
    absl::Status status;
    StatusFn done;
  };
  auto pending = std::make_shared<Pending>(Pending{pages.size(), absl::OkStatus(), std::move(done)});
  for (uint32_t page : pages) {
    KTM_ASSERT(frames_.count(page) == 0, "a page read while resident");
    ReadPage(page, tolerate_damage, [pending](absl::Status status) {
      if (!status.ok() && pending->status.ok()) pending->status = status;
      if (--pending->remaining == 0) pending->done(pending->status);
    });
  }
}

// Frees frames until `needed` more fit: least recently used clean frames are
// dropped; when those are not enough, the least recently used dirty ones are
// written (all that are needed at once) and the call retries once a write
// completes.
void PageStore::MakeRoom(size_t needed, StatusFn done) {
  if (frames_.size() + needed <= options_.frames_max) return done(absl::OkStatus());
  size_t excess = frames_.size() + needed - options_.frames_max;
  std::vector<std::pair<uint64_t, uint32_t>> clean, dirty;
  size_t writing = 0;
  for (const auto& [page, frame] : frames_) {
    if (pinned_.count(page) > 0 || frame.damaged) continue;
    if (frame.writing) {
      ++writing;
    } else {
      (frame.rec_lsn == log::kLsnInvalid ? clean : dirty).emplace_back(frame.last_use, page);
    }
  }
  std::sort(clean.begin(), clean.end());
  for (size_t i = 0; i < clean.size() && excess > 0; ++i, --excess) frames_.erase(clean[i].second);
  if (excess == 0) return done(absl::OkStatus());
  KTM_ASSERT(writing + dirty.size() >= excess,
             "buffer pool full of pinned or damaged frames (frames_max too small for one op)");
  std::sort(dirty.begin(), dirty.end());
  for (size_t i = 0; i < dirty.size() && writing < excess; ++i, ++writing) {
    WritePage(dirty[i].second, [](absl::Status) {});
  }
  write_waiters_.push_back([this, needed, done = std::move(done)](absl::Status status) mutable {
    if (!status.ok()) return done(status);
    MakeRoom(needed, std::move(done));
  });
}

void PageStore::ReadPage(uint32_t page, bool tolerate_damage, StatusFn done) {
  if (!written_[page]) {  // never had content: empty, nothing to read
    Frame frame;
    frame.last_use = ++use_clock_;
    frames_[page] = std::move(frame);
    pinned_.insert(page);
    stats_.frames_peak = std::max<uint64_t>(stats_.frames_peak, frames_.size());
    return done(absl::OkStatus());
  }
  ++stats_.page_reads;
  std::weak_ptr<char> life = life_;
  disk_->Read(PageOffset(page), options_.page_bytes,
              [this, life, page, tolerate_damage, done](sim::IoStatus io, std::vector<uint8_t> bytes) {
    if (life.expired()) return;
    Frame frame;
    absl::Status status = io == sim::IoStatus::kOk
                              ? DecodePage(page, bytes, &frame)
                              : absl::DataLossError(absl::StrCat("page ", page, " read failed: ", sim::IoStatusName(io)));
    if (!status.ok()) {
      if (!tolerate_damage) return done(status);
      frame = Frame{};
      frame.damaged = true;
    }
    if (frames_.count(page) > 0) return done(absl::InternalError("page fetched twice"));
    frame.last_use = ++use_clock_;
    frames_[page] = std::move(frame);
    pinned_.insert(page);
    stats_.frames_peak = std::max<uint64_t>(stats_.frames_peak, frames_.size());
    done(absl::OkStatus());
  });
}

// ---- Writing pages: the write-ahead rule.
void PageStore::WritePage(uint32_t page, StatusFn done) {
  Frame& frame = frames_.at(page);
  KTM_ASSERT(!frame.writing && frame.rec_lsn != log::kLsnInvalid, "WritePage of a clean or busy page");
  write_waiters_.push_back(done);
  const log::Lsn need = frame.page_lsn;
  if (need < log_->durable_lsn()) return IssueWrite(page);
  frame.writing = true;  // reserved: nobody changes it while the log catches up
  std::weak_ptr<char> life = life_;
  log_->Force(need, [this, life, page](absl::Status status) {
    if (life.expired()) return;
    frames_.at(page).writing = false;
    if (!status.ok()) {
      status = Fail(status);
      auto waiters = std::move(write_waiters_);
      write_waiters_.clear();
      for (auto& waiter : waiters) waiter(status);
      return;
    }
    IssueWrite(page);
  });
}

void PageStore::IssueWrite(uint32_t page) {
  Frame& frame = frames_.at(page);
  KTM_ASSERT(frame.page_lsn < log_->durable_lsn(),
             absl::StrCat("write-ahead rule: page ", page, " (page LSN ", frame.page_lsn,
                          ") would reach the disk before its log records (durable LSN ",
                          log_->durable_lsn(), ")"));
  frame.writing = true;
  ++writes_in_flight_;
  const log::Lsn written_lsn = frame.page_lsn;
  std::weak_ptr<char> life = life_;
  disk_->Write(PageOffset(page), EncodePage(page, frame), /*fua=*/true,
               [this, life, page, written_lsn](sim::IoStatus status) {
    if (life.expired()) return;
    OnWriteDone(page, written_lsn, status);
  });
}

void PageStore::OnWriteDone(uint32_t page, log::Lsn written_lsn, sim::IoStatus status) {
  --writes_in_flight_;
  Frame& frame = frames_.at(page);
  frame.writing = false;
  absl::Status result = absl::OkStatus();
  if (status == sim::IoStatus::kOk) {
    ++stats_.page_writes;
    KTM_ASSERT(frame.page_lsn == written_lsn, "a page changed while its write was in flight");
    frame.rec_lsn = log::kLsnInvalid;
  } else {
    result = Fail(absl::UnavailableError(absl::StrCat("page ", page, " write failed: ", sim::IoStatusName(status))));
  }
  auto waiters = std::move(write_waiters_);
  write_waiters_.clear();
  for (auto& waiter : waiters) waiter(result);
  ArmWriter();
}

void PageStore::WritePageIgnoringWalForTest(uint32_t page) { IssueWrite(page); }

// Background writer: every writer_interval_ns, writes the dirty pages with
// the oldest recovery LSNs (that moves the next checkpoint's redo point).
void PageStore::ArmWriter() {
  if (writer_armed_ || !open_ || dirty_pages() == 0) return;
  writer_armed_ = true;
  std::weak_ptr<char> life = life_;
  disk_->scheduler()->After(options_.writer_interval_ns, [this, life] {
    if (life.expired()) return;
    writer_armed_ = false;
    WriterTick();
  });
}

void PageStore::WriterTick() {
  if (!open_) return;
  std::vector<std::pair<log::Lsn, uint32_t>> candidates;
  for (const auto& [page, frame] : frames_) {
    if (frame.rec_lsn != log::kLsnInvalid && !frame.writing && pinned_.count(page) == 0) {
      candidates.emplace_back(frame.rec_lsn, page);
    }
  }
  std::sort(candidates.begin(), candidates.end());
  for (const auto& [rec_lsn, page] : candidates) {
    if (writes_in_flight_ >= options_.page_writes_in_flight_max) break;
    WritePage(page, [](absl::Status) {});
  }
  ArmWriter();
}

bool PageStore::ImageStillCovers(const Frame& frame) const {
  return frame.image_lsn != log::kLsnInvalid &&
         (last_checkpoint_lsn_ == log::kLsnInvalid || frame.image_lsn > last_checkpoint_lsn_) &&
         frame.image_lsn >= log_->base_lsn();
}

void PageStore::MarkDirty(Frame& frame, log::Lsn first_lsn) {
  if (frame.rec_lsn == log::kLsnInvalid) frame.rec_lsn = first_lsn;
}

// ---- Open and recovery.
void PageStore::Open(std::function<void(absl::Status)> done) {
  const uint32_t sector = disk_->options().sector_size;
  const uint64_t data_end = options_.data_offset + uint64_t{options_.page_count} * options_.page_bytes;
  const uint64_t log_end = options_.log.disk_offset + options_.log.size_bytes;
  if (options_.page_bytes % sector != 0 || options_.page_bytes <= kPageHeaderBytes + 4 ||
      options_.data_offset % sector != 0 || options_.frames_max < 4 || options_.page_count == 0 ||
      data_end > disk_->size_bytes() ||
      !(data_end <= options_.log.disk_offset || options_.data_offset >= log_end)) {
    return done(absl::InvalidArgumentError("storage options: bad page size, frames or overlapping regions"));
  }
  // Tells the disk where the data pages are, so the fault plan can aim at them (page_torn, ...).
  disk_->TagRegion(sim::DiskRegionKind::kDataPages, options_.data_offset, data_end - options_.data_offset);
  log_ = std::make_unique<log::Log>(disk_, options_.log);
  if (uint64_t{options_.page_bytes} + 64 > log_->record_payload_max()) {
    return done(absl::InvalidArgumentError("storage options: a page image does not fit one log record"));
  }
  std::weak_ptr<char> life = life_;
  log_->Open([this, life, done](absl::StatusOr<log::RecoveredLog> recovered) {
    if (life.expired()) return;
    if (recovered.ok()) return Recover(*std::move(recovered), done);
    if (!absl::IsNotFound(recovered.status())) return done(recovered.status());
    log_ = std::make_unique<log::Log>(disk_, options_.log);
    log_->Format([this, life, done](absl::Status status) {
      if (life.expired()) return;
      if (status.ok()) open_ = true;
      done(status);
    });
  });
}

void PageStore::Recover(log::RecoveredLog recovered, StatusFn done) {
  if (recovered.has_restart_area && recovered.restart_payload.size() >= 8) {
    Reader r(recovered.restart_payload);
    checkpoint_lsn_ = r.U64();
    last_checkpoint_lsn_ = checkpoint_lsn_;
    bool found = false;
    for (const log::LogRecord& record : recovered.records) {
      if (record.lsn != checkpoint_lsn_) continue;
      KTM_ASSERT(record.type == kRecordCheckpoint, "the restart area names a record that is not a checkpoint");
      Reader c(record.payload);
      const uint32_t dirty = c.U32();
      for (uint32_t i = 0; i < dirty && c.ok(); ++i) {
        const uint32_t page = c.U32();
        checkpoint_dpt_[page] = c.U64();
      }
      const std::vector<uint8_t> bitmap = c.Bytes();
      KTM_ASSERT(c.done() && bitmap.size() == (options_.page_count + 7) / 8, "checkpoint record does not decode");
      for (uint32_t p = 0; p < options_.page_count; ++p) written_[p] = (bitmap[p / 8] >> (p % 8)) & 1;
      found = true;
    }
    if (!found) return done(Fail(absl::DataLossError("the checkpoint record named by the restart area is missing")));
  }
  auto shared = std::make_shared<log::RecoveredLog>(std::move(recovered));
  Enqueue([this, shared, done] { RedoNext(shared, 0, done); });
}

bool PageStore::RedoSkips(uint32_t page, log::Lsn lsn) const {
  if (checkpoint_lsn_ == log::kLsnInvalid || lsn > checkpoint_lsn_) return false;
  auto it = checkpoint_dpt_.find(page);
  return it == checkpoint_dpt_.end() || lsn < it->second;  // ARIES: not dirty then, or already on disk
}

// One record at a time: fetch the pages it touches (tolerating damage), then redo it.
void PageStore::RedoNext(std::shared_ptr<log::RecoveredLog> recovered, size_t index, StatusFn done) {
  pinned_.clear();
  if (index == recovered->records.size()) {
    for (const auto& [page, frame] : frames_) {
      KTM_ASSERT(!frame.damaged, "a damaged page survived redo");
    }
    open_ = true;
    ArmWriter();
    OpDone();
    return done(absl::OkStatus());
  }
  const log::LogRecord& record = recovered->records[index];
  ++stats_.redo_records_scanned;
  std::vector<uint32_t> pages;
  if (record.type == kRecordPageImage) {
    Reader r(record.payload);
    pages.push_back(r.U32());
  } else if (record.type == kRecordRedo) {
    Reader r(record.payload);
    const uint32_t count = r.U32();
    for (uint32_t i = 0; i < count && r.ok(); ++i) {
      pages.push_back(PageOf(r.Str()));
      r.U8();
      r.Str();
    }
  }
  std::erase_if(pages, [&](uint32_t page) { return page >= options_.page_count || RedoSkips(page, record.lsn); });
  std::sort(pages.begin(), pages.end());
  pages.erase(std::unique(pages.begin(), pages.end()), pages.end());
  FetchAll(std::move(pages), [this, recovered, index, done](absl::Status status) {
    if (status.ok()) status = RedoRecord(recovered->records[index]);
    if (!status.ok()) {
      OpDone();
      return done(Fail(status));
    }
    std::weak_ptr<char> life = life_;
    disk_->scheduler()->After(0, [this, life, recovered, index, done] {
      if (!life.expired()) RedoNext(recovered, index + 1, done);
    });
  });
}

absl::Status PageStore::RedoRecord(const log::LogRecord& record) {
  Reader r(record.payload);
  if (record.type == kRecordPageImage) {
    const uint32_t page = r.U32();
    if (page >= options_.page_count || RedoSkips(page, record.lsn)) return absl::OkStatus();
    std::map<std::string, std::string> image;
    KTM_ASSERT(DecodeRecords(r, &image) && r.done(), "page image record does not decode");
    Frame& frame = frames_.at(page);
    image_seen_[page] = record.lsn;
    frame.image_lsn = record.lsn;
    written_[page] = true;
    if (frame.damaged || frame.page_lsn < record.lsn) {
      if (frame.damaged) ++stats_.pages_repaired;
      frame.damaged = false;
      frame.records = std::move(image);
      frame.page_lsn = record.lsn;
      MarkDirty(frame, record.lsn);
      ++stats_.redo_applied;
    }
    return absl::OkStatus();
  }
  if (record.type != kRecordRedo) return absl::OkStatus();
  const uint32_t count = r.U32();
  for (uint32_t i = 0; i < count; ++i) {
    std::string key = r.Str();
    const bool present = r.U8() != 0;
    std::string value = r.Str();
    KTM_ASSERT(r.ok(), "redo record does not decode");
    const uint32_t page = PageOf(key);
    if (RedoSkips(page, record.lsn)) continue;
    Frame& frame = frames_.at(page);
    if (frame.damaged) {
      return absl::DataLossError(absl::StrCat("page ", page, " is torn or corrupt and the log holds no image of it "
                                              "(STATUS_LOG_CORRUPTION_DETECTED)"));
    }
    if (frame.page_lsn >= record.lsn) continue;  // already on the page
    if (present) frame.records[key] = std::move(value); else frame.records.erase(key);
    ++stats_.redo_applied;
    if (frame.rec_lsn == log::kLsnInvalid) {
      auto seen = image_seen_.find(page);
      KTM_ASSERT(seen != image_seen_.end(), "redo dirtied a page whose image record it never passed");
      frame.rec_lsn = seen->second;
    }
  }
  // page LSNs move once per record (a record may touch a page for several keys).
  Reader again(record.payload);
  const uint32_t n = again.U32();
  for (uint32_t i = 0; i < n; ++i) {
    const uint32_t page = PageOf(again.Str());
    again.U8();
    again.Str();
    if (RedoSkips(page, record.lsn)) continue;
    Frame& frame = frames_.at(page);
    frame.page_lsn = std::max(frame.page_lsn, record.lsn);
  }
  return absl::OkStatus();
}

// ---- Operations.
void PageStore::Commit(std::vector<Change> changes, std::function<void(absl::Status)> done) {
  std::vector<uint32_t> pages;
  for (const Change& change : changes) pages.push_back(PageOf(change.key));
  std::sort(pages.begin(), pages.end());
  pages.erase(std::unique(pages.begin(), pages.end()), pages.end());
  if (pages.size() > options_.frames_max / 2) {
    return done(absl::InvalidArgumentError("commit touches more pages than half the buffer pool"));
  }
  // Held by one shared pointer: the fetch chain copies its callbacks (into
  // write waiters, MakeRoom and ReadPage continuations), and a by-value
  // capture would copy the whole batch at every step of every page.
  auto shared = std::make_shared<const std::vector<Change>>(std::move(changes));
  Enqueue([this, shared, pages, done = std::move(done)]() mutable {
    if (!open_) { OpDone(); return done(absl::FailedPreconditionError("store not open")); }
    FetchAll(pages, [this, shared, pages, done = std::move(done)](absl::Status status) mutable {
      if (!status.ok()) { OpDone(); return done(status); }
      CommitFetched(*shared, std::move(pages), std::move(done));
    });
  });
}

void PageStore::CommitFetched(const std::vector<Change>& changes, std::vector<uint32_t> pages, StatusFn done) {
  // Check every page still fits before logging anything.
  std::map<uint32_t, std::map<std::string, std::string>> after;
  for (uint32_t page : pages) after[page] = frames_.at(page).records;
  Writer redo;
  redo.U32(static_cast<uint32_t>(changes.size()));
  for (const Change& change : changes) {
    auto& records = after[PageOf(change.key)];
    if (change.value.has_value()) records[change.key] = *change.value; else records.erase(change.key);
    redo.Str(change.key);
    redo.U8(change.value.has_value() ? 1 : 0);
    redo.Str(change.value.value_or(""));
  }
  for (const auto& [page, records] : after) {
    if (EncodedBytes(records) > options_.page_bytes) {
      OpDone();
      return done(absl::ResourceExhaustedError(absl::StrCat("page ", page, " is full")));
    }
  }
  // A clean page becoming dirty needs an image in the redo range: its recovery
  // LSN (torn-page repair). The page's last image serves while no checkpoint
  // came after it (redo never skips a record newer than the checkpoint, and
  // only a checkpoint moves the log base); else a new one is logged first.
  std::map<uint32_t, log::Lsn> images;
  for (uint32_t page : pages) {
    Frame& frame = frames_.at(page);
    if (frame.rec_lsn != log::kLsnInvalid) continue;
    if (ImageStillCovers(frame)) {
      images[page] = frame.image_lsn;
      ++stats_.page_images_reused;
      continue;
    }
    Writer image;
    image.U32(page);
    EncodeRecords(frame.records, image);
    absl::StatusOr<log::Lsn> lsn = log_->Append(kRecordPageImage, image.data());
    if (!lsn.ok()) { OpDone(); return done(lsn.status()); }
    images[page] = *lsn;
    frame.image_lsn = *lsn;
    ++stats_.page_images_logged;
  }
  absl::StatusOr<log::Lsn> lsn = log_->Append(kRecordRedo, redo.data());
  if (!lsn.ok()) { OpDone(); return done(lsn.status()); }
  for (uint32_t page : pages) {
    Frame& frame = frames_.at(page);
    frame.records = std::move(after[page]);
    frame.page_lsn = *lsn;
    written_[page] = true;
    if (frame.rec_lsn == log::kLsnInvalid) frame.rec_lsn = images.at(page);
  }
  std::weak_ptr<char> life = life_;
  log_->Force(*lsn, [life, done](absl::Status status) {
    if (!life.expired()) done(status);
  });
  ArmWriter();
  if (options_.checkpoint_every_commits > 0 && ++commits_since_checkpoint_ >= options_.checkpoint_every_commits) {
    commits_since_checkpoint_ = 0;
    ops_.push_front([this] { CheckpointNow([](absl::Status) {}); });
  }
  OpDone();
}

void PageStore::Get(std::string key, std::function<void(absl::StatusOr<std::optional<std::string>>)> done) {
  Enqueue([this, key = std::move(key), done] {
    if (!open_) { OpDone(); return done(absl::FailedPreconditionError("store not open")); }
    const uint32_t page = PageOf(key);
    FetchAll({page}, [this, page, key, done](absl::Status status) {
      OpDone();
      if (!status.ok()) return done(status);
      const Frame& frame = frames_.at(page);
      auto it = frame.records.find(key);
      if (it == frame.records.end()) return done(std::optional<std::string>());
      done(std::optional<std::string>(it->second));
    });
  });
}

absl::StatusOr<std::map<std::string, std::string>> PageStore::InspectRecords() const {
  std::map<std::string, std::string> all;
  const uint32_t sector = disk_->options().sector_size;
  for (uint32_t page = 0; page < options_.page_count; ++page) {
    auto it = frames_.find(page);
    if (it != frames_.end()) {
      all.insert(it->second.records.begin(), it->second.records.end());
      continue;
    }
    if (!written_[page]) continue;
    std::vector<uint8_t> bytes;
    bytes.reserve(options_.page_bytes);
    const uint64_t first = PageOffset(page) / sector;
    for (uint64_t s = first; s < first + options_.page_bytes / sector; ++s) {
      const std::vector<uint8_t> one = disk_->VisibleSector(s);
      bytes.insert(bytes.end(), one.begin(), one.end());
    }
    Frame frame;
    if (absl::Status status = DecodePage(page, bytes, &frame); !status.ok()) return status;
    all.insert(frame.records.begin(), frame.records.end());
  }
  return all;
}

void PageStore::ReadAll(std::function<void(absl::StatusOr<std::map<std::string, std::string>>)> done) {
  auto all = std::make_shared<std::map<std::string, std::string>>();
  ScanAll(
      [all](const std::string& key, const std::string& value) { (*all)[key] = value; },
      [all, done](absl::Status status) {
        if (!status.ok()) return done(status);
        done(std::move(*all));
      });
}

void PageStore::ScanAll(std::function<void(const std::string&, const std::string&)> record, StatusFn done) {
  Enqueue([this, record = std::move(record), done = std::move(done)]() mutable {
    if (!open_) { OpDone(); return done(absl::FailedPreconditionError("store not open")); }
    ScanFrom(0, std::make_shared<std::function<void(const std::string&, const std::string&)>>(std::move(record)),
             std::move(done));
  });
}

// A window of pages with content (half the pool) per step, read in
// parallel, one step per scheduler event (no recursion over thousands of pages).
void PageStore::ScanFrom(uint32_t page, std::shared_ptr<std::function<void(const std::string&, const std::string&)>> record,
                         StatusFn done) {
  pinned_.clear();
  std::vector<uint32_t> window;
  uint32_t next = page;
  for (; next < options_.page_count && window.size() < options_.frames_max / 2; ++next) {
    if (written_[next] || frames_.count(next) > 0) window.push_back(next);
  }
  if (window.empty()) {
    OpDone();
    return done(absl::OkStatus());
  }
  FetchAll(window, [this, window, next, record, done = std::move(done)](absl::Status status) mutable {
    if (!status.ok()) { OpDone(); return done(status); }
    for (uint32_t p : window) {
      for (const auto& [key, value] : frames_.at(p).records) (*record)(key, value);
    }
    std::weak_ptr<char> life = life_;
    disk_->scheduler()->After(0, [this, life, next, record, done = std::move(done)]() mutable {
      if (!life.expired()) ScanFrom(next, record, std::move(done));
    });
  });
}

void PageStore::Checkpoint(std::function<void(absl::Status)> done) {
  Enqueue([this, done] { CheckpointNow(done); });
}

// Fuzzy: nothing is written but the record and the restart area; dirty pages stay dirty.
void PageStore::CheckpointNow(StatusFn done) {
  if (!open_) { OpDone(); return done(absl::FailedPreconditionError("store not open")); }
  Writer w;
  log::Lsn redo_point = log::kLsnInvalid;
  std::vector<std::pair<uint32_t, log::Lsn>> dpt;
  for (const auto& [page, frame] : frames_) {
    if (frame.rec_lsn == log::kLsnInvalid) continue;
    dpt.emplace_back(page, frame.rec_lsn);
    redo_point = std::min(redo_point, frame.rec_lsn);
  }
  w.U32(static_cast<uint32_t>(dpt.size()));
  for (const auto& [page, rec_lsn] : dpt) { w.U32(page); w.U64(rec_lsn); }
  std::vector<uint8_t> bitmap((options_.page_count + 7) / 8, 0);
  for (uint32_t p = 0; p < options_.page_count; ++p) {
    if (written_[p]) bitmap[p / 8] |= static_cast<uint8_t>(1u << (p % 8));
  }
  w.Bytes(bitmap);
  absl::StatusOr<log::Lsn> lsn = log_->Append(kRecordCheckpoint, w.data());
  if (!lsn.ok()) { OpDone(); return done(lsn.status()); }
  redo_point = std::min(redo_point, *lsn);
  last_checkpoint_lsn_ = *lsn;
  Writer restart;
  restart.U64(*lsn);
  ++stats_.checkpoints;
  std::weak_ptr<char> life = life_;
  log_->WriteRestartArea(restart.data(), std::max(redo_point, log_->base_lsn()),
                         [life, done](absl::Status status) {
    if (!life.expired()) done(status);
  });
  OpDone();
}

}  // namespace ktm::storage
