// RmBase implementation: see rm_base.h for the contract. The protocol
// follows ktm/kv/kv_rm.cc step for step (same records, same forces, same
// trace events); only the data handling is delegated to the subclass.
#include "ktm/rm_base.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "ktm/assert.h"

namespace ktm {
namespace {

constexpr uint16_t kRecPrepare = 1;
constexpr uint16_t kRecCommit = 2;
constexpr uint16_t kRecAbort = 3;
constexpr uint16_t kRecSinglePhaseCommit = 4;
constexpr uint16_t kRecSnapshot = 5;
constexpr uint16_t kRecNonTransacted = 6;

constexpr uint32_t kMask = TRANSACTION_NOTIFY_PREPREPARE | TRANSACTION_NOTIFY_PREPARE | TRANSACTION_NOTIFY_COMMIT |
                           TRANSACTION_NOTIFY_ROLLBACK | TRANSACTION_NOTIFY_RM_DISCONNECTED;
// Bytes a snapshot adds per prepared transaction (UOW + length prefix) and in total.
constexpr uint64_t kSnapshotBytesPerTransaction = 16 + 4;
constexpr uint64_t kSnapshotBytesFixed = 64;

bool Alive(const std::weak_ptr<bool>& alive) {
  auto a = alive.lock();
  return a && *a;
}

}  // namespace

RmBase::RmBase(Kernel* kernel, sim::Host* host, sim::Disk* disk, HANDLE tm, RmOptions options,
               std::string trace_prefix)
    : kernel_(kernel),
      host_(host),
      disk_(disk),
      tm_(tm),
      options_(std::move(options)),
      trace_prefix_(std::move(trace_prefix)),
      rng_(host->DeriveRng(absl::StrCat(trace_prefix_, ".", options_.name, ".", host->incarnation()))),
      alive_(std::make_shared<bool>(true)) {
  KTM_ASSERT(options_.transactions_max > 0, "transactions_max must be positive");
}

RmBase::~RmBase() { *alive_ = false; }

size_t RmBase::in_doubt() const {
  size_t n = 0;
  for (const auto& [uow, ctx] : txs_) n += ctx.phase == RmTxPhase::kPrepared ? 1 : 0;
  return n;
}

void RmBase::Later(std::function<void()> fn) {
  std::weak_ptr<bool> alive = alive_;
  host_->After(options_.response_delay_ns, [alive, fn = std::move(fn)] {
    if (Alive(alive)) fn();
  });
}

void RmBase::TraceTx(const char* kind, const Guid& uow, std::initializer_list<sim::TraceField> extra) {
  constexpr size_t kExtraMax = 6;
  KTM_ASSERT(extra.size() <= kExtraMax, "TraceTx: too many fields");
  const GuidShort short_uow = uow.Short();
  sim::TraceField fields[2 + kExtraMax] = {{"rm", options_.name}, {"uow", short_uow}};
  std::copy(extra.begin(), extra.end(), fields + 2);
  host_->TraceEvent(kind, std::span<const sim::TraceField>(fields, 2 + extra.size()));
}

void RmBase::TraceRm(const std::string& what, std::initializer_list<sim::TraceField> extra) {
  constexpr size_t kExtraMax = 7;
  KTM_ASSERT(extra.size() <= kExtraMax, "TraceRm: too many fields");
  sim::TraceField fields[1 + kExtraMax] = {{"rm", options_.name}};
  std::copy(extra.begin(), extra.end(), fields + 1);
  host_->TraceEvent(absl::StrCat(trace_prefix_, ".", what), std::span<const sim::TraceField>(fields, 1 + extra.size()));
}

RmBase::TxContext* RmBase::Find(const Guid& uow) {
  auto it = txs_.find(uow);
  return it == txs_.end() ? nullptr : &it->second;
}

const RmBase::TxContext* RmBase::Find(const Guid& uow) const {
  auto it = txs_.find(uow);
  return it == txs_.end() ? nullptr : &it->second;
}

RmTxPhase RmBase::PhaseOf(const Guid& uow) const {
  const TxContext* ctx = Find(uow);
  return ctx == nullptr ? RmTxPhase::kNone : ctx->phase;
}

// ---------------------------------------------------------------------------
// Start and recovery.

void RmBase::Start(std::function<void(NTSTATUS)> done) {
  if (!options_.durable) {
    HANDLE rm;
    NTSTATUS s = CreateResourceManager(*kernel_, options_.rm_id, RESOURCE_MANAGER_VOLATILE, tm_, options_.name, &rm);
    if (s == STATUS_SUCCESS) {
      rm_ = rm;
      online_ = true;
      recovery_done_ = true;
      Arm();
    }
    TraceRm("online", {{"status", StatusName(s)}});
    host_->After(0, [done, s] { done(s); });
    return;
  }
  log_ = std::make_unique<log::Log>(disk_, log::LogOptions{.disk_offset = 0, .size_bytes = disk_->size_bytes()});
  KTM_ASSERT(StateBytesMax() + kSnapshotBytesFixed + options_.transactions_max * kSnapshotBytesPerTransaction <=
                 log_->record_payload_max(),
             absl::StrCat(options_.name, ": a snapshot of ", StateBytesMax(), " bytes does not fit one log record of ",
                          log_->record_payload_max()));
  std::weak_ptr<bool> alive = alive_;
  log_->Open([this, alive, done](absl::StatusOr<log::RecoveredLog> recovered) {
    if (Alive(alive)) OnLogOpened(std::move(recovered), done);
  });
}

void RmBase::OnLogOpened(absl::StatusOr<log::RecoveredLog> recovered, std::function<void(NTSTATUS)> done) {
  bool formatted = recovered.ok() || !absl::IsNotFound(recovered.status());
  if (!recovered.ok() && formatted) {
    TraceRm("start_failed", {{"error", std::string(recovered.status().message())}});
    return done(STATUS_LOG_CORRUPTION_DETECTED);
  }
  if (formatted) {
    Replay(*recovered);
    return Register(done);
  }
  std::weak_ptr<bool> alive = alive_;
  log_->Format([this, alive, done](absl::Status status) {
    if (!Alive(alive)) return;
    if (!status.ok()) return done(STATUS_UNEXPECTED_IO_ERROR);
    log_->WriteRestartArea({}, 0, [this, alive, done](absl::Status st) {
      if (!Alive(alive)) return;
      if (!st.ok()) return done(STATUS_UNEXPECTED_IO_ERROR);
      Register(done);
    });
  });
}

void RmBase::ApplyBytes(const std::vector<uint8_t>& changes) {
  if (changes.empty()) return;  // an outcome re-delivered for a transaction already applied
  Reader r(changes);
  ApplyChanges(r);
  KTM_ASSERT(r.done(), absl::StrCat(options_.name, ": encoded changes do not decode"));
}

void RmBase::ReplayRecord(const log::LogRecord& record, std::map<Guid, std::vector<uint8_t>>& prepared) {
  Reader r(record.payload);
  Guid uow;
  switch (record.type) {
    case kRecPrepare: {
      uow = r.Id();
      (void)r.Id();  // enlistment id (diagnostics)
      prepared[uow] = r.Bytes();
      break;
    }
    case kRecCommit:
      uow = r.Id();
      replayed_commits_.insert(uow.Short());
      if (auto it = prepared.find(uow); it != prepared.end()) {
        ApplyBytes(it->second);
        prepared.erase(it);
      }
      break;
    case kRecAbort:
      prepared.erase(r.Id());
      break;
    case kRecSinglePhaseCommit:
      uow = r.Id();
      replayed_commits_.insert(uow.Short());
      ApplyBytes(r.Bytes());
      break;
    case kRecSnapshot: {
      std::vector<uint8_t> committed = r.Bytes();
      Reader state(committed);
      DecodeCommitted(state);
      KTM_ASSERT(state.done(), absl::StrCat(options_.name, ": snapshot state does not decode"));
      prepared.clear();
      uint32_t n = r.U32();
      for (uint32_t i = 0; i < n && r.ok(); ++i) {
        Guid u = r.Id();
        prepared[u] = r.Bytes();
      }
      break;
    }
    case kRecNonTransacted:
      ApplyBytes(r.Bytes());
      break;
    default:
      KTM_ASSERT(false, absl::StrCat(options_.name, ": log record of unknown type ", record.type));
  }
  KTM_ASSERT(r.done(), absl::StrCat(options_.name, ": log record of type ", record.type,
                                    " with a valid checksum does not decode"));
}

void RmBase::Replay(const log::RecoveredLog& recovered) {
  std::map<Guid, std::vector<uint8_t>> prepared;
  for (const auto& record : recovered.records) ReplayRecord(record, prepared);
  for (auto& [uow, changes] : prepared) {
    TxContext ctx;
    ctx.uow = uow;
    ctx.phase = RmTxPhase::kPrepared;
    ctx.prepare_logged = true;
    ctx.changes = std::move(changes);
    ctx.key = next_key_++;
    Reader r(ctx.changes);
    RestorePrepared(uow, r);
    KTM_ASSERT(r.done(), absl::StrCat(options_.name, ": prepared changes do not decode"));
    by_key_[ctx.key] = uow;
    txs_[uow] = std::move(ctx);
  }
  TraceRm("replayed", {{"records", absl::StrCat(recovered.records.size())}, {"in_doubt", absl::StrCat(txs_.size())}});
}

void RmBase::Register(std::function<void(NTSTATUS)> done) {
  HANDLE rm;
  NTSTATUS s = OpenResourceManager(*kernel_, tm_, options_.rm_id, &rm);
  if (s == STATUS_RESOURCEMANAGER_NOT_FOUND) {
    s = CreateResourceManager(*kernel_, options_.rm_id, 0, tm_, options_.name, &rm);
  }
  if (s == STATUS_SUCCESS) {
    rm_ = rm;
    online_ = true;
    Arm();
    s = RecoverResourceManager(*kernel_, rm_);
  }
  TraceRm("online", {{"status", StatusName(s)}});
  host_->After(0, [done, s] { done(s); });
}

void RmBase::OnRecover(const TRANSACTION_NOTIFICATION& n) {
  TxContext* ctx = Find(n.UOW);
  if (ctx == nullptr) {
    // Already committed by our own log (commit record durable before the
    // crash): KTM still needs the acknowledgement.
    TxContext fresh;
    fresh.uow = n.UOW;
    fresh.phase = RmTxPhase::kPrepared;
    fresh.key = next_key_++;
    by_key_[fresh.key] = n.UOW;
    ctx = &(txs_[n.UOW] = std::move(fresh));
  }
  HANDLE en;
  NTSTATUS s = OpenEnlistment(*kernel_, rm_, n.EnlistmentId, &en);
  KTM_ASSERT(s == STATUS_SUCCESS, absl::StrCat("OpenEnlistment of a RECOVER notification failed: ", StatusName(s)));
  ctx->enlistment = en;
  ctx->recovering = true;
  s = RecoverEnlistment(*kernel_, en, ctx->key);
  KTM_ASSERT(s == STATUS_SUCCESS, absl::StrCat("RecoverEnlistment failed: ", StatusName(s)));
}

void RmBase::OnLastRecover() {
  recovery_done_ = true;
  std::vector<Guid> presumed_aborted;
  for (auto& [uow, ctx] : txs_) {
    if (ctx.phase == RmTxPhase::kPrepared && !ctx.recovering && ctx.enlistment == INVALID_HANDLE_VALUE) {
      presumed_aborted.push_back(uow);
    }
  }
  for (const auto& uow : presumed_aborted) {
    TxContext& ctx = txs_[uow];
    Abandon(ctx, "presumed");
    Finish(uow);
  }
}

// ---------------------------------------------------------------------------
// Services for the subclass.

NTSTATUS RmBase::Enlist(HANDLE transaction, Guid* out) {
  if (!online_) return STATUS_RM_NOT_ACTIVE;
  Guid uow;
  if (NTSTATUS s = GetTransactionId(*kernel_, transaction, &uow); s != STATUS_SUCCESS) return s;
  if (TxContext* ctx = Find(uow)) {
    if (ctx->phase != RmTxPhase::kActive) return STATUS_TRANSACTION_NOT_ACTIVE;
    *out = uow;
    return STATUS_SUCCESS;
  }
  if (txs_.size() >= options_.transactions_max) return STATUS_INSUFFICIENT_RESOURCES;
  uint32_t mask = kMask | (options_.single_phase ? TRANSACTION_NOTIFY_SINGLE_PHASE_COMMIT : 0);
  TxContext ctx;
  ctx.uow = uow;
  ctx.key = next_key_++;
  NTSTATUS s = CreateEnlistment(*kernel_, rm_, transaction, mask, 0, ctx.key, &ctx.enlistment);
  if (s != STATUS_SUCCESS) return s;
  by_key_[ctx.key] = uow;
  txs_[uow] = std::move(ctx);
  TraceTx("kv.enlist", uow);
  *out = uow;
  return STATUS_SUCCESS;
}

bool RmBase::Doom(const Guid& uow, const std::string& why) {
  TxContext* ctx = Find(uow);
  if (ctx == nullptr || ctx->phase != RmTxPhase::kActive) return false;
  VoteNo(*ctx, why);
  return true;
}

NTSTATUS RmBase::LogNonTransacted(const std::vector<uint8_t>& changes, const std::function<void()>& apply) {
  if (!online_) return STATUS_RM_NOT_ACTIVE;
  if (!options_.durable) {
    apply();
    return STATUS_SUCCESS;
  }
  Writer w;
  w.Bytes(changes);
  auto lsn = log_->Append(kRecNonTransacted, w.data());
  if (!lsn.ok()) return absl::IsResourceExhausted(lsn.status()) ? STATUS_DISK_FULL : STATUS_UNEXPECTED_IO_ERROR;
  apply();
  log_->Force(*lsn, [](absl::Status) {});  // write-through without waiting; a failure fails the log
  MaybeSnapshot();
  return STATUS_SUCCESS;
}

NTSTATUS RmBase::Disconnect(HANDLE transaction) {
  Guid uow;
  if (NTSTATUS s = GetTransactionId(*kernel_, transaction, &uow); s != STATUS_SUCCESS) return s;
  TxContext* ctx = Find(uow);
  if (ctx == nullptr || ctx->enlistment == INVALID_HANDLE_VALUE) return STATUS_TRANSACTION_NOT_JOINED;
  TraceRm("disconnect", {{"uow", uow.Short()}});
  HANDLE en = ctx->enlistment;
  ctx->enlistment = INVALID_HANDLE_VALUE;
  return CloseHandle(*kernel_, en);
}

// ---------------------------------------------------------------------------
// Notifications.

void RmBase::Arm() {
  std::weak_ptr<bool> alive = alive_;
  GetNotificationResourceManagerAsync(*kernel_, rm_, sim::kTimeNever,
                                      [this, alive](NTSTATUS status, TRANSACTION_NOTIFICATION n) {
                                        if (Alive(alive)) OnNotification(status, n);
                                      });
}

void RmBase::OnNotification(NTSTATUS status, TRANSACTION_NOTIFICATION n) {
  if (status != STATUS_SUCCESS) return;  // the RM handle went away
  Arm();
  // One handler event per notification, but each takes the oldest one
  // waiting: whichever runs first when a tie-breaking strategy reorders
  // same-time events, notifications are handled in delivery order, as by
  // one RM thread (a LAST_RECOVER never overtakes the RECOVERs before it).
  inbox_.push_back(n);
  Later([this] { HandleNext(); });
}

void RmBase::HandleNext() {
  KTM_ASSERT(!inbox_.empty(), "a notification handler event without a notification");
  const TRANSACTION_NOTIFICATION n = inbox_.front();
  inbox_.pop_front();
  Handle(n);
}

void RmBase::Handle(const TRANSACTION_NOTIFICATION& n) {
  uint32_t what = n.TransactionNotification;
  if (what == TRANSACTION_NOTIFY_RECOVER) return OnRecover(n);
  if (what == TRANSACTION_NOTIFY_LAST_RECOVER) return OnLastRecover();
  auto key = by_key_.find(n.TransactionKey);
  if (key == by_key_.end()) return;  // a duplicate for a transaction already finished
  TxContext* ctx = Find(key->second);
  if (ctx == nullptr) return;
  TraceTx("kv.notify", ctx->uow, {{"n", NotificationName(what)}});
  switch (what) {
    case TRANSACTION_NOTIFY_PREPREPARE:
      (void)PrePrepareComplete(*kernel_, ctx->enlistment);
      return;
    case TRANSACTION_NOTIFY_PREPARE:
      return OnPrepare(*ctx);
    case TRANSACTION_NOTIFY_COMMIT:
      return OnCommit(*ctx);
    case TRANSACTION_NOTIFY_SINGLE_PHASE_COMMIT:
      return OnSinglePhaseCommit(*ctx);
    case TRANSACTION_NOTIFY_ROLLBACK:
      return OnRollback(*ctx);
    default:
      return;
  }
}

// Drops the transaction's effects (it will not commit) and traces the abort once.
void RmBase::Abandon(TxContext& ctx, const std::string& why) {
  if (ctx.prepare_logged && options_.durable && !log_->failed()) {
    Writer w;
    w.Id(ctx.uow);
    (void)log_->Append(kRecAbort, w.data());  // not forced: presumed abort covers a lost one
  }
  EndTransaction(ctx.uow);
  ctx.phase = RmTxPhase::kDone;
  ctx.changes.clear();
  if (!ctx.outcome_traced) {
    ctx.outcome_traced = true;
    if (why.empty()) {
      TraceTx("kv.aborted", ctx.uow);
    } else {
      TraceTx("kv.aborted", ctx.uow, {{"why", why}});
    }
  }
}

// A "no" vote: RollbackEnlistment (allowed until PrepareComplete), effects
// dropped now; the ROLLBACK that follows only acknowledges.
void RmBase::VoteNo(TxContext& ctx, const std::string& why) {
  if (why.empty()) {
    TraceTx("kv.vote", ctx.uow, {{"vote", "no"}});
  } else {
    TraceTx("kv.vote", ctx.uow, {{"vote", "no"}, {"why", why}});
  }
  (void)RollbackEnlistment(*kernel_, ctx.enlistment);
  Abandon(ctx, why);
}

void RmBase::OnPrepare(TxContext& ctx) {
  if (ctx.phase != RmTxPhase::kActive) return;  // voted no already
  if (rng_.Bernoulli(options_.vote_no_probability)) return VoteNo(ctx, "");
  if (!HasChanges(ctx.uow)) {
    TraceTx("kv.vote", ctx.uow, {{"vote", "readonly"}});
    NTSTATUS s = ReadOnlyEnlistment(*kernel_, ctx.enlistment);
    if (s == STATUS_SUCCESS) {
      EndTransaction(ctx.uow);
      ctx.phase = RmTxPhase::kDone;
      Finish(ctx.uow);
    }
    return;
  }
  Writer changes;
  EncodeChanges(ctx.uow, changes);
  ctx.changes = std::move(changes.data());
  ctx.phase = RmTxPhase::kPreparing;
  if (!options_.durable) {
    ctx.phase = RmTxPhase::kPrepared;
    TraceTx("kv.vote", ctx.uow, {{"vote", "yes"}});
    (void)PrepareComplete(*kernel_, ctx.enlistment);
    return;
  }
  Writer w;
  w.Id(ctx.uow);
  Guid en_id;
  (void)GetEnlistmentId(*kernel_, ctx.enlistment, &en_id);
  w.Id(en_id);
  w.Bytes(ctx.changes);
  auto lsn = log_->Append(kRecPrepare, w.data());
  if (!lsn.ok()) return VoteNo(ctx, "log");
  ctx.prepare_logged = true;
  std::weak_ptr<bool> alive = alive_;
  Guid uow = ctx.uow;
  log_->Force(*lsn, [this, alive, uow](absl::Status status) {
    if (Alive(alive)) OnPrepareForced(uow, status);
  });
}

void RmBase::OnPrepareForced(const Guid& uow, absl::Status status) {
  TxContext* c = Find(uow);
  if (c == nullptr || c->phase != RmTxPhase::kPreparing) return;
  if (!status.ok()) return VoteNo(*c, "log");
  c->phase = RmTxPhase::kPrepared;
  TraceTx("kv.vote", uow, {{"vote", "yes"}});
  (void)PrepareComplete(*kernel_, c->enlistment);
}

void RmBase::Finish(const Guid& uow) {
  TxContext* ctx = Find(uow);
  if (ctx == nullptr) return;
  if (ctx->enlistment != INVALID_HANDLE_VALUE) (void)CloseHandle(*kernel_, ctx->enlistment);
  by_key_.erase(ctx->key);
  txs_.erase(uow);
  MaybeSnapshot();
}

void RmBase::OnCommit(TxContext& ctx) {
  if (ctx.phase == RmTxPhase::kDone) return;
  KTM_ASSERT(ctx.phase == RmTxPhase::kPrepared,
             absl::StrCat(options_.name, ": COMMIT for a transaction that did not prepare here"));
  ApplyBytes(ctx.changes);
  EndTransaction(ctx.uow);
  ctx.changes.clear();
  ctx.phase = RmTxPhase::kDone;
  ctx.outcome_traced = true;
  TraceTx("kv.committed", ctx.uow);
  if (!options_.durable) {
    (void)CommitComplete(*kernel_, ctx.enlistment);
    Finish(ctx.uow);
    return;
  }
  Writer w;
  w.Id(ctx.uow);
  auto lsn = log_->Append(kRecCommit, w.data());
  std::weak_ptr<bool> alive = alive_;
  Guid uow = ctx.uow;
  auto complete = [this, alive, uow](absl::Status status) {
    if (!Alive(alive)) return;
    TxContext* c = Find(uow);
    if (c == nullptr) return;
    // Without a durable commit record the acknowledgement must wait for
    // recovery: KTM keeps the transaction and re-sends COMMIT after a restart.
    if (!status.ok()) return;
    (void)CommitComplete(*kernel_, c->enlistment);
    Finish(uow);
  };
  if (!lsn.ok()) return complete(lsn.status());
  log_->Force(*lsn, complete);
}

void RmBase::OnSinglePhaseCommit(TxContext& ctx) {
  if (ctx.phase != RmTxPhase::kActive) return;
  if (rng_.Bernoulli(options_.reject_single_phase_probability)) {
    TraceRm("spc_reject", {{"uow", ctx.uow.Short()}});
    (void)SinglePhaseReject(*kernel_, ctx.enlistment);
    return;
  }
  bool changed = HasChanges(ctx.uow);
  if (changed) {
    Writer changes;
    EncodeChanges(ctx.uow, changes);
    ctx.changes = std::move(changes.data());
  }
  ctx.phase = RmTxPhase::kPreparing;
  ctx.single_phase = true;
  if (!options_.durable || !changed) return FinishSinglePhase(ctx.uow);
  Writer w;
  w.Id(ctx.uow);
  w.Bytes(ctx.changes);
  auto lsn = log_->Append(kRecSinglePhaseCommit, w.data());
  if (!lsn.ok()) {
    ctx.single_phase = false;
    return VoteNo(ctx, "log");
  }
  std::weak_ptr<bool> alive = alive_;
  Guid uow = ctx.uow;
  log_->Force(*lsn, [this, alive, uow](absl::Status status) {
    if (Alive(alive) && status.ok()) FinishSinglePhase(uow);
  });
}

void RmBase::FinishSinglePhase(const Guid& uow) {
  TxContext* c = Find(uow);
  if (c == nullptr) return;
  c->single_phase = false;
  TraceTx("kv.vote", uow, {{"vote", "spc"}});
  ApplyBytes(c->changes);
  EndTransaction(uow);
  c->changes.clear();
  c->phase = RmTxPhase::kDone;
  c->outcome_traced = true;
  TraceTx("kv.committed", uow);
  (void)CommitComplete(*kernel_, c->enlistment);
  Finish(uow);
}

void RmBase::OnRollback(TxContext& ctx) {
  if (ctx.single_phase) return;  // our own commit record is being forced: that decides
  // After a "no" vote or Doom the effects are gone already: only acknowledge.
  if (ctx.phase != RmTxPhase::kDone) Abandon(ctx, "");
  (void)RollbackComplete(*kernel_, ctx.enlistment);
  Finish(ctx.uow);
}

void RmBase::MaybeSnapshot() {
  if (!options_.durable || !log_ || log_->failed() || snapshot_in_flight_) return;
  if (log_->end_lsn() - log_->base_lsn() < disk_->size_bytes() / 4) return;
  // A single-phase commit record being forced holds changes that are not in
  // the committed state yet: moving the base past it would lose them.
  for (const auto& [uow, ctx] : txs_) {
    if (ctx.single_phase) return;
  }
  Writer committed;
  EncodeCommitted(committed);
  Writer w;
  w.Bytes(committed.data());
  // Transactions whose prepare record is (or is being) forced must survive
  // the base moving past that record.
  auto keep = [](const TxContext& c) {
    return c.prepare_logged && (c.phase == RmTxPhase::kPrepared || c.phase == RmTxPhase::kPreparing);
  };
  uint32_t n = 0;
  for (const auto& [uow, ctx] : txs_) n += keep(ctx) ? 1 : 0;
  w.U32(n);
  for (const auto& [uow, ctx] : txs_) {
    if (!keep(ctx)) continue;
    w.Id(uow);
    w.Bytes(ctx.changes);
  }
  auto lsn = log_->Append(kRecSnapshot, w.data());
  if (!lsn.ok()) return;
  snapshot_in_flight_ = true;
  TraceRm("snapshot", {{"base", absl::StrCat(*lsn)}, {"bytes", absl::StrCat(w.data().size())}});
  std::weak_ptr<bool> alive = alive_;
  log_->WriteRestartArea({}, *lsn, [this, alive](absl::Status) {
    if (Alive(alive)) snapshot_in_flight_ = false;
  });
}

}  // namespace ktm
