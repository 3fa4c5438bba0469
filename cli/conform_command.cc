// ktmsim conform --plugin PATH --kind K [--rm-option KEY=VALUE,...] [--out DIR]:
// the RM conformance kit (harness/conform.h, docs/writing-an-rm.md). Runs
// the battery, prints a verdict per rule of the RM contract (each failing
// rule with its failure folders and replay commands), and writes DIR
// (default ktmsim-conform): conform.json, junit.xml and failures/<rule>-<n>/
// (a failure folder as `ktmsim run` writes one; replay.sh and the replay
// command carry --plugin from the run's identity). DIR is built aside and
// moved into place at the end; an existing DIR is replaced only when it is
// an earlier conform report (it has conform.json).
// Exit 0 when every rule passed, 1 when one failed, 2 on bad input.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <system_error>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "harness/conform.h"
#include "harness/rm_kinds.h"
#include "harness/run_identity.h"
#include "nlohmann/json.hpp"
#include "reports/atomic_file.h"
#include "reports/failure.h"

namespace cli {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;
using Index = std::pair<size_t, size_t>;  // (rule, failure)

absl::StatusOr<std::map<std::string, std::string>> RmOptions() {
  std::map<std::string, std::string> options;
  for (const std::string& item : absl::GetFlag(FLAGS_rm_option)) {
    if (item.empty()) continue;
    const std::vector<std::string> parts = absl::StrSplit(item, absl::MaxSplits('=', 1));
    if (parts.size() != 2 || parts[0].empty()) {
      return absl::InvalidArgumentError(absl::StrCat("--rm-option: expected KEY=VALUE, got '", item, "'"));
    }
    options[parts[0]] = parts[1];
  }
  return options;
}

// Re-runs one kept failure with its trace and writes its folder to
// staging/failures/<name>; returns the replay command, as the reader names the folder.
absl::StatusOr<std::string> WriteFolder(const std::string& staging, const std::string& name,
                                        const harness::ConformFailure& failure) {
  harness::RunOptions options;
  options.keep_trace = true;
  options.rm_contract = true;  // its replay command says --rm-contract
  harness::RunResult result = failure.points.empty()
                                  ? harness::RunScenario(failure.scenario, failure.seed, options)
                                  : harness::RunWithFaultPoints(failure.scenario, failure.seed, options, failure.points);
  result = harness::JudgeRmContract(failure.scenario, std::move(result));
  const std::string scratch = absl::StrCat(staging, "/scratch");
  std::error_code error;
  fs::create_directories(scratch, error);
  if (error) return absl::InternalError(absl::StrCat("cannot create ", scratch, ": ", error.message()));
  reports::FailureFolderOptions folder_options;
  folder_options.ktmsim_binary = SelfPath();
  if (absl::Status s = reports::WriteFailureFolder(scratch, failure.scenario, result, folder_options); !s.ok()) return s;
  const std::string folder = absl::StrCat(staging, "/failures/", name);
  fs::create_directories(staging + "/failures", error);
  fs::rename(absl::StrCat(scratch, "/", reports::FailureFolderName(failure.scenario.name, result.seed)), folder, error);
  if (error) return absl::InternalError(absl::StrCat("rename into ", folder, ": ", error.message()));
  fs::remove_all(scratch, error);
  return harness::ReplayCommandLine(reports::FolderIdentity(result, absl::StrCat("failures/", name)));
}

Json ConformJson(const harness::ConformResult& result, const std::map<Index, std::string>& replays,
                 const std::map<Index, std::string>& folders) {
  Json json = Json::object();
  json["kind"] = result.kind;
  json["options"] = result.options;
  json["plugins"] = harness::LoadedPlugins();
  json["passed"] = result.passed();
  json["runs"] = result.runs;
  Json cases = Json::array();
  for (const harness::ConformCaseStats& c : result.cases) {
    cases.push_back({{"name", c.name},
                     {"purpose", c.purpose},
                     {"runs", c.runs},
                     {"runs_failed", c.runs_failed},
                     {"runs_asserted", c.runs_asserted}});
  }
  json["cases"] = cases;
  Json rules = Json::array();
  for (size_t r = 0; r < result.rules.size(); ++r) {
    const harness::ConformRuleVerdict& verdict = result.rules[r];
    Json failures = Json::array();
    for (size_t f = 0; f < verdict.failures.size(); ++f) {
      const harness::ConformFailure& failure = verdict.failures[f];
      failures.push_back({{"case", failure.case_name},
                          {"seed", failure.seed},
                          {"fault_points", harness::FaultPointsText(failure.points)},
                          {"tx", failure.finding.tx},
                          {"rm", failure.finding.rm},
                          {"message", failure.finding.message},
                          {"folder", folders.count({r, f}) ? folders.at({r, f}) : ""},
                          {"replay", replays.count({r, f}) ? replays.at({r, f}) : ""}});
    }
    rules.push_back({{"rule", verdict.info.name},
                     {"title", verdict.info.title},
                     {"passed", verdict.passed()},
                     {"runs_failed", verdict.runs_failed},
                     {"failures", failures}});
  }
  json["rules"] = rules;
  Json asserted = Json::array();
  for (const harness::ConformFailure& failure : result.asserted) {
    asserted.push_back({{"case", failure.case_name},
                        {"seed", failure.seed},
                        {"fault_points", harness::FaultPointsText(failure.points)},
                        {"message", failure.result.violations.front().message},
                        {"replay", harness::ReplayCommandLine(failure.result.identity)}});
  }
  json["asserted"] = asserted;
  return json;
}

void PrintVerdicts(const harness::ConformResult& result, const std::map<Index, std::string>& replays,
                   const std::map<Index, std::string>& folders, const std::string& dir) {
  absl::PrintF("conform %s: %d runs in %d cases\n", result.kind, result.runs, result.cases.size());
  for (size_t r = 0; r < result.rules.size(); ++r) {
    const harness::ConformRuleVerdict& verdict = result.rules[r];
    absl::PrintF("%-4s %-22s %s%s\n", verdict.passed() ? "PASS" : "FAIL", verdict.info.name, verdict.info.title,
                 verdict.passed() ? "" : absl::StrCat(" (", verdict.runs_failed, " failing runs)"));
    for (size_t f = 0; f < verdict.failures.size(); ++f) {
      absl::PrintF("       %s\n", verdict.failures[f].finding.message);
      if (folders.count({r, f})) absl::PrintF("       folder: %s/%s\n", dir, folders.at({r, f}));
      if (replays.count({r, f})) absl::PrintF("       replay (in %s): %s\n", dir, replays.at({r, f}));
    }
  }
  for (const harness::ConformFailure& failure : result.asserted) {
    absl::PrintF("FAIL a broken invariant ended %s seed %d %s: %s\n       replay: %s\n", failure.case_name,
                 failure.seed, harness::FaultPointsText(failure.points), failure.result.violations.front().message,
                 harness::ReplayCommandLine(failure.result.identity));
  }
  absl::PrintF("%s: %s/conform.json, %s/junit.xml\n", result.passed() ? "PASSED" : "FAILED", dir, dir);
}

// Moves staging into place as `dir` (replacing an earlier conform report).
absl::Status Commit(const std::string& staging, const std::string& dir) {
  std::error_code error;
  if (fs::exists(dir, error)) {
    fs::remove_all(dir, error);
    if (error) return absl::InternalError(absl::StrCat("cannot remove the old ", dir, ": ", error.message()));
  }
  fs::rename(staging, dir, error);
  if (error) return absl::InternalError(absl::StrCat("cannot move ", staging, " to ", dir, ": ", error.message()));
  return absl::OkStatus();
}

}  // namespace

