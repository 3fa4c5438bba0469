// Conform: the RM conformance kit behind `ktmsim conform --plugin PATH
// --kind K` (docs/writing-an-rm.md). It runs RMs of one kind through a fixed
// battery of small scenarios and judges every run by the rules of the RM
// contract, each a check over the recorded history (model/history.h):
//
//   prepare_durable      prepare durable before PrepareComplete: a write of a
//                        transaction that voted yes at the RM, and whose host
//                        crashed before the RM committed it, is in the RM's
//                        final state once the transaction commits there
//   commit_idempotent    commit idempotent after recovery: a COMMIT that KTM
//                        re-delivers after a restart, for a transaction the RM
//                        had committed before it, does not apply it again (its
//                        write does not replace a newer committed one)
//   answer_notifications answer every notification: every PREPARE and
//                        SINGLE_PHASE_COMMIT is answered by a vote (or, for
//                        SINGLE_PHASE_COMMIT, SinglePhaseReject and a PREPARE),
//                        every COMMIT and ROLLBACK by an outcome at the RM,
//                        unless the RM's host crashed after it
//   no_work_after_prepare no new work after PREPARE: no read or write of a
//                        transaction at the RM after the RM got its PREPARE or
//                        SINGLE_PHASE_COMMIT
//   recover_enlistment   RecoverEnlistment on RECOVER: a committed transaction
//                        the RM voted yes on, whose host crashed before the TM
//                        forgot it, is re-delivered after the restart (a
//                        notification reaches the RM) or resolved by it
//   wait_out_indoubt     wait out INDOUBT: after INDOUBT the RM takes no outcome
//                        of its own before a COMMIT or ROLLBACK arrives
//   durable_after_commit durable after CommitComplete: a write the RM committed,
//                        of a transaction the TM then forgot (every CommitComplete
//                        in) before a crash, is in the RM's final state (unless a
//                        newer committed write replaced it)
//
// The final-state rules (prepare_durable, commit_idempotent,
// durable_after_commit) share one analysis: for each key of the RM, the
// expected final value is the write of the committed transaction whose first
// commit at the RM came last; a different final value is blamed on exactly
// one rule, by where the crashes fell (docs/writing-an-rm.md has the table).
//
// The battery (ConformBattery): every crash point (explore's, depth 1) of a
// small 2PC and of a single-phase transaction, random faults over seeds,
// recovery (RECOVER / LAST_RECOVER after crashes at prepare and commit),
// in-doubt under a superior (two hosts, the Dtc, every crash point),
// duplicate COMMIT after recovery, "no" votes with client rollbacks, and
// SinglePhaseReject. Every run is a plain ktmsim run (RunScenario or
// RunWithFaultPoints), so each failure replays with `ktmsim replay`.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "harness/explore.h"
#include "harness/runner.h"
#include "harness/scenario.h"
#include "model/history.h"

