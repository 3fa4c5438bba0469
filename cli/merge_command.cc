// `ktmsim merge DIR... --out DIR`: one report from the reports of shards.
// Each input is a report directory (or its summary.json). Their summaries
// are validated and merged (reports::MergeSummaries: a (scenario, seed) in
// two inputs is an error), junit.xml and index.html are regenerated from the
// merged summary and the failure folders it names are copied (shrunk/ and
// pictures included), with shrink.json recomputed from the shards' records of
// those failures; the output directory is staged and
// committed like `ktmsim run`'s. Exit 2 on any bad or missing input, else
// 1 when the merged report has a failed run, else 0.
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/flags/flag.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/output_dir.h"
#include "cli/shrink_figures.h"
#include "reports/atomic_file.h"
#include "reports/coverage_json.h"
#include "reports/report_files.h"
#include "reports/summary.h"

namespace cli {
namespace {

namespace fs = std::filesystem;

struct MergeInput {
  std::string dir;           // holds failures/
  std::string summary_path;  // DIR/summary.json
  reports::Json summary;
};

absl::StatusOr<MergeInput> ReadInput(const std::string& argument) {
  MergeInput input;
  std::error_code error;
  if (fs::is_directory(argument, error)) {
    input.dir = argument;
    input.summary_path = (fs::path(argument) / "summary.json").string();
  } else {
    input.summary_path = argument;
    const fs::path parent = fs::path(argument).parent_path();
    input.dir = (parent.empty() ? fs::path(".") : parent).string();
  }
  absl::StatusOr<std::string> text = reports::ReadFile(input.summary_path);
  if (!text.ok()) return text.status();
  absl::StatusOr<reports::Json> summary = reports::ParseSummary(*text);
  if (!summary.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(input.summary_path, ": ", summary.status().message()));
  }
  input.summary = *std::move(summary);
  return input;
}

// Copies the failure folders the merged summary names, each from the input
// that reported it (the smallest failing seeds of the union are among the
// smallest of their own shard, so some input has every one).
absl::Status CopyFailureFolders(const std::vector<MergeInput>& inputs, const reports::Json& merged,
                                const std::string& report_dir) {
  std::map<std::pair<std::string, uint64_t>, const MergeInput*> source;
  for (const MergeInput& input : inputs) {
    for (const reports::Json& scenario : input.summary["scenarios"]) {
      for (const reports::Json& failure : scenario["failures"]) {
        if (failure["folder"] == "") continue;
        source[{scenario["name"].get<std::string>(), failure["seed"].get<uint64_t>()}] = &input;
      }
    }
  }
  for (const reports::Json& scenario : merged["scenarios"]) {
    for (const reports::Json& failure : scenario["failures"]) {
      const std::string folder = failure["folder"].get<std::string>();
      if (folder.empty()) continue;
      auto it = source.find({scenario["name"].get<std::string>(), failure["seed"].get<uint64_t>()});
      if (it == source.end()) {
        return absl::NotFoundError(absl::StrCat("no input has ", folder));
      }
      const fs::path from = fs::path(it->second->dir) / folder;
      std::error_code error;
      if (!fs::is_directory(from, error)) {
        return absl::NotFoundError(absl::StrCat(from.string(), ": missing failure folder (named by ",
                                                it->second->summary_path, ")"));
      }
      fs::copy(from, fs::path(report_dir) / folder, fs::copy_options::recursive, error);
      if (error) {
        return absl::InternalError(absl::StrCat("copy ", from.string(), ": ", error.message()));
      }
    }
  }
  return absl::OkStatus();
}

// The shards' shrink.json records of the failures that have a folder in the
// merged report, as one shrink.json (cli/shrink_figures.h); nothing when no
// input has one. The budget is part of the invocation the shards agree on.
absl::Status WriteMergedShrinkFigures(const std::vector<MergeInput>& inputs, const reports::Json& merged,
                                      const std::string& report_dir) {
  std::set<std::pair<std::string, uint64_t>> folders;
  for (const reports::Json& scenario : merged["scenarios"]) {
    for (const reports::Json& failure : scenario["failures"]) {
      if (failure["folder"] != "") folders.insert({scenario["name"].get<std::string>(), failure["seed"].get<uint64_t>()});
    }
  }
  std::vector<ShrinkRecord> records;
  std::optional<int> budget;
  for (const MergeInput& input : inputs) {
    const std::string path = (fs::path(input.dir) / reports::kShrinkFile).string();
    std::error_code error;
    if (!fs::exists(path, error)) continue;
    absl::StatusOr<std::string> text = reports::ReadFile(path);
    if (!text.ok()) return text.status();
    const reports::Json json = reports::Json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded()) return absl::InvalidArgumentError(absl::StrCat(path, ": not valid JSON"));
    if (!json.contains("budget") || !json["budget"].is_number_integer()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": 'budget' must be an integer"));
    }
    if (budget && *budget != json["budget"].get<int>()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": shrink budget ", json["budget"].get<int>(),
                                                     ", another input's is ", *budget));
    }
    budget = json["budget"].get<int>();
    absl::StatusOr<std::vector<ShrinkRecord>> shard = ShrinkRecordsFromJson(json, path);
    if (!shard.ok()) return shard.status();
    for (ShrinkRecord& record : *shard) {
      if (folders.count({record.scenario, record.seed}) != 0) records.push_back(std::move(record));
    }
  }
  if (!budget) return absl::OkStatus();
  return reports::WriteFileAtomically((fs::path(report_dir) / reports::kShrinkFile).string(),
                                      ShrinkFiguresJson(*budget, std::move(records)).dump(2) + "\n");
}

