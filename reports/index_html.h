// index.html of a report directory: one page linking every failure with its
// pictures, its replay command and the shrinker's figures, after a summary
// table (per scenario: seeds run, passed, failed, committed, aborted,
// unresolved, faults) and the coverage table (states x fault kinds, code
// probes; reports/coverage_json.h) when the summary has one.
//
// Contract: IndexHtml is a pure function of the summary and the failure
// folders' result.json values (keyed by folder, "failures/<scenario>-<seed>");
// every text is HTML-escaped and every link relative to the report
// directory, so the directory can be moved or served as it is. A failure
// beyond the folder limit is listed with its replay command only.
// WriteIndexHtml reads those result.json files from `report_dir` (a folder
// without one is listed as such) and writes index.html atomically.
#pragma once

#include <map>
#include <string>

#include "absl/status/status.h"
#include "nlohmann/json.hpp"

namespace reports {

std::string IndexHtml(const nlohmann::ordered_json& summary,
                      const std::map<std::string, nlohmann::ordered_json>& results_by_folder);

absl::Status WriteIndexHtml(const std::string& report_dir, const nlohmann::ordered_json& summary);

}  // namespace reports
