// Log format implementation: CRC32C, little-endian codecs, block and restart
// area encoding and validation (layout in log_format.h).
//
// Encoders assert their own output by decoding it back; decoders classify
// untrusted disk bytes and never assert on them.
#include "ktm/log/log_format.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>

#include "ktm/log/log_assert.h"

namespace ktm::log::format {
namespace {

// Slicing-by-8 tables: table[0] is the classic byte table; table[k][i] is the
// CRC of byte i followed by k zero bytes, so 8 bytes fold in per step.
constexpr std::array<std::array<uint32_t, 256>, 8> MakeCrc32cTables() {
  std::array<std::array<uint32_t, 256>, 8> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1u) ? 0x82F63B78u : 0u);
    t[0][i] = crc;
  }
  for (uint32_t i = 0; i < 256; ++i) {
    for (size_t k = 1; k < 8; ++k) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xFFu];
  }
  return t;
}
constexpr std::array<std::array<uint32_t, 256>, 8> kCrc32cTables = MakeCrc32cTables();
constexpr const std::array<uint32_t, 256>& kCrc32cTable = kCrc32cTables[0];

// Block header field offsets.
constexpr size_t kBlockMagicAt = 0, kBlockLogIdAt = 4, kBlockLsnAt = 8, kBlockLengthAt = 16,
                 kBlockCountAt = 20, kBlockChecksumAt = 24, kBlockDurableGapAt = 28;
// Record header field offsets (relative to the record).
constexpr size_t kRecordTypeAt = 0, kRecordFlagsAt = 2, kRecordLengthAt = 4, kRecordLsnAt = 8,
                 kRecordChecksumAt = 16, kRecordReservedAt = 20;
// Restart area field offsets.
constexpr size_t kRestartMagicAt = 0, kRestartFlagsAt = 4, kRestartSequenceAt = 8,
                 kRestartBaseAt = 16, kRestartScanAt = 24, kRestartHintAt = 32,
                 kRestartRegionAt = 40, kRestartLogIdAt = 48, kRestartSectorAt = 52,
                 kRestartPayloadLengthAt = 56, kRestartChecksumAt = 60;
static_assert(kBlockDurableGapAt + 4 == kBlockHeaderBytes);
static_assert(kRecordReservedAt + 4 == kRecordHeaderBytes);
static_assert(kRestartChecksumAt + 4 == kRestartHeaderBytes);

// CRC of bytes[0, length) with the 4-byte checksum field at checksum_at read as zero.
uint32_t ChecksumSkipping(std::span<const uint8_t> bytes, size_t checksum_at) {
  static constexpr uint8_t kZero[4] = {0, 0, 0, 0};
  uint32_t crc = Crc32c(bytes.subspan(0, checksum_at));
  crc = Crc32c(kZero, crc);
  return Crc32c(bytes.subspan(checksum_at + 4), crc);
}

// One decoded record, its payload still inside the block (no copy).
struct RecordView {
  Lsn lsn = 0;
  uint16_t type = 0;
  std::span<const uint8_t> payload;
};

// Checks one record at `offset` of a block whose checksum already matched.
// On success sets *next to the offset after it and *view to it.
bool DecodeRecord(std::span<const uint8_t> block, size_t offset, Lsn block_lsn,
                  BlockLimits limits, size_t* next, RecordView* view) {
  if (block.size() - offset < kRecordHeaderBytes) return false;
  auto header = block.subspan(offset, kRecordHeaderBytes);
  const uint32_t payload_length = GetU32(header, kRecordLengthAt);
  if (GetU16(header, kRecordFlagsAt) != 0 || GetU32(header, kRecordReservedAt) != 0) return false;
  if (payload_length > limits.record_payload_max) return false;
  if (block.size() - offset - kRecordHeaderBytes < payload_length) return false;
  if (GetU64(header, kRecordLsnAt) != block_lsn + offset) return false;
  auto record = block.subspan(offset, kRecordHeaderBytes + payload_length);
  if (ChecksumSkipping(record, kRecordChecksumAt) != GetU32(header, kRecordChecksumAt)) {
    return false;
  }
  view->lsn = block_lsn + offset;
  view->type = GetU16(header, kRecordTypeAt);
  view->payload = record.subspan(kRecordHeaderBytes);
  *next = offset + record.size();
  return true;
}

