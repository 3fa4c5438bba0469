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
#include "harness/conform.h"
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

bool LoadScheduleFile(const std::string& file, const harness::Scenario& scenario, harness::RunOptions* options) {
  if (absl::Status input = CheckInputFile(file); !input.ok()) {
    absl::FPrintF(stderr, "%s:1:1: %s\n", file, input.message());
    return false;
  }
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

// The verdict in words that read right for scenarios that expect a failure too.
std::string VerdictText(const harness::Scenario& scenario, const harness::RunResult& result) {
  if (scenario.expect == harness::Expect::kPass) {
    return result.passed ? "pass (no violation, as expected)" : "FAIL (a violation; the scenario expects none)";
  }
  const std::string wanted = scenario.expect_rule.empty() ? "a violation" : "a violation of " + scenario.expect_rule;
  return result.passed ? absl::StrCat("pass (", wanted, ", as the scenario expects)")
                       : absl::StrCat("FAIL (the scenario expects ", wanted, "; none found)");
}

void PrintResult(const harness::Scenario& scenario, const harness::RunResult& result,
                 bool with_trace) {
  absl::PrintF("digest %s\n", reports::DigestText(result.digest));
  absl::PrintF("scenario %s seed %d\n", scenario.name, result.seed);
  absl::PrintF("verdict %s\n", VerdictText(scenario, result));
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

absl::Status ApplyRunFlags(const ParsedArgs& args, const harness::Scenario& scenario, harness::RunOptions* options,
                           std::string* fault_points) {
  std::string strategy;
  uint32_t pct_depth = 0;
  if (absl::Status status = ScheduleFlags(&strategy, &pct_depth); !status.ok()) return status;
  if (args.specified.count("strategy") != 0) options->strategy = strategy;
  if (args.specified.count("pct_depth") != 0) options->pct_depth = pct_depth;
  if (args.specified.count("planted_bug") != 0) {
    absl::StatusOr<uint32_t> planted_bug = PlantedBugFromFlag();
    if (!planted_bug.ok()) return planted_bug.status();
    options->planted_bug = *planted_bug;
  }
  if (args.specified.count("fault_points") != 0) *fault_points = absl::GetFlag(FLAGS_fault_points);
  if (args.specified.count("rm_contract") != 0) {
    options->rm_contract = absl::GetFlag(FLAGS_rm_contract);
    if (options->rm_contract) options->keep_trace = true;  // the rules read the trace
  }
  if (args.specified.count("schedule") != 0) options->schedule_file = absl::GetFlag(FLAGS_schedule);
  if (!options->schedule_file.empty() && !fault_points->empty()) {
    return absl::InvalidArgumentError("--fault-points and --schedule exclude each other");
  }
  if (!options->schedule_file.empty() && !LoadScheduleFile(options->schedule_file, scenario, options)) {
    return absl::InvalidArgumentError(absl::StrCat("bad --schedule ", options->schedule_file));
  }
  return absl::OkStatus();
}

absl::StatusOr<harness::RunResult> RunIdentified(const harness::Scenario& scenario, uint64_t seed,
                                                 const harness::RunOptions& options, const std::string& fault_points) {
  if (fault_points.empty()) return harness::RunScenario(scenario, seed, options);
  absl::StatusOr<std::vector<harness::FaultPoint>> points = harness::ParseFaultPoints(fault_points, scenario);
  if (!points.ok()) return points.status();
  if (absl::Status explorable = harness::CheckExplorable(scenario); !explorable.ok()) return explorable;
  return harness::RunWithFaultPoints(scenario, seed, options, *points);
}

absl::StatusOr<OneRun> RunFromArgs(const ParsedArgs& args, bool keep_trace) {
  if (args.positional.size() != 1) return absl::InvalidArgumentError("expected exactly one scenario file");
  if (args.specified.count("seed") == 0) return absl::InvalidArgumentError("--seed is required");
  const std::string& file = args.positional[0];
  std::error_code error;
  if (std::filesystem::is_directory(file, error)) {
    return absl::InvalidArgumentError(absl::StrCat(file, " is a directory; name one scenario file"));
  }
  ScenarioSet set = LoadScenarios({file});
  if (!set.errors.empty()) {
    for (const std::string& line : set.errors) absl::FPrintF(stderr, "%s\n", line);
    return absl::InvalidArgumentError(absl::StrCat(file, ": not a scenario (see above)"));
  }
  harness::RunOptions options;
  options.keep_trace = keep_trace;
  std::string fault_points;
  OneRun run;
  run.scenario = set.scenarios.front();
  if (absl::Status status = ApplyRunFlags(args, run.scenario, &options, &fault_points); !status.ok()) return status;
  run.options = options;
  absl::StatusOr<harness::RunResult> result =
      RunIdentified(run.scenario, absl::GetFlag(FLAGS_seed), options, fault_points);
  if (!result.ok()) return result.status();
  run.result = *std::move(result);
  if (options.rm_contract) run.result = harness::JudgeRmContract(run.scenario, std::move(run.result));
  harness::ApplyScheduleOverrides(run.result.identity, &run.scenario);
  return run;
}

int ReplayMain(const ParsedArgs& args) {
  absl::StatusOr<OneRun> run = RunFromArgs(args, absl::GetFlag(FLAGS_trace));
  if (!run.ok()) return UsageError("replay", std::string(run.status().message()));
  PrintResult(run->scenario, run->result, absl::GetFlag(FLAGS_trace));
  return run->result.passed ? kExitPass : kExitFail;
}

}  // namespace cli
