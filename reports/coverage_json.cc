// Coverage rendering and parsing; see coverage_json.h.
#include "reports/coverage_json.h"

#include <cstdint>
#include <set>

#include "absl/strings/str_cat.h"
#include "harness/markup.h"
#include "reports/spec_coverage.h"

namespace reports {
namespace {

using Json = nlohmann::ordered_json;

absl::Status Invalid(const std::string& message) {
  return absl::InvalidArgumentError(absl::StrCat("coverage: ", message));
}

Json Columns() {
  Json columns = Json::array({"transitions"});
  for (const std::string& column : harness::CoverageColumns()) columns.push_back(column);
  return columns;
}

absl::Status ReadStates(const Json& states, harness::Coverage* coverage) {
  if (!states.is_array()) return Invalid("'states' must be an array");
  const std::vector<std::string>& columns = harness::CoverageColumns();
  for (const Json& row : states) {
    if (!row.is_array() || row.size() != columns.size() + 2 || !row[0].is_string()) {
      return Invalid("a 'states' row must be [name, transitions, one count per fault column]");
    }
    const std::string name = row[0].get<std::string>();
    for (size_t i = 1; i < row.size(); ++i) {
      if (!row[i].is_number_unsigned()) return Invalid(absl::StrCat("row '", name, "': counts must be unsigned"));
    }
    coverage->transitions[name] = row[1].get<uint64_t>();
    for (size_t c = 0; c < columns.size(); ++c) {
      const uint64_t count = row[c + 2].get<uint64_t>();
      if (count > 0) coverage->matrix[name][columns[c]] = count;
    }
  }
  return absl::OkStatus();
}

absl::Status ReadProbes(const Json& value, harness::Coverage* coverage) {
  if (!value.contains("probes") || !value["probes"].is_array()) return Invalid("'probes' must be an array");
  for (const Json& probe : value["probes"]) {
    if (!probe.is_array() || probe.size() != 2 || !probe[0].is_string() || !probe[1].is_number_unsigned()) {
      return Invalid("a probe must be [name, hits]");
    }
    coverage->probes[probe[0].get<std::string>()] = probe[1].get<uint64_t>();
  }
  if (!value.contains("probes_never_reached") || value["probes_never_reached"] != Json(coverage->NeverReachedProbes())) {
    return Invalid("'probes_never_reached' does not match 'probes'");
  }
  return absl::OkStatus();
}

}  // namespace

Json CoverageJson(const harness::Coverage& coverage) {
  Json value = Json::object();
  value["columns"] = Columns();
  Json states = Json::array();
  for (const auto& [row, transitions] : coverage.transitions) {
    Json line = Json::array({row, transitions});
    for (const std::string& column : harness::CoverageColumns()) line.push_back(coverage.Cell(row, column));
    states.push_back(std::move(line));
  }
  value["states"] = std::move(states);
  Json probes = Json::array();
  for (const std::string& name : harness::DeclaredProbes()) {
    auto it = coverage.probes.find(name);
    probes.push_back(Json::array({name, it == coverage.probes.end() ? 0 : it->second}));
  }
  value["probes"] = std::move(probes);
  value["probes_never_reached"] = coverage.NeverReachedProbes();
  value["spec_states"] = SpecStatesJson(coverage.spec_states);
  value["spec_coverage"] = SpecCoverageJson(coverage.spec_states);
  return value;
}

absl::StatusOr<harness::Coverage> CoverageFromJson(const Json& value) {
  if (!value.is_object()) return Invalid("must be an object");
  if (!value.contains("columns") || value["columns"] != Columns()) {
    return Invalid("'columns' are not the columns of this ktmsim");
  }
  harness::Coverage coverage;
  if (!value.contains("states")) return Invalid("'states' is missing");
  if (absl::Status status = ReadStates(value["states"], &coverage); !status.ok()) return status;
  if (absl::Status status = ReadProbes(value, &coverage); !status.ok()) return status;
  if (absl::Status status = ReadSpecStates(value, &coverage.spec_states); !status.ok()) return status;
  return coverage;
}

std::string CoverageHtml(const Json& coverage) {
  std::string html =
      "<h2>Coverage</h2>\n<p>Transitions into each transaction (tx) and enlistment (en) state, by the fault kinds "
      "active when they happened (docs/coverage.md). A transition with several kinds active counts in each.</p>\n"
      "<table>\n<tr><th>state</th>";
  for (const Json& column : coverage["columns"]) absl::StrAppend(&html, "<th>", harness::MarkupEscape(column.get<std::string>()), "</th>");
  html += "</tr>\n";
  for (const Json& row : coverage["states"]) {
    absl::StrAppend(&html, "<tr><td>", harness::MarkupEscape(row[0].get<std::string>()), "</td>");
    for (size_t i = 1; i < row.size(); ++i) absl::StrAppend(&html, "<td>", row[i].dump(), "</td>");
    html += "</tr>\n";
  }
  html += "</table>\n<h3>Code probes</h3>\n<table>\n<tr><th>probe</th><th>hits</th></tr>\n";
  for (const Json& probe : coverage["probes"]) {
    const bool never = probe[1].get<uint64_t>() == 0;
    absl::StrAppend(&html, "<tr><td", never ? " class=\"fail\"" : "", ">", harness::MarkupEscape(probe[0].get<std::string>()),
                    "</td><td>", probe[1].dump(), "</td></tr>\n");
  }
  const Json& never = coverage["probes_never_reached"];
  absl::StrAppend(&html, "</table>\n<p>Never reached (", never.size(), "): ");
  for (size_t i = 0; i < never.size(); ++i) {
    absl::StrAppend(&html, i > 0 ? ", " : "", harness::MarkupEscape(never[i].get<std::string>()));
  }
  html += never.empty() ? "none.</p>\n" : ".</p>\n";
  return html + SpecCoverageHtml(coverage);
}

std::string CoverageFileText(const Json& coverage) {
  Json file = Json::object();
  file["schema"] = "ktmsim-coverage";
  file["version"] = 1;
  for (const auto& [key, value] : coverage.items()) file[key] = value;
  return file.dump(1) + "\n";
}

}  // namespace reports
