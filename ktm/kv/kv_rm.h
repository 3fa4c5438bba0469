// KvRm: a small durable key-value resource manager, written the way a user
// of ktm/api.h would write one. It is the example "user RM" of ktmsim.
//
// Contract:
// - Data: string keys -> string values, per RM. Isolation: read committed
//   plus read-your-own-writes; one writer per key (an exclusive lock from the
//   first write until the outcome); a second writer gets
//   STATUS_TRANSACTIONAL_CONFLICT. Readers never block.
// - Durability: its own CLFS-style log (ktm/log) on its own sim Disk. At
//   PREPARE it forces a prepare record with the transaction's writes, then
//   calls PrepareComplete; at COMMIT it makes the writes visible, forces a
//   commit record, then CommitComplete; at SINGLE_PHASE_COMMIT it forces one
//   commit record with the writes. A transaction that wrote nothing votes
//   read-only. Rollbacks log nothing forced.
// - Recovery (Start on a restarted host): replay its own log (committed
//   state + prepared-but-undecided transactions, which keep their locks),
//   then Open (or Create) its KTM RM, RecoverResourceManager, and for each
//   RECOVER: OpenEnlistment + RecoverEnlistment; prepared transactions with
//   no RECOVER by LAST_RECOVER are rolled back (presumed abort).
// - Every step is traced ("kv.*" events) for the harness's history.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "ktm/api.h"
#include "ktm/log/log.h"
#include "sim/host.h"

namespace ktm::kv {

struct KvOptions {
  std::string name;                 // for traces
  Guid rm_id;                       // persistent identity
  bool durable = true;
  bool single_phase = true;         // ask for SINGLE_PHASE_COMMIT
  double vote_no_probability = 0;
  double reject_single_phase_probability = 0;
  sim::TimeNs response_delay_ns = 0;
};

class KvRm {
 public:
  // disk: the RM's own log disk (ignored for a volatile RM).
  KvRm(Kernel* kernel, sim::Host* host, sim::Disk* disk, HANDLE tm, KvOptions options);
  ~KvRm();
  KvRm(const KvRm&) = delete;
  KvRm& operator=(const KvRm&) = delete;

  // Opens (or formats) its log, rebuilds its state, registers with KTM and
  // starts recovery. done(STATUS_SUCCESS) once it accepts work.
  void Start(std::function<void(NTSTATUS)> done);
  bool online() const { return online_; }
  bool recovery_done() const { return recovery_done_; }

  // Transactional write/read through the client's transaction handle (the
  // RM enlists on first use). Read with INVALID_HANDLE_VALUE: committed value.
  NTSTATUS Write(HANDLE transaction, const std::string& key, const std::string& value);
  NTSTATUS Read(HANDLE transaction, const std::string& key, std::string* value);
  // Simulates an RM disconnect for one transaction: closes its enlistment.
  NTSTATUS Disconnect(HANDLE transaction);

  const std::map<std::string, std::string>& committed() const { return committed_; }
  const std::string& name() const { return options_.name; }
  HANDLE rm_handle() const { return rm_; }
  uint64_t forced_log_writes() const { return log_ ? log_->forced_writes() : 0; }
  // Transactions prepared (by this RM's log) whose outcome is not known yet.
  size_t in_doubt() const;
  // Transactions (UOW short ids) whose commit record the last Start replayed:
  // lets an observer learn the outcome of a single-phase commit cut by a crash.
  bool ReplayedCommit(const std::string& uow_short) const { return replayed_commits_.count(uow_short) > 0; }

 private:
  enum class Phase { kActive, kPreparing, kPrepared, kDone };
  struct TxContext {
    Guid uow;
    HANDLE enlistment = INVALID_HANDLE_VALUE;
    uint64_t key = 0;
    Phase phase = Phase::kActive;
    std::map<std::string, std::string> writes;
    bool recovering = false;          // got RECOVER after a restart
    bool single_phase = false;        // a single-phase commit record is being forced
  };

  NTSTATUS Enlist(HANDLE transaction, TxContext** ctx);
  void Arm();
  void OnNotification(NTSTATUS status, TRANSACTION_NOTIFICATION n);
  void Handle(const TRANSACTION_NOTIFICATION& n);
  void OnPrepare(TxContext& ctx);
  void OnCommit(TxContext& ctx);
  void OnSinglePhaseCommit(TxContext& ctx);
  void OnRollback(TxContext& ctx);
  void OnRecover(const TRANSACTION_NOTIFICATION& n);
  void OnLastRecover();
  void Apply(TxContext& ctx);
  void Release(TxContext& ctx);
  void Finish(const Guid& uow);
  void Replay(const log::RecoveredLog& recovered);
  void Register(std::function<void(NTSTATUS)> done);
  void MaybeSnapshot();
  void TraceKv(const char* kind, const TxContext& ctx, std::initializer_list<sim::TraceField> extra = {});
  TxContext* Find(const Guid& uow);
  // Runs fn after the configured response delay, unless this RM is gone.
  void Later(std::function<void()> fn);
  void HandleNext();

  Kernel* kernel_;
  sim::Host* host_;
  sim::Disk* disk_;
  HANDLE tm_;
  KvOptions options_;
  std::deque<TRANSACTION_NOTIFICATION> inbox_;  // delivered, not handled yet (oldest first)
  sim::Rng rng_;
  std::unique_ptr<log::Log> log_;
  HANDLE rm_ = INVALID_HANDLE_VALUE;
  bool online_ = false;
  bool recovery_done_ = false;
  bool snapshot_in_flight_ = false;
  uint64_t next_key_ = 1;
  std::map<std::string, std::string> committed_;
  std::map<Guid, TxContext> txs_;       // by UOW
  std::map<uint64_t, Guid> by_key_;     // enlistment key -> UOW
  std::map<std::string, Guid> locks_;   // key -> writer UOW
  std::set<std::string> replayed_commits_;
  std::shared_ptr<bool> alive_;
  uint32_t chain_ = 0;  // the scheduler chain of this RM's notifications; 0 until first used
};

}  // namespace ktm::kv
