// CodeProbes: hit counters for named rare paths of one world (FoundationDB's
// code probes): a probe proves that a run reached a path, and a suite report
// lists the declared probes that no run reached.
//
// Contract: one CodeProbes per World, reached only through the World and its
// Hosts (Host::probes()), never through a global, so worlds running on
// different threads, or one after another in a process, never share counts.
// Counting is not traced: probes never change a trace digest. Names are
// declared by the code that hits them (ktm/probes.h); this class only counts.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace sim {

class CodeProbes {
 public:
  void Hit(std::string_view name) {
    auto it = hits_.find(name);
    if (it == hits_.end()) it = hits_.emplace(std::string(name), 0).first;
    ++it->second;
  }
  uint64_t hits(std::string_view name) const {
    auto it = hits_.find(name);
    return it == hits_.end() ? 0 : it->second;
  }
  // Every probe hit at least once, by name (sorted).
  const std::map<std::string, uint64_t, std::less<>>& all() const { return hits_; }

 private:
  std::map<std::string, uint64_t, std::less<>> hits_;
};

}  // namespace sim
