// KvRm implementation: see kv_rm.h for the contract.
#include "ktm/kv/kv_rm.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "ktm/assert.h"
#include "ktm/codec.h"
#include "ktm/probes.h"

namespace ktm::kv {
namespace {

constexpr uint16_t kRecPrepare = 1;
constexpr uint16_t kRecCommit = 2;
constexpr uint16_t kRecAbort = 3;
constexpr uint16_t kRecSinglePhaseCommit = 4;
constexpr uint16_t kRecSnapshot = 5;

constexpr uint32_t kMask = TRANSACTION_NOTIFY_PREPREPARE | TRANSACTION_NOTIFY_PREPARE | TRANSACTION_NOTIFY_COMMIT |
                           TRANSACTION_NOTIFY_ROLLBACK | TRANSACTION_NOTIFY_RM_DISCONNECTED;

void PutWrites(Writer& w, const std::map<std::string, std::string>& writes) {
  w.U32(static_cast<uint32_t>(writes.size()));
  for (const auto& [k, v] : writes) {
    w.Str(k);
    w.Str(v);
  }
}

std::map<std::string, std::string> GetWrites(Reader& r) {
  std::map<std::string, std::string> writes;
  uint32_t n = r.U32();
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    std::string k = r.Str();
    writes[k] = r.Str();
  }
  return writes;
}

}  // namespace

KvRm::KvRm(Kernel* kernel, sim::Host* host, sim::Disk* disk, HANDLE tm, KvOptions options)
    : kernel_(kernel),
      host_(host),
      disk_(disk),
      tm_(tm),
      options_(std::move(options)),
      rng_(host->DeriveRng(absl::StrCat("kv.", options_.name, ".", host->incarnation()))),
      alive_(std::make_shared<bool>(true)) {}

KvRm::~KvRm() { *alive_ = false; }

size_t KvRm::in_doubt() const {
  size_t n = 0;
  for (const auto& [uow, ctx] : txs_) n += ctx.phase == Phase::kPrepared ? 1 : 0;
  return n;
}

void KvRm::Later(std::function<void()> fn) {
  std::weak_ptr<bool> alive = alive_;
  // In the chain the kernel delivers this RM's notifications in: the RM's "thread" (PCT).
  // Interned on first use (the scheduler numbers chains in first-use order).
  if (chain_ == 0) chain_ = host_->Chain("rm/" + std::string(options_.rm_id.Short()));
  host_->AfterInChain(options_.response_delay_ns, chain_, [alive, fn = std::move(fn)] {
    if (auto a = alive.lock(); a && *a) fn();
  });
}

void KvRm::TraceKv(const char* kind, const TxContext& ctx, std::initializer_list<sim::TraceField> extra) {
  constexpr size_t kExtraMax = 6;
  KTM_ASSERT(extra.size() <= kExtraMax, "TraceKv: too many fields");
  const GuidShort uow = ctx.uow.Short();
  sim::TraceField fields[2 + kExtraMax] = {{"rm", options_.name}, {"uow", uow}};
  std::copy(extra.begin(), extra.end(), fields + 2);
  host_->TraceEvent(kind, std::span<const sim::TraceField>(fields, 2 + extra.size()));
}

KvRm::TxContext* KvRm::Find(const Guid& uow) {
  auto it = txs_.find(uow);
  return it == txs_.end() ? nullptr : &it->second;
}

// ---------------------------------------------------------------------------
// Start and recovery.

