// The checkers as they were before issue 19 (std::string map keys), kept
// only as the reference that model_checkers_equivalence_test compares the
// interned-id checkers (model/checkers.cc) against: same violations, same
// messages, same order, on generated histories. Not used by anything else;
// delete together with that test once nobody doubts the new checkers.
#include "tests/model_checkers_reference.h"

#include <algorithm>
#include <limits>
#include <set>
#include <tuple>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace model::reference {
namespace {

constexpr size_t kNone = std::numeric_limits<size_t>::max();

// What one transaction did at one RM.
struct RmFacts {
  std::vector<size_t> writes;  // kWrite indexes, ascending
  std::vector<size_t> votes;   // kVote indexes, ascending
  size_t enlist = kNone;       // first kEnlist
  size_t first_committed = kNone;
  size_t first_aborted = kNone;
  size_t lost = kNone;         // first kRmLost (a volatile RM's effects gone in a crash)
};

// What one transaction did overall.
struct TxFacts {
  size_t begin = kNone;
  size_t first_commit_request = kNone;
  std::vector<size_t> rollback_requests;
  std::vector<size_t> timeouts;
  std::vector<size_t> outcomes;
  std::vector<size_t> reads;
  std::map<std::string, RmFacts> rms;
};

using ValueKey = std::tuple<std::string, std::string, std::string>;  // (rm, key, value)

struct Facts {
  std::map<std::string, TxFacts> txs;
  std::map<std::string, std::vector<size_t>> commit_order;  // rm -> first kRmCommitted per tx
  std::map<RmKey, std::vector<size_t>> finals;              // (rm, key) -> kFinalValue indexes
  std::map<ValueKey, size_t> first_write_of;                // (rm, key, value) -> first kWrite
  int64_t faults_stop_ns = 0;                               // time of the last kFaultsStop
  std::map<uint32_t, std::vector<size_t>> crashes;          // host -> kCrash indexes
};

// A volatile write (detail "volatile") followed by a crash of its host: the
// first such crash, or kNone.
size_t LostInCrash(const History& history, const Facts& facts, size_t write) {
  const HistoryEvent& event = history.events[write];
  if (event.detail != "volatile") return kNone;
  auto it = facts.crashes.find(event.host);
  if (it == facts.crashes.end()) return kNone;
  for (size_t crash : it->second) {
    if (crash > write) return crash;
  }
  return kNone;
}

size_t Min(size_t a, size_t b) { return std::min(a, b); }

int64_t SaturatingAdd(int64_t a, int64_t b) {
  if (b > 0 && a > std::numeric_limits<int64_t>::max() - b) {
    return std::numeric_limits<int64_t>::max();
  }
  if (b < 0 && a < std::numeric_limits<int64_t>::min() - b) {
    return std::numeric_limits<int64_t>::min();
  }
  return a + b;
}

void RecordRmEvent(const HistoryEvent& event, size_t index, RmFacts& rm_facts, Facts& facts) {
  switch (event.kind) {
    case EventKind::kEnlist:
      if (rm_facts.enlist == kNone) rm_facts.enlist = index;
      break;
    case EventKind::kWrite:
      rm_facts.writes.push_back(index);
      facts.first_write_of.try_emplace({event.rm, event.key, event.value}, index);
      break;
    case EventKind::kVote:
      rm_facts.votes.push_back(index);
      break;
    case EventKind::kRmCommitted:
      if (rm_facts.first_committed == kNone) {
        rm_facts.first_committed = index;
        facts.commit_order[event.rm].push_back(index);
      }
      break;
    case EventKind::kRmAborted:
      if (rm_facts.first_aborted == kNone) rm_facts.first_aborted = index;
      break;
    case EventKind::kRmLost:
      if (rm_facts.lost == kNone) rm_facts.lost = index;
      break;
    default:
      break;
  }
}

void RecordTxEvent(const HistoryEvent& event, size_t index, Facts& facts) {
  TxFacts& tx = facts.txs[event.tx];
  switch (event.kind) {
    case EventKind::kBegin:
      if (tx.begin == kNone) tx.begin = index;
      break;
    case EventKind::kCommitRequest:
      if (tx.first_commit_request == kNone) tx.first_commit_request = index;
      break;
    case EventKind::kRollbackRequest: tx.rollback_requests.push_back(index); break;
    case EventKind::kTimeoutFired: tx.timeouts.push_back(index); break;
    case EventKind::kOutcome: tx.outcomes.push_back(index); break;
    case EventKind::kRead: tx.reads.push_back(index); break;
    case EventKind::kEnlist:
    case EventKind::kWrite:
    case EventKind::kVote:
    case EventKind::kRmCommitted:
    case EventKind::kRmAborted:
    case EventKind::kRmLost:
      RecordRmEvent(event, index, tx.rms[event.rm], facts);
      break;
    default:
      break;
  }
}

Facts BuildFacts(const History& history) {
  Facts facts;
  for (size_t i = 0; i < history.events.size(); ++i) {
    const HistoryEvent& event = history.events[i];
    if (event.kind == EventKind::kFinalValue) {
      facts.finals[{event.rm, event.key}].push_back(i);
    } else if (event.kind == EventKind::kFaultsStop) {
      facts.faults_stop_ns = event.time_ns;
    } else if (event.kind == EventKind::kCrash) {
      facts.crashes[event.host].push_back(i);
    } else if (!event.tx.empty()) {
      RecordTxEvent(event, i, facts);
    }
  }
  return facts;
}

std::map<RmKey, CommittedValue> BuildReference(const History& history, const Facts& facts) {
  std::map<RmKey, CommittedValue> state;
  for (const auto& [rm, commits] : facts.commit_order) {
    for (size_t commit : commits) {
      const std::string& tx = history.events[commit].tx;
      for (size_t write : facts.txs.at(tx).rms.at(rm).writes) {
        const HistoryEvent& event = history.events[write];
        state[{rm, event.key}] = CommittedValue{event.value, tx, write};
      }
    }
  }
  std::erase_if(state, [&](const auto& entry) {
    return LostInCrash(history, facts, entry.second.write_event) != kNone;
  });
  return state;
}

// ---- message helpers -------------------------------------------------------

std::string At(const History& history, size_t index) {
  return FormatTimeNs(history.events[index].time_ns);
}

std::string Quote(const std::string& value) {
  if (value.empty()) return "\"\" (absent)";
  return absl::StrCat("\"", absl::CEscape(value), "\"");
}

std::string Place(const std::string& rm, const std::string& key) {
  return absl::StrCat(rm, "/", absl::CEscape(key));
}

Violation MakeViolation(std::string rule, std::string tx, std::string message,
                        std::vector<size_t> events) {
  events.erase(std::remove(events.begin(), events.end(), kNone), events.end());
  std::sort(events.begin(), events.end());
  events.erase(std::unique(events.begin(), events.end()), events.end());
  return Violation{std::move(rule), std::move(tx), std::move(message), std::move(events)};
}

// "committed on rmA at 5ms" or "was acknowledged committed at 5ms".
std::string DescribeCommit(const History& history, size_t index) {
  const HistoryEvent& event = history.events[index];
  if (event.kind == EventKind::kRmCommitted) {
    return absl::StrCat("committed on ", event.rm, " at ", At(history, index));
  }
  return absl::StrCat("was acknowledged committed at ", At(history, index));
}

size_t FirstOutcome(const History& history, const TxFacts& tx, std::string_view detail) {
  for (size_t index : tx.outcomes) {
    if (history.events[index].detail == detail) return index;
  }
  return kNone;
}

// The earliest kRmCommitted (or kRmAborted) of a tx over all RMs, kNone if none.
size_t FirstRmCommitted(const TxFacts& tx) {
  size_t first = kNone;
  for (const auto& [rm, rm_facts] : tx.rms) first = Min(first, rm_facts.first_committed);
  return first;
}

size_t FirstRmAborted(const TxFacts& tx) {
  size_t first = kNone;
  for (const auto& [rm, rm_facts] : tx.rms) first = Min(first, rm_facts.first_aborted);
  return first;
}

// ---- atomicity -------------------------------------------------------------

void CheckAllOrNothing(const History& history, const Facts& facts, std::vector<Violation>& out) {
  for (const auto& [tx, tx_facts] : facts.txs) {
    size_t anchor = kNone;  // earliest kRmCommitted on an RM the tx wrote
    for (const auto& [rm, rm_facts] : tx_facts.rms) {
      if (!rm_facts.writes.empty()) anchor = Min(anchor, rm_facts.first_committed);
    }
    if (anchor == kNone) continue;  // committed nowhere it wrote: "none" holds
    for (const auto& [rm, rm_facts] : tx_facts.rms) {
      if (rm_facts.writes.empty() || rm_facts.first_committed != kNone) continue;
      if (rm_facts.lost != kNone) continue;  // a volatile RM promises nothing across a crash
      const size_t write = rm_facts.writes.front();
      std::string message = absl::StrCat(
          tx, " ", DescribeCommit(history, anchor), " but never committed on ", rm,
          ", where it wrote ", Place(rm, history.events[write].key), " at ", At(history, write));
      if (rm_facts.first_aborted != kNone) {
        absl::StrAppend(&message, "; ", rm, " rolled it back at ",
                        At(history, rm_facts.first_aborted));
      }
      out.push_back(MakeViolation("atomicity", tx, std::move(message),
                                  {anchor, write, rm_facts.first_aborted}));
    }
  }
}

// One kFinalValue that differs from the model: say whose fault it is.
Violation FinalValueViolation(const History& history, const Facts& facts, size_t final_index,
                              const CommittedValue* expected) {
  const HistoryEvent& final_event = history.events[final_index];
  const std::string place = Place(final_event.rm, final_event.key);
  const std::string expectation =
      expected == nullptr
          ? std::string("the model expects it absent")
          : absl::StrCat("the model expects ", Quote(expected->value), " from ", expected->tx);
  const std::string seen = absl::StrCat("final value of ", place, " is ",
                                        Quote(final_event.value));
  size_t writer = kNone;
  if (!final_event.value.empty()) {
    auto it = facts.first_write_of.find({final_event.rm, final_event.key, final_event.value});
    if (it == facts.first_write_of.end()) {
      return MakeViolation("atomicity", "",
                           absl::StrCat(seen, ", which no transaction wrote there; ", expectation),
                           {final_index});
    }
    writer = it->second;
    const std::string& writer_tx = history.events[writer].tx;
    if (const size_t crash = LostInCrash(history, facts, writer); crash != kNone && expected == nullptr) {
      return MakeViolation(
          "atomicity", writer_tx,
          absl::StrCat(seen, ", a volatile key written by ", writer_tx, " at ", At(history, writer),
                       "; its host crashed at ", At(history, crash), ", which removes volatile keys; ",
                       expectation),
          {final_index, writer, crash});
    }
    if (facts.txs.at(writer_tx).rms.at(final_event.rm).first_committed == kNone) {
      return MakeViolation(
          "atomicity", writer_tx,
          absl::StrCat(seen, ", written by ", writer_tx, " at ", At(history, writer),
                       ", which never committed on ", final_event.rm, "; ", expectation),
          {final_index, writer});
    }
  }
  // The shown value is absent or from a tx that committed here, so the model
  // holds a write for this key (that tx's, at least): an expected effect is
  // missing. The fallback only guards against a broken Facts.
  if (expected == nullptr) {
    return MakeViolation("atomicity", "", absl::StrCat(seen, "; ", expectation),
                         {final_index, writer});
  }
  const std::string& expected_tx = expected->tx;
  const size_t commit = facts.txs.at(expected_tx).rms.at(final_event.rm).first_committed;
  return MakeViolation(
      "atomicity", expected_tx,
      absl::StrCat(seen, " but ", expected_tx, " committed on ", final_event.rm, " at ",
                   At(history, commit), " and its write ", Quote(expected->value), " at ",
                   At(history, expected->write_event), " is missing"),
      {final_index, writer, expected->write_event, commit});
}

void CheckFinalValues(const History& history, const Facts& facts,
                      const std::map<RmKey, CommittedValue>& reference,
                      std::vector<Violation>& out) {
  for (const auto& [rm_key, finals] : facts.finals) {
    auto it = reference.find(rm_key);
    const CommittedValue* expected = it == reference.end() ? nullptr : &it->second;
    const std::string expected_value = expected == nullptr ? "" : expected->value;
    for (size_t final_index : finals) {
      if (history.events[final_index].value == expected_value) continue;
      out.push_back(FinalValueViolation(history, facts, final_index, expected));
    }
  }
}

std::vector<Violation> Atomicity(const History& history, const Facts& facts,
                                 const std::map<RmKey, CommittedValue>& reference) {
  std::vector<Violation> out;
  CheckAllOrNothing(history, facts, out);
  CheckFinalValues(history, facts, reference, out);
  return out;
}

// ---- agreement -------------------------------------------------------------

std::vector<Violation> Agreement(const History& history, const Facts& facts) {
  std::vector<Violation> out;
  for (const auto& [tx, tx_facts] : facts.txs) {
    const size_t committed = FirstRmCommitted(tx_facts);
    const size_t aborted = FirstRmAborted(tx_facts);
    const size_t told_committed = FirstOutcome(history, tx_facts, "committed");
    const size_t told_aborted = FirstOutcome(history, tx_facts, "aborted");
    const std::string rolled_back =
        aborted == kNone ? "" : absl::StrCat("rolled back on ", history.events[aborted].rm,
                                             " at ", At(history, aborted));
    if (committed != kNone && aborted != kNone) {
      out.push_back(MakeViolation(
          "agreement", tx,
          absl::StrCat(tx, " ", DescribeCommit(history, committed), " but ", rolled_back),
          {committed, aborted}));
    }
    if (told_committed != kNone && aborted != kNone) {
      out.push_back(MakeViolation(
          "agreement", tx,
          absl::StrCat(tx, " ", DescribeCommit(history, told_committed), " but ", rolled_back),
          {told_committed, aborted}));
    }
    if (told_aborted != kNone && committed != kNone) {
      out.push_back(MakeViolation(
          "agreement", tx,
          absl::StrCat(tx, " was reported aborted to the client at ", At(history, told_aborted),
                       " but ", DescribeCommit(history, committed)),
          {told_aborted, committed}));
    }
    if (told_committed != kNone && told_aborted != kNone) {
      out.push_back(MakeViolation(
          "agreement", tx,
          absl::StrCat(tx, " was reported committed to the client at ",
                       At(history, told_committed), " and aborted at ",
                       At(history, told_aborted)),
          {told_committed, told_aborted}));
    }
  }
  return out;
}

// ---- validity --------------------------------------------------------------

bool IsYesVote(const std::string& detail) { return detail == "yes" || detail == "readonly"; }

// The first vote of `rm` that allows the commit, or kNone. `acknowledged` is
// the first kOutcome "committed" (or kNone).
size_t AcceptedVote(const History& history, const TxFacts& tx, const std::string& rm,
                    size_t acknowledged) {
  size_t others_committed = acknowledged;
  for (const auto& [other, other_facts] : tx.rms) {
    if (other != rm) others_committed = Min(others_committed, other_facts.first_committed);
  }
  const RmFacts& rm_facts = tx.rms.at(rm);
  const size_t own_deadline = Min(others_committed, rm_facts.first_committed);
  for (size_t vote : rm_facts.votes) {
    const std::string& detail = history.events[vote].detail;
    if (IsYesVote(detail) && vote < own_deadline) return vote;
    if (detail == "spc" && vote < others_committed) return vote;
  }
  return kNone;
}

// Every enlisted writer voted in time; returns when the last vote came in.
size_t CheckVotesIn(const History& history, const std::string& tx, const TxFacts& tx_facts,
                    size_t commit, size_t acknowledged, std::vector<Violation>& out) {
  size_t all_votes_in = kNone;
  for (const auto& [rm, rm_facts] : tx_facts.rms) {
    const size_t vote = AcceptedVote(history, tx_facts, rm, acknowledged);
    if (vote != kNone) {
      all_votes_in = all_votes_in == kNone ? vote : std::max(all_votes_in, vote);
      continue;
    }
    if (rm_facts.enlist == kNone || rm_facts.writes.empty()) continue;
    out.push_back(MakeViolation(
        "validity", tx,
        absl::StrCat(tx, " ", DescribeCommit(history, commit), " but ", rm,
                     ", which enlisted and wrote, had no yes/readonly/spc vote before that"),
        {rm_facts.writes.front(), commit}));
  }
  return all_votes_in;
}

void CheckRequests(const History& history, const std::string& tx, const TxFacts& tx_facts,
                   size_t commit, std::vector<Violation>& out) {
  const std::string committed = absl::StrCat(tx, " ", DescribeCommit(history, commit));
  if (tx_facts.first_commit_request == kNone || tx_facts.first_commit_request > commit) {
    out.push_back(MakeViolation("validity", tx,
                                absl::StrCat(committed, " without a commit request before it"),
                                {commit, tx_facts.first_commit_request}));
  }
  const size_t limit = Min(tx_facts.first_commit_request, commit);
  if (!tx_facts.rollback_requests.empty() && tx_facts.rollback_requests.front() < limit) {
    const size_t rollback = tx_facts.rollback_requests.front();
    const std::string& by = history.events[rollback].detail;
    out.push_back(MakeViolation(
        "validity", tx,
        absl::StrCat(committed, " although a rollback was requested",
                     by.empty() ? "" : absl::StrCat(" (by ", by, ")"), " at ",
                     At(history, rollback), ", before its commit request"),
        {rollback, limit}));
  }
}

void CheckValidityOf(const History& history, const std::string& tx, const TxFacts& tx_facts,
                     std::vector<Violation>& out) {
  const size_t acknowledged = FirstOutcome(history, tx_facts, "committed");
  const size_t commit = Min(FirstRmCommitted(tx_facts), acknowledged);
  if (commit == kNone) return;
  CheckRequests(history, tx, tx_facts, commit, out);
  for (const auto& [rm, rm_facts] : tx_facts.rms) {
    for (size_t vote : rm_facts.votes) {
      if (history.events[vote].detail != "no") continue;
      out.push_back(MakeViolation("validity", tx,
                                  absl::StrCat(tx, " ", DescribeCommit(history, commit), " but ",
                                               rm, " voted no at ", At(history, vote)),
                                  {vote, commit}));
    }
  }
  size_t all_votes_in = CheckVotesIn(history, tx, tx_facts, commit, acknowledged, out);
  if (all_votes_in == kNone) all_votes_in = Min(tx_facts.first_commit_request, commit);
  if (!tx_facts.timeouts.empty() && tx_facts.timeouts.front() < all_votes_in) {
    const size_t timeout = tx_facts.timeouts.front();
    out.push_back(MakeViolation(
        "validity", tx,
        absl::StrCat(tx, " ", DescribeCommit(history, commit), " but its timeout fired at ",
                     At(history, timeout), ", before all votes were in (at ",
                     At(history, all_votes_in), ")"),
        {timeout, all_votes_in}));
  }
}

std::vector<Violation> Validity(const History& history, const Facts& facts) {
  std::vector<Violation> out;
  for (const auto& [tx, tx_facts] : facts.txs) CheckValidityOf(history, tx, tx_facts, out);
  return out;
}

// ---- durability ------------------------------------------------------------

void CheckDurableAt(const History& history, const Facts& facts,
                    const std::map<RmKey, CommittedValue>& reference, const std::string& tx,
                    const std::string& rm, size_t acknowledged, std::vector<Violation>& out) {
  const RmFacts& rm_facts = facts.txs.at(tx).rms.at(rm);
  const std::string acked =
      absl::StrCat(tx, " was acknowledged committed at ", At(history, acknowledged));
  if (rm_facts.first_committed == kNone) {
    if (rm_facts.lost != kNone) return;  // a volatile RM promises nothing across a crash
    const size_t write = rm_facts.writes.front();
    out.push_back(MakeViolation(
        "durability", tx,
        absl::StrCat(acked, " but never committed on ", rm, ", where it wrote ",
                     Place(rm, history.events[write].key), " at ", At(history, write)),
        {acknowledged, write}));
    return;
  }
  std::map<std::string, size_t> last_write;  // key -> last kWrite of tx at rm
  for (size_t write : rm_facts.writes) last_write[history.events[write].key] = write;
  for (const auto& [key, write] : last_write) {
    auto entry = reference.find({rm, key});
    if (entry == reference.end()) continue;  // a volatile key gone in a crash
    const CommittedValue& expected = entry->second;
    if (expected.tx != tx) continue;  // a later committed tx overwrote the key
    auto finals = facts.finals.find({rm, key});
    if (finals == facts.finals.end()) continue;
    for (size_t final_index : finals->second) {
      const std::string& seen = history.events[final_index].value;
      if (seen == expected.value) continue;
      out.push_back(MakeViolation(
          "durability", tx,
          absl::StrCat(acked, " but its write ", Place(rm, key), "=", Quote(expected.value),
                       " is missing at the end (final value ", Quote(seen),
                       ") although no later committed transaction overwrote it"),
          {acknowledged, write, rm_facts.first_committed, final_index}));
      break;  // one report per key
    }
  }
}

std::vector<Violation> Durability(const History& history, const Facts& facts,
                                  const std::map<RmKey, CommittedValue>& reference) {
  std::vector<Violation> out;
  for (const auto& [tx, tx_facts] : facts.txs) {
    const size_t acknowledged = FirstOutcome(history, tx_facts, "committed");
    if (acknowledged == kNone) continue;
    for (const auto& [rm, rm_facts] : tx_facts.rms) {
      if (rm_facts.writes.empty()) continue;
      CheckDurableAt(history, facts, reference, tx, rm, acknowledged, out);
    }
  }
  return out;
}

// ---- isolation -------------------------------------------------------------

// A read with no earlier own write: it must see "" or a value committed there.
void CheckForeignRead(const History& history, const Facts& facts, size_t read,
                      std::vector<Violation>& out) {
  const HistoryEvent& event = history.events[read];
  if (event.value.empty()) return;
  const std::string seen = absl::StrCat(event.tx, " read ", Place(event.rm, event.key), "=",
                                        Quote(event.value), " at ", At(history, read));
  auto it = facts.first_write_of.find({event.rm, event.key, event.value});
  if (it == facts.first_write_of.end()) {
    out.push_back(MakeViolation(
        "isolation", event.tx, absl::StrCat(seen, ", a value no transaction wrote there"),
        {read}));
    return;
  }
  const size_t write = it->second;
  const std::string& writer = history.events[write].tx;
  if (writer == event.tx) {
    out.push_back(MakeViolation(
        "isolation", event.tx,
        absl::StrCat(seen, ", its own write made only later at ", At(history, write)),
        {read, write}));
    return;
  }
  const size_t commit = facts.txs.at(writer).rms.at(event.rm).first_committed;
  if (const size_t crash = LostInCrash(history, facts, write); crash != kNone && crash < read) {
    out.push_back(MakeViolation(
        "isolation", event.tx,
        absl::StrCat(seen, ", a volatile key written by ", writer, " at ", At(history, write),
                     "; its host crashed at ", At(history, crash), ", which removed it"),
        {read, write, crash}));
    return;
  }
  if (commit != kNone && commit < read) return;
  const std::string when =
      commit == kNone ? "never committed there"
                      : absl::StrCat("committed there only at ", At(history, commit));
  out.push_back(MakeViolation(
      "isolation", event.tx,
      absl::StrCat(seen, ", written by ", writer, " at ", At(history, write),
                   ", which ", when, " (dirty read)"),
      {read, write, commit}));
}

// Share modes (checkers.h, CheckIsolation), written from the rule's text.
// This reference was frozen before issue 18 added the rule to the checkers
// and never learned it, so every share-mode violation the checkers found was
// "extra" here (found by mutating generated histories with added kOpen
// events; the equivalence generator did not make kOpen events then).
// Violations come after the read ones, in event order, as in the checkers.
class ShareModes {
 public:
  ShareModes(const History& history, std::vector<Violation>& out) : history_(history), out_(out) {}

