// State diagram DOT (see state_diagram.h): collect transitions, then write
// one cluster per machine (enlistment, transaction).
#include "reports/state_diagram.h"

#include <map>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "model/history.h"
#include "reports/graphviz.h"

namespace reports {
namespace {

constexpr const char* kPalette[] = {"#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"};

struct Step {
  size_t record = 0;
  std::string from, to;
  std::string who;  // RM name (enlistments) or transaction name
  size_t path = 0;  // which path (colour)
};

struct Machine {
  std::string prefix;  // node id prefix: "en" / "tx"
  std::string title;
  std::set<std::pair<std::string, std::string>> seen;  // every transition of the run
  std::set<std::string> states;
  std::vector<std::string> paths;  // names of the focus paths, by index
  std::vector<Step> steps;          // the focus paths, in trace order
};

// Every en.state (tx.state) transition; the focus transaction's as steps.
Machine Collect(const TraceModel& model, const std::string& kind, const std::string& prefix,
                const std::string& title) {
  Machine machine;
  machine.prefix = prefix;
  machine.title = title;
  std::map<std::string, size_t> path_of;  // enlistment or tx id -> path
  for (size_t i = 0; i < model.records.size(); ++i) {
    const TraceRecord& r = model.records[i];
    if (r.kind != kind) continue;
    const std::string& from = r.Field("from");
    const std::string& to = r.Field("to");
    machine.seen.emplace(from, to);
    machine.states.insert(from);
    machine.states.insert(to);
    const std::string id = r.Field(prefix == "en" ? "en" : "tx");
    if (model.focus_ids.count(id) == 0) continue;
    auto [it, added] = path_of.emplace(id, machine.paths.size());
    if (added) {
      const std::string rm = model.RmOfEnlistment(id);
      machine.paths.push_back(prefix == "en" ? (rm.empty() ? id.substr(0, 8) : rm) : model.TxLabel(id));
    }
    machine.steps.push_back({i, from, to, machine.paths[it->second], it->second});
  }
  return machine;
}

std::string NodeId(const Machine& machine, const std::string& state) {
  return DotQuote(absl::StrCat(machine.prefix, ":", state));
}

void WriteMachine(const TraceModel& model, const Machine& machine, size_t index, std::string* out) {
  absl::StrAppend(out, "  subgraph cluster_", index, " {\n    label=", DotQuote(machine.title),
                  "; style=rounded; color=\"#999999\"; fontsize=12;\n");
  for (const std::string& state : machine.states) {
    absl::StrAppend(out, "    ", NodeId(machine, state), " [label=", DotQuote(state), "];\n");
  }
  for (const auto& [from, to] : machine.seen) {
    absl::StrAppend(out, "    ", NodeId(machine, from), " -> ", NodeId(machine, to),
                    " [color=\"#c8c8c8\", arrowsize=0.6];\n");
  }
  size_t number = 0;
  for (const Step& step : machine.steps) {
    const std::string tags = model.ViolationTags(step.record);
    const std::string color = !tags.empty() ? "#d00000" : kPalette[step.path % std::size(kPalette)];
    std::string label = absl::StrCat("#", ++number, " ", step.who, " @",
                                     model::FormatTimeNs(model.records[step.record].time_ns));
    if (!tags.empty()) absl::StrAppend(&label, "\n", tags);
    absl::StrAppend(out, "    ", NodeId(machine, step.from), " -> ", NodeId(machine, step.to),
                    " [color=", DotQuote(color), ", fontcolor=", DotQuote(color), ", penwidth=",
                    tags.empty() ? "1.8" : "3", ", label=", DotQuote(label), "];\n");
  }
  if (machine.steps.empty()) {
    absl::StrAppend(out, "    note_", index, " [shape=note, label=",
                    DotQuote(model.focus_tx.empty() ? "no violating transaction: the grey edges are every transition of the run"
                                                    : "no " + machine.prefix + " state change of " + model.focus_tx + " in the trace"),
                    "];\n");
  }
  absl::StrAppend(out, "  }\n");
}

}  // namespace

std::string StateDiagramDot(const TraceModel& model) {
  const std::string focus = model.focus_tx.empty() ? "(no violating transaction)" : model.focus_tx;
  const Machine enlistments = Collect(model, "en.state", "en", "enlistment states of " + focus);
  const Machine transaction = Collect(model, "tx.state", "tx", "transaction states of " + focus);
  std::string title = absl::StrCat("ktmsim: scenario ", model.scenario, ", seed ", model.seed,
                                   ": the state machines of ", focus);
  if (!enlistments.paths.empty()) {
    absl::StrAppend(&title, "\nenlistments: ", absl::StrJoin(enlistments.paths, ", "));
  }
  absl::StrAppend(&title, "\nnumbered edges: the path taken, in order (one colour per enlistment; red: named by a "
                          "violation); grey: every transition seen in this run");
  std::string out = absl::StrCat(
      "digraph states {\n",
      "  graph [fontname=\"Helvetica\", fontsize=12, labelloc=t, labeljust=l, rankdir=TB, nodesep=0.5, label=",
      DotQuote(title), "];\n",
      "  node [fontname=\"Helvetica\", fontsize=10, shape=box, style=\"rounded,filled\", fillcolor=\"#eef3fb\"];\n",
      "  edge [fontname=\"Helvetica\", fontsize=8];\n");
  WriteMachine(model, enlistments, 0, &out);
  WriteMachine(model, transaction, 1, &out);
  out += "}\n";
  return out;
}

}  // namespace reports
