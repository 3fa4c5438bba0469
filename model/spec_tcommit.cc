// TCommit next-state relation (spec/KtmTCommit.tla).
#include "model/spec_tcommit.h"

#include "absl/strings/str_cat.h"

namespace model::spec {

const char* RmPhaseName(RmPhase phase) {
  switch (phase) {
    case RmPhase::kWorking: return "working";
    case RmPhase::kPrepared: return "prepared";
    case RmPhase::kCommitted: return "committed";
    case RmPhase::kAborted: return "aborted";
    case RmPhase::kFailed: return "failed";
  }
  return "?";
}

uint64_t TCommit::State::Key() const {
  uint64_t key = 0;
  for (int i = 0; i < kSpecRmMax; ++i) key |= static_cast<uint64_t>(rm[i]) << (3 * i);
  return key;
}

std::string TCommit::State::ToTla(int n) const {
  std::string out = "rmState = <<";
  for (int i = 0; i < n; ++i) absl::StrAppend(&out, i ? ", " : "", "\"", RmPhaseName(rm[i]), "\"");
  return out + ">>";
}

TCommit::State TCommit::Init(int /*n*/) { return State{}; }

void TCommit::Next(const State& s, int n, std::vector<std::pair<Action, State>>* out) {
  bool can_commit = true, not_committed = true;
  for (int i = 0; i < n; ++i) {
    can_commit = can_commit && (s.rm[i] == RmPhase::kPrepared || s.rm[i] == RmPhase::kCommitted);
    not_committed = not_committed && s.rm[i] != RmPhase::kCommitted;
  }
  for (int i = 0; i < n; ++i) {
    if (s.rm[i] == RmPhase::kWorking) {
      State t = s;
      t.rm[i] = RmPhase::kPrepared;
      out->push_back({{"Prepare", i}, t});
    }
    if (s.rm[i] == RmPhase::kPrepared && can_commit) {
      State t = s;
      t.rm[i] = RmPhase::kCommitted;
      out->push_back({{"DecideCommit", i}, t});
    }
    if ((s.rm[i] == RmPhase::kWorking || s.rm[i] == RmPhase::kPrepared) && not_committed) {
      State t = s;
      t.rm[i] = RmPhase::kAborted;
      out->push_back({{"DecideAbort", i}, t});
    }
  }
}

}  // namespace model::spec
