// The RM conformance kit: the rule checks over a history and the battery
// (see conform.h for the contract; docs/writing-an-rm.md for the mapping).
#include "harness/conform.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "harness/markup.h"
#include "harness/scenario_toml.h"

namespace harness {
namespace {

using model::EventKind;
using model::HistoryEvent;
constexpr size_t kNone = std::numeric_limits<size_t>::max();

const std::array<ConformRuleInfo, kConformRuleCount> kRules = {{
    {ConformRule::kPrepareDurable, "prepare_durable", "prepare durable before PrepareComplete"},
    {ConformRule::kCommitIdempotent, "commit_idempotent", "commit idempotent after recovery"},
    {ConformRule::kAnswerNotifications, "answer_notifications", "answer every notification"},
    {ConformRule::kNoWorkAfterPrepare, "no_work_after_prepare", "no new work after PREPARE"},
    {ConformRule::kRecoverEnlistment, "recover_enlistment", "RecoverEnlistment on RECOVER"},
    {ConformRule::kWaitOutInDoubt, "wait_out_indoubt", "wait out INDOUBT"},
    {ConformRule::kDurableAfterCommit, "durable_after_commit", "durable after CommitComplete"},
}};

// What one (transaction, RM) pair did, as history indexes in order.
struct Pair {
  std::vector<size_t> writes, reads, votes, notifications, committed, aborted;
  size_t first(const std::vector<size_t>& list) const { return list.empty() ? kNone : list.front(); }
};

// The facts of one history the rules read.
struct Facts {
  const model::History* history = nullptr;
  std::map<std::pair<std::string, std::string>, Pair> pairs;  // (tx, rm)
  std::map<std::string, uint32_t> host_of;                     // rm -> host
  std::map<uint32_t, std::vector<size_t>> crashes, recovered;  // host -> indexes
  std::set<std::string> committed_txs;                         // an RmCommitted or a client "committed"
  const TmForgotten* forgotten = nullptr;
  // Whether the TM on `host` had forgotten `tx` by the crash event `crash`.
  bool ForgottenBy(const std::string& tx, uint32_t host, size_t crash) const {
    auto it = forgotten->find(tx);
    if (it == forgotten->end()) return false;
    return std::any_of(it->second.begin(), it->second.end(), [&](const std::pair<uint32_t, int64_t>& f) {
      return f.first == host && f.second <= at(crash).time_ns;
    });
  }
  const HistoryEvent& at(size_t i) const { return history->events[i]; }
  std::string When(size_t i) const { return absl::StrCat("#", i, " at ", model::FormatTimeNs(at(i).time_ns)); }

