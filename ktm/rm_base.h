// RmBase: the commit-protocol half of every durable resource manager written
// as a user of ktm/api.h: the example KvRm (ktm/kv), TxF (ktm/txf), TxR
// (ktm/txr) and users' RMs are small subclasses that own only their data.
// The KTM side (log open/format, registration, recovery, the notification
// pump) is the shared RmClient (ktm/rm_client.h). The core does: enlist on
// first use, prepare / commit / single-phase commit / rollback with the log
// records and forces of docs/ktm-logging.md (1 forced write per single-phase
// commit, 2 per 2PC commit, 0 for read-only and rollback), recovery (replay,
// RECOVER + RecoverEnlistment, presumed abort at LAST_RECOVER), snapshots
// that advance the log base, and the history report of every step through
// the typed RmObserver (ktm/rm_observer.h), mirrored as "rm.*" trace events
// for people.
//
// A transaction's phase at this RM is an explicit state machine (RmTxPhase,
// kPhaseTransitions): every change goes through one function that asserts
// the transition is in the table and traces "rm.phase" (rm, uow, from, to),
// which coverage counts.
//
// Contract with a subclass (which owns the committed state, the per-
// transaction changes, the locks and the handles):
// - A transaction's changes are encoded once, when it prepares or commits
//   single-phase (EncodeChanges); from then on the core owns those bytes:
//   they go into the prepare / single-phase record, and on commit
//   ApplyChanges(bytes) makes them the committed state (also on replay).
// - The subclass accepts changes only while PhaseOf(uow) == kActive, and
//   reports each read and write with ReportRead / ReportWrite.
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
//   kStateBytesUnbounded: no bound; a snapshot that does not fit one record
//   is then not taken (the log keeps growing until it is full).
// - Paged storage (issue 22, docs/rm-storage.md "RMs on the store"): on a
//   disk of kPagedDiskBytesMin or more, an RM whose subclass supports it
//   (SupportsPagedStorage) keeps its committed state as records of a
//   storage::PageStore on the same disk instead of snapshot records: the RM
//   log takes [0, L), the store's log [L, 2L) and its data pages the rest
//   (L = PagedLogBytes(disk size)). The subclass reports every committed record it changes
//   (MarkCommittedDirty: the key of one record); when the RM log is a
//   quarter full the core appends a store-snapshot record (only the prepared
//   transactions), commits the dirty records' current values to the store
//   (CommittedRecord) and, once they are durable there, moves the log base
//   to that record. Start recovers the store (ARIES redo), loads its records
//   (LoadCommittedRecord) and then replays the RM log from its base as
//   before (puts are idempotent, so a flush cut by a crash is harmless).
//   State is limited by the disk (PagedCapacityBytes), not by a record.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "ktm/api.h"
#include "ktm/codec.h"
#include "ktm/log/log.h"
#include "ktm/rm_client.h"
#include "ktm/rm_observer.h"
#include "ktm/storage/page_store.h"
#include "sim/host.h"
#include "sim/solo_map.h"