// True when every byte is zero (word at a time: padding is most of a sector).
bool AllZero(std::span<const uint8_t> bytes) {
  const uint8_t* p = bytes.data();
  size_t n = bytes.size();
  uint64_t any = 0;
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    any |= word;
  }
  for (; n > 0; ++p, --n) any |= *p;
  return any == 0;
}

// DecodeBlock's checks; with records == nullptr it only validates (the
// encoder's pair check), reporting the record count and the last record's LSN.
BlockCheck CheckBlock(std::span<const uint8_t> bytes, uint32_t log_id, Lsn expected_lsn, BlockLimits limits,
                      std::vector<LogRecord>* records, uint32_t* count, Lsn* last_lsn) {
  BlockHeader header;
  const BlockCheck check = CheckBlockHeader(bytes, log_id, expected_lsn, limits, &header);
  if (check != BlockCheck::kValid) return check;
  if (bytes.size() < header.length) return BlockCheck::kBadHeader;
  auto block = bytes.subspan(0, header.length);
  if (ChecksumSkipping(block, kBlockChecksumAt) != header.checksum) return BlockCheck::kBadChecksum;
  // Padding is written as zeros: anything else there is a torn or corrupt sector.
  if (!AllZero(bytes.subspan(header.length))) return BlockCheck::kBadChecksum;
  RecordView view;
  size_t offset = kBlockHeaderBytes;
  for (uint32_t i = 0; i < header.record_count; ++i) {
    if (!DecodeRecord(block, offset, header.lsn, limits, &offset, &view)) return BlockCheck::kBadRecord;
  }
  if (offset != header.length) return BlockCheck::kBadRecord;
  *count = header.record_count;
  *last_lsn = view.lsn;
  if (records == nullptr) return BlockCheck::kValid;
  // Valid: copy the records out (a second walk; their checksums matched above).
  offset = kBlockHeaderBytes;
  for (uint32_t i = 0; i < header.record_count; ++i) {
    const uint32_t payload_length = GetU32(block.subspan(offset), kRecordLengthAt);
    LogRecord& record = records->emplace_back();
    record.lsn = header.lsn + offset;
    record.type = GetU16(block.subspan(offset), kRecordTypeAt);
    auto payload = block.subspan(offset + kRecordHeaderBytes, payload_length);
    record.payload.assign(payload.begin(), payload.end());
    offset += kRecordHeaderBytes + payload_length;
  }
  return BlockCheck::kValid;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
// The SSE4.2 crc32 instruction computes exactly this polynomial (CRC32C), 8
// bytes per instruction: the same values as the tables, several times faster.
// Chosen once per process from the CPU; both paths give identical results.
__attribute__((target("sse4.2"))) uint32_t Crc32cHardware(const uint8_t* p, size_t n, uint32_t crc) {
  uint64_t crc64 = crc;
  // Four words a turn (the same sequence of crc32 steps, less loop overhead).
  for (; n >= 32; p += 32, n -= 32) {
    uint64_t a, b, c, d;
    std::memcpy(&a, p, 8);
    std::memcpy(&b, p + 8, 8);
    std::memcpy(&c, p + 16, 8);
    std::memcpy(&d, p + 24, 8);
    crc64 = __builtin_ia32_crc32di(crc64, a);
    crc64 = __builtin_ia32_crc32di(crc64, b);
    crc64 = __builtin_ia32_crc32di(crc64, c);
    crc64 = __builtin_ia32_crc32di(crc64, d);
  }
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    crc64 = __builtin_ia32_crc32di(crc64, word);
  }
  crc = static_cast<uint32_t>(crc64);
  // The last 0-7 bytes: a 4-, a 2- and a 1-byte step at most (each the same
  // as that many byte steps: x86 loads little-endian).
  if (n >= 4) {
    uint32_t word;
    std::memcpy(&word, p, 4);
    crc = __builtin_ia32_crc32si(crc, word);
    p += 4;
    n -= 4;
  }
  if (n >= 2) {
    uint16_t half;
    std::memcpy(&half, p, 2);
    crc = __builtin_ia32_crc32hi(crc, half);
    p += 2;
    n -= 2;
  }
  if (n > 0) crc = __builtin_ia32_crc32qi(crc, *p);
  return crc;
}