void KvRm::Start(std::function<void(NTSTATUS)> done) {
  if (!options_.durable) {
    HANDLE rm;
    NTSTATUS s = CreateResourceManager(*kernel_, options_.rm_id, RESOURCE_MANAGER_VOLATILE, tm_, options_.name, &rm);
    if (s == STATUS_SUCCESS) {
      rm_ = rm;
      online_ = true;
      recovery_done_ = true;
      Arm();
    }
    host_->After(0, [done, s] { done(s); });
    return;
  }
  log_ = std::make_unique<log::Log>(disk_, log::LogOptions{.disk_offset = 0, .size_bytes = disk_->size_bytes()});
  std::weak_ptr<bool> alive = alive_;
  log_->Open([this, alive, done](absl::StatusOr<log::RecoveredLog> recovered) {
    if (auto a = alive.lock(); !a || !*a) return;
    bool formatted = recovered.ok() || !absl::IsNotFound(recovered.status());
    if (!recovered.ok() && formatted) {
      host_->TraceEvent("kv.start_failed", {{"rm", options_.name}, {"error", std::string(recovered.status().message())}});
      return done(STATUS_LOG_CORRUPTION_DETECTED);
    }
    if (formatted) {
      Replay(*recovered);
      return Register(done);
    }
    log_->Format([this, alive, done](absl::Status status) {
      if (auto a = alive.lock(); !a || !*a) return;
      if (!status.ok()) return done(STATUS_UNEXPECTED_IO_ERROR);
      log_->WriteRestartArea({}, 0, [this, alive, done](absl::Status st) {
        if (auto a = alive.lock(); !a || !*a) return;
        if (!st.ok()) return done(STATUS_UNEXPECTED_IO_ERROR);
        Register(done);
      });
    });
  });
}

void KvRm::Replay(const log::RecoveredLog& recovered) {
  std::map<Guid, std::map<std::string, std::string>> prepared;
  std::map<Guid, Guid> enlistment_of;
  for (const auto& record : recovered.records) {
    Reader r(record.payload);
    Guid uow;
    switch (record.type) {
      case kRecPrepare: {
        uow = r.Id();
        Guid en = r.Id();
        prepared[uow] = GetWrites(r);
        enlistment_of[uow] = en;
        break;
      }
      case kRecCommit:
        uow = r.Id();
        replayed_commits_.insert(uow.Short());
        if (auto it = prepared.find(uow); it != prepared.end()) {
          for (const auto& [k, v] : it->second) committed_[k] = v;
          prepared.erase(it);
        }
        break;
      case kRecAbort:
        prepared.erase(r.Id());
        break;
      case kRecSinglePhaseCommit:
        uow = r.Id();
        replayed_commits_.insert(uow.Short());
        for (const auto& [k, v] : GetWrites(r)) committed_[k] = v;
        break;
      case kRecSnapshot: {
        committed_ = GetWrites(r);
        prepared.clear();
        uint32_t n = r.U32();
        for (uint32_t i = 0; i < n && r.ok(); ++i) {
          Guid u = r.Id();
          prepared[u] = GetWrites(r);
        }
        break;
      }
      default:
        KTM_ASSERT(false, absl::StrCat("kv log record of unknown type ", record.type));
    }
    KTM_ASSERT(r.ok(), absl::StrCat("kv log record of type ", record.type, " with a valid checksum does not decode"));
  }
  for (auto& [uow, writes] : prepared) {
    TxContext ctx;
    ctx.uow = uow;
    ctx.phase = Phase::kPrepared;
    ctx.writes = std::move(writes);
    ctx.key = next_key_++;
    for (const auto& [k, v] : ctx.writes) locks_[k] = uow;
    by_key_[ctx.key] = uow;
    txs_[uow] = std::move(ctx);
  }
  host_->TraceEvent("kv.replayed", {{"rm", options_.name}, {"keys", absl::StrCat(committed_.size())},
                                    {"in_doubt", absl::StrCat(txs_.size())}});
}

void KvRm::Register(std::function<void(NTSTATUS)> done) {
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
  host_->TraceEvent("kv.online", {{"rm", options_.name}, {"status", StatusName(s)}});
  host_->After(0, [done, s] { done(s); });
}

