// Tests of sim::Scheduler: (time, sequence) order, Cancel, RunUntil /
// RunFor / Step / RunUntilIdle, the events_max limit (a death test), and a
// RapidCheck property comparing random schedule/cancel/run sequences with a
// sorted-list model.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "sim/scheduler.h"

namespace sim {
namespace {

TEST(Scheduler, RunsByTimeThenSchedulingOrder) {
  Scheduler scheduler;
  std::vector<int> order;
  scheduler.At(20, [&] { order.push_back(3); });
  scheduler.At(10, [&] { order.push_back(1); });
  scheduler.At(10, [&] { order.push_back(2); });
  scheduler.At(30, [&] { order.push_back(4); });
  EXPECT_EQ(scheduler.pending(), 4u);
  EXPECT_EQ(scheduler.RunUntilIdle(), 4u);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3, 4}));
  EXPECT_EQ(scheduler.Now(), 30);
  EXPECT_EQ(scheduler.events_run(), 4u);
  EXPECT_EQ(scheduler.pending(), 0u);
}

TEST(Scheduler, EventsScheduledByEventsAtTheSameTimeRunAfterThem) {
  Scheduler scheduler;
  std::vector<int> order;
  scheduler.At(5, [&] {
    order.push_back(1);
    scheduler.After(0, [&] { order.push_back(3); });
  });
  scheduler.At(5, [&] { order.push_back(2); });
  scheduler.RunUntilIdle();
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

// Group commit's contract (ktm/log): an end-of-instant event runs after every
// ordinary event of its time, also the ones scheduled at that time after it
// (a chain of After(0)s), and before anything later; an ordinary event it
// schedules at Now() runs before the other end-of-instant events of the time.
TEST(Scheduler, EndOfInstantRunsAfterEveryEventOfItsInstant) {
  Scheduler scheduler;
  std::vector<std::string> order;
  std::function<void(int)> chain = [&](int left) {
    order.push_back("chain" + std::to_string(left));
    if (left > 0) scheduler.After(0, [&chain, left] { chain(left - 1); });
  };
  scheduler.At(5, [&] {
    scheduler.AtEndOfInstant([&] {
      order.push_back("end1");
      scheduler.AtEndOfInstant([&] { order.push_back("end3"); });
      scheduler.After(0, [&] { order.push_back("after-end1"); });
    });
    scheduler.AtEndOfInstant([&] { order.push_back("end2"); });
    chain(3);
  });
  scheduler.At(6, [&] { order.push_back("later"); });
  scheduler.RunUntilIdle();
  EXPECT_EQ(order, (std::vector<std::string>{"chain3", "chain2", "chain1", "chain0", "end1",
                                             "after-end1", "end2", "end3", "later"}));
  EXPECT_EQ(scheduler.Now(), 6);
}

TEST(Scheduler, EndOfInstantCanBeCancelled) {
  Scheduler scheduler;
  int ran = 0;
  scheduler.At(5, [&] {
    const EventId id = scheduler.AtEndOfInstant([&] { ran += 1; });
    scheduler.After(0, [&, id] { EXPECT_TRUE(scheduler.Cancel(id)); });
  });
  scheduler.RunUntilIdle();
  EXPECT_EQ(ran, 0);
  EXPECT_EQ(scheduler.pending(), 0u);
}

TEST(Scheduler, CancelPendingOnlyOnce) {
  Scheduler scheduler;
  int ran = 0;
  const EventId a = scheduler.After(10, [&] { ran += 1; });
  const EventId b = scheduler.After(20, [&] { ran += 10; });
  EXPECT_NE(a, kNoEvent);
  EXPECT_TRUE(scheduler.Cancel(a));
  EXPECT_FALSE(scheduler.Cancel(a));
  EXPECT_FALSE(scheduler.Cancel(kNoEvent));
  EXPECT_FALSE(scheduler.Cancel(0xdeadbeef00000001ull));
  EXPECT_EQ(scheduler.pending(), 1u);
  EXPECT_EQ(scheduler.NextEventTime(), 20);
  scheduler.RunUntilIdle();
  EXPECT_EQ(ran, 10);
  EXPECT_FALSE(scheduler.Cancel(b));  // already ran
  // A slot reused by a new event is not cancelled through the old id.
  const EventId c = scheduler.After(1, [&] { ran += 100; });
  EXPECT_FALSE(scheduler.Cancel(a));
  EXPECT_FALSE(scheduler.Cancel(b));
  scheduler.RunUntilIdle();
  EXPECT_EQ(ran, 110);
  EXPECT_FALSE(scheduler.Cancel(c));
}

// A cancelled event's slot is the next one taken: its old entry (in the now
// queue or the heap) must be skipped as stale, and the new event run once,
// in its own place.
TEST(Scheduler, ASlotReusedRightAfterCancelRunsOnlyTheNewEvent) {
  Scheduler scheduler;
  std::vector<std::string> order;
  scheduler.At(5, [&] {
    const EventId now = scheduler.After(0, [&] { order.push_back("cancelled now"); });
    scheduler.After(0, [&] { order.push_back("first"); });
    EXPECT_TRUE(scheduler.Cancel(now));
    scheduler.After(0, [&] { order.push_back("reused now"); });
    const EventId later = scheduler.After(10, [&] { order.push_back("cancelled later"); });
    EXPECT_TRUE(scheduler.Cancel(later));
    scheduler.After(10, [&] { order.push_back("reused later"); });
    EXPECT_EQ(scheduler.pending(), 3u);
  });
  EXPECT_EQ(scheduler.RunUntilIdle(), 4u);
  EXPECT_EQ(order, (std::vector<std::string>{"first", "reused now", "reused later"}));
  EXPECT_EQ(scheduler.Now(), 15);
  EXPECT_EQ(scheduler.events_run(), 4u);
  EXPECT_EQ(scheduler.pending(), 0u);
}

TEST(Scheduler, CancelReleasesTheCallbackAtOnce) {
  Scheduler scheduler;
  auto token = std::make_shared<int>(1);
  const EventId id = scheduler.After(10, [token] {});
  EXPECT_EQ(token.use_count(), 2);
  scheduler.Cancel(id);
  EXPECT_EQ(token.use_count(), 1);
}

TEST(Scheduler, RunUntilRunsDueEventsAndSetsNow) {
  Scheduler scheduler;
  std::vector<TimeNs> times;
  for (TimeNs t : {5, 10, 15}) scheduler.At(t, [&] { times.push_back(scheduler.Now()); });
  scheduler.RunUntil(10);
  EXPECT_EQ(times, (std::vector<TimeNs>{5, 10}));
  EXPECT_EQ(scheduler.Now(), 10);
  scheduler.RunFor(2);
  EXPECT_EQ(scheduler.Now(), 12);
  EXPECT_EQ(times.size(), 2u);
  EXPECT_EQ(scheduler.NextEventTime(), 15);
  EXPECT_TRUE(scheduler.Step());
  EXPECT_EQ(scheduler.Now(), 15);
  EXPECT_FALSE(scheduler.Step());
  EXPECT_EQ(scheduler.NextEventTime(), kTimeNever);
  scheduler.RunUntil(3);  // time never goes back
  EXPECT_EQ(scheduler.Now(), 15);
}

TEST(Scheduler, RunUntilIdleStopsAtLimit) {
  Scheduler scheduler;
  int ran = 0;
  for (int i = 0; i < 10; ++i) scheduler.After(i, [&] { ++ran; });
  EXPECT_EQ(scheduler.RunUntilIdle(4), 4u);
  EXPECT_EQ(ran, 4);
  EXPECT_EQ(scheduler.pending(), 6u);
}

TEST(Scheduler, ManyCancellationsKeepOrder) {
  // Cancelling most events exercises the compaction of stale heap entries.
  Scheduler scheduler;
  std::vector<EventId> ids;
  std::vector<int> order;
  for (int i = 0; i < 10000; ++i) {
    ids.push_back(scheduler.At(10000 - i, [&order, i] { order.push_back(i); }));
  }
  for (int i = 0; i < 10000; ++i) {
    if (i % 7 != 0) {
      EXPECT_TRUE(scheduler.Cancel(ids[i]));
    }
  }
  EXPECT_EQ(scheduler.pending(), 1429u);
  scheduler.RunUntilIdle();
  ASSERT_EQ(order.size(), 1429u);
  for (size_t k = 1; k < order.size(); ++k) EXPECT_GT(order[k - 1], order[k]);
}

TEST(SchedulerDeathTest, RunawayAbortsAtEventsMax) {
  EXPECT_DEATH(
      {
        Scheduler scheduler(100);
        std::function<void()> loop = [&] { scheduler.After(1, loop); };
        scheduler.After(0, loop);
        scheduler.RunUntilIdle();
      },
      "events_max exceeded");
}

TEST(SchedulerDeathTest, SchedulingInThePastAborts) {
  EXPECT_DEATH(
      {
        Scheduler scheduler;
        scheduler.RunUntil(10);
        scheduler.At(5, [] {});
      },
      "time in the past");
}

TEST(Scheduler, EventsMaxAllowsExactlyThatMany) {
  Scheduler scheduler(3);
  for (int i = 0; i < 3; ++i) scheduler.After(i, [] {});
  EXPECT_EQ(scheduler.RunUntilIdle(), 3u);
}

// Model: pending events as (time, sequence, tag); run order is sorted order.
RC_GTEST_PROP(Scheduler, RunOrderMatchesSortedModel, ()) {
  Scheduler scheduler;
  std::map<std::pair<TimeNs, uint64_t>, int> model;  // (time, seq) -> tag
  std::map<int, std::pair<EventId, std::pair<TimeNs, uint64_t>>> by_tag;
  std::vector<int> ran;
  uint64_t seq = 0;
  const int steps = *rc::gen::inRange(1, 200);
  for (int tag = 0; tag < steps; ++tag) {
    const int action = *rc::gen::inRange(0, 10);
    if (action < 6) {
      const TimeNs delay = *rc::gen::inRange<TimeNs>(0, 50);
      const auto key = std::make_pair(scheduler.Now() + delay, seq++);
      const EventId id = scheduler.After(delay, [&ran, tag] { ran.push_back(tag); });
      model[key] = tag;
      by_tag[tag] = {id, key};
    } else if (action < 8 && !by_tag.empty()) {
      auto it = by_tag.begin();
      std::advance(it, *rc::gen::inRange<size_t>(0, by_tag.size()));
      const bool pending = model.count(it->second.second) != 0;
      RC_ASSERT(scheduler.Cancel(it->second.first) == pending);
      model.erase(it->second.second);
    } else {
      const TimeNs until = scheduler.Now() + *rc::gen::inRange<TimeNs>(0, 30);
      std::vector<int> expected;
      while (!model.empty() && model.begin()->first.first <= until) {
        expected.push_back(model.begin()->second);
        model.erase(model.begin());
      }
      ran.clear();
      scheduler.RunUntil(until);
      RC_ASSERT(ran == expected);
      RC_ASSERT(scheduler.Now() == until);
    }
    RC_ASSERT(scheduler.pending() == model.size());
  }
  std::vector<int> expected;
  for (const auto& entry : model) expected.push_back(entry.second);
  ran.clear();
  scheduler.RunUntilIdle();
  RC_ASSERT(ran == expected);
}

// Events that schedule more events (at Now() too, which fifo keeps out of
// the heap, and at the end of the instant) and cancel others: every event
// that runs is the least pending one by (time, end of instant, scheduling
// order), checked against a sorted model as it runs.
RC_GTEST_PROP(Scheduler, EventsThatScheduleAndCancelRunInModelOrder, ()) {
  Scheduler scheduler;
  using Key = std::tuple<TimeNs, bool, uint64_t>;  // time, end of instant, scheduling order
  std::map<Key, int> model;                        // key -> tag
  std::vector<std::pair<EventId, Key>> scheduled;
  uint64_t sequence = 0;
  int next_tag = 0;
  int budget = 400;  // events scheduled from events
  std::function<void(int)> run;
  auto schedule = [&](TimeNs delay, bool end_of_instant) {
    const int tag = next_tag++;
    const Key key{scheduler.Now() + delay, end_of_instant, sequence++};
    const EventId id = end_of_instant ? scheduler.AtEndOfInstant([&run, tag] { run(tag); })
                                      : scheduler.After(delay, [&run, tag] { run(tag); });
    model[key] = tag;
    scheduled.emplace_back(id, key);
  };
  run = [&](int tag) {
    RC_ASSERT(!model.empty());
    RC_ASSERT(model.begin()->second == tag);
    model.erase(model.begin());
    const int children = budget > 0 ? *rc::gen::inRange(0, 4) : 0;
    for (int i = 0; i < children; ++i, --budget) {
      const bool end_of_instant = *rc::gen::inRange(0, 5) == 0;
      schedule(end_of_instant ? 0 : *rc::gen::element<TimeNs>(0, 0, 0, 1, 7), end_of_instant);
    }
    if (*rc::gen::inRange(0, 4) == 0) {
      const auto& [id, key] = scheduled[*rc::gen::inRange<size_t>(0, scheduled.size())];
      RC_ASSERT(scheduler.Cancel(id) == (model.erase(key) == 1));
    }
  };
  const int roots = *rc::gen::inRange(1, 6);
  for (int i = 0; i < roots; ++i) schedule(*rc::gen::inRange<TimeNs>(0, 3), false);
  scheduler.RunUntilIdle();
  RC_ASSERT(model.empty());
  RC_ASSERT(scheduler.pending() == 0u);
}

// The engine's captures fit inline (no allocation per event); larger ones
// still work from the heap; an empty std::function gives an empty callback;
// moving keeps the callable and empties the source.
TEST(Callback, SmallCapturesInlineLargeOnesOnTheHeap) {
  int ran = 0;
  auto token = std::make_shared<int>(1);
  std::weak_ptr<int> weak = token;
  Callback small([&ran, token, weak, a = uint64_t{1}, b = uint64_t{2}, c = uint64_t{3}] { ran += 1; });
  EXPECT_TRUE(small.is_inline());
  struct Big {
    char bytes[Callback::inline_bytes + 8] = {};
  };
  Callback big([&ran, big = Big{}] { ran += 10 + big.bytes[0]; });
  EXPECT_TRUE(static_cast<bool>(big));
  EXPECT_FALSE(big.is_inline());
  Callback from_function(std::function<void()>([&ran] { ran += 100; }));
  EXPECT_TRUE(from_function.is_inline());
  EXPECT_FALSE(static_cast<bool>(Callback(std::function<void()>())));
  Callback moved = std::move(small);
  EXPECT_FALSE(static_cast<bool>(small));  // NOLINT: checking the moved-from state
  moved();
  big();
  from_function();
  EXPECT_EQ(ran, 111);
  EXPECT_EQ(token.use_count(), 2);
  moved.reset();
  EXPECT_EQ(token.use_count(), 1);
}

TEST(Scheduler, GuardedEventsRunOnlyWhileTheGuardHoldsItsValue) {
  Scheduler scheduler;
  uint64_t guard = 7;
  std::vector<int> ran;
  scheduler.AtInChainGuarded(10, 0, &guard, 7, [&] { ran.push_back(1); });
  scheduler.AtInChainGuarded(20, 0, &guard, 7, [&] { ran.push_back(2); });
  scheduler.AtInChainGuarded(30, 0, &guard, 8, [&] { ran.push_back(3); });
  scheduler.After(15, [&] { guard = 8; });
  EXPECT_EQ(scheduler.RunUntilIdle(), 4u);  // a skipped event still counts as run
  EXPECT_EQ(ran, (std::vector<int>{1, 3}));
  EXPECT_EQ(scheduler.Now(), 30);
}

// An event runs in its slot: it cannot cancel itself, and events it schedules
// (which may grow the slot storage) do not disturb it.
TEST(Scheduler, AnEventThatSchedulesManyMoreKeepsItsCaptures) {
  Scheduler scheduler;
  std::vector<int> ran;
  EventId self = kNoEvent;
  auto token = std::make_shared<int>(5);
  self = scheduler.After(1, [&, token] {
    EXPECT_FALSE(scheduler.Cancel(self));
    for (int i = 0; i < 1000; ++i) scheduler.After(1, [&ran, i] { ran.push_back(i); });
    ran.push_back(*token);
  });
  token.reset();
  scheduler.RunUntilIdle();
  ASSERT_EQ(ran.size(), 1001u);
  EXPECT_EQ(ran[0], 5);
  EXPECT_EQ(ran[1000], 999);
}

// Every entry point takes any callable and builds it in the event's slot:
// a lambda (moved in, or copied from an lvalue, the original left intact),
// a std::function, a sim::Callback, a function pointer. A callback's
// captures are released as soon as it has run (InvokeOnce: call and destroy
// in one), before the next event, and a callback that runs no more (a guard
// that no longer holds) is released too.
int g_function_pointer_runs = 0;
void CountFunctionPointerRun() { ++g_function_pointer_runs; }

TEST(Scheduler, AnyCallableIsBuiltInItsSlotAndReleasedOnceRun) {
  Scheduler scheduler;
  std::vector<int> ran;
  auto token = std::make_shared<int>(0);
  auto lvalue = [&ran, token] { ran.push_back(1); };
  scheduler.After(1, lvalue);  // copied: lvalue keeps its token
  EXPECT_EQ(token.use_count(), 3);
  std::function<void()> function = [&ran, token] { ran.push_back(2); };
  scheduler.AfterInChain(2, 5, function);
  scheduler.AtEndOfInstant(Callback([&ran, token] { ran.push_back(0); }));
  scheduler.At(3, &CountFunctionPointerRun);
  uint64_t guard = 1;
  scheduler.AtInChainGuarded(4, 0, &guard, 2, [&ran, token] { ran.push_back(99); });
  EXPECT_EQ(token.use_count(), 7);
  ASSERT_TRUE(scheduler.Step());  // the end-of-instant event at 0
  EXPECT_EQ(token.use_count(), 6);
  ASSERT_TRUE(scheduler.Step());
  EXPECT_EQ(token.use_count(), 5) << "the copied lambda is released once run";
  ASSERT_TRUE(scheduler.Step());
  EXPECT_EQ(token.use_count(), 4);
  ASSERT_TRUE(scheduler.Step());
  EXPECT_EQ(g_function_pointer_runs, 1);
  ASSERT_TRUE(scheduler.Step());  // guarded out: not run, still released
  EXPECT_EQ(token.use_count(), 3);
  EXPECT_FALSE(scheduler.Step());
  EXPECT_EQ(ran, (std::vector<int>{0, 1, 2}));
  lvalue();
  function();
  EXPECT_EQ(ran, (std::vector<int>{0, 1, 2, 1, 2}));
}

TEST(Callback, InvokeOnceCallsThenDestroysInlineAndHeapCallables) {
  auto token = std::make_shared<int>(0);
  int ran = 0;
  Callback small([&ran, token] { ran += 1; });
  struct Big {
    char bytes[Callback::inline_bytes + 8] = {};
  };
  Callback big([&ran, token, big = Big{}] {
    ran += 10 + big.bytes[0];
  });
  ASSERT_TRUE(small.is_inline());
  ASSERT_FALSE(big.is_inline());
  EXPECT_EQ(token.use_count(), 3);
  small.InvokeOnce();
  EXPECT_FALSE(static_cast<bool>(small));
  EXPECT_EQ(token.use_count(), 2);
  big.InvokeOnce();
  EXPECT_FALSE(static_cast<bool>(big));
  EXPECT_EQ(token.use_count(), 1);
  EXPECT_EQ(ran, 11);
  // Emplace over a full one replaces it (the old captures released).
  small.Emplace([&ran, token] { ran += 100; });
  small.Emplace([&ran] { ran += 1000; });
  EXPECT_EQ(token.use_count(), 1);
  small();
  EXPECT_EQ(ran, 1011);
}

}  // namespace
}  // namespace sim
