// ktm/ktmw32.h: Win32-shaped wrappers over ktm/api.h and ntdll's
// NTSTATUS -> Win32 error mapping for every status ktmsim returns.
#include "ktm/ktmw32.h"

#include <cstring>

namespace ktm::win32 {
namespace {

struct Mapping {
  NTSTATUS status;
  DWORD error;
};

// ntdll's RtlNtStatusToDosError for the statuses of ktm/status.h, with the
// winerror.h value of each Win32 code. Sources: Wine / ReactOS
// dlls/ntdll/error.c (the reimplementation of ntdll's table) for the
// generic codes; winerror.h's "Transaction (KTM) Error codes 6700 to 6799",
// "Transactional File Services (TxF) Error codes 6800 to 6899" and the CLFS
// block (6600 + code - 1) for facilities 0x19 and 0x1A, which ntdll maps one
// to one. tests/ktm_status_test.cc pins every entry.
constexpr Mapping kMappings[] = {
    {STATUS_SUCCESS, 0},                                   // ERROR_SUCCESS
    {STATUS_TIMEOUT, 1460},                                // ERROR_TIMEOUT
    {STATUS_PENDING, 997},                                 // ERROR_IO_PENDING
    {STATUS_OBJECT_NAME_EXISTS, 183},                      // ERROR_ALREADY_EXISTS
    {STATUS_RECOVERY_NOT_NEEDED, 6821},                    // ERROR_RECOVERY_NOT_NEEDED
    {STATUS_RM_ALREADY_STARTED, 6822},                     // ERROR_RM_ALREADY_STARTED
    {STATUS_NO_MORE_FILES, 18},                            // ERROR_NO_MORE_FILES
    {STATUS_NO_MORE_ENTRIES, 259},                         // ERROR_NO_MORE_ITEMS
    {STATUS_INVALID_HANDLE, 6},                            // ERROR_INVALID_HANDLE
    {STATUS_INVALID_PARAMETER, 87},                        // ERROR_INVALID_PARAMETER
    {STATUS_NO_SUCH_FILE, 2},                              // ERROR_FILE_NOT_FOUND
    {STATUS_END_OF_FILE, 38},                              // ERROR_HANDLE_EOF
    {STATUS_ACCESS_DENIED, 5},                             // ERROR_ACCESS_DENIED
    {STATUS_BUFFER_TOO_SMALL, 122},                        // ERROR_INSUFFICIENT_BUFFER
    {STATUS_OBJECT_TYPE_MISMATCH, 6},                      // ERROR_INVALID_HANDLE
    {STATUS_OBJECT_NAME_INVALID, 123},                     // ERROR_INVALID_NAME
    {STATUS_OBJECT_NAME_NOT_FOUND, 2},                     // ERROR_FILE_NOT_FOUND
    {STATUS_OBJECT_NAME_COLLISION, 183},                   // ERROR_ALREADY_EXISTS
    {STATUS_OBJECT_PATH_NOT_FOUND, 3},                     // ERROR_PATH_NOT_FOUND
    {STATUS_SHARING_VIOLATION, 32},                        // ERROR_SHARING_VIOLATION
    {STATUS_DISK_FULL, 112},                               // ERROR_DISK_FULL
    {STATUS_INSUFFICIENT_RESOURCES, 1450},                 // ERROR_NO_SYSTEM_RESOURCES
    {STATUS_FILE_IS_A_DIRECTORY, 5},                       // ERROR_ACCESS_DENIED
    {STATUS_UNEXPECTED_IO_ERROR, ERROR_MR_MID_NOT_FOUND},  // ntdll has no mapping for it
    {STATUS_DIRECTORY_NOT_EMPTY, 145},                     // ERROR_DIR_NOT_EMPTY
    {STATUS_NOT_A_DIRECTORY, 267},                         // ERROR_DIRECTORY
    {STATUS_CANNOT_DELETE, 5},                             // ERROR_ACCESS_DENIED
    {STATUS_FILE_DELETED, 5},                              // ERROR_ACCESS_DENIED
    {STATUS_KEY_DELETED, 1018},                            // ERROR_KEY_DELETED
    {STATUS_CHILD_MUST_BE_VOLATILE, 1021},                 // ERROR_CHILD_MUST_BE_VOLATILE
    {STATUS_TRANSACTIONAL_CONFLICT, 6800},                 // ERROR_TRANSACTIONAL_CONFLICT
    {STATUS_INVALID_TRANSACTION, 6700},                    // ERROR_INVALID_TRANSACTION
    {STATUS_TRANSACTION_NOT_ACTIVE, 6701},                 // ERROR_TRANSACTION_NOT_ACTIVE
    {STATUS_TM_INITIALIZATION_FAILED, 6706},               // ERROR_TM_INITIALIZATION_FAILED
    {STATUS_RM_NOT_ACTIVE, 6801},                          // ERROR_RM_NOT_ACTIVE
    {STATUS_TRANSACTION_NOT_JOINED, 6708},                 // ERROR_TRANSACTION_NOT_JOINED
    {STATUS_TRANSACTION_SUPERIOR_EXISTS, 6709},            // ERROR_TRANSACTION_SUPERIOR_EXISTS
    {STATUS_TRANSACTION_REQUEST_NOT_VALID, 6702},          // ERROR_TRANSACTION_REQUEST_NOT_VALID
    {STATUS_TRANSACTION_NOT_REQUESTED, 6703},              // ERROR_TRANSACTION_NOT_REQUESTED
    {STATUS_TRANSACTION_ALREADY_ABORTED, 6704},            // ERROR_TRANSACTION_ALREADY_ABORTED
    {STATUS_TRANSACTION_ALREADY_COMMITTED, 6705},          // ERROR_TRANSACTION_ALREADY_COMMITTED
    {STATUS_HANDLE_NO_LONGER_VALID, 6815},                 // ERROR_HANDLE_NO_LONGER_VALID
    {STATUS_LOG_CORRUPTION_DETECTED, 6817},                // ERROR_LOG_CORRUPTION_DETECTED
    {STATUS_RM_DISCONNECTED, 6819},                        // ERROR_RM_DISCONNECTED
    {STATUS_ENLISTMENT_NOT_SUPERIOR, 6820},                // ERROR_ENLISTMENT_NOT_SUPERIOR
    {STATUS_CANT_BREAK_TRANSACTIONAL_DEPENDENCY, 6824},    // ERROR_CANT_BREAK_TRANSACTIONAL_DEPENDENCY
    {STATUS_TM_VOLATILE, 6828},                            // ERROR_TM_VOLATILE
    {STATUS_TRANSACTION_NOT_FOUND, 6715},                  // ERROR_TRANSACTION_NOT_FOUND
    {STATUS_RESOURCEMANAGER_NOT_FOUND, 6716},              // ERROR_RESOURCEMANAGER_NOT_FOUND
    {STATUS_ENLISTMENT_NOT_FOUND, 6717},                   // ERROR_ENLISTMENT_NOT_FOUND
    {STATUS_TRANSACTIONMANAGER_NOT_FOUND, 6718},           // ERROR_TRANSACTIONMANAGER_NOT_FOUND
    {STATUS_TRANSACTIONMANAGER_NOT_ONLINE, 6719},          // ERROR_TRANSACTIONMANAGER_NOT_ONLINE
    {STATUS_TRANSACTION_NOT_ROOT, 6721},                   // ERROR_TRANSACTION_NOT_ROOT
    {STATUS_TRANSACTION_RESPONSE_NOT_ENLISTED, 6723},      // ERROR_TRANSACTION_RESPONSE_NOT_ENLISTED
    {STATUS_LOG_FULL, 6628},                               // ERROR_LOG_FULL
};

// Sets the last error of a failed call and says whether it succeeded.
BOOL Result(Kernel& k, NTSTATUS s) {
  if (NT_SUCCESS(s)) return TRUE;
  SetLastError(k, RtlNtStatusToDosError(s));
  return FALSE;
}

HANDLE HandleResult(Kernel& k, NTSTATUS s, ktm::HANDLE h) {
  if (!Result(k, s)) return INVALID_HANDLE_VALUE;
  return ToWin32(h);
}

// A reserved or security-attributes pointer must be null here.
BOOL Reserved(Kernel& k, const void* p) {
  if (p == nullptr) return TRUE;
  SetLastError(k, ERROR_INVALID_PARAMETER);
  return FALSE;
}

uint64_t* Clock(LARGE_INTEGER* clock) { return clock; }

}  // namespace

DWORD RtlNtStatusToDosError(NTSTATUS status) {
  for (const Mapping& m : kMappings) {
    if (m.status == status) return m.error;
  }
  return ERROR_MR_MID_NOT_FOUND;
}

DWORD GetLastError(const Kernel& k) { return k.win32_last_error(); }
void SetLastError(Kernel& k, DWORD error) { k.set_win32_last_error(error); }

HANDLE CreateTransaction(Kernel& k, LPSECURITY_ATTRIBUTES lpTransactionAttributes, LPGUID UOW, DWORD CreateOptions,
                         DWORD IsolationLevel, DWORD IsolationFlags, DWORD Timeout, const std::string& Description) {
  if (!Reserved(k, lpTransactionAttributes) || !Reserved(k, UOW) || IsolationLevel != 0 || IsolationFlags != 0) {
    SetLastError(k, ERROR_INVALID_PARAMETER);
    return INVALID_HANDLE_VALUE;
  }
  ktm::HANDLE h = ktm::INVALID_HANDLE_VALUE;
  NTSTATUS s = ktm::CreateTransaction(k, CreateOptions, Timeout, Description, &h);
  return HandleResult(k, s, h);
}

HANDLE OpenTransaction(Kernel& k, DWORD, const Guid* TransactionId) {
  if (TransactionId == nullptr) return HandleResult(k, STATUS_INVALID_PARAMETER, 0);
  ktm::HANDLE h = ktm::INVALID_HANDLE_VALUE;
  return HandleResult(k, ktm::OpenTransaction(k, *TransactionId, &h), h);
}

void CommitTransaction(Kernel& k, HANDLE TransactionHandle, std::function<void(BOOL)> done) {
  Kernel* kp = &k;
  ktm::CommitTransaction(k, FromWin32(TransactionHandle),
                         [kp, done = std::move(done)](NTSTATUS s) { done(Result(*kp, s)); });
}

BOOL CommitTransactionAsync(Kernel& k, HANDLE TransactionHandle) {
  return Result(k, ktm::CommitTransactionAsync(k, FromWin32(TransactionHandle)));
}

void RollbackTransaction(Kernel& k, HANDLE TransactionHandle, std::function<void(BOOL)> done) {
  Kernel* kp = &k;
  ktm::RollbackTransaction(k, FromWin32(TransactionHandle),
                           [kp, done = std::move(done)](NTSTATUS s) { done(Result(*kp, s)); });
}

BOOL RollbackTransactionAsync(Kernel& k, HANDLE TransactionHandle) {
  return Result(k, ktm::RollbackTransactionAsync(k, FromWin32(TransactionHandle)));
}

BOOL GetTransactionInformation(Kernel& k, HANDLE TransactionHandle, DWORD* Outcome, DWORD* IsolationLevel,
                               DWORD* IsolationFlags, DWORD* Timeout, DWORD BufferLength, std::string* Description) {
  TransactionInformation info;
  if (!Result(k, ktm::GetTransactionInformation(k, FromWin32(TransactionHandle), &info))) return FALSE;
  if (Outcome != nullptr) *Outcome = info.outcome;
  if (IsolationLevel != nullptr) *IsolationLevel = info.isolation_level;
  if (IsolationFlags != nullptr) *IsolationFlags = info.isolation_flags;
  if (Timeout != nullptr) *Timeout = info.timeout_ms;
  if (Description != nullptr) *Description = info.description.substr(0, BufferLength);
  return TRUE;
}

BOOL SetTransactionInformation(Kernel& k, HANDLE TransactionHandle, DWORD IsolationLevel, DWORD IsolationFlags,
                               DWORD Timeout, const std::string& Description) {
  return Result(k, ktm::SetTransactionInformation(k, FromWin32(TransactionHandle), IsolationLevel, IsolationFlags,
                                                  Timeout, Description));
}

BOOL GetTransactionId(Kernel& k, HANDLE TransactionHandle, LPGUID TransactionId) {
  return Result(k, ktm::GetTransactionId(k, FromWin32(TransactionHandle), TransactionId));
}

void CreateTransactionManager(Kernel& k, LPSECURITY_ATTRIBUTES lpTransactionAttributes,
                              const std::string& LogFileName, ULONG CreateOptions, ULONG,
                              std::function<void(HANDLE)> done) {
  Kernel* kp = &k;
  if (!Reserved(k, lpTransactionAttributes)) {
    k.host()->After(0, [done = std::move(done)] { done(INVALID_HANDLE_VALUE); });
    return;
  }
  ktm::CreateTransactionManager(k, LogFileName, CreateOptions, [kp, done = std::move(done)](NTSTATUS s, ktm::HANDLE h) {
    done(HandleResult(*kp, s, h));
  });
}

void OpenTransactionManager(Kernel& k, const std::string& LogFileName, DWORD, ULONG,
                            std::function<void(HANDLE)> done) {
  Kernel* kp = &k;
  ktm::OpenTransactionManager(k, LogFileName, [kp, done = std::move(done)](NTSTATUS s, ktm::HANDLE h) {
    done(HandleResult(*kp, s, h));
  });
}

HANDLE OpenTransactionManagerById(Kernel& k, const Guid* TransactionManagerId, DWORD, ULONG) {
  if (TransactionManagerId == nullptr) return HandleResult(k, STATUS_INVALID_PARAMETER, 0);
  ktm::HANDLE h = ktm::INVALID_HANDLE_VALUE;
  return HandleResult(k, ktm::OpenTransactionManagerById(k, *TransactionManagerId, &h), h);
}

void RecoverTransactionManager(Kernel& k, HANDLE TransactionManager, std::function<void(BOOL)> done) {
  Kernel* kp = &k;
  ktm::RecoverTransactionManager(k, FromWin32(TransactionManager),
                                 [kp, done = std::move(done)](NTSTATUS s) { done(Result(*kp, s)); });
}

BOOL GetTransactionManagerId(Kernel& k, HANDLE TransactionManagerHandle, LPGUID TransactionManagerId) {
  return Result(k, ktm::GetTransactionManagerId(k, FromWin32(TransactionManagerHandle), TransactionManagerId));
}

BOOL GetCurrentClockTransactionManager(Kernel& k, HANDLE TransactionManagerHandle, LARGE_INTEGER* TmVirtualClock) {
  return Result(k, ktm::GetCurrentClockTransactionManager(k, FromWin32(TransactionManagerHandle), TmVirtualClock));
}

HANDLE CreateResourceManager(Kernel& k, LPSECURITY_ATTRIBUTES lpResourceManagerAttributes, const Guid* ResourceManagerId,
                             DWORD CreateOptions, HANDLE TmHandle, const std::string& Description) {
  if (!Reserved(k, lpResourceManagerAttributes)) return INVALID_HANDLE_VALUE;
  if (ResourceManagerId == nullptr) return HandleResult(k, STATUS_INVALID_PARAMETER, 0);
  ktm::HANDLE h = ktm::INVALID_HANDLE_VALUE;
  NTSTATUS s = ktm::CreateResourceManager(k, *ResourceManagerId, CreateOptions, FromWin32(TmHandle), Description, &h);
  return HandleResult(k, s, h);
}

HANDLE OpenResourceManager(Kernel& k, DWORD, HANDLE TmHandle, const Guid* ResourceManagerId) {
  if (ResourceManagerId == nullptr) return HandleResult(k, STATUS_INVALID_PARAMETER, 0);
  ktm::HANDLE h = ktm::INVALID_HANDLE_VALUE;
  return HandleResult(k, ktm::OpenResourceManager(k, FromWin32(TmHandle), *ResourceManagerId, &h), h);
}

BOOL RecoverResourceManager(Kernel& k, HANDLE ResourceManagerHandle) {
  return Result(k, ktm::RecoverResourceManager(k, FromWin32(ResourceManagerHandle)));
}

BOOL GetNotificationResourceManager(Kernel& k, HANDLE ResourceManagerHandle, TRANSACTION_NOTIFICATION* Notification,
                                    ULONG, DWORD dwMilliseconds, ULONG* ReturnLength) {
  if (dwMilliseconds != 0) return Result(k, STATUS_INVALID_PARAMETER);  // cannot block: use the Async form
  NTSTATUS s = ktm::GetNotificationResourceManager(k, FromWin32(ResourceManagerHandle), Notification);
  if (s == STATUS_TIMEOUT) {
    SetLastError(k, WAIT_TIMEOUT);
    return FALSE;
  }
  if (!Result(k, s)) return FALSE;
  if (ReturnLength != nullptr) *ReturnLength = sizeof(TRANSACTION_NOTIFICATION);
  return TRUE;
}

void GetNotificationResourceManagerAsync(Kernel& k, HANDLE ResourceManagerHandle, DWORD dwMilliseconds,
                                         std::function<void(BOOL, TRANSACTION_NOTIFICATION)> done) {
  Kernel* kp = &k;
  sim::TimeNs timeout = dwMilliseconds == INFINITE ? sim::kTimeNever
                                                   : static_cast<sim::TimeNs>(dwMilliseconds) * sim::kMillisecond;
  ktm::GetNotificationResourceManagerAsync(
      k, FromWin32(ResourceManagerHandle), timeout,
      [kp, done = std::move(done)](NTSTATUS s, const TRANSACTION_NOTIFICATION& n) {
        if (s == STATUS_TIMEOUT) {
          SetLastError(*kp, WAIT_TIMEOUT);
          return done(FALSE, n);
        }
        done(Result(*kp, s), n);
      });
}

HANDLE CreateEnlistment(Kernel& k, LPSECURITY_ATTRIBUTES lpEnlistmentAttributes, HANDLE ResourceManagerHandle,
                        HANDLE TransactionHandle, NOTIFICATION_MASK NotificationMask, DWORD CreateOptions,
                        void* EnlistmentKey) {
  if (!Reserved(k, lpEnlistmentAttributes)) return INVALID_HANDLE_VALUE;
  ktm::HANDLE h = ktm::INVALID_HANDLE_VALUE;
  NTSTATUS s = ktm::CreateEnlistment(k, FromWin32(ResourceManagerHandle), FromWin32(TransactionHandle),
                                     NotificationMask, CreateOptions, reinterpret_cast<uintptr_t>(EnlistmentKey), &h);
  return HandleResult(k, s, h);
}

HANDLE OpenEnlistment(Kernel& k, DWORD, HANDLE ResourceManagerHandle, const Guid* EnlistmentId) {
  if (EnlistmentId == nullptr) return HandleResult(k, STATUS_INVALID_PARAMETER, 0);
  ktm::HANDLE h = ktm::INVALID_HANDLE_VALUE;
  return HandleResult(k, ktm::OpenEnlistment(k, FromWin32(ResourceManagerHandle), *EnlistmentId, &h), h);
}

BOOL RecoverEnlistment(Kernel& k, HANDLE EnlistmentHandle, void* EnlistmentKey) {
  return Result(k, ktm::RecoverEnlistment(k, FromWin32(EnlistmentHandle), reinterpret_cast<uintptr_t>(EnlistmentKey)));
}

BOOL PrePrepareComplete(Kernel& k, HANDLE EnlistmentHandle, LARGE_INTEGER* TmVirtualClock) {
  return Result(k, ktm::PrePrepareComplete(k, FromWin32(EnlistmentHandle), Clock(TmVirtualClock)));
}
BOOL PrepareComplete(Kernel& k, HANDLE EnlistmentHandle, LARGE_INTEGER* TmVirtualClock) {
  return Result(k, ktm::PrepareComplete(k, FromWin32(EnlistmentHandle), Clock(TmVirtualClock)));
}
BOOL CommitComplete(Kernel& k, HANDLE EnlistmentHandle, LARGE_INTEGER* TmVirtualClock) {
  return Result(k, ktm::CommitComplete(k, FromWin32(EnlistmentHandle), Clock(TmVirtualClock)));
}
BOOL RollbackComplete(Kernel& k, HANDLE EnlistmentHandle, LARGE_INTEGER* TmVirtualClock) {
  return Result(k, ktm::RollbackComplete(k, FromWin32(EnlistmentHandle), Clock(TmVirtualClock)));
}
BOOL ReadOnlyEnlistment(Kernel& k, HANDLE EnlistmentHandle, LARGE_INTEGER* TmVirtualClock) {
  return Result(k, ktm::ReadOnlyEnlistment(k, FromWin32(EnlistmentHandle), Clock(TmVirtualClock)));
}
BOOL SinglePhaseReject(Kernel& k, HANDLE EnlistmentHandle, LARGE_INTEGER* TmVirtualClock) {
  return Result(k, ktm::SinglePhaseReject(k, FromWin32(EnlistmentHandle), Clock(TmVirtualClock)));
}
BOOL RollbackEnlistment(Kernel& k, HANDLE EnlistmentHandle, LARGE_INTEGER* TmVirtualClock) {
  return Result(k, ktm::RollbackEnlistment(k, FromWin32(EnlistmentHandle), Clock(TmVirtualClock)));
}
BOOL PrePrepareEnlistment(Kernel& k, HANDLE EnlistmentHandle, LARGE_INTEGER* TmVirtualClock) {
  return Result(k, ktm::PrePrepareEnlistment(k, FromWin32(EnlistmentHandle), Clock(TmVirtualClock)));
}
BOOL PrepareEnlistment(Kernel& k, HANDLE EnlistmentHandle, LARGE_INTEGER* TmVirtualClock) {
  return Result(k, ktm::PrepareEnlistment(k, FromWin32(EnlistmentHandle), Clock(TmVirtualClock)));
}
BOOL CommitEnlistment(Kernel& k, HANDLE EnlistmentHandle, LARGE_INTEGER* TmVirtualClock) {
  return Result(k, ktm::CommitEnlistment(k, FromWin32(EnlistmentHandle), Clock(TmVirtualClock)));
}

BOOL GetEnlistmentId(Kernel& k, HANDLE EnlistmentHandle, LPGUID EnlistmentId) {
  return Result(k, ktm::GetEnlistmentId(k, FromWin32(EnlistmentHandle), EnlistmentId));
}

BOOL GetEnlistmentRecoveryInformation(Kernel& k, HANDLE EnlistmentHandle, ULONG BufferSize, void* Buffer,
                                      ULONG* BufferUsed) {
  std::vector<uint8_t> blob;
  if (!Result(k, ktm::GetEnlistmentRecoveryInformation(k, FromWin32(EnlistmentHandle), &blob))) return FALSE;
  if (BufferUsed != nullptr) *BufferUsed = static_cast<ULONG>(blob.size());
  if (blob.size() > BufferSize || (Buffer == nullptr && !blob.empty())) return Result(k, STATUS_BUFFER_TOO_SMALL);
  if (!blob.empty()) std::memcpy(Buffer, blob.data(), blob.size());
  return TRUE;
}

BOOL SetEnlistmentRecoveryInformation(Kernel& k, HANDLE EnlistmentHandle, ULONG BufferSize, const void* Buffer) {
  if (Buffer == nullptr && BufferSize != 0) return Result(k, STATUS_INVALID_PARAMETER);
  const auto* bytes = static_cast<const uint8_t*>(Buffer);
  std::vector<uint8_t> blob(bytes, bytes + BufferSize);
  return Result(k, ktm::SetEnlistmentRecoveryInformation(k, FromWin32(EnlistmentHandle), blob));
}

BOOL CloseHandle(Kernel& k, HANDLE hObject) { return Result(k, ktm::CloseHandle(k, FromWin32(hObject))); }

}  // namespace ktm::win32
