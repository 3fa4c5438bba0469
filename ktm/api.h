// The KTM-named API surface of ktmsim (ktmw32.dll's functions, and the few
// native ones a resource manager needs), over one host's Kernel.
//
// Conventions:
// - Every call takes the host's Kernel first and returns an NTSTATUS
//   (ktm/status.h); outputs are pointers. Misuse (bad or closed handle, wrong
//   object type, wrong state, bad parameter) returns a status, never crashes.
// - Win32 calls that block become calls that complete through the simulator:
//   the callback (always last) runs from the scheduler, never inside the call.
//   A pending call's callback never runs if the host crashes first.
// - Handles are per Kernel (per host incarnation) and die with it.
// - TmVirtualClock in/out arguments are optional pointers (nullptr = none);
//   KTM keeps the max of its clock and the caller's.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ktm/kernel.h"
#include "ktm/status.h"
#include "ktm/types.h"
#include "sim/time.h"

namespace ktm {

using Completion = std::function<void(NTSTATUS)>;

// ---- Transactions (client side) -------------------------------------------
// timeout_ms 0 or INFINITE (0xFFFFFFFF) = none. description <= 64 chars. uow must be null (reserved).
NTSTATUS CreateTransaction(Kernel& k, uint32_t create_options, uint32_t timeout_ms,
                           const std::string& description, HANDLE* transaction);
NTSTATUS OpenTransaction(Kernel& k, const Guid& transaction_id, HANDLE* transaction);
// Requests commit; done(STATUS_SUCCESS) once the commit is durable and decided,
// done(STATUS_TRANSACTION_ALREADY_ABORTED) if it rolled back instead.
void CommitTransaction(Kernel& k, HANDLE transaction, Completion done);
// Requests commit and returns at once (STATUS_SUCCESS if the request was accepted).
NTSTATUS CommitTransactionAsync(Kernel& k, HANDLE transaction);
void RollbackTransaction(Kernel& k, HANDLE transaction, Completion done);
NTSTATUS RollbackTransactionAsync(Kernel& k, HANDLE transaction);
struct TransactionInformation {
  TRANSACTION_OUTCOME outcome = TransactionOutcomeUndetermined;
  uint32_t isolation_level = 0;
  uint32_t isolation_flags = 0;
  uint32_t timeout_ms = 0;
  std::string description;
};
NTSTATUS GetTransactionInformation(Kernel& k, HANDLE transaction, TransactionInformation* info);
NTSTATUS SetTransactionInformation(Kernel& k, HANDLE transaction, uint32_t isolation_level,
                                   uint32_t isolation_flags, uint32_t timeout_ms,
                                   const std::string& description);
NTSTATUS GetTransactionId(Kernel& k, HANDLE transaction, Guid* transaction_id);

// ---- Transaction managers ---------------------------------------------------
// log_name names a disk of the host (nullptr/"" with TRANSACTION_MANAGER_VOLATILE
// = volatile TM). Created if the disk holds no log, reopened if it does.
void CreateTransactionManager(Kernel& k, const std::string& log_name, uint32_t create_options,
                              std::function<void(NTSTATUS, HANDLE)> done);
void OpenTransactionManager(Kernel& k, const std::string& log_name,
                            std::function<void(NTSTATUS, HANDLE)> done);
NTSTATUS OpenTransactionManagerById(Kernel& k, const Guid& tm_id, HANDLE* tm);
// Replays the log to its end and brings the TM online.
void RecoverTransactionManager(Kernel& k, HANDLE tm, Completion done);
// Replays only records whose virtual clock <= *virtual_clock.
void RollforwardTransactionManager(Kernel& k, HANDLE tm, uint64_t virtual_clock, Completion done);
NTSTATUS GetTransactionManagerId(Kernel& k, HANDLE tm, Guid* tm_id);
NTSTATUS GetCurrentClockTransactionManager(Kernel& k, HANDLE tm, uint64_t* clock);

// ---- Resource managers --------------------------------------------------------
NTSTATUS CreateResourceManager(Kernel& k, const Guid& rm_id, uint32_t create_options, HANDLE tm,
                               const std::string& description, HANDLE* rm);
NTSTATUS OpenResourceManager(Kernel& k, HANDLE tm, const Guid& rm_id, HANDLE* rm);
// Queues RECOVER for every enlistment needing recovery, then LAST_RECOVER.
NTSTATUS RecoverResourceManager(Kernel& k, HANDLE rm);
// Dequeues one notification without waiting: STATUS_TIMEOUT when none.
NTSTATUS GetNotificationResourceManager(Kernel& k, HANDLE rm, TRANSACTION_NOTIFICATION* out);
// Waits up to timeout (sim::kTimeNever = INFINITE) for one notification.
// done(STATUS_SUCCESS, n) or done(STATUS_TIMEOUT, {}). One wait at a time per
// RM: a second concurrent wait completes with STATUS_INVALID_PARAMETER.
void GetNotificationResourceManagerAsync(
    Kernel& k, HANDLE rm, sim::TimeNs timeout,
    NotificationDone done);

// ---- Enlistments (RM side) ----------------------------------------------------
NTSTATUS CreateEnlistment(Kernel& k, HANDLE rm, HANDLE transaction, uint32_t notification_mask,
                          uint32_t create_options, uint64_t enlistment_key, HANDLE* enlistment);
NTSTATUS OpenEnlistment(Kernel& k, HANDLE rm, const Guid& enlistment_id, HANDLE* enlistment);
// Re-attaches a key and asks KTM to (re)deliver the outcome.
NTSTATUS RecoverEnlistment(Kernel& k, HANDLE enlistment, uint64_t enlistment_key);
NTSTATUS PrePrepareComplete(Kernel& k, HANDLE enlistment, uint64_t* clock = nullptr);
NTSTATUS PrepareComplete(Kernel& k, HANDLE enlistment, uint64_t* clock = nullptr);
NTSTATUS CommitComplete(Kernel& k, HANDLE enlistment, uint64_t* clock = nullptr);
NTSTATUS RollbackComplete(Kernel& k, HANDLE enlistment, uint64_t* clock = nullptr);
NTSTATUS ReadOnlyEnlistment(Kernel& k, HANDLE enlistment, uint64_t* clock = nullptr);
NTSTATUS SinglePhaseReject(Kernel& k, HANDLE enlistment, uint64_t* clock = nullptr);
NTSTATUS RollbackEnlistment(Kernel& k, HANDLE enlistment, uint64_t* clock = nullptr);
// TmRequestOutcomeEnlistment: asks KTM for an immediate outcome. Before every
// enlistment prepared, KTM rolls the transaction back; prepared under a
// superior, the superior enlistment gets TRANSACTION_NOTIFY_REQUEST_OUTCOME
// (if in its mask); otherwise the outcome comes as usual. A superior
// enlistment gets STATUS_TRANSACTION_REQUEST_NOT_VALID (the WDK page).
NTSTATUS RequestOutcomeEnlistment(Kernel& k, HANDLE enlistment, uint64_t* clock = nullptr);
// Superior enlistment only (ENLISTMENT_SUPERIOR): drive the protocol on the
// subordinates. STATUS_ENLISTMENT_NOT_SUPERIOR on any other enlistment.
NTSTATUS PrePrepareEnlistment(Kernel& k, HANDLE enlistment, uint64_t* clock = nullptr);
NTSTATUS PrepareEnlistment(Kernel& k, HANDLE enlistment, uint64_t* clock = nullptr);
NTSTATUS CommitEnlistment(Kernel& k, HANDLE enlistment, uint64_t* clock = nullptr);
NTSTATUS GetEnlistmentId(Kernel& k, HANDLE enlistment, Guid* enlistment_id);
NTSTATUS GetEnlistmentRecoveryInformation(Kernel& k, HANDLE enlistment, std::vector<uint8_t>* blob);
NTSTATUS SetEnlistmentRecoveryInformation(Kernel& k, HANDLE enlistment, const std::vector<uint8_t>& blob);

// ---- Handles --------------------------------------------------------------------
NTSTATUS CloseHandle(Kernel& k, HANDLE handle);

}  // namespace ktm
