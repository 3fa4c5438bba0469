// Scheduler: the single-threaded event loop of one simulated world.
//
// Contract: events run in (time, sequence) order, where sequence is the order
// in which they were scheduled; the same calls give the same order, always.
// Virtual time only moves forward, to the time of the event being run. An
// event may schedule more events (at >= Now()). Cancel() of an event that
// already ran or was cancelled returns false and does nothing.
// Limit: events_max bounds the number of events a world may run (a runaway
// loop is an error, not a hang): Step() asserts when it is exceeded.
//
// Ties. Events due at the same virtual time are "concurrent": which runs
// first is a scheduling decision (docs/scheduling.md). ScheduleOptions picks
// the strategy: kFifo (the default) runs them in scheduling order, as above;
// kRandom picks uniformly among them; kPct runs the one whose chain has the
// highest priority (Burckhardt et al.'s PCT with depth d). Random and PCT
// draw only from the Rng given in ScheduleOptions, so a seed still decides
// everything. Fifo draws nothing: its order is the one documented above.
//
// Chains. Every event belongs to a chain (an actor: a host's TM, an RM, the
// client). An event scheduled with At/After joins the chain of the event
// that is running (chain 0 outside any event); AtInChain names the chain.
// Chain(name) interns a name into a stable id (1, 2, ... in first-use order).
// Only PCT looks at chains; within one chain ties stay in scheduling order.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sim/function.h"
#include "sim/rng.h"
#include "sim/time.h"

namespace sim {

using EventId = uint64_t;
constexpr EventId kNoEvent = 0;

enum class ScheduleStrategy : uint8_t { kFifo, kRandom, kPct };

// "fifo", "random", "pct".
const char* ScheduleStrategyName(ScheduleStrategy strategy);
// false for an unknown name.
bool ParseScheduleStrategy(std::string_view name, ScheduleStrategy* out);

struct ScheduleOptions {
  ScheduleStrategy strategy = ScheduleStrategy::kFifo;
  uint64_t seed = 0;               // random, pct: the tie-breaking stream's seed
  uint32_t pct_depth = 3;          // pct: d; d-1 priority change points
  // pct: the change points are drawn uniformly in [0, pct_steps_expected)
  // choice points (ties among >= 2 events). An estimate of a run's choice
  // points: too large only makes change points rarer.
  uint64_t pct_steps_expected = 2000;
};

// What the strategy did, for reports and tests.
struct ScheduleStats {
  uint64_t choice_points = 0;      // steps where >= 2 events were due at once
  uint64_t reordered = 0;          // choice points where the chosen event was not the fifo one
  uint64_t change_points_hit = 0;  // pct: priority changes applied
  uint64_t chains = 0;             // chains seen (interned or inherited)
};

class Scheduler {
 public:
  explicit Scheduler(uint64_t events_max = UINT64_MAX, const ScheduleOptions& schedule = {});
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  TimeNs Now() const { return now_; }

  // Run fn at absolute time t (t >= Now()). Returns an id for Cancel.
  // fn: any callable (a lambda, a std::function, a sim::Callback); it is
  // constructed straight into the event's slot (templates: no temporary
  // Callback, no indirect move on the way), and captures up to
  // Callback::inline_bytes cost no allocation.
  template <class F>
  EventId At(TimeNs t, F&& fn) {
    return Emplace(t, current_chain_, 0, nullptr, 0, std::forward<F>(fn));
  }
  // Run fn after delay (>= 0) from Now().
  template <class F>
  EventId After(TimeNs delay, F&& fn) {
    return Emplace(now_ + delay, current_chain_, 0, nullptr, 0, std::forward<F>(fn));
  }
  // Run fn at Now(), after every other event due at Now(): also after the
  // ones scheduled at Now() while the instant runs (At/After(0) chains),
  // which a plain After(0) would not wait for. The end of the instant is the
  // moment no event is due at Now() any more; several such events run in
  // scheduling order among themselves (random and PCT choose among them, but
  // never put one before an ordinary event of the same instant). An ordinary
  // event one schedules at Now() runs before the next of them. For work that
  // should see everything the instant produced: group commit (ktm/log).
  template <class F>
  EventId AtEndOfInstant(F&& fn) {
    return Emplace(now_, current_chain_, kEndOfInstantBit, nullptr, 0, std::forward<F>(fn));
  }
  // At, in the named chain (see Chain) instead of the running event's.
  template <class F>
  EventId AtInChain(TimeNs t, uint32_t chain, F&& fn) {
    return Emplace(t, chain, 0, nullptr, 0, std::forward<F>(fn));
  }
  template <class F>
  EventId AfterInChain(TimeNs delay, uint32_t chain, F&& fn) {
    return Emplace(now_ + delay, chain, 0, nullptr, 0, std::forward<F>(fn));
  }
  // AtInChain with a guard: when the event's time comes, fn runs only if
  // *guard == value then (the event still counts as run, at its time, as if
  // fn had returned at once). For an owner that outlives the scheduler's
  // events and invalidates its timers in bulk by changing one word (Host:
  // crash and restart) without wrapping every callback in another.
  template <class F>
  EventId AtInChainGuarded(TimeNs t, uint32_t chain, const uint64_t* guard, uint64_t value, F&& fn) {
    return Emplace(t, chain, 0, guard, value, std::forward<F>(fn));
  }
  // The id of a chain name: the same name always gives the same id in one
  // scheduler (ids 1, 2, ... in first-use order; 0 is the top level).
  uint32_t Chain(std::string_view name);
  // The chain of the event that is running (0 outside events).
  uint32_t current_chain() const { return current_chain_; }
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
  // Derived from the queues' sizes and stale_ (no counter to keep per event).
  uint64_t pending() const { return heap_size_ + now_size_ - stale_; }
  uint64_t events_run() const { return events_max_ - events_left_; }
  const ScheduleOptions& schedule_options() const { return schedule_; }
  const ScheduleStats& schedule_stats() const { return stats_; }

