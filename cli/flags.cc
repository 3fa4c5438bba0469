// Flag definitions for the ktmsim subcommands (see flags.h). Defaults are
// part of the documented interface (docs/cli.md): --seeds 20, --jobs = the
// number of hardware threads, --out ktmsim-out, --shard 1/1,
// --failure-folders-max reports::kFailureFoldersMaxDefault (100),
// --shrink-budget and ktmsim shrink's --budget harness::kShrinkBudgetDefault
// (200), --planted-bug 0, --format txt.
#include "cli/flags.h"

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "harness/shrink.h"
#include "ktm/bugs.h"
#include "sim/scheduler.h"
#include "reports/summary.h"

namespace {

int32_t HardwareThreads() {
  return static_cast<int32_t>(std::max(1u, std::thread::hardware_concurrency()));
}

}  // namespace

ABSL_FLAG(std::string, seeds, "20",
          "seeds to run per scenario: N runs seeds 1..N, A-B runs seeds A..B inclusive");
ABSL_FLAG(int32_t, jobs, HardwareThreads(),
          "worker threads running simulations in parallel (defaults to the number of hardware "
          "threads); the report does not depend on it");
ABSL_FLAG(std::string, out, "ktmsim-out",
          "run, merge: the report directory (summary.json, junit.xml, index.html, failures/); "
          "bench: its output directory; trace: the output file (without --out: stdout)");
ABSL_FLAG(std::string, shard, "1/1",
          "run only shard i of n (1 <= i <= n): the (scenario, seed) items whose index % n == "
          "i-1; merge the shards' reports with 'ktmsim merge'");
ABSL_FLAG(bool, quiet, false, "no progress output on stderr");
ABSL_FLAG(uint64_t, failure_folders_max, reports::kFailureFoldersMaxDefault,
          "failure folders per scenario: the failed runs with the smallest seeds get one (each "
          "costs a re-run with its trace); every failure is in summary.json regardless");
ABSL_FLAG(uint64_t, seed, 0,
          "replay, trace: the seed to run (required); explore: the one seed every run uses (default there 1)");
ABSL_FLAG(std::string, schedule, "",
          "replay this fault schedule file (a failure folder's schedule.txt) instead of the "
          "scenario's faults");
ABSL_FLAG(bool, trace, false, "print the run's trace after the verdict");
ABSL_FLAG(bool, rm_contract, false,
          "replay: judge the run by the RM contract rules too, as 'ktmsim conform' did (its "
          "replay commands say so)");
ABSL_FLAG(uint32_t, planted_bug, 0,
          "TEST-ONLY: switch on planted protocol bug N (1-7, ktm/bugs.h) in the engine, to check "
          "that the checkers, the shrinker and the reports catch it; 0 = none. Recorded in every "
          "replay command");
ABSL_FLAG(int32_t, shrink_budget, harness::kShrinkBudgetDefault,
          "simulations spent shrinking each failure that gets a folder (written to its shrunk/); "
          "0 disables shrinking");
ABSL_FLAG(int32_t, budget, harness::kShrinkBudgetDefault,
          "shrink: simulations the shrinker may spend (default as --shrink-budget); explore: runs at most "
          "(default there 10000)");
ABSL_FLAG(std::string, format, "txt",
          "output format. trace: txt (the marked trace), svg (sequence diagram), dot (its "
          "Graphviz source), json (Chrome trace-event format, for Perfetto / chrome://tracing) or "
          "tla (TLA+ trace module, spec/README.md); "
          "bench: text, json or svg (default text)");

ABSL_FLAG(std::string, strategy, "",
          "how ties between events due at the same virtual time are broken in every scenario: fifo, "
          "random or pct (docs/scheduling.md); default: each scenario's schedule_strategy");
ABSL_FLAG(uint32_t, pct_depth, 0,
          "the PCT depth d (1-64) for every scenario; 0: each scenario's schedule_pct_depth");
ABSL_FLAG(std::string, kind, "", "conform: the RM kind under test (registered by a --plugin)");
ABSL_FLAG(std::vector<std::string>, rm_option, {},
          "conform: KEY=VALUE[,KEY=VALUE...], the [rms.options] table of every RM of the battery "
          "(e.g. bug=ignore_rollback)");
ABSL_FLAG(uint32_t, depth, 2, "explore: faults per run, at most (1 to 3)");
ABSL_FLAG(bool, target_spec_states, false,
          "explore: run first the extensions of runs that reached spec states not reached before "
          "(harness/explore.h); reports the spec states closed either way");
ABSL_FLAG(std::string, spec_baseline, "",
          "explore: a summary.json or coverage.json whose spec states count as reached already "
          "(closed and targeted states are then new to that suite too)");
ABSL_FLAG(std::string, fault_points, "",
          "replay: inject exactly these fault points (from explore), e.g. "
          "crash:h0:disk.write:3,drop:msg:7; see docs/explore.md");

namespace cli {

absl::StatusOr<uint32_t> PlantedBugFromFlag() {
  const uint32_t bug = absl::GetFlag(FLAGS_planted_bug);
  if (bug >= ktm::kBugCount) {
    return absl::InvalidArgumentError(absl::StrCat("bad --planted-bug ", bug, ": need 0 (none) to ",
                                                   ktm::kBugCount - 1));
  }
  return bug;
}

absl::Status ScheduleFlags(std::string* strategy, uint32_t* pct_depth) {
  *strategy = absl::GetFlag(FLAGS_strategy);
  sim::ScheduleStrategy parsed;
  if (!strategy->empty() && !sim::ParseScheduleStrategy(*strategy, &parsed)) {
    return absl::InvalidArgumentError(absl::StrCat("bad --strategy '", *strategy, "': need fifo, random or pct"));
  }
  *pct_depth = absl::GetFlag(FLAGS_pct_depth);
  if (*pct_depth > 64) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad --pct-depth ", *pct_depth, ": need 1 <= depth <= 64 (0: the scenario's)"));
  }
  return absl::OkStatus();
}

}  // namespace cli
