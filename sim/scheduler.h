// Scheduler: the single-threaded event loop of one simulated world.
//
// Contract: events run in (time, sequence) order, where sequence is the order
// in which they were scheduled; the same calls give the same order, always.
// Virtual time only moves forward, to the time of the event being run. An
// event may schedule more events (at >= Now()). Cancel() of an event that
// already ran or was cancelled returns false and does nothing.
// Limit: events_max bounds the number of events a world may run (a runaway
// loop is an error, not a hang): Step() asserts when it is exceeded.
#pragma once

#include <cstdint>
#include <functional>
#include <queue>
#include <vector>

#include "sim/time.h"

namespace sim {

using EventId = uint64_t;
constexpr EventId kNoEvent = 0;

class Scheduler {
 public:
  explicit Scheduler(uint64_t events_max = UINT64_MAX) : events_max_(events_max) {}
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  TimeNs Now() const { return now_; }

  // Run fn at absolute time t (t >= Now()). Returns an id for Cancel.
  EventId At(TimeNs t, std::function<void()> fn);
  // Run fn after delay (>= 0) from Now().
  EventId After(TimeNs delay, std::function<void()> fn) { return At(now_ + delay, std::move(fn)); }
  // Cancel a pending event. True if it was pending.
  bool Cancel(EventId id);

  // Run the next event; false when none is pending.
  bool Step();
  // Run every event with time <= t, then set Now() to t.
  void RunUntil(TimeNs t);
  void RunFor(TimeNs duration) { RunUntil(now_ + duration); }
  // Run until no event is pending or `limit` events ran. Returns events run.
  uint64_t RunUntilIdle(uint64_t limit = UINT64_MAX);

  // Time of the next pending event, kTimeNever if none.
  TimeNs NextEventTime();
  uint64_t pending() const { return pending_; }
  uint64_t events_run() const { return events_run_; }

 private:
  // Implementation detail: the implementer may change everything below.
  // Callbacks live in reusable slots (no per-event allocation beyond what
  // std::function needs); the heap holds small (time, sequence, slot,
  // generation) entries. An EventId is (generation << 32 | slot + 1): Cancel
  // frees the slot at once and bumps its generation, which turns the heap
  // entry stale; stale entries are skipped when they surface (and compacted
  // when they outnumber the live ones).
  struct Entry {
    TimeNs time;
    uint64_t sequence;
    uint32_t slot;
    uint32_t generation;
  };
  struct Slot {
    std::function<void()> fn;
    uint32_t generation = 1;
    bool live = false;
  };
  // Pops stale entries off the top of the heap; true if a live one remains.
  bool SkipStale();
  void FreeSlot(uint32_t slot);
  void CompactIfMostlyStale();
  void HeapPush(const Entry& entry);
  void HeapPop();
  [[noreturn]] void Fail(const char* what) const;

  TimeNs now_ = 0;
  uint64_t next_sequence_ = 1;
  uint64_t pending_ = 0;
  uint64_t events_run_ = 0;
  uint64_t events_max_;
  uint64_t stale_in_heap_ = 0;
  std::vector<Entry> heap_;  // 4-ary min-heap on (time, sequence)
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_slots_;
};

}  // namespace sim
