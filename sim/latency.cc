// Latency: sampling of the modelled delay distributions.
//
// Every sample lies in [min_ns, max_ns]. kFixed consumes no draw; kUniform
// and kExponential consume exactly one, so a stream's position depends only
// on the number of samples taken from it.
#include "sim/latency.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_format.h"

namespace sim {
namespace {

[[noreturn]] void LatencyFail(const char* what) {
  std::fprintf(stderr, "sim::Latency: %s\n", what);
  std::abort();
}

}  // namespace

Latency Latency::Fixed(TimeNs ns) {
  if (ns < 0) LatencyFail("Fixed: negative");
  Latency latency;
  latency.kind = Kind::kFixed;
  latency.min_ns = ns;
  latency.max_ns = ns;
  latency.mean_ns = ns;
  return latency;
}

Latency Latency::Uniform(TimeNs lo, TimeNs hi) {
  if (lo < 0 || lo > hi) LatencyFail("Uniform: need 0 <= lo <= hi");
  Latency latency;
  latency.kind = Kind::kUniform;
  latency.min_ns = lo;
  latency.max_ns = hi;
  latency.mean_ns = lo + (hi - lo) / 2;
  return latency;
}

Latency Latency::Exponential(TimeNs lo, TimeNs mean, TimeNs hi) {
  if (lo < 0 || lo > mean || mean > hi) LatencyFail("Exponential: need 0 <= lo <= mean <= hi");
  Latency latency;
  latency.kind = Kind::kExponential;
  latency.min_ns = lo;
  latency.max_ns = hi;
  latency.mean_ns = mean;
  return latency;
}

TimeNs Latency::Sample(Rng& rng) const {
  switch (kind) {
    case Kind::kFixed:
      return min_ns;
    case Kind::kUniform:
      return rng.Range(min_ns, max_ns);
    case Kind::kExponential: {
      const double u = rng.UnitDouble();  // [0, 1): 1 - u is in (0, 1]
      const double excess = -std::log(1.0 - u) * static_cast<double>(mean_ns - min_ns);
      const double room = static_cast<double>(max_ns - min_ns);
      if (!(excess < room)) return max_ns;
      return min_ns + static_cast<TimeNs>(excess);
    }
  }
  LatencyFail("unknown kind");
}

std::string Latency::ToString() const {
  switch (kind) {
    case Kind::kFixed:
      return absl::StrFormat("fixed(%dns)", min_ns);
    case Kind::kUniform:
      return absl::StrFormat("uniform(%dns..%dns)", min_ns, max_ns);
    case Kind::kExponential:
      return absl::StrFormat("exponential(min=%dns mean=%dns max=%dns)", min_ns, mean_ns, max_ns);
  }
  return "unknown";
}

}  // namespace sim
