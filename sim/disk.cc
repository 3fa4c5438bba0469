// Disk: a block device with a volatile write cache and a crash fault model.
//
// State: media_ (durable; chunks of 64 sectors allocated on first write),
// cache_ (completed, unflushed writes; each entry tagged with the completion
// order of its write, bytes in a slot pool), and the requests in flight.
// Never-written sectors read as GarbageBytes (sim/rng_bytes.h) of the
// garbage seed and the sector, generated on every read.
// - Write completion puts sectors in the cache (FUA: on the media, and drops
//   the now older cache entry). A copied write whose bytes are all zeros
//   keeps none (PendingWrite::zeros), and on the media its sectors are zero
//   marks (MediaChunk::zero); they read back as zeros.
// - Flush remembers the completion counter when it is issued; on completion
//   it moves cache entries at or below that mark to the media. If a write
//   would overwrite a cache entry that an in-flight Flush must persist, the
//   old entry is written back to the media first (a cache may write back at
//   any time), so the Flush still persists what completed before it.
// - Crash: each cached sector, then each sector of each in-flight write (in
//   request order), independently reaches the media with probability
//   unflushed_survive_probability, drawn from Rng::Derive(crash_seed,
//   "disk.crash") in that fixed order; all volatile state is dropped and
//   callbacks of requests in flight never run.
// - Zero-length requests are valid no-ops (offset must be <= size).
// - Region write faults (disk.h): the armed fault fires in Write for the
//   first write inside a region of its kind; kTorn schedules the crash at
//   once and makes the next Crash keep only a prefix of that write; kLost
//   marks the write so FinishWrite stores nothing and schedules the crash
//   after its callback. A scheduled crash carries the epoch and does nothing
//   once the disk crashed another way.
// Every completed request is traced as disk.write / disk.read / disk.flush.
#include "sim/disk.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

#include "sim/invariant.h"
#include "sim/rng_bytes.h"

