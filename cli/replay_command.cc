// `ktmsim replay SCENARIO --seed S [--schedule FILE | --fault-points P] [--trace]`: one run,
// printed. The output starts with "digest <16 hex>" so scripts (and the
// tests) can compare it with summary.json and a failure folder; then the
// verdict, each violation, the counters and, with --trace, the trace text.
// Exit 0 when the run passed, 1 when it failed, 2 on bad input.
#include <cstdio>
#include <filesystem>
#include <optional>
#include <system_error>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/scenario_set.h"
#include "harness/explore.h"
#include "harness/runner.h"
#include "harness/schedule_validation.h"
#include "reports/atomic_file.h"
#include "reports/summary.h"
#include "sim/fault_plan.h"

namespace cli {
namespace {

// FaultSchedule::Parse says "line 3: message"; the user gets "FILE:3: message".
std::vector<std::string> ScheduleErrors(const std::string& file, const std::string& message) {
  std::vector<std::string> lines;
  for (absl::string_view line : absl::StrSplit(message, '\n', absl::SkipEmpty())) {
    const size_t colon = line.find(':');
    uint64_t number = 0;
    if (line.substr(0, 5) == "line " && colon != absl::string_view::npos &&
        absl::SimpleAtoi(line.substr(5, colon - 5), &number)) {
      lines.push_back(absl::StrCat(file, ":", number, ":", line.substr(colon + 1)));
    } else {
      lines.push_back(absl::StrCat(file, ": ", line));
    }
  }
  return lines;
}

}  // namespace

bool LoadScheduleFile(const std::string& file, const harness::Scenario& scenario,
                      harness::RunOptions* options) {
  absl::StatusOr<std::string> text = reports::ReadFile(file);
  if (!text.ok()) {
    absl::FPrintF(stderr, "%s: %s\n", file, text.status().message());
    return false;
  }
  absl::StatusOr<sim::FaultSchedule> schedule = sim::FaultSchedule::Parse(*text);
  if (!schedule.ok()) {
    for (const std::string& line : ScheduleErrors(file, std::string(schedule.status().message()))) {
      absl::FPrintF(stderr, "%s\n", line);
    }
    return false;
  }
  if (absl::Status valid = harness::CheckScheduleText(scenario, *text, file); !valid.ok()) {
    absl::FPrintF(stderr, "%s\n", valid.message());
    return false;
  }
  options->schedule = *std::move(schedule);
  return true;
}

namespace {

void PrintResult(const harness::Scenario& scenario, const harness::RunResult& result,
                 bool with_trace) {
  absl::PrintF("digest %s\n", reports::DigestText(result.digest));
  absl::PrintF("scenario %s seed %d\n", scenario.name, result.seed);
  absl::PrintF("verdict %s (expected %s)\n", result.passed ? "pass" : "FAIL",
               reports::ExpectationText(scenario));
  for (size_t v = 0; v < result.violations.size(); ++v) {
    const harness::Violation& violation = result.violations[v];
    absl::PrintF("violation V%d %s tx=%s: %s\n", v + 1, violation.rule, violation.tx,
                 violation.message);
  }
  absl::PrintF(
      "transactions %d committed %d aborted %d unresolved %d faults %d trace_events %d "
      "sim_time_ns %d\n",
      result.transactions, result.committed, result.aborted, result.unresolved,
      result.faults_injected, result.trace_events, result.sim_time_ns);
  if (with_trace) {
    absl::PrintF("trace:\n%s", result.trace_text);
    if (!result.trace_text.empty() && result.trace_text.back() != '\n') absl::PrintF("\n");
  }
}

}  // namespace

int ReplayMain(const ParsedArgs& args) {
  if (args.positional.size() != 1) {
    return UsageError("replay", "expected exactly one scenario file");
  }
  if (args.specified.count("seed") == 0) return UsageError("replay", "--seed is required");
  const std::string& file = args.positional[0];
  std::error_code error;
  if (std::filesystem::is_directory(file, error)) {
    return UsageError("replay", absl::StrCat(file, " is a directory; name one scenario file"));
  }
  ScenarioSet set = LoadScenarios({file});
  if (!set.errors.empty()) {
    for (const std::string& line : set.errors) absl::FPrintF(stderr, "%s\n", line);
    return kExitBadInput;
  }
  absl::StatusOr<uint32_t> planted_bug = PlantedBugFromFlag();
  if (!planted_bug.ok()) return UsageError("replay", std::string(planted_bug.status().message()));
  harness::RunOptions options;
  options.keep_trace = absl::GetFlag(FLAGS_trace);
  options.planted_bug = *planted_bug;
  const std::string schedule_file = absl::GetFlag(FLAGS_schedule);
  const harness::Scenario& scenario = set.scenarios.front();
  // --fault-points (from `ktmsim explore`): exactly those faults, none of the scenario's.
  std::optional<std::vector<harness::FaultPoint>> points;
  if (args.specified.count("fault_points") != 0) {
    if (!schedule_file.empty()) return UsageError("replay", "--fault-points and --schedule exclude each other");
    absl::StatusOr<std::vector<harness::FaultPoint>> parsed =
        harness::ParseFaultPoints(absl::GetFlag(FLAGS_fault_points), scenario);
    if (!parsed.ok()) return UsageError("replay", std::string(parsed.status().message()));
    if (absl::Status explorable = harness::CheckExplorable(scenario); !explorable.ok()) {
      return UsageError("replay", std::string(explorable.message()));
    }
    points = *std::move(parsed);
  }
  if (!schedule_file.empty() && !LoadScheduleFile(schedule_file, scenario, &options)) return kExitBadInput;
  const harness::RunResult result =
      points ? harness::RunWithFaultPoints(scenario, absl::GetFlag(FLAGS_seed), options, *points)
             : harness::RunScenario(scenario, absl::GetFlag(FLAGS_seed), options);
  PrintResult(scenario, result, options.keep_trace);
  return result.passed ? kExitPass : kExitFail;
}

}  // namespace cli
