// Log format: the exact bytes the log puts on disk, and their validation.
//
// Contract: everything is little-endian fixed-width; every structure carries
// a magic, the identity it must have (log id, LSN) and a CRC32C, so a reader
// can tell a valid structure from garbage, a stale copy or a torn write
// without trusting anything else on the disk. Encoders check what they
// produce by decoding it back (always-on asserts); decoders never assert on
// disk content, they classify it.
//
// Block (starts on a sector boundary; its LSN is its stream offset):
//   u32 magic | u32 log_id | u64 block_lsn | u32 length | u32 record_count |
//   u32 checksum | u32 durable_gap          = kBlockHeaderBytes (32)
//   then record_count records packed back to back, then zero padding to the
//   next sector boundary. length = header + records (padding excluded);
//   checksum = CRC32C over those `length` bytes with the checksum field zero;
//   a reader also requires the padding it read to be zero.
//   durable_gap chains the blocks: block_lsn - durable_gap is the log's
//   durable LSN when the block was written (everything below it had been
//   forced and acknowledged), so a valid later block vouches for every block
//   below it and recovery can tell a damaged forced block from a torn tail.// Record (its LSN is the stream offset of its header):
//   u16 type | u16 flags(0) | u32 payload_length | u64 record_lsn |
//   u32 checksum | u32 reserved(0)          = kRecordHeaderBytes (24)
//   then the payload; checksum = CRC32C over header (checksum zero) + payload.
// Restart area (one sector; sequence s lives in restart sector s % 2):
//   u32 magic | u32 flags | u64 sequence | u64 base_lsn | u64 scan_lsn |
//   u64 durable_hint_lsn | u64 region_bytes | u32 log_id | u32 sector_size |
//   u32 payload_length | u32 checksum       = kRestartHeaderBytes (64)
//   then the payload, then zeros; checksum over the whole sector (checksum
//   field zero), so a flip anywhere in the sector is detected.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "ktm/log/log.h"

namespace ktm::log::format {

constexpr uint32_t kBlockMagic = 0x474F4C4Bu;    // "KLOG" in the byte order on disk
constexpr uint32_t kRestartMagic = 0x5453524Bu;  // "KRST"
constexpr uint32_t kBlockHeaderBytes = 32;
constexpr uint32_t kRecordHeaderBytes = 24;
constexpr uint32_t kRestartHeaderBytes = 64;
constexpr uint32_t kRestartSectorCount = 2;
// Restart flag: the area was written by the client (WriteRestartArea), not by Format.
constexpr uint32_t kRestartFlagClient = 1;
constexpr uint32_t kRestartFlagsKnown = kRestartFlagClient;
static_assert(kBlockHeaderBytes % 8 == 0 && kRecordHeaderBytes % 8 == 0);
static_assert(kRestartHeaderBytes < 512, "a restart area must leave room for a payload");

// CRC32C (Castagnoli, reflected 0x82F63B78). Extend: Crc32c(b, Crc32c(a)) == Crc32c(a+b).
uint32_t Crc32c(std::span<const uint8_t> data, uint32_t crc = 0);
// The same function from slicing-by-8 tables, never the CPU's crc32
// instruction (Crc32c uses that when the CPU has it); tests compare the two.
uint32_t Crc32cPortable(std::span<const uint8_t> data, uint32_t crc = 0);

// Little-endian fixed-width access into a byte buffer (bounds asserted).
void PutU16(std::span<uint8_t> bytes, size_t offset, uint16_t value);
void PutU32(std::span<uint8_t> bytes, size_t offset, uint32_t value);
void PutU64(std::span<uint8_t> bytes, size_t offset, uint64_t value);
uint16_t GetU16(std::span<const uint8_t> bytes, size_t offset);
uint32_t GetU32(std::span<const uint8_t> bytes, size_t offset);
uint64_t GetU64(std::span<const uint8_t> bytes, size_t offset);

inline uint64_t RoundUp(uint64_t value, uint64_t unit) { return (value + unit - 1) / unit * unit; }

// BlockLimits (block_bytes_max: header + records; record_payload_max) is
// defined in log.h, which the Log's members need.

struct BlockHeader {
  uint32_t log_id = 0;
  Lsn lsn = 0;
  uint32_t length = 0;
  uint32_t record_count = 0;
  uint32_t checksum = 0;
  uint32_t durable_gap = 0;  // lsn - durable_gap: durable LSN when the block was written
  Lsn vouched_lsn() const { return lsn - durable_gap; }
};

// Why a block was accepted or rejected. kNoBlock and kStale are a clean end
// of the log (never-written or previous-lap space); the others are torn or
// corrupt blocks.
enum class BlockCheck : uint8_t {
  kValid,
  kNoBlock,      // no block magic: never-written garbage or foreign bytes
  kOtherLog,     // a block of an earlier format of this region
  kStale,        // LSN below the expected one: a block from an earlier lap
  kBadLsn,       // LSN above the expected one: impossible unless corrupt
  kBadHeader,    // length, count or durable_gap fields out of range
  kBadChecksum,  // torn or corrupt body
  kBadRecord,    // checksum fine but a record is inconsistent
};
const char* BlockCheckName(BlockCheck check);
inline bool IsCleanEnd(BlockCheck check) {
  return check == BlockCheck::kNoBlock || check == BlockCheck::kStale ||
         check == BlockCheck::kOtherLog;
}

// Self-checks of what is about to be written: BlockBuilder::Finish decodes
// the sealed block back (every record's checksum, count, last LSN) on the
// first block of a thread and then on every `every`-th (1: every block, what
// the log tests set; the default, kSelfCheckEveryDefault, keeps the check
// but samples it: decoding every block was ~8% of the engine's CPU per
// commit). The count is per thread (worlds may run on several threads) and
// only decides whether an assertion runs: it never changes what is written.
// The same rate samples Log's invariant checks after each Append and block
// completion (read once, when a Log is built).
constexpr uint32_t kSelfCheckEveryDefault = 16;
void SetSelfCheckEvery(uint32_t every);  // every >= 1
uint32_t SelfCheckEvery();
// Blocks checked by Finish on this thread so far (tests).
uint64_t SelfChecksRun();

// Builds one block in memory: records are added in LSN order, Finish seals it.
class BlockBuilder {
 public:
  BlockBuilder(uint32_t log_id, Lsn start, BlockLimits limits);
  // Starts a new block in this builder, with the same limits (what the
  // constructor does, without building another object: the log reuses one
  // builder, and its buffer, for block after block).
  // Inline: the log calls it for every block.
  void Reset(uint32_t log_id, Lsn start) {
    log_id_ = log_id;
    start_ = start;
    record_count_ = 0;
    last_record_lsn_ = kLsnInvalid;
    // The header's bytes are all written by Finish: only room is made here.
    size_ = kBlockHeaderBytes;
    if (bytes_.size() < size_) Grow(size_);
  }

