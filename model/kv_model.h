// KvModel: a sequential reference for a set of transactional key-value RMs,
// the behaviour a correct RM shows one call at a time. Each RM holds a
// committed map; each transaction holds pending writes per RM until Commit
// applies all of them at once (on every RM) or Abort drops them. A read sees
// the reader's own latest pending write, else the committed value (read
// committed + read-your-own-writes); "" stands for absent, and writing ""
// deletes. With Options::write_locks, a write to a key another active
// transaction has written fails with kWriteConflict (exclusive write locks
// held to the end of the transaction, as TxR/TxF do); without it, the model
// never refuses a write and the last committer wins.
//
// It is the model side of stateful tests (RapidCheck commands compare an RM's
// answers with these) and of the checkers' tests, which record its answers as
// a history.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace model {

// What a call on a correct RM returns.
enum class KvStatus {
  kOk,
  kUnknownTransaction,  // no Begin for this tx
  kTransactionExists,   // Begin of a tx id already used
  kNotActive,           // tx already committed or aborted
  kWriteConflict,       // write_locks: another active tx wrote this key
};
const char* KvStatusName(KvStatus status);

struct KvReadResult {
  KvStatus status = KvStatus::kOk;
  std::string value;  // "" = absent (also when status != kOk)

  bool operator==(const KvReadResult&) const = default;
};

enum class KvTxState { kUnknown, kActive, kCommitted, kAborted };

class KvModel {
 public:
  struct Options {
    bool write_locks = false;  // refuse writes to keys another active tx wrote
  };

  KvModel() = default;
  explicit KvModel(Options options) : options_(options) {}

  // Starts `tx`; tx ids are never reused, even after the tx ends.
  KvStatus Begin(const std::string& tx);
  // Buffers key=value at rm for tx ("" deletes at commit).
  KvStatus Write(const std::string& tx, const std::string& rm, const std::string& key,
                 const std::string& value);
  // tx's latest pending write of key at rm, else the committed value.
  KvReadResult Read(const std::string& tx, const std::string& rm, const std::string& key) const;
  // Applies all of tx's pending writes on every RM, in write order per key.
  KvStatus Commit(const std::string& tx);
  // Drops tx's pending writes.
  KvStatus Abort(const std::string& tx);

  KvTxState State(const std::string& tx) const;
  // The committed value of key at rm ("" = absent).
  std::string Committed(const std::string& rm, const std::string& key) const;
  // All committed keys of rm (absent keys are not in the map).
  std::map<std::string, std::string> CommittedState(const std::string& rm) const;
  // RMs where tx has pending writes (an active tx), ascending.
  std::vector<std::string> PendingRms(const std::string& tx) const;
  // An active tx other than `except` with a pending write of key at rm (the
  // smallest such id), "" if none. With write_locks there is at most one.
  std::string LockHolder(const std::string& rm, const std::string& key,
                         const std::string& except = "") const;

 private:
  using RmKey = std::pair<std::string, std::string>;  // (rm, key)
  struct Tx {
    KvTxState state = KvTxState::kActive;
    std::map<RmKey, std::string> pending;  // latest value per (rm, key)
  };

  // The tx if it exists and is active; sets *status otherwise.
  Tx* ActiveTx(const std::string& tx, KvStatus* status);
  const Tx* ActiveTx(const std::string& tx, KvStatus* status) const;

  Options options_;
  std::map<std::string, Tx> txs_;
  std::map<std::string, std::map<std::string, std::string>> committed_;  // rm -> key -> value
};

}  // namespace model
