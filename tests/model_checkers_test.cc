// Tests of model/ checkers and history text. For every rule: a hand-built
// good history passes, and hand-built bad histories are rejected naming
// exactly that rule, the guilty transaction and the event indexes showing the
// problem. RapidCheck properties then build histories from a correct serial
// execution (driven by KvModel) and check that they pass every rule, and that
// mutating them (dropping one RM's commit, flipping a vote to "no", telling
// the client the wrong outcome) is caught by the expected rule.
#include "model/checkers.h"

#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "model/history.h"
#include "model/kv_model.h"

namespace model {
namespace {

constexpr int64_t kMs = 1000 * 1000;

// Builds a History one event at a time. Each event happens 1ms after the
// previous one (the first at 1ms) unless At() moves the clock; every adder
// returns the new event's index so tests can name the evidence they expect.
class HistoryBuilder {
 public:
  HistoryBuilder& At(int64_t time_ns) {
    now_ns_ = time_ns;
    return *this;
  }
  size_t Add(EventKind kind, std::string tx, std::string rm = "", std::string key = "",
             std::string value = "", std::string detail = "") {
    HistoryEvent event;
    event.time_ns = now_ns_;
    event.kind = kind;
    event.tx = std::move(tx);
    event.rm = std::move(rm);
    event.key = std::move(key);
    event.value = std::move(value);
    event.detail = std::move(detail);
    history_.events.push_back(std::move(event));
    now_ns_ += kMs;
    return history_.events.size() - 1;
  }
  size_t Begin(const std::string& tx) { return Add(EventKind::kBegin, tx); }
  size_t Enlist(const std::string& tx, const std::string& rm) {
    return Add(EventKind::kEnlist, tx, rm);
  }
  size_t Write(const std::string& tx, const std::string& rm, const std::string& key,
               const std::string& value) {
    return Add(EventKind::kWrite, tx, rm, key, value);
  }
  size_t Read(const std::string& tx, const std::string& rm, const std::string& key,
              const std::string& value) {
    return Add(EventKind::kRead, tx, rm, key, value);
  }
  size_t CommitRequest(const std::string& tx) { return Add(EventKind::kCommitRequest, tx); }
  size_t RollbackRequest(const std::string& tx, const std::string& by = "") {
    return Add(EventKind::kRollbackRequest, tx, "", "", "", by);
  }
  size_t Vote(const std::string& tx, const std::string& rm, const std::string& vote) {
    return Add(EventKind::kVote, tx, rm, "", "", vote);
  }
  size_t Timeout(const std::string& tx) { return Add(EventKind::kTimeoutFired, tx); }
  size_t Outcome(const std::string& tx, const std::string& outcome) {
    return Add(EventKind::kOutcome, tx, "", "", "", outcome);
  }
  size_t RmCommitted(const std::string& tx, const std::string& rm) {
    return Add(EventKind::kRmCommitted, tx, rm);
  }
  size_t RmAborted(const std::string& tx, const std::string& rm) {
    return Add(EventKind::kRmAborted, tx, rm);
  }
  size_t Final(const std::string& rm, const std::string& key, const std::string& value) {
    return Add(EventKind::kFinalValue, "", rm, key, value);
  }
  size_t FaultsStop() { return Add(EventKind::kFaultsStop, ""); }

  // The whole two-phase commit of a tx that already enlisted `rms`: commit
  // request, a yes vote from each, each RM commits, the client learns it.
  void TwoPhaseCommit(const std::string& tx, const std::vector<std::string>& rms) {
    CommitRequest(tx);
    for (const std::string& rm : rms) Vote(tx, rm, "yes");
    for (const std::string& rm : rms) RmCommitted(tx, rm);
    Outcome(tx, "committed");
  }
  // A client rollback of a tx that enlisted `rms`.
  void ClientRollback(const std::string& tx, const std::vector<std::string>& rms) {
    RollbackRequest(tx);
    for (const std::string& rm : rms) RmAborted(tx, rm);
    Outcome(tx, "aborted");
  }

  int64_t now_ns() const { return now_ns_; }
  // end_ns defaults to the time of the next event.
  History Build(int64_t end_ns = -1) const {
    History history = history_;
    history.end_ns = end_ns < 0 ? now_ns_ : end_ns;
    return history;
  }

