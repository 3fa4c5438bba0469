// RandomBytes: the bytes a fresh Rng(seed) gives, in bulk (disk garbage).
//
// Contract: out[i] is byte (i % 8) of draw i / 8 of Rng(seed), least
// significant byte first: exactly what filling a buffer from Rng::Next 8 bytes
// at a time gives, on every platform. Lives in rng.cc so the draws inline
// (no call per 8 bytes); a header of its own so rng.h, which nearly every
// file includes, does not change.
#pragma once

#include <cstdint>
#include <span>

namespace sim {

void RandomBytes(uint64_t seed, std::span<uint8_t> out);

}  // namespace sim
