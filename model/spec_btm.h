// TwoPhaseBTM: the executable twin of spec/KtmTwoPhaseBTM.tla — commit with a
// TM that may fail after deciding ("hidden") and a backup TM (BTM) that then
// decides again from the RMs' states, and RMs of which at most one may fail
// for good ("failed"), with RMMAYFAIL = TMMAYFAIL = TRUE. It follows the
// PlusCal translation's program counters, so its reachable states are TLC's:
// 1,245 with 3 RMs (the published count for 2PCwithBTM).
//
// Actions (one per PlusCal label): RS(rm) (an RM's loop step: prepare,
// commit, abort, fail, or leave the loop), TS, TC, F1, TA, F2 (the TM), BTS,
// BTC, BTA (the backup TM).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "model/spec_common.h"
#include "model/spec_tcommit.h"

namespace model::spec {

class TwoPhaseBTM {
 public:
  enum class Tm : uint8_t { kInit, kCommit, kAbort, kHidden };
  enum class TmPc : uint8_t { kTS, kTC, kF1, kTA, kF2, kDone };
  enum class BtmPc : uint8_t { kBTS, kBTC, kBTA, kDone };
  struct State {
    std::array<RmPhase, kSpecRmMax> rm{};  // working, prepared, committed, aborted, failed
    Tm tm = Tm::kInit;
    uint8_t rm_done = 0;  // bit i: pc[rm i] = "Done" (else "RS")
    TmPc tm_pc = TmPc::kTS;
    BtmPc btm_pc = BtmPc::kBTS;
    bool operator==(const State&) const = default;
    uint64_t Key() const;
  };
  static State Init(int n);
  static void Next(const State& s, int n, std::vector<std::pair<Action, State>>* out);
};

}  // namespace model::spec
