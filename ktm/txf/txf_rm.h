// TxfRm: Transactional NTFS (TxF) as a durable resource manager of ktmsim: a
// transacted file namespace (directories and files with byte contents) on
// its own sim Disk with its own log, reached through Win32-named calls.
// The rules are ktm-api.md §6.2; docs/txf-txr.md is the full specification
// (statuses, precedence, what is left out). In short:
// - Paths are absolute, '\'-separated: "\dir\file.txt"; "\" is the root
//   directory, which always exists. Names compare without case and keep the
//   spelling they were created with (ktm/case_fold.h), as NTFS does.
// - hTransaction == INVALID_HANDLE_VALUE: a non-transacted call (applied and
//   logged at once). Otherwise the RM enlists in the transaction on first use
//   (KvRm's protocol, ktm/rm_base.h) and the call is part of it.
// - Isolation: read committed, files are the unit of locking. A transaction
//   that modifies a file (or opens it for GENERIC_WRITE) locks it until it
//   ends; a second transaction's writer open gets STATUS_SHARING_VIOLATION,
//   a non-transacted writer too; a transacted open of a file a
//   non-transacted writer holds open gets STATUS_TRANSACTIONAL_CONFLICT.
//   A transacted reader sees the committed contents as of its open (a
//   snapshot); once its transaction locks a file every later open of it in
//   that transaction sees the transaction's own data. Names created in a
//   transaction are invisible and reserved (STATUS_TRANSACTIONAL_CONFLICT);
//   deleted ones stay visible to others until commit. A directory with
//   another transaction's changes beneath cannot be removed or renamed
//   (STATUS_CANT_BREAK_TRANSACTIONAL_DEPENDENCY). After the transaction ends
//   its handles only close (STATUS_HANDLE_NO_LONGER_VALID).
// - Durability: the transaction's whole change set (full contents of every
//   changed file, tombstones for deletions) goes into the prepare or
//   single-phase record; commit applies it (redo only).
// - History: reads and writes go to the RmObserver (ReportRead / ReportWrite)
//   with key = file path and value =
//   ContentDigest(contents) ("" = absent). Directories are not traced. The
//   checkers attribute a value to the first transaction that wrote it at a
//   path, so workloads must write contents unique per transaction and path
//   (an empty file's digest is the same for everyone).
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
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

namespace ktm::txf {

// CreateFileTransacted desired access (only these two bits are accepted).
constexpr uint32_t GENERIC_READ = 0x80000000;
constexpr uint32_t GENERIC_WRITE = 0x40000000;
// Creation dispositions.
constexpr uint32_t CREATE_NEW = 1;
constexpr uint32_t CREATE_ALWAYS = 2;
constexpr uint32_t OPEN_EXISTING = 3;
constexpr uint32_t OPEN_ALWAYS = 4;
constexpr uint32_t TRUNCATE_EXISTING = 5;
// MoveFileTransacted / CopyFileTransacted flags (only these are accepted).
constexpr uint32_t MOVEFILE_REPLACE_EXISTING = 0x1;
constexpr uint32_t COPY_FILE_FAIL_IF_EXISTS = 0x1;
// Attributes reported.
constexpr uint32_t FILE_ATTRIBUTE_DIRECTORY = 0x10;
constexpr uint32_t FILE_ATTRIBUTE_NORMAL = 0x80;
// Path limits (MAX_PATH and NTFS's component limit).
constexpr size_t kPathCharsMax = 260;
constexpr size_t kComponentCharsMax = 255;

struct FileAttributeData {
  uint32_t attributes = 0;  // FILE_ATTRIBUTE_DIRECTORY or FILE_ATTRIBUTE_NORMAL
  uint64_t size = 0;        // bytes (0 for a directory)
};

struct FindData {
  std::string name;         // the entry's name inside its directory
  uint32_t attributes = 0;
  uint64_t size = 0;
  bool operator==(const FindData&) const = default;
};

struct TxfOptions {
  RmOptions rm;
  uint64_t file_bytes_max = 4096;         // a write past this: STATUS_DISK_FULL
  // Encoded committed namespace + every transaction's encoded changes; a
  // change past it: STATUS_DISK_FULL. Must fit one log record (asserted).
  // Ignored on a paged disk (ktm/rm_base.h): the bound is then
  // RmBase::PagedCapacityBytes(), records on the RM's PageStore.
  uint64_t volume_bytes_max = 32 * 1024;
  uint32_t handles_max = 1024;            // open file + find handles (more: STATUS_INSUFFICIENT_RESOURCES)
  uint32_t cache_records_max = 16384;     // paged disk: clean committed paths kept in memory
};

class TxfRm : public RmBase {
 public:
  TxfRm(Kernel* kernel, sim::Host* host, sim::Disk* disk, HANDLE tm, TxfOptions options);
  ~TxfRm() override;

