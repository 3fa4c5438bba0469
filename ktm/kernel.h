// Kernel: the KTM of one simulated host: its transaction managers,
// transactions, resource managers, enlistments and handle table, and the
// commit protocol as explicit state machines.
//
// Contract: the Kernel sees the world only through its sim::Host (timers,
// disks, trace, Rng). It is destroyed when the host crashes; a fresh Kernel
// on the restarted host recovers from the TM log (RecoverTransactionManager)
// and the RMs recover through RecoverResourceManager. Every state transition
// is one function and one trace event ("tx.state", "en.state"). Broken
// invariants are KTM_ASSERTs; world and API errors are NTSTATUS values.
// The public entry points are ktm/api.h; this header is for the engine and tests.
//
// Logging (presumed abort): a durable TM forces exactly one record per
// committed transaction that has durable prepared enlistments (the commit
// decision, listing those enlistments and their recovery blobs) before any
// COMMIT is sent; it writes an unforced end record once every enlistment
// acknowledged; nothing is logged for aborts, read-only or single-phase
// transactions. A checkpoint record + restart area advances the log base.
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <deque>
#include <iterator>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "ktm/bugs.h"
#include "ktm/codec.h"
#include "ktm/log/log.h"
#include "ktm/status.h"
#include "ktm/types.h"
#include "sim/function.h"
#include "sim/host.h"
#include "sim/solo_map.h"
#include "sim/rng.h"

