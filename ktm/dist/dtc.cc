// Dtc plumbing shared by both roles: start-up and recovery (log replay, RM
// registration, LAST_RECOVER), the Dtc log, the KTM notification loop, the
// network endpoint (admission of datagrams: decoding, incarnation checks),
// sending and tracing messages, and timers. The roles themselves are in
// dtc_coordinator.cc (the root's side) and dtc_participant.cc (a branch's
// side). See dtc.h for the contract and docs/distributed.md for the protocol.
#include "ktm/dist/dtc.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "ktm/assert.h"
#include "ktm/codec.h"

namespace ktm::dist {

static_assert(kStringBytesMax <= 4096, "a message must fit one datagram comfortably");

Dtc::Dtc(Kernel* kernel, sim::Host* host, sim::Disk* disk, HANDLE tm, DtcOptions options, OpHandler op_handler)
    : kernel_(kernel),
      host_(host),
      disk_(disk),
      tm_(tm),
      options_(std::move(options)),
      op_handler_(std::move(op_handler)),
      client_(kernel, host, disk, tm,
              RmClientOptions{.name = "dtc." + options_.name,
                              .description = "dtc." + options_.name,
                              .rm_id = options_.rm_id,
                              .durable = true,
                              .response_delay_ns = 0},
              [this](const TRANSACTION_NOTIFICATION& n) { OnNotification(n); }),
      log_(client_.log()),
      alive_(std::make_shared<bool>(true)) {
  KTM_ASSERT(options_.retransmit_initial_ns > 0 && options_.retransmit_initial_ns <= options_.backoff_max_ns,
             "Dtc: retransmit_initial_ns must be in (0, backoff_max_ns]");
  KTM_ASSERT(options_.retries_max >= 1 && options_.branches_max >= 1, "Dtc: retries_max and branches_max >= 1");
  KTM_ASSERT(disk_ != nullptr && !options_.rm_id.null(), "Dtc: needs a log disk and an RM id");
  std::weak_ptr<bool> alive = alive_;
  host_->Listen([this, alive](uint32_t from, std::vector<uint8_t> payload) {
    if (auto a = alive.lock(); a && *a) OnDatagram(from, payload);
  });
}

Dtc::~Dtc() { *alive_ = false; }

const char* Dtc::StateName(CoordinatorState state) {
  switch (state) {
    case CoordinatorState::kPropagating: return "propagating";
    case CoordinatorState::kActive: return "active";
    case CoordinatorState::kPrePreparing: return "prepreparing";
    case CoordinatorState::kPrePrepared: return "preprepared";
    case CoordinatorState::kPreparing: return "preparing";
    case CoordinatorState::kPrepared: return "prepared";
    case CoordinatorState::kCommitting: return "committing";
    case CoordinatorState::kAborting: return "aborting";
  }
  return "unknown";
}

const char* Dtc::StateName(ParticipantState state) {
  switch (state) {
    case ParticipantState::kCreating: return "creating";
    case ParticipantState::kActive: return "active";
    case ParticipantState::kPrePreparing: return "prepreparing";
    case ParticipantState::kPrePrepared: return "preprepared";
    case ParticipantState::kPreparing: return "preparing";
    case ParticipantState::kPrepared: return "prepared";
    case ParticipantState::kInDoubt: return "indoubt";
    case ParticipantState::kCommitting: return "committing";
    case ParticipantState::kCommitted: return "committed";
    case ParticipantState::kAborted: return "aborted";
  }
  return "unknown";
}

namespace {

// A table of `count` names (name(0) .. name(count - 1)) with their trace
// digest words, built on first use: the names themselves stay in one place
// (the name functions), and an event's field carries the word instead of
// hashing the text.
template <size_t kCount, class NameOf>
std::array<sim::TraceName, kCount> TraceNames(NameOf name_of) {
  std::array<sim::TraceName, kCount> names;
  for (size_t i = 0; i < kCount; ++i) names[i] = sim::TraceName(std::string_view(name_of(i)));
  return names;
}

// MessageTypeName(type) with its digest word (0 and out of range: "UNKNOWN").
sim::TraceName TypeTraceName(MessageType type) {
  static const auto kNames = TraceNames<kMessageTypeMax + 1>(
      [](size_t i) { return MessageTypeName(static_cast<MessageType>(i)); });
  const size_t index = static_cast<size_t>(type);
  return index < kNames.size() ? kNames[index] : kNames[0];
}

}  // namespace

namespace {
// name(state) with its digest word, for a state enum whose last value is
// kLast (beyond it: the name hashed per call). `name` is the same function
// on every call for a given State (Dtc::StateName).
template <class State, State kLast>
sim::TraceName StateTraceNameOf(State state, const char* (*name)(State)) {
  constexpr size_t kStates = static_cast<size_t>(kLast) + 1;
  static const auto kNames = TraceNames<kStates>([name](size_t i) { return name(static_cast<State>(i)); });
  const size_t index = static_cast<size_t>(state);
  return index < kNames.size() ? kNames[index] : sim::TraceName(name(state));
}
}  // namespace

sim::TraceName Dtc::StateTraceName(CoordinatorState state) {
  return StateTraceNameOf<CoordinatorState, CoordinatorState::kAborting>(state, &StateName);
}

sim::TraceName Dtc::StateTraceName(ParticipantState state) {
  return StateTraceNameOf<ParticipantState, ParticipantState::kAborted>(state, &StateName);
}

// ---------------------------------------------------------------------------
// Start and recovery.

void Dtc::Start(std::function<void(NTSTATUS)> done) {
  KTM_ASSERT(!started_, "Dtc::Start called twice");
  started_ = true;
  start_done_ = std::move(done);
  client_.Start([this](const log::RecoveredLog& recovered) { Replay(recovered); },
                [this](NTSTATUS s, std::string_view error) {
                  if (s == STATUS_LOG_CORRUPTION_DETECTED || s == STATUS_UNEXPECTED_IO_ERROR) {
                    host_->TraceEvent("dist.start_failed", {{"status", StatusName(s)}, {"error", error}});
                  } else {
                    host_->TraceEvent("dist.rm_online", {{"status", StatusName(s)}});
                  }
                  if (NT_SUCCESS(s)) return;  // start_done_ runs at LAST_RECOVER
                  auto done = std::move(start_done_);
                  start_done_ = nullptr;
                  done(s);
                });
}

void Dtc::Replay(const log::RecoveredLog& recovered) {
  for (const auto& record : recovered.records) {
    Reader r(record.payload);
    switch (record.type) {
      case kRecBranch: {
        ReplayedBranch b;
        KTM_ASSERT(DecodeBranchRecord(r.Bytes(), &b.record), "dtc branch record does not decode");
        b.local = r.Id();
        replayed_[b.record.id] = b;
        break;
      }
      case kRecCommitted:
      case kRecEnded: {
        BranchRecord id;
        KTM_ASSERT(DecodeBranchRecord(r.Bytes(), &id), "dtc outcome record does not decode");
        auto it = replayed_.find(id.id);
        if (it == replayed_.end()) break;  // its branch record is before the base (a snapshot dropped it)
        if (record.type == kRecEnded) replayed_.erase(it);
        if (record.type == kRecCommitted) it->second.committed = true;
        break;
      }
      case kRecSnapshot: {
        replayed_.clear();
        uint32_t n = r.U32();
        for (uint32_t i = 0; i < n && r.ok(); ++i) {
          ReplayedBranch b;
          KTM_ASSERT(DecodeBranchRecord(r.Bytes(), &b.record), "dtc snapshot entry does not decode");
          b.local = r.Id();
          b.committed = r.U8() == 1;
          replayed_[b.record.id] = b;
        }
        break;
      }
      default:
        KTM_ASSERT(false, absl::StrCat("dtc log record of unknown type ", record.type));
    }
    KTM_ASSERT(r.done(), absl::StrCat("dtc log record of type ", record.type, " with a valid checksum does not decode"));
  }
  host_->TraceEvent("dist.replayed", {{"branches", absl::StrCat(replayed_.size())}});
}

void Dtc::OnNotification(const TRANSACTION_NOTIFICATION& n) {
  const uint32_t what = n.TransactionNotification;
  if (what == TRANSACTION_NOTIFY_RECOVER) return OnRecover(n);
  if (what == TRANSACTION_NOTIFY_RECOVER_QUERY) return OnRecoverQuery(n);
  if (what == TRANSACTION_NOTIFY_LAST_RECOVER) return OnLastRecover();
  if (auto it = outbound_keys_.find(n.TransactionKey); it != outbound_keys_.end()) {
    if (Outbound* b = FindOutbound(it->second)) OnCoordinatorNotification(*b, n);
    return;
  }
  if (auto it = inbound_keys_.find(n.TransactionKey); it != inbound_keys_.end()) {
    if (Inbound* b = FindInbound(it->second)) OnParticipantNotification(*b, n);
  }
  // Otherwise: a notification for a branch already forgotten (a duplicate).
}

void Dtc::OnLastRecover() {
  // Branches the log holds but KTM did not ask about: T' is no longer in
  // doubt. A committed one is over (KTM finished it, its end record is
  // durable); any other lost its T' in the crash before it voted: aborted.
  std::vector<ReplayedBranch> left;
  for (auto& [id, replayed] : replayed_) left.push_back(replayed);
  replayed_.clear();
  for (const ReplayedBranch& r : left) {
    if (r.committed) {
      AppendEnded(r.record.id);
      continue;
    }
    Inbound& b = inbound_[r.record.id];
    b.record = r.record;
    b.state = ParticipantState::kAborted;
    b.local_done = true;
    host_->TraceEvent("dist.state", {{"role", "participant"}, {"branch", BranchTraceName(r.record.id)},
                                     {"tx", r.record.root.Short()}, {"from", "log"}, {"to", "aborted"},
                                     {"why", "lost"}});
    SendAbortedNotice(b);
  }
  recovery_done_ = true;
  host_->TraceEvent("dist.online", {{"coordinator", absl::StrCat(outbound_.size())},
                                    {"participant", absl::StrCat(inbound_.size())}});
  if (start_done_) {
    auto done = std::move(start_done_);
    start_done_ = nullptr;
    Defer([done] { done(STATUS_SUCCESS); });
  }
}

// ---------------------------------------------------------------------------
// The log.

void Dtc::AppendEnded(const BranchId& id) {
  if (!log_ || log_->failed()) return;
  BranchRecord r;
  r.id = id;
  Writer w;
  w.Bytes(EncodeBranchRecord(r));
  (void)log_->Append(kRecEnded, w.data());  // lazy; a lost one only repeats an abort or a finished commit
  MaybeSnapshot();
}

void Dtc::MaybeSnapshot() {
  if (!log_ || log_->failed() || snapshot_in_flight_) return;
  if (log_->end_lsn() - log_->base_lsn() < disk_->size_bytes() / 4) return;
  Writer w;
  w.U32(static_cast<uint32_t>(inbound_.size() + replayed_.size()));
  for (const auto& [id, b] : inbound_) {
    w.Bytes(EncodeBranchRecord(b.record));
    w.Id(b.local);
    w.U8(b.commit_appended ? 1 : 0);
  }
  for (const auto& [id, r] : replayed_) {
    w.Bytes(EncodeBranchRecord(r.record));
    w.Id(r.local);
    w.U8(r.committed ? 1 : 0);
  }
  auto lsn = log_->Append(kRecSnapshot, w.data());
  if (!lsn.ok()) return;
  snapshot_in_flight_ = true;
  host_->TraceEvent("dist.snapshot", {{"base", absl::StrCat(*lsn)}});
  std::weak_ptr<bool> alive = alive_;
  log_->WriteRestartArea({}, *lsn, [this, alive](absl::Status) {
    if (auto a = alive.lock(); a && *a) snapshot_in_flight_ = false;
  });
}

// ---------------------------------------------------------------------------
// The network.

void Dtc::OnDatagram(uint32_t from, const std::vector<uint8_t>& payload) {
  Message m;
  if (!Decode(payload, &m) || m.from != from) {
    ++stats_.dropped;
    host_->TraceEvent("dist.drop", {{"from", absl::StrCat(from)}, {"reason", "malformed"}});
    return;
  }
  ++stats_.received;
  TraceMessage("dist.recv", m, host_->id());
  if (!Admit(m)) return;
  Dispatch(m);
}

bool Dtc::Admit(const Message& m) {
  const char* reason = nullptr;
  uint64_t& known = peer_incarnation_[m.from];
  const bool to_coordinator = m.type == MessageType::kPropagateReply || m.type == MessageType::kOpReply ||
                              m.type == MessageType::kPrePrepared || m.type == MessageType::kPrepared ||
                              m.type == MessageType::kCommitted || m.type == MessageType::kAborted ||
                              m.type == MessageType::kInquiry;
  if (!recovery_done_) {
    reason = "recovering";
  } else if (m.to_incarnation != 0 && m.to_incarnation != host_->incarnation()) {
    reason = "stale_receiver";
  } else if (m.from_incarnation < known) {
    reason = "stale_sender";
  } else if (to_coordinator ? m.branch.coordinator != host_->id() : m.branch.coordinator != m.from) {
    reason = "misrouted";
  }
  if (reason != nullptr) {
    ++stats_.dropped;
    host_->TraceEvent("dist.drop", {{"from", absl::StrCat(m.from)}, {"type", MessageTypeName(m.type)},
                                    {"msg", absl::StrCat(m.id)}, {"reason", reason}});
    return false;
  }
  if (m.from_incarnation > known) {
    const bool restarted = known != 0;
    known = m.from_incarnation;
    if (restarted) OnCoordinatorRestarted(m.from, m.from_incarnation);
  }
  return true;
}

void Dtc::Dispatch(const Message& m) {
  switch (m.type) {
    case MessageType::kPropagate: return OnPropagate(m);
    case MessageType::kOp: return OnOp(m);
    case MessageType::kPrePrepare: return OnPrePrepare(m);
    case MessageType::kPrepare: return OnPrepare(m);
    case MessageType::kCommit: return OnDecision(m, true);
    case MessageType::kAbort: return OnDecision(m, false);
    case MessageType::kOutcome: return OnOutcome(m);
    case MessageType::kPropagateReply: return OnPropagateReply(m);
    case MessageType::kOpReply: return OnOpReply(m);
    case MessageType::kPrePrepared:
    case MessageType::kPrepared:
    case MessageType::kCommitted: return OnPhaseReply(m);
    case MessageType::kAborted: return OnParticipantAborted(m);
    case MessageType::kInquiry: return OnInquiry(m);
  }
}

Message Dtc::MakeMessage(MessageType type, const BranchRecord& record) const {
  Message m;
  m.type = type;
  m.branch = record.id;
  m.root = record.root;
  return m;
}

void Dtc::Send(uint32_t to, Message& m) {
  KTM_ASSERT(to != host_->id(), "Dtc sends to itself");
  KTM_ASSERT(m.rm.size() <= kStringBytesMax && m.key.size() <= kStringBytesMax && m.value.size() <= kStringBytesMax,
             "Dtc message string over the limit");
  m.from = host_->id();
  m.from_incarnation = host_->incarnation();
  m.id = next_message_id_++;
  TraceMessage("dist.send", m, to);
  ++stats_.sent;
  host_->Send(to, Encode(m));
}

void Dtc::Reply(const Message& request, Message reply) {
  reply.reply_to = request.id;
  reply.to_incarnation = request.from_incarnation;
  Send(request.from, reply);
}

namespace {

// A number's decimal text in a stack buffer, for a trace field that records
// it as text (as absl::StrCat renders it; no allocation).
class DecimalText {
 public:
  explicit DecimalText(uint64_t value) : size_(std::to_chars(text_, text_ + sizeof text_, value).ptr - text_) {}
  std::string_view view() const { return {text_, size_}; }

