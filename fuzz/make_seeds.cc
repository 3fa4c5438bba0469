// make_seeds: writes the binary seed corpora of the fuzz targets whose
// inputs are hard to write by hand (valid log blocks, restart sectors, log
// disk images, DTC messages), each made by the encoders themselves, into
// fuzz/corpus/<target>/. Text corpora (scenarios, schedules) are copied from
// scenarios/ and tests/data/ by scripts/fuzz. Run by `scripts/fuzz seeds`;
// the output is committed, so a change of format shows up as a diff.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "ktm/dist/message.h"
#include "ktm/log/log.h"
#include "ktm/log/log_format.h"
#include "sim/disk.h"
#include "sim/scheduler.h"
#include "sim/trace.h"

namespace {

namespace format = ktm::log::format;

void WriteFile(const std::string& path, uint8_t selector, const std::vector<uint8_t>& bytes, bool with_selector) {
  std::ofstream out(path, std::ios::binary);
  if (with_selector) out.put(static_cast<char>(selector));
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) {
    std::fprintf(stderr, "make_seeds: cannot write %s\n", path.c_str());
    std::exit(1);
  }
}

void LogFormatSeeds(const std::string& dir) {
  const format::BlockLimits limits{.block_bytes_max = 4096, .record_payload_max = 1000};
  for (uint32_t records = 1; records <= 3; ++records) {
    format::BlockBuilder builder(0x1234 + records, 512 * records, limits);
    for (uint32_t r = 0; r < records; ++r) builder.Add(static_cast<uint16_t>(r + 1), std::vector<uint8_t>(r * 40 + 3, 0x5A));
    WriteFile(dir + "/block_" + std::to_string(records), 0, std::move(builder).Finish(64, 512 * records), true);
  }
  for (uint32_t sector : {128u, 512u}) {
    format::RestartArea area;
    area.flags = format::kRestartFlagClient;
    area.sequence = 3;
    area.base_lsn = 1024;
    area.scan_lsn = 1024;
    area.durable_hint_lsn = 2048;
    area.region_bytes = 30 * 512;
    area.log_id = 77;
    area.sector_size = sector;
    area.payload = std::vector<uint8_t>(32, 0x11);
    WriteFile(dir + "/restart_" + std::to_string(sector), 1, format::EncodeRestartArea(area, sector), true);
  }
  // crash_restart_padding: a valid 128-byte area with its last byte set and
  // the checksum re-sealed; it once decoded as valid and did not encode back.
  format::RestartArea area;
  area.sequence = 2;
  area.base_lsn = 1024;
  area.scan_lsn = 1024;
  area.log_id = 5;
  area.sector_size = 128;
  area.payload = std::vector<uint8_t>(8, 0x22);
  std::vector<uint8_t> sector = format::EncodeRestartArea(area, 128);
  sector.back() = 0x5A;
  std::vector<uint8_t> zeroed = sector;
  std::fill(zeroed.begin() + 60, zeroed.begin() + 64, uint8_t{0});
  format::PutU32(sector, 60, format::Crc32c(zeroed));
  WriteFile(dir + "/crash_restart_padding", 1, sector, true);
}

// Images of a 64 x 512-byte disk holding a log (log_open_fuzz's geometry).
void LogOpenSeeds(const std::string& dir) {
  for (int records = 0; records <= 6; records += 3) {
    sim::Scheduler scheduler;
    sim::Trace trace{false};
    sim::DiskOptions options;
    options.sector_size = 512;
    options.sector_count = 64;
    sim::Disk disk(&scheduler, &trace, 0, "log", 1, options);
    ktm::log::LogOptions log_options;
    log_options.size_bytes = 512 * 64;
    log_options.record_payload_max = 1000;
    log_options.block_bytes_max = 4096;
    ktm::log::Log log(&disk, log_options);
    log.Format([](absl::Status) {});
    scheduler.RunUntilIdle();
    for (int r = 0; r < records; ++r) {
      (void)log.Append(static_cast<uint16_t>(r + 1), std::vector<uint8_t>(50 + r * 30, static_cast<uint8_t>(r)));
      if (r % 2 == 1) log.Force(ktm::log::kLsnInvalid, [](absl::Status) {});
      scheduler.RunUntilIdle();
    }
    if (records > 0) {
      log.WriteRestartArea(std::vector<uint8_t>(16, 0x42), log.end_lsn() / 2, [](absl::Status) {});
      scheduler.RunUntilIdle();
    }
    std::vector<uint8_t> image;
    for (uint64_t s = 0; s < options.sector_count; ++s) {
      const std::vector<uint8_t> sector = disk.MediaSector(s);
      image.insert(image.end(), sector.begin(), sector.end());
    }
    WriteFile(dir + "/image_" + std::to_string(records), 0, image, false);
  }
}

void DtcMessageSeeds(const std::string& dir) {
  using ktm::dist::MessageType;
  for (uint8_t type = 1; type <= ktm::dist::kMessageTypeMax; ++type) {
    ktm::dist::Message m;
    m.type = static_cast<MessageType>(type);
    m.from = 1;
    m.from_incarnation = 2;
    m.id = type;
    m.branch = {.coordinator = 1, .incarnation = 2, .sequence = 3};
    m.root = {0x1111, 0x2222};
    if (m.type == MessageType::kOp || m.type == MessageType::kOpReply) {
      m.op_sequence = 1;
      m.write = m.type == MessageType::kOp;
      m.rm = "kv1";
      m.key = "k3";
      m.value = "v";
    }
    if (m.type == MessageType::kOutcome) m.outcome = ktm::dist::Outcome::kCommit;
    WriteFile(dir + "/message_" + std::to_string(type), 0, ktm::dist::Encode(m), true);
  }
  ktm::dist::BranchRecord record;
  record.id = {.coordinator = 1, .incarnation = 2, .sequence = 3};
  record.participant = 2;
  record.root = {0x3333, 0x4444};
  WriteFile(dir + "/branch_record", 1, ktm::dist::EncodeBranchRecord(record), true);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seeds CORPUS_DIR (fuzz/corpus)\n");
    return 2;
  }
  const std::string root = argv[1];
  LogFormatSeeds(root + "/log_format_fuzz");
  LogOpenSeeds(root + "/log_open_fuzz");
  DtcMessageSeeds(root + "/dtc_message_fuzz");
  return 0;
}
