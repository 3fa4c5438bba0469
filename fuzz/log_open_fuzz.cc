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
#include <cstdlib>
#include <optional>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "ktm/log/log.h"
#include "ktm/log/log_format.h"
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

// Recomputes the checksums of every restart area, block and record that a
// mutation left with a plausible header, so mutations reach the logic past
// the CRC checks (base, scan and durable LSNs, lengths, log ids) instead of
// stopping at "bad checksum" almost every time.
void RepairChecksums(uint8_t* data, size_t size) {
  namespace format = ktm::log::format;
  const std::span<uint8_t> image(data, size);
  for (size_t offset = 0; offset + kSectorSize <= size; offset += kSectorSize) {
    const std::span<uint8_t> sector = image.subspan(offset, kSectorSize);
    const uint32_t magic = format::GetU32(sector, 0);
    if (offset < 2 * kSectorSize && magic == format::kRestartMagic) {
      format::PutU32(sector, 60, 0);
      format::PutU32(sector, 60, format::Crc32c(sector));
      continue;
    }
    if (magic != format::kBlockMagic) continue;
    const std::span<uint8_t> rest = image.subspan(offset);
    const uint32_t length = format::GetU32(rest, 16);
    if (length < format::kBlockHeaderBytes || length > rest.size()) continue;
    for (size_t record = format::kBlockHeaderBytes; record + format::kRecordHeaderBytes <= length;) {
      const uint64_t end = record + format::kRecordHeaderBytes + uint64_t{format::GetU32(rest, record + 4)};
      if (end > length) break;
      format::PutU32(rest, record + 16, 0);
      format::PutU32(rest, record + 16, format::Crc32c(rest.subspan(record, end - record)));
      record = end;  // records are packed back to back
    }
    format::PutU32(rest, 24, 0);
    format::PutU32(rest, 24, format::Crc32c(rest.subspan(0, length)));
  }
}

}  // namespace

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

// Half of the mutations are repaired (see RepairChecksums), half keep their
// broken checksums (the refusal paths). KTMSIM_FUZZ_REPAIR_CRC=0 turns the
// repair off. With it, this target once found within seconds a restart area
// whose base lay beyond the log's end that opened and then lost forced
// records (corpus/log_open_fuzz/crash_restart_base_beyond_end, issue 15).
extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned int seed) {
  static const bool repair = [] {
    const char* setting = std::getenv("KTMSIM_FUZZ_REPAIR_CRC");
    return setting == nullptr || std::string_view(setting) != "0";
  }();
  size = LLVMFuzzerMutate(data, size, max_size);
  if (repair && seed % 2 == 0) RepairChecksums(data, size);
  return size;
}

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
