// Long-run benchmark (Google Benchmark): the soak workload
// (scenarios/soak.toml) at 1x, 16x and 256x its length. The scenario is
// scaled as a whole: transactions, the fault window and the run's time limit
// all times the factor, so the fault rates, the arrival rate and the
// concurrency stay the same and only the length of the run grows.
// Counters per run:
//   us_per_tx         CPU microseconds per transaction (the whole run:
//                     engine, history recording, checkers);
//   peak_rss_kb       the process's peak resident set during the run over its
//                     resident set before it (peak reset through
//                     /proc/self/clear_refs; 0 where that is unsupported);
//   peak_rss_b_per_tx that peak over the transactions.
// The run ends with us_per_tx and peak_rss_b_per_tx at 16x and 256x over 1x.
// A run that fails its checkers fails the benchmark.
#include <benchmark/benchmark.h>

#include <time.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "bench/ratio_reporter.h"
#include "harness/free_memory.h"
#include "harness/runner.h"
#include "harness/scenario_toml.h"

#if KTMSIM_SOAK_MIMALLOC
#include <mimalloc.h>
#endif

namespace {

// "VmRSS" or "VmHWM" from /proc/self/status, in kB; 0 if unavailable.
int64_t ProcStatusKb(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stoll(line.substr(field.size() + 1));
  }
  return 0;
}

// Resets the peak resident set to the current one (Linux >= 4.0).
bool ResetPeakRss() {
  std::ofstream clear_refs("/proc/self/clear_refs");
  clear_refs << "5";
  return static_cast<bool>(clear_refs.flush());
}

// CPU seconds this thread has used (a benchmark may read a real clock).
double ThreadCpuSeconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

harness::Scenario SoakTimes(uint32_t factor) {
  auto loaded = harness::LoadScenarioFile(KTMSIM_SOURCE_DIR "/scenarios/soak.toml");
  if (!loaded.ok()) return {};
  harness::Scenario scenario = *loaded;
  scenario.workload.transactions *= factor;
  scenario.faults.faults_until_ns *= factor;
  scenario.run_until_ns *= factor;
  return scenario;
}

void BM_Soak(benchmark::State& state) {
  const uint32_t factor = static_cast<uint32_t>(state.range(0));
  const harness::Scenario scenario = SoakTimes(factor);
  if (scenario.workload.transactions == 0) {
    state.SkipWithError("cannot load scenarios/soak.toml");
    return;
  }
  uint64_t seed = 1, transactions = 0, failed = 0;
  int64_t peak_kb = 0;
  double cpu_seconds = 0;
  for (auto _ : state) {
    state.PauseTiming();
    // Every run starts from the same heap: the free memory of the run before
    // goes back to the system, so a run pays for the pages it touches
    // whether it is the first or the 64th (without this the 1x runs reuse
    // each other's pages and the longer runs alone pay the page faults of a
    // history that is linear in their length).
    harness::ReturnFreedMemory();
    const int64_t before_kb = ProcStatusKb("VmRSS");
    const bool reset = ResetPeakRss();
    const double cpu_start = ThreadCpuSeconds();
    state.ResumeTiming();
    {
      harness::RunResult result = harness::RunScenario(scenario, seed++, {.keep_trace = false});
      transactions += result.transactions;
      failed += result.passed ? 0 : 1;
    }
    state.PauseTiming();
    cpu_seconds += ThreadCpuSeconds() - cpu_start;
    if (reset) peak_kb = std::max(peak_kb, ProcStatusKb("VmHWM") - before_kb);
    state.ResumeTiming();
  }
  if (failed != 0) state.SkipWithError("a soak run failed its checkers");
  state.SetItemsProcessed(static_cast<int64_t>(transactions));
  const double per_run = static_cast<double>(transactions) / static_cast<double>(state.iterations());
  state.counters["us_per_tx"] = cpu_seconds * 1e6 / static_cast<double>(std::max<uint64_t>(transactions, 1));
  state.counters["peak_rss_kb"] = static_cast<double>(peak_kb);
  state.counters["peak_rss_b_per_tx"] = static_cast<double>(peak_kb) * 1024 / per_run;
  state.SetLabel(absl::StrCat(factor, "x soak: ", scenario.workload.transactions, " transactions"));
}

}  // namespace

// 1x gets 64 runs (seeds 1-64, about as much CPU as one 16x run): its
// per-transaction cost is the denominator of every ratio, and 16 runs of
// 10 ms each were at the mercy of the machine's load for a moment.
BENCHMARK(BM_Soak)->Arg(1)->Iterations(64)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Soak)->Arg(16)->Iterations(2)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Soak)->Arg(256)->Iterations(1)->Unit(benchmark::kMillisecond);

int main(int argc, char** argv) {
#if KTMSIM_SOAK_MIMALLOC
  // Every run from a returned heap under mimalloc too: it decommits freed
  // memory 25 ms after the free by default, so mi_collect between runs
  // (ReturnFreedMemory) kept the pages of the run before mapped, and the 64
  // short 1x runs reused each other's pages while a 256x run faulted in its
  // own (1x 7.3 us per transaction against 9.7 us from a returned heap, and
  // 256x/1x read 1.29x for a run whose instructions per transaction are flat).
  // Freed memory goes back at once here, for every length alike.
  mi_option_set(mi_option_decommit_delay, 0);
#endif
  return bench::RunWithRatios(
      argc, argv,
      {{"BM_Soak/16/iterations:2", "BM_Soak/1/iterations:64", "us_per_tx"},
       {"BM_Soak/256/iterations:1", "BM_Soak/1/iterations:64", "us_per_tx"},
       {"BM_Soak/16/iterations:2", "BM_Soak/1/iterations:64", "peak_rss_b_per_tx"},
       {"BM_Soak/256/iterations:1", "BM_Soak/1/iterations:64", "peak_rss_b_per_tx"}});
}
