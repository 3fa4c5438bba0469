// TxrRm: the Transactional Registry (TxR) as a durable resource manager of
// ktmsim: keys ("HKLM\Software\Vendor") holding typed values (REG_SZ,
// REG_DWORD, REG_BINARY), on its own sim Disk with its own log, reached
// through Win32-named calls. The rules are ktm-api.md §7; docs/txf-txr.md is
// the full specification (statuses, precedence, what is left out). In short:
// - Keys hang under four predefined roots (HKEY_CLASSES_ROOT "HKCR",
//   HKEY_CURRENT_USER "HKCU", HKEY_LOCAL_MACHINE "HKLM", HKEY_USERS "HKU");
//   HKLM\Software, HKLM\System and HKU\.DEFAULT always exist; no other
//   direct child of HKLM or HKU can be created (STATUS_ACCESS_DENIED).
//   Key and value names compare without case and keep the spelling they
//   were created with (ktm/case_fold.h), as in Windows.
// - Volatile keys (REG_OPTION_VOLATILE) live until the host crashes: they
//   are logged like any key, tagged with the host incarnation that created
//   them, and recovery drops the tags of an earlier incarnation. A stable key
//   cannot be created under a volatile one (STATUS_CHILD_MUST_BE_VOLATILE).
// - The transaction binds to the key handle: RegCreateKeyTransacted /
//   RegOpenKeyTransacted with a transaction return a transacted handle, and
//   every value call through it is part of that transaction.
//   hTransaction == INVALID_HANDLE_VALUE gives a non-transacted handle.
//   Once the transaction ended, calls through such a handle return
//   STATUS_TRANSACTION_NOT_ACTIVE (Win32 ERROR_TRANSACTION_NOT_ACTIVE).
// - Isolation: read committed plus the transaction's own pending changes.
//   Keys are the unit of locking: a transaction that changes a key (creates
//   or deletes it, sets or deletes a value) holds it until it ends; another
//   transaction changing it gets STATUS_TRANSACTIONAL_CONFLICT. A
//   non-transacted change of such a key rolls the holding transaction back
//   (RollbackEnlistment) and succeeds — unless the holder is already
//   preparing, which gives STATUS_TRANSACTIONAL_CONFLICT instead.
// - Durability: the transaction's whole change set (the full new state of
//   every changed key, tombstones for deletions) goes into the prepare or
//   single-phase record; commit applies it (redo only).
// - History: reads and writes go to the RmObserver (ReportValue) with
//   key = key path + "\" +
//   value name and value = ValueText(type, data) ("" = absent). Key
//   creation alone is not traced. Workloads must write values unique per
//   transaction and value for the checkers to attribute them.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "ktm/case_fold.h"
#include "ktm/rm_base.h"

namespace ktm::txr {

// Predefined keys (never kernel handles: those are small multiples of 4).
constexpr HANDLE HKEY_CLASSES_ROOT = 0x80000000;
constexpr HANDLE HKEY_CURRENT_USER = 0x80000001;
constexpr HANDLE HKEY_LOCAL_MACHINE = 0x80000002;
constexpr HANDLE HKEY_USERS = 0x80000003;
// Value types.
constexpr uint32_t REG_SZ = 1;
constexpr uint32_t REG_BINARY = 3;
constexpr uint32_t REG_DWORD = 4;
// RegCreateKeyTransacted dispositions and options (NON_VOLATILE or VOLATILE).
constexpr uint32_t REG_CREATED_NEW_KEY = 1;
constexpr uint32_t REG_OPENED_EXISTING_KEY = 2;
constexpr uint32_t REG_OPTION_NON_VOLATILE = 0;
constexpr uint32_t REG_OPTION_VOLATILE = 1;
// Access rights (REGSAM).
constexpr uint32_t KEY_QUERY_VALUE = 0x0001;
constexpr uint32_t KEY_SET_VALUE = 0x0002;
constexpr uint32_t KEY_CREATE_SUB_KEY = 0x0004;
constexpr uint32_t KEY_ENUMERATE_SUB_KEYS = 0x0008;
constexpr uint32_t KEY_WOW64_64KEY = 0x0100;
constexpr uint32_t KEY_WOW64_32KEY = 0x0200;
constexpr uint32_t KEY_READ = 0x20019;
constexpr uint32_t KEY_WRITE = 0x20006;
constexpr uint32_t KEY_ALL_ACCESS = 0xF003F;
// Limits.
constexpr size_t kKeyNameCharsMax = 255;
constexpr size_t kValueNameCharsMax = 16383;
constexpr size_t kKeyDepthMax = 32;  // levels below the root

struct TxrOptions {
  RmOptions rm;
  uint64_t value_bytes_max = 2048;           // larger data: STATUS_INVALID_PARAMETER
  // Encoded committed registry + every transaction's encoded changes; a
  // change past it: STATUS_DISK_FULL. Must fit one log record (asserted).
  // Ignored on a paged disk (ktm/rm_base.h): the bound is then
  // RmBase::PagedCapacityBytes(), records on the RM's PageStore.
  uint64_t registry_bytes_max = 32 * 1024;
  uint32_t handles_max = 1024;               // open key handles (more: STATUS_INSUFFICIENT_RESOURCES)
};

// Value data helpers.
std::vector<uint8_t> RegSz(const std::string& text);
std::vector<uint8_t> RegDword(uint32_t value);

class TxrRm : public RmBase {
 public:
  TxrRm(Kernel* kernel, sim::Host* host, sim::Disk* disk, HANDLE tm, TxrOptions options);
  ~TxrRm() override;

