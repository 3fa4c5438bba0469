// Superior enlistments (ENLISTMENT_SUPERIOR, ktm-api.md §4.6): the superior
// drives pre-prepare, prepare and commit of the subordinates and gets the
// *_COMPLETE notifications; a client commit is refused (SUPERIOR_EXISTS) or
// forwarded (COMMIT_REQUEST); after a crash a prepared subordinate stays in
// doubt (INDOUBT to its RMs, RECOVER_QUERY to the superior) until the
// superior decides.
#include <optional>

#include "gtest/gtest.h"
#include "ktm/api.h"
#include "tests/ktm_rig.h"

namespace ktmtest {
namespace {

using namespace ktm;  // NOLINT

constexpr uint32_t kSubordinate = TRANSACTION_NOTIFY_PREPREPARE | TRANSACTION_NOTIFY_PREPARE |
                                  TRANSACTION_NOTIFY_COMMIT | TRANSACTION_NOTIFY_ROLLBACK;
constexpr uint32_t kSuperior = TRANSACTION_NOTIFY_ROLLBACK | TRANSACTION_NOTIFY_PREPREPARE_COMPLETE |
                               TRANSACTION_NOTIFY_PREPARE_COMPLETE | TRANSACTION_NOTIFY_COMMIT_COMPLETE |
                               TRANSACTION_NOTIFY_ROLLBACK_COMPLETE | TRANSACTION_NOTIFY_RECOVER_QUERY;

std::vector<uint32_t> Drain(KtmRig& rig, HANDLE rm, std::vector<TRANSACTION_NOTIFICATION>* all = nullptr) {
  std::vector<uint32_t> got;
  TRANSACTION_NOTIFICATION n;
  while (GetNotificationResourceManager(rig.k(), rm, &n) == STATUS_SUCCESS) {
    got.push_back(n.TransactionNotification);
    if (all) all->push_back(n);
  }
  return got;
}

struct Parties {
  HANDLE sup_rm, sub_rm, tx, sup, a, b;
  Guid sup_rm_id{0x5u, 1}, sub_rm_id{0x5u, 2};
};

Parties Make(KtmRig& rig, uint32_t superior_mask = kSuperior) {
  Parties s;
  EXPECT_EQ(CreateResourceManager(rig.k(), s.sup_rm_id, 0, rig.tm(), "dtc", &s.sup_rm), STATUS_SUCCESS);
  EXPECT_EQ(CreateResourceManager(rig.k(), s.sub_rm_id, 0, rig.tm(), "sub", &s.sub_rm), STATUS_SUCCESS);
  EXPECT_EQ(CreateTransaction(rig.k(), 0, 0, "", &s.tx), STATUS_SUCCESS);
  EXPECT_EQ(CreateEnlistment(rig.k(), s.sup_rm, s.tx, superior_mask, ENLISTMENT_SUPERIOR, 1, &s.sup), STATUS_SUCCESS);
  EXPECT_EQ(CreateEnlistment(rig.k(), s.sub_rm, s.tx, kSubordinate, 0, 2, &s.a), STATUS_SUCCESS);
  EXPECT_EQ(CreateEnlistment(rig.k(), s.sub_rm, s.tx, kSubordinate, 0, 3, &s.b), STATUS_SUCCESS);
  return s;
}

TEST(KtmSuperior, DrivesTheProtocolAndGetsCompletions) {
  KtmRig rig(500, 0);
  Parties s = Make(rig);
  HANDLE other;
  EXPECT_EQ(CreateEnlistment(rig.k(), s.sup_rm, s.tx, kSuperior, ENLISTMENT_SUPERIOR, 9, &other),
            STATUS_TRANSACTION_SUPERIOR_EXISTS);
  EXPECT_EQ(CreateEnlistment(rig.k(), s.sup_rm, s.tx, kSubordinate, ENLISTMENT_SUPERIOR, 9, &other),
            STATUS_INVALID_PARAMETER);  // a superior does not vote
  EXPECT_EQ(CommitTransactionAsync(rig.k(), s.tx), STATUS_TRANSACTION_SUPERIOR_EXISTS);  // ZwCommitTransaction
  EXPECT_EQ(PrePrepareEnlistment(rig.k(), s.a), STATUS_ENLISTMENT_NOT_SUPERIOR);
  EXPECT_EQ(PrepareEnlistment(rig.k(), s.sup), STATUS_TRANSACTION_REQUEST_NOT_VALID);  // phase 0 first
  ASSERT_EQ(PrePrepareEnlistment(rig.k(), s.sup), STATUS_SUCCESS);
  EXPECT_EQ(Drain(rig, s.sub_rm), (std::vector<uint32_t>{TRANSACTION_NOTIFY_PREPREPARE, TRANSACTION_NOTIFY_PREPREPARE}));
  ASSERT_EQ(PrePrepareComplete(rig.k(), s.a), STATUS_SUCCESS);
  EXPECT_TRUE(Drain(rig, s.sup_rm).empty());
  ASSERT_EQ(PrePrepareComplete(rig.k(), s.b), STATUS_SUCCESS);
  EXPECT_EQ(Drain(rig, s.sup_rm), std::vector<uint32_t>{TRANSACTION_NOTIFY_PREPREPARE_COMPLETE});
  EXPECT_EQ(CommitEnlistment(rig.k(), s.sup), STATUS_TRANSACTION_REQUEST_NOT_VALID);  // not prepared yet
  uint64_t forced_before = rig.k().forced_log_writes();
  ASSERT_EQ(PrepareEnlistment(rig.k(), s.sup), STATUS_SUCCESS);
  ASSERT_EQ(PrepareComplete(rig.k(), s.a), STATUS_SUCCESS);
  ASSERT_EQ(PrepareComplete(rig.k(), s.b), STATUS_SUCCESS);
  EXPECT_TRUE(Drain(rig, s.sup_rm).empty()) << "PREPARE_COMPLETE before the prepared record is durable";
  rig.Settle();
  EXPECT_EQ(rig.k().forced_log_writes(), forced_before + 1) << "the prepared record is forced";
  EXPECT_EQ(Drain(rig, s.sub_rm), (std::vector<uint32_t>{TRANSACTION_NOTIFY_PREPARE, TRANSACTION_NOTIFY_PREPARE}));
  EXPECT_EQ(Drain(rig, s.sup_rm), std::vector<uint32_t>{TRANSACTION_NOTIFY_PREPARE_COMPLETE});
  ASSERT_EQ(CommitEnlistment(rig.k(), s.sup), STATUS_SUCCESS);
  EXPECT_EQ(CommitEnlistment(rig.k(), s.sup), STATUS_TRANSACTION_ALREADY_COMMITTED);
  EXPECT_EQ(Drain(rig, s.sub_rm), (std::vector<uint32_t>{TRANSACTION_NOTIFY_COMMIT, TRANSACTION_NOTIFY_COMMIT}));
  ASSERT_EQ(CommitComplete(rig.k(), s.a), STATUS_SUCCESS);
  EXPECT_TRUE(Drain(rig, s.sup_rm).empty());
  ASSERT_EQ(CommitComplete(rig.k(), s.b), STATUS_SUCCESS);
  EXPECT_EQ(Drain(rig, s.sup_rm), std::vector<uint32_t>{TRANSACTION_NOTIFY_COMMIT_COMPLETE});
  TransactionInformation info;
  ASSERT_EQ(GetTransactionInformation(rig.k(), s.tx, &info), STATUS_SUCCESS);
  EXPECT_EQ(info.outcome, TransactionOutcomeCommitted);
}

TEST(KtmSuperior, CommitRequestIsForwardedAndNoVoteReachesTheSuperior) {
  KtmRig rig(501, 0);
  Parties s = Make(rig, kSuperior | TRANSACTION_NOTIFY_COMMIT_REQUEST);
  std::optional<NTSTATUS> client;
  CommitTransaction(rig.k(), s.tx, [&](NTSTATUS st) { client = st; });
  EXPECT_EQ(Drain(rig, s.sup_rm), std::vector<uint32_t>{TRANSACTION_NOTIFY_COMMIT_REQUEST});
  EXPECT_EQ(CommitTransactionAsync(rig.k(), s.tx), STATUS_TRANSACTION_REQUEST_NOT_VALID);  // already requested
  ASSERT_EQ(PrePrepareEnlistment(rig.k(), s.sup), STATUS_SUCCESS);
  ASSERT_EQ(PrePrepareComplete(rig.k(), s.a), STATUS_SUCCESS);
  ASSERT_EQ(PrePrepareComplete(rig.k(), s.b), STATUS_SUCCESS);
  ASSERT_EQ(PrepareEnlistment(rig.k(), s.sup), STATUS_SUCCESS);
  ASSERT_EQ(RollbackEnlistment(rig.k(), s.a), STATUS_SUCCESS);  // a subordinate votes no
  rig.Settle();
  EXPECT_EQ(client, STATUS_TRANSACTION_ALREADY_ABORTED);
  EXPECT_EQ(Drain(rig, s.sup_rm),
            (std::vector<uint32_t>{TRANSACTION_NOTIFY_PREPREPARE_COMPLETE, TRANSACTION_NOTIFY_ROLLBACK}));
  ASSERT_EQ(RollbackComplete(rig.k(), s.a), STATUS_SUCCESS);
  ASSERT_EQ(RollbackComplete(rig.k(), s.b), STATUS_SUCCESS);
  EXPECT_EQ(Drain(rig, s.sup_rm), std::vector<uint32_t>{TRANSACTION_NOTIFY_ROLLBACK_COMPLETE});
  EXPECT_EQ(CommitEnlistment(rig.k(), s.sup), STATUS_TRANSACTION_ALREADY_ABORTED);
}

TEST(KtmSuperior, CrashAfterPrepareLeavesSubordinatesInDoubtUntilTheSuperiorDecides) {
  for (bool commit : {true, false}) {
    KtmRig rig(502, 0);
    Parties s = Make(rig);
    Guid uow, en_a;
    ASSERT_EQ(GetTransactionId(rig.k(), s.tx, &uow), STATUS_SUCCESS);
    ASSERT_EQ(GetEnlistmentId(rig.k(), s.a, &en_a), STATUS_SUCCESS);
    ASSERT_EQ(PrePrepareEnlistment(rig.k(), s.sup), STATUS_SUCCESS);
    ASSERT_EQ(PrePrepareComplete(rig.k(), s.a), STATUS_SUCCESS);
    ASSERT_EQ(PrePrepareComplete(rig.k(), s.b), STATUS_SUCCESS);
    ASSERT_EQ(PrepareEnlistment(rig.k(), s.sup), STATUS_SUCCESS);
    ASSERT_EQ(PrepareComplete(rig.k(), s.a), STATUS_SUCCESS);
    ASSERT_EQ(PrepareComplete(rig.k(), s.b), STATUS_SUCCESS);
    rig.Settle();  // prepared record forced, PREPARE_COMPLETE queued
    rig.host()->Crash(3);
    rig.host()->Restart();
    rig.Boot();
    HANDLE sub, sup;
    ASSERT_EQ(OpenResourceManager(rig.k(), rig.tm(), s.sub_rm_id, &sub), STATUS_SUCCESS);
    ASSERT_EQ(OpenResourceManager(rig.k(), rig.tm(), s.sup_rm_id, &sup), STATUS_SUCCESS);
    ASSERT_EQ(RecoverResourceManager(rig.k(), sub), STATUS_SUCCESS);
    std::vector<TRANSACTION_NOTIFICATION> sub_n;
    EXPECT_EQ(Drain(rig, sub, &sub_n), (std::vector<uint32_t>{TRANSACTION_NOTIFY_RECOVER, TRANSACTION_NOTIFY_RECOVER,
                                                               TRANSACTION_NOTIFY_LAST_RECOVER}));
    std::vector<HANDLE> reopened;
    for (int i = 0; i < 2; ++i) {
      EXPECT_EQ(sub_n[i].UOW, uow);
      HANDLE h;
      ASSERT_EQ(OpenEnlistment(rig.k(), sub, sub_n[i].EnlistmentId, &h), STATUS_SUCCESS);
      ASSERT_EQ(RecoverEnlistment(rig.k(), h, 100 + i), STATUS_SUCCESS);
      reopened.push_back(h);
    }
    EXPECT_EQ(Drain(rig, sub), (std::vector<uint32_t>{TRANSACTION_NOTIFY_INDOUBT, TRANSACTION_NOTIFY_INDOUBT}));
    ASSERT_EQ(RecoverResourceManager(rig.k(), sup), STATUS_SUCCESS);
    std::vector<TRANSACTION_NOTIFICATION> sup_n;
    EXPECT_EQ(Drain(rig, sup, &sup_n),
              (std::vector<uint32_t>{TRANSACTION_NOTIFY_RECOVER_QUERY, TRANSACTION_NOTIFY_LAST_RECOVER}));
    HANDLE sup_en;
    ASSERT_EQ(OpenEnlistment(rig.k(), sup, sup_n[0].EnlistmentId, &sup_en), STATUS_SUCCESS);
    ASSERT_EQ(RecoverEnlistment(rig.k(), sup_en, 7), STATUS_SUCCESS);
    if (commit) {
      ASSERT_EQ(CommitEnlistment(rig.k(), sup_en), STATUS_SUCCESS);
      EXPECT_EQ(Drain(rig, sub), (std::vector<uint32_t>{TRANSACTION_NOTIFY_COMMIT, TRANSACTION_NOTIFY_COMMIT}));
      for (HANDLE h : reopened) ASSERT_EQ(CommitComplete(rig.k(), h), STATUS_SUCCESS);
      EXPECT_EQ(Drain(rig, sup), std::vector<uint32_t>{TRANSACTION_NOTIFY_COMMIT_COMPLETE});
    } else {
      ASSERT_EQ(RollbackEnlistment(rig.k(), sup_en), STATUS_SUCCESS);
      EXPECT_EQ(Drain(rig, sub), (std::vector<uint32_t>{TRANSACTION_NOTIFY_ROLLBACK, TRANSACTION_NOTIFY_ROLLBACK}));
      for (HANDLE h : reopened) ASSERT_EQ(RollbackComplete(rig.k(), h), STATUS_SUCCESS);
      EXPECT_EQ(Drain(rig, sup), std::vector<uint32_t>{TRANSACTION_NOTIFY_ROLLBACK_COMPLETE});
    }
    // A third restart: the transaction is over (its end record reached the log with the next force, or
    // recovery asks again and gets the same answer). Either way nothing is left in doubt once answered.
  }
}

TEST(KtmSuperior, VolatileSuperiorOnDurableTmIsRefused) {
  KtmRig rig(503, 0);
  HANDLE vrm, tx, en;
  ASSERT_EQ(CreateResourceManager(rig.k(), Guid{8, 8}, RESOURCE_MANAGER_VOLATILE, rig.tm(), "v", &vrm), STATUS_SUCCESS);
  ASSERT_EQ(CreateTransaction(rig.k(), 0, 0, "", &tx), STATUS_SUCCESS);
  EXPECT_EQ(CreateEnlistment(rig.k(), vrm, tx, kSuperior, ENLISTMENT_SUPERIOR, 1, &en), STATUS_TM_VOLATILE);
}

}  // namespace
}  // namespace ktmtest
