// Virtual time: integer nanoseconds since the start of a simulated world.
#pragma once

#include <cstdint>

namespace sim {

using TimeNs = int64_t;
constexpr TimeNs kNanosecond = 1;
constexpr TimeNs kMicrosecond = 1000;
constexpr TimeNs kMillisecond = 1000 * kMicrosecond;
constexpr TimeNs kSecond = 1000 * kMillisecond;
constexpr TimeNs kTimeNever = INT64_MAX;

}  // namespace sim