namespace sim {
namespace {

// The garbage of never-written `sector`: GarbageBytes keyed by the garbage
// seed ^ scrambled sector (about the cost of a copy, so not cached).
void GenerateGarbage(uint64_t garbage_seed, uint64_t sector, std::span<uint8_t> out) {
  GarbageBytes(garbage_seed ^ (sector * 0x9e3779b97f4a7c15ull), out);
}

// Whether data (whole sectors) holds only zeros, and something: one sector
// compared at a time (a written block's first sector differs at once).
bool AllZeroSectors(std::span<const uint8_t> data, const std::vector<uint8_t>& zero_sector) {
  for (size_t at = 0; at < data.size(); at += zero_sector.size()) {
    if (std::memcmp(data.data() + at, zero_sector.data(), zero_sector.size()) != 0) return false;
  }
  return !data.empty();
}

[[noreturn]] void DiskFail(const std::string& name, const char* what, uint64_t value) {
  if (InvariantTrapped()) {
    FailInvariant("sim::Disk " + name, std::string(what) + " (" + std::to_string(value) + ")", __FILE__, __LINE__);
  }
  std::fprintf(stderr, "sim::Disk %s: %s (%" PRIu64 ")\n", name.c_str(), what, value);
  std::abort();
}

}  // namespace

namespace {

// The names of IoStatus values, in enum order, with their digest words.
constexpr TraceName kIoStatusNames[] = {"ok", "out_of_range", "misaligned", "busy", "media_error"};
static_assert(std::size(kIoStatusNames) == static_cast<size_t>(IoStatus::kMediaError) + 1);

constexpr TraceName IoStatusTraceName(IoStatus status) {
  const auto index = static_cast<size_t>(status);
  return index < std::size(kIoStatusNames) ? kIoStatusNames[index] : TraceName("unknown");
}

}  // namespace

const char* IoStatusName(IoStatus status) { return IoStatusTraceName(status).text.data(); }

const char* DiskRegionKindName(DiskRegionKind kind) {
  switch (kind) {
    case DiskRegionKind::kDataPages:
      return "data pages";
  }
  return "unknown";
}

Disk::Disk(Scheduler* scheduler, Trace* trace, uint32_t host, std::string name, uint64_t seed,
           DiskOptions options)
    : scheduler_(scheduler),
      trace_(trace),
      host_(host),
      name_(std::move(name)),
      name_trace_(std::string_view(name_)),
      seed_(seed),
      garbage_seed_(Rng::Derive(seed, "disk.garbage").Next()),
      options_(options),
      latency_rng_(Rng::Derive(seed, "disk.latency")),
      zero_sector_(options.sector_size, 0) {
  if (options_.sector_size == 0) DiskFail(name_, "sector_size must be > 0", 0);
  if (options_.sector_count == 0) DiskFail(name_, "sector_count must be > 0", 0);
  if (options_.sector_count > UINT64_MAX / options_.sector_size) {
    DiskFail(name_, "size overflows", options_.sector_count);
  }
}

IoStatus Disk::Check(uint64_t offset, uint64_t length) const {
  const uint64_t sector_size = options_.sector_size;
  if (offset % sector_size != 0 || length % sector_size != 0) return IoStatus::kMisaligned;
  const uint64_t size = size_bytes();
  if (offset > size || length > size - offset) return IoStatus::kOutOfRange;
  return IoStatus::kOk;
}

[[gnu::always_inline]] inline void Disk::TraceOp(Op op, uint64_t offset, uint64_t length, int fua,
                                                IoStatus status) {
  // The constant texts with their digest words computed by the compiler:
  // the same words as hashing the text per event, so the digest is unchanged.
  // Numbers recorded as numbers (text only if somebody wants it).
  static constexpr TraceName kFua[2] = {"0", "1"};
  static constexpr TraceName kKinds[3] = {"disk.write", "disk.read", "disk.flush"};
  const TimeNs now = scheduler_->Now();
  const TraceField disk("disk", name_trace_);
  const TraceField status_field("status", IoStatusTraceName(status));
  // Without an offset (a flush, or a rejected request at offset UINT64_MAX)
  // there are no off/len fields; without a fua flag (-1) no fua field.
  if (offset == UINT64_MAX) {
    if (fua >= 0) {
      trace_->RecordEach(now, host_, kKinds[static_cast<size_t>(op)], disk, TraceField("fua", kFua[fua ? 1 : 0]),
                         status_field);
    } else {
      trace_->RecordEach(now, host_, kKinds[static_cast<size_t>(op)], disk, status_field);
    }
  } else if (fua >= 0) {
    trace_->RecordEach(now, host_, kKinds[static_cast<size_t>(op)], disk, TraceField("off", offset),
                       TraceField("len", length), TraceField("fua", kFua[fua ? 1 : 0]), status_field);
  } else {
    trace_->RecordEach(now, host_, kKinds[static_cast<size_t>(op)], disk, TraceField("off", offset),
                       TraceField("len", length), status_field);
  }
}

void Disk::Reject(Op op, uint64_t offset, uint64_t length, int fua_field, IoStatus status, Done done) {
  scheduler_->After(
      0, [this, epoch = epoch_, op, offset, length, fua_field, status, done = std::move(done)] {
        if (epoch != epoch_) return;  // crashed since: the callback never runs
        ++stats_.errors;
        TraceOp(op, offset, length, fua_field, status);
        done(status);
      });
}

uint64_t Disk::RejectWrite(uint64_t offset, uint64_t length, bool fua, IoStatus status, Done done) {
  const uint64_t request = next_request_++;
  rejected_writes_.emplace_hint(rejected_writes_.end(), request, std::move(done));
  scheduler_->After(0, [this, epoch = epoch_, request, offset, length, fua, status] {
    if (epoch != epoch_) return;  // crashed since: the callback never runs
    auto node = rejected_writes_.extract(request);
    ++stats_.errors;
    TraceOp(Op::kWrite, offset, length, fua ? 1 : 0, status);
    if (!node.empty() && node.mapped()) node.mapped()(status);  // unless abandoned
  });
  return request;
}

// Inline into Write and WriteSwapping (their only callers): no call more per write.
[[gnu::always_inline]] inline uint64_t Disk::WriteImpl(uint64_t offset, std::span<const uint8_t> data,
                                                       std::vector<uint8_t>* swap, bool fua, Done& done) {
  const uint64_t length = data.size();
  IoStatus status = Check(offset, length);
  if (status == IoStatus::kOk && inflight_ >= options_.inflight_max) status = IoStatus::kBusy;
  if (status != IoStatus::kOk) [[unlikely]] return RejectWrite(offset, length, fua, status, std::move(done));
  ++inflight_;
  const uint64_t request = next_request_++;
  uint32_t slot;
  if (!free_write_slots_.empty()) {
    slot = free_write_slots_.back();
    free_write_slots_.pop_back();
  } else {
    if (write_slots_.size() >= UINT32_MAX) DiskFail(name_, "too many write slots", write_slots_.size());
    slot = static_cast<uint32_t>(write_slots_.size());
    write_slots_.emplace_back();
  }
  PendingWrite& write = write_slots_[slot];
  write.request = request;
  write.first_sector = offset / options_.sector_size;
  write.fua = fua;
  write.length = length;
  write.zeros = swap == nullptr && AllZeroSectors(data, zero_sector_);
  if (swap != nullptr) {
    write.data.swap(*swap);  // the caller gets the slot's old buffer
  } else if (!write.zeros) {
    write.data.assign(data.begin(), data.end());  // reuses the slot's buffer
  }
  write.done = std::move(done);
  write.lose = false;
  ++writes_in_flight_;
  if (armed_) MaybeFireRegionFault(slot, request, write.first_sector, length / options_.sector_size);
  TimeNs delay = SampleLatency(options_.write_latency);
  if (fua) delay += SampleLatency(options_.fua_extra_latency);
  scheduler_->After(delay, [this, slot, request] { FinishWrite(slot, request); });
  return request;
}

uint64_t Disk::Write(uint64_t offset, std::span<const uint8_t> data, bool fua, Done&& done) {
  return WriteImpl(offset, data, nullptr, fua, done);
}

uint64_t Disk::WriteSwapping(uint64_t offset, std::vector<uint8_t>* data, bool fua, Done&& done) {
  return WriteImpl(offset, *data, data, fua, done);
}

void Disk::Abandon(uint64_t request) {
  for (PendingWrite& write : write_slots_) {
    if (write.request == request) write.done = nullptr;
  }
  if (auto it = rejected_writes_.find(request); it != rejected_writes_.end()) it->second = nullptr;
}

std::vector<uint32_t> Disk::WriteSlotsInRequestOrder() const {
  std::vector<uint32_t> slots;
  slots.reserve(writes_in_flight_);
  for (uint32_t i = 0; i < write_slots_.size(); ++i) {
    if (write_slots_[i].request != 0) slots.push_back(i);
  }
  std::sort(slots.begin(), slots.end(),
            [this](uint32_t a, uint32_t b) { return write_slots_[a].request < write_slots_[b].request; });
  return slots;
}

inline Disk::MediaChunk& Disk::MediaChunkFor(uint64_t chunk_index) {
  if (chunk_index == last_chunk_index_) [[likely]] return *last_chunk_;
  return FindMediaChunk(chunk_index);
}

[[gnu::noinline]] Disk::MediaChunk& Disk::FindMediaChunk(uint64_t chunk_index) {
  std::unique_ptr<MediaChunk>& chunk = media_[chunk_index];
  if (!chunk) {
    chunk = std::make_unique<MediaChunk>();
  }
  last_chunk_index_ = chunk_index;
  last_chunk_ = chunk.get();
  return *chunk;
}

inline uint8_t* Disk::ChunkBytes(MediaChunk& chunk) {
  if (!chunk.bytes) [[unlikely]] {
    chunk.bytes.reset(new uint8_t[kChunkSectors * options_.sector_size]);  // default-initialised: not zeroed
  }
  return chunk.bytes.get();
}

inline void Disk::SetMedia(uint64_t sector, const uint8_t* bytes) {
  const uint64_t sector_size = options_.sector_size;
  MediaChunk& chunk = MediaChunkFor(sector / kChunkSectors);
  const uint64_t index = sector % kChunkSectors;
  const uint64_t bit = uint64_t{1} << index;
  if ((chunk.present & bit) == 0) ++media_sectors_;
  chunk.present |= bit;
  chunk.zero &= ~bit;
  std::memcpy(ChunkBytes(chunk) + index * sector_size, bytes, sector_size);
}

// bytes == nullptr: zeros (SetMediaZeros).
void Disk::SetMediaRun(uint64_t first_sector, uint64_t sector_count, const uint8_t* bytes) {
  const uint64_t sector_size = options_.sector_size;
  uint64_t sector = first_sector;
  const uint64_t end = first_sector + sector_count;
  while (sector < end) {
    // The sectors of this run inside one chunk: [index, index + count).
    MediaChunk& chunk = MediaChunkFor(sector / kChunkSectors);
    const uint64_t index = sector % kChunkSectors;
    const uint64_t count = std::min(end - sector, kChunkSectors - index);
    const uint64_t bits = count == kChunkSectors ? ~uint64_t{0} : ((uint64_t{1} << count) - 1) << index;
    for (uint64_t added = bits & ~chunk.present; added != 0; added &= added - 1) ++media_sectors_;
    chunk.present |= bits;
    if (bytes == nullptr) {
      chunk.zero |= bits;
    } else {
      chunk.zero &= ~bits;
      std::memcpy(ChunkBytes(chunk) + index * sector_size, bytes, count * sector_size);
      bytes += count * sector_size;
    }
    sector += count;
  }
}

void Disk::SetMediaZeros(uint64_t first_sector, uint64_t sector_count) {
  SetMediaRun(first_sector, sector_count, nullptr);
}

uint32_t Disk::NewCacheSlot() {
  if (!cache_free_slots_.empty()) {
    const uint32_t slot = cache_free_slots_.back();
    cache_free_slots_.pop_back();
    return slot;
  }
  const uint64_t slots = cache_pool_.size() / options_.sector_size;
  if (slots >= UINT32_MAX) DiskFail(name_, "cache too large", slots);
  cache_pool_.resize(cache_pool_.size() + options_.sector_size);
  return static_cast<uint32_t>(slots);
}

void Disk::StoreInCache(uint64_t sector, const uint8_t* bytes) {
  const uint64_t version = ++writes_completed_;
  const size_t sector_size = options_.sector_size;
  auto it = cache_.find(sector);
  if (it == cache_.end()) {
    const uint32_t slot = NewCacheSlot();
    std::memcpy(CacheBytes(slot), bytes, sector_size);
    cache_.emplace(sector, CacheEntry{slot, version});
    return;
  }
  // An in-flight Flush must persist the entry being replaced: write it back now.
  if (!in_flight_flushes_.empty() &&
      it->second.version <= in_flight_flushes_.rbegin()->second.watermark) {
    SetMedia(sector, CacheBytes(it->second.slot));
  }
  std::memcpy(CacheBytes(it->second.slot), bytes, sector_size);
  it->second.version = version;
}

void Disk::FinishWrite(uint32_t slot, uint64_t request) {
  // Dropped by a crash: the slot is free, or already holds a later write.
  if (slot >= write_slots_.size() || write_slots_[slot].request != request) return;
  PendingWrite& write = write_slots_[slot];
  --inflight_;
  const uint64_t sector_size = options_.sector_size;
  const uint64_t sectors = write.lose ? 0 : write.length / sector_size;
  if (write.fua) {
    // On the media in one pass (a chunk lookup per chunk, not per sector;
    // the usual FUA write is one sector: SetMedia, inline); the now older
    // cache entries dropped (none, usually: skip the lookups).
    if (write.zeros) {
      SetMediaZeros(write.first_sector, sectors);
    } else if (sectors == 1) {
      SetMedia(write.first_sector, write.data.data());
    } else {
      SetMediaRun(write.first_sector, sectors, write.data.data());
    }
    if (!cache_.empty()) {
      for (uint64_t i = 0; i < sectors; ++i) {
        if (auto it = cache_.find(write.first_sector + i); it != cache_.end()) {
          cache_free_slots_.push_back(it->second.slot);
          cache_.erase(it);
        }
      }
    }
  } else {
    for (uint64_t i = 0; i < sectors; ++i) {
      StoreInCache(write.first_sector + i, WriteBytes(write, i));
    }
  }
  if (!latent_errors_.empty()) {
    for (uint64_t i = 0; i < sectors; ++i) latent_errors_.erase(write.first_sector + i);  // a rewritten sector is remapped
  }
  ++stats_.writes;
  if (write.fua) ++stats_.fua_writes;
  stats_.bytes_written += write.length;
  // Free the slot (its buffer kept) before anything else can run: the trace
  // observers (one may crash this disk: the write is no longer in flight, as
  // when the requests were a map and this one had been extracted) and the
  // callback (which may write again).
  const uint64_t offset = write.first_sector * sector_size;
  const uint64_t length = write.length;
  const int fua_field = write.fua ? 1 : 0;
  Done done = std::move(write.done);
  write.request = 0;
  --writes_in_flight_;
  free_write_slots_.push_back(slot);
  const bool lost = write.lose;
  write.lose = false;
  TraceOp(Op::kWrite, offset, length, fua_field, IoStatus::kOk);
  const uint64_t epoch = epoch_;
  if (done) done.InvokeOnce(IoStatus::kOk);  // called and destroyed in one indirect call; empty: abandoned
  if (lost && lost_crash_) {
    scheduler_->After(0, [this, epoch, crash = std::move(lost_crash_)] {
      if (epoch_ == epoch) crash();
    });
    lost_crash_ = nullptr;
  }
}

void Disk::TagRegion(DiskRegionKind kind, uint64_t offset, uint64_t length) {
  const uint64_t sector_size = options_.sector_size;
  if (length == 0 || offset % sector_size != 0 || length % sector_size != 0) {
    DiskFail(name_, "TagRegion: empty or misaligned region at", offset);
  }
  if (offset > size_bytes() || length > size_bytes() - offset) {
    DiskFail(name_, "TagRegion: region leaves the disk at", offset);
  }
  for (const DiskRegion& region : regions_) {
    if (region.kind == kind && region.offset == offset && region.length == length) return;
  }
  std::erase_if(regions_, [offset, length](const DiskRegion& region) {
    return offset < region.offset + region.length && region.offset < offset + length;
  });
  regions_.push_back({kind, offset, length});
  std::sort(regions_.begin(), regions_.end(),
            [](const DiskRegion& a, const DiskRegion& b) { return a.offset < b.offset; });
}

bool Disk::HasRegion(DiskRegionKind kind) const {
  for (const DiskRegion& region : regions_) {
    if (region.kind == kind) return true;
  }
  return false;
}

bool Disk::InRegion(DiskRegionKind kind, uint64_t first_sector, uint64_t sectors) const {
  const uint64_t begin = first_sector * options_.sector_size;
  const uint64_t end = (first_sector + sectors) * options_.sector_size;
  for (const DiskRegion& region : regions_) {
    if (region.kind == kind && begin < region.offset + region.length && region.offset < end) return true;
  }
  return false;
}

std::vector<uint64_t> Disk::WrittenSectorsIn(DiskRegionKind kind) const {
  std::vector<uint64_t> sectors;
  for (const uint64_t sector : WrittenSectors()) {
    if (InRegion(kind, sector, 1)) sectors.push_back(sector);
  }
  return sectors;
}

bool Disk::ArmRegionWriteFault(DiskRegionKind kind, RegionWriteFault fault, std::function<void()> crash) {
  if (armed_ || !HasRegion(kind) || !crash) return false;
  armed_ = ArmedFault{kind, fault, std::move(crash)};
  return true;
}

void Disk::DisarmRegionWriteFault() { armed_.reset(); }

void Disk::MaybeFireRegionFault(uint32_t slot, uint64_t request, uint64_t first_sector, uint64_t sectors) {
  if (sectors == 0 || !InRegion(armed_->kind, first_sector, sectors)) return;
  ArmedFault fired = std::move(*armed_);
  armed_.reset();
  if (fired.fault == RegionWriteFault::kLost) {
    write_slots_[slot].lose = true;
    lost_crash_ = std::move(fired.crash);
    return;
  }
  torn_request_ = request;
  scheduler_->After(0, [this, epoch = epoch_, crash = std::move(fired.crash)] {
    if (epoch_ == epoch) crash();
  });
}

void Disk::Read(uint64_t offset, uint64_t length, ReadDone done) {
  IoStatus status = Check(offset, length);
  if (status == IoStatus::kOk && inflight_ >= options_.inflight_max) status = IoStatus::kBusy;
  if (status != IoStatus::kOk) {
    Reject(Op::kRead, offset, length, -1, status,
           [done = std::move(done)](IoStatus s) { done(s, {}); });
    return;
  }
  ++inflight_;
  const uint64_t request = next_request_++;
  const uint64_t sector_size = options_.sector_size;
  in_flight_reads_.emplace_hint(
      in_flight_reads_.end(), request,
      PendingRead{offset / sector_size, length / sector_size, std::move(done)});
  const TimeNs delay = SampleLatency(options_.read_latency);
  scheduler_->After(delay, [this, request] { FinishRead(request); });
}

void Disk::FinishRead(uint64_t request) {
  auto node = in_flight_reads_.extract(request);
  if (node.empty()) return;
  PendingRead& read = node.mapped();
  --inflight_;
  ++stats_.reads;
  const uint64_t sector_size = options_.sector_size;
  IoStatus status = IoStatus::kOk;
  if (!latent_errors_.empty()) {
    auto latent = latent_errors_.lower_bound(read.first_sector);
    if (latent != latent_errors_.end() && *latent < read.first_sector + read.sector_count) {
      status = IoStatus::kMediaError;
    }
  }
  std::vector<uint8_t> data;
  if (status == IoStatus::kOk) {
    AppendVisible(read.first_sector, read.sector_count, data);
  } else {
    ++stats_.errors;
  }
  TraceOp(Op::kRead, read.first_sector * sector_size, read.sector_count * sector_size, -1,
          status);
  read.done(status, std::move(data));
}

// Appends what a Read returns for [first_sector, +sector_count) to out,
// copying every byte once (no zero-fill first): one walk of the cache from
// first_sector, one media lookup per chunk, and never-written sectors
// generated into a sector-sized scratch (in L1) and copied from there.
void Disk::AppendVisible(uint64_t first_sector, uint64_t sector_count, std::vector<uint8_t>& out) {
  const uint64_t sector_size = options_.sector_size;
  out.reserve(out.size() + sector_count * sector_size);
  if (garbage_scratch_.size() != sector_size) garbage_scratch_.resize(sector_size);
  auto cached = cache_.lower_bound(first_sector);
  const MediaChunk* chunk = nullptr;
  uint64_t chunk_index = UINT64_MAX;
  for (uint64_t sector = first_sector; sector < first_sector + sector_count; ++sector) {
    const uint8_t* bytes = nullptr;
    if (cached != cache_.end() && cached->first == sector) {
      bytes = CacheBytes(cached->second.slot);
      ++cached;
    } else {
      if (sector / kChunkSectors != chunk_index) {
        chunk_index = sector / kChunkSectors;
        auto it = media_.find(chunk_index);
        chunk = it == media_.end() ? nullptr : it->second.get();
      }
      const uint64_t index = sector % kChunkSectors;
      if (chunk != nullptr && (chunk->present & (uint64_t{1} << index)) != 0) {
        bytes = (chunk->zero & (uint64_t{1} << index)) != 0 ? zero_sector_.data()
                                                             : chunk->bytes.get() + index * sector_size;
      } else {
        FillGarbage(sector, garbage_scratch_.data());
        bytes = garbage_scratch_.data();
      }
    }
    out.insert(out.end(), bytes, bytes + sector_size);
  }
}

void Disk::Flush(Done&& done) {
  if (inflight_ >= options_.inflight_max) {
    Reject(Op::kFlush, UINT64_MAX, 0, -1, IoStatus::kBusy, std::move(done));
    return;
  }
  ++inflight_;
  const uint64_t request = next_request_++;
  in_flight_flushes_.emplace_hint(in_flight_flushes_.end(), request,
                                  PendingFlush{writes_completed_, std::move(done)});
  const TimeNs delay = SampleLatency(options_.flush_latency);
  scheduler_->After(delay, [this, request] { FinishFlush(request); });
}

void Disk::FinishFlush(uint64_t request) {
  auto node = in_flight_flushes_.extract(request);
  if (node.empty()) return;
  PendingFlush& flush = node.mapped();
  --inflight_;
  ++stats_.flushes;
  for (auto it = cache_.begin(); it != cache_.end();) {
    if (it->second.version <= flush.watermark) {
      SetMedia(it->first, CacheBytes(it->second.slot));
      cache_free_slots_.push_back(it->second.slot);
      it = cache_.erase(it);
    } else {
      ++it;
    }
  }
  TraceOp(Op::kFlush, UINT64_MAX, 0, -1, IoStatus::kOk);
  flush.done(IoStatus::kOk);
}

void Disk::Crash(uint64_t crash_seed) {
  Rng rng = Rng::Derive(crash_seed, "disk.crash");
  const double p = options_.unflushed_survive_probability;
  uint64_t survived = 0;
  uint64_t lost = 0;
  for (const auto& [sector, entry] : cache_) {
    if (rng.Bernoulli(p)) {
      SetMedia(sector, CacheBytes(entry.slot));
      ++survived;
    } else {
      ++lost;
    }
  }
  const uint64_t sector_size = options_.sector_size;
  for (const uint32_t slot : WriteSlotsInRequestOrder()) {
    const PendingWrite& write = write_slots_[slot];
    const uint64_t sectors = write.length / sector_size;
    // A kTorn region fault's write keeps its first `keep` sectors (the
    // Bernoulli draws still run, so the other writes' fates stay the same).
    uint64_t keep = sectors;
    const bool torn = torn_request_ != 0 && write.request == torn_request_;
    if (torn && sectors > 1) keep = 1 + Rng::Derive(crash_seed, "disk.torn").Uniform(sectors - 1);
    if (torn && sectors <= 1) keep = 0;
    for (uint64_t i = 0; i < sectors; ++i) {
      const bool survives = rng.Bernoulli(p);
      if (torn ? i >= keep : !survives) {
        ++lost;
        continue;
      }
      if (write.zeros) {
        SetMediaZeros(write.first_sector + i, 1);
      } else {
        SetMedia(write.first_sector + i, write.data.data() + i * sector_size);
      }
      ++survived;
    }
  }
  cache_.clear();
  cache_pool_.clear();
  cache_free_slots_.clear();
  // Every write slot is freed (buffers kept); their completions find the
  // request gone and do nothing.
  free_write_slots_.clear();
  for (uint32_t i = 0; i < write_slots_.size(); ++i) {
    write_slots_[i].request = 0;
    write_slots_[i].done = nullptr;
    free_write_slots_.push_back(static_cast<uint32_t>(write_slots_.size()) - 1 - i);
  }
  writes_in_flight_ = 0;
  torn_request_ = 0;
  armed_.reset();
  lost_crash_ = nullptr;
  in_flight_reads_.clear();
  in_flight_flushes_.clear();
  rejected_writes_.clear();
  inflight_ = 0;
  ++epoch_;
  trace_->Record(
      scheduler_->Now(), host_, "disk.crash",
      {{"disk", name_}, {"survived", survived}, {"lost", lost}});
}

void Disk::CheckSector(uint64_t sector, const char* what) const {
  if (sector >= options_.sector_count) DiskFail(name_, what, sector);
}

void Disk::AddLatentError(uint64_t sector) {
  CheckSector(sector, "AddLatentError: sector out of range");
  latent_errors_.insert(sector);
  trace_->Record(scheduler_->Now(), host_, "disk.latent",
                 {{"disk", name_}, {"sector", sector}});
}

void Disk::CorruptSector(uint64_t sector, uint64_t corrupt_seed) {
  CheckSector(sector, "CorruptSector: sector out of range");
  std::vector<uint8_t> bytes = MediaSector(sector);
  Rng rng = Rng::Derive(corrupt_seed, "disk.corrupt");
  const uint64_t flips = 1 + rng.Uniform(8);
  for (uint64_t i = 0; i < flips; ++i) {
    const uint64_t at = rng.Uniform(bytes.size());
    bytes[at] ^= static_cast<uint8_t>(1 + rng.Uniform(255));  // never a no-op flip
  }
  SetMedia(sector, bytes.data());
  trace_->Record(scheduler_->Now(), host_, "disk.corrupt",
                 {{"disk", name_}, {"sector", sector}});
}

void Disk::FillGarbage(uint64_t sector, uint8_t* out) const {
  GenerateGarbage(garbage_seed_, sector, std::span<uint8_t>(out, options_.sector_size));
}

const uint8_t* Disk::MediaBytes(uint64_t sector) const {
  auto it = media_.find(sector / kChunkSectors);
  if (it == media_.end()) return nullptr;
  const uint64_t index = sector % kChunkSectors;
  if ((it->second->present & (uint64_t{1} << index)) == 0) return nullptr;
  if ((it->second->zero & (uint64_t{1} << index)) != 0) return zero_sector_.data();
  return it->second->bytes.get() + index * options_.sector_size;
}

void Disk::CopyVisible(uint64_t sector, uint8_t* out) const {
  if (auto it = cache_.find(sector); it != cache_.end()) {
    std::memcpy(out, CacheBytes(it->second.slot), options_.sector_size);
  } else if (const uint8_t* media = MediaBytes(sector); media != nullptr) {
    std::memcpy(out, media, options_.sector_size);
  } else {
    FillGarbage(sector, out);
  }
}

std::vector<uint8_t> Disk::MediaSector(uint64_t sector) const {
  CheckSector(sector, "MediaSector: sector out of range");
  std::vector<uint8_t> bytes(options_.sector_size);
  if (const uint8_t* media = MediaBytes(sector); media != nullptr) {
    std::memcpy(bytes.data(), media, bytes.size());
  } else {
    FillGarbage(sector, bytes.data());
  }
  return bytes;
}

std::vector<uint8_t> Disk::VisibleSector(uint64_t sector) const {
  CheckSector(sector, "VisibleSector: sector out of range");
  std::vector<uint8_t> bytes(options_.sector_size);
  CopyVisible(sector, bytes.data());
  return bytes;
}

std::vector<uint64_t> Disk::DurableSectors() const {
  std::vector<uint64_t> sectors;
  sectors.reserve(media_sectors_);
  for (const auto& [chunk_index, chunk] : media_) {
    for (uint64_t i = 0; i < kChunkSectors; ++i) {
      if (chunk->present & (uint64_t{1} << i)) sectors.push_back(chunk_index * kChunkSectors + i);
    }
  }
  std::sort(sectors.begin(), sectors.end());  // hash order must not leak out
  return sectors;
}

namespace {

// FNV-1a over bytes, chained through `hash`.
uint64_t HashBytes(uint64_t hash, const uint8_t* bytes, size_t length) {
  for (size_t i = 0; i < length; ++i) hash = (hash ^ bytes[i]) * 1099511628211ull;
  return hash;
}

uint64_t HashWord(uint64_t hash, uint64_t word) {
  uint8_t bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<uint8_t>(word >> (8 * i));
  return HashBytes(hash, bytes, sizeof bytes);
}

}  // namespace

uint64_t Disk::Fingerprint() const {
  uint64_t hash = 14695981039346656037ull;
  for (const uint64_t sector : DurableSectors()) {
    hash = HashWord(hash, sector);
    hash = HashBytes(hash, MediaBytes(sector), options_.sector_size);
  }
  hash = HashWord(hash, UINT64_MAX);  // media / cache separator
  for (const auto& [sector, entry] : cache_) {
    hash = HashWord(hash, sector);
    hash = HashBytes(hash, CacheBytes(entry.slot), options_.sector_size);
  }
  hash = HashWord(hash, writes_in_flight_);
  for (const uint32_t slot : WriteSlotsInRequestOrder()) {
    const PendingWrite& write = write_slots_[slot];
    hash = HashWord(hash, write.first_sector * 2 + (write.fua ? 1 : 0));
    for (uint64_t i = 0; i < write.length / options_.sector_size; ++i) {
      hash = HashBytes(hash, WriteBytes(write, i), options_.sector_size);
    }
  }
  hash = HashWord(hash, in_flight_reads_.size());
  hash = HashWord(hash, in_flight_flushes_.size());
  for (const uint64_t sector : latent_errors_) hash = HashWord(hash, sector);
  return hash;
}

std::vector<uint64_t> Disk::WrittenSectors() const {
  std::vector<uint64_t> sectors = DurableSectors();
  for (const auto& entry : cache_) sectors.push_back(entry.first);
  std::sort(sectors.begin(), sectors.end());
  sectors.erase(std::unique(sectors.begin(), sectors.end()), sectors.end());
  return sectors;
}

}  // namespace sim