  void Run() {
    for (const HistoryEvent& event : history_.events) {
      if (event.kind == EventKind::kOpen) files_.insert({event.rm, event.key});
    }
    if (files_.empty()) return;
    for (size_t i = 0; i < history_.events.size(); ++i) {
      const HistoryEvent& event = history_.events[i];
      switch (event.kind) {
        case EventKind::kOpen: Open(i); break;
        case EventKind::kWrite: Access(i, true); break;
        case EventKind::kRead:
          if (event.detail != "absent") Access(i, false);
          break;
        case EventKind::kRmCommitted:
        case EventKind::kRmAborted:
        case EventKind::kRmLost: EndHolder(event.tx, event.rm); break;
        case EventKind::kVote:
          if (event.detail == "readonly") EndHolder(event.tx, event.rm);
          break;
        case EventKind::kCrash: Crash(event.host); break;
        default: break;
      }
    }
  }

 private:
  using File = std::pair<std::string, std::string>;    // (rm, key)
  using Holder = std::pair<std::string, std::string>;  // (tx, rm)

  void Open(size_t i) {
    const HistoryEvent& event = history_.events[i];
    const File file{event.rm, event.key};
    if (event.detail == "close") {
      writers_[file].erase(event.value);
      return;
    }
    if (event.detail != "write") return;  // refused (or a transaction's refusal): held by nobody
    if (auto lock = locks_.find(file); lock != locks_.end()) {
      out_.push_back(MakeViolation(
          "isolation", "",
          absl::StrCat("a non-transacted writer open (", event.value, ") of ", Place(event.rm, event.key),
                       " was granted at ", At(history_, i), " while ", lock->second.first,
                       " held the file (it wrote it at ", At(history_, lock->second.second),
                       "); it should get STATUS_SHARING_VIOLATION"),
          {lock->second.second, i}));
    }
    writers_[file][event.value] = i;
  }