// Decided once when the program starts (a function-local static would test
// its guard on every call).
const bool kHaveCrc32cHardware = [] {
  __builtin_cpu_init();
  return __builtin_cpu_supports("sse4.2") != 0;
}();
#endif

}  // namespace

uint32_t Crc32c(std::span<const uint8_t> data, uint32_t crc) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  if (kHaveCrc32cHardware) return ~Crc32cHardware(data.data(), data.size(), ~crc);
#endif
  return Crc32cPortable(data, crc);
}

uint32_t Crc32cPortable(std::span<const uint8_t> data, uint32_t crc) {
  crc = ~crc;
  const uint8_t* p = data.data();
  size_t n = data.size();
  const auto& t = kCrc32cTables;
  while (n >= 8) {
    const uint32_t lo = crc ^ (uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24);
    const uint32_t hi = uint32_t{p[4]} | uint32_t{p[5]} << 8 | uint32_t{p[6]} << 16 | uint32_t{p[7]} << 24;
    crc = t[7][lo & 0xFF] ^ t[6][(lo >> 8) & 0xFF] ^ t[5][(lo >> 16) & 0xFF] ^ t[4][lo >> 24] ^
          t[3][hi & 0xFF] ^ t[2][(hi >> 8) & 0xFF] ^ t[1][(hi >> 16) & 0xFF] ^ t[0][hi >> 24];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) crc = kCrc32cTable[(crc ^ *p++) & 0xFFu] ^ (crc >> 8);
  return ~crc;
}

// Little-endian fields, stored and loaded whole (one move each, not a loop
// over bytes: the same bytes on every host).
template <typename T>
inline T ToLittle(T value) {
  if constexpr (std::endian::native == std::endian::big) {
    if constexpr (sizeof(T) == 2) return __builtin_bswap16(value);
    if constexpr (sizeof(T) == 4) return __builtin_bswap32(value);
    if constexpr (sizeof(T) == 8) return __builtin_bswap64(value);
  }
  return value;
}
template <typename T>
inline void StoreLittle(uint8_t* at, T value) {
  value = ToLittle(value);
  std::memcpy(at, &value, sizeof value);
}
template <typename T>
inline T LoadLittle(const uint8_t* at) {
  T value;
  std::memcpy(&value, at, sizeof value);
  return ToLittle(value);
}

void PutU16(std::span<uint8_t> bytes, size_t offset, uint16_t value) {
  KTM_LOG_ASSERT(offset + 2 <= bytes.size(), "PutU16 out of bounds");
  StoreLittle(bytes.data() + offset, value);
}
void PutU32(std::span<uint8_t> bytes, size_t offset, uint32_t value) {
  KTM_LOG_ASSERT(offset + 4 <= bytes.size(), "PutU32 out of bounds");
  StoreLittle(bytes.data() + offset, value);
}
void PutU64(std::span<uint8_t> bytes, size_t offset, uint64_t value) {
  KTM_LOG_ASSERT(offset + 8 <= bytes.size(), "PutU64 out of bounds");
  StoreLittle(bytes.data() + offset, value);
}
uint16_t GetU16(std::span<const uint8_t> bytes, size_t offset) {
  KTM_LOG_ASSERT(offset + 2 <= bytes.size(), "GetU16 out of bounds");
  return LoadLittle<uint16_t>(bytes.data() + offset);
}
uint32_t GetU32(std::span<const uint8_t> bytes, size_t offset) {
  KTM_LOG_ASSERT(offset + 4 <= bytes.size(), "GetU32 out of bounds");
  return LoadLittle<uint32_t>(bytes.data() + offset);
}
uint64_t GetU64(std::span<const uint8_t> bytes, size_t offset) {
  KTM_LOG_ASSERT(offset + 8 <= bytes.size(), "GetU64 out of bounds");
  return LoadLittle<uint64_t>(bytes.data() + offset);
}

const char* BlockCheckName(BlockCheck check) {
  switch (check) {
    case BlockCheck::kValid: return "valid";
    case BlockCheck::kNoBlock: return "no block (never written)";
    case BlockCheck::kOtherLog: return "block of an earlier format";
    case BlockCheck::kStale: return "stale block from an earlier lap";
    case BlockCheck::kBadLsn: return "block LSN ahead of the expected LSN";
    case BlockCheck::kBadHeader: return "invalid block header";
    case BlockCheck::kBadChecksum: return "block checksum mismatch (torn or corrupt)";
    case BlockCheck::kBadRecord: return "invalid record inside a block";
  }
  return "unknown";
}

