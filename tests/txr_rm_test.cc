// Unit tests of TxrRm (ktm/txr): every call's success path, misuse (bad,
// closed, dead and predefined handles, bad parameters and names, access
// rights), the isolation and conflict rules of ktm-api.md §7 (including the
// documented rule that a non-transacted change rolls the transaction back),
// the limits, the history trace events, and durability across crashes.
#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "ktm/api.h"
#include "tests/rm_observer_log.h"
#include "tests/txf_txr_rig.h"

namespace ktmtest {
namespace {

using namespace ktm;       // NOLINT
using namespace ktm::txr;  // NOLINT

TxfTxrRigConfig TxrOnly() {
  TxfTxrRigConfig c;
  c.kv = false;
  c.txf = false;
  return c;
}

class TxrTest : public ::testing::Test {
 protected:
  TxrTest() : rig_(31, TxrOnly()) {}

  TxrRm& reg() { return rig_.txr(); }

  HANDLE Create(HANDLE base, const std::string& sub, HANDLE tx = INVALID_HANDLE_VALUE,
                uint32_t access = KEY_ALL_ACCESS, uint32_t* disposition = nullptr) {
    HANDLE h = INVALID_HANDLE_VALUE;
    NTSTATUS s = reg().RegCreateKeyTransacted(base, sub, 0, access, &h, disposition, tx);
    EXPECT_EQ(s, STATUS_SUCCESS) << sub << ": " << StatusName(s);
    return h;
  }
  NTSTATUS TryOpen(HANDLE base, const std::string& sub, HANDLE tx = INVALID_HANDLE_VALUE) {
    HANDLE h = INVALID_HANDLE_VALUE;
    NTSTATUS s = reg().RegOpenKeyTransacted(base, sub, 0, KEY_READ, &h, tx);
    if (s == STATUS_SUCCESS) {
      EXPECT_EQ(reg().RegCloseKey(h), STATUS_SUCCESS);
    }
    return s;
  }
  // The value's text, "<absent>" when it does not exist, or the failing status.
  std::string Query(HANDLE key, const std::string& name) {
    uint32_t type = 0;
    std::vector<uint8_t> data;
    NTSTATUS s = reg().RegQueryValueEx(key, name, &type, &data);
    if (s == STATUS_OBJECT_NAME_NOT_FOUND) return "<absent>";
    if (s != STATUS_SUCCESS) return StatusName(s);
    return TxrRm::ValueText(type, data);
  }
  std::string Committed(const std::string& key_and_value) {
    auto c = reg().committed();
    auto it = c.find(key_and_value);
    return it == c.end() ? "<absent>" : it->second;
  }

  TxfTxrRig rig_;
};

// ---- success paths --------------------------------------------------------------------

TEST_F(TxrTest, CreateKeyMakesMissingIntermediatesAndReportsTheDisposition) {
  uint32_t disposition = 0;
  HANDLE tx = rig_.Begin();
  HANDLE k = Create(HKEY_LOCAL_MACHINE, "Software\\Vendor\\App", tx, KEY_ALL_ACCESS, &disposition);
  EXPECT_EQ(disposition, REG_CREATED_NEW_KEY);
  HANDLE again = Create(HKEY_LOCAL_MACHINE, "Software\\Vendor", tx, KEY_ALL_ACCESS, &disposition);
  EXPECT_EQ(disposition, REG_OPENED_EXISTING_KEY);
  EXPECT_EQ(TryOpen(HKEY_LOCAL_MACHINE, "Software\\Vendor"), STATUS_OBJECT_NAME_NOT_FOUND);  // invisible outside
  std::string name;
  ASSERT_EQ(reg().RegEnumKeyEx(again, 0, &name), STATUS_SUCCESS);
  EXPECT_EQ(name, "App");
  EXPECT_EQ(reg().RegEnumKeyEx(again, 1, &name), STATUS_NO_MORE_ENTRIES);
  ASSERT_EQ(reg().RegSetValueEx(k, "Name", REG_SZ, RegSz("ktmsim")), STATUS_SUCCESS);
  ASSERT_EQ(rig_.Commit(tx), STATUS_SUCCESS);
  EXPECT_EQ(TryOpen(HKEY_LOCAL_MACHINE, "Software\\Vendor\\App"), STATUS_SUCCESS);
  EXPECT_TRUE(reg().committed_keys().count("HKLM\\Software\\Vendor\\App"));
  EXPECT_EQ(reg().committed(),
            (std::map<std::string, std::string>{{"HKLM\\Software\\Vendor\\App\\Name", "REG_SZ:ktmsim"}}));
  HANDLE plain = Create(HKEY_LOCAL_MACHINE, "Software\\Vendor\\App", INVALID_HANDLE_VALUE, KEY_ALL_ACCESS,
                        &disposition);
  EXPECT_EQ(disposition, REG_OPENED_EXISTING_KEY);
  EXPECT_EQ(Query(plain, "Name"), "REG_SZ:ktmsim");
}

TEST_F(TxrTest, ValuesOfEveryTypeRoundTrip) {
  HANDLE k = Create(HKEY_CURRENT_USER, "Types");
  ASSERT_EQ(reg().RegSetValueEx(k, "", REG_SZ, RegSz("default")), STATUS_SUCCESS);
  ASSERT_EQ(reg().RegSetValueEx(k, "d", REG_DWORD, RegDword(0xDEADBEEF)), STATUS_SUCCESS);
  ASSERT_EQ(reg().RegSetValueEx(k, "b", REG_BINARY, {0x00, 0x7f, 0xff}), STATUS_SUCCESS);
  EXPECT_EQ(Query(k, ""), "REG_SZ:default");
  EXPECT_EQ(Query(k, "d"), "REG_DWORD:3735928559");
  EXPECT_EQ(Query(k, "b"), "REG_BINARY:007fff");
  uint32_t type = 0;
  EXPECT_EQ(reg().RegQueryValueEx(k, "d", &type, nullptr), STATUS_SUCCESS);  // outputs are optional
  EXPECT_EQ(type, REG_DWORD);
  std::vector<std::string> names;
  std::string name;
  std::vector<uint8_t> data;
  for (uint32_t i = 0; reg().RegEnumValue(k, i, &name, &type, &data) == STATUS_SUCCESS; ++i) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"", "b", "d"}));
  EXPECT_EQ(reg().RegEnumValue(k, 3, &name, nullptr, nullptr), STATUS_NO_MORE_ENTRIES);
  ASSERT_EQ(reg().RegSetValueEx(k, "d", REG_SZ, RegSz("now text")), STATUS_SUCCESS);  // replace, new type
  EXPECT_EQ(Query(k, "d"), "REG_SZ:now text");
  ASSERT_EQ(reg().RegDeleteValue(k, "d"), STATUS_SUCCESS);
  EXPECT_EQ(Query(k, "d"), "<absent>");
  EXPECT_EQ(reg().RegDeleteValue(k, "d"), STATUS_OBJECT_NAME_NOT_FOUND);
}

