// `ktmsim shrink FAILURE_DIR [--budget N] [--planted-bug N]`: shrinks the
// failed run of a failure folder (harness/shrink.h) and writes the minimal
// run into FAILURE_DIR/shrunk/ (scenario.toml, schedule.txt, replay.sh, the
// trace outputs), adds the figures to FAILURE_DIR/result.json ("shrink")
// and, when the folder sits in a report directory, rewrites its index.html.
//
// The folder says what to run: scenario.toml (the scenario as run; else the
// file named in result.json), the seed and planted bug from result.json
// (--planted-bug overrides), and the rule to keep failing: that of the
// first violation in result.json. Exit 0 when the shrunk run was written,
// 1 when the failure does not reproduce (nothing written), 2 on bad input.
#include <cstdio>
#include <filesystem>
#include <system_error>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/scenario_set.h"
#include "harness/shrink.h"
#include "reports/atomic_file.h"
#include "reports/failure.h"
#include "reports/index_html.h"
#include "reports/summary.h"

namespace cli {
namespace {

namespace fs = std::filesystem;

// Limit: simulations one shrink may spend.
constexpr int32_t kBudgetMax = 1'000'000;

struct FailureFolder {
  std::string dir;            // as given, without trailing '/'
  std::string display;        // "failures/<name>" inside a report directory, else dir
  std::string report_dir;     // the report directory holding it, "" when none
  reports::Json result;       // result.json
  std::string scenario_file;  // scenario.toml, or result.json's "file"
  std::string rule;
  uint64_t seed = 0;
  harness::RunOptions options;  // the run's identity as its replay command says (result.json "replay")
  std::string fault_points;
};

absl::StatusOr<FailureFolder> ReadFailureFolder(std::string dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  FailureFolder folder;
  folder.dir = dir;
  absl::StatusOr<std::string> text = reports::ReadFile(dir + "/result.json");
  if (!text.ok()) return absl::InvalidArgumentError(absl::StrCat(dir, "/result.json: ", text.status().message()));
  folder.result = reports::Json::parse(*text, nullptr, /*allow_exceptions=*/false);
  const reports::Json& r = folder.result;
  if (r.is_discarded() || !r.is_object() || !r.contains("seed") || !r["seed"].is_number_unsigned() ||
      !r.contains("violations") || !r["violations"].is_array()) {
    return absl::InvalidArgumentError(absl::StrCat(dir, "/result.json: not a ktmsim failure result"));
  }
  if (r["violations"].empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(dir, ": the run has no violation to keep failing (it misses an expected one)"));
  }
  folder.seed = r["seed"].get<uint64_t>();
  folder.rule = r["violations"][0].value("rule", std::string());
  folder.options.planted_bug = r.value("planted_bug", 0u);
  if (r.contains("replay") && r["replay"].is_string()) {
    absl::StatusOr<harness::RunIdentity> identity = harness::ParseReplayCommandLine(r["replay"].get<std::string>());
    if (!identity.ok()) return absl::InvalidArgumentError(absl::StrCat(dir, "/result.json: ", identity.status().message()));
    folder.options.planted_bug = identity->planted_bug;
    folder.options.strategy = identity->strategy;
    folder.options.pct_depth = identity->pct_depth;
    folder.fault_points = identity->fault_points;
  }
  std::error_code error;
  folder.scenario_file = fs::exists(dir + "/scenario.toml", error) ? dir + "/scenario.toml" : r.value("file", std::string());
  const fs::path path(dir);
  const fs::path parent = path.parent_path();
  if (parent.filename() == "failures") {
    folder.display = "failures/" + path.filename().string();
    const fs::path report = parent.parent_path();
    folder.report_dir = report.empty() ? "." : report.string();
  } else {
    folder.display = dir;
  }
  return folder;
}

// Adds the figures to result.json and, inside a report directory, rewrites index.html.
absl::Status UpdateReport(FailureFolder& folder, const harness::ShrinkResult& shrink, int budget) {
  folder.result["shrink"] = reports::ShrinkJson(shrink, budget, folder.display + "/shrunk");
  absl::Status status = reports::WriteFileAtomically(
      folder.dir + "/result.json",
      folder.result.dump(2, ' ', false, reports::Json::error_handler_t::replace) + "\n");
  if (!status.ok() || folder.report_dir.empty()) return status;
  absl::StatusOr<std::string> text = reports::ReadFile(folder.report_dir + "/summary.json");
  if (!text.ok()) return absl::OkStatus();  // a failure folder copied out of its report
  absl::StatusOr<reports::Json> summary = reports::ParseSummary(*text);
  if (!summary.ok()) return absl::OkStatus();
  return reports::WriteIndexHtml(folder.report_dir, *summary);
}

void PrintFigures(const FailureFolder& folder, const harness::ShrinkResult& shrink) {
  absl::PrintF("shrunk %s (%s still fails) in %d runs%s%s:\n", folder.dir, shrink.rule, shrink.runs,
               shrink.budget_exhausted ? " (budget used up)" : "",
               shrink.died > 0 ? absl::StrCat("; ", shrink.died, " candidates died on an engine assertion") : "");
  absl::PrintF("%s", reports::ShrinkFiguresText(shrink));
  for (const std::string& step : shrink.steps) absl::PrintF("  step: %s\n", step);
  absl::PrintF("minimal scenario: %s/shrunk/scenario.toml\n", folder.dir);
  absl::PrintF("replay: %s\n", reports::ShrunkReplayCommand(folder.dir + "/shrunk", shrink));
}

}  // namespace

