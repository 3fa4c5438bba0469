// KTM_ASSERT: an always-on invariant check (also in Release builds).
//
// A broken invariant is a programmer error, never a world event: it prints
// the condition, the message, the file:line and the run's seed (set by the
// harness via SetAssertContext) and aborts the process so the run stops loudly.
#pragma once

#include <cstdint>
#include <string>

namespace ktm {

[[noreturn]] void AssertFailed(const char* condition, const char* file, int line, const std::string& message);
// Context printed with every failed assertion (e.g. "seed=42 scenario=x"); per thread.
void SetAssertContext(const std::string& context);

}  // namespace ktm

#define KTM_ASSERT(cond, msg)                                         \
  do {                                                                \
    if (!(cond)) ::ktm::AssertFailed(#cond, __FILE__, __LINE__, (msg)); \
  } while (0)
