// TxfModel: a sequential reference for the transacted file namespace of
// ktm/txf (TxF, ktm-api.md §6.2 and docs/txf-txr.md), one call at a time.
// It predicts the status of every call and every byte read: the committed
// tree, each transaction's pending changes and locks, and the open handles
// with their views (live / snapshot / the transaction's own). Commit applies
// a transaction's changes at once, Rollback drops them, Crash aborts every
// active transaction and closes every handle (committed state survives).
//
// Deliberately plain: a transaction's view is materialised as a full copy of
// the tree, and every rule is one line in the order the specification lists
// it. Not modelled (tested on the RM directly): the byte budget
// (volume_bytes_max), the handle limit, the RM being offline.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace model {

enum class TxfStatus {
  kOk,
  kAlreadyExists,          // success: CREATE_ALWAYS / OPEN_ALWAYS found the file
  kInvalidParameter,
  kNameInvalid,
  kInvalidHandle,
  kTypeMismatch,           // a find handle where a file handle is wanted, or back
  kHandleNoLongerValid,    // the handle's transaction ended
  kNotActive,              // the transaction ended
  kUnknownTransaction,     // no Begin for this tx
  kTransactionExists,      // Begin of a tx id already used
  kAccessDenied,
  kNameNotFound,
  kPathNotFound,
  kNameCollision,
  kFileIsADirectory,
  kNotADirectory,
  kDirectoryNotEmpty,
  kSharingViolation,
  kTransactionalConflict,
  kCantBreakDependency,
  kEndOfFile,
  kNoSuchFile,
  kNoMoreFiles,
  kFileDeleted,
  kDiskFull,
};
const char* TxfStatusName(TxfStatus status);
inline bool TxfSucceeded(TxfStatus s) { return s == TxfStatus::kOk || s == TxfStatus::kAlreadyExists; }

enum class TxfDisposition { kCreateNew = 1, kCreateAlways, kOpenExisting, kOpenAlways, kTruncateExisting };

struct TxfEntry {
  std::string name;
  bool directory = false;
  uint64_t size = 0;
  bool operator==(const TxfEntry&) const = default;
};

struct TxfResult {
  TxfStatus status = TxfStatus::kOk;
  int handle = 0;                  // CreateFile, FindFirst
  std::string data;                // Read
  TxfEntry entry;                  // Attributes (name empty), FindFirst, FindNext
};

class TxfModel {
 public:
  struct Options {
    uint64_t file_bytes_max = 4096;
  };
  TxfModel() = default;
  explicit TxfModel(Options options) : options_(options) {}

  // Transactions; tx "" means non-transacted in every call below.
  TxfStatus Begin(const std::string& tx);
  TxfStatus Commit(const std::string& tx);
  TxfStatus Rollback(const std::string& tx);
  void Crash();

  TxfResult CreateFile(const std::string& tx, const std::string& path, bool read, bool write,
                       TxfDisposition disposition);
  TxfResult Read(int handle, uint64_t offset, uint32_t length);
  TxfStatus Write(int handle, uint64_t offset, const std::string& data);
  TxfStatus SetEndOfFile(int handle, uint64_t size);
  TxfStatus Close(int handle);
  TxfStatus Delete(const std::string& tx, const std::string& path);
  TxfStatus Move(const std::string& tx, const std::string& from, const std::string& to, bool replace);
  TxfStatus Copy(const std::string& tx, const std::string& from, const std::string& to, bool fail_if_exists);
  TxfStatus CreateDirectory(const std::string& tx, const std::string& path);
  TxfStatus RemoveDirectory(const std::string& tx, const std::string& path);
  TxfResult Attributes(const std::string& tx, const std::string& path);
  TxfResult FindFirst(const std::string& tx, const std::string& pattern);
  TxfResult FindNext(int handle);
  TxfStatus FindClose(int handle);

  // Committed files (path -> contents) and directories (root "\" included).
  std::map<std::string, std::string> CommittedFiles() const;
  std::set<std::string> CommittedDirectories() const;
  bool Active(const std::string& tx) const;

 private:
  struct Node {
    bool directory = false;
    uint64_t id = 0;
    std::string contents;
  };
  using Tree = std::map<std::string, Node>;
  enum class TxState { kActive, kCommitted, kAborted };
  struct Tx {
    TxState state = TxState::kActive;
    std::map<std::string, std::optional<Node>> changes;
    std::set<std::string> locks;
  };
  enum class View { kLive, kSnapshot, kOwn };
  struct Handle {
    bool find = false;
    std::string tx;
    std::string path;
    uint64_t id = 0;
    bool read = false;
    bool write = false;
    View view = View::kLive;
    std::string snapshot;
    std::vector<TxfEntry> entries;
    size_t next = 0;
  };

  TxfStatus CheckTx(const std::string& tx) const;
  Tree ViewOf(const std::string& tx) const;
  std::string LockOwner(const std::string& path) const;
  bool OtherLock(const std::string& tx, const std::string& path) const;
  bool OtherLockBeneath(const std::string& tx, const std::string& dir) const;
  bool Live(const Handle& h) const;
  bool NonTxWriterOn(const std::string& path, uint64_t id) const;
  bool TxHandleOn(const std::string& path, uint64_t id) const;
  bool BlockingHandleOn(const std::string& tx, const std::string& path, uint64_t id) const;
  TxfStatus ParentOk(const Tree& view, const std::string& path) const;
  TxfStatus CreateOk(const std::string& tx, const std::string& path) const;
  TxfStatus WriterOpenOk(const std::string& tx, const std::string& path, const Node& node) const;
  TxfStatus RemoveOk(const std::string& tx, const Tree& view, const std::string& path, const Node& node) const;
  TxfStatus HandleOk(int handle, bool find) const;
  void Change(const std::string& tx, const std::string& path, std::optional<Node> node);
  TxfStatus ChangeContents(int handle, const std::string& contents);

  Options options_;
  Tree committed_ = {{"\\", Node{true, 1, ""}}};
  std::map<std::string, Tx> txs_;
  std::map<int, Handle> handles_;
  uint64_t next_id_ = 2;
  int next_handle_ = 1;
};

}  // namespace model
