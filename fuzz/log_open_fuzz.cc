// Fuzz target: Log::Open (ktm/log/log.h) on a fuzzed disk image, then
// Append/Force and a second Open. The input is the image of a 64-sector
// disk of 512-byte sectors (shorter input: the rest never written, so it
// reads back as garbage, as on a real disk); the log spans the whole disk.
// Properties: Open never asserts or crashes, whatever the image; when it
// opens, records appended and forced successfully are found again, in
// order, by a fresh Log opened on the same disk (a durable record is never
// lost without an error).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "ktm/log/log.h"
#include "sim/disk.h"
#include "sim/scheduler.h"
#include "sim/trace.h"

namespace {

constexpr uint32_t kSectorSize = 512;
constexpr uint64_t kSectorCount = 64;

ktm::log::LogOptions WholeDisk() {
  ktm::log::LogOptions options;
  options.disk_offset = 0;
  options.size_bytes = kSectorSize * kSectorCount;
  options.record_payload_max = 1000;
  options.block_bytes_max = 4096;
  return options;
}

absl::StatusOr<ktm::log::RecoveredLog> OpenSync(sim::Scheduler& scheduler, ktm::log::Log& log) {
  std::optional<absl::StatusOr<ktm::log::RecoveredLog>> result;
  log.Open([&result](absl::StatusOr<ktm::log::RecoveredLog> r) { result = std::move(r); });
  scheduler.RunUntilIdle();
  FUZZ_CHECK(result.has_value(), "Open completes");
  return *std::move(result);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sim::Scheduler scheduler;
  sim::Trace trace{/*keep_events=*/false};
  sim::DiskOptions disk_options;
  disk_options.sector_size = kSectorSize;
  disk_options.sector_count = kSectorCount;
  sim::Disk disk(&scheduler, &trace, 0, "log", /*seed=*/1, disk_options);
  const size_t image = std::min<size_t>(size, kSectorSize * kSectorCount) / kSectorSize * kSectorSize;
  if (image > 0) {
    disk.Write(0, std::span<const uint8_t>(data, image), /*fua=*/true, [](sim::IoStatus status) {
      FUZZ_CHECK(status == sim::IoStatus::kOk, "the image is written");
    });
    scheduler.RunUntilIdle();
  }
  std::vector<std::vector<uint8_t>> appended;
  {
    ktm::log::Log log(&disk, WholeDisk());
    if (!OpenSync(scheduler, log).ok()) return 0;
    for (uint8_t r = 0; r < 3; ++r) {
      std::vector<uint8_t> payload(10 + r * 100, static_cast<uint8_t>(0xA0 + r));
      if (!log.Append(7, payload).ok()) break;
      appended.push_back(std::move(payload));
    }
    std::optional<absl::Status> forced;
    log.Force(ktm::log::kLsnInvalid, [&forced](absl::Status status) { forced = status; });
    scheduler.RunUntilIdle();
    FUZZ_CHECK(forced.has_value(), "Force completes");
    if (!forced->ok()) return 0;
  }
  ktm::log::Log reopened(&disk, WholeDisk());
  const absl::StatusOr<ktm::log::RecoveredLog> recovered = OpenSync(scheduler, reopened);
  FUZZ_CHECK(recovered.ok(), "a log that opened and forced opens again");
  const std::vector<ktm::log::LogRecord>& records = recovered->records;
  FUZZ_CHECK(records.size() >= appended.size(), "every forced record is recovered");
  for (size_t i = 0; i < appended.size(); ++i) {
    const ktm::log::LogRecord& record = records[records.size() - appended.size() + i];
    FUZZ_CHECK(record.type == 7 && record.payload == appended[i], "the forced records come back last, in order");
  }
  return 0;
}