 private:
  char text_[20];
  size_t size_;
};

}  // namespace

sim::TraceName Dtc::BranchTraceName(const BranchId& id) {
  BranchNameSlot& slot = branch_names_[(id.sequence ^ id.coordinator) % kBranchNameSlots];
  if (slot.id != id || !slot.text) {
    slot.id = id;
    slot.text.emplace(id);
    slot.hash = sim::TraceTextHash(slot.text->view());
  }
  sim::TraceName name;
  name.text = slot.text->view();
  name.hash = slot.hash;
  return name;
}

namespace {

// Host ids' decimal texts with their digest words, built at compile time
// for the ids below kHostNamesMax (every message event names two hosts).
constexpr uint32_t kHostNamesMax = 100;
struct HostDigits {
  char text[kHostNamesMax][2] = {};
};
constexpr HostDigits MakeHostDigits() {
  HostDigits digits;
  for (uint32_t i = 0; i < kHostNamesMax; ++i) {
    digits.text[i][0] = static_cast<char>(i < 10 ? '0' + i : '0' + i / 10);
    digits.text[i][1] = static_cast<char>(i < 10 ? 0 : '0' + i % 10);
  }
  return digits;
}
constexpr HostDigits kHostDigits = MakeHostDigits();
constexpr std::array<sim::TraceName, kHostNamesMax> MakeHostNames() {
  std::array<sim::TraceName, kHostNamesMax> names;
  for (uint32_t i = 0; i < kHostNamesMax; ++i) names[i] = sim::TraceName(std::string_view(kHostDigits.text[i], i < 10 ? 1 : 2));
  return names;
}
constexpr std::array<sim::TraceName, kHostNamesMax> kHostNames = MakeHostNames();
static_assert(kHostNames[42].text == "42" && kHostNames[42].hash == sim::TraceTextHash("42"));

// A host id's trace name: from the table, or formatted into `text`.
sim::TraceName HostTraceName(uint32_t host, std::optional<DecimalText>& text) {
  if (host < kHostNamesMax) return kHostNames[host];
  return sim::TraceName(text.emplace(host).view());
}

// OutcomeName(outcome) with its digest word.
sim::TraceName OutcomeTraceName(Outcome outcome) {
  static const auto kNames = TraceNames<4>([](size_t i) { return OutcomeName(static_cast<Outcome>(i)); });
  const size_t index = static_cast<size_t>(outcome);
  return index < kNames.size() ? kNames[index] : kNames[0];
}

}  // namespace

void Dtc::TraceMessage(sim::TraceName kind, const Message& m, uint32_t to) {
  // The fields as one fixed list per shape of message (RecordEach: the
  // digest step inline, its keys and types constants), the names with their
  // digest words from tables and caches. The texts live in these locals (or
  // the caches) until the event is recorded; the optional fields' texts are
  // made only for the messages that carry them.
  std::optional<DecimalText> from_text, to_text, reply_to, op;
  const DecimalText id(m.id);
  auto record = [&](const auto&... extra) {
    host_->trace()->RecordEach(host_->scheduler()->Now(), host_->id(), kind,
                               sim::TraceField("from", HostTraceName(m.from, from_text)),
                               sim::TraceField("to", HostTraceName(to, to_text)),
                               sim::TraceField("type", TypeTraceName(m.type)),
                               sim::TraceField("tx", sim::TraceHex(m.root.Short())),
                               sim::TraceField("branch", BranchTraceName(m.branch)), sim::TraceField("msg", id.view()),
                               extra...);
  };
  auto with_reply_to = [&](const auto&... extra) {
    if (m.reply_to == 0) return record(extra...);
    record(sim::TraceField("reply_to", reply_to.emplace(m.reply_to).view()), extra...);
  };
  auto status = [&] {
    if (!traced_status_valid_ || traced_status_ != m.status) {
      traced_status_name_ = StatusName(m.status);
      traced_status_hash_ = sim::TraceTextHash(traced_status_name_);
      traced_status_ = m.status;
      traced_status_valid_ = true;
    }
    sim::TraceName name;
    name.text = traced_status_name_;
    name.hash = traced_status_hash_;
    return sim::TraceField("status", name);
  };
  switch (m.type) {
    case MessageType::kOutcome:
      return with_reply_to(sim::TraceField("outcome", OutcomeTraceName(m.outcome)));
    case MessageType::kOp:
      return with_reply_to(sim::TraceField("op", op.emplace(m.op_sequence).view()));
    case MessageType::kOpReply:
      return with_reply_to(sim::TraceField("op", op.emplace(m.op_sequence).view()), status());
    case MessageType::kPropagateReply:
      return with_reply_to(status());
    default:
      return with_reply_to();
  }
}

// ---------------------------------------------------------------------------
// Timers.

void Dtc::CancelTimer(sim::EventId* timer) {
  if (*timer != sim::kNoEvent) host_->Cancel(*timer);
  *timer = sim::kNoEvent;
}

sim::TimeNs Dtc::NextBackoff(sim::TimeNs backoff) const {
  if (backoff <= 0) return options_.retransmit_initial_ns;
  return std::min(options_.backoff_max_ns, 2 * backoff);
}

}  // namespace ktm::dist
