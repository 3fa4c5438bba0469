// `ktmsim promote FAILURE_DIR [--name N] [--out DIR]`: turns a failure
// folder into a regression scenario. The scenario is the folder's shrunk
// run when it has one (shrunk/scenario.toml and its seed), else the folder's
// scenario.toml; it is renamed, pinned to the failing seed (`seeds = [S]`)
// and written to DIR/<name>.toml (default scenarios/regressions, which the
// default `ktmsim run` runs). The scenario's own overrides (strategy, PCT
// depth) are in it; a planted bug is not (it is a test-only switch): the
// regression fails while the bug is in the engine and passes once it is fixed.
// Exit 0 when written, 2 on bad input or when DIR/<name>.toml exists.
#include <cstdio>
#include <filesystem>
#include <system_error>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/scenario_set.h"
#include "harness/run_identity.h"
#include "harness/scenario_toml.h"
#include "harness/scenario_toml_writer.h"
#include "reports/atomic_file.h"
#include "reports/summary.h"

ABSL_FLAG(std::string, name, "", "promote: the regression scenario's name (default: <scenario>-seed<S>)");

namespace cli {
namespace {

namespace fs = std::filesystem;

// The folder to promote from: FAILURE_DIR/shrunk when it has a result, else FAILURE_DIR.
absl::StatusOr<std::string> SourceFolder(std::string dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  std::error_code error;
  if (!fs::is_directory(dir, error)) return absl::InvalidArgumentError(absl::StrCat(dir, ": not a failure folder"));
  if (fs::exists(dir + "/shrunk/result.json", error)) return dir + "/shrunk";
  if (!fs::exists(dir + "/result.json", error)) {
    return absl::InvalidArgumentError(absl::StrCat(dir, ": no result.json: not a failure folder"));
  }
  return dir;
}

bool SafeName(const std::string& name) {
  if (name.empty() || name[0] == '.') return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') return false;
  }
  return true;
}

}  // namespace

int PromoteMain(const ParsedArgs& args) {
  if (args.positional.size() != 1) return UsageError("promote", "expected exactly one failure folder");
  absl::StatusOr<std::string> folder = SourceFolder(args.positional[0]);
  if (!folder.ok()) return UsageError("promote", std::string(folder.status().message()));
  absl::StatusOr<std::string> text = reports::ReadFile(*folder + "/result.json");
  if (!text.ok()) return UsageError("promote", std::string(text.status().message()));
  const reports::Json result = reports::Json::parse(*text, nullptr, false);
  if (result.is_discarded() || !result.contains("replay") || !result["replay"].is_string()) {
    return UsageError("promote", absl::StrCat(*folder, "/result.json: not a ktmsim failure result"));
  }
  absl::StatusOr<harness::RunIdentity> identity = harness::ParseReplayCommandLine(result["replay"].get<std::string>());
  if (!identity.ok()) return UsageError("promote", std::string(identity.status().message()));
  ScenarioSet set = LoadScenarios({*folder + "/scenario.toml"});
  if (!set.errors.empty()) {
    for (const std::string& line : set.errors) absl::FPrintF(stderr, "%s\n", line);
    return kExitBadInput;
  }
  harness::Scenario scenario = set.scenarios.front();
  // A shrunk run's schedule is inline in its scenario (fault mode
  // "schedule") unless it has targeted crashes: then, and for explore's fault
  // points, the scenario file alone does not make the run.
  const bool inline_schedule = scenario.faults.mode == harness::FaultMode::kSchedule;
  if (!identity->fault_points.empty() || (!identity->schedule_file.empty() && !inline_schedule)) {
    return UsageError("promote", absl::StrCat(*folder, ": the run's faults come from ",
                                              identity->fault_points.empty() ? "--schedule" : "--fault-points",
                                              ", which a scenario file cannot pin yet"));
  }
  harness::ApplyScheduleOverrides(*identity, &scenario);
  const std::string source_name = result.value("scenario", scenario.name);
  const std::string name = args.specified.count("name") != 0 ? absl::GetFlag(FLAGS_name)
                                                             : absl::StrCat(source_name, "-seed", identity->seed);
  if (!SafeName(name)) return UsageError("promote", absl::StrCat("bad --name '", name, "': use [A-Za-z0-9._-]"));
  const std::string dir = args.specified.count("out") != 0 ? absl::GetFlag(FLAGS_out) : kRegressionsDir;
  const std::string file = absl::StrCat(dir, "/", name, ".toml");
  std::error_code error;
  if (fs::exists(file, error)) return UsageError("promote", absl::StrCat(file, " exists; choose another --name"));
  fs::create_directories(dir, error);
  if (error) return UsageError("promote", absl::StrCat("cannot create ", dir, ": ", error.message()));
  scenario.name = name;
  scenario.seeds = {identity->seed};
  const std::string rules = result.contains("violations") && !result["violations"].empty()
                                ? result["violations"][0].value("rule", std::string("?"))
                                : std::string("(none)");
  scenario.description = absl::StrCat("Regression: ", source_name, " seed ", identity->seed, " failed ", rules,
                                      identity->planted_bug != 0
                                          ? absl::StrCat(" with planted bug ", identity->planted_bug)
                                          : std::string(),
                                      ". From ", *folder, ".");
  const std::string toml = harness::ScenarioToToml(
      scenario, absl::StrCat("Promoted by ktmsim promote from ", *folder, "; was: ", result["replay"].get<std::string>()));
  if (absl::Status status = reports::WriteFileAtomically(file, toml); !status.ok()) {
    absl::FPrintF(stderr, "ktmsim promote: %s\n", status.message());
    return kExitBadInput;
  }
  absl::PrintF("promoted %s to %s (seed %d)\nrun it: ktmsim run %s\n", *folder, file, identity->seed,
               harness::ShellQuote(dir));
  return kExitPass;
}

}  // namespace cli