  void Access(size_t i, bool write) {
    const HistoryEvent& event = history_.events[i];
    const File file{event.rm, event.key};
    if (!files_.contains(file)) return;
    if (auto writers = writers_.find(file); writers != writers_.end() && !writers->second.empty()) {
      const auto& [id, open] = *writers->second.begin();
      out_.push_back(MakeViolation(
          "isolation", event.tx,
          absl::StrCat(event.tx, write ? " wrote " : " read ", Place(event.rm, event.key), " at ",
                       At(history_, i), " while a non-transacted writer (", id, ", granted at ",
                       At(history_, open), ") held it open; its open should get STATUS_TRANSACTIONAL_CONFLICT"),
          {open, i}));
    }
    if (!write) return;
    auto lock = locks_.find(file);
    if (lock == locks_.end()) {
      locks_[file] = {event.tx, i};
      held_[{event.tx, event.rm}].push_back(file);
    } else if (lock->second.first != event.tx) {
      out_.push_back(MakeViolation(
          "isolation", event.tx,
          absl::StrCat(event.tx, " wrote ", Place(event.rm, event.key), " at ", At(history_, i), " while ",
                       lock->second.first, " held the file (it wrote it at ", At(history_, lock->second.second),
                       "); its open should get STATUS_SHARING_VIOLATION"),
          {lock->second.second, i}));
    }
  }

