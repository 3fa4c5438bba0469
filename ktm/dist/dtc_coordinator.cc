// The root's side of a branch (coordinator role): the Dtc enlists in the
// client's transaction T as a durable subordinate per remote host, forwards
// the client's operations, forwards every phase KTM runs on T to the
// participant and answers inquiries. Its durable state is KTM's: the
// enlistment's recovery blob ({participant, branch id, root}) is logged with
// T's commit decision, so after a crash KTM hands every committed branch back
// through RECOVER; a branch KTM does not hand back was never committed
// (presumed abort). State machine, one function per transition:
//
//   propagating -> active -> prepreparing -> preprepared -> preparing -> prepared -> committing
//   any state before prepared -> aborting (this enlistment voted no: RollbackEnlistment)
//
// A ROLLBACK from KTM forgets the branch from any state (and sends ABORT
// once); COMMITTED from the participant forgets a committing branch.
#include <utility>

#include "absl/strings/str_cat.h"
#include "ktm/assert.h"
#include "ktm/dist/dtc.h"

namespace ktm::dist {

// ---------------------------------------------------------------------------
// Branches.

Dtc::Outbound* Dtc::FindOutbound(const BranchId& id) {
  auto it = outbound_.find(id);
  return it == outbound_.end() ? nullptr : &it->second;
}

void Dtc::SetState(Outbound& b, CoordinatorState to) {
  using S = CoordinatorState;
  const S from = b.state;
  bool allowed = false;
  switch (from) {
    case S::kPropagating: allowed = to == S::kActive || to == S::kAborting; break;
    case S::kActive: allowed = to == S::kPrePreparing || to == S::kAborting; break;
    case S::kPrePreparing: allowed = to == S::kPrePrepared || to == S::kAborting; break;
    case S::kPrePrepared: allowed = to == S::kPreparing || to == S::kAborting; break;
    case S::kPreparing: allowed = to == S::kPrepared || to == S::kAborting; break;
    case S::kPrepared: allowed = to == S::kCommitting; break;
    case S::kCommitting:
    case S::kAborting: allowed = false; break;
  }
  KTM_ASSERT(allowed, absl::StrCat("coordinator branch ", b.record.id.ToString(), ": illegal transition ",
                                   StateName(from), " -> ", StateName(to)));
  host_->TraceEvent("dist.state", {{"role", "coordinator"}, {"branch", BranchTraceName(b.record.id)},
                                   {"tx", b.record.root.Short()}, {"from", StateTraceName(from)}, {"to", StateTraceName(to)}});
  b.state = to;
}

NTSTATUS Dtc::CreateOutbound(HANDLE transaction, const Guid& root, uint32_t host, Outbound** out) {
  if (outbound_.size() >= options_.branches_max) return STATUS_INSUFFICIENT_RESOURCES;
  Outbound b;
  b.record.id = BranchId{host_->id(), host_->incarnation(), next_branch_sequence_++};
  b.record.participant = host;
  b.record.root = root;
  b.key = NewKey();
  NTSTATUS s = CreateEnlistment(*kernel_, rm(), transaction, kCoordinatorMask, 0, b.key, &b.enlistment);
  if (s != STATUS_SUCCESS) return s;
  s = SetEnlistmentRecoveryInformation(*kernel_, b.enlistment, EncodeBranchRecord(b.record));
  KTM_ASSERT(s == STATUS_SUCCESS, "SetEnlistmentRecoveryInformation on a fresh enlistment: " + StatusName(s));
  const BranchId id = b.record.id;
  outbound_keys_[b.key] = id;
  outbound_by_tx_[{root, host}] = id;
  Outbound& stored = outbound_[id] = std::move(b);
  host_->TraceEvent("dist.state", {{"role", "coordinator"}, {"branch", BranchTraceName(id)}, {"tx", root.Short()},
                                   {"from", "none"}, {"to", StateName(stored.state)},
                                   {"participant", absl::StrCat(host)}});
  SendRequest(stored, MakeMessage(MessageType::kPropagate, stored.record), false);
  *out = &stored;
  return STATUS_SUCCESS;
}

void Dtc::ForgetOutbound(Outbound& b) {
  StopRequest(b);
  KTM_ASSERT(!b.op, "coordinator branch forgotten with an operation pending");
  const BranchId id = b.record.id;
  host_->TraceEvent("dist.state", {{"role", "coordinator"}, {"branch", BranchTraceName(id)}, {"tx", b.record.root.Short()},
                                   {"from", StateName(b.state)}, {"to", "forgotten"}});
  if (b.enlistment != INVALID_HANDLE_VALUE) (void)CloseHandle(*kernel_, b.enlistment);
  outbound_keys_.erase(b.key);
  if (auto it = outbound_by_tx_.find({b.record.root, b.record.participant});
      it != outbound_by_tx_.end() && it->second == id) {
    outbound_by_tx_.erase(it);
  }
  outbound_.erase(id);
}

// ---------------------------------------------------------------------------
// Requests: one in flight per branch, resent with exponential backoff.

void Dtc::SendRequest(Outbound& b, Message m, bool forever) {
  StopRequest(b);
  b.request.message = std::move(m);
  b.request.active = true;
  b.request.forever = forever;
  b.request.sends = 1;
  b.request.backoff = options_.retransmit_initial_ns;
  Send(b.record.participant, b.request.message);
  const BranchId id = b.record.id;
  b.request.timer = Timer(b.request.backoff, [this, id] { OnRequestTimer(id); });
}

void Dtc::OnRequestTimer(const BranchId& id) {
  Outbound* b = FindOutbound(id);
  if (b == nullptr || !b->request.active) return;
  Request& r = b->request;
  r.timer = sim::kNoEvent;
  if (!r.forever && r.sends >= options_.retries_max) {
    host_->TraceEvent("dist.give_up", {{"branch", BranchTraceName(id)}, {"tx", b->record.root.Short()},
                                       {"type", MessageTypeName(r.message.type)},
                                       {"sends", absl::StrCat(r.sends)}});
    r.active = false;
    return VoteNo(*b, "no_answer", STATUS_TIMEOUT);
  }
  ++r.sends;
  ++stats_.retransmitted;
  Send(b->record.participant, r.message);
  r.backoff = NextBackoff(r.backoff);
  r.timer = Timer(r.backoff, [this, id] { OnRequestTimer(id); });
}

void Dtc::StopRequest(Outbound& b) {
  CancelTimer(&b.request.timer);
  b.request.active = false;
}

// ---------------------------------------------------------------------------
// Client operations.

void Dtc::Operation(HANDLE transaction, uint32_t host, RemoteOp op, OpDone done) {
  auto fail = [this](OpDone d, NTSTATUS s) { Defer([d = std::move(d), s] { d(s, ""); }); };
  if (!recovery_done_) return fail(std::move(done), STATUS_TRANSACTIONMANAGER_NOT_ONLINE);
  if (host == host_->id() || op.rm.size() > kStringBytesMax || op.key.size() > kStringBytesMax ||
      op.value.size() > kStringBytesMax) {
    return fail(std::move(done), STATUS_INVALID_PARAMETER);
  }
  Guid root;
  if (NTSTATUS s = GetTransactionId(*kernel_, transaction, &root); s != STATUS_SUCCESS) {
    return fail(std::move(done), s);
  }
  Outbound* b = nullptr;
  if (auto it = outbound_by_tx_.find({root, host}); it != outbound_by_tx_.end()) b = FindOutbound(it->second);
  if (b == nullptr) {
    if (NTSTATUS s = CreateOutbound(transaction, root, host, &b); s != STATUS_SUCCESS) {
      return fail(std::move(done), s);
    }
  }
  if (b->op) return fail(std::move(done), STATUS_INVALID_PARAMETER);
  if (b->state != CoordinatorState::kPropagating && b->state != CoordinatorState::kActive) {
    return fail(std::move(done), STATUS_TRANSACTION_NOT_ACTIVE);
  }
  b->op = PendingOp{std::move(op), 0, std::move(done)};
  if (b->state == CoordinatorState::kActive) SendOp(*b);
}

void Dtc::SendOp(Outbound& b) {
  PendingOp& op = *b.op;
  op.sequence = ++b.ops_sent;
  Message m = MakeMessage(MessageType::kOp, b.record);
  m.op_sequence = op.sequence;
  m.write = op.op.write;
  m.rm = op.op.rm;
  m.key = op.op.key;
  m.value = op.op.value;
  SendRequest(b, std::move(m), false);
}

void Dtc::FinishOp(Outbound& b, NTSTATUS status, std::string value) {
  if (!b.op) return;
  OpDone done = std::move(b.op->done);
  b.op.reset();
  Defer([done = std::move(done), status, value = std::move(value)] { done(status, value); });
}

void Dtc::VoteNo(Outbound& b, const char* why, NTSTATUS op_status) {
  if (b.state == CoordinatorState::kAborting) return;
  KTM_ASSERT(b.state != CoordinatorState::kPrepared && b.state != CoordinatorState::kCommitting,
             absl::StrCat("coordinator branch ", b.record.id.ToString(), " votes no in state ", StateName(b.state)));
  StopRequest(b);
  FinishOp(b, op_status, "");
  host_->TraceEvent("dist.vote_no", {{"branch", BranchTraceName(b.record.id)}, {"tx", b.record.root.Short()},
                                     {"why", why}});
  SetState(b, CoordinatorState::kAborting);
  // T aborts; KTM then sends ROLLBACK to this enlistment too, which sends ABORT.
  NTSTATUS s = RollbackEnlistment(*kernel_, b.enlistment);
  KTM_ASSERT(s == STATUS_SUCCESS || s == STATUS_TRANSACTION_ALREADY_ABORTED,
             "RollbackEnlistment of an undecided branch: " + StatusName(s));
}

// ---------------------------------------------------------------------------
// KTM's notifications on the root's enlistment.

void Dtc::OnCoordinatorNotification(Outbound& b, const TRANSACTION_NOTIFICATION& n) {
  const uint32_t what = n.TransactionNotification;
  host_->TraceEvent("dist.notify", {{"role", "coordinator"}, {"branch", BranchTraceName(b.record.id)},
                                    {"tx", b.record.root.Short()}, {"n", NotificationName(what)}});
  switch (what) {
    case TRANSACTION_NOTIFY_PREPREPARE:
    case TRANSACTION_NOTIFY_PREPARE:
    case TRANSACTION_NOTIFY_COMMIT:
      return OnOutboundPhase(b, what);
    case TRANSACTION_NOTIFY_ROLLBACK:
      return OnOutboundRollback(b);
    default:
      return;
  }
}

void Dtc::OnOutboundPhase(Outbound& b, uint32_t notification) {
  using S = CoordinatorState;
  if (b.state == S::kAborting) return;  // ROLLBACK follows
  if (notification == TRANSACTION_NOTIFY_COMMIT) {
    KTM_ASSERT(b.state == S::kPrepared, absl::StrCat("COMMIT for coordinator branch ", b.record.id.ToString(),
                                                     " in state ", StateName(b.state)));
    SetState(b, S::kCommitting);
    return SendRequest(b, MakeMessage(MessageType::kCommit, b.record), true);
  }
  const bool pre = notification == TRANSACTION_NOTIFY_PREPREPARE;
  if (b.state != (pre ? S::kActive : S::kPrePrepared) || b.op) {
    // A branch whose PROPAGATE or last operation is unanswered cannot vote yes.
    return VoteNo(b, "not_ready", STATUS_TRANSACTION_ALREADY_ABORTED);
  }
  SetState(b, pre ? S::kPrePreparing : S::kPreparing);
  Message m = MakeMessage(pre ? MessageType::kPrePrepare : MessageType::kPrepare, b.record);
  m.op_sequence = b.ops_answered;
  SendRequest(b, std::move(m), false);
}

void Dtc::OnOutboundRollback(Outbound& b) {
  StopRequest(b);
  FinishOp(b, STATUS_TRANSACTION_ALREADY_ABORTED, "");
  NTSTATUS s = RollbackComplete(*kernel_, b.enlistment);
  KTM_ASSERT(s == STATUS_SUCCESS, "RollbackComplete after ROLLBACK: " + StatusName(s));
  // The decision, sent once: presumed abort needs no acknowledgement (a
  // participant that misses it inquires and hears "abort").
  Message abort = MakeMessage(MessageType::kAbort, b.record);
  Send(b.record.participant, abort);
  ForgetOutbound(b);
}

void Dtc::OnRecover(const TRANSACTION_NOTIFICATION& n) {
  HANDLE en;
  NTSTATUS s = OpenEnlistment(*kernel_, rm(), n.EnlistmentId, &en);
  KTM_ASSERT(s == STATUS_SUCCESS, "OpenEnlistment of a RECOVER notification: " + StatusName(s));
  std::vector<uint8_t> blob;
  s = GetEnlistmentRecoveryInformation(*kernel_, en, &blob);
  Outbound b;
  KTM_ASSERT(s == STATUS_SUCCESS && DecodeBranchRecord(blob, &b.record), "a recovered branch without its record");
  KTM_ASSERT(b.record.id.coordinator == host_->id() && b.record.root == n.UOW, "recovered branch names another root");
  b.enlistment = en;
  b.key = NewKey();
  b.state = CoordinatorState::kPrepared;  // it voted yes before the crash: KTM logged it with the decision
  const BranchId id = b.record.id;
  outbound_keys_[b.key] = id;
  outbound_by_tx_[{b.record.root, b.record.participant}] = id;
  outbound_[id] = std::move(b);
  host_->TraceEvent("dist.state", {{"role", "coordinator"}, {"branch", BranchTraceName(id)}, {"tx", n.UOW.Short()},
                                   {"from", "recovered"}, {"to", "prepared"}});
  s = RecoverEnlistment(*kernel_, en, outbound_[id].key);  // KTM answers COMMIT
  KTM_ASSERT(s == STATUS_SUCCESS, "RecoverEnlistment: " + StatusName(s));
}

// ---------------------------------------------------------------------------
// Messages from participants.

void Dtc::OnPropagateReply(const Message& m) {
  Outbound* b = FindOutbound(m.branch);
  if (b == nullptr || b->state != CoordinatorState::kPropagating) return;  // a duplicate
  StopRequest(*b);
  if (m.status != STATUS_SUCCESS) return VoteNo(*b, "propagate_refused", m.status);
  SetState(*b, CoordinatorState::kActive);
  if (b->op) SendOp(*b);
}

void Dtc::OnOpReply(const Message& m) {
  Outbound* b = FindOutbound(m.branch);
  if (b == nullptr || b->state != CoordinatorState::kActive || !b->op || m.op_sequence != b->op->sequence) return;
  StopRequest(*b);
  b->ops_answered = m.op_sequence;
  FinishOp(*b, m.status, m.value);
}

void Dtc::OnPhaseReply(const Message& m) {
  using S = CoordinatorState;
  Outbound* b = FindOutbound(m.branch);
  if (b == nullptr) return;  // a duplicate for a branch already over
  NTSTATUS s = STATUS_SUCCESS;
  if (m.type == MessageType::kPrePrepared && b->state == S::kPrePreparing) {
    StopRequest(*b);
    SetState(*b, S::kPrePrepared);
    s = PrePrepareComplete(*kernel_, b->enlistment);
  } else if (m.type == MessageType::kPrepared && b->state == S::kPreparing) {
    StopRequest(*b);
    SetState(*b, S::kPrepared);
    s = PrepareComplete(*kernel_, b->enlistment);
  } else if (m.type == MessageType::kCommitted && b->state == S::kCommitting) {
    s = CommitComplete(*kernel_, b->enlistment);
    KTM_ASSERT(s == STATUS_SUCCESS, "CommitComplete after COMMIT: " + StatusName(s));
    return ForgetOutbound(*b);
  } else {
    return;  // a duplicate or a reply overtaken by events
  }
  // T may have aborted meanwhile (another enlistment voted no): ROLLBACK follows.
  KTM_ASSERT(s == STATUS_SUCCESS || s == STATUS_TRANSACTION_ALREADY_ABORTED,
             absl::StrCat("completing ", MessageTypeName(m.type), ": ", StatusName(s)));
}

void Dtc::OnParticipantAborted(const Message& m) {
  using S = CoordinatorState;
  Outbound* b = FindOutbound(m.branch);
  if (b == nullptr) {
    Message reply = MakeMessage(MessageType::kOutcome, BranchRecord{m.branch, m.from, m.root});
    reply.outcome = Outcome::kAbort;
    return Reply(m, std::move(reply));
  }
  if (b->state == S::kCommitting) {
    // Only a participant whose T' finished committing before a crash, so
    // that KTM no longer knew it at recovery, reports ABORTED here: it hears
    // commit and acknowledges.
    Message reply = MakeMessage(MessageType::kOutcome, b->record);
    reply.outcome = Outcome::kCommit;
    return Reply(m, std::move(reply));
  }
  if (b->state == S::kPrepared) {
    host_->TraceEvent("dist.unexpected", {{"branch", BranchTraceName(b->record.id)}, {"type", "ABORTED"},
                                          {"state", StateName(b->state)}});
    return;
  }
  VoteNo(*b, "participant_aborted", STATUS_TRANSACTION_ALREADY_ABORTED);
}

Outcome Dtc::OutcomeOf(const BranchId& id) {
  const Outbound* b = FindOutbound(id);
  // Unknown once recovery is done: never committed, or committed and
  // acknowledged (and then the participant no longer asks): presumed abort.
  if (b == nullptr) return Outcome::kAbort;
  if (b->state == CoordinatorState::kCommitting) return Outcome::kCommit;
  if (b->state == CoordinatorState::kAborting) return Outcome::kAbort;
  return Outcome::kWait;
}

void Dtc::OnInquiry(const Message& m) {
  Message reply = MakeMessage(MessageType::kOutcome, BranchRecord{m.branch, m.from, m.root});
  reply.outcome = OutcomeOf(m.branch);
  Reply(m, std::move(reply));
}

}  // namespace ktm::dist