TEST_F(TxrTest, ReadCommittedPlusOwnPendingChanges) {
  HANDLE plain = Create(HKEY_CURRENT_USER, "K");
  ASSERT_EQ(reg().RegSetValueEx(plain, "v", REG_SZ, RegSz("committed")), STATUS_SUCCESS);
  HANDLE tx = rig_.Begin();
  HANDLE mine = Create(HKEY_CURRENT_USER, "K", tx);
  HANDLE other_tx = rig_.Begin();
  HANDLE theirs = Create(HKEY_CURRENT_USER, "K", other_tx, KEY_READ);
  ASSERT_EQ(reg().RegSetValueEx(mine, "v", REG_SZ, RegSz("pending")), STATUS_SUCCESS);
  ASSERT_EQ(reg().RegSetValueEx(mine, "new", REG_DWORD, RegDword(7)), STATUS_SUCCESS);
  EXPECT_EQ(Query(mine, "v"), "REG_SZ:pending");
  EXPECT_EQ(Query(theirs, "v"), "REG_SZ:committed");
  EXPECT_EQ(Query(plain, "new"), "<absent>");
  ASSERT_EQ(rig_.Commit(tx), STATUS_SUCCESS);
  EXPECT_EQ(Query(theirs, "v"), "REG_SZ:pending");  // read committed, not a snapshot
  EXPECT_EQ(Query(plain, "new"), "REG_DWORD:7");
}

TEST_F(TxrTest, RollbackDiscardsEveryChange) {
  HANDLE plain = Create(HKEY_CURRENT_USER, "K\\Child");
  ASSERT_EQ(reg().RegSetValueEx(plain, "v", REG_SZ, RegSz("keep")), STATUS_SUCCESS);
  HANDLE tx = rig_.Begin();
  HANDLE k = Create(HKEY_CURRENT_USER, "K\\Child", tx);
  ASSERT_EQ(reg().RegSetValueEx(k, "v", REG_SZ, RegSz("gone")), STATUS_SUCCESS);
  Create(HKEY_CURRENT_USER, "K\\New\\Deep", tx);
  ASSERT_EQ(reg().RegDeleteKeyTransacted(HKEY_CURRENT_USER, "K\\New\\Deep", 0, tx), STATUS_SUCCESS);
  ASSERT_EQ(rig_.Rollback(tx), STATUS_SUCCESS);
  EXPECT_EQ(Committed("HKCU\\K\\Child\\v"), "REG_SZ:keep");
  EXPECT_FALSE(reg().committed_keys().count("HKCU\\K\\New"));
  EXPECT_EQ(reg().RegSetValueEx(plain, "v", REG_SZ, RegSz("free")), STATUS_SUCCESS);  // lock released
}

TEST_F(TxrTest, DeleteKeyRefusesKeysWithSubkeysAndProtectedKeys) {
  Create(HKEY_CURRENT_USER, "A\\B");
  EXPECT_EQ(reg().RegDeleteKeyTransacted(HKEY_CURRENT_USER, "A", 0, INVALID_HANDLE_VALUE), STATUS_CANNOT_DELETE);
  EXPECT_EQ(reg().RegDeleteKeyTransacted(HKEY_CURRENT_USER, "Nope", 0, INVALID_HANDLE_VALUE),
            STATUS_OBJECT_NAME_NOT_FOUND);
  EXPECT_EQ(reg().RegDeleteKeyTransacted(HKEY_LOCAL_MACHINE, "Software", 0, INVALID_HANDLE_VALUE),
            STATUS_ACCESS_DENIED);
  EXPECT_EQ(reg().RegDeleteKeyTransacted(HKEY_USERS, "", 0, INVALID_HANDLE_VALUE), STATUS_ACCESS_DENIED);
  HANDLE tx = rig_.Begin();
  ASSERT_EQ(reg().RegDeleteKeyTransacted(HKEY_CURRENT_USER, "A\\B", 0, tx), STATUS_SUCCESS);
  ASSERT_EQ(reg().RegDeleteKeyTransacted(HKEY_CURRENT_USER, "A", KEY_WOW64_64KEY, tx), STATUS_SUCCESS);
  EXPECT_EQ(TryOpen(HKEY_CURRENT_USER, "A\\B"), STATUS_SUCCESS);  // visible outside until commit
  EXPECT_EQ(TryOpen(HKEY_CURRENT_USER, "A", tx), STATUS_OBJECT_NAME_NOT_FOUND);
  ASSERT_EQ(rig_.Commit(tx), STATUS_SUCCESS);
  EXPECT_EQ(reg().committed_keys(), (std::set<std::string>{"HKCR", "HKCU", "HKLM", "HKU", "HKLM\\Software",
                                                           "HKLM\\System", "HKU\\.DEFAULT"}));
  // Deleting through a key's own handle ("" = the key itself).
  HANDLE c = Create(HKEY_CURRENT_USER, "C");
  ASSERT_EQ(reg().RegDeleteKeyTransacted(c, "", 0, INVALID_HANDLE_VALUE), STATUS_SUCCESS);
  EXPECT_EQ(Query(c, "x"), StatusName(STATUS_KEY_DELETED));
}