  // The transaction's participation at the RM ended: its locks there go.
  void EndHolder(const std::string& tx, const std::string& rm) {
    auto held = held_.find({tx, rm});
    if (held == held_.end()) return;
    for (const File& file : held->second) locks_.erase(file);
    held_.erase(held);
  }

  // Open handles and the lock table are the host's memory. A transaction's
  // locks at an RM live on the host of the write that took the first of them.
  void Crash(uint32_t host) {
    for (auto& [file, writers] : writers_) {
      std::erase_if(writers, [&](const auto& writer) { return history_.events[writer.second].host == host; });
    }
    std::vector<Holder> gone;
    for (const auto& [holder, files] : held_) {
      if (history_.events[locks_.at(files.front()).second].host == host) gone.push_back(holder);
    }
    for (const Holder& holder : gone) EndHolder(holder.first, holder.second);
  }

  const History& history_;
  std::vector<Violation>& out_;
  std::set<File> files_;                                        // places some kOpen names
  std::map<File, std::map<std::string, size_t>> writers_;       // granted opens: id -> kOpen
  std::map<File, std::pair<std::string, size_t>> locks_;        // -> (tx, the write that took it)
  std::map<Holder, std::vector<File>> held_;                    // the files each holder locked
};

void CheckShareModes(const History& history, std::vector<Violation>& out) { ShareModes(history, out).Run(); }

std::vector<Violation> Isolation(const History& history, const Facts& facts) {
  std::vector<Violation> found;
  // (tx, rm, key) -> latest own kWrite so far, maintained in event order.
  std::map<std::tuple<std::string, std::string, std::string>, size_t> own_write;
  for (size_t i = 0; i < history.events.size(); ++i) {
    const HistoryEvent& event = history.events[i];
    if (event.tx.empty()) continue;
    if (event.kind == EventKind::kWrite) own_write[{event.tx, event.rm, event.key}] = i;
    if (event.kind != EventKind::kRead) continue;
    auto own = own_write.find({event.tx, event.rm, event.key});
    if (own == own_write.end()) {
      CheckForeignRead(history, facts, i, found);
      continue;
    }
    const HistoryEvent& write = history.events[own->second];
    if (write.value == event.value) continue;
    found.push_back(MakeViolation(
        "isolation", event.tx,
        absl::StrCat(event.tx, " read ", Place(event.rm, event.key), "=", Quote(event.value),
                     " at ", At(history, i), " but its own latest write there was ",
                     Quote(write.value), " at ", At(history, own->second)),
        {own->second, i}));
  }
  // Order like the other rules: by transaction, then event index.
  std::stable_sort(found.begin(), found.end(),
                   [](const Violation& a, const Violation& b) { return a.tx < b.tx; });
  CheckShareModes(history, found);
  return found;
}

// ---- termination -----------------------------------------------------------

// The index at which the tx's participation at one RM ended, or kNone.
size_t RmResolution(const History& history, const RmFacts& rm_facts) {
  size_t resolved = Min(Min(rm_facts.first_committed, rm_facts.first_aborted), rm_facts.lost);
  for (size_t vote : rm_facts.votes) {
    const std::string& detail = history.events[vote].detail;
    if (detail == "readonly" || detail == "spc") resolved = Min(resolved, vote);
  }
  return resolved;
}

// The index at which the tx counts as resolved, or kNone; `unresolved` and
// `enlists` collect the enlisted RMs without a resolution and their kEnlist.
size_t Resolution(const History& history, const TxFacts& tx, std::vector<std::string>& unresolved,
                  std::vector<size_t>& enlists) {
  size_t all_rms = tx.begin;  // vacuous when it enlisted nowhere
  for (const auto& [rm, rm_facts] : tx.rms) {
    if (rm_facts.enlist == kNone) continue;
    const size_t resolved = RmResolution(history, rm_facts);
    if (resolved == kNone) {
      unresolved.push_back(rm);
      enlists.push_back(rm_facts.enlist);
    } else if (all_rms != kNone) {
      all_rms = std::max(all_rms, resolved);
    }
  }
  if (!unresolved.empty()) all_rms = kNone;
  const size_t outcome = tx.outcomes.empty() ? kNone : tx.outcomes.front();
  return Min(outcome, all_rms);
}

std::vector<Violation> Termination(const History& history, const Facts& facts,
                                   int64_t bound_ns) {
  std::vector<Violation> out;
  const int64_t stop = facts.faults_stop_ns;
  if (history.end_ns < SaturatingAdd(stop, bound_ns)) return out;  // run too short to judge
  for (const auto& [tx, tx_facts] : facts.txs) {
    if (tx_facts.begin == kNone) continue;
    const int64_t began = history.events[tx_facts.begin].time_ns;
    const int64_t deadline = SaturatingAdd(std::max(stop, began), bound_ns);
    if (history.end_ns < deadline) continue;
    std::vector<std::string> unresolved;
    std::vector<size_t> enlists;
    const size_t resolved = Resolution(history, tx_facts, unresolved, enlists);
    if (resolved != kNone && history.events[resolved].time_ns <= deadline) continue;
    const std::string context =
        absl::StrCat(" (faults stopped at ", FormatTimeNs(stop), ", bound ",
                     FormatTimeNs(bound_ns), ")");
    std::string message = absl::StrCat(tx, " began at ", At(history, tx_facts.begin));
    std::vector<size_t> evidence = {tx_facts.begin};
    if (resolved == kNone) {
      evidence.insert(evidence.end(), enlists.begin(), enlists.end());
      absl::StrAppend(&message, " and was still unresolved at the deadline ",
                      FormatTimeNs(deadline), context, ": no outcome, and no commit or abort on ",
                      absl::StrJoin(unresolved, ", "));
    } else {
      evidence.push_back(resolved);
      absl::StrAppend(&message, " and was resolved only at ", At(history, resolved),
                      ", after the deadline ", FormatTimeNs(deadline), context);
    }
    out.push_back(MakeViolation("termination", tx, std::move(message), std::move(evidence)));
  }
  return out;
}

}  // namespace