  // Opens sub_key under key, creating it and every missing key above it.
  // key: a predefined key or an open key handle (needs KEY_CREATE_SUB_KEY
  // when sub_key is not empty). options: REG_OPTION_NON_VOLATILE or
  // REG_OPTION_VOLATILE (for the keys it creates; ignored for existing ones).
  // disposition (optional): REG_CREATED_NEW_KEY / REG_OPENED_EXISTING_KEY.
  NTSTATUS RegCreateKeyTransacted(HANDLE key, const std::string& sub_key, uint32_t options, uint32_t sam_desired,
                                  HANDLE* result, uint32_t* disposition, HANDLE transaction);
  // options must be 0.
  NTSTATUS RegOpenKeyTransacted(HANDLE key, const std::string& sub_key, uint32_t options, uint32_t sam_desired,
                                HANDLE* result, HANDLE transaction);
  // Deletes sub_key under key ("" = key itself); fails with
  // STATUS_CANNOT_DELETE while it has subkeys. sam_desired: 0 or a
  // KEY_WOW64_* view flag (ignored).
  NTSTATUS RegDeleteKeyTransacted(HANDLE key, const std::string& sub_key, uint32_t sam_desired,
                                  HANDLE transaction);
  NTSTATUS RegSetValueEx(HANDLE key, const std::string& value_name, uint32_t type, const std::vector<uint8_t>& data);
  // type and data are optional outputs.
  NTSTATUS RegQueryValueEx(HANDLE key, const std::string& value_name, uint32_t* type, std::vector<uint8_t>* data);
  NTSTATUS RegDeleteValue(HANDLE key, const std::string& value_name);
  // Subkeys and values are enumerated in name order; STATUS_NO_MORE_ENTRIES past the end.
  NTSTATUS RegEnumKeyEx(HANDLE key, uint32_t index, std::string* name);
  NTSTATUS RegEnumValue(HANDLE key, uint32_t index, std::string* name, uint32_t* type, std::vector<uint8_t>* data);
  // Closing a predefined key succeeds and does nothing; works on a dead handle.
  NTSTATUS RegCloseKey(HANDLE key);

  // Committed values: "<key path>\<value name>" -> ValueText (keys without values left out).
  std::map<std::string, std::string> committed() const override;
  // Committed key paths (roots included).
  std::set<std::string> committed_keys() const;
  size_t open_handles() const { return handles_.size(); }
  // "REG_SZ:<bytes>", "REG_DWORD:<decimal>", "REG_BINARY:<hex>".
  static std::string ValueText(uint32_t type, const std::vector<uint8_t>& data);

