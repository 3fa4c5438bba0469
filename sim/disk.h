// Disk: a simulated block device with a volatile write cache.
//
// Contract:
// - Addresses and lengths are bytes and must be multiples of sector_size,
//   inside [0, sector_count * sector_size); otherwise the call completes with
//   kMisaligned / kOutOfRange (never a crash). More than inflight_max
//   requests at once complete with kBusy.
// - Every request completes by callback, always through the Scheduler (never
//   inside the call), after a latency drawn from the per-op Latency.
// - A Write lands in the volatile cache when it completes; Read returns the
//   cache over the media. A FUA write lands on the media when it completes.
//   Flush moves every write that completed before the Flush was issued to
//   the media, then completes.
// - Never-written sectors read back as deterministic garbage derived from the
//   disk's seed (readers must validate what they read).
//
// Fault model (applied by Crash, which the Host calls):
// - every sector on the media survives unchanged;
// - each cached (completed, unflushed) sector independently survives (reaches
//   the media) or is lost, with probability unflushed_survive_probability;
// - each sector of a write still in flight also independently survives or is
//   lost: a multi-sector write may tear at sector granularity;
// - callbacks of requests in flight at the crash never run;
// - nothing else changes.
// Latent sector errors (AddLatentError) make Reads that touch the sector
// complete with kMediaError until the sector is written again.
// Beyond-recoverable faults (CorruptSector) flip bytes of a media sector.
//
// Regions: the disk knows nothing of what is stored where, but the engine
// may tag a byte range with a region kind (TagRegion: a PageStore tags its
// data pages at open) so the fault policy can aim at it (page_torn,
// page_lost, page_latent in sim/fault_kinds.h). A region write fault
// (ArmRegionWriteFault) picks the next write issued inside a region of the
// kind and ties a crash to it:
// - kTorn: the crash comes right after the write is issued, while it is in
//   flight; the crash keeps its first k sectors and loses the rest (k drawn
//   from the crash seed in [1, sectors - 1]; a one-sector write is lost);
// - kLost: the write completes (its callback sees kOk) but its bytes reach
//   neither cache nor media, and the crash comes right after the callback
//   (a device that acknowledges a write it then loses at the power cut).
// The crash itself is the caller's (`crash`, run through the scheduler,
// never inside Write); a Crash disarms the disk.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "sim/function.h"
#include "sim/latency.h"
#include "sim/rng.h"
#include "sim/scheduler.h"
#include "sim/trace.h"

namespace sim {

enum class IoStatus : uint8_t { kOk, kOutOfRange, kMisaligned, kBusy, kMediaError };
const char* IoStatusName(IoStatus status);

// What a tagged byte range of a disk holds (Disk::TagRegion).
enum class DiskRegionKind : uint8_t { kDataPages };
// "data pages".
const char* DiskRegionKindName(DiskRegionKind kind);
struct DiskRegion {
  DiskRegionKind kind = DiskRegionKind::kDataPages;
  uint64_t offset = 0;  // bytes, sector aligned
  uint64_t length = 0;  // bytes, sector aligned, > 0
};
// How a region write fault damages its write (Disk::ArmRegionWriteFault).
enum class RegionWriteFault : uint8_t { kTorn, kLost };

struct DiskOptions {
  uint32_t sector_size = 512;
  uint64_t sector_count = 4096;
  Latency write_latency = Latency::Fixed(100 * kMicrosecond);
  Latency read_latency = Latency::Fixed(100 * kMicrosecond);
  Latency flush_latency = Latency::Fixed(1 * kMillisecond);
  // A FUA write costs write_latency + fua_extra_latency.
  Latency fua_extra_latency = Latency::Fixed(1 * kMillisecond);
  uint32_t inflight_max = 1024;
  // Probability that a cached or in-flight sector reaches the media on a crash.
  double unflushed_survive_probability = 0.5;
};

class Disk {
 public:
  // A write's or flush's completion: any callable; captures up to 48 bytes
  // (a log's guard and its own lambda) are kept inline, no allocation.
  using Done = InlineFunction<void(IoStatus), 48>;
  using ReadDone = std::function<void(IoStatus, std::vector<uint8_t>)>;

  // host/name label trace events; seed derives the latency, garbage and crash streams.
  Disk(Scheduler* scheduler, Trace* trace, uint32_t host, std::string name, uint64_t seed,
       DiskOptions options);
  Disk(const Disk&) = delete;
  Disk& operator=(const Disk&) = delete;

