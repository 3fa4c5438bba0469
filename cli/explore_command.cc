// `ktmsim explore SCENARIO [--depth K] [--budget N] [--seed S] [--out DIR]`:
// bounded exhaustive fault exploration (harness/explore.h) of one scenario.
//
// Order of work, so a bad invocation leaves nothing behind: read the flags,
// load the scenario (errors as file:line:col, exit 2), check it can be
// explored, explore (progress on stderr unless --quiet), then write the
// outputs: each violating run (at most --failure-folders-max) is re-run with
// its trace (same digest, or the simulator is not deterministic: abort) into
// DIR/.explore.tmp-<pid>/failures/<scenario>-<seed>-<points>/ with the same
// files as `run` writes, its replay.sh replaying the fault points; the
// staged failures/ replaces DIR/failures/ in one rename, and DIR/explore.json
// is written last, atomically. stdout gets the table. Wall-clock time is
// used only for the reported duration and the progress lines.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/output_dir.h"
#include "cli/scenario_set.h"
#include "harness/explore.h"
#include "reports/atomic_file.h"
#include "reports/failure.h"
#include "reports/spec_coverage.h"
#include "reports/summary.h"
#include "nlohmann/json.hpp"

namespace cli {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

// Limits: faults per run, runs per exploration.
constexpr uint32_t kDepthMax = 3;
constexpr int32_t kBudgetMax = 10'000'000;
constexpr uint64_t kBudgetDefault = 10'000;

struct ExploreSettings {
  std::string file;
  harness::ExploreOptions options;
  std::string out;
  bool quiet = false;
  uint64_t failure_folders_max = 0;
};

absl::StatusOr<ExploreSettings> ReadExploreFlags(const ParsedArgs& args) {
  if (args.positional.size() != 1) return absl::InvalidArgumentError("expected exactly one scenario file");
  ExploreSettings settings;
  settings.file = args.positional[0];
  std::error_code error;
  if (fs::is_directory(settings.file, error)) {
    return absl::InvalidArgumentError(absl::StrCat(settings.file, " is a directory; name one scenario file"));
  }
  const uint32_t depth = absl::GetFlag(FLAGS_depth);
  if (depth < 1 || depth > kDepthMax) {
    return absl::InvalidArgumentError(absl::StrCat("bad --depth ", depth, ": need 1 <= depth <= ", kDepthMax));
  }
  settings.options.depth = depth;
  settings.options.budget = kBudgetDefault;
  if (args.specified.count("budget") != 0) {
    const int32_t budget = absl::GetFlag(FLAGS_budget);
    if (budget < 1 || budget > kBudgetMax) {
      return absl::InvalidArgumentError(absl::StrCat("bad --budget ", budget, ": need 1 <= runs <= ", kBudgetMax));
    }
    settings.options.budget = static_cast<uint64_t>(budget);
  }
  settings.options.seed = args.specified.count("seed") != 0 ? absl::GetFlag(FLAGS_seed) : 1;
  absl::StatusOr<uint32_t> planted_bug = PlantedBugFromFlag();
  if (!planted_bug.ok()) return planted_bug.status();
  settings.options.planted_bug = *planted_bug;
  absl::StatusOr<std::string> out = NormalizeOutDir(absl::GetFlag(FLAGS_out));
  if (!out.ok()) return out.status();
  settings.out = *out;
  if (fs::exists(settings.out, error) && !fs::is_directory(settings.out, error)) {
    return absl::InvalidArgumentError(absl::StrCat("--out ", settings.out, " exists and is not a directory"));
  }
  settings.quiet = absl::GetFlag(FLAGS_quiet);
  settings.options.target_spec_states = absl::GetFlag(FLAGS_target_spec_states);
  if (const std::string baseline = absl::GetFlag(FLAGS_spec_baseline); !baseline.empty()) {
    absl::StatusOr<std::string> text = reports::ReadFile(baseline);
    if (!text.ok()) return absl::InvalidArgumentError(absl::StrCat("--spec-baseline: ", text.status().message()));
    const Json json = Json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded() || !json.is_object()) {
      return absl::InvalidArgumentError(absl::StrCat("--spec-baseline ", baseline, ": not a JSON object"));
    }
    // summary.json keeps the coverage under "coverage"; coverage.json is it.
    const Json& coverage = json.contains("coverage") ? json["coverage"] : json;
    if (!coverage.contains("spec_states")) {
      return absl::InvalidArgumentError(
          absl::StrCat("--spec-baseline ", baseline, ": no coverage.spec_states (a summary.json or coverage.json)"));
    }
    if (absl::Status status = reports::ReadSpecStates(coverage, &settings.options.spec_baseline); !status.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--spec-baseline ", baseline, ": ", status.message()));
    }
  }
  settings.failure_folders_max = absl::GetFlag(FLAGS_failure_folders_max);
  return settings;
}