TEST_F(TxrTest, DirectChildrenOfHklmAndHkuCannotBeCreated) {
  HANDLE h;
  EXPECT_EQ(reg().RegCreateKeyTransacted(HKEY_LOCAL_MACHINE, "Mine", 0, KEY_ALL_ACCESS, &h, nullptr,
                                         INVALID_HANDLE_VALUE),
            STATUS_ACCESS_DENIED);
  EXPECT_EQ(reg().RegCreateKeyTransacted(HKEY_USERS, "S-1\\X", 0, KEY_ALL_ACCESS, &h, nullptr, rig_.Begin()),
            STATUS_ACCESS_DENIED);
  EXPECT_EQ(reg().RegCreateKeyTransacted(HKEY_LOCAL_MACHINE, "System\\Ok", 0, KEY_ALL_ACCESS, &h, nullptr,
                                         INVALID_HANDLE_VALUE),
            STATUS_SUCCESS);
  EXPECT_EQ(reg().RegCreateKeyTransacted(HKEY_CLASSES_ROOT, ".txt", 0, KEY_ALL_ACCESS, &h, nullptr,
                                         INVALID_HANDLE_VALUE),
            STATUS_SUCCESS);
  // Predefined keys: read-only values, closing is a no-op.
  EXPECT_EQ(reg().RegSetValueEx(HKEY_LOCAL_MACHINE, "v", REG_SZ, RegSz("x")), STATUS_ACCESS_DENIED);
  EXPECT_EQ(Query(HKEY_LOCAL_MACHINE, "v"), "<absent>");
  EXPECT_EQ(reg().RegCloseKey(HKEY_LOCAL_MACHINE), STATUS_SUCCESS);
  std::string name;
  ASSERT_EQ(reg().RegEnumKeyEx(HKEY_LOCAL_MACHINE, 0, &name), STATUS_SUCCESS);
  EXPECT_EQ(name, "Software");
}

// ---- conflicts ---------------------------------------------------------------------------

TEST_F(TxrTest, SecondTransactionChangingAKeyConflicts) {
  Create(HKEY_CURRENT_USER, "K");
  HANDLE t1 = rig_.Begin(), t2 = rig_.Begin();
  HANDLE k1 = Create(HKEY_CURRENT_USER, "K", t1), k2 = Create(HKEY_CURRENT_USER, "K", t2);
  ASSERT_EQ(reg().RegSetValueEx(k1, "a", REG_SZ, RegSz("1")), STATUS_SUCCESS);
  EXPECT_EQ(reg().RegSetValueEx(k2, "b", REG_SZ, RegSz("2")), STATUS_TRANSACTIONAL_CONFLICT);  // same key
  EXPECT_EQ(reg().RegDeleteKeyTransacted(HKEY_CURRENT_USER, "K", 0, t2), STATUS_TRANSACTIONAL_CONFLICT);
  EXPECT_EQ(Query(k2, "a"), "<absent>");
  // A key created in a transaction is reserved.
  Create(HKEY_CURRENT_USER, "New", t1);
  HANDLE h;
  EXPECT_EQ(reg().RegCreateKeyTransacted(HKEY_CURRENT_USER, "New", 0, KEY_ALL_ACCESS, &h, nullptr, t2),
            STATUS_TRANSACTIONAL_CONFLICT);
  // Deleting a key another transaction creates children under: conflict.
  Create(HKEY_CURRENT_USER, "P");
  Create(HKEY_CURRENT_USER, "P\\C", t1);
  EXPECT_EQ(reg().RegDeleteKeyTransacted(HKEY_CURRENT_USER, "P", 0, t2), STATUS_TRANSACTIONAL_CONFLICT);
  // Siblings are independent.
  HANDLE s = Create(HKEY_CURRENT_USER, "P\\D", t2);
  EXPECT_EQ(reg().RegSetValueEx(s, "x", REG_SZ, RegSz("y")), STATUS_SUCCESS);
  ASSERT_EQ(rig_.Commit(t1), STATUS_SUCCESS);
  ASSERT_EQ(rig_.Commit(t2), STATUS_SUCCESS);
  EXPECT_EQ(Committed("HKCU\\K\\a"), "REG_SZ:1");
  EXPECT_EQ(Committed("HKCU\\P\\D\\x"), "REG_SZ:y");
}

TEST_F(TxrTest, NonTransactedWriteRollsTheTransactionBackAndSucceeds) {
  HANDLE plain = Create(HKEY_CURRENT_USER, "K");
  HANDLE tx = rig_.Begin();
  HANDLE k = Create(HKEY_CURRENT_USER, "K", tx);
  ASSERT_EQ(reg().RegSetValueEx(k, "v", REG_SZ, RegSz("tx")), STATUS_SUCCESS);
  HANDLE elsewhere = Create(HKEY_CURRENT_USER, "Elsewhere", tx);
  ObserverLog log;
  rig_.set_observer(&log);
  EXPECT_EQ(reg().RegSetValueEx(plain, "v", REG_SZ, RegSz("outside")), STATUS_SUCCESS);
  EXPECT_EQ(log.lines(), (std::vector<std::string>{"vote rm=txr vote=no why=nontx_write", "aborted rm=txr why=nontx_write"}));
  rig_.set_observer(nullptr);
  // A key bound to a rolled-back transaction: Windows' registry calls fail
  // with ERROR_TRANSACTION_NOT_ACTIVE (its NTSTATUS: TRANSACTION_NOT_ACTIVE).
  EXPECT_EQ(reg().RegSetValueEx(k, "v", REG_SZ, RegSz("again")), STATUS_TRANSACTION_NOT_ACTIVE);
  EXPECT_EQ(Query(elsewhere, "x"), StatusName(STATUS_TRANSACTION_NOT_ACTIVE));
  EXPECT_EQ(TryOpen(HKEY_CURRENT_USER, "K", tx), STATUS_TRANSACTION_NOT_ACTIVE);
  EXPECT_EQ(rig_.Commit(tx), STATUS_TRANSACTION_ALREADY_ABORTED);
  EXPECT_EQ(Committed("HKCU\\K\\v"), "REG_SZ:outside");
  EXPECT_FALSE(reg().committed_keys().count("HKCU\\Elsewhere"));
  // Every kind of non-transacted change does it: create over a reserved key,
  // create under a key being deleted, delete of a key with pending children.
  HANDLE t1 = rig_.Begin(), t2 = rig_.Begin(), t3 = rig_.Begin();
  Create(HKEY_CURRENT_USER, "Reserved", t1);
  ASSERT_EQ(reg().RegDeleteKeyTransacted(HKEY_CURRENT_USER, "K", 0, t2), STATUS_SUCCESS);
  Create(HKEY_CURRENT_USER, "Elsewhere\\Pending", t3);
  uint32_t disposition = 0;
  Create(HKEY_CURRENT_USER, "Reserved", INVALID_HANDLE_VALUE, KEY_ALL_ACCESS, &disposition);
  EXPECT_EQ(disposition, REG_CREATED_NEW_KEY);
  Create(HKEY_CURRENT_USER, "K\\Sub");
  Create(HKEY_CURRENT_USER, "Elsewhere");
  ASSERT_EQ(reg().RegDeleteKeyTransacted(HKEY_CURRENT_USER, "Elsewhere", 0, INVALID_HANDLE_VALUE), STATUS_SUCCESS);
  for (HANDLE t : {t1, t2, t3}) EXPECT_EQ(rig_.Commit(t), STATUS_TRANSACTION_ALREADY_ABORTED);
  EXPECT_TRUE(reg().committed_keys().count("HKCU\\K\\Sub"));
  // Reads do not count.
  HANDLE t4 = rig_.Begin();
  HANDLE k4 = Create(HKEY_CURRENT_USER, "K", t4);
  ASSERT_EQ(reg().RegSetValueEx(k4, "w", REG_SZ, RegSz("t4")), STATUS_SUCCESS);
  EXPECT_EQ(Query(plain, "w"), "<absent>");
  EXPECT_EQ(rig_.Commit(t4), STATUS_SUCCESS);
}

