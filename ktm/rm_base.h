// RmBase: the commit-protocol half of a durable resource manager written as
// a user of ktm/api.h, shared by TxF (ktm/txf) and TxR (ktm/txr). It is the
// protocol of the example KvRm (ktm/kv) with the data part behind a small
// interface: enlist on first use, the notification loop, prepare / commit /
// single-phase commit / rollback with exactly KvRm's log records and forces
// (docs/ktm-logging.md: 1 forced write per single-phase commit, 2 per 2PC
// commit, 0 for read-only and rollback), recovery (replay, Open/Create RM,
// RecoverResourceManager, RECOVER + RecoverEnlistment, presumed abort at
// LAST_RECOVER), snapshots that advance the log base, and the "kv.*" history
// events the harness records (same kinds and fields as KvRm).
//
// Contract with a subclass (which owns the committed state, the per-
// transaction changes, the locks and the handles):
// - A transaction's changes are encoded once, when it prepares or commits
//   single-phase (EncodeChanges); from then on the core owns those bytes:
//   they go into the prepare / single-phase record, and on commit
//   ApplyChanges(bytes) makes them the committed state (also on replay).
// - The subclass accepts changes only while PhaseOf(uow) == kActive.
// - EndTransaction(uow) drops the transaction's changes and locks; the core
//   calls it once the outcome is settled (after ApplyChanges on commit; on
//   rollback, a "no" vote, Doom, presumed abort). It may name a transaction
//   the subclass never saw (an outcome re-delivered after recovery).
// - Non-transacted changes are encoded like a transaction's and go through
//   LogNonTransacted, which appends them, applies them and forces the log
//   without waiting (durable one disk write later; a crash in between may
//   lose the newest ones, never an older one: recovery replays a prefix).
// - StateBytesMax() bounds encoded committed state + every transaction's
//   encoded changes; Start asserts a snapshot of that size fits one record.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "ktm/api.h"
#include "ktm/codec.h"
#include "ktm/log/log.h"
#include "sim/host.h"

namespace ktm {

struct RmOptions {
  std::string name;                 // the "rm" field of trace events
  Guid rm_id;                       // persistent identity
  bool durable = true;              // false: volatile RM, no log, state lost in a crash
  bool single_phase = true;         // ask for SINGLE_PHASE_COMMIT
  double vote_no_probability = 0;
  double reject_single_phase_probability = 0;
  sim::TimeNs response_delay_ns = 0;
  uint32_t transactions_max = 256;  // transactions enlisted at once (more: STATUS_INSUFFICIENT_RESOURCES)
};

// Where a transaction stands at this RM. kNone: unknown (never enlisted, or
// finished and forgotten). kDone: outcome settled, enlistment not closed yet.
enum class RmTxPhase { kNone, kActive, kPreparing, kPrepared, kDone };

class RmBase {
 public:
  // disk: the RM's own log disk (ignored for a volatile RM). trace_prefix
  // names the RM's own (non-history) trace events: "<prefix>.online", ...
  RmBase(Kernel* kernel, sim::Host* host, sim::Disk* disk, HANDLE tm, RmOptions options,
         std::string trace_prefix);
  virtual ~RmBase();
  RmBase(const RmBase&) = delete;
  RmBase& operator=(const RmBase&) = delete;

  // Opens (or formats) the log, rebuilds the state, registers with KTM and
  // starts recovery. done(STATUS_SUCCESS) once it accepts work.
  void Start(std::function<void(NTSTATUS)> done);
  bool online() const { return online_; }
  bool recovery_done() const { return recovery_done_; }
  const std::string& name() const { return options_.name; }
  HANDLE rm_handle() const { return rm_; }
  uint64_t forced_log_writes() const { return log_ ? log_->forced_writes() : 0; }
  // Transactions prepared (by this RM's log) whose outcome is not known yet.
  size_t in_doubt() const;
  // Whether the last Start replayed a commit record of this transaction
  // (short UOW id): the outcome of a single-phase commit cut by a crash.
  bool ReplayedCommit(const std::string& uow_short) const { return replayed_commits_.count(uow_short) > 0; }
  // Simulates an RM disconnect for one transaction: closes its enlistment.
  NTSTATUS Disconnect(HANDLE transaction);
  // The committed state as history key -> value texts (what the "kv.write"
  // events of committed transactions left), for final-value checks.
  virtual std::map<std::string, std::string> committed() const = 0;

 protected:
  // ---- What a subclass provides ----
  virtual bool HasChanges(const Guid& uow) const = 0;
  virtual void EncodeChanges(const Guid& uow, Writer& w) const = 0;
  // Applies encoded changes to the committed state. A record that passed its
  // checksum but does not decode is a programmer error (assert).
  virtual void ApplyChanges(Reader& r) = 0;
  // Replay: a prepared transaction's changes, to take its locks again.
  virtual void RestorePrepared(const Guid& uow, Reader& r) = 0;
  virtual void EndTransaction(const Guid& uow) = 0;
  virtual void EncodeCommitted(Writer& w) const = 0;
  // Replaces the committed state with the decoded one.
  virtual void DecodeCommitted(Reader& r) = 0;
  virtual uint64_t StateBytesMax() const = 0;

