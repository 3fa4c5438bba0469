// Spec-state coverage rendering and parsing; see spec_coverage.h.
#include "reports/spec_coverage.h"

#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "harness/conformance.h"
#include "harness/markup.h"
#include "model/spec_common.h"
#include "model/spec_two_phase.h"

namespace reports {
namespace {

using Json = nlohmann::ordered_json;

absl::Status Invalid(const std::string& message) {
  return absl::InvalidArgumentError(absl::StrCat("coverage: ", message));
}

}  // namespace

Json SpecStatesJson(const std::map<int, std::set<uint64_t>>& spec_states) {
  Json value = Json::object();
  for (const auto& [n, keys] : spec_states) {
    if (!keys.empty()) value[std::to_string(n)] = Json(std::vector<uint64_t>(keys.begin(), keys.end()));
  }
  return value;
}

Json SpecCoverageJson(const std::map<int, std::set<uint64_t>>& spec_states) {
  Json figures = Json::array();
  for (const harness::SpecCoverageFigure& f : harness::SpecCoverageFigures(spec_states, kSpecCoverageRmsMax)) {
    Json figure = Json::object();
    figure["rms"] = f.rms;
    figure["two_phase"] = Json::array({f.two_phase_reached, f.two_phase_states});
    figure["crash"] = Json::array({f.crash_reached, f.crash_states});
    figure["two_phase_unreached"] = f.two_phase_unreached;
    // How many of the unreached KtmTwoPhase states KTM cannot reach without a crash.
    figure["unreached_ktm_impossible"] = f.two_phase_unreached_ktm_impossible;
    figures.push_back(std::move(figure));
  }
  return figures;
}

absl::Status ReadSpecStates(const Json& coverage, std::map<int, std::set<uint64_t>>* spec_states) {
  if (!coverage.contains("spec_states")) {
    if (coverage.contains("spec_coverage")) return Invalid("'spec_coverage' without 'spec_states'");
    return absl::OkStatus();
  }
  const Json& states = coverage["spec_states"];
  if (!states.is_object()) return Invalid("'spec_states' must be an object");
  for (const auto& [name, keys] : states.items()) {
    int n = 0;
    if (!absl::SimpleAtoi(name, &n) || n < 1 || n > model::spec::kSpecRmMax) {
      return Invalid(absl::StrCat("'spec_states' key '", name, "' is not a number of RMs 1..", model::spec::kSpecRmMax));
    }
    if (!keys.is_array()) return Invalid(absl::StrCat("'spec_states' ", name, " must be an array"));
    for (const Json& key : keys) {
      if (!key.is_number_unsigned()) return Invalid(absl::StrCat("'spec_states' ", name, ": keys must be unsigned"));
      (*spec_states)[n].insert(key.get<uint64_t>());
    }
  }
  if (!coverage.contains("spec_coverage") || coverage["spec_coverage"] != SpecCoverageJson(*spec_states)) {
    return Invalid("'spec_coverage' does not match 'spec_states'");
  }
  return absl::OkStatus();
}

std::string SpecCoverageHtml(const Json& coverage) {
  if (!coverage.contains("spec_coverage")) return "";
  std::string html =
      "<h3>Spec-state coverage</h3>\n<p>Reachable states of spec/KtmTwoPhase (everybody up) and "
      "spec/KtmTwoPhaseCrash that the conformance projection of the runs' transactions visited, per number of "
      "RMs (spec/README.md).</p>\n<table>\n<tr><th>RMs</th><th>KtmTwoPhase</th><th>KtmTwoPhaseCrash</th>"
      "<th>unreached, KTM cannot reach without a crash</th></tr>\n";
  for (const Json& f : coverage["spec_coverage"]) {
    absl::StrAppend(&html, "<tr><td>", f["rms"].dump(), "</td><td>", f["two_phase"][0].dump(), "/",
                    f["two_phase"][1].dump(), "</td><td>", f["crash"][0].dump(), "/", f["crash"][1].dump(),
                    "</td><td>", f["unreached_ktm_impossible"].dump(), "</td></tr>\n");
  }
  html += "</table>\n";
  for (const Json& f : coverage["spec_coverage"]) {
    const Json& unreached = f["two_phase_unreached"];
    if (unreached.empty()) continue;
    absl::StrAppend(&html, "<details><summary>Unreached KtmTwoPhase states with ", f["rms"].dump(), " RMs (",
                    unreached.size(), ")</summary>\n<ul>\n");
    for (const Json& s : unreached) absl::StrAppend(&html, "<li><code>", harness::MarkupEscape(s.get<std::string>()), "</code></li>\n");
    html += "</ul>\n</details>\n";
  }
  return html;
}

}  // namespace reports
