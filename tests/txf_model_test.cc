// Unit tests of model::TxfModel, the sequential reference of the transacted
// file namespace: commit/rollback/crash, the visibility rules (snapshot
// readers, own dirty view, reserved and still-visible names), the conflict
// statuses of the §6.2 table, handle death, and a property that serial
// transactions match a direct replay on a plain map.
#include <map>
#include <string>

#include "gtest/gtest.h"
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "model/txf_model.h"

namespace model {
namespace {

using S = TxfStatus;
using D = TxfDisposition;

TEST(TxfModelTest, CommitPublishesAndRollbackDropsChanges) {
  TxfModel m;
  ASSERT_EQ(m.Begin("t1"), S::kOk);
  ASSERT_EQ(m.Begin("t1"), S::kTransactionExists);
  TxfResult f = m.CreateFile("t1", "\\a", true, true, D::kCreateNew);
  ASSERT_EQ(f.status, S::kOk);
  ASSERT_EQ(m.Write(f.handle, 0, "hello"), S::kOk);
  EXPECT_EQ(m.Read(f.handle, 1, 3).data, "ell");
  EXPECT_EQ(m.Attributes("", "\\a").status, S::kNameNotFound);
  EXPECT_EQ(m.Attributes("t1", "\\a").entry.size, 5u);
  ASSERT_EQ(m.Commit("t1"), S::kOk);
  EXPECT_EQ(m.CommittedFiles(), (std::map<std::string, std::string>{{"\\a", "hello"}}));
  EXPECT_EQ(m.Commit("t1"), S::kNotActive);
  EXPECT_EQ(m.Commit("t9"), S::kUnknownTransaction);
  EXPECT_EQ(m.Read(f.handle, 0, 1).status, S::kHandleNoLongerValid);
  EXPECT_EQ(m.Close(f.handle), S::kOk);
  ASSERT_EQ(m.Begin("t2"), S::kOk);
  ASSERT_EQ(m.Delete("t2", "\\a"), S::kOk);
  ASSERT_EQ(m.CreateDirectory("t2", "\\d"), S::kOk);
  ASSERT_EQ(m.Rollback("t2"), S::kOk);
  EXPECT_EQ(m.CommittedFiles().size(), 1u);
  EXPECT_EQ(m.CommittedDirectories(), (std::set<std::string>{"\\"}));
  EXPECT_EQ(m.Delete("t2", "\\a"), S::kNotActive);
}

TEST(TxfModelTest, ReadersSnapshotWritersSeeTheirOwnData) {
  TxfModel m;
  TxfResult w = m.CreateFile("", "\\f", false, true, D::kCreateNew);
  ASSERT_EQ(m.Write(w.handle, 0, "v1"), S::kOk);
  ASSERT_EQ(m.Close(w.handle), S::kOk);
  m.Begin("r");
  m.Begin("w");
  TxfResult snap = m.CreateFile("r", "\\f", true, false, D::kOpenExisting);
  TxfResult live = m.CreateFile("", "\\f", true, false, D::kOpenExisting);
  TxfResult early = m.CreateFile("w", "\\f", true, false, D::kOpenExisting);
  TxfResult writer = m.CreateFile("w", "\\f", true, true, D::kTruncateExisting);
  ASSERT_EQ(writer.status, S::kOk);
  ASSERT_EQ(m.Write(writer.handle, 0, "v2"), S::kOk);
  TxfResult late = m.CreateFile("w", "\\f", true, false, D::kOpenExisting);
  EXPECT_EQ(m.Read(late.handle, 0, 9).data, "v2");
  EXPECT_EQ(m.Read(early.handle, 0, 9).data, "v1");
  EXPECT_EQ(m.Read(snap.handle, 0, 9).data, "v1");
  EXPECT_EQ(m.Read(live.handle, 0, 9).data, "v1");
  ASSERT_EQ(m.Commit("w"), S::kOk);
  EXPECT_EQ(m.Read(snap.handle, 0, 9).data, "v1");
  EXPECT_EQ(m.Read(live.handle, 0, 9).data, "v2");
  EXPECT_EQ(m.Read(live.handle, 2, 1).status, S::kEndOfFile);
}

TEST(TxfModelTest, LockTableStatuses) {
  TxfModel m;
  m.Close(m.CreateFile("", "\\t", false, true, D::kCreateNew).handle);
  m.Begin("a");
  m.Begin("b");
  TxfResult a_writer = m.CreateFile("a", "\\t", false, true, D::kOpenExisting);
  ASSERT_EQ(a_writer.status, S::kOk);
  EXPECT_EQ(m.CreateFile("b", "\\t", false, true, D::kOpenExisting).status, S::kSharingViolation);
  EXPECT_EQ(m.CreateFile("", "\\t", false, true, D::kOpenExisting).status, S::kSharingViolation);
  EXPECT_EQ(m.CreateFile("b", "\\t", true, false, D::kOpenExisting).status, S::kOk);
  EXPECT_EQ(m.CreateFile("", "\\t", true, false, D::kOpenExisting).status, S::kOk);
  m.Rollback("a");
  m.Rollback("b");
  TxfResult outside_writer = m.CreateFile("", "\\t", false, true, D::kOpenExisting);
  m.Begin("c");
  EXPECT_EQ(m.CreateFile("c", "\\t", true, false, D::kOpenExisting).status, S::kTransactionalConflict);
  EXPECT_EQ(m.CreateFile("c", "\\t", false, true, D::kOpenExisting).status, S::kTransactionalConflict);
  EXPECT_EQ(m.Delete("c", "\\t"), S::kTransactionalConflict);
  m.Close(outside_writer.handle);
  TxfResult c_reader = m.CreateFile("c", "\\t", true, false, D::kOpenExisting);
  ASSERT_EQ(c_reader.status, S::kOk);
  EXPECT_EQ(m.CreateFile("", "\\t", false, true, D::kOpenExisting).status, S::kSharingViolation);
  m.Commit("c");  // its handles die and stop blocking
  EXPECT_EQ(m.CreateFile("", "\\t", false, true, D::kOpenExisting).status, S::kOk);
}

TEST(TxfModelTest, NamespaceReservationsAndPins) {
  TxfModel m;
  ASSERT_EQ(m.CreateDirectory("", "\\d"), S::kOk);
  m.Begin("t");
  ASSERT_EQ(m.CreateFile("t", "\\d\\new", false, true, D::kCreateNew).status, S::kOk);
  EXPECT_EQ(m.CreateFile("", "\\d\\new", false, true, D::kCreateNew).status, S::kTransactionalConflict);
  EXPECT_EQ(m.CreateFile("", "\\d\\new", true, false, D::kOpenExisting).status, S::kNameNotFound);
  EXPECT_EQ(m.RemoveDirectory("", "\\d"), S::kCantBreakDependency);
  EXPECT_EQ(m.Move("", "\\d", "\\e", false), S::kCantBreakDependency);
  EXPECT_EQ(m.Move("t", "\\d", "\\e", false), S::kSharingViolation);  // its own handle on \d\new
  m.Commit("t");
  m.Begin("u");
  ASSERT_EQ(m.Delete("u", "\\d\\new"), S::kOk);
  EXPECT_EQ(m.Attributes("", "\\d\\new").status, S::kOk);  // visible outside until commit
  EXPECT_EQ(m.RemoveDirectory("u", "\\d"), S::kOk);
  EXPECT_EQ(m.CreateDirectory("", "\\d\\x"), S::kTransactionalConflict);
  ASSERT_EQ(m.Commit("u"), S::kOk);
  EXPECT_EQ(m.CommittedDirectories(), (std::set<std::string>{"\\"}));
}

TEST(TxfModelTest, MoveCopyAndFind) {
  TxfModel m;
  ASSERT_EQ(m.CreateDirectory("", "\\d"), S::kOk);
  TxfResult f = m.CreateFile("", "\\d\\a", false, true, D::kCreateNew);
  m.Write(f.handle, 0, "A");
  m.Close(f.handle);
  m.Begin("t");
  ASSERT_EQ(m.Copy("t", "\\d\\a", "\\d\\b", true), S::kOk);
  EXPECT_EQ(m.Copy("t", "\\d\\a", "\\d\\b", true), S::kNameCollision);
  ASSERT_EQ(m.Move("t", "\\d", "\\e", false), S::kOk);
  TxfResult first = m.FindFirst("t", "\\e\\*");
  ASSERT_EQ(first.status, S::kOk);
  EXPECT_EQ(first.entry, (TxfEntry{"a", false, 1}));
  EXPECT_EQ(m.FindNext(first.handle).entry.name, "b");
  EXPECT_EQ(m.FindNext(first.handle).status, S::kNoMoreFiles);
  EXPECT_EQ(m.FindFirst("", "\\e\\*").status, S::kPathNotFound);
  EXPECT_EQ(m.FindFirst("t", "\\e\\z*").status, S::kNoSuchFile);
  EXPECT_EQ(m.Close(first.handle), S::kTypeMismatch);
  EXPECT_EQ(m.FindClose(first.handle), S::kOk);
  ASSERT_EQ(m.Commit("t"), S::kOk);
  EXPECT_EQ(m.CommittedFiles(), (std::map<std::string, std::string>{{"\\e\\a", "A"}, {"\\e\\b", "A"}}));
}

TEST(TxfModelTest, CrashAbortsActiveTransactionsAndClosesHandles) {
  TxfModel m;
  m.Begin("t");
  TxfResult f = m.CreateFile("t", "\\a", false, true, D::kCreateNew);
  TxfResult g = m.CreateFile("", "\\b", false, true, D::kCreateNew);
  m.Crash();
  EXPECT_EQ(m.Write(f.handle, 0, "x"), S::kInvalidHandle);
  EXPECT_EQ(m.Write(g.handle, 0, "x"), S::kInvalidHandle);
  EXPECT_EQ(m.CreateDirectory("t", "\\d"), S::kNotActive);
  EXPECT_EQ(m.CommittedFiles(), (std::map<std::string, std::string>{{"\\b", ""}}));
}

TEST(TxfModelTest, ParametersAndLimits) {
  TxfModel m(TxfModel::Options{.file_bytes_max = 8});
  EXPECT_EQ(m.CreateFile("", "\\a", false, false, D::kOpenExisting).status, S::kInvalidParameter);
  EXPECT_EQ(m.CreateFile("", "\\a", true, false, D::kCreateNew).status, S::kInvalidParameter);
  EXPECT_EQ(m.CreateFile("", "a", false, true, D::kCreateNew).status, S::kNameInvalid);
  EXPECT_EQ(m.CreateFile("", "\\a*", false, true, D::kCreateNew).status, S::kNameInvalid);
  TxfResult f = m.CreateFile("", "\\a", true, true, D::kCreateNew);
  EXPECT_EQ(m.Write(f.handle, 7, "xy"), S::kDiskFull);
  EXPECT_EQ(m.SetEndOfFile(f.handle, 9), S::kDiskFull);
  EXPECT_EQ(m.Write(f.handle, 6, "xy"), S::kOk);
  EXPECT_EQ(m.Read(f.handle, 0, 8).data, std::string("\0\0\0\0\0\0xy", 8));
  EXPECT_EQ(m.Read(999, 0, 1).status, S::kInvalidHandle);
  EXPECT_EQ(m.FindNext(f.handle).status, S::kTypeMismatch);
  EXPECT_EQ(TxfStatusName(S::kCantBreakDependency), std::string("CantBreakDependency"));
}

// Serial transactions of writes to whole files give the same committed
// files as applying the committed transactions' last writes to a map.
RC_GTEST_PROP(TxfModelProperties, SerialTransactionsMatchADirectReplay, ()) {
  TxfModel m;
  std::map<std::string, std::string> expected;
  int transactions = *rc::gen::inRange(1, 12);
  for (int t = 0; t < transactions; ++t) {
    std::string tx = "t" + std::to_string(t);
    RC_ASSERT(m.Begin(tx) == S::kOk);
    std::map<std::string, std::string> view = expected;
    int ops = *rc::gen::inRange(0, 6);
    for (int i = 0; i < ops; ++i) {
      std::string path = "\\f" + std::to_string(*rc::gen::inRange(0, 3));
      if (*rc::gen::arbitrary<bool>()) {
        std::string data = tx + "." + std::to_string(i);
        TxfResult h = m.CreateFile(tx, path, true, true, D::kCreateAlways);
        RC_ASSERT(TxfSucceeded(h.status));
        RC_ASSERT(m.Write(h.handle, 0, data) == S::kOk);
        RC_ASSERT(m.Read(h.handle, 0, 100).data == data);
        RC_ASSERT(m.Close(h.handle) == S::kOk);
        view[path] = data;
      } else {
        S s = m.Delete(tx, path);
        RC_ASSERT(s == (view.count(path) ? S::kOk : S::kNameNotFound));
        view.erase(path);
      }
    }
    if (*rc::gen::arbitrary<bool>()) {
      RC_ASSERT(m.Commit(tx) == S::kOk);
      expected = view;
    } else {
      RC_ASSERT(m.Rollback(tx) == S::kOk);
    }
    RC_ASSERT(m.CommittedFiles() == expected);
  }
}

}  // namespace
}  // namespace model