int ShrinkMain(const ParsedArgs& args) {
  if (args.positional.size() != 1) return UsageError("shrink", "expected exactly one failure folder");
  const int32_t budget = absl::GetFlag(FLAGS_budget);
  if (budget < 2 || budget > kBudgetMax) {
    return UsageError("shrink", absl::StrCat("bad --budget ", budget, ": need 2 <= runs <= ", kBudgetMax));
  }
  absl::StatusOr<FailureFolder> folder = ReadFailureFolder(args.positional[0]);
  if (!folder.ok()) {
    absl::FPrintF(stderr, "ktmsim shrink: %s\n", folder.status().message());
    return kExitBadInput;
  }
  folder->options.keep_trace = true;
  ScenarioSet set = LoadScenarios({folder->scenario_file});
  if (!set.errors.empty()) {
    for (const std::string& line : set.errors) absl::FPrintF(stderr, "%s\n", line);
    return kExitBadInput;
  }
  if (absl::Status status = ApplyRunFlags(args, set.scenarios.front(), &folder->options, &folder->fault_points);
      !status.ok()) {
    return UsageError("shrink", std::string(status.message()));
  }
  if (!folder->fault_points.empty()) {
    absl::FPrintF(stderr,
                  "ktmsim shrink: %s: the run's faults are explore's fault points (%s), which the shrinker "
                  "cannot reduce; shrink with --schedule %s/schedule.txt to start from the faults it injected\n",
                  folder->dir, folder->fault_points, folder->dir);
    return kExitBadInput;
  }
  const harness::ShrinkResult shrink =
      harness::Shrink(set.scenarios.front(), folder->seed, folder->options, folder->rule, budget);
  if (!shrink.ok) {
    absl::FPrintF(stderr, "ktmsim shrink: %s: %s\n", folder->dir, shrink.error);
    return kExitFail;
  }
  reports::FailureFolderOptions folder_options;
  folder_options.ktmsim_binary = SelfPath();
  absl::Status status = reports::WriteShrunkFolder(folder->dir, folder->display, shrink, budget, folder_options);
  if (status.ok()) status = UpdateReport(*folder, shrink, budget);
  if (!status.ok()) {
    absl::FPrintF(stderr, "ktmsim shrink: cannot write %s/shrunk: %s\n", folder->dir, status.message());
    return kExitBadInput;
  }
  PrintFigures(*folder, shrink);
  return kExitPass;
}

}  // namespace cli
