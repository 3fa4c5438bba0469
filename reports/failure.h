// Failure folders: everything needed to understand and replay one failed
// run, written to <report dir>/failures/<scenario>-<seed>/:
//   trace.txt     the checkers' explanation on top (each violation: rule, tx,
//                 message and the history events it names), then the trace,
//                 with the lines of the violating history events marked ">>"
//   history.txt   the recorded history, violating events marked ">>"
//   schedule.txt  the faults injected, as a replayable FaultSchedule text
//   replay.sh     replays the run from this folder's own scenario.toml (and
//                 schedule.txt when the run had a schedule), wherever the
//                 folder is, and compares the digest (exit 3 on a mismatch)
//   result.json   the run's result without trace and history (with the
//                 shrinker's figures under "shrink" when it ran)
//   scenario.toml the scenario as run (harness/scenario_toml_writer.h), so
//                 the folder replays and shrinks without the original file
//   trace.dot / trace.svg    the sequence diagram (reports/sequence_diagram.h)
//   states.dot / states.svg  the failing transaction's state machines
//   trace.json    Chrome trace-event format, for Perfetto (reports/chrome_trace.h)
//   shrunk/       the minimal failing run the shrinker found (WriteShrunkFolder)
// Contract: every file is written atomically (reports/atomic_file.h); the
// texts are pure functions of (scenario, result, options), so re-running a
// seed writes the same folder. The result must carry its trace
// (RunOptions::keep_trace) for trace.txt and the pictures to show one.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "harness/runner.h"
#include "harness/scenario.h"
#include "harness/shrink.h"
#include "nlohmann/json.hpp"

namespace reports {

// "failures/<scenario>-<seed>", relative to the report directory; characters
// other than [A-Za-z0-9._-] in the scenario name become '_'.
std::string FailureFolderName(const std::string& scenario, uint64_t seed);

struct FailureFolderOptions {
  // The ktmsim binary replay.sh runs unless $KTMSIM is set (absolute path).
  std::string ktmsim_binary = "ktmsim";
  // Rows of trace.svg (reports/sequence_diagram.h).
  size_t sequence_events_max = 150;
};

// The identity of `result` replayed from the folder `folder` (as the reader
// names it): its scenario.toml, and its schedule.txt when the run had a
// schedule.
harness::RunIdentity FolderIdentity(const harness::RunResult& result, const std::string& folder);

// The trace lines (0-based, of result.trace_text) that show a history event
// named by a violation, each with the numbers (1-based) of those violations:
// the lines trace.txt marks ">>". Matching as described in failure.cc.
std::map<size_t, std::vector<size_t>> ViolatingTraceLines(const harness::RunResult& result);

// The ids the trace uses for history transaction `tx` ("t7"): the engine's
// transaction ids found on trace lines carrying a value it wrote, and `tx`.
std::set<std::string> TraceIdsOfTransaction(const std::string& tx, const harness::RunResult& result);

// trace.txt's text.
// For a run that passed, the header says so instead of explaining a failure.
std::string FailureTraceText(const harness::Scenario& scenario, const harness::RunResult& result);
// history.txt's text.
std::string MarkedHistoryText(const harness::RunResult& result);
// schedule.txt's text: a comment header, then result.schedule_text.
std::string ScheduleFileText(const harness::Scenario& scenario, const harness::RunResult& result);
// replay.sh's text: runs `identity` with the folder as "$here" (the
// directory of the script), compares the printed digest with `digest` and
// exits 3 with a message on a mismatch, else with replay's status.
std::string ReplayScript(const std::string& title, const harness::RunIdentity& identity, uint64_t digest,
                         const FailureFolderOptions& options);
// result.json's value.
nlohmann::ordered_json ResultJson(const harness::Scenario& scenario,
                                  const harness::RunResult& result);

// The pictures and machine-readable trace of one run into the existing
// directory `dir`: trace.txt, trace.dot, trace.svg, states.dot, states.svg,
// trace.json. Errors: a file that cannot be written, a Graphviz failure.
absl::Status WriteTraceOutputs(const std::string& dir, const harness::Scenario& scenario,
                               const harness::RunResult& result, const FailureFolderOptions& options);

// The replay command of a shrunk run whose folder is `shrunk_dir` as the
// reader will type it ("failures/soak-3/shrunk"): its scenario.toml, seed,
// schedule.txt when the run needs it, and the planted bug.
std::string ShrunkReplayCommand(const std::string& shrunk_dir, const harness::ShrinkResult& shrink);
// Its identity.
harness::RunIdentity ShrunkIdentity(const std::string& shrunk_dir, const harness::ShrinkResult& shrink);

// The before -> after table of a successful shrink, one line per size
// ("  transactions  80 -> 2"), then what stopped it (fixed point or budget).
std::string ShrinkFiguresText(const harness::ShrinkResult& shrink);

// result.json's "shrink" object: ok (and error), rule, runs, runs_died
// (candidates an engine assertion aborted), budget, budget_exhausted,
// fixed_point, stopped_by ("fixed point", "budget", "rounds limit"),
// before/after {trace_events, trace_lines, transactions, faults, hosts, rms},
// ratio (after / before trace events), steps, folder ("shrunk") and replay
// (ShrunkReplayCommand with `shrunk_dir`).
nlohmann::ordered_json ShrinkJson(const harness::ShrinkResult& shrink, int budget,
                                  const std::string& shrunk_dir);

// Writes `folder`/shrunk/ for a successful shrink: scenario.toml (the
// minimal scenario), schedule.txt, replay.sh (replays from its own folder,
// wherever it is moved), result.json (the minimal run, its sizes and the
// steps taken), history.txt and WriteTraceOutputs' files. `display_folder`
// is `folder` as commands should name it (relative to the report directory).
absl::Status WriteShrunkFolder(const std::string& folder, const std::string& display_folder,
                               const harness::ShrinkResult& shrink, int budget,
                               const FailureFolderOptions& options);

// Creates report_dir/FailureFolderName(...) (and failures/) if needed and
// writes the files into it; with `shrink`, also shrunk/ (when shrink->ok)
// and the "shrink" figures in result.json.
absl::Status WriteFailureFolder(const std::string& report_dir, const harness::Scenario& scenario,
                                const harness::RunResult& result,
                                const FailureFolderOptions& options,
                                const harness::ShrinkResult* shrink = nullptr, int shrink_budget = 0);

}  // namespace reports