// One progress line at most every second (the last one always).
class ExploreProgressPrinter {
 public:
  explicit ExploreProgressPrinter(bool quiet) : quiet_(quiet), start_(std::chrono::steady_clock::now()) {}
  void Update(const harness::ExploreProgress& p) {
    if (quiet_) return;
    const double now = Seconds();
    if (now - last_ < 1.0) return;
    last_ = now;
    absl::FPrintF(stderr, "explore: depth %d, %d runs (%d pruned, %d queued), %d distinct states, %d violations, %.1f s\n",
                  p.depth, p.runs, p.pruned, p.queued, p.distinct_states, p.violations, now);
  }
  double Seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  bool quiet_;
  std::chrono::steady_clock::time_point start_;
  double last_ = 0;
};

std::string PointsSlug(const std::vector<harness::FaultPoint>& points) {
  if (points.empty()) return "nofaults";
  return absl::StrReplaceAll(harness::FaultPointsText(points), {{":", "_"}, {",", "+"}});
}

std::string FolderName(const harness::Scenario& scenario, const harness::ExploreViolation& violation) {
  return absl::StrCat(reports::FailureFolderName(scenario.name, violation.result.seed), "-",
                      PointsSlug(violation.points));
}

// Writes one violation's folder into staging/failures/<FolderName>.
absl::Status WriteViolationFolder(const std::string& staging, const harness::Scenario& scenario,
                                  const harness::ExploreViolation& violation, uint32_t planted_bug, size_t index) {
  harness::RunOptions options;
  options.keep_trace = true;
  options.planted_bug = planted_bug;
  const harness::RunResult result =
      harness::RunWithFaultPoints(scenario, violation.result.seed, options, violation.points);
  if (result.digest != violation.result.digest) {
    absl::FPrintF(stderr, "ktmsim: FATAL: nondeterminism: %s fault points %s gave digest %s, re-run %s\n",
                  scenario.name, harness::FaultPointsText(violation.points),
                  reports::DigestText(violation.result.digest), reports::DigestText(result.digest));
    std::abort();
  }
  reports::FailureFolderOptions folder_options;
  folder_options.ktmsim_binary = SelfPath();
  const std::string scratch = absl::StrCat(staging, "/scratch-", index);
  std::error_code made;
  fs::create_directories(scratch, made);
  if (made) return absl::InternalError(absl::StrCat("cannot create ", scratch, ": ", made.message()));
  if (absl::Status status = reports::WriteFailureFolder(scratch, scenario, result, folder_options); !status.ok()) {
    return status;
  }
  const std::string name = FolderName(scenario, violation);
  const std::string folder = absl::StrCat(staging, "/", name);
  std::error_code error;
  fs::rename(absl::StrCat(scratch, "/", reports::FailureFolderName(scenario.name, result.seed)), folder, error);
  if (error) return absl::InternalError(absl::StrCat("rename into ", folder, ": ", error.message()));
  fs::remove_all(scratch, error);
  // result.json, trace.txt and replay.sh already name the fault points (the run's identity).
  absl::StatusOr<std::string> text = reports::ReadFile(folder + "/result.json");
  if (!text.ok()) return text.status();
  Json json = Json::parse(*text, nullptr, false);
  if (json.is_discarded()) return absl::InternalError(folder + "/result.json does not parse");
  json["folder"] = name;
  json["fault_points"] = harness::FaultPointsText(violation.points);
  absl::Status status = reports::WriteFileAtomically(
      folder + "/result.json", json.dump(2, ' ', false, Json::error_handler_t::replace) + "\n");
  if (status.ok()) status = reports::WriteFileAtomically(folder + "/fault_points.txt", harness::FaultPointsText(violation.points) + "\n");
  return status;
}

