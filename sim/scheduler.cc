// Scheduler: the event loop of one world.
//
// Events run in (time, sequence) order. Callbacks are stored in reusable
// slots; the heap holds 24-byte entries, so scheduling and running an event
// costs no allocation beyond std::function's own (none for small captures).
// Cancel is O(1): it frees the slot and leaves a stale heap entry behind,
// recognised by its generation. events_max is a hard limit: running past it
// is a runaway simulation and aborts with a message.
#include "sim/scheduler.h"

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <utility>

namespace sim {
namespace {

inline bool Before(TimeNs time_a, uint64_t seq_a, TimeNs time_b, uint64_t seq_b) {
  return time_a != time_b ? time_a < time_b : seq_a < seq_b;
}

}  // namespace

void Scheduler::Fail(const char* what) const {
  std::fprintf(stderr,
               "sim::Scheduler: %s (now=%" PRId64 "ns, events_run=%" PRIu64 ", events_max=%" PRIu64
               ", pending=%" PRIu64 ")\n",
               what, now_, events_run_, events_max_, pending_);
  std::abort();
}

// The heap is 4-ary: half the depth of a binary heap, and the four children
// of a node share a cache line or two.
constexpr size_t kArity = 4;

void Scheduler::HeapPush(const Entry& entry) {
  heap_.push_back(entry);
  size_t hole = heap_.size() - 1;
  while (hole > 0) {
    const size_t parent = (hole - 1) / kArity;
    const Entry& up = heap_[parent];
    if (!Before(entry.time, entry.sequence, up.time, up.sequence)) break;
    heap_[hole] = up;
    hole = parent;
  }
  heap_[hole] = entry;
}

void Scheduler::HeapPop() {
  const Entry last = heap_.back();
  heap_.pop_back();
  const size_t size = heap_.size();
  if (size == 0) return;
  size_t hole = 0;
  for (;;) {
    const size_t first = kArity * hole + 1;
    if (first >= size) break;
    const size_t end = first + kArity < size ? first + kArity : size;
    size_t best = first;
    for (size_t child = first + 1; child < end; ++child) {
      if (Before(heap_[child].time, heap_[child].sequence, heap_[best].time,
                 heap_[best].sequence)) {
        best = child;
      }
    }
    if (!Before(heap_[best].time, heap_[best].sequence, last.time, last.sequence)) break;
    heap_[hole] = heap_[best];
    hole = best;
  }
  heap_[hole] = last;
}

EventId Scheduler::At(TimeNs t, std::function<void()> fn) {
  if (t < now_) Fail("At: time in the past");
  if (!fn) Fail("At: empty callback");
  uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    if (slots_.size() >= UINT32_MAX - 1) Fail("At: too many pending events");
    slot = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  Slot& s = slots_[slot];
  s.fn = std::move(fn);
  s.live = true;
  HeapPush(Entry{t, next_sequence_++, slot, s.generation});
  ++pending_;
  return (static_cast<uint64_t>(s.generation) << 32) | (static_cast<uint64_t>(slot) + 1);
}

void Scheduler::FreeSlot(uint32_t slot) {
  Slot& s = slots_[slot];
  s.live = false;
  ++s.generation;
  if (s.generation == 0) s.generation = 1;  // keep ids nonzero after wrap-around
  free_slots_.push_back(slot);
}

bool Scheduler::Cancel(EventId id) {
  const uint64_t low = id & 0xffffffffull;
  if (low == 0) return false;
  const uint64_t slot = low - 1;
  if (slot >= slots_.size()) return false;
  Slot& s = slots_[slot];
  if (!s.live || s.generation != static_cast<uint32_t>(id >> 32)) return false;
  s.fn = nullptr;  // release the captures now, not when the entry surfaces
  FreeSlot(static_cast<uint32_t>(slot));
  --pending_;
  ++stale_in_heap_;
  CompactIfMostlyStale();
  return true;
}

void Scheduler::CompactIfMostlyStale() {
  if (stale_in_heap_ < 1024 || stale_in_heap_ * 2 < heap_.size()) return;
  std::vector<Entry> live;
  live.reserve(pending_);
  for (const Entry& e : heap_) {
    const Slot& s = slots_[e.slot];
    if (s.live && s.generation == e.generation) live.push_back(e);
  }
  heap_.clear();
  for (const Entry& e : live) HeapPush(e);
  stale_in_heap_ = 0;
}

bool Scheduler::SkipStale() {
  while (!heap_.empty()) {
    const Entry& top = heap_.front();
    const Slot& s = slots_[top.slot];
    if (s.live && s.generation == top.generation) return true;
    HeapPop();
    --stale_in_heap_;
  }
  return false;
}

bool Scheduler::Step() {
  if (!SkipStale()) return false;
  if (events_run_ >= events_max_) Fail("events_max exceeded: runaway simulation");
  const Entry top = heap_.front();
  HeapPop();
  std::function<void()> fn = std::move(slots_[top.slot].fn);
  FreeSlot(top.slot);
  --pending_;
  ++events_run_;
  now_ = top.time;
  fn();
  return true;
}

void Scheduler::RunUntil(TimeNs t) {
  while (SkipStale() && heap_.front().time <= t) Step();
  if (t > now_) now_ = t;
}

uint64_t Scheduler::RunUntilIdle(uint64_t limit) {
  uint64_t ran = 0;
  while (ran < limit && Step()) ++ran;
  return ran;
}

TimeNs Scheduler::NextEventTime() { return SkipStale() ? heap_.front().time : kTimeNever; }

}  // namespace sim
