// Dtc: the distributed transaction coordinator of one host, the role MSDTC
// plays for KTM (ktm-api.md §4.6). A user of ktm/api.h, of sim::Host's
// network endpoint and of its own log (ktm/log) on its own disk.
//
// Contract (docs/distributed.md has the protocol, the message diagram and the
// proofs sketched there):
// - A client on the root host runs an operation on an RM of another host with
//   Operation(). The first one for a (transaction, host) pair makes a branch:
//   this Dtc enlists in the client's KTM transaction T as an ordinary durable
//   subordinate (PREPREPARE | PREPARE | COMMIT | ROLLBACK), stores
//   {participant host, branch id} as the enlistment's recovery blob, and sends
//   PROPAGATE. The participant's Dtc creates a local transaction T', enlists
//   in it with ENLISTMENT_SUPERIOR, forces a branch record to its log and
//   answers. Operations then travel as OP messages and run on the
//   participant's RMs inside T' (through the OpHandler given at construction).
// - Commit: KTM on the root runs two-phase commit; this Dtc's enlistment
//   forwards each phase (PREPREPARE, PREPARE, COMMIT, ROLLBACK) to the
//   participant, which drives T' with PrePrepareEnlistment, PrepareEnlistment,
//   CommitEnlistment and RollbackEnlistment and answers when KTM reports the
//   phase complete. A participant acknowledges COMMIT only once its own log
//   holds the outcome, so the root may then forget the branch.
// - Presumed abort: a prepared participant whose coordinator is silent, or
//   that recovers in doubt (RECOVER_QUERY), sends INQUIRY; the coordinator
//   answers commit if its KTM committed the root (live, or rebuilt from the
//   TM log and handed back through RECOVER), abort if the branch is unknown
//   once its own recovery is done, and wait while undecided. A participant
//   never decides a prepared branch alone. One that has not voted may abort.
// - Retransmission: requests are resent after retransmit_initial_ns, doubling
//   up to backoff_max_ns; requests the coordinator may give up on
//   (PROPAGATE, OP, PREPREPARE, PREPARE) are sent at most retries_max times,
//   then the branch votes no. Decisions (COMMIT) and in-doubt inquiries are
//   resent until answered, at most once per backoff_max_ns. Every message
//   carries its sender's incarnation and a message id; duplicates are handled
//   idempotently, messages from an older incarnation of a peer and replies
//   meant for an older incarnation of this host are dropped.
// - Every message sent or received is traced ("dist.send" / "dist.recv" with
//   from, to, type, tx = root UOW short id, branch, msg), every branch state
//   change is traced ("dist.state"), and a participant traces "dist.branch"
//   (branch, tx = root UOW, uow = T' UOW) when it creates T', before any
//   operation runs in it.
// Lifetime: the Dtc is volatile state of its host, destroyed by a crash;
// callbacks never run after that. Start() on a fresh Dtc recovers.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "ktm/api.h"
#include "ktm/dist/message.h"
#include "ktm/log/log.h"
#include "ktm/rm_client.h"
#include "ktm/rm_observer.h"
#include "sim/host.h"

namespace ktm::dist {

struct DtcOptions {
  std::string name;                                    // for traces
  Guid rm_id;                                          // the Dtc's durable KTM RM (persistent identity)
  sim::TimeNs retransmit_initial_ns = 10 * sim::kMillisecond;
  sim::TimeNs backoff_max_ns = 80 * sim::kMillisecond;
  uint32_t retries_max = 8;                            // sends of a request the coordinator may give up on
  sim::TimeNs idle_inquiry_ns = 100 * sim::kMillisecond;    // an unprepared branch silent this long inquires
  sim::TimeNs indoubt_inquiry_ns = 30 * sim::kMillisecond;  // a prepared branch silent this long inquires
  uint32_t branches_max = 1024;                        // live branches per role
  RmObserver* observer = nullptr;                      // told of each branch (OnBranch); not owned
  // The superior enlistment also asks for TRANSACTION_NOTIFY_REQUEST_OUTCOME
  // and answers it with an inquiry at once (a local RM's
  // TmRequestOutcomeEnlistment); off: the same as before.
  bool answer_request_outcome = false;
};

// One client operation on a remote RM.
struct RemoteOp {
  std::string rm;
  bool write = false;
  std::string key;
  std::string value;  // written value
};
// Runs an operation on a local RM inside `transaction` (the participant's T').
using OpHandler = std::function<NTSTATUS(HANDLE transaction, const RemoteOp& op, std::string* value)>;
using OpDone = std::function<void(NTSTATUS status, std::string value)>;

class Dtc {
 public:
  // disk: the Dtc's own log disk. tm: the host's (durable, online) TM.
  Dtc(Kernel* kernel, sim::Host* host, sim::Disk* disk, HANDLE tm, DtcOptions options, OpHandler op_handler);
  ~Dtc();
  Dtc(const Dtc&) = delete;
  Dtc& operator=(const Dtc&) = delete;

