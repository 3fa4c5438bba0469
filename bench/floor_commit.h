// The floor: the least work a simulated commit can cost, to compare the
// engine against (issue 19). A presumed-abort commit over `rms` resource
// managers (2PC) or one RM (single-phase), as a chain of events in a
// binary-heap event loop whose events are plain function pointers with one
// integer argument: no trace, no digest, no log encoding, no allocation once
// the heap and the log buffers have grown to their working size.
//
// 2 RMs, 2PC (18 events): begin, one write per RM and its enlistment at the
// TM, commit request, PREPARE to each RM, each RM forces a prepare record (disk completion
// event), votes yes, the TM forces its commit record, sends COMMIT to each
// RM, each RM writes its commit record and acknowledges, the TM writes its
// end record and completes the client's commit. Presumed abort: nothing is
// logged for a transaction until its RMs prepare.
// 1 RM, single-phase (8 events): begin, write, enlist, commit request, the TM asks the
// RM to commit in one phase, the RM forces its commit record, reports
// committed, the TM completes the client's commit.
//
// Each "log record" is a few bytes appended to a per-participant buffer that
// is reset when it passes a bound, so the work stays constant per commit.
// Timing belongs in bench/, never in tests.
#pragma once

#include <cstdint>
#include <cstring>
#include <queue>
#include <vector>

namespace bench {

class FloorWorld {
 public:
  using Handler = void (*)(FloorWorld&, uint32_t);

  explicit FloorWorld(uint32_t rms) : rms_(rms), logs_(rms + 1) {
    std::vector<Event> storage;
    storage.reserve(kEventsInFlightMax);
    queue_ = Queue(Later{}, std::move(storage));
    for (auto& log : logs_) log.reserve(kLogBytesMax + kRecordBytes);
  }

  // One commit from begin to the client's completion; true if it committed.
  bool CommitOne() {
    committed_ = false;
    votes_ = 0;
    acks_ = 0;
    At(0, &Begin, 0);
    while (!queue_.empty()) {
      const Event event = queue_.top();
      queue_.pop();
      now_ns_ = event.time_ns;
      ++events_;
      event.handler(*this, event.argument);
    }
    return committed_;
  }
  uint64_t events() const { return events_; }

 private:
  static constexpr size_t kEventsInFlightMax = 64;
  static constexpr size_t kLogBytesMax = 4096;
  static constexpr size_t kRecordBytes = 24;
  static constexpr uint32_t kTm = 0xffffffffu;  // the argument naming the TM's log
  static constexpr int64_t kMessageNs = 10'000;
  static constexpr int64_t kForceNs = 100'000;

  struct Event {
    int64_t time_ns;
    uint64_t sequence;  // ties: scheduling order, as in sim::Scheduler
    Handler handler;
    uint32_t argument;
  };
  struct Later {
    bool operator()(const Event& a, const Event& b) const {
      return a.time_ns != b.time_ns ? a.time_ns > b.time_ns : a.sequence > b.sequence;
    }
  };
  using Queue = std::priority_queue<Event, std::vector<Event>, Later>;

  void At(int64_t delay_ns, Handler handler, uint32_t argument) {
    queue_.push(Event{now_ns_ + delay_ns, sequence_++, handler, argument});
  }
  void Log(uint32_t who, uint8_t type) {
    std::vector<uint8_t>& log = logs_[who == kTm ? rms_ : who];
    if (log.size() >= kLogBytesMax) log.clear();
    uint8_t record[kRecordBytes] = {type};
    std::memcpy(record + 8, &transaction_, sizeof transaction_);
    std::memcpy(record + 16, &now_ns_, sizeof now_ns_);
    log.insert(log.end(), record, record + kRecordBytes);
  }

  // ---- client ----
  static void Begin(FloorWorld& w, uint32_t) {
    ++w.transaction_;
    for (uint32_t rm = 0; rm < w.rms_; ++rm) w.At(kMessageNs, &Write, rm);
    w.At(3 * kMessageNs, &CommitRequest, 0);
  }
  static void Write(FloorWorld& w, uint32_t rm) { w.At(kMessageNs, &Enlist, rm); }
  static void Enlist(FloorWorld& w, uint32_t rm) { w.enlisted_ |= 1u << rm; }
  static void CommitRequest(FloorWorld& w, uint32_t) {
    if (w.rms_ == 1) {
      w.At(kMessageNs, &SinglePhase, 0);
      return;
    }
    for (uint32_t rm = 0; rm < w.rms_; ++rm) w.At(kMessageNs, &Prepare, rm);
  }
  static void Complete(FloorWorld& w, uint32_t) {
    w.committed_ = true;
    w.enlisted_ = 0;
  }

  // ---- 2PC ----
  static void Prepare(FloorWorld& w, uint32_t rm) {
    w.Log(rm, 1);
    w.At(kForceNs, &PrepareForced, rm);
  }
  static void PrepareForced(FloorWorld& w, uint32_t rm) { w.At(kMessageNs, &Vote, rm); }
  static void Vote(FloorWorld& w, uint32_t) {
    if (++w.votes_ < w.rms_) return;
    w.Log(kTm, 2);
    w.At(kForceNs, &CommitForced, 0);
  }
  static void CommitForced(FloorWorld& w, uint32_t) {
    for (uint32_t rm = 0; rm < w.rms_; ++rm) w.At(kMessageNs, &Commit, rm);
  }
  static void Commit(FloorWorld& w, uint32_t rm) {
    w.Log(rm, 3);
    w.At(kMessageNs, &Acknowledge, rm);
  }
  static void Acknowledge(FloorWorld& w, uint32_t) {
    if (++w.acks_ < w.rms_) return;
    w.Log(kTm, 4);
    w.At(0, &Complete, 0);
  }

  // ---- single phase ----
  static void SinglePhase(FloorWorld& w, uint32_t) {
    w.Log(0, 5);
    w.At(kForceNs, &SinglePhaseForced, 0);
  }
  static void SinglePhaseForced(FloorWorld& w, uint32_t) { w.At(kMessageNs, &RmCommitted, 0); }
  static void RmCommitted(FloorWorld& w, uint32_t) { w.At(kMessageNs, &Complete, 0); }

  const uint32_t rms_;
  std::vector<std::vector<uint8_t>> logs_;  // one per RM, then the TM's
  Queue queue_;
  int64_t now_ns_ = 0;
  uint64_t sequence_ = 0;
  uint64_t events_ = 0;
  uint64_t transaction_ = 0;
  uint32_t enlisted_ = 0;
  uint32_t votes_ = 0;
  uint32_t acks_ = 0;
  bool committed_ = false;
};

}  // namespace bench