TEST(TxrConflicts, NonTransactedWriteToAPreparingTransactionsKeyConflicts) {
  TxfTxrRigConfig config = TxrOnly();
  config.kv = true;  // a second RM: two-phase commit
  TxfTxrRig rig(32, config);
  HANDLE plain = INVALID_HANDLE_VALUE, k = INVALID_HANDLE_VALUE;
  ASSERT_EQ(rig.txr().RegCreateKeyTransacted(HKEY_CURRENT_USER, "K", 0, KEY_ALL_ACCESS, &plain, nullptr,
                                             INVALID_HANDLE_VALUE),
            STATUS_SUCCESS);
  HANDLE tx = rig.Begin();
  ASSERT_EQ(rig.txr().RegCreateKeyTransacted(HKEY_CURRENT_USER, "K", 0, KEY_ALL_ACCESS, &k, nullptr, tx),
            STATUS_SUCCESS);
  ASSERT_EQ(rig.txr().RegSetValueEx(k, "v", REG_SZ, RegSz("tx")), STATUS_SUCCESS);
  ASSERT_EQ(rig.kv().Write(tx, "k", "tx"), STATUS_SUCCESS);
  // Stop right after TxR voted yes (its prepare record is durable).
  bool stop = false;
  ObserverLog log;
  log.on_line = [&](const std::string& line) { stop = stop || line == "vote rm=txr vote=yes"; };
  rig.set_observer(&log);
  std::optional<NTSTATUS> outcome;
  CommitTransaction(rig.k(), tx, [&](NTSTATUS s) { outcome = s; });
  while (!stop && rig.world().scheduler().Step()) {
  }
  rig.world().trace().set_observer(nullptr);
  ASSERT_TRUE(stop);
  EXPECT_EQ(rig.txr().RegSetValueEx(plain, "v", REG_SZ, RegSz("outside")), STATUS_TRANSACTIONAL_CONFLICT);
  EXPECT_EQ(rig.txr().RegSetValueEx(k, "v", REG_SZ, RegSz("late")), STATUS_TRANSACTION_NOT_ACTIVE);
  rig.Settle();
  EXPECT_EQ(outcome, STATUS_SUCCESS);
  EXPECT_EQ(rig.txr().committed().at("HKCU\\K\\v"), "REG_SZ:tx");
  EXPECT_EQ(rig.txr().RegSetValueEx(plain, "v", REG_SZ, RegSz("outside")), STATUS_SUCCESS);
}

TEST_F(TxrTest, HandlesDieWhenTheTransactionEnds) {
  Create(HKEY_CURRENT_USER, "K");
  for (bool commit : {true, false}) {
    HANDLE tx = rig_.Begin();
    HANDLE k = Create(HKEY_CURRENT_USER, "K", tx);
    ASSERT_EQ(reg().RegSetValueEx(k, "v", REG_DWORD, RegDword(commit)), STATUS_SUCCESS);
    ASSERT_EQ(commit ? rig_.Commit(tx) : rig_.Rollback(tx), STATUS_SUCCESS);
    std::string name;
    uint32_t type;
    std::vector<uint8_t> data;
    HANDLE h;
    // ERROR_TRANSACTION_NOT_ACTIVE through a key of an ended transaction.
    EXPECT_EQ(reg().RegSetValueEx(k, "v", REG_DWORD, RegDword(2)), STATUS_TRANSACTION_NOT_ACTIVE);
    EXPECT_EQ(reg().RegQueryValueEx(k, "v", &type, &data), STATUS_TRANSACTION_NOT_ACTIVE);
    EXPECT_EQ(reg().RegDeleteValue(k, "v"), STATUS_TRANSACTION_NOT_ACTIVE);
    EXPECT_EQ(reg().RegEnumKeyEx(k, 0, &name), STATUS_TRANSACTION_NOT_ACTIVE);
    EXPECT_EQ(reg().RegEnumValue(k, 0, &name, &type, &data), STATUS_TRANSACTION_NOT_ACTIVE);
    EXPECT_EQ(reg().RegOpenKeyTransacted(k, "", 0, KEY_READ, &h, INVALID_HANDLE_VALUE), STATUS_TRANSACTION_NOT_ACTIVE);
    EXPECT_EQ(reg().RegDeleteKeyTransacted(k, "", 0, INVALID_HANDLE_VALUE), STATUS_TRANSACTION_NOT_ACTIVE);
    EXPECT_EQ(reg().RegCreateKeyTransacted(HKEY_CURRENT_USER, "K", 0, KEY_READ, &h, nullptr, tx),
              STATUS_TRANSACTION_NOT_ACTIVE);
    EXPECT_EQ(reg().RegCloseKey(k), STATUS_SUCCESS);
    EXPECT_EQ(reg().RegCloseKey(k), STATUS_INVALID_HANDLE);
  }
  EXPECT_EQ(Committed("HKCU\\K\\v"), "REG_DWORD:1");
}