  // Write and WriteSwapping return the request's id, for Abandon.
  uint64_t Write(uint64_t offset, std::span<const uint8_t> data, bool fua, Done&& done);
  // Write, taking data's bytes instead of copying them: afterwards *data
  // holds a buffer of unspecified content (a completed write's, its capacity
  // kept) for the caller to fill next time. What the log does with its block
  // buffers: no copy of the block per write. The same request otherwise
  // (same checks, latency draws, trace and completion).
  uint64_t WriteSwapping(uint64_t offset, std::vector<uint8_t>* data, bool fua, Done&& done);
  // The write `request` (an id Write or WriteSwapping returned) still runs
  // its course (lands, is traced, counts) but its done is destroyed now and
  // never called: for an owner that goes away while its writes are in
  // flight (a log, in its destructor) without guarding every callback. A
  // request that completed already (or a crash dropped): a no-op.
  void Abandon(uint64_t request);
  void Read(uint64_t offset, uint64_t length, ReadDone done);
  void Flush(Done&& done);

  // Fault injection (called by Host / FaultPlan, never by the engine).
  // crash_seed decides which unflushed sectors survive.
  void Crash(uint64_t crash_seed);
  void AddLatentError(uint64_t sector);
  void CorruptSector(uint64_t sector, uint64_t corrupt_seed);

  // Inspection for tests and checkers: the media content of a sector (what
  // survives any crash), and the content a Read would return now.
  std::vector<uint8_t> MediaSector(uint64_t sector) const;
  std::vector<uint8_t> VisibleSector(uint64_t sector) const;

  const DiskOptions& options() const { return options_; }
  Scheduler* scheduler() const { return scheduler_; }
  uint64_t size_bytes() const { return options_.sector_count * options_.sector_size; }
  const std::string& name() const { return name_; }
  uint32_t inflight() const { return inflight_; }
  struct Stats {
    uint64_t writes = 0, fua_writes = 0, reads = 0, flushes = 0, bytes_written = 0, errors = 0;
  };
  const Stats& stats() const { return stats_; }

  // Added helpers (fault policy and tests):
  // Sectors with content on the media or in the cache, ascending.
  std::vector<uint64_t> WrittenSectors() const;
  // Sectors with content on the media (what survives any crash), ascending.
  std::vector<uint64_t> DurableSectors() const;
  // The FaultInjector sets the crash survival probability of every disk.
  void set_unflushed_survive_probability(double p) { options_.unflushed_survive_probability = p; }
  // Sectors that currently have a latent error, ascending.
  const std::set<uint64_t>& latent_errors() const { return latent_errors_; }

  // Regions (see the file comment). The engine tags a range at every open;
  // tagging the same range again is a no-op, a range that overlaps older
  // regions replaces them (the layout changed: the newest tag wins), a range
  // that is empty, misaligned or leaves the disk is a programmer error
  // (abort). Regions are
  // layout knowledge, not data: a Crash keeps them; they are not traced and
  // not in the Fingerprint, so tagging changes no run digest.
  void TagRegion(DiskRegionKind kind, uint64_t offset, uint64_t length);
  const std::vector<DiskRegion>& regions() const { return regions_; }
  bool HasRegion(DiskRegionKind kind) const;
  // WrittenSectors() inside regions of `kind`, ascending.
  std::vector<uint64_t> WrittenSectorsIn(DiskRegionKind kind) const;
  // Arms a region write fault: the next write issued inside (overlapping) a
  // region of `kind` is damaged as `fault` says and `crash` runs (through
  // the scheduler) at the moment the file comment gives. One at a time:
  // false (nothing changes) when one is armed already or no region of the
  // kind exists. Crash and DisarmRegionWriteFault disarm; a fault whose
  // write was issued but whose crash has not run yet is dropped by a Crash.
  bool ArmRegionWriteFault(DiskRegionKind kind, RegionWriteFault fault, std::function<void()> crash);
  void DisarmRegionWriteFault();
  bool region_write_fault_armed() const { return armed_.has_value(); }
  // A 64-bit hash of the disk's state (harness/explore.h prunes on it): the
  // media sectors and cached sectors (number and bytes, ascending), the
  // writes in flight (sector, FUA, bytes, in issue order), the number of
  // reads and flushes in flight and the latent errors. Not the time, the
  // counters or the seed: two disks that will behave alike hash alike.
  uint64_t Fingerprint() const;

