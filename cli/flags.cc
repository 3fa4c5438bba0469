// Flag definitions for the ktmsim subcommands (see flags.h). Defaults are
// part of the documented interface (docs/cli.md): --seeds 20, --jobs = the
// number of hardware threads, --out ktmsim-out, --shard 1/1,
// --failure_folders_max reports::kFailureFoldersMaxDefault (100).
#include "cli/flags.h"

#include <algorithm>
#include <thread>

#include "absl/flags/flag.h"
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
          "report directory (summary.json, junit.xml, failures/)");
ABSL_FLAG(std::string, shard, "1/1",
          "run only shard i of n (1 <= i <= n): the (scenario, seed) items whose index % n == "
          "i-1; merge the shards' reports with 'ktmsim merge'");
ABSL_FLAG(bool, quiet, false, "no progress output on stderr");
ABSL_FLAG(uint64_t, failure_folders_max, reports::kFailureFoldersMaxDefault,
          "failure folders per scenario: the failed runs with the smallest seeds get one (each "
          "costs a re-run with its trace); every failure is in summary.json regardless");
ABSL_FLAG(uint64_t, seed, 0, "the seed to replay (required)");
ABSL_FLAG(std::string, schedule, "",
          "replay this fault schedule file (a failure folder's schedule.txt) instead of the "
          "scenario's faults");
ABSL_FLAG(bool, trace, false, "print the run's trace after the verdict");
