// Crash-recovery tests of the engine: crash the host after every trace event
// of a two-RM transaction (every disk write, flush, notification, vote and
// state change), with several crash seeds so in-flight log blocks tear
// differently, restart, recover, and check that both RMs agree and that an
// acknowledged commit is committed. Also: the RECOVER flow of the raw API,
// and the forced-log-write count of every case in docs/ktm-logging.md.
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

#include "gtest/gtest.h"
#include "ktm/api.h"
#include "ktm/rm_base.h"
#include "tests/ktm_rig.h"

namespace ktmtest {
namespace {

using namespace ktm;  // NOLINT

struct CrashRun {
  bool acked = false;
  bool crashed = false;
  std::string rm0, rm1;
  size_t in_doubt = 0;
  uint64_t events_after_commit = 0;
};

std::string Committed(KtmRig& rig, int rm, const std::string& key) {
  std::string v;
  EXPECT_EQ(rig.rm(rm).Read(INVALID_HANDLE_VALUE, key, &v), STATUS_SUCCESS);
  return v;
}

// One transaction writing k on rm0 and rm1; crash after the n-th event that
// follows the commit request (n < 0: no crash).
CrashRun RunWithCrashAt(int64_t n, uint64_t crash_seed) {
  KtmRig rig(100);
  CrashRun run;
  HANDLE tx;
  EXPECT_EQ(CreateTransaction(rig.k(), 0, 0, "", &tx), STATUS_SUCCESS);
  EXPECT_EQ(rig.rm(0).Write(tx, "k", "v"), STATUS_SUCCESS);
  EXPECT_EQ(rig.rm(1).Write(tx, "k", "v"), STATUS_SUCCESS);
  int64_t seen = 0;
  bool armed = true;
  rig.world().trace().set_observer([&](const sim::TraceEvent& e) {
    if (e.host != 0) return;
    ++run.events_after_commit;
    if (armed && seen++ == n) {
      armed = false;
      run.crashed = true;
      rig.world().scheduler().After(0, [&rig, crash_seed] { rig.host()->Crash(crash_seed); });
    }
  });
  CommitTransaction(rig.k(), tx, [&](NTSTATUS s) { run.acked = s == STATUS_SUCCESS; });
  rig.Settle();
  rig.world().trace().set_observer(nullptr);
  if (run.crashed) {
    EXPECT_TRUE(rig.host()->Restart());
    rig.Boot();
  }
  EXPECT_TRUE(rig.ready());
  run.rm0 = Committed(rig, 0, "k");
  run.rm1 = Committed(rig, 1, "k");
  run.in_doubt = rig.rm(0).in_doubt() + rig.rm(1).in_doubt();
  return run;
}

TEST(KtmRecovery, CrashAfterEveryStepOfATwoRmCommit) {
  CrashRun clean = RunWithCrashAt(-1, 0);
  ASSERT_TRUE(clean.acked);
  ASSERT_EQ(clean.rm0, "v");
  ASSERT_EQ(clean.rm1, "v");
  ASSERT_GT(clean.events_after_commit, 20u);
  int committed = 0, rolled_back = 0;
  for (int64_t n = 0; n < static_cast<int64_t>(clean.events_after_commit); ++n) {
    for (uint64_t crash_seed : {1u, 2u, 3u}) {
      CrashRun run = RunWithCrashAt(n, crash_seed);
      SCOPED_TRACE(testing::Message() << "crash after event " << n << " seed " << crash_seed);
      ASSERT_TRUE(run.crashed);
      EXPECT_EQ(run.rm0, run.rm1) << "RMs disagree on the outcome";
      if (run.acked) {
        EXPECT_EQ(run.rm0, "v") << "an acknowledged commit was lost";
      }
      EXPECT_EQ(run.in_doubt, 0u) << "a prepared transaction was left in doubt";
      (run.rm0 == "v" ? committed : rolled_back)++;
    }
  }
  // Both outcomes must be reachable, or the crash points are not where the protocol decides.
  EXPECT_GT(committed, 0);
  EXPECT_GT(rolled_back, 0);
}

TEST(KtmRecovery, TornLogTailsNeverCommitHalfATransaction) {
  // Many crash seeds at the points where a log block is in flight.
  CrashRun clean = RunWithCrashAt(-1, 0);
  for (int64_t n = 0; n < static_cast<int64_t>(clean.events_after_commit); n += 3) {
    for (uint64_t crash_seed = 10; crash_seed < 30; ++crash_seed) {
      CrashRun run = RunWithCrashAt(n, crash_seed);
      ASSERT_EQ(run.rm0, run.rm1) << "n=" << n << " seed=" << crash_seed;
      if (run.acked) {
        ASSERT_EQ(run.rm0, "v") << "n=" << n << " seed=" << crash_seed;
      }
    }
  }
}

TEST(KtmRecovery, SecondCrashDuringRecoveryStillAgrees) {
  for (int64_t n = 0; n < 40; n += 2) {
    KtmRig rig(200);
    HANDLE tx;
    ASSERT_EQ(CreateTransaction(rig.k(), 0, 0, "", &tx), STATUS_SUCCESS);
    ASSERT_EQ(rig.rm(0).Write(tx, "a", "1"), STATUS_SUCCESS);
    ASSERT_EQ(rig.rm(1).Write(tx, "b", "1"), STATUS_SUCCESS);
    bool acked = false;
    CommitTransaction(rig.k(), tx, [&](NTSTATUS s) { acked = s == STATUS_SUCCESS; });
    // Crash just after the commit decision is durable, then again during recovery.
    int64_t seen = 0;
    bool first = true;
    rig.world().trace().set_observer([&](const sim::TraceEvent& e) {
      if (first && e.kind == "ktm.log_forced") {
        first = false;
        rig.world().scheduler().After(0, [&rig] { rig.host()->Crash(7); });
      }
    });
    rig.Settle();
    rig.world().trace().set_observer([&](const sim::TraceEvent&) {
      if (seen++ == n) rig.world().scheduler().After(0, [&rig] { rig.host()->Crash(8); });
    });
    ASSERT_TRUE(rig.host()->Restart());
    rig.Boot();
    rig.world().trace().set_observer(nullptr);
    if (!rig.host()->up()) {
      ASSERT_TRUE(rig.host()->Restart());
      rig.Boot();
    }
    ASSERT_TRUE(rig.ready());
    EXPECT_EQ(Committed(rig, 0, "a"), "1") << "n=" << n;  // the decision was durable
    EXPECT_EQ(Committed(rig, 1, "b"), "1") << "n=" << n;
    (void)acked;
  }
}

TEST(KtmRecovery, RecoverNotificationsCarryTheEnlistmentAndItsBlob) {
  KtmRig rig(300, 0);
  constexpr uint32_t kMask = TRANSACTION_NOTIFY_PREPREPARE | TRANSACTION_NOTIFY_PREPARE | TRANSACTION_NOTIFY_COMMIT |
                             TRANSACTION_NOTIFY_ROLLBACK;
  Guid rm_id{0x5151, 1};
  HANDLE rm, tx, en;
  ASSERT_EQ(CreateResourceManager(rig.k(), rm_id, 0, rig.tm(), "manual", &rm), STATUS_SUCCESS);
  ASSERT_EQ(CreateTransaction(rig.k(), 0, 0, "", &tx), STATUS_SUCCESS);
  ASSERT_EQ(CreateEnlistment(rig.k(), rm, tx, kMask, 0, 42, &en), STATUS_SUCCESS);
  ASSERT_EQ(SetEnlistmentRecoveryInformation(rig.k(), en, {9, 8, 7}), STATUS_SUCCESS);
  Guid en_id, uow;
  ASSERT_EQ(GetEnlistmentId(rig.k(), en, &en_id), STATUS_SUCCESS);
  ASSERT_EQ(GetTransactionId(rig.k(), tx, &uow), STATUS_SUCCESS);
  // A second durable RM keeps this from being single-phase.
  HANDLE rm2, en2;
  ASSERT_EQ(CreateResourceManager(rig.k(), Guid{0x5252, 1}, 0, rig.tm(), "other", &rm2), STATUS_SUCCESS);
  ASSERT_EQ(CreateEnlistment(rig.k(), rm2, tx, kMask, 0, 43, &en2), STATUS_SUCCESS);
  std::optional<NTSTATUS> outcome;
  CommitTransaction(rig.k(), tx, [&](NTSTATUS s) { outcome = s; });
  for (HANDLE e : {en, en2}) ASSERT_EQ(PrePrepareComplete(rig.k(), e), STATUS_SUCCESS);
  for (HANDLE e : {en, en2}) ASSERT_EQ(PrepareComplete(rig.k(), e), STATUS_SUCCESS);
  rig.Settle();
  ASSERT_EQ(outcome, STATUS_SUCCESS);  // decided and durable; nobody called CommitComplete
  rig.host()->Crash(1);
  rig.host()->Restart();
  rig.Boot();
  HANDLE again;
  ASSERT_EQ(OpenResourceManager(rig.k(), rig.tm(), rm_id, &again), STATUS_SUCCESS);
  ASSERT_EQ(RecoverResourceManager(rig.k(), again), STATUS_SUCCESS);
  TRANSACTION_NOTIFICATION n;
  ASSERT_EQ(GetNotificationResourceManager(rig.k(), again, &n), STATUS_SUCCESS);
  ASSERT_EQ(n.TransactionNotification, TRANSACTION_NOTIFY_RECOVER);
  EXPECT_EQ(n.EnlistmentId, en_id);
  EXPECT_EQ(n.UOW, uow);
  ASSERT_EQ(GetNotificationResourceManager(rig.k(), again, &n), STATUS_SUCCESS);
  EXPECT_EQ(n.TransactionNotification, TRANSACTION_NOTIFY_LAST_RECOVER);
  HANDLE reopened;
  EXPECT_EQ(OpenEnlistment(rig.k(), again, Guid{1, 1}, &reopened), STATUS_ENLISTMENT_NOT_FOUND);
  ASSERT_EQ(OpenEnlistment(rig.k(), again, en_id, &reopened), STATUS_SUCCESS);
  std::vector<uint8_t> blob;
  ASSERT_EQ(GetEnlistmentRecoveryInformation(rig.k(), reopened, &blob), STATUS_SUCCESS);
  EXPECT_EQ(blob, (std::vector<uint8_t>{9, 8, 7}));
  ASSERT_EQ(RecoverEnlistment(rig.k(), reopened, 77), STATUS_SUCCESS);
  ASSERT_EQ(GetNotificationResourceManager(rig.k(), again, &n), STATUS_SUCCESS);
  EXPECT_EQ(n.TransactionNotification, TRANSACTION_NOTIFY_COMMIT);
  EXPECT_EQ(n.TransactionKey, 77u);
  ASSERT_EQ(CommitComplete(rig.k(), reopened), STATUS_SUCCESS);
  EXPECT_EQ(RecoverEnlistment(rig.k(), reopened, 77), STATUS_TRANSACTION_REQUEST_NOT_VALID);  // forgotten
}

TEST(KtmRecovery, PreparedWithoutDecisionGetsNoRecover) {
  KtmRig rig(301, 0);
  constexpr uint32_t kMask = TRANSACTION_NOTIFY_PREPREPARE | TRANSACTION_NOTIFY_PREPARE | TRANSACTION_NOTIFY_COMMIT |
                             TRANSACTION_NOTIFY_ROLLBACK;
  Guid rm_id{0x6161, 1};
  HANDLE rm, rm2, tx, en, en2;
  ASSERT_EQ(CreateResourceManager(rig.k(), rm_id, 0, rig.tm(), "a", &rm), STATUS_SUCCESS);
  ASSERT_EQ(CreateResourceManager(rig.k(), Guid{0x6262, 1}, 0, rig.tm(), "b", &rm2), STATUS_SUCCESS);
  ASSERT_EQ(CreateTransaction(rig.k(), 0, 0, "", &tx), STATUS_SUCCESS);
  ASSERT_EQ(CreateEnlistment(rig.k(), rm, tx, kMask, 0, 1, &en), STATUS_SUCCESS);
  ASSERT_EQ(CreateEnlistment(rig.k(), rm2, tx, kMask, 0, 2, &en2), STATUS_SUCCESS);
  CommitTransaction(rig.k(), tx, [](NTSTATUS) {});
  for (HANDLE e : {en, en2}) ASSERT_EQ(PrePrepareComplete(rig.k(), e), STATUS_SUCCESS);
  ASSERT_EQ(PrepareComplete(rig.k(), en), STATUS_SUCCESS);  // rm2 never votes
  rig.Settle();
  rig.host()->Crash(1);
  rig.host()->Restart();
  rig.Boot();
  HANDLE again;
  // The registration record is lazy and nothing forced it: KTM does not know
  // the RM, so it is created again (what ktm-api.md §5.3 prescribes).
  ASSERT_EQ(OpenResourceManager(rig.k(), rig.tm(), rm_id, &again), STATUS_RESOURCEMANAGER_NOT_FOUND);
  ASSERT_EQ(CreateResourceManager(rig.k(), rm_id, 0, rig.tm(), "a", &again), STATUS_SUCCESS);
  ASSERT_EQ(RecoverResourceManager(rig.k(), again), STATUS_SUCCESS);
  TRANSACTION_NOTIFICATION n;
  ASSERT_EQ(GetNotificationResourceManager(rig.k(), again, &n), STATUS_SUCCESS);
  EXPECT_EQ(n.TransactionNotification, TRANSACTION_NOTIFY_LAST_RECOVER);  // presumed abort
  EXPECT_EQ(GetNotificationResourceManager(rig.k(), again, &n), STATUS_TIMEOUT);
}

// Forced writes per commit, by case (the table in docs/ktm-logging.md).
struct ForcedWrites {
  uint64_t tm = 0;
  std::vector<uint64_t> rms;
};

enum class Case { kSinglePhase, kTwoPhase2, kTwoPhase3, kDurablePlusReadOnly, kAllReadOnly, kRollback };

ForcedWrites MeasureCase(Case c) {
  KtmRig rig(400, 3);
  uint64_t tm0 = rig.k().forced_log_writes();
  std::vector<uint64_t> rm0 = {rig.rm(0).forced_log_writes(), rig.rm(1).forced_log_writes(),
                               rig.rm(2).forced_log_writes()};
  HANDLE tx;
  EXPECT_EQ(CreateTransaction(rig.k(), 0, 0, "", &tx), STATUS_SUCCESS);
  std::string v;
  switch (c) {
    case Case::kSinglePhase:
      EXPECT_EQ(rig.rm(0).Write(tx, "k", "v"), STATUS_SUCCESS);
      break;
    case Case::kTwoPhase2:
      EXPECT_EQ(rig.rm(0).Write(tx, "k", "v"), STATUS_SUCCESS);
      EXPECT_EQ(rig.rm(1).Write(tx, "k", "v"), STATUS_SUCCESS);
      break;
    case Case::kTwoPhase3:
      for (int i = 0; i < 3; ++i) EXPECT_EQ(rig.rm(i).Write(tx, "k", "v"), STATUS_SUCCESS);
      break;
    case Case::kDurablePlusReadOnly:
      EXPECT_EQ(rig.rm(0).Write(tx, "k", "v"), STATUS_SUCCESS);
      EXPECT_EQ(rig.rm(1).Read(tx, "k", &v), STATUS_SUCCESS);
      break;
    case Case::kAllReadOnly:
      EXPECT_EQ(rig.rm(0).Read(tx, "k", &v), STATUS_SUCCESS);
      EXPECT_EQ(rig.rm(1).Read(tx, "k", &v), STATUS_SUCCESS);
      break;
    case Case::kRollback:
      EXPECT_EQ(rig.rm(0).Write(tx, "k", "v"), STATUS_SUCCESS);
      EXPECT_EQ(rig.rm(1).Write(tx, "k", "v"), STATUS_SUCCESS);
      break;
  }
  std::optional<NTSTATUS> outcome;
  if (c == Case::kRollback) {
    RollbackTransaction(rig.k(), tx, [&](NTSTATUS s) { outcome = s; });
  } else {
    CommitTransaction(rig.k(), tx, [&](NTSTATUS s) { outcome = s; });
  }
  rig.Settle();
  EXPECT_EQ(outcome, STATUS_SUCCESS);
  ForcedWrites f;
  f.tm = rig.k().forced_log_writes() - tm0;
  for (int i = 0; i < 3; ++i) f.rms.push_back(rig.rm(i).forced_log_writes() - rm0[i]);
  return f;
}

TEST(KtmLogging, ForcedWritesPerCommitArePresumedAbortMinimum) {
  struct Expected {
    Case c;
    const char* name;
    uint64_t tm;
    std::vector<uint64_t> rms;
  };
  const std::vector<Expected> table = {
      {Case::kSinglePhase, "1 durable RM, single-phase", 0, {1, 0, 0}},
      {Case::kTwoPhase2, "2 durable RMs, 2PC", 1, {2, 2, 0}},
      {Case::kTwoPhase3, "3 durable RMs, 2PC", 1, {2, 2, 2}},
      {Case::kDurablePlusReadOnly, "durable + read-only", 1, {2, 0, 0}},
      {Case::kAllReadOnly, "all read-only", 0, {0, 0, 0}},
      {Case::kRollback, "rollback", 0, {0, 0, 0}},
  };
  for (const auto& e : table) {
    ForcedWrites f = MeasureCase(e.c);
    EXPECT_EQ(f.tm, e.tm) << e.name;
    EXPECT_EQ(f.rms, e.rms) << e.name;
    std::printf("%-28s TM forced=%llu RM forced=%llu,%llu,%llu\n", e.name, (unsigned long long)f.tm,
                (unsigned long long)f.rms[0], (unsigned long long)f.rms[1], (unsigned long long)f.rms[2]);
  }
}

}  // namespace
}  // namespace ktmtest

