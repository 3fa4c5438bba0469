// Scheduler: the event loop of one world.
//
// Events run in (time, sequence) order; an end-of-instant event carries the
// top bit in its sequence, so it sorts after every ordinary event of its
// time. Callbacks are stored in reusable slots; the heap holds 24-byte
// entries, so scheduling and running an event costs no allocation beyond
// std::function's own (none for small captures). Under fifo, ordinary events
// due at Now() skip the heap: a ring (the now queue) keeps them in
// scheduling order, and the next event is the smaller of its front and the
// heap's top. Cancel is O(1): it frees the slot and leaves a stale entry
// behind (in the heap or the ring), recognised by its sequence (the slot no
// longer holds it).
// events_max is a hard limit: running past it is a runaway simulation and
// aborts with a message.
//
// Random and PCT tie-breaking take every live entry due at the earliest time
// off the heap, choose one and push the rest back (their sequence numbers are
// unchanged, so fifo order among the rest is kept). That costs O(k log n) per
// step for k tied events; fifo skips it and stays on the plain heap path.
#include "sim/scheduler.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/strings/str_format.h"
#include "sim/invariant.h"

namespace sim {
namespace {

// (time, sequence) order as one unsigned 128-bit comparison (times are >= 0):
// a compare and a subtract-with-borrow, no branch between the two keys.
[[gnu::always_inline]] inline bool Before(TimeNs time_a, uint64_t seq_a, TimeNs time_b, uint64_t seq_b) {
  using Key = unsigned __int128;
  return ((Key{static_cast<uint64_t>(time_a)} << 64) | seq_a) < ((Key{static_cast<uint64_t>(time_b)} << 64) | seq_b);
}

// The heap's order on entries.
template <class Entry>
[[gnu::always_inline]] inline bool Before(const Entry& a, const Entry& b) {
  return Before(a.time, a.sequence, b.time, b.sequence);
}

}  // namespace

const char* ScheduleStrategyName(ScheduleStrategy strategy) {
  switch (strategy) {
    case ScheduleStrategy::kFifo: return "fifo";
    case ScheduleStrategy::kRandom: return "random";
    case ScheduleStrategy::kPct: return "pct";
  }
  return "fifo";
}

bool ParseScheduleStrategy(std::string_view name, ScheduleStrategy* out) {
  for (ScheduleStrategy s : {ScheduleStrategy::kFifo, ScheduleStrategy::kRandom, ScheduleStrategy::kPct}) {
    if (name == ScheduleStrategyName(s)) {
      *out = s;
      return true;
    }
  }
  return false;
}

Scheduler::Scheduler(uint64_t events_max, const ScheduleOptions& schedule)
    : events_left_(events_max), events_max_(events_max), schedule_(schedule), rng_(schedule.seed) {
  if (schedule_.strategy != ScheduleStrategy::kPct) return;
  if (schedule_.pct_depth == 0) Fail("pct_depth must be >= 1");
  if (schedule_.pct_steps_expected == 0) Fail("pct_steps_expected must be >= 1");
  // PCT: d-1 change points, uniform over the expected choice points.
  for (uint32_t i = 1; i < schedule_.pct_depth; ++i) {
    change_points_.push_back(rng_.Uniform(schedule_.pct_steps_expected));
  }
  std::sort(change_points_.begin(), change_points_.end());
}

uint32_t Scheduler::Chain(std::string_view name) {
  auto it = chain_ids_.find(name);
  if (it != chain_ids_.end()) return it->second;
  const uint32_t id = static_cast<uint32_t>(chain_ids_.size()) + 1;
  chain_ids_.emplace(std::string(name), id);
  return id;
}

[[gnu::noinline, gnu::cold]] void Scheduler::Fail(const char* what) const {
  if (InvariantTrapped()) {
    FailInvariant("sim::Scheduler", absl::StrFormat("%s (now=%dns, events_run=%d, events_max=%d, pending=%d)", what,
                                                    now_, events_run(), events_max_, pending()),
                  __FILE__, __LINE__);
  }
  std::fprintf(stderr,
               "sim::Scheduler: %s (now=%" PRId64 "ns, events_run=%" PRIu64 ", events_max=%" PRIu64
               ", pending=%" PRIu64 ")\n",
               what, now_, events_run(), events_max_, pending());
  std::abort();
}

// The heap and slot helpers below are forced inline into Step, the run
// loops (RunUntilIdle, RunUntil: StepInline) and Enqueue, their only hot
// callers, and those are flattened (vector::push_back inlined too): out of
// line each costs a call, a frame and register saves on every event. The
// cold paths (Fail's formatting, PCT/random tie-breaking, compaction, a new
// slot chunk) are kept out of line: flattened in, their frames and register
// saves cost every event (about 30 instructions an Enqueue, callgrind).
//
// The heap is 4-ary: half the depth of a binary heap, and the four children
// of a node share a cache line or two.
constexpr size_t kArity = 4;

// Puts entry in the heap's hole at `hole`, moving it up past every parent it
// comes before (the parents move down into the hole).
template <class Entry>
[[gnu::always_inline]] inline void SiftUp(Entry* heap, size_t hole, const Entry& entry) {
  while (hole > 0) {
    const size_t parent = (hole - 1) / kArity;
    if (!Before(entry, heap[parent])) break;
    heap[hole] = heap[parent];
    hole = parent;
  }
  heap[hole] = entry;
}

// heap_'s storage is all in use (size == capacity); heap_size_ entries are
// the heap. Enqueue makes room before its push as a tail call
// (GrowHeapAndEnqueue), so its hot path calls nothing (a push_back's
// reallocation path inlined there made it save and restore six registers
// every event).
// Under fifo the now queue grows with it, its entries moved to the front.
[[gnu::noinline]] void Scheduler::GrowHeap() {
  heap_.resize(heap_.empty() ? 64 : heap_.size() * 2);
  heap_capacity_ = heap_.size();
  if (schedule_.strategy != ScheduleStrategy::kFifo) return;
  std::vector<NowEntry> ring(heap_capacity_);
  for (size_t i = 0; i < now_size_; ++i) ring[i] = now_queue_[(now_head_ + i) & now_mask_];
  now_queue_ = std::move(ring);
  now_capacity_ = heap_capacity_;
  now_mask_ = now_capacity_ - 1;
  now_head_ = 0;
}

[[gnu::always_inline]] inline void Scheduler::HeapPush(const Entry& entry) {
  SiftUp(heap_.data(), heap_size_++, entry);
}

// Removes the top. Bottom-up (Floyd): the hole left at the top sinks along
// the smaller children to a leaf without comparing against the last entry
// at every level, then the last entry (which came from the bottom, so it
// rarely climbs far) rises from there. Fewer comparisons than sifting the
// last entry down from the top.
[[gnu::always_inline]] inline void Scheduler::HeapPop() {
  Entry* heap = heap_.data();
  const size_t size = --heap_size_;  // after the pop
  if (size == 0) return;
  const Entry last = heap[size];
  size_t hole = 0;
  for (;;) {
    const size_t first = kArity * hole + 1;
    if (first >= size) break;
    size_t best = first;
    const size_t end = first + kArity < size ? first + kArity : size;
    for (size_t child = first + 1; child < end; ++child) {
      if (Before(heap[child], heap[best])) best = child;
    }
    heap[hole] = heap[best];
    hole = best;
  }
  SiftUp(heap, hole, last);
}

[[gnu::noinline]] Scheduler::Slot* Scheduler::NewSlot() {
  if (slot_count_ >= UINT32_MAX - (1u << kSlotChunkBits)) Fail("At: too many pending events");
  const uint32_t index = slot_count_++;
  if ((index >> kSlotChunkBits) == slot_chunks_.size()) {
    slot_chunks_.push_back(std::make_unique<Slot[]>(size_t{1} << kSlotChunkBits));
  }
  Slot& s = SlotAt(index);
  s.index = index;
  return &s;
}

[[gnu::always_inline]] inline uint64_t Scheduler::File(Slot& s, TimeNs t, uint32_t chain,
                                                       uint64_t end_of_instant_bit) {
  if (t < now_) Fail("At: time in the past");
  if (next_sequence_ >= kEndOfInstantBit) Fail("At: sequence numbers exhausted");
  s.chain = chain;
  s.sequence = next_sequence_++ | end_of_instant_bit;
  return s.sequence;
}

__attribute__((flatten)) void Scheduler::Enqueue(TimeNs t, uint32_t chain, uint64_t end_of_instant_bit, Slot& s) {
  if (heap_size_ == heap_capacity_) [[unlikely]] return GrowHeapAndEnqueue(t, chain, end_of_instant_bit, s);
  const uint64_t sequence = File(s, t, chain, end_of_instant_bit);
  HeapPush(Entry{t, sequence, &s});
}

void Scheduler::EnqueueNow(uint32_t chain, Slot& s) {
  if (now_size_ == now_capacity_) [[unlikely]] return Enqueue(now_, chain, 0, s);
  const uint64_t sequence = File(s, now_, chain, 0);
  now_queue_[(now_head_ + now_size_++) & now_mask_] = NowEntry{sequence, &s};
}

[[gnu::noinline]] void Scheduler::GrowHeapAndEnqueue(TimeNs t, uint32_t chain, uint64_t end_of_instant_bit, Slot& s) {
  GrowHeap();
  Enqueue(t, chain, end_of_instant_bit, s);
}

// Frees the slot of an event that ran or was cancelled (its callback already
// empty): its entries turn stale, its id no longer cancels.
[[gnu::always_inline]] inline void Scheduler::FreeSlot(Slot& s) {
  s.sequence = 0;
  s.guard = nullptr;
  ++s.generation;
  s.next_free = free_slot_;
  free_slot_ = &s;
}

bool Scheduler::Cancel(EventId id) {
  const uint64_t low = id & 0xffffffffull;
  if (low == 0) return false;
  const uint64_t index = low - 1;
  if (index >= slot_count_) return false;
  Slot& s = SlotAt(static_cast<uint32_t>(index));
  if (s.sequence == 0 || s.generation != static_cast<uint32_t>(id >> 32)) return false;
  s.fn = nullptr;  // release the captures now, not when the entry surfaces
  FreeSlot(s);
  ++stale_;
  CompactIfMostlyStale();
  return true;
}

[[gnu::noinline]] void Scheduler::CompactIfMostlyStale() {
  if (stale_ < kCompactStaleMin || stale_ * 2 < heap_size_ + now_size_) return;
  // The heap's live entries moved to its front, then filed again in place
  // (entry i rises from hole i: only entries before it move).
  size_t kept = 0;
  for (size_t i = 0; i < heap_size_; ++i) {
    if (!IsStale(heap_[i])) heap_[kept++] = heap_[i];
  }
  for (size_t i = 0; i < kept; ++i) SiftUp(heap_.data(), i, Entry(heap_[i]));
  heap_size_ = kept;
  // The now queue's live entries, in their order, from its front.
  kept = 0;
  for (size_t i = 0; i < now_size_; ++i) {
    const NowEntry& e = now_queue_[(now_head_ + i) & now_mask_];
    if (!IsStale(e)) now_queue_[(now_head_ + kept++) & now_mask_] = e;
  }
  now_size_ = kept;
  stale_ = 0;
}

[[gnu::always_inline]] inline bool Scheduler::SkipStale() {
  // No Cancel left an entry behind: the fronts (if any) are live.
  // Else a call only when one of them is stale (cancelled timers wait in the
  // heap while live events run before them).
  if (stale_ != 0 && (NowFrontStale() || HeapTopStale())) [[unlikely]] PopStaleFronts();
  return heap_size_ != 0 || now_size_ != 0;
}

[[gnu::noinline]] void Scheduler::PopStaleFronts() {
  while (NowFrontStale()) {
    PopNowQueue();
    --stale_;
  }
  while (HeapTopStale()) {
    HeapPop();
    --stale_;
  }
}

// The now queue's front is due at Now(), no later than the heap's top: it
// runs first unless the top is due at Now() too and was scheduled earlier.
[[gnu::always_inline]] inline bool Scheduler::TopInNowQueue() const {
  if (now_size_ == 0) return false;
  if (heap_size_ == 0) return true;
  return Before(now_, now_queue_[now_head_].sequence, heap_[0].time, heap_[0].sequence);
}

// The now queue's entries are due at Now(), the heap's no earlier.
[[gnu::always_inline]] inline TimeNs Scheduler::TopTime() const {
  return now_size_ != 0 ? now_ : heap_[0].time;
}

template <bool kFifo>
[[gnu::always_inline]] inline bool Scheduler::StepInline() {
  if (!SkipStale()) return false;
  if (events_left_ == 0) [[unlikely]] Fail("events_max exceeded: runaway simulation");
  --events_left_;
  Slot* next;
  if (kFifo && TopInNowQueue()) {
    next = now_queue_[now_head_].slot;  // due at Now(): the clock stays
    PopNowQueue();
  } else {
    Entry top;
    if constexpr (kFifo) {
      top = heap_[0];
      HeapPop();
    } else {
      top = PickAmongTies();
    }
    next = top.slot;
    now_ = top.time;
  }
  // The event runs in its slot: no longer pending (Cancel of it returns
  // false), but not reusable until the callback returns (slots live in
  // chunks that never move, so events the callback schedules never move it).
  Slot& slot = *next;
  slot.sequence = 0;
  const uint32_t outer_chain = current_chain_;
  current_chain_ = slot.chain;
  bool run = true;
  if (slot.guard != nullptr) {
    run = *slot.guard == slot.guard_value;
    slot.guard = nullptr;
  }
  if (run) [[likely]] {
    slot.fn.InvokeOnce();  // runs the callback and destroys it: the slot is empty after
  } else {
    slot.fn.reset();
  }
  current_chain_ = outer_chain;
  // FreeSlot, on the reference held (the slot has not moved), but for the
  // fields already cleared.
  ++slot.generation;
  slot.next_free = free_slot_;
  free_slot_ = &slot;
  return true;
}

// The public loops test the strategy once and run the step made for it.
__attribute__((flatten)) bool Scheduler::Step() {
  return schedule_.strategy == ScheduleStrategy::kFifo ? StepInline<true>() : StepInline<false>();
}

[[gnu::noinline]] Scheduler::Entry Scheduler::PickAmongTies() {
  ties_.clear();
  // Ties: the entries due at the earliest time, of the same kind as the
  // first (ordinary ones before end-of-instant ones, see AtEndOfInstant).
  const TimeNs time = heap_[0].time;
  const uint64_t kind = heap_[0].sequence & kEndOfInstantBit;
  while (SkipStale() && heap_[0].time == time && (heap_[0].sequence & kEndOfInstantBit) == kind) {
    ties_.push_back(heap_[0]);  // ascending sequence: ties_[0] is the fifo choice
    HeapPop();
  }
  size_t pick = 0;
  if (ties_.size() > 1) {
    ++stats_.choice_points;
    pick = schedule_.strategy == ScheduleStrategy::kRandom ? PickRandom(ties_) : PickPct(ties_);
    if (pick != 0) ++stats_.reordered;
  }
  for (size_t i = 0; i < ties_.size(); ++i) {
    if (i != pick) HeapPush(ties_[i]);  // taken off just now: room enough
  }
  return ties_[pick];
}

size_t Scheduler::PickRandom(const std::vector<Entry>& ties) {
  return static_cast<size_t>(rng_.Uniform(ties.size()));
}

size_t Scheduler::PctRank(uint32_t chain) {
  for (size_t i = 0; i < priorities_.size(); ++i) {
    if (priorities_[i] == chain) return i;
  }
  for (size_t i = 0; i < lowered_.size(); ++i) {
    // Lowered chains sit below every other; the latest lowered is the highest of them.
    if (lowered_[i] == chain) return priorities_.size() + (lowered_.size() - 1 - i);
  }
  // A new chain gets a random priority among the chains not lowered (PCT
  // gives threads created later a random priority above the change points').
  const size_t rank = static_cast<size_t>(rng_.Uniform(priorities_.size() + 1));
  priorities_.insert(priorities_.begin() + static_cast<std::ptrdiff_t>(rank), chain);
  ++stats_.chains;
  return rank;
}

size_t Scheduler::PickPct(const std::vector<Entry>& ties) {
  const uint64_t step = stats_.choice_points - 1;
  // Chains seen for the first time get their random rank first: inserting
  // one shifts the ranks of those below it.
  for (const Entry& tie : ties) (void)PctRank(tie.slot->chain);
  auto best_of = [&] {
    size_t best = 0;
    size_t best_rank = PctRank(ties[0].slot->chain);
    for (size_t i = 1; i < ties.size(); ++i) {
      const size_t rank = PctRank(ties[i].slot->chain);
      if (rank < best_rank) {  // strict: within a chain the earliest scheduled wins
        best = i;
        best_rank = rank;
      }
    }
    return best;
  };
  size_t best = best_of();
  while (next_change_point_ < change_points_.size() && change_points_[next_change_point_] == step) {
    // A change point: the chain about to run drops below every other.
    ++next_change_point_;
    ++stats_.change_points_hit;
    const uint32_t chain = ties[best].slot->chain;
    priorities_.erase(std::remove(priorities_.begin(), priorities_.end(), chain), priorities_.end());
    lowered_.erase(std::remove(lowered_.begin(), lowered_.end(), chain), lowered_.end());
    lowered_.push_back(chain);
    best = best_of();
  }
  return best;
}

__attribute__((flatten)) void Scheduler::RunUntil(TimeNs t) {
  if (schedule_.strategy == ScheduleStrategy::kFifo) {
    while (SkipStale() && TopTime() <= t) StepInline<true>();
  } else {
    while (SkipStale() && TopTime() <= t) StepInline<false>();
  }
  if (t > now_) now_ = t;
}

__attribute__((flatten)) uint64_t Scheduler::RunUntilIdle(uint64_t limit) {
  uint64_t left = limit;  // counted down: the decrement is the test
  if (schedule_.strategy == ScheduleStrategy::kFifo) {
    while (left != 0 && StepInline<true>()) --left;
  } else {
    while (left != 0 && StepInline<false>()) --left;
  }
  return limit - left;
}

TimeNs Scheduler::NextEventTime() { return SkipStale() ? TopTime() : kTimeNever; }

}  // namespace sim