  // True when a record with this payload size still fits in the block.
  bool Fits(size_t payload_size) const;
  // Appends a record; returns its LSN. Asserts Fits and payload size.
  Lsn Add(uint16_t type, std::span<const uint8_t> payload);
  // Fills the header (durable_lsn: the log's durable LSN now, <= start, at
  // most 4 GiB below it), pads to the sector size and checks the block by
  // decoding it back (sampled: SetSelfCheckEvery). Returns the bytes to write (a multiple of sector_size).
  std::vector<uint8_t> Finish(uint32_t sector_size, Lsn durable_lsn) &&;
  // Finish, leaving the bytes in the builder: the log hands that buffer to
  // the disk, which swaps in a spare one (any content: Reset reuses it).
  // Add may not follow until Reset.
  std::vector<uint8_t>* FinishInPlace(uint32_t sector_size, Lsn durable_lsn);

  Lsn start() const { return start_; }
  Lsn end() const { return start_ + size_; }  // unpadded
  uint32_t record_count() const { return record_count_; }
  Lsn last_record_lsn() const { return last_record_lsn_; }

 private:
  uint32_t log_id_;
  Lsn start_;
  BlockLimits limits_;
  uint32_t record_count_ = 0;
  Lsn last_record_lsn_ = kLsnInvalid;
  // bytes_[0, size_) is the block so far; bytes_ may be longer (a reused
  // buffer's old bytes, or room made ahead): records are copied in without
  // a vector insert, and Finish zeroes only the padding, then trims.
  std::vector<uint8_t> bytes_;
  size_t size_ = 0;
  // Makes bytes_ at least `size` long, keeping bytes_[0, size_).
  void Grow(size_t size);
};

// Reads a block header (bytes: at least kBlockHeaderBytes) and checks it
// against the expected log id and LSN and the limits. *header is filled
// whenever the magic matches (also for kStale, so callers can report it).
BlockCheck CheckBlockHeader(std::span<const uint8_t> bytes, uint32_t log_id, Lsn expected_lsn,
                            BlockLimits limits, BlockHeader* header);
// Checks a whole block (bytes: the block as read, header.length bytes or more;
// bytes past header.length must be zero padding) and appends its records to
// *records only when every check passes (records may be nullptr: check only).
BlockCheck DecodeBlock(std::span<const uint8_t> bytes, uint32_t log_id, Lsn expected_lsn,
                       BlockLimits limits, std::vector<LogRecord>* records);

// For a block whose header checked but whose checksum did not: false when
// its first sector cannot be what the writer wrote (a record that starts in
// it is inconsistent, or the records end in it while the header says the
// block goes on). A crash never damages a block's first sector while keeping
// its header: a sector is written whole or not at all.
bool FirstSectorConsistent(std::span<const uint8_t> bytes, const BlockHeader& header,
                           uint32_t sector_size, BlockLimits limits);

struct RestartArea {
  uint32_t flags = 0;
  uint64_t sequence = 0;
  Lsn base_lsn = 0;
  Lsn scan_lsn = 0;          // the scan starts here: a block start <= the first record >= base
  Lsn durable_hint_lsn = 0;  // everything below was durable when the area was written
  uint64_t region_bytes = 0;
  uint32_t log_id = 0;
  uint32_t sector_size = 0;
  std::vector<uint8_t> payload;
};

enum class RestartCheck : uint8_t { kValid, kNoRestartArea, kCorrupt };
inline uint32_t RestartPayloadMax(uint32_t sector_size) {
  return sector_size - kRestartHeaderBytes;
}
// One sector; asserts that the payload fits and checks the result by decoding it.
std::vector<uint8_t> EncodeRestartArea(const RestartArea& area, uint32_t sector_size);
RestartCheck DecodeRestartArea(std::span<const uint8_t> sector, RestartArea* area);

}  // namespace ktm::log::format