namespace ktm {

// The trace names of notifications and transaction and enlistment states,
// with their digest words, by table lookup (the hot trace events: a load
// instead of a switch that builds the name; names.cc stays the catalog and
// fills the tables once). Any value the tables do not hold (no single
// notification bit, an unknown state) takes names.cc's function.
namespace trace_names {
struct Tables {
  sim::TraceName notification[32];  // by bit index
  sim::TraceName tx_state[12];      // by TxState value
  sim::TraceName en_state[20];      // [0]: kUninitialized; [i]: EnState value 255 + i
};
extern const Tables kTables;
}  // namespace trace_names

[[gnu::always_inline]] inline sim::TraceName NotificationTraceNameFast(uint32_t notification) {
  if (notification == 0 || (notification & (notification - 1)) != 0) return NotificationTraceName(notification);
  return trace_names::kTables.notification[std::countr_zero(notification)];
}
[[gnu::always_inline]] inline sim::TraceName TxStateTraceNameFast(TxState state) {
  const auto index = static_cast<uint32_t>(state);
  if (index >= std::size(trace_names::kTables.tx_state)) return TxStateTraceName(state);
  return trace_names::kTables.tx_state[index];
}
[[gnu::always_inline]] inline sim::TraceName EnStateTraceNameFast(EnState state) {
  const auto value = static_cast<uint32_t>(state);
  const uint32_t index = value == 0 ? 0 : value - 255;
  if ((value != 0 && value < 256) || index >= std::size(trace_names::kTables.en_state)) return EnStateTraceName(state);
  return trace_names::kTables.en_state[index];
}

// A Guid's short form as a trace field's value: the number Guid::Short()
// records (its hi word as a TraceHex), inline, where Short() is a call into
// names.cc that builds a 32-byte GuidShort for every trace event.
[[gnu::always_inline]] inline sim::TraceHex TraceShort(const Guid& id) { return sim::TraceHex{id.hi}; }

class Kernel;
struct Tm;
struct Tx;
struct Rm;
struct En;

using Completion = std::function<void(NTSTATUS)>;
// A transaction's commit (or rollback) callers: almost always one, kept inline.
using Completions = absl::InlinedVector<Completion, 1>;
// What GetNotificationResourceManagerAsync calls back: captures of up to 24
// bytes (an RM's `this` and its weak_ptr liveness guard) live inside it, so
// re-arming the wait after every notification allocates nothing; it is the
// size of a std::function, so a deferred delivery of it with its
// notification still fits one inline scheduler callback. The notification
// is passed by reference (72 bytes: a copy per call otherwise).
using NotificationDone = sim::InlineFunction<void(NTSTATUS, const TRANSACTION_NOTIFICATION&), 24, 8>;
static_assert(sizeof(NotificationDone) == 32 && alignof(NotificationDone) == 8);

// One enlistment as the TM log remembers it.
struct LoggedEnlistment {
  Guid enlistment_id;
  Guid rm_id;
  std::vector<uint8_t> recovery_blob;
};

struct Tm {
  Guid id;
  bool is_volatile = false;
  std::string log_name;
  TmState state = TmState::kUninitialized;
  uint64_t clock = 1;
  std::unique_ptr<log::Log> log;
  log::RecoveredLog recovered;             // what Open found, replayed by Recover
  std::set<Guid> known_rms;                // durable RMs registered in the log
  // Live (not forgotten) transactions that were logged, in id order (the
  // checkpoint and RM recovery walk them). A SoloMap: one (the only one, in
  // most runs) outside the tree, so a logged commit costs no tree insert and
  // rebalancing erase.
  sim::SoloMap<Guid, std::shared_ptr<Tx>> transactions;
  uint64_t ends_since_checkpoint = 0;
  bool checkpoint_in_flight = false;
  uint64_t log_bytes = 0;                  // capacity of the log on its disk
  uint64_t commit_records = 0;             // statistics
  uint64_t handles = 0;
};

// Tx and En: every member has an initializer (or a constructor of its own):
// the hot paths make them with std::make_shared_for_overwrite (kernel.cc).
struct Tx {
  Guid id;
  Tm* tm = nullptr;                        // bound at first enlistment
  TxState state = TxState::kActive;
  TRANSACTION_OUTCOME outcome = TransactionOutcomeUndetermined;
  std::string description;
  uint32_t timeout_ms = 0;
  sim::EventId timeout_timer = sim::kNoEvent;
  uint64_t handles = 0;
  absl::InlinedVector<std::shared_ptr<En>, 4> enlistments;  // in enlist order (a few inline)
  uint32_t pending = 0;                    // responses awaited in the current phase
  bool commit_requested = false;
  bool logged = false;                     // a commit record was appended
  bool recovered = false;                  // rebuilt from the log
  bool prepared_logged = false;            // a subordinate "prepared" record was appended
  std::shared_ptr<En> superior;            // the superior enlistment, if any
  uint64_t clock = 0;
  Completions commit_waiters;
  Completions rollback_waiters;
  // The current phase's notifications, for planted bug 7 (kBugTrustResponseOrder).
  const En* phase_last_notified = nullptr; // the enlistment notified last
  uint32_t phase_notified = 0;             // how many were notified
  bool phase_answered = false;             // a response of this phase came in
};

struct Rm {
  Guid id;
  Tm* tm = nullptr;
  bool is_volatile = false;
  std::string description;
  bool online = true;
  uint64_t handles = 0;
  std::deque<TRANSACTION_NOTIFICATION> queue;
  NotificationDone waiter;
  sim::EventId waiter_timer = sim::kNoEvent;
  // The RM's enlistments, for aborting their transactions when it closes.
  // An entry goes when its transaction is forgotten (kernel.cc
  // UntrackEnlistment); entries whose enlistment or transaction is gone
  // otherwise are pruned as the list grows (TrackEnlistment), so it stays
  // within about twice the live ones instead of growing with every
  // transaction ever enlisted.
  std::vector<std::weak_ptr<En>> enlistments;
  size_t enlistments_after_prune = 0;      // size of `enlistments` after the last pruning
  uint32_t chain = 0;                      // scheduler chain of deliveries to this RM (PCT)
};

// Every member has an initializer: see Tx.
struct En {
  Guid id;
  uint64_t key = 0;
  uint32_t mask = 0;
  uint32_t options = 0;
  std::shared_ptr<Rm> rm;                  // null for a recovered enlistment until its RM opens
  Guid rm_id;
  std::weak_ptr<Tx> tx;
  Guid tx_id;                              // tx's id (Notify reads it without locking tx)
  HANDLE tx_handle = INVALID_HANDLE_VALUE; // the handle of tx it was created through (ResponseCheck)
  EnState state = EnState::kActive;
  std::vector<uint8_t> recovery_blob;
  uint64_t handles = 0;
  bool awaited = false;                    // the TM waits for this enlistment's response
  bool superior = false;                   // ENLISTMENT_SUPERIOR
  bool durable() const;
};

inline bool En::durable() const { return rm ? !rm->is_volatile : true; }

class Kernel {
 public:
  Kernel(sim::Host* host, uint32_t planted_bug = kBugNone);
  ~Kernel();
  Kernel(const Kernel&) = delete;
  Kernel& operator=(const Kernel&) = delete;

  sim::Host* host() const { return host_; }
  uint32_t planted_bug() const { return planted_bug_; }
  // Forced TM-log writes so far (all TMs of this kernel).
  uint64_t forced_log_writes() const;

