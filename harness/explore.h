// Explore: bounded exhaustive fault exploration of one small scenario.
//
// Where `run` samples faults at random over many seeds, Explore enumerates
// them for one seed. A fault point is one of:
//   crash:h<H>:<event>:<N>  crash host H right after its N-th <event> of the
//                           run, <event> one of disk.write, disk.flush,
//                           net.send, ktm.notify (counted per host from the
//                           start of the run, across restarts); the host
//                           restarts a fixed restart delay later
//   drop:msg:<S>            drop the datagram with sequence number S
//   dup:msg:<S>             deliver it twice
//   delay:msg:<S>           delay it by the network's reorder_delay_max_ns
// A run with several points injects them all (FaultPointsText is their text
// form, comma-separated: `ktmsim replay --fault-points` takes it).
//
// The search, breadth first and deterministic:
// - depth 0: the run without faults; it yields the frontier: every event
//   above, per host and kind, before faults stop (faults.faults_until_ns);
// - depth 1: one run per point of the frontier;
// - depth d+1: each depth-d run that finished without a violation (a
//   violating run's faults already show the bug) is extended by every point
//   that comes after its last fault in that run (a later event of a kind on
//   a host, a later datagram), counted in that faulty run.
// Pruning: when a fault is injected, the world's fingerprint
// (Cluster::Fingerprint: engines, RMs, disks, messages in flight, workload)
// is taken; with the faults still to come, expressed relative to the
// counters at that instant, it forms a key. A run reaching a key already
// seen is stopped there (the rest would repeat an explored run) and counted
// as pruned; its extensions are not explored. The fingerprint is an
// abstraction (not the scheduler's queue or the random streams), so pruning
// trades completeness for speed exactly there; the count of pruned runs is
// reported.
//
// Faults: the scenario's own fault plan is replaced (an empty explicit
// schedule, so faults stop at faults.faults_until_ns and termination is
// checked under the "recoverable" budget as usual); a scenario with
// crash_on is rejected. Everything is decided by (scenario, seed, points).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "harness/runner.h"
#include "harness/scenario.h"

namespace harness {

struct FaultPoint {
  enum class Kind : uint8_t { kCrash, kDrop, kDuplicate, kDelay };
  Kind kind = Kind::kCrash;
  uint32_t host = 0;        // kCrash: host index (= sim host id)
  std::string event;        // kCrash: one of CrashEventKinds()
  uint64_t n = 0;           // kCrash: the n-th such event (1-based); else the message sequence number

  std::string ToText() const;
  bool operator==(const FaultPoint& other) const = default;
};

// The trace event kinds a crash point may follow, in report order.
const std::vector<std::string>& CrashEventKinds();

// "crash:h0:disk.write:3,drop:msg:7" ("" for none).
std::string FaultPointsText(const std::vector<FaultPoint>& points);
// Parses FaultPointsText; errors name the bad item. Hosts are checked
// against `scenario` (h0 .. h<hosts-1>).
absl::StatusOr<std::vector<FaultPoint>> ParseFaultPoints(const std::string& text, const Scenario& scenario);

// kInvalidArgument when Explore cannot take the scenario (crash_on set).
absl::Status CheckExplorable(const Scenario& scenario);

// One run with exactly these fault points (and no other fault): what
// `ktmsim replay --fault-points` runs. options.schedule must be empty.
RunResult RunWithFaultPoints(const Scenario& scenario, uint64_t seed, const RunOptions& options,
                             const std::vector<FaultPoint>& points);

// The identity of such a run (its RunResult::identity): IdentityOf with the points.
RunIdentity FaultPointsIdentity(const Scenario& scenario, uint64_t seed, const RunOptions& options,
                                const std::vector<FaultPoint>& points);

// What Explore reports after every run (ExploreOptions::progress).
struct ExploreProgress {
  uint32_t depth = 0;
  uint64_t runs = 0, pruned = 0, distinct_states = 0, violations = 0;
  uint64_t queued = 0;            // runs known but not run yet at this depth and below
};

struct ExploreOptions {
  uint64_t seed = 1;
  uint32_t depth = 2;             // faults per run, at most
  uint64_t budget = 10'000;       // runs, at most (pruned runs count: they ran up to their prune point)
  uint32_t planted_bug = 0;       // ktm/bugs.h (test-only)
  bool stop_at_first_violation = false;
  // Spec-state targeting (issue 21): the next depth's runs start with the
  // extensions of the runs that visited the most spec states (KtmTwoPhaseCrash,
  // harness/conformance.h) no earlier run had visited, so a budget that
  // cannot run everything goes to the fault points that lead to unreached
  // states first. Without it the order is plain breadth first.
  bool target_spec_states = false;
  // Spec states already reached elsewhere (per N; e.g. a suite's
  // summary.json): they count as reached before the search, so "closed" and
  // targeting's "new" mean new to the suite too. Empty: only the fault-free run.
  std::map<int, std::set<uint64_t>> spec_baseline;
  // Called after every run (progress output); may be empty.
  std::function<void(const ExploreProgress&)> progress;
};

struct ExploreViolation {
  std::vector<FaultPoint> points;
  uint64_t run = 0;               // 1-based number of the run that found it
  RunResult result;               // without trace (re-run RunWithFaultPoints with keep_trace for one)
};

// Spec states an exploration closed, per number of RMs: of the states the
// fault-free run did not visit (unreached), how many a faulty run visited.
struct SpecTarget {
  int rms = 0;
  size_t two_phase_unreached = 0, two_phase_closed = 0;  // KtmTwoPhase
  size_t crash_unreached = 0, crash_closed = 0;          // KtmTwoPhaseCrash
};
// Figures for 1..kSpecTargetRmsMax RMs (the numbers the state spaces are
// enumerated for), for each N some run had a transaction of.
inline constexpr int kSpecTargetRmsMax = 3;
std::vector<SpecTarget> SpecTargetsOf(const std::map<int, std::set<uint64_t>>& baseline,
                                      const std::map<int, std::set<uint64_t>>& reached);

struct ExploreResult {
  std::string scenario;
  uint64_t seed = 0;
  uint32_t depth = 0;
  uint64_t budget = 0;
  // The fault-free run's points per "h<H> <event>" (crash) and "msg" (datagrams sent).
  std::map<std::string, uint64_t> frontier;
  uint64_t crash_points = 0;      // crash points of the fault-free run (the depth-1 crash runs)
  uint64_t message_points = 0;    // datagrams of the fault-free run (3 depth-1 runs each)
  std::vector<uint64_t> runs_by_depth;     // [0] = 1 (the fault-free run)
  std::vector<uint64_t> pruned_by_depth;
  uint64_t runs = 0;              // including the fault-free run and pruned runs
  uint64_t pruned = 0;
  uint64_t distinct_states = 0;   // distinct fingerprints at fault injection
  bool budget_exhausted = false;
  bool stopped_at_violation = false;
  std::vector<ExploreViolation> violations;  // in run order
  // Spec states (per N RMs) of the baseline (ExploreOptions::spec_baseline
  // and the fault-free run) and of all runs, and what the faults closed:
  // states of some run not in the baseline (every exploration computes them;
  // targeting changes only the order of the runs).
  std::map<int, std::set<uint64_t>> baseline_spec_states, spec_states;
  std::vector<SpecTarget> spec_targets;
  bool target_spec_states = false;
};

ExploreResult Explore(const Scenario& scenario, const ExploreOptions& options);

}  // namespace harness
