// TraceModel construction (see trace_model.h): parse the lines, then the
// joins (transactions, RMs, enlistments), then the focus and the marks.
#include "reports/trace_model.h"

#include <algorithm>
#include <deque>
#include <tuple>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "model/history.h"
#include "reports/failure.h"

namespace reports {
namespace {

bool IsKey(absl::string_view word) {
  if (word.empty()) return false;
  return std::all_of(word.begin(), word.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
  });
}

bool ParseLine(absl::string_view line, TraceRecord* record) {
  const std::vector<absl::string_view> words = absl::StrSplit(line, ' ');
  if (words.size() < 3 || !absl::SimpleAtoi(words[0], &record->time_ns)) return false;
  if (words[1] == "h-") {
    record->host = kWorldHost;
  } else if (words[1].size() < 2 || words[1][0] != 'h' ||
             !absl::SimpleAtoi(words[1].substr(1), &record->host)) {
    return false;
  }
  record->kind = std::string(words[2]);
  for (size_t i = 3; i < words.size(); ++i) {
    const size_t equals = words[i].find('=');
    if (equals != absl::string_view::npos && IsKey(words[i].substr(0, equals))) {
      record->fields.emplace_back(std::string(words[i].substr(0, equals)),
                                  std::string(words[i].substr(equals + 1)));
    } else if (!record->fields.empty()) {
      absl::StrAppend(&record->fields.back().second, " ", words[i]);
    }
  }
  return true;
}

// Engine transaction id -> history name: the k-th tx.create at (time, host)
// is the k-th Begin recorded at (time, host).
void NameTransactions(const harness::RunResult& result, TraceModel* model) {
  std::map<std::pair<int64_t, uint32_t>, std::deque<std::string>> begins;
  for (const model::HistoryEvent& event : result.history.events) {
    if (event.kind == model::EventKind::kBegin) begins[{event.time_ns, event.host}].push_back(event.tx);
  }
  for (const TraceRecord& record : model->records) {
    if (record.kind != "tx.create") continue;
    auto it = begins.find({record.time_ns, record.host});
    if (it == begins.end() || it->second.empty()) continue;
    model->tx_names.emplace(record.Field("tx"), it->second.front());
    it->second.pop_front();
  }
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
    if (name != model->tx_names.end() && model->tx_names.count(local) == 0) {
      model->tx_names[local] = absl::StrCat(name->second, "@", model->HostName(record.host));
    }
  }
}

// RM GUIDs and enlistments: en.create (en, tx, rm=GUID) and kv.enlist (rm=name,
// uow=tx) of the same time, host and transaction name the same enlistment.
void JoinEnlistments(TraceModel* model) {
  std::map<std::tuple<int64_t, uint32_t, std::string>, std::deque<std::string>> enlists;
  for (const TraceRecord& record : model->records) {
    if (record.kind == "kv.enlist") {
      enlists[{record.time_ns, record.host, record.Field("uow")}].push_back(record.Field("rm"));
    }
  }
  for (const TraceRecord& record : model->records) {
    if (record.kind != "en.create") continue;
    EnlistmentInfo info;
    info.tx = record.Field("tx");
    info.rm_guid = record.Field("rm");
    info.host = record.host;
    auto it = enlists.find({record.time_ns, record.host, info.tx});
    if (it != enlists.end() && !it->second.empty()) {
      info.rm = it->second.front();
      it->second.pop_front();
      model->rm_names.emplace(info.rm_guid, info.rm);
    }
    model->enlistments[record.Field("en")] = info;
  }
  for (auto& [en, info] : model->enlistments) {
    if (info.rm.empty()) {
      auto name = model->rm_names.find(info.rm_guid);
      if (name != model->rm_names.end()) info.rm = name->second;
    }
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
  for (const auto& [engine_id, name] : model->tx_names) {
    if (name == model->focus_tx) model->focus_ids.insert(engine_id);
  }
  // Without a tx.create to go by, the ids on the lines writing its values.
  if (model->focus_ids.empty()) model->focus_ids = TraceIdsOfTransaction(model->focus_tx, result);
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

std::vector<TraceRecord> ParseTraceText(const std::string& text) {
  std::vector<TraceRecord> records;
  size_t line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    TraceRecord record;
    if (!line.empty() && ParseLine(line, &record)) {
      record.line = line_number;
      records.push_back(std::move(record));
    }
    ++line_number;
  }
  return records;
}

TraceModel BuildTraceModel(const harness::Scenario& scenario, const harness::RunResult& result) {
  TraceModel model;
  model.scenario = scenario.name;
  model.seed = result.seed;
  model.passed = result.passed;
  model.trace_events = result.trace_events;
  for (const harness::HostSpec& host : scenario.hosts) model.hosts.push_back(host.name);
  for (const harness::RmSpec& rm : scenario.rms) model.rms.emplace_back(rm.name, rm.host);
  model.records = ParseTraceText(result.trace_text);
  model.violations = result.violations;
  NameTransactions(result, &model);
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