 private:
  // Implementation detail: the implementer may change everything below.
  // Every read and flush in flight is kept in a map by request number; its
  // completion event captures only (this, request), so a Crash that clears
  // the maps makes those completions find nothing and do nothing. Writes
  // (the hot path) live in reused slots whose byte buffers keep their
  // capacity: a write's completion captures (this, slot, request) and acts
  // only while the slot still holds that request, so after a Crash frees the
  // slots a dropped write's completion never completes a later write reusing
  // its slot.
  struct PendingWrite {
    uint64_t request = 0;  // 0: the slot is free
    uint64_t first_sector = 0;
    bool fua = false;
    // A copied write of zeros only (the log clearing its stale tail) keeps
    // no bytes: zeros set, data unused (kept for its capacity).
    bool zeros = false;
    uint64_t length = 0;  // bytes
    std::vector<uint8_t> data;
    Done done;
    bool lose = false;  // a kLost region write fault: complete, store nothing
  };
  struct PendingRead {
    uint64_t first_sector;
    uint64_t sector_count;
    ReadDone done;
  };
  struct PendingFlush {
    uint64_t watermark;  // writes with version <= watermark completed before the Flush
    Done done;
  };
  // Media: sectors in chunks of kChunkSectors, allocated on first write
  // (never-written sectors read as garbage). Only looked up by key, never
  // iterated in hash order (DurableSectors sorts).
  static constexpr uint64_t kChunkSectors = 64;
  // Its bytes are allocated when a sector other than zeros is first stored,
  // and left uninitialised (no 32 KiB zero-fill per chunk): a sector's bytes
  // are read only while its `present` bit is set and its `zero` bit is not,
  // which its write sets after copying the sector in. A sector of zeros is
  // a `zero` bit, no bytes: the log clears 128 KiB of its stale tail with
  // zeros at every open, and copying them into the media, then out again
  // at the next open's probe, was most of that write's cost.
  struct MediaChunk {
    uint64_t present = 0;  // bit i: sector (chunk * kChunkSectors + i) was written
    uint64_t zero = 0;     // bit i: and holds zeros (a subset of present)
    std::unique_ptr<uint8_t[]> bytes;
  };
  // Cache entries keep their bytes in a pool of sector-sized slots.
  struct CacheEntry {
    uint32_t slot;
    uint64_t version;  // completion order of the write that put it here
  };
  IoStatus Check(uint64_t offset, uint64_t length) const;
  // Latency::Sample, with a fixed latency (no draw: the same value and the
  // same latency stream) taken inline: a FUA write samples twice, and each
  // call cost more than the value it returns (~13 instructions).
  TimeNs SampleLatency(const Latency& latency) {
    return latency.kind == Latency::Kind::kFixed ? latency.min_ns : latency.Sample(latency_rng_);
  }
  // Completes a rejected request (status != kOk) through the scheduler.
  // fua_field: -1 (not a write), 0 or 1; offset UINT64_MAX: no off/len fields.
  enum class Op : uint8_t { kWrite, kRead, kFlush };
  void Reject(Op op, uint64_t offset, uint64_t length, int fua_field, IoStatus status, Done done);
  // Reject of a write: its done waits in rejected_writes_ under the request
  // id returned (so Abandon reaches it too).
  uint64_t RejectWrite(uint64_t offset, uint64_t length, bool fua, IoStatus status, Done done);
  std::map<uint64_t, Done> rejected_writes_;
  void FinishRead(uint64_t request);
  void FinishFlush(uint64_t request);
  void StoreInCache(uint64_t sector, const uint8_t* bytes);
  const uint8_t* MediaBytes(uint64_t sector) const;  // nullptr: never written
  void SetMedia(uint64_t sector, const uint8_t* bytes);
  // SetMedia of sector_count consecutive sectors (one chunk lookup per chunk).
  void SetMediaRun(uint64_t first_sector, uint64_t sector_count, const uint8_t* bytes);
  // SetMediaRun of zeros: `zero` bits, no bytes copied.
  void SetMediaZeros(uint64_t first_sector, uint64_t sector_count);
  // A chunk's byte array, allocated on first use.
  uint8_t* ChunkBytes(MediaChunk& chunk);
  // The bytes of sector i of a write (zero_sector_ for a write of zeros).
  const uint8_t* WriteBytes(const PendingWrite& write, uint64_t i) const {
    return write.zeros ? zero_sector_.data() : write.data.data() + i * options_.sector_size;
  }
  // The chunk (allocated on first use); the last one found is remembered
  // (chunks never move nor go away: media survives crashes).
  MediaChunk& MediaChunkFor(uint64_t chunk_index);
  MediaChunk& FindMediaChunk(uint64_t chunk_index);  // MediaChunkFor's lookup (out of line)
  uint64_t last_chunk_index_ = UINT64_MAX;
  MediaChunk* last_chunk_ = nullptr;
  // Write (swap == nullptr: copies data) and WriteSwapping (swaps *swap,
  // whose bytes are data, with the slot's buffer); returns the request id.
  uint64_t WriteImpl(uint64_t offset, std::span<const uint8_t> data, std::vector<uint8_t>* swap, bool fua,
                     Done& done);
  uint8_t* CacheBytes(uint32_t slot) {
    return cache_pool_.data() + uint64_t{slot} * options_.sector_size;
  }
  const uint8_t* CacheBytes(uint32_t slot) const {
    return cache_pool_.data() + uint64_t{slot} * options_.sector_size;
  }
  uint32_t NewCacheSlot();
  // Copies what a Read would return for one sector into out.
  void CopyVisible(uint64_t sector, uint8_t* out) const;
  // Appends what a Read would return for a run of sectors to out (FinishRead).
  void AppendVisible(uint64_t first_sector, uint64_t sector_count, std::vector<uint8_t>& out);
  void FinishWrite(uint32_t slot, uint64_t request);
  // One trace event per completed request, fields by the request's shape:
  // disk.write (disk, off, len, fua, status), disk.read (disk, off, len,
  // status), disk.flush (disk, status). Inline into each completion, hashed
  // in place (Trace::RecordEach); the disk's name carries its digest word.
  void TraceOp(Op op, uint64_t offset, uint64_t length, int fua, IoStatus status);
  void FillGarbage(uint64_t sector, uint8_t* out) const;
  void CheckSector(uint64_t sector, const char* what) const;

