// Sequence diagram DOT (see sequence_diagram.h). Steps: describe every
// record as an Item (lane, optional arrow target, label, style), merging the
// two halves of one interaction (the TM's "ktm.notify" with the RM's
// "rm.notify", "rm.enlist" with "en.create"); choose the rows; lay them out
// as a grid: a column per lane, a rank per row, invisible nodes where a lane
// has nothing, dashed life lines through each column, flat invisible edges
// fixing the column order in every row.
#include "reports/sequence_diagram.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "model/history.h"
#include "reports/graphviz.h"

namespace reports {
namespace {

enum class Style { kPlain, kCall, kState, kForce, kIo, kCrash, kRestart, kFault, kMessage };

struct Item {
  std::vector<size_t> records;  // the row's record first, a merged partner second
  std::string lane;             // lane key: "world", "client/<h>", "tm/<h>", "rm/<name>"
  std::string to_lane;          // arrow target lane, "" for none
  std::string label;
  Style style = Style::kPlain;
  bool across_host = false;     // crash / restart: on every lane of its host
  uint32_t host = kWorldHost;
  std::string send_seq;         // net.send: datagram sequence number
  std::string end_seq;          // net.deliver / net.drop
};

std::string ClientLane(uint32_t host) { return absl::StrCat("client/", host); }
std::string TmLane(uint32_t host) { return absl::StrCat("tm/", host); }
std::string RmLane(const std::string& rm) { return "rm/" + rm; }

class Describer {
 public:
  explicit Describer(const TraceModel& model) : model_(model) {}
  Item Describe(size_t index) const;

