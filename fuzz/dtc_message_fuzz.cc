// Fuzz target: the DTC's wire and log decoders (ktm/dist/message.h) on
// arbitrary bytes; the first byte picks Decode (even) or DecodeBranchRecord
// (odd). Properties: no crash, assertion or out-of-bounds read on any bytes
// (messages arrive from the network); what decodes encodes to bytes that
// decode again to the same encoding (a fixed point after one round).
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "ktm/dist/message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::span<const uint8_t> bytes(data + 1, size - 1);
  if (data[0] % 2 == 0) {
    ktm::dist::Message message;
    if (!ktm::dist::Decode(bytes, &message)) return 0;
    const std::vector<uint8_t> encoded = ktm::dist::Encode(message);
    ktm::dist::Message again;
    FUZZ_CHECK(ktm::dist::Decode(encoded, &again), "an encoded message decodes");
    FUZZ_CHECK(ktm::dist::Encode(again) == encoded, "encoding is a fixed point");
  } else {
    ktm::dist::BranchRecord record;
    if (!ktm::dist::DecodeBranchRecord(bytes, &record)) return 0;
    const std::vector<uint8_t> encoded = ktm::dist::EncodeBranchRecord(record);
    ktm::dist::BranchRecord again;
    FUZZ_CHECK(ktm::dist::DecodeBranchRecord(encoded, &again), "an encoded record decodes");
    FUZZ_CHECK(ktm::dist::EncodeBranchRecord(again) == encoded, "encoding is a fixed point");
  }
  return 0;
}