namespace {
thread_local uint32_t self_check_every = kSelfCheckEveryDefault;
// Blocks finished since the last check, counted up to self_check_every (a
// count, not a modulo: no division per block); the first block checks.
thread_local uint32_t blocks_unchecked = kSelfCheckEveryDefault - 1;
thread_local uint64_t self_checks_run = 0;
}  // namespace

void SetSelfCheckEvery(uint32_t every) {
  KTM_LOG_ASSERT(every >= 1, "SetSelfCheckEvery: every >= 1");
  self_check_every = every;
  blocks_unchecked = every - 1;
}
uint32_t SelfCheckEvery() { return self_check_every; }
uint64_t SelfChecksRun() { return self_checks_run; }

BlockBuilder::BlockBuilder(uint32_t log_id, Lsn start, BlockLimits limits)
    : log_id_(log_id), start_(start), limits_(limits) {
  KTM_LOG_ASSERT(limits.block_bytes_max >=
                     kBlockHeaderBytes + kRecordHeaderBytes + limits.record_payload_max,
                 "block_bytes_max must hold one record of record_payload_max bytes");
  Reset(log_id, start);
}

void BlockBuilder::Grow(size_t size) {
  // Doubling, but not past what a block may hold (a block is at most
  // block_bytes_max, padded to a sector).
  bytes_.resize(std::max(size, std::min<size_t>(bytes_.size() * 2, limits_.block_bytes_max)));
}

bool BlockBuilder::Fits(size_t payload_size) const {
  return payload_size <= limits_.record_payload_max &&
         size_ + kRecordHeaderBytes + payload_size <= limits_.block_bytes_max;
}

Lsn BlockBuilder::Add(uint16_t type, std::span<const uint8_t> payload) {
  KTM_LOG_ASSERT(Fits(payload.size()), "record does not fit in the block");
  const size_t offset = size_;
  const Lsn lsn = start_ + offset;
  const size_t record_size = kRecordHeaderBytes + payload.size();
  if (bytes_.size() < offset + record_size) Grow(offset + record_size);
  size_ = offset + record_size;
  // Every header byte written, then the payload copied after it (no zero
  // fill of bytes that are overwritten at once); unchecked stores: the room
  // was made just above.
  std::span<uint8_t> record(bytes_.data() + offset, record_size);
  uint8_t* header = record.data();
  StoreLittle(header + kRecordTypeAt, type);
  StoreLittle(header + kRecordFlagsAt, uint16_t{0});
  StoreLittle(header + kRecordLengthAt, static_cast<uint32_t>(payload.size()));
  StoreLittle(header + kRecordLsnAt, lsn);
  StoreLittle(header + kRecordChecksumAt, uint32_t{0});
  StoreLittle(header + kRecordReservedAt, uint32_t{0});
  if (!payload.empty()) std::memcpy(header + kRecordHeaderBytes, payload.data(), payload.size());
  // The checksum field is zero here: the CRC of the whole record is
  // ChecksumSkipping's value, in one pass.
  StoreLittle(header + kRecordChecksumAt, Crc32c(record));
  // The record is checked with its block, in Finish (decoded back there).
  ++record_count_;
  last_record_lsn_ = lsn;
  return lsn;
}

std::vector<uint8_t> BlockBuilder::Finish(uint32_t sector_size, Lsn durable_lsn) && {
  return std::move(*FinishInPlace(sector_size, durable_lsn));
}

