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
#include <string_view>

namespace ktm {

inline char FoldCase(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

struct CaseInsensitiveLess {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
      return static_cast<unsigned char>(FoldCase(x)) < static_cast<unsigned char>(FoldCase(y));
    });
  }
};

inline bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return FoldCase(x) == FoldCase(y);
         });
}

inline bool StartsWithIgnoringCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && EqualsIgnoringCase(s.substr(0, prefix.size()), prefix);
}

}  // namespace ktm