  // The first crash of `host` in (after, before); kNone when there is none.
  size_t CrashIn(uint32_t host, size_t after, size_t before) const {
    auto it = crashes.find(host);
    if (it == crashes.end()) return kNone;
    for (size_t c : it->second) {
      if (c > after && c < before) return c;
    }
    return kNone;
  }
  bool RecoveredAfter(uint32_t host, size_t after) const {
    auto it = recovered.find(host);
    if (it == recovered.end()) return false;
    return std::any_of(it->second.begin(), it->second.end(), [after](size_t r) { return r > after; });
  }
};

Facts BuildFacts(const model::History& history, const TmForgotten& forgotten, const std::set<std::string>& rms) {
  Facts f;
  f.history = &history;
  f.forgotten = &forgotten;
  for (size_t i = 0; i < history.events.size(); ++i) {
    const HistoryEvent& e = history.events[i];
    if (e.kind == EventKind::kCrash) f.crashes[e.host].push_back(i);
    if (e.kind == EventKind::kRecovered) f.recovered[e.host].push_back(i);
    if (e.kind == EventKind::kOutcome && e.detail == "committed") f.committed_txs.insert(e.tx);
    if (e.rm.empty() || rms.count(e.rm) == 0) continue;
    f.host_of.emplace(e.rm, e.host);
    if (e.tx.empty()) continue;
    Pair& pair = f.pairs[{e.tx, e.rm}];
    switch (e.kind) {
      case EventKind::kWrite: pair.writes.push_back(i); break;
      case EventKind::kRead: pair.reads.push_back(i); break;
      case EventKind::kVote: pair.votes.push_back(i); break;
      case EventKind::kNotification: pair.notifications.push_back(i); break;
      case EventKind::kRmCommitted:
        pair.committed.push_back(i);
        f.committed_txs.insert(e.tx);
        break;
      case EventKind::kRmAborted: pair.aborted.push_back(i); break;
      default: break;
    }
  }
  return f;
}

ConformFinding Finding(ConformRule rule, const std::string& tx, const std::string& rm, std::string message,
                       std::vector<size_t> events) {
  std::sort(events.begin(), events.end());
  events.erase(std::unique(events.begin(), events.end()), events.end());
  events.erase(std::remove(events.begin(), events.end(), kNone), events.end());
  return ConformFinding{rule, tx, rm, std::move(message), std::move(events)};
}

// ---- no new work after PREPARE ------------------------------------------------

void NoWorkAfterPrepare(const Facts& f, std::vector<ConformFinding>& out) {
  for (const auto& [key, pair] : f.pairs) {
    size_t asked = kNone;
    for (size_t n : pair.notifications) {
      const std::string& what = f.at(n).detail;
      if (what == "PREPARE" || what == "SINGLE_PHASE_COMMIT") { asked = n; break; }
    }
    if (asked == kNone) continue;
    const size_t committed = pair.first(pair.committed);
    for (const std::vector<size_t>* ops : {&pair.writes, &pair.reads}) {
      for (size_t op : *ops) {
        if (op < asked || op > committed) continue;  // after the commit: commit_idempotent's
        out.push_back(Finding(ConformRule::kNoWorkAfterPrepare, key.first, key.second,
                              absl::StrCat(key.second, " took work of ", key.first, " (",
                                           model::EventKindName(f.at(op).kind), " ", f.at(op).key, ") at ",
                                           f.When(op), " after its ", f.at(asked).detail, " at ", f.When(asked)),
                              {asked, op}));
        break;
      }
    }
  }
}

// ---- answer every notification ---------------------------------------------------

void AnswerNotifications(const Facts& f, std::vector<ConformFinding>& out) {
  for (const auto& [key, pair] : f.pairs) {
    const uint32_t host = f.host_of.at(key.second);
    const bool outcome = !pair.committed.empty() || !pair.aborted.empty();
    for (size_t n : pair.notifications) {
      const std::string& what = f.at(n).detail;
      if (f.CrashIn(host, n, kNone) != kNone) continue;  // owed by recovery (recover_enlistment)
      bool answered = true;
      if (what == "PREPARE") {
        answered = !pair.votes.empty() || outcome;
      } else if (what == "SINGLE_PHASE_COMMIT") {
        const bool prepare_later = std::any_of(pair.notifications.begin(), pair.notifications.end(),
                                               [&](size_t m) { return m > n && f.at(m).detail == "PREPARE"; });
        answered = !pair.votes.empty() || outcome || prepare_later;  // SinglePhaseReject: 2PC follows
      } else if (what == "COMMIT" || what == "ROLLBACK") {
        answered = outcome;
      }
      if (answered) continue;
      out.push_back(Finding(ConformRule::kAnswerNotifications, key.first, key.second,
                            absl::StrCat(key.second, " got ", what, " of ", key.first, " at ", f.When(n),
                                         " and never answered it (no vote, no outcome) by the end of the run"),
                            {n}));
      break;
    }
  }
}

// ---- RecoverEnlistment on RECOVER ---------------------------------------------------

void RecoverEnlistment(const Facts& f, std::vector<ConformFinding>& out) {
  for (const auto& [key, pair] : f.pairs) {
    if (f.committed_txs.count(key.first) == 0) continue;  // an aborted tx may be forgotten by both sides
    const uint32_t host = f.host_of.at(key.second);
    size_t vote = kNone;
    for (size_t v : pair.votes) {
      if (f.at(v).detail == "yes" && vote == kNone) vote = v;
    }
    if (vote == kNone) continue;
    for (size_t crash = f.CrashIn(host, vote, kNone); crash != kNone; crash = f.CrashIn(host, crash, kNone)) {
      if (f.ForgottenBy(key.first, host, crash)) break;  // KTM owes nothing more
      if (!f.RecoveredAfter(host, crash)) break;
      const auto after = [crash](const std::vector<size_t>& list) {
        return std::any_of(list.begin(), list.end(), [crash](size_t i) { return i > crash; });
      };
      if (after(pair.notifications) || after(pair.committed) || after(pair.aborted)) continue;
      out.push_back(Finding(
          ConformRule::kRecoverEnlistment, key.first, key.second,
          absl::StrCat(key.second, " voted yes on ", key.first, " at ", f.When(vote), ", its host crashed at ",
                       f.When(crash), " before KTM had every CommitComplete, and recovered, yet KTM re-delivered ",
                       "nothing and ", key.second,
                       " resolved nothing: the RECOVER was not answered with RecoverEnlistment"),
          {vote, crash}));
      break;
    }
  }
}

// ---- wait out INDOUBT --------------------------------------------------------------

void WaitOutInDoubt(const Facts& f, std::vector<ConformFinding>& out) {
  for (const auto& [key, pair] : f.pairs) {
    const uint32_t host = f.host_of.at(key.second);
    for (size_t n : pair.notifications) {
      if (f.at(n).detail != "INDOUBT") continue;
      size_t end = f.CrashIn(host, n, kNone);
      for (size_t m : pair.notifications) {
        if (m > n && m < end && (f.at(m).detail == "COMMIT" || f.at(m).detail == "ROLLBACK")) end = m;
      }
      size_t decided = kNone;
      for (const std::vector<size_t>* list : {&pair.committed, &pair.aborted}) {
        for (size_t o : *list) {
          if (o > n && o < end) decided = std::min(decided, o);
        }
      }
      if (decided == kNone) continue;
      out.push_back(Finding(ConformRule::kWaitOutInDoubt, key.first, key.second,
                            absl::StrCat(key.second, " got INDOUBT for ", key.first, " at ", f.When(n),
                                         " and decided on its own (", model::EventKindName(f.at(decided).kind),
                                         " at ", f.When(decided), ") before KTM sent COMMIT or ROLLBACK"),
                            {n, decided}));
      break;
    }
  }
}

// ---- the final-state rules ------------------------------------------------------

// The last value `pair` wrote to `key`, or kNone.
size_t LastWrite(const Facts& f, const Pair& pair, const std::string& key) {
  size_t last = kNone;
  for (size_t w : pair.writes) {
    if (f.at(w).key == key) last = w;
  }
  return last;
}

// A committed transaction's commit applied again: a write reported after
// its first commit at the RM (the RM re-did its work on a re-delivered COMMIT).
void WritesAfterCommit(const Facts& f, std::vector<ConformFinding>& out) {
  for (const auto& [key, pair] : f.pairs) {
    const size_t committed = pair.first(pair.committed);
    if (committed == kNone) continue;
    for (size_t w : pair.writes) {
      if (w < committed) continue;
      out.push_back(Finding(ConformRule::kCommitIdempotent, key.first, key.second,
                            absl::StrCat(key.second, " applied ", key.first, "'s write of ", f.at(w).key, "=\"",
                                         f.at(w).value, "\" again at ", f.When(w), ", after committing it at ",
                                         f.When(committed)),
                            {committed, w}));
      break;
    }
  }
}

struct KeyFacts {
  std::string tx;          // the expected writer E
  size_t write = kNone;    // E's last write of the key
  size_t committed = kNone;  // E's first commit at the RM
};

void JudgeFinalValue(const Facts& f, size_t final_index, std::vector<ConformFinding>& out) {
  const HistoryEvent& final_value = f.at(final_index);
  const std::string& rm = final_value.rm;
  const uint32_t host = f.host_of.at(rm);
  KeyFacts expected;
  size_t actual_writer = kNone;
  std::string actual_tx;
  for (const auto& [key, pair] : f.pairs) {
    if (key.second != rm) continue;
    const size_t w = LastWrite(f, pair, final_value.key);
    if (w == kNone) continue;
    if (f.at(w).value == final_value.value) {
      actual_writer = w;
      actual_tx = key.first;
    }
    const size_t c = pair.first(pair.committed);
    if (c == kNone) continue;
    if (expected.committed == kNone || c > expected.committed) expected = {key.first, w, c};
  }
  if (expected.write == kNone || f.at(expected.write).value == final_value.value) return;
  const std::string seen = absl::StrCat(rm, "'s final ", final_value.key, "=\"", final_value.value, "\" (",
                                        f.When(final_index), ") is not ", expected.tx, "'s committed \"",
                                        f.at(expected.write).value, "\" (committed there at ",
                                        f.When(expected.committed), ")");
  const Pair& pair = f.pairs.at({expected.tx, rm});
  size_t vote = kNone;
  for (size_t v : pair.votes) {
    if (f.at(v).detail == "yes" && vote == kNone) vote = v;
  }
  // Where the crashes after E's vote fell decides the rule: while prepared
  // (prepare_durable), after the TM forgot it (durable_after_commit); a crash
  // between E's commit and CommitComplete, or in both windows, is left alone
  // (the history cannot tell which record was lost).
  const size_t crash_prepared = vote == kNone ? kNone : f.CrashIn(host, vote, expected.committed);
  size_t crash_committed = f.CrashIn(host, expected.committed, kNone);
  size_t unacknowledged = kNone;
  while (crash_committed != kNone && !f.ForgottenBy(expected.tx, host, crash_committed)) {
    if (unacknowledged == kNone) unacknowledged = crash_committed;
    crash_committed = f.CrashIn(host, crash_committed, kNone);
  }
  if (crash_prepared != kNone) {
    if (crash_committed != kNone || unacknowledged != kNone) return;
    out.push_back(Finding(ConformRule::kPrepareDurable, expected.tx, rm,
                          absl::StrCat(seen, ": it voted yes at ", f.When(vote), ", the host crashed at ",
                                       f.When(crash_prepared), " and the prepared write did not survive"),
                          {expected.write, vote, crash_prepared, expected.committed, final_index}));
    return;
  }
  if (unacknowledged != kNone) return;
  if (crash_committed != kNone) {
    out.push_back(Finding(ConformRule::kDurableAfterCommit, expected.tx, rm,
                          absl::StrCat(seen, ": the TM had every CommitComplete, the host crashed at ",
                                       f.When(crash_committed), " and the committed write did not survive"),
                          {expected.write, expected.committed, crash_committed, final_index}));
    return;
  }
  // No crash touched E: the older value came back. If its writer's COMMIT was
  // re-delivered after a restart, after E committed, the RM applied it again.
  if (actual_writer != kNone && actual_tx != expected.tx) {
    const Pair& older = f.pairs.at({actual_tx, rm});
    const size_t committed = older.first(older.committed);
    const size_t crash = committed == kNone ? kNone : f.CrashIn(host, committed, kNone);
    for (size_t n : older.notifications) {
      if (crash == kNone || n < crash || n < expected.committed || f.at(n).detail != "COMMIT") continue;
      out.push_back(Finding(ConformRule::kCommitIdempotent, expected.tx, rm,
                            absl::StrCat(seen, ": ", actual_tx, "'s COMMIT, re-delivered at ", f.When(n),
                                         " after the crash at ", f.When(crash), ", was applied again"),
                            {committed, crash, n, expected.committed, final_index}));
      return;
    }
  }
  out.push_back(Finding(ConformRule::kDurableAfterCommit, expected.tx, rm, absl::StrCat(seen, ", without any crash"),
                        {expected.write, expected.committed, final_index}));
}

void FinalState(const Facts& f, std::vector<ConformFinding>& out) {
  for (size_t i = 0; i < f.history->events.size(); ++i) {
    const HistoryEvent& e = f.at(i);
    if (e.kind != EventKind::kFinalValue || f.host_of.count(e.rm) == 0) continue;
    JudgeFinalValue(f, i, out);
  }
}

}  // namespace

const std::array<ConformRuleInfo, kConformRuleCount>& ConformRules() { return kRules; }

const ConformRuleInfo& ConformRuleOf(ConformRule rule) { return kRules[static_cast<size_t>(rule)]; }

TmForgotten ForgottenOf(const RunResult& run) {
  TmForgotten forgotten;
  for (const sim::TraceEvent& event : run.trace) {
    if (event.kind != "tx.state" || event.Field("to") != "Forgotten") continue;
    auto name = run.names.tx_by_uow.find(event.Field("tx"));
    if (name == run.names.tx_by_uow.end()) continue;
    forgotten[name->second].emplace_back(event.host, event.time);
  }
  return forgotten;
}

std::vector<ConformFinding> CheckRmContract(const RunResult& run, const std::set<std::string>& rms) {
  return CheckRmContract(run.history, ForgottenOf(run), rms);
}

std::vector<ConformFinding> CheckRmContract(const model::History& history, const TmForgotten& forgotten,
                                            const std::set<std::string>& rms) {
  const Facts facts = BuildFacts(history, forgotten, rms);
  std::vector<ConformFinding> found;
  NoWorkAfterPrepare(facts, found);
  AnswerNotifications(facts, found);
  RecoverEnlistment(facts, found);
  WaitOutInDoubt(facts, found);
  WritesAfterCommit(facts, found);
  FinalState(facts, found);
  std::stable_sort(found.begin(), found.end(),
                   [](const ConformFinding& a, const ConformFinding& b) { return a.rule < b.rule; });
  return found;
}

namespace {

// ---- the battery ------------------------------------------------------------------

std::string TomlString(const std::string& text) {
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') quoted.push_back('\\');
    quoted.push_back(c);
  }
  return quoted + "\"";
}

// One [[rms]] table of the kind under test, with its options.
std::string RmTable(const std::string& name, const std::string& host, const std::string& kind,
                    const std::map<std::string, std::string>& options, const std::string& extra) {
  std::string text = absl::StrCat("[[rms]]\nname = \"", name, "\"\nhost = \"", host, "\"\nkind = ",
                                  TomlString(kind), "\n", extra);
  if (!options.empty()) {
    absl::StrAppend(&text, "[rms.options]\n");
    for (const auto& [key, value] : options) absl::StrAppend(&text, TomlString(key), " = ", TomlString(value), "\n");
  }
  return text + "\n";
}

std::string Workload(const std::string& body) { return "[workload]\n" + body + "\n"; }

constexpr char kSmall2pc[] =
    "transactions = 3\nconcurrency = 1\nrms_per_tx_min = 2\nrms_per_tx_max = 2\nops_min = 1\nops_max = 2\n"
    "keys = 1\nread_fraction = 0.3\ncommit_fraction = 1\nrollback_fraction = 0\nread_only_fraction = 0\n"
    "async_commit_fraction = 0\n";
constexpr char kSmallSinglePhase[] =
    "transactions = 3\nconcurrency = 1\nrms_per_tx_min = 1\nrms_per_tx_max = 1\nops_min = 1\nops_max = 2\n"
    "keys = 1\nread_fraction = 0.3\ncommit_fraction = 1\nrollback_fraction = 0\nread_only_fraction = 0\n"
    "async_commit_fraction = 0\n";
constexpr char kBusy[] =
    "transactions = 40\nconcurrency = 3\nrms_per_tx_min = 1\nrms_per_tx_max = 2\nkeys = 3\n"
    "read_fraction = 0.3\ncommit_fraction = 0.8\nrollback_fraction = 0.2\nread_only_fraction = 0\n";
constexpr char kRestarts[] = "restart_delay_min_ms = 1\nrestart_delay_max_ms = 10\nfaults_until_ms = 150\n";

}  // namespace

