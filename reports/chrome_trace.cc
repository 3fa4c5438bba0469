// Chrome trace-event JSON (see chrome_trace.h): metadata first (process and
// thread names), then slices for transactions and enlistments, instants and
// flows for the rest, all in one pass over the records after the lanes are
// known.
#include "reports/chrome_trace.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace reports {
namespace {

using Json = nlohmann::ordered_json;

constexpr int kClientTid = 1;
constexpr int kTmTid = 2;
constexpr int kRmTidBase = 3;
constexpr int kTxTidBase = 1000;                 // + N for "t<N>" (N <= 1,000,000 transactions)
constexpr int kOtherTxTidBase = 2'000'000;       // branches, unnamed transactions
constexpr int kEnlistmentTidBase = 3'000'000;

double Micros(int64_t ns) { return static_cast<double>(ns) / 1000.0; }

class ChromeTrace {
 public:
  explicit ChromeTrace(const TraceModel& model) : model_(model) {
    world_pid_ = static_cast<int>(model.hosts.size());
  }
  Json Build();

 private:
  int Pid(uint32_t host) const { return host == kWorldHost ? world_pid_ : static_cast<int>(host); }
  int RmTid(const std::string& rm) const {
    auto it = rm_tid_.find(rm);
    return it == rm_tid_.end() ? kTmTid : it->second;
  }
  int LaneTid(const TraceRecord& r) const;
  void Metadata();
  void ThreadName(int pid, int tid, const std::string& name, int sort);
  void Slices();
  void Slice(int pid, int tid, const std::string& name, int64_t begin, int64_t end, Json args);
  void Record(size_t index);
  Json Args(const TraceRecord& r, size_t index) const;
  void Flow(const std::string& id, int pid, int tid, int64_t time, bool start, const std::string& name);

