// TwoPhaseBTM next-state relation (spec/KtmTwoPhaseBTM.tla).
#include "model/spec_btm.h"

namespace model::spec {
namespace {

using State = TwoPhaseBTM::State;
using Out = std::vector<std::pair<Action, State>>;

bool CanCommit(const State& s, int n) {
  bool all_prepared = true, any_committed = false;
  for (int i = 0; i < n; ++i) {
    all_prepared = all_prepared && s.rm[i] == RmPhase::kPrepared;
    any_committed = any_committed || s.rm[i] == RmPhase::kCommitted;
  }
  return all_prepared || any_committed;
}

bool CanAbort(const State& s, int n) {
  bool any_aborted_or_failed = false, any_committed = false;
  for (int i = 0; i < n; ++i) {
    any_aborted_or_failed = any_aborted_or_failed || s.rm[i] == RmPhase::kAborted || s.rm[i] == RmPhase::kFailed;
    any_committed = any_committed || s.rm[i] == RmPhase::kCommitted;
  }
  return any_aborted_or_failed && !any_committed;
}

void RmStep(const State& s, int n, int i, Out* out) {
  if (s.rm_done & (1u << i)) return;
  auto with = [&](RmPhase phase) {
    State t = s;
    t.rm[i] = phase;
    if (!(t == s)) out->push_back({{"RS", i}, t});
  };
  if (s.rm[i] != RmPhase::kWorking && s.rm[i] != RmPhase::kPrepared) {
    State t = s;
    t.rm_done |= static_cast<uint8_t>(1u << i);
    out->push_back({{"RS", i}, t});
    return;
  }
  if (s.rm[i] == RmPhase::kWorking) with(RmPhase::kPrepared);
  if (s.tm == TwoPhaseBTM::Tm::kCommit) with(RmPhase::kCommitted);
  if (s.rm[i] == RmPhase::kWorking || s.tm == TwoPhaseBTM::Tm::kAbort) with(RmPhase::kAborted);
  bool any_failed = false;
  for (int j = 0; j < n; ++j) any_failed = any_failed || s.rm[j] == RmPhase::kFailed;
  if (!any_failed) with(RmPhase::kFailed);  // else the step leaves everything unchanged: a stutter
}

void TmStep(const State& s, int n, Out* out) {
  using Pc = TwoPhaseBTM::TmPc;
  using Tm = TwoPhaseBTM::Tm;
  auto go = [&](const char* name, Pc pc, Tm tm) {
    State t = s;
    t.tm_pc = pc;
    t.tm = tm;
    out->push_back({{name, -1}, t});
  };
  switch (s.tm_pc) {
    case Pc::kTS:
      if (CanCommit(s, n)) go("TS", Pc::kTC, s.tm);
      if (CanAbort(s, n)) go("TS", Pc::kTA, s.tm);
      return;
    case Pc::kTC: return go("TC", Pc::kF1, Tm::kCommit);
    case Pc::kF1: return go("F1", Pc::kDone, Tm::kHidden);
    case Pc::kTA: return go("TA", Pc::kF2, Tm::kAbort);
    case Pc::kF2: return go("F2", Pc::kDone, Tm::kHidden);
    case Pc::kDone: return;
  }
}

void BtmStep(const State& s, int n, Out* out) {
  using Pc = TwoPhaseBTM::BtmPc;
  using Tm = TwoPhaseBTM::Tm;
  auto go = [&](const char* name, Pc pc, Tm tm) {
    State t = s;
    t.btm_pc = pc;
    t.tm = tm;
    out->push_back({{name, -1}, t});
  };
  switch (s.btm_pc) {
    case Pc::kBTS:
      if (CanCommit(s, n) && s.tm == Tm::kHidden) go("BTS", Pc::kBTC, s.tm);
      if (CanAbort(s, n) && s.tm == Tm::kHidden) go("BTS", Pc::kBTA, s.tm);
      return;
    case Pc::kBTC: return go("BTC", Pc::kDone, Tm::kCommit);
    case Pc::kBTA: return go("BTA", Pc::kDone, Tm::kAbort);
    case Pc::kDone: return;
  }
}

}  // namespace

uint64_t TwoPhaseBTM::State::Key() const {
  uint64_t key = 0;
  for (int i = 0; i < kSpecRmMax; ++i) key |= static_cast<uint64_t>(rm[i]) << (3 * i);  // 24 bits
  key |= static_cast<uint64_t>(tm) << 24;
  key |= static_cast<uint64_t>(rm_done) << 26;
  key |= static_cast<uint64_t>(tm_pc) << 34;
  key |= static_cast<uint64_t>(btm_pc) << 37;
  return key;
}

TwoPhaseBTM::State TwoPhaseBTM::Init(int /*n*/) { return State{}; }

void TwoPhaseBTM::Next(const State& s, int n, std::vector<std::pair<Action, State>>* out) {
  TmStep(s, n, out);
  BtmStep(s, n, out);
  for (int i = 0; i < n; ++i) RmStep(s, n, i, out);
}

}  // namespace model::spec
