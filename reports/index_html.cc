// index.html rendering (see index_html.h): plain HTML with a little inline
// CSS, no scripts, so it opens from a file:// URL and in CI artefact viewers.
#include "reports/index_html.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "harness/markup.h"
#include "reports/atomic_file.h"
#include "reports/coverage_json.h"

namespace reports {
namespace {

using Json = nlohmann::ordered_json;

std::string Text(const Json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

constexpr char kStyle[] =
    "body{font-family:Helvetica,Arial,sans-serif;margin:1.5em;max-width:1400px}"
    "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
    "td:first-child,th:first-child{text-align:left}.fail{color:#c00000;font-weight:bold}"
    "pre{background:#f4f4f4;padding:6px;overflow-x:auto}.failure{border-top:2px solid #ddd;margin-top:1.5em}"
    "img{max-width:100%;border:1px solid #ddd}";

std::string SummaryTable(const Json& summary) {
  std::string html =
      "<h2>Summary</h2>\n<table>\n<tr><th>scenario</th><th>seeds</th><th>passed</th><th>failed</th>"
      "<th>committed</th><th>aborted</th><th>unresolved</th><th>faults</th></tr>\n";
  const auto row = [&html](const std::string& name, const Json& entry, const Json& seeds) {
    const bool failed = entry["failed"].get<uint64_t>() > 0;
    absl::StrAppend(&html, "<tr><td>", harness::MarkupEscape(name), "</td><td>", Text(seeds), "</td><td>", Text(entry["passed"]),
                    "</td><td", failed ? " class=\"fail\"" : "", ">", Text(entry["failed"]), "</td><td>",
                    Text(entry["committed"]), "</td><td>", Text(entry["aborted"]), "</td><td>",
                    Text(entry["unresolved"]), "</td><td>", Text(entry["faults_injected"]), "</td></tr>\n");
  };
  for (const Json& scenario : summary["scenarios"]) row(scenario["name"].get<std::string>(), scenario, scenario["seeds_run"]);
  row("TOTAL", summary["totals"], summary["totals"]["runs"]);
  return html + "</table>\n";
}

std::string Link(const std::string& href, const std::string& text) {
  return absl::StrCat("<a href=\"", harness::MarkupEscape(href), "\">", harness::MarkupEscape(text), "</a>");
}

std::string ShrinkHtml(const std::string& folder, const Json& shrink) {
  if (!shrink.is_object()) return "<p>Not shrunk (shrinking was off).</p>\n";
  if (!shrink.value("ok", false)) {
    return absl::StrCat("<p>Not shrunk: ", harness::MarkupEscape(shrink.value("error", std::string("unknown reason"))), "</p>\n");
  }
  std::string html = absl::StrCat(
      "<h4>Shrunk (", harness::MarkupEscape(Text(shrink["rule"])), " still fails; ", Text(shrink["runs"]), " of ",
      Text(shrink["budget"]), " runs", shrink.value("budget_exhausted", false) ? ", budget used up" : "",
      shrink.value("runs_died", 0) > 0 ? absl::StrCat(", ", shrink.value("runs_died", 0),
                                                       " candidates died on an engine assertion")
                                       : "",
      ")</h4>\n<table><tr><th></th><th>before</th><th>after</th></tr>\n");
  for (const char* key : {"trace_events", "transactions", "faults"}) {
    absl::StrAppend(&html, "<tr><td>", key, "</td><td>", Text(shrink["before"][key]), "</td><td>",
                    Text(shrink["after"][key]), "</td></tr>\n");
  }
  absl::StrAppend(&html, "<tr><td>ratio (events after / before)</td><td colspan=\"2\">",
                  absl::StrFormat("%.4f", shrink.value("ratio", 0.0)), "</td></tr></table>\n<ul>\n");
  for (const Json& step : shrink["steps"]) absl::StrAppend(&html, "<li>", harness::MarkupEscape(Text(step)), "</li>\n");
  const std::string dir = folder + "/shrunk/";
  absl::StrAppend(&html, "</ul>\n<p>Replay the minimal run (from this directory):</p><pre>", harness::MarkupEscape(Text(shrink["replay"])),
                  "</pre>\n<p>", Link(dir + "scenario.toml", "scenario.toml"), " · ",
                  Link(dir + "schedule.txt", "schedule.txt"), " · ", Link(dir + "trace.txt", "trace.txt"), " · ",
                  Link(dir + "trace.json", "trace.json"), " · ", Link(dir + "trace.dot", "trace.dot"), " · ",
                  Link(dir + "states.svg", "states.svg"), "</p>\n", "<p><a href=\"", harness::MarkupEscape(dir + "trace.svg"),
                  "\"><img loading=\"lazy\" src=\"", harness::MarkupEscape(dir + "trace.svg"),
                  "\" alt=\"sequence diagram of the minimal run\"></a></p>\n");
  return html;
}

std::string FailureHtml(const Json& failure, const std::map<std::string, Json>& results) {
  const std::string folder = failure["folder"].get<std::string>();
  std::string html = absl::StrCat(folder.empty() ? "<div class=\"failure\">" : "<div class=\"failure\" id=\"" + harness::MarkupEscape(folder) + "\">",
                                  "\n<h3 class=\"fail\">",
                                  harness::MarkupEscape(Text(failure["scenario"])), " seed ", Text(failure["seed"]), ": FAIL (",
                                  failure["rules"].empty() ? "expected " + harness::MarkupEscape(Text(failure["expected"])) : "");
  for (size_t r = 0; r < failure["rules"].size(); ++r) {
    absl::StrAppend(&html, r > 0 ? ", " : "", harness::MarkupEscape(Text(failure["rules"][r])));
  }
  html += ")</h3>\n<ul>\n";
  for (const Json& violation : failure["violations"]) {
    absl::StrAppend(&html, "<li>", harness::MarkupEscape(Text(violation["rule"])), " ", harness::MarkupEscape(Text(violation["tx"])), ": ",
                    harness::MarkupEscape(Text(violation["message"])), "</li>\n");
  }
  absl::StrAppend(&html, "</ul>\n<p>Replay:</p><pre>", harness::MarkupEscape(Text(failure["replay"])), "</pre>\n");
  if (folder.empty()) return html + "<p>No folder (beyond --failure_folders_max).</p>\n</div>\n";
  auto result = results.find(folder);
  if (result == results.end()) {
    return html + absl::StrCat("<p>Folder ", harness::MarkupEscape(folder), " has no result.json.</p>\n</div>\n");
  }
  const std::string dir = folder + "/";
  absl::StrAppend(&html, "<p>", Link(dir + "trace.txt", "trace.txt"), " · ", Link(dir + "history.txt", "history.txt"),
                  " · ", Link(dir + "schedule.txt", "schedule.txt"), " · ", Link(dir + "scenario.toml", "scenario.toml"),
                  " · ", Link(dir + "replay.sh", "replay.sh"), " · ", Link(dir + "trace.json", "trace.json"),
                  " (open in ui.perfetto.dev or chrome://tracing) · ", Link(dir + "trace.dot", "trace.dot"), " · ",
                  Link(dir + "states.dot", "states.dot"), "</p>\n");
  absl::StrAppend(&html, "<p><a href=\"", harness::MarkupEscape(dir + "trace.svg"), "\"><img loading=\"lazy\" src=\"",
                  harness::MarkupEscape(dir + "trace.svg"), "\" alt=\"sequence diagram\"></a></p>\n<p><a href=\"",
                  harness::MarkupEscape(dir + "states.svg"), "\"><img loading=\"lazy\" src=\"", harness::MarkupEscape(dir + "states.svg"),
                  "\" alt=\"state machines of the failing transaction\"></a></p>\n");
  html += ShrinkHtml(folder, result->second.contains("shrink") ? result->second["shrink"] : Json());
  return html + "</div>\n";
}

}  // namespace

std::string IndexHtml(const Json& summary, const std::map<std::string, Json>& results_by_folder) {
  const Json& totals = summary["totals"];
  std::string html = absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>ktmsim report</title>\n<style>",
      kStyle, "</style>\n</head>\n<body>\n<h1>ktmsim report</h1>\n<p>", Text(totals["runs"]), " runs of ",
      Text(totals["scenarios"]), " scenarios: ", Text(totals["passed"]), " passed, <span",
      totals["failed"].get<uint64_t>() > 0 ? " class=\"fail\"" : "", ">", Text(totals["failed"]),
      " failed</span>. Machine-readable: ", Link("summary.json", "summary.json"), ", ", Link("junit.xml", "junit.xml"),
      ".</p>\n");
  html += SummaryTable(summary);
  if (summary.contains("coverage")) html += CoverageHtml(summary["coverage"]);
  std::string list;
  size_t failures = 0;
  for (const Json& scenario : summary["scenarios"]) {
    for (const Json& failure : scenario["failures"]) {
      ++failures;
      const std::string folder = failure["folder"].get<std::string>();
      absl::StrAppend(&list, "<li>", folder.empty() ? harness::MarkupEscape(Text(failure["scenario"])) + " seed " + Text(failure["seed"])
                                                    : Link("#" + folder, Text(failure["scenario"]) + " seed " + Text(failure["seed"])),
                      "</li>\n");
    }
  }
  absl::StrAppend(&html, "<h2>Failures (", failures, ")</h2>\n", failures == 0 ? "<p>None.</p>\n" : "<ul>\n" + list + "</ul>\n");
  for (const Json& scenario : summary["scenarios"]) {
    for (const Json& failure : scenario["failures"]) html += FailureHtml(failure, results_by_folder);
  }
  return html + "</body>\n</html>\n";
}

absl::Status WriteIndexHtml(const std::string& report_dir, const Json& summary) {
  std::map<std::string, Json> results;
  for (const Json& scenario : summary["scenarios"]) {
    for (const Json& failure : scenario["failures"]) {
      const std::string folder = failure["folder"].get<std::string>();
      if (folder.empty()) continue;
      absl::StatusOr<std::string> text = ReadFile(report_dir + "/" + folder + "/result.json");
      if (!text.ok()) continue;
      Json result = Json::parse(*text, nullptr, /*allow_exceptions=*/false);
      if (!result.is_discarded()) results[folder] = std::move(result);
    }
  }
  return WriteFileAtomically(report_dir + "/index.html", IndexHtml(summary, results));
}

}  // namespace reports
