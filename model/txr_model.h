// TxrModel: a sequential reference for the transacted registry of ktm/txr
// (TxR, ktm-api.md §7 and docs/txf-txr.md), one call at a time. It predicts
// the status of every call and every value read: the committed keys and
// values, each transaction's pending changes and key locks, the open key
// handles, and the documented rule that a non-transacted change of a key a
// transaction changed rolls that transaction back. Commit applies a
// transaction's changes at once, Rollback drops them, Crash aborts every
// active transaction and closes every handle.
//
// Deliberately plain: a transaction's view is a full copy of the registry,
// every rule one line in the specification's order. Not modelled (tested on
// the RM directly): the byte budget, the handle limit, the value size limit,
// REG_OPTION_* and WOW64 flags, the RM being offline.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace model {

enum class TxrStatus {
  kOk,
  kInvalidParameter,
  kNameInvalid,
  kInvalidHandle,
  kHandleNoLongerValid,
  kNotActive,            // the transaction ended (committed, rolled back, or rolled back by a non-transacted change)
  kUnknownTransaction,
  kTransactionExists,
  kAccessDenied,
  kNameNotFound,
  kKeyDeleted,
  kCannotDelete,
  kTransactionalConflict,
  kNoMoreEntries,
};
const char* TxrStatusName(TxrStatus status);

struct TxrValue {
  uint32_t type = 0;            // 1 REG_SZ, 3 REG_BINARY, 4 REG_DWORD
  std::vector<uint8_t> data;
  bool operator==(const TxrValue&) const = default;
};

struct TxrResult {
  TxrStatus status = TxrStatus::kOk;
  int handle = 0;               // CreateKey, OpenKey
  bool created = false;         // CreateKey: REG_CREATED_NEW_KEY
  std::string name;             // EnumKey, EnumValue
  TxrValue value;               // QueryValue, EnumValue
};

class TxrModel {
 public:
  // Predefined keys (handles <= 0 never name an opened key).
  static constexpr int kClassesRoot = -1;    // "HKCR"
  static constexpr int kCurrentUser = -2;    // "HKCU"
  static constexpr int kLocalMachine = -3;   // "HKLM"
  static constexpr int kUsers = -4;          // "HKU"
  // Access bits (the REGSAM values).
  static constexpr uint32_t kQueryValue = 0x1;
  static constexpr uint32_t kSetValue = 0x2;
  static constexpr uint32_t kCreateSubKey = 0x4;
  static constexpr uint32_t kEnumerateSubKeys = 0x8;
  static constexpr uint32_t kAllAccess = 0xF003F;

  TxrStatus Begin(const std::string& tx);
  TxrStatus Commit(const std::string& tx);
  TxrStatus Rollback(const std::string& tx);
  void Crash();

  // tx "" = non-transacted.
  TxrResult CreateKey(const std::string& tx, int base, const std::string& sub_key, uint32_t access);
  TxrResult OpenKey(const std::string& tx, int base, const std::string& sub_key, uint32_t access);
  TxrStatus DeleteKey(const std::string& tx, int base, const std::string& sub_key);
  TxrStatus SetValue(int key, const std::string& name, const TxrValue& value);
  TxrResult QueryValue(int key, const std::string& name);
  TxrStatus DeleteValue(int key, const std::string& name);
  TxrResult EnumKey(int key, uint32_t index);
  TxrResult EnumValue(int key, uint32_t index);
  TxrStatus CloseKey(int key);

  // Committed values by "<key path>\<value name>", and committed key paths.
  std::map<std::string, TxrValue> CommittedValues() const;
  std::set<std::string> CommittedKeys() const;
  bool Active(const std::string& tx) const;
  // Whether tx was rolled back by a non-transacted change.
  bool Doomed(const std::string& tx) const;

 private:
  struct Key {
    uint64_t id = 0;
    std::map<std::string, TxrValue> values;
  };
  using Registry = std::map<std::string, Key>;
  enum class TxState { kActive, kCommitted, kAborted };
  struct Tx {
    TxState state = TxState::kActive;
    bool doomed = false;
    std::map<std::string, std::optional<Key>> changes;
  };
  struct Handle {
    std::string tx;
    std::string path;
    uint64_t id = 0;
    uint32_t access = 0;
  };

  TxrStatus CheckTx(const std::string& tx) const;
  Registry ViewOf(const std::string& tx) const;
  TxrStatus HandleOf(int key, Handle* out) const;
  TxrStatus KeyIn(const Registry& view, const Handle& h) const;
  std::vector<std::string> Children(const Registry& view, const std::string& path) const;
  std::set<std::string> OthersHolding(const std::string& tx, const std::string& path, bool beneath) const;
  // Conflict (a transaction) or roll the holders back (non-transacted).
  TxrStatus Settle(const std::string& tx, const std::set<std::string>& holders);
  void Change(const std::string& tx, const std::string& path, std::optional<Key> key);
  int NewHandle(const std::string& tx, const std::string& path, uint32_t access);

  Registry committed_ = {{"HKCR", {1, {}}},          {"HKCU", {2, {}}},         {"HKLM", {3, {}}},
                         {"HKU", {4, {}}},           {"HKLM\\Software", {5, {}}}, {"HKLM\\System", {6, {}}},
                         {"HKU\\.DEFAULT", {7, {}}}};
  std::map<std::string, Tx> txs_;
  std::map<int, Handle> handles_;
  uint64_t next_id_ = 8;
  int next_handle_ = 1;
};

}  // namespace model
