// KvRm: a small durable key-value resource manager, the example "user RM"
// of ktmsim: a subclass of RmBase (ktm/rm_base.h) that owns only its data,
// the way a user's RM built on the SDK would.
//
// Contract:
// - Data: string keys -> string values, per RM. Isolation: read committed
//   plus read-your-own-writes; one writer per key (an exclusive lock from the
//   first write until the outcome); a second writer gets
//   STATUS_TRANSACTIONAL_CONFLICT. Readers never block.
// - Limits: with KvOptions::state_bytes_max > 0, the encoded committed
//   state plus every open transaction's writes stay within it (so a snapshot
//   fits one log record); a write past it gets STATUS_DISK_FULL and changes
//   nothing. With 0 (the default) the state is unbounded: a snapshot that
//   does not fit one record is not taken, and the RM's capacity is its log
//   (once full, prepares vote no). On a paged disk (ktm/rm_base.h,
//   kPagedDiskBytesMin) each key is one record of the RM's PageStore and the
//   bound is min(state_bytes_max if set, RmBase::PagedCapacityBytes()).
// - Durability and recovery: RmBase's (prepare record forced before
//   PrepareComplete, commit record before CommitComplete, one commit record
//   for a single-phase commit; replay, RECOVER, presumed abort).
// - History: every enlist, read (an absent key reads as ""), write, vote and
//   outcome goes to the RmObserver (KvOptions::observer) and the trace.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "ktm/rm_base.h"

namespace ktm::kv {

struct KvOptions {
  std::string name;                 // for traces and the history
  Guid rm_id;                       // persistent identity
  bool durable = true;
  bool single_phase = true;         // ask for SINGLE_PHASE_COMMIT
  double vote_no_probability = 0;
  double reject_single_phase_probability = 0;
  sim::TimeNs response_delay_ns = 0;
  RmObserver* observer = nullptr;   // not owned; may be null
  uint64_t state_bytes_max = 0;     // committed state + open writes, encoded; 0: unbounded
  uint64_t paged_flush_log_bytes = 0;  // RmOptions::paged_flush_log_bytes
};

class KvRm : public RmBase {
 public:
  // disk: the RM's own log disk (ignored for a volatile RM).
  KvRm(Kernel* kernel, sim::Host* host, sim::Disk* disk, HANDLE tm, KvOptions options);
  ~KvRm() override;

  // Transactional write/read through the client's transaction handle (the
  // RM enlists on first use). Read with INVALID_HANDLE_VALUE: committed value.
  NTSTATUS Write(HANDLE transaction, const std::string& key, const std::string& value);
  NTSTATUS Read(HANDLE transaction, const std::string& key, std::string* value);

  std::map<std::string, std::string> committed() const override { return committed_; }

 protected:
  bool HasChanges(const Guid& uow) const override;
  void EncodeChanges(const Guid& uow, Writer& w) const override;
  void ApplyChanges(Reader& r) override;
  void RestorePrepared(const Guid& uow, Reader& r) override;
  void EndTransaction(const Guid& uow) override;
  void EncodeCommitted(Writer& w) const override;
  void DecodeCommitted(Reader& r) override;
  uint64_t StateBytesMax() const override;
  bool SupportsPagedStorage() const override { return true; }
  std::optional<std::string> CommittedRecord(const std::string& key) const override;
  void LoadCommittedRecord(const std::string& key, const std::string& record) override;

 private:
  uint64_t BytesMax() const;
  // Bytes a key/value pair takes encoded (two length-prefixed strings).
  static uint64_t PairBytes(const std::string& key, const std::string& value) {
    return 8 + key.size() + value.size();
  }
  // Takes the writes of a transaction (a write or a replayed prepare): locks and byte count.
  void TakeWrite(const Guid& uow, const std::string& key, const std::string& value);

  KvOptions options_;
  std::map<std::string, std::string> committed_;
  std::map<Guid, std::map<std::string, std::string>> writes_;  // per open transaction
  std::map<std::string, Guid> locks_;   // key -> writer UOW
  uint64_t bytes_ = 4;                  // encoded committed state + open writes
};

}  // namespace ktm::kv
