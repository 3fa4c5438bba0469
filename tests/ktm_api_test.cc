// Tests of every ktm/api.h function: the success path and its misuse paths
// (invalid or closed handle, wrong object type, wrong state, bad parameter),
// each returning the KTM status, never crashing; plus the notification rules
// (masks, single-phase, read-only, reject, timeouts, handle-close rollback).
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "ktm/api.h"
#include "tests/ktm_rig.h"

namespace ktmtest {
namespace {

using namespace ktm;  // NOLINT: the KTM names are the point of this file

constexpr uint32_t kThreePhase = TRANSACTION_NOTIFY_PREPREPARE | TRANSACTION_NOTIFY_PREPARE |
                                 TRANSACTION_NOTIFY_COMMIT | TRANSACTION_NOTIFY_ROLLBACK;

NTSTATUS CommitAndWait(KtmRig& rig, HANDLE tx) {
  std::optional<NTSTATUS> out;
  CommitTransaction(rig.k(), tx, [&](NTSTATUS s) { out = s; });
  rig.Settle();
  EXPECT_TRUE(out.has_value()) << "CommitTransaction never completed";
  return out.value_or(0xFFFFFFFFu);
}

HANDLE NewTx(KtmRig& rig, uint32_t timeout_ms = 0) {
  HANDLE tx = INVALID_HANDLE_VALUE;
  EXPECT_EQ(CreateTransaction(rig.k(), 0, timeout_ms, "test", &tx), STATUS_SUCCESS);
  return tx;
}

// A hand-driven RM: the test pulls notifications and answers them itself.
struct ManualRm {
  KtmRig& rig;
  HANDLE rm = INVALID_HANDLE_VALUE;
  ManualRm(KtmRig& r, int id, uint32_t options = RESOURCE_MANAGER_VOLATILE) : rig(r) {
    EXPECT_EQ(CreateResourceManager(rig.k(), Guid{0xABCu, static_cast<uint64_t>(id)}, options, rig.tm(), "manual", &rm),
              STATUS_SUCCESS);
  }
  std::vector<uint32_t> Drain() {
    std::vector<uint32_t> got;
    TRANSACTION_NOTIFICATION n;
    while (GetNotificationResourceManager(rig.k(), rm, &n) == STATUS_SUCCESS) got.push_back(n.TransactionNotification);
    return got;
  }
};

TEST(KtmApi, CreateTransactionValidatesParameters) {
  KtmRig rig(1);
  HANDLE tx;
  EXPECT_EQ(CreateTransaction(rig.k(), 0, 0, std::string(65, 'x'), &tx), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(CreateTransaction(rig.k(), 0x80, 0, "", &tx), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(CreateTransaction(rig.k(), 0, 0, "", nullptr), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(CreateTransaction(rig.k(), TRANSACTION_DO_NOT_PROMOTE, 0, std::string(64, 'x'), &tx), STATUS_SUCCESS);
}

TEST(KtmApi, InvalidClosedAndWrongTypeHandles) {
  KtmRig rig(2);
  HANDLE tx = NewTx(rig);
  TransactionInformation info;
  EXPECT_EQ(GetTransactionInformation(rig.k(), 12345, &info), STATUS_INVALID_HANDLE);
  EXPECT_EQ(GetTransactionInformation(rig.k(), rig.tm(), &info), STATUS_OBJECT_TYPE_MISMATCH);
  EXPECT_EQ(CloseHandle(rig.k(), tx), STATUS_SUCCESS);
  EXPECT_EQ(CloseHandle(rig.k(), tx), STATUS_INVALID_HANDLE);
  EXPECT_EQ(CommitAndWait(rig, tx), STATUS_INVALID_HANDLE);
  EXPECT_EQ(CommitTransactionAsync(rig.k(), rig.tm()), STATUS_OBJECT_TYPE_MISMATCH);
  EXPECT_EQ(RollbackTransactionAsync(rig.k(), 0), STATUS_INVALID_HANDLE);
  EXPECT_EQ(PrepareComplete(rig.k(), tx), STATUS_INVALID_HANDLE);
  EXPECT_EQ(PrepareComplete(rig.k(), rig.tm()), STATUS_OBJECT_TYPE_MISMATCH);
  EXPECT_EQ(RecoverResourceManager(rig.k(), rig.tm()), STATUS_OBJECT_TYPE_MISMATCH);
}

TEST(KtmApi, TransactionInformationAndIds) {
  KtmRig rig(3);
  HANDLE tx = NewTx(rig, 500);
  TransactionInformation info;
  ASSERT_EQ(GetTransactionInformation(rig.k(), tx, &info), STATUS_SUCCESS);
  EXPECT_EQ(info.outcome, TransactionOutcomeUndetermined);
  EXPECT_EQ(info.timeout_ms, 500u);
  EXPECT_EQ(info.description, "test");
  EXPECT_EQ(SetTransactionInformation(rig.k(), tx, 0, 0, 0, "renamed"), STATUS_SUCCESS);
  EXPECT_EQ(SetTransactionInformation(rig.k(), tx, 1, 0, 0, "x"), STATUS_INVALID_PARAMETER);
  ASSERT_EQ(GetTransactionInformation(rig.k(), tx, &info), STATUS_SUCCESS);
  EXPECT_EQ(info.description, "renamed");
  EXPECT_EQ(info.timeout_ms, 0u);
  Guid id;
  ASSERT_EQ(GetTransactionId(rig.k(), tx, &id), STATUS_SUCCESS);
  EXPECT_FALSE(id.null());
  HANDLE again;
  ASSERT_EQ(OpenTransaction(rig.k(), id, &again), STATUS_SUCCESS);
  Guid id2;
  ASSERT_EQ(GetTransactionId(rig.k(), again, &id2), STATUS_SUCCESS);
  EXPECT_EQ(id, id2);
  EXPECT_EQ(OpenTransaction(rig.k(), Guid{1, 2}, &again), STATUS_TRANSACTION_NOT_FOUND);
}

TEST(KtmApi, TransactionManagerCalls) {
  KtmRig rig(4);
  Guid id;
  ASSERT_EQ(GetTransactionManagerId(rig.k(), rig.tm(), &id), STATUS_SUCCESS);
  HANDLE byid;
  EXPECT_EQ(OpenTransactionManagerById(rig.k(), id, &byid), STATUS_SUCCESS);
  EXPECT_EQ(OpenTransactionManagerById(rig.k(), Guid{9, 9}, &byid), STATUS_TRANSACTIONMANAGER_NOT_FOUND);
  uint64_t clock = 0;
  ASSERT_EQ(GetCurrentClockTransactionManager(rig.k(), rig.tm(), &clock), STATUS_SUCCESS);
  EXPECT_GE(clock, 1u);
  std::optional<NTSTATUS> again;
  RecoverTransactionManager(rig.k(), rig.tm(), [&](NTSTATUS s) { again = s; });
  rig.Settle();
  EXPECT_EQ(again, STATUS_RECOVERY_NOT_NEEDED);
  std::optional<NTSTATUS> missing;
  OpenTransactionManager(rig.k(), "no-such-disk", [&](NTSTATUS s, HANDLE) { missing = s; });
  rig.Settle();
  EXPECT_EQ(missing, STATUS_OBJECT_NAME_NOT_FOUND);
  std::optional<NTSTATUS> bad;
  CreateTransactionManager(rig.k(), "tmlog", 0x40, [&](NTSTATUS s, HANDLE) { bad = s; });
  rig.Settle();
  EXPECT_EQ(bad, STATUS_INVALID_PARAMETER);
}

TEST(KtmApi, ResourceManagerRules) {
  KtmRig rig(5);
  // A TM that is not recovered yet refuses RMs.
  HANDLE vtm = INVALID_HANDLE_VALUE;
  CreateTransactionManager(rig.k(), "", TRANSACTION_MANAGER_VOLATILE, [&](NTSTATUS s, HANDLE h) {
    EXPECT_EQ(s, STATUS_SUCCESS);
    vtm = h;
  });
  rig.Settle();
  HANDLE rm;
  EXPECT_EQ(CreateResourceManager(rig.k(), Guid{5, 5}, RESOURCE_MANAGER_VOLATILE, vtm, "", &rm),
            STATUS_TRANSACTIONMANAGER_NOT_ONLINE);
  RecoverTransactionManager(rig.k(), vtm, [](NTSTATUS s) { EXPECT_EQ(s, STATUS_SUCCESS); });
  rig.Settle();
  EXPECT_EQ(CreateResourceManager(rig.k(), Guid{5, 5}, 0, vtm, "", &rm), STATUS_TM_VOLATILE);
  EXPECT_EQ(CreateResourceManager(rig.k(), Guid{5, 5}, RESOURCE_MANAGER_VOLATILE, vtm, "", &rm), STATUS_SUCCESS);
  EXPECT_EQ(CreateResourceManager(rig.k(), Guid{5, 5}, RESOURCE_MANAGER_VOLATILE, vtm, "", &rm),
            STATUS_OBJECT_NAME_COLLISION);
  EXPECT_EQ(CreateResourceManager(rig.k(), Guid{}, 0, rig.tm(), "", &rm), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(CreateResourceManager(rig.k(), Guid{6, 6}, 0x10, rig.tm(), "", &rm), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(OpenResourceManager(rig.k(), rig.tm(), Guid{77, 77}, &rm), STATUS_RESOURCEMANAGER_NOT_FOUND);
  HANDLE opened;
  EXPECT_EQ(OpenResourceManager(rig.k(), rig.tm(), TestRmGuid(0), &opened), STATUS_SUCCESS);
  TRANSACTION_NOTIFICATION n;
  EXPECT_EQ(GetNotificationResourceManager(rig.k(), opened, &n), STATUS_TIMEOUT);
}

TEST(KtmApi, NotificationWaitTimesOut) {
  KtmRig rig(6);
  ManualRm m(rig, 1);
  std::optional<NTSTATUS> got;
  sim::TimeNs start = rig.world().scheduler().Now();
  GetNotificationResourceManagerAsync(rig.k(), m.rm, 5 * sim::kMillisecond,
                                      [&](NTSTATUS s, TRANSACTION_NOTIFICATION) { got = s; });
  // A second concurrent wait is a misuse.
  std::optional<NTSTATUS> second;
  GetNotificationResourceManagerAsync(rig.k(), m.rm, sim::kTimeNever,
                                      [&](NTSTATUS s, TRANSACTION_NOTIFICATION) { second = s; });
  rig.Settle();
  EXPECT_EQ(got, STATUS_TIMEOUT);
  EXPECT_EQ(second, STATUS_INVALID_PARAMETER);
  EXPECT_EQ(rig.world().scheduler().Now() - start, 5 * sim::kMillisecond);
}

TEST(KtmApi, EnlistmentMaskValidation) {
  KtmRig rig(7);
  ManualRm m(rig, 1);
  HANDLE tx = NewTx(rig);
  HANDLE en;
  EXPECT_EQ(CreateEnlistment(rig.k(), m.rm, tx, TRANSACTION_NOTIFY_PREPARE | TRANSACTION_NOTIFY_ROLLBACK, 0, 1, &en),
            STATUS_INVALID_PARAMETER);  // PREPARE without PREPREPARE and COMMIT
  EXPECT_EQ(CreateEnlistment(rig.k(), m.rm, tx, kThreePhase | 0x00080000, 0, 1, &en), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(CreateEnlistment(rig.k(), m.rm, tx, TRANSACTION_NOTIFY_COMMIT, 0, 1, &en), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(CreateEnlistment(rig.k(), m.rm, tx, kThreePhase, 0x8, 1, &en), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(CreateEnlistment(rig.k(), m.rm, rig.tm(), kThreePhase, 0, 1, &en), STATUS_OBJECT_TYPE_MISMATCH);
  EXPECT_EQ(CreateEnlistment(rig.k(), m.rm, tx, kThreePhase, 0, 1, &en), STATUS_SUCCESS);
  Guid id;
  EXPECT_EQ(GetEnlistmentId(rig.k(), en, &id), STATUS_SUCCESS);
  EXPECT_FALSE(id.null());
}

TEST(KtmApi, TwoPhaseCommitDeliversNotificationsInOrder) {
  KtmRig rig(8);
  ManualRm a(rig, 1), b(rig, 2);
  HANDLE tx = NewTx(rig);
  HANDLE ea, eb;
  ASSERT_EQ(CreateEnlistment(rig.k(), a.rm, tx, kThreePhase, 0, 11, &ea), STATUS_SUCCESS);
  ASSERT_EQ(CreateEnlistment(rig.k(), b.rm, tx, kThreePhase | TRANSACTION_NOTIFY_SINGLE_PHASE_COMMIT, 0, 22, &eb),
            STATUS_SUCCESS);
  std::optional<NTSTATUS> outcome;
  CommitTransaction(rig.k(), tx, [&](NTSTATUS s) { outcome = s; });
  EXPECT_EQ(a.Drain(), std::vector<uint32_t>{TRANSACTION_NOTIFY_PREPREPARE});
  EXPECT_EQ(b.Drain(), std::vector<uint32_t>{TRANSACTION_NOTIFY_PREPREPARE});
  // Double commit while the first is in progress.
  EXPECT_EQ(CommitTransactionAsync(rig.k(), tx), STATUS_TRANSACTION_REQUEST_NOT_VALID);  // ZwCommitTransaction
  // Enlist during pre-prepare is allowed and gets PREPREPARE too.
  ManualRm late(rig, 3);
  HANDLE el;
  ASSERT_EQ(CreateEnlistment(rig.k(), late.rm, tx, kThreePhase, 0, 33, &el), STATUS_SUCCESS);
  EXPECT_EQ(late.Drain(), std::vector<uint32_t>{TRANSACTION_NOTIFY_PREPREPARE});
  EXPECT_EQ(PrepareComplete(rig.k(), ea), STATUS_TRANSACTION_NOT_REQUESTED);  // wrong phase (ZwPrepareComplete)
  EXPECT_EQ(PrePrepareComplete(rig.k(), ea), STATUS_SUCCESS);
  EXPECT_EQ(PrePrepareComplete(rig.k(), eb), STATUS_SUCCESS);
  EXPECT_EQ(PrePrepareComplete(rig.k(), el), STATUS_SUCCESS);
  EXPECT_EQ(a.Drain(), std::vector<uint32_t>{TRANSACTION_NOTIFY_PREPARE});
  // Enlist after prepare started is refused.
  ManualRm later(rig, 4);
  HANDLE ex;
  EXPECT_EQ(CreateEnlistment(rig.k(), later.rm, tx, kThreePhase, 0, 44, &ex), STATUS_TRANSACTION_NOT_ACTIVE);
  EXPECT_EQ(PrepareComplete(rig.k(), ea), STATUS_SUCCESS);
  EXPECT_EQ(ReadOnlyEnlistment(rig.k(), el), STATUS_SUCCESS);
  EXPECT_EQ(ReadOnlyEnlistment(rig.k(), ea), STATUS_TRANSACTION_NOT_REQUESTED);  // after PrepareComplete
  EXPECT_EQ(PrepareComplete(rig.k(), eb), STATUS_SUCCESS);
  EXPECT_EQ(RollbackEnlistment(rig.k(), eb), STATUS_TRANSACTION_REQUEST_NOT_VALID);  // prepared: cannot abort
  rig.Settle();
  EXPECT_EQ(outcome, STATUS_SUCCESS);
  EXPECT_EQ(a.Drain(), std::vector<uint32_t>{TRANSACTION_NOTIFY_COMMIT});
  EXPECT_EQ(b.Drain(), (std::vector<uint32_t>{TRANSACTION_NOTIFY_PREPARE, TRANSACTION_NOTIFY_COMMIT}));
  EXPECT_EQ(late.Drain(), std::vector<uint32_t>{TRANSACTION_NOTIFY_PREPARE});  // read-only: no COMMIT
  EXPECT_EQ(CommitComplete(rig.k(), ea), STATUS_SUCCESS);
  EXPECT_EQ(CommitComplete(rig.k(), ea), STATUS_TRANSACTION_NOT_REQUESTED);  // ZwCommitComplete
  EXPECT_EQ(CommitComplete(rig.k(), eb), STATUS_SUCCESS);
  TransactionInformation info;
  ASSERT_EQ(GetTransactionInformation(rig.k(), tx, &info), STATUS_SUCCESS);
  EXPECT_EQ(info.outcome, TransactionOutcomeCommitted);
  EXPECT_EQ(CommitAndWait(rig, tx), STATUS_TRANSACTION_ALREADY_COMMITTED);
  EXPECT_EQ(RollbackTransactionAsync(rig.k(), tx), STATUS_TRANSACTION_ALREADY_COMMITTED);
}

TEST(KtmApi, SinglePhaseCommitAndReject) {
  KtmRig rig(9);
  ManualRm a(rig, 1), observer(rig, 2);
  HANDLE tx = NewTx(rig);
  HANDLE ea, eo;
  ASSERT_EQ(CreateEnlistment(rig.k(), a.rm, tx, kThreePhase | TRANSACTION_NOTIFY_SINGLE_PHASE_COMMIT, 0, 1, &ea),
            STATUS_SUCCESS);
  ASSERT_EQ(CreateEnlistment(rig.k(), observer.rm, tx, kThreePhase | TRANSACTION_NOTIFY_RM_DISCONNECTED, 0, 2, &eo),
            STATUS_SUCCESS);
  ASSERT_EQ(ReadOnlyEnlistment(rig.k(), eo), STATUS_SUCCESS);
  std::optional<NTSTATUS> outcome;
  CommitTransaction(rig.k(), tx, [&](NTSTATUS s) { outcome = s; });
  EXPECT_EQ(a.Drain(), std::vector<uint32_t>{TRANSACTION_NOTIFY_SINGLE_PHASE_COMMIT});
  EXPECT_EQ(RollbackTransactionAsync(rig.k(), tx), STATUS_TRANSACTION_REQUEST_NOT_VALID);  // delegated (ZwRollbackTransaction)
  ASSERT_EQ(SinglePhaseReject(rig.k(), ea), STATUS_SUCCESS);
  EXPECT_EQ(SinglePhaseReject(rig.k(), ea), STATUS_TRANSACTION_NOT_REQUESTED);  // ZwSinglePhaseReject
  EXPECT_EQ(a.Drain(), std::vector<uint32_t>{TRANSACTION_NOTIFY_PREPREPARE});
  ASSERT_EQ(PrePrepareComplete(rig.k(), ea), STATUS_SUCCESS);
  ASSERT_EQ(PrepareComplete(rig.k(), ea), STATUS_SUCCESS);
  rig.Settle();
  EXPECT_EQ(outcome, STATUS_SUCCESS);
  EXPECT_EQ(a.Drain(), (std::vector<uint32_t>{TRANSACTION_NOTIFY_PREPARE, TRANSACTION_NOTIFY_COMMIT}));
  EXPECT_TRUE(observer.Drain().empty());

  // Single phase accepted: CommitComplete decides.
  HANDLE tx2 = NewTx(rig);
  HANDLE e2;
  ASSERT_EQ(CreateEnlistment(rig.k(), a.rm, tx2, kThreePhase | TRANSACTION_NOTIFY_SINGLE_PHASE_COMMIT, 0, 3, &e2),
            STATUS_SUCCESS);
  std::optional<NTSTATUS> outcome2;
  CommitTransaction(rig.k(), tx2, [&](NTSTATUS s) { outcome2 = s; });
  EXPECT_EQ(a.Drain(), std::vector<uint32_t>{TRANSACTION_NOTIFY_SINGLE_PHASE_COMMIT});
  EXPECT_EQ(CommitComplete(rig.k(), e2), STATUS_SUCCESS);
  rig.Settle();
  EXPECT_EQ(outcome2, STATUS_SUCCESS);
}

TEST(KtmApi, SinglePhaseRmDisconnectNotifiesOthers) {
  KtmRig rig(10);
  ManualRm a(rig, 1), observer(rig, 2);
  HANDLE tx = NewTx(rig);
  HANDLE ea, eo;
  ASSERT_EQ(CreateEnlistment(rig.k(), a.rm, tx, kThreePhase | TRANSACTION_NOTIFY_SINGLE_PHASE_COMMIT, 0, 1, &ea),
            STATUS_SUCCESS);
  ASSERT_EQ(CreateEnlistment(rig.k(), observer.rm, tx, kThreePhase | TRANSACTION_NOTIFY_RM_DISCONNECTED, 0, 2, &eo),
            STATUS_SUCCESS);
  ASSERT_EQ(ReadOnlyEnlistment(rig.k(), eo), STATUS_SUCCESS);
  std::optional<NTSTATUS> outcome;
  CommitTransaction(rig.k(), tx, [&](NTSTATUS s) { outcome = s; });
  a.Drain();
  ASSERT_EQ(CloseHandle(rig.k(), ea), STATUS_SUCCESS);
  rig.Settle();
  EXPECT_EQ(outcome, STATUS_RM_DISCONNECTED);
  EXPECT_EQ(observer.Drain(), std::vector<uint32_t>{TRANSACTION_NOTIFY_RM_DISCONNECTED});
}

TEST(KtmApi, NegativeVoteRollsBackAndCommitReportsAbort) {
  KtmRig rig(11);
  ManualRm a(rig, 1), b(rig, 2);
  HANDLE tx = NewTx(rig);
  HANDLE ea, eb;
  ASSERT_EQ(CreateEnlistment(rig.k(), a.rm, tx, kThreePhase, 0, 1, &ea), STATUS_SUCCESS);
  ASSERT_EQ(CreateEnlistment(rig.k(), b.rm, tx, kThreePhase, 0, 2, &eb), STATUS_SUCCESS);
  std::optional<NTSTATUS> outcome;
  CommitTransaction(rig.k(), tx, [&](NTSTATUS s) { outcome = s; });
  ASSERT_EQ(PrePrepareComplete(rig.k(), ea), STATUS_SUCCESS);
  ASSERT_EQ(PrePrepareComplete(rig.k(), eb), STATUS_SUCCESS);
  ASSERT_EQ(PrepareComplete(rig.k(), ea), STATUS_SUCCESS);
  ASSERT_EQ(RollbackEnlistment(rig.k(), eb), STATUS_SUCCESS);
  rig.Settle();
  EXPECT_EQ(outcome, STATUS_TRANSACTION_ALREADY_ABORTED);
  EXPECT_EQ(a.Drain(), (std::vector<uint32_t>{TRANSACTION_NOTIFY_PREPREPARE, TRANSACTION_NOTIFY_PREPARE,
                                              TRANSACTION_NOTIFY_ROLLBACK}));
  EXPECT_EQ(RollbackComplete(rig.k(), ea), STATUS_SUCCESS);
  EXPECT_EQ(RollbackComplete(rig.k(), ea), STATUS_TRANSACTION_NOT_REQUESTED);  // ZwRollbackComplete
  EXPECT_EQ(RollbackEnlistment(rig.k(), ea), STATUS_TRANSACTION_ALREADY_ABORTED);
  EXPECT_EQ(CommitAndWait(rig, tx), STATUS_TRANSACTION_ALREADY_ABORTED);
  std::optional<NTSTATUS> rb;
  RollbackTransaction(rig.k(), tx, [&](NTSTATUS s) { rb = s; });
  rig.Settle();
  EXPECT_EQ(rb, STATUS_TRANSACTION_ALREADY_ABORTED);
}

TEST(KtmApi, TimeoutRollsBackOnlyBeforePrepared) {
  KtmRig rig(12);
  ManualRm a(rig, 1);
  HANDLE tx = NewTx(rig, 10);
  HANDLE ea;
  ASSERT_EQ(CreateEnlistment(rig.k(), a.rm, tx, kThreePhase, 0, 1, &ea), STATUS_SUCCESS);
  rig.RunFor(11 * sim::kMillisecond);
  TransactionInformation info;
  ASSERT_EQ(GetTransactionInformation(rig.k(), tx, &info), STATUS_SUCCESS);
  EXPECT_EQ(info.outcome, TransactionOutcomeAborted);
  EXPECT_EQ(a.Drain(), std::vector<uint32_t>{TRANSACTION_NOTIFY_ROLLBACK});
  EXPECT_EQ(CommitAndWait(rig, tx), STATUS_TRANSACTION_ALREADY_ABORTED);

  // Prepared before the timeout: the timeout no longer aborts.
  HANDLE tx2 = NewTx(rig, 10);
  HANDLE e2;
  ASSERT_EQ(CreateEnlistment(rig.k(), a.rm, tx2, kThreePhase, 0, 2, &e2), STATUS_SUCCESS);
  std::optional<NTSTATUS> outcome;
  CommitTransaction(rig.k(), tx2, [&](NTSTATUS s) { outcome = s; });
  ASSERT_EQ(PrePrepareComplete(rig.k(), e2), STATUS_SUCCESS);
  ASSERT_EQ(PrepareComplete(rig.k(), e2), STATUS_SUCCESS);
  rig.RunFor(50 * sim::kMillisecond);
  EXPECT_EQ(outcome, STATUS_SUCCESS);
}

TEST(KtmApi, ClosingHandlesRollsBack) {
  KtmRig rig(13);
  ManualRm a(rig, 1);
  HANDLE tx = NewTx(rig);
  HANDLE ea;
  ASSERT_EQ(CreateEnlistment(rig.k(), a.rm, tx, kThreePhase, 0, 1, &ea), STATUS_SUCCESS);
  ASSERT_EQ(CloseHandle(rig.k(), tx), STATUS_SUCCESS);  // last client handle
  EXPECT_EQ(a.Drain(), std::vector<uint32_t>{TRANSACTION_NOTIFY_ROLLBACK});

  HANDLE tx2 = NewTx(rig);
  HANDLE e2;
  ASSERT_EQ(CreateEnlistment(rig.k(), a.rm, tx2, kThreePhase, 0, 2, &e2), STATUS_SUCCESS);
  ASSERT_EQ(CloseHandle(rig.k(), e2), STATUS_SUCCESS);  // enlistment closed while active
  TransactionInformation info;
  ASSERT_EQ(GetTransactionInformation(rig.k(), tx2, &info), STATUS_SUCCESS);
  EXPECT_EQ(info.outcome, TransactionOutcomeAborted);

  HANDLE tx3 = NewTx(rig);
  HANDLE e3;
  ASSERT_EQ(CreateEnlistment(rig.k(), a.rm, tx3, kThreePhase, 0, 3, &e3), STATUS_SUCCESS);
  ASSERT_EQ(CloseHandle(rig.k(), a.rm), STATUS_SUCCESS);  // RM gone with an active enlistment
  ASSERT_EQ(GetTransactionInformation(rig.k(), tx3, &info), STATUS_SUCCESS);
  EXPECT_EQ(info.outcome, TransactionOutcomeAborted);
}

TEST(KtmApi, VirtualClockIsMonotonicMax) {
  KtmRig rig(14);
  ManualRm a(rig, 1);
  HANDLE tx = NewTx(rig);
  HANDLE ea;
  ASSERT_EQ(CreateEnlistment(rig.k(), a.rm, tx, kThreePhase, 0, 1, &ea), STATUS_SUCCESS);
  CommitTransaction(rig.k(), tx, [](NTSTATUS) {});
  uint64_t clock = 1000;
  ASSERT_EQ(PrePrepareComplete(rig.k(), ea, &clock), STATUS_SUCCESS);
  EXPECT_EQ(clock, 1000u);
  uint64_t lower = 3;
  ASSERT_EQ(PrepareComplete(rig.k(), ea, &lower), STATUS_SUCCESS);
  EXPECT_EQ(lower, 1000u);
  uint64_t now = 0;
  ASSERT_EQ(GetCurrentClockTransactionManager(rig.k(), rig.tm(), &now), STATUS_SUCCESS);
  EXPECT_EQ(now, 1000u);
}

TEST(KtmApi, RecoveryInformationRules) {
  KtmRig rig(15);
  ManualRm a(rig, 1);
  HANDLE tx = NewTx(rig);
  HANDLE ea;
  ASSERT_EQ(CreateEnlistment(rig.k(), a.rm, tx, kThreePhase, 0, 1, &ea), STATUS_SUCCESS);
  EXPECT_EQ(SetEnlistmentRecoveryInformation(rig.k(), ea, std::vector<uint8_t>(2000, 1)), STATUS_INVALID_PARAMETER);
  ASSERT_EQ(SetEnlistmentRecoveryInformation(rig.k(), ea, {1, 2, 3}), STATUS_SUCCESS);
  std::vector<uint8_t> blob;
  ASSERT_EQ(GetEnlistmentRecoveryInformation(rig.k(), ea, &blob), STATUS_SUCCESS);
  EXPECT_EQ(blob, (std::vector<uint8_t>{1, 2, 3}));
}

TEST(KtmApi, KvRmIsolationAndConflicts) {
  KtmRig rig(16);
  HANDLE t1 = NewTx(rig), t2 = NewTx(rig);
  ASSERT_EQ(rig.rm(0).Write(t1, "k", "v1"), STATUS_SUCCESS);
  EXPECT_EQ(rig.rm(0).Write(t2, "k", "v2"), STATUS_TRANSACTIONAL_CONFLICT);
  std::string v;
  ASSERT_EQ(rig.rm(0).Read(t2, "k", &v), STATUS_SUCCESS);
  EXPECT_EQ(v, "");  // no dirty read
  ASSERT_EQ(rig.rm(0).Read(t1, "k", &v), STATUS_SUCCESS);
  EXPECT_EQ(v, "v1");  // read your own write
  EXPECT_EQ(CommitAndWait(rig, t1), STATUS_SUCCESS);
  ASSERT_EQ(rig.rm(0).Read(INVALID_HANDLE_VALUE, "k", &v), STATUS_SUCCESS);
  EXPECT_EQ(v, "v1");
  ASSERT_EQ(rig.rm(0).Read(t2, "k", &v), STATUS_SUCCESS);
  EXPECT_EQ(v, "v1");  // read committed
  EXPECT_EQ(rig.rm(0).Write(t2, "k", "v2"), STATUS_SUCCESS);
}

// The kernel's handle table (kernel.h FindHandle): a slot per handle value
// modulo 1024, an overflow map for a handle whose slot an older open handle
// holds. A handle opened first and kept open while thousands more open and
// close (most land in its slot's turn: the overflow) still finds its own
// object, as do they; a closed handle is gone at once, wherever it lived.
TEST(KtmApi, HandleTableKeepsEveryOpenHandle) {
  KtmRig rig(21, 0);
  const size_t open_before = rig.k().open_handles();
  HANDLE first = NewTx(rig);
  Guid first_id;
  ASSERT_EQ(GetTransactionId(rig.k(), first, &first_id), STATUS_SUCCESS);
  std::vector<HANDLE> more;
  std::vector<Guid> ids;
  for (int i = 0; i < 2100; ++i) {  // over twice the slots: most share a slot with an open handle
    more.push_back(NewTx(rig));
    Guid id;
    ASSERT_EQ(GetTransactionId(rig.k(), more.back(), &id), STATUS_SUCCESS);
    ids.push_back(id);
    Guid again;
    ASSERT_EQ(GetTransactionId(rig.k(), first, &again), STATUS_SUCCESS);
    ASSERT_EQ(again, first_id) << i;
  }
  EXPECT_EQ(rig.k().open_handles(), open_before + 1 + more.size());
  for (size_t i = 0; i < more.size(); ++i) {
    Guid id;
    ASSERT_EQ(GetTransactionId(rig.k(), more[i], &id), STATUS_SUCCESS);
    EXPECT_EQ(id, ids[i]) << i;
  }
  // Close every other one (in slots and in the overflow): gone at once, the
  // others unaffected.
  for (size_t i = 0; i < more.size(); i += 2) {
    Guid id;
    ASSERT_EQ(CloseHandle(rig.k(), more[i]), STATUS_SUCCESS);
    EXPECT_EQ(GetTransactionId(rig.k(), more[i], &id), STATUS_INVALID_HANDLE) << i;
    EXPECT_EQ(CloseHandle(rig.k(), more[i]), STATUS_INVALID_HANDLE) << i;
    if (i + 1 < more.size()) {
      ASSERT_EQ(GetTransactionId(rig.k(), more[i + 1], &id), STATUS_SUCCESS);
      EXPECT_EQ(id, ids[i + 1]) << i;
    }
  }
  // New handles take freed slots (or the overflow); the old ones stay found.
  std::vector<std::pair<HANDLE, Guid>> late;
  for (int i = 0; i < 1100; ++i) {
    HANDLE h = NewTx(rig);
    Guid id;
    ASSERT_EQ(GetTransactionId(rig.k(), h, &id), STATUS_SUCCESS);
    late.emplace_back(h, id);
  }
  for (size_t i = 1; i < more.size(); i += 2) {
    Guid id;
    ASSERT_EQ(GetTransactionId(rig.k(), more[i], &id), STATUS_SUCCESS);
    EXPECT_EQ(id, ids[i]) << i;
  }
  for (const auto& [h, id] : late) {
    Guid got;
    ASSERT_EQ(GetTransactionId(rig.k(), h, &got), STATUS_SUCCESS);
    EXPECT_EQ(got, id);
  }
  EXPECT_EQ(rig.k().open_handles(), open_before + 1 + more.size() / 2 + late.size());
  // A transaction handle is still no RM handle; handle 0 and unknown values are invalid.
  TRANSACTION_NOTIFICATION n;
  EXPECT_EQ(GetNotificationResourceManager(rig.k(), first, &n), STATUS_OBJECT_TYPE_MISMATCH);
  Guid id;
  EXPECT_EQ(GetTransactionId(rig.k(), INVALID_HANDLE_VALUE, &id), STATUS_INVALID_HANDLE);
  EXPECT_EQ(GetTransactionId(rig.k(), first + 4 * 1024 * 1024, &id), STATUS_INVALID_HANDLE);
  EXPECT_EQ(CloseHandle(rig.k(), INVALID_HANDLE_VALUE), STATUS_INVALID_HANDLE);
}

// An observer that keys RMs itself (RmObserver::RmKey) and keeps the key
// and name of every report.
class KeyedObserver : public RmObserver {
 public:
  explicit KeyedObserver(uint32_t first_key) : next_key_(first_key) {}
  uint32_t RmKey(std::string_view rm_name) override {
    keyed.emplace_back(rm_name);
    return next_key_++;
  }
  void OnEnlist(uint32_t, const ObservedRm& rm, const Guid&) override { Add(rm); }
  void OnRead(uint32_t, const ObservedRm& rm, const Guid&, std::string_view, std::string_view) override { Add(rm); }
  void OnWrite(uint32_t, const ObservedRm& rm, const Guid&, std::string_view, std::string_view) override { Add(rm); }
  void OnNotify(uint32_t, const ObservedRm& rm, const Guid&, uint32_t) override { Add(rm); }
  void OnVote(uint32_t, const ObservedRm& rm, const Guid&, RmVote, std::string_view) override { Add(rm); }
  void OnCommitted(uint32_t, const ObservedRm& rm, const Guid&) override { Add(rm); }
  void OnAborted(uint32_t, const ObservedRm& rm, const Guid&, std::string_view) override { Add(rm); }
  void OnBranch(uint32_t, const Guid&, const Guid&) override {}

  std::vector<std::string> keyed;                          // names RmKey was asked for
  std::vector<std::pair<std::string, uint32_t>> reports;  // (name, key) of every report

 private:
  void Add(const ObservedRm& rm) { reports.emplace_back(std::string(rm.name), rm.key); }
  uint32_t next_key_;
};

// An RM passes the key its current observer gave it: a replaced observer's
// key never reaches the new one.
TEST(KtmApi, RmReportsCarryTheirObserversKey) {
  KtmRig rig(22, 2);
  KeyedObserver a(100), b(200);
  rig.rm(0).set_observer(&a);
  rig.rm(1).set_observer(&a);
  EXPECT_EQ(a.keyed, (std::vector<std::string>{"rm0", "rm1"}));
  HANDLE t1 = NewTx(rig);
  ASSERT_EQ(rig.rm(0).Write(t1, "k", "v1"), STATUS_SUCCESS);
  ASSERT_EQ(rig.rm(1).Write(t1, "k", "v1"), STATUS_SUCCESS);
  EXPECT_EQ(CommitAndWait(rig, t1), STATUS_SUCCESS);
  ASSERT_FALSE(a.reports.empty());
  for (const auto& [name, key] : a.reports) EXPECT_EQ(key, name == "rm0" ? 100u : 101u) << name;
  rig.rm(1).set_observer(&b);
  rig.rm(0).set_observer(nullptr);
  const size_t a_reports = a.reports.size();
  HANDLE t2 = NewTx(rig);
  ASSERT_EQ(rig.rm(0).Write(t2, "k", "v2"), STATUS_SUCCESS);
  ASSERT_EQ(rig.rm(1).Write(t2, "k", "v2"), STATUS_SUCCESS);
  EXPECT_EQ(CommitAndWait(rig, t2), STATUS_SUCCESS);
  EXPECT_EQ(a.reports.size(), a_reports);  // rm0 reports to nobody now
  EXPECT_EQ(b.keyed, (std::vector<std::string>{"rm1"}));
  ASSERT_FALSE(b.reports.empty());
  for (const auto& [name, key] : b.reports) {
    EXPECT_EQ(name, "rm1");
    EXPECT_EQ(key, 200u);
  }
}

// RmBase finds a notification's transaction by its enlistment key in a slot
// table (key % 512) with an overflow map: a transaction that stays open while
// more than 512 newer ones enlist and finish shares its slot with one of
// them, and both still get their notifications (their commits complete).
TEST(KtmApi, RmFindsLongLivedTransactionsByKey) {
  KtmRig rig(23, 1);
  HANDLE long_lived = NewTx(rig);
  ASSERT_EQ(rig.rm(0).Write(long_lived, "old", "v0"), STATUS_SUCCESS);
  for (int i = 0; i < 600; ++i) {
    HANDLE tx = NewTx(rig);
    ASSERT_EQ(rig.rm(0).Write(tx, absl::StrCat("k", i), absl::StrCat("v", i)), STATUS_SUCCESS);
    ASSERT_EQ(CommitAndWait(rig, tx), STATUS_SUCCESS) << i;
    ASSERT_EQ(CloseHandle(rig.k(), tx), STATUS_SUCCESS);
  }
  EXPECT_EQ(CommitAndWait(rig, long_lived), STATUS_SUCCESS);
  std::string v;
  ASSERT_EQ(rig.rm(0).Read(INVALID_HANDLE_VALUE, "old", &v), STATUS_SUCCESS);
  EXPECT_EQ(v, "v0");
  ASSERT_EQ(rig.rm(0).Read(INVALID_HANDLE_VALUE, "k599", &v), STATUS_SUCCESS);
  EXPECT_EQ(v, "v599");
}

}  // namespace
}  // namespace ktmtest
