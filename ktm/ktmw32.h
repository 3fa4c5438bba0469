// ktmw32.h for ktmsim: a thin Win32-shaped facade over ktm/api.h, so a
// sample written for Windows reads the same: BOOL results, HANDLEs with
// INVALID_HANDLE_VALUE ((HANDLE)-1) on failure, and GetLastError().
//
// Contract:
// - Every function takes the host's Kernel first (there is no process-wide
//   state); the rest of the parameter list follows the Win32 prototype
//   (security attributes and reserved pointers are accepted and must be
//   null). A call that fails returns FALSE or INVALID_HANDLE_VALUE and sets
//   the kernel's last error to RtlNtStatusToDosError of the status
//   ktm/api.h returned; a call that succeeds leaves the last error alone.
//   The last error is per Kernel: one simulated world is single-threaded,
//   so it is as deterministic as a thread's last error is on Windows.
// - Win32 calls that block (CommitTransaction, RollbackTransaction,
//   CreateTransactionManager, OpenTransactionManager,
//   RecoverTransactionManager, GetNotificationResourceManager with a
//   timeout) complete through the simulator as in ktm/api.h: the callback,
//   last, gets the BOOL (or HANDLE) the Win32 call would return, with the
//   last error already set.
// - Handles are the kernel's, shown as pointers; NULL and (HANDLE)-1 are
//   never valid.
// - RtlNtStatusToDosError maps every status ktmsim returns (KnownStatuses)
//   as ntdll does; a status without a Win32 code maps to
//   ERROR_MR_MID_NOT_FOUND (317), as ntdll's does.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ktm/api.h"
#include "ktm/kernel.h"
#include "ktm/status.h"
#include "ktm/types.h"

