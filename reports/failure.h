// Failure folders: everything needed to understand and replay one failed
// run, written to <report dir>/failures/<scenario>-<seed>/:
//   trace.txt     the checkers' explanation on top (each violation: rule, tx,
//                 message and the history events it names), then the trace,
//                 with the lines of the violating history events marked ">>"
//   history.txt   the recorded history, violating events marked ">>"
//   schedule.txt  the faults injected, as a replayable FaultSchedule text
//   replay.sh     the exact replay command (executable)
//   result.json   the run's result without trace and history
// Contract: every file is written atomically (reports/atomic_file.h); the
// texts are pure functions of (scenario, result, options), so re-running a
// seed writes the same folder. The result must carry its trace
// (RunOptions::keep_trace) for trace.txt to show one.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "harness/runner.h"
#include "harness/scenario.h"
#include "nlohmann/json.hpp"

namespace reports {

// "failures/<scenario>-<seed>", relative to the report directory; characters
// other than [A-Za-z0-9._-] in the scenario name become '_'.
std::string FailureFolderName(const std::string& scenario, uint64_t seed);

struct FailureFolderOptions {
  // The ktmsim binary replay.sh runs unless $KTMSIM is set (absolute path).
  std::string ktmsim_binary = "ktmsim";
  // The directory `ktmsim run` ran in: replay.sh changes to it first, so a
  // scenario path given relative to it still resolves. "" = do not change.
  std::string working_directory;
};

// trace.txt's text.
std::string FailureTraceText(const harness::Scenario& scenario, const harness::RunResult& result);
// history.txt's text.
std::string MarkedHistoryText(const harness::RunResult& result);
// schedule.txt's text: a comment header, then result.schedule_text.
std::string ScheduleFileText(const harness::Scenario& scenario, const harness::RunResult& result);
// replay.sh's text.
std::string ReplayScript(const harness::Scenario& scenario, const harness::RunResult& result,
                         const FailureFolderOptions& options);
// result.json's value.
nlohmann::ordered_json ResultJson(const harness::Scenario& scenario,
                                  const harness::RunResult& result);

// Creates report_dir/FailureFolderName(...) (and failures/) if needed and
// writes the five files into it.
absl::Status WriteFailureFolder(const std::string& report_dir, const harness::Scenario& scenario,
                                const harness::RunResult& result,
                                const FailureFolderOptions& options);

}  // namespace reports