namespace ktmtest {
namespace {

using namespace ktm;  // NOLINT

// Two decided-but-unacknowledged transactions in the log; rolling forward to
// the first one's virtual clock rebuilds only the first.
TEST(KtmRecovery, RollforwardStopsAtTheVirtualClock) {
  KtmRig rig(600, 0);
  constexpr uint32_t kMask = TRANSACTION_NOTIFY_PREPREPARE | TRANSACTION_NOTIFY_PREPARE | TRANSACTION_NOTIFY_COMMIT |
                             TRANSACTION_NOTIFY_ROLLBACK;
  Guid a_id{0x7171, 1}, b_id{0x7272, 1};
  HANDLE a, b;
  ASSERT_EQ(CreateResourceManager(rig.k(), a_id, 0, rig.tm(), "a", &a), STATUS_SUCCESS);
  ASSERT_EQ(CreateResourceManager(rig.k(), b_id, 0, rig.tm(), "b", &b), STATUS_SUCCESS);
  std::vector<uint64_t> clocks;
  for (int i = 0; i < 2; ++i) {
    HANDLE tx, ea, eb;
    ASSERT_EQ(CreateTransaction(rig.k(), 0, 0, "", &tx), STATUS_SUCCESS);
    ASSERT_EQ(CreateEnlistment(rig.k(), a, tx, kMask, 0, 1, &ea), STATUS_SUCCESS);
    ASSERT_EQ(CreateEnlistment(rig.k(), b, tx, kMask, 0, 2, &eb), STATUS_SUCCESS);
    CommitTransaction(rig.k(), tx, [](NTSTATUS) {});
    for (HANDLE e : {ea, eb}) ASSERT_EQ(PrePrepareComplete(rig.k(), e), STATUS_SUCCESS);
    for (HANDLE e : {ea, eb}) ASSERT_EQ(PrepareComplete(rig.k(), e), STATUS_SUCCESS);
    rig.Settle();
    uint64_t clock;
    ASSERT_EQ(GetCurrentClockTransactionManager(rig.k(), rig.tm(), &clock), STATUS_SUCCESS);
    clocks.push_back(clock);
  }
  ASSERT_LT(clocks[0], clocks[1]);
  rig.host()->Crash(1);
  rig.host()->Restart();
  rig.world().trace().set_observer(nullptr);
  // Boot by hand: open the TM, roll forward to the first clock only.
  KtmRig* r = &rig;
  auto kernel = std::make_unique<Kernel>(r->host());
  std::optional<HANDLE> tm;
  OpenTransactionManager(*kernel, "tmlog", [&](NTSTATUS s, HANDLE h) {
    ASSERT_EQ(s, STATUS_SUCCESS);
    tm = h;
  });
  rig.Settle();
  ASSERT_TRUE(tm.has_value());
  std::optional<NTSTATUS> rolled;
  RollforwardTransactionManager(*kernel, *tm, 0, [&](NTSTATUS s) { rolled = s; });
  rig.Settle();
  EXPECT_EQ(rolled, STATUS_INVALID_PARAMETER);
  RollforwardTransactionManager(*kernel, *tm, clocks[0], [&](NTSTATUS s) { rolled = s; });
  rig.Settle();
  ASSERT_EQ(rolled, STATUS_SUCCESS);
  uint64_t clock;
  ASSERT_EQ(GetCurrentClockTransactionManager(*kernel, *tm, &clock), STATUS_SUCCESS);
  EXPECT_EQ(clock, clocks[0]);
  HANDLE ra;
  ASSERT_EQ(OpenResourceManager(*kernel, *tm, a_id, &ra), STATUS_SUCCESS);
  ASSERT_EQ(RecoverResourceManager(*kernel, ra), STATUS_SUCCESS);
  int recovers = 0;
  TRANSACTION_NOTIFICATION n;
  while (GetNotificationResourceManager(*kernel, ra, &n) == STATUS_SUCCESS) {
    recovers += n.TransactionNotification == TRANSACTION_NOTIFY_RECOVER ? 1 : 0;
  }
  EXPECT_EQ(recovers, 1);
}

}  // namespace
}  // namespace ktmtest

