// Unit tests of model::KvModel, the sequential key-value reference: what each
// call returns for a correct RM (read committed + read-your-own-writes, atomic
// commit over RMs, abort drops writes, optional write locks), and a RapidCheck
// property comparing it with an independently written replay.
#include "model/kv_model.h"

#include <map>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace model {
namespace {

TEST(KvModelTest, ReadSeesCommittedValueAndOwnWritesOnly) {
  KvModel kv;
  ASSERT_EQ(kv.Begin("t1"), KvStatus::kOk);
  ASSERT_EQ(kv.Begin("t2"), KvStatus::kOk);
  EXPECT_EQ(kv.Read("t1", "rmA", "k"), (KvReadResult{KvStatus::kOk, ""}));
  ASSERT_EQ(kv.Write("t1", "rmA", "k", "t1.0"), KvStatus::kOk);
  EXPECT_EQ(kv.Read("t1", "rmA", "k").value, "t1.0");  // own write
  EXPECT_EQ(kv.Read("t2", "rmA", "k").value, "");      // no dirty read
  EXPECT_EQ(kv.Read("t1", "rmB", "k").value, "");      // RMs are separate
  ASSERT_EQ(kv.Commit("t1"), KvStatus::kOk);
  EXPECT_EQ(kv.Read("t2", "rmA", "k").value, "t1.0");  // read committed
  EXPECT_EQ(kv.Committed("rmA", "k"), "t1.0");
}

TEST(KvModelTest, OwnLatestWriteWinsAndEmptyValueDeletes) {
  KvModel kv;
  ASSERT_EQ(kv.Begin("t1"), KvStatus::kOk);
  ASSERT_EQ(kv.Write("t1", "rmA", "k", "a"), KvStatus::kOk);
  ASSERT_EQ(kv.Write("t1", "rmA", "k", "b"), KvStatus::kOk);
  EXPECT_EQ(kv.Read("t1", "rmA", "k").value, "b");
  ASSERT_EQ(kv.Commit("t1"), KvStatus::kOk);
  EXPECT_EQ(kv.CommittedState("rmA"), (std::map<std::string, std::string>{{"k", "b"}}));

  ASSERT_EQ(kv.Begin("t2"), KvStatus::kOk);
  ASSERT_EQ(kv.Write("t2", "rmA", "k", ""), KvStatus::kOk);
  EXPECT_EQ(kv.Read("t2", "rmA", "k").value, "");   // own delete
  EXPECT_EQ(kv.Committed("rmA", "k"), "b");         // not yet committed
  ASSERT_EQ(kv.Commit("t2"), KvStatus::kOk);
  EXPECT_EQ(kv.Committed("rmA", "k"), "");
  EXPECT_TRUE(kv.CommittedState("rmA").empty());
}

TEST(KvModelTest, CommitAppliesEveryRmAtOnce) {
  KvModel kv;
  ASSERT_EQ(kv.Begin("t1"), KvStatus::kOk);
  ASSERT_EQ(kv.Write("t1", "rmA", "x", "t1.0"), KvStatus::kOk);
  ASSERT_EQ(kv.Write("t1", "rmB", "y", "t1.1"), KvStatus::kOk);
  EXPECT_EQ(kv.PendingRms("t1"), (std::vector<std::string>{"rmA", "rmB"}));
  EXPECT_EQ(kv.Committed("rmA", "x"), "");
  EXPECT_EQ(kv.Committed("rmB", "y"), "");
  ASSERT_EQ(kv.Commit("t1"), KvStatus::kOk);
  EXPECT_EQ(kv.Committed("rmA", "x"), "t1.0");
  EXPECT_EQ(kv.Committed("rmB", "y"), "t1.1");
  EXPECT_EQ(kv.State("t1"), KvTxState::kCommitted);
  EXPECT_TRUE(kv.PendingRms("t1").empty());
}

TEST(KvModelTest, AbortDropsPendingWrites) {
  KvModel kv;
  ASSERT_EQ(kv.Begin("t1"), KvStatus::kOk);
  ASSERT_EQ(kv.Write("t1", "rmA", "x", "t1.0"), KvStatus::kOk);
  ASSERT_EQ(kv.Abort("t1"), KvStatus::kOk);
  EXPECT_EQ(kv.State("t1"), KvTxState::kAborted);
  EXPECT_EQ(kv.Committed("rmA", "x"), "");
  EXPECT_TRUE(kv.CommittedState("rmA").empty());
}

TEST(KvModelTest, EndedAndUnknownTransactionsAreRefused) {
  KvModel kv;
  EXPECT_EQ(kv.State("t9"), KvTxState::kUnknown);
  EXPECT_EQ(kv.Write("t9", "rmA", "k", "v"), KvStatus::kUnknownTransaction);
  EXPECT_EQ(kv.Read("t9", "rmA", "k").status, KvStatus::kUnknownTransaction);
  EXPECT_EQ(kv.Commit("t9"), KvStatus::kUnknownTransaction);
  EXPECT_EQ(kv.Abort("t9"), KvStatus::kUnknownTransaction);

  ASSERT_EQ(kv.Begin("t1"), KvStatus::kOk);
  EXPECT_EQ(kv.Begin("t1"), KvStatus::kTransactionExists);
  ASSERT_EQ(kv.Commit("t1"), KvStatus::kOk);
  EXPECT_EQ(kv.Begin("t1"), KvStatus::kTransactionExists);  // ids are never reused
  EXPECT_EQ(kv.Write("t1", "rmA", "k", "v"), KvStatus::kNotActive);
  EXPECT_EQ(kv.Read("t1", "rmA", "k").status, KvStatus::kNotActive);
  EXPECT_EQ(kv.Commit("t1"), KvStatus::kNotActive);
  EXPECT_EQ(kv.Abort("t1"), KvStatus::kNotActive);  // a committed tx never aborts
  EXPECT_EQ(kv.Committed("rmA", "k"), "");
}

TEST(KvModelTest, WriteLocksRefuseConflictingWritesUntilTheHolderEnds) {
  KvModel kv(KvModel::Options{.write_locks = true});
  ASSERT_EQ(kv.Begin("t1"), KvStatus::kOk);
  ASSERT_EQ(kv.Begin("t2"), KvStatus::kOk);
  ASSERT_EQ(kv.Write("t1", "rmA", "k", "t1.0"), KvStatus::kOk);
  EXPECT_EQ(kv.LockHolder("rmA", "k"), "t1");
  EXPECT_EQ(kv.Write("t2", "rmA", "k", "t2.0"), KvStatus::kWriteConflict);
  EXPECT_EQ(kv.Write("t2", "rmA", "other", "t2.1"), KvStatus::kOk);
  EXPECT_EQ(kv.Write("t1", "rmA", "k", "t1.2"), KvStatus::kOk);  // own lock
  ASSERT_EQ(kv.Commit("t1"), KvStatus::kOk);
  EXPECT_EQ(kv.LockHolder("rmA", "k"), "");
  EXPECT_EQ(kv.Write("t2", "rmA", "k", "t2.3"), KvStatus::kOk);
  ASSERT_EQ(kv.Abort("t2"), KvStatus::kOk);
  EXPECT_EQ(kv.Committed("rmA", "k"), "t1.2");
}

TEST(KvModelTest, WithoutWriteLocksTheLastCommitterWins) {
  KvModel kv;
  ASSERT_EQ(kv.Begin("t1"), KvStatus::kOk);
  ASSERT_EQ(kv.Begin("t2"), KvStatus::kOk);
  ASSERT_EQ(kv.Write("t1", "rmA", "k", "t1.0"), KvStatus::kOk);
  ASSERT_EQ(kv.Write("t2", "rmA", "k", "t2.0"), KvStatus::kOk);
  EXPECT_EQ(kv.LockHolder("rmA", "k", "t1"), "t2");
  ASSERT_EQ(kv.Commit("t2"), KvStatus::kOk);
  ASSERT_EQ(kv.Commit("t1"), KvStatus::kOk);
  EXPECT_EQ(kv.Committed("rmA", "k"), "t1.0");
}

TEST(KvModelTest, StatusNamesAreStable) {
  EXPECT_STREQ(KvStatusName(KvStatus::kOk), "Ok");
  EXPECT_STREQ(KvStatusName(KvStatus::kWriteConflict), "WriteConflict");
}

// Property: with one transaction at a time, the committed state equals an
// independent replay that applies each committed transaction's writes and
// skips aborted ones, and every read returns that replay's view.
// Each op is (rm 0..1, key 0..2, write?); each tx ends committed or aborted.
RC_GTEST_PROP(KvModelProperties, SerialTransactionsMatchADirectReplay,
              (const std::vector<std::tuple<std::vector<std::tuple<int, int, bool>>, bool>>& txs)) {
  KvModel kv;
  std::map<std::pair<int, int>, std::string> committed;  // the independent replay
  for (size_t t = 0; t < txs.size(); ++t) {
    const std::string tx = "t" + std::to_string(t + 1);
    RC_ASSERT(kv.Begin(tx) == KvStatus::kOk);
    std::map<std::pair<int, int>, std::string> view = committed;
    const auto& [ops, commit] = txs[t];
    for (size_t o = 0; o < ops.size(); ++o) {
      const auto [rm_raw, key_raw, is_write] = ops[o];
      const std::pair<int, int> at{(rm_raw & 0x7fffffff) % 2, (key_raw & 0x7fffffff) % 3};
      const std::string rm = "rm" + std::to_string(at.first);
      const std::string key = "k" + std::to_string(at.second);
      if (is_write) {
        const std::string value = tx + "." + std::to_string(o);
        RC_ASSERT(kv.Write(tx, rm, key, value) == KvStatus::kOk);
        view[at] = value;
      } else {
        RC_ASSERT(kv.Read(tx, rm, key) == (KvReadResult{KvStatus::kOk, view[at]}));
      }
    }
    if (commit) {
      RC_ASSERT(kv.Commit(tx) == KvStatus::kOk);
      committed = view;
    } else {
      RC_ASSERT(kv.Abort(tx) == KvStatus::kOk);
    }
    for (int rm = 0; rm < 2; ++rm) {
      for (int key = 0; key < 3; ++key) {
        const std::string expected = committed[std::make_pair(rm, key)];
        RC_ASSERT(kv.Committed("rm" + std::to_string(rm), "k" + std::to_string(key)) == expected);
      }
    }
  }
}

}  // namespace
}  // namespace model