  // Opens or creates a file. desired_access: GENERIC_READ and/or
  // GENERIC_WRITE; every disposition but OPEN_EXISTING needs GENERIC_WRITE.
  // Returns STATUS_OBJECT_NAME_EXISTS (a success) when CREATE_ALWAYS or
  // OPEN_ALWAYS found the file (Win32's ERROR_ALREADY_EXISTS).
  NTSTATUS CreateFileTransacted(const std::string& path, uint32_t desired_access, uint32_t creation_disposition,
                                HANDLE transaction, HANDLE* file);
  // Reads up to length bytes at offset; STATUS_END_OF_FILE when length > 0
  // and offset >= the file size.
  NTSTATUS ReadFile(HANDLE file, uint64_t offset, uint32_t length, std::string* data);
  // Writes data at offset (a gap is zero-filled).
  NTSTATUS WriteFile(HANDLE file, uint64_t offset, const std::string& data);
  // Sets the file size (truncates or zero-extends): Win32's SetEndOfFile
  // with the position given explicitly.
  NTSTATUS SetEndOfFile(HANDLE file, uint64_t size);
  // CloseHandle for a file handle; works on a dead handle too.
  NTSTATUS CloseFileHandle(HANDLE file);
  NTSTATUS DeleteFileTransacted(const std::string& path, HANDLE transaction);
  // Renames a file or a directory (with everything beneath it).
  NTSTATUS MoveFileTransacted(const std::string& existing, const std::string& new_name, uint32_t flags,
                              HANDLE transaction);
  NTSTATUS CopyFileTransacted(const std::string& existing, const std::string& new_name, uint32_t flags,
                              HANDLE transaction);
  NTSTATUS CreateDirectoryTransacted(const std::string& path, HANDLE transaction);
  NTSTATUS RemoveDirectoryTransacted(const std::string& path, HANDLE transaction);
  NTSTATUS GetFileAttributesTransacted(const std::string& path, HANDLE transaction, FileAttributeData* data);
  // pattern = directory path + '\' + a name that may hold '*' and '?'.
  // Entries are sorted by name ("." and ".." are not listed) and fixed at
  // this call. STATUS_NO_SUCH_FILE when nothing matches.
  NTSTATUS FindFirstFileTransacted(const std::string& pattern, HANDLE transaction, FindData* data, HANDLE* find);
  // STATUS_NO_MORE_FILES after the last entry.
  NTSTATUS FindNextFile(HANDLE find, FindData* data);
  NTSTATUS FindClose(HANDLE find);

