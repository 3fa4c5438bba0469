// TwoPhase and TwoPhaseCrash next-state relations (spec/KtmTwoPhase.tla,
// spec/KtmTwoPhaseCrash.tla). One function per action family; a process that
// is down takes no protocol step (always up in TwoPhase).
#include "model/spec_two_phase.h"

#include "absl/strings/str_cat.h"

namespace model::spec {
namespace {

using Out = std::vector<std::pair<Action, TwoPhaseState>>;

bool RmUp(const TwoPhaseState& s, int i) { return (s.rm_down & (1u << i)) == 0; }

void TmActions(const TwoPhaseState& s, int n, Out* out) {
  if (s.tm_down || s.tm != TmPhase::kInit) return;
  for (int i = 0; i < n; ++i) {
    uint8_t bit = static_cast<uint8_t>(1u << i);
    if ((s.msg_prepared & bit) && !(s.tm_prepared & bit)) {
      TwoPhaseState t = s;
      t.tm_prepared |= bit;
      out->push_back({{"TMRcvPrepared", i}, t});
    }
  }
  uint8_t all = static_cast<uint8_t>((1u << n) - 1);
  if (s.tm_prepared == all) {
    TwoPhaseState t = s;
    t.tm = TmPhase::kCommitted;
    t.msg_commit = true;
    out->push_back({{"TMCommit", -1}, t});
  }
  TwoPhaseState t = s;
  t.tm = TmPhase::kAborted;
  t.msg_abort = true;
  out->push_back({{"TMAbort", -1}, t});
}

void RmActions(const TwoPhaseState& s, int i, Out* out) {
  if (!RmUp(s, i)) return;
  if (s.rm[i] == RmPhase::kWorking) {
    TwoPhaseState t = s;
    t.rm[i] = RmPhase::kPrepared;
    t.msg_prepared |= static_cast<uint8_t>(1u << i);
    out->push_back({{"RMPrepare", i}, t});
    t = s;
    t.rm[i] = RmPhase::kAborted;
    out->push_back({{"RMChooseToAbort", i}, t});
  }
  // As in the classic module, receiving a decision has no guard on the RM's
  // own state; a successor equal to s is a stutter and is left out.
  if (s.msg_commit && s.rm[i] != RmPhase::kCommitted) {
    TwoPhaseState t = s;
    t.rm[i] = RmPhase::kCommitted;
    out->push_back({{"RMRcvCommitMsg", i}, t});
  }
  if (s.msg_abort && s.rm[i] != RmPhase::kAborted) {
    TwoPhaseState t = s;
    t.rm[i] = RmPhase::kAborted;
    out->push_back({{"RMRcvAbortMsg", i}, t});
  }
}

void CrashActions(const TwoPhaseState& s, int n, Out* out) {
  TwoPhaseState t = s;
  if (!s.tm_down) {
    t.tm_down = true;
    t.tm_prepared = 0;
    out->push_back({{"TMCrash", -1}, t});
  } else {
    t.tm_down = false;
    out->push_back({{"TMRecover", -1}, t});
  }
  for (int i = 0; i < n; ++i) {
    uint8_t bit = static_cast<uint8_t>(1u << i);
    t = s;
    if (RmUp(s, i)) {
      t.rm_down |= bit;
      if (t.rm[i] == RmPhase::kWorking) t.rm[i] = RmPhase::kAborted;
      out->push_back({{"RMCrash", i}, t});
    } else {
      t.rm_down &= static_cast<uint8_t>(~bit);
      out->push_back({{"RMRecover", i}, t});
    }
  }
}

}  // namespace

const char* TmPhaseName(TmPhase phase) {
  switch (phase) {
    case TmPhase::kInit: return "init";
    case TmPhase::kCommitted: return "committed";
    case TmPhase::kAborted: return "aborted";
  }
  return "?";
}

uint64_t TwoPhaseState::PhasesKeySlow() const {
  uint64_t key = 0;
  for (int i = 0; i < kSpecRmMax; ++i) key |= static_cast<uint64_t>(rm[i]) << (2 * i);
  return key;
}

namespace {
std::string RmSet(uint8_t mask, int n) {
  std::string out = "{";
  bool first = true;
  for (int i = 0; i < n; ++i) {
    if (!(mask & (1u << i))) continue;
    absl::StrAppend(&out, first ? "" : ", ", "rm", i + 1);
    first = false;
  }
  return out + "}";
}
}  // namespace

std::string TwoPhaseState::ToTla(int n, bool with_crash) const {
  std::string out = "/\\ rmState = (";
  for (int i = 0; i < n; ++i) absl::StrAppend(&out, i ? " @@ " : "", "rm", i + 1, " :> \"", RmPhaseName(rm[i]), "\"");
  absl::StrAppend(&out, ")\n/\\ tmState = \"", TmPhaseName(tm), "\"\n/\\ tmPrepared = ", RmSet(tm_prepared, n),
                  "\n/\\ msgs = {");
  bool first = true;
  for (int i = 0; i < n; ++i) {
    if (!(msg_prepared & (1u << i))) continue;
    absl::StrAppend(&out, first ? "" : ", ", "[type |-> \"Prepared\", rm |-> rm", i + 1, "]");
    first = false;
  }
  if (msg_commit) absl::StrAppend(&out, first ? "" : ", ", "[type |-> \"Commit\"]"), first = false;
  if (msg_abort) absl::StrAppend(&out, first ? "" : ", ", "[type |-> \"Abort\"]"), first = false;
  out += "}";
  if (with_crash) {
    absl::StrAppend(&out, "\n/\\ tmUp = ", tm_down ? "FALSE" : "TRUE", "\n/\\ rmUp = (");
    for (int i = 0; i < n; ++i) absl::StrAppend(&out, i ? " @@ " : "", "rm", i + 1, " :> ", (rm_down & (1u << i)) ? "FALSE" : "TRUE");
    out += ")";
  }
  return out;
}

std::string TwoPhaseState::ToTlaRecord(int n) const {
  std::string out = "[rmState |-> (";
  for (int i = 0; i < n; ++i) absl::StrAppend(&out, i ? " @@ " : "", "rm", i + 1, " :> \"", RmPhaseName(rm[i]), "\"");
  absl::StrAppend(&out, "), tmState |-> \"", TmPhaseName(tm), "\", tmPrepared |-> ", RmSet(tm_prepared, n),
                  ", msgs |-> {");
  bool first = true;
  for (int i = 0; i < n; ++i) {
    if (!(msg_prepared & (1u << i))) continue;
    absl::StrAppend(&out, first ? "" : ", ", "[type |-> \"Prepared\", rm |-> rm", i + 1, "]");
    first = false;
  }
  if (msg_commit) absl::StrAppend(&out, first ? "" : ", ", "[type |-> \"Commit\"]"), first = false;
  if (msg_abort) absl::StrAppend(&out, first ? "" : ", ", "[type |-> \"Abort\"]"), first = false;
  absl::StrAppend(&out, "}, tmUp |-> ", tm_down ? "FALSE" : "TRUE", ", rmUp |-> (");
  for (int i = 0; i < n; ++i) absl::StrAppend(&out, i ? " @@ " : "", "rm", i + 1, " :> ", (rm_down & (1u << i)) ? "FALSE" : "TRUE");
  return out + ")]";
}

std::string TwoPhaseState::ToText(int n) const {
  std::string out = "rm=[";
  for (int i = 0; i < n; ++i) {
    absl::StrAppend(&out, i ? "," : "", RmPhaseName(rm[i]));
    if (rm_down & (1u << i)) out += "(down)";
  }
  absl::StrAppend(&out, "] tm=", TmPhaseName(tm), tm_down ? "(down)" : "", " tmPrepared=", RmSet(tm_prepared, n),
                  " msgs={");
  bool first = true;
  for (int i = 0; i < n; ++i) {
    if (!(msg_prepared & (1u << i))) continue;
    absl::StrAppend(&out, first ? "" : ",", "Prepared", i + 1);
    first = false;
  }
  if (msg_commit) absl::StrAppend(&out, first ? "" : ",", "Commit"), first = false;
  if (msg_abort) absl::StrAppend(&out, first ? "" : ",", "Abort"), first = false;
  return out + "}";
}

TwoPhaseState TwoPhaseState::WithoutAvailability() const {
  TwoPhaseState t = *this;
  t.tm_down = false;
  t.rm_down = 0;
  return t;
}

TwoPhase::State TwoPhase::Init(int /*n*/) { return State{}; }

void TwoPhase::Next(const State& s, int n, std::vector<std::pair<Action, State>>* out) {
  TmActions(s, n, out);
  for (int i = 0; i < n; ++i) RmActions(s, i, out);
}

TwoPhaseCrash::State TwoPhaseCrash::Init(int /*n*/) { return State{}; }

void TwoPhaseCrash::Next(const State& s, int n, std::vector<std::pair<Action, State>>* out) {
  TmActions(s, n, out);
  for (int i = 0; i < n; ++i) RmActions(s, i, out);
  CrashActions(s, n, out);
}

TwoPhaseKtmCalls::State TwoPhaseKtmCalls::Init(int /*n*/) { return State{}; }

void TwoPhaseKtmCalls::Next(const State& s, int n, std::vector<std::pair<Action, State>>* out) {
  if (s.tm == TmPhase::kInit) {
    for (int i = 0; i < n; ++i) {
      const uint8_t bit = static_cast<uint8_t>(1u << i);
      if ((s.msg_prepared & bit) && !(s.tm_prepared & bit)) {
        // Inside PrepareComplete: the RM voted yes, the TM takes the vote.
        State t = s;
        t.tm_prepared |= bit;
        out->push_back({{"TMRcvPrepared", i}, t});
        return;
      }
      if (s.rm[i] == RmPhase::kAborted) {
        // Inside RollbackEnlistment: the RM voted no, the TM aborts.
        State t = s;
        t.tm = TmPhase::kAborted;
        t.msg_abort = true;
        out->push_back({{"TMAbort", -1}, t});
        return;
      }
    }
  }
  TwoPhase::Next(s, n, out);
}

}  // namespace model::spec
