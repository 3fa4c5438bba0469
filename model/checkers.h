// Checkers: judge a recorded History against the properties a transaction
// manager promises. Each checker is a pure function of the history that
// returns every Violation it finds (empty = the rule holds), ordered
// deterministically (by transaction, RM, key, then event index). Checkers
// only read the history, never assume anything the history does not say, and
// run in time linear in its events (plus sorting the distinct RM and key
// names and the violations found), so million-event runs are cheap
// (bench/checker_bench.cc). The list of checkers is model/checker_catalog.h.
//
// The rules, by name (RuleNames()):
//   atomicity   all or nothing per transaction over the RMs it wrote; the
//               final state of every RM equals a sequential replay of its
//               committed writes (ReferenceState()).
//   agreement   no participant commits what another aborts; the client's
//               outcome matches what the RMs did.
//   validity    commit only after a commit request, with every enlisted
//               writer voting yes, no "no" vote, no earlier rollback request
//               and no timeout before the votes were in.
//   durability  an acknowledged commit is visible at the end unless a later
//               committed transaction overwrote it.
//   isolation   (key-value RMs) no dirty reads, read-your-own-writes, and no
//               read of a value nobody wrote; (files) share modes: no
//               transacted access to a file a non-transacted writer holds
//               open, no non-transacted writer open granted while a
//               transaction holds the file, no two transactions writing it.
//
// Volatile keys: a kWrite with detail "volatile" is gone once its host
// crashes after it (the reference state expects the key absent; a read of
// it after that crash is an isolation violation).
//   termination every transaction is resolved within a bound once faults stop.
//
// Final values are checked only where the history has a kFinalValue event:
// the harness should record one for every key ever written at every RM.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/history.h"

namespace model {

// One broken rule, with the evidence.
struct Violation {
  std::string rule;             // one of RuleNames() (or an unknown name passed to CheckAll)
  std::string tx;               // the transaction at fault; "" when none can be named
  std::string message;          // names the tx, the rule's subject and what was seen, with times
  std::vector<size_t> events;   // indexes into History::events showing the problem, ascending