  // Opens (or formats) the log, rebuilds the participant branches it holds,
  // opens (or creates) the KTM RM and recovers it. done(STATUS_SUCCESS) once
  // recovery is complete (LAST_RECOVER handled): only then does the Dtc answer
  // messages, and only then is "unknown branch" proof of abort.
  void Start(std::function<void(NTSTATUS)> done);
  bool recovery_done() const { return recovery_done_; }

  // Runs op on RM op.rm of host `host` inside the client's transaction.
  // done runs from the scheduler, never inside the call: STATUS_SUCCESS (with
  // the value read), the RM's own failure, STATUS_TIMEOUT (no answer: the
  // branch then votes no), STATUS_TRANSACTION_ALREADY_ABORTED, or a
  // parameter/state error. One operation at a time per (transaction, host).
  void Operation(HANDLE transaction, uint32_t host, RemoteOp op, OpDone done);

  struct Stats {
    uint64_t sent = 0;
    uint64_t received = 0;
    uint64_t retransmitted = 0;
    uint64_t dropped = 0;  // stale incarnation, malformed, before recovery
  };
  const Stats& stats() const { return stats_; }
  size_t coordinator_branches() const { return outbound_.size(); }
  size_t participant_branches() const { return inbound_.size(); }
  uint64_t forced_log_writes() const { return log_ ? log_->forced_writes() : 0; }

 private:
  enum class CoordinatorState : uint8_t {
    kPropagating, kActive, kPrePreparing, kPrePrepared, kPreparing, kPrepared, kCommitting, kAborting,
  };
  enum class ParticipantState : uint8_t {
    kCreating, kActive, kPrePreparing, kPrePrepared, kPreparing, kPrepared, kInDoubt, kCommitting, kCommitted,
    kAborted,
  };
  static const char* StateName(CoordinatorState state);
  static const char* StateName(ParticipantState state);
  // The same names with their trace digest words, hashed once per process
  // (not per event): trace fields take them as sim::TraceName.
  static sim::TraceName StateTraceName(CoordinatorState state);
  static sim::TraceName StateTraceName(ParticipantState state);

  // The root's enlistment: an ordinary durable subordinate that votes.
  static constexpr uint32_t kCoordinatorMask = TRANSACTION_NOTIFY_PREPREPARE | TRANSACTION_NOTIFY_PREPARE |
                                               TRANSACTION_NOTIFY_COMMIT | TRANSACTION_NOTIFY_ROLLBACK;
  // The participant's superior enlistment: it drives T' and hears how each phase ended.
  static constexpr uint32_t kSuperiorMask =
      TRANSACTION_NOTIFY_ROLLBACK | TRANSACTION_NOTIFY_PREPREPARE_COMPLETE | TRANSACTION_NOTIFY_PREPARE_COMPLETE |
      TRANSACTION_NOTIFY_COMMIT_COMPLETE | TRANSACTION_NOTIFY_ROLLBACK_COMPLETE | TRANSACTION_NOTIFY_RECOVER_QUERY;
  // Dtc log record types (participant role; the root's state lives in KTM's log).
  static constexpr uint16_t kRecBranch = 1;     // BranchRecord + T' UOW: forced before PROPAGATE is answered
  static constexpr uint16_t kRecCommitted = 2;  // branch id: forced before COMMIT is acknowledged
  static constexpr uint16_t kRecEnded = 3;      // branch id: lazy, the branch needs nothing more
  static constexpr uint16_t kRecSnapshot = 4;   // every live branch; the restart area moves the base to it

  // A participant branch read back from the log, waiting for recovery to say
  // what became of T' (RECOVER_QUERY, or nothing by LAST_RECOVER).
  struct ReplayedBranch {
    BranchRecord record;
    Guid local;
    bool committed = false;
  };

