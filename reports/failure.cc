// Failure folder texts and writer (the pictures come from
// sequence_diagram, state_diagram and chrome_trace, through trace_model). The trace marking maps each violating
// history event to a trace line with the same virtual time and host that
// mentions the event's transaction — by its history name ("tx=t5") or by an
// engine id learnt from the lines that carry its written values — preferring
// a line that also names the event's RM. An event with no such line gets a
// note line at its place in time instead, so every violating event is
// visible in trace.txt whatever the trace looks like.
#include "reports/failure.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cerrno>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "harness/scenario_toml_writer.h"
#include "model/history.h"
#include "reports/chrome_trace.h"
#include "reports/graphviz.h"
#include "reports/sequence_diagram.h"
#include "reports/state_diagram.h"
#include "reports/trace_model.h"
#include "reports/atomic_file.h"
#include "reports/summary.h"

namespace reports {
namespace {

using Json = nlohmann::ordered_json;

// One mark: violation number (1-based) and history event index.
struct Mark {
  size_t violation = 0;
  size_t event = 0;
};

// History index -> the violations naming it, in violation order.
std::map<size_t, std::vector<size_t>> ViolatingEvents(const harness::RunResult& result) {
  std::map<size_t, std::vector<size_t>> events;
  for (size_t v = 0; v < result.violations.size(); ++v) {
    for (size_t event : result.violations[v].events) {
      std::vector<size_t>& list = events[event];
      if (list.empty() || list.back() != v + 1) list.push_back(v + 1);
    }
  }
  return events;
}

std::string ViolationTags(const harness::RunResult& result, const std::vector<size_t>& numbers) {
  std::string tags;
  for (size_t number : numbers) {
    absl::StrAppend(&tags, tags.empty() ? "" : ", ", "V", number, " ",
                    result.violations[number - 1].rule);
  }
  return tags;
}

// The engine ids of history transaction `tx`: its own name and every
// transaction id the run's name map files under it (its local transaction
// and the local transactions of its distributed branches).
std::set<std::string> TraceIdsOf(const std::string& tx, const harness::RunResult& result) {
  std::set<std::string> ids = {tx};
  for (const auto& [uow, name] : result.names.tx_by_uow) {
    if (name == tx) ids.insert(uow);
  }
  return ids;
}

// True when a field of `event` has exactly `value`.
bool HasFieldValue(const sim::TraceEvent& event, const std::string& value) {
  return std::any_of(event.fields.begin(), event.fields.end(),
                     [&value](const auto& field) { return field.second == value; });
}

// "RmCommitted" -> "committed", "Crash" -> "crash": what a trace event kind
// for this history event kind is likely to contain.
std::string KindKeyword(model::EventKind kind) {
  std::string keyword = model::EventKindName(kind);
  if (absl::StartsWith(keyword, "Rm")) keyword = keyword.substr(2);
  for (char& c : keyword) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return keyword;
}

// The trace line of a history event: same time and host, mentioning the
// transaction (any of its ids) when it has one. Among those, a line naming
// the event's RM scores 2 and one whose kind contains the history kind's
// keyword 1; the first best line wins. -1 when there is none.
int64_t FindTraceLine(const model::HistoryEvent& event, const std::set<std::string>& ids,
                      const std::vector<sim::TraceEvent>& trace) {
  const std::string keyword = KindKeyword(event.kind);
  int64_t best = -1;
  int best_score = -1;
  for (size_t i = 0; i < trace.size(); ++i) {
    const sim::TraceEvent& record = trace[i];
    if (record.time != event.time_ns || record.host != event.host) continue;
    const bool names_tx = event.tx.empty() || std::any_of(ids.begin(), ids.end(), [&](const std::string& id) {
                            return HasFieldValue(record, id);
                          });
    if (!names_tx) continue;
    const int score = (!event.rm.empty() && HasFieldValue(record, event.rm) ? 2 : 0) +
                      (absl::StrContains(record.kind, keyword) ? 1 : 0);
    if (score > best_score) {
      best = static_cast<int64_t>(i);
      best_score = score;
    }
  }
  return best;
}

// For each trace line, the marks placed on it; events without a line are
// returned in `unmatched`.
std::vector<std::vector<Mark>> MatchTraceLines(const harness::RunResult& result, std::vector<Mark>* unmatched) {
  const std::vector<sim::TraceEvent>& trace = result.trace;
  std::vector<std::vector<Mark>> marks(trace.size());
  std::map<std::string, std::set<std::string>> ids_of_tx;
  for (const auto& [event, violations] : ViolatingEvents(result)) {
    int64_t line = -1;
    if (event < result.history.events.size()) {
      const model::HistoryEvent& history_event = result.history.events[event];
      auto ids = ids_of_tx.find(history_event.tx);
      if (ids == ids_of_tx.end()) {
        ids = ids_of_tx.emplace(history_event.tx, TraceIdsOf(history_event.tx, result)).first;
      }
      line = FindTraceLine(history_event, ids->second, trace);
    }
    for (size_t v : violations) {
      if (line >= 0) {
        marks[static_cast<size_t>(line)].push_back({v, event});
      } else {
        unmatched->push_back({v, event});
      }
    }
  }
  return marks;
}

std::vector<absl::string_view> TraceLines(const std::string& trace_text) {
  std::vector<absl::string_view> lines = absl::StrSplit(trace_text, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

std::string HistoryEventText(const harness::RunResult& result, size_t event) {
  if (event >= result.history.events.size()) {
    return absl::StrCat("history #", event, " (out of range: the history has ",
                        result.history.events.size(), " events)");
  }
  return absl::StrCat("history #", event, ": ", result.history.events[event].ToText());
}

std::string ExplanationText(const harness::Scenario& scenario, const harness::RunResult& result) {
  const uint32_t planted_bug = result.identity.planted_bug;
  std::string text = absl::StrCat(
      result.passed ? "ktmsim run report\n" : "ktmsim failure report\n", "scenario  ", scenario.name,
      " (", scenario.file, ")\n", "seed      ", result.seed, "\n", "digest    ", DigestText(result.digest),
      "\n", "expected  ", ExpectationText(scenario), "\n", "verdict   ", result.passed ? "pass" : "FAIL",
      "\n", "replay    ", harness::ReplayCommandLine(result.identity), "\n");
  if (planted_bug != 0) {
    absl::StrAppend(&text, "planted   bug ", planted_bug, " (", harness::PlantedBugName(planted_bug),
                    ", a test-only switch)\n");
  }
  text += "\n";
  if (result.violations.empty() && result.passed) {
    absl::StrAppend(&text, "no violation: the run passed (expected ", ExpectationText(scenario), ")\n");
  } else if (result.violations.empty()) {
    absl::StrAppend(&text, "no violation was found, but the scenario expects ",
                    ExpectationText(scenario), "\n");
  } else {
    absl::StrAppend(&text, "violations (", result.violations.size(), "):\n");
  }
  for (size_t v = 0; v < result.violations.size(); ++v) {
    const harness::Violation& violation = result.violations[v];
    absl::StrAppend(&text, "  V", v + 1, " ", violation.rule, " tx=", violation.tx, ": ",
                    violation.message, "\n");
    for (size_t event : violation.events) {
      absl::StrAppend(&text, "       ", HistoryEventText(result, event), "\n");
    }
  }
  return text;
}

Json ViolationsJson(const harness::RunResult& result) {
  Json violations = Json::array();
  for (const harness::Violation& violation : result.violations) {
    violations.push_back(Json{{"rule", violation.rule},
                              {"tx", violation.tx},
                              {"message", violation.message},
                              {"events", violation.events}});
  }
  return violations;
}

// Count and nearest-rank percentiles of the commit latencies.
Json LatencyJson(std::vector<int64_t> latencies) {
  Json json = Json::object();
  json["count"] = latencies.size();
  if (latencies.empty()) return json;
  std::sort(latencies.begin(), latencies.end());
  const auto rank = [&latencies](double p) {
    size_t index = static_cast<size_t>(p * static_cast<double>(latencies.size()));
    return latencies[std::min(index, latencies.size() - 1)];
  };
  json["min_ns"] = latencies.front();
  json["p50_ns"] = rank(0.50);
  json["p99_ns"] = rank(0.99);
  json["max_ns"] = latencies.back();
  return json;
}

absl::Status MakeDirectory(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) == 0 || errno == EEXIST) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("mkdir ", path, ": ", std::strerror(errno)));
}

template <size_t N>
absl::Status WriteFiles(const std::string& dir, const std::pair<const char*, std::string> (&files)[N]) {
  for (const auto& [name, contents] : files) {
    absl::Status status = WriteFileAtomically(absl::StrCat(dir, "/", name), contents);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

}  // namespace

std::map<size_t, std::vector<size_t>> ViolatingTraceLines(const harness::RunResult& result) {
  std::vector<Mark> unmatched;
  const std::vector<std::vector<Mark>> marks = MatchTraceLines(result, &unmatched);
  std::map<size_t, std::vector<size_t>> violating;
  for (size_t line = 0; line < marks.size(); ++line) {
    for (const Mark& mark : marks[line]) {
      std::vector<size_t>& numbers = violating[line];
      if (std::find(numbers.begin(), numbers.end(), mark.violation) == numbers.end()) {
        numbers.push_back(mark.violation);
      }
    }
  }
  return violating;
}

std::set<std::string> TraceIdsOfTransaction(const std::string& tx, const harness::RunResult& result) {
  return TraceIdsOf(tx, result);
}

std::string FailureFolderName(const std::string& scenario, uint64_t seed) {
  std::string name = scenario;
  for (char& c : name) {
    const bool safe = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
    if (!safe) c = '_';
  }
  if (name.empty() || name[0] == '.') name.insert(name.begin(), '_');
  return absl::StrCat("failures/", name, "-", seed);
}

harness::RunIdentity FolderIdentity(const harness::RunResult& result, const std::string& folder) {
  harness::RunIdentity identity = result.identity;
  identity.scenario_file = folder + "/scenario.toml";
  if (!identity.schedule_file.empty()) identity.schedule_file = folder + "/schedule.txt";
  return identity;
}

std::string FailureTraceText(const harness::Scenario& scenario, const harness::RunResult& result) {
  std::string text = ExplanationText(scenario, result);
  if (result.trace_text.empty()) {
    absl::StrAppend(&text, "\n(no trace kept: run with keep_trace to see one)\n");
    return text;
  }
  const std::vector<absl::string_view> lines = TraceLines(result.trace_text);  // for printing only
  std::vector<Mark> unmatched;
  std::vector<std::vector<Mark>> marks = MatchTraceLines(result, &unmatched);
  marks.resize(lines.size());
  absl::StrAppend(&text, "\ntrace (", lines.size(),
                  " lines; \">>\" marks the history events named by the violations):\n");
  // Notes for unmatched events go before the first line later than the event.
  std::sort(unmatched.begin(), unmatched.end(), [](const Mark& a, const Mark& b) {
    return std::make_pair(a.event, a.violation) < std::make_pair(b.event, b.violation);
  });
  size_t next_note = 0;
  auto note_time = [&](size_t n) {
    const size_t event = unmatched[n].event;
    return event < result.history.events.size() ? result.history.events[event].time_ns : INT64_MAX;
  };
  auto append_note = [&](size_t n) {
    absl::StrAppend(&text, ">> (no trace line) V", unmatched[n].violation, " ",
                    result.violations[unmatched[n].violation - 1].rule, ": ",
                    HistoryEventText(result, unmatched[n].event), "\n");
  };
  for (size_t i = 0; i < lines.size(); ++i) {
    const bool timed = i < result.trace.size();  // line i renders result.trace[i]
    while (timed && next_note < unmatched.size() && note_time(next_note) < result.trace[i].time) {
      append_note(next_note++);
    }
    if (marks[i].empty()) {
      absl::StrAppend(&text, "   ", lines[i], "\n");
      continue;
    }
    std::vector<size_t> numbers;
    for (const Mark& mark : marks[i]) numbers.push_back(mark.violation);
    absl::StrAppend(&text, ">> ", lines[i], "    <-- ", ViolationTags(result, numbers),
                    " (history #", marks[i].front().event, ")\n");
  }
  while (next_note < unmatched.size()) append_note(next_note++);
  return text;
}

std::string MarkedHistoryText(const harness::RunResult& result) {
  const std::map<size_t, std::vector<size_t>> violating = ViolatingEvents(result);
  std::string text;
  const std::string history = result.history.ToText();
  std::vector<absl::string_view> lines = absl::StrSplit(history, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  for (size_t i = 0; i < lines.size(); ++i) {
    // History::ToText prints event i on line i ("#<i> ..."), then "end ...".
    auto it = i < result.history.events.size() ? violating.find(i) : violating.end();
    if (it == violating.end()) {
      absl::StrAppend(&text, "   ", lines[i], "\n");
    } else {
      absl::StrAppend(&text, ">> ", lines[i], "    <-- ", ViolationTags(result, it->second), "\n");
    }
  }
  return text;
}

namespace {

harness::RunIdentity FolderIdentityWithSchedule(const harness::RunResult& result, const std::string& folder) {
  harness::RunIdentity identity = FolderIdentity(result, folder);
  identity.schedule_file = folder + "/schedule.txt";
  return identity;
}

}  // namespace

std::string ScheduleFileText(const harness::Scenario& scenario, const harness::RunResult& result) {
  std::string text = absl::StrCat(
      "# Faults injected in scenario ", scenario.name, " seed ", result.seed, " (digest ",
      DigestText(result.digest), "), as a fault schedule.\n",
      "# Replay only these faults, from this folder (the digest may differ from the run's: the\n",
      "# fault plan's own random draws are not made):\n#   ",
      result.identity.fault_points.empty()
          ? harness::ReplayCommandLine(FolderIdentityWithSchedule(result, "."))
          : "(none: the run's faults are its --fault-points, see replay.sh)",
      "\n");
  text += result.schedule_text;
  if (!text.empty() && text.back() != '\n') text.push_back('\n');
  return text;
}

std::string ReplayScript(const std::string& title, const harness::RunIdentity& identity, uint64_t digest,
                         const FailureFolderOptions& options) {
  // The folder's paths are written relative to a placeholder that becomes
  // "$here" (quoted for sh) after the words are shell-quoted.
  constexpr char kHere[] = "@HERE@";
  harness::RunIdentity located = identity;
  for (std::string* path : {&located.scenario_file, &located.schedule_file}) {
    if (path->rfind("$here", 0) == 0) path->replace(0, 5, kHere);
  }
  std::string command = harness::ReplayCommandLine(located, "\"$ktmsim\"");
  command = absl::StrReplaceAll(command, {{kHere, "\"$here\""}});
  return absl::StrCat(
      "#!/bin/sh\n", "# Replays ", title, " from this folder (move it anywhere); a faithful replay\n",
      "# prints digest ", DigestText(digest), ", which this script checks (exit 3 when it differs).\n",
      "# Extra arguments are passed on (--trace prints the trace). Set KTMSIM to use another binary.\n",
      "here=$(cd \"$(dirname \"$0\")\" && pwd) || exit 2\n", "ktmsim=${KTMSIM:-}\n",
      "[ -n \"$ktmsim\" ] || ktmsim=", harness::ShellQuote(options.ktmsim_binary), "\n",
      "expected=", DigestText(digest), "\n", "output=$(", command, " \"$@\")\n", "status=$?\n",
      "printf '%s\\n' \"$output\"\n",
      "digest=$(printf '%s\\n' \"$output\" | sed -n 's/^digest //p' | head -n 1)\n",
      "if [ \"$digest\" != \"$expected\" ]; then\n",
      "  echo \"replay.sh: NOT REPRODUCED: expected digest $expected, got ${digest:-none} (exit $status)\" >&2\n",
      "  exit 3\n", "fi\n", "exit $status\n");
}

Json ResultJson(const harness::Scenario& scenario, const harness::RunResult& result) {
  Json json = Json::object();
  json["scenario"] = scenario.name;
  json["file"] = scenario.file;
  json["seed"] = result.seed;
  json["expected"] = ExpectationText(scenario);
  json["passed"] = result.passed;
  json["digest"] = DigestText(result.digest);
  json["violations"] = ViolationsJson(result);
  json["trace_events"] = result.trace_events;
  json["history_events"] = result.history.events.size();
  json["transactions"] = result.transactions;
  json["committed"] = result.committed;
  json["aborted"] = result.aborted;
  json["unresolved"] = result.unresolved;
  json["faults_injected"] = result.faults_injected;
  json["sim_time_ns"] = result.sim_time_ns;
  json["commit_latency"] = LatencyJson(result.commit_latencies_ns);
  json["planted_bug"] = result.identity.planted_bug;
  json["strategy"] = scenario.schedule_strategy;
  json["pct_depth"] = scenario.schedule_pct_depth;
  json["replay"] = harness::ReplayCommandLine(result.identity);
  json["folder"] = FailureFolderName(scenario.name, result.seed);
  return json;
}

absl::Status WriteTraceOutputs(const std::string& dir, const harness::Scenario& scenario,
                               const harness::RunResult& result, const FailureFolderOptions& options) {
  const TraceModel model = BuildTraceModel(scenario, result);
  SequenceOptions sequence;
  sequence.events_max = options.sequence_events_max;
  const std::string trace_dot = SequenceDiagramDot(model, sequence);
  const std::string states_dot = StateDiagramDot(model);
  absl::StatusOr<std::string> trace_svg = RenderSvg(trace_dot);
  if (!trace_svg.ok()) return trace_svg.status();
  absl::StatusOr<std::string> states_svg = RenderSvg(states_dot);
  if (!states_svg.ok()) return states_svg.status();
  const std::pair<const char*, std::string> files[] = {
      {"trace.txt", FailureTraceText(scenario, result)},
      {"trace.dot", trace_dot},
      {"trace.svg", *trace_svg},
      {"states.dot", states_dot},
      {"states.svg", *states_svg},
      {"trace.json", ChromeTraceJson(model).dump(-1, ' ', false, Json::error_handler_t::replace) + "\n"},
  };
  return WriteFiles(dir, files);
}

std::string ShrunkReplayCommand(const std::string& shrunk_dir, const harness::ShrinkResult& shrink) {
  return harness::ReplayCommandLine(ShrunkIdentity(shrunk_dir, shrink));
}

std::string ShrinkFiguresText(const harness::ShrinkResult& shrink) {
  std::string text;
  const auto line = [&text](const char* what, uint64_t before, uint64_t after) {
    absl::StrAppend(&text, absl::StrFormat("  %-13s %d -> %d\n", what, before, after));
  };
  line("transactions", shrink.before.transactions, shrink.after.transactions);
  line("faults", shrink.before.faults, shrink.after.faults);
  line("hosts", shrink.before.hosts, shrink.after.hosts);
  line("rms", shrink.before.rms, shrink.after.rms);
  absl::StrAppend(&text, absl::StrFormat("  %-13s %d -> %d (ratio %.4f)\n", "events", shrink.before.trace_events,
                                         shrink.after.trace_events, shrink.ratio()));
  line("trace lines", shrink.before.trace_lines(), shrink.after.trace_lines());
  absl::StrAppend(&text, absl::StrFormat("  stopped by    %s after %d runs\n", shrink.stopped_by(), shrink.runs));
  return text;
}

Json ShrinkJson(const harness::ShrinkResult& shrink, int budget, const std::string& shrunk_dir) {
  const auto sizes = [](const harness::RunSizes& s) {
    return Json{{"trace_events", s.trace_events}, {"trace_lines", s.trace_lines()}, {"transactions", s.transactions},
                {"faults", s.faults}, {"hosts", s.hosts}, {"rms", s.rms}};
  };
  Json json = Json::object();
  json["ok"] = shrink.ok;
  if (!shrink.ok) json["error"] = shrink.error;
  json["rule"] = shrink.rule;
  json["runs"] = shrink.runs;
  json["runs_died"] = shrink.died;
  json["budget"] = budget;
  json["budget_exhausted"] = shrink.budget_exhausted;
  json["fixed_point"] = shrink.fixed_point;
  json["stopped_by"] = shrink.stopped_by();
  json["before"] = sizes(shrink.before);
  if (!shrink.ok) return json;
  json["after"] = sizes(shrink.after);
  json["ratio"] = std::round(shrink.ratio() * 10000) / 10000;
  json["steps"] = shrink.steps;
  json["uses_schedule"] = shrink.uses_schedule;
  json["folder"] = "shrunk";
  json["replay"] = ShrunkReplayCommand(shrunk_dir, shrink);
  return json;
}

harness::RunIdentity ShrunkIdentity(const std::string& shrunk_dir, const harness::ShrinkResult& shrink) {
  harness::RunIdentity identity = shrink.result.identity;
  identity.scenario_file = shrunk_dir + "/scenario.toml";
  identity.seed = shrink.seed;
  identity.planted_bug = shrink.planted_bug;
  identity.schedule_file = shrink.uses_schedule ? shrunk_dir + "/schedule.txt" : "";
  return identity;
}

absl::Status WriteShrunkFolder(const std::string& folder, const std::string& display_folder,
                               const harness::ShrinkResult& shrink, int budget,
                               const FailureFolderOptions& options) {
  const std::string dir = folder + "/shrunk";
  if (absl::Status status = MakeDirectory(dir); !status.ok()) return status;
  const harness::RunResult& result = shrink.result;
  const std::string script =
      ReplayScript(absl::StrCat("the minimal run ktmsim shrink found (", shrink.rule, " still fails)"),
                   ShrunkIdentity("$here", shrink), result.digest, options);
  Json json = ResultJson(shrink.scenario, result);
  json["file"] = "scenario.toml";
  json["replay"] = ShrunkReplayCommand(display_folder + "/shrunk", shrink);
  json["folder"] = display_folder + "/shrunk";
  json["shrink"] = ShrinkJson(shrink, budget, display_folder + "/shrunk");
  std::string schedule = absl::StrCat(
      "# The faults of the minimal run of scenario ", shrink.scenario.name, " seed ", shrink.seed,
      shrink.uses_schedule ? " (replay with --schedule)\n"
                           : " (recorded only: the scenario's own fault plan makes them; no --schedule)\n");
  schedule += shrink.uses_schedule ? shrink.schedule.ToText() : result.schedule_text;
  harness::Scenario located = shrink.scenario;
  located.file = display_folder + "/shrunk/scenario.toml";
  const std::pair<const char*, std::string> files[] = {
      {"scenario.toml",
       harness::ScenarioToToml(shrink.scenario,
                               absl::StrCat("The minimal scenario ktmsim shrink found: seed ", shrink.seed,
                                            " still violates ", shrink.rule, ".\nReplay: ",
                                            ShrunkReplayCommand(display_folder + "/shrunk", shrink)))},
      {"schedule.txt", schedule},
      {"history.txt", MarkedHistoryText(result)},
      {"result.json", json.dump(2, ' ', false, Json::error_handler_t::replace) + "\n"},
  };
  if (absl::Status status = WriteFiles(dir, files); !status.ok()) return status;
  if (absl::Status status = WriteFileAtomically(dir + "/replay.sh", script, 0755); !status.ok()) {
    return status;
  }
  return WriteTraceOutputs(dir, located, result, options);
}

absl::Status WriteFailureFolder(const std::string& report_dir, const harness::Scenario& scenario,
                                const harness::RunResult& result, const FailureFolderOptions& options,
                                const harness::ShrinkResult* shrink, int shrink_budget) {
  const std::string name = FailureFolderName(scenario.name, result.seed);
  const std::string folder = absl::StrCat(report_dir, "/", name);
  for (const std::string& directory : {report_dir + "/failures", folder}) {
    if (absl::Status status = MakeDirectory(directory); !status.ok()) return status;
  }
  harness::Scenario as_run = scenario;
  harness::ApplyScheduleOverrides(result.identity, &as_run);
  Json json = ResultJson(scenario, result);
  if (shrink != nullptr) json["shrink"] = ShrinkJson(*shrink, shrink_budget, name + "/shrunk");
  const std::pair<const char*, std::string> files[] = {
      {"history.txt", MarkedHistoryText(result)},
      {"schedule.txt", ScheduleFileText(scenario, result)},
      {"scenario.toml",
       harness::ScenarioToToml(as_run, absl::StrCat("Scenario ", scenario.name, " as run (from ", scenario.file,
                                                     "); 'ktmsim shrink' of this folder reads it."))},
      {"result.json", json.dump(2, ' ', false, Json::error_handler_t::replace) + "\n"},
  };
  if (absl::Status status = WriteFiles(folder, files); !status.ok()) return status;
  if (absl::Status status = WriteTraceOutputs(folder, scenario, result, options); !status.ok()) return status;
  if (shrink != nullptr && shrink->ok) {
    if (absl::Status status = WriteShrunkFolder(folder, name, *shrink, shrink_budget, options); !status.ok()) {
      return status;
    }
  }
  const std::string title = absl::StrCat("scenario ", scenario.name, " seed ", result.seed);
  return WriteFileAtomically(folder + "/replay.sh",
                             ReplayScript(title, FolderIdentity(result, "$here"), result.digest, options), 0755);
}

}  // namespace reports
