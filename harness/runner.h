// Runner: (scenario, seed) -> history + verdict. One world, single-threaded;
// RunScenario may be called from several threads at once on different runs.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "harness/coverage.h"
#include "harness/history_recorder.h"
#include "harness/run_identity.h"
#include "harness/scenario.h"
#include "model/checkers.h"
#include "model/history.h"
#include "sim/fault_plan.h"
#include "sim/invariant.h"
#include "sim/scheduler.h"
#include "sim/world.h"

namespace harness {

// What changes a run besides (scenario, seed): these fields and the
// scenario file make its RunIdentity (harness/run_identity.h).
struct RunOptions {
  bool keep_trace = true;           // keep the trace text (failures need it)
  std::optional<sim::FaultSchedule> schedule;  // replay these faults instead of the scenario's
  std::string schedule_file;        // where `schedule` was read from (named in replay commands)
  uint32_t planted_bug = 0;         // 0: none; see ktm/bugs.h (test-only)
  // The run is judged by the RM contract rules too (harness/conform.h): set
  // by `ktmsim conform`, which judges its runs itself; recorded in the run's
  // identity so its replay command says --rm-contract and replay judges alike.
  bool rm_contract = false;
  std::string strategy;             // "" or fifo|random|pct: overrides scenario.schedule_strategy
  uint32_t pct_depth = 0;           // 0 or 1-64: overrides scenario.schedule_pct_depth
  // TEST-ONLY: called with the run's world after it is built, before it runs
  // (e.g. to plant nondeterminism that --check-determinism must catch).
  std::function<void(sim::World&)> world_hook;
  // Memory the checkers reuse from one run to the next (not owned; one per
  // worker thread; nullptr: none). Never changes a result.
  model::CheckScratch* check_scratch = nullptr;
};

// The rule of a run a broken invariant ended (KTM_ASSERT, KTM_LOG_ASSERT, a
// simulator check; sim/invariant.h): its message says which check, where.
inline constexpr char kAssertionRule[] = "assertion";

struct Violation {
  std::string rule;                 // "atomicity", "agreement", ..., kAssertionRule
  std::string tx;
  std::string message;
  std::vector<size_t> events;       // indexes into history.events
};

struct RunResult {
  std::string scenario;
  uint64_t seed = 0;
  RunIdentity identity;             // how to replay this run (RunScenario fills it)
  bool passed = false;              // verdict matches the scenario's expectation
  std::vector<Violation> violations;
  uint64_t digest = 0;              // trace digest
  uint64_t trace_events = 0;
  uint64_t transactions = 0, committed = 0, aborted = 0, unresolved = 0;
  uint64_t faults_injected = 0;
  int64_t sim_time_ns = 0;
  std::string trace_text;           // when keep_trace: a rendering of `trace`
  std::vector<sim::TraceEvent> trace;  // when keep_trace: every event, structured
  RunNames names;                   // engine ids -> history names (RMs; transactions when keep_trace)
  std::string schedule_text;        // the faults injected, as a replayable schedule
  model::History history;
  std::vector<int64_t> commit_latencies_ns;  // request -> outcome, committed txs
  Coverage coverage;                // states x active faults, code probes
  sim::ScheduleStats schedule;      // what the tie-breaking strategy did
};

// Runs `scenario` with options.strategy / pct_depth applied to it. A broken
// invariant inside the run (sim/invariant.h) ends the run, not the process:
// the result has one violation of kAssertionRule and the trace up to there.
RunResult RunScenario(const Scenario& scenario, uint64_t seed, const RunOptions& options = {});

class Cluster;
// The result of a run that a broken invariant (sim/invariant.h) ended inside
// `cluster` (nullptr: while building it): one kAssertionRule violation naming
// the check, its message and source location; the digest, trace event count
// (and trace text with keep_trace) of the world up to there. Passed only when
// the scenario expects rule "assertion". For run boundaries (runner, explore).
RunResult AssertionResult(const Scenario& scenario, uint64_t seed, Cluster* cluster,
                          const sim::InvariantFailure& failure, const RunOptions& options);
// A C++ exception that escaped a run (std::map::at, ...) as the broken
// invariant it is, so it too ends only its run.
sim::InvariantFailure UncaughtException(const std::exception& error);

// The identity of the run RunScenario(scenario, seed, options) makes.
RunIdentity IdentityOf(const Scenario& scenario, uint64_t seed, const RunOptions& options);

// The scenario as that run runs it: the strategy overrides applied.
Scenario ScenarioAsRun(const Scenario& scenario, const RunOptions& options);

}  // namespace harness
