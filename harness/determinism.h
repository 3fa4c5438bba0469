// Determinism check: a (scenario, seed) run twice must give the same trace.
// On a mismatch, the first event where the two traces differ says where the
// nondeterminism entered (`ktmsim run --check-determinism`).
#pragma once

#include <cstdint>
#include <string>

#include "harness/runner.h"
#include "harness/scenario.h"

namespace harness {

struct DeterminismCheck {
  bool same = true;
  uint64_t digest_first = 0, digest_second = 0;
  uint64_t events_first = 0, events_second = 0;
  // With !same: the 0-based index of the first differing event and its text
  // in each run ("<end of trace>" when that run had no more events).
  uint64_t divergent_index = 0;
  std::string event_first, event_second;
  RunResult first;  // the first run's result (its trace text dropped)
};

// Runs the scenario twice with keep_trace (options.keep_trace is ignored)
// and compares digests and, on a mismatch, the traces line by line.
DeterminismCheck CheckDeterminism(const Scenario& scenario, uint64_t seed, const RunOptions& options);

// "scenario S seed N: digests A and B differ; first divergent event #i:\n  run 1: ...\n  run 2: ...".
std::string DescribeDivergence(const Scenario& scenario, uint64_t seed, const DeterminismCheck& check);

}  // namespace harness
