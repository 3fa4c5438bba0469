// Names compared as Windows compares file and registry names: without case,
// and kept as first spelled (case-preserving). ASCII case folding only; the
// simulated namespaces hold ASCII names (docs/ktm-decisions.md).
//
// CaseInsensitiveLess orders strings by their folded bytes, so every name
// that starts with a given prefix (compared without case) is contiguous in a
// map ordered by it: lower_bound(prefix) + StartsWithIgnoringCase scans a
// subtree as before.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace ktm {

inline char FoldCase(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

namespace case_fold_internal {
inline constexpr uint64_t kOnes = 0x0101010101010101ull;
inline constexpr uint64_t kHighBits = 0x8080808080808080ull;

// FoldCase of each of the eight bytes of `word` at once: a byte below 0x80
// whose low seven bits are in 'A'..'Z' gets bit 5 set. Per byte, adding
// (0x80 - 'A') to its low seven bits sets the byte's top bit when it is >= 'A',
// adding (0x7f - 'Z') when it is > 'Z'; neither sum carries into the next byte
// (at most 0x7f + 0x3f).
inline uint64_t FoldWord(uint64_t word) {
  const uint64_t low7 = word & ~kHighBits;
  const uint64_t at_least_a = low7 + (0x80 - 'A') * kOnes;
  const uint64_t above_z = low7 + (0x7f - 'Z') * kOnes;
  const uint64_t upper = (at_least_a ^ above_z) & ~word & kHighBits;
  return word | (upper >> 2);  // 0x80 >> 2 == 0x20, 'a' - 'A'
}

inline uint64_t LoadWord(const char* at) {
  uint64_t word;
  std::memcpy(&word, at, sizeof word);
  return word;  // little-endian: byte i of the text is bits 8i..8i+7
}

static_assert(std::endian::native == std::endian::little, "the word compares read bytes in text order");

// The order of two eight-byte pieces by their folded bytes: < 0, 0 (equal
// folded) or > 0, decided by the first (lowest) byte that differs.
inline int CompareWords(uint64_t x, uint64_t y) {
  if (x == y) return 0;
  const uint64_t fx = FoldWord(x);
  const uint64_t fy = FoldWord(y);
  if (fx == fy) return 0;
  const int shift = std::countr_zero(fx ^ fy) & ~7;
  return ((fx >> shift) & 0xff) < ((fy >> shift) & 0xff) ? -1 : 1;
}
}  // namespace case_fold_internal

// Orders by folded bytes (unsigned), then by length: what
// std::lexicographical_compare over FoldCase'd chars gives, eight bytes at a
// time (keys share long prefixes: a path's folders). Equal words are equal
// folded; unequal ones are folded and their first differing byte decides.
// The last partial word of a common part of eight bytes or more is the word
// that ends there: it overlaps bytes already found equal (folded), so its
// first difference is past them (a byte loop there cost more than the rest).
struct CaseInsensitiveLess {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const {
    using namespace case_fold_internal;
    const size_t common = std::min(a.size(), b.size());
    size_t i = 0;
    for (; i + 8 <= common; i += 8) {
      if (const int order = CompareWords(LoadWord(a.data() + i), LoadWord(b.data() + i)); order != 0) return order < 0;
    }
    if (i < common && common >= 8) {
      const int order = CompareWords(LoadWord(a.data() + common - 8), LoadWord(b.data() + common - 8));
      return order != 0 ? order < 0 : a.size() < b.size();
    }
    for (; i < common; ++i) {
      const auto x = static_cast<unsigned char>(FoldCase(a[i]));
      const auto y = static_cast<unsigned char>(FoldCase(b[i]));
      if (x != y) return x < y;
    }
    return a.size() < b.size();
  }
};

inline bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  using namespace case_fold_internal;
  if (a.size() != b.size()) return false;
  size_t i = 0;
  for (; i + 8 <= a.size(); i += 8) {
    if (CompareWords(LoadWord(a.data() + i), LoadWord(b.data() + i)) != 0) return false;
  }
  if (i < a.size() && a.size() >= 8) {  // the last partial word, as CaseInsensitiveLess
    return CompareWords(LoadWord(a.data() + a.size() - 8), LoadWord(b.data() + a.size() - 8)) == 0;
  }
  for (; i < a.size(); ++i) {
    if (FoldCase(a[i]) != FoldCase(b[i])) return false;
  }
  return true;
}

inline bool StartsWithIgnoringCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && EqualsIgnoringCase(s.substr(0, prefix.size()), prefix);
}

}  // namespace ktm
