// RmBase implementation: see rm_base.h for the contract. Only the data
// handling is delegated to the subclass; the KTM side is the RmClient.
#include "ktm/rm_base.h"

#include <algorithm>
#include <memory>
#include <type_traits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "ktm/assert.h"
#include "ktm/probes.h"

namespace ktm {
namespace {

constexpr uint16_t kRecPrepare = 1;
constexpr uint16_t kRecCommit = 2;
constexpr uint16_t kRecAbort = 3;
constexpr uint16_t kRecSinglePhaseCommit = 4;
constexpr uint16_t kRecSnapshot = 5;
constexpr uint16_t kRecNonTransacted = 6;
constexpr uint16_t kRecStoreSnapshot = 7;  // paged storage: the prepared transactions at a flush

// A flush commits its records to the store in batches: at most this many
// bytes of records per store commit (one redo record) ...
constexpr uint64_t kFlushBatchBytesMax = 32 * 1024;
// ... and waits (the store's writer cleans pages, a checkpoint moves its
// base) while the store's log is fuller than 1 / this.
constexpr uint64_t kFlushStoreLogDivisor = 2;

bool PagedDisk(const RmOptions& options, const sim::Disk* disk) {
  return options.durable && disk != nullptr && disk->size_bytes() >= kPagedDiskBytesMin;
}

constexpr uint32_t kMask = TRANSACTION_NOTIFY_PREPREPARE | TRANSACTION_NOTIFY_PREPARE | TRANSACTION_NOTIFY_COMMIT |
                           TRANSACTION_NOTIFY_ROLLBACK | TRANSACTION_NOTIFY_RM_DISCONNECTED;
// Bytes a snapshot adds per prepared transaction (UOW + length prefix) and in total.
constexpr uint64_t kSnapshotBytesPerTransaction = 16 + 4;
constexpr uint64_t kSnapshotBytesFixed = 64;

// Whether the owner of the weak_ptr's shared_ptr (alive_) still exists: its
// destructor drops alive_ first, so every callback that runs from then on
// (members destroyed after it included) sees it expired. One load, where
// lock() took an atomic increment and decrement per callback.
bool Alive(const std::weak_ptr<bool>& alive) { return !alive.expired(); }

constexpr uint8_t Bit(RmTxPhase phase) { return static_cast<uint8_t>(1u << static_cast<uint8_t>(phase)); }

// kPhaseTransitions[from]: the phases `from` may change to.
constexpr uint8_t kPhaseTransitions[kRmTxPhaseCount] = {
    /* kNone        */ Bit(RmTxPhase::kActive) | Bit(RmTxPhase::kPrepared),  // enlist; replay or RECOVER
    /* kActive      */ Bit(RmTxPhase::kPreparing) | Bit(RmTxPhase::kSinglePhase) | Bit(RmTxPhase::kDone),
    /* kPreparing   */ Bit(RmTxPhase::kPrepared) | Bit(RmTxPhase::kDone),  // forced; force failed or rollback
    /* kPrepared    */ Bit(RmTxPhase::kDone),                              // commit, rollback, presumed abort
    /* kSinglePhase */ Bit(RmTxPhase::kDone),                              // own commit record forced, or refused
    /* kDone        */ 0,
};
static_assert(static_cast<size_t>(RmTxPhase::kDone) + 1 == kRmTxPhaseCount);

}  // namespace

uint64_t PagedLogBytes(uint64_t disk_bytes) {
  const uint64_t eighth = disk_bytes / 8 / (1024 * 1024) * (1024 * 1024);  // whole MiB
  return std::clamp(eighth, kPagedLogBytesMin, kPagedLogBytesMax);
}

storage::StorageOptions PagedStorageOptions(uint64_t disk_bytes) {
  KTM_ASSERT(disk_bytes >= kPagedDiskBytesMin, "a paged RM disk below kPagedDiskBytesMin");
  storage::StorageOptions o;
  const uint64_t log_bytes = PagedLogBytes(disk_bytes);
  o.log = log::LogOptions{.disk_offset = log_bytes, .size_bytes = log_bytes};
  o.data_offset = 2 * log_bytes;
  o.page_bytes = kPagedPageBytes;
  o.page_count = static_cast<uint32_t>((disk_bytes - o.data_offset) / kPagedPageBytes);
  o.frames_max = kPagedFramesMax;
  o.page_writes_in_flight_max = 64;
  o.writer_interval_ns = 1 * sim::kMillisecond;
  o.checkpoint_every_commits = 4;
  return o;
}

namespace {
// The names with their digest words, indexed by the enums (a load, where a
// switch built each TraceName per event).
constexpr sim::TraceName kRmTxPhaseNames[kRmTxPhaseCount] = {"none",     "active",       "preparing",
                                                             "prepared", "single_phase", "done"};
static_assert(static_cast<size_t>(RmTxPhase::kDone) + 1 == std::size(kRmTxPhaseNames));
constexpr sim::TraceName kRmVoteNames[] = {"yes", "no", "readonly", "spc"};
static_assert(static_cast<size_t>(RmVote::kYes) == 0 && static_cast<size_t>(RmVote::kNo) == 1 &&
              static_cast<size_t>(RmVote::kReadOnly) == 2 && static_cast<size_t>(RmVote::kSinglePhase) == 3);

sim::TraceName RmVoteTraceName(RmVote vote) {
  const auto index = static_cast<size_t>(vote);
  return index < std::size(kRmVoteNames) ? kRmVoteNames[index] : sim::TraceName("unknown");
}
}  // namespace

sim::TraceName RmTxPhaseTraceName(RmTxPhase phase) {
  const auto index = static_cast<size_t>(phase);
  return index < kRmTxPhaseCount ? kRmTxPhaseNames[index] : sim::TraceName("unknown");
}

const char* RmTxPhaseName(RmTxPhase phase) { return RmTxPhaseTraceName(phase).text.data(); }

bool RmTxPhaseTransitionAllowed(RmTxPhase from, RmTxPhase to) {
  return (kPhaseTransitions[static_cast<size_t>(from)] & Bit(to)) != 0;
}

std::string_view RmVoteName(RmVote vote) { return RmVoteTraceName(vote).text; }

RmBase::RmBase(Kernel* kernel, sim::Host* host, sim::Disk* disk, HANDLE tm, RmOptions options,
               std::string trace_prefix)
    : kernel_(kernel),
      host_(host),
      disk_(disk),
      options_(std::move(options)),
      trace_prefix_(std::move(trace_prefix)),
      trace_name_(options_.name),
      observed_rm_(options_.name),
      rng_(host->DeriveRng(absl::StrCat(trace_prefix_, ".", options_.name, ".", host->incarnation()))),
      client_(kernel, host, disk, tm,
              RmClientOptions{.name = options_.name,
                              .description = options_.name,
                              .rm_id = options_.rm_id,
                              .durable = options_.durable,
                              .response_delay_ns = options_.response_delay_ns,
                              .log_bytes = PagedDisk(options_, disk) ? PagedLogBytes(disk->size_bytes()) : 0},
              [this](const TRANSACTION_NOTIFICATION& n) { Handle(n); }),
      paged_(PagedDisk(options_, disk)),
      alive_(std::make_shared<bool>(true)) {
  KTM_ASSERT(options_.transactions_max > 0, "transactions_max must be positive");
  set_observer(options_.observer);
}

std::optional<std::string> RmBase::CommittedRecord(const std::string&) const {
  KTM_ASSERT(false, options_.name + ": CommittedRecord of an RM without paged storage");
  return std::nullopt;
}

void RmBase::LoadCommittedRecord(const std::string&, const std::string&) {
  KTM_ASSERT(false, options_.name + ": LoadCommittedRecord of an RM without paged storage");
}

uint64_t RmBase::PagedCapacityBytes() const {
  if (!paged_) return 0;
  const storage::StorageOptions o = PagedStorageOptions(disk_->size_bytes());
  return uint64_t{o.page_count} * (o.page_bytes - storage::kPageHeaderBytes) / kPagedFillDivisor;
}

RmBase::~RmBase() { alive_.reset(); }  // callbacks from here on see Alive() false

size_t RmBase::in_doubt() const {
  size_t n = 0;
  txs_.for_each([&n](const Guid&, const TxContext& ctx) { n += ctx.phase == RmTxPhase::kPrepared ? 1 : 0; });
  return n;
}

namespace {
// SetPhase's assertion failure, out of line and cold (formatting the message
// inline made every phase change keep a frame for it).
[[noreturn, gnu::cold, gnu::noinline]] void PhaseTransitionFailed(const std::string& rm, const Guid& uow,
                                                                    RmTxPhase from, RmTxPhase to) {
  AssertFailed("RmTxPhaseTransitionAllowed(ctx.phase, to)", __FILE__, __LINE__,
               absl::StrCat(rm, ": transaction ", std::string(uow.Short()), " may not go from ", RmTxPhaseName(from),
                            " to ", RmTxPhaseName(to)));
}
}  // namespace

inline void RmBase::SetPhase(TxContext& ctx, RmTxPhase to) {
  if (!RmTxPhaseTransitionAllowed(ctx.phase, to)) [[unlikely]] PhaseTransitionFailed(options_.name, ctx.uow, ctx.phase, to);
  TraceTx("rm.phase", ctx.uow, {"from", RmTxPhaseTraceName(ctx.phase)}, {"to", RmTxPhaseTraceName(to)});
  ctx.phase = to;
}

void RmBase::ReportRead(const Guid& uow, std::string_view key, std::string_view value) {
  if (options_.observer) options_.observer->OnRead(host_->id(), observed_rm_, uow, key, value);
  TraceTx("rm.read", uow, {"key", key}, {"value", value});
}

void RmBase::ReportWrite(const Guid& uow, std::string_view key, std::string_view value) {
  if (options_.observer) options_.observer->OnWrite(host_->id(), observed_rm_, uow, key, value);
  TraceTx("rm.write", uow, {"key", key}, {"value", value});
}

inline void RmBase::ReportVote(TxContext& ctx, RmVote vote, std::string_view why) {
  if (options_.observer) options_.observer->OnVote(host_->id(), observed_rm_, ctx.uow, vote, why);
  if (why.empty()) return TraceTx("rm.vote", ctx.uow, {"vote", RmVoteTraceName(vote)});
  TraceTx("rm.vote", ctx.uow, {"vote", RmVoteTraceName(vote)}, {"why", why});
}

inline void RmBase::ReportCommitted(TxContext& ctx) {
  KTM_ASSERT(!ctx.outcome_reported, options_.name + ": a transaction's outcome reported twice");
  ctx.outcome_reported = true;
  if (options_.observer) options_.observer->OnCommitted(host_->id(), observed_rm_, ctx.uow);
  TraceTx("rm.committed", ctx.uow);
}

void RmBase::ReportAborted(TxContext& ctx, std::string_view why) {
  if (ctx.outcome_reported) return;
  ctx.outcome_reported = true;
  if (options_.observer) options_.observer->OnAborted(host_->id(), observed_rm_, ctx.uow, why);
  if (why.empty()) return TraceTx("rm.aborted", ctx.uow);
  TraceTx("rm.aborted", ctx.uow, {"why", why});
}

void RmBase::TraceTx(sim::TraceName kind, const Guid& uow, std::initializer_list<sim::TraceField> extra) {
  constexpr size_t kExtraMax = 6;
  KTM_ASSERT(extra.size() <= kExtraMax, "TraceTx: too many fields");
  static_assert(std::is_trivially_destructible_v<sim::TraceField>);
  // Only the fields used are constructed (the array is 8 x 48 bytes; this
  // runs for every RM trace event).
  union Fields {
    Fields() {}
    sim::TraceField at[2 + kExtraMax];
  } fields;
  ::new (static_cast<void*>(&fields.at[0])) sim::TraceField("rm", trace_name_);
  ::new (static_cast<void*>(&fields.at[1])) sim::TraceField("uow", TraceShort(uow));
  std::uninitialized_copy(extra.begin(), extra.end(), fields.at + 2);
  host_->TraceEvent(kind, std::span<const sim::TraceField>(fields.at, 2 + extra.size()));
}

void RmBase::TraceRm(const std::string& what, std::initializer_list<sim::TraceField> extra) {
  constexpr size_t kExtraMax = 7;
  KTM_ASSERT(extra.size() <= kExtraMax, "TraceRm: too many fields");
  sim::TraceField fields[1 + kExtraMax] = {{"rm", trace_name_}};
  std::copy(extra.begin(), extra.end(), fields + 1);
  host_->TraceEvent(absl::StrCat(trace_prefix_, ".", what), std::span<const sim::TraceField>(fields, 1 + extra.size()));
}

void RmBase::TxContext::clear() {
  std::vector<uint8_t> kept = std::move(changes);
  kept.clear();
  if (kept.capacity() > kKeptChangesBytesMax) kept = {};
  *this = TxContext{};
  changes = std::move(kept);
}

void RmBase::EncodeTxChanges(TxContext& ctx) {
  changes_writer_.Reset();
  EncodeChanges(ctx.uow, changes_writer_);
  const std::span<const uint8_t> encoded = changes_writer_.view();
  ctx.changes.assign(encoded.begin(), encoded.end());
}

RmBase::TxContext& RmBase::Insert(TxContext&& ctx) {
  TxContext& slot = txs_[ctx.uow];
  std::vector<uint8_t> kept = std::move(slot.changes);
  kept.clear();
  slot = std::move(ctx);
  if (slot.changes.empty() && kept.capacity() > slot.changes.capacity()) slot.changes = std::move(kept);
  return slot;
}

void RmBase::IndexKey(TxContext* ctx) {
  TxContext*& slot = by_key_slots_[ctx->key % kByKeySlots];
  if (slot == nullptr) {
    slot = ctx;
  } else {
    by_key_overflow_[ctx->key] = ctx;
  }
}

RmBase::TxContext* RmBase::FindByKeyOverflow(uint64_t key) const {
  auto it = by_key_overflow_.find(key);
  return it == by_key_overflow_.end() ? nullptr : it->second;
}

void RmBase::UnindexKey(const TxContext& ctx) {
  TxContext*& slot = by_key_slots_[ctx.key % kByKeySlots];
  if (slot == &ctx) {
    slot = nullptr;
  } else {
    by_key_overflow_.erase(ctx.key);
  }
}

RmTxPhase RmBase::PhaseOf(const Guid& uow) const {
  const TxContext* ctx = txs_.find(uow);
  return ctx == nullptr ? RmTxPhase::kNone : ctx->phase;
}

// ---------------------------------------------------------------------------
// Start and recovery.

void RmBase::Start(std::function<void(NTSTATUS)> done) {
  if (paged_ && !SupportsPagedStorage()) {
    paged_ = false;
    dirty_keys_.clear();
  }
  if (!paged_) return StartClient(std::move(done));
  // Paged: recover the store, load its records, then the RM log as always.
  dirty_keys_.clear();  // what the constructor set up is the state of an empty store
  store_ = std::make_unique<storage::PageStore>(disk_, PagedStorageOptions(disk_->size_bytes()));
  std::weak_ptr<bool> alive = alive_;
  auto fail = [this, done](const absl::Status& status) {
    TraceRm("start_failed", {{"error", absl::StrCat("store: ", status.ToString())}});
    done(STATUS_LOG_CORRUPTION_DETECTED);
  };
  store_->Open([this, alive, done, fail](absl::Status status) {
    if (!Alive(alive)) return;
    if (!status.ok()) return fail(status);
    if (!LoadsStoreAtStart()) {  // a bounded cache: records are read on a miss
      dirty_keys_.clear();
      TraceRm("store_recovered", {{"records", "0"},
                                  {"redo", absl::StrCat(store_->stats().redo_records_scanned)},
                                  {"page_reads", absl::StrCat(store_->stats().page_reads)},
                                  {"repaired", absl::StrCat(store_->stats().pages_repaired)}});
      return StartClient(done);
    }
    // Streamed page by page (half the pool at a time, read in parallel): no
    // second copy of the state beside the RM's own.
    auto records = std::make_shared<uint64_t>(0);
    store_->ScanAll(
        [this, alive, records](const std::string& key, const std::string& record) {
          if (!Alive(alive)) return;
          LoadCommittedRecord(key, record);
          ++*records;
        },
        [this, alive, done, fail, records](absl::Status status) {
          if (!Alive(alive)) return;
          if (!status.ok()) return fail(status);
          dirty_keys_.clear();
          const storage::StorageStats& st = store_->stats();
          TraceRm("store_recovered", {{"records", absl::StrCat(*records)},
                                      {"redo", absl::StrCat(st.redo_records_scanned)},
                                      {"page_reads", absl::StrCat(st.page_reads)},
                                      {"repaired", absl::StrCat(st.pages_repaired)}});
          StartClient(done);
        });
  });
}

void RmBase::StartClient(std::function<void(NTSTATUS)> done) {
  if (options_.durable && !paged_ && StateBytesMax() != kStateBytesUnbounded) {
    KTM_ASSERT(StateBytesMax() + kSnapshotBytesFixed + options_.transactions_max * kSnapshotBytesPerTransaction <=
                   log()->record_payload_max(),
               absl::StrCat(options_.name, ": a snapshot of ", StateBytesMax(), " bytes does not fit one log record of ",
                            log()->record_payload_max()));
  }
  if (!options_.durable) recovery_done_ = true;  // nothing to recover: no RECOVER, no LAST_RECOVER
  client_.Start([this](const log::RecoveredLog& recovered) { Replay(recovered); },
                [this, done = std::move(done)](NTSTATUS s, std::string_view error) {
                  if (s == STATUS_LOG_CORRUPTION_DETECTED) {
                    TraceRm("start_failed", {{"error", error}});
                  } else {
                    TraceRm("online", {{"status", StatusName(s)}});
                  }
                  done(s);
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
      DecodePreparedTransactions(r, prepared);
      break;
    }
    case kRecNonTransacted:
      ApplyBytes(r.Bytes());
      break;
    case kRecStoreSnapshot: {
      KTM_ASSERT(paged_, options_.name + ": a store-snapshot record in an RM log without a store");
      // Unlike a snapshot it holds no committed state: a replay that meets it
      // started at an earlier base (its flush never finished), so the
      // transactions prepared before it stay prepared. One committed in
      // memory whose commit record the full log refused is in no list here;
      // KTM re-sends its COMMIT after the restart.
      std::map<Guid, std::vector<uint8_t>> at_record;
      DecodePreparedTransactions(r, at_record);
      for (auto& [prepared_uow, changes] : at_record) prepared[prepared_uow] = std::move(changes);
      break;
    }
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
    SetPhase(ctx, RmTxPhase::kPrepared);
    ctx.prepare_logged = true;
    ctx.changes = std::move(changes);
    ctx.key = next_key_++;
    Reader r(ctx.changes);
    RestorePrepared(uow, r);
    KTM_ASSERT(r.done(), absl::StrCat(options_.name, ": prepared changes do not decode"));
    IndexKey(&Insert(std::move(ctx)));
  }
  replayed_records_ = recovered.records.size();
  TraceRm("replayed", {{"records", absl::StrCat(recovered.records.size())}, {"in_doubt", absl::StrCat(txs_.size())}});
}

void RmBase::OnRecover(const TRANSACTION_NOTIFICATION& n) {
  TxContext* ctx = txs_.find(n.UOW);
  if (ctx == nullptr) {
    // Already committed by our own log (commit record durable before the
    // crash): KTM still needs the acknowledgement.
    TxContext fresh;
    fresh.uow = n.UOW;
    SetPhase(fresh, RmTxPhase::kPrepared);
    fresh.key = next_key_++;
    ctx = &Insert(std::move(fresh));
    IndexKey(ctx);
  }
  HANDLE en;
  NTSTATUS s = OpenEnlistment(*kernel_, client_.rm(), n.EnlistmentId, &en);
  KTM_ASSERT(s == STATUS_SUCCESS, absl::StrCat("OpenEnlistment of a RECOVER notification failed: ", StatusName(s)));
  ctx->enlistment = en;
  ctx->recovering = true;
  if (options_.protocol_bug == RmProtocolBug::kSkipRecoverEnlistment) return;  // planted bug
  s = RecoverEnlistment(*kernel_, en, ctx->key);
  KTM_ASSERT(s == STATUS_SUCCESS, absl::StrCat("RecoverEnlistment failed: ", StatusName(s)));
}

void RmBase::OnLastRecover() {
  recovery_done_ = true;
  std::vector<Guid> presumed_aborted;
  txs_.for_each([&presumed_aborted](const Guid&, const TxContext& ctx) {
    if (ctx.phase == RmTxPhase::kPrepared && !ctx.recovering && ctx.enlistment == INVALID_HANDLE_VALUE) {
      presumed_aborted.push_back(ctx.uow);
    }
  });
  for (const auto& uow : presumed_aborted) {
    TxContext& ctx = *txs_.find(uow);
    KTM_CODE_PROBE(host_, "rm.presumed_abort");
    Abandon(ctx, "presumed");
    Finish(uow);
  }
}

// ---------------------------------------------------------------------------
// Services for the subclass.

NTSTATUS RmBase::Enlist(HANDLE transaction, Guid* out) {
  if (!online()) return STATUS_RM_NOT_ACTIVE;
  Guid uow;
  if (NTSTATUS s = GetTransactionId(*kernel_, transaction, &uow); s != STATUS_SUCCESS) return s;
  if (const TxContext* known = txs_.find(uow)) {
    if (known->phase != RmTxPhase::kActive) return STATUS_TRANSACTION_NOT_ACTIVE;
    *out = uow;
    return STATUS_SUCCESS;
  }
  if (txs_.size() >= options_.transactions_max) return STATUS_INSUFFICIENT_RESOURCES;
  uint32_t mask = kMask | (options_.single_phase ? TRANSACTION_NOTIFY_SINGLE_PHASE_COMMIT : 0);
  // Built in place (a cleared context, its changes buffer kept), not aside
  // and moved in; taken back if the enlistment fails.
  TxContext& ctx = txs_[uow];
  ctx.uow = uow;
  ctx.key = next_key_++;
  NTSTATUS s = CreateEnlistment(*kernel_, client_.rm(), transaction, mask, 0, ctx.key, &ctx.enlistment);
  if (s != STATUS_SUCCESS) {
    txs_.erase(uow);
    return s;
  }
  SetPhase(ctx, RmTxPhase::kActive);
  IndexKey(&ctx);
  if (options_.observer) options_.observer->OnEnlist(host_->id(), observed_rm_, uow);
  TraceTx("rm.enlist", uow);
  *out = uow;
  return STATUS_SUCCESS;
}

bool RmBase::Doom(const Guid& uow, const std::string& why) {
  TxContext* ctx = txs_.find(uow);
  if (ctx == nullptr || ctx->phase != RmTxPhase::kActive) return false;
  VoteNo(*ctx, why);
  return true;
}

NTSTATUS RmBase::LogNonTransacted(const std::vector<uint8_t>& changes, const std::function<void()>& apply) {
  if (!online()) return STATUS_RM_NOT_ACTIVE;
  if (!options_.durable) {
    apply();
    return STATUS_SUCCESS;
  }
  Writer w;
  w.Bytes(changes);
  auto lsn = log()->Append(kRecNonTransacted, w.data());
  if (!lsn.ok()) return absl::IsResourceExhausted(lsn.status()) ? STATUS_DISK_FULL : STATUS_UNEXPECTED_IO_ERROR;
  apply();
  log()->Force(*lsn, [](absl::Status) {});  // write-through without waiting; a failure fails the log
  MaybeSnapshot();
  return STATUS_SUCCESS;
}

NTSTATUS RmBase::Disconnect(HANDLE transaction) {
  Guid uow;
  if (NTSTATUS s = GetTransactionId(*kernel_, transaction, &uow); s != STATUS_SUCCESS) return s;
  TxContext* ctx = txs_.find(uow);
  if (ctx == nullptr || ctx->enlistment == INVALID_HANDLE_VALUE) return STATUS_TRANSACTION_NOT_JOINED;
  TraceRm("disconnect", {{"uow", TraceShort(uow)}});
  HANDLE en = ctx->enlistment;
  ctx->enlistment = INVALID_HANDLE_VALUE;
  return CloseHandle(*kernel_, en);
}

// ---------------------------------------------------------------------------
// Notifications.

inline void RmBase::ReportNotify(const TxContext& ctx, uint32_t what) {
  if (options_.observer) options_.observer->OnNotify(host_->id(), observed_rm_, ctx.uow, what);
  TraceTx("rm.notify", ctx.uow, {"n", NotificationTraceNameFast(what)});
}

void RmBase::Handle(const TRANSACTION_NOTIFICATION& n) {
  uint32_t what = n.TransactionNotification;
  if (what == TRANSACTION_NOTIFY_RECOVER) return OnRecover(n);
  if (what == TRANSACTION_NOTIFY_LAST_RECOVER) return OnLastRecover();
  TxContext* ctx = FindByKey(n.TransactionKey);
  if (ctx == nullptr) return;  // a duplicate for a transaction already finished
  KTM_ASSERT(ctx->key == n.TransactionKey, "RmBase: the enlistment key index names another context");
  // Each case reports the notification first (ReportNotify), where `what`
  // is a constant.
  switch (what) {
    case TRANSACTION_NOTIFY_PREPREPARE:
      ReportNotify(*ctx, what);
      (void)PrePrepareComplete(*kernel_, ctx->enlistment);
      return;
    case TRANSACTION_NOTIFY_PREPARE:
      ReportNotify(*ctx, what);
      return OnPrepare(*ctx, n.EnlistmentId);
    case TRANSACTION_NOTIFY_COMMIT:
      ReportNotify(*ctx, what);
      return OnCommit(*ctx);
    case TRANSACTION_NOTIFY_SINGLE_PHASE_COMMIT:
      ReportNotify(*ctx, what);
      return OnSinglePhaseCommit(*ctx);
    case TRANSACTION_NOTIFY_ROLLBACK:
      ReportNotify(*ctx, what);
      if (options_.protocol_bug == RmProtocolBug::kIgnoreRollback && ctx->phase == RmTxPhase::kActive) return;
      return OnRollback(*ctx);
    case TRANSACTION_NOTIFY_INDOUBT:
      ReportNotify(*ctx, what);
      return OnInDoubt(*ctx);
    default:
      return ReportNotify(*ctx, what);
  }
}

// Drops the transaction's effects (it will not commit) and reports the abort once.
void RmBase::Abandon(TxContext& ctx, const std::string& why) {
  if (ctx.prepare_logged && options_.durable && !log()->failed()) {
    Writer& w = record_writer_;
    w.Reset();
    w.Id(ctx.uow);
    (void)log()->Append(kRecAbort, w.view());  // not forced: presumed abort covers a lost one
  }
  EndTransaction(ctx.uow);
  SetPhase(ctx, RmTxPhase::kDone);
  ctx.changes.clear();
  ReportAborted(ctx, why);
}

// A "no" vote: RollbackEnlistment (allowed until PrepareComplete), effects
// dropped now; the ROLLBACK that follows only acknowledges.
void RmBase::VoteNo(TxContext& ctx, const std::string& why) {
  ReportVote(ctx, RmVote::kNo, why);
  (void)RollbackEnlistment(*kernel_, ctx.enlistment);
  Abandon(ctx, why);
}

// A decision about one transaction draws from a stream keyed by what it
// decides (the RM, the decision, the transaction's description: the
// workload's "t<N>"), so deleting another transaction moves no vote. Without
// a description (a Dtc branch), the RM's own stream.
inline bool RmBase::Decide(const TxContext& ctx, std::string_view decision, double probability) {
  // The stream serves this one decision, so when the probability decides
  // alone (Bernoulli draws u in [0, 1): u < p is never true for p <= 0,
  // always for p >= 1) the stream is not made: no Rng seeded, no name built
  // and hashed. The RM's own stream still draws its seed (its later draws
  // stay where they were).
  const bool decided = probability <= 0 || probability >= 1;
  const Tx* tx = kernel_->FindTransaction(ctx.uow);
  if (tx == nullptr || tx->description.empty()) {
    const uint64_t seed = rng_.Next();
    return decided ? probability >= 1 : sim::Rng(seed).Bernoulli(probability);
  }
  if (decided) return probability >= 1;
  return host_
      ->DeriveRng(absl::StrCat(trace_prefix_, ".", options_.name, ".", std::string(decision), ".", tx->description))
      .Bernoulli(probability);
}

void RmBase::OnPrepare(TxContext& ctx, const Guid& enlistment_id) {
  if (ctx.phase != RmTxPhase::kActive) return;  // voted no already
  if (Decide(ctx, "vote", options_.vote_no_probability)) return VoteNo(ctx, "");
  if (!HasChanges(ctx.uow)) {
    ReportVote(ctx, RmVote::kReadOnly, "");
    NTSTATUS s = ReadOnlyEnlistment(*kernel_, ctx.enlistment);
    if (s == STATUS_SUCCESS) {
      EndTransaction(ctx.uow);
      SetPhase(ctx, RmTxPhase::kDone);
      Finish(ctx.uow);
    }
    return;
  }
  EncodeTxChanges(ctx);
  SetPhase(ctx, RmTxPhase::kPreparing);
  if (!options_.durable) {
    SetPhase(ctx, RmTxPhase::kPrepared);
    ReportVote(ctx, RmVote::kYes, "");
    (void)PrepareComplete(*kernel_, ctx.enlistment);
    ArmRequestOutcome(ctx.uow);
    return;
  }
  Writer& w = record_writer_;
  w.Reset();
  w.Id(ctx.uow);
  // The enlistment's id as the notification names it (what
  // GetEnlistmentId(ctx.enlistment) answers, without the call), null once
  // the RM let go of its handle (Disconnect), as GetEnlistmentId's failure left it.
  w.Id(ctx.enlistment != INVALID_HANDLE_VALUE ? enlistment_id : Guid{});
  w.Bytes(ctx.changes);
  auto lsn = log()->Append(kRecPrepare, w.view());
  if (!lsn.ok()) return VoteNo(ctx, "log");
  ctx.prepare_logged = true;
  const uint64_t key = ctx.key;
  if (options_.protocol_bug == RmProtocolBug::kPrepareCompleteBeforeForce) {
    return OnPrepareForced(key, absl::OkStatus());  // planted bug: never forced (a later force may carry it)
  }
  // The guard built in the capture: one weak count increment, no local copy.
  log()->Force(*lsn, [this, alive = std::weak_ptr<bool>(alive_), key](absl::Status status) {
    if (Alive(alive)) OnPrepareForced(key, status);
  });
}

void RmBase::OnPrepareForced(uint64_t key, absl::Status status) {
  TxContext* c = FindByKey(key);
  if (c == nullptr || c->phase != RmTxPhase::kPreparing) return;
  if (!status.ok()) return VoteNo(*c, "log");
  SetPhase(*c, RmTxPhase::kPrepared);
  ReportVote(*c, RmVote::kYes, "");
  (void)PrepareComplete(*kernel_, c->enlistment);
  ArmRequestOutcome(c->uow);
}

void RmBase::StartRequestOutcomeTimer(const Guid& uow) {
  std::weak_ptr<bool> alive = alive_;
  host_->After(options_.request_outcome_after_ns, [this, alive, uow] {
    if (!Alive(alive)) return;
    TxContext* c = txs_.find(uow);
    if (c == nullptr || c->phase != RmTxPhase::kPrepared) return;  // the outcome came first
    if (options_.observer) options_.observer->OnRequestOutcome(host_->id(), observed_rm_, uow);
    TraceTx("rm.request_outcome", uow);
    (void)RequestOutcomeEnlistment(*kernel_, c->enlistment);
  });
}

void RmBase::Finish(const Guid& uow) {
  const bool erased = txs_.erase(uow, [this](TxContext& ctx) {
    if (ctx.enlistment != INVALID_HANDLE_VALUE) (void)CloseHandle(*kernel_, ctx.enlistment);
    UnindexKey(ctx);
  });  // the context is cleared as a recycled node: its changes buffer kept
  if (erased) MaybeSnapshot();
}

void RmBase::OnCommit(TxContext& ctx) {
  if (ctx.phase == RmTxPhase::kDone || ctx.phase == RmTxPhase::kSinglePhase) return;
  if (ctx.phase != RmTxPhase::kPrepared) {
    // KTM broke the protocol (COMMIT before this RM completed PREPARE: only
    // a planted engine bug does that). The RM does what it is told and the
    // checkers judge the history (validity: a commit without a yes vote).
    KTM_CODE_PROBE(host_, "rm.commit_without_prepare");
    if (ctx.phase == RmTxPhase::kActive && HasChanges(ctx.uow)) {  // nothing to apply otherwise
      EncodeTxChanges(ctx);
    }
  }
  ApplyBytes(ctx.changes);
  EndTransaction(ctx.uow);
  ctx.changes.clear();
  SetPhase(ctx, RmTxPhase::kDone);
  ReportCommitted(ctx);
  if (!options_.durable) {
    (void)CommitComplete(*kernel_, ctx.enlistment);
    Finish(ctx.uow);
    return;
  }
  Writer& w = record_writer_;
  w.Reset();
  w.Id(ctx.uow);
  auto lsn = log()->Append(kRecCommit, w.view());
  auto complete = [this, alive = std::weak_ptr<bool>(alive_), key = ctx.key](absl::Status status) {
    if (!Alive(alive)) return;
    TxContext* c = FindByKey(key);
    if (c == nullptr) return;
    // Without a durable commit record the acknowledgement must wait for
    // recovery: KTM keeps the transaction and re-sends COMMIT after a restart.
    if (!status.ok()) return;
    (void)CommitComplete(*kernel_, c->enlistment);
    Finish(Guid(c->uow));  // a copy: Finish clears the context
  };
  if (!lsn.ok()) return complete(lsn.status());
  log()->Force(*lsn, std::move(complete));  // moved: no copy of its guard
}

void RmBase::OnSinglePhaseCommit(TxContext& ctx) {
  if (ctx.phase != RmTxPhase::kActive) return;
  if (Decide(ctx, "spc", options_.reject_single_phase_probability)) {
    TraceRm("spc_reject", {{"uow", TraceShort(ctx.uow)}});
    (void)SinglePhaseReject(*kernel_, ctx.enlistment);
    return;
  }
  bool changed = HasChanges(ctx.uow);
  if (changed) {
    EncodeTxChanges(ctx);
  }
  if (!options_.durable || !changed) {
    SetPhase(ctx, RmTxPhase::kSinglePhase);
    return FinishSinglePhase(ctx);
  }
  Writer& w = record_writer_;
  w.Reset();
  w.Id(ctx.uow);
  w.Bytes(ctx.changes);
  auto lsn = log()->Append(kRecSinglePhaseCommit, w.view());
  if (!lsn.ok()) return VoteNo(ctx, "log");  // still active: a "no" ends it
  SetPhase(ctx, RmTxPhase::kSinglePhase);
  // The guard built in the capture, as OnPrepare's.
  log()->Force(*lsn, [this, alive = std::weak_ptr<bool>(alive_), key = ctx.key](absl::Status status) {
    if (!Alive(alive) || !status.ok()) return;
    if (TxContext* c = FindByKey(key)) FinishSinglePhase(*c);
  });
}

void RmBase::FinishSinglePhase(TxContext& ctx) {
  const Guid uow = ctx.uow;  // a copy: Finish clears the context
  ReportVote(ctx, RmVote::kSinglePhase, "");
  ApplyBytes(ctx.changes);
  EndTransaction(uow);
  ctx.changes.clear();
  SetPhase(ctx, RmTxPhase::kDone);
  ReportCommitted(ctx);
  (void)CommitComplete(*kernel_, ctx.enlistment);
  Finish(uow);
}

// Prepared, the outcome is the superior's: wait for COMMIT or ROLLBACK.
void RmBase::OnInDoubt(TxContext& ctx) {
  if (options_.protocol_bug != RmProtocolBug::kDecideInDoubt || ctx.phase != RmTxPhase::kPrepared) return;
  Abandon(ctx, "indoubt");  // planted bug: a heuristic abort
}

void RmBase::OnRollback(TxContext& ctx) {
  if (ctx.phase == RmTxPhase::kSinglePhase) return;  // our own commit record is being forced: that decides
  // After a "no" vote or Doom the effects are gone already: only acknowledge.
  if (ctx.phase != RmTxPhase::kDone) Abandon(ctx, "");
  (void)RollbackComplete(*kernel_, ctx.enlistment);
  Finish(ctx.uow);
}

// Log bytes past the base that start a snapshot (unpaged): enough log that a
// snapshot costs a small share of what is appended (at least four times the
// last snapshot's size), and at least kSnapshotLogBytesMin, so that recovery
// replays a bounded log whatever the run's length; never more than a quarter
// of the log, so that log space never runs out first.
uint64_t RmBase::SnapshotLogBytes() const {
  const uint64_t quarter = disk_->size_bytes() / 4;
  if (options_.snapshot_log_bytes > 0) return std::min(quarter, options_.snapshot_log_bytes);
  return std::min(quarter, std::max(kSnapshotLogBytesMin, 4 * last_snapshot_bytes_));
}

void RmBase::MaybeSnapshot() {
  if (!options_.durable || log() == nullptr || log()->failed() || snapshot_in_flight_) return;
  const uint64_t threshold = !paged_ ? SnapshotLogBytes()
                             : options_.paged_flush_log_bytes > 0 ? options_.paged_flush_log_bytes
                                                                  : PagedLogBytes(disk_->size_bytes()) / 4;
  if (log()->end_lsn() - log()->base_lsn() < threshold) return;
  // A single-phase commit record being forced holds changes that are not in
  // the committed state yet: moving the base past it would lose them.
  bool single_phase = false;
  txs_.for_each([&single_phase](const Guid&, const TxContext& ctx) { single_phase |= ctx.phase == RmTxPhase::kSinglePhase; });
  if (single_phase) return;
  if (paged_) return FlushToStore();
  // Encoded in kept storage (no allocation and regrowth per snapshot): the
  // state in snapshot_writer_, the record in record_writer_ (free here:
  // Finish and LogNonTransacted call this after their own records).
  Writer& committed = snapshot_writer_;
  committed.Reset();
  EncodeCommitted(committed);
  Writer& w = record_writer_;
  w.Reset();
  w.Bytes(committed.view());
  EncodePreparedTransactions(w);
  auto lsn = log()->Append(kRecSnapshot, w.view());
  if (!lsn.ok()) return;
  snapshot_in_flight_ = true;
  last_snapshot_bytes_ = w.view().size();
  TraceRm("snapshot", {{"base", absl::StrCat(*lsn)}, {"bytes", absl::StrCat(w.view().size())}});
  std::weak_ptr<bool> alive = alive_;
  log()->WriteRestartArea({}, *lsn, [this, alive](absl::Status) {
    if (Alive(alive)) snapshot_in_flight_ = false;
  });
}

// Transactions whose prepare record is (or is being) forced must survive the
// log's base moving past that record: a snapshot and a store-snapshot record
// carry them (count, then each uow and its changes).
void RmBase::EncodePreparedTransactions(Writer& w) const {
  auto keep = [](const TxContext& c) {
    return c.prepare_logged && (c.phase == RmTxPhase::kPrepared || c.phase == RmTxPhase::kPreparing);
  };
  uint32_t n = 0;
  txs_.for_each([&](const Guid&, const TxContext& ctx) { n += keep(ctx) ? 1 : 0; });
  w.U32(n);
  txs_.for_each([&](const Guid&, const TxContext& ctx) {
    if (!keep(ctx)) return;
    w.Id(ctx.uow);
    w.Bytes(ctx.changes);
  });
}

// The inverse of EncodePreparedTransactions: the transactions prepared at
// the record replace those replayed before it.
void RmBase::DecodePreparedTransactions(Reader& r, std::map<Guid, std::vector<uint8_t>>& prepared) {
  prepared.clear();
  const uint32_t n = r.U32();
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    Guid u = r.Id();
    prepared[u] = r.Bytes();
  }
}

