// CaseInsensitiveLess and EqualsIgnoringCase (ktm/case_fold.h) compare eight
// bytes at a time; these tests hold them to the byte-at-a-time definition
// (FoldCase per char, unsigned, then length) over texts built to hit every
// edge: letters on both sides of a word boundary, the bytes next to 'A'..'Z'
// and 'a'..'z', bytes >= 0x80 (never folded), prefixes and equal texts.
#include <algorithm>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "ktm/case_fold.h"
#include "sim/rng.h"

namespace ktm {
namespace {

bool ReferenceLess(std::string_view a, std::string_view b) {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return static_cast<unsigned char>(FoldCase(x)) < static_cast<unsigned char>(FoldCase(y));
  });
}

bool ReferenceEquals(std::string_view a, std::string_view b) {
  return !ReferenceLess(a, b) && !ReferenceLess(b, a);
}

// The bytes that matter: each side of every boundary of the folded range,
// both cases, separators and non-ASCII bytes (0xc1 is 'A' | 0x80).
constexpr char kAlphabet[] = {'@', 'A', 'B', 'Y', 'Z', '[', '`', 'a', 'b', 'y', 'z', '{', '\\', '0', '\x7f',
                              '\x80', '\xc1', '\xda', '\xe1', '\xff', '\0'};

std::string RandomText(sim::Rng& rng, size_t size) {
  std::string text(size, ' ');
  for (char& c : text) c = kAlphabet[rng.Uniform(std::size(kAlphabet))];
  return text;
}

// Flips the case of some letters of `text` (an equal text, folded).
std::string Recase(sim::Rng& rng, std::string text) {
  for (char& c : text) {
    if (rng.Uniform(2) == 0) continue;
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    else if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

TEST(CaseFold, WordCompareAgreesWithTheByteDefinition) {
  sim::Rng rng(19);
  const CaseInsensitiveLess less;
  size_t checked = 0;
  for (int round = 0; round < 20000; ++round) {
    const std::string a = RandomText(rng, rng.Uniform(40));
    std::string b;
    switch (rng.Uniform(4)) {
      case 0: b = RandomText(rng, rng.Uniform(40)); break;
      case 1: b = Recase(rng, a); break;                                  // equal folded
      case 2: b = Recase(rng, a).substr(0, rng.Uniform(a.size() + 1)); break;  // a prefix
      default: {                                                          // one byte differs
        b = Recase(rng, a);
        if (!b.empty()) b[rng.Uniform(b.size())] = kAlphabet[rng.Uniform(std::size(kAlphabet))];
      }
    }
    ASSERT_EQ(less(a, b), ReferenceLess(a, b)) << "a=" << a << " b=" << b;
    ASSERT_EQ(less(b, a), ReferenceLess(b, a)) << "a=" << a << " b=" << b;
    ASSERT_EQ(EqualsIgnoringCase(a, b), ReferenceEquals(a, b)) << "a=" << a << " b=" << b;
    ++checked;
  }
  EXPECT_EQ(checked, 20000u);
}

TEST(CaseFold, FoldWordFoldsExactlyTheUpperCaseAsciiLetters) {
  for (int c = 0; c < 256; ++c) {
    for (int lane = 0; lane < 8; ++lane) {
      const uint64_t word = 0x2e2e2e2e2e2e2e2eull & ~(uint64_t{0xff} << (8 * lane));
      const uint64_t in = word | (static_cast<uint64_t>(c) << (8 * lane));
      const uint64_t out = case_fold_internal::FoldWord(in);
      const auto expected = static_cast<unsigned char>(FoldCase(static_cast<char>(c)));
      ASSERT_EQ((out >> (8 * lane)) & 0xff, expected) << "byte " << c << " lane " << lane;
      ASSERT_EQ(out & ~(uint64_t{0xff} << (8 * lane)), word) << "byte " << c << " lane " << lane;
    }
  }
}

TEST(CaseFold, OrdersPathsLikeTheByteDefinition) {
  std::vector<std::string> paths = {"\\Dir\\File10", "\\dir\\file1", "\\DIR\\FILE2", "\\dir\\fileA", "\\dir\\file_",
                                    "\\dir\\file[", "\\dir\\filea", "\\dir\\sub\\x", "\\Dir", "\\dir\\"};
  std::vector<std::string> by_words = paths;
  std::vector<std::string> by_bytes = paths;
  std::stable_sort(by_words.begin(), by_words.end(), CaseInsensitiveLess{});
  std::stable_sort(by_bytes.begin(), by_bytes.end(), ReferenceLess);
  EXPECT_EQ(by_words, by_bytes);
}

}  // namespace
}  // namespace ktm
