// Shrinking: from a failing (scenario, seed) to a much smaller run that
// still fails the same checker rule, so a person reads 200 trace events
// instead of 20,000.
//
// How: every candidate is a full deterministic re-run (RunScenario) and is
// kept only if it still reports a violation of `rule` on the same kind of
// event (ShrinkResult::kind) and has no more trace events than the original.
// The run's injected faults (RunResult::schedule_text, also for a run an
// engine assertion ended) are replayed as an explicit schedule
// (RunOptions::schedule). Each round, cheap candidates first:
//  1. faults: all of one kind at once (message fates, partitions, disk
//     faults, timed crashes, targeted crashes), then ddmin (one sweep each
//     of halves, quarters, ... single events). Faults go before
//     transactions: a message fate is keyed by the message's sequence
//     number and a targeted crash by an occurrence count, which both move
//     when transactions go.
//  2. transactions: the tail after the first violating one, a binary search
//     over the tail, the transactions the violation names alone (once more
//     with the timed faults moved by as much as the first named one's begin
//     moved: a timed crash follows the transaction it hit), those with every
//     transaction that overlapped them in time, ddmin over the rest
//     (workload.skip; every transaction draws from its own stream).
//  3. hosts (any one: the later hosts' ids and faults move down one), then
//     RMs, one by one.
//  4. settings, each the lowest value first, then a binary search (the
//     search is not exhaustive because failure need not be monotone; every
//     value kept was seen to fail): concurrency, rms_per_tx, ops, keys,
//     faults_until.
//  5. operations: ddmin over single operations of the transactions left
//     (workload.skip_ops; a skipped operation still makes its draws), kept
//     only when the run changes, at most kShrinkOpsRunsPerRound runs a
//     round (a round so capped is no fixed point).
//  6. zero delays (think, RM response), back-to-back arrivals, no async
//     commits, fifo tie-breaking (unless the options pin a strategy).
//  7. features off: distributed transactions (no Dtc), the timeout, the RMs'
//     shares (no votes, disconnects, single-phase rejects, deletes, moves,
//     volatile keys, nontransacted opens, outcome requests); volatile RMs,
//     then volatile TMs, one by one.
//  8. earlier faults: timed faults at half their time, targeted crashes at an
//     earlier occurrence; a lower crash_on_probability; a shorter run_until.
// A candidate that deletes transactions or RMs runs with its targeted
// prepare/commit/log-force crashes re-aimed where the deletion will move
// their occurrence (predicted from the current run's occurrences); one whose
// crash still fires after another (transaction, RM) pair's occurrence is
// tried once more with the crash re-aimed at its pair's occurrence (seen in
// the rejected run's history).
// Rounds repeat until one keeps nothing (a fixed point). Finally the faults
// that actually took effect in the last failing run replace the schedule
// when that still fails.
//
// Isolation: every candidate runs in a forked child process (POSIX fork +
// pipe), because a broken invariant aborts the process (ktm/assert.h): a
// candidate that dies is counted in `died` and rejected, and the caller (say
// `ktmsim run`, with its report half written) lives on. The final run, a
// repeat of a candidate that completed, runs in-process.
//
// Contract: deterministic (same inputs, same result); at most `budget_runs`
// simulations; the returned scenario + schedule + seed + planted bug is a
// verified failing run: `result` is that run (RunResult::trace_text kept
// when options.keep_trace). When the run's faults cannot be replayed as a
// schedule (faults that the fault plan does not record, such as the
// network's own loss in mode "none"), the faults are left alone
// (`uses_schedule` false) and only the scenario is shrunk.
// The emitted scenario is named "<name>-shrunk". With a schedule and no targeted crashes, its fault
// mode becomes "schedule" with the minimal schedule inline, so the scenario
// file alone reproduces the run; with `crash_on` (which needs mode
// "probabilities" or "swarm") the replay needs --schedule.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "harness/runner.h"
#include "harness/scenario.h"
#include "sim/fault_plan.h"

