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
#include "sim/invariant.h"
#include "sim/world.h"

namespace harness {

RunIdentity IdentityOf(const Scenario& scenario, uint64_t seed, const RunOptions& options) {
  RunIdentity identity;
  identity.scenario_file = scenario.file.empty() ? scenario.name : scenario.file;
  identity.seed = seed;
  identity.strategy = options.strategy;
  identity.pct_depth = options.pct_depth;
  identity.schedule_file = options.schedule_file;
  identity.planted_bug = options.planted_bug;
  identity.rm_contract = options.rm_contract;
  return identity;
}

Scenario ScenarioAsRun(const Scenario& scenario, const RunOptions& options) {
  Scenario as_run = scenario;
  ApplyScheduleOverrides(IdentityOf(scenario, 0, options), &as_run);
  return as_run;
}

namespace {

bool ExpectsAssertion(const Scenario& scenario) {
  return scenario.expect != Expect::kPass && scenario.expect_rule == kAssertionRule;
}

}  // namespace

// The digest is deterministic: the same seed breaks the same check at the
// same event.
RunResult AssertionResult(const Scenario& scenario, uint64_t seed, Cluster* cluster,
                          const sim::InvariantFailure& failure, const RunOptions& options) {
  RunResult result;
  result.scenario = scenario.name;
  result.seed = seed;
  result.violations.push_back(
      {kAssertionRule, "", absl::StrCat(failure.check(), " failed at ", failure.location(), ": ", failure.message()),
       {}});
  result.passed = ExpectsAssertion(scenario);
  if (cluster == nullptr) return result;
  const sim::Trace& trace = cluster->world().trace();
  result.digest = trace.digest();
  result.trace_events = trace.count();
  result.sim_time_ns = cluster->world().scheduler().Now();
  // What the shrinker cuts (harness/shrink.h): the transactions started and
  // the faults injected up to the broken invariant.
  result.transactions = cluster->transactions_started();
  result.schedule_text = cluster->InjectedScheduleText();
  absl::StatusOr<sim::FaultSchedule> injected = sim::FaultSchedule::Parse(result.schedule_text);
  if (injected.ok()) result.faults_injected = injected->fault_count();
  result.history = cluster->TakeHistorySoFar();
  if (options.keep_trace) result.trace_text = trace.ToText();
  return result;
}

sim::InvariantFailure UncaughtException(const std::exception& error) {
  return sim::InvariantFailure("no exception escapes a run", absl::StrCat("uncaught exception: ", error.what()),
                               "(unknown: a C++ exception, not a KTM_ASSERT)");
}

namespace {

RunResult RunCluster(const Scenario& scenario, uint64_t seed, const RunOptions& options) {
  sim::InvariantTrap trap;  // a broken invariant ends this run, not the process
  std::unique_ptr<Cluster> cluster;
  // Reads only what it recorded once the run is over: it outlives the world.
  std::unique_ptr<ConformanceChecker> conformance;
  RunResult result;
  try {
    cluster = std::make_unique<Cluster>(scenario, seed, options);
    CoverageRecorder coverage(&cluster->world());
    conformance = std::make_unique<ConformanceChecker>(&cluster->world());
    if (options.world_hook) options.world_hook(cluster->world());
    result = cluster->Simulate();
    result.coverage = coverage.Finish();
    result.schedule = cluster->world().scheduler().schedule_stats();
  } catch (const sim::InvariantFailure& failure) {
    return AssertionResult(scenario, seed, cluster.get(), failure, options);
  } catch (const std::exception& error) {
    // A library check the engine did not guard (std::map::at, ...): the
    // same as a broken invariant, this run's failure, not the process's.
    return AssertionResult(scenario, seed, cluster.get(), UncaughtException(error), options);
  }
  // The simulated disks, engines and RMs are dead weight from here: free
  // them before the checkers build their indexes over the history, so the
  // run's peak is the larger of the two, not their sum.
  cluster.reset();
  try {
    CheckHistory(scenario, options, &result);
  } catch (const std::exception& error) {
    RunResult failed = AssertionResult(scenario, seed, nullptr, UncaughtException(error), options);
    failed.digest = result.digest;
    failed.trace_events = result.trace_events;
    failed.sim_time_ns = result.sim_time_ns;
    return failed;
  }
  conformance->AppendTo(scenario, &result);
  FlagVacuousRun(&result);  // a run that checked nothing never passes (harness/vacuous.h)
  FlagUndetectedCorruption(scenario.expect_refusals_min, &result);
  return result;
}

}  // namespace

RunResult RunScenario(const Scenario& scenario, uint64_t seed, const RunOptions& options) {
  const RunIdentity identity = IdentityOf(scenario, seed, options);
  ktm::SetAssertContext(
      absl::StrCat("scenario=", scenario.name, " seed=", seed, " replay: ", ReplayCommandLine(identity)));
  const bool overridden = (!options.strategy.empty() && options.strategy != scenario.schedule_strategy) ||
                          (options.pct_depth != 0 && options.pct_depth != scenario.schedule_pct_depth);
  RunResult result =
      overridden ? RunCluster(ScenarioAsRun(scenario, options), seed, options) : RunCluster(scenario, seed, options);
  result.identity = identity;
  ktm::SetAssertContext("");
  return result;
}

}  // namespace harness
