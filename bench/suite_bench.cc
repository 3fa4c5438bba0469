// Simulator-speed benchmarks (Google Benchmark) that engine_bench does not
// cover: how fast whole runs go, in the units people plan with.
// - BM_DefaultSuiteSeeds: one iteration runs every scenario of scenarios/
//   with one seed (one seed of `ktmsim run`). Counters: seeds_per_s and
//   runs_per_s (wall time), sim_per_wall (each run's whole simulated time,
//   including its idle settling period up to the termination bound, over the
//   wall time) and active_sim_per_wall (simulated time only up to the run's
//   last client outcome, so idle settling does not inflate the ratio). With
//   several threads each runs its own seeds, like `ktmsim run --jobs`.
// - BM_LatencyBenchRun: one run of `ktmsim bench` (harness/latency_bench.h),
//   2 RMs 2PC, 1000 transactions, at the concurrency given: committed
//   transactions per wall second and the sim/wall ratio of a commit-heavy load.
// Timing is measured here, never asserted in tests.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "harness/latency_bench.h"
#include "harness/runner.h"
#include "harness/scenario_toml.h"
#include "model/history.h"

namespace {

std::vector<harness::Scenario> DefaultSuite() {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(KTMSIM_SOURCE_DIR "/scenarios")) {
    if (e.path().extension() == ".toml") files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  std::vector<harness::Scenario> suite;
  for (const auto& f : files) {
    auto s = harness::LoadScenarioFile(f);
    if (s.ok()) suite.push_back(*s);
  }
  return suite;
}

// Simulated time up to the last client outcome (0 when nothing finished).
int64_t ActiveSimulatedNs(const harness::RunResult& r) {
  int64_t last = 0;
  for (const model::HistoryEvent& e : r.history.events) {
    if (e.kind == model::EventKind::kOutcome) last = std::max(last, e.time_ns);
  }
  return last;
}

double WallNsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
}

void BM_DefaultSuiteSeeds(benchmark::State& state) {
  static const std::vector<harness::Scenario> suite = DefaultSuite();
  // Thread t runs seeds t+1, t+1+threads, ...: no two threads repeat a seed.
  uint64_t seed = 1 + static_cast<uint64_t>(state.thread_index());
  const uint64_t stride = static_cast<uint64_t>(state.threads());
  double seeds = 0, runs = 0, sim_ns = 0, active_ns = 0, wall_ns = 0;
  for (auto _ : state) {
    for (const harness::Scenario& s : suite) {
      const auto start = std::chrono::steady_clock::now();
      harness::RunResult r = harness::RunScenario(s, seed, {.keep_trace = false});
      wall_ns += WallNsSince(start);
      sim_ns += static_cast<double>(r.sim_time_ns);
      active_ns += static_cast<double>(ActiveSimulatedNs(r));
      benchmark::DoNotOptimize(r.digest);
      ++runs;
    }
    ++seeds;
    seed += stride;
  }
  using benchmark::Counter;
  state.counters["seeds_per_s"] = Counter(seeds, Counter::kIsRate);
  state.counters["runs_per_s"] = Counter(runs, Counter::kIsRate);
  state.counters["sim_per_wall"] = Counter(sim_ns / std::max(wall_ns, 1.0), Counter::kAvgThreads);
  state.counters["active_sim_per_wall"] = Counter(active_ns / std::max(wall_ns, 1.0), Counter::kAvgThreads);
  state.SetLabel(absl::StrCat(suite.size(), " scenarios per seed"));
}
BENCHMARK(BM_DefaultSuiteSeeds)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Threads(1)
    ->Threads(static_cast<int>(std::max(2u, std::thread::hardware_concurrency())));

void BM_LatencyBenchRun(benchmark::State& state) {
  const harness::LatencyCase kase = harness::DefaultLatencyCases().at(1);  // 2 RMs 2PC
  auto base = harness::LoadScenarioFile(KTMSIM_SOURCE_DIR "/bench/latency.toml");
  if (!base.ok()) {
    state.SkipWithError("bench/latency.toml does not load");
    return;
  }
  const harness::BenchDisks disks = harness::BenchDisksOf(*base);
  harness::LatencyBenchOptions options;
  options.transactions = 1000;
  const uint32_t concurrency = static_cast<uint32_t>(state.range(0));
  double committed = 0, sim_ns = 0, wall_ns = 0;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    auto row = harness::RunLatencyCase(base->name, disks, kase, concurrency, options);
    wall_ns += WallNsSince(start);
    if (!row.ok() || !row->passed) {
      state.SkipWithError("a latency-bench run failed");
      return;
    }
    committed += static_cast<double>(row->committed);
    sim_ns += static_cast<double>(row->span_ns);
  }
  using benchmark::Counter;
  state.counters["commits_per_s"] = Counter(committed, Counter::kIsRate);
  state.counters["active_sim_per_wall"] = sim_ns / std::max(wall_ns, 1.0);
  state.SetLabel(absl::StrCat(kase.label, ", 1000 transactions, concurrency ", concurrency));
}
BENCHMARK(BM_LatencyBenchRun)->Arg(1)->Arg(64)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
