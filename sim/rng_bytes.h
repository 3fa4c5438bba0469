// RandomBytes and GarbageBytes: random-looking bytes in bulk (disk garbage).
//
// RandomBytes contract: out[i] is byte (i % 8) of draw i / 8 of Rng(seed),
// least significant byte first: exactly what filling a buffer from Rng::Next
// 8 bytes at a time gives, on every platform.
//
// GarbageBytes contract: a pure function of (key, out.size()), the same on
// every platform, at about the cost of a copy. Word i (8 bytes, least
// significant first; a last partial word is the low bytes of the next one) is
// pad[(start + i) % kGarbagePadWords] ^ mask, where pad is the first
// kGarbagePadWords draws of Rng(kGarbagePadSeed) (computed once per process)
// and start, mask are the first two splitmix64 outputs from state `key`
// (start taken modulo kGarbagePadWords). So a sector's garbage is a window of
// one random stream under a random 64-bit mask: every 8-byte word is
// uniform, any fixed field (a magic, a checksum) matches a given value with
// the odds of random bytes, and two keys share bytes only with a 2^-64 mask
// collision. It is not a stream of independent draws (two keys' windows may
// overlap, differing by a constant word), which readers that validate with
// magics and checksums cannot tell; a fresh Rng per sector cost about 16
// instructions per 8 bytes, most of a default-suite run's disk time (every
// log open reads a 128 KiB probe window of never-written sectors).
// Both live in rng.cc so the draws inline; a header of its own so rng.h,
// which nearly every file includes, does not change.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace sim {

void RandomBytes(uint64_t seed, std::span<uint8_t> out);

inline constexpr size_t kGarbagePadWords = size_t{1} << 15;  // 256 KiB of pad
inline constexpr uint64_t kGarbagePadSeed = 0x6761726261676521ull;  // "garbage!"
void GarbageBytes(uint64_t key, std::span<uint8_t> out);

}  // namespace sim