Json ExploreJson(const harness::Scenario& scenario, const harness::ExploreResult& result, double seconds,
                 const std::vector<std::string>& folders, uint32_t planted_bug) {
  Json json = Json::object();
  json["scenario"] = scenario.name;
  json["file"] = scenario.file;
  json["seed"] = result.seed;
  json["depth"] = result.depth;
  json["budget"] = result.budget;
  json["planted_bug"] = planted_bug;
  json["frontier"] = result.frontier;
  json["crash_points"] = result.crash_points;
  json["message_points"] = result.message_points;
  json["runs"] = result.runs;
  json["runs_by_depth"] = result.runs_by_depth;
  json["pruned"] = result.pruned;
  json["pruned_by_depth"] = result.pruned_by_depth;
  json["distinct_states"] = result.distinct_states;
  json["budget_exhausted"] = result.budget_exhausted;
  json["target_spec_states"] = result.target_spec_states;
  Json spec = Json::array();
  for (const harness::SpecTarget& t : result.spec_targets) {
    spec.push_back({{"rms", t.rms},
                    {"two_phase_unreached", t.two_phase_unreached},
                    {"two_phase_closed", t.two_phase_closed},
                    {"crash_unreached", t.crash_unreached},
                    {"crash_closed", t.crash_closed}});
  }
  json["spec_states_closed"] = spec;
  json["seconds"] = seconds;
  Json violations = Json::array();
  for (size_t v = 0; v < result.violations.size(); ++v) {
    const harness::ExploreViolation& violation = result.violations[v];
    Json item = Json::object();
    item["fault_points"] = harness::FaultPointsText(violation.points);
    item["run"] = violation.run;
    item["digest"] = reports::DigestText(violation.result.digest);
    Json rules = Json::array();
    for (const harness::Violation& broken : violation.result.violations) {
      rules.push_back({{"rule", broken.rule}, {"tx", broken.tx}, {"message", broken.message}});
    }
    item["violations"] = rules;
    item["replay"] = harness::ReplayCommandLine(violation.result.identity);
    item["folder"] = v < folders.size() ? folders[v] : "";
    violations.push_back(item);
  }
  json["violations"] = violations;
  return json;
}

std::string Table(const harness::Scenario& scenario, const harness::ExploreResult& result, double seconds,
                  const std::vector<std::string>& folders) {
  std::string text = absl::StrFormat("explore %s seed %d depth %d budget %d\n", scenario.name, result.seed,
                                     result.depth, result.budget);
  absl::StrAppend(&text, "fault points of the fault-free run:\n");
  for (const auto& [where, count] : result.frontier) absl::StrAppendFormat(&text, "  %-20s %6d\n", where, count);
  absl::StrAppendFormat(&text, "  = %d crash points, %d datagrams (x3: drop, dup, delay)\n", result.crash_points,
                        result.message_points);
  absl::StrAppendFormat(&text, "%-6s %10s %10s\n", "depth", "runs", "pruned");
  for (size_t d = 0; d < result.runs_by_depth.size(); ++d) {
    absl::StrAppendFormat(&text, "%-6d %10d %10d\n", d, result.runs_by_depth[d], result.pruned_by_depth[d]);
  }
  absl::StrAppendFormat(&text, "runs %d, pruned %d, distinct states %d, violations %d, %.2f s%s\n", result.runs,
                        result.pruned, result.distinct_states, result.violations.size(), seconds,
                        result.budget_exhausted ? " (budget used up: not exhaustive)" : "");
  for (const harness::SpecTarget& t : result.spec_targets) {
    absl::StrAppendFormat(&text,
                          "spec states, %d RMs: closed %d of %d unreached KtmTwoPhase states, %d of %d "
                          "KtmTwoPhaseCrash states%s\n",
                          t.rms, t.two_phase_closed, t.two_phase_unreached, t.crash_closed, t.crash_unreached,
                          result.target_spec_states ? " (targeted)" : "");
  }
  for (size_t v = 0; v < result.violations.size(); ++v) {
    const harness::ExploreViolation& violation = result.violations[v];
    const harness::Violation& first = violation.result.violations.front();
    absl::StrAppendFormat(&text, "violation %d: %s: %s tx=%s: %s%s\n", v + 1,
                          violation.points.empty() ? "(no faults)" : harness::FaultPointsText(violation.points),
                          first.rule, first.tx, first.message,
                          v < folders.size() ? absl::StrCat(" [", folders[v], "]") : "");
  }
  return text;
}

