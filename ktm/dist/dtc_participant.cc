// A branch's side (participant role): the Dtc creates T' for a PROPAGATE,
// enlists in it as its superior (ENLISTMENT_SUPERIOR), forces a branch record
// before answering, runs the client's operations in T', drives T' through
// the phases the coordinator forwards and answers once KTM reports each phase
// complete. It logs the commit outcome (forced) before acknowledging COMMIT,
// so the coordinator may forget; it keeps that outcome until KTM can no
// longer ask about T' again (docs/distributed.md, "Forgetting"). A prepared
// branch never decides alone: it inquires until the coordinator answers.
// State machine, one function per transition:
//
//   creating -> active -> prepreparing -> preprepared -> preparing -> prepared -> committing -> committed
//   any state before committing -> aborted
//   (after a crash: RECOVER_QUERY -> indoubt -> committing | aborted; a logged
//    branch KTM does not ask about -> aborted, "lost")
#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ktm/assert.h"
#include "ktm/codec.h"
#include "ktm/dist/dtc.h"

namespace ktm::dist {

Dtc::Inbound* Dtc::FindInbound(const BranchId& id) {
  auto it = inbound_.find(id);
  return it == inbound_.end() ? nullptr : &it->second;
}

void Dtc::SetState(Inbound& b, ParticipantState to) {
  using P = ParticipantState;
  const P from = b.state;
  bool allowed = to == P::kAborted && from != P::kCommitting && from != P::kCommitted && from != P::kAborted;
  switch (from) {
    case P::kCreating: allowed |= to == P::kActive; break;
    case P::kActive: allowed |= to == P::kPrePreparing; break;
    case P::kPrePreparing: allowed |= to == P::kPrePrepared; break;
    case P::kPrePrepared: allowed |= to == P::kPreparing; break;
    case P::kPreparing: allowed |= to == P::kPrepared; break;
    case P::kPrepared:
    case P::kInDoubt: allowed |= to == P::kCommitting; break;
    case P::kCommitting: allowed = to == P::kCommitted; break;
    case P::kCommitted:
    case P::kAborted: break;
  }
  KTM_ASSERT(allowed, absl::StrCat("participant branch ", b.record.id.ToString(), ": illegal transition ",
                                   StateName(from), " -> ", StateName(to)));
  host_->TraceEvent("dist.state", {{"role", "participant"}, {"branch", BranchTraceName(b.record.id)},
                                   {"tx", b.record.root.Short()}, {"from", StateTraceName(from)}, {"to", StateTraceName(to)}});
  b.state = to;
}

void Dtc::Touch(Inbound& b, const Message& m) {
  b.coordinator_incarnation = std::max(b.coordinator_incarnation, m.from_incarnation);
  b.reply_to = m.id;
  b.last_heard = host_->Now();
  b.attempts = 0;
  b.backoff = 0;
}

void Dtc::ReplyTo(Inbound& b, Message reply) {
  reply.reply_to = b.reply_to;
  reply.to_incarnation = b.coordinator_incarnation;
  Send(b.record.id.coordinator, reply);
}

// ---------------------------------------------------------------------------
// PROPAGATE: create T', log the branch, answer.

void Dtc::OnPropagate(const Message& m) {
  if (Inbound* b = FindInbound(m.branch)) {
    Touch(*b, m);
    if (b->state == ParticipantState::kCreating) return;  // answered once the branch record is durable
    Message reply = MakeMessage(MessageType::kPropagateReply, b->record);
    reply.status = b->state == ParticipantState::kActive ? STATUS_SUCCESS : STATUS_TRANSACTION_NOT_ACTIVE;
    return ReplyTo(*b, std::move(reply));
  }
  Message refusal = MakeMessage(MessageType::kPropagateReply, BranchRecord{m.branch, host_->id(), m.root});
  auto refuse = [&](NTSTATUS s) {
    refusal.status = s;
    Reply(m, std::move(refusal));
  };
  if (forgotten_.count(m.branch)) return refuse(STATUS_TRANSACTION_NOT_ACTIVE);  // a late duplicate
  if (inbound_.size() >= options_.branches_max) return refuse(STATUS_INSUFFICIENT_RESOURCES);
  if (!log_ || log_->failed()) return refuse(STATUS_UNEXPECTED_IO_ERROR);
  Inbound fresh;
  fresh.record = BranchRecord{m.branch, host_->id(), m.root};
  if (NTSTATUS s = CreateLocalTransaction(m, &fresh); s != STATUS_SUCCESS) return refuse(s);
  Writer w;
  w.Bytes(EncodeBranchRecord(fresh.record));
  w.Id(fresh.local);
  auto lsn = log_->Append(kRecBranch, w.data());
  if (!lsn.ok()) {
    (void)RollbackEnlistment(*kernel_, fresh.enlistment);
    CloseLocalHandles(fresh);
    return refuse(STATUS_LOG_FULL);
  }
  const BranchId id = fresh.record.id;
  inbound_keys_[fresh.key] = id;
  Inbound& b = inbound_[id] = std::move(fresh);
  Touch(b, m);
  if (options_.observer) options_.observer->OnBranch(host_->id(), m.root, b.local);
  host_->TraceEvent("dist.branch", {{"branch", BranchTraceName(id)}, {"tx", m.root.Short()}, {"uow", b.local.Short()},
                                    {"coordinator", absl::StrCat(m.from)}});
  host_->TraceEvent("dist.state", {{"role", "participant"}, {"branch", BranchTraceName(id)}, {"tx", m.root.Short()},
                                   {"from", "none"}, {"to", StateName(b.state)}});
  std::weak_ptr<bool> alive = alive_;
  log_->Force(*lsn, [this, alive, id](absl::Status status) {
    if (auto a = alive.lock(); a && *a) OnBranchLogged(id, status);
  });
}

NTSTATUS Dtc::CreateLocalTransaction(const Message& m, Inbound* b) {
  HANDLE tx;
  NTSTATUS s = CreateTransaction(*kernel_, 0, 0, "branch " + m.branch.ToString(), &tx);
  if (s != STATUS_SUCCESS) return s;
  b->key = NewKey();
  HANDLE en;
  const uint32_t mask = kSuperiorMask | (options_.answer_request_outcome ? TRANSACTION_NOTIFY_REQUEST_OUTCOME : 0);
  s = CreateEnlistment(*kernel_, rm(), tx, mask, ENLISTMENT_SUPERIOR, b->key, &en);
  if (s != STATUS_SUCCESS) {
    (void)CloseHandle(*kernel_, tx);
    return s;
  }
  s = SetEnlistmentRecoveryInformation(*kernel_, en, EncodeBranchRecord(b->record));
  KTM_ASSERT(s == STATUS_SUCCESS, "SetEnlistmentRecoveryInformation on a fresh superior: " + StatusName(s));
  s = GetTransactionId(*kernel_, tx, &b->local);
  KTM_ASSERT(s == STATUS_SUCCESS, "GetTransactionId of a fresh transaction: " + StatusName(s));
  b->transaction = tx;
  b->enlistment = en;
  b->local_done = false;
  return STATUS_SUCCESS;
}

void Dtc::OnBranchLogged(const BranchId& id, absl::Status status) {
  Inbound* b = FindInbound(id);
  if (b == nullptr || b->state != ParticipantState::kCreating) return;  // aborted meanwhile
  Message reply = MakeMessage(MessageType::kPropagateReply, b->record);
  if (!status.ok()) {
    reply.status = STATUS_UNEXPECTED_IO_ERROR;
    ReplyTo(*b, std::move(reply));
    b->abort_confirmed = true;  // the coordinator hears the refusal: the branch never existed for it
    return AbortLocal(*b, "log");
  }
  host_->TraceEvent("dist.log_forced", {{"branch", BranchTraceName(id)}, {"tx", b->record.root.Short()},
                                        {"record", "branch"}});
  SetState(*b, ParticipantState::kActive);
  reply.status = STATUS_SUCCESS;
  ReplyTo(*b, std::move(reply));
  ArmInboundTimer(*b, options_.idle_inquiry_ns);
}

// ---------------------------------------------------------------------------
// Operations and the first two phases.

void Dtc::OnOp(const Message& m) {
  Inbound* b = FindInbound(m.branch);
  Message reply = MakeMessage(MessageType::kOpReply, BranchRecord{m.branch, host_->id(), m.root});
  reply.op_sequence = m.op_sequence;
  reply.status = STATUS_TRANSACTION_NOT_ACTIVE;
  if (b == nullptr) return Reply(m, std::move(reply));
  Touch(*b, m);
  if (b->state != ParticipantState::kActive) return ReplyTo(*b, std::move(reply));
  if (m.op_sequence == b->last_op_sequence && b->last_op_reply) return ReplyTo(*b, *b->last_op_reply);
  if (m.op_sequence < b->last_op_sequence) return;  // an old duplicate
  // A gap: earlier operations ran in a T' this host no longer has.
  if (m.op_sequence != b->last_op_sequence + 1) return ReplyTo(*b, std::move(reply));
  RemoteOp op{m.rm, m.write, m.key, m.value};
  std::string value;
  reply.status = op_handler_ ? op_handler_(b->transaction, op, &value) : STATUS_RM_NOT_ACTIVE;
  if (reply.status == STATUS_SUCCESS && !m.write) reply.value = value;
  b->last_op_sequence = m.op_sequence;
  b->last_op_reply = reply;
  ReplyTo(*b, std::move(reply));
}

void Dtc::OnPrePrepare(const Message& m) {
  using P = ParticipantState;
  Inbound* b = FindInbound(m.branch);
  if (b == nullptr) return Reply(m, MakeMessage(MessageType::kAborted, BranchRecord{m.branch, host_->id(), m.root}));
  Touch(*b, m);
  switch (b->state) {
    case P::kActive: {
      if (m.op_sequence != b->last_op_sequence) return AbortLocal(*b, "operations_lost");
      SetState(*b, P::kPrePreparing);
      NTSTATUS s = PrePrepareEnlistment(*kernel_, b->enlistment);
      // Already aborted: KTM's ROLLBACK is on its way and answers.
      KTM_ASSERT(s == STATUS_SUCCESS || s == STATUS_TRANSACTION_ALREADY_ABORTED,
                 "PrePrepareEnlistment: " + StatusName(s));
      return;
    }
    case P::kPrePrepared:
    case P::kPreparing:
    case P::kPrepared:
    case P::kInDoubt:
      return ReplyTo(*b, MakeMessage(MessageType::kPrePrepared, b->record));
    case P::kAborted:
      return ReplyTo(*b, MakeMessage(MessageType::kAborted, b->record));
    default:
      return;  // prepreparing: answered when KTM completes; later states: a stale duplicate
  }
}

void Dtc::OnPrepare(const Message& m) {
  using P = ParticipantState;
  Inbound* b = FindInbound(m.branch);
  if (b == nullptr) return Reply(m, MakeMessage(MessageType::kAborted, BranchRecord{m.branch, host_->id(), m.root}));
  Touch(*b, m);
  switch (b->state) {
    case P::kPrePrepared: {
      if (m.op_sequence != b->last_op_sequence) return AbortLocal(*b, "operations_lost");
      SetState(*b, P::kPreparing);
      b->prepare_ticket = ++prepare_tickets_;
      NTSTATUS s = PrepareEnlistment(*kernel_, b->enlistment);
      KTM_ASSERT(s == STATUS_SUCCESS || s == STATUS_TRANSACTION_ALREADY_ABORTED,
                 "PrepareEnlistment: " + StatusName(s));
      return;
    }
    case P::kPrepared:
    case P::kInDoubt:
      return ReplyTo(*b, MakeMessage(MessageType::kPrepared, b->record));
    case P::kActive:
    case P::kPrePreparing:
      return AbortLocal(*b, "prepare_before_preprepare");
    case P::kAborted:
      return ReplyTo(*b, MakeMessage(MessageType::kAborted, b->record));
    default:
      return;  // preparing: answered when KTM completes; later states: a stale duplicate
  }
}

// ---------------------------------------------------------------------------
// The decision.

void Dtc::OnDecision(const Message& m, bool commit) {
  Inbound* b = FindInbound(m.branch);
  if (b == nullptr) {
    // Over and forgotten. A commit is acknowledged again (the first
    // acknowledgement was lost); an abort needs no answer.
    if (commit) Reply(m, MakeMessage(MessageType::kCommitted, BranchRecord{m.branch, host_->id(), m.root}));
    return;
  }
  Touch(*b, m);
  commit ? ApplyCommit(*b) : ApplyAbort(*b);
}

void Dtc::OnOutcome(const Message& m) {
  Inbound* b = FindInbound(m.branch);
  if (b == nullptr) return;  // an answer for a branch already over
  if (m.outcome == Outcome::kAbort &&
      (b->state == ParticipantState::kCommitting || b->state == ParticipantState::kCommitted)) {
    // The answer to an inquiry overtaken by COMMIT: the coordinator forgot
    // the branch once we acknowledged it, so "unknown" now reads as abort.
    host_->TraceEvent("dist.stale_outcome", {{"branch", BranchTraceName(b->record.id)}, {"tx", b->record.root.Short()}});
    return;
  }
  Touch(*b, m);
  if (m.outcome == Outcome::kCommit) return ApplyCommit(*b);
  if (m.outcome == Outcome::kAbort) return ApplyAbort(*b);
  // kWait: the coordinator is alive and undecided; Touch restarted the silence timer.
}

void Dtc::ApplyCommit(Inbound& b) {
  using P = ParticipantState;
  switch (b.state) {
    case P::kPrepared:
    case P::kInDoubt:
    case P::kCommitting:
      return StartCommit(b);
    case P::kCommitted:
      return ReplyTo(b, MakeMessage(MessageType::kCommitted, b.record));
    case P::kAborted:
      // Only a branch whose T' this host lost track of can hear commit: KTM
      // finished T' (committed) before a crash and so did not ask about it.
      KTM_ASSERT(b.local.null(), absl::StrCat("commit for participant branch ", b.record.id.ToString(),
                                              " that rolled back"));
      ReplyTo(b, MakeMessage(MessageType::kCommitted, b.record));
      b.abort_confirmed = true;
      return ForgetInbound(b);
    case P::kCreating:
    case P::kActive:
      // A T' made by a late duplicate PROPAGATE of a branch already over:
      // no operation ever ran in it. Acknowledge and drop it.
      KTM_ASSERT(b.last_op_sequence == 0, absl::StrCat("commit for unprepared participant branch ",
                                                       b.record.id.ToString(), " with operations"));
      ReplyTo(b, MakeMessage(MessageType::kCommitted, b.record));
      (void)RollbackEnlistment(*kernel_, b.enlistment);
      return ForgetInbound(b);
    default:
      KTM_ASSERT(false, absl::StrCat("commit for participant branch ", b.record.id.ToString(), " in state ",
                                     StateName(b.state)));
  }
}

void Dtc::ApplyAbort(Inbound& b) {
  using P = ParticipantState;
  KTM_ASSERT(b.state != P::kCommitting && b.state != P::kCommitted,
             absl::StrCat("abort for participant branch ", b.record.id.ToString(), " that committed"));
  b.abort_confirmed = true;
  if (b.state == P::kAborted) {
    CancelTimer(&b.timer);
    return MaybeForgetInbound(b);
  }
  AbortLocal(b, "coordinator");
}

void Dtc::StartCommit(Inbound& b) {
  if (b.state != ParticipantState::kCommitting) {
    SetState(b, ParticipantState::kCommitting);
    CancelTimer(&b.timer);
    NTSTATUS s = CommitEnlistment(*kernel_, b.enlistment);
    KTM_ASSERT(s == STATUS_SUCCESS || s == STATUS_TRANSACTION_ALREADY_COMMITTED, "CommitEnlistment: " + StatusName(s));
    // Already committed: KTM's own log holds the outcome and redelivers COMMIT
    // to the RMs itself; nothing is left to wait for before acknowledging.
    if (s == STATUS_TRANSACTION_ALREADY_COMMITTED) b.commit_complete = true;
  }
  if (b.commit_appended) return MaybeAckCommit(b);
  BranchRecord id_only;
  id_only.id = b.record.id;
  Writer w;
  w.Bytes(EncodeBranchRecord(id_only));
  auto lsn = log_ && !log_->failed() ? log_->Append(kRecCommitted, w.data())
                                     : absl::StatusOr<log::Lsn>(absl::UnavailableError("dtc log failed"));
  if (!lsn.ok()) {
    // Never acknowledged without the record: the coordinator resends COMMIT and we try again.
    host_->TraceEvent("dist.log_error", {{"branch", BranchTraceName(b.record.id)}, {"error", lsn.status().ToString()}});
    return;
  }
  b.commit_appended = true;
  const BranchId id = b.record.id;
  std::weak_ptr<bool> alive = alive_;
  log_->Force(*lsn, [this, alive, id](absl::Status status) {
    if (auto a = alive.lock(); !a || !*a) return;
    Inbound* c = FindInbound(id);
    if (c == nullptr || !status.ok()) return;
    host_->TraceEvent("dist.log_forced", {{"branch", BranchTraceName(id)}, {"tx", c->record.root.Short()},
                                          {"record", "committed"}});
    c->commit_durable = true;
    MaybeAckCommit(*c);
  });
}

void Dtc::MaybeAckCommit(Inbound& b) {
  if (b.state != ParticipantState::kCommitting || !b.commit_durable || !b.commit_complete) return;
  SetState(b, ParticipantState::kCommitted);
  CloseLocalHandles(b);
  ReplyTo(b, MakeMessage(MessageType::kCommitted, b.record));
}

// ---------------------------------------------------------------------------
// Aborting and forgetting.

void Dtc::AbortLocal(Inbound& b, const char* why) {
  if (b.state == ParticipantState::kAborted) return;
  if (b.enlistment != INVALID_HANDLE_VALUE) {
    NTSTATUS s = RollbackEnlistment(*kernel_, b.enlistment);
    KTM_ASSERT(s == STATUS_SUCCESS || s == STATUS_TRANSACTION_ALREADY_ABORTED,
               absl::StrCat("RollbackEnlistment of participant branch ", b.record.id.ToString(), " in state ",
                            StateName(b.state), ": ", StatusName(s)));
  }
  MarkAborted(b, why);
}

void Dtc::MarkAborted(Inbound& b, const char* why) {
  if (b.state == ParticipantState::kAborted) return;
  host_->TraceEvent("dist.abort", {{"branch", BranchTraceName(b.record.id)}, {"tx", b.record.root.Short()}, {"why", why}});
  SetState(b, ParticipantState::kAborted);
  CancelTimer(&b.timer);
  if (!b.abort_confirmed) return SendAbortedNotice(b);
  MaybeForgetInbound(b);
}

void Dtc::SendAbortedNotice(Inbound& b) {
  Message notice = MakeMessage(MessageType::kAborted, b.record);
  notice.reply_to = b.reply_to;
  Send(b.record.id.coordinator, notice);
  ++b.attempts;
  b.backoff = NextBackoff(b.backoff);
  ArmInboundTimer(b, b.backoff);
}

void Dtc::MaybeForgetInbound(Inbound& b) {
  if (b.state == ParticipantState::kAborted && b.abort_confirmed && b.local_done) ForgetInbound(b);
}

void Dtc::ForgetInbound(Inbound& b) {
  CancelTimer(&b.timer);
  CloseLocalHandles(b);
  const BranchId id = b.record.id;
  host_->TraceEvent("dist.state", {{"role", "participant"}, {"branch", BranchTraceName(id)}, {"tx", b.record.root.Short()},
                                   {"from", StateName(b.state)}, {"to", "forgotten"}});
  inbound_keys_.erase(b.key);
  inbound_.erase(id);
  if (forgotten_.insert(id).second) forgotten_order_.push_back(id);
  if (forgotten_order_.size() > kForgottenRememberedMax) {
    forgotten_.erase(forgotten_order_.front());
    forgotten_order_.pop_front();
  }
  AppendEnded(id);
}

void Dtc::ReleaseRetained(uint64_t prepared_ticket) {
  // The prepared record that made `prepared_ticket` durable was appended to
  // KTM's log after the end record of every branch whose COMMIT_COMPLETE came
  // before that PrepareEnlistment: KTM will never ask about those again.
  std::vector<BranchId> done;
  for (const auto& [id, b] : inbound_) {
    if (b.state == ParticipantState::kCommitted && b.retain_until_ticket < prepared_ticket) done.push_back(id);
  }
  for (const BranchId& id : done) ForgetInbound(inbound_.at(id));
}

void Dtc::CloseLocalHandles(Inbound& b) {
  if (b.enlistment != INVALID_HANDLE_VALUE) (void)CloseHandle(*kernel_, b.enlistment);
  if (b.transaction != INVALID_HANDLE_VALUE) (void)CloseHandle(*kernel_, b.transaction);
  b.enlistment = INVALID_HANDLE_VALUE;
  b.transaction = INVALID_HANDLE_VALUE;
}

// ---------------------------------------------------------------------------
// KTM's notifications on the superior enlistment.

void Dtc::OnParticipantNotification(Inbound& b, const TRANSACTION_NOTIFICATION& n) {
  using P = ParticipantState;
  const uint32_t what = n.TransactionNotification;
  host_->TraceEvent("dist.notify", {{"role", "participant"}, {"branch", BranchTraceName(b.record.id)},
                                    {"tx", b.record.root.Short()}, {"n", NotificationName(what)}});
  if (what == TRANSACTION_NOTIFY_PREPREPARE_COMPLETE && b.state == P::kPrePreparing) {
    SetState(b, P::kPrePrepared);
    ReplyTo(b, MakeMessage(MessageType::kPrePrepared, b.record));
  } else if (what == TRANSACTION_NOTIFY_PREPARE_COMPLETE && b.state == P::kPreparing) {
    SetState(b, P::kPrepared);
    ReleaseRetained(b.prepare_ticket);
    ReplyTo(b, MakeMessage(MessageType::kPrepared, b.record));
    b.last_heard = host_->Now();
    ArmInboundTimer(b, options_.indoubt_inquiry_ns);
  } else if (what == TRANSACTION_NOTIFY_COMMIT_COMPLETE) {
    b.commit_complete = true;
    b.local_done = true;
    b.retain_until_ticket = prepare_tickets_;
    MaybeAckCommit(b);
  } else if (what == TRANSACTION_NOTIFY_ROLLBACK) {
    // T' aborted here (an RM voted no, went away, ...): vote no.
    if (b.state != P::kAborted) MarkAborted(b, "local");
  } else if (what == TRANSACTION_NOTIFY_ROLLBACK_COMPLETE) {
    b.local_done = true;
    if (b.state == P::kAborted) CloseLocalHandles(b);
    MaybeForgetInbound(b);
  } else if (what == TRANSACTION_NOTIFY_REQUEST_OUTCOME && (b.state == P::kPrepared || b.state == P::kInDoubt)) {
    // A local RM wants the outcome now: ask the coordinator without waiting
    // out indoubt_inquiry_ns (its kOutcome answer drives T' as usual).
    SendInquiry(b);
  }
}

// ---------------------------------------------------------------------------
// Recovery.

void Dtc::OnRecoverQuery(const TRANSACTION_NOTIFICATION& n) {
  HANDLE en;
  NTSTATUS s = OpenEnlistment(*kernel_, rm(), n.EnlistmentId, &en);
  if (s != STATUS_SUCCESS) {
    // T' finished meanwhile (its RMs recovered first and KTM forgot it).
    host_->TraceEvent("dist.recover_query_gone", {{"uow", n.UOW.Short()}, {"status", StatusName(s)}});
    return;
  }
  std::vector<uint8_t> blob;
  s = GetEnlistmentRecoveryInformation(*kernel_, en, &blob);
  BranchRecord record;
  KTM_ASSERT(s == STATUS_SUCCESS && DecodeBranchRecord(blob, &record), "a superior enlistment without its record");
  KTM_ASSERT(record.participant == host_->id(), "recovered branch of another participant");
  KTM_ASSERT(FindInbound(record.id) == nullptr, "RECOVER_QUERY twice for one branch");
  Inbound& b = inbound_[record.id];
  b.record = record;
  b.local = n.UOW;
  b.enlistment = en;
  b.key = NewKey();
  b.recovered = true;
  b.local_done = false;
  b.state = ParticipantState::kInDoubt;
  b.last_heard = host_->Now();
  inbound_keys_[b.key] = record.id;
  s = RecoverEnlistment(*kernel_, en, b.key);
  KTM_ASSERT(s == STATUS_SUCCESS, "RecoverEnlistment of a superior: " + StatusName(s));
  host_->TraceEvent("dist.state", {{"role", "participant"}, {"branch", BranchTraceName(record.id)},
                                   {"tx", record.root.Short()}, {"from", "recovered"}, {"to", "indoubt"}});
  bool logged_commit = false;
  if (auto it = replayed_.find(record.id); it != replayed_.end()) {
    logged_commit = it->second.committed;
    replayed_.erase(it);
  }
  ResumeRecovered(b, logged_commit);
}

void Dtc::ResumeRecovered(Inbound& b, bool logged_commit) {
  HANDLE tx;
  TransactionInformation info;
  NTSTATUS s = OpenTransaction(*kernel_, b.local, &tx);
  KTM_ASSERT(s == STATUS_SUCCESS, "OpenTransaction of a transaction KTM asks about: " + StatusName(s));
  s = GetTransactionInformation(*kernel_, tx, &info);
  (void)CloseHandle(*kernel_, tx);
  if (logged_commit || info.outcome == TransactionOutcomeCommitted) {
    // The outcome is durable here (our log or KTM's): no need to ask.
    b.commit_appended = true;
    b.commit_durable = true;
    return StartCommit(b);
  }
  ArmInboundTimer(b, 0);  // in doubt: ask the coordinator now
}

void Dtc::OnCoordinatorRestarted(uint32_t host, uint64_t incarnation) {
  using P = ParticipantState;
  std::vector<BranchId> unvoted, in_doubt;
  for (const auto& [id, b] : inbound_) {
    if (id.coordinator != host || id.incarnation >= incarnation) continue;
    if (b.state == P::kPrepared || b.state == P::kInDoubt) in_doubt.push_back(id);
    if (b.state == P::kCreating || b.state == P::kActive || b.state == P::kPrePreparing ||
        b.state == P::kPrePrepared || b.state == P::kPreparing) {
      unvoted.push_back(id);
    }
  }
  // The root's transaction was not committed without our vote: it is gone.
  for (const BranchId& id : unvoted) AbortLocal(inbound_.at(id), "coordinator_restarted");
  for (const BranchId& id : in_doubt) ArmInboundTimer(inbound_.at(id), 0);
}

// ---------------------------------------------------------------------------
// Silence: inquiries and abort notices.

void Dtc::ArmInboundTimer(Inbound& b, sim::TimeNs delay) {
  CancelTimer(&b.timer);
  const BranchId id = b.record.id;
  b.timer = Timer(delay, [this, id] { OnInboundTimer(id); });
}

void Dtc::OnInboundTimer(const BranchId& id) {
  using P = ParticipantState;
  Inbound* b = FindInbound(id);
  if (b == nullptr) return;
  b->timer = sim::kNoEvent;
  const bool unvoted = b->state == P::kActive || b->state == P::kPrePreparing || b->state == P::kPrePrepared ||
                       b->state == P::kPreparing;
  const bool in_doubt = b->state == P::kPrepared || b->state == P::kInDoubt;
  if (b->state == P::kAborted) {
    if (b->abort_confirmed) return;
    if (b->attempts >= options_.retries_max) {
      b->abort_confirmed = true;  // presumed abort: the coordinator learns it when it asks
      return MaybeForgetInbound(*b);
    }
    return SendAbortedNotice(*b);
  }
  if (!unvoted && !in_doubt) return;
  const sim::TimeNs quiet = unvoted ? options_.idle_inquiry_ns : options_.indoubt_inquiry_ns;
  const sim::TimeNs silent = host_->Now() - b->last_heard;
  if (b->attempts == 0 && silent < quiet && !b->recovered) return ArmInboundTimer(*b, quiet - silent);
  if (unvoted && b->attempts >= options_.retries_max) return AbortLocal(*b, "coordinator_silent");
  SendInquiry(*b);
}

void Dtc::SendInquiry(Inbound& b) {
  Message inquiry = MakeMessage(MessageType::kInquiry, b.record);
  Send(b.record.id.coordinator, inquiry);
  b.recovered = false;  // only the first inquiry after a restart skips the quiet period
  ++b.attempts;
  b.backoff = NextBackoff(b.backoff);
  ArmInboundTimer(b, b.backoff);
}

}  // namespace ktm::dist
