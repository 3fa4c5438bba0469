// KTM_LOG_ASSERT: the always-on invariant check of the log (also in Release).
//
// A broken invariant is a programmer error, not a world event: the run stops
// at once with the condition, a message and the source position, so the seed
// printed by the harness reproduces it. Faults of the world (I/O errors, torn
// writes, garbage sectors) never reach this macro; they come back as statuses.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

#include "sim/invariant.h"

namespace ktm::log::internal {

[[noreturn]] inline void AssertFailed(const char* condition, const char* message, const char* file,
                                      int line) {
  // Inside a harness run: a failed run with rule "assertion" (sim/invariant.h).
  if (sim::InvariantTrapped()) sim::FailInvariant(std::string("KTM_LOG_ASSERT(") + condition + ")", message, file, line);
  std::fprintf(stderr, "%s:%d: KTM_LOG_ASSERT(%s) failed: %s\n", file, line, condition, message);
  std::fflush(stderr);
  std::abort();
}

}  // namespace ktm::log::internal

#define KTM_LOG_ASSERT(condition, message)                                                \
  do {                                                                                    \
    if (!(condition)) {                                                                   \
      ::ktm::log::internal::AssertFailed(#condition, (message), __FILE__, __LINE__);      \
    }                                                                                     \
  } while (false)
