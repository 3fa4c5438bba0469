// Broken invariants inside one run: a run-level failure, not a process exit.
//
// An invariant check (KTM_ASSERT, KTM_LOG_ASSERT, the simulator's own
// checks) that fails is a programmer error. Outside a harness run it prints
// the failure and aborts the process, as it always did. A harness that runs
// many simulations in one process (ktmsim run, explore, shrink) opens an
// InvariantTrap around each run: while one is open on this thread, a failed
// check throws InvariantFailure instead, which the run boundary
// (harness/runner.cc) turns into a failed run with rule "assertion". The
// exception unwinds only the frames of that run's own world (single
// threaded, no other run shares it); the world is then destroyed. Nothing in
// sim/, ktm/ or model/ catches it: no engine code may swallow a broken
// invariant.
//
// Why a thread-local trap and not a process per run: fork is not usable in
// sanitizer builds (ASan's allocator is not fork-safe with worker threads,
// see harness/shrink.cc), and a process per run costs more than the run. The
// trap works the same in every build.
#pragma once

#include <exception>
#include <string>

namespace sim {

class InvariantFailure : public std::exception {
 public:
  InvariantFailure(std::string check, std::string message, std::string location)
      : check_(std::move(check)), message_(std::move(message)), location_(std::move(location)),
        what_(check_ + " failed at " + location_ + ": " + message_) {}
  const char* what() const noexcept override { return what_.c_str(); }
  const std::string& check() const { return check_; }        // "KTM_ASSERT(x != 0)", "sim::Disk"
  const std::string& message() const { return message_; }
  const std::string& location() const { return location_; }  // "ktm/kernel.cc:120"

 private:
  std::string check_, message_, location_, what_;
};

// Opens a trap on this thread for its lifetime (nests).
class InvariantTrap {
 public:
  InvariantTrap();
  ~InvariantTrap();
  InvariantTrap(const InvariantTrap&) = delete;
  InvariantTrap& operator=(const InvariantTrap&) = delete;
};

// True while an InvariantTrap is open on this thread.
bool InvariantTrapped();

// Reports a broken invariant: throws InvariantFailure when trapped (and no
// exception is already unwinding), else prints "check failed at file:line:
// message" on stderr and aborts. `file` is shortened to the source tree path.
[[noreturn]] void FailInvariant(const std::string& check, const std::string& message, const char* file, int line);

}  // namespace sim