std::vector<uint8_t>* BlockBuilder::FinishInPlace(uint32_t sector_size, Lsn durable_lsn) {
  KTM_LOG_ASSERT(record_count_ > 0, "an empty block is never written");
  KTM_LOG_ASSERT(durable_lsn <= start_ && start_ - durable_lsn <= UINT32_MAX,
                 "a block's durable LSN lies at most 4 GiB below its start");
  KTM_LOG_ASSERT(start_ % sector_size == 0, "a block starts on a sector boundary");
  const uint32_t length = static_cast<uint32_t>(size_);
  const std::span<uint8_t> block(bytes_.data(), length);
  // Every header field is inside: the block holds its header from Reset on.
  uint8_t* header = block.data();
  StoreLittle(header + kBlockMagicAt, kBlockMagic);
  StoreLittle(header + kBlockLogIdAt, log_id_);
  StoreLittle(header + kBlockLsnAt, start_);
  StoreLittle(header + kBlockLengthAt, length);
  StoreLittle(header + kBlockCountAt, record_count_);
  StoreLittle(header + kBlockChecksumAt, uint32_t{0});
  StoreLittle(header + kBlockDurableGapAt, static_cast<uint32_t>(start_ - durable_lsn));
  // The checksum field is zero here: the CRC of the whole block is
  // ChecksumSkipping's value, in one pass.
  StoreLittle(header + kBlockChecksumAt, Crc32c(block));
  // Zero padding to the sector boundary, then the buffer trimmed to it
  // (bytes_ may be longer: a shrinking resize writes nothing).
  const size_t padded = RoundUp(length, sector_size);
  if (bytes_.size() < padded) Grow(padded);
  std::memset(bytes_.data() + length, 0, padded - length);
  bytes_.resize(padded);

  // Pair check: what we are about to write must read back as exactly this
  // block, every record decoding at its LSN (sampled, see SetSelfCheckEvery).
  if (++blocks_unchecked >= self_check_every) {
    blocks_unchecked = 0;
    ++self_checks_run;
    uint32_t count = 0;
    Lsn last_lsn = 0;
    KTM_LOG_ASSERT(CheckBlock(bytes_, log_id_, start_, limits_, nullptr, &count, &last_lsn) == BlockCheck::kValid,
                   "encoded block does not decode");
    KTM_LOG_ASSERT(count == record_count_ && last_lsn == last_record_lsn_,
                   "encoded block decodes to other records");
  }
  return &bytes_;
}

BlockCheck CheckBlockHeader(std::span<const uint8_t> bytes, uint32_t log_id, Lsn expected_lsn,
                            BlockLimits limits, BlockHeader* header) {
  if (bytes.size() < kBlockHeaderBytes) return BlockCheck::kBadHeader;
  if (GetU32(bytes, kBlockMagicAt) != kBlockMagic) return BlockCheck::kNoBlock;
  header->log_id = GetU32(bytes, kBlockLogIdAt);
  header->lsn = GetU64(bytes, kBlockLsnAt);
  header->length = GetU32(bytes, kBlockLengthAt);
  header->record_count = GetU32(bytes, kBlockCountAt);
  header->checksum = GetU32(bytes, kBlockChecksumAt);
  header->durable_gap = GetU32(bytes, kBlockDurableGapAt);
  if (header->log_id != log_id) return BlockCheck::kOtherLog;
  if (header->lsn < expected_lsn) return BlockCheck::kStale;
  if (header->lsn > expected_lsn) return BlockCheck::kBadLsn;
  const uint64_t min_length = uint64_t{kBlockHeaderBytes} + kRecordHeaderBytes;
  if (header->durable_gap > header->lsn || header->length < min_length ||
      header->length > limits.block_bytes_max || header->record_count == 0 ||
      header->record_count > (header->length - kBlockHeaderBytes) / kRecordHeaderBytes) {
    return BlockCheck::kBadHeader;
  }
  return BlockCheck::kValid;
}

BlockCheck DecodeBlock(std::span<const uint8_t> bytes, uint32_t log_id, Lsn expected_lsn,
                       BlockLimits limits, std::vector<LogRecord>* records) {
  uint32_t count = 0;
  Lsn last_lsn = 0;
  return CheckBlock(bytes, log_id, expected_lsn, limits, records, &count, &last_lsn);
}

bool FirstSectorConsistent(std::span<const uint8_t> bytes, const BlockHeader& header,
                           uint32_t sector_size, BlockLimits limits) {
  const size_t first = std::min<size_t>(bytes.size(), sector_size);
  size_t offset = kBlockHeaderBytes;
  for (uint32_t i = 0; i < header.record_count; ++i) {
    if (offset + kRecordHeaderBytes > first) return true;  // the rest lies in later sectors
    auto record_header = bytes.subspan(offset, kRecordHeaderBytes);
    const uint32_t payload_length = GetU32(record_header, kRecordLengthAt);
    if (GetU16(record_header, kRecordFlagsAt) != 0 || GetU32(record_header, kRecordReservedAt) != 0 ||
        GetU64(record_header, kRecordLsnAt) != header.lsn + offset ||
        payload_length > limits.record_payload_max ||
        offset + kRecordHeaderBytes + payload_length > header.length) {
      return false;
    }
    const size_t end = offset + kRecordHeaderBytes + payload_length;
    if (end > first) return true;
    if (ChecksumSkipping(bytes.subspan(offset, end - offset), kRecordChecksumAt) !=
        GetU32(record_header, kRecordChecksumAt)) {
      return false;
    }
    offset = end;
  }
  // Every record ended inside the first sector: so must the block, then zeros.
  return offset == header.length && AllZero(bytes.subspan(offset, first - offset));
}

