// RunIdentity: the one value that names a run, so that every report,
// console line and script that says how to reproduce a run says it the
// same way. A run is decided by its scenario file, its seed, the options
// that change what runs (tie-breaking strategy and PCT depth overrides, a
// fault schedule or explore's fault points instead of the scenario's fault
// plan, a planted engine bug) and nothing else.
//
// Contract:
// - ReplayCommandLine renders it as "ktmsim replay FILE --seed S [...]",
//   every word shell-quoted when it needs it (a path with a space or an
//   apostrophe pastes into sh as one word); ParseReplayCommandLine reads such
//   a line back: Parse(Render(id)) == id for every identity.
// - The overrides are applied to the loaded scenario by
//   ApplyScheduleOverrides; applying twice is applying once, so replaying a
//   failure folder's scenario.toml (written as run, overrides included) with
//   the same flags gives the same run.
// - harness::RunScenario records the identity of every run in
//   RunResult::identity (harness/runner.h); reports/ and cli/ render replay
//   commands only from it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "harness/scenario.h"

namespace harness {

// The RM-kind plugins loaded into this process (`--plugin`, cli/plugins.cc),
// as absolute paths in load order: a run needs them to replay, so every
// identity made in the process names them. Loading is single-threaded and
// happens before any run.
void AddLoadedPlugin(std::string path);
const std::vector<std::string>& LoadedPlugins();

struct RunIdentity {
  // The scenario file `ktmsim replay` loads: the source file of the scenario,
  // or a failure folder's scenario.toml. A scenario built in memory (tests)
  // has none: its name stands in.
  std::string scenario_file;
  uint64_t seed = 0;
  std::string strategy;       // "" = the scenario's schedule_strategy; else fifo|random|pct
  uint32_t pct_depth = 0;     // 0 = the scenario's schedule_pct_depth
  std::string schedule_file;  // "" = the scenario's fault plan; else this schedule's faults
  std::string fault_points;   // "" = none; else explore's points ("crash:h0:disk.write:3,...")
  uint32_t planted_bug = 0;   // 0 = none; else ktm/bugs.h's bug N (test-only)
  bool rm_contract = false;   // judged by the RM contract rules too (ktmsim conform)
  std::vector<std::string> plugins = LoadedPlugins();  // --plugin PATH each, in load order

  bool operator==(const RunIdentity&) const = default;
};

// The planted bug's name (ktm/bugs.h), for reports that must not reach
// into the engine ("" for 0).
std::string PlantedBugName(uint32_t bug);

// The program name replay commands start with.
inline constexpr char kReplayProgram[] = "ktmsim";

// "ktmsim replay FILE --seed S [--strategy X] [--pct-depth D]
//  [--schedule F] [--fault-points P] [--planted-bug N] [--rm-contract] [--plugin PATH...]", shell-quoted,
// options in that order, each only when set. `program` replaces "ktmsim"
// (replay.sh passes a quoted binary path; it is inserted verbatim).
std::string ReplayCommandLine(const RunIdentity& identity, std::string_view program = kReplayProgram);

// The replay command's arguments after "replay", unquoted (for exec).
std::vector<std::string> ReplayArguments(const RunIdentity& identity);

// Reads a line ReplayCommandLine wrote (any program name as the first word).
// kInvalidArgument for a line that is not one: unbalanced quotes, a missing
// "replay", an unknown option, a bad number, --schedule with --fault-points.
absl::StatusOr<RunIdentity> ParseReplayCommandLine(std::string_view command);

// One word for sh: unchanged when it has only [A-Za-z0-9_./:,=+@%-] (and is
// not empty), else in single quotes with each ' written as '\''.
std::string ShellQuote(std::string_view word);

// Splits a sh command line into words: blanks separate, '...' and "..."
// quote (in "...", \ escapes " \ $ `), \ escapes outside quotes. No
// expansion of any kind. kInvalidArgument on an unterminated quote.
absl::StatusOr<std::vector<std::string>> ShellSplit(std::string_view line);

// Sets the strategy and PCT depth the identity names on `scenario`.
void ApplyScheduleOverrides(const RunIdentity& identity, Scenario* scenario);

}  // namespace harness