  // Paged disk (docs/rm-storage.md "Memory bounded by the pool (TxF)"): the
  // committed volume lives on the store; the RM keeps the paths committed
  // since a flush last captured them (dirty, pinned), the paths an open
  // transaction locked or a handle is open on (pinned), the subtree of the
  // one directory whose subtree was last asked for (held), and at most
  // cache_records_max clean ones. A call that needs a path that is not
  // resident (the path and every directory above it; for a directory it
  // removes, moves or lists, also everything beneath it) starts reading it
  // and returns STATUS_PENDING, changing nothing: call Fetch first.
  // Resident: whether path and every directory above it are in memory
  // (always true unless paged).
  bool Resident(const std::string& path) const;
  // Makes them resident; done: STATUS_SUCCESS, STATUS_RM_NOT_ACTIVE (not
  // online), STATUS_LOG_CORRUPTION_DETECTED (a damaged page),
  // STATUS_UNEXPECTED_IO_ERROR. At once when nothing is missing.
  void Fetch(const std::string& path, std::function<void(NTSTATUS)> done);
  // Whether every committed path beneath directory is in memory (true
  // unless paged); FetchSubtree reads them in with one scan of the store
  // (merged with the commits made meanwhile) and holds them, releasing the
  // subtree held before.
  bool SubtreeResident(const std::string& directory) const;
  void FetchSubtree(const std::string& directory, std::function<void(NTSTATUS)> done);
  struct MemoryStats {
    uint64_t resident_records = 0;       // committed paths in memory (present or known absent)
    uint64_t resident_records_peak = 0;
    uint64_t dirty_records = 0;          // pinned until the store holds them
    uint64_t held_records = 0;           // the held subtree's paths
    uint64_t fetches = 0;                // store reads of a path
    uint64_t subtree_scans = 0;          // scans of the store for a subtree
  };
  MemoryStats memory() const;

  // Committed files: path -> ContentDigest(contents) (directories left out).
  // On a paged disk: inspection of the store (no simulated I/O) under the resident paths.
  std::map<std::string, std::string> committed() const override;
  // Committed directories (the root included).
  std::set<std::string> committed_directories() const;
  // Committed contents of a file (nullopt: no such file).
  std::optional<std::string> CommittedContents(const std::string& path) const;
  size_t open_handles() const { return handles_.size(); }
  // "<length>:<16 hex digits of FNV-1a 64>", the history value of contents.
  static std::string ContentDigest(const std::string& contents);

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
  void CommittedRecordsStored(std::span<const storage::Change> records) override;

 private:
  struct Node {
    bool directory = false;
    uint64_t id = 0;        // identity: a re-created name gets a new id; a rename keeps it
    std::string contents;
  };
  using Change = std::pair<std::string, std::optional<Node>>;  // path -> new node (nullopt: removed)
  using ChangeList = std::vector<Change>;
  // Who performs a call: a transaction, or nobody (non-transacted).
  struct Actor {
    bool transacted = false;
    Guid uow;
  };
  enum class View { kLive, kSnapshot, kTransacted };
  struct OpenHandle {
    bool find = false;
    Actor actor;
    std::string path;
    uint64_t id = 0;            // node id at open
    uint32_t access = 0;
    View view = View::kLive;
    std::string snapshot;       // kSnapshot: contents at open
    std::vector<FindData> entries;  // find handles
    size_t next = 0;
  };
  using Names = CaseInsensitiveLess;
  struct TxChanges {
    std::map<std::string, std::optional<Node>, Names> changes;
  };