 private:
  Item Transaction(const TraceRecord& r) const;
  Item Enlistment(const TraceRecord& r) const;
  Item Kv(const TraceRecord& r) const;
  Item Disk(const TraceRecord& r) const;
  Item Network(const TraceRecord& r) const;
  Item Dist(const TraceRecord& r) const;
  std::string Tx(const TraceRecord& r) const {
    const std::string& id = r.Field("tx").empty() ? r.Field("uow") : r.Field("tx");
    return model_.TxLabel(id);
  }
  std::string RmLaneOf(const std::string& en, uint32_t host) const {
    const std::string rm = model_.RmOfEnlistment(en);
    return rm.empty() ? TmLane(host) : RmLane(rm);
  }
  const TraceModel& model_;
};

Item Describer::Transaction(const TraceRecord& r) const {
  Item item;
  item.lane = TmLane(r.host);
  const std::string tx = Tx(r);
  if (r.kind == "tx.create" || r.kind == "tx.commit_request" || r.kind == "tx.rollback_request") {
    static const std::map<std::string, std::string> kCalls = {
        {"tx.create", "CreateTransaction"}, {"tx.commit_request", "CommitTransaction"},
        {"tx.rollback_request", "RollbackTransaction"}};
    item.lane = ClientLane(r.host);
    item.to_lane = TmLane(r.host);
    item.style = Style::kCall;
    item.label = absl::StrCat(kCalls.at(r.kind), " ", tx);
  } else if (r.kind == "tx.state") {
    item.style = Style::kState;
    item.label = absl::StrCat(tx, ": ", r.Field("from"), " → ", r.Field("to"));
  } else {
    item.label = absl::StrCat(tx, " ", r.kind.substr(3), r.Field("reason").empty() ? "" : " (" + r.Field("reason") + ")");
  }
  return item;
}

Item Describer::Enlistment(const TraceRecord& r) const {
  Item item;
  item.lane = TmLane(r.host);
  const std::string& en = r.Field("en");
  const std::string rm = model_.RmOfEnlistment(en);
  const EnlistmentInfo* info = nullptr;
  if (auto it = model_.enlistments.find(en); it != model_.enlistments.end()) info = &it->second;
  const std::string tx = info != nullptr ? model_.TxLabel(info->tx) : Tx(r);
  const std::string who = rm.empty() ? en.substr(0, 8) : rm;
  if (r.kind == "en.create") {
    item.lane = RmLaneOf(en, r.host);
    item.to_lane = item.lane == TmLane(r.host) ? "" : TmLane(r.host);
    item.style = Style::kCall;
    item.label = absl::StrCat("CreateEnlistment ", tx);
  } else if (r.kind == "en.state") {
    item.style = Style::kState;
    item.label = absl::StrCat(who, "/", tx, ": ", r.Field("from"), " → ", r.Field("to"));
  } else if (r.kind == "ktm.notify") {
    item.to_lane = RmLaneOf(en, r.host);
    if (item.to_lane == item.lane) item.to_lane.clear();
    item.style = Style::kCall;
    item.label = absl::StrCat(r.Field("n"), " ", tx);
  } else {
    item.label = absl::StrCat(r.kind, " ", who, "/", tx);
  }
  return item;
}

Item Describer::Kv(const TraceRecord& r) const {
  Item item;
  item.lane = RmLane(r.Field("rm"));
  const std::string tx = Tx(r);
  if (r.kind == "rm.vote") {
    item.to_lane = TmLane(r.host);
    item.style = Style::kCall;
    item.label = absl::StrCat("vote ", r.Field("vote"), " ", tx);
  } else if (r.kind == "rm.enlist") {
    item.to_lane = TmLane(r.host);
    item.style = Style::kCall;
    item.label = absl::StrCat("CreateEnlistment ", tx);
  } else if (r.kind == "rm.write") {
    item.label = absl::StrCat(tx, " write ", r.Field("key"), "=", r.Field("value"));
  } else if (r.kind == "rm.read") {
    item.label = absl::StrCat(tx, " read ", r.Field("key"), " → ",
                              r.Field("value").empty() ? "(absent)" : r.Field("value"));
  } else if (r.kind == "rm.committed" || r.kind == "rm.aborted") {
    item.style = Style::kState;
    item.label = absl::StrCat(tx, " ", r.kind.substr(3));
  } else if (r.kind == "rm.notify") {
    item.label = absl::StrCat("got ", r.Field("n"), " ", tx);
  } else {
    std::vector<std::string> fields;
    for (const auto& [key, value] : r.fields) {
      if (key != "rm") fields.push_back(absl::StrCat(key, "=", key == "uow" ? tx : value));
    }
    item.label = absl::StrCat(r.kind.substr(3), " ", absl::StrJoin(fields, " "));
  }
  return item;
}

Item Describer::Disk(const TraceRecord& r) const {
  Item item;
  const std::string& disk = r.Field("disk");
  item.lane = disk.rfind("rm.", 0) == 0 ? RmLane(disk.substr(3)) : TmLane(r.host);
  const bool failed = !r.Field("status").empty() && r.Field("status") != "ok";
  const std::string where = r.Field("off").empty() ? "" : absl::StrCat(" @", r.Field("off"), "+", r.Field("len"));
  if (r.kind == "disk.flush" || (r.kind == "disk.write" && r.Field("fua") == "1")) {
    item.style = Style::kForce;
    item.label = absl::StrCat(r.kind == "disk.flush" ? "flush " : "forced write ", disk, where);
  } else if (r.kind == "disk.write" || r.kind == "disk.read") {
    item.style = Style::kIo;
    item.label = absl::StrCat(r.kind.substr(5), " ", disk, where);
  } else {
    item.style = Style::kFault;
    item.label = absl::StrCat(r.kind, " ", disk, r.Field("sector").empty() ? "" : " sector " + r.Field("sector"));
  }
  if (failed) {
    item.style = Style::kFault;
    absl::StrAppend(&item.label, " ", r.Field("status"));
  }
  return item;
}

Item Describer::Network(const TraceRecord& r) const {
  Item item;
  item.lane = TmLane(r.host);
  const std::string& seq = r.Field("seq");
  if (r.kind == "net.send") {
    item.style = Style::kMessage;
    item.send_seq = seq;
    uint32_t to = kWorldHost;
    (void)absl::SimpleAtoi(r.Field("to"), &to);
    item.label = absl::StrCat("send #", seq, " to ", model_.HostName(to));
  } else if (r.kind == "net.deliver") {
    item.style = Style::kMessage;
    item.end_seq = seq;
    item.label = absl::StrCat("deliver #", seq);
  } else if (r.kind == "net.drop") {
    item.style = Style::kFault;
    item.end_seq = seq;
    item.label = absl::StrCat("drop #", seq, " (", r.Field("reason"), ")");
  } else {
    item.label = r.kind;
  }
  return item;
}

Item Describer::Dist(const TraceRecord& r) const {
  Item item;
  item.lane = TmLane(r.host);
  const std::string tx = Tx(r);
  if (r.kind == "dist.send" || r.kind == "dist.recv") {
    item.style = Style::kMessage;
    item.label = absl::StrCat(r.kind == "dist.send" ? "send " : "recv ", r.Field("type"), " ", tx);
  } else if (r.kind == "dist.state") {
    item.style = Style::kState;
    item.label = absl::StrCat(r.Field("role"), " ", tx, ": ", r.Field("from"), " → ", r.Field("to"));
  } else if (r.kind == "dist.log_forced") {
    item.style = Style::kForce;
    item.label = absl::StrCat("DTC log forced (", r.Field("record"), ") ", tx);
  } else {
    item.label = absl::StrCat(r.kind, " ", tx);
  }
  return item;
}

Item Describer::Describe(size_t index) const {
  const TraceRecord& r = model_.records[index];
  Item item;
  if (r.host == kWorldHost) {
    item.lane = "world";
    item.style = Style::kFault;
    item.label = r.kind == "net.partition" ? "partition " + r.Field("groups") : r.kind;
  } else if (r.kind == "crash" || r.kind == "restart") {
    item.lane = TmLane(r.host);
    item.across_host = true;
    item.style = r.kind == "crash" ? Style::kCrash : Style::kRestart;
    item.label = absl::StrCat(r.kind == "crash" ? "CRASH " : "RESTART ", model_.HostName(r.host));
  } else if (r.kind.rfind("tx.", 0) == 0) {
    item = Transaction(r);
  } else if (r.kind.rfind("en.", 0) == 0 || r.kind == "ktm.notify") {
    item = Enlistment(r);
  } else if (r.kind.rfind("rm.", 0) == 0) {
    item = Kv(r);
  } else if (r.kind.rfind("disk.", 0) == 0) {
    item = Disk(r);
  } else if (r.kind.rfind("net.", 0) == 0) {
    item = Network(r);
  } else if (r.kind.rfind("dist.", 0) == 0) {
    item = Dist(r);
  } else {
    item.lane = TmLane(r.host);
    const std::string tx = r.Field("tx").empty() ? "" : " " + model_.TxLabel(r.Field("tx"));
    item.style = r.kind == "ktm.log_forced" ? Style::kForce : Style::kPlain;
    item.label = r.kind == "ktm.log_forced" ? "commit record forced" + tx : r.kind + tx;
  }
  item.records = {index};
  item.host = r.host;
  return item;
}

// The other half of an interaction recorded as two events at one instant:
// ktm.notify + kv.notify, kv.enlist + en.create (either order). SIZE_MAX if none.
size_t Partner(const TraceModel& model, size_t index, const std::set<size_t>& taken) {
  constexpr size_t kLookAhead = 8;
  const TraceRecord& r = model.records[index];
  for (size_t j = index + 1; j < model.records.size() && j <= index + kLookAhead; ++j) {
    const TraceRecord& o = model.records[j];
    if (o.time_ns != r.time_ns || o.host != r.host) break;
    if (taken.count(j) != 0) continue;
    const auto en_of = [&model](const TraceRecord& rec) {
      auto it = model.enlistments.find(rec.Field("en"));
      return it == model.enlistments.end() ? EnlistmentInfo{} : it->second;
    };
    if (r.kind == "ktm.notify" && o.kind == "rm.notify" && o.Field("n") == r.Field("n") &&
        o.Field("uow") == en_of(r).tx && o.Field("rm") == en_of(r).rm) {
      return j;
    }
    if (r.kind == "rm.enlist" && o.kind == "en.create" && o.Field("tx") == r.Field("uow")) return j;
    if (r.kind == "dist.send" && o.kind == "net.send" && o.Field("to") == r.Field("to")) return j;
    if (r.kind == "net.deliver" && o.kind == "dist.recv" && o.Field("from") == r.Field("from")) return j;
    if (r.kind == "en.create" && o.kind == "rm.enlist" && r.Field("tx") == o.Field("uow")) return j;
  }
  return SIZE_MAX;
}

bool IsFault(const TraceRecord& r) {
  return r.host == kWorldHost || r.kind == "crash" || r.kind == "restart" || r.kind == "disk.latent" ||
         r.kind == "disk.corrupt" || r.kind == "net.drop";
}

bool IsForce(const TraceRecord& r) {
  return r.kind == "disk.flush" || (r.kind == "disk.write" && r.Field("fua") == "1");
}

// Every record as an item, interactions merged, in trace order.
std::vector<Item> DescribeAll(const TraceModel& model) {
  const Describer describer(model);
  std::vector<Item> items;
  std::set<size_t> taken;
  for (size_t i = 0; i < model.records.size(); ++i) {
    if (taken.count(i) != 0) continue;
    const size_t partner = Partner(model, i, taken);
    // The item is described from the half that knows most: the TM's (it
    // knows the enlistment), the network's (it knows the datagram), with
    // the DTC's message type and transaction added.
    const bool partner_leads = partner != SIZE_MAX && (model.records[partner].kind == "en.create" ||
                                                       model.records[partner].kind == "net.send");
    Item item = describer.Describe(partner_leads ? partner : i);
    if (partner != SIZE_MAX) {
      const TraceRecord& dist = model.records[model.records[i].kind.rfind("dist.", 0) == 0 ? i : partner];
      if (dist.kind.rfind("dist.", 0) == 0) {
        absl::StrAppend(&item.label, ": ", dist.Field("type"), " ", model.TxLabel(dist.Field("tx")));
      }
    }
    item.records = {i};
    if (partner != SIZE_MAX) {
      item.records.push_back(partner);
      taken.insert(partner);
    }
    items.push_back(std::move(item));
  }
  return items;
}

bool Violating(const TraceModel& model, const Item& item) {
  return std::any_of(item.records.begin(), item.records.end(),
                     [&model](size_t r) { return model.violating.count(r) != 0; });
}

// The items worth drawing: with a focus transaction its events, the faults,
// the violating events and forced writes while it ran; else everything.
std::vector<size_t> Candidates(const TraceModel& model, const std::vector<Item>& items) {
  std::vector<size_t> candidates;
  int64_t first = INT64_MAX, last = INT64_MIN;
  std::set<uint32_t> hosts;
  for (const TraceRecord& r : model.records) {
    if (!model.MentionsFocus(r)) continue;
    first = std::min(first, r.time_ns);
    last = std::max(last, r.time_ns);
    hosts.insert(r.host);
  }
  for (size_t i = 0; i < items.size(); ++i) {
    const bool relevant = std::any_of(items[i].records.begin(), items[i].records.end(), [&](size_t r) {
      const TraceRecord& record = model.records[r];
      return model.focus_ids.empty() || model.MentionsFocus(record) || IsFault(record) ||
             model.violating.count(r) != 0 ||
             (IsForce(record) && record.time_ns >= first && record.time_ns <= last &&
              hosts.count(record.host) != 0);
    });
    if (relevant) candidates.push_back(i);
  }
  return candidates;
}

// At most `limit` candidates: the violating ones and their nearest
// neighbours (in candidate order); the first ones when nothing violates.
std::vector<size_t> Choose(const TraceModel& model, const std::vector<Item>& items,
                           const std::vector<size_t>& candidates, size_t limit) {
  if (candidates.size() <= limit) return candidates;
  std::vector<size_t> marked;
  for (size_t c = 0; c < candidates.size(); ++c) {
    if (Violating(model, items[candidates[c]])) marked.push_back(c);
  }
  if (marked.empty()) return std::vector<size_t>(candidates.begin(), candidates.begin() + static_cast<long>(limit));
  std::vector<std::pair<size_t, size_t>> by_distance;  // (distance, candidate position)
  for (size_t c = 0; c < candidates.size(); ++c) {
    const auto nearest = std::lower_bound(marked.begin(), marked.end(), c);
    size_t distance = SIZE_MAX;
    if (nearest != marked.end()) distance = *nearest - c;
    // Earlier events are the story that led to the violation: favour them 2:1.
    if (nearest != marked.begin()) distance = std::min(distance, 2 * (c - *(nearest - 1)));
    by_distance.emplace_back(distance, c);
  }
  std::sort(by_distance.begin(), by_distance.end());
  std::vector<size_t> chosen;
  for (size_t k = 0; k < limit; ++k) chosen.push_back(by_distance[k].second);
  std::sort(chosen.begin(), chosen.end());
  for (size_t& c : chosen) c = candidates[c];
  return chosen;
}

struct Row {
  const Item* item = nullptr;  // nullptr: a "not drawn" row
  size_t skipped = 0;
  int64_t time_ns = 0;
};

// The rows: chosen items, with a gap row wherever candidates were left out.
std::vector<Row> Rows(const TraceModel& model, const std::vector<Item>& items,
                      const std::vector<size_t>& candidates, const std::vector<size_t>& chosen) {
  std::vector<Row> rows;
  size_t next_candidate = 0;
  for (size_t item : chosen) {
    size_t skipped = 0;
    while (next_candidate < candidates.size() && candidates[next_candidate] < item) {
      ++skipped;
      ++next_candidate;
    }
    ++next_candidate;
    if (skipped > 0) rows.push_back({nullptr, skipped, model.records[items[item].records[0]].time_ns});
    rows.push_back({&items[item], 0, model.records[items[item].records[0]].time_ns});
  }
  if (next_candidate < candidates.size()) {
    rows.push_back({nullptr, candidates.size() - next_candidate, rows.empty() ? 0 : rows.back().time_ns});
  }
  return rows;
}

struct Lane {
  std::string key;
  std::string title;
  uint32_t host = kWorldHost;
};

// Lanes used by the rows, in a fixed order: world, then per host its
// client, its TM and its RMs (scenario order); lanes the scenario does not
// describe (a trace from elsewhere) last, by key.
std::vector<Lane> Lanes(const TraceModel& model, const std::vector<Row>& rows) {
  std::map<std::string, uint32_t> used;  // lane key -> host
  uint32_t hosts = static_cast<uint32_t>(model.hosts.size());
  for (const Row& row : rows) {
    if (row.item == nullptr) continue;
    used.emplace(row.item->lane, row.item->host);
    if (!row.item->to_lane.empty()) used.emplace(row.item->to_lane, row.item->host);
    if (row.item->host != kWorldHost) hosts = std::max(hosts, row.item->host + 1);
  }
  std::vector<Lane> lanes;
  const auto add = [&](const std::string& key, const std::string& title, uint32_t host) {
    auto it = used.find(key);
    if (it == used.end()) return;
    lanes.push_back({key, title, host});
    used.erase(it);
  };
  add("world", "world\n(fault plan)", kWorldHost);
  for (uint32_t h = 0; h < hosts; ++h) {
    add(ClientLane(h), "client\n" + model.HostName(h), h);
    add(TmLane(h), "TM\n" + model.HostName(h), h);
    for (const auto& [rm, host] : model.rms) {
      if (host == model.HostName(h)) add(RmLane(rm), absl::StrCat("RM ", rm, "\n", host), h);
    }
  }
  for (const auto& [key, host] : used) {
    const bool rm = key.rfind("rm/", 0) == 0;
    lanes.push_back({key, rm ? "RM " + key.substr(3) : key, host});
  }
  return lanes;
}

std::string NodeStyle(Style style, bool violating) {
  static const std::map<Style, std::string> kStyles = {
      {Style::kPlain, "shape=box, fillcolor=\"#ffffff\""},
      {Style::kCall, "shape=box, fillcolor=\"#f3f3f3\""},
      {Style::kState, "shape=box, fillcolor=\"#e4eefc\""},
      {Style::kForce, "shape=cylinder, fillcolor=\"#fff1bf\""},
      {Style::kIo, "shape=box, fillcolor=\"#ffffff\", fontcolor=\"#777777\", color=\"#aaaaaa\""},
      {Style::kCrash, "shape=octagon, fillcolor=\"#222222\", fontcolor=\"#ffffff\""},
      {Style::kRestart, "shape=octagon, fillcolor=\"#d5f2cf\""},
      {Style::kFault, "shape=box, fillcolor=\"#ffe2b8\""},
      {Style::kMessage, "shape=ellipse, fillcolor=\"#eaf7f7\""},
  };
  std::string attributes = kStyles.at(style);
  if (violating) {
    absl::StrAppend(&attributes, ", color=\"#d00000\", fontcolor=\"#d00000\", penwidth=2.5");
    if (style != Style::kCrash) absl::StrAppend(&attributes, ", fillcolor=\"#ffe0e0\"");
  }
  return attributes;
}

std::string Title(const TraceModel& model, size_t drawn, size_t candidates) {
  std::string title = absl::StrCat("ktmsim: scenario ", model.scenario, ", seed ", model.seed, ", ",
                                   model.passed ? "pass" : "FAIL", "\n");
  for (size_t v = 0; v < model.violations.size() && v < 3; ++v) {
    const harness::Violation& violation = model.violations[v];
    std::string message = violation.message.size() > 160 ? violation.message.substr(0, 157) + "..." : violation.message;
    absl::StrAppend(&title, "V", v + 1, " ", violation.rule, " ", violation.tx, ": ", message, "\n");
  }
  if (model.violations.size() > 3) absl::StrAppend(&title, "(", model.violations.size() - 3, " more violations in trace.txt)\n");
  const std::string what = model.focus_tx.empty()
                               ? "events"
                               : absl::StrCat("events of ", model.focus_tx, ", faults and forced writes while it ran");
  absl::StrAppend(&title, "drawn: ", drawn, " of ", candidates, " ", what, " (", model.records.size(),
                  " trace events in all, every one in trace.txt)");
  if (drawn < candidates) absl::StrAppend(&title, "; ⋮ rows mark events not drawn");
  absl::StrAppend(&title, "\nred: the events the violations name; time flows down");
  return title;
}

class DotWriter {
 public:
  DotWriter(const TraceModel& model, const std::vector<Row>& rows, const std::vector<Lane>& lanes)
      : model_(model), rows_(rows), lanes_(lanes) {
    for (size_t l = 0; l < lanes.size(); ++l) lane_index_[lanes[l].key] = l;
  }
  std::string Write(const std::string& title);