 private:
  // Implementation detail: the implementer may change everything below.
  // An end-of-instant event is an entry with kEndOfInstantBit set in its
  // sequence: (time, sequence) order then puts it after every ordinary entry
  // of its time. Callbacks live in reusable slots (no per-event allocation
  // for captures up to Callback::inline_bytes); the heap holds small (time,
  // sequence, slot) entries, but for fifo's events due at Now(), which wait
  // in the now queue. A slot holds the sequence of its pending event (0 while
  // it has none): an entry whose sequence differs is stale (its event was
  // cancelled, the slot perhaps reused); stale entries are skipped when they
  // surface (and compacted when they outnumber the live ones). An EventId is
  // (generation << 32 | slot index + 1): Cancel frees the slot at once and
  // bumps its generation, so an old id never cancels the slot's next event.
  static constexpr uint64_t kEndOfInstantBit = uint64_t{1} << 63;
  struct Slot {
    Callback fn;
    const uint64_t* guard = nullptr;  // see AtInChainGuarded; nullptr while the slot is free
    uint64_t guard_value = 0;
    uint64_t sequence = 0;  // of the pending event (end-of-instant bit included); 0: none
    Slot* next_free = nullptr;  // while free: the next free slot
    // Ids are (generation << 32 | index + 1): never 0 (kNoEvent), whatever
    // the generation, which may wrap around.
    uint32_t generation = 1;
    uint32_t chain = 0;
    uint32_t index = 0;  // in slot_chunks_ (SlotAt)
  };
  struct Entry {
    TimeNs time;
    uint64_t sequence;
    Slot* slot;
  };
  // An entry of the now queue: due at Now(), its time implied.
  struct NowEntry {
    uint64_t sequence;
    Slot* slot;
  };
  static EventId IdOf(const Slot& s) {
    return (static_cast<uint64_t>(s.generation) << 32) | (static_cast<uint64_t>(s.index) + 1);
  }
  // Slots live in fixed-size chunks (stable addresses): an event runs in its
  // slot, which is freed for reuse only after the callback returns; entries
  // and the free list point at slots, an index is only for ids. Every public
  // entry point is a template over the callable that ends here: a slot is
  // taken (inline when one is free), the callable constructed in it, and
  // Enqueue (out of line) checks and files the event. One construction of
  // the caller's lambda in place. The id is made here, after the call, so a
  // caller that drops it (most) pays nothing for it.
  template <class F>
  [[gnu::always_inline]] EventId Emplace(TimeNs t, uint32_t chain, uint64_t end_of_instant_bit,
                                         const uint64_t* guard, uint64_t guard_value, F&& fn) {
    // Known at compile time for After(0) (the usual way to schedule for
    // Now()): no test left in the caller. Decided before the callable is
    // built, whose stores would make the compiler read now_ again.
    const bool due_now = t == now_ && end_of_instant_bit == 0;
    Slot* s = free_slot_;
    if (s != nullptr) [[likely]] {
      free_slot_ = s->next_free;
    } else {
      s = NewSlot();
    }
    // A free slot's callback is empty (Step and Cancel leave it so).
    s->fn.EmplaceIntoEmpty(std::forward<F>(fn));
    // A lambda is never empty: the test folds away but for a std::function,
    // a pointer or a Callback handed in.
    if (!s->fn) [[unlikely]] Fail("At: empty callback");
    // A free slot has no guard (Step and Cancel clear it): only the guarded
    // entry point (a constant elsewhere) stores one.
    if (guard != nullptr) {
      s->guard = guard;
      s->guard_value = guard_value;
    }
    if (due_now) {
      EnqueueNow(chain, *s);
    } else {
      Enqueue(t, chain, end_of_instant_bit, *s);
    }
    return IdOf(*s);
  }
  Slot* NewSlot();
  // Files the event of a taken slot whose callback (and guard) is in place
  // (or aborts when t is in the past).
  void Enqueue(TimeNs t, uint32_t chain, uint64_t end_of_instant_bit, Slot& s);
  // Enqueue of an ordinary event due at Now(): into the now queue, if it has
  // room (fifo only), else Enqueue.
  void EnqueueNow(uint32_t chain, Slot& s);
  // The checks and bookkeeping of a taken slot's event; returns its sequence.
  uint64_t File(Slot& s, TimeNs t, uint32_t chain, uint64_t end_of_instant_bit);
  // Pops stale entries off the top of the heap and the front of the now
  // queue; true if a live one remains.
  bool SkipStale();
  void PopStaleFronts();  // SkipStale's loops, when Cancel left entries behind
  bool NowFrontStale() const { return now_size_ != 0 && IsStale(now_queue_[now_head_]); }
  bool HeapTopStale() const { return heap_size_ != 0 && IsStale(heap_[0]); }
  // The time of the next entry to run (SkipStale first: one is pending).
  TimeNs TopTime() const;
  // Whether the next entry to run in (time, sequence) order is the now
  // queue's front (else the heap's top).
  bool TopInNowQueue() const;
  template <class E>  // Entry or NowEntry
  static bool IsStale(const E& entry) { return entry.slot->sequence != entry.sequence; }
  // Step's body, inline in Step and the run loops (no call per event); kFifo
  // is schedule_.strategy == kFifo, decided once per loop.
  template <bool kFifo>
  bool StepInline();
  void FreeSlot(Slot& s);
  void CompactIfMostlyStale();
  void HeapPush(const Entry& entry);  // needs room: heap_size_ < heap_.size()
  void HeapPop();
  void GrowHeap();
  void GrowHeapAndEnqueue(TimeNs t, uint32_t chain, uint64_t end_of_instant_bit, Slot& s);
  [[noreturn]] void Fail(const char* what) const;
  // Random and PCT: takes the live entries due at the earliest time off the
  // heap, picks one by the strategy, puts the others back; returns the pick.
  Entry PickAmongTies();
  size_t PickRandom(const std::vector<Entry>& ties);
  size_t PickPct(const std::vector<Entry>& ties);
  // PCT: the chain's rank in priorities_ (inserting it at a random rank the
  // first time it is seen).
  size_t PctRank(uint32_t chain);