  const TraceModel& model_;
  int world_pid_ = 0;
  std::map<std::string, int> rm_tid_;
  std::map<std::string, int> tx_tid_;       // engine tx id -> tid
  std::map<std::string, int> en_tid_;       // enlistment id -> tid
  std::map<std::string, size_t> notifies_;  // enlistment + n -> flow id
  size_t converted_ = 0;
  int other_tx_ = 0;
  Json events_ = Json::array();
};

int ChromeTrace::LaneTid(const TraceRecord& r) const {
  if (r.kind == "tx.create" || r.kind == "tx.commit_request" || r.kind == "tx.rollback_request") {
    return kClientTid;
  }
  if (r.kind.rfind("rm.", 0) == 0) return RmTid(r.Field("rm"));
  const std::string& disk = r.Field("disk");
  if (r.kind.rfind("disk.", 0) == 0 && disk.rfind("rm.", 0) == 0) return RmTid(disk.substr(3));
  return kTmTid;
}

void ChromeTrace::ThreadName(int pid, int tid, const std::string& name, int sort) {
  events_.push_back(Json{{"name", "thread_name"}, {"ph", "M"}, {"pid", pid}, {"tid", tid},
                         {"args", Json{{"name", name}}}});
  events_.push_back(Json{{"name", "thread_sort_index"}, {"ph", "M"}, {"pid", pid}, {"tid", tid},
                         {"args", Json{{"sort_index", sort}}}});
}

void ChromeTrace::Metadata() {
  for (uint32_t h = 0; h <= model_.hosts.size(); ++h) {
    const uint32_t host = h == model_.hosts.size() ? kWorldHost : h;
    events_.push_back(Json{{"name", "process_name"}, {"ph", "M"}, {"pid", Pid(host)}, {"tid", 0},
                           {"args", Json{{"name", model_.HostName(host)}}}});
    if (host == kWorldHost) continue;
    ThreadName(Pid(host), kClientTid, "client", kClientTid);
    ThreadName(Pid(host), kTmTid, "TM", kTmTid);
    int next = kRmTidBase;
    for (const auto& [rm, host_name] : model_.rms) {
      if (host_name != model_.hosts[h]) continue;
      rm_tid_[rm] = next;
      ThreadName(Pid(host), next, "RM " + rm, next);
      ++next;
    }
  }
}

void ChromeTrace::Slice(int pid, int tid, const std::string& name, int64_t begin, int64_t end, Json args) {
  events_.push_back(Json{{"name", name}, {"cat", "state"}, {"ph", "X"}, {"ts", Micros(begin)},
                         {"dur", Micros(std::max<int64_t>(end - begin, 1))}, {"pid", pid}, {"tid", tid},
                         {"args", std::move(args)}});
}

// Transactions and enlistments: lifetime and state slices on their own threads.
void ChromeTrace::Slices() {
  struct Life {
    uint32_t host = 0;
    int64_t begin = 0;
    std::vector<size_t> states;  // tx.state / en.state records
  };
  std::map<std::string, Life> txs, ens;
  const int64_t end = model_.records.empty() ? 0 : model_.records.back().time_ns;
  for (size_t i = 0; i < model_.records.size() && i < kChromeTraceRecordsMax; ++i) {
    const TraceRecord& r = model_.records[i];
    if (r.kind == "tx.create") txs[r.Field("tx")] = {r.host, r.time_ns, {}};
    if (r.kind == "en.create") ens[r.Field("en")] = {r.host, r.time_ns, {}};
    if (r.kind == "tx.state" && txs.count(r.Field("tx")) != 0) txs[r.Field("tx")].states.push_back(i);
    if (r.kind == "en.state" && ens.count(r.Field("en")) != 0) ens[r.Field("en")].states.push_back(i);
  }
  const auto states = [&](const Life& life, int pid, int tid) {
    for (size_t k = 0; k < life.states.size(); ++k) {
      const TraceRecord& r = model_.records[life.states[k]];
      const int64_t until = k + 1 < life.states.size() ? model_.records[life.states[k + 1]].time_ns : end;
      Slice(pid, tid, r.Field("to"), r.time_ns, until, Args(r, life.states[k]));
    }
  };
  for (const auto& [tx, life] : txs) {
    const std::string name = model_.TxLabel(tx);
    uint64_t number = 0;
    const bool numbered = name.size() > 1 && name[0] == 't' && absl::SimpleAtoi(name.substr(1), &number) &&
                          number <= 1'000'000;
    const int tid = numbered ? kTxTidBase + static_cast<int>(number) : kOtherTxTidBase + other_tx_++;
    tx_tid_[tx] = tid;
    ThreadName(Pid(life.host), tid, "tx " + name, tid);
    const int64_t last = life.states.empty() ? end : model_.records[life.states.back()].time_ns;
    Slice(Pid(life.host), tid, name, life.begin, std::max(last, life.begin + 1),
          Json{{"tx", tx}, {"history_name", name}});
    states(life, Pid(life.host), tid);
  }
  for (const auto& [en, life] : ens) {
    const int tid = kEnlistmentTidBase + static_cast<int>(en_tid_.size());
    en_tid_[en] = tid;
    const auto info = model_.enlistments.find(en);
    const std::string tx = info == model_.enlistments.end() ? "?" : model_.TxLabel(info->second.tx);
    const std::string rm = model_.RmOfEnlistment(en);
    ThreadName(Pid(life.host), tid, absl::StrCat(tx, " @ ", rm.empty() ? en.substr(0, 8) : rm), tid);
    states(life, Pid(life.host), tid);
  }
}

Json ChromeTrace::Args(const TraceRecord& r, size_t index) const {
  Json args = Json::object();
  for (const auto& [key, value] : r.fields) {
    args[key] = value;
    if ((key == "tx" || key == "uow") && model_.tx_names.count(value) != 0) args["history_tx"] = model_.TxLabel(value);
    if (key == "en" && !model_.RmOfEnlistment(value).empty()) args["rm_name"] = model_.RmOfEnlistment(value);
  }
  args["trace_line"] = r.line + 1;
  auto violating = model_.violating.find(index);
  if (violating != model_.violating.end()) {
    Json violations = Json::array();
    for (size_t number : violating->second) {
      const harness::Violation& v = model_.violations[number - 1];
      violations.push_back(absl::StrCat("V", number, " ", v.rule, " ", v.tx, ": ", v.message));
    }
    args["violations"] = std::move(violations);
  }
  return args;
}

void ChromeTrace::Flow(const std::string& id, int pid, int tid, int64_t time, bool start,
                       const std::string& name) {
  Json flow = Json{{"name", name}, {"cat", "flow"}, {"ph", start ? "s" : "f"}, {"id", id},
                   {"ts", Micros(time)}, {"pid", pid}, {"tid", tid}};
  if (!start) flow["bp"] = "e";
  events_.push_back(std::move(flow));
}

void ChromeTrace::Record(size_t index) {
  const TraceRecord& r = model_.records[index];
  const int pid = Pid(r.host);
  const int tid = r.host == kWorldHost ? 0 : LaneTid(r);
  std::string name = r.kind;
  if (!r.Field("tx").empty()) absl::StrAppend(&name, " ", model_.TxLabel(r.Field("tx")));
  if (!r.Field("uow").empty()) absl::StrAppend(&name, " ", model_.TxLabel(r.Field("uow")));
  if (!r.Field("n").empty()) absl::StrAppend(&name, " ", r.Field("n"));
  const std::string tags = model_.ViolationTags(index);
  if (!tags.empty()) name = absl::StrCat("VIOLATION ", tags, ": ", name);
  Json event = Json{{"name", name}, {"cat", r.kind.substr(0, r.kind.find('.'))}, {"ts", Micros(r.time_ns)},
                    {"pid", pid}, {"tid", tid}};
  const bool flow_end = r.kind == "rm.notify" || r.kind == "net.deliver";
  const bool flow_start = r.kind == "ktm.notify" || r.kind == "net.send";
  if (flow_start || flow_end) {
    event["ph"] = "X";
    event["dur"] = 1;
  } else {
    event["ph"] = "i";
    event["s"] = r.kind == "crash" || r.kind == "restart" ? "p" : (r.host == kWorldHost ? "g" : "t");
  }
  event["args"] = Args(r, index);
  if (!tags.empty()) event["cname"] = "terrible";
  events_.push_back(std::move(event));
  if (r.kind == "ktm.notify") {
    const auto info = model_.enlistments.find(r.Field("en"));
    if (info == model_.enlistments.end()) return;
    const std::string key = absl::StrCat(info->second.tx, "/", info->second.rm, "/", r.Field("n"));
    notifies_[key] = index;
    Flow(absl::StrCat("n", index), pid, tid, r.time_ns, true, "notify " + r.Field("n"));
  } else if (r.kind == "rm.notify") {
    auto it = notifies_.find(absl::StrCat(r.Field("uow"), "/", r.Field("rm"), "/", r.Field("n")));
    if (it == notifies_.end()) return;
    Flow(absl::StrCat("n", it->second), pid, tid, r.time_ns, false, "notify " + r.Field("n"));
    notifies_.erase(it);
  } else if (r.kind == "net.send" || r.kind == "net.deliver") {
    Flow("m" + r.Field("seq"), pid, tid, r.time_ns, r.kind == "net.send", "datagram #" + r.Field("seq"));
  }
}

Json ChromeTrace::Build() {
  Metadata();
  Slices();
  for (size_t i = 0; i < model_.records.size() && i < kChromeTraceRecordsMax; ++i) {
    Record(i);
    ++converted_;
  }
  if (converted_ < model_.records.size()) {
    events_.push_back(Json{{"name", "truncated"}, {"ph", "i"}, {"s", "g"}, {"pid", world_pid_}, {"tid", 0},
                           {"ts", Micros(model_.records[converted_ - 1].time_ns)},
                           {"args", Json{{"records_not_converted", model_.records.size() - converted_}}}});
  }
  return std::move(events_);
}

}  // namespace

Json ChromeTraceJson(const TraceModel& model) {
  ChromeTrace trace(model);
  return trace.Build();
}

}  // namespace reports
