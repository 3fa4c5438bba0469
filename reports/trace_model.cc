// TraceModel construction (see trace_model.h): the run's structured events
// and name maps, the joins (branches, enlistments), then the focus and the marks.
#include "reports/trace_model.h"

#include <algorithm>
#include <deque>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "reports/failure.h"

namespace reports {
namespace {

TraceRecord RecordOf(const sim::TraceEvent& event, size_t index) {
  TraceRecord record;
  record.time_ns = event.time;
  record.host = event.host == sim::kNoHost ? kWorldHost : event.host;
  record.kind = event.kind;
  record.fields = event.fields;
  record.line = index;  // trace.txt renders one line per event, in order
  return record;
}

// The local transaction of a distributed branch ("dist.branch" tx=root
// uow=local) is named after its root: "t5@node2".
void NameBranches(TraceModel* model) {
  for (const TraceRecord& record : model->records) {
    if (record.kind != "dist.branch") continue;
    const std::string& local = record.Field("uow");
    const std::string& root = record.Field("tx");
    if (local.empty() || root.empty() || local == root || model->branch_roots.count(local) != 0) continue;
    model->branch_roots[local] = root;
    auto name = model->tx_names.find(root);
    if (name != model->tx_names.end()) {
      model->tx_names[local] = absl::StrCat(name->second, "@", model->HostName(record.host));
    }
  }
}

// Enlistments: en.create (en, tx, rm=RM id) names each enlistment's
// transaction and RM (the run's RM names by id).
void JoinEnlistments(TraceModel* model) {
  for (const TraceRecord& record : model->records) {
    if (record.kind != "en.create") continue;
    EnlistmentInfo info;
    info.tx = record.Field("tx");
    info.rm_guid = record.Field("rm");
    info.host = record.host;
    auto name = model->rm_names.find(info.rm_guid);
    if (name != model->rm_names.end()) info.rm = name->second;
    model->enlistments[record.Field("en")] = info;
  }
}

void SetFocus(const harness::RunResult& result, TraceModel* model) {
  for (const harness::Violation& violation : result.violations) {
    if (!violation.tx.empty()) {
      model->focus_tx = violation.tx;
      break;
    }
  }
  if (model->focus_tx.empty()) return;
  for (const auto& [engine_id, name] : result.names.tx_by_uow) {
    if (name == model->focus_tx) model->focus_ids.insert(engine_id);
  }
  model->focus_ids.insert(model->focus_tx);
  for (const auto& [local, root] : model->branch_roots) {
    if (model->focus_ids.count(root) != 0) model->focus_ids.insert(local);
  }
  for (const auto& [en, info] : model->enlistments) {
    if (model->focus_ids.count(info.tx) != 0) model->focus_ids.insert(en);
  }
}

}  // namespace

const std::string& TraceRecord::Field(const std::string& key) const {
  static const std::string* const kEmpty = new std::string();
  for (const auto& field : fields) {
    if (field.first == key) return field.second;
  }
  return *kEmpty;
}

std::string TraceModel::TxLabel(const std::string& engine_id) const {
  auto it = tx_names.find(engine_id);
  return it == tx_names.end() ? engine_id : it->second;
}

std::string TraceModel::HostName(uint32_t host) const {
  if (host == kWorldHost) return "world";
  if (host < hosts.size()) return hosts[host];
  return absl::StrCat("h", host);
}

std::string TraceModel::RmOfEnlistment(const std::string& en) const {
  auto it = enlistments.find(en);
  return it == enlistments.end() ? "" : it->second.rm;
}

bool TraceModel::MentionsFocus(const TraceRecord& record) const {
  if (focus_ids.empty()) return false;
  return std::any_of(record.fields.begin(), record.fields.end(),
                     [this](const auto& field) { return focus_ids.count(field.second) != 0; });
}

std::string TraceModel::ViolationTags(size_t record) const {
  auto it = violating.find(record);
  if (it == violating.end()) return "";
  std::vector<std::string> tags;
  for (size_t number : it->second) {
    tags.push_back(absl::StrCat("V", number, " ",
                                number - 1 < violations.size() ? violations[number - 1].rule : ""));
  }
  return absl::StrJoin(tags, ", ");
}

TraceModel BuildTraceModel(const harness::Scenario& scenario, const harness::RunResult& result) {
  TraceModel model;
  model.scenario = scenario.name;
  model.seed = result.seed;
  model.passed = result.passed;
  model.trace_events = result.trace_events;
  for (const harness::HostSpec& host : scenario.hosts) model.hosts.push_back(host.name);
  for (const harness::RmSpec& rm : scenario.rms) model.rms.emplace_back(rm.name, rm.host);
  model.records.reserve(result.trace.size());
  for (size_t i = 0; i < result.trace.size(); ++i) model.records.push_back(RecordOf(result.trace[i], i));
  model.violations = result.violations;
  model.tx_names = result.names.tx_by_uow;
  model.rm_names = result.names.rm_by_id;
  NameBranches(&model);
  JoinEnlistments(&model);
  SetFocus(result, &model);
  std::map<size_t, size_t> record_of_line;
  for (size_t i = 0; i < model.records.size(); ++i) record_of_line[model.records[i].line] = i;
  for (const auto& [line, numbers] : ViolatingTraceLines(result)) {
    auto it = record_of_line.find(line);
    if (it != record_of_line.end()) model.violating[it->second] = numbers;
  }
  return model;
}

}  // namespace reports