namespace ktm::win32 {

using BOOL = int32_t;
using DWORD = uint32_t;
using ULONG = uint32_t;
using HANDLE = void*;
using NOTIFICATION_MASK = uint32_t;
using LPSECURITY_ATTRIBUTES = void*;
using LPGUID = Guid*;
using LARGE_INTEGER = uint64_t;
constexpr BOOL TRUE = 1;
constexpr BOOL FALSE = 0;
using ktm::INFINITE;  // winbase.h: timeouts (0xFFFFFFFF)
inline const HANDLE INVALID_HANDLE_VALUE = reinterpret_cast<HANDLE>(~uintptr_t{0});

// winerror.h codes the facade sets (the table test pins the rest).
constexpr DWORD ERROR_SUCCESS = 0;
constexpr DWORD ERROR_INVALID_HANDLE = 6;
constexpr DWORD ERROR_INVALID_PARAMETER = 87;
constexpr DWORD WAIT_TIMEOUT = 258;
constexpr DWORD ERROR_MR_MID_NOT_FOUND = 317;
constexpr DWORD ERROR_TRANSACTION_NOT_ACTIVE = 6701;

// ntdll's mapping of an NTSTATUS to a Win32 error code.
DWORD RtlNtStatusToDosError(NTSTATUS status);
DWORD GetLastError(const Kernel& k);
void SetLastError(Kernel& k, DWORD error);

// The kernel handle behind a Win32 HANDLE and back (for mixing with ktm/api.h).
inline ktm::HANDLE FromWin32(HANDLE h) { return static_cast<ktm::HANDLE>(reinterpret_cast<uintptr_t>(h)); }
inline HANDLE ToWin32(ktm::HANDLE h) { return reinterpret_cast<HANDLE>(static_cast<uintptr_t>(h)); }

// ---- Transactions ------------------------------------------------------------
// Timeout in milliseconds, 0 or INFINITE for none. IsolationLevel and
// IsolationFlags are reserved (0).
HANDLE CreateTransaction(Kernel& k, LPSECURITY_ATTRIBUTES lpTransactionAttributes, LPGUID UOW, DWORD CreateOptions,
                         DWORD IsolationLevel, DWORD IsolationFlags, DWORD Timeout, const std::string& Description);
HANDLE OpenTransaction(Kernel& k, DWORD dwDesiredAccess, const Guid* TransactionId);
void CommitTransaction(Kernel& k, HANDLE TransactionHandle, std::function<void(BOOL)> done);
BOOL CommitTransactionAsync(Kernel& k, HANDLE TransactionHandle);
void RollbackTransaction(Kernel& k, HANDLE TransactionHandle, std::function<void(BOOL)> done);
BOOL RollbackTransactionAsync(Kernel& k, HANDLE TransactionHandle);
// Outcome receives a TRANSACTION_OUTCOME; Description up to BufferLength chars.
BOOL GetTransactionInformation(Kernel& k, HANDLE TransactionHandle, DWORD* Outcome, DWORD* IsolationLevel,
                               DWORD* IsolationFlags, DWORD* Timeout, DWORD BufferLength, std::string* Description);
BOOL SetTransactionInformation(Kernel& k, HANDLE TransactionHandle, DWORD IsolationLevel, DWORD IsolationFlags,
                               DWORD Timeout, const std::string& Description);
BOOL GetTransactionId(Kernel& k, HANDLE TransactionHandle, LPGUID TransactionId);

// ---- Transaction managers ------------------------------------------------------
void CreateTransactionManager(Kernel& k, LPSECURITY_ATTRIBUTES lpTransactionAttributes,
                              const std::string& LogFileName, ULONG CreateOptions, ULONG CommitStrength,
                              std::function<void(HANDLE)> done);
void OpenTransactionManager(Kernel& k, const std::string& LogFileName, DWORD DesiredAccess, ULONG OpenOptions,
                            std::function<void(HANDLE)> done);
HANDLE OpenTransactionManagerById(Kernel& k, const Guid* TransactionManagerId, DWORD DesiredAccess,
                                  ULONG OpenOptions);
void RecoverTransactionManager(Kernel& k, HANDLE TransactionManager, std::function<void(BOOL)> done);
BOOL GetTransactionManagerId(Kernel& k, HANDLE TransactionManagerHandle, LPGUID TransactionManagerId);
BOOL GetCurrentClockTransactionManager(Kernel& k, HANDLE TransactionManagerHandle, LARGE_INTEGER* TmVirtualClock);

// ---- Resource managers -----------------------------------------------------------
HANDLE CreateResourceManager(Kernel& k, LPSECURITY_ATTRIBUTES lpResourceManagerAttributes, const Guid* ResourceManagerId,
                             DWORD CreateOptions, HANDLE TmHandle, const std::string& Description);
HANDLE OpenResourceManager(Kernel& k, DWORD dwDesiredAccess, HANDLE TmHandle, const Guid* ResourceManagerId);
BOOL RecoverResourceManager(Kernel& k, HANDLE ResourceManagerHandle);
// dwMilliseconds must be 0 here (a poll): FALSE with WAIT_TIMEOUT when none
// is queued. Waiting calls use GetNotificationResourceManagerAsync.
BOOL GetNotificationResourceManager(Kernel& k, HANDLE ResourceManagerHandle, TRANSACTION_NOTIFICATION* Notification,
                                    ULONG NotificationLength, DWORD dwMilliseconds, ULONG* ReturnLength);
// Waits up to dwMilliseconds (INFINITE: no limit); done(TRUE) with the
// notification filled in, or done(FALSE) with WAIT_TIMEOUT.
void GetNotificationResourceManagerAsync(Kernel& k, HANDLE ResourceManagerHandle, DWORD dwMilliseconds,
                                         std::function<void(BOOL, TRANSACTION_NOTIFICATION)> done);

// ---- Enlistments ------------------------------------------------------------------
// EnlistmentKey comes back as TRANSACTION_NOTIFICATION::TransactionKey.
HANDLE CreateEnlistment(Kernel& k, LPSECURITY_ATTRIBUTES lpEnlistmentAttributes, HANDLE ResourceManagerHandle,
                        HANDLE TransactionHandle, NOTIFICATION_MASK NotificationMask, DWORD CreateOptions,
                        void* EnlistmentKey);
HANDLE OpenEnlistment(Kernel& k, DWORD dwDesiredAccess, HANDLE ResourceManagerHandle, const Guid* EnlistmentId);
BOOL RecoverEnlistment(Kernel& k, HANDLE EnlistmentHandle, void* EnlistmentKey);
BOOL PrePrepareComplete(Kernel& k, HANDLE EnlistmentHandle, LARGE_INTEGER* TmVirtualClock);
BOOL PrepareComplete(Kernel& k, HANDLE EnlistmentHandle, LARGE_INTEGER* TmVirtualClock);
BOOL CommitComplete(Kernel& k, HANDLE EnlistmentHandle, LARGE_INTEGER* TmVirtualClock);
BOOL RollbackComplete(Kernel& k, HANDLE EnlistmentHandle, LARGE_INTEGER* TmVirtualClock);
BOOL ReadOnlyEnlistment(Kernel& k, HANDLE EnlistmentHandle, LARGE_INTEGER* TmVirtualClock);
BOOL SinglePhaseReject(Kernel& k, HANDLE EnlistmentHandle, LARGE_INTEGER* TmVirtualClock);
BOOL RollbackEnlistment(Kernel& k, HANDLE EnlistmentHandle, LARGE_INTEGER* TmVirtualClock);
BOOL PrePrepareEnlistment(Kernel& k, HANDLE EnlistmentHandle, LARGE_INTEGER* TmVirtualClock);
BOOL PrepareEnlistment(Kernel& k, HANDLE EnlistmentHandle, LARGE_INTEGER* TmVirtualClock);
BOOL CommitEnlistment(Kernel& k, HANDLE EnlistmentHandle, LARGE_INTEGER* TmVirtualClock);
BOOL GetEnlistmentId(Kernel& k, HANDLE EnlistmentHandle, LPGUID EnlistmentId);
// Copies the blob into Buffer (BufferSize bytes); BufferUsed gets its size.
// A buffer that is too small: FALSE with ERROR_INSUFFICIENT_BUFFER.
BOOL GetEnlistmentRecoveryInformation(Kernel& k, HANDLE EnlistmentHandle, ULONG BufferSize, void* Buffer,
                                      ULONG* BufferUsed);
BOOL SetEnlistmentRecoveryInformation(Kernel& k, HANDLE EnlistmentHandle, ULONG BufferSize, const void* Buffer);

BOOL CloseHandle(Kernel& k, HANDLE hObject);

}  // namespace ktm::win32
