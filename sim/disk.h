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
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "sim/latency.h"
#include "sim/rng.h"
#include "sim/scheduler.h"
#include "sim/trace.h"

namespace sim {

enum class IoStatus : uint8_t { kOk, kOutOfRange, kMisaligned, kBusy, kMediaError };
const char* IoStatusName(IoStatus status);

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
  using Done = std::function<void(IoStatus)>;
  using ReadDone = std::function<void(IoStatus, std::vector<uint8_t>)>;

  // host/name label trace events; seed derives the latency, garbage and crash streams.
  Disk(Scheduler* scheduler, Trace* trace, uint32_t host, std::string name, uint64_t seed,
       DiskOptions options);
  Disk(const Disk&) = delete;
  Disk& operator=(const Disk&) = delete;

  void Write(uint64_t offset, std::span<const uint8_t> data, bool fua, Done done);
  void Read(uint64_t offset, uint64_t length, ReadDone done);
  void Flush(Done done);

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
  uint64_t size_bytes() const { return options_.sector_count * options_.sector_size; }
  const std::string& name() const { return name_; }
  uint32_t inflight() const { return inflight_; }
  struct Stats {
    uint64_t writes = 0, fua_writes = 0, reads = 0, flushes = 0, bytes_written = 0, errors = 0;
  };
  const Stats& stats() const { return stats_; }

 private:
  // Implementation detail: the implementer may change everything below.
  struct Pending {
    uint64_t first_sector;
    std::vector<uint8_t> data;
  };
  IoStatus Check(uint64_t offset, uint64_t length) const;
  void Complete(std::function<void()> fn, TimeNs delay);
  std::vector<uint8_t> Garbage(uint64_t sector) const;

  Scheduler* scheduler_;
  Trace* trace_;
  uint32_t host_;
  std::string name_;
  uint64_t seed_;
  DiskOptions options_;
  Rng latency_rng_;
  uint64_t epoch_ = 0;  // bumped by Crash: completions of an older epoch are dropped
  uint32_t inflight_ = 0;
  std::map<uint64_t, std::vector<uint8_t>> media_;  // sector -> bytes (absent: garbage)
  std::map<uint64_t, std::vector<uint8_t>> cache_;  // completed, unflushed
  std::map<uint64_t, Pending> in_flight_writes_;    // by request number
  uint64_t next_request_ = 1;
  std::set<uint64_t> latent_errors_;
  Stats stats_;
};

}  // namespace sim