 private:
  History history_;
  int64_t now_ns_ = kMs;
};

std::string Describe(const std::vector<Violation>& violations) {
  std::string text;
  for (const Violation& violation : violations) text += "  " + violation.ToText() + "\n";
  return text.empty() ? "  (none)\n" : text;
}

struct Want {
  std::string rule;
  std::string tx;
  std::vector<size_t> events;
  std::string message_part = "";  // a substring the message must contain
};

// `got` must be exactly `want`, in order; every message names its tx.
void ExpectExactly(const std::vector<Violation>& got, const std::vector<Want>& want) {
  ASSERT_EQ(got.size(), want.size()) << "violations:\n" << Describe(got);
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE(got[i].ToText());
    EXPECT_EQ(got[i].rule, want[i].rule);
    EXPECT_EQ(got[i].tx, want[i].tx);
    EXPECT_EQ(got[i].events, want[i].events);
    if (!want[i].tx.empty()) {
      EXPECT_NE(got[i].message.find(want[i].tx), std::string::npos);
    }
    EXPECT_NE(got[i].message.find(want[i].message_part), std::string::npos)
        << "expected to contain: " << want[i].message_part;
  }
}

void ExpectNone(const std::vector<Violation>& got) {
  EXPECT_TRUE(got.empty()) << "violations:\n" << Describe(got);
}

// A history every rule accepts: a two-RM commit, a single-phase commit that
// reads the first one's committed values, a rolled-back tx (also aborted on
// an RM where it only enlisted), a read-only tx, then final values.
History GoodHistory() {
  HistoryBuilder b;
  b.Begin("t1");
  b.Enlist("t1", "rmA");
  b.Write("t1", "rmA", "x", "t1.0");
  b.Enlist("t1", "rmB");
  b.Write("t1", "rmB", "y", "t1.1");
  b.Read("t1", "rmA", "x", "t1.0");
  b.TwoPhaseCommit("t1", {"rmA", "rmB"});
  b.Begin("t2");
  b.Enlist("t2", "rmA");
  b.Read("t2", "rmA", "x", "t1.0");
  b.Write("t2", "rmA", "x", "t2.0");
  b.CommitRequest("t2");
  b.RmCommitted("t2", "rmA");  // single phase: the RM commits, then reports it
  b.Vote("t2", "rmA", "spc");
  b.Outcome("t2", "committed");
  b.Begin("t3");
  b.Enlist("t3", "rmB");
  b.Write("t3", "rmB", "y", "t3.0");
  b.Enlist("t3", "rmA");
  b.ClientRollback("t3", {"rmA", "rmB"});
  b.Begin("t4");
  b.Enlist("t4", "rmB");
  b.Read("t4", "rmB", "y", "t1.1");
  b.CommitRequest("t4");
  b.Vote("t4", "rmB", "readonly");
  b.Outcome("t4", "committed");
  b.FaultsStop();
  b.Final("rmA", "x", "t2.0");
  b.Final("rmB", "y", "t1.1");
  b.Final("rmB", "z", "");
  return b.Build();
}

// ---- history text -----------------------------------------------------------

TEST(HistoryTextTest, EventKindNamesAreStable) {
  EXPECT_STREQ(EventKindName(EventKind::kBegin), "Begin");
  EXPECT_STREQ(EventKindName(EventKind::kRmCommitted), "RmCommitted");
  EXPECT_STREQ(EventKindName(EventKind::kFaultsStop), "FaultsStop");
  std::set<std::string> names;
  for (int kind = 0; kind <= static_cast<int>(EventKind::kFaultsStop); ++kind) {
    names.insert(EventKindName(static_cast<EventKind>(kind)));
  }
  EXPECT_EQ(names.size(), static_cast<size_t>(EventKind::kFaultsStop) + 1);
  EXPECT_EQ(names.count("Unknown"), 0u);
}

TEST(HistoryTextTest, EventLineIsStableAndEscaped) {
  HistoryEvent event;
  event.time_ns = 12300000;
  event.host = 2;
  event.kind = EventKind::kWrite;
  event.tx = "t7";
  event.rm = "rmA";
  event.key = "k1";
  event.value = "a\"b\n";
  EXPECT_EQ(event.ToText(), "12300000 h2 Write tx=t7 rm=rmA key=k1 value=\"a\\\"b\\n\"");
  HistoryEvent vote;
  vote.kind = EventKind::kVote;
  vote.tx = "t1";
  vote.rm = "rmB";
  vote.detail = "yes";
  EXPECT_EQ(vote.ToText(), "0 h0 Vote tx=t1 rm=rmB detail=\"yes\"");
  HistoryEvent read;
  read.kind = EventKind::kRead;
  read.tx = "t1";
  read.rm = "rmB";
  read.key = "k";
  EXPECT_EQ(read.ToText(), "0 h0 Read tx=t1 rm=rmB key=k value=\"\"");
}

TEST(HistoryTextTest, HistoryTextNumbersEventsAndEndsWithEndTime) {
  HistoryBuilder b;
  b.Begin("t1");
  b.FaultsStop();
  EXPECT_EQ(b.Build(5 * kMs).ToText(), "#0 1000000 h0 Begin tx=t1\n#1 2000000 h0 FaultsStop\nend 5000000\n");
}

TEST(HistoryTextTest, FormatTimeNsPicksAUnitAndTrimsZeros) {
  EXPECT_EQ(FormatTimeNs(0), "0ns");
  EXPECT_EQ(FormatTimeNs(750), "750ns");
  EXPECT_EQ(FormatTimeNs(12300), "12.3us");
  EXPECT_EQ(FormatTimeNs(12300000), "12.3ms");
  EXPECT_EQ(FormatTimeNs(3 * kMs), "3ms");
  EXPECT_EQ(FormatTimeNs(1250000000), "1.25s");
  EXPECT_EQ(FormatTimeNs(-2 * kMs), "-2ms");
  EXPECT_EQ(FormatTimeNs(INT64_MIN), "-9223372036.855s");
}

// ---- the good history and CheckAll -----------------------------------------

TEST(CheckersTest, GoodHistoryPassesEveryRule) {
  const History history = GoodHistory();
  ExpectNone(CheckAtomicity(history));
  ExpectNone(CheckAgreement(history));
  ExpectNone(CheckValidity(history));
  ExpectNone(CheckDurability(history));
  ExpectNone(CheckIsolation(history));
  ExpectNone(CheckTermination(history, 1 * kMs));
  ExpectNone(CheckAll(history, {}, 1 * kMs));
}

TEST(CheckersTest, RuleNamesAreTheSixRulesInOrder) {
  EXPECT_EQ(RuleNames(), (std::vector<std::string>{"atomicity", "agreement", "validity",
                                                   "durability", "isolation", "termination"}));
  EXPECT_TRUE(IsRuleName("isolation"));
  EXPECT_FALSE(IsRuleName("Isolation"));
}

TEST(CheckersTest, ReferenceStateReplaysCommittedWritesInCommitOrder) {
  const History history = GoodHistory();
  const std::map<RmKey, CommittedValue> state = ReferenceState(history);
  ASSERT_EQ(state.size(), 2u);
  EXPECT_EQ(state.at({"rmA", "x"}).value, "t2.0");
  EXPECT_EQ(state.at({"rmA", "x"}).tx, "t2");
  EXPECT_EQ(history.events[state.at({"rmA", "x"}).write_event].value, "t2.0");
  EXPECT_EQ(state.at({"rmB", "y"}).value, "t1.1");  // t3's write was rolled back
}

// A write recorded after its transaction's commit at that RM (a history the
// harness does not make, but the model defines) applies at that commit's
// place in the commit order: before a later commit's write of the same key.
TEST(CheckersTest, ReferenceStateAppliesAWriteAfterItsCommitAtThatCommit) {
  HistoryBuilder b;
  b.Begin("t1");
  b.Write("t1", "rmA", "x", "t1.0");
  b.RmCommitted("t1", "rmA");
  b.Begin("t2");
  b.Write("t2", "rmA", "x", "t2.0");
  b.RmCommitted("t2", "rmA");
  b.Write("t1", "rmA", "x", "t1.1");  // after t2's commit, but applies at t1's
  const size_t late_y = b.Write("t1", "rmA", "y", "t1.2");
  const std::map<RmKey, CommittedValue> state = ReferenceState(b.Build());
  ASSERT_EQ(state.size(), 2u);
  EXPECT_EQ(state.at({"rmA", "x"}).value, "t2.0");
  EXPECT_EQ(state.at({"rmA", "y"}).value, "t1.2");
  EXPECT_EQ(state.at({"rmA", "y"}).write_event, late_y);
}

// t1 commits on rmA, rolls back on rmB: breaks atomicity and agreement.
History SplitCommitHistory(size_t* commit_a, size_t* abort_b) {
  HistoryBuilder b;
  b.Begin("t1");
  b.Enlist("t1", "rmA");
  b.Write("t1", "rmA", "x", "t1.0");
  b.Enlist("t1", "rmB");
  b.Write("t1", "rmB", "y", "t1.1");
  b.CommitRequest("t1");
  b.Vote("t1", "rmA", "yes");
  b.Vote("t1", "rmB", "yes");
  *commit_a = b.RmCommitted("t1", "rmA");
  *abort_b = b.RmAborted("t1", "rmB");
  b.Final("rmA", "x", "t1.0");
  b.Final("rmB", "y", "");
  return b.Build();
}

TEST(CheckersTest, CheckAllRunsOnlyTheNamedRules) {
  size_t commit_a, abort_b;
  const History history = SplitCommitHistory(&commit_a, &abort_b);
  // The bound is longer than the run, so termination has nothing to judge.
  const int64_t bound = 1000 * kMs;
  ExpectNone(CheckAll(history, {"validity", "isolation"}, bound));
  ExpectExactly(CheckAll(history, {"agreement"}, bound), {{"agreement", "t1", {commit_a, abort_b}}});
  std::vector<Violation> all = CheckAll(history, {}, bound);
  ASSERT_EQ(all.size(), 2u) << Describe(all);
  EXPECT_EQ(all[0].rule, "atomicity");
  EXPECT_EQ(all[1].rule, "agreement");
}

TEST(CheckersTest, CheckAllReportsAnUnknownRuleName) {
  ExpectExactly(CheckAll(GoodHistory(), {"atomicty"}, kMs),
                {{"atomicty", "", {}, "unknown checker rule \"atomicty\""}});
}

TEST(CheckersTest, ViolationTextNamesRuleTxAndEvents) {
  const Violation violation{"agreement", "t7", "t7 did things", {3, 9}};
  EXPECT_EQ(violation.ToText(), "agreement t7: t7 did things [events #3 #9]");
}

// ---- atomicity ---------------------------------------------------------------

TEST(AtomicityTest, CommitOnOneWriterRmButNotAnotherIsReported) {
  size_t commit_a, abort_b;
  const History history = SplitCommitHistory(&commit_a, &abort_b);
  ExpectExactly(CheckAtomicity(history),
                {{"atomicity", "t1", {4, commit_a, abort_b},
                  "t1 committed on rmA at 9ms but never committed on rmB, where it wrote rmB/y at "
                  "5ms; rmB rolled it back at 10ms"}});
}

TEST(AtomicityTest, CommitWithoutAnyAbortRecordIsStillSplit) {
  HistoryBuilder b;
  b.Begin("t1");
  const size_t write_a = b.Write("t1", "rmA", "x", "t1.0");
  const size_t write_b = b.Write("t1", "rmB", "y", "t1.1");
  const size_t commit_b = b.RmCommitted("t1", "rmB");
  ExpectExactly(CheckAtomicity(b.Build()), {{"atomicity", "t1", {write_a, commit_b}}});
  (void)write_b;
}

TEST(AtomicityTest, FinalValueOfANeverCommittedTxIsReportedAgainstIt) {
  HistoryBuilder b;
  b.Begin("t1");
  b.Write("t1", "rmA", "x", "t1.0");
  b.TwoPhaseCommit("t1", {"rmA"});
  b.Begin("t2");
  const size_t write = b.Write("t2", "rmA", "x", "t2.0");
  b.ClientRollback("t2", {"rmA"});
  const size_t final_x = b.Final("rmA", "x", "t2.0");
  ExpectExactly(CheckAtomicity(b.Build()),
                {{"atomicity", "t2", {write, final_x},
                  "written by t2 at 8ms, which never committed on rmA; the model expects "
                  "\"t1.0\" from t1"}});
}

TEST(AtomicityTest, MissingCommittedEffectIsReportedAgainstTheCommitter) {
  HistoryBuilder b;
  b.Begin("t1");
  const size_t write = b.Write("t1", "rmA", "x", "t1.0");
  b.CommitRequest("t1");
  b.Vote("t1", "rmA", "yes");
  const size_t commit = b.RmCommitted("t1", "rmA");
  const size_t final_x = b.Final("rmA", "x", "");
  ExpectExactly(CheckAtomicity(b.Build()),
                {{"atomicity", "t1", {write, commit, final_x},
                  "final value of rmA/x is \"\" (absent) but t1 committed on rmA at 5ms"}});
}

TEST(AtomicityTest, StaleValueIsReportedAgainstTheLaterCommitter) {
  HistoryBuilder b;
  b.Begin("t1");
  const size_t write1 = b.Write("t1", "rmA", "x", "t1.0");
  b.RmCommitted("t1", "rmA");
  b.Begin("t2");
  const size_t write2 = b.Write("t2", "rmA", "x", "t2.0");
  const size_t commit2 = b.RmCommitted("t2", "rmA");
  const size_t final_x = b.Final("rmA", "x", "t1.0");
  ExpectExactly(CheckAtomicity(b.Build()),
                {{"atomicity", "t2", {write1, write2, commit2, final_x}}});
}

TEST(AtomicityTest, ValueNobodyWroteIsReportedWithoutATx) {
  HistoryBuilder b;
  b.Begin("t1");
  b.Write("t1", "rmA", "x", "t1.0");
  b.RmCommitted("t1", "rmA");
  const size_t final_x = b.Final("rmA", "x", "garbage");
  const size_t final_y = b.Final("rmA", "y", "t1.0");  // right value, wrong key
  ExpectExactly(CheckAtomicity(b.Build()),
                {{"atomicity", "", {final_x}, "which no transaction wrote there"},
                 {"atomicity", "", {final_y}, "the model expects it absent"}});
}

TEST(AtomicityTest, CommitOrderNotWriteOrderDecidesTheLastValue) {
  HistoryBuilder b;
  b.Begin("t1");
  b.Begin("t2");
  b.Write("t2", "rmA", "x", "t2.0");  // t2 writes first ...
  b.Write("t1", "rmA", "x", "t1.0");
  b.RmCommitted("t1", "rmA");         // ... but commits last
  b.RmCommitted("t2", "rmA");
  b.Final("rmA", "x", "t2.0");
  ExpectNone(CheckAtomicity(b.Build()));
}

TEST(AtomicityTest, RepeatedCommitAfterRecoveryCountsOnceAtItsFirstPlace) {
  HistoryBuilder b;
  b.Begin("t1");
  b.Write("t1", "rmA", "x", "t1.0");
  b.RmCommitted("t1", "rmA");
  b.Begin("t2");
  const size_t write2 = b.Write("t2", "rmA", "x", "t2.0");
  const size_t commit2 = b.RmCommitted("t2", "rmA");
  b.RmCommitted("t1", "rmA");  // idempotent re-apply during recovery
  HistoryBuilder good = b;
  good.Final("rmA", "x", "t2.0");
  ExpectNone(CheckAtomicity(good.Build()));
  const size_t final_x = b.Final("rmA", "x", "t1.0");
  ExpectExactly(CheckAtomicity(b.Build()), {{"atomicity", "t2", {1, write2, commit2, final_x}}});
}

TEST(AtomicityTest, EmptyWriteDeletesAndTheLastOwnWriteCounts) {
  HistoryBuilder b;
  b.Begin("t1");
  b.Write("t1", "rmA", "x", "t1.0");
  b.Write("t1", "rmA", "x", "t1.1");
  b.RmCommitted("t1", "rmA");
  b.Begin("t2");
  b.Write("t2", "rmA", "y", "t2.0");
  b.Write("t2", "rmA", "y", "");
  b.RmCommitted("t2", "rmA");
  HistoryBuilder good = b;
  good.Final("rmA", "x", "t1.1");
  good.Final("rmA", "y", "");
  ExpectNone(CheckAtomicity(good.Build()));
  const size_t final_x = b.Final("rmA", "x", "t1.0");
  ExpectExactly(CheckAtomicity(b.Build()), {{"atomicity", "t1", {1, 2, 3, final_x}}});
}

// ---- agreement ---------------------------------------------------------------

TEST(AgreementTest, AbortOnAnRmWhereTheTxOnlyEnlistedIsFine) {
  HistoryBuilder b;
  b.Begin("t1");
  b.Enlist("t1", "rmA");
  b.Write("t1", "rmA", "x", "t1.0");
  b.Enlist("t1", "rmB");
  b.ClientRollback("t1", {"rmA", "rmB"});
  ExpectNone(CheckAgreement(b.Build()));
}

TEST(AgreementTest, CommitOnOneRmAndAbortOnAnotherIsReported) {
  size_t commit_a, abort_b;
  const History history = SplitCommitHistory(&commit_a, &abort_b);
  ExpectExactly(CheckAgreement(history),
                {{"agreement", "t1", {commit_a, abort_b},
                  "t1 committed on rmA at 9ms but rolled back on rmB at 10ms"}});
}

TEST(AgreementTest, AbortBeforeCommitIsReportedToo) {
  HistoryBuilder b;
  b.Begin("t1");
  const size_t abort_a = b.RmAborted("t1", "rmA");
  const size_t commit_b = b.RmCommitted("t1", "rmB");
  ExpectExactly(CheckAgreement(b.Build()), {{"agreement", "t1", {abort_a, commit_b}}});
}

TEST(AgreementTest, ClientToldCommittedButAnRmAborted) {
  HistoryBuilder b;
  b.Begin("t1");
  const size_t abort_a = b.RmAborted("t1", "rmA");
  const size_t outcome = b.Outcome("t1", "committed");
  ExpectExactly(CheckAgreement(b.Build()),
                {{"agreement", "t1", {abort_a, outcome},
                  "t1 was acknowledged committed at 3ms but rolled back on rmA at 2ms"}});
}

TEST(AgreementTest, ClientToldAbortedButAnRmCommitted) {
  HistoryBuilder b;
  b.Begin("t1");
  const size_t outcome = b.Outcome("t1", "aborted");
  const size_t commit_a = b.RmCommitted("t1", "rmA");
  ExpectExactly(CheckAgreement(b.Build()),
                {{"agreement", "t1", {outcome, commit_a},
                  "t1 was reported aborted to the client at 2ms but committed on rmA at 3ms"}});
}

TEST(AgreementTest, ClientToldBothOutcomes) {
  HistoryBuilder b;
  b.Begin("t2");
  const size_t committed = b.Outcome("t2", "committed");
  const size_t aborted = b.Outcome("t2", "aborted");
  ExpectExactly(CheckAgreement(b.Build()), {{"agreement", "t2", {committed, aborted}}});
}

// ---- validity ----------------------------------------------------------------

// t1 enlisted and wrote on rmA and rmB; the caller finishes the commit.
HistoryBuilder TwoWriters() {
  HistoryBuilder b;
  b.Begin("t1");        // #0
  b.Enlist("t1", "rmA");  // #1
  b.Write("t1", "rmA", "x", "t1.0");  // #2
  b.Enlist("t1", "rmB");  // #3
  b.Write("t1", "rmB", "y", "t1.1");  // #4
  return b;
}

TEST(ValidityTest, CommitWithoutCommitRequestIsReported) {
  HistoryBuilder b = TwoWriters();
  b.Vote("t1", "rmA", "yes");
  b.Vote("t1", "rmB", "yes");
  const size_t commit = b.RmCommitted("t1", "rmA");
  b.RmCommitted("t1", "rmB");
  ExpectExactly(CheckValidity(b.Build()),
                {{"validity", "t1", {commit}, "without a commit request before it"}});
}

TEST(ValidityTest, CommitRequestAfterTheCommitIsReported) {
  HistoryBuilder b = TwoWriters();
  b.Vote("t1", "rmA", "yes");
  b.Vote("t1", "rmB", "yes");
  const size_t ack = b.Outcome("t1", "committed");
  const size_t request = b.CommitRequest("t1");
  ExpectExactly(CheckValidity(b.Build()),
                {{"validity", "t1", {ack, request},
                  "t1 was acknowledged committed at 8ms without a commit request"}});
}

TEST(ValidityTest, NoVoteIsReported) {
  HistoryBuilder b = TwoWriters();
  b.CommitRequest("t1");
  b.Vote("t1", "rmA", "yes");
  const size_t no = b.Vote("t1", "rmB", "no");
  b.Vote("t1", "rmB", "yes");  // a later yes does not undo the no
  const size_t commit = b.RmCommitted("t1", "rmA");
  b.RmCommitted("t1", "rmB");
  ExpectExactly(CheckValidity(b.Build()),
                {{"validity", "t1", {no, commit}, "but rmB voted no at 8ms"}});
}

TEST(ValidityTest, RollbackRequestBeforeTheCommitRequestIsReported) {
  HistoryBuilder b = TwoWriters();
  const size_t rollback = b.RollbackRequest("t1", "rm");
  const size_t request = b.CommitRequest("t1");
  b.Vote("t1", "rmA", "yes");
  b.Vote("t1", "rmB", "yes");
  b.RmCommitted("t1", "rmA");
  b.RmCommitted("t1", "rmB");
  ExpectExactly(CheckValidity(b.Build()),
                {{"validity", "t1", {rollback, request},
                  "although a rollback was requested (by rm) at 6ms, before its commit request"}});
}

TEST(ValidityTest, RollbackRequestAfterTheCommitRequestIsFine) {
  HistoryBuilder b = TwoWriters();
  b.CommitRequest("t1");
  b.RollbackRequest("t1");  // too late: the commit goes ahead
  b.TwoPhaseCommit("t1", {"rmA", "rmB"});
  ExpectNone(CheckValidity(b.Build()));
}

TEST(ValidityTest, EnlistedWriterWithoutAVoteIsReported) {
  HistoryBuilder b = TwoWriters();
  b.CommitRequest("t1");
  b.Vote("t1", "rmA", "yes");
  const size_t commit = b.RmCommitted("t1", "rmA");
  b.RmCommitted("t1", "rmB");
  ExpectExactly(CheckValidity(b.Build()),
                {{"validity", "t1", {4, commit},
                  "rmB, which enlisted and wrote, had no yes/readonly/spc vote before that"}});
}

TEST(ValidityTest, VoteAfterAnotherRmCommittedIsReported) {
  HistoryBuilder b = TwoWriters();
  b.CommitRequest("t1");
  b.Vote("t1", "rmA", "yes");
  const size_t commit = b.RmCommitted("t1", "rmA");
  b.Vote("t1", "rmB", "yes");
  b.RmCommitted("t1", "rmB");
  ExpectExactly(CheckValidity(b.Build()), {{"validity", "t1", {4, commit}}});
}

TEST(ValidityTest, SinglePhaseVoteMayFollowItsOwnCommitButNotAnothers) {
  HistoryBuilder good;
  good.Begin("t1");
  good.Enlist("t1", "rmA");
  good.Write("t1", "rmA", "x", "t1.0");
  good.CommitRequest("t1");
  good.RmCommitted("t1", "rmA");
  good.Vote("t1", "rmA", "spc");
  good.Outcome("t1", "committed");
  ExpectNone(CheckValidity(good.Build()));

  HistoryBuilder bad = TwoWriters();
  bad.CommitRequest("t1");
  bad.Vote("t1", "rmA", "yes");
  const size_t commit = bad.RmCommitted("t1", "rmA");
  bad.Vote("t1", "rmB", "spc");
  ExpectExactly(CheckValidity(bad.Build()), {{"validity", "t1", {4, commit}}});
}

TEST(ValidityTest, TimeoutBeforeAllVotesIsReported) {
  HistoryBuilder b = TwoWriters();
  b.CommitRequest("t1");
  b.Vote("t1", "rmA", "yes");
  const size_t timeout = b.Timeout("t1");
  const size_t last_vote = b.Vote("t1", "rmB", "yes");
  b.RmCommitted("t1", "rmA");
  b.RmCommitted("t1", "rmB");
  ExpectExactly(CheckValidity(b.Build()),
                {{"validity", "t1", {timeout, last_vote},
                  "but its timeout fired at 8ms, before all votes were in (at 9ms)"}});
}

TEST(ValidityTest, TimeoutBeforeTheCommitRequestOfAVoterlessTxIsReported) {
  HistoryBuilder b;
  b.Begin("t1");
  const size_t timeout = b.Timeout("t1");
  const size_t request = b.CommitRequest("t1");
  b.Outcome("t1", "committed");
  ExpectExactly(CheckValidity(b.Build()), {{"validity", "t1", {timeout, request}}});
}

TEST(ValidityTest, TimeoutAfterAllVotesAndAbortedTxsAreFine) {
  HistoryBuilder b = TwoWriters();
  b.CommitRequest("t1");
  b.Vote("t1", "rmA", "yes");
  b.Vote("t1", "rmB", "yes");
  b.Timeout("t1");
  b.RmCommitted("t1", "rmA");
  b.RmCommitted("t1", "rmB");
  b.Begin("t2");
  b.Write("t2", "rmA", "z", "t2.0");
  b.Vote("t2", "rmA", "no");  // an aborted tx may vote no and time out
  b.Timeout("t2");
  b.RmAborted("t2", "rmA");
  ExpectNone(CheckValidity(b.Build()));
}

// ---- durability --------------------------------------------------------------

TEST(DurabilityTest, AcknowledgedTxWithoutCommitOnAWrittenRmIsReported) {
  HistoryBuilder b = TwoWriters();
  b.CommitRequest("t1");
  b.Vote("t1", "rmA", "yes");
  b.Vote("t1", "rmB", "yes");
  b.RmCommitted("t1", "rmA");
  const size_t ack = b.Outcome("t1", "committed");
  b.Final("rmA", "x", "t1.0");
  ExpectExactly(CheckDurability(b.Build()),
                {{"durability", "t1", {4, ack},
                  "t1 was acknowledged committed at 10ms but never committed on rmB"}});
}

TEST(DurabilityTest, AcknowledgedWriteMissingAtTheEndIsReported) {
  HistoryBuilder b = TwoWriters();
  b.TwoPhaseCommit("t1", {"rmA", "rmB"});  // #5..#10; rmB commits at #9
  b.Final("rmA", "x", "t1.0");
  const size_t final_y = b.Final("rmB", "y", "");
  ExpectExactly(CheckDurability(b.Build()),
                {{"durability", "t1", {4, 9, 10, final_y},
                  "its write rmB/y=\"t1.1\" is missing at the end (final value \"\" (absent))"}});
}

TEST(DurabilityTest, LaterCommittedOverwriteIsFineAndUnacknowledgedTxsAreNotJudged) {
  HistoryBuilder b = TwoWriters();
  b.TwoPhaseCommit("t1", {"rmA", "rmB"});
  b.Begin("t2");
  b.Write("t2", "rmA", "x", "t2.0");
  b.RmCommitted("t2", "rmA");
  b.Outcome("t2", "committed");
  b.Begin("t3");
  b.Write("t3", "rmB", "y", "t3.0");
  b.RmCommitted("t3", "rmB");  // never acknowledged to its client
  b.Final("rmA", "x", "t2.0");
  b.Final("rmB", "y", "t1.1");  // t3's effect is lost: atomicity, not durability
  const History history = b.Build();
  ExpectNone(CheckDurability(history));
  ASSERT_EQ(CheckAtomicity(history).size(), 1u);
  EXPECT_EQ(CheckAtomicity(history)[0].tx, "t3");
}

// ---- isolation ---------------------------------------------------------------

TEST(IsolationTest, DirtyReadIsReported) {
  HistoryBuilder b;
  b.Begin("t1");
  const size_t write = b.Write("t1", "rmA", "x", "t1.0");
  b.Begin("t2");
  const size_t read = b.Read("t2", "rmA", "x", "t1.0");
  const size_t commit = b.RmCommitted("t1", "rmA");
  b.Read("t2", "rmA", "x", "t1.0");  // now fine
  ExpectExactly(CheckIsolation(b.Build()),
                {{"isolation", "t2", {write, read, commit},
                  "t2 read rmA/x=\"t1.0\" at 4ms, written by t1 at 2ms, which committed there "
                  "only at 5ms (dirty read)"}});
}

TEST(IsolationTest, ReadOfANeverCommittedWriteIsReported) {
  HistoryBuilder b;
  b.Begin("t1");
  const size_t write = b.Write("t1", "rmA", "x", "t1.0");
  b.RmCommitted("t1", "rmB");  // committed elsewhere does not count
  b.Begin("t2");
  const size_t read = b.Read("t2", "rmA", "x", "t1.0");
  ExpectExactly(CheckIsolation(b.Build()),
                {{"isolation", "t2", {write, read}, "which never committed there"}});
}

TEST(IsolationTest, ReadMissingOwnWriteIsReported) {
  HistoryBuilder b;
  b.Begin("t1");
  b.Write("t1", "rmA", "x", "t1.0");
  b.RmCommitted("t1", "rmA");
  b.Begin("t2");
  b.Write("t2", "rmA", "x", "t2.0");
  const size_t own = b.Write("t2", "rmA", "x", "t2.1");
  const size_t read = b.Read("t2", "rmA", "x", "t1.0");  // committed, but not its own
  const size_t stale = b.Read("t2", "rmA", "x", "t2.0");  // own, but not the latest
  ExpectExactly(CheckIsolation(b.Build()),
                {{"isolation", "t2", {own, read}, "but its own latest write there was \"t2.1\""},
                 {"isolation", "t2", {own, stale}}});
}

TEST(IsolationTest, ReadOfAValueNobodyWroteThereIsReported) {
  HistoryBuilder b;
  b.Begin("t1");
  b.Write("t1", "rmA", "x", "t1.0");
  b.RmCommitted("t1", "rmA");
  b.Begin("t2");
  const size_t garbage = b.Read("t2", "rmA", "x", "garbage");
  const size_t wrong_key = b.Read("t2", "rmA", "y", "t1.0");
  const size_t wrong_rm = b.Read("t2", "rmB", "x", "t1.0");
  ExpectExactly(CheckIsolation(b.Build()),
                {{"isolation", "t2", {garbage}, "a value no transaction wrote there"},
                 {"isolation", "t2", {wrong_key}},
                 {"isolation", "t2", {wrong_rm}}});
}

TEST(IsolationTest, ReadOfOwnFutureWriteIsReported) {
  HistoryBuilder b;
  b.Begin("t1");
  const size_t read = b.Read("t1", "rmA", "x", "t1.0");
  const size_t write = b.Write("t1", "rmA", "x", "t1.0");
  ExpectExactly(CheckIsolation(b.Build()),
                {{"isolation", "t1", {read, write}, "its own write made only later"}});
}

TEST(IsolationTest, CommittedOwnAndAbsentReadsAreFine) {
  HistoryBuilder b;
  b.Begin("t1");
  b.Read("t1", "rmA", "x", "");
  b.Write("t1", "rmA", "x", "t1.0");
  b.Read("t1", "rmA", "x", "t1.0");
  b.Write("t1", "rmA", "x", "");
  b.Read("t1", "rmA", "x", "");  // own delete
  b.Write("t1", "rmA", "x", "t1.2");
  b.RmCommitted("t1", "rmA");
  b.Begin("t2");
  b.Read("t2", "rmA", "x", "t1.2");
  b.Read("t2", "rmA", "other", "");
  ExpectNone(CheckIsolation(b.Build()));
}

// ---- termination -------------------------------------------------------------

TEST(TerminationTest, UnresolvedTxIsReported) {
  HistoryBuilder b;
  const size_t begin = b.Begin("t1");
  b.Enlist("t1", "rmA");
  const size_t enlist_b = b.Enlist("t1", "rmB");
  b.RmCommitted("t1", "rmA");
  b.FaultsStop();  // at 5ms
  ExpectExactly(CheckTermination(b.Build(100 * kMs), 10 * kMs),
                {{"termination", "t1", {begin, enlist_b},
                  "t1 began at 1ms and was still unresolved at the deadline 15ms (faults stopped "
                  "at 5ms, bound 10ms): no outcome, and no commit or abort on rmB"}});
}

TEST(TerminationTest, LateResolutionIsReported) {
  HistoryBuilder b;
  const size_t begin = b.Begin("t1");
  b.Enlist("t1", "rmA");  // (with no enlistment it would count as resolved at begin)
  b.FaultsStop();
  b.At(50 * kMs);
  const size_t outcome = b.Outcome("t1", "aborted");
  ExpectExactly(CheckTermination(b.Build(100 * kMs), 10 * kMs),
                {{"termination", "t1", {begin, outcome},
                  "resolved only at 50ms, after the deadline 13ms"}});
}

TEST(TerminationTest, TooShortARunReportsNothing) {
  HistoryBuilder b;
  b.Begin("t1");
  b.Enlist("t1", "rmA");
  b.FaultsStop();  // at 3ms
  ExpectNone(CheckTermination(b.Build(12 * kMs), 10 * kMs));
  EXPECT_EQ(CheckTermination(b.Build(13 * kMs), 10 * kMs).size(), 1u);
}

TEST(TerminationTest, WithoutFaultsStopTheClockStartsAtZero) {
  HistoryBuilder b;
  const size_t begin = b.Begin("t1");
  const size_t enlist = b.Enlist("t1", "rmA");
  ExpectNone(CheckTermination(b.Build(9 * kMs), 10 * kMs));
  ExpectExactly(CheckTermination(b.Build(20 * kMs), 10 * kMs),
                {{"termination", "t1", {begin, enlist}, "deadline 11ms"}});
}

TEST(TerminationTest, EveryEnlistedRmResolvedOrAnOutcomeSuffices) {
  HistoryBuilder b;
  b.Begin("t1");
  b.Enlist("t1", "rmA");
  b.Enlist("t1", "rmB");
  b.Enlist("t1", "rmC");
  b.RmCommitted("t1", "rmA");
  b.RmAborted("t1", "rmB");  // (agreement's business, not termination's)
  b.Vote("t1", "rmC", "readonly");
  b.Begin("t2");
  b.Enlist("t2", "rmA");
  b.Outcome("t2", "aborted");
  b.Begin("t3");  // enlisted nowhere: vacuously resolved
  b.FaultsStop();
  ExpectNone(CheckTermination(b.Build(100 * kMs), 10 * kMs));
}

TEST(TerminationTest, TxBegunAfterFaultsStopGetsTheBoundFromItsBegin) {
  HistoryBuilder b;
  b.FaultsStop();  // 1ms
  b.At(8 * kMs);
  const size_t begin = b.Begin("t1");
  b.At(15 * kMs);
  b.Outcome("t1", "committed");  // 7ms after its begin, 14ms after the stop
  ExpectNone(CheckTermination(b.Build(100 * kMs), 10 * kMs));
  (void)begin;
  HistoryBuilder hung;
  hung.FaultsStop();
  hung.At(8 * kMs);
  const size_t hung_begin = hung.Begin("t1");
  const size_t hung_enlist = hung.Enlist("t1", "rmA");
  ExpectNone(CheckTermination(hung.Build(17 * kMs), 10 * kMs));  // its deadline is 18ms
  ExpectExactly(CheckTermination(hung.Build(18 * kMs), 10 * kMs),
                {{"termination", "t1", {hung_begin, hung_enlist}, "deadline 18ms"}});
}

// ---- scale -------------------------------------------------------------------

TEST(CheckersTest, HundredThousandEventsAreCheckedQuickly) {
  // A quadratic checker would take minutes here; ctest's timeout catches it.
  HistoryBuilder b;
  KvModel kv;
  constexpr int kTxs = 12500;  // 8 events each
  std::set<std::pair<std::string, std::string>> written;
  for (int t = 1; t <= kTxs; ++t) {
    const std::string tx = "t" + std::to_string(t);
    const std::string rm = (t % 2 == 0) ? "rmA" : "rmB";
    const std::string key = "k" + std::to_string(t % 97);
    b.Begin(tx);
    kv.Begin(tx);
    b.Enlist(tx, rm);
    b.Read(tx, rm, key, kv.Read(tx, rm, key).value);
    b.Write(tx, rm, key, tx + ".0");
    kv.Write(tx, rm, key, tx + ".0");
    written.insert({rm, key});
    b.TwoPhaseCommit(tx, {rm});
    kv.Commit(tx);
  }
  b.FaultsStop();
  for (const auto& [rm, key] : written) b.Final(rm, key, kv.Committed(rm, key));
  const History history = b.Build();
  ASSERT_GE(history.events.size(), 100000u);
  ExpectNone(CheckAll(history, {}, kMs));
  History corrupted = history;
  corrupted.events.back().value = "t1.0";  // t1 wrote rmB/k1, not this key
  const size_t final_index = corrupted.events.size() - 1;
  const std::map<RmKey, CommittedValue> reference = ReferenceState(corrupted);
  const CommittedValue& lost = reference.at({"rmB", corrupted.events.back().key});
  const size_t lost_commit = lost.write_event + 3;  // Write, CommitRequest, Vote, RmCommitted
  const size_t lost_ack = lost.write_event + 4;
  ExpectExactly(CheckAll(corrupted, {}, kMs),
                {{"atomicity", "", {final_index}, "no transaction wrote there"},
                 {"durability", lost.tx, {lost.write_event, lost_commit, lost_ack, final_index}}});
}

// ---- properties over generated serial executions -----------------------------

// One planned operation: (rm 0..2, key 0..2, write?) and a planned tx: its
// operations and its ending (0 commit, 1 client rollback, 2 a "no" vote).
using OpPlan = std::tuple<int, int, bool>;
using TxPlan = std::tuple<std::vector<OpPlan>, int>;

rc::Gen<std::vector<TxPlan>> GenPlans() {
  const rc::Gen<OpPlan> op =
      rc::gen::tuple(rc::gen::inRange(0, 3), rc::gen::inRange(0, 3), rc::gen::arbitrary<bool>());
  const rc::Gen<TxPlan> tx = rc::gen::tuple(
      rc::gen::resize(6, rc::gen::container<std::vector<OpPlan>>(op)), rc::gen::inRange(0, 3));
  return rc::gen::resize(10, rc::gen::container<std::vector<TxPlan>>(tx));
}

std::string RmName(int rm) { return "rm" + std::string(1, static_cast<char>('A' + rm)); }

// Ends a tx that enlisted `rms` (writers marks those it wrote), the way a
// correct TM would, and tells the KvModel.
void EndTx(HistoryBuilder& b, KvModel& kv, const std::string& tx, int ending,
           const std::vector<std::string>& rms, const std::set<std::string>& writers) {
  if (ending == 1) {
    b.ClientRollback(tx, rms);
    kv.Abort(tx);
    return;
  }
  b.CommitRequest(tx);
  if (ending == 2 && !rms.empty()) {
    b.Vote(tx, rms.front(), "no");
    for (const std::string& rm : rms) b.RmAborted(tx, rm);
    b.Outcome(tx, "aborted");
    kv.Abort(tx);
    return;
  }
  if (rms.size() == 1 && writers.contains(rms.front())) {
    b.RmCommitted(tx, rms.front());  // single-phase commit
    b.Vote(tx, rms.front(), "spc");
  } else {
    for (const std::string& rm : rms) b.Vote(tx, rm, writers.contains(rm) ? "yes" : "readonly");
    for (const std::string& rm : rms) {
      if (writers.contains(rm)) b.RmCommitted(tx, rm);
    }
  }
  b.Outcome(tx, "committed");
  kv.Commit(tx);
}

void RunTx(HistoryBuilder& b, KvModel& kv, const std::string& tx, const TxPlan& plan,
           std::set<std::pair<std::string, std::string>>& written) {
  const auto& [ops, ending] = plan;
  b.Begin(tx);
  kv.Begin(tx);
  std::vector<std::string> rms;
  std::set<std::string> writers;
  for (size_t o = 0; o < ops.size(); ++o) {
    const auto& [rm_number, key_number, is_write] = ops[o];
    const std::string rm = RmName(rm_number);
    const std::string key = "k" + std::to_string(key_number);
    if (std::find(rms.begin(), rms.end(), rm) == rms.end()) {
      rms.push_back(rm);
      b.Enlist(tx, rm);
    }
    if (is_write) {
      const std::string value = tx + "." + std::to_string(o);
      kv.Write(tx, rm, key, value);
      b.Write(tx, rm, key, value);
      writers.insert(rm);
      written.insert({rm, key});
    } else {
      b.Read(tx, rm, key, kv.Read(tx, rm, key).value);
    }
  }
  EndTx(b, kv, tx, ending, rms, writers);
}

// A tx that writes on two RMs and commits, so every history has one.
const TxPlan kTwoRmCommit = {{{0, 0, true}, {1, 1, true}}, 0};

History SerialHistory(const std::vector<TxPlan>& plans) {
  HistoryBuilder b;
  KvModel kv;
  std::set<std::pair<std::string, std::string>> written;
  for (size_t t = 0; t < plans.size(); ++t) {
    RunTx(b, kv, "t" + std::to_string(t + 1), plans[t], written);
  }
  b.FaultsStop();
  for (const auto& [rm, key] : written) b.Final(rm, key, kv.Committed(rm, key));
  return b.Build(b.now_ns() + 10 * kMs);
}

// Plans with kTwoRmCommit inserted at a generated position.
std::vector<TxPlan> WithTwoRmCommit(std::vector<TxPlan> plans, size_t position) {
  plans.insert(plans.begin() + static_cast<std::ptrdiff_t>(position % (plans.size() + 1)),
               kTwoRmCommit);
  return plans;
}

bool Names(const std::vector<Violation>& violations, const std::string& rule,
           const std::string& tx) {
  return std::any_of(violations.begin(), violations.end(), [&](const Violation& violation) {
    return violation.rule == rule && violation.tx == tx;
  });
}

// tx -> (wrote on at least two RMs, acknowledged committed); absent = neither.
std::map<std::string, std::pair<bool, bool>> Shapes(const History& history) {
  std::map<std::string, std::set<std::string>> writer_rms;
  std::map<std::string, std::pair<bool, bool>> shapes;
  for (const HistoryEvent& event : history.events) {
    if (event.kind == EventKind::kWrite) writer_rms[event.tx].insert(event.rm);
    if (event.kind == EventKind::kOutcome && event.detail == "committed") {
      shapes[event.tx].second = true;
    }
  }
  for (const auto& [tx, rms] : writer_rms) shapes[tx].first = rms.size() >= 2;
  return shapes;
}

// Indexes of events of `kind` whose tx satisfies `pick`.
template <typename Pick>
std::vector<size_t> Candidates(const History& history, EventKind kind, Pick pick) {
  std::vector<size_t> found;
  for (size_t i = 0; i < history.events.size(); ++i) {
    if (history.events[i].kind == kind && pick(history.events[i].tx)) found.push_back(i);
  }
  return found;
}

RC_GTEST_PROP(CheckerProperties, SerialExecutionsPassEveryRule, ()) {
  const std::vector<TxPlan> plans = *GenPlans();
  const History history = SerialHistory(plans);
  const std::vector<Violation> violations = CheckAll(history, {}, 5 * kMs);
  RC_LOG() << history.ToText() << Describe(violations);
  RC_ASSERT(violations.empty());
}

RC_GTEST_PROP(CheckerProperties, DroppingOneRmCommitOfAMultiRmCommitIsAnAtomicityViolation,
              ()) {
  const std::vector<TxPlan> plans =
      WithTwoRmCommit(*GenPlans(), *rc::gen::inRange<size_t>(0, 100));
  History history = SerialHistory(plans);
  const auto shapes = Shapes(history);
  const std::vector<size_t> commits =
      Candidates(history, EventKind::kRmCommitted, [&](const std::string& tx) {
        auto it = shapes.find(tx);
        return it != shapes.end() && it->second.first && it->second.second;
      });
  RC_ASSERT(!commits.empty());
  const size_t dropped = *rc::gen::elementOf(commits);
  const std::string tx = history.events[dropped].tx;
  history.events.erase(history.events.begin() + static_cast<std::ptrdiff_t>(dropped));
  const std::vector<Violation> violations = CheckAll(history, {}, 5 * kMs);
  RC_LOG() << "dropped #" << dropped << " of " << tx << "\n" << Describe(violations);
  RC_ASSERT(Names(violations, "atomicity", tx));
  RC_ASSERT(Names(violations, "durability", tx));  // it was acknowledged
}

RC_GTEST_PROP(CheckerProperties, FlippingAVoteOfACommittedTxToNoIsAValidityViolation, ()) {
  const std::vector<TxPlan> plans =
      WithTwoRmCommit(*GenPlans(), *rc::gen::inRange<size_t>(0, 100));
  History history = SerialHistory(plans);
  const auto shapes = Shapes(history);
  const std::vector<size_t> votes =
      Candidates(history, EventKind::kVote, [&](const std::string& tx) {
        auto it = shapes.find(tx);
        return it != shapes.end() && it->second.second;
      });
  RC_ASSERT(!votes.empty());
  const size_t flipped = *rc::gen::elementOf(votes);
  history.events[flipped].detail = "no";
  const std::string tx = history.events[flipped].tx;
  const std::vector<Violation> violations = CheckAll(history, {}, 5 * kMs);
  RC_LOG() << "flipped #" << flipped << " of " << tx << "\n" << Describe(violations);
  RC_ASSERT(Names(violations, "validity", tx));
  RC_ASSERT(std::all_of(violations.begin(), violations.end(),
                        [](const Violation& violation) { return violation.rule == "validity"; }));
}

RC_GTEST_PROP(CheckerProperties, TellingTheClientAbortedAfterRmCommitsIsAnAgreementViolation,
              ()) {
  const std::vector<TxPlan> plans =
      WithTwoRmCommit(*GenPlans(), *rc::gen::inRange<size_t>(0, 100));
  History history = SerialHistory(plans);
  std::set<std::string> rm_committed;
  for (const HistoryEvent& event : history.events) {
    if (event.kind == EventKind::kRmCommitted) rm_committed.insert(event.tx);
  }
  const std::vector<size_t> outcomes =
      Candidates(history, EventKind::kOutcome,
                 [&](const std::string& tx) { return rm_committed.contains(tx); });
  RC_ASSERT(!outcomes.empty());
  const size_t flipped = *rc::gen::elementOf(outcomes);
  history.events[flipped].detail = "aborted";
  const std::string tx = history.events[flipped].tx;
  const std::vector<Violation> violations = CheckAll(history, {}, 5 * kMs);
  RC_LOG() << "flipped #" << flipped << " of " << tx << "\n" << Describe(violations);
  RC_ASSERT(Names(violations, "agreement", tx));
}

}  // namespace
}  // namespace model
