// The failure statuses of the KTM routines as their WDK reference pages give
// them (learn.microsoft.com/windows-hardware/drivers/ddi/wdm/nf-wdm-<routine>),
// INFINITE timeouts, and TmRequestOutcomeEnlistment. Each test names the page
// its expectation comes from; where the pages are silent the choice is in
// docs/ktm-decisions.md.
#include <optional>
#include <vector>

#include "gtest/gtest.h"
#include "ktm/api.h"
#include "tests/ktm_rig.h"

namespace ktmtest {
namespace {

using namespace ktm;  // NOLINT: the KTM names are the point of this file

constexpr uint32_t kThreePhase = TRANSACTION_NOTIFY_PREPREPARE | TRANSACTION_NOTIFY_PREPARE |
                                 TRANSACTION_NOTIFY_COMMIT | TRANSACTION_NOTIFY_ROLLBACK;
constexpr uint32_t kSuperior = TRANSACTION_NOTIFY_ROLLBACK | TRANSACTION_NOTIFY_PREPREPARE_COMPLETE |
                               TRANSACTION_NOTIFY_PREPARE_COMPLETE | TRANSACTION_NOTIFY_COMMIT_COMPLETE |
                               TRANSACTION_NOTIFY_ROLLBACK_COMPLETE | TRANSACTION_NOTIFY_RECOVER_QUERY;

std::vector<uint32_t> Drain(KtmRig& rig, HANDLE rm) {
  std::vector<uint32_t> got;
  TRANSACTION_NOTIFICATION n;
  while (GetNotificationResourceManager(rig.k(), rm, &n) == STATUS_SUCCESS) got.push_back(n.TransactionNotification);
  return got;
}

// A superior on a durable TM must be durable itself (STATUS_TM_VOLATILE).
HANDLE NewRm(KtmRig& rig, uint64_t id, uint32_t options = RESOURCE_MANAGER_VOLATILE) {
  HANDLE rm = INVALID_HANDLE_VALUE;
  EXPECT_EQ(CreateResourceManager(rig.k(), Guid{0xD0Cu, id}, options, rig.tm(), "rm", &rm), STATUS_SUCCESS);
  return rm;
}

HANDLE NewTx(KtmRig& rig, uint32_t timeout_ms = 0) {
  HANDLE tx = INVALID_HANDLE_VALUE;
  EXPECT_EQ(CreateTransaction(rig.k(), 0, timeout_ms, "", &tx), STATUS_SUCCESS);
  return tx;
}

// ZwCommitTransaction: "STATUS_TRANSACTION_SUPERIOR_EXISTS: The caller cannot
// commit the transaction because a superior transaction manager exists."
TEST(KtmWindows, ClientCommitUnderASuperiorIsRefused) {
  KtmRig rig(601, 0);
  HANDLE sup_rm = NewRm(rig, 1, 0), tx = NewTx(rig), sup;
  ASSERT_EQ(CreateEnlistment(rig.k(), sup_rm, tx, kSuperior, ENLISTMENT_SUPERIOR, 1, &sup), STATUS_SUCCESS);
  EXPECT_EQ(CommitTransactionAsync(rig.k(), tx), STATUS_TRANSACTION_SUPERIOR_EXISTS);
  std::optional<NTSTATUS> out;
  CommitTransaction(rig.k(), tx, [&](NTSTATUS s) { out = s; });
  rig.Settle();
  EXPECT_EQ(out, STATUS_TRANSACTION_SUPERIOR_EXISTS);
}

// ZwCommitTransaction: "STATUS_TRANSACTION_REQUEST_NOT_VALID: The commit
// operation for this transaction has already been started."
TEST(KtmWindows, SecondCommitWhileOneRunsIsRequestNotValid) {
  KtmRig rig(602, 0);
  HANDLE rm = NewRm(rig, 1), tx = NewTx(rig), en;
  ASSERT_EQ(CreateEnlistment(rig.k(), rm, tx, kThreePhase, 0, 1, &en), STATUS_SUCCESS);
  ASSERT_EQ(CommitTransactionAsync(rig.k(), tx), STATUS_SUCCESS);
  EXPECT_EQ(CommitTransactionAsync(rig.k(), tx), STATUS_TRANSACTION_REQUEST_NOT_VALID);
  std::optional<NTSTATUS> out;
  CommitTransaction(rig.k(), tx, [&](NTSTATUS s) { out = s; });
  rig.Settle();
  EXPECT_EQ(out, STATUS_TRANSACTION_REQUEST_NOT_VALID);
}

// ZwRollbackTransaction: "STATUS_TRANSACTION_REQUEST_NOT_VALID: The transaction
// has not been committed but its current state does not permit rollback"
// (single-phase commit delegated to the RM), and ALREADY_COMMITTED after.
TEST(KtmWindows, RollbackDuringSinglePhaseCommitIsRequestNotValid) {
  KtmRig rig(603, 0);
  HANDLE rm = NewRm(rig, 1), tx = NewTx(rig), en;
  ASSERT_EQ(CreateEnlistment(rig.k(), rm, tx, kThreePhase | TRANSACTION_NOTIFY_SINGLE_PHASE_COMMIT, 0, 1, &en),
            STATUS_SUCCESS);
  ASSERT_EQ(CommitTransactionAsync(rig.k(), tx), STATUS_SUCCESS);
  ASSERT_EQ(Drain(rig, rm), std::vector<uint32_t>{TRANSACTION_NOTIFY_SINGLE_PHASE_COMMIT});
  EXPECT_EQ(RollbackTransactionAsync(rig.k(), tx), STATUS_TRANSACTION_REQUEST_NOT_VALID);
  std::optional<NTSTATUS> out;
  RollbackTransaction(rig.k(), tx, [&](NTSTATUS s) { out = s; });
  rig.Settle();
  EXPECT_EQ(out, STATUS_TRANSACTION_REQUEST_NOT_VALID);
  ASSERT_EQ(CommitComplete(rig.k(), en), STATUS_SUCCESS);
  EXPECT_EQ(RollbackTransactionAsync(rig.k(), tx), STATUS_TRANSACTION_ALREADY_COMMITTED);
}

// ZwPrePrepareComplete, ZwPrepareComplete, ZwCommitComplete,
// ZwRollbackComplete, ZwReadOnlyEnlistment (after prepared),
// ZwSinglePhaseReject: "STATUS_TRANSACTION_NOT_REQUESTED: The transaction or
// its enlistment is not in the correct state."
TEST(KtmWindows, ResponsesNobodyAskedForAreNotRequested) {
  KtmRig rig(604, 0);
  HANDLE rm = NewRm(rig, 1), tx = NewTx(rig), en;
  ASSERT_EQ(CreateEnlistment(rig.k(), rm, tx, kThreePhase, 0, 1, &en), STATUS_SUCCESS);
  EXPECT_EQ(PrePrepareComplete(rig.k(), en), STATUS_TRANSACTION_NOT_REQUESTED);
  EXPECT_EQ(PrepareComplete(rig.k(), en), STATUS_TRANSACTION_NOT_REQUESTED);
  EXPECT_EQ(CommitComplete(rig.k(), en), STATUS_TRANSACTION_NOT_REQUESTED);
  EXPECT_EQ(RollbackComplete(rig.k(), en), STATUS_TRANSACTION_NOT_REQUESTED);
  EXPECT_EQ(SinglePhaseReject(rig.k(), en), STATUS_TRANSACTION_NOT_REQUESTED);
  ASSERT_EQ(CommitTransactionAsync(rig.k(), tx), STATUS_SUCCESS);
  EXPECT_EQ(PrepareComplete(rig.k(), en), STATUS_TRANSACTION_NOT_REQUESTED);  // PREPREPARE was asked
  ASSERT_EQ(PrePrepareComplete(rig.k(), en), STATUS_SUCCESS);
  ASSERT_EQ(PrepareComplete(rig.k(), en), STATUS_SUCCESS);
  EXPECT_EQ(ReadOnlyEnlistment(rig.k(), en), STATUS_TRANSACTION_NOT_REQUESTED);
  rig.Settle();
  ASSERT_EQ(CommitComplete(rig.k(), en), STATUS_SUCCESS);
  EXPECT_EQ(CommitComplete(rig.k(), en), STATUS_TRANSACTION_NOT_REQUESTED);
}

// ZwCreateEnlistment / CreateEnlistment: the NotificationMask must name
// ROLLBACK, and an enlistment that votes needs PREPREPARE, PREPARE and
// COMMIT together ("STATUS_INVALID_PARAMETER: The value of an input parameter
// is invalid"; the mask rules are ktm-api.md §3.1).
TEST(KtmWindows, EnlistmentMaskWithoutTheRequiredBitsIsRefused) {
  KtmRig rig(605, 0);
  HANDLE rm = NewRm(rig, 1), tx = NewTx(rig), en;
  EXPECT_EQ(CreateEnlistment(rig.k(), rm, tx, kThreePhase & ~TRANSACTION_NOTIFY_ROLLBACK, 0, 1, &en),
            STATUS_INVALID_PARAMETER);
  EXPECT_EQ(CreateEnlistment(rig.k(), rm, tx, TRANSACTION_NOTIFY_PREPARE | TRANSACTION_NOTIFY_COMMIT |
                                                  TRANSACTION_NOTIFY_ROLLBACK, 0, 1, &en),
            STATUS_INVALID_PARAMETER);  // PREPREPARE missing
  EXPECT_EQ(CreateEnlistment(rig.k(), rm, tx, TRANSACTION_NOTIFY_SINGLE_PHASE_COMMIT | TRANSACTION_NOTIFY_ROLLBACK,
                             0, 1, &en),
            STATUS_INVALID_PARAMETER);
  EXPECT_EQ(CreateEnlistment(rig.k(), rm, tx, kThreePhase | 0x00008000u, 0, 1, &en), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(CreateEnlistment(rig.k(), rm, tx, kThreePhase, 0, 1, &en), STATUS_SUCCESS);
}

// ZwPrePrepareEnlistment / ZwPrepareEnlistment / ZwCommitEnlistment:
// "STATUS_TRANSACTION_RESPONSE_NOT_ENLISTED: The caller did not register to
// receive TRANSACTION_NOTIFY_{PREPREPARE,PREPARE,COMMIT}_COMPLETE".
TEST(KtmWindows, SuperiorCallsNeedTheMatchingCompletionBit) {
  KtmRig rig(606, 0);
  HANDLE sup_rm = NewRm(rig, 1, 0), sub_rm = NewRm(rig, 2), tx = NewTx(rig), sup, sub;
  ASSERT_EQ(CreateEnlistment(rig.k(), sup_rm, tx, TRANSACTION_NOTIFY_ROLLBACK, ENLISTMENT_SUPERIOR, 1, &sup),
            STATUS_SUCCESS);
  ASSERT_EQ(CreateEnlistment(rig.k(), sub_rm, tx, kThreePhase, 0, 2, &sub), STATUS_SUCCESS);
  EXPECT_EQ(PrePrepareEnlistment(rig.k(), sup), STATUS_TRANSACTION_RESPONSE_NOT_ENLISTED);
  EXPECT_EQ(PrepareEnlistment(rig.k(), sup), STATUS_TRANSACTION_RESPONSE_NOT_ENLISTED);
  EXPECT_EQ(CommitEnlistment(rig.k(), sup), STATUS_TRANSACTION_RESPONSE_NOT_ENLISTED);
  EXPECT_EQ(PrePrepareEnlistment(rig.k(), sub), STATUS_ENLISTMENT_NOT_SUPERIOR);
}

// ZwOpenTransaction: "STATUS_INVALID_PARAMETER: The DesiredAccess or Uow
// parameter is zero"; "STATUS_TRANSACTION_NOT_FOUND: KTM could not find the
// transaction object". ZwRollbackEnlistment: "STATUS_TRANSACTION_REQUEST_NOT_VALID:
// The enlistment cannot be rolled back" (after PrepareComplete).
TEST(KtmWindows, OpenTransactionAndRollbackEnlistmentFailures) {
  KtmRig rig(610, 0);
  HANDLE h = INVALID_HANDLE_VALUE;
  EXPECT_EQ(OpenTransaction(rig.k(), Guid{}, &h), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(OpenTransaction(rig.k(), Guid{3, 4}, &h), STATUS_TRANSACTION_NOT_FOUND);
  HANDLE rm = NewRm(rig, 1), tx = NewTx(rig), en;
  ASSERT_EQ(CreateEnlistment(rig.k(), rm, tx, kThreePhase, 0, 1, &en), STATUS_SUCCESS);
  ASSERT_EQ(CommitTransactionAsync(rig.k(), tx), STATUS_SUCCESS);
  ASSERT_EQ(PrePrepareComplete(rig.k(), en), STATUS_SUCCESS);
  ASSERT_EQ(PrepareComplete(rig.k(), en), STATUS_SUCCESS);
  EXPECT_EQ(RollbackEnlistment(rig.k(), en), STATUS_TRANSACTION_REQUEST_NOT_VALID);
}

// CreateTransaction: "If this parameter is zero or INFINITE, an abort is not
// issued" (ktmw32 CreateTransaction, Timeout). SetTransactionInformation too.
TEST(KtmWindows, InfiniteTimeoutMeansNone) {
  KtmRig rig(607, 0);
  HANDLE rm = NewRm(rig, 1);
  HANDLE infinite = NewTx(rig, INFINITE), finite = NewTx(rig, 10), reset = NewTx(rig, 10), e1, e2, e3;
  ASSERT_EQ(CreateEnlistment(rig.k(), rm, infinite, kThreePhase, 0, 1, &e1), STATUS_SUCCESS);
  ASSERT_EQ(CreateEnlistment(rig.k(), rm, finite, kThreePhase, 0, 2, &e2), STATUS_SUCCESS);
  ASSERT_EQ(CreateEnlistment(rig.k(), rm, reset, kThreePhase, 0, 3, &e3), STATUS_SUCCESS);
  ASSERT_EQ(SetTransactionInformation(rig.k(), reset, 0, 0, INFINITE, ""), STATUS_SUCCESS);
  rig.RunFor(60ll * 24 * 3600 * 1000 * sim::kMillisecond);  // past 49.7 days
  TransactionInformation info;
  ASSERT_EQ(GetTransactionInformation(rig.k(), infinite, &info), STATUS_SUCCESS);
  EXPECT_EQ(info.outcome, TransactionOutcomeUndetermined);
  EXPECT_EQ(info.timeout_ms, INFINITE);
  ASSERT_EQ(GetTransactionInformation(rig.k(), reset, &info), STATUS_SUCCESS);
  EXPECT_EQ(info.outcome, TransactionOutcomeUndetermined);
  ASSERT_EQ(GetTransactionInformation(rig.k(), finite, &info), STATUS_SUCCESS);
  EXPECT_EQ(info.outcome, TransactionOutcomeAborted);
}

// TmRequestOutcomeEnlistment: "STATUS_TRANSACTION_REQUEST_NOT_VALID: The
// specified enlistment is a superior enlistment"; before every RM prepared
// "KTM might be able to force a rollback".
TEST(KtmWindows, RequestOutcomeBeforePrepareRollsBack) {
  KtmRig rig(608, 0);
  HANDLE rm = NewRm(rig, 1), tx = NewTx(rig), a, b;
  ASSERT_EQ(CreateEnlistment(rig.k(), rm, tx, kThreePhase, 0, 1, &a), STATUS_SUCCESS);
  ASSERT_EQ(CreateEnlistment(rig.k(), rm, tx, kThreePhase, 0, 2, &b), STATUS_SUCCESS);
  std::optional<NTSTATUS> out;
  CommitTransaction(rig.k(), tx, [&](NTSTATUS s) { out = s; });
  ASSERT_EQ(PrePrepareComplete(rig.k(), a), STATUS_SUCCESS);
  ASSERT_EQ(PrePrepareComplete(rig.k(), b), STATUS_SUCCESS);
  ASSERT_EQ(PrepareComplete(rig.k(), a), STATUS_SUCCESS);
  Drain(rig, rm);
  ASSERT_EQ(RequestOutcomeEnlistment(rig.k(), a), STATUS_SUCCESS);  // b has not prepared
  rig.Settle();
  EXPECT_EQ(out, STATUS_TRANSACTION_ALREADY_ABORTED);
  EXPECT_EQ(Drain(rig, rm), (std::vector<uint32_t>{TRANSACTION_NOTIFY_ROLLBACK, TRANSACTION_NOTIFY_ROLLBACK}));
  EXPECT_EQ(RequestOutcomeEnlistment(rig.k(), a), STATUS_SUCCESS);  // known outcome: nothing more
  EXPECT_TRUE(Drain(rig, rm).empty());
}

// Prepared under a superior, only the superior knows the outcome: KTM sends
// it TRANSACTION_NOTIFY_REQUEST_OUTCOME (ktmtypes.h; "the superior
// transaction manager is being asked for the outcome").
TEST(KtmWindows, RequestOutcomeWhenPreparedAsksTheSuperior) {
  KtmRig rig(609, 0);
  HANDLE sup_rm = NewRm(rig, 1, 0), sub_rm = NewRm(rig, 2), tx = NewTx(rig), sup, sub;
  ASSERT_EQ(CreateEnlistment(rig.k(), sup_rm, tx, kSuperior | TRANSACTION_NOTIFY_REQUEST_OUTCOME,
                             ENLISTMENT_SUPERIOR, 1, &sup),
            STATUS_SUCCESS);
  ASSERT_EQ(CreateEnlistment(rig.k(), sub_rm, tx, kThreePhase, 0, 2, &sub), STATUS_SUCCESS);
  EXPECT_EQ(RequestOutcomeEnlistment(rig.k(), sup), STATUS_TRANSACTION_REQUEST_NOT_VALID);
  ASSERT_EQ(PrePrepareEnlistment(rig.k(), sup), STATUS_SUCCESS);
  ASSERT_EQ(PrePrepareComplete(rig.k(), sub), STATUS_SUCCESS);
  ASSERT_EQ(PrepareEnlistment(rig.k(), sup), STATUS_SUCCESS);
  ASSERT_EQ(PrepareComplete(rig.k(), sub), STATUS_SUCCESS);
  rig.Settle();
  Drain(rig, sub_rm);
  ASSERT_EQ(Drain(rig, sup_rm),
            (std::vector<uint32_t>{TRANSACTION_NOTIFY_PREPREPARE_COMPLETE, TRANSACTION_NOTIFY_PREPARE_COMPLETE}));
  ASSERT_EQ(RequestOutcomeEnlistment(rig.k(), sub), STATUS_SUCCESS);
  EXPECT_EQ(Drain(rig, sup_rm), std::vector<uint32_t>{TRANSACTION_NOTIFY_REQUEST_OUTCOME});
  TransactionInformation info;
  ASSERT_EQ(GetTransactionInformation(rig.k(), tx, &info), STATUS_SUCCESS);
  EXPECT_EQ(info.outcome, TransactionOutcomeUndetermined);  // prepared: never forced
  ASSERT_EQ(CommitEnlistment(rig.k(), sup), STATUS_SUCCESS);
  EXPECT_EQ(Drain(rig, sub_rm), std::vector<uint32_t>{TRANSACTION_NOTIFY_COMMIT});
}

}  // namespace
}  // namespace ktmtest