std::vector<ConformCase> ConformBattery(const std::string& kind, const std::map<std::string, std::string>& options) {
  const auto rm = [&](const std::string& name, const std::string& host, const std::string& extra = "") {
    return RmTable(name, host, kind, options, extra);
  };
  const std::string one_host = "[[hosts]]\nname = \"n1\"\n\n";
  const std::string two_rms_2pc = rm("r1", "n1", "single_phase = false\n") + rm("r2", "n1", "single_phase = false\n");
  std::vector<ConformCase> battery;
  const auto add = [&battery](std::string name, std::string purpose, std::string body, bool points, uint64_t seeds) {
    battery.push_back(ConformCase{std::move(name), std::move(purpose),
                                  absl::StrCat("description = ", TomlString(purpose), "\n", body), points, seeds});
  };
  add("2pc_crash_points", "every crash point of a small 2PC (two RMs, one key): RECOVER, LAST_RECOVER, re-delivered COMMIT",
      one_host + two_rms_2pc + Workload(kSmall2pc) + "[faults]\nmode = \"none\"\n", true, 1);
  add("single_phase_crash_points", "every crash point of single-phase commits at one RM",
      one_host + rm("r1", "n1") + Workload(kSmallSinglePhase) + "[faults]\nmode = \"none\"\n", true, 1);
  add("in_doubt_under_superior",
      "every crash point of a distributed transaction under a superior (two hosts, the Dtc): INDOUBT",
      "[[hosts]]\nname = \"h0\"\n\n[[hosts]]\nname = \"h1\"\n\n" + rm("r1", "h0", "single_phase = false\n") +
          rm("r2", "h1", "single_phase = false\n") +
          Workload("transactions = 2\nconcurrency = 1\nrms_per_tx_min = 2\nrms_per_tx_max = 2\nops_min = 1\n"
                   "ops_max = 2\nkeys = 1\nread_fraction = 0\ncommit_fraction = 1\nrollback_fraction = 0\n"
                   "read_only_fraction = 0\nasync_commit_fraction = 0\ndistributed_fraction = 1\n") +
          "[faults]\nmode = \"none\"\n",
      true, 1);
  add("random_faults", "random crashes over seeds (2PC and single-phase mixed)",
      one_host + two_rms_2pc + rm("r3", "n1") + Workload(kBusy) +
          absl::StrCat("[faults]\nmode = \"probabilities\"\ncrash_per_second = 15\n", kRestarts),
      false, 30);
  add("recovery_after_prepare", "crashes right after PREPARE: recovery with RECOVER / LAST_RECOVER",
      one_host + two_rms_2pc + Workload(kBusy) +
          absl::StrCat("[faults]\nmode = \"probabilities\"\ncrash_on = \"prepare\"\ncrash_on_probability = 0.1\n",
                       kRestarts),
      false, 30);
  add("duplicate_commit", "crashes right after log forces: COMMIT re-delivered after recovery",
      one_host + two_rms_2pc + Workload(kBusy) +
          absl::StrCat("[faults]\nmode = \"probabilities\"\ncrash_on = \"log_force\"\ncrash_on_probability = 0.05\n",
                       kRestarts),
      false, 30);
  add("vote_no", "\"no\" votes and client rollbacks",
      one_host + rm("r1", "n1", "single_phase = false\nvote_no_probability = 0.3\n") +
          rm("r2", "n1", "single_phase = false\n") + Workload(kBusy) + "[faults]\nmode = \"none\"\n",
      false, 10);
  add("single_phase_reject", "SinglePhaseReject: single-phase commit refused, 2PC follows",
      one_host + rm("r1", "n1", "reject_single_phase_probability = 0.5\n") + Workload(kBusy) +
          "[faults]\nmode = \"none\"\n",
      false, 10);
  return battery;
}