// Stages the failure folders, swaps them into DIR/failures, writes DIR/explore.json.
absl::Status WriteOutputs(const ExploreSettings& settings, const harness::Scenario& scenario,
                          const harness::ExploreResult& result, double seconds, std::vector<std::string>* folders) {
  std::error_code error;
  fs::create_directories(settings.out, error);
  if (error) return absl::InternalError(absl::StrCat("cannot create ", settings.out, ": ", error.message()));
  const std::string staging = absl::StrCat(settings.out, "/.explore.tmp-", ::getpid());
  fs::remove_all(staging, error);
  fs::create_directories(staging + "/failures", error);
  if (error) return absl::InternalError(absl::StrCat("cannot create ", staging, ": ", error.message()));
  absl::Status status;
  for (size_t v = 0; v < result.violations.size() && v < settings.failure_folders_max && status.ok(); ++v) {
    status = WriteViolationFolder(staging, scenario, result.violations[v], settings.options.planted_bug, v);
    folders->push_back(FolderName(scenario, result.violations[v]));
  }
  const fs::path failures = fs::path(settings.out) / "failures";
  const fs::path old = fs::path(staging) / "failures.old";
  if (status.ok() && fs::exists(failures, error)) fs::rename(failures, old, error);
  if (status.ok() && !error) fs::rename(fs::path(staging) / "failures", failures, error);
  if (status.ok() && error) status = absl::InternalError(absl::StrCat("cannot replace ", failures.string(), ": ", error.message()));
  if (status.ok()) {
    const Json json = ExploreJson(scenario, result, seconds, *folders, settings.options.planted_bug);
    status = reports::WriteFileAtomically(settings.out + "/explore.json",
                                          json.dump(2, ' ', false, Json::error_handler_t::replace) + "\n");
  }
  fs::remove_all(staging, error);
  return status;
}

}  // namespace

int ExploreMain(const ParsedArgs& args) {
  absl::StatusOr<ExploreSettings> settings = ReadExploreFlags(args);
  if (!settings.ok()) return UsageError("explore", std::string(settings.status().message()));
  const ScenarioSet set = LoadScenarios({settings->file});
  if (!set.errors.empty()) {
    for (const std::string& line : set.errors) absl::FPrintF(stderr, "%s\n", line);
    return kExitBadInput;
  }
  const harness::Scenario& scenario = set.scenarios.front();
  if (absl::Status status = harness::CheckExplorable(scenario); !status.ok()) {
    return UsageError("explore", std::string(status.message()));
  }
  ExploreProgressPrinter printer(settings->quiet);
  settings->options.progress = [&printer](const harness::ExploreProgress& p) { printer.Update(p); };
  if (!settings->quiet) {
    absl::FPrintF(stderr, "explore: %s seed %d depth %d budget %d\n", scenario.name, settings->options.seed,
                  settings->options.depth, settings->options.budget);
  }
  const harness::ExploreResult result = harness::Explore(scenario, settings->options);
  const double seconds = printer.Seconds();
  if (!settings->quiet) {
    absl::FPrintF(stderr, "explore: done: %d runs (%d pruned), %d distinct states, %d violations in %.2f s%s\n",
                  result.runs, result.pruned, result.distinct_states, result.violations.size(), seconds,
                  result.budget_exhausted ? "; budget used up" : "");
  }
  std::vector<std::string> folders;
  if (absl::Status status = WriteOutputs(*settings, scenario, result, seconds, &folders); !status.ok()) {
    absl::FPrintF(stderr, "ktmsim explore: cannot write the report: %s\n", status.message());
    return kExitBadInput;
  }
  absl::PrintF("%s", Table(scenario, result, seconds, folders));
  absl::PrintF("report: %s/explore.json (%d failure folders)\n", settings->out, folders.size());
  return result.violations.empty() ? kExitPass : kExitFail;
}

}  // namespace cli
