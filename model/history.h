// History: what a run did, as the checkers see it. Recorded by the harness
// (client and RM operations, votes, notifications, outcomes, faults), with
// virtual timestamps and host. model/ depends on nothing else of ours.
//
// Identifiers are strings chosen by the harness: tx = "t<N>" (workload
// transaction number, unique in a run), rm = RM name from the scenario
// (unique in a run), key = RM-local key. Written values are unique per run
// ("t<N>.<op>"), so a value names the transaction that wrote it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace model {

enum class EventKind : uint8_t {
  kBegin,            // client created tx
  kEnlist,           // rm enlisted in tx
  kWrite,            // tx wrote key=value at rm (accepted by the RM); detail "volatile": a
                     // volatile key's (a crash of the host removes it)
  kRead,             // tx read key at rm; value = what it saw ("" = absent)
  kCommitRequest,    // client asked to commit tx
  kRollbackRequest,  // client (or RM: detail="rm") asked to roll back tx
  kVote,             // rm voted on tx: detail = "yes" | "no" | "readonly" | "spc" (single-phase commit done)
  kNotification,     // rm received a notification for tx: detail = "PREPARE", "COMMIT", ...
  kTimeoutFired,     // the engine's timeout for tx fired
  kOutcome,          // the client learned tx's outcome: detail = "committed" | "aborted"
  kRmCommitted,      // rm made tx's effects durable and visible (idempotent re-apply after recovery allowed)
  kRmAborted,        // rm discarded tx's effects
  kFinalValue,       // at the end of the run, after recovery: rm's committed key=value ("" = absent)
  kCrash,            // host crashed
  kRestart,          // host restarted
  kRecovered,        // host's TM and RMs finished recovery
  kDiskError,        // a disk reported an error: detail = status
  kPartition,        // detail = groups
  kHeal,
  kFaultsStop,       // no fault is injected after this time; everything restarted/healed
  kRmLost,           // a volatile rm lost tx's effects in a crash (volatile RMs keep nothing:
                     // KTM promises them no durability, so this resolves tx at rm without
                     // counting as a commit or an abort); also a durable rm that refused to
                     // start after detecting log damage beyond the recoverable budget
                     // (detail "refused": its effects are unavailable, not half-applied)
  kOpen,             // a file open outside any transaction (tx ""), for sharing checks: rm,
                     // key = the file, value = the open's id; detail = "write" (granted for
                     // GENERIC_WRITE, held until its "close" or a crash of the host),
                     // "close", or "refused <status>". With a tx: an operation of tx on
                     // the file refused (detail "refused <status>"), for the reader only
  kRequestOutcome,   // rm asked KTM for tx's outcome (TmRequestOutcomeEnlistment) while
                     // prepared; what it then does must agree with everyone (agreement)
};
// Stable name of a kind without the leading 'k' ("Begin", "RmCommitted", ...).
const char* EventKindName(EventKind kind);

// A virtual time or duration for messages: "750ns", "12.3us", "12.3ms", "1.25s"
// (at most three decimals, trailing zeros dropped). Negative values get a '-'.
std::string FormatTimeNs(int64_t ns);

struct HistoryEvent {
  int64_t time_ns = 0;
  uint32_t host = 0;
  EventKind kind = EventKind::kBegin;
  std::string tx;
  std::string rm;
  std::string key;
  std::string value;
  std::string detail;
  // One stable line: "<time_ns> h<host> <Kind> tx=.. rm=.. key=.. value=".."
  // detail=..". Empty fields are left out, except value for kWrite, kRead
  // and kFinalValue, where "" (absent / deleted) is meaningful. Keys, values
  // and details are C-escaped; values and details are quoted.
  std::string ToText() const;
};

struct History {
  std::vector<HistoryEvent> events;  // in time order (ties: recording order)
  int64_t end_ns = 0;                // virtual time at which the run ended
  // One line per event, "#<index> <event line>", then "end <end_ns>".
  std::string ToText() const;
};

}  // namespace model