int ConformMain(const ParsedArgs& args) {
  if (!args.positional.empty()) return UsageError("conform", "takes no positional arguments");
  const std::string kind = absl::GetFlag(FLAGS_kind);
  if (kind.empty()) return UsageError("conform", "--kind is required (the RM kind a --plugin registers)");
  absl::StatusOr<std::map<std::string, std::string>> options = RmOptions();
  if (!options.ok()) return UsageError("conform", std::string(options.status().message()));
  const harness::RmKindInfo* info = harness::FindRmKind(kind);
  if (info == nullptr) {
    return UsageError("conform", absl::StrCat("unknown RM kind '", kind, "' (known: ",
                                              absl::StrJoin(harness::RmKindNames(), ", "),
                                              "; a --plugin registers more)"));
  }
  for (const auto& [key, value] : *options) {
    if (!info->check_option) break;
    if (absl::Status s = info->check_option(key, value); !s.ok()) {
      return UsageError("conform", absl::StrCat("--rm-option ", key, "=", value, ": ", s.message()));
    }
  }
  std::string dir = args.specified.count("out") ? absl::GetFlag(FLAGS_out) : "ktmsim-conform";
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  std::error_code error;
  if (fs::exists(dir, error) && !fs::exists(dir + "/conform.json", error)) {
    return UsageError("conform", absl::StrCat("--out ", dir, " exists and is not a conform report (no conform.json)"));
  }
  const bool quiet = absl::GetFlag(FLAGS_quiet);
  absl::StatusOr<harness::ConformResult> result = harness::RunConform(
      kind, *options, [quiet](size_t done, size_t total, const harness::ConformCaseStats& stats) {
        if (quiet) return;
        absl::FPrintF(stderr, "conform: [%d/%d] %s: %d runs, %d failing%s\n", done, total, stats.name, stats.runs,
                      stats.runs_failed,
                      stats.runs_asserted == 0 ? "" : absl::StrCat(", ", stats.runs_asserted, " ended by an assertion"));
      });
  if (!result.ok()) {
    absl::FPrintF(stderr, "%s\n", result.status().message());
    return kExitBadInput;
  }
  const std::string staging = absl::StrCat(dir, ".tmp-", ::getpid());
  fs::remove_all(staging, error);
  fs::create_directories(staging + "/failures", error);
  if (error) {
    absl::FPrintF(stderr, "ktmsim conform: cannot create %s: %s\n", staging, error.message());
    return kExitBadInput;
  }
  std::map<Index, std::string> replays, folders;
  absl::Status status;
  for (size_t r = 0; r < result->rules.size() && status.ok(); ++r) {
    const harness::ConformRuleVerdict& verdict = result->rules[r];
    for (size_t f = 0; f < verdict.failures.size() && status.ok(); ++f) {
      const std::string name = absl::StrCat(std::string(verdict.info.name), "-", f + 1);
      absl::StatusOr<std::string> replay = WriteFolder(staging, name, verdict.failures[f]);
      if (!replay.ok()) {
        status = replay.status();
        break;
      }
      replays[{r, f}] = *replay;
      folders[{r, f}] = absl::StrCat("failures/", name);
    }
  }
  if (status.ok()) {
    status = reports::WriteFileAtomically(staging + "/junit.xml", harness::ConformJunitXml(*result, replays, folders));
  }
  if (status.ok()) {
    status = reports::WriteFileAtomically(staging + "/conform.json",
                                          ConformJson(*result, replays, folders).dump(2) + "\n");
  }
  if (status.ok()) status = Commit(staging, dir);
  if (!status.ok()) {
    fs::remove_all(staging, error);
    absl::FPrintF(stderr, "ktmsim conform: %s\n", status.message());
    return kExitBadInput;
  }
  PrintVerdicts(*result, replays, folders, dir);
  return result->passed() ? kExitPass : kExitFail;
}

}  // namespace cli