bool ConformResult::passed() const {
  return asserted.empty() && std::all_of(rules.begin(), rules.end(), [](const ConformRuleVerdict& v) { return v.passed(); });
}

RunResult WithFindings(RunResult result, const std::vector<ConformFinding>& findings) {
  for (const ConformFinding& finding : findings) {
    result.violations.push_back(Violation{.rule = absl::StrCat("rm.", std::string(ConformRuleOf(finding.rule).name)),
                                          .tx = finding.tx,
                                          .message = finding.message,
                                          .events = finding.events});
  }
  if (!findings.empty()) result.passed = false;
  return result;
}

namespace {

std::set<std::string> RmsOf(const Scenario& scenario) {
  std::set<std::string> rms;
  for (const RmSpec& rm : scenario.rms) rms.insert(rm.name);
  return rms;
}

bool Asserted(const RunResult& run) {
  return std::any_of(run.violations.begin(), run.violations.end(),
                     [](const Violation& v) { return v.rule == kAssertionRule; });
}

}  // namespace

RunResult JudgeRmContract(const Scenario& scenario, RunResult run) {
  if (Asserted(run)) return run;
  const std::vector<ConformFinding> findings = CheckRmContract(run, RmsOf(scenario));
  return WithFindings(std::move(run), findings);
}