namespace ktm {

// Protocol bugs an RM can be told to commit on purpose, so that a
// conformance kit (`ktmsim conform`, harness/conform.h) can prove it catches
// each one by the rule of the RM contract it breaks. kNone in every real RM;
// examples/ledger maps its `bug` option onto them.
enum class RmProtocolBug : uint8_t {
  kNone,
  kPrepareCompleteBeforeForce,  // PrepareComplete without forcing the prepare record
  kIgnoreRollback,              // a ROLLBACK of an active transaction is neither applied nor answered
  kSkipRecoverEnlistment,       // RECOVER is taken but never answered with RecoverEnlistment
  kDecideInDoubt,               // INDOUBT: abort on its own instead of waiting for the outcome
};

struct RmOptions {
  std::string name;                 // the "rm" field of trace events
  Guid rm_id;                       // persistent identity
  bool durable = true;              // false: volatile RM, no log, state lost in a crash
  bool single_phase = true;         // ask for SINGLE_PHASE_COMMIT
  double vote_no_probability = 0;
  double reject_single_phase_probability = 0;
  sim::TimeNs response_delay_ns = 0;
  uint32_t transactions_max = 256;  // transactions enlisted at once (more: STATUS_INSUFFICIENT_RESOURCES)
  // > 0: a transaction still prepared (no COMMIT or ROLLBACK yet) this long
  // after the RM's yes vote gets TmRequestOutcomeEnlistment (reported to the
  // observer first); under a superior KTM asks the superior
  // (TRANSACTION_NOTIFY_REQUEST_OUTCOME). 0: never.
  sim::TimeNs request_outcome_after_ns = 0;
  RmObserver* observer = nullptr;   // the run's history recorder (not owned; may be null)
  RmProtocolBug protocol_bug = RmProtocolBug::kNone;  // test-only, see RmProtocolBug
  // Paged storage: flush the dirty records to the store once the RM log
  // holds this many bytes past its base; 0: a quarter of the RM log.
  uint64_t paged_flush_log_bytes = 0;
  // Unpaged: take a snapshot once the RM log holds this many bytes past its
  // base (at most a quarter of the log); 0: the default policy,
  // max(kSnapshotLogBytesMin, 4 x the last snapshot), at most a quarter.
  uint64_t snapshot_log_bytes = 0;
};

inline constexpr uint64_t kSnapshotLogBytesMin = 64 * 1024;

// Where a transaction stands at this RM. kNone: unknown (never enlisted, or
// finished and forgotten). kActive: taking work. kPreparing: the prepare
// record is being forced. kPrepared: voted yes, waiting for the outcome.
// kSinglePhase: the RM's own commit record (SINGLE_PHASE_COMMIT) is being
// forced: that decides. kDone: outcome settled, enlistment not closed yet.
inline constexpr uint64_t kStateBytesUnbounded = UINT64_MAX;

// Paged storage layout of an RM disk (see the file comment).
inline constexpr uint64_t kPagedDiskBytesMin = 16ull * 1024 * 1024;
// The RM log and the store's log each take an eighth of the disk, at least
// 4 MiB (a 16 MiB disk: 4 + 4 MiB of logs, 8 MiB of pages), at most 64 MiB:
// a flush rewrites the pages its records hash to (and logs their images),
// so the more log between flushes, the less page work per record.
inline constexpr uint64_t kPagedLogBytesMin = 4ull * 1024 * 1024;
inline constexpr uint64_t kPagedLogBytesMax = 64ull * 1024 * 1024;
inline constexpr uint32_t kPagedPageBytes = 16 * 1024;
inline constexpr uint32_t kPagedFramesMax = 128;          // buffer pool: 2 MiB of pages
// Bytes of the RM log (and of the store's log) on a paged disk.
uint64_t PagedLogBytes(uint64_t disk_bytes);
// The share of the data region the RM lets its records use (a static hash
// directory: a page must not overflow; 1/4 keeps that improbable).
inline constexpr uint64_t kPagedFillDivisor = 4;
// The store options of a paged RM disk of disk_bytes (>= kPagedDiskBytesMin).
storage::StorageOptions PagedStorageOptions(uint64_t disk_bytes);

enum class RmTxPhase : uint8_t { kNone, kActive, kPreparing, kPrepared, kSinglePhase, kDone };
inline constexpr size_t kRmTxPhaseCount = 6;

// "none", "active", "preparing", "prepared", "single_phase", "done".
const char* RmTxPhaseName(RmTxPhase phase);
sim::TraceName RmTxPhaseTraceName(RmTxPhase phase);  // with its trace digest word

// The allowed phase changes: kPhaseTransitions[from] has bit `to` set.
bool RmTxPhaseTransitionAllowed(RmTxPhase from, RmTxPhase to);

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
  bool online() const { return client_.online(); }
  bool recovery_done() const { return recovery_done_; }
  const std::string& name() const { return options_.name; }
  HANDLE rm_handle() const { return client_.rm(); }
  uint64_t forced_log_writes() const { return log() ? log()->forced_writes() : 0; }
  // Transactions prepared (by this RM's log) whose outcome is not known yet.
  size_t in_doubt() const;
  // Whether the last Start replayed a commit record of this transaction
  // (short UOW id): the outcome of a single-phase commit cut by a crash.
  bool ReplayedCommit(const std::string& uow_short) const { return replayed_commits_.count(uow_short) > 0; }
  // Log records the last Start replayed (what recovery had to read past the base).
  uint64_t replayed_records() const { return replayed_records_; }
  // Simulates an RM disconnect for one transaction: closes its enlistment.
  NTSTATUS Disconnect(HANDLE transaction);
  // Replaces the history observer (RmOptions::observer); nullptr: none.
  void set_observer(RmObserver* observer) {
    options_.observer = observer;
    observed_rm_.key = observer ? observer->RmKey(options_.name) : 0;
  }
  // The committed state as history key -> value texts (what the writes of
  // committed transactions left, as ReportWrite named them), for final-value checks.
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
  // Paged storage (optional; default: not supported, snapshot records).
  virtual bool SupportsPagedStorage() const { return false; }
  // The store record of a committed key (nullopt: the key is gone).
  virtual std::optional<std::string> CommittedRecord(const std::string& key) const;
  // Adds one store record to the committed state (Start, before the replay).
  virtual void LoadCommittedRecord(const std::string& key, const std::string& record);
  // Paged storage: whether Start streams every store record into the RM
  // (LoadCommittedRecord). An RM that keeps only a bounded cache of its
  // committed records (KvRm: docs/rm-storage.md "Memory bounded by the
  // pool") answers false and reads the store on a miss instead.
  virtual bool LoadsStoreAtStart() const { return true; }
  // Paged storage: these records (captured by a flush) are now in the
  // store: a cache may drop the ones not dirtied again since (IsCommittedDirty).
  virtual void CommittedRecordsStored(std::span<const storage::Change> /*records*/) {}

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
  // History reports of a transaction's read / write (key and value in the
  // RM's own terms; "" for absent or deleted), to the observer and the trace.
  void ReportRead(const Guid& uow, std::string_view key, std::string_view value);
  void ReportWrite(const Guid& uow, std::string_view key, std::string_view value);
  // A trace event `kind` of a transaction (for people; the history goes
  // through the observer): {"rm", name}, {"uow", short}, extra...
  void TraceTx(sim::TraceName kind, const Guid& uow, std::initializer_list<sim::TraceField> extra);
  // The same with no, one or two extra fields, inline: a run nobody observes
  // hashes the fields in place, never building an array of them
  // (sim::Trace::RecordEach; what Host::TraceEvent does, called directly so
  // that it inlines).
  template <class... Extra>
  [[gnu::always_inline]] void TraceTxEach(sim::TraceName kind, const Guid& uow, const Extra&... extra) {
    host_->trace()->RecordEach(host_->scheduler()->Now(), host_->id(), kind, sim::TraceField("rm", trace_name_),
                               sim::TraceField("uow", TraceShort(uow)), extra...);
  }
  [[gnu::always_inline]] void TraceTx(sim::TraceName kind, const Guid& uow) { TraceTxEach(kind, uow); }
  [[gnu::always_inline]] void TraceTx(sim::TraceName kind, const Guid& uow, const sim::TraceField& extra) {
    TraceTxEach(kind, uow, extra);
  }
  [[gnu::always_inline]] void TraceTx(sim::TraceName kind, const Guid& uow, const sim::TraceField& extra1,
                                      const sim::TraceField& extra2) {
    TraceTxEach(kind, uow, extra1, extra2);
  }
  // An RM event "<prefix>.<what>" with {"rm", name} first.
  void TraceRm(const std::string& what, std::initializer_list<sim::TraceField> extra = {});
  Kernel& kernel() { return *kernel_; }
  sim::Host* host() const { return host_; }
  // Paged storage: a committed record changed (flushed to the store later).
  void MarkCommittedDirty(const std::string& key) {
    if (paged_) dirty_keys_.insert(key);
  }
  // Whether a committed record changed since the last flush captured it.
  bool IsCommittedDirty(const std::string& key) const { return dirty_keys_.count(key) > 0; }

