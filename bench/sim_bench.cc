// Benchmarks of sim's hot paths, reported as items/s: scheduler events
// (each event reschedules itself, 1024 pending, some cancelled timers),
// disk operations (4 KiB writes with periodic flushes, completed through the
// scheduler) and network datagrams (sent and delivered between 4 hosts).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "sim/disk.h"
#include "sim/network.h"
#include "sim/rng.h"
#include "sim/scheduler.h"
#include "sim/trace.h"

namespace {

struct TickerContext {
  sim::Scheduler scheduler;
  sim::Rng rng{1};
  uint64_t ticks = 0;
};

// A callback that fits std::function's small buffer (one pointer), like the
// engine's [this] timers: measures the scheduler, not malloc.
struct Ticker {
  TickerContext* context;
  void operator()() const {
    ++context->ticks;
    context->scheduler.After(static_cast<sim::TimeNs>(1 + (context->rng.Next() & 1023)), *this);
  }
};

void BM_SchedulerEvents(benchmark::State& state) {
  TickerContext context;
  for (int i = 0; i < state.range(0); ++i) context.scheduler.After(i, Ticker{&context});
  for (auto _ : state) context.scheduler.RunUntilIdle(1000);
  benchmark::DoNotOptimize(context.ticks);
  state.SetItemsProcessed(static_cast<int64_t>(context.scheduler.events_run()));
}
BENCHMARK(BM_SchedulerEvents)->Arg(16)->Arg(1024)->Arg(65536);

// A callback too big for the small buffer (four words of captures).
void BM_SchedulerEventsLargeCapture(benchmark::State& state) {
  sim::Scheduler scheduler;
  uint64_t ticks = 0;
  struct Big {
    sim::Scheduler* scheduler;
    uint64_t* ticks;
    uint64_t a, b;
    void operator()() const {
      ++*ticks;
      scheduler->After(static_cast<sim::TimeNs>(1 + ((a * *ticks + b) & 1023)), *this);
    }
  };
  for (int i = 0; i < 1024; ++i) scheduler.After(i, Big{&scheduler, &ticks, 7, 3});
  for (auto _ : state) scheduler.RunUntilIdle(1000);
  benchmark::DoNotOptimize(ticks);
  state.SetItemsProcessed(static_cast<int64_t>(scheduler.events_run()));
}
BENCHMARK(BM_SchedulerEventsLargeCapture);

void BM_SchedulerTimersMostlyCancelled(benchmark::State& state) {
  // The engine's pattern: arm a timeout, then cancel it when the reply comes.
  sim::Scheduler scheduler;
  int64_t items = 0;
  for (auto _ : state) {
    for (int i = 0; i < 1000; ++i) {
      const sim::EventId timeout = scheduler.After(1000000, [] {});
      scheduler.After(10, [] {});
      scheduler.Cancel(timeout);
    }
    scheduler.RunUntilIdle();
    items += 2000;
  }
  state.SetItemsProcessed(items);
}
BENCHMARK(BM_SchedulerTimersMostlyCancelled);

void BM_DiskOps(benchmark::State& state) {
  sim::Scheduler scheduler;
  sim::Trace trace(false);
  sim::DiskOptions options;
  options.sector_count = 1 << 16;
  options.write_latency = sim::Latency::Uniform(50 * sim::kMicrosecond, 150 * sim::kMicrosecond);
  sim::Disk disk(&scheduler, &trace, 0, "d0", 1, options);
  const std::vector<uint8_t> block(4096, 7);
  sim::Rng rng(2);
  int64_t ops = 0;
  for (auto _ : state) {
    for (int i = 0; i < 64; ++i) {
      const uint64_t sector = rng.Uniform(options.sector_count / 8) * 8;
      disk.Write(sector * options.sector_size, block, false, [](sim::IoStatus) {});
    }
    disk.Flush([](sim::IoStatus) {});
    scheduler.RunUntilIdle();
    ops += 65;
  }
  state.SetItemsProcessed(ops);
}
BENCHMARK(BM_DiskOps);

void BM_NetworkDatagrams(benchmark::State& state) {
  sim::Scheduler scheduler;
  sim::Trace trace(false);
  sim::NetworkOptions options;
  options.duplicate_probability = 0.01;
  options.loss_probability = 0.01;
  sim::Network network(&scheduler, &trace, 3, options);
  uint64_t received = 0;
  for (uint32_t h = 0; h < 4; ++h) {
    network.Attach(h, [&received](uint32_t, std::vector<uint8_t>) { ++received; });
  }
  int64_t sent = 0;
  for (auto _ : state) {
    for (uint32_t i = 0; i < 256; ++i)
      network.Send(i % 4, (i + 1) % 4, std::vector<uint8_t>(64, 1));
    scheduler.RunUntilIdle();
    sent += 256;
  }
  benchmark::DoNotOptimize(received);
  state.SetItemsProcessed(sent);
}
BENCHMARK(BM_NetworkDatagrams);

}  // namespace
