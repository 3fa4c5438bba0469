// Vacuous runs: see vacuous.h. Reads only the run's result and history.
#include "harness/vacuous.h"

#include "absl/strings/str_cat.h"

namespace harness {

namespace {

bool Any(const RunResult& result, model::EventKind kind) {
  for (const model::HistoryEvent& event : result.history.events) {
    if (event.kind == kind) return true;
  }
  return false;
}

}  // namespace

std::string VacuousReason(const RunResult& result) {
  const bool faulted = result.faults_injected > 0 || Any(result, model::EventKind::kCrash) ||
                       Any(result, model::EventKind::kPartition);
  if (result.transactions == 0) {
    // An engine that refused to come online after injected faults damaged
    // its log has been checked: refusing is the promised behaviour.
    if (faulted && Any(result, model::EventKind::kDiskError)) return "";
    return absl::StrCat("the workload started no transaction before the run ended at ",
                        FormatTime(result.sim_time_ns),
                        " (no host came online, or run_until ends before the hosts boot): the "
                        "checkers had nothing to check");
  }
  if (result.committed > 0 || faulted || Any(result, model::EventKind::kDiskError) ||
      Any(result, model::EventKind::kRmLost)) {
    return "";
  }
  size_t commit_requests = 0;
  for (const model::HistoryEvent& event : result.history.events) {
    if (event.kind == model::EventKind::kCommitRequest) ++commit_requests;
  }
  // A few commits can all fail by chance (a "no" vote, a conflict, a
  // timeout): only a sample this large with none committed says the
  // configuration, not the dice, kept every transaction from committing.
  constexpr size_t kCommitRequestsMin = 10;
  if (commit_requests < kCommitRequestsMin) return "";
  return absl::StrCat("no transaction committed although ", commit_requests,
                      " commit(s) were requested and no fault happened: the configuration keeps "
                      "every transaction from committing");
}

size_t CountRefusals(const RunResult& result) {
  size_t refusals = 0;
  for (const model::HistoryEvent& event : result.history.events) {
    if (event.kind == model::EventKind::kDiskError) ++refusals;
  }
  return refusals;
}

void FlagUndetectedCorruption(uint32_t refusals_min, RunResult* result) {
  if (!result->passed || refusals_min == 0) return;
  const size_t refusals = CountRefusals(*result);
  if (refusals >= refusals_min) return;
  result->passed = false;
  result->violations.push_back(
      {kUndetectedRule, "",
       absl::StrCat("the scenario damages forced log data and expects at least ", refusals_min,
                    " refusal(s) (expect.refusals_min), but the run reported ", refusals,
                    ": the damage went undetected, or the damaged log was never opened again"),
       {}});
}

void FlagVacuousRun(RunResult* result) {
  if (!result->passed) return;
  const std::string reason = VacuousReason(*result);
  if (reason.empty()) return;
  result->passed = false;
  result->violations.push_back({kVacuousRule, "", reason, {}});
}

}  // namespace harness
