// SameText: a == b for the short texts observers compare per event (RM
// names, state names), by whole-word loads instead of a memcmp call up to 16
// bytes (two overlapping loads cover every byte); longer texts by memcmp.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace harness {

inline bool SameText(std::string_view a, std::string_view b) {
  const size_t size = a.size();
  if (size != b.size()) return false;
  if (size > 16) return a == b;
  auto load = [](const char* at, size_t bytes) {
    uint64_t word = 0;
    std::memcpy(&word, at, bytes);
    return word;
  };
  if (size >= 8) {
    return load(a.data(), 8) == load(b.data(), 8) && load(a.data() + size - 8, 8) == load(b.data() + size - 8, 8);
  }
  if (size >= 4) {
    return load(a.data(), 4) == load(b.data(), 4) && load(a.data() + size - 4, 4) == load(b.data() + size - 4, 4);
  }
  for (size_t i = 0; i < size; ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

}  // namespace harness