 public:
  // Whether the committed state lives on the store (decided by the disk size
  // at construction; off again at Start if the subclass does not support it).
  bool paged() const { return paged_; }
  // Bytes of records the disk takes (0 when not paged): the state bound.
  uint64_t PagedCapacityBytes() const;
  // The store (nullptr when not paged or before Start): tests and stats.
  storage::PageStore* store() const { return store_.get(); }

 protected:

 private:
  struct TxContext {
    Guid uow;
    HANDLE enlistment = INVALID_HANDLE_VALUE;
    uint64_t key = 0;
    RmTxPhase phase = RmTxPhase::kNone;
    std::vector<uint8_t> changes;     // encoded at prepare / single-phase / replay
    bool prepare_logged = false;      // a prepare record was appended
    bool recovering = false;          // got RECOVER after a restart
    bool outcome_reported = false;    // committed / aborted reported
    // Resets to a fresh context but keeps the changes buffer's capacity (up
    // to kKeptChangesBytesMax) for the next transaction: txs_ reuses its
    // values (sim::SoloMap calls this on erase), so steady commits
    // encode their changes without allocating.
    void clear();
  };
  static constexpr size_t kKeptChangesBytesMax = 4096;

  // The one place a phase changes: asserts the transition, traces "rm.phase".
  // Inline at each call site (rm_base.cc), where `to` is a constant: its
  // trace name's digest word folds and the call and its frame go.
  [[gnu::always_inline]] inline void SetPhase(TxContext& ctx, RmTxPhase to);
  // The history reports of a vote and of a commit: inline at each call site
  // (rm_base.cc), where the vote is a constant (its trace name's digest word
  // folds) and the call and its frame go.
  [[gnu::always_inline]] inline void ReportVote(TxContext& ctx, RmVote vote, std::string_view why);
  [[gnu::always_inline]] inline void ReportCommitted(TxContext& ctx);
  void ReportAborted(TxContext& ctx, std::string_view why);
  void Handle(const TRANSACTION_NOTIFICATION& n);
  // The history report and trace event of a notification to ctx's
  // transaction: inline in each case of Handle's switch, where `what` is a
  // constant (its trace name a load from a fixed place, no test, index or
  // fallback call).
  [[gnu::always_inline]] inline void ReportNotify(const TxContext& ctx, uint32_t what);
  // A yes/no decision about ctx's transaction, true with `probability`
  // (its stream: see rm_base.cc).
  // Inline at its two call sites (OnPrepare, OnSinglePhaseCommit: every 2PC
  // prepare, every single-phase commit).
  [[gnu::always_inline]] inline bool Decide(const TxContext& ctx, std::string_view decision, double probability);
  // enlistment_id: the notification's (ctx's enlistment), for the prepare record.
  void OnPrepare(TxContext& ctx, const Guid& enlistment_id);
  // The force callbacks find their context by enlistment key (FindByKey: an
  // index, where a UOW is a search of txs_); the key is its context's alone.
  void OnPrepareForced(uint64_t key, absl::Status status);
  void OnCommit(TxContext& ctx);
  void OnSinglePhaseCommit(TxContext& ctx);
  void FinishSinglePhase(TxContext& ctx);
  void OnRollback(TxContext& ctx);
  void OnRecover(const TRANSACTION_NOTIFICATION& n);
  void OnInDoubt(TxContext& ctx);
  void OnLastRecover();
  void VoteNo(TxContext& ctx, const std::string& why);
  // RmOptions::request_outcome_after_ns: the timer armed at the yes vote.
  // Inline: with no timer configured (the usual case) it costs no call.
  void ArmRequestOutcome(const Guid& uow) {
    if (options_.request_outcome_after_ns > 0) StartRequestOutcomeTimer(uow);
  }
  void StartRequestOutcomeTimer(const Guid& uow);
  void Abandon(TxContext& ctx, const std::string& why);
  void ApplyBytes(const std::vector<uint8_t>& changes);
  void Finish(const Guid& uow);
  void Replay(const log::RecoveredLog& recovered);
  void ReplayRecord(const log::LogRecord& record, std::map<Guid, std::vector<uint8_t>>& prepared);
  void MaybeSnapshot();
  uint64_t SnapshotLogBytes() const;
  void StartClient(std::function<void(NTSTATUS)> done);
  void FlushToStore();
  void EncodePreparedTransactions(Writer& w) const;
  static void DecodePreparedTransactions(Reader& r, std::map<Guid, std::vector<uint8_t>>& prepared);
  void FlushBatch(std::shared_ptr<std::vector<storage::Change>> changes, size_t next, log::Lsn base);
  // ctx.changes = the subclass's encoding of its changes (EncodeChanges),
  // through changes_writer_ into ctx.changes' kept storage: a Writer made
  // from that buffer zero-filled it to its capacity on every prepare.
  void EncodeTxChanges(TxContext& ctx);
  // Puts `ctx` in txs_ under ctx.uow (a recycled node's changes buffer
  // kept); ctx.uow has no context yet.
  TxContext& Insert(TxContext&& ctx);
  log::Log* log() const { return client_.log(); }

