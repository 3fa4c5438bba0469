// The KTM engine of one host: objects, handles, the commit protocol state
// machines and TM-log recovery. See kernel.h for the contract and
// docs/ktm-decisions.md for the choices where KTM's documentation is silent.
#include "ktm/kernel.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ktm/assert.h"
#include "ktm/probes.h"
#include "ktm/codec.h"

namespace ktm {
namespace {

// TM log record types.
constexpr uint16_t kRecRmRegister = 1;
constexpr uint16_t kRecCommit = 2;
constexpr uint16_t kRecEnd = 3;
constexpr uint16_t kRecCheckpoint = 4;
constexpr uint16_t kRecPrepared = 5;  // subordinate prepared, awaiting the superior's outcome
constexpr uint64_t kRestartMagic = 0x4b544d5245535431ull;  // "KTMREST1"
constexpr uint64_t kCheckpointEveryEnds = 64;
constexpr size_t kEnlistmentsPerTransactionMax = 64;
constexpr size_t kRecoveryBlobMax = 1024;

bool IsResponseMask(uint32_t mask) {
  return (mask & (TRANSACTION_NOTIFY_PREPREPARE | TRANSACTION_NOTIFY_PREPARE | TRANSACTION_NOTIFY_COMMIT |
                  TRANSACTION_NOTIFY_SINGLE_PHASE_COMMIT)) != 0;
}

std::vector<uint8_t> EncodeCommit(const Tx& tx, const std::vector<LoggedEnlistment>& ens) {
  Writer w;
  w.Id(tx.id);
  w.U64(tx.clock);
  w.U32(static_cast<uint32_t>(ens.size()));
  for (const auto& e : ens) {
    w.Id(e.enlistment_id);
    w.Id(e.rm_id);
    w.Bytes(e.recovery_blob);
  }
  return std::move(w.data());
}

}  // namespace

struct CommitRecord {
  Guid tx;
  uint64_t clock = 0;
  std::vector<LoggedEnlistment> enlistments;
  std::optional<LoggedEnlistment> superior;  // a subordinate transaction's superior
  bool prepared_only = false;                 // prepared record, no outcome logged
};

namespace {

bool DecodeCommit(Reader& r, CommitRecord* out) {
  out->tx = r.Id();
  out->clock = r.U64();
  uint32_t n = r.U32();
  if (!r.ok() || n > kEnlistmentsPerTransactionMax) return false;
  for (uint32_t i = 0; i < n; ++i) {
    LoggedEnlistment e;
    e.enlistment_id = r.Id();
    e.rm_id = r.Id();
    e.recovery_blob = r.Bytes();
    out->enlistments.push_back(std::move(e));
  }
  return r.ok();
}

// Adds `en` to its RM's enlistment list, first dropping the entries whose
// enlistment or transaction is gone once the list has doubled since the last
// pruning (order kept: closing the RM aborts in enlist order).
void TrackEnlistment(Rm& rm, const std::shared_ptr<En>& en) {
  constexpr size_t kPruneSlack = 16;
  if (rm.enlistments.size() >= 2 * rm.enlistments_after_prune + kPruneSlack) {
    std::erase_if(rm.enlistments, [](const std::weak_ptr<En>& weak) {
      auto live = weak.lock();
      return live == nullptr || live->tx.expired();
    });
    rm.enlistments_after_prune = rm.enlistments.size();
  }
  rm.enlistments.push_back(en);
}

// Drops `en` from its RM's enlistment list (a forgotten transaction's
// enlistment: closing the RM has nothing to abort there). Its weak
// reference would otherwise keep the enlistment's memory (make_shared: one
// block with the count) until the next pruning, which freed them in batches
// the allocator's per-size cache cannot hold.
void UntrackEnlistment(Rm& rm, const std::shared_ptr<En>& en) {
  for (auto it = rm.enlistments.begin(); it != rm.enlistments.end(); ++it) {
    if (!it->owner_before(en) && !en.owner_before(*it)) {  // the same control block: no lock
      rm.enlistments.erase(it);
      return;
    }
  }
}

// Whether tm should take a checkpoint now (MaybeCheckpoint's test): every
// kCheckpointEveryEnds end records, or once a quarter of the log is in use.
// Inline where a transaction is forgotten, so that the usual answer (no)
// costs no call.
[[gnu::always_inline]] inline bool CheckpointDue(const Tm& tm) {
  if (tm.is_volatile || !tm.log || tm.log->failed() || tm.checkpoint_in_flight) return false;
  const uint64_t used = tm.log->end_lsn() - tm.log->base_lsn();
  return tm.ends_since_checkpoint >= kCheckpointEveryEnds || used >= tm.log_bytes / 4;
}

// 0 and INFINITE both mean no timeout (CreateTransaction, ktmw32.h).
constexpr bool HasTimeout(uint32_t timeout_ms) { return timeout_ms != 0 && timeout_ms != INFINITE; }

}  // namespace

namespace trace_names {
namespace {
Tables MakeTables() {
  Tables tables;
  for (uint32_t bit = 0; bit < std::size(tables.notification); ++bit) {
    tables.notification[bit] = NotificationTraceName(uint32_t{1} << bit);
  }
  for (uint32_t i = 0; i < std::size(tables.tx_state); ++i) tables.tx_state[i] = TxStateTraceName(static_cast<TxState>(i));
  tables.en_state[0] = EnStateTraceName(EnState::kUninitialized);
  for (uint32_t i = 1; i < std::size(tables.en_state); ++i) {
    tables.en_state[i] = EnStateTraceName(static_cast<EnState>(255 + i));
  }
  return tables;
}
}  // namespace
const Tables kTables = MakeTables();
}  // namespace trace_names

Kernel::Kernel(sim::Host* host, uint32_t planted_bug)
    : host_(host),
      planted_bug_(planted_bug),
      rng_(host->DeriveRng(absl::StrCat("ktm.", host->incarnation()))),
      incarnation_(host->incarnation()),
      alive_(std::make_shared<bool>(true)) {
  Trace("ktm.boot", {"inc", incarnation_});
}

Kernel::~Kernel() { *alive_ = false; }

uint64_t Kernel::forced_log_writes() const {
  uint64_t n = 0;
  for (const auto& [id, tm] : tms_) {
    if (tm->log) n += tm->log->forced_writes();
  }
  return n;
}

// Inline where it is used (every transaction and enlistment): two draws.
[[gnu::always_inline]] inline Guid Kernel::NewGuid() {
  Guid g;
  g.hi = rng_.Next();
  g.lo = rng_.Next();
  if (g.null()) g.lo = 1;
  return g;
}

template <typename F>
void Kernel::DeferToRm(const Rm& rm, F&& fn) {
  host_->AfterInChain(0, rm.chain, [alive = std::weak_ptr<bool>(alive_), fn = std::forward<F>(fn)]() mutable {
    if (!alive.expired()) fn();
  });
}

template <typename T>
HANDLE Kernel::NewHandle(std::shared_ptr<T> object) {
  HANDLE h = next_handle_;
  next_handle_ += 4;
  ++object->handles;
  ++open_handles_;
  HandleSlot& slot = handle_slots_[HandleSlotIndex(h)];
  if (slot.handle == INVALID_HANDLE_VALUE) {
    slot.handle = h;
    slot.object.template emplace<std::shared_ptr<T>>(std::move(object));
  } else {
    handles_overflow_.emplace(h, std::move(object));  // the slot's handle is older and still open
  }
  return h;
}

const Kernel::Object* Kernel::FindOverflowHandle(HANDLE h) const {
  if (handles_overflow_.empty()) return nullptr;
  auto it = handles_overflow_.find(h);
  return it == handles_overflow_.end() ? nullptr : &it->second;
}

template <typename T>
NTSTATUS Kernel::LookupSlot(HANDLE h, const std::shared_ptr<T>** out) const {
  const Object* object = FindHandle(h);
  if (object == nullptr) return STATUS_INVALID_HANDLE;
  auto* p = std::get_if<std::shared_ptr<T>>(object);
  if (p == nullptr) return STATUS_OBJECT_TYPE_MISMATCH;
  *out = p;
  return STATUS_SUCCESS;
}

template <typename T>
NTSTATUS Kernel::Lookup(HANDLE h, std::shared_ptr<T>* out) const {
  const std::shared_ptr<T>* slot = nullptr;
  if (NTSTATUS s = LookupSlot(h, &slot); s != STATUS_SUCCESS) return s;
  *out = *slot;
  return STATUS_SUCCESS;
}

template <typename T>
NTSTATUS Kernel::Lookup(HANDLE h, T** out) const {
  const std::shared_ptr<T>* slot = nullptr;
  if (NTSTATUS s = LookupSlot(h, &slot); s != STATUS_SUCCESS) return s;
  *out = slot->get();
  return STATUS_SUCCESS;
}

const Tx* Kernel::FindTransaction(const Guid& id) const {
  auto it = transactions_.find(id);
  return it == transactions_.end() ? nullptr : it->second.get();
}

// ---------------------------------------------------------------------------
// State transitions.

namespace {
// Inline in SetTxState, where `to` is a constant: the switch folds to a test of `from`.
[[gnu::always_inline]] inline bool TxTransitionAllowed(TxState from, TxState to) {
  switch (from) {
    case TxState::kActive:
      return to == TxState::kPrePreparing || to == TxState::kDelegated || to == TxState::kAborted ||
             to == TxState::kPrepared || to == TxState::kCommitted;
    case TxState::kPrePreparing:
      return to == TxState::kPrePrepared || to == TxState::kAborted;
    case TxState::kPrePrepared:
      return to == TxState::kPreparing || to == TxState::kAborted;
    case TxState::kPreparing:
      return to == TxState::kPrepared || to == TxState::kAborted;
    case TxState::kPrepared:
    case TxState::kInDoubt:
      return to == TxState::kCommitted || to == TxState::kInDoubt || to == TxState::kAborted;
    case TxState::kDelegated:
      return to == TxState::kCommitted || to == TxState::kPrePreparing || to == TxState::kInDoubt ||
             to == TxState::kAborted;
    case TxState::kCommitted:
    case TxState::kAborted:
      return to == TxState::kForgotten;
    case TxState::kRecovering:
      return to == TxState::kCommitted || to == TxState::kInDoubt;
    default:
      return false;
  }
}
}  // namespace

namespace {
// The assertion failures of the two state machines, out of line and cold:
// formatting their messages inline made every transition keep a frame for it.
[[noreturn, gnu::cold, gnu::noinline]] void TxTransitionFailed(const Tx& tx, TxState to) {
  AssertFailed("TxTransitionAllowed(tx.state, to)", __FILE__, __LINE__,
               absl::StrFormat("transaction %s: illegal transition %s -> %s", tx.id.Short().view(),
                               TxStateName(tx.state), TxStateName(to)));
}
[[noreturn, gnu::cold, gnu::noinline]] void EnTransitionFailed(const En& en, EnState to) {
  const char* what = en.state == EnState::kCommitted ? "committed" : "aborted";
  AssertFailed("a settled enlistment stays settled", __FILE__, __LINE__,
               absl::StrFormat("enlistment %s: %s enlistment moved to %s", en.id.Short().view(), what, EnStateName(to)));
}
}  // namespace

inline void Kernel::SetTxState(Tx& tx, TxState to) {
  if (!TxTransitionAllowed(tx.state, to)) [[unlikely]] TxTransitionFailed(tx, to);
  Trace("tx.state", {"tx", TraceShort(tx.id)}, {"from", TxStateTraceNameFast(tx.state)}, {"to", TxStateTraceNameFast(to)});
  tx.state = to;
}

inline void Kernel::SetEnState(En& en, EnState to) {
  // A committed (aborted) enlistment moves only to itself or kForgotten.
  if ((en.state == EnState::kCommitted || en.state == EnState::kAborted) && to != en.state &&
      to != EnState::kForgotten) [[unlikely]] {
    EnTransitionFailed(en, to);
  }
  Trace("en.state", {"en", TraceShort(en.id)}, {"from", EnStateTraceNameFast(en.state)}, {"to", EnStateTraceNameFast(to)});
  en.state = to;
}

inline void Kernel::Deliver(Rm& rm, const TRANSACTION_NOTIFICATION& n) {
  // The guard, the waiter and the notification captured in place: one
  // inline scheduler callback (DeferToRm would copy them into a second lambda).
  auto deliver = [alive = std::weak_ptr<bool>(alive_), waiter = std::move(rm.waiter), n] {
    if (!alive.expired()) waiter(STATUS_SUCCESS, n);
  };
  static_assert(sizeof(deliver) <= sim::Callback::inline_bytes);
  rm.waiter = nullptr;
  host_->AfterInChain(0, rm.chain, std::move(deliver));
}

inline void Kernel::Enqueue(Rm& rm, const TRANSACTION_NOTIFICATION& n) {
  if (!rm.waiter) {
    rm.queue.push_back(n);
    return;
  }
  if (rm.waiter_timer != sim::kNoEvent) host_->Cancel(rm.waiter_timer);
  rm.waiter_timer = sim::kNoEvent;
  // The waiter gets the oldest notification: n itself when none is queued
  // (no trip through the deque, and no copy of it but the capture's).
  if (!rm.queue.empty()) [[unlikely]] return DeliverOldest(rm, n);
  Deliver(rm, n);
}

void Kernel::DeliverOldest(Rm& rm, const TRANSACTION_NOTIFICATION& n) {
  const TRANSACTION_NOTIFICATION first = rm.queue.front();
  rm.queue.pop_front();
  rm.queue.push_back(n);
  Deliver(rm, first);
}

void Kernel::Notify(En& en, uint32_t notification) {
  if ((en.mask & notification) == 0 || !en.rm) return;
  TRANSACTION_NOTIFICATION n;
  n.TransactionKey = en.key;
  n.TransactionNotification = notification;
  n.TmVirtualClock = en.rm->tm ? en.rm->tm->clock : 0;
  n.EnlistmentId = en.id;
  // The transaction's id without locking its weak_ptr (an atomic increment
  // and decrement): a forgotten transaction's notification carries none.
  if (!en.tx.expired()) n.UOW = en.tx_id;
  Trace("ktm.notify", {"en", TraceShort(en.id)}, {"n", NotificationTraceNameFast(notification)});
  Enqueue(*en.rm, n);
}

namespace {
// An enlistment that takes part in the commit protocol: not the superior,
// not read-only or aborted, and asking for a response notification.
// Walked in place over tx.enlistments (no vector of live ones per phase).
bool IsLive(const En& en) {
  return !en.superior && en.state != EnState::kReadOnly && en.state != EnState::kAborted && IsResponseMask(en.mask);
}
}  // namespace

bool Kernel::InPrePrepareOrEarlier(const Tx& tx) const {
  return tx.state == TxState::kActive || tx.state == TxState::kPrePreparing || tx.state == TxState::kPrePrepared;
}

void Kernel::CompleteWaiters(Completions& waiters, NTSTATUS status) {
  for (auto& w : waiters) {
    // Defer's work with the completion captured beside the guard, not in a
    // lambda of its own (each hop moved the std::function again).
    host_->After(0, [alive = std::weak_ptr<bool>(alive_), w = std::move(w), status] {
      if (!alive.expired()) w(status);
    });
  }
  waiters.clear();
}

void Kernel::MergeClock(Tm* tm, uint64_t* clock) {
  if (tm == nullptr || clock == nullptr) return;
  tm->clock = std::max(tm->clock, *clock);
  *clock = tm->clock;
}

// ---------------------------------------------------------------------------
// The commit protocol.

void Kernel::RequestCommit(const std::shared_ptr<Tx>& tx) {
  KTM_ASSERT(tx->state == TxState::kActive, "commit requested on a transaction that is not active");
  tx->commit_requested = true;
  if (tx->superior) {
    // KTM forwards the request; the superior drives the protocol.
    Trace("tx.commit_request", {"tx", TraceShort(tx->id)}, {"to", "superior"});
    Notify(*tx->superior, TRANSACTION_NOTIFY_COMMIT_REQUEST);
    return;
  }
  if (tx->timeout_timer != sim::kNoEvent) {
    // The timeout still applies until prepared: keep the timer.
  }
  if (tx->tm) tx->clock = ++tx->tm->clock;
  Trace("tx.commit_request", {"tx", TraceShort(tx->id)});
  // The live enlistments as they are now (the loops below change states
  // that do not affect liveness, and enlist nobody).
  const size_t enlisted = tx->enlistments.size();
  size_t live = 0;
  En* spc = nullptr;  // kept alive by tx->enlistments (no reference count taken and dropped)
  for (size_t i = 0; i < enlisted; ++i) {
    En* en = tx->enlistments[i].get();
    if (!IsLive(*en)) continue;
    ++live;
    if (spc == nullptr && (en->mask & TRANSACTION_NOTIFY_SINGLE_PHASE_COMMIT)) spc = en;
  }
  if (live == 0) {
    KTM_CODE_PROBE(host_, "tx.commit_without_enlistments");
    SetTxState(*tx, TxState::kCommitted);
    tx->outcome = TransactionOutcomeCommitted;
    CompleteWaiters(tx->commit_waiters, STATUS_SUCCESS);
    Forget(tx);
    return;
  }
  bool single_phase = spc != nullptr && (live == 1 || planted_bug_ == kBugSinglePhaseWithOthers);
  if (single_phase) {
    SetTxState(*tx, TxState::kDelegated);
    SetEnState(*spc, EnState::kDelegated);
    spc->awaited = true;
    tx->pending = 1;
    Notify(*spc, TRANSACTION_NOTIFY_SINGLE_PHASE_COMMIT);
    if (planted_bug_ == kBugSinglePhaseWithOthers) {
      for (size_t i = 0; i < enlisted; ++i) {
        const std::shared_ptr<En> en = tx->enlistments[i];
        if (!IsLive(*en) || en.get() == spc) continue;
        SetEnState(*en, EnState::kCommittedNotify);
        Notify(*en, TRANSACTION_NOTIFY_COMMIT);
      }
    }
    return;
  }
  StartPrePrepare(tx);
}

// Phase 0 and phase 1 have the same shape: every live enlistment that asked
// for the notification gets it and is awaited. Inline in StartPrePrepare
// and StartPrepare, where the states are constants (their trace names one
// load each, no range check).
[[gnu::always_inline]] inline void Kernel::StartPhase(const std::shared_ptr<Tx>& tx, TxState tx_state, EnState en_state,
                                                      uint32_t notification) {
  SetTxState(*tx, tx_state);
  tx->pending = 0;
  tx->phase_last_notified = nullptr;
  tx->phase_notified = 0;
  tx->phase_answered = false;
  for (size_t i = 0, enlisted = tx->enlistments.size(); i < enlisted; ++i) {
    En* en = tx->enlistments[i].get();
    if (!IsLive(*en) || !(en->mask & notification)) continue;
    SetEnState(*en, en_state);
    en->awaited = true;
    ++tx->pending;
    tx->phase_last_notified = en;
    ++tx->phase_notified;
    Notify(*en, notification);
  }
  if (tx->pending == 0) MaybeFinishPhase(tx);  // nobody notified: the phase is over already
}

void Kernel::StartPrePrepare(const std::shared_ptr<Tx>& tx) {
  StartPhase(tx, TxState::kPrePreparing, EnState::kPrePreparing, TRANSACTION_NOTIFY_PREPREPARE);
}

void Kernel::StartPrepare(const std::shared_ptr<Tx>& tx) {
  StartPhase(tx, TxState::kPreparing, EnState::kPreparing, TRANSACTION_NOTIFY_PREPARE);
}

// The hot callers (a phase's start, each response) test tx->pending first
// themselves: only the last response finishes a phase, and the call costs a
// frame (this function's six saved registers) before its own test.
void Kernel::MaybeFinishPhase(const std::shared_ptr<Tx>& tx) {
  if (tx->pending != 0) return;
  switch (tx->state) {
    case TxState::kPrePreparing:
      SetTxState(*tx, TxState::kPrePrepared);
      if (tx->superior) return Notify(*tx->superior, TRANSACTION_NOTIFY_PREPREPARE_COMPLETE);
      StartPrepare(tx);
      return;
    case TxState::kPreparing:
      SetTxState(*tx, TxState::kPrepared);
      if (tx->superior) return SubordinatePrepared(tx);
      Decide(tx);
      return;
    case TxState::kCommitted:
    case TxState::kAborted:
      if (tx->superior) {
        Notify(*tx->superior, tx->state == TxState::kCommitted ? TRANSACTION_NOTIFY_COMMIT_COMPLETE
                                                               : TRANSACTION_NOTIFY_ROLLBACK_COMPLETE);
      }
      Forget(tx);
      return;
    default:
      return;
  }
}

void Kernel::Decide(const std::shared_ptr<Tx>& tx) {
  KTM_ASSERT(tx->state == TxState::kPrepared, "decision outside the prepared state");
  if (tx->timeout_timer != sim::kNoEvent) {
    host_->Cancel(tx->timeout_timer);
    tx->timeout_timer = sim::kNoEvent;
  }
  // The commit record lists the durable prepared enlistments (EncodeCommit's
  // layout), encoded straight from the transaction into the kernel's record
  // buffer: no copies of the enlistments, no allocation once warm.
  auto durable_prepared = [](const En& en) { return en.state == EnState::kPrepared && en.durable(); };
  uint32_t durable = 0;
  for (const auto& en : tx->enlistments) durable += durable_prepared(*en) ? 1 : 0;
  Tm* tm = tx->tm;
  if (durable == 0 || tm == nullptr || tm->is_volatile || planted_bug_ == kBugSkipCommitRecord) {
    CommitDecided(tx);
    return;
  }
  Writer& w = record_writer_;
  w.Reset();
  w.Id(tx->id);
  w.U64(tx->clock);
  w.U32(durable);
  for (const auto& en : tx->enlistments) {
    if (!durable_prepared(*en)) continue;
    w.Id(en->id);
    w.Id(en->rm_id);
    w.Bytes(en->recovery_blob);
  }
  auto lsn = tm->log->Append(kRecCommit, w.view());
  if (!lsn.ok()) {
    KTM_CODE_PROBE(host_, "log.commit_append_failed");
    // Nothing was written: presumed abort makes rolling back safe.
    Trace("ktm.log_error", {"tx", TraceShort(tx->id)}, {"error", std::string(lsn.status().message())});
    Abort(tx, "log");
    return;
  }
  tx->logged = true;
  ++tm->commit_records;
  tm->transactions[tx->id] = tx;
  Trace("ktm.log_commit", {"tx", TraceShort(tx->id)}, {"lsn", *lsn});
  if (planted_bug_ == kBugAckBeforeForce) {
    CommitDecided(tx);
    tm->log->Force(*lsn, [](absl::Status) {});
    return;
  }
  tm->log->Force(*lsn, [this, alive = std::weak_ptr<bool>(alive_), tx](absl::Status status) {
    if (alive.expired()) return;  // as Defer's guard: no lock (an atomic compare-exchange) per commit
    if (!status.ok()) {
      // The record may or may not be on disk: the outcome is unknown until
      // the TM recovers. The transaction stays in doubt (never unilaterally aborted).
      KTM_CODE_PROBE(host_, "log.commit_force_failed");
      Trace("ktm.log_error", {"tx", TraceShort(tx->id)}, {"error", std::string(status.message())});
      SetTxState(*tx, TxState::kInDoubt);
      return;
    }
    Trace("ktm.log_forced", {"tx", TraceShort(tx->id)});
    CommitDecided(tx);
  });
}

void Kernel::SubordinatePrepared(const std::shared_ptr<Tx>& tx) {
  if (tx->timeout_timer != sim::kNoEvent) {
    host_->Cancel(tx->timeout_timer);
    tx->timeout_timer = sim::kNoEvent;
  }
  std::vector<LoggedEnlistment> durable;
  for (const auto& en : tx->enlistments) {
    if (!en->superior && en->state == EnState::kPrepared && en->durable()) {
      durable.push_back({en->id, en->rm_id, en->recovery_blob});
    }
  }
  Tm* tm = tx->tm;
  std::shared_ptr<En> superior = tx->superior;
  if (tm == nullptr || tm->is_volatile || !superior->durable()) {
    Notify(*superior, TRANSACTION_NOTIFY_PREPARE_COMPLETE);
    return;
  }
  // Forced before PREPARE_COMPLETE: after a crash KTM must still know it is
  // prepared and ask the superior (RECOVER_QUERY) instead of presuming abort.
  std::vector<uint8_t> payload = EncodeCommit(*tx, durable);
  Writer w;
  w.Id(superior->id);
  w.Id(superior->rm_id);
  w.Bytes(superior->recovery_blob);
  payload.insert(payload.end(), w.data().begin(), w.data().end());
  auto lsn = tm->log->Append(kRecPrepared, payload);
  if (!lsn.ok()) {
    Trace("ktm.log_error", {"tx", TraceShort(tx->id)}, {"error", std::string(lsn.status().message())});
    Abort(tx, "log");
    return;
  }
  tx->prepared_logged = true;
  tm->transactions[tx->id] = tx;
  Trace("ktm.log_prepared", {"tx", TraceShort(tx->id)}, {"lsn", *lsn});
  std::weak_ptr<bool> alive = alive_;
  tm->log->Force(*lsn, [this, alive, tx](absl::Status status) {
    if (auto a = alive.lock(); !a || !*a) return;
    if (!status.ok()) {
      KTM_CODE_PROBE(host_, "log.prepared_force_failed");
      SetTxState(*tx, TxState::kInDoubt);
      return;
    }
    Trace("ktm.log_forced", {"tx", TraceShort(tx->id)});
    if (tx->state == TxState::kPrepared && tx->superior) Notify(*tx->superior, TRANSACTION_NOTIFY_PREPARE_COMPLETE);
  });
}

void Kernel::CommitDecided(const std::shared_ptr<Tx>& tx) {
  SetTxState(*tx, TxState::kCommitted);
  tx->outcome = TransactionOutcomeCommitted;
  CompleteWaiters(tx->commit_waiters, STATUS_SUCCESS);
  tx->pending = 0;
  for (const auto& en : tx->enlistments) {
    if (en->superior) continue;
    if (en->state == EnState::kRecovering) {
      KTM_CODE_PROBE(host_, "recovery.enlistment_unrecovered_at_decision");
      // Its RM has not recovered it yet: RecoverEnlistment will send COMMIT.
      en->awaited = true;
      ++tx->pending;
      continue;
    }
    if (en->state != EnState::kPrepared && en->state != EnState::kInDoubt) continue;
    SetEnState(*en, EnState::kCommittedNotify);
    en->awaited = true;
    ++tx->pending;
    Notify(*en, TRANSACTION_NOTIFY_COMMIT);
  }
  if (planted_bug_ == kBugForgetBeforeCommitComplete && tx->pending > 0) {
    tx->pending = 0;
  }
  if (tx->pending == 0) MaybeFinishPhase(tx);
}

void Kernel::Abort(const std::shared_ptr<Tx>& tx, const char* reason) {
  KTM_ASSERT(tx->state != TxState::kCommitted && tx->state != TxState::kForgotten,
             absl::StrFormat("transaction %s: abort after commit", tx->id.Short().view()));
  if (tx->state == TxState::kAborted) return;
  if (tx->state == TxState::kPreparing) KTM_CODE_PROBE(host_, "tx.abort_while_preparing");
  Trace("tx.abort", {"tx", TraceShort(tx->id)}, {"reason", reason});
  if (tx->timeout_timer != sim::kNoEvent) {
    host_->Cancel(tx->timeout_timer);
    tx->timeout_timer = sim::kNoEvent;
  }
  SetTxState(*tx, TxState::kAborted);
  tx->outcome = TransactionOutcomeAborted;
  CompleteWaiters(tx->commit_waiters, STATUS_TRANSACTION_ALREADY_ABORTED);
  CompleteWaiters(tx->rollback_waiters, STATUS_SUCCESS);
  tx->pending = 0;
  if (tx->superior && std::string(reason) != "superior") Notify(*tx->superior, TRANSACTION_NOTIFY_ROLLBACK);
  for (const auto& en : tx->enlistments) {
    en->awaited = false;
    if (en->superior || en->state == EnState::kReadOnly || en->state == EnState::kAborted) continue;
    bool unrecovered = en->state == EnState::kRecovering;
    SetEnState(*en, EnState::kAborting);
    if (unrecovered) {
      KTM_CODE_PROBE(host_, "recovery.enlistment_unrecovered_at_decision");
      // Its RM has not recovered it yet: RecoverEnlistment will send ROLLBACK.
      en->awaited = true;
      ++tx->pending;
      continue;
    }
    if (en->mask & TRANSACTION_NOTIFY_ROLLBACK) {
      en->awaited = true;
      ++tx->pending;
      Notify(*en, TRANSACTION_NOTIFY_ROLLBACK);
    } else {
      SetEnState(*en, EnState::kAborted);
    }
  }
  MaybeFinishPhase(tx);
}

void Kernel::Forget(const std::shared_ptr<Tx>& tx) {
  if (tx->state == TxState::kForgotten) return;
  Tm* tm = tx->tm;
  if ((tx->logged || tx->prepared_logged) && tm != nullptr && tm->log && !tm->log->failed()) {
    Writer& w = record_writer_;
    w.Reset();
    w.Id(tx->id);
    auto lsn = tm->log->Append(kRecEnd, w.view());
    if (lsn.ok()) ++tm->ends_since_checkpoint;
  }
  for (const auto& en : tx->enlistments) {
    if (en->state != EnState::kReadOnly && en->state != EnState::kForgotten && !en->superior) {
      SetEnState(*en, EnState::kForgotten);
    }
    if (en->rm) UntrackEnlistment(*en->rm, en);
  }
  SetTxState(*tx, TxState::kForgotten);
  if (tm != nullptr) tm->transactions.erase(tx->id);
  transactions_.erase(tx->id);
  if (tm != nullptr && CheckpointDue(*tm)) MaybeCheckpoint(*tm);
}

void Kernel::ArmTimeout(const std::shared_ptr<Tx>& tx) {
  if (tx->timeout_timer != sim::kNoEvent) host_->Cancel(tx->timeout_timer);
  tx->timeout_timer = sim::kNoEvent;
  if (!HasTimeout(tx->timeout_ms)) return;
  Guid id = tx->id;
  std::weak_ptr<bool> alive = alive_;
  tx->timeout_timer = host_->After(static_cast<sim::TimeNs>(tx->timeout_ms) * sim::kMillisecond, [this, alive, id] {
    if (auto a = alive.lock(); a && *a) OnTimeout(id);
  });
}

void Kernel::OnTimeout(const Guid& id) {
  auto it = transactions_.find(id);
  if (it == transactions_.end()) return;
  auto tx = it->second;
  tx->timeout_timer = sim::kNoEvent;
  if (!InPrePrepareOrEarlier(*tx) && tx->state != TxState::kPreparing) return;
  KTM_CODE_PROBE(host_, "tx.timeout_abort");
  Trace("ktm.timeout", {"tx", TraceShort(tx->id)});
  Abort(tx, "timeout");
}

// ---------------------------------------------------------------------------
// Transactions (client side).

NTSTATUS Kernel::CreateTransaction(uint32_t options, uint32_t timeout_ms, const std::string& description,
                                   HANDLE* out) {
  if (out == nullptr || (options & ~TRANSACTION_DO_NOT_PROMOTE) != 0 ||
      description.size() > MAX_TRANSACTION_DESCRIPTION_LENGTH) {
    return STATUS_INVALID_PARAMETER;
  }
  // Default-initialised: every member has an initializer (kernel.h), and
  // make_shared<Tx>() zero-filled the whole object first (a `rep stos`).
  auto tx = std::make_shared_for_overwrite<Tx>();
  tx->id = NewGuid();
  if (!description.empty()) tx->description = description;  // empty already: no string assignment per commit
  tx->timeout_ms = timeout_ms;
  const bool added = transactions_.emplace(tx->id, tx).second;  // no default-constructed entry assigned over
  KTM_ASSERT(added, "a new transaction's id is taken");
  Trace("tx.create", {"tx", TraceShort(tx->id)}, {"timeout_ms", timeout_ms});
  if (HasTimeout(timeout_ms)) ArmTimeout(tx);  // ArmTimeout's own test, without the call
  *out = NewHandle(std::move(tx));  // the last use: no reference count taken and dropped
  return STATUS_SUCCESS;
}

NTSTATUS Kernel::OpenTransaction(const Guid& id, HANDLE* out) {
  // ZwOpenTransaction: a zero Uow is STATUS_INVALID_PARAMETER, an unknown
  // one STATUS_TRANSACTION_NOT_FOUND.
  if (out == nullptr || id.null()) return STATUS_INVALID_PARAMETER;
  auto it = transactions_.find(id);
  if (it == transactions_.end()) return STATUS_TRANSACTION_NOT_FOUND;
  *out = NewHandle(it->second);
  return STATUS_SUCCESS;
}

namespace {
// ZwCommitTransaction's page: ALREADY_ABORTED, ALREADY_COMMITTED, and
// REQUEST_NOT_VALID when "the commit operation ... has already been started".
NTSTATUS CommitStatusFor(const Tx& tx) {
  if (tx.outcome == TransactionOutcomeAborted) return STATUS_TRANSACTION_ALREADY_ABORTED;
  if (tx.outcome == TransactionOutcomeCommitted) return STATUS_TRANSACTION_ALREADY_COMMITTED;
  return STATUS_TRANSACTION_REQUEST_NOT_VALID;  // commit already requested
}
}  // namespace

namespace {
// With a superior, the client may not drive the commit unless the superior
// asked to be told (COMMIT_REQUEST): ZwCommitTransaction returns
// STATUS_TRANSACTION_SUPERIOR_EXISTS ("the caller cannot commit the
// transaction because a superior transaction manager exists").
NTSTATUS RootCheck(const Tx& tx) {
  if (!tx.superior) return STATUS_SUCCESS;
  if (!(tx.superior->mask & TRANSACTION_NOTIFY_COMMIT_REQUEST)) return STATUS_TRANSACTION_SUPERIOR_EXISTS;
  return tx.commit_requested ? STATUS_TRANSACTION_REQUEST_NOT_VALID : STATUS_SUCCESS;
}
}  // namespace

void Kernel::CommitTransaction(HANDLE h, Completion done) {
  std::shared_ptr<Tx> tx;
  NTSTATUS s = Lookup(h, &tx);
  if (s == STATUS_SUCCESS && tx->state != TxState::kActive) s = CommitStatusFor(*tx);
  if (s == STATUS_SUCCESS) s = RootCheck(*tx);
  if (s != STATUS_SUCCESS) {
    Defer([done = std::move(done), s] { done(s); });
    return;
  }
  tx->commit_waiters.push_back(std::move(done));
  RequestCommit(tx);
}

NTSTATUS Kernel::CommitTransactionAsync(HANDLE h) {
  std::shared_ptr<Tx> tx;
  if (NTSTATUS s = Lookup(h, &tx); s != STATUS_SUCCESS) return s;
  if (tx->state != TxState::kActive) return CommitStatusFor(*tx);
  if (NTSTATUS s = RootCheck(*tx); s != STATUS_SUCCESS) return s;
  RequestCommit(tx);
  return STATUS_SUCCESS;
}

namespace {
// ZwRollbackTransaction's page: ALREADY_COMMITTED, and REQUEST_NOT_VALID when
// "the transaction has not been committed but its current state does not
// permit rollback" (single-phase commit delegated, prepared, in doubt). An
// already rolled-back transaction: ALREADY_ABORTED (docs silent; our choice).
NTSTATUS RollbackStatusFor(const Tx& tx) {
  if (tx.outcome == TransactionOutcomeCommitted) return STATUS_TRANSACTION_ALREADY_COMMITTED;
  if (tx.outcome == TransactionOutcomeAborted) return STATUS_TRANSACTION_ALREADY_ABORTED;
  if (tx.state == TxState::kDelegated || tx.state == TxState::kPrepared || tx.state == TxState::kInDoubt) {
    return STATUS_TRANSACTION_REQUEST_NOT_VALID;
  }
  return STATUS_SUCCESS;
}
}  // namespace

void Kernel::RollbackTransaction(HANDLE h, Completion done) {
  std::shared_ptr<Tx> tx;
  NTSTATUS s = Lookup(h, &tx);
  if (s == STATUS_SUCCESS) {
    s = RollbackStatusFor(*tx);
  }
  if (s != STATUS_SUCCESS) {
    Defer([done = std::move(done), s] { done(s); });
    return;
  }
  tx->rollback_waiters.push_back(std::move(done));
  Trace("tx.rollback_request", {"tx", TraceShort(tx->id)});
  Abort(tx, "client");
}

NTSTATUS Kernel::RollbackTransactionAsync(HANDLE h) {
  std::shared_ptr<Tx> tx;
  if (NTSTATUS s = Lookup(h, &tx); s != STATUS_SUCCESS) return s;
  if (NTSTATUS s = RollbackStatusFor(*tx); s != STATUS_SUCCESS) return s;
  Trace("tx.rollback_request", {"tx", TraceShort(tx->id)});
  Abort(tx, "client");
  return STATUS_SUCCESS;
}

NTSTATUS Kernel::GetTransactionInformation(HANDLE h, TRANSACTION_OUTCOME* outcome, uint32_t* timeout_ms,
                                           std::string* description) {
  std::shared_ptr<Tx> tx;
  if (NTSTATUS s = Lookup(h, &tx); s != STATUS_SUCCESS) return s;
  if (outcome) *outcome = tx->outcome;
  if (timeout_ms) *timeout_ms = tx->timeout_ms;
  if (description) *description = tx->description;
  return STATUS_SUCCESS;
}

NTSTATUS Kernel::SetTransactionInformation(HANDLE h, uint32_t isolation_level, uint32_t isolation_flags,
                                           uint32_t timeout_ms, const std::string& description) {
  std::shared_ptr<Tx> tx;
  if (NTSTATUS s = Lookup(h, &tx); s != STATUS_SUCCESS) return s;
  if (isolation_level != 0 || isolation_flags != 0 || description.size() > MAX_TRANSACTION_DESCRIPTION_LENGTH) {
    return STATUS_INVALID_PARAMETER;
  }
  if (tx->state != TxState::kActive) return STATUS_TRANSACTION_NOT_ACTIVE;
  tx->description = description;
  tx->timeout_ms = timeout_ms;
  ArmTimeout(tx);
  return STATUS_SUCCESS;
}

NTSTATUS Kernel::GetTransactionId(HANDLE h, Guid* id) {
  Tx* tx = nullptr;
  if (NTSTATUS s = Lookup(h, &tx); s != STATUS_SUCCESS) return s;
  if (id == nullptr) return STATUS_INVALID_PARAMETER;
  *id = tx->id;
  return STATUS_SUCCESS;
}

// ---------------------------------------------------------------------------
// Transaction managers and the TM log.

namespace {
std::vector<uint8_t> EncodeRestart(const Tm& tm) {
  Writer w;
  w.U64(kRestartMagic);
  w.Id(tm.id);
  w.U64(tm.clock);
  return std::move(w.data());
}
}  // namespace

void Kernel::CreateTransactionManager(const std::string& log_name, uint32_t options,
                                      std::function<void(NTSTATUS, HANDLE)> done) {
  auto fail = [this, &done](NTSTATUS s) { Defer([done, s] { done(s, INVALID_HANDLE_VALUE); }); };
  if ((options & ~TRANSACTION_MANAGER_MAXIMUM_OPTION) != 0) return fail(STATUS_INVALID_PARAMETER);
  bool is_volatile = (options & TRANSACTION_MANAGER_VOLATILE) != 0;
  if (is_volatile != log_name.empty()) return fail(STATUS_INVALID_PARAMETER);
  if (is_volatile) {
    auto tm = std::make_shared<Tm>();
    tm->id = NewGuid();
    tm->is_volatile = true;
    tm->state = TmState::kInitialized;
    tms_[tm->id] = tm;
    Trace("tm.create", {"tm", TraceShort(tm->id)}, {"volatile", "1"});
    HANDLE h = NewHandle(tm);
    Defer([done, h] { done(STATUS_SUCCESS, h); });
    return;
  }
  OpenTransactionManager(log_name, [this, log_name, done](NTSTATUS s, HANDLE h) {
    if (s != STATUS_TRANSACTIONMANAGER_NOT_FOUND) return done(s, h);
    // No log on the disk yet: format one and give it a new identity.
    sim::Disk* disk = nullptr;
    for (size_t i = 0; i < host_->disk_count(); ++i) {
      if (host_->disk(i)->name() == log_name) disk = host_->disk(i);
    }
    auto tm = std::make_shared<Tm>();
    tm->id = NewGuid();
    tm->log_name = log_name;
    tm->log_bytes = disk->size_bytes();
    tm->log = std::make_unique<log::Log>(disk, log::LogOptions{.disk_offset = 0, .size_bytes = tm->log_bytes});
    opening_.insert(tm);
    std::weak_ptr<Tm> weak = tm;
    tm->log->Format([this, weak, done](absl::Status status) {
      auto tm = weak.lock();
      if (!tm) return;
      if (!status.ok()) {
        opening_.erase(tm);
        return done(STATUS_UNEXPECTED_IO_ERROR, INVALID_HANDLE_VALUE);
      }
      tm->log->WriteRestartArea(EncodeRestart(*tm), 0, [this, weak, done](absl::Status st) {
        auto tm = weak.lock();
        if (!tm) return;
        opening_.erase(tm);
        if (!st.ok()) return done(STATUS_UNEXPECTED_IO_ERROR, INVALID_HANDLE_VALUE);
        tm->state = TmState::kInitialized;
        tms_[tm->id] = tm;
        Trace("tm.create", {"tm", TraceShort(tm->id)}, {"log", tm->log_name});
        done(STATUS_SUCCESS, NewHandle(tm));
      });
    });
  });
}

void Kernel::OpenTransactionManager(const std::string& log_name, std::function<void(NTSTATUS, HANDLE)> done) {
  for (const auto& [id, tm] : tms_) {
    if (!tm->is_volatile && tm->log_name == log_name) {
      HANDLE h = NewHandle(tm);
      Defer([done, h] { done(STATUS_SUCCESS, h); });
      return;
    }
  }
  sim::Disk* disk = nullptr;
  for (size_t i = 0; i < host_->disk_count(); ++i) {
    if (host_->disk(i)->name() == log_name) disk = host_->disk(i);
  }
  if (disk == nullptr || log_name.empty()) {
    Defer([done] { done(STATUS_OBJECT_NAME_NOT_FOUND, INVALID_HANDLE_VALUE); });
    return;
  }
  auto tm = std::make_shared<Tm>();
  tm->log_name = log_name;
  tm->log_bytes = disk->size_bytes();
  tm->log = std::make_unique<log::Log>(disk, log::LogOptions{.disk_offset = 0, .size_bytes = tm->log_bytes});
  // The kernel owns the TM while its log opens; the callback holds it weakly,
  // so a crash mid-open (the kernel destroyed) frees it instead of leaking a
  // TM -> log -> callback -> TM cycle.
  opening_.insert(tm);
  std::weak_ptr<Tm> weak = tm;
  tm->log->Open([this, weak, done](absl::StatusOr<log::RecoveredLog> recovered) {
    auto tm = weak.lock();
    if (!tm) return;
    opening_.erase(tm);
    FinishOpenTm(tm, done, std::move(recovered), false);
  });
}

void Kernel::FinishOpenTm(const std::shared_ptr<Tm>& tm, std::function<void(NTSTATUS, HANDLE)> done,
                          absl::StatusOr<log::RecoveredLog> recovered, bool) {
  if (!recovered.ok() && absl::IsNotFound(recovered.status())) {
    return done(STATUS_TRANSACTIONMANAGER_NOT_FOUND, INVALID_HANDLE_VALUE);  // never formatted
  }
  if (!recovered.ok()) {
    KTM_CODE_PROBE(host_, "tm.open_failed");
    Trace("tm.open_failed", {"log", tm->log_name}, {"error", std::string(recovered.status().message())});
    return done(STATUS_LOG_CORRUPTION_DETECTED, INVALID_HANDLE_VALUE);
  }
  if (!recovered->has_restart_area) return done(STATUS_TRANSACTIONMANAGER_NOT_FOUND, INVALID_HANDLE_VALUE);
  Reader r(recovered->restart_payload);
  uint64_t magic = r.U64();
  tm->id = r.Id();
  tm->clock = r.U64();
  if (!r.ok() || magic != kRestartMagic) {
    KTM_CODE_PROBE(host_, "tm.open_failed");
    Trace("tm.open_failed", {"log", tm->log_name}, {"error", "restart area is not a TM restart area"});
    return done(STATUS_LOG_CORRUPTION_DETECTED, INVALID_HANDLE_VALUE);
  }
  tm->recovered = std::move(*recovered);
  tm->state = TmState::kInitialized;
  tms_[tm->id] = tm;
  Trace("tm.open", {"tm", TraceShort(tm->id)}, {"records", tm->recovered.records.size()});
  done(STATUS_SUCCESS, NewHandle(tm));
}

NTSTATUS Kernel::OpenTransactionManagerById(const Guid& id, HANDLE* out) {
  if (out == nullptr) return STATUS_INVALID_PARAMETER;
  auto it = tms_.find(id);
  if (it == tms_.end()) return STATUS_TRANSACTIONMANAGER_NOT_FOUND;
  *out = NewHandle(it->second);
  return STATUS_SUCCESS;
}

void Kernel::ReplayLog(Tm& tm, uint64_t clock_limit) {
  std::map<Guid, CommitRecord> live;
  for (const auto& record : tm.recovered.records) {
    Reader r(record.payload);
    if (record.type == kRecRmRegister) {
      tm.known_rms.insert(r.Id());
    } else if (record.type == kRecCommit || record.type == kRecPrepared) {
      CommitRecord c;
      KTM_ASSERT(DecodeCommit(r, &c), "commit/prepared record with a valid checksum does not decode");
      if (record.type == kRecPrepared) {
        LoggedEnlistment sup;
        sup.enlistment_id = r.Id();
        sup.rm_id = r.Id();
        sup.recovery_blob = r.Bytes();
        KTM_ASSERT(r.ok(), "prepared record without its superior");
        c.superior = std::move(sup);
      } else if (auto it = live.find(c.tx); it != live.end()) {
        c.superior = it->second.superior;  // the superior's commit, logged after the prepared record
      }
      if (clock_limit != 0 && c.clock > clock_limit) break;
      tm.clock = std::max(tm.clock, c.clock);
      c.prepared_only = record.type == kRecPrepared;
      live[c.tx] = std::move(c);
    } else if (record.type == kRecEnd) {
      live.erase(r.Id());
    } else if (record.type == kRecCheckpoint) {
      tm.clock = std::max(tm.clock, r.U64());
      uint32_t rms = r.U32();
      for (uint32_t i = 0; i < rms && r.ok(); ++i) tm.known_rms.insert(r.Id());
      uint32_t n = r.U32();
      live.clear();
      for (uint32_t i = 0; i < n && r.ok(); ++i) {
        CommitRecord c;
        c.prepared_only = r.U8() == 1;
        if (!DecodeCommit(r, &c)) break;
        if (r.U8() == 1) {
          LoggedEnlistment sup;
          sup.enlistment_id = r.Id();
          sup.rm_id = r.Id();
          sup.recovery_blob = r.Bytes();
          c.superior = std::move(sup);
        }
        live[c.tx] = std::move(c);
      }
      KTM_ASSERT(r.ok(), "checkpoint record with a valid checksum does not decode");
    }
  }
  for (auto& [id, c] : live) RebuildTransaction(tm, c);
}

void Kernel::RebuildTransaction(Tm& tm, const CommitRecord& c) {
  auto tx = std::make_shared<Tx>();
  tx->id = c.tx;
  tx->tm = &tm;
  tx->state = TxState::kRecovering;
  tx->recovered = true;
  tx->logged = !c.prepared_only;
  tx->prepared_logged = c.superior.has_value();
  tx->commit_requested = true;
  tx->clock = c.clock;
  auto make = [&tx](const LoggedEnlistment& e) {
    auto en = std::make_shared<En>();
    en->id = e.enlistment_id;
    en->rm_id = e.rm_id;
    en->recovery_blob = e.recovery_blob;
    en->mask = TRANSACTION_NOTIFY_VALID_MASK;
    en->state = EnState::kRecovering;
    en->tx = tx;
    en->tx_id = tx->id;
    tx->enlistments.push_back(en);
    return en;
  };
  for (const auto& e : c.enlistments) make(e)->awaited = true;
  tx->pending = static_cast<uint32_t>(tx->enlistments.size());
  if (c.superior) {
    tx->superior = make(*c.superior);
    tx->superior->superior = true;
  }
  if (c.prepared_only) {
    // Prepared under a superior whose outcome was never logged: in doubt
    // until the superior answers RECOVER_QUERY.
    SetTxState(*tx, TxState::kInDoubt);
  } else {
    SetTxState(*tx, TxState::kCommitted);
    tx->outcome = TransactionOutcomeCommitted;
  }
  tm.transactions[tx->id] = tx;
  transactions_[c.tx] = tx;
}

void Kernel::RecoverTransactionManager(HANDLE h, uint64_t clock_limit, Completion done) {
  std::shared_ptr<Tm> tm;
  NTSTATUS s = Lookup(h, &tm);
  if (s == STATUS_SUCCESS && tm->state == TmState::kOnline) s = STATUS_RECOVERY_NOT_NEEDED;
  if (s != STATUS_SUCCESS) {
    Defer([done, s] { done(s); });
    return;
  }
  tm->state = TmState::kRecovering;
  if (!tm->is_volatile) ReplayLog(*tm, clock_limit);
  tm->recovered.records.clear();
  tm->state = TmState::kOnline;
  Trace("tm.online", {"tm", TraceShort(tm->id)}, {"in_flight", tm->transactions.size()},
                      {"clock", tm->clock});
  Defer([done] { done(STATUS_SUCCESS); });
}

NTSTATUS Kernel::GetTransactionManagerId(HANDLE h, Guid* id) {
  std::shared_ptr<Tm> tm;
  if (NTSTATUS s = Lookup(h, &tm); s != STATUS_SUCCESS) return s;
  if (id == nullptr) return STATUS_INVALID_PARAMETER;
  *id = tm->id;
  return STATUS_SUCCESS;
}

NTSTATUS Kernel::GetCurrentClockTransactionManager(HANDLE h, uint64_t* clock) {
  std::shared_ptr<Tm> tm;
  if (NTSTATUS s = Lookup(h, &tm); s != STATUS_SUCCESS) return s;
  if (clock == nullptr) return STATUS_INVALID_PARAMETER;
  *clock = tm->clock;
  return STATUS_SUCCESS;
}

void Kernel::AppendRmRegistration(Tm& tm, const Rm& rm) {
  if (tm.is_volatile || rm.is_volatile || tm.known_rms.count(rm.id)) return;
  Writer w;
  w.Id(rm.id);
  w.Str(rm.description);
  if (tm.log->Append(kRecRmRegister, w.data()).ok()) tm.known_rms.insert(rm.id);
}

void Kernel::MaybeCheckpoint(Tm& tm) {
  if (!CheckpointDue(tm)) return;
  Writer w;
  w.U64(tm.clock);
  w.U32(static_cast<uint32_t>(tm.known_rms.size()));
  for (const auto& id : tm.known_rms) w.Id(id);
  uint32_t n = 0;
  tm.transactions.for_each([&n](const Guid&, const std::shared_ptr<Tx>& tx) { n += (tx->logged || tx->prepared_logged) ? 1 : 0; });
  w.U32(n);
  tm.transactions.for_each([&w](const Guid&, const std::shared_ptr<Tx>& tx) {
    if (!tx->logged && !tx->prepared_logged) return;
    std::vector<LoggedEnlistment> ens;
    for (const auto& en : tx->enlistments) {
      if (!en->superior && en->durable() && en->state != EnState::kReadOnly) {
        ens.push_back({en->id, en->rm_id, en->recovery_blob});
      }
    }
    w.U8(tx->logged ? 0 : 1);
    auto rec = EncodeCommit(*tx, ens);
    w.Raw(rec);
    w.U8(tx->superior ? 1 : 0);
    if (tx->superior) {
      w.Id(tx->superior->id);
      w.Id(tx->superior->rm_id);
      w.Bytes(tx->superior->recovery_blob);
    }
  });
  auto lsn = tm.log->Append(kRecCheckpoint, w.data());
  if (!lsn.ok()) return;
  tm.checkpoint_in_flight = true;
  tm.ends_since_checkpoint = 0;
  KTM_CODE_PROBE(host_, "tm.checkpoint");
  Trace("ktm.checkpoint", {"tm", TraceShort(tm.id)}, {"base", *lsn}, {"live", n});
  std::weak_ptr<bool> alive = alive_;
  Tm* tmp = &tm;
  tm.log->WriteRestartArea(EncodeRestart(tm), *lsn, [alive, tmp](absl::Status) {
    if (auto a = alive.lock(); a && *a) tmp->checkpoint_in_flight = false;
  });
}

// ---------------------------------------------------------------------------
// Resource managers.

NTSTATUS Kernel::CreateResourceManager(const Guid& id, uint32_t options, HANDLE tm_handle,
                                       const std::string& description, HANDLE* out) {
  std::shared_ptr<Tm> tm;
  if (NTSTATUS s = Lookup(tm_handle, &tm); s != STATUS_SUCCESS) return s;
  if (out == nullptr || id.null() || (options & ~RESOURCE_MANAGER_MAXIMUM_OPTION) != 0 ||
      description.size() > MAX_TRANSACTION_DESCRIPTION_LENGTH) {
    return STATUS_INVALID_PARAMETER;
  }
  if (tm->state != TmState::kOnline) return STATUS_TRANSACTIONMANAGER_NOT_ONLINE;
  bool is_volatile = (options & RESOURCE_MANAGER_VOLATILE) != 0;
  if (!is_volatile && tm->is_volatile) return STATUS_TM_VOLATILE;
  if (rms_.count(id)) return STATUS_OBJECT_NAME_COLLISION;
  auto rm = std::make_shared<Rm>();
  rm->id = id;
  rm->tm = tm.get();
  rm->is_volatile = is_volatile;
  rm->description = description;
  rm->chain = host_->Chain("rm/" + std::string(id.Short()));
  rms_[id] = rm;
  AppendRmRegistration(*tm, *rm);
  tm->transactions.for_each([&id, &rm](const Guid&, const std::shared_ptr<Tx>& tx) {
    for (const auto& en : tx->enlistments) {
      if (en->rm_id == id && !en->rm) en->rm = rm;
    }
  });
  Trace("rm.create", {"rm", TraceShort(id)}, {"volatile", is_volatile ? "1" : "0"});
  *out = NewHandle(rm);
  return STATUS_SUCCESS;
}

NTSTATUS Kernel::OpenResourceManager(HANDLE tm_handle, const Guid& id, HANDLE* out) {
  std::shared_ptr<Tm> tm;
  if (NTSTATUS s = Lookup(tm_handle, &tm); s != STATUS_SUCCESS) return s;
  if (out == nullptr) return STATUS_INVALID_PARAMETER;
  if (tm->state != TmState::kOnline) return STATUS_TRANSACTIONMANAGER_NOT_ONLINE;
  if (auto it = rms_.find(id); it != rms_.end()) {
    *out = NewHandle(it->second);
    return STATUS_SUCCESS;
  }
  if (!tm->known_rms.count(id)) return STATUS_RESOURCEMANAGER_NOT_FOUND;
  auto rm = std::make_shared<Rm>();
  rm->id = id;
  rm->tm = tm.get();
  rm->chain = host_->Chain("rm/" + std::string(id.Short()));
  rms_[id] = rm;
  tm->transactions.for_each([&id, &rm](const Guid&, const std::shared_ptr<Tx>& tx) {
    for (const auto& en : tx->enlistments) {
      if (en->rm_id == id && !en->rm) en->rm = rm;
    }
  });
  Trace("rm.open", {"rm", TraceShort(id)});
  *out = NewHandle(rm);
  return STATUS_SUCCESS;
}

NTSTATUS Kernel::RecoverResourceManager(HANDLE h) {
  std::shared_ptr<Rm> rm;
  if (NTSTATUS s = Lookup(h, &rm); s != STATUS_SUCCESS) return s;
  if (rm->tm->state != TmState::kOnline) return STATUS_TRANSACTIONMANAGER_NOT_ONLINE;
  uint32_t count = 0;
  rm->tm->transactions.for_each([this, &rm, &count](const Guid&, const std::shared_ptr<Tx>& tx) {
    for (const auto& en : tx->enlistments) {
      if (en->rm_id != rm->id || en->state != EnState::kRecovering) continue;
      TRANSACTION_NOTIFICATION n;
      n.TransactionNotification = en->superior ? TRANSACTION_NOTIFY_RECOVER_QUERY : TRANSACTION_NOTIFY_RECOVER;
      n.TmVirtualClock = rm->tm->clock;
      n.EnlistmentId = en->id;
      n.UOW = tx->id;
      Enqueue(*rm, n);
      ++count;
    }
  });
  TRANSACTION_NOTIFICATION last;
  last.TransactionNotification = TRANSACTION_NOTIFY_LAST_RECOVER;
  last.TmVirtualClock = rm->tm->clock;
  Enqueue(*rm, last);
  Trace("rm.recover", {"rm", TraceShort(rm->id)}, {"enlistments", count});
  return STATUS_SUCCESS;
}

NTSTATUS Kernel::GetNotificationResourceManager(HANDLE h, TRANSACTION_NOTIFICATION* out) {
  Rm* rm = nullptr;
  if (NTSTATUS s = Lookup(h, &rm); s != STATUS_SUCCESS) return s;
  if (out == nullptr) return STATUS_INVALID_PARAMETER;
  if (rm->queue.empty()) return STATUS_TIMEOUT;
  *out = rm->queue.front();
  rm->queue.pop_front();
  return STATUS_SUCCESS;
}

void Kernel::GetNotificationResourceManagerAsync(HANDLE h, sim::TimeNs timeout, NotificationDone&& done) {
  // The handle keeps the RM alive through the call (no handle is closed in it).
  Rm* rm = nullptr;
  const NTSTATUS s = Lookup(h, &rm);
  // An RM re-arms its wait after every notification: that case (nothing
  // queued, no timeout) here, with no frame for the others.
  if (s != STATUS_SUCCESS || rm->waiter || !rm->queue.empty() || timeout != sim::kTimeNever) [[unlikely]] {
    return WaitForNotification(h, rm, s, timeout, std::move(done));
  }
  rm->waiter = std::move(done);
}

void Kernel::WaitForNotification(HANDLE h, Rm* rm, NTSTATUS s, sim::TimeNs timeout, NotificationDone&& done) {
  if (s == STATUS_SUCCESS && rm->waiter) s = STATUS_INVALID_PARAMETER;
  if (s != STATUS_SUCCESS) {
    Defer([done = std::move(done), s] { done(s, {}); });
    return;
  }
  if (!rm->queue.empty()) {
    TRANSACTION_NOTIFICATION n = rm->queue.front();
    rm->queue.pop_front();
    DeferToRm(*rm, [done = std::move(done), n] { done(STATUS_SUCCESS, n); });
    return;
  }
  rm->waiter = std::move(done);
  if (timeout != sim::kTimeNever) {
    std::weak_ptr<bool> alive = alive_;
    const std::shared_ptr<Rm>* rm_slot = nullptr;
    KTM_ASSERT(LookupSlot(h, &rm_slot) == STATUS_SUCCESS, "the RM's handle closed while waiting");
    std::weak_ptr<Rm> weak_rm = *rm_slot;
    rm->waiter_timer = host_->After(timeout, [alive, weak_rm, host = host_] {
      auto a = alive.lock();
      auto r = weak_rm.lock();
      if (!a || !*a || !r || !r->waiter) return;
      KTM_CODE_PROBE(host, "rm.notification_wait_timeout");
      auto waiter = std::move(r->waiter);
      r->waiter = nullptr;
      r->waiter_timer = sim::kNoEvent;
      waiter(STATUS_TIMEOUT, {});
    });
  }
}

// ---------------------------------------------------------------------------
// Enlistments.

NTSTATUS Kernel::CreateEnlistment(HANDLE rm_handle, HANDLE tx_handle, uint32_t mask, uint32_t options,
                                  uint64_t key, HANDLE* out) {
  // Raw pointers: the handles keep both alive through the call; the
  // shared_ptrs in the handle table (read before NewHandle changes it) give
  // the enlistment its references.
  const std::shared_ptr<Rm>* rm_slot = nullptr;
  const std::shared_ptr<Tx>* tx_slot = nullptr;
  if (NTSTATUS s = LookupSlot(rm_handle, &rm_slot); s != STATUS_SUCCESS) return s;
  if (NTSTATUS s = LookupSlot(tx_handle, &tx_slot); s != STATUS_SUCCESS) return s;
  Rm* rm = rm_slot->get();
  Tx* tx = tx_slot->get();
  constexpr uint32_t kThreePhase = TRANSACTION_NOTIFY_PREPREPARE | TRANSACTION_NOTIFY_PREPARE | TRANSACTION_NOTIFY_COMMIT;
  const bool superior = (options & ENLISTMENT_SUPERIOR) != 0;
  if (out == nullptr || (mask & ~TRANSACTION_NOTIFY_VALID_MASK) != 0 || (mask & TRANSACTION_NOTIFY_ROLLBACK) == 0 ||
      (options & ~ENLISTMENT_SUPERIOR) != 0 || (superior && IsResponseMask(mask)) ||
      (IsResponseMask(mask) && (mask & kThreePhase) != kThreePhase)) {
    return STATUS_INVALID_PARAMETER;
  }
  if (rm->tm->state != TmState::kOnline) return STATUS_TRANSACTIONMANAGER_NOT_ONLINE;
  if (superior && tx->superior) return STATUS_TRANSACTION_SUPERIOR_EXISTS;
  if (superior && rm->is_volatile && !rm->tm->is_volatile) return STATUS_TM_VOLATILE;
  if (superior && tx->state != TxState::kActive) return STATUS_TRANSACTION_NOT_ACTIVE;
  if (tx->state != TxState::kActive && tx->state != TxState::kPrePreparing) return STATUS_TRANSACTION_NOT_ACTIVE;
  if (tx->tm != nullptr && tx->tm != rm->tm) return STATUS_TRANSACTION_NOT_JOINED;
  if (tx->enlistments.size() >= kEnlistmentsPerTransactionMax) return STATUS_INSUFFICIENT_RESOURCES;
  tx->tm = rm->tm;
  auto en = std::make_shared_for_overwrite<En>();  // no zero fill first, as CreateTransaction's Tx
  en->id = NewGuid();
  en->key = key;
  en->mask = mask;
  en->rm = std::shared_ptr<Rm>(*rm_slot);  // moved from a copy: a copy assignment is an out-of-line call
  en->rm_id = rm->id;
  en->tx = *tx_slot;
  en->tx_id = tx->id;
  en->tx_handle = tx_handle;
  en->state = EnState::kActive;
  en->superior = superior;
  if (superior) tx->superior = en;
  tx->enlistments.push_back(en);
  TrackEnlistment(*rm, en);
  Trace("en.create", {"en", TraceShort(en->id)}, {"tx", TraceShort(tx->id)}, {"rm", TraceShort(rm->id)});
  En* created = en.get();  // kept alive by tx->enlistments
  *out = NewHandle(std::move(en));
  if (tx->state == TxState::kPrePreparing && (mask & TRANSACTION_NOTIFY_PREPREPARE)) {
    // Phase 0 is where late enlistments are allowed: this one pre-prepares too.
    SetEnState(*created, EnState::kPrePreparing);
    created->awaited = true;
    ++tx->pending;
    Notify(*created, TRANSACTION_NOTIFY_PREPREPARE);
  }
  return STATUS_SUCCESS;
}

NTSTATUS Kernel::OpenEnlistment(HANDLE rm_handle, const Guid& id, HANDLE* out) {
  std::shared_ptr<Rm> rm;
  if (NTSTATUS s = Lookup(rm_handle, &rm); s != STATUS_SUCCESS) return s;
  if (out == nullptr) return STATUS_INVALID_PARAMETER;
  std::shared_ptr<En> found;  // the first in id order
  rm->tm->transactions.for_each([&](const Guid&, const std::shared_ptr<Tx>& tx) {
    for (const auto& en : tx->enlistments) {
      if (found == nullptr && en->id == id && en->rm_id == rm->id) found = en;
    }
  });
  if (found == nullptr) return STATUS_ENLISTMENT_NOT_FOUND;
  found->rm = rm;
  *out = NewHandle(std::move(found));
  return STATUS_SUCCESS;
}

NTSTATUS Kernel::RecoverEnlistment(HANDLE h, uint64_t key) {
  std::shared_ptr<En> en;
  if (NTSTATUS s = Lookup(h, &en); s != STATUS_SUCCESS) return s;
  auto tx = en->tx.lock();
  if (!tx) return STATUS_TRANSACTION_NOT_FOUND;
  en->key = key;
  if (en->superior) {
    // The superior re-attaches; it answers with Commit/RollbackEnlistment.
    if (en->state != EnState::kRecovering) return STATUS_TRANSACTION_REQUEST_NOT_VALID;
    SetEnState(*en, EnState::kActive);
    return STATUS_SUCCESS;
  }
  bool recoverable = en->state == EnState::kRecovering || en->state == EnState::kCommittedNotify ||
                     en->state == EnState::kInDoubt || en->state == EnState::kAborting;
  if (!recoverable) return STATUS_TRANSACTION_REQUEST_NOT_VALID;
  if (tx->outcome == TransactionOutcomeCommitted) {
    KTM_CODE_PROBE(host_, "recovery.commit_redelivered");
    if (planted_bug_ == kBugRollbackCommittedOnRecovery) {
      SetEnState(*en, EnState::kAborting);
      Notify(*en, TRANSACTION_NOTIFY_ROLLBACK);
      return STATUS_SUCCESS;
    }
    if (en->state != EnState::kCommittedNotify) SetEnState(*en, EnState::kCommittedNotify);
    Notify(*en, TRANSACTION_NOTIFY_COMMIT);
  } else if (tx->outcome == TransactionOutcomeAborted) {
    KTM_CODE_PROBE(host_, "recovery.rollback_redelivered");
    if (en->state != EnState::kAborting) SetEnState(*en, EnState::kAborting);
    Notify(*en, TRANSACTION_NOTIFY_ROLLBACK);
  } else {
    // Prepared, the superior has not decided: the RM waits.
    KTM_CODE_PROBE(host_, "recovery.in_doubt");
    if (en->state != EnState::kInDoubt) SetEnState(*en, EnState::kInDoubt);
    Notify(*en, TRANSACTION_NOTIFY_INDOUBT);
  }
  return STATUS_SUCCESS;
}

NTSTATUS Kernel::ResponseCheck(HANDLE h, En** en, std::shared_ptr<Tx>* tx, uint64_t* clock) {
  if (NTSTATUS s = Lookup(h, en); s != STATUS_SUCCESS) return s;
  // The transaction's reference copied (a plain increment) from the handle
  // the enlistment was created through while the client keeps it open (a
  // direct index), else from transactions_ (a hash lookup) until it is
  // forgotten; locking the weak_ptr costs an atomic compare-exchange.
  const std::weak_ptr<Tx>& weak = (*en)->tx;
  auto same = [&weak](const std::shared_ptr<Tx>& strong) {
    return !strong.owner_before(weak) && !weak.owner_before(strong);
  };
  // Assigned from temporaries (moves): a copy assignment is an out-of-line call.
  const std::shared_ptr<Tx>* by_handle = nullptr;
  if (LookupSlot((*en)->tx_handle, &by_handle) == STATUS_SUCCESS && same(*by_handle)) {
    *tx = std::shared_ptr<Tx>(*by_handle);
  } else {
    auto it = transactions_.find((*en)->tx_id);
    *tx = it != transactions_.end() && same(it->second) ? it->second : weak.lock();
  }
  if (!*tx) return STATUS_TRANSACTION_NOT_ACTIVE;  // forgotten
  MergeClock((*tx)->tm, clock);
  return STATUS_SUCCESS;
}

namespace {
// Planted bug 7 takes its shortcut after this many phases in a row whose
// first response came from the enlistment notified last.
constexpr uint32_t kTrustResponseOrderStreak = 6;

// A response (PrePrepareComplete, PrepareComplete, CommitComplete,
// RollbackComplete, ReadOnlyEnlistment, SinglePhaseReject) KTM did not ask
// for: their WDK pages give STATUS_TRANSACTION_NOT_REQUESTED ("the transaction
// or its enlistment is not in the correct state"). Once the transaction rolled
// back, STATUS_TRANSACTION_ALREADY_ABORTED tells the RM why (the pages allow
// other values; RMs rely on it to tell a lost race from a bug).
NTSTATUS WrongState(const Tx& tx) {
  return tx.outcome == TransactionOutcomeAborted ? STATUS_TRANSACTION_ALREADY_ABORTED
                                                 : STATUS_TRANSACTION_NOT_REQUESTED;
}
}  // namespace

// Planted bug 7 (kBugTrustResponseOrder): the TM "learns" that responses
// come back in notification order reversed and, once it has seen that often
// enough in a row, takes the first phase-1 response from the last-notified
// enlistment as the vote of every enlistment still preparing. Under fifo
// tie-breaking responses come back in notification order, so the shortcut is
// never taken; it needs one RM's events to run ahead of another's at many
// same-time choice points in a row (docs/scheduling.md).
bool Kernel::TrustResponseOrder(const std::shared_ptr<Tx>& tx, const En* en) {
  const bool first = !tx->phase_answered;
  tx->phase_answered = true;
  if (!first || tx->phase_notified < 2) return false;
  const bool reversed = en == tx->phase_last_notified;
  response_order_streak_ = reversed ? response_order_streak_ + 1 : 0;
  if (!reversed || response_order_streak_ <= kTrustResponseOrderStreak || tx->state != TxState::kPreparing) {
    return false;
  }
  KTM_CODE_PROBE(host_, "bug.trust_response_order");
  for (const auto& other : tx->enlistments) {
    if (!other->awaited || other->state != EnState::kPreparing) continue;
    SetEnState(*other, EnState::kPrepared);
    other->awaited = false;
  }
  tx->pending = 0;
  MaybeFinishPhase(tx);
  return true;
}

NTSTATUS Kernel::PrePrepareComplete(HANDLE h, uint64_t* clock) {
  En* en = nullptr;
  std::shared_ptr<Tx> tx;
  if (NTSTATUS s = ResponseCheck(h, &en, &tx, clock); s != STATUS_SUCCESS) return s;
  if (en->state != EnState::kPrePreparing) {
    KTM_CODE_PROBE(host_, "tx.late_response");
    return WrongState(*tx);
  }
  if (planted_bug_ == kBugTrustResponseOrder && TrustResponseOrder(tx, en)) return STATUS_SUCCESS;
  SetEnState(*en, EnState::kPrePrepared);
  en->awaited = false;
  if (--tx->pending == 0) MaybeFinishPhase(tx);
  return STATUS_SUCCESS;
}

NTSTATUS Kernel::PrepareComplete(HANDLE h, uint64_t* clock) {
  En* en = nullptr;
  std::shared_ptr<Tx> tx;
  if (NTSTATUS s = ResponseCheck(h, &en, &tx, clock); s != STATUS_SUCCESS) return s;
  if (en->state != EnState::kPreparing) {
    KTM_CODE_PROBE(host_, "tx.late_response");
    return WrongState(*tx);
  }
  if (planted_bug_ == kBugTrustResponseOrder && TrustResponseOrder(tx, en)) return STATUS_SUCCESS;
  SetEnState(*en, EnState::kPrepared);
  en->awaited = false;
  if (--tx->pending == 0) MaybeFinishPhase(tx);
  return STATUS_SUCCESS;
}

NTSTATUS Kernel::CommitComplete(HANDLE h, uint64_t* clock) {
  En* en = nullptr;
  std::shared_ptr<Tx> tx;
  if (NTSTATUS s = ResponseCheck(h, &en, &tx, clock); s != STATUS_SUCCESS) return s;
  if (en->state == EnState::kDelegated) {
    KTM_ASSERT(tx->state == TxState::kDelegated, "delegated enlistment of a transaction that is not delegated");
    SetEnState(*en, EnState::kCommitted);
    en->awaited = false;
    SetTxState(*tx, TxState::kCommitted);
    tx->outcome = TransactionOutcomeCommitted;
    CompleteWaiters(tx->commit_waiters, STATUS_SUCCESS);
    tx->pending = 0;
    MaybeFinishPhase(tx);
    return STATUS_SUCCESS;
  }
  if (en->state != EnState::kCommittedNotify) return WrongState(*tx);
  SetEnState(*en, EnState::kCommitted);
  if (en->awaited && tx->pending > 0) --tx->pending;
  en->awaited = false;
  if (tx->pending == 0) MaybeFinishPhase(tx);
  return STATUS_SUCCESS;
}

NTSTATUS Kernel::RollbackComplete(HANDLE h, uint64_t* clock) {
  En* en = nullptr;
  std::shared_ptr<Tx> tx;
  if (NTSTATUS s = ResponseCheck(h, &en, &tx, clock); s != STATUS_SUCCESS) return s;
  if (en->state != EnState::kAborting) return STATUS_TRANSACTION_NOT_REQUESTED;  // ZwRollbackComplete
  SetEnState(*en, EnState::kAborted);
  if (en->awaited && tx->pending > 0) --tx->pending;
  en->awaited = false;
  if (tx->pending == 0) MaybeFinishPhase(tx);
  return STATUS_SUCCESS;
}

NTSTATUS Kernel::ReadOnlyEnlistment(HANDLE h, uint64_t* clock) {
  En* en = nullptr;
  std::shared_ptr<Tx> tx;
  if (NTSTATUS s = ResponseCheck(h, &en, &tx, clock); s != STATUS_SUCCESS) return s;
  bool allowed = en->state == EnState::kActive || en->state == EnState::kPrePreparing ||
                 en->state == EnState::kPrePrepared || en->state == EnState::kPreparing;
  if (!allowed || tx->outcome != TransactionOutcomeUndetermined) return WrongState(*tx);
  SetEnState(*en, EnState::kReadOnly);
  if (en->awaited) {
    en->awaited = false;
    --tx->pending;
    MaybeFinishPhase(tx);
  }
  return STATUS_SUCCESS;
}

NTSTATUS Kernel::SinglePhaseReject(HANDLE h, uint64_t* clock) {
  En* en = nullptr;
  std::shared_ptr<Tx> tx;
  if (NTSTATUS s = ResponseCheck(h, &en, &tx, clock); s != STATUS_SUCCESS) return s;
  if (en->state != EnState::kDelegated || tx->state != TxState::kDelegated) return WrongState(*tx);
  KTM_CODE_PROBE(host_, "tx.single_phase_reject");
  Trace("tx.spc_reject", {"tx", TraceShort(tx->id)});
  SetEnState(*en, EnState::kActive);
  en->awaited = false;
  StartPrePrepare(tx);
  return STATUS_SUCCESS;
}

NTSTATUS Kernel::RollbackEnlistment(HANDLE h, uint64_t* clock) {
  En* en = nullptr;
  std::shared_ptr<Tx> tx;
  if (NTSTATUS s = ResponseCheck(h, &en, &tx, clock); s != STATUS_SUCCESS) return s;
  if (tx->outcome == TransactionOutcomeAborted) return STATUS_TRANSACTION_ALREADY_ABORTED;
  if (en->superior) {
    // The superior's abort decision: allowed until the outcome is known.
    if (tx->outcome != TransactionOutcomeUndetermined) return STATUS_TRANSACTION_REQUEST_NOT_VALID;
    Trace("en.superior_rollback", {"en", TraceShort(en->id)}, {"tx", TraceShort(tx->id)});
    Abort(tx, "superior");
    return STATUS_SUCCESS;
  }
  bool allowed = en->state == EnState::kActive || en->state == EnState::kPrePreparing ||
                 en->state == EnState::kPrePrepared || en->state == EnState::kPreparing ||
                 en->state == EnState::kDelegated;
  if (!allowed || tx->outcome != TransactionOutcomeUndetermined) return STATUS_TRANSACTION_REQUEST_NOT_VALID;
  Trace("en.vote_no", {"en", TraceShort(en->id)}, {"tx", TraceShort(tx->id)});
  if (planted_bug_ == kBugIgnoreNoVote && en->state == EnState::kPreparing) {
    SetEnState(*en, EnState::kPrepared);
    en->awaited = false;
    --tx->pending;
    MaybeFinishPhase(tx);
    return STATUS_SUCCESS;
  }
  KTM_CODE_PROBE(host_, "tx.vote_no");
  Abort(tx, "rm");
  return STATUS_SUCCESS;
}

NTSTATUS Kernel::RequestOutcomeEnlistment(HANDLE h, uint64_t* clock) {
  En* en = nullptr;
  std::shared_ptr<Tx> tx;
  if (NTSTATUS s = ResponseCheck(h, &en, &tx, clock); s != STATUS_SUCCESS) return s;
  if (en->superior) return STATUS_TRANSACTION_REQUEST_NOT_VALID;  // TmRequestOutcomeEnlistment page
  Trace("en.request_outcome", {"en", TraceShort(en->id)}, {"tx", TraceShort(tx->id)});
  // Known outcome: its COMMIT or ROLLBACK is already on the way.
  if (tx->outcome != TransactionOutcomeUndetermined) return STATUS_SUCCESS;
  if (InPrePrepareOrEarlier(*tx) || tx->state == TxState::kPreparing) {
    // Not everyone prepared: KTM can still force the rollback.
    Abort(tx, "request_outcome");
    return STATUS_SUCCESS;
  }
  if (tx->superior) {
    // Prepared under a superior: only it knows; ask it.
    Notify(*tx->superior, TRANSACTION_NOTIFY_REQUEST_OUTCOME);
  }
  // Root transaction prepared, delegated or in doubt: KTM is deciding.
  return STATUS_SUCCESS;
}

NTSTATUS Kernel::SuperiorCheck(HANDLE h, En** en, std::shared_ptr<Tx>* tx, uint64_t* clock) {
  if (NTSTATUS s = ResponseCheck(h, en, tx, clock); s != STATUS_SUCCESS) return s;
  if (!(*en)->superior) return STATUS_ENLISTMENT_NOT_SUPERIOR;
  if ((*tx)->outcome == TransactionOutcomeAborted) return STATUS_TRANSACTION_ALREADY_ABORTED;
  return STATUS_SUCCESS;
}

NTSTATUS Kernel::PrePrepareEnlistment(HANDLE h, uint64_t* clock) {
  En* en = nullptr;
  std::shared_ptr<Tx> tx;
  if (NTSTATUS s = SuperiorCheck(h, &en, &tx, clock); s != STATUS_SUCCESS) return s;
  // ZwPrePrepareEnlistment: the superior must have asked for PREPREPARE_COMPLETE.
  if (!(en->mask & TRANSACTION_NOTIFY_PREPREPARE_COMPLETE)) return STATUS_TRANSACTION_RESPONSE_NOT_ENLISTED;
  if (tx->state != TxState::kActive) return STATUS_TRANSACTION_REQUEST_NOT_VALID;
  tx->commit_requested = true;
  if (tx->tm) tx->clock = ++tx->tm->clock;
  StartPrePrepare(tx);
  return STATUS_SUCCESS;
}

NTSTATUS Kernel::PrepareEnlistment(HANDLE h, uint64_t* clock) {
  En* en = nullptr;
  std::shared_ptr<Tx> tx;
  if (NTSTATUS s = SuperiorCheck(h, &en, &tx, clock); s != STATUS_SUCCESS) return s;
  // ZwPrepareEnlistment: the superior must have asked for PREPARE_COMPLETE.
  if (!(en->mask & TRANSACTION_NOTIFY_PREPARE_COMPLETE)) return STATUS_TRANSACTION_RESPONSE_NOT_ENLISTED;
  if (tx->state != TxState::kPrePrepared) return STATUS_TRANSACTION_REQUEST_NOT_VALID;
  StartPrepare(tx);
  return STATUS_SUCCESS;
}

NTSTATUS Kernel::CommitEnlistment(HANDLE h, uint64_t* clock) {
  En* en = nullptr;
  std::shared_ptr<Tx> tx;
  if (NTSTATUS s = SuperiorCheck(h, &en, &tx, clock); s != STATUS_SUCCESS) return s;
  if (!(en->mask & TRANSACTION_NOTIFY_COMMIT_COMPLETE)) return STATUS_TRANSACTION_RESPONSE_NOT_ENLISTED;
  if (tx->outcome == TransactionOutcomeCommitted) return STATUS_TRANSACTION_ALREADY_COMMITTED;
  if (tx->state != TxState::kPrepared && tx->state != TxState::kInDoubt) return STATUS_TRANSACTION_REQUEST_NOT_VALID;
  Trace("en.superior_commit", {"en", TraceShort(en->id)}, {"tx", TraceShort(tx->id)});
  if (tx->prepared_logged && tx->tm && tx->tm->log && !tx->tm->log->failed()) {
    // Lazy: if it is lost, recovery asks the superior again (RECOVER_QUERY).
    std::vector<LoggedEnlistment> durable;
    for (const auto& e : tx->enlistments) {
      if (!e->superior && e->durable()) durable.push_back({e->id, e->rm_id, e->recovery_blob});
    }
    if (tx->tm->log->Append(kRecCommit, EncodeCommit(*tx, durable)).ok()) tx->logged = true;
  }
  CommitDecided(tx);
  return STATUS_SUCCESS;
}

NTSTATUS Kernel::GetEnlistmentId(HANDLE h, Guid* id) {
  En* en = nullptr;
  if (NTSTATUS s = Lookup(h, &en); s != STATUS_SUCCESS) return s;
  if (id == nullptr) return STATUS_INVALID_PARAMETER;
  *id = en->id;
  return STATUS_SUCCESS;
}

NTSTATUS Kernel::GetEnlistmentRecoveryInformation(HANDLE h, std::vector<uint8_t>* blob) {
  std::shared_ptr<En> en;
  if (NTSTATUS s = Lookup(h, &en); s != STATUS_SUCCESS) return s;
  if (blob == nullptr) return STATUS_INVALID_PARAMETER;
  *blob = en->recovery_blob;
  return STATUS_SUCCESS;
}

NTSTATUS Kernel::SetEnlistmentRecoveryInformation(HANDLE h, const std::vector<uint8_t>& blob) {
  std::shared_ptr<En> en;
  if (NTSTATUS s = Lookup(h, &en); s != STATUS_SUCCESS) return s;
  if (blob.size() > kRecoveryBlobMax) return STATUS_INVALID_PARAMETER;
  bool before_prepared = en->state == EnState::kActive || en->state == EnState::kPrePreparing ||
                         en->state == EnState::kPrePrepared || en->state == EnState::kPreparing;
  if (!before_prepared) return STATUS_TRANSACTION_REQUEST_NOT_VALID;
  en->recovery_blob = blob;
  return STATUS_SUCCESS;
}

// ---------------------------------------------------------------------------
// Handles.

namespace {
// An enlistment that has not prepared yet: closing its last handle aborts
// its transaction (if that has not prepared either).
bool Unprepared(EnState st) {
  return st == EnState::kActive || st == EnState::kPrePreparing || st == EnState::kPrePrepared ||
         st == EnState::kPreparing;
}
}  // namespace

NTSTATUS Kernel::CloseHandle(HANDLE h) {
  HandleSlot& slot = handle_slots_[HandleSlotIndex(h)];
  const bool in_slot = slot.handle == h && h != INVALID_HANDLE_VALUE;
  auto overflow = in_slot ? handles_overflow_.end() : handles_overflow_.find(h);
  if (!in_slot && overflow == handles_overflow_.end()) return STATUS_INVALID_HANDLE;
  Object& held = in_slot ? slot.object : overflow->second;
  // The object taken out of the table as its own type (a slot keeps a null
  // shared_ptr): no variant moved, visited and destroyed around it.
  auto take = [&](auto& typed) {
    auto object = std::move(typed);
    if (in_slot) {
      slot.handle = INVALID_HANDLE_VALUE;
    } else {
      handles_overflow_.erase(overflow);
    }
    --open_handles_;
    --object->handles;
    return object;
  };
  if (auto* en = std::get_if<std::shared_ptr<En>>(&held)) {
    const std::shared_ptr<En> closed = take(*en);
    const EnState st = closed->state;
    // Only the last handle of an unprepared or delegated enlistment does more.
    if (closed->handles == 0 && (st == EnState::kDelegated || Unprepared(st))) CloseEnlistment(closed);
  } else if (auto* tx = std::get_if<std::shared_ptr<Tx>>(&held)) {
    const std::shared_ptr<Tx> closed = take(*tx);
    if (closed->handles == 0 && closed->state == TxState::kActive) Abort(closed, "last handle closed");
  } else if (auto* rm = std::get_if<std::shared_ptr<Rm>>(&held)) {
    const std::shared_ptr<Rm> closed = take(*rm);
    if (closed->handles == 0) CloseResourceManager(*closed);
  } else {
    take(std::get<std::shared_ptr<Tm>>(held));
  }
  return STATUS_SUCCESS;
}

void Kernel::CloseEnlistment(const std::shared_ptr<En>& en) {
  const EnState st = en->state;
  // The transaction is locked (an atomic increment and decrement) only here,
  // where closing the last handle does something.
  auto tx = en->tx.lock();
  if (!tx) return;
  if (st == EnState::kDelegated) {
    // The single-phase RM vanished without an outcome.
    KTM_CODE_PROBE(host_, "en.disconnected");
    Trace("en.disconnected", {"en", TraceShort(en->id)}, {"tx", TraceShort(tx->id)});
    SetEnState(*en, EnState::kDelegatedDisconnected);
    SetTxState(*tx, TxState::kInDoubt);
    CompleteWaiters(tx->commit_waiters, STATUS_RM_DISCONNECTED);
    for (const auto& other : tx->enlistments) {
      if (other != en) Notify(*other, TRANSACTION_NOTIFY_RM_DISCONNECTED);
    }
  } else if (InPrePrepareOrEarlier(*tx) || tx->state == TxState::kPreparing) {  // en is Unprepared
    Abort(tx, "enlistment closed");
  }
}

void Kernel::CloseResourceManager(Rm& rm) {
  for (const auto& weak : rm.enlistments) {
    auto en = weak.lock();
    auto tx = en ? en->tx.lock() : nullptr;
    if (!tx) continue;
    if (InPrePrepareOrEarlier(*tx) || tx->state == TxState::kPreparing) Abort(tx, "rm closed");
  }
  rm.online = false;
  rms_.erase(rm.id);
}

Kernel::LiveCounts Kernel::Live() const {
  LiveCounts live;
  live.transactions = transactions_.size();
  live.handles = open_handles_;
  for (const auto& [id, rm] : rms_) live.rm_enlistments += rm->enlistments.size();
  return live;
}

}  // namespace ktm
