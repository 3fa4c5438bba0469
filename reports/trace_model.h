// TraceModel: one run's trace as records, joined with the run's names, for
// the pictures (trace.svg, states.svg) and trace.json.
//
// The trace names things by engine ids (transaction and enlistment GUIDs,
// RM GUIDs); people and the checkers name them "t5" and "kv1". The model
// keeps both, from the run result's own name maps (harness::RunNames, kept
// by the history recorder as the run goes): tx_names maps an engine
// transaction id to the history's name (the local transaction of a
// distributed branch, from "dist.branch", is "t5@<host>"), rm_names an RM id
// to the scenario's RM name, and enlistments each enlistment's transaction
// and RM (from "en.create"). The focus is the transaction of the first
// violation; violating maps records to the violations whose history events
// they show (the lines trace.txt marks, reports::ViolatingTraceLines).
//
// Contract: a pure function of (scenario, result); records are the run's
// structured trace events (RunResult::trace), never its text re-parsed.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "harness/runner.h"
#include "harness/scenario.h"

namespace reports {

inline constexpr uint32_t kWorldHost = UINT32_MAX;  // "h-": world-level events

struct TraceRecord {
  int64_t time_ns = 0;
  uint32_t host = kWorldHost;
  std::string kind;
  std::vector<std::pair<std::string, std::string>> fields;
  size_t line = 0;  // index of the line in the trace text
  // Value of a field, "" when absent.
  const std::string& Field(const std::string& key) const;
};

struct EnlistmentInfo {
  std::string tx;       // engine transaction id
  std::string rm_guid;  // engine RM id
  std::string rm;       // the scenario's RM name ("" when unknown)
  uint32_t host = kWorldHost;
};

struct TraceModel {
  std::string scenario;
  uint64_t seed = 0;
  bool passed = true;
  std::vector<std::string> hosts;                          // names, by host id
  std::vector<std::pair<std::string, std::string>> rms;    // (RM, host name), scenario order
  std::vector<TraceRecord> records;
  uint64_t trace_events = 0;                               // the run's count (records may be fewer)
  std::map<std::string, std::string> tx_names;             // engine tx id -> "t5" ("t5@node2":
                                                           // a distributed branch of t5 on node2)
  std::map<std::string, std::string> branch_roots;         // branch's local tx id -> root tx id
  std::map<std::string, std::string> rm_names;             // RM GUID -> RM name
  std::map<std::string, EnlistmentInfo> enlistments;       // enlistment id -> info
  std::map<size_t, std::vector<size_t>> violating;         // record index -> violation numbers
  std::vector<harness::Violation> violations;
  std::string focus_tx;                                    // history name, "" when none
  std::set<std::string> focus_ids;                         // its transaction, branch and enlistment ids

  // "t5" for an engine transaction id the history knows, else the id itself.
  std::string TxLabel(const std::string& engine_id) const;
  // The scenario's host name, "world" for kWorldHost, "h<N>" when unknown.
  std::string HostName(uint32_t host) const;
  // The RM name behind an enlistment or RM GUID ("" when unknown).
  std::string RmOfEnlistment(const std::string& en) const;
  // True when a field value of `record` is one of focus_ids.
  bool MentionsFocus(const TraceRecord& record) const;
  // "V1 atomicity, V2 agreement" for a violating record, "" otherwise.
  std::string ViolationTags(size_t record) const;
};

TraceModel BuildTraceModel(const harness::Scenario& scenario, const harness::RunResult& result);

}  // namespace reports