namespace ktmtest {
namespace {

// After `commits` one-RM 2PC commits, the host crashes and restarts: what the
// RM replays from its log at that start.
uint64_t ReplayAfter(uint64_t commits, uint64_t snapshot_log_bytes) {
  KtmRig rig(/*seed=*/23, /*rm_count=*/1, /*planted_bug=*/0, /*single_phase=*/false);
  rig.snapshot_log_bytes = snapshot_log_bytes;
  rig.CrashAndRecover(/*crash_seed=*/1);  // restarts the RM with the option
  for (uint64_t n = 0; n < commits; ++n) {
    HANDLE tx;
    EXPECT_EQ(CreateTransaction(rig.k(), 0, 0, "", &tx), STATUS_SUCCESS);
    EXPECT_EQ(rig.rm(0).Write(tx, absl::StrCat("k", n % 32), absl::StrCat("v", n)), STATUS_SUCCESS);
    NTSTATUS status = STATUS_PENDING;
    CommitTransaction(rig.k(), tx, [&status](NTSTATUS s) { status = s; });
    rig.Settle();
    EXPECT_EQ(status, STATUS_SUCCESS) << n;
    CloseHandle(rig.k(), tx);
  }
  rig.CrashAndRecover(/*crash_seed=*/2);
  EXPECT_TRUE(rig.ready());
  return rig.rm(0).replayed_records();
}

// The default snapshot policy (kSnapshotLogBytesMin, or 4 x the last
// snapshot) bounds what a restart replays, whatever the run's length: a
// crash after 3,000 commits replays no more than one after 300 could. With
// the old policy (a snapshot only when a quarter of the 1 MiB log is in use)
// the replay grows with the run up to the quarter.
TEST(RmSnapshots, RecoveryReplaysABoundedLogWhateverTheRunsLength) {
  // Each commit appends two records in their own blocks of at least one
  // 512-byte sector (prepare, commit), so 64 KiB hold at most 128 records.
  constexpr uint64_t kReplayMax = ktm::kSnapshotLogBytesMin / 512 + 2;
  for (uint64_t commits : {300u, 1000u, 3000u}) {
    EXPECT_LE(ReplayAfter(commits, /*snapshot_log_bytes=*/0), kReplayMax) << commits << " commits";
  }
  // The quarter-full policy, for contrast: this is what the bound catches.
  EXPECT_GT(ReplayAfter(1000, /*snapshot_log_bytes=*/256 * 1024), kReplayMax);
}

}  // namespace
}  // namespace ktmtest