  bool operator==(const Violation&) const = default;
  // "<rule> <tx>: <message> [events #i #j ...]"
  std::string ToText() const;
};

// The six rules, in the order CheckAll runs them:
// {"atomicity","agreement","validity","durability","isolation","termination"}.
std::vector<std::string> RuleNames();
bool IsRuleName(std::string_view name);

// The value the reference model expects at one (rm, key) at the end of a run.
struct CommittedValue {
  std::string value;     // "" = absent (the last committed write deleted the key)
  std::string tx;        // the transaction whose write this is
  size_t write_event;    // index of that kWrite
};
using RmKey = std::pair<std::string, std::string>;  // (rm, key)

// Replays, per RM, the committed writes: transactions in the order of their
// first kRmCommitted on that RM (repeats after recovery count once), each
// applying its last kWrite per key there. A volatile write (detail "volatile")
// followed by a kCrash of its host leaves the key absent. Keys no committed transaction wrote
// are not in the map (they are expected absent).
std::map<RmKey, CommittedValue> ReferenceState(const History& history);

// "atomicity": for each tx, every RM it wrote has a kRmCommitted for it, or
// none has (one violation per RM missing the commit); and every kFinalValue
// equals ReferenceState(): a value of a tx that never committed on that RM is
// reported against that tx, a missing or stale committed effect against the
// tx the model expects, a value no tx wrote there against tx "".
std::vector<Violation> CheckAtomicity(const History& history);

// "agreement": no tx has kRmCommitted on one RM and kRmAborted on another (or
// the same) RM, in either order; no kOutcome "committed" together with any
// kRmAborted; no kOutcome "aborted" with any kRmCommitted; and no tx reported
// both "committed" and "aborted" to the client.
std::vector<Violation> CheckAgreement(const History& history);

// "validity": for a tx with a kRmCommitted or kOutcome "committed" (the first
// of these is "the commit"):
//  - a kCommitRequest precedes the commit;
//  - no kVote "no" for it, at any time;
//  - no kRollbackRequest before its first commit request;
//  - every RM that enlisted and wrote has a vote "yes" or "readonly" before
//    the commit, or "spc" before the commit of any other RM and before the
//    acknowledgement (a single-phase RM may record its own kRmCommitted first);
//  - no kTimeoutFired before all of its votes were in (the last accepted vote,
//    or the commit request if no RM voted).
std::vector<Violation> CheckValidity(const History& history);

// "durability": for every tx with kOutcome "committed", on every RM it wrote:
// it has a kRmCommitted there, and each key whose last committed write in
// ReferenceState() is still its own shows that write in every kFinalValue.
std::vector<Violation> CheckDurability(const History& history);

// "isolation": every kRead by tx T of key k at RM r returns T's latest
// earlier write of k at r if there is one; otherwise either "" (absent) or a
// value that another tx U wrote to k at r and had committed on r (first
// kRmCommitted) before the read. Any other value is a violation.
// Share modes, over the files some kOpen names: a non-transacted writer
// open (kOpen "write") holds the file until its "close" or a crash of its
// host; a tx holds a file from its first kWrite there until its kRmCommitted,
// kRmAborted, kRmLost or "readonly" vote at that RM, or a crash. Violations:
// a kWrite or (non-absent) kRead by T while a non-transacted writer holds the
// file (T's open should have been refused with STATUS_TRANSACTIONAL_CONFLICT);
// a granted kOpen "write" while a tx holds the file, or a kWrite by T while
// another tx holds it (STATUS_SHARING_VIOLATION: TxF allows one transacted
// writer per file). Refused opens are fine. Where the words leave room:
//  - a file is an (rm, key) that any kOpen names, with or without a tx,
//    anywhere in the history (an open after the writes still makes it one);
//    other places are not judged for sharing (kv and registry keys);
//  - a kOpen's detail alone says what it does ("write" holds, "close" ends
//    the hold of the open with that value as id, anything else holds
//    nothing), whatever its tx;
//  - a read is absent when its detail is "absent" (what the harness records
//    for a file the tx found missing), not when its value is "";
//  - "a crash": of the host the kOpen was recorded on, for an open; for a
//    tx's holds at an RM, of the host of the kWrite that took the first of
//    them (they go together);
//  - sharing violations come after the read violations, in event order.
std::vector<Violation> CheckIsolation(const History& history);

// "termination": let stop = time of the last kFaultsStop (0 if none). If
// history.end_ns < stop + bound_ns the run is too short and nothing is
// reported. Otherwise every tx with kBegin must be resolved by its deadline
// max(stop, begin time) + bound_ns (a tx that began after the faults stopped
// gets the full bound from its begin; it is skipped if the run ended before
// that deadline). Resolved = its first kOutcome, or every RM it enlisted in
// has a kRmCommitted, kRmAborted or a "readonly"/"spc" vote (the latest of
// these per-RM resolutions; vacuously at begin if it enlisted no RM).
std::vector<Violation> CheckTermination(const History& history, int64_t bound_ns);

// Runs the named rules (empty = all) in RuleNames() order and concatenates
// their violations. Each unknown name in `rules` adds one Violation with that
// name as rule and tx "", so a misspelt rule fails loudly instead of passing.
std::vector<Violation> CheckAll(const History& history, const std::vector<std::string>& rules,
                                int64_t termination_bound_ns);

// Memory CheckAll may keep from one call to the next: the per-event arrays
// it builds (17 bytes per history event: 166 MB for a history of 1M
// transactions) and the per-transaction facts (176 bytes a transaction). A worker that checks run after run passes the same scratch,
// so a check reuses the pages of the one before instead of taking fresh ones
// from the kernel (arrays this large are mapped and unmapped per allocation:
// at 1M transactions the page faults were about a tenth of the check).
// Results never depend on it. One scratch per thread; empty until first used.
class CheckScratch {
 public:
  CheckScratch();
  ~CheckScratch();
  CheckScratch(const CheckScratch&) = delete;
  CheckScratch& operator=(const CheckScratch&) = delete;
  // Bytes held between checks.
  size_t bytes_held() const;

  struct Buffers;  // model/checkers.cc

 private:
  friend Buffers& ScratchBuffers(CheckScratch& scratch);
  std::unique_ptr<Buffers> buffers_;
};

// The same, reusing `scratch`'s memory (nullptr: none kept).
std::vector<Violation> CheckAll(const History& history, const std::vector<std::string>& rules,
                                int64_t termination_bound_ns, CheckScratch* scratch);

}  // namespace model
