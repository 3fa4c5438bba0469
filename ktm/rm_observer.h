// RmObserver: the typed seam through which resource managers (and the Dtc)
// report what a history checker needs to know, instead of trace-kind strings.
//
// Every RM built on ktm/rm_base.h calls it at the moment the fact becomes
// true: a transaction joined (OnEnlist), a value was read or written in a
// transaction (OnRead / OnWrite, key and value in the RM's own terms), a
// notification reached the RM (OnNotify), the RM voted (OnVote: yes after
// its prepare record is durable, no, read-only, or a single-phase commit
// decided by its own log), and the outcome took effect at the RM
// (OnCommitted / OnAborted). The Dtc reports OnBranch when a participant
// host's local transaction starts serving a superior's transaction, so the
// events of that local transaction belong to the root.
//
// Contract: calls are synchronous and must not call back into the engine;
// an observer only records. Ids are the engine's: `rm` is the RM's name
// (RmOptions::name) with the key this observer gave that name (RmKey, asked
// once when the RM is given the observer), `uow` its transaction's
// unit-of-work GUID. Absent an observer (nullptr in the options) an RM
// reports nothing and behaves the same: observing never changes a run (its
// digest included).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ktm/types.h"

namespace ktm {

enum class RmVote : uint8_t {
  kYes,          // prepared: the prepare record is durable
  kNo,           // RollbackEnlistment before PrepareComplete
  kReadOnly,     // nothing to commit: ReadOnlyEnlistment
  kSinglePhase,  // SINGLE_PHASE_COMMIT decided by the RM's own commit record
};

// "yes", "no", "readonly", "spc": the history's vote names.
std::string_view RmVoteName(RmVote vote);

// An RM as its reports name it: its name, and the key the observer gave
// that name (RmObserver::RmKey), so that an observer finds what it keeps per
// RM by index instead of by text. Converts to the name.
struct ObservedRm {
  std::string_view name;
  uint32_t key = 0;  // 0: none (the observer's RmKey default)

  constexpr ObservedRm() = default;
  // Implicit from a name alone (key 0), so callers that report by name (tests,
  // tools) pass their text as before.
  constexpr ObservedRm(std::string_view rm_name, uint32_t rm_key = 0) : name(rm_name), key(rm_key) {}  // NOLINT
  constexpr ObservedRm(const char* rm_name) : name(rm_name) {}                                        // NOLINT
  ObservedRm(const std::string& rm_name) : name(rm_name) {}                                           // NOLINT
  operator std::string_view() const { return name; }  // NOLINT: implicit, reports read as the name
};

class RmObserver {
 public:
  virtual ~RmObserver() = default;

  // The key an RM named `rm_name` passes in every report to this observer
  // (ObservedRm::key). Asked when the RM gets the observer, which may be
  // before the RM reports anything (so it must not record). Not pure: 0
  // (no key) for observers that read names only.
  virtual uint32_t RmKey(std::string_view rm_name) { return 0; }

  virtual void OnEnlist(uint32_t host, const ObservedRm& rm, const Guid& uow) = 0;
  virtual void OnRead(uint32_t host, const ObservedRm& rm, const Guid& uow, std::string_view key,
                      std::string_view value) = 0;
  virtual void OnWrite(uint32_t host, const ObservedRm& rm, const Guid& uow, std::string_view key,
                       std::string_view value) = 0;
  // notification: a TRANSACTION_NOTIFY_* bit.
  virtual void OnNotify(uint32_t host, const ObservedRm& rm, const Guid& uow, uint32_t notification) = 0;
  // why: "" or a short reason ("log", "doomed", ...).
  virtual void OnVote(uint32_t host, const ObservedRm& rm, const Guid& uow, RmVote vote, std::string_view why) = 0;
  virtual void OnCommitted(uint32_t host, const ObservedRm& rm, const Guid& uow) = 0;
  // why: "" (a ROLLBACK), "presumed" (presumed abort at recovery), or the no-vote's reason.
  virtual void OnAborted(uint32_t host, const ObservedRm& rm, const Guid& uow, std::string_view why) = 0;
  // A participant's local transaction `local_uow` serves the superior's `root_uow`.
  virtual void OnBranch(uint32_t host, const Guid& root_uow, const Guid& local_uow) = 0;
  // The RM asked KTM for the outcome of a transaction it prepared
  // (TmRequestOutcomeEnlistment, RmOptions::request_outcome_after_ns).
  // Not pure, so observers written before it keep compiling.
  virtual void OnRequestOutcome(uint32_t host, const ObservedRm& rm, const Guid& uow) {}
};

}  // namespace ktm