namespace {

// Judges one run and files its findings (the first per rule) into `result`.
void Judge(const ConformCase& c, const Scenario& scenario, uint64_t seed, const std::vector<FaultPoint>& points,
           RunResult run, ConformResult& result, ConformCaseStats& stats) {
  ++stats.runs;
  ++result.runs;
  if (Asserted(run)) {
    // A broken invariant ended the run (an RM's KTM_ASSERT included): its
    // history stops there, so the rules are not judged on it; the run fails.
    ++stats.runs_asserted;
    if (result.asserted.size() < kConformFailuresPerRuleMax) {
      run.trace.clear();
      run.trace_text.clear();
      result.asserted.push_back(ConformFailure{c.name, scenario, seed, points, {}, std::move(run)});
    }
    return;
  }
  const std::vector<ConformFinding> findings = CheckRmContract(run, RmsOf(scenario));
  if (findings.empty()) return;
  ++stats.runs_failed;
  std::set<ConformRule> seen;
  run.trace.clear();
  run.trace_text.clear();
  for (const ConformFinding& finding : findings) {
    if (!seen.insert(finding.rule).second) continue;
    ConformRuleVerdict& verdict = result.rules[static_cast<size_t>(finding.rule)];
    ++verdict.runs_failed;
    if (verdict.failures.size() >= kConformFailuresPerRuleMax) continue;
    verdict.failures.push_back(ConformFailure{c.name, scenario, seed, points, finding, run});
  }
}

// Every depth-1 crash point of the fault-free seed-1 run (explore's frontier).
std::vector<FaultPoint> CrashPoints(const Scenario& scenario) {
  ExploreOptions options;
  options.seed = 1;
  options.depth = 0;
  const ExploreResult fault_free = Explore(scenario, options);
  std::vector<FaultPoint> points;
  for (const auto& [where, count] : fault_free.frontier) {
    const std::vector<std::string> parts = absl::StrSplit(where, ' ');
    uint32_t host = 0;
    if (parts.size() != 2 || parts[0].size() < 2 || !absl::SimpleAtoi(parts[0].substr(1), &host)) continue;
    for (uint64_t n = 1; n <= count; ++n) {
      points.push_back(FaultPoint{.kind = FaultPoint::Kind::kCrash, .host = host, .event = parts[1], .n = n});
    }
  }
  if (points.size() > kConformCrashPointsMax) {
    // Evenly spaced, so every part of the run keeps some points.
    std::vector<FaultPoint> kept;
    for (size_t i = 0; i < kConformCrashPointsMax; ++i) kept.push_back(points[i * points.size() / kConformCrashPointsMax]);
    points = std::move(kept);
  }
  return points;
}

}  // namespace

