// Planted protocol bugs: a test-only switch that makes the engine (and the
// example RM) break one rule on purpose, so tests can prove the checkers and
// the explorer catch it. Never on by default: the harness passes 0 unless a
// test or `--planted-bug` asks for one.
#pragma once

#include <cstdint>

namespace ktm {

enum PlantedBug : uint32_t {
  kBugNone = 0,
  // The client's commit is acknowledged (and COMMIT sent) before the commit record is forced.
  kBugAckBeforeForce = 1,
  // The commit decision is never logged (prepared state forgotten by the TM).
  kBugSkipCommitRecord = 2,
  // On recovery, an enlistment of a committed transaction is told to roll back.
  kBugRollbackCommittedOnRecovery = 3,
  // A "no" vote (RollbackEnlistment during prepare) is ignored: the transaction commits.
  kBugIgnoreNoVote = 4,
  // Single-phase commit is delegated even when other enlistments still have work.
  kBugSinglePhaseWithOthers = 5,
  // The end record is written, and the transaction forgotten, before every CommitComplete.
  kBugForgetBeforeCommitComplete = 6,
  // An ordering bug: after several phases in a row whose first response came
  // from the enlistment notified last, the TM trusts that order and takes such
  // a first phase-1 response as every preparing enlistment's vote. Never taken
  // under fifo tie-breaking; found by random and PCT scheduling
  // (docs/scheduling.md).
  kBugTrustResponseOrder = 7,
  kBugCount = 8,
};

const char* PlantedBugName(uint32_t bug);

}  // namespace ktm
