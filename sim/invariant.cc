// Invariant traps (see invariant.h).
#include "sim/invariant.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace sim {
namespace {

thread_local int trap_depth = 0;

// "/work/x/ktm/kernel.cc" -> "ktm/kernel.cc": reports do not name the
// checkout they were built in (they must be identical across machines).
std::string SourcePath(const char* file) {
  for (const char* root : {"/ktm/", "/sim/", "/model/", "/harness/", "/tests/"}) {
    const char* at = std::strstr(file, root);
    if (at != nullptr) return std::string(at + 1);
  }
  return file;
}

}  // namespace

InvariantTrap::InvariantTrap() { ++trap_depth; }
InvariantTrap::~InvariantTrap() { --trap_depth; }

bool InvariantTrapped() { return trap_depth > 0; }

void FailInvariant(const std::string& check, const std::string& message, const char* file, int line) {
  const std::string location = SourcePath(file) + ":" + std::to_string(line);
  if (trap_depth > 0 && std::uncaught_exceptions() == 0) throw InvariantFailure(check, message, location);
  std::fprintf(stderr, "%s failed at %s: %s\n", check.c_str(), location.c_str(), message.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace sim