  // ---- The API (see ktm/api.h for the contract of each) ----
  NTSTATUS CreateTransaction(uint32_t options, uint32_t timeout_ms, const std::string& description, HANDLE* out);
  NTSTATUS OpenTransaction(const Guid& id, HANDLE* out);
  void CommitTransaction(HANDLE h, Completion done);
  NTSTATUS CommitTransactionAsync(HANDLE h);
  void RollbackTransaction(HANDLE h, Completion done);
  NTSTATUS RollbackTransactionAsync(HANDLE h);
  NTSTATUS GetTransactionInformation(HANDLE h, TRANSACTION_OUTCOME* outcome, uint32_t* timeout_ms,
                                     std::string* description);
  NTSTATUS SetTransactionInformation(HANDLE h, uint32_t isolation_level, uint32_t isolation_flags,
                                     uint32_t timeout_ms, const std::string& description);
  NTSTATUS GetTransactionId(HANDLE h, Guid* id);

  void CreateTransactionManager(const std::string& log_name, uint32_t options,
                                std::function<void(NTSTATUS, HANDLE)> done);
  void OpenTransactionManager(const std::string& log_name, std::function<void(NTSTATUS, HANDLE)> done);
  NTSTATUS OpenTransactionManagerById(const Guid& id, HANDLE* out);
  void RecoverTransactionManager(HANDLE h, uint64_t clock_limit, Completion done);
  NTSTATUS GetTransactionManagerId(HANDLE h, Guid* id);
  NTSTATUS GetCurrentClockTransactionManager(HANDLE h, uint64_t* clock);

  NTSTATUS CreateResourceManager(const Guid& id, uint32_t options, HANDLE tm, const std::string& description,
                                 HANDLE* out);
  NTSTATUS OpenResourceManager(HANDLE tm, const Guid& id, HANDLE* out);
  NTSTATUS RecoverResourceManager(HANDLE h);
  NTSTATUS GetNotificationResourceManager(HANDLE h, TRANSACTION_NOTIFICATION* out);
  // done by rvalue reference: moved once, into the RM's waiter (api.h's by-value parameter moves in).
  void GetNotificationResourceManagerAsync(HANDLE h, sim::TimeNs timeout, NotificationDone&& done);
  // GetNotificationResourceManagerAsync past its common case (an RM
  // re-arming with nothing queued and no timeout): rm is h's RM when
  // s (its lookup's status) is STATUS_SUCCESS.
  void WaitForNotification(HANDLE h, Rm* rm, NTSTATUS s, sim::TimeNs timeout, NotificationDone&& done);

  NTSTATUS CreateEnlistment(HANDLE rm, HANDLE tx, uint32_t mask, uint32_t options, uint64_t key, HANDLE* out);
  NTSTATUS OpenEnlistment(HANDLE rm, const Guid& id, HANDLE* out);
  NTSTATUS RecoverEnlistment(HANDLE h, uint64_t key);
  NTSTATUS PrePrepareComplete(HANDLE h, uint64_t* clock);
  NTSTATUS PrepareComplete(HANDLE h, uint64_t* clock);
  NTSTATUS CommitComplete(HANDLE h, uint64_t* clock);
  NTSTATUS RollbackComplete(HANDLE h, uint64_t* clock);
  NTSTATUS ReadOnlyEnlistment(HANDLE h, uint64_t* clock);
  NTSTATUS SinglePhaseReject(HANDLE h, uint64_t* clock);
  NTSTATUS RollbackEnlistment(HANDLE h, uint64_t* clock);
  NTSTATUS RequestOutcomeEnlistment(HANDLE h, uint64_t* clock);
  NTSTATUS PrePrepareEnlistment(HANDLE h, uint64_t* clock);
  NTSTATUS PrepareEnlistment(HANDLE h, uint64_t* clock);
  NTSTATUS CommitEnlistment(HANDLE h, uint64_t* clock);
  NTSTATUS GetEnlistmentId(HANDLE h, Guid* id);
  NTSTATUS GetEnlistmentRecoveryInformation(HANDLE h, std::vector<uint8_t>* blob);
  NTSTATUS SetEnlistmentRecoveryInformation(HANDLE h, const std::vector<uint8_t>& blob);

  NTSTATUS CloseHandle(HANDLE h);

  // The Win32 facade's last error (ktm/ktmw32.h): per kernel, since a
  // simulated host runs one thread of control.
  uint32_t win32_last_error() const { return win32_last_error_; }
  void set_win32_last_error(uint32_t error) { win32_last_error_ = error; }