absl::Status WriteMerged(const std::vector<MergeInput>& inputs, const reports::Json& merged,
                         ReportDirectory& directory) {
  if (absl::Status status = CopyFailureFolders(inputs, merged, directory.staging());
      !status.ok()) {
    return status;
  }
  if (absl::Status status = WriteMergedShrinkFigures(inputs, merged, directory.staging()); !status.ok()) {
    return status;
  }
  absl::Status status = reports::WriteReportFiles(directory.staging(), merged);
  return status.ok() ? directory.Commit() : status;
}

}  // namespace

int MergeMain(const ParsedArgs& args) {
  if (args.positional.empty()) return UsageError("merge", "name the report directories to merge");
  if (args.specified.count("out") == 0) return UsageError("merge", "--out is required");
  absl::StatusOr<std::string> out = NormalizeOutDir(absl::GetFlag(FLAGS_out));
  if (!out.ok()) return UsageError("merge", std::string(out.status().message()));
  std::vector<MergeInput> inputs;
  std::vector<reports::Json> summaries;
  for (const std::string& argument : args.positional) {
    absl::StatusOr<MergeInput> input = ReadInput(argument);
    if (!input.ok()) {
      absl::FPrintF(stderr, "ktmsim merge: %s\n", input.status().message());
      return kExitBadInput;
    }
    summaries.push_back(input->summary);
    inputs.push_back(*std::move(input));
  }
  absl::StatusOr<reports::Json> merged = reports::MergeSummaries(summaries);
  if (!merged.ok()) {
    absl::FPrintF(stderr, "ktmsim merge: %s\n", merged.status().message());
    return kExitBadInput;
  }
  // The shards' invocation (version and options, cli/run_command.cc) must agree.
  for (size_t i = 0; i < summaries.size(); ++i) {
    if (summaries[i].value("ktmsim", reports::Json()) != summaries[0].value("ktmsim", reports::Json())) {
      absl::FPrintF(stderr, "ktmsim merge: %s was written by another ktmsim version or with other options than %s\n",
                    inputs[i].summary_path, inputs[0].summary_path);
      return kExitBadInput;
    }
    if (summaries[i].value("interrupted", false)) (*merged)["interrupted"] = true;
  }
  if (summaries[0].contains("ktmsim")) (*merged)["ktmsim"] = summaries[0]["ktmsim"];
  absl::StatusOr<ReportDirectory> directory = ReportDirectory::Create(*out);
  absl::Status status = directory.ok() ? WriteMerged(inputs, *merged, *directory) : directory.status();
  if (!status.ok()) {
    if (directory.ok()) directory->Abandon();
    absl::FPrintF(stderr, "ktmsim merge: %s\n", status.message());
    return kExitBadInput;
  }
  const uint64_t failed = (*merged)["totals"]["failed"].get<uint64_t>();
  absl::PrintF("%s", reports::SummaryTable(*merged));
  PrintReportLocation(*out, (*merged)["totals"]["failure_folders"].get<uint64_t>());
  return failed == 0 ? kExitPass : kExitFail;
}

}  // namespace cli