namespace harness {

// Sizes of one run, compared before and after shrinking.
struct RunSizes {
  uint64_t trace_events = 0;
  uint64_t transactions = 0;  // transactions the client started
  uint64_t faults = 0;        // faults injected before faults_until (the fault plan's and
                              // targeted crash_on crashes); not the restarts when faults stop
  uint64_t hosts = 0, rms = 0;  // of the scenario run
  // Trace lines: one per trace event (sim::Trace::ToText), so equal to
  // trace_events; a report's "trace lines" before -> after reads this.
  uint64_t trace_lines() const { return trace_events; }
};

// The sizes of a finished run of `scenario` (needs its history, not its trace).
RunSizes SizesOf(const Scenario& scenario, const RunResult& result);

struct ShrinkResult {
  bool ok = false;            // the original run violates `rule`; everything below is set
  std::string error;          // why not, when !ok
  std::string rule;
  // The kind of event the original run violated `rule` on, where it can be
  // said ("" where not): for rule "assertion" the check and its source
  // location, else the kind of the last history event the violation names.
  // Every candidate kept, and the minimal run, fails `rule` on this kind.
  std::string kind;
  uint64_t seed = 0;
  uint32_t planted_bug = 0;
  Scenario scenario;          // the minimal scenario, named "<name>-shrunk" (file: the input's)
  bool uses_schedule = false; // replay with `schedule` (RunOptions::schedule / --schedule)
  sim::FaultSchedule schedule;
  RunResult result;           // the minimal run
  RunSizes before, after;
  int runs = 0;               // simulations spent, the final one included
  int died = 0;               // of those, candidates an engine assertion aborted (rejected)
  bool budget_exhausted = false;
  // A whole round of candidates (transactions, faults, hosts, RMs, settings)
  // kept nothing: the run is 1-minimal for them. False when the budget or
  // kShrinkRoundsMax stopped it first.
  bool fixed_point = false;
  std::vector<std::string> steps;  // the reductions kept, in order ("transactions 100 -> 12")
  // Runs spent per phase, one line per round: "round 2 runs: faults 3 cut 1 ...".
  std::vector<std::string> rounds;

  // after.trace_events / before.trace_events (1 when before is 0).
  double ratio() const;
  // What ended the search: "fixed point", "budget" or "rounds limit".
  const char* stopped_by() const;
};

// Figures over many shrunk runs (a suite's failures), for summary.json and
// the report: ratio = events after / before.
struct ShrinkSummary {
  uint64_t shrunk = 0;              // ShrinkResults counted (ok ones)
  uint64_t failed = 0;              // not ok: the original did not fail, or the minimal run did not repeat
  double ratio_median = 0, ratio_worst = 0;
  uint64_t runs = 0;                // simulations spent, over all
  uint64_t fixed_points = 0;        // reached a fixed point within the budget
  uint64_t at_most_3_transactions = 0;
  uint64_t same_rule = 0;           // the minimal run violates the original's rule (re-checked)
  uint64_t same_kind = 0;           // ... on the original's kind of event too (ShrinkResult::kind)
};
// One shrink's figures: what ShrinkSummary counts, without the runs, so a
// report can keep them per failure (shrink.json) and shards can be merged.
struct ShrinkFigure {
  bool ok = false;
  double ratio = 1;                  // ShrinkResult::ratio()
  uint64_t runs = 0;
  bool fixed_point = false;
  uint64_t transactions_after = 0;
  bool same_rule = false, same_kind = false;  // re-checked on the minimal run
};
// Needs r.result's history and violations (the minimal run), for same_rule / same_kind.
ShrinkFigure FigureOf(const ShrinkResult& r);
ShrinkSummary Summarize(const std::vector<ShrinkFigure>& figures);
ShrinkSummary Summarize(const std::vector<ShrinkResult>& results);
// One line: "N shrunk (M not), same rule S (same kind of event K), events after/before median X worst Y, <= 3 transactions T,
// fixed point F, runs R".
std::string SummaryLine(const ShrinkSummary& summary);

// The default budget (runs per failure) of `ktmsim shrink --budget`.
inline constexpr int kShrinkBudgetDefault = 200;

// Limit: rounds of (faults, scenario parameters) reductions.
inline constexpr int kShrinkRoundsMax = 12;

// Shrinks the run (scenario, seed, options) while `rule` still fails, with at
// most `budget_runs` simulations (at least 2 are needed: the original run
// and the final one). options.schedule, when set, is the starting schedule;
// options.planted_bug is kept for every candidate.
ShrinkResult Shrink(const Scenario& scenario, uint64_t seed, const RunOptions& options,
                    const std::string& rule, int budget_runs);

}  // namespace harness
