// Unit tests of model::TxrModel, the sequential reference of the transacted
// registry: commit/rollback/crash, read committed + own pending changes,
// key-level conflicts, the rule that a non-transacted change rolls the
// transaction back, handle death and deleted keys, and a property that
// serial transactions match a direct replay on a plain map.
#include <map>
#include <string>

#include "gtest/gtest.h"
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "model/txr_model.h"

namespace model {
namespace {

using S = TxrStatus;
const TxrValue kOne{4, {1, 0, 0, 0}};
TxrValue Sz(const std::string& s) { return TxrValue{1, std::vector<uint8_t>(s.begin(), s.end())}; }

TEST(TxrModelTest, CreateCommitRollback) {
  TxrModel m;
  m.Begin("t");
  TxrResult k = m.CreateKey("t", TxrModel::kLocalMachine, "Software\\V\\App", TxrModel::kAllAccess);
  ASSERT_EQ(k.status, S::kOk);
  EXPECT_TRUE(k.created);
  EXPECT_FALSE(m.CreateKey("t", TxrModel::kLocalMachine, "Software\\V", TxrModel::kAllAccess).created);
  ASSERT_EQ(m.SetValue(k.handle, "v", Sz("x")), S::kOk);
  EXPECT_EQ(m.QueryValue(k.handle, "v").value, Sz("x"));
  EXPECT_EQ(m.OpenKey("", TxrModel::kLocalMachine, "Software\\V", 0x20019).status, S::kNameNotFound);
  ASSERT_EQ(m.Commit("t"), S::kOk);
  EXPECT_EQ(m.CommittedValues(), (std::map<std::string, TxrValue>{{"HKLM\\Software\\V\\App\\v", Sz("x")}}));
  EXPECT_EQ(m.SetValue(k.handle, "v", Sz("y")), S::kHandleNoLongerValid);
  m.Begin("r");
  TxrResult r = m.OpenKey("r", TxrModel::kLocalMachine, "Software\\V\\App", TxrModel::kAllAccess);
  ASSERT_EQ(m.DeleteValue(r.handle, "v"), S::kOk);
  ASSERT_EQ(m.Rollback("r"), S::kOk);
  EXPECT_EQ(m.CommittedValues().size(), 1u);
  EXPECT_EQ(m.CreateKey("", TxrModel::kLocalMachine, "Mine", TxrModel::kAllAccess).status, S::kAccessDenied);
  EXPECT_EQ(m.DeleteKey("", TxrModel::kLocalMachine, "Software"), S::kAccessDenied);
  EXPECT_EQ(m.DeleteKey("", TxrModel::kLocalMachine, "Software\\V"), S::kCannotDelete);
}

TEST(TxrModelTest, ConflictsAndTheNonTransactedRollbackRule) {
  TxrModel m;
  TxrResult plain = m.CreateKey("", TxrModel::kCurrentUser, "K", TxrModel::kAllAccess);
  m.Begin("a");
  m.Begin("b");
  TxrResult ka = m.CreateKey("a", TxrModel::kCurrentUser, "K", TxrModel::kAllAccess);
  TxrResult kb = m.CreateKey("b", TxrModel::kCurrentUser, "K", TxrModel::kAllAccess);
  ASSERT_EQ(m.SetValue(ka.handle, "v", kOne), S::kOk);
  EXPECT_EQ(m.SetValue(kb.handle, "w", kOne), S::kTransactionalConflict);
  EXPECT_EQ(m.QueryValue(kb.handle, "v").status, S::kNameNotFound);
  EXPECT_EQ(m.QueryValue(plain.handle, "v").status, S::kNameNotFound);
  ASSERT_EQ(m.SetValue(plain.handle, "v", Sz("outside")), S::kOk);  // rolls "a" back
  EXPECT_FALSE(m.Active("a"));
  EXPECT_TRUE(m.Doomed("a"));
  EXPECT_TRUE(m.Active("b"));
  EXPECT_EQ(m.QueryValue(ka.handle, "v").status, S::kHandleNoLongerValid);
  EXPECT_EQ(m.Commit("a"), S::kNotActive);
  EXPECT_EQ(m.SetValue(kb.handle, "w", kOne), S::kOk);  // the lock went with it
  ASSERT_EQ(m.Commit("b"), S::kOk);
  EXPECT_EQ(m.CommittedValues(),
            (std::map<std::string, TxrValue>{{"HKCU\\K\\v", Sz("outside")}, {"HKCU\\K\\w", kOne}}));
}

TEST(TxrModelTest, DeletedKeysAndEnumeration) {
  TxrModel m;
  TxrResult k = m.CreateKey("", TxrModel::kCurrentUser, "P\\B", TxrModel::kAllAccess);
  TxrResult p = m.OpenKey("", TxrModel::kCurrentUser, "P", TxrModel::kAllAccess);
  m.CreateKey("", TxrModel::kCurrentUser, "P\\A", TxrModel::kAllAccess);
  EXPECT_EQ(m.EnumKey(p.handle, 0).name, "A");
  EXPECT_EQ(m.EnumKey(p.handle, 1).name, "B");
  EXPECT_EQ(m.EnumKey(p.handle, 2).status, S::kNoMoreEntries);
  m.SetValue(k.handle, "z", kOne);
  m.SetValue(k.handle, "a", kOne);
  EXPECT_EQ(m.EnumValue(k.handle, 0).name, "a");
  ASSERT_EQ(m.DeleteKey("", TxrModel::kCurrentUser, "P\\B"), S::kOk);
  EXPECT_EQ(m.QueryValue(k.handle, "a").status, S::kKeyDeleted);
  m.CreateKey("", TxrModel::kCurrentUser, "P\\B", TxrModel::kAllAccess);
  EXPECT_EQ(m.QueryValue(k.handle, "a").status, S::kKeyDeleted);  // a new key under the old name
  EXPECT_EQ(m.CloseKey(k.handle), S::kOk);
  EXPECT_EQ(m.CloseKey(k.handle), S::kInvalidHandle);
  EXPECT_EQ(m.CloseKey(TxrModel::kUsers), S::kOk);
  m.Begin("t");
  TxrResult tk = m.CreateKey("t", TxrModel::kCurrentUser, "P\\C", TxrModel::kAllAccess);
  EXPECT_EQ(m.DeleteKey("", TxrModel::kCurrentUser, "P\\A"), S::kOk);
  EXPECT_TRUE(m.Active("t"));
  m.Crash();
  EXPECT_EQ(m.QueryValue(tk.handle, "a").status, S::kInvalidHandle);
  EXPECT_EQ(m.CommittedKeys().count("HKCU\\P\\C"), 0u);
  EXPECT_EQ(m.CommittedKeys().count("HKCU\\P\\B"), 1u);
}

TEST(TxrModelTest, ParametersAndAccess) {
  TxrModel m;
  EXPECT_EQ(m.CreateKey("", TxrModel::kCurrentUser, "X", 0).status, S::kInvalidParameter);
  EXPECT_EQ(m.CreateKey("", TxrModel::kCurrentUser, "\\X", TxrModel::kAllAccess).status, S::kNameInvalid);
  EXPECT_EQ(m.CreateKey("", 77, "X", TxrModel::kAllAccess).status, S::kInvalidHandle);
  TxrResult ro = m.CreateKey("", TxrModel::kCurrentUser, "X", 0x20019);
  EXPECT_EQ(m.SetValue(ro.handle, "v", kOne), S::kAccessDenied);
  EXPECT_EQ(m.CreateKey("", ro.handle, "Y", TxrModel::kAllAccess).status, S::kAccessDenied);
  TxrResult rw = m.OpenKey("", TxrModel::kCurrentUser, "X", TxrModel::kAllAccess);
  EXPECT_EQ(m.SetValue(rw.handle, "v", TxrValue{4, {1}}), S::kInvalidParameter);
  EXPECT_EQ(m.SetValue(rw.handle, "v", TxrValue{2, {1}}), S::kInvalidParameter);
  EXPECT_EQ(m.Begin(""), S::kInvalidParameter);
  EXPECT_EQ(m.CreateKey("nope", TxrModel::kCurrentUser, "X", TxrModel::kAllAccess).status,
            S::kUnknownTransaction);
  EXPECT_EQ(TxrStatusName(S::kKeyDeleted), std::string("KeyDeleted"));
}

RC_GTEST_PROP(TxrModelProperties, SerialTransactionsMatchADirectReplay, ()) {
  TxrModel m;
  TxrResult k = m.CreateKey("", TxrModel::kCurrentUser, "K", TxrModel::kAllAccess);
  RC_ASSERT(k.status == S::kOk);
  std::map<std::string, TxrValue> expected;
  int transactions = *rc::gen::inRange(1, 12);
  for (int t = 0; t < transactions; ++t) {
    std::string tx = "t" + std::to_string(t);
    RC_ASSERT(m.Begin(tx) == S::kOk);
    TxrResult h = m.OpenKey(tx, TxrModel::kCurrentUser, "K", TxrModel::kAllAccess);
    RC_ASSERT(h.status == S::kOk);
    std::map<std::string, TxrValue> view = expected;
    int ops = *rc::gen::inRange(0, 6);
    for (int i = 0; i < ops; ++i) {
      std::string name = "v" + std::to_string(*rc::gen::inRange(0, 3));
      if (*rc::gen::arbitrary<bool>()) {
        TxrValue value = Sz(tx + "." + std::to_string(i));
        RC_ASSERT(m.SetValue(h.handle, name, value) == S::kOk);
        view["HKCU\\K\\" + name] = value;
      } else {
        S s = m.DeleteValue(h.handle, name);
        RC_ASSERT(s == (view.count("HKCU\\K\\" + name) ? S::kOk : S::kNameNotFound));
        view.erase("HKCU\\K\\" + name);
      }
      TxrResult q = m.QueryValue(h.handle, name);
      RC_ASSERT(q.status == (view.count("HKCU\\K\\" + name) ? S::kOk : S::kNameNotFound));
    }
    if (*rc::gen::arbitrary<bool>()) {
      RC_ASSERT(m.Commit(tx) == S::kOk);
      expected = view;
    } else {
      RC_ASSERT(m.Rollback(tx) == S::kOk);
    }
    RC_ASSERT(m.CommittedValues() == expected);
  }
}

}  // namespace
}  // namespace model
