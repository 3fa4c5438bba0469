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
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "ktm/case_fold.h"
#include "ktm/rm_base.h"
#include "ktm/storage/record_cache.h"

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
  uint32_t cache_records_max = 16384;        // paged disk: clean committed keys kept in memory
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

  // Paged disk (docs/rm-storage.md "Memory bounded by the pool"): the
  // committed registry lives on the store; the RM keeps the keys committed
  // since a flush last captured them (dirty, pinned), the keys an open
  // transaction changed (pinned) and at most cache_records_max clean ones,
  // plus the child counts of keys that have children (computed by one scan
  // of the store after each start, then kept up to date by every commit).
  // A call that needs a key that is not resident (the key or any key above
  // it; for RegDeleteKeyTransacted also the child counts) starts reading it
  // and returns STATUS_PENDING, changing nothing: call Fetch first.
  // Resident: whether path, every key above it and (children) the child
  // counts are in memory (always true unless paged).
  bool Resident(const std::string& path, bool children) const;
  // Makes them resident; done: STATUS_SUCCESS, STATUS_RM_NOT_ACTIVE (not
  // online), STATUS_LOG_CORRUPTION_DETECTED (a damaged page),
  // STATUS_UNEXPECTED_IO_ERROR. At once when nothing is missing.
  void Fetch(const std::string& path, bool children, std::function<void(NTSTATUS)> done);
  struct MemoryStats {
    uint64_t resident_records = 0;       // committed keys in memory (present or known absent)
    uint64_t resident_records_peak = 0;
    uint64_t dirty_records = 0;          // pinned until the store holds them
    uint64_t child_counts = 0;           // keys with a child count in memory
    uint64_t child_counts_peak = 0;
    uint64_t fetches = 0;                // store reads of a key
    uint64_t count_scans = 0;            // scans of the store for the child counts
  };
  MemoryStats memory() const;

  // Committed values: "<key path>\<value name>" -> ValueText (keys without values left out).
  // On a paged disk: inspection of the store (no simulated I/O) under the resident keys.
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
  // Start streams the store once (a damaged page refuses the start, as
  // before), counting children only: no key is kept.
  bool LoadsStoreAtStart() const override { return true; }
  void CommittedRecordsStored(std::span<const storage::Change> records) override;

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
  // Paged: ids carry the host incarnation (1 + it, above the protected
  // keys' 1..7), so ids stay unique across restarts without a stored counter.
  uint64_t NewId() { return paged() ? (boot_ << 32) | next_id_++ : next_id_++; }
  // Paged storage: the cache (storage::RecordCache, keyed by store keys) and the child counts.
  struct CountChange {       // a key changed while the child counts are (re)built
    bool counted = false;    // the scan counted it (as committed) before its first change
    bool after = false;      // committed now
  };
  // kLoading: counted by Start's stream of the store; the replay's changes
  // wait for a read of each changed key's stored state (probes_pending_).
  enum class Counts { kNone, kLoading, kScanning, kReady };
  NTSTATUS EnsureResident(const std::string& path, bool children);
  void FetchKey(const std::string& path, std::function<void(NTSTATUS)> done);
  void Touch(const std::string& path);
  void EvictClean();
  void StartCounting();
  void CountingDone(NTSTATUS status);
  void ProbeStored(const std::string& path);
  void MaybeFinishLoading();
  void NoteCountChange(const std::string& path, bool before, bool after);
  void AdjustChildCount(const std::string& parent, int delta);
  bool HasChildren(const Actor& a, const std::string& path) const;
  // Paged enumeration: the committed children of one key at a time (enum_path_),
  // named by a count scan and kept up to date by commits.
  bool EnumerationReady(const std::string& path) const;
  void RequestEnumeration(const std::string& path);
  std::vector<std::string> PagedChildren(const Actor& a, const std::string& path) const;
  // Every committed key (paged: the store's records under the resident ones).
  std::map<std::string, Key, Names> AllCommitted() const;
  // Decodes a store record (nullopt: a volatile key of an earlier host).
  std::optional<Change> DecodeRecord(const std::string& record) const;
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
  // Paged storage (committed_ then holds only the resident present keys).
  storage::RecordCache cache_;                       // resident keys (store keys), present or known absent
  Counts counts_ = Counts::kNone;
  int64_t scan_page_ = -1;                           // the last page the count scan delivered
  uint64_t probes_pending_ = 0;
  bool recount_ = false;                             // a key not in memory changed during the scan
  std::string enum_path_;                            // paged RegEnumKeyEx: whose children are named
  std::set<std::string, Names> enum_names_;          // its committed children (paths)
  bool enum_ready_ = false;
  std::map<std::string, uint64_t, Names> child_counts_;      // key -> committed children (> 0 only)
  std::map<std::string, CountChange, Names> count_changes_;  // while counts_ != kReady
  std::vector<std::function<void(NTSTATUS)>> count_waiters_;
  MemoryStats memory_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ktm::txr
