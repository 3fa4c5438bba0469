// Vacuous runs: a run that checked nothing must never pass.
//
// The checkers judge what happened; a run in which nothing happened
// satisfies every one of them. FlagVacuousRun turns such a run from a pass
// into a failure with a violation of rule "vacuous" (kVacuousRule), so a
// scenario whose configuration keeps the workload from starting or keeps
// every transaction from committing is reported, not counted as evidence.
// Limits the scenario loader can see are refused there already (see
// harness/scenario.cc: enlistments per transaction, log sector sizes); this
// is the run-level net behind them (e.g. run_until shorter than the hosts'
// boot).
//
// A run is vacuous when
// - the workload started no transaction at all, unless injected faults made
//   an engine refuse to come online (a disk error in the history: under the
//   "beyond" budget refusing is what the engine promises); or
// - the client asked to commit at least one transaction, none committed,
//   and the run saw no fault (no injected fault, no crash, no partition, no
//   disk error): nothing but the configuration can explain it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "harness/runner.h"

namespace harness {

inline constexpr const char* kVacuousRule = "vacuous";

inline constexpr const char* kUndetectedRule = "undetected";

// The reason `result` is vacuous, or "" when it is not.
std::string VacuousReason(const RunResult& result);

// When the run passed but is vacuous: passed = false and a "vacuous"
// violation saying why. A run that already failed is left alone.
void FlagVacuousRun(RunResult* result);

// Refusals the run reports: a TM, RM or Dtc that would not come online
// because its log or disk failed (kDiskError events in the history).
size_t CountRefusals(const RunResult& result);

// A scenario with expect.refusals_min > 0 corrupts forced log data on
// purpose; a run that passed with fewer refusals did not detect it (or never
// reopened the damaged log): passed = false and an "undetected" violation.
void FlagUndetectedCorruption(uint32_t refusals_min, RunResult* result);

}  // namespace harness