// Paged storage: the store-snapshot record (the prepared transactions, as a
// snapshot keeps them) marks the new base; every record before it is in the
// committed state now, so the dirty records' values captured now are what
// the store must hold before the base may move there.
void RmBase::FlushToStore() {
  if (store_ == nullptr || store_failed_ || !store_->open()) return;
  Writer w;
  EncodePreparedTransactions(w);
  auto lsn = log()->Append(kRecStoreSnapshot, w.data());
  if (!lsn.ok()) return;
  auto changes = std::make_shared<std::vector<storage::Change>>();
  changes->reserve(dirty_keys_.size());
  for (const auto& key : dirty_keys_) changes->push_back(storage::Change{key, CommittedRecord(key)});
  dirty_keys_.clear();
  // By page: each page is fetched, imaged and changed once per flush.
  std::stable_sort(changes->begin(), changes->end(), [this](const storage::Change& a, const storage::Change& b) {
    return store_->PageOf(a.key) < store_->PageOf(b.key);
  });
  snapshot_in_flight_ = true;
  TraceRm("flush", {{"base", absl::StrCat(*lsn)}, {"records", absl::StrCat(changes->size())}});
  FlushBatch(std::move(changes), 0, *lsn);
}

void RmBase::FlushBatch(std::shared_ptr<std::vector<storage::Change>> changes, size_t next, log::Lsn base) {
  std::weak_ptr<bool> alive = alive_;
  if (next == changes->size()) {
    log()->WriteRestartArea({}, base, [this, alive](absl::Status) {
      if (Alive(alive)) snapshot_in_flight_ = false;
    });
    return;
  }
  log::Log* store_log = store_->log();
  if (store_log->end_lsn() - store_log->base_lsn() > PagedLogBytes(disk_->size_bytes()) / kFlushStoreLogDivisor) {
    // Let the store's writer clean pages, then checkpoint (moves its base).
    store_->Checkpoint([this, alive, changes, next, base](absl::Status) {
      if (!Alive(alive)) return;
      host_->After(PagedStorageOptions(disk_->size_bytes()).writer_interval_ns, [this, alive, changes, next, base] {
        if (Alive(alive)) FlushBatch(changes, next, base);
      });
    });
    return;
  }
  const uint32_t pages_max = kPagedFramesMax / 2;
  std::vector<storage::Change> batch;
  std::set<uint32_t> pages;
  uint64_t bytes = 0;
  size_t i = next;
  for (; i < changes->size(); ++i) {
    const storage::Change& c = (*changes)[i];
    const uint32_t page = store_->PageOf(c.key);
    const uint64_t size = 16 + c.key.size() + (c.value ? c.value->size() : 0);
    if (!batch.empty() && ((pages.size() >= pages_max && pages.count(page) == 0) || bytes + size > kFlushBatchBytesMax)) {
      break;
    }
    pages.insert(page);
    bytes += size;
    batch.push_back(c);
  }
  store_->Commit(std::move(batch), [this, alive, changes, next, i, base](absl::Status status) {
    if (!Alive(alive)) return;
    if (!status.ok()) {
      // The records stay in the RM log (the base does not move); no more flushes.
      store_failed_ = true;
      snapshot_in_flight_ = false;
      TraceRm("store_failed", {{"error", status.ToString()}});
      return;
    }
    CommittedRecordsStored(std::span<const storage::Change>(changes->data() + next, i - next));
    FlushBatch(changes, i, base);
  });
}

}  // namespace ktm