  // ---- Introspection for tests and the harness ----
  size_t open_handles() const { return open_handles_; }
  const Tx* FindTransaction(const Guid& id) const;
  // What the kernel holds right now; a long run must not grow any of these.
  struct LiveCounts {
    size_t transactions = 0;     // not yet forgotten
    size_t handles = 0;
    size_t rm_enlistments = 0;   // entries of every open RM's enlistment list
  };
  LiveCounts Live() const;

 private:
  using Object = std::variant<std::shared_ptr<Tm>, std::shared_ptr<Tx>, std::shared_ptr<Rm>, std::shared_ptr<En>>;
  // The object of handle h: a pointer to its shared_ptr in the handle table
  // (valid until the table changes: NewHandle, CloseHandle), a copy of it,
  // or the raw object (alive while the handle is open: for calls that close
  // no handle, where a copy would cost an atomic increment and decrement).
  template <typename T>
  NTSTATUS LookupSlot(HANDLE h, const std::shared_ptr<T>** out) const;
  template <typename T>
  NTSTATUS Lookup(HANDLE h, std::shared_ptr<T>* out) const;
  template <typename T>
  NTSTATUS Lookup(HANDLE h, T** out) const;
  // Typed (no variant built, visited and destroyed around the object):
  // T is Tm, Tx, Rm or En.
  template <typename T>
  HANDLE NewHandle(std::shared_ptr<T> object);
  Guid NewGuid();
  // A kernel trace event at Now() with one to three fields, inline: a run
  // nobody observes hashes the fields in place (sim::Trace::RecordEach; what
  // Host::TraceEvent does, called directly so that it inlines).
  template <class... Fields>
  [[gnu::always_inline]] void TraceEach(sim::TraceName kind, const Fields&... fields) {
    host_->trace()->RecordEach(host_->scheduler()->Now(), host_->id(), kind, fields...);
  }
  [[gnu::always_inline]] void Trace(sim::TraceName kind, const sim::TraceField& a) { TraceEach(kind, a); }
  [[gnu::always_inline]] void Trace(sim::TraceName kind, const sim::TraceField& a, const sim::TraceField& b) {
    TraceEach(kind, a, b);
  }
  [[gnu::always_inline]] void Trace(sim::TraceName kind, const sim::TraceField& a, const sim::TraceField& b,
                                    const sim::TraceField& c) {
    TraceEach(kind, a, b, c);
  }
  // Runs fn at Now() in a later event, unless the kernel is gone by then.
  // Templates so the guard and fn share one inline sim::Callback (no
  // allocation per deferral); expired() suffices: a world is single-threaded.
  template <typename F>
  void Defer(F&& fn) {
    host_->After(0, [alive = std::weak_ptr<bool>(alive_), fn = std::forward<F>(fn)]() mutable {
      if (!alive.expired()) fn();
    });
  }

  // Transaction state machine: one function per transition. Inline at each
  // call site (kernel.cc), where the target state is a constant: its trace
  // name folds to one load, and the call, its frame and the range check on
  // `to` go (about 25 instructions of a ~110 transition).
  [[gnu::always_inline]] inline void SetTxState(Tx& tx, TxState to);
  [[gnu::always_inline]] inline void SetEnState(En& en, EnState to);
  void Notify(En& en, uint32_t notification);
  // Inline in Notify (every notification).
  [[gnu::always_inline]] inline void Enqueue(Rm& rm, const TRANSACTION_NOTIFICATION& n);
  // Hands n to the RM's waiter (taken from rm.waiter) in a later event of
  // the RM's chain. Inline in Enqueue (every notification).
  [[gnu::always_inline]] inline void Deliver(Rm& rm, const TRANSACTION_NOTIFICATION& n);
  // Enqueue's rare case: a waiter, and notifications queued before n: the
  // oldest goes to the waiter, n to the queue.
  void DeliverOldest(Rm& rm, const TRANSACTION_NOTIFICATION& n);
  void RequestCommit(const std::shared_ptr<Tx>& tx);
  void StartPrePrepare(const std::shared_ptr<Tx>& tx);
  void StartPrepare(const std::shared_ptr<Tx>& tx);
  void StartPhase(const std::shared_ptr<Tx>& tx, TxState tx_state, EnState en_state, uint32_t notification);
  void Decide(const std::shared_ptr<Tx>& tx);
  void CommitDecided(const std::shared_ptr<Tx>& tx);
  void Abort(const std::shared_ptr<Tx>& tx, const char* reason);
  void MaybeFinishPhase(const std::shared_ptr<Tx>& tx);
  void Forget(const std::shared_ptr<Tx>& tx);
  void SubordinatePrepared(const std::shared_ptr<Tx>& tx);
  NTSTATUS SuperiorCheck(HANDLE h, En** en, std::shared_ptr<Tx>* tx, uint64_t* clock);
  void ArmTimeout(const std::shared_ptr<Tx>& tx);
  void OnTimeout(const Guid& id);
  void CompleteWaiters(Completions& waiters, NTSTATUS status);
  bool InPrePrepareOrEarlier(const Tx& tx) const;
  NTSTATUS ResponseCheck(HANDLE h, En** en, std::shared_ptr<Tx>* tx, uint64_t* clock);
  void MergeClock(Tm* tm, uint64_t* clock);
  // CloseHandle's follow-ups: the last handle of an unprepared or delegated
  // enlistment closed; the last handle of an RM closed.
  void CloseEnlistment(const std::shared_ptr<En>& en);
  void CloseResourceManager(Rm& rm);
  // Planted bug 7 (called only when it is planted): notes which enlistment
  // answered a phase first; true when the bug took its shortcut and finished
  // the phase itself.
  bool TrustResponseOrder(const std::shared_ptr<Tx>& tx, const En* en);
  // Defer in the delivery chain of an RM (Scheduler chains; only PCT looks at them).
  template <typename F>
  void DeferToRm(const Rm& rm, F&& fn);

