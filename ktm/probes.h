// Code probes: named rare paths of the engine (FoundationDB's code probes).
//
// KTM_CODE_PROBE(host, "name") counts one hit of a probe in the world's
// sim::CodeProbes, reached through the engine's own sim::Host, so no count
// leaks between worlds (seeds, threads). Every probe is declared once in
// kProbeNames; a probe name that is not declared does not compile, and a
// suite report lists the declared probes that no run reached
// (docs/coverage.md). Probes are not traced: they never change a digest.
#pragma once

#include <cstddef>
#include <iterator>
#include <string_view>

#include "sim/host.h"

namespace ktm {

// Every probe, in the order reports list them. Add a name here, then use it.
inline constexpr std::string_view kProbeNames[] = {
    "tx.commit_without_enlistments",   // commit of a transaction nobody enlisted in
    "tx.single_phase_reject",          // the RM refused SINGLE_PHASE_COMMIT: full 2PC follows
    "tx.vote_no",                      // an RM voted no (RollbackEnlistment during the protocol)
    "tx.timeout_abort",                // the transaction's timeout aborted it
    "tx.abort_while_preparing",        // an abort reached a transaction in phase 1
    "tx.late_response",                // a response for a state the enlistment left (late or duplicate)
    "log.commit_append_failed",        // the commit record did not fit (log full): presumed abort
    "log.commit_force_failed",         // the commit record's force failed: the transaction is in doubt
    "log.prepared_force_failed",       // a subordinate's prepared record failed to force
    "tm.checkpoint",                   // the TM wrote a checkpoint and moved its log tail
    "tm.open_failed",                  // a TM log could not be opened
    "recovery.commit_redelivered",     // recovery re-sent COMMIT to a recovered enlistment
    "recovery.rollback_redelivered",   // recovery re-sent ROLLBACK to a recovered enlistment
    "recovery.in_doubt",               // a recovered enlistment stays in doubt (INDOUBT)
    "recovery.enlistment_unrecovered_at_decision",  // a decision found an enlistment its RM had not recovered
    "rm.notification_wait_timeout",    // GetNotificationResourceManagerAsync timed out
    "en.disconnected",                 // a single-phase RM closed its enlistment while delegated (outcome unknown)
    "rm.commit_without_prepare",       // an RM got COMMIT before it prepared (only a planted engine bug)
    "rm.presumed_abort",               // an RM (RmBase) presumed abort for a prepared transaction at recovery
    "bug.trust_response_order",        // planted bug 7 took its shortcut (never without --planted-bug 7)
};
inline constexpr size_t kProbeCount = std::size(kProbeNames);

constexpr bool ProbeDeclared(std::string_view name) {
  for (std::string_view declared : kProbeNames) {
    if (declared == name) return true;
  }
  return false;
}

inline void HitProbe(sim::Host* host, std::string_view name) {
  if (host != nullptr && host->probes() != nullptr) host->probes()->Hit(name);
}

}  // namespace ktm

#define KTM_CODE_PROBE(host, name)                                                                   \
  do {                                                                                               \
    static_assert(::ktm::ProbeDeclared(name), "KTM_CODE_PROBE: " name " is not in ktm/probes.h"); \
    ::ktm::HitProbe(host, name);                                                                     \
  } while (0)