  // The one request a coordinator branch has in flight.
  struct Request {
    Message message;
    bool active = false;
    bool forever = false;        // a decision: resent until answered
    uint32_t sends = 0;
    sim::TimeNs backoff = 0;
    sim::EventId timer = sim::kNoEvent;
  };
  struct PendingOp {
    RemoteOp op;
    uint64_t sequence = 0;
    OpDone done;
  };
  // The root's view of a branch (coordinator role).
  struct Outbound {
    BranchRecord record;
    HANDLE enlistment = INVALID_HANDLE_VALUE;
    uint64_t key = 0;
    CoordinatorState state = CoordinatorState::kPropagating;
    uint64_t ops_sent = 0;
    uint64_t ops_answered = 0;
    std::optional<PendingOp> op;
    Request request;
  };
  // The participant's view of a branch.
  struct Inbound {
    BranchRecord record;
    Guid local;                              // T' (null when T' is gone)
    HANDLE transaction = INVALID_HANDLE_VALUE;
    HANDLE enlistment = INVALID_HANDLE_VALUE;
    uint64_t key = 0;
    ParticipantState state = ParticipantState::kCreating;
    uint64_t coordinator_incarnation = 0;    // newest seen: replies go there
    uint64_t reply_to = 0;                   // the request KTM's next completion answers
    uint64_t last_op_sequence = 0;
    std::optional<Message> last_op_reply;    // resent for a duplicate OP
    bool commit_appended = false;            // a COMMITTED record is in the log (maybe not yet durable)
    bool commit_durable = false;             // ... and forced (or KTM's own log holds the commit)
    bool commit_complete = false;            // COMMIT_COMPLETE seen
    bool local_done = true;                  // T' has no pending KTM work (no T', or *_COMPLETE seen)
    bool abort_confirmed = false;            // the coordinator knows this branch aborted
    bool recovered = false;                  // RECOVER_QUERY seen after a restart
    uint64_t prepare_ticket = 0;             // order of PrepareEnlistment calls
    uint64_t retain_until_ticket = 0;        // a committed outcome is kept until a later ticket prepares
    sim::TimeNs last_heard = 0;
    sim::TimeNs backoff = 0;
    uint32_t attempts = 0;
    sim::EventId timer = sim::kNoEvent;
  };

  // ---- dtc.cc: start, recovery, log, notifications, network, timers ----
  void Replay(const log::RecoveredLog& recovered);
  void OnNotification(const TRANSACTION_NOTIFICATION& n);
  HANDLE rm() const { return client_.rm(); }
  void OnLastRecover();
  void OnDatagram(uint32_t from, const std::vector<uint8_t>& payload);
  bool Admit(const Message& m);
  void Dispatch(const Message& m);
  Message MakeMessage(MessageType type, const BranchRecord& record) const;
  // Stamps the sender's fields (from, incarnation, a new id) into m, traces
  // and sends it: by reference, so a request kept for retransmission is sent
  // without a copy.
  void Send(uint32_t to, Message& m);
  void Reply(const Message& request, Message reply);
  void TraceMessage(sim::TraceName kind, const Message& m, uint32_t to);
  // A branch's trace text ("b<coordinator>.<incarnation>.<sequence>") with
  // its digest word: every message event and most dist events name a
  // branch, and formatting and hashing it per event cost more than the
  // rest of the event. Kept in a small direct-mapped cache: the view is
  // valid until the next call that maps to its slot (an event names one branch).
  sim::TraceName BranchTraceName(const BranchId& id);
  struct BranchNameSlot {
    BranchId id;                       // with text empty: an empty slot
    std::optional<BranchText> text;
    uint64_t hash = 0;
  };
  static constexpr size_t kBranchNameSlots = 64;
  std::array<BranchNameSlot, kBranchNameSlots> branch_names_;
  // StatusName of the last status a traced message carried (replies repeat
  // a few codes: the name is built once per change, not per message).
  uint32_t traced_status_ = 0;
  std::string traced_status_name_;
  uint64_t traced_status_hash_ = 0;  // traced_status_name_'s digest word
  bool traced_status_valid_ = false;
  // Timer runs fn after delay unless this Dtc is gone by then; Defer runs it
  // next. Templates: fn is stored in the event itself (no std::function, and
  // no allocation, per timer).
  template <class F>
  void Defer(F fn) { (void)Timer(0, std::move(fn)); }
  template <class F>
  sim::EventId Timer(sim::TimeNs delay, F fn) {
    return host_->After(delay, [alive = std::weak_ptr<bool>(alive_), fn = std::move(fn)]() mutable {
      if (auto a = alive.lock(); a && *a) fn();
    });
  }
  void CancelTimer(sim::EventId* timer);
  sim::TimeNs NextBackoff(sim::TimeNs backoff) const;
  uint64_t NewKey() { return next_key_++; }
  void AppendEnded(const BranchId& id);
  void MaybeSnapshot();

