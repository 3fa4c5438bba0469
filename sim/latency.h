// Latency: a modelled delay distribution for disk and network operations.
//
// Contract: Sample() is a pure function of the Rng stream passed in and always
// returns a value in [min_ns, max_ns] (for kExponential the tail is clamped
// at max_ns). Integer arithmetic except the exponential's log.
#pragma once

#include <cstdint>
#include <string>

#include "sim/rng.h"
#include "sim/time.h"

namespace sim {

struct Latency {
  enum class Kind : uint8_t { kFixed, kUniform, kExponential };
  Kind kind = Kind::kFixed;
  TimeNs min_ns = 0;   // kFixed uses min_ns only
  TimeNs max_ns = 0;   // upper clamp for kUniform and kExponential
  TimeNs mean_ns = 0;  // kExponential: min_ns + Exp(mean_ns - min_ns)

  static Latency Fixed(TimeNs ns);
  static Latency Uniform(TimeNs lo, TimeNs hi);
  static Latency Exponential(TimeNs lo, TimeNs mean, TimeNs hi);

  TimeNs Sample(Rng& rng) const;
  // The smallest value Sample can return (used for theoretical minima).
  TimeNs Minimum() const { return min_ns; }
  std::string ToString() const;
};

}  // namespace sim