absl::StatusOr<ConformResult> RunConform(const std::string& kind, const std::map<std::string, std::string>& options,
                                         const ConformProgress& progress) {
  ConformResult result;
  result.kind = kind;
  result.options = options;
  for (size_t r = 0; r < kConformRuleCount; ++r) result.rules[r].info = kRules[r];
  const std::vector<ConformCase> battery = ConformBattery(kind, options);
  std::vector<Scenario> scenarios;
  for (const ConformCase& c : battery) {
    absl::StatusOr<Scenario> scenario = LoadScenarioString(c.toml, absl::StrCat("conform_", c.name, ".toml"));
    if (!scenario.ok()) return scenario.status();
    scenarios.push_back(*std::move(scenario));
  }
  RunOptions run_options;
  run_options.keep_trace = true;  // ForgottenOf reads the trace
  run_options.rm_contract = true;  // replay commands say --rm-contract
  for (size_t i = 0; i < battery.size(); ++i) {
    const ConformCase& c = battery[i];
    const Scenario& scenario = scenarios[i];
    ConformCaseStats stats{.name = c.name, .purpose = c.purpose};
    if (c.crash_points) {
      for (const FaultPoint& point : CrashPoints(scenario)) {
        Judge(c, scenario, 1, {point}, RunWithFaultPoints(scenario, 1, run_options, {point}), result, stats);
      }
    } else {
      for (uint64_t seed = 1; seed <= c.seeds; ++seed) {
        Judge(c, scenario, seed, {}, RunScenario(scenario, seed, run_options), result, stats);
      }
    }
    result.cases.push_back(stats);
    if (progress) progress(i + 1, battery.size(), stats);
  }
  return result;
}