  // ---- dtc_coordinator.cc: the root's side ----
  NTSTATUS CreateOutbound(HANDLE transaction, const Guid& root, uint32_t host, Outbound** out);
  Outbound* FindOutbound(const BranchId& id);
  void SetState(Outbound& b, CoordinatorState to);
  void SendRequest(Outbound& b, Message m, bool forever);
  void OnRequestTimer(const BranchId& id);
  void StopRequest(Outbound& b);
  void SendOp(Outbound& b);
  void FinishOp(Outbound& b, NTSTATUS status, std::string value);
  void VoteNo(Outbound& b, const char* why, NTSTATUS op_status);
  void ForgetOutbound(Outbound& b);
  void OnCoordinatorNotification(Outbound& b, const TRANSACTION_NOTIFICATION& n);
  void OnOutboundPhase(Outbound& b, uint32_t notification);
  void OnOutboundRollback(Outbound& b);
  void OnRecover(const TRANSACTION_NOTIFICATION& n);
  void OnPropagateReply(const Message& m);
  void OnOpReply(const Message& m);
  void OnPhaseReply(const Message& m);
  void OnParticipantAborted(const Message& m);
  void OnInquiry(const Message& m);
  Outcome OutcomeOf(const BranchId& id);

  // ---- dtc_participant.cc: the branch's side ----
  Inbound* FindInbound(const BranchId& id);
  void SetState(Inbound& b, ParticipantState to);
  void Touch(Inbound& b, const Message& m);
  void ReplyTo(Inbound& b, Message reply);
  void OnPropagate(const Message& m);
  NTSTATUS CreateLocalTransaction(const Message& m, Inbound* b);
  void OnBranchLogged(const BranchId& id, absl::Status status);
  void OnOp(const Message& m);
  void OnPrePrepare(const Message& m);
  void OnPrepare(const Message& m);
  void OnDecision(const Message& m, bool commit);
  void OnOutcome(const Message& m);
  void ApplyCommit(Inbound& b);
  void ApplyAbort(Inbound& b);
  void StartCommit(Inbound& b);
  void MaybeAckCommit(Inbound& b);
  void AbortLocal(Inbound& b, const char* why);
  void MarkAborted(Inbound& b, const char* why);
  void SendAbortedNotice(Inbound& b);
  void MaybeForgetInbound(Inbound& b);
  void ForgetInbound(Inbound& b);
  void ReleaseRetained(uint64_t prepared_ticket);
  void CloseLocalHandles(Inbound& b);
  void OnParticipantNotification(Inbound& b, const TRANSACTION_NOTIFICATION& n);
  void OnRecoverQuery(const TRANSACTION_NOTIFICATION& n);
  void ResumeRecovered(Inbound& b, bool logged_commit);
  void OnCoordinatorRestarted(uint32_t host, uint64_t incarnation);
  void ArmInboundTimer(Inbound& b, sim::TimeNs delay);
  void OnInboundTimer(const BranchId& id);
  void SendInquiry(Inbound& b);

  Kernel* kernel_;
  sim::Host* host_;
  sim::Disk* disk_;
  HANDLE tm_;
  DtcOptions options_;
  OpHandler op_handler_;
  RmClient client_;                 // the Dtc's own durable KTM RM: log, registration, notifications
  log::Log* log_;                   // client_'s log
  bool started_ = false;
  bool recovery_done_ = false;
  bool snapshot_in_flight_ = false;
  std::function<void(NTSTATUS)> start_done_;
  uint64_t next_key_ = 1;
  uint64_t next_message_id_ = 1;
  uint64_t next_branch_sequence_ = 1;
  uint64_t prepare_tickets_ = 0;
  std::map<BranchId, Outbound> outbound_;
  std::map<std::pair<Guid, uint32_t>, BranchId> outbound_by_tx_;  // (root UOW, participant host)
  std::map<BranchId, Inbound> inbound_;
  std::map<BranchId, ReplayedBranch> replayed_;   // until LAST_RECOVER
  std::map<uint64_t, BranchId> outbound_keys_;  // enlistment key -> branch
  std::map<uint64_t, BranchId> inbound_keys_;
  std::map<uint32_t, uint64_t> peer_incarnation_;  // newest incarnation seen per host
  // Participant branches forgotten lately (this incarnation), oldest first:
  // a late duplicate PROPAGATE of one of them is refused instead of making an
  // empty T'. Bounded by kForgottenRememberedMax.
  static constexpr size_t kForgottenRememberedMax = 4096;
  std::deque<BranchId> forgotten_order_;
  std::set<BranchId> forgotten_;
  Stats stats_;
  std::shared_ptr<bool> alive_;
};

}  // namespace ktm::dist
