// Conformance: every run checked against the textbook protocol. The checker
// projects each transaction's trace onto the state of spec/KtmTwoPhaseCrash
// (KtmTwoPhase when nothing crashes) — one spec instance per transaction and
// host, its RMs the transaction's enlistments on that host — and checks that
// every observed step is a spec action or a stutter. The first step that is
// not is reported as a Violation with rule "conformance", naming the trace
// event (its index in the run's trace) and the two spec states.
//
// Projection (spec/README.md has the full table): tx.state -> tmState
// (Committed: TMCommit, Aborted: TMAbort); en.state -> Prepared: the TM got
// the RM's Prepared message (TMRcvPrepared), -> Committed / Aborted: the RM
// applied the decision; the RM's own rm.vote yes / no, rm.committed and
// rm.aborted events are RMPrepare, RMChooseToAbort, RMRcvCommitMsg and
// RMRcvAbortMsg; en.vote_no is RMChooseToAbort; a host crash is TMCrash and
// RMCrash for every live transaction on it, and the first event of a
// crashed process afterwards is TMRecover / RMRecover first. An engine event
// that does in one call what the spec does in several (PrepareComplete is
// RMPrepare + TMRcvPrepared for an RM kind that traces no votes; single-phase commit
// is RMPrepare, TMRcvPrepared, TMCommit, RMRcvCommitMsg) is accepted when a
// path of that many spec actions (at most kConformancePathMax) leads there;
// every other event must be one action or a stutter.
//
// Which enlistments are the spec's RMs is known when the run is over: the
// listener keeps a compact record of the events it needs (no strings per
// event) and Finish() replays them. Enlistments that vote read-only leave
// the protocol and are not RMs of the instance; nor is a superior
// enlistment (created for a dist.branch, or answered by en.superior_commit /
// en.superior_rollback), nor one with no state change and no RM event (lost
// with its host while active). Instances with more than kSpecRmMax RMs
// are skipped (counted). Cost: linear in the trace; per step at most the
// spec states within kConformancePathMax actions, a constant for fixed N.
// A record allocates nothing of its own (ids kept as numbers, events in one
// shared vector), and the index the events probe holds only what is in flight
// (hot_index_size()), so the cost per event does not grow with the run.
//
// Spec coverage: the set of spec states (per N) that the projection
// visited, for Coverage (fraction of TwoPhase / TwoPhaseCrash states).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "harness/runner.h"
#include "harness/scenario.h"
#include "model/spec_two_phase.h"
#include "sim/trace.h"
#include "sim/world.h"

namespace harness {

// The checker's name, as in AllCheckerNames() and Violation::rule.
inline constexpr char kConformanceRule[] = "conformance";
// The longest run of spec actions one engine event may stand for.
inline constexpr int kConformancePathMax = 4;

// One projected step of a transaction: the spec states before and after, the
// actions that explain it (empty: a stutter) and the trace event.
struct ConformanceStep {
  uint64_t event_index = 0;
  std::string event;  // "en.state en=... to=Prepared", rebuilt from the record
  model::spec::TwoPhaseState from, to;
  std::vector<model::spec::Action> actions;
  bool accepted = true;
};

// One transaction's projected behaviour (for `trace --format tla` and tests).
struct ConformanceBehaviour {
  uint32_t host = 0;
  std::string tx;
  int rms = 0;  // N
  std::vector<ConformanceStep> steps;
};

struct ConformanceResult {
  std::vector<Violation> violations;         // rule "conformance", first bad step per transaction
  std::vector<ConformanceBehaviour> behaviours;  // kept only when asked (keep_behaviours)
  uint64_t transactions_checked = 0;
  uint64_t transactions_skipped = 0;  // no RM, or more than kSpecRmMax
  // N -> keys of the TwoPhaseCrash states visited.
  std::map<int, std::set<uint64_t>> spec_states;
};

class ConformanceChecker {
 public:
  // Listens to the world's trace from now on (construct before the run).
  explicit ConformanceChecker(sim::World* world);
  // Fed by hand (tests): call OnEvent in trace order.
  ConformanceChecker();
  ~ConformanceChecker();
  ConformanceChecker(const ConformanceChecker&) = delete;
  ConformanceChecker& operator=(const ConformanceChecker&) = delete;

  void OnEvent(const sim::TraceEvent& event, uint64_t index);
  ConformanceResult Finish(bool keep_behaviours = false) const;

  // Entries of the index that nearly every trace event probes (transactions
  // and enlistments in flight): forgotten transactions, and those a crash
  // of their host cut, move to a second index probed only on a miss, so
  // this stays at what is in flight however long the run.
  size_t hot_index_size() const;

  // The runner's one call: when the scenario runs the conformance checker,
  // appends its violations, re-decides the verdict, and records spec coverage.
  void AppendTo(const Scenario& scenario, RunResult* result) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace harness

namespace harness {

// Spec-state coverage for one number of RMs: how many of the spec's
// reachable states the conformance projection visited.
struct SpecCoverageFigure {
  int rms = 0;
  size_t two_phase_reached = 0, two_phase_states = 0;  // KtmTwoPhase (everybody up)
  size_t crash_reached = 0, crash_states = 0;          // KtmTwoPhaseCrash
  std::vector<std::string> two_phase_unreached;        // ToText of each, BFS order
  size_t two_phase_unreached_ktm_impossible = 0;       // of those, !AtMostOneRmInFlight (below)
};

// KTM's PrepareComplete and RollbackEnlistment are calls into the TM, and a
// world runs one call at a time: while the TM is undecided at most one RM is
// "in flight" (prepared but not yet in tmPrepared, or aborted on its own —
// a no vote aborts the transaction in the same call). False for the
// KtmTwoPhase states KTM cannot reach without a crash (32 of 288 with 3 RMs):
// exactly the states model::spec::TwoPhaseKtmCalls does not reach.
bool AtMostOneRmInFlight(const model::spec::TwoPhaseState& s, int n);

// Figures for 1..rms_max RMs (states enumerated once per call; 4 RMs:
// 20,836 crash states).
std::vector<SpecCoverageFigure> SpecCoverageFigures(const std::map<int, std::set<uint64_t>>& spec_states,
                                                    int rms_max = 3);

}  // namespace harness

namespace harness {

// `ktmsim trace --format tla`: runs (scenario, seed, options) and writes one
// transaction's projected behaviour as a TLA+ module KtmTrace that extends
// KtmTwoPhaseCrash: the first transaction with a conformance violation (its
// behaviour up to and including the bad step), else the checked transaction
// with the most steps. The module's header says which, lists the steps with
// their trace events, and gives the .cfg to check it with TLC
// (TraceSpec, property TraceIsBehaviour). *result gets the run's result.
std::string TlaTraceModule(const Scenario& scenario, uint64_t seed, RunOptions options, RunResult* result);

}  // namespace harness
