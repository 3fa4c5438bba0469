// Runner: builds one simulated world from a scenario and a seed, boots a KTM
// engine and its resource managers on every host, drives the workload,
// injects faults, records the history and checks it against the model.
//
// Contract: everything is decided by (scenario, seed, RunOptions); the
// trace digest of two identical calls is identical. The client of a
// transaction is a process on the host of its RMs: it dies with the host.
#include "harness/runner.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "harness/cluster.h"
#include "harness/conformance.h"
#include "harness/vacuous.h"
#include "ktm/api.h"
#include "ktm/assert.h"
#include "ktm/kv/kv_rm.h"
#include "model/checkers.h"
#include "sim/fault_plan.h"
#include "sim/world.h"

namespace harness {

std::string ReplayCommand(const Scenario& scenario, uint64_t seed, const std::string& schedule_file) {
  std::string cmd = absl::StrCat("ktmsim replay ", scenario.file.empty() ? scenario.name : scenario.file,
                                 " --seed ", seed);
  if (!schedule_file.empty()) absl::StrAppend(&cmd, " --schedule ", schedule_file);
  return cmd;
}

RunResult RunScenario(const Scenario& scenario, uint64_t seed, const RunOptions& options) {
  ktm::SetAssertContext(absl::StrCat("scenario=", scenario.name, " seed=", seed, " replay: ",
                                     ReplayCommand(scenario, seed, "")));
  Cluster cluster(scenario, seed, options);
  CoverageRecorder coverage(&cluster.world());
  ConformanceChecker conformance(&cluster.world());
  if (options.world_hook) options.world_hook(cluster.world());
  RunResult result = cluster.Run();
  result.coverage = coverage.Finish();
  conformance.AppendTo(scenario, &result);
  result.schedule = cluster.world().scheduler().schedule_stats();
  FlagVacuousRun(&result);  // a run that checked nothing never passes (harness/vacuous.h)
  ktm::SetAssertContext("");
  return result;
}

}  // namespace harness
