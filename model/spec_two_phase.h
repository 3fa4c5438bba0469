// TwoPhase and TwoPhaseCrash: the executable twins of spec/KtmTwoPhase.tla
// and spec/KtmTwoPhaseCrash.tla — the two-phase commit protocol with one TM,
// n RMs and a set of messages that only grows (safety only: a message may be
// received any number of times, or never).
//
// TwoPhase actions: TMRcvPrepared(rm), TMCommit, TMAbort, RMPrepare(rm),
// RMChooseToAbort(rm), RMRcvCommitMsg(rm), RMRcvAbortMsg(rm). Reachable
// states with 3 RMs: 288 (TLC's published count for the classic module).
//
// TwoPhaseKtmCalls (below) is TwoPhase with KTM's synchronous calls: the
// states KTM can reach without a crash.
//
// TwoPhaseCrash adds availability: the TM and each RM are up or down, a
// process that is down takes no protocol step, and
//   TMCrash       the TM's volatile state is lost: tmPrepared := {}
//                 (tmState is what its log says: a decision is logged
//                 before it is sent, so it survives);
//   TMRecover     the TM is up again (and may then abort an undecided
//                 transaction: presumed abort is TMRecover then TMAbort);
//   RMCrash(rm)   an RM's unprepared work is lost: working -> aborted;
//                 prepared, committed and aborted are on its log;
//   RMRecover(rm) the RM is up again.
// With nobody crashing it is TwoPhase: every TwoPhase behaviour is one of
// TwoPhaseCrash's. Reachable states with 3 RMs: 2,334 (our count; the test
// pins it).
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "model/spec_common.h"
#include "model/spec_tcommit.h"

namespace model::spec {

enum class TmPhase : uint8_t { kInit = 0, kCommitted = 1, kAborted = 2 };
const char* TmPhaseName(TmPhase phase);  // "init", "committed", "aborted"

struct TwoPhaseState {
  std::array<RmPhase, kSpecRmMax> rm{};  // working, prepared, committed, aborted
  TmPhase tm = TmPhase::kInit;
  uint8_t tm_prepared = 0;   // bit i: the TM has received rm i's Prepared message
  uint8_t msg_prepared = 0;  // bit i: [type |-> "Prepared", rm |-> i] is in msgs
  bool msg_commit = false;
  bool msg_abort = false;
  // TwoPhaseCrash only (TwoPhase keeps them at their initial values).
  bool tm_down = false;
  uint8_t rm_down = 0;  // bit i: rm i is down

  bool operator==(const TwoPhaseState&) const = default;
  // Injective for n <= kSpecRmMax: rm[i] in bits 2i..2i+1, then tm (16),
  // tmPrepared (18), msgs (26, 34, 35), tmUp (36), rmUp (37). Inline: the
  // conformance replay keys every step.
  [[gnu::always_inline]] uint64_t Key() const {
    static_assert(sizeof(rm) == sizeof(uint64_t), "the phases are read as one word");
    uint64_t phases;
    std::memcpy(&phases, rm.data(), sizeof(phases));
    uint64_t key;
    if (std::endian::native == std::endian::little && (phases & ~0x0303030303030303ull) == 0) {
      // Every phase fits 2 bits (always, for these specs): gather byte i's
      // two bits into bits 2i..2i+1 by halving the stride three times.
      phases = (phases | (phases >> 6)) & 0x000f000f000f000full;
      phases = (phases | (phases >> 12)) & 0x000000ff000000ffull;
      key = (phases | (phases >> 24)) & 0xffffull;
    } else {
      key = PhasesKeySlow();
    }
    key |= static_cast<uint64_t>(tm) << 16;
    key |= static_cast<uint64_t>(tm_prepared) << 18;
    key |= static_cast<uint64_t>(msg_prepared) << 26;
    key |= static_cast<uint64_t>(msg_commit) << 34;
    key |= static_cast<uint64_t>(msg_abort) << 35;
    key |= static_cast<uint64_t>(tm_down) << 36;
    key |= static_cast<uint64_t>(rm_down) << 37;
    return key;
  }
  // Key()'s phase bits one phase at a time (a phase beyond two bits).
  uint64_t PhasesKeySlow() const;
  // Every variable as a TLA+ conjunction, "/\ rmState = ... /\ tmState = ...";
  // with_crash adds tmUp and rmUp.
  std::string ToTla(int n, bool with_crash) const;
  // The same as a TLA+ record with one field per variable, crash variables
  // included: [rmState |-> ..., tmState |-> ..., ..., rmUp |-> ...].
  std::string ToTlaRecord(int n) const;
  // One line for messages: "rm=[working,prepared,...] tm=init tmPrepared={1} msgs={Prepared1}".
  std::string ToText(int n) const;
  // The same state with the up/down flags cleared: a TwoPhase state.
  TwoPhaseState WithoutAvailability() const;
};

class TwoPhase {
 public:
  using State = TwoPhaseState;
  static State Init(int n);
  static void Next(const State& s, int n, std::vector<std::pair<Action, State>>* out);
};

class TwoPhaseCrash {
 public:
  using State = TwoPhaseState;
  static State Init(int n);
  static void Next(const State& s, int n, std::vector<std::pair<Action, State>>* out);
};

// TwoPhase as KTM's API lets it run (spec/README.md, spec-state coverage):
// PrepareComplete and RollbackEnlistment are calls into the TM, so while the
// TM is undecided an RM's yes vote and the TM's receipt of it (RMPrepare,
// TMRcvPrepared) are one call, and so are a no vote and the abort it causes
// (RMChooseToAbort, TMAbort). The state between the two actions of a call is
// visited (the trace shows the RM's vote first), but its only successor is
// the call's second action. Every other step is TwoPhase's. A TwoPhase state
// is reachable here iff AtMostOneRmInFlight (harness/conformance.h) holds:
// 256 of 288 with 3 RMs; the test enumerates both.
class TwoPhaseKtmCalls {
 public:
  using State = TwoPhaseState;
  static State Init(int n);
  static void Next(const State& s, int n, std::vector<std::pair<Action, State>>* out);
};

}  // namespace model::spec
