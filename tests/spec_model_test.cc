// The executable specs (model/spec_*) against TLC's published state counts,
// and every action on hand-built steps: each one accepted where its guard
// holds and rejected where it does not.
#include <set>

#include "gtest/gtest.h"
#include "model/spec_btm.h"
#include "model/spec_common.h"
#include "model/spec_tcommit.h"
#include "model/spec_two_phase.h"

namespace model::spec {
namespace {

constexpr RmPhase W = RmPhase::kWorking, P = RmPhase::kPrepared, C = RmPhase::kCommitted, A = RmPhase::kAborted;

TEST(SpecCounts, TCommitHas34StatesWith3Rms) { EXPECT_EQ(Reachable<TCommit>(3).size(), 34u); }
TEST(SpecCounts, TwoPhaseHas288StatesWith3Rms) { EXPECT_EQ(Reachable<TwoPhase>(3).size(), 288u); }
TEST(SpecCounts, TwoPhaseBTMHas1245StatesWith3Rms) { EXPECT_EQ(Reachable<TwoPhaseBTM>(3).size(), 1245u); }
TEST(SpecCounts, TwoPhaseCrashHas2334StatesWith3Rms) { EXPECT_EQ(Reachable<TwoPhaseCrash>(3).size(), 2334u); }
// TLC's count for TwoPhase with 6 RMs is quoted in the classic module: 50,816.
TEST(SpecCounts, TwoPhaseHas50816StatesWith6Rms) { EXPECT_EQ(Reachable<TwoPhase>(6).size(), 50816u); }

TEST(SpecCounts, EveryTwoPhaseStateIsACrashStateWithEverybodyUp) {
  std::set<uint64_t> crash;
  for (const auto& s : Reachable<TwoPhaseCrash>(3)) {
    if (!s.tm_down && s.rm_down == 0) crash.insert(s.Key());
  }
  std::set<uint64_t> two_phase;
  for (const auto& s : Reachable<TwoPhase>(3)) two_phase.insert(s.Key());
  // Crashes reach more up-states (a TM that forgot tmPrepared), never fewer.
  for (uint64_t key : two_phase) EXPECT_TRUE(crash.count(key)) << key;
  EXPECT_GT(crash.size(), two_phase.size());
}

TEST(SpecCounts, TwoPhaseIsConsistentInEveryReachableState) {
  for (const auto& s : Reachable<TwoPhaseCrash>(3)) {
    bool committed = false, aborted = false;
    for (int i = 0; i < 3; ++i) {
      committed = committed || s.rm[i] == C;
      aborted = aborted || s.rm[i] == A;
    }
    EXPECT_FALSE(committed && aborted) << s.ToText(3);
  }
}

// Whether `action` leads from `from` to `to` under Spec.
template <class Spec>
bool Takes(const typename Spec::State& from, const typename Spec::State& to, int n, const char* action, int rm) {
  for (const auto& a : ActionsBetween<Spec>(from, to, n)) {
    if (std::string(a.name) == action && a.rm == rm) return true;
  }
  return false;
}

TwoPhaseState Tp(std::initializer_list<RmPhase> rms, TmPhase tm = TmPhase::kInit, uint8_t tm_prepared = 0,
                 uint8_t msg_prepared = 0, bool commit = false, bool abort = false) {
  TwoPhaseState s;
  int i = 0;
  for (RmPhase r : rms) s.rm[i++] = r;
  s.tm = tm;
  s.tm_prepared = tm_prepared;
  s.msg_prepared = msg_prepared;
  s.msg_commit = commit;
  s.msg_abort = abort;
  return s;
}

TEST(TCommitActions, PrepareOnlyFromWorking) {
  TCommit::State s, t;
  t.rm[0] = P;
  EXPECT_TRUE(Takes<TCommit>(s, t, 2, "Prepare", 0));
  s.rm[0] = A;
  EXPECT_FALSE(Takes<TCommit>(s, t, 2, "Prepare", 0));
}

TEST(TCommitActions, DecideCommitOnlyWhenEveryRmIsReady) {
  TCommit::State s, t;
  s.rm = {P, P};
  t.rm = {C, P};
  EXPECT_TRUE(Takes<TCommit>(s, t, 2, "DecideCommit", 0));
  s.rm = {P, W};
  t.rm = {C, W};
  EXPECT_FALSE(Takes<TCommit>(s, t, 2, "DecideCommit", 0));
}

TEST(TCommitActions, DecideAbortOnlyWhileNobodyCommitted) {
  TCommit::State s, t;
  s.rm = {P, P};
  t.rm = {A, P};
  EXPECT_TRUE(Takes<TCommit>(s, t, 2, "DecideAbort", 0));
  s.rm = {P, C};
  t.rm = {A, C};
  EXPECT_FALSE(Takes<TCommit>(s, t, 2, "DecideAbort", 0));
}

TEST(TwoPhaseActions, RMPrepareSendsPrepared) {
  EXPECT_TRUE(Takes<TwoPhase>(Tp({W, W}), Tp({P, W}, TmPhase::kInit, 0, 0b01), 2, "RMPrepare", 0));
  // Without the message it is no step at all.
  EXPECT_TRUE(ActionsBetween<TwoPhase>(Tp({W, W}), Tp({P, W}), 2).empty());
  EXPECT_FALSE(Takes<TwoPhase>(Tp({A, W}), Tp({P, W}, TmPhase::kInit, 0, 0b01), 2, "RMPrepare", 0));
}

TEST(TwoPhaseActions, TMRcvPreparedNeedsTheMessage) {
  EXPECT_TRUE(Takes<TwoPhase>(Tp({P, W}, TmPhase::kInit, 0, 0b01), Tp({P, W}, TmPhase::kInit, 0b01, 0b01), 2,
                              "TMRcvPrepared", 0));
  EXPECT_FALSE(Takes<TwoPhase>(Tp({A, W}), Tp({A, W}, TmPhase::kInit, 0b01), 2, "TMRcvPrepared", 0));
  // Not after the decision.
  EXPECT_FALSE(Takes<TwoPhase>(Tp({P, W}, TmPhase::kAborted, 0, 0b01, false, true),
                               Tp({P, W}, TmPhase::kAborted, 0b01, 0b01, false, true), 2, "TMRcvPrepared", 0));
}

TEST(TwoPhaseActions, TMCommitNeedsEveryPrepared) {
  EXPECT_TRUE(Takes<TwoPhase>(Tp({P, P}, TmPhase::kInit, 0b11, 0b11), Tp({P, P}, TmPhase::kCommitted, 0b11, 0b11, true),
                              2, "TMCommit", -1));
  EXPECT_FALSE(Takes<TwoPhase>(Tp({P, P}, TmPhase::kInit, 0b01, 0b11),
                               Tp({P, P}, TmPhase::kCommitted, 0b01, 0b11, true), 2, "TMCommit", -1));
}

TEST(TwoPhaseActions, TMAbortOnlyWhileUndecided) {
  EXPECT_TRUE(Takes<TwoPhase>(Tp({P, W}, TmPhase::kInit, 0b01, 0b01),
                              Tp({P, W}, TmPhase::kAborted, 0b01, 0b01, false, true), 2, "TMAbort", -1));
  EXPECT_FALSE(Takes<TwoPhase>(Tp({P, P}, TmPhase::kCommitted, 0b11, 0b11, true),
                               Tp({P, P}, TmPhase::kAborted, 0b11, 0b11, true, true), 2, "TMAbort", -1));
}

TEST(TwoPhaseActions, RMChooseToAbortOnlyWhileWorking) {
  EXPECT_TRUE(Takes<TwoPhase>(Tp({W, W}), Tp({A, W}), 2, "RMChooseToAbort", 0));
  EXPECT_FALSE(Takes<TwoPhase>(Tp({P, W}, TmPhase::kInit, 0, 0b01), Tp({A, W}, TmPhase::kInit, 0, 0b01), 2,
                               "RMChooseToAbort", 0));
}

TEST(TwoPhaseActions, RMRcvCommitMsgNeedsTheCommitMessage) {
  EXPECT_TRUE(Takes<TwoPhase>(Tp({P, P}, TmPhase::kCommitted, 0b11, 0b11, true),
                              Tp({C, P}, TmPhase::kCommitted, 0b11, 0b11, true), 2, "RMRcvCommitMsg", 0));
  EXPECT_FALSE(Takes<TwoPhase>(Tp({P, P}, TmPhase::kInit, 0b11, 0b11), Tp({C, P}, TmPhase::kInit, 0b11, 0b11), 2,
                               "RMRcvCommitMsg", 0));
}

TEST(TwoPhaseActions, RMRcvAbortMsgNeedsTheAbortMessage) {
  EXPECT_TRUE(Takes<TwoPhase>(Tp({P, W}, TmPhase::kAborted, 0, 0b01, false, true),
                              Tp({A, W}, TmPhase::kAborted, 0, 0b01, false, true), 2, "RMRcvAbortMsg", 0));
  EXPECT_FALSE(Takes<TwoPhase>(Tp({P, W}, TmPhase::kInit, 0, 0b01), Tp({A, W}, TmPhase::kInit, 0, 0b01), 2,
                               "RMRcvAbortMsg", 0));
}

TEST(TwoPhaseCrashActions, TMCrashLosesTmPreparedKeepsTheDecision) {
  TwoPhaseState s = Tp({P, P}, TmPhase::kInit, 0b11, 0b11);
  TwoPhaseState t = s;
  t.tm_down = true;
  t.tm_prepared = 0;
  EXPECT_TRUE(Takes<TwoPhaseCrash>(s, t, 2, "TMCrash", -1));
  EXPECT_FALSE(Takes<TwoPhase>(s, t, 2, "TMCrash", -1));
  // A crash that forgot the decision is no step.
  TwoPhaseState c = Tp({P, P}, TmPhase::kCommitted, 0b11, 0b11, true);
  TwoPhaseState forgot = c;
  forgot.tm_down = true;
  forgot.tm_prepared = 0;
  forgot.tm = TmPhase::kInit;
  EXPECT_TRUE(ActionsBetween<TwoPhaseCrash>(c, forgot, 2).empty());
}

TEST(TwoPhaseCrashActions, ADownTmTakesNoStepUntilTMRecover) {
  TwoPhaseState s = Tp({P, W}, TmPhase::kInit, 0, 0b01);
  s.tm_down = true;
  TwoPhaseState rcv = s;
  rcv.tm_prepared = 0b01;
  EXPECT_TRUE(ActionsBetween<TwoPhaseCrash>(s, rcv, 2).empty());
  TwoPhaseState up = s;
  up.tm_down = false;
  EXPECT_TRUE(Takes<TwoPhaseCrash>(s, up, 2, "TMRecover", -1));
  EXPECT_FALSE(Takes<TwoPhaseCrash>(up, up, 2, "TMRecover", -1));
}

TEST(TwoPhaseCrashActions, RMCrashAbortsOnlyUnpreparedWork) {
  TwoPhaseState s = Tp({W, P}, TmPhase::kInit, 0, 0b10);
  TwoPhaseState t = Tp({A, P}, TmPhase::kInit, 0, 0b10);
  t.rm_down = 0b01;
  EXPECT_TRUE(Takes<TwoPhaseCrash>(s, t, 2, "RMCrash", 0));
  TwoPhaseState u = s;
  u.rm_down = 0b10;
  EXPECT_TRUE(Takes<TwoPhaseCrash>(s, u, 2, "RMCrash", 1));  // prepared survives
  TwoPhaseState lost = s;
  lost.rm_down = 0b10;
  lost.rm[1] = A;
  EXPECT_FALSE(Takes<TwoPhaseCrash>(s, lost, 2, "RMCrash", 1));
  // A down RM takes no protocol step; RMRecover brings it back.
  TwoPhaseState aborted = u;
  aborted.tm = TmPhase::kAborted;
  aborted.msg_abort = true;
  TwoPhaseState rcv_while_down = aborted;
  rcv_while_down.rm[1] = A;
  EXPECT_TRUE(ActionsBetween<TwoPhaseCrash>(aborted, rcv_while_down, 2).empty());
  TwoPhaseState back = t;
  back.rm_down = 0;
  EXPECT_TRUE(Takes<TwoPhaseCrash>(t, back, 2, "RMRecover", 0));
}

TEST(TwoPhaseBTMActions, BackupDecidesOnlyAfterTheTmFailed) {
  TwoPhaseBTM::State s;
  s.rm = {P, P, P};
  s.tm = TwoPhaseBTM::Tm::kCommit;
  s.tm_pc = TwoPhaseBTM::TmPc::kF1;
  TwoPhaseBTM::State hidden = s;
  hidden.tm = TwoPhaseBTM::Tm::kHidden;
  hidden.tm_pc = TwoPhaseBTM::TmPc::kDone;
  EXPECT_TRUE(Takes<TwoPhaseBTM>(s, hidden, 3, "F1", -1));
  TwoPhaseBTM::State btc = hidden;
  btc.btm_pc = TwoPhaseBTM::BtmPc::kBTC;
  EXPECT_TRUE(Takes<TwoPhaseBTM>(hidden, btc, 3, "BTS", -1));
  TwoPhaseBTM::State early = s;
  early.btm_pc = TwoPhaseBTM::BtmPc::kBTC;
  EXPECT_FALSE(Takes<TwoPhaseBTM>(s, early, 3, "BTS", -1));
}

TEST(TwoPhaseBTMActions, AtMostOneRmFails) {
  TwoPhaseBTM::State s;
  TwoPhaseBTM::State one = s;
  one.rm[0] = RmPhase::kFailed;
  EXPECT_TRUE(Takes<TwoPhaseBTM>(s, one, 3, "RS", 0));
  TwoPhaseBTM::State two = one;
  two.rm[1] = RmPhase::kFailed;
  EXPECT_FALSE(Takes<TwoPhaseBTM>(one, two, 3, "RS", 1));
}

TEST(SpecPaths, PathWithinFindsTheSinglePhaseShortcut) {
  // Single-phase commit: one RM, four spec actions in one engine step.
  TwoPhaseState from = Tp({W});
  TwoPhaseState to = Tp({C}, TmPhase::kCommitted, 0b1, 0b1, true);
  std::vector<Action> path;
  ASSERT_TRUE(PathWithin<TwoPhase>(from, to, 1, 4, &path));
  ASSERT_EQ(path.size(), 4u);
  EXPECT_EQ(std::string(path[2].name), "TMCommit");
  EXPECT_FALSE(PathWithin<TwoPhase>(from, to, 1, 3, &path));
}

}  // namespace
}  // namespace model::spec
