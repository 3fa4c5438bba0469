// See shrink_figures.h.
#include "cli/shrink_figures.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"

namespace cli {
namespace {

double Rounded(double value) { return std::round(value * 10000) / 10000; }

reports::Json SummaryJson(const harness::ShrinkSummary& s) {
  return reports::Json{{"shrunk", s.shrunk},
                       {"not_shrunk", s.failed},
                       {"same_rule", s.same_rule},
                       {"same_kind", s.same_kind},
                       {"ratio_median", Rounded(s.ratio_median)},
                       {"ratio_worst", Rounded(s.ratio_worst)},
                       {"at_most_3_transactions", s.at_most_3_transactions},
                       {"fixed_points", s.fixed_points},
                       {"runs", s.runs}};
}

}  // namespace

reports::Json ShrinkFiguresJson(int budget, std::vector<ShrinkRecord> records) {
  std::sort(records.begin(), records.end(), [](const ShrinkRecord& a, const ShrinkRecord& b) {
    return std::tie(a.scenario, a.seed) < std::tie(b.scenario, b.seed);
  });
  std::vector<harness::ShrinkFigure> all;
  std::map<std::string, std::vector<harness::ShrinkFigure>> by_scenario;
  reports::Json failures = reports::Json::array();
  for (const ShrinkRecord& r : records) {
    all.push_back(r.figure);
    by_scenario[r.scenario].push_back(r.figure);
    const harness::ShrinkFigure& f = r.figure;
    failures.push_back(reports::Json{{"scenario", r.scenario},
                                     {"seed", r.seed},
                                     {"ok", f.ok},
                                     {"ratio", f.ratio},
                                     {"runs", f.runs},
                                     {"fixed_point", f.fixed_point},
                                     {"transactions_after", f.transactions_after},
                                     {"same_rule", f.same_rule},
                                     {"same_kind", f.same_kind}});
  }
  reports::Json json = reports::Json::object();
  json["budget"] = budget;
  json["total"] = SummaryJson(harness::Summarize(all));
  json["scenarios"] = reports::Json::object();
  for (const auto& [name, figures] : by_scenario) json["scenarios"][name] = SummaryJson(harness::Summarize(figures));
  json["failures"] = std::move(failures);
  return json;
}

absl::StatusOr<std::vector<ShrinkRecord>> ShrinkRecordsFromJson(const reports::Json& json, const std::string& where) {
  const auto invalid = [&where](const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": ", what));
  };
  if (!json.is_object() || !json.contains("failures") || !json["failures"].is_array()) {
    return invalid("not a shrink.json of this ktmsim ('failures' must be an array)");
  }
  std::vector<ShrinkRecord> records;
  size_t index = 0;
  for (const reports::Json& entry : json["failures"]) {
    const std::string at = absl::StrCat("failures[", index++, "]");
    if (!entry.is_object()) return invalid(at + " must be an object");
    for (const char* key : {"ok", "fixed_point", "same_rule", "same_kind"}) {
      if (!entry.contains(key) || !entry[key].is_boolean()) return invalid(absl::StrCat(at, ".", key, " must be a boolean"));
    }
    for (const char* key : {"seed", "runs", "transactions_after"}) {
      if (!entry.contains(key) || !entry[key].is_number_unsigned()) {
        return invalid(absl::StrCat(at, ".", key, " must be an unsigned integer"));
      }
    }
    if (!entry.contains("scenario") || !entry["scenario"].is_string()) return invalid(at + ".scenario must be a string");
    if (!entry.contains("ratio") || !entry["ratio"].is_number() || entry["ratio"].get<double>() < 0) {
      return invalid(at + ".ratio must be a number >= 0");
    }
    ShrinkRecord record;
    record.scenario = entry["scenario"].get<std::string>();
    record.seed = entry["seed"].get<uint64_t>();
    harness::ShrinkFigure& f = record.figure;
    f.ok = entry["ok"].get<bool>();
    f.ratio = entry["ratio"].get<double>();
    f.runs = entry["runs"].get<uint64_t>();
    f.fixed_point = entry["fixed_point"].get<bool>();
    f.transactions_after = entry["transactions_after"].get<uint64_t>();
    f.same_rule = entry["same_rule"].get<bool>();
    f.same_kind = entry["same_kind"].get<bool>();
    records.push_back(std::move(record));
  }
  return records;
}

}  // namespace cli