void KvRm::OnRecover(const TRANSACTION_NOTIFICATION& n) {
  TxContext* ctx = Find(n.UOW);
  if (ctx == nullptr) {
    // Already committed by our own log (commit record durable before the crash):
    // KTM still needs the acknowledgement.
    TxContext fresh;
    fresh.uow = n.UOW;
    fresh.phase = Phase::kPrepared;
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

void KvRm::OnLastRecover() {
  recovery_done_ = true;
  std::vector<Guid> presumed_aborted;
  for (auto& [uow, ctx] : txs_) {
    if (ctx.phase == Phase::kPrepared && !ctx.recovering && ctx.enlistment == INVALID_HANDLE_VALUE) {
      presumed_aborted.push_back(uow);
    }
  }
  for (const auto& uow : presumed_aborted) {
    TxContext& ctx = txs_[uow];
    Writer w;
    w.Id(uow);
    (void)log_->Append(kRecAbort, w.data());
    KTM_CODE_PROBE(host_, "kv.presumed_abort");
    TraceKv("kv.aborted", ctx, {{"why", "presumed"}});
    Release(ctx);
    Finish(uow);
  }
}

// ---------------------------------------------------------------------------
// Client operations.

NTSTATUS KvRm::Enlist(HANDLE transaction, TxContext** out) {
  if (!online_) return STATUS_RM_NOT_ACTIVE;
  Guid uow;
  if (NTSTATUS s = GetTransactionId(*kernel_, transaction, &uow); s != STATUS_SUCCESS) return s;
  if (TxContext* ctx = Find(uow)) {
    if (ctx->phase != Phase::kActive) return STATUS_TRANSACTION_NOT_ACTIVE;
    *out = ctx;
    return STATUS_SUCCESS;
  }
  uint32_t mask = kMask | (options_.single_phase ? TRANSACTION_NOTIFY_SINGLE_PHASE_COMMIT : 0);
  TxContext ctx;
  ctx.uow = uow;
  ctx.key = next_key_++;
  NTSTATUS s = CreateEnlistment(*kernel_, rm_, transaction, mask, 0, ctx.key, &ctx.enlistment);
  if (s != STATUS_SUCCESS) return s;
  by_key_[ctx.key] = uow;
  TxContext& stored = txs_[uow] = std::move(ctx);
  TraceKv("kv.enlist", stored);
  *out = &stored;
  return STATUS_SUCCESS;
}

NTSTATUS KvRm::Write(HANDLE transaction, const std::string& key, const std::string& value) {
  TxContext* ctx = nullptr;
  if (NTSTATUS s = Enlist(transaction, &ctx); s != STATUS_SUCCESS) return s;
  auto lock = locks_.find(key);
  if (lock != locks_.end() && lock->second != ctx->uow) return STATUS_TRANSACTIONAL_CONFLICT;
  locks_[key] = ctx->uow;
  ctx->writes[key] = value;
  TraceKv("kv.write", *ctx, {{"key", key}, {"value", value}});
  return STATUS_SUCCESS;
}

NTSTATUS KvRm::Read(HANDLE transaction, const std::string& key, std::string* value) {
  if (value == nullptr) return STATUS_INVALID_PARAMETER;
  if (transaction == INVALID_HANDLE_VALUE) {
    if (!online_) return STATUS_RM_NOT_ACTIVE;
    auto it = committed_.find(key);
    *value = it == committed_.end() ? "" : it->second;
    return STATUS_SUCCESS;
  }
  TxContext* ctx = nullptr;
  if (NTSTATUS s = Enlist(transaction, &ctx); s != STATUS_SUCCESS) return s;
  if (auto own = ctx->writes.find(key); own != ctx->writes.end()) {
    *value = own->second;
  } else {
    auto it = committed_.find(key);
    *value = it == committed_.end() ? "" : it->second;
  }
  TraceKv("kv.read", *ctx, {{"key", key}, {"value", *value}});
  return STATUS_SUCCESS;
}

NTSTATUS KvRm::Disconnect(HANDLE transaction) {
  Guid uow;
  if (NTSTATUS s = GetTransactionId(*kernel_, transaction, &uow); s != STATUS_SUCCESS) return s;
  TxContext* ctx = Find(uow);
  if (ctx == nullptr || ctx->enlistment == INVALID_HANDLE_VALUE) return STATUS_TRANSACTION_NOT_JOINED;
  TraceKv("kv.disconnect", *ctx);
  HANDLE en = ctx->enlistment;
  ctx->enlistment = INVALID_HANDLE_VALUE;
  return CloseHandle(*kernel_, en);
}

// ---------------------------------------------------------------------------
// Notifications.

void KvRm::Arm() {
  std::weak_ptr<bool> alive = alive_;
  GetNotificationResourceManagerAsync(*kernel_, rm_, sim::kTimeNever,
                                      [this, alive](NTSTATUS status, TRANSACTION_NOTIFICATION n) {
                                        if (auto a = alive.lock(); a && *a) OnNotification(status, n);
                                      });
}

void KvRm::OnNotification(NTSTATUS status, TRANSACTION_NOTIFICATION n) {
  if (status != STATUS_SUCCESS) return;  // the RM handle went away
  Arm();
  // One handler event per notification, but each takes the oldest one
  // waiting: whichever runs first when a tie-breaking strategy reorders
  // same-time events, notifications are handled in delivery order, as by
  // one RM thread (a LAST_RECOVER never overtakes the RECOVERs before it).
  inbox_.push_back(n);
  Later([this] { HandleNext(); });
}

void KvRm::HandleNext() {
  KTM_ASSERT(!inbox_.empty(), "a notification handler event without a notification");
  const TRANSACTION_NOTIFICATION n = inbox_.front();
  inbox_.pop_front();
  Handle(n);
}

void KvRm::Handle(const TRANSACTION_NOTIFICATION& n) {
  uint32_t what = n.TransactionNotification;
  if (what == TRANSACTION_NOTIFY_RECOVER) return OnRecover(n);
  if (what == TRANSACTION_NOTIFY_LAST_RECOVER) return OnLastRecover();
  auto key = by_key_.find(n.TransactionKey);
  if (key == by_key_.end()) return;  // a duplicate for a transaction already finished
  TxContext* ctx = Find(key->second);
  if (ctx == nullptr) return;
  TraceKv("kv.notify", *ctx, {{"n", NotificationName(what)}});
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

void KvRm::OnPrepare(TxContext& ctx) {
  if (rng_.Bernoulli(options_.vote_no_probability)) {
    TraceKv("kv.vote", ctx, {{"vote", "no"}});
    (void)RollbackEnlistment(*kernel_, ctx.enlistment);
    return;
  }
  if (ctx.writes.empty()) {
    TraceKv("kv.vote", ctx, {{"vote", "readonly"}});
    NTSTATUS s = ReadOnlyEnlistment(*kernel_, ctx.enlistment);
    if (s == STATUS_SUCCESS) Finish(ctx.uow);
    return;
  }
  ctx.phase = Phase::kPreparing;
  if (!options_.durable) {
    ctx.phase = Phase::kPrepared;
    TraceKv("kv.vote", ctx, {{"vote", "yes"}});
    (void)PrepareComplete(*kernel_, ctx.enlistment);
    return;
  }
  Writer w;
  w.Id(ctx.uow);
  Guid en_id;
  (void)GetEnlistmentId(*kernel_, ctx.enlistment, &en_id);
  w.Id(en_id);
  PutWrites(w, ctx.writes);
  auto lsn = log_->Append(kRecPrepare, w.data());
  if (!lsn.ok()) {
    TraceKv("kv.vote", ctx, {{"vote", "no"}, {"why", "log"}});
    (void)RollbackEnlistment(*kernel_, ctx.enlistment);
    return;
  }
  std::weak_ptr<bool> alive = alive_;
  Guid uow = ctx.uow;
  log_->Force(*lsn, [this, alive, uow](absl::Status status) {
    if (auto a = alive.lock(); !a || !*a) return;
    TxContext* c = Find(uow);
    if (c == nullptr || c->phase != Phase::kPreparing) return;
    if (!status.ok()) {
      TraceKv("kv.vote", *c, {{"vote", "no"}, {"why", "log"}});
      (void)RollbackEnlistment(*kernel_, c->enlistment);
      return;
    }
    c->phase = Phase::kPrepared;
    TraceKv("kv.vote", *c, {{"vote", "yes"}});
    (void)PrepareComplete(*kernel_, c->enlistment);
  });
}

void KvRm::Apply(TxContext& ctx) {
  for (const auto& [k, v] : ctx.writes) committed_[k] = v;
}

void KvRm::Release(TxContext& ctx) {
  for (const auto& [k, v] : ctx.writes) {
    auto it = locks_.find(k);
    if (it != locks_.end() && it->second == ctx.uow) locks_.erase(it);
  }
}

void KvRm::Finish(const Guid& uow) {
  TxContext* ctx = Find(uow);
  if (ctx == nullptr) return;
  if (ctx->enlistment != INVALID_HANDLE_VALUE) (void)CloseHandle(*kernel_, ctx->enlistment);
  by_key_.erase(ctx->key);
  txs_.erase(uow);
  MaybeSnapshot();
}

void KvRm::OnCommit(TxContext& ctx) {
  if (ctx.phase == Phase::kDone) return;
  Apply(ctx);
  Release(ctx);
  ctx.phase = Phase::kDone;
  TraceKv("kv.committed", ctx);
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
    if (auto a = alive.lock(); !a || !*a) return;
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

void KvRm::OnSinglePhaseCommit(TxContext& ctx) {
  if (rng_.Bernoulli(options_.reject_single_phase_probability)) {
    TraceKv("kv.spc_reject", ctx);
    (void)SinglePhaseReject(*kernel_, ctx.enlistment);
    return;
  }
  ctx.phase = Phase::kPreparing;
  ctx.single_phase = true;
  auto done = [this](const Guid& uow) {
    TxContext* c = Find(uow);
    if (c == nullptr) return;
    c->single_phase = false;
    TraceKv("kv.vote", *c, {{"vote", "spc"}});
    Apply(*c);
    Release(*c);
    c->phase = Phase::kDone;
    TraceKv("kv.committed", *c);
    (void)CommitComplete(*kernel_, c->enlistment);
    Finish(uow);
  };
  if (!options_.durable || ctx.writes.empty()) return done(ctx.uow);
  Writer w;
  w.Id(ctx.uow);
  PutWrites(w, ctx.writes);
  auto lsn = log_->Append(kRecSinglePhaseCommit, w.data());
  if (!lsn.ok()) {
    TraceKv("kv.vote", ctx, {{"vote", "no"}, {"why", "log"}});
    ctx.phase = Phase::kActive;
    ctx.single_phase = false;
    (void)RollbackEnlistment(*kernel_, ctx.enlistment);
    return;
  }
  std::weak_ptr<bool> alive = alive_;
  Guid uow = ctx.uow;
  log_->Force(*lsn, [alive, uow, done](absl::Status status) {
    if (auto a = alive.lock(); !a || !*a) return;
    if (status.ok()) done(uow);
  });
}

void KvRm::OnRollback(TxContext& ctx) {
  bool was_prepared = ctx.phase == Phase::kPrepared;
  Release(ctx);
  ctx.phase = Phase::kDone;
  TraceKv("kv.aborted", ctx);
  if (was_prepared && options_.durable) {
    Writer w;
    w.Id(ctx.uow);
    (void)log_->Append(kRecAbort, w.data());
  }
  (void)RollbackComplete(*kernel_, ctx.enlistment);
  Finish(ctx.uow);
}

void KvRm::MaybeSnapshot() {
  if (!options_.durable || !log_ || log_->failed() || snapshot_in_flight_) return;
  if (log_->end_lsn() - log_->base_lsn() < disk_->size_bytes() / 4) return;
  // A single-phase commit record being forced holds writes that are not in
  // committed_ yet: moving the base past it would lose them.
  for (const auto& [uow, ctx] : txs_) {
    if (ctx.single_phase) return;
  }
  Writer w;
  PutWrites(w, committed_);
  // Transactions whose prepare record is (or is being) forced must survive the
  // base moving past that record.
  auto keep = [](const TxContext& c) { return c.phase == Phase::kPrepared || c.phase == Phase::kPreparing; };
  uint32_t n = 0;
  for (const auto& [uow, ctx] : txs_) n += keep(ctx) ? 1 : 0;
  w.U32(n);
  for (const auto& [uow, ctx] : txs_) {
    if (!keep(ctx)) continue;
    w.Id(uow);
    PutWrites(w, ctx.writes);
  }
  auto lsn = log_->Append(kRecSnapshot, w.data());
  if (!lsn.ok()) return;
  snapshot_in_flight_ = true;
  host_->TraceEvent("kv.snapshot", {{"rm", options_.name}, {"base", absl::StrCat(*lsn)}});
  std::weak_ptr<bool> alive = alive_;
  log_->WriteRestartArea({}, *lsn, [this, alive](absl::Status) {
    if (auto a = alive.lock(); a && *a) snapshot_in_flight_ = false;
  });
}

}  // namespace ktm::kv