  // Log plumbing.
  void AppendRmRegistration(Tm& tm, const Rm& rm);
  void MaybeCheckpoint(Tm& tm);
  void ReplayLog(Tm& tm, uint64_t clock_limit);
  void RebuildTransaction(Tm& tm, const struct CommitRecord& record);
  void FinishOpenTm(const std::shared_ptr<Tm>& tm, std::function<void(NTSTATUS, HANDLE)> done,
                    absl::StatusOr<log::RecoveredLog> recovered, bool create_if_absent);

  sim::Host* host_;
  uint32_t planted_bug_;
  uint32_t response_order_streak_ = 0;     // planted bug 7: phases answered last-notified-first in a row
  sim::Rng rng_;
  uint64_t incarnation_;
  HANDLE next_handle_ = 4;
  // Looked up on every call, never iterated (no order to keep): hash maps,
  // which keep their slots when entries go, so steady commits allocate nothing.
  // The open handles. Handle values go up by 4 and are never reused, so a
  // handle lives in slot (h / 4) % kHandleSlots of handle_slots_ (a direct
  // index: no hashing), unless an older open handle holds that slot (one
  // that outlived kHandleSlots newer ones: an RM's, a long transaction's):
  // then in handles_overflow_.
  struct HandleSlot {
    HANDLE handle = INVALID_HANDLE_VALUE;  // INVALID_HANDLE_VALUE: free
    Object object;
  };
  static constexpr size_t kHandleSlots = 1024;
  static size_t HandleSlotIndex(HANDLE h) { return (h >> 2) % kHandleSlots; }
  std::vector<HandleSlot> handle_slots_ = std::vector<HandleSlot>(kHandleSlots);
  absl::flat_hash_map<HANDLE, Object> handles_overflow_;
  size_t open_handles_ = 0;
  // The object of handle h (valid until a handle opens or closes); nullptr
  // when h is not open.
  const Object* FindHandle(HANDLE h) const {
    const HandleSlot& slot = handle_slots_[HandleSlotIndex(h)];
    if (slot.handle == h && h != INVALID_HANDLE_VALUE) [[likely]] return &slot.object;
    return FindOverflowHandle(h);
  }
  const Object* FindOverflowHandle(HANDLE h) const;
  std::map<Guid, std::shared_ptr<Tm>> tms_;
  // A transaction id is two words of the kernel's Rng (NewGuid; a recovered
  // one was made so before the crash): its high word is as good a hash as
  // absl's mix of both words, which is a chain of two multiplies per lookup
  // (a commit looks its transaction up 4 to 10 times). Only lookup speed
  // depends on it: transactions_ is never iterated.
  struct TransactionIdHash {
    size_t operator()(const Guid& id) const { return static_cast<size_t>(id.hi); }
  };
  absl::flat_hash_map<Guid, std::shared_ptr<Tx>, TransactionIdHash> transactions_;  // every transaction not yet forgotten
  std::map<Guid, std::shared_ptr<Rm>> rms_;
  std::set<std::shared_ptr<Tm>> opening_;  // TMs whose log is being opened or formatted
  std::shared_ptr<bool> alive_;  // callbacks check it: the kernel may be destroyed by a crash
  Writer record_writer_;  // reused by the hot log records (commit, end): Reset, encode, view()
  uint32_t win32_last_error_ = 0;
};

}  // namespace ktm
