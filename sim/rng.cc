// Rng: xoshiro256** seeded through splitmix64, plus FNV-1a name hashing.
//
// Everything random in a world flows from here. The algorithms are fixed by
// this file (not by the standard library), so a seed means the same run on
// every platform and compiler. Bernoulli always consumes exactly one draw, so
// changing a probability never shifts the draws that follow it.
#include "sim/rng.h"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "sim/rng_bytes.h"

namespace sim {
namespace {

uint64_t SplitMix64(uint64_t& state) {
  state += 0x9e3779b97f4a7c15ull;
  uint64_t z = state;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

inline uint64_t RotateLeft(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

[[noreturn]] void RngFail(const char* what) {
  std::fprintf(stderr, "sim::Rng: %s\n", what);
  std::abort();
}

}  // namespace

Rng::Rng(uint64_t seed) {
  uint64_t state = seed;
  for (uint64_t& word : s_) word = SplitMix64(state);
  // xoshiro's all-zero state is a fixed point; splitmix64 never yields four
  // zeros in a row, but keep the invariant explicit.
  if ((s_[0] | s_[1] | s_[2] | s_[3]) == 0) s_[0] = 1;
}

Rng Rng::Derive(uint64_t seed, std::string_view name) { return DeriveFromHash(seed, HashName(name)); }

Rng Rng::DeriveFromHash(uint64_t seed, uint64_t name_hash) {
  // Scramble the name hash before mixing so that (seed, name) pairs with
  // related seeds and hashes do not collide trivially.
  uint64_t name_state = name_hash;
  return Rng(seed ^ SplitMix64(name_state));
}

uint64_t Rng::Next() {
  const uint64_t result = RotateLeft(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = RotateLeft(s_[3], 45);
  return result;
}

uint64_t Rng::Uniform(uint64_t bound) {
  if (bound == 0) RngFail("Uniform(0)");
  // Reject the low (2^64 mod bound) values so every residue is equally likely.
  const uint64_t threshold = (0 - bound) % bound;
  for (;;) {
    const uint64_t r = Next();
    if (r >= threshold) return r % bound;
  }
}

int64_t Rng::Range(int64_t lo, int64_t hi) {
  if (lo > hi) RngFail("Range(lo > hi)");
  const uint64_t span = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
  const uint64_t offset = span == UINT64_MAX ? Next() : Uniform(span + 1);
  return static_cast<int64_t>(static_cast<uint64_t>(lo) + offset);
}

double Rng::UnitDouble() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

bool Rng::Bernoulli(double p) {
  // Always draw, so the stream position does not depend on p.
  const double u = UnitDouble();
  return u < p;
}

uint64_t HashName(std::string_view name) { return HashNameFrom(14695981039346656037ull, name); }

uint64_t HashNameFrom(uint64_t hash, std::string_view more) {
  for (const char c : more) {
    hash ^= static_cast<uint8_t>(c);
    hash *= 1099511628211ull;
  }
  return hash;
}

void RandomBytes(uint64_t seed, std::span<uint8_t> out) {
  Rng rng(seed);
  uint8_t* data = out.data();
  const size_t size = out.size();
  size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    uint64_t word = rng.Next();
    if constexpr (std::endian::native == std::endian::big) word = __builtin_bswap64(word);
    std::memcpy(data + i, &word, 8);
  }
  if (i < size) {
    uint64_t word = rng.Next();
    for (; i < size; ++i) {
      data[i] = static_cast<uint8_t>(word);
      word >>= 8;
    }
  }
}

namespace {

// The pad of GarbageBytes: computed once (thread-safe static), then shared
// read-only by every disk of every thread.
const uint64_t* GarbagePad() {
  static const std::vector<uint64_t> pad = [] {
    std::vector<uint64_t> words(kGarbagePadWords);
    Rng rng(kGarbagePadSeed);
    for (uint64_t& word : words) word = rng.Next();
    return words;
  }();
  return pad.data();
}

inline void StoreWord(uint8_t* at, uint64_t word) {
  if constexpr (std::endian::native == std::endian::big) word = __builtin_bswap64(word);
  std::memcpy(at, &word, 8);
}

// From word i on, four vectors of words a turn, each XORed with mask and
// stored little-endian (Vector: a GCC vector of 2 or 4 uint64_t); returns
// where it stopped (fewer than four vectors' words left). Inline into its
// callers, so each compiles it for its own target (SSE2, or AVX2 below).
template <class Vector>
[[gnu::always_inline]] inline size_t XorPadVectors(const uint64_t* pad, uint64_t mask, uint8_t* data, size_t run,
                                                   size_t i) {
  constexpr size_t kWords = sizeof(Vector) / 8;
  const Vector masks = Vector{} + mask;
  for (; i + 4 * kWords <= run; i += 4 * kWords) {
    Vector a, b, c, d;
    std::memcpy(&a, pad + i, sizeof a);
    std::memcpy(&b, pad + i + kWords, sizeof b);
    std::memcpy(&c, pad + i + 2 * kWords, sizeof c);
    std::memcpy(&d, pad + i + 3 * kWords, sizeof d);
    a ^= masks;
    b ^= masks;
    c ^= masks;
    d ^= masks;
    std::memcpy(data + 8 * i, &a, sizeof a);
    std::memcpy(data + 8 * (i + kWords), &b, sizeof b);
    std::memcpy(data + 8 * (i + 2 * kWords), &c, sizeof c);
    std::memcpy(data + 8 * (i + 3 * kWords), &d, sizeof d);
  }
  return i;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
// Sixteen words (128 bytes) a turn in 32-byte AVX2 XORs: the same bytes as
// the SSE2 loop below, about half the instructions. Returns how many words
// it did (a multiple of 16).
__attribute__((target("avx2"))) size_t XorPadAvx2(const uint64_t* pad, uint64_t mask, uint8_t* data, size_t run) {
  typedef uint64_t Quad __attribute__((vector_size(32)));
  return XorPadVectors<Quad>(pad, mask, data, run, 0);
}

// Decided once when the program starts (as log_format.cc's CRC).
const bool kHaveAvx2 = [] {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") != 0;
}();
#endif

}  // namespace

void GarbageBytes(uint64_t key, std::span<uint8_t> out) {
  static_assert((kGarbagePadWords & (kGarbagePadWords - 1)) == 0, "pad words: a power of two");
  const uint64_t* pad = GarbagePad();
  uint64_t state = key;
  size_t at = static_cast<size_t>(SplitMix64(state) & (kGarbagePadWords - 1));
  const uint64_t mask = SplitMix64(state);
  uint8_t* data = out.data();
  size_t words = out.size() / 8;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  // A disk sector's garbage: whole AVX2 turns inside the pad, one call.
  if (kHaveAvx2 && out.size() % 128 == 0 && words <= kGarbagePadWords - at) {
    XorPadAvx2(pad + at, mask, data, words);
    return;
  }
#endif
  while (words > 0) {  // runs up to the pad's end, then on from its start
    const size_t run = std::min(words, kGarbagePadWords - at);
    size_t i = 0;
    if constexpr (std::endian::native == std::endian::little) {
      // Two words per 16-byte XOR (SSE2 on x86-64, NEON on arm64): the same
      // bytes as the word loop below.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
      if (kHaveAvx2) i = XorPadAvx2(pad + at, mask, data, run);
#endif
      typedef uint64_t Pair __attribute__((vector_size(16)));
      // Eight words (64 bytes) per turn first: a sector is 64 words, and a
      // turn of the loop costs as much as the XOR it does.
      i = XorPadVectors<Pair>(pad + at, mask, data, run, i);
      const Pair masks = Pair{} + mask;
      for (; i + 2 <= run; i += 2) {
        Pair pair;
        std::memcpy(&pair, pad + at + i, sizeof pair);
        pair ^= masks;
        std::memcpy(data + 8 * i, &pair, sizeof pair);
      }
    }
    for (; i < run; ++i) StoreWord(data + 8 * i, pad[at + i] ^ mask);
    data += 8 * run;
    words -= run;
    at = (at + run) & (kGarbagePadWords - 1);
  }
  if (const size_t rest = out.size() % 8; rest != 0) {
    uint64_t word = pad[at] ^ mask;
    for (size_t i = 0; i < rest; ++i, word >>= 8) data[i] = static_cast<uint8_t>(word);
  }
}

}  // namespace sim
