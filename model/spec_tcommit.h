// TCommit: the executable twin of spec/KtmTCommit.tla — transaction commit
// at the level of the RMs' states only (no TM, no messages): every RM ends
// committed or every RM ends aborted. Reachable states with 3 RMs: 34 (TLC's
// published count for the classic module).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "model/spec_common.h"

namespace model::spec {

enum class RmPhase : uint8_t { kWorking = 0, kPrepared = 1, kCommitted = 2, kAborted = 3, kFailed = 4 };
const char* RmPhaseName(RmPhase phase);  // "working", ... as in the TLA+ modules

class TCommit {
 public:
  struct State {
    std::array<RmPhase, kSpecRmMax> rm{};
    bool operator==(const State&) const = default;
    uint64_t Key() const;
    std::string ToTla(int n) const;  // "rmState = <<"working", ...>>"
  };
  static State Init(int n);
  // Prepare(rm), Decide(rm) (commit or abort branch, named DecideCommit / DecideAbort).
  static void Next(const State& s, int n, std::vector<std::pair<Action, State>>* out);
};

}  // namespace model::spec