namespace harness {

enum class ConformRule : uint8_t {
  kPrepareDurable,
  kCommitIdempotent,
  kAnswerNotifications,
  kNoWorkAfterPrepare,
  kRecoverEnlistment,
  kWaitOutInDoubt,
  kDurableAfterCommit,
};
inline constexpr size_t kConformRuleCount = 7;

struct ConformRuleInfo {
  ConformRule rule;
  std::string_view name;   // "prepare_durable", ...
  std::string_view title;  // the contract's words: "prepare durable before PrepareComplete"
};

// Every rule, in report order.
const std::array<ConformRuleInfo, kConformRuleCount>& ConformRules();
const ConformRuleInfo& ConformRuleOf(ConformRule rule);

struct ConformFinding {
  ConformRule rule;
  std::string tx, rm;
  std::string message;          // what was seen, with times
  std::vector<size_t> events;   // indexes into history.events, ascending
};

// When the TM forgot each transaction (its "tx.state ... to=Forgotten" trace
// events, by history name): (host, time) pairs. After that KTM re-delivers
// nothing, so every RM of the transaction had answered its COMMIT
// (CommitComplete): what durable_after_commit and recover_enlistment need
// beyond the history.
using TmForgotten = std::map<std::string, std::vector<std::pair<uint32_t, int64_t>>>;
TmForgotten ForgottenOf(const RunResult& run);

// Judges one run's history for the RMs named `rms` (the RMs of the kind
// under test): every finding, in rule order.
std::vector<ConformFinding> CheckRmContract(const model::History& history, const TmForgotten& forgotten,
                                            const std::set<std::string>& rms);
// The same for a run kept with its trace (RunOptions::keep_trace).
std::vector<ConformFinding> CheckRmContract(const RunResult& run, const std::set<std::string>& rms);

// One scenario of the battery and how it is run.
struct ConformCase {
  std::string name;             // "2pc_crash_points", ...
  std::string purpose;          // one line: what it exercises
  std::string toml;             // the scenario text (kind and options filled in)
  bool crash_points = false;    // true: every depth-1 crash point of the seed-1 run; false: seeds 1..seeds
  uint64_t seeds = 0;
};

// The battery for RMs of `kind` with `options` as each RM's [rms.options].
std::vector<ConformCase> ConformBattery(const std::string& kind, const std::map<std::string, std::string>& options);

// Limits: runs per crash-point case, findings kept per rule.
inline constexpr uint64_t kConformCrashPointsMax = 600;
inline constexpr size_t kConformFailuresPerRuleMax = 3;

// A failing run kept for the report.
struct ConformFailure {
  std::string case_name;
  Scenario scenario;            // as loaded (its name "conform_<case>")
  uint64_t seed = 0;
  std::vector<FaultPoint> points;  // crash-point cases: the point; else empty
  ConformFinding finding;       // the first finding of this rule in the run
  RunResult result;             // without trace
};

struct ConformRuleVerdict {
  ConformRuleInfo info;
  uint64_t runs_failed = 0;
  std::vector<ConformFailure> failures;  // the first kConformFailuresPerRuleMax
  bool passed() const { return runs_failed == 0; }
};

struct ConformCaseStats {
  std::string name, purpose;
  uint64_t runs = 0, runs_failed = 0;
  uint64_t runs_asserted = 0;  // ended by a broken invariant (not judged; conform fails)
};

struct ConformResult {
  std::string kind;
  std::map<std::string, std::string> options;
  std::vector<ConformCaseStats> cases;
  std::array<ConformRuleVerdict, kConformRuleCount> rules;
  uint64_t runs = 0;
  // Runs a broken invariant ended (the first kConformFailuresPerRuleMax;
  // finding empty, result.violations names the assertion): any fails conform.
  std::vector<ConformFailure> asserted;
  bool passed() const;  // every rule passed and no run asserted
};

// Called after each case: (cases done, cases in all, the case's stats).
using ConformProgress = std::function<void(size_t done, size_t total, const ConformCaseStats& stats)>;

// Runs the battery. Errors: kInvalidArgument when a case's scenario does
// not load (an unknown kind, a refused option: the loader's message).
absl::StatusOr<ConformResult> RunConform(const std::string& kind, const std::map<std::string, std::string>& options,
                                         const ConformProgress& progress);

// `result` with the findings as violations (rule "rm.<rule name>"), so the
// failure folder's trace.txt and history.txt mark their events.
RunResult WithFindings(RunResult result, const std::vector<ConformFinding>& findings);

// `ktmsim replay --rm-contract`: the run's findings under the contract rules
// (over the scenario's RMs) added to its violations, as conform judged it. A
// run ended by a broken invariant is left as it is (conform does not judge
// it either: its history stops there).
RunResult JudgeRmContract(const Scenario& scenario, RunResult run);

// JUnit XML: one <testsuite name="conform.<kind>">, one <testcase> per
// rule, a <failure> per kept failing run (message, folder, replay command:
// `replays` maps (rule index, failure index) to the command).
std::string ConformJunitXml(const ConformResult& result,
                            const std::map<std::pair<size_t, size_t>, std::string>& replays,
                            const std::map<std::pair<size_t, size_t>, std::string>& folders);

}  // namespace harness
