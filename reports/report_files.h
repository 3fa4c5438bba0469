// The files of a report directory (`ktmsim run`, `ktmsim merge`), in one
// list: what they are, how each is written from the summary, and the order in
// which cli/output_dir.cc moves them into place. Adding a report file is one
// entry here (docs/cli.md lists them for users).
//
// Contract: WriteReportFiles writes every file of the list into `dir` (each
// atomically, reports/atomic_file.h), summary.json last; the failure folders
// (kFailuresDir) are written before by the caller. kCommitOrder is the list
// in commit order: failures/ first and summary.json last, so a reader that
// sees the new summary also sees its failures.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "nlohmann/json.hpp"

namespace reports {

inline constexpr char kFailuresDir[] = "failures";
// Written by the caller, not from the summary: `ktmsim run` when it shrinks,
// `ktmsim merge` when a shard has one (cli/shrink_figures.h).
inline constexpr char kShrinkFile[] = "shrink.json";

struct ReportFile {
  const char* name;         // relative to the report directory
  const char* description;  // one line for docs and --help
  // Writes the file into `dir` from the summary (and, for index.html, the
  // failure folders' result.json files already in `dir`).
  absl::Status (*write)(const std::string& dir, const nlohmann::ordered_json& summary);
};

// The files, summary.json last.
const std::vector<ReportFile>& ReportFiles();

// failures/, shrink.json, then every ReportFiles() name: the order a commit
// moves them in.
std::vector<std::string> CommitOrder();

// Writes every file of ReportFiles() into `dir`, in order; the first error.
absl::Status WriteReportFiles(const std::string& dir, const nlohmann::ordered_json& summary);

}  // namespace reports