TEST_F(TxrTest, HandlesOfDeletedKeysReportKeyDeleted) {
  HANDLE plain = Create(HKEY_CURRENT_USER, "K");
  HANDLE tx = rig_.Begin();
  HANDLE k = Create(HKEY_CURRENT_USER, "K", tx);
  ASSERT_EQ(reg().RegDeleteKeyTransacted(HKEY_CURRENT_USER, "K", 0, tx), STATUS_SUCCESS);
  EXPECT_EQ(reg().RegSetValueEx(k, "v", REG_SZ, RegSz("x")), STATUS_KEY_DELETED);
  HANDLE h;
  EXPECT_EQ(reg().RegCreateKeyTransacted(k, "Sub", 0, KEY_ALL_ACCESS, &h, nullptr, tx), STATUS_KEY_DELETED);
  EXPECT_EQ(Query(plain, "v"), "<absent>");  // still there outside
  Create(HKEY_CURRENT_USER, "K", tx);        // re-created inside: a new key
  EXPECT_EQ(Query(k, "v"), StatusName(STATUS_KEY_DELETED));
  ASSERT_EQ(rig_.Commit(tx), STATUS_SUCCESS);
  EXPECT_EQ(Query(plain, "v"), StatusName(STATUS_KEY_DELETED));
  std::string name;
  EXPECT_EQ(reg().RegEnumKeyEx(plain, 0, &name), STATUS_KEY_DELETED);
  EXPECT_EQ(TryOpen(HKEY_CURRENT_USER, "K"), STATUS_SUCCESS);
}

// ---- misuse ---------------------------------------------------------------------------------