 protected:
  bool HasChanges(const Guid& uow) const override;
  void EncodeChanges(const Guid& uow, Writer& w) const override;
  void ApplyChanges(Reader& r) override;
  void RestorePrepared(const Guid& uow, Reader& r) override;
  void EndTransaction(const Guid& uow) override;
  void EncodeCommitted(Writer& w) const override;
  void DecodeCommitted(Reader& r) override;
  uint64_t StateBytesMax() const override;
  // Paged storage: one store record per path (key: the path folded to lower
  // case; record: the entry as a change list encodes it, spelling included).
  bool SupportsPagedStorage() const override { return true; }
  std::optional<std::string> CommittedRecord(const std::string& key) const override;
  void LoadCommittedRecord(const std::string& key, const std::string& record) override;

 private:
  struct Value {
    uint32_t type = 0;
    std::vector<uint8_t> data;
  };
  using Names = CaseInsensitiveLess;
  struct Key {
    uint64_t id = 0;  // identity: a re-created key gets a new id
    uint64_t volatile_boot = 0;  // 0: stable; else 1 + the host incarnation that created it
    std::map<std::string, Value, Names> values;
  };
  using Change = std::pair<std::string, std::optional<Key>>;  // key path -> new state (nullopt: deleted)
  using ChangeList = std::vector<Change>;
  struct Actor {
    bool transacted = false;
    Guid uow;
  };
  struct OpenKey {
    Actor actor;
    std::string path;
    uint64_t id = 0;
    uint32_t access = 0;
  };
  struct TxChanges {
    std::map<std::string, std::optional<Key>, Names> changes;
  };

  NTSTATUS BeginCall(HANDLE transaction, Actor* actor);
  NTSTATUS ResolveKey(HANDLE key, OpenKey* out) const;
  // The key of a handle in a's view (STATUS_KEY_DELETED if gone or re-created).
  NTSTATUS KeyOf(const Actor& a, const OpenKey& handle, const Key** out) const;
  const Key* Lookup(const Actor& a, const std::string& path) const;
  // path with every existing key in a's view spelled as it was created.
  std::string Spelled(const Actor& a, const std::string& path) const;
  // A volatile key of an earlier host incarnation (gone with that host).
  bool Stale(const Key& key) const { return key.volatile_boot != 0 && key.volatile_boot != boot_; }
  std::vector<std::string> Children(const Actor& a, const std::string& path) const;
  // Adds the transaction holding path, if it is not a, to owners.
  void OtherHolder(const Actor& a, const std::string& path, std::set<Guid>* owners) const;
  void OtherHoldersBeneath(const Actor& a, const std::string& path, std::set<Guid>* owners) const;
  // Checks the budget, settles conflicts with the other holders (a
  // transaction: conflict; non-transacted: roll them back), then stages or
  // logs and applies the changes.
  NTSTATUS Perform(const Actor& a, const std::set<Guid>& owners, const ChangeList& changes, const char* what);
  NTSTATUS CheckBudget(const Actor& a, const ChangeList& changes) const;
  void Stage(const Guid& uow, const ChangeList& changes);
  void ApplyToCommitted(const ChangeList& changes);
  NTSTATUS OpenCommon(HANDLE key, const std::string& sub_key, bool create, OpenKey* base, std::string* full);
  NTSTATUS NewHandle(const Actor& a, const std::string& path, uint32_t access, HANDLE* out);
  // Reports a value read or written in a transaction (value nullptr: absent or deleted).
  void ReportValue(bool write, const Actor& a, const std::string& path, const std::string& name,
                   const Value* value);
  uint64_t NewId() { return next_id_++; }
  static uint64_t EntryBytes(const std::string& path, const std::optional<Key>& key);
  static void PutEntry(Writer& w, const std::string& path, const std::optional<Key>& key);
  static Change GetEntry(Reader& r);
  ChangeList DecodeList(Reader& r);

  TxrOptions options_;
  std::map<std::string, Key, Names> committed_;  // path -> key; roots and protected keys always
  uint64_t committed_bytes_ = 0;
  uint64_t pending_bytes_ = 0;
  std::map<Guid, TxChanges> txs_;
  std::map<std::string, Guid, Names> locks_;     // key path -> the transaction holding it
  std::map<HANDLE, OpenKey> handles_;
  uint64_t next_id_ = 1;
  uint64_t next_handle_ = 1;
  uint64_t boot_ = 1;                            // 1 + this host incarnation (volatile keys)
};

}  // namespace ktm::txr
