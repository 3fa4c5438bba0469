// Fuzz target: the log's on-disk decoders (ktm/log/log_format.h) on
// arbitrary bytes. The first byte picks the decoder: even, a block
// (DecodeBlock, checked against the log id and LSN its own header claims, so
// a mutated valid block is judged fully); odd, a restart-area sector
// (DecodeRestartArea). Properties: decoders never assert or read out of
// bounds on any bytes ("decoders never assert on disk content"); what they
// accept encodes back to exactly the bytes that were read.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "ktm/log/log_format.h"

namespace {

namespace format = ktm::log::format;

constexpr format::BlockLimits kLimits{.block_bytes_max = 4096, .record_payload_max = 1000};

void FuzzBlock(std::span<const uint8_t> bytes) {
  if (bytes.size() < format::kBlockHeaderBytes) return;
  const uint32_t log_id = format::GetU32(bytes, 4);
  const ktm::log::Lsn lsn = format::GetU64(bytes, 8);
  std::vector<ktm::log::LogRecord> records;
  if (format::DecodeBlock(bytes, log_id, lsn, kLimits, &records) != format::BlockCheck::kValid) return;
  FUZZ_CHECK(!records.empty() || format::GetU32(bytes, 20) == 0, "record count matches");
  format::BlockBuilder builder(log_id, lsn, kLimits);
  for (const ktm::log::LogRecord& record : records) {
    FUZZ_CHECK(builder.Fits(record.payload.size()), "a decoded record fits a block again");
    FUZZ_CHECK(builder.Add(record.type, record.payload) == record.lsn, "the same LSN");
  }
  const size_t length = builder.end() - builder.start();
  const std::vector<uint8_t> rebuilt = std::move(builder).Finish(64, lsn - format::GetU32(bytes, 28));
  FUZZ_CHECK(length <= bytes.size() && rebuilt.size() >= length, "lengths agree");
  FUZZ_CHECK(std::equal(rebuilt.begin(), rebuilt.begin() + static_cast<long>(length), bytes.begin()),
             "a valid block encodes back to its bytes");
}

void FuzzRestartArea(std::span<const uint8_t> sector) {
  format::RestartArea area;
  if (format::DecodeRestartArea(sector, &area) != format::RestartCheck::kValid) return;
  FUZZ_CHECK(area.payload.size() + format::kRestartHeaderBytes <= sector.size(), "payload inside the sector");
  if (area.sector_size != sector.size()) return;
  const std::vector<uint8_t> encoded = format::EncodeRestartArea(area, area.sector_size);
  FUZZ_CHECK(encoded.size() == sector.size() && std::equal(encoded.begin(), encoded.end(), sector.begin()),
             "a valid restart area encodes back to its sector");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::span<const uint8_t> bytes(data + 1, size - 1);
  if (data[0] % 2 == 0) {
    FuzzBlock(bytes);
  } else {
    FuzzRestartArea(bytes);
  }
  return 0;
}