std::vector<uint8_t> EncodeRestartArea(const RestartArea& area, uint32_t sector_size) {
  KTM_LOG_ASSERT(area.payload.size() <= RestartPayloadMax(sector_size),
                 "restart payload larger than a sector allows");
  KTM_LOG_ASSERT((area.flags & ~kRestartFlagsKnown) == 0, "unknown restart flags");
  std::vector<uint8_t> sector(sector_size, 0);
  PutU32(sector, kRestartMagicAt, kRestartMagic);
  PutU32(sector, kRestartFlagsAt, area.flags);
  PutU64(sector, kRestartSequenceAt, area.sequence);
  PutU64(sector, kRestartBaseAt, area.base_lsn);
  PutU64(sector, kRestartScanAt, area.scan_lsn);
  PutU64(sector, kRestartHintAt, area.durable_hint_lsn);
  PutU64(sector, kRestartRegionAt, area.region_bytes);
  PutU32(sector, kRestartLogIdAt, area.log_id);
  PutU32(sector, kRestartSectorAt, area.sector_size);
  PutU32(sector, kRestartPayloadLengthAt, static_cast<uint32_t>(area.payload.size()));
  if (!area.payload.empty()) {
    std::memcpy(sector.data() + kRestartHeaderBytes, area.payload.data(), area.payload.size());
  }
  PutU32(sector, kRestartChecksumAt, ChecksumSkipping(sector, kRestartChecksumAt));

  RestartArea check;
  KTM_LOG_ASSERT(DecodeRestartArea(sector, &check) == RestartCheck::kValid &&
                     check.sequence == area.sequence && check.base_lsn == area.base_lsn &&
                     check.payload == area.payload,
                 "encoded restart area does not decode back");
  return sector;
}

RestartCheck DecodeRestartArea(std::span<const uint8_t> sector, RestartArea* area) {
  if (sector.size() < kRestartHeaderBytes) return RestartCheck::kCorrupt;
  if (GetU32(sector, kRestartMagicAt) != kRestartMagic) return RestartCheck::kNoRestartArea;
  const uint32_t payload_length = GetU32(sector, kRestartPayloadLengthAt);
  if (payload_length > sector.size() - kRestartHeaderBytes) return RestartCheck::kCorrupt;
  if (ChecksumSkipping(sector, kRestartChecksumAt) != GetU32(sector, kRestartChecksumAt)) {
    return RestartCheck::kCorrupt;
  }
  area->flags = GetU32(sector, kRestartFlagsAt);
  area->sequence = GetU64(sector, kRestartSequenceAt);
  area->base_lsn = GetU64(sector, kRestartBaseAt);
  area->scan_lsn = GetU64(sector, kRestartScanAt);
  area->durable_hint_lsn = GetU64(sector, kRestartHintAt);
  area->region_bytes = GetU64(sector, kRestartRegionAt);
  area->log_id = GetU32(sector, kRestartLogIdAt);
  area->sector_size = GetU32(sector, kRestartSectorAt);
  if ((area->flags & ~kRestartFlagsKnown) != 0 || area->sector_size == 0 ||
      area->scan_lsn % area->sector_size != 0 ||
      area->scan_lsn > RoundUp(area->base_lsn, area->sector_size)) {
    return RestartCheck::kCorrupt;
  }
  // The encoder zero-fills the sector after the payload; anything else there
  // is not an area this log wrote, even when its checksum was made to match.
  if (!AllZero(sector.subspan(kRestartHeaderBytes + payload_length))) return RestartCheck::kCorrupt;
  auto payload = sector.subspan(kRestartHeaderBytes, payload_length);
  area->payload.assign(payload.begin(), payload.end());
  return RestartCheck::kValid;
}

}  // namespace ktm::log::format