  Scheduler* scheduler_;
  Trace* trace_;
  uint32_t host_;
  std::string name_;
  // name_ with its digest word, computed once (a Disk never moves: copying
  // is deleted, and name_ never changes after construction).
  TraceName name_trace_;
  uint64_t seed_;
  uint64_t garbage_seed_;
  DiskOptions options_;
  Rng latency_rng_;
  std::vector<uint8_t> zero_sector_;  // one sector of zeros: what a zero mark reads as
  // Bumped by Crash: completions of rejected requests from an older epoch are dropped.
  uint64_t epoch_ = 0;
  uint32_t inflight_ = 0;
  std::unordered_map<uint64_t, std::unique_ptr<MediaChunk>> media_;  // by sector / kChunkSectors
  uint64_t media_sectors_ = 0;
  std::map<uint64_t, CacheEntry> cache_;  // completed, unflushed; by sector
  std::vector<uint8_t> cache_pool_;
  std::vector<uint32_t> cache_free_slots_;
  std::vector<uint8_t> garbage_scratch_;  // one sector: AppendVisible's never-written sectors
  std::vector<PendingWrite> write_slots_;  // in-flight writes (request != 0) and free slots
  std::vector<uint32_t> free_write_slots_;
  uint64_t writes_in_flight_ = 0;
  // The in-flight writes' slots in request (issue) order: what a Crash
  // persists and Fingerprint hashes, in the order the requests were made.
  std::vector<uint32_t> WriteSlotsInRequestOrder() const;
  std::map<uint64_t, PendingRead> in_flight_reads_;
  std::map<uint64_t, PendingFlush> in_flight_flushes_;
  uint64_t next_request_ = 1;
  uint64_t writes_completed_ = 0;  // version counter for cache entries
  std::set<uint64_t> latent_errors_;
  Stats stats_;
  std::vector<DiskRegion> regions_;  // ascending by offset
  struct ArmedFault {
    DiskRegionKind kind;
    RegionWriteFault fault;
    std::function<void()> crash;
  };
  std::optional<ArmedFault> armed_;
  // A kTorn fault's write (request number; 0: none): the next Crash keeps
  // its first torn_keep_ sectors and loses the rest.
  uint64_t torn_request_ = 0;
  std::function<void()> lost_crash_;  // a kLost fault's crash, run after its write completes
  // Fires armed_ if [first_sector, +sectors) is inside a region of its kind.
  void MaybeFireRegionFault(uint32_t slot, uint64_t request, uint64_t first_sector, uint64_t sectors);
  bool InRegion(DiskRegionKind kind, uint64_t first_sector, uint64_t sectors) const;
};

}  // namespace sim