  // ---- Services for a subclass ----
  // Joins the transaction behind a client's handle (enlisting on first use).
  // Errors: the kernel's (STATUS_INVALID_HANDLE, STATUS_OBJECT_TYPE_MISMATCH,
  // STATUS_TRANSACTION_NOT_ACTIVE, ...), STATUS_RM_NOT_ACTIVE (not online),
  // STATUS_TRANSACTION_NOT_ACTIVE (this RM is already preparing it),
  // STATUS_INSUFFICIENT_RESOURCES (transactions_max).
  NTSTATUS Enlist(HANDLE transaction, Guid* uow);
  RmTxPhase PhaseOf(const Guid& uow) const;
  // Rolls back an active transaction from the RM side (RollbackEnlistment),
  // dropping its changes at once. False (nothing done) unless it is kActive.
  bool Doom(const Guid& uow, const std::string& why);
  // Logs non-transacted changes, then runs apply (which must apply exactly
  // them). Errors (nothing applied): STATUS_RM_NOT_ACTIVE, STATUS_DISK_FULL
  // (log full), STATUS_UNEXPECTED_IO_ERROR (the log failed).
  NTSTATUS LogNonTransacted(const std::vector<uint8_t>& changes, const std::function<void()>& apply);
  // A history event of a transaction: {"rm", name}, {"uow", short}, extra...
  void TraceTx(const char* kind, const Guid& uow, std::initializer_list<sim::TraceField> extra = {});
  // An RM event "<prefix>.<what>" with {"rm", name} first.
  void TraceRm(const std::string& what, std::initializer_list<sim::TraceField> extra = {});
  Kernel& kernel() { return *kernel_; }
  sim::Host* host() const { return host_; }

 private:
  struct TxContext {
    Guid uow;
    HANDLE enlistment = INVALID_HANDLE_VALUE;
    uint64_t key = 0;
    RmTxPhase phase = RmTxPhase::kActive;
    std::vector<uint8_t> changes;     // encoded at prepare / single-phase / replay
    bool prepare_logged = false;      // a prepare record was appended
    bool recovering = false;          // got RECOVER after a restart
    bool single_phase = false;        // a single-phase commit record is being forced
    bool outcome_traced = false;      // kv.committed / kv.aborted traced
  };

  void Arm();
  void OnNotification(NTSTATUS status, TRANSACTION_NOTIFICATION n);
  void Handle(const TRANSACTION_NOTIFICATION& n);
  void OnPrepare(TxContext& ctx);
  void OnPrepareForced(const Guid& uow, absl::Status status);
  void OnCommit(TxContext& ctx);
  void OnSinglePhaseCommit(TxContext& ctx);
  void FinishSinglePhase(const Guid& uow);
  void OnRollback(TxContext& ctx);
  void OnRecover(const TRANSACTION_NOTIFICATION& n);
  void OnLastRecover();
  void VoteNo(TxContext& ctx, const std::string& why);
  void Abandon(TxContext& ctx, const std::string& why);
  void ApplyBytes(const std::vector<uint8_t>& changes);
  void Finish(const Guid& uow);
  void Replay(const log::RecoveredLog& recovered);
  void ReplayRecord(const log::LogRecord& record, std::map<Guid, std::vector<uint8_t>>& prepared);
  void OnLogOpened(absl::StatusOr<log::RecoveredLog> recovered, std::function<void(NTSTATUS)> done);
  void Register(std::function<void(NTSTATUS)> done);
  void MaybeSnapshot();
  TxContext* Find(const Guid& uow);
  const TxContext* Find(const Guid& uow) const;
  // Runs fn after the configured response delay, unless this RM is gone.
  void Later(std::function<void()> fn);
  void HandleNext();

  Kernel* kernel_;
  sim::Host* host_;
  sim::Disk* disk_;
  HANDLE tm_;
  RmOptions options_;
  std::deque<TRANSACTION_NOTIFICATION> inbox_;  // delivered, not handled yet (oldest first)
  std::string trace_prefix_;
  sim::Rng rng_;
  std::unique_ptr<log::Log> log_;
  HANDLE rm_ = INVALID_HANDLE_VALUE;
  bool online_ = false;
  bool recovery_done_ = false;
  bool snapshot_in_flight_ = false;
  uint64_t next_key_ = 1;
  std::map<Guid, TxContext> txs_;       // by UOW
  std::map<uint64_t, Guid> by_key_;     // enlistment key -> UOW
  std::set<std::string> replayed_commits_;
  std::shared_ptr<bool> alive_;
};

}  // namespace ktm