  NTSTATUS BeginCall(HANDLE transaction, Actor* actor);
  NTSTATUS ResolveHandle(HANDLE handle, bool find, OpenHandle** out);
  const Node* Lookup(const Actor& a, const std::string& path) const;
  // path with every existing entry in a's view spelled as it was created.
  std::string Spelled(const Actor& a, const std::string& path) const;
  bool LockedByOther(const Actor& a, const std::string& path) const;
  bool PinnedByOther(const Actor& a, const std::string& directory) const;
  // Entries strictly beneath a directory in a's view (path order).
  std::vector<std::pair<std::string, Node>> Subtree(const Actor& a, const std::string& directory) const;
  bool Counts(const OpenHandle& open) const;
  bool NonTransactedWriterOn(const std::string& path, uint64_t id) const;
  bool TransactedHandleOn(const std::string& path, uint64_t id) const;
  bool BlockingHandleOn(const Actor& a, const std::string& path, uint64_t id) const;
  NTSTATUS CheckParent(const Actor& a, const std::string& path) const;
  NTSTATUS CheckCreate(const Actor& a, const std::string& path) const;
  NTSTATUS CheckWriterOpen(const Actor& a, const std::string& path, const Node& node) const;
  NTSTATUS CheckRemove(const Actor& a, const std::string& path, const Node& node) const;
  NTSTATUS CheckBudget(const Actor& a, const ChangeList& changes) const;
  // Checks the budget, then stages (transaction) or logs and applies (non-transacted).
  NTSTATUS Perform(const Actor& a, const ChangeList& changes, const char* what);
  void Stage(const Guid& uow, const ChangeList& changes);
  void ApplyToCommitted(const ChangeList& changes);
  void Lock(const Actor& a, const std::string& path);
  NTSTATUS NewHandle(OpenHandle handle, HANDLE* out);
  NTSTATUS ModifyContents(HANDLE file, uint64_t offset, const std::string& data, bool set_size, uint64_t size);
  void TraceWrite(const Actor& a, const std::string& path, const std::optional<Node>& node);
  void TraceRead(const Actor& a, const std::string& path, const std::string& contents);
  // Paged: ids carry 1 + the host incarnation (above the root's 1), so they
  // stay unique across restarts without a stored counter.
  uint64_t NewId() { return paged() ? (boot_ << 32) | next_id_++ : next_id_++; }
  // Paged storage: the cache (store keys: paths folded to lower case).
  // STATUS_SUCCESS when every path (and the directories above) is resident;
  // else starts reading the missing ones: STATUS_PENDING.
  NTSTATUS EnsureResident(std::initializer_list<std::string> paths);
  // A committed directory's subtree (nothing for a file or an absent path).
  NTSTATUS EnsureSubtree(const std::string& path);
  void FetchPath(const std::string& key, std::function<void(NTSTATUS)> done);
  void TouchPath(const std::string& path);
  void ReleaseSubtree();
  void SubtreeScanDone(uint64_t generation, NTSTATUS status);
  // The store holds key's record: clean (held when beneath the held subtree).
  void KeepClean(const std::string& key, bool cold);
  void EvictClean();
  void AddHandlePath(const std::string& path);
  void DropHandlePath(const std::string& path);
  // Every committed entry (paged: the store's records under the resident ones).
  std::map<std::string, Node, Names> AllCommitted() const;
  static uint64_t EntryBytes(const std::string& path, const std::optional<Node>& node);
  static void PutEntry(Writer& w, const std::string& path, const std::optional<Node>& node);
  static Change GetEntry(Reader& r);
  // A store record (asserted to decode to a present entry of key).
  static Change DecodeRecord(const std::string& key, const std::string& record);
  ChangeList DecodeList(Reader& r);

  TxfOptions options_;
  std::map<std::string, Node, Names> committed_;  // path -> node; the root "\" always
  uint64_t committed_bytes_ = 0;                 // sum of EntryBytes over committed_
  uint64_t pending_bytes_ = 0;                   // sum of EntryBytes over every transaction's changes
  std::map<Guid, TxChanges> txs_;
  std::map<std::string, Guid, Names> locks_;      // path -> the transaction holding it
  std::map<HANDLE, OpenHandle> handles_;
  uint64_t next_id_ = 2;                         // 1 is the root
  uint64_t next_handle_ = 1;
  uint64_t boot_ = 1;                            // 1 + this host incarnation (paged ids)
  // Paged storage (committed_ then holds the root and the resident present paths).
  storage::RecordCache cache_;
  std::map<std::string, uint32_t> handle_paths_;  // store key -> open handles on it (pinned)
  std::string subtree_;                           // store key of the held subtree's directory ("" none)
  bool subtree_ready_ = false;
  uint64_t subtree_generation_ = 0;
  uint64_t subtree_scans_ = 0;
  std::vector<std::function<void(NTSTATUS)>> subtree_waiters_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ktm::txf
