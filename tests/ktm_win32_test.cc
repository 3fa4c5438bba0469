// ktm/ktmw32.h: the Win32 shape (BOOL, HANDLE, INVALID_HANDLE_VALUE,
// GetLastError) and RtlNtStatusToDosError for every status ktmsim returns.
// The Win32 values are winerror.h's ([MS-ERREF] 2.2 "Win32 Error Codes");
// the mapping is ntdll's (Wine's / ReactOS's dlls/ntdll/error.c tables for the
// generic codes; facilities 0x19 and 0x1A map one to one onto winerror.h's
// 6700.., 6800.. and 6600.. blocks). Sample code follows the "Creating a
// transactional client" / "Creating a resource manager" pages of the
// ktmw32 documentation (CreateTransaction returns INVALID_HANDLE_VALUE and
// sets the last error on failure).
#include <map>
#include <optional>
#include <set>

#include "gtest/gtest.h"
#include "ktm/ktmw32.h"
#include "tests/ktm_rig.h"

namespace ktmtest {
namespace {

using namespace ktm::win32;  // NOLINT: the Win32 names are the point of this file
using ktm::Guid;
using ktm::NTSTATUS;

// winerror.h values, written out (not taken from ktmw32.cc).
const std::map<NTSTATUS, DWORD> kWin32 = {
    {ktm::STATUS_SUCCESS, 0},                              // ERROR_SUCCESS
    {ktm::STATUS_TIMEOUT, 1460},                           // ERROR_TIMEOUT
    {ktm::STATUS_PENDING, 997},                            // ERROR_IO_PENDING
    {ktm::STATUS_OBJECT_NAME_EXISTS, 183},                 // ERROR_ALREADY_EXISTS
    {ktm::STATUS_RECOVERY_NOT_NEEDED, 6821},               // ERROR_RECOVERY_NOT_NEEDED
    {ktm::STATUS_RM_ALREADY_STARTED, 6822},                // ERROR_RM_ALREADY_STARTED
    {ktm::STATUS_NO_MORE_FILES, 18},                       // ERROR_NO_MORE_FILES
    {ktm::STATUS_NO_MORE_ENTRIES, 259},                    // ERROR_NO_MORE_ITEMS
    {ktm::STATUS_INVALID_HANDLE, 6},                       // ERROR_INVALID_HANDLE
    {ktm::STATUS_INVALID_PARAMETER, 87},                   // ERROR_INVALID_PARAMETER
    {ktm::STATUS_NO_SUCH_FILE, 2},                         // ERROR_FILE_NOT_FOUND
    {ktm::STATUS_END_OF_FILE, 38},                         // ERROR_HANDLE_EOF
    {ktm::STATUS_ACCESS_DENIED, 5},                        // ERROR_ACCESS_DENIED
    {ktm::STATUS_BUFFER_TOO_SMALL, 122},                   // ERROR_INSUFFICIENT_BUFFER
    {ktm::STATUS_OBJECT_TYPE_MISMATCH, 6},                 // ERROR_INVALID_HANDLE
    {ktm::STATUS_OBJECT_NAME_INVALID, 123},                // ERROR_INVALID_NAME
    {ktm::STATUS_OBJECT_NAME_NOT_FOUND, 2},                // ERROR_FILE_NOT_FOUND
    {ktm::STATUS_OBJECT_NAME_COLLISION, 183},              // ERROR_ALREADY_EXISTS
    {ktm::STATUS_OBJECT_PATH_NOT_FOUND, 3},                // ERROR_PATH_NOT_FOUND
    {ktm::STATUS_SHARING_VIOLATION, 32},                   // ERROR_SHARING_VIOLATION
    {ktm::STATUS_DISK_FULL, 112},                          // ERROR_DISK_FULL
    {ktm::STATUS_INSUFFICIENT_RESOURCES, 1450},            // ERROR_NO_SYSTEM_RESOURCES
    {ktm::STATUS_FILE_IS_A_DIRECTORY, 5},                  // ERROR_ACCESS_DENIED
    {ktm::STATUS_UNEXPECTED_IO_ERROR, 317},                // ERROR_MR_MID_NOT_FOUND: ntdll has none
    {ktm::STATUS_DIRECTORY_NOT_EMPTY, 145},                // ERROR_DIR_NOT_EMPTY
    {ktm::STATUS_NOT_A_DIRECTORY, 267},                    // ERROR_DIRECTORY
    {ktm::STATUS_CANNOT_DELETE, 5},                        // ERROR_ACCESS_DENIED
    {ktm::STATUS_FILE_DELETED, 5},                         // ERROR_ACCESS_DENIED
    {ktm::STATUS_KEY_DELETED, 1018},                       // ERROR_KEY_DELETED
    {ktm::STATUS_CHILD_MUST_BE_VOLATILE, 1021},            // ERROR_CHILD_MUST_BE_VOLATILE
    {ktm::STATUS_TRANSACTIONAL_CONFLICT, 6800},            // ERROR_TRANSACTIONAL_CONFLICT
    {ktm::STATUS_INVALID_TRANSACTION, 6700},               // ERROR_INVALID_TRANSACTION
    {ktm::STATUS_TRANSACTION_NOT_ACTIVE, 6701},            // ERROR_TRANSACTION_NOT_ACTIVE
    {ktm::STATUS_TM_INITIALIZATION_FAILED, 6706},          // ERROR_TM_INITIALIZATION_FAILED
    {ktm::STATUS_RM_NOT_ACTIVE, 6801},                     // ERROR_RM_NOT_ACTIVE
    {ktm::STATUS_TRANSACTION_NOT_JOINED, 6708},            // ERROR_TRANSACTION_NOT_JOINED
    {ktm::STATUS_TRANSACTION_SUPERIOR_EXISTS, 6709},       // ERROR_TRANSACTION_SUPERIOR_EXISTS
    {ktm::STATUS_TRANSACTION_REQUEST_NOT_VALID, 6702},     // ERROR_TRANSACTION_REQUEST_NOT_VALID
    {ktm::STATUS_TRANSACTION_NOT_REQUESTED, 6703},         // ERROR_TRANSACTION_NOT_REQUESTED
    {ktm::STATUS_TRANSACTION_ALREADY_ABORTED, 6704},       // ERROR_TRANSACTION_ALREADY_ABORTED
    {ktm::STATUS_TRANSACTION_ALREADY_COMMITTED, 6705},     // ERROR_TRANSACTION_ALREADY_COMMITTED
    {ktm::STATUS_HANDLE_NO_LONGER_VALID, 6815},            // ERROR_HANDLE_NO_LONGER_VALID
    {ktm::STATUS_LOG_CORRUPTION_DETECTED, 6817},           // ERROR_LOG_CORRUPTION_DETECTED
    {ktm::STATUS_RM_DISCONNECTED, 6819},                   // ERROR_RM_DISCONNECTED
    {ktm::STATUS_ENLISTMENT_NOT_SUPERIOR, 6820},           // ERROR_ENLISTMENT_NOT_SUPERIOR
    {ktm::STATUS_CANT_BREAK_TRANSACTIONAL_DEPENDENCY, 6824},  // ERROR_CANT_BREAK_TRANSACTIONAL_DEPENDENCY
    {ktm::STATUS_TM_VOLATILE, 6828},                       // ERROR_TM_VOLATILE
    {ktm::STATUS_TRANSACTION_NOT_FOUND, 6715},             // ERROR_TRANSACTION_NOT_FOUND
    {ktm::STATUS_RESOURCEMANAGER_NOT_FOUND, 6716},         // ERROR_RESOURCEMANAGER_NOT_FOUND
    {ktm::STATUS_ENLISTMENT_NOT_FOUND, 6717},              // ERROR_ENLISTMENT_NOT_FOUND
    {ktm::STATUS_TRANSACTIONMANAGER_NOT_FOUND, 6718},      // ERROR_TRANSACTIONMANAGER_NOT_FOUND
    {ktm::STATUS_TRANSACTIONMANAGER_NOT_ONLINE, 6719},     // ERROR_TRANSACTIONMANAGER_NOT_ONLINE
    {ktm::STATUS_TRANSACTION_NOT_ROOT, 6721},              // ERROR_TRANSACTION_NOT_ROOT
    {ktm::STATUS_TRANSACTION_RESPONSE_NOT_ENLISTED, 6723}, // ERROR_TRANSACTION_RESPONSE_NOT_ENLISTED
    {ktm::STATUS_LOG_FULL, 6628},                          // ERROR_LOG_FULL
};

TEST(KtmWin32, RtlNtStatusToDosErrorMapsEveryStatusWeReturn) {
  std::set<NTSTATUS> known(ktm::KnownStatuses().begin(), ktm::KnownStatuses().end());
  std::set<NTSTATUS> pinned;
  for (const auto& [status, error] : kWin32) {
    pinned.insert(status);
    EXPECT_EQ(RtlNtStatusToDosError(status), error) << ktm::StatusName(status);
  }
  EXPECT_EQ(pinned, known) << "a status without a pinned Win32 code (or a pinned one we never return)";
  EXPECT_EQ(RtlNtStatusToDosError(0xC0DEC0DE), ERROR_MR_MID_NOT_FOUND);
}

// A transactional client as the ktmw32 documentation writes it.
TEST(KtmWin32, ClientSampleReadsLikeWindows) {
  KtmRig rig(701, 0);
  ktm::Kernel& k = rig.k();
  SetLastError(k, ERROR_SUCCESS);
  HANDLE bad = CreateTransaction(k, nullptr, nullptr, 0, 0, 0, 0, std::string(65, 'x'));
  EXPECT_EQ(bad, INVALID_HANDLE_VALUE);
  EXPECT_EQ(GetLastError(k), ERROR_INVALID_PARAMETER);

  HANDLE tx = CreateTransaction(k, nullptr, nullptr, 0, 0, 0, INFINITE, "sample");
  ASSERT_NE(tx, INVALID_HANDLE_VALUE);
  ASSERT_NE(tx, nullptr);
  SetLastError(k, 12345);
  DWORD outcome = 0, timeout = 0;
  std::string description;
  ASSERT_EQ(GetTransactionInformation(k, tx, &outcome, nullptr, nullptr, &timeout, 64, &description), TRUE);
  EXPECT_EQ(outcome, ktm::TransactionOutcomeUndetermined);
  EXPECT_EQ(timeout, INFINITE);
  EXPECT_EQ(description, "sample");
  EXPECT_EQ(GetLastError(k), 12345u) << "a call that succeeds leaves the last error alone";

  std::optional<BOOL> committed;
  CommitTransaction(k, tx, [&](BOOL ok) { committed = ok; });
  rig.Settle();
  EXPECT_EQ(committed, TRUE);
  std::optional<BOOL> again;
  CommitTransaction(k, tx, [&](BOOL ok) { again = ok; });
  rig.Settle();
  EXPECT_EQ(again, FALSE);
  EXPECT_EQ(GetLastError(k), 6705u);  // ERROR_TRANSACTION_ALREADY_COMMITTED
  EXPECT_EQ(RollbackTransactionAsync(k, tx), FALSE);
  EXPECT_EQ(GetLastError(k), 6705u);
  EXPECT_EQ(CloseHandle(k, tx), TRUE);
  EXPECT_EQ(CloseHandle(k, tx), FALSE);
  EXPECT_EQ(GetLastError(k), ERROR_INVALID_HANDLE);
  EXPECT_EQ(CommitTransactionAsync(k, INVALID_HANDLE_VALUE), FALSE);
  EXPECT_EQ(GetLastError(k), ERROR_INVALID_HANDLE);
}

// A resource manager as the ktmw32 documentation writes it: a second commit
// while the first runs, a poll with nothing queued, blob round trip.
TEST(KtmWin32, ResourceManagerSampleReadsLikeWindows) {
  KtmRig rig(702, 0);
  ktm::Kernel& k = rig.k();
  HANDLE tm = ToWin32(rig.tm());
  Guid rm_id{0xAB, 1};
  HANDLE rm = CreateResourceManager(k, nullptr, &rm_id, ktm::RESOURCE_MANAGER_VOLATILE, tm, "sample rm");
  ASSERT_NE(rm, INVALID_HANDLE_VALUE);
  HANDLE tx = CreateTransaction(k, nullptr, nullptr, 0, 0, 0, 0, "");
  int key = 7;
  constexpr uint32_t kMask = ktm::TRANSACTION_NOTIFY_PREPREPARE | ktm::TRANSACTION_NOTIFY_PREPARE |
                             ktm::TRANSACTION_NOTIFY_COMMIT | ktm::TRANSACTION_NOTIFY_ROLLBACK;
  HANDLE en = CreateEnlistment(k, nullptr, rm, tx, kMask, 0, &key);
  ASSERT_NE(en, INVALID_HANDLE_VALUE);
  EXPECT_EQ(CreateEnlistment(k, nullptr, rm, tx, ktm::TRANSACTION_NOTIFY_PREPARE, 0, &key), INVALID_HANDLE_VALUE);
  EXPECT_EQ(GetLastError(k), ERROR_INVALID_PARAMETER);
  const uint8_t blob[3] = {1, 2, 3};
  ASSERT_EQ(SetEnlistmentRecoveryInformation(k, en, sizeof blob, blob), TRUE);
  uint8_t small[2];
  ULONG used = 0;
  EXPECT_EQ(GetEnlistmentRecoveryInformation(k, en, sizeof small, small, &used), FALSE);
  EXPECT_EQ(GetLastError(k), 122u);  // ERROR_INSUFFICIENT_BUFFER
  EXPECT_EQ(used, 3u);

  ktm::TRANSACTION_NOTIFICATION n;
  ULONG length = 0;
  EXPECT_EQ(GetNotificationResourceManager(k, rm, &n, sizeof n, 0, &length), FALSE);
  EXPECT_EQ(GetLastError(k), WAIT_TIMEOUT);
  ASSERT_EQ(CommitTransactionAsync(k, tx), TRUE);
  EXPECT_EQ(CommitTransactionAsync(k, tx), FALSE);
  EXPECT_EQ(GetLastError(k), 6702u);  // ERROR_TRANSACTION_REQUEST_NOT_VALID
  ASSERT_EQ(GetNotificationResourceManager(k, rm, &n, sizeof n, 0, &length), TRUE);
  EXPECT_EQ(n.TransactionNotification, ktm::TRANSACTION_NOTIFY_PREPREPARE);
  EXPECT_EQ(n.TransactionKey, reinterpret_cast<uintptr_t>(&key));
  EXPECT_EQ(PrepareComplete(k, en, nullptr), FALSE);
  EXPECT_EQ(GetLastError(k), 6703u);  // ERROR_TRANSACTION_NOT_REQUESTED
  LARGE_INTEGER clock = 0;
  ASSERT_EQ(PrePrepareComplete(k, en, &clock), TRUE);
  EXPECT_GT(clock, 0u);
  std::optional<BOOL> waited;
  GetNotificationResourceManagerAsync(k, rm, INFINITE, [&](BOOL ok, ktm::TRANSACTION_NOTIFICATION got) {
    waited = ok;
    n = got;
  });
  rig.Settle();
  ASSERT_EQ(waited, TRUE);
  EXPECT_EQ(n.TransactionNotification, ktm::TRANSACTION_NOTIFY_PREPARE);
  ASSERT_EQ(PrepareComplete(k, en, nullptr), TRUE);
  rig.Settle();
  ASSERT_EQ(GetNotificationResourceManager(k, rm, &n, sizeof n, 0, &length), TRUE);
  EXPECT_EQ(n.TransactionNotification, ktm::TRANSACTION_NOTIFY_COMMIT);
  ASSERT_EQ(CommitComplete(k, en, nullptr), TRUE);
  std::optional<BOOL> timed_out;
  GetNotificationResourceManagerAsync(k, rm, 5, [&](BOOL ok, ktm::TRANSACTION_NOTIFICATION) { timed_out = ok; });
  rig.Settle();
  EXPECT_EQ(timed_out, FALSE);
  EXPECT_EQ(GetLastError(k), WAIT_TIMEOUT);
}

// RecoverTransactionManager on an online TM: STATUS_RECOVERY_NOT_NEEDED is
// informational, so Win32's RecoverTransactionManager returns TRUE.
TEST(KtmWin32, SecondRecoverTransactionManagerReturnsTrue) {
  KtmRig rig(703, 0);
  std::optional<BOOL> ok;
  RecoverTransactionManager(rig.k(), ToWin32(rig.tm()), [&](BOOL b) { ok = b; });
  rig.Settle();
  EXPECT_EQ(ok, TRUE);
}

}  // namespace
}  // namespace ktmtest