const std::vector<std::string>& RuleNames() {
  static const std::vector<std::string>* const kNames = new std::vector<std::string>{
      "atomicity", "agreement", "validity", "durability", "isolation", "termination"};
  return *kNames;
}

bool IsRuleName(std::string_view name) {
  const std::vector<std::string>& names = RuleNames();
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::map<RmKey, CommittedValue> ReferenceState(const History& history) {
  return BuildReference(history, BuildFacts(history));
}

std::vector<Violation> CheckAtomicity(const History& history) {
  const Facts facts = BuildFacts(history);
  return Atomicity(history, facts, BuildReference(history, facts));
}

std::vector<Violation> CheckAgreement(const History& history) {
  return Agreement(history, BuildFacts(history));
}

std::vector<Violation> CheckValidity(const History& history) {
  return Validity(history, BuildFacts(history));
}

std::vector<Violation> CheckDurability(const History& history) {
  const Facts facts = BuildFacts(history);
  return Durability(history, facts, BuildReference(history, facts));
}

std::vector<Violation> CheckIsolation(const History& history) {
  return Isolation(history, BuildFacts(history));
}

std::vector<Violation> CheckTermination(const History& history, int64_t bound_ns) {
  return Termination(history, BuildFacts(history), bound_ns);
}

std::vector<Violation> CheckAll(const History& history, const std::vector<std::string>& rules,
                                int64_t termination_bound_ns) {
  const Facts facts = BuildFacts(history);
  const std::map<RmKey, CommittedValue> reference = BuildReference(history, facts);
  auto wanted = [&](const std::string& name) {
    return rules.empty() || std::find(rules.begin(), rules.end(), name) != rules.end();
  };
  std::vector<Violation> out;
  auto append = [&out](std::vector<Violation> found) {
    for (Violation& violation : found) out.push_back(std::move(violation));
  };
  if (wanted("atomicity")) append(Atomicity(history, facts, reference));
  if (wanted("agreement")) append(Agreement(history, facts));
  if (wanted("validity")) append(Validity(history, facts));
  if (wanted("durability")) append(Durability(history, facts, reference));
  if (wanted("isolation")) append(Isolation(history, facts));
  if (wanted("termination")) append(Termination(history, facts, termination_bound_ns));
  for (const std::string& name : rules) {
    if (IsRuleName(name)) continue;
    out.push_back(MakeViolation(
        name, "",
        absl::StrCat("unknown checker rule \"", absl::CEscape(name), "\"; known rules: ",
                     absl::StrJoin(RuleNames(), ", ")),
        {}));
  }
  return out;
}

}  // namespace model::reference