TEST_F(TxrTest, BadHandlesParametersNamesAndAccess) {
  HANDLE h = INVALID_HANDLE_VALUE;
  std::string name;
  uint32_t type;
  std::vector<uint8_t> data;
  for (HANDLE bad : {HANDLE{0}, HANDLE{4}, HANDLE{0x80000004}, rig_.tm()}) {
    EXPECT_EQ(reg().RegCreateKeyTransacted(bad, "X", 0, KEY_ALL_ACCESS, &h, nullptr, INVALID_HANDLE_VALUE),
              STATUS_INVALID_HANDLE);
    EXPECT_EQ(reg().RegOpenKeyTransacted(bad, "X", 0, KEY_READ, &h, INVALID_HANDLE_VALUE), STATUS_INVALID_HANDLE);
    EXPECT_EQ(reg().RegDeleteKeyTransacted(bad, "X", 0, INVALID_HANDLE_VALUE), STATUS_INVALID_HANDLE);
    EXPECT_EQ(reg().RegSetValueEx(bad, "v", REG_SZ, RegSz("x")), STATUS_INVALID_HANDLE);
    EXPECT_EQ(reg().RegQueryValueEx(bad, "v", &type, &data), STATUS_INVALID_HANDLE);
    EXPECT_EQ(reg().RegDeleteValue(bad, "v"), STATUS_INVALID_HANDLE);
    EXPECT_EQ(reg().RegEnumKeyEx(bad, 0, &name), STATUS_INVALID_HANDLE);
    EXPECT_EQ(reg().RegEnumValue(bad, 0, &name, &type, &data), STATUS_INVALID_HANDLE);
    EXPECT_EQ(reg().RegCloseKey(bad), STATUS_INVALID_HANDLE);
  }
  // Parameters.
  EXPECT_EQ(reg().RegCreateKeyTransacted(HKEY_CURRENT_USER, "X", 0, KEY_ALL_ACCESS, nullptr, nullptr,
                                         INVALID_HANDLE_VALUE),
            STATUS_INVALID_PARAMETER);
  EXPECT_EQ(reg().RegCreateKeyTransacted(HKEY_CURRENT_USER, "X", 2 /* no such option */, KEY_ALL_ACCESS, &h, nullptr,
                                         INVALID_HANDLE_VALUE),
            STATUS_INVALID_PARAMETER);
  EXPECT_EQ(reg().RegCreateKeyTransacted(HKEY_CURRENT_USER, "X", 0, 0, &h, nullptr, INVALID_HANDLE_VALUE),
            STATUS_INVALID_PARAMETER);
  EXPECT_EQ(reg().RegCreateKeyTransacted(HKEY_CURRENT_USER, "X", 0, 0x10000000, &h, nullptr, INVALID_HANDLE_VALUE),
            STATUS_INVALID_PARAMETER);
  EXPECT_EQ(reg().RegOpenKeyTransacted(HKEY_CURRENT_USER, "", 1, KEY_READ, &h, INVALID_HANDLE_VALUE),
            STATUS_INVALID_PARAMETER);
  EXPECT_EQ(reg().RegOpenKeyTransacted(HKEY_CURRENT_USER, "", 0, KEY_READ, nullptr, INVALID_HANDLE_VALUE),
            STATUS_INVALID_PARAMETER);
  EXPECT_EQ(reg().RegDeleteKeyTransacted(HKEY_CURRENT_USER, "X", KEY_READ, INVALID_HANDLE_VALUE),
            STATUS_INVALID_PARAMETER);
  std::string deep = "L";
  for (int i = 1; i < 33; ++i) deep += "\\L";
  EXPECT_EQ(reg().RegCreateKeyTransacted(HKEY_CURRENT_USER, deep, 0, KEY_ALL_ACCESS, &h, nullptr,
                                         INVALID_HANDLE_VALUE),
            STATUS_INVALID_PARAMETER);  // 33 levels
  EXPECT_EQ(reg().RegCreateKeyTransacted(HKEY_CURRENT_USER, deep.substr(2), 0, KEY_ALL_ACCESS, &h, nullptr,
                                         INVALID_HANDLE_VALUE),
            STATUS_SUCCESS);  // 32 levels
  for (const std::string& bad : {std::string("\\X"), std::string("X\\"), std::string("X\\\\Y"),
                                 std::string("X\nY"), std::string(256, 'n')}) {
    EXPECT_EQ(reg().RegCreateKeyTransacted(HKEY_CURRENT_USER, bad, 0, KEY_ALL_ACCESS, &h, nullptr,
                                           INVALID_HANDLE_VALUE),
              STATUS_OBJECT_NAME_INVALID);
    EXPECT_EQ(reg().RegOpenKeyTransacted(HKEY_CURRENT_USER, bad, 0, KEY_READ, &h, INVALID_HANDLE_VALUE),
              STATUS_OBJECT_NAME_INVALID);
    EXPECT_EQ(reg().RegDeleteKeyTransacted(HKEY_CURRENT_USER, bad, 0, INVALID_HANDLE_VALUE),
              STATUS_OBJECT_NAME_INVALID);
  }
  HANDLE k = Create(HKEY_CURRENT_USER, "K");
  EXPECT_EQ(reg().RegSetValueEx(k, "v", 2 /* REG_EXPAND_SZ */, RegSz("x")), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(reg().RegSetValueEx(k, "v", REG_DWORD, {1, 2, 3}), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(reg().RegSetValueEx(k, std::string(16384, 'v'), REG_SZ, RegSz("x")), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(reg().RegSetValueEx(k, "v", REG_BINARY, std::vector<uint8_t>(2049)), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(reg().RegEnumKeyEx(k, 0, nullptr), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(reg().RegEnumValue(k, 0, nullptr, &type, &data), STATUS_INVALID_PARAMETER);
  // Access rights.
  HANDLE ro = Create(HKEY_CURRENT_USER, "K", INVALID_HANDLE_VALUE, KEY_READ);
  HANDLE wo = Create(HKEY_CURRENT_USER, "K", INVALID_HANDLE_VALUE, KEY_SET_VALUE);
  EXPECT_EQ(reg().RegSetValueEx(ro, "v", REG_SZ, RegSz("x")), STATUS_ACCESS_DENIED);
  EXPECT_EQ(reg().RegDeleteValue(ro, "v"), STATUS_ACCESS_DENIED);
  EXPECT_EQ(reg().RegCreateKeyTransacted(ro, "Sub", 0, KEY_ALL_ACCESS, &h, nullptr, INVALID_HANDLE_VALUE),
            STATUS_ACCESS_DENIED);
  EXPECT_EQ(reg().RegQueryValueEx(wo, "v", &type, &data), STATUS_ACCESS_DENIED);
  EXPECT_EQ(reg().RegEnumValue(wo, 0, &name, &type, &data), STATUS_ACCESS_DENIED);
  EXPECT_EQ(reg().RegEnumKeyEx(wo, 0, &name), STATUS_ACCESS_DENIED);
  EXPECT_EQ(reg().RegSetValueEx(wo, "v", REG_SZ, RegSz("x")), STATUS_SUCCESS);
  // Transaction handles.
  EXPECT_EQ(reg().RegCreateKeyTransacted(HKEY_CURRENT_USER, "X", 0, KEY_ALL_ACCESS, &h, nullptr, k),
            STATUS_INVALID_HANDLE);
  EXPECT_EQ(reg().RegCreateKeyTransacted(HKEY_CURRENT_USER, "X", 0, KEY_ALL_ACCESS, &h, nullptr, rig_.tm()),
            STATUS_OBJECT_TYPE_MISMATCH);
  ASSERT_EQ(reg().RegCloseKey(k), STATUS_SUCCESS);
  EXPECT_EQ(reg().RegQueryValueEx(k, "v", &type, &data), STATUS_INVALID_HANDLE);
}

TEST_F(TxrTest, LimitsAreEnforced) {
  HANDLE k = Create(HKEY_CURRENT_USER, "K");
  std::vector<uint8_t> big(2000, 7);
  NTSTATUS s = STATUS_SUCCESS;
  int n = 0;
  for (; n < 40 && (s = reg().RegSetValueEx(k, "v" + std::to_string(n), REG_BINARY, big)) == STATUS_SUCCESS; ++n) {
  }
  // registry_bytes_max = 32 KiB: 7 fixed keys (170 bytes), K (23), 16 values of 2014-2015 bytes.
  EXPECT_EQ(s, STATUS_DISK_FULL);
  EXPECT_EQ(n, 16);
  // A transaction's change carries the key's whole new state: it must fit next to the committed one.
  HANDLE tx = rig_.Begin();
  HANDLE kt = Create(HKEY_CURRENT_USER, "K", tx);
  EXPECT_EQ(reg().RegSetValueEx(kt, "small", REG_DWORD, RegDword(1)), STATUS_DISK_FULL);
  for (int i = 0; i < 9; ++i) ASSERT_EQ(reg().RegDeleteValue(k, "v" + std::to_string(i)), STATUS_SUCCESS);
  EXPECT_EQ(reg().RegSetValueEx(kt, "small", REG_DWORD, RegDword(1)), STATUS_SUCCESS);
  ASSERT_EQ(rig_.Commit(tx), STATUS_SUCCESS);
  EXPECT_EQ(Committed("HKCU\\K\\small"), "REG_DWORD:1");
  // handles_max.
  TxfTxrRigConfig small = TxrOnly();
  small.txr_options.handles_max = 2;
  TxfTxrRig rig2(33, small);
  HANDLE a, b, c;
  ASSERT_EQ(rig2.txr().RegOpenKeyTransacted(HKEY_CURRENT_USER, "", 0, KEY_READ, &a, INVALID_HANDLE_VALUE),
            STATUS_SUCCESS);
  ASSERT_EQ(rig2.txr().RegCreateKeyTransacted(HKEY_CURRENT_USER, "X", 0, KEY_READ, &b, nullptr, INVALID_HANDLE_VALUE),
            STATUS_SUCCESS);
  EXPECT_EQ(rig2.txr().RegOpenKeyTransacted(HKEY_CURRENT_USER, "", 0, KEY_READ, &c, INVALID_HANDLE_VALUE),
            STATUS_INSUFFICIENT_RESOURCES);
  EXPECT_EQ(rig2.txr().RegCreateKeyTransacted(HKEY_CURRENT_USER, "Y", 0, KEY_READ, &c, nullptr, INVALID_HANDLE_VALUE),
            STATUS_INSUFFICIENT_RESOURCES);
  EXPECT_FALSE(rig2.txr().committed_keys().count("HKCU\\Y"));
  ASSERT_EQ(rig2.txr().RegCloseKey(a), STATUS_SUCCESS);
  EXPECT_EQ(rig2.txr().RegOpenKeyTransacted(HKEY_CURRENT_USER, "", 0, KEY_READ, &c, INVALID_HANDLE_VALUE),
            STATUS_SUCCESS);
}

// ---- history events ---------------------------------------------------------------------------

TEST_F(TxrTest, HistoryReportsGoThroughTheTypedObserver) {
  HANDLE plain = Create(HKEY_CURRENT_USER, "K");
  ASSERT_EQ(reg().RegSetValueEx(plain, "old", REG_DWORD, RegDword(1)), STATUS_SUCCESS);
  ObserverLog log;
  rig_.set_observer(&log);
  // No history kind of another RM's name in the trace ("kv.*" was the old seam).
  rig_.world().trace().set_observer(
      [&](const sim::TraceEvent& e) { EXPECT_NE(e.kind.rfind("kv.", 0), 0u) << e.kind; });
  HANDLE tx = rig_.Begin();
  HANDLE k = Create(HKEY_CURRENT_USER, "K", tx);
  ASSERT_EQ(reg().RegSetValueEx(k, "v", REG_SZ, RegSz("s1")), STATUS_SUCCESS);
  EXPECT_EQ(Query(k, "v"), "REG_SZ:s1");
  EXPECT_EQ(Query(k, "none"), "<absent>");
  std::string name;
  ASSERT_EQ(reg().RegEnumValue(k, 0, &name, nullptr, nullptr), STATUS_SUCCESS);
  ASSERT_EQ(reg().RegDeleteKeyTransacted(HKEY_CURRENT_USER, "K", 0, tx), STATUS_SUCCESS);
  ASSERT_EQ(rig_.Commit(tx), STATUS_SUCCESS);
  rig_.world().trace().set_observer(nullptr);
  rig_.set_observer(nullptr);
  EXPECT_EQ(log.lines(), (std::vector<std::string>{
                             "enlist rm=txr",
                             "write rm=txr key=HKCU\\K\\v value=REG_SZ:s1",
                             "read rm=txr key=HKCU\\K\\v value=REG_SZ:s1",
                             "read rm=txr key=HKCU\\K\\none",
                             "read rm=txr key=HKCU\\K\\old value=REG_DWORD:1",
                             "write rm=txr key=HKCU\\K\\old",
                             "write rm=txr key=HKCU\\K\\v",
                             "notify rm=txr n=SINGLE_PHASE_COMMIT",
                             "vote rm=txr vote=spc",
                             "committed rm=txr",
                         }));
  EXPECT_TRUE(reg().committed().empty());
}

// ---- durability ----------------------------------------------------------------------------------

TEST(TxrDurability, CommittedStateSurvivesACrashAndNothingElseDoes) {
  TxfTxrRig rig(41, TxrOnly());
  HANDLE tx = rig.Begin(), k = INVALID_HANDLE_VALUE;
  ASSERT_EQ(rig.txr().RegCreateKeyTransacted(HKEY_CURRENT_USER, "Kept\\Deep", 0, KEY_ALL_ACCESS, &k, nullptr, tx),
            STATUS_SUCCESS);
  ASSERT_EQ(rig.txr().RegSetValueEx(k, "v", REG_BINARY, {1, 2}), STATUS_SUCCESS);
  ASSERT_EQ(rig.Commit(tx), STATUS_SUCCESS);
  ASSERT_EQ(rig.txr().RegCreateKeyTransacted(HKEY_CURRENT_USER, "NonTx", 0, KEY_ALL_ACCESS, &k, nullptr,
                                             INVALID_HANDLE_VALUE),
            STATUS_SUCCESS);
  ASSERT_EQ(rig.txr().RegSetValueEx(k, "n", REG_DWORD, RegDword(5)), STATUS_SUCCESS);
  HANDLE active = rig.Begin();
  ASSERT_EQ(rig.txr().RegCreateKeyTransacted(HKEY_CURRENT_USER, "Active", 0, KEY_ALL_ACCESS, &k, nullptr, active),
            STATUS_SUCCESS);
  ASSERT_EQ(rig.txr().RegSetValueEx(k, "a", REG_DWORD, RegDword(5)), STATUS_SUCCESS);
  rig.Settle();
  auto values = rig.txr().committed();
  auto keys = rig.txr().committed_keys();
  rig.CrashAndRecover(3);
  ASSERT_TRUE(rig.ready());
  EXPECT_EQ(rig.txr().committed(), values);
  EXPECT_EQ(rig.txr().committed_keys(), keys);
  EXPECT_EQ(values, (std::map<std::string, std::string>{{"HKCU\\Kept\\Deep\\v", "REG_BINARY:0102"},
                                                        {"HKCU\\NonTx\\n", "REG_DWORD:5"}}));
  EXPECT_FALSE(keys.count("HKCU\\Active"));
}

TEST(TxrDurability, SnapshotsAdvanceTheLogBaseAndRecoverTheSameState) {
  TxfTxrRigConfig config = TxrOnly();
  config.disk_sectors = 512;
  TxfTxrRig rig(42, config);
  int snapshots = 0;
  rig.world().trace().set_observer([&](const sim::TraceEvent& e) { snapshots += e.kind == "txr.snapshot"; });
  for (int i = 0; i < 150; ++i) {
    HANDLE tx = rig.Begin(), k = INVALID_HANDLE_VALUE;
    ASSERT_EQ(rig.txr().RegCreateKeyTransacted(HKEY_CURRENT_USER, "K" + std::to_string(i % 5), 0, KEY_ALL_ACCESS, &k,
                                               nullptr, tx),
              STATUS_SUCCESS);
    ASSERT_EQ(rig.txr().RegSetValueEx(k, "v", REG_BINARY, std::vector<uint8_t>(1000, static_cast<uint8_t>(i))),
              STATUS_SUCCESS);
    ASSERT_EQ(rig.Commit(tx), STATUS_SUCCESS);
  }
  rig.world().trace().set_observer(nullptr);
  EXPECT_GE(snapshots, 2);
  auto values = rig.txr().committed();
  rig.CrashAndRecover(4);
  ASSERT_TRUE(rig.ready());
  EXPECT_EQ(rig.txr().committed(), values);
}

// ---- Windows' naming and volatility rules (issue 18) -------------------------------

// Registry key and value names are case-insensitive and case-preserving
// ("Structure of the Registry": "Key names are not case sensitive";
// "Registry Element Size Limits" / value names likewise).
TEST_F(TxrTest, KeyAndValueNamesAreCaseInsensitiveAndCasePreserving) {
  uint32_t disposition = 0;
  HANDLE k = Create(HKEY_LOCAL_MACHINE, "SOFTWARE\\Vendor", INVALID_HANDLE_VALUE, KEY_ALL_ACCESS, &disposition);
  EXPECT_EQ(disposition, REG_CREATED_NEW_KEY);
  ASSERT_EQ(reg().RegSetValueEx(k, "Name", REG_SZ, RegSz("one")), STATUS_SUCCESS);
  HANDLE again = Create(HKEY_LOCAL_MACHINE, "software\\VENDOR", INVALID_HANDLE_VALUE, KEY_ALL_ACCESS, &disposition);
  EXPECT_EQ(disposition, REG_OPENED_EXISTING_KEY);
  EXPECT_EQ(Query(again, "NAME"), "REG_SZ:one");
  ASSERT_EQ(reg().RegSetValueEx(again, "nAmE", REG_SZ, RegSz("two")), STATUS_SUCCESS);
  EXPECT_EQ(Committed("HKLM\\Software\\Vendor\\Name"), "REG_SZ:two");
  EXPECT_EQ(reg().committed().size(), 1u);
  EXPECT_TRUE(reg().committed_keys().count("HKLM\\Software\\Vendor"));
  std::string name;
  HANDLE software = Create(HKEY_LOCAL_MACHINE, "software");
  ASSERT_EQ(reg().RegEnumKeyEx(software, 0, &name), STATUS_SUCCESS);
  EXPECT_EQ(name, "Vendor");
  // A key a transaction created is reserved in every spelling.
  HANDLE t1 = rig_.Begin(), t2 = rig_.Begin();
  Create(HKEY_CURRENT_USER, "Mine", t1);
  HANDLE h = INVALID_HANDLE_VALUE;
  EXPECT_EQ(reg().RegCreateKeyTransacted(HKEY_CURRENT_USER, "MINE", 0, KEY_ALL_ACCESS, &h, nullptr, t2),
            STATUS_TRANSACTIONAL_CONFLICT);
  EXPECT_EQ(TryOpen(HKEY_CURRENT_USER, "mine", t1), STATUS_SUCCESS);
  ASSERT_EQ(reg().RegDeleteKeyTransacted(HKEY_LOCAL_MACHINE, "SOFTWARE\\VENDOR", 0, INVALID_HANDLE_VALUE),
            STATUS_SUCCESS);
  EXPECT_EQ(reg().committed().size(), 0u);
}

// RegCreateKeyTransacted, REG_OPTION_VOLATILE: "All keys created by the
// function are volatile. The information is stored in memory and is not
// preserved when the corresponding registry hive is unloaded"; and
// RegCreateKeyEx: a non-volatile key under a volatile one fails with
// ERROR_CHILD_MUST_BE_VOLATILE.
TEST(TxrVolatile, VolatileKeysVanishWithTheHostAndHoldOnlyVolatileChildren) {
  TxfTxrRig rig(43, TxrOnly());
  HANDLE v = INVALID_HANDLE_VALUE, h = INVALID_HANDLE_VALUE;
  ASSERT_EQ(rig.txr().RegCreateKeyTransacted(HKEY_CURRENT_USER, "Session", REG_OPTION_VOLATILE, KEY_ALL_ACCESS, &v,
                                             nullptr, INVALID_HANDLE_VALUE),
            STATUS_SUCCESS);
  ASSERT_EQ(rig.txr().RegSetValueEx(v, "pid", REG_DWORD, RegDword(42)), STATUS_SUCCESS);
  EXPECT_EQ(rig.txr().RegCreateKeyTransacted(v, "Stable", REG_OPTION_NON_VOLATILE, KEY_ALL_ACCESS, &h, nullptr,
                                             INVALID_HANDLE_VALUE),
            STATUS_CHILD_MUST_BE_VOLATILE);
  HANDLE tx = rig.Begin();
  EXPECT_EQ(rig.txr().RegCreateKeyTransacted(HKEY_CURRENT_USER, "Session\\A\\B", 0, KEY_ALL_ACCESS, &h, nullptr, tx),
            STATUS_CHILD_MUST_BE_VOLATILE);
  ASSERT_EQ(rig.txr().RegCreateKeyTransacted(HKEY_CURRENT_USER, "Session\\A\\B", REG_OPTION_VOLATILE,
                                             KEY_ALL_ACCESS, &h, nullptr, tx),
            STATUS_SUCCESS);
  ASSERT_EQ(rig.txr().RegSetValueEx(h, "x", REG_SZ, RegSz("tx")), STATUS_SUCCESS);
  ASSERT_EQ(rig.Commit(tx), STATUS_SUCCESS);
  ASSERT_EQ(rig.txr().RegCreateKeyTransacted(HKEY_CURRENT_USER, "Kept", 0, KEY_ALL_ACCESS, &h, nullptr,
                                             INVALID_HANDLE_VALUE),
            STATUS_SUCCESS);
  ASSERT_EQ(rig.txr().RegSetValueEx(h, "k", REG_DWORD, RegDword(1)), STATUS_SUCCESS);
  // Reopening an existing volatile key ignores the option.
  uint32_t disposition = 0;
  ASSERT_EQ(rig.txr().RegCreateKeyTransacted(HKEY_CURRENT_USER, "session", 0, KEY_ALL_ACCESS, &h, &disposition,
                                             INVALID_HANDLE_VALUE),
            STATUS_SUCCESS);
  EXPECT_EQ(disposition, REG_OPENED_EXISTING_KEY);
  rig.Settle();
  EXPECT_EQ(rig.txr().committed(), (std::map<std::string, std::string>{{"HKCU\\Kept\\k", "REG_DWORD:1"},
                                                                     {"HKCU\\Session\\A\\B\\x", "REG_SZ:tx"},
                                                                     {"HKCU\\Session\\pid", "REG_DWORD:42"}}));
  rig.CrashAndRecover(5);
  ASSERT_TRUE(rig.ready());
  EXPECT_EQ(rig.txr().committed(), (std::map<std::string, std::string>{{"HKCU\\Kept\\k", "REG_DWORD:1"}}));
  EXPECT_FALSE(rig.txr().committed_keys().count("HKCU\\Session"));
  EXPECT_FALSE(rig.txr().committed_keys().count("HKCU\\Session\\A"));
  // Recreated after the crash: stable this time, and it stays.
  ASSERT_EQ(rig.txr().RegCreateKeyTransacted(HKEY_CURRENT_USER, "Session\\Stable", 0, KEY_ALL_ACCESS, &h, nullptr,
                                             INVALID_HANDLE_VALUE),
            STATUS_SUCCESS);
  rig.Settle();
  rig.CrashAndRecover(6);
  ASSERT_TRUE(rig.ready());
  EXPECT_TRUE(rig.txr().committed_keys().count("HKCU\\Session\\Stable"));
}

}  // namespace
}  // namespace ktmtest