 private:
  static std::string Id(size_t row, size_t lane) { return absl::StrCat("r", row, "_", lane); }
  static std::string TimeId(size_t row) { return absl::StrCat("t", row); }
  void Header();
  void RowNodes(size_t row);
  void LifeLines();
  void Arrows();
  const TraceModel& model_;
  const std::vector<Row>& rows_;
  const std::vector<Lane>& lanes_;
  std::map<std::string, size_t> lane_index_;
  std::string out_;
};

void DotWriter::Header() {
  absl::StrAppend(&out_, "  { rank=same; h_time [label=\"virtual time\", shape=plaintext, style=\"\"];\n");
  for (size_t l = 0; l < lanes_.size(); ++l) {
    absl::StrAppend(&out_, "    h_", l, " [label=", DotQuote(lanes_[l].title),
                    ", shape=box, style=\"filled,bold\", fillcolor=\"#dfe6f0\", fontsize=11];\n");
  }
  absl::StrAppend(&out_, "  }\n  h_time");
  for (size_t l = 0; l < lanes_.size(); ++l) absl::StrAppend(&out_, " -> h_", l);
  absl::StrAppend(&out_, " [style=invis];\n");
}

void DotWriter::RowNodes(size_t r) {
  const Row& row = rows_[r];
  absl::StrAppend(&out_, "  { rank=same; ", TimeId(r), " [shape=plaintext, style=\"\", label=",
                  DotQuote(row.item == nullptr ? "⋮" : model::FormatTimeNs(row.time_ns)), "];\n");
  std::map<size_t, std::string> cells;  // lane -> node attributes
  if (row.item == nullptr) {
    cells[0] = absl::StrCat("shape=plaintext, style=\"\", fontcolor=\"#666666\", label=",
                            DotQuote(absl::StrCat("⋮ ", row.skipped, " events not drawn")));
  } else {
    const Item& item = *row.item;
    const bool violating = Violating(model_, item);
    std::string label = item.label;
    for (size_t record : item.records) {
      const std::string tags = model_.ViolationTags(record);
      if (!tags.empty()) label = absl::StrCat(label, "\n<- ", tags);
    }
    const std::string style = NodeStyle(item.style, violating);
    if (item.across_host) {
      for (size_t l = 0; l < lanes_.size(); ++l) {
        if (lanes_[l].host == item.host) {
          cells[l] = absl::StrCat(style, ", label=", DotQuote(label));
        }
      }
    } else {
      cells[lane_index_.at(item.lane)] = absl::StrCat(style, ", label=", DotQuote(label));
      if (!item.to_lane.empty()) {
        cells[lane_index_.at(item.to_lane)] = absl::StrCat(
            "shape=point, width=0.09, style=filled, fillcolor=", violating ? "\"#d00000\"" : "\"#333333\"");
      }
    }
  }
  for (size_t l = 0; l < lanes_.size(); ++l) {
    auto cell = cells.find(l);
    absl::StrAppend(&out_, "    ", Id(r, l), " [",
                    cell == cells.end() ? "shape=point, width=0.01, style=invis, label=\"\"" : cell->second,
                    "];\n");
  }
  absl::StrAppend(&out_, "  }\n  ", TimeId(r));
  for (size_t l = 0; l < lanes_.size(); ++l) absl::StrAppend(&out_, " -> ", Id(r, l));
  absl::StrAppend(&out_, " [style=invis];\n");
}

void DotWriter::LifeLines() {
  absl::StrAppend(&out_, "  h_time");
  for (size_t r = 0; r < rows_.size(); ++r) absl::StrAppend(&out_, " -> ", TimeId(r));
  absl::StrAppend(&out_, " [style=invis, weight=100];\n");
  for (size_t l = 0; l < lanes_.size(); ++l) {
    absl::StrAppend(&out_, "  h_", l);
    for (size_t r = 0; r < rows_.size(); ++r) absl::StrAppend(&out_, " -> ", Id(r, l));
    absl::StrAppend(&out_, " [arrowhead=none, style=dashed, color=\"#b8b8b8\", weight=100];\n");
  }
}

void DotWriter::Arrows() {
  std::map<std::string, size_t> sends;  // datagram seq -> row
  for (size_t r = 0; r < rows_.size(); ++r) {
    const Item* item = rows_[r].item;
    if (item == nullptr) continue;
    const bool violating = Violating(model_, *item);
    const char* color = violating ? "\"#d00000\"" : "\"#333333\"";
    if (!item->to_lane.empty()) {
      absl::StrAppend(&out_, "  ", Id(r, lane_index_.at(item->lane)), " -> ",
                      Id(r, lane_index_.at(item->to_lane)), " [constraint=false, color=", color,
                      violating ? ", penwidth=2.5" : "", "];\n");
    }
    if (!item->send_seq.empty()) sends[item->send_seq] = r;
    auto send = item->end_seq.empty() ? sends.end() : sends.find(item->end_seq);
    if (send != sends.end()) {
      const Item& from = *rows_[send->second].item;
      absl::StrAppend(&out_, "  ", Id(send->second, lane_index_.at(from.lane)), " -> ",
                      Id(r, lane_index_.at(item->lane)), " [constraint=false, color=\"#1f6f8b\"",
                      item->style == Style::kFault ? ", style=dashed" : "", "];\n");
    }
  }
}

std::string DotWriter::Write(const std::string& title) {
  out_ = absl::StrCat(
      "digraph trace {\n",
      "  graph [fontname=\"Helvetica\", fontsize=12, labelloc=t, labeljust=l, nodesep=0.3, ranksep=0.12, "
      "newrank=true, label=", DotQuote(title), "];\n",
      "  node [fontname=\"Helvetica\", fontsize=9, style=\"rounded,filled\", height=0.25, margin=\"0.08,0.03\"];\n",
      "  edge [fontname=\"Helvetica\", fontsize=8, arrowsize=0.7];\n");
  Header();
  for (size_t r = 0; r < rows_.size(); ++r) RowNodes(r);
  LifeLines();
  Arrows();
  out_ += "}\n";
  return out_;
}

}  // namespace

std::string SequenceDiagramDot(const TraceModel& model, const SequenceOptions& options) {
  const std::vector<Item> items = DescribeAll(model);
  const std::vector<size_t> candidates = Candidates(model, items);
  const std::vector<size_t> chosen = Choose(model, items, candidates, std::max<size_t>(options.events_max, 1));
  std::vector<Row> rows = Rows(model, items, candidates, chosen);
  std::vector<Lane> lanes = Lanes(model, rows);
  if (lanes.empty()) lanes.push_back({"world", "world\n(fault plan)", kWorldHost});
  DotWriter writer(model, rows, lanes);
  return writer.Write(Title(model, chosen.size(), candidates.size()));
}

}  // namespace reports