  Kernel* kernel_;
  sim::Host* host_;
  sim::Disk* disk_;
  RmOptions options_;
  std::string trace_prefix_;
  sim::TraceName trace_name_;            // options_.name with its trace digest word (the name never changes)
  ObservedRm observed_rm_;               // options_.name with its key from options_.observer (RmObserver::RmKey)
  sim::Rng rng_;
  RmClient client_;
  bool recovery_done_ = false;
  bool snapshot_in_flight_ = false;
  uint64_t last_snapshot_bytes_ = 0;  // the last snapshot record's size (0: none since the start)
  uint64_t next_key_ = 1;
  // The RM's transactions by UOW (walked in UOW order by snapshots and
  // recovery). A SoloMap: one (the only one, in most runs) outside the tree,
  // so a commit costs no tree insert, search or rebalancing erase.
  sim::SoloMap<Guid, TxContext> txs_;
  // Enlistment key -> its context (in txs_: it stays put until
  // Finish erases both). Keys are handed out in order (next_key_), so a key
  // lives in slot key % kByKeySlots, unless an older live key holds that
  // slot (a transaction that outlived kByKeySlots newer ones): then in
  // by_key_overflow_. Never iterated.
  static constexpr size_t kByKeySlots = 512;
  std::vector<TxContext*> by_key_slots_ = std::vector<TxContext*>(kByKeySlots, nullptr);
  absl::flat_hash_map<uint64_t, TxContext*> by_key_overflow_;
  void IndexKey(TxContext* ctx);
  // Inline where it is used (every notification, every force callback);
  // the overflow search out of line.
  [[gnu::always_inline]] TxContext* FindByKey(uint64_t key) const {
    TxContext* slot = by_key_slots_[key % kByKeySlots];
    if (slot != nullptr && slot->key == key) return slot;
    return by_key_overflow_.empty() ? nullptr : FindByKeyOverflow(key);
  }
  TxContext* FindByKeyOverflow(uint64_t key) const;
  void UnindexKey(const TxContext& ctx);
  std::set<std::string> replayed_commits_;
  uint64_t replayed_records_ = 0;
  // Paged storage.
  bool paged_ = false;
  bool store_failed_ = false;            // a flush failed: the log base stays (records kept)
  std::unique_ptr<storage::PageStore> store_;
  std::set<std::string> dirty_keys_;    // committed records changed since the last flush
  std::shared_ptr<bool> alive_;
  Writer record_writer_;  // reused by the hot log records (prepare, commit, abort): Reset, encode, view()
  Writer changes_writer_;  // reused by EncodeTxChanges
  Writer snapshot_writer_;  // reused by MaybeSnapshot for the committed state
};

}  // namespace ktm
