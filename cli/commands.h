// The ktmsim subcommands. Each takes the parsed arguments that follow its
// name (flag values are in the ABSL_FLAG variables of cli/flags.h) and
// returns the process exit status (cli/args.h: 0 pass, 1 fail, 2 bad input).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "cli/args.h"
#include "harness/runner.h"

namespace cli {

struct Subcommand {
  const char* name;
  const char* synopsis;     // "ktmsim run [FILE|DIR...] [flags]"
  const char* description;  // what it does, exit statuses
  std::vector<std::string> flags;
  int (*main)(const ParsedArgs& args);
  std::map<std::string, std::string> defaults = {};  // this command's own defaults (FlagsUsage)
  const char* example = "";                          // one command line that shows it in use
};

int RunMain(const ParsedArgs& args);
int ReplayMain(const ParsedArgs& args);
int MergeMain(const ParsedArgs& args);
int TraceMain(const ParsedArgs& args);
int ShrinkMain(const ParsedArgs& args);

// Reads and parses a fault schedule file (--schedule) into options->schedule;
// prints every problem as "FILE:line: message" and returns false on failure.
// Reads, parses and checks a schedule file against the scenario it replays
// (hosts, disks, sectors, times: harness/schedule_validation.h); problems
// are printed as FILE:line: message.
bool LoadScheduleFile(const std::string& file, const harness::Scenario& scenario, harness::RunOptions* options);

// Every flag that changes a run (docs/cli.md): run takes the first four,
// replay, trace and shrink all five (each names one run).
inline const std::vector<std::string> kRunFlags = {"strategy", "pct_depth", "planted_bug", "schedule",
                                                   "fault_points"};

// The run-changing flags the command line specified, applied to `options`
// (the schedule file read into options->schedule, its errors printed as
// FILE:line: message) and `fault_points` (explore's text, unparsed).
absl::Status ApplyRunFlags(const ParsedArgs& args, const harness::Scenario& scenario, harness::RunOptions* options,
                           std::string* fault_points);

// One run named on the command line (replay, trace): SCENARIO, --seed and
// the run flags. `scenario` is the scenario as run (overrides applied).
struct OneRun {
  harness::Scenario scenario;
  harness::RunOptions options;  // as the command line gave them
  harness::RunResult result;
};
absl::StatusOr<OneRun> RunFromArgs(const ParsedArgs& args, bool keep_trace);
int BenchMain(const ParsedArgs& args);  // cli/bench_command.cc
int PromoteMain(const ParsedArgs& args);  // cli/promote_command.cc

// The regression corpus: `ktmsim promote` writes here, `ktmsim run` without
// paths runs it with scenarios/.
inline constexpr char kRegressionsDir[] = "scenarios/regressions";
int ExploreMain(const ParsedArgs& args);  // cli/explore_command.cc
int ConformMain(const ParsedArgs& args);  // cli/conform_command.cc

// Every subcommand, in the order `ktmsim help` lists them.
const std::vector<Subcommand>& Subcommands();

// The absolute path of this binary (for replay.sh), or "ktmsim".
std::string SelfPath();

// The summary table, the report line and the exit status shared by run and
// merge: prints `table` on stdout, then
// "reports: DIR/summary.json (and junit.xml, N failure folders)".
void PrintReportLocation(const std::string& dir, uint64_t failure_folders);

}  // namespace cli