  TimeNs now_ = 0;
  uint64_t next_sequence_ = 1;
  // Counts down from events_max to 0 (events_run() is the difference): one
  // test and one decrement an event.
  uint64_t events_left_;
  uint64_t events_max_;
  uint64_t stale_ = 0;  // cancelled entries still in the heap or the now queue
  // Cancel compacts once at least this many entries are stale and they are
  // at least half of all.
  static constexpr uint64_t kCompactStaleMin = 16;
  std::vector<Entry> heap_;  // storage: its first heap_size_ entries are a 4-ary min-heap on (time, sequence)
  size_t heap_size_ = 0;
  size_t heap_capacity_ = 0;  // heap_.size()
  // The now queue (fifo only): ordinary events scheduled for Now() itself,
  // in scheduling order, so ascending (time, sequence) and after every heap
  // entry of their time but for end-of-instant ones. Nearly half of a suite
  // run's events are such (After(0): a completion handed on through the
  // scheduler); a ring takes and gives them back in a few instructions
  // instead of a heap push that climbs to the top and a pop that sinks
  // through every level. It is empty whenever Now() moves on (its entries
  // are due at Now()). Which of the two holds an entry changes nothing
  // (the next event is the least of both): a full ring leaves the entry to
  // the heap. The ring grows with the heap (GrowHeap).
  std::vector<NowEntry> now_queue_;  // a ring as large as heap_ (a power of two), fifo only
  size_t now_capacity_ = 0;       // now_queue_.size(): 0 but under fifo
  size_t now_mask_ = 0;           // now_capacity_ - 1
  size_t now_head_ = 0;           // index of the front in now_queue_
  size_t now_size_ = 0;
  void PopNowQueue() {
    now_head_ = (now_head_ + 1) & now_mask_;
    --now_size_;
  }
  static constexpr uint32_t kSlotChunkBits = 6;  // 64 slots per chunk
  Slot& SlotAt(uint32_t index) { return slot_chunks_[index >> kSlotChunkBits][index & ((1u << kSlotChunkBits) - 1)]; }
  std::vector<std::unique_ptr<Slot[]>> slot_chunks_;
  uint32_t slot_count_ = 0;  // slots ever created (all of slot_chunks_' first slot_count_)
  Slot* free_slot_ = nullptr;  // free slots, a list through Slot::next_free, the last freed first

  ScheduleOptions schedule_;
  ScheduleStats stats_;
  Rng rng_;
  uint32_t current_chain_ = 0;
  std::map<std::string, uint32_t, std::less<>> chain_ids_;
  std::vector<Entry> ties_;                 // scratch for PickAmongTies
  std::vector<uint32_t> priorities_;        // pct: chains not lowered, highest priority first
  std::vector<uint32_t> lowered_;           // pct: chains lowered at change points, in that order
  std::vector<uint64_t> change_points_;     // pct: choice-point indexes, ascending
  size_t next_change_point_ = 0;
};

}  // namespace sim
