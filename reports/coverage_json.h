// Coverage in reports: the "coverage" value of summary.json, coverage.json
// and the coverage table of index.html (docs/coverage.md).
//
// JSON form (arrays of scalars, so summary.json keeps one line per row):
//   { "columns": ["transitions", "none", "crash", ...],
//     "states": [ ["en Committed", transitions, none, crash, ...], ... ],
//     "probes": [ ["tx.vote_no", hits], ... ],          // declaration order
//     "probes_never_reached": ["log.commit_append_failed", ...],
//     "spec_states": {...}, "spec_coverage": [...] }   // reports/spec_coverage.h
// Rows are sorted by name; a row is a state entered at least once. The
// value is a pure function of the summed harness::Coverage, so the merge of
// shards' summaries equals the unsharded summary.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "harness/coverage.h"
#include "nlohmann/json.hpp"

namespace reports {

nlohmann::ordered_json CoverageJson(const harness::Coverage& coverage);

// Back from CoverageJson's form; kInvalidArgument naming the first problem
// (wrong columns, a row of the wrong length, a count that is not an
// unsigned integer, a never-reached list that disagrees with the probes).
absl::StatusOr<harness::Coverage> CoverageFromJson(const nlohmann::ordered_json& value);

// The HTML section of index.html: the state x fault table and the probes
// (never-reached ones marked). Text is HTML-escaped.
std::string CoverageHtml(const nlohmann::ordered_json& coverage);

// The bytes of coverage.json: {"schema": "ktmsim-coverage", "version": 1, ...CoverageJson}.
std::string CoverageFileText(const nlohmann::ordered_json& coverage);

}  // namespace reports