std::string ConformJunitXml(const ConformResult& result,
                            const std::map<std::pair<size_t, size_t>, std::string>& replays,
                            const std::map<std::pair<size_t, size_t>, std::string>& folders) {
  size_t failures = 0;
  for (const ConformRuleVerdict& verdict : result.rules) failures += verdict.passed() ? 0 : 1;
  // Runs a broken invariant ended: one more (failing) testcase.
  const size_t tests = kConformRuleCount + (result.asserted.empty() ? 0 : 1);
  failures += result.asserted.empty() ? 0 : 1;
  std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  absl::StrAppend(&xml, "<testsuites tests=\"", tests, "\" failures=\"", failures, "\">\n");
  absl::StrAppend(&xml, "  <testsuite name=\"conform.", harness::MarkupEscape(result.kind), "\" tests=\"", tests,
                  "\" failures=\"", failures, "\">\n");
  if (!result.asserted.empty()) {
    std::string body;
    for (const ConformFailure& failure : result.asserted) {
      absl::StrAppend(&body, failure.case_name, " seed ", failure.seed, " ", FaultPointsText(failure.points), ": ",
                      failure.result.violations.front().message, "\n  replay: ",
                      ReplayCommandLine(failure.result.identity), "\n");
    }
    absl::StrAppend(&xml, "    <testcase classname=\"conform.", harness::MarkupEscape(result.kind),
                    "\" name=\"broken_invariant\">\n      <failure message=\"a broken invariant ended ",
                    result.asserted.size(), "+ runs\">", harness::MarkupEscape(body), "</failure>\n    </testcase>\n");
  }
  for (size_t r = 0; r < kConformRuleCount; ++r) {
    const ConformRuleVerdict& verdict = result.rules[r];
    absl::StrAppend(&xml, "    <testcase classname=\"conform.", harness::MarkupEscape(result.kind), "\" name=\"",
                    std::string(verdict.info.name), "\">\n");
    if (!verdict.passed()) {
      std::string body;
      for (size_t f = 0; f < verdict.failures.size(); ++f) {
        const ConformFailure& failure = verdict.failures[f];
        auto replay = replays.find({r, f});
        auto folder = folders.find({r, f});
        absl::StrAppend(&body, failure.case_name, " seed ", failure.seed,
                        failure.points.empty() ? "" : absl::StrCat(" ", FaultPointsText(failure.points)), ": ",
                        failure.finding.message, "\n");
        if (folder != folders.end()) absl::StrAppend(&body, "  folder: ", folder->second, "\n");
        if (replay != replays.end()) absl::StrAppend(&body, "  replay: ", replay->second, "\n");
      }
      absl::StrAppend(&xml, "      <failure message=\"", harness::MarkupEscape(verdict.info.title), ": ", verdict.runs_failed,
                      " failing runs\">", harness::MarkupEscape(body), "</failure>\n");
    }
    absl::StrAppend(&xml, "    </testcase>\n");
  }
  absl::StrAppend(&xml, "  </testsuite>\n</testsuites>\n");
  return xml;
}

}  // namespace harness
