// Checker benchmarks (Google Benchmark): model::CheckAll, every rule, over
// one generated history (bench/history_gen.h) of 1k, 10k, 100k and 1M
// transactions. Items are transactions, so items_per_second is the
// checkers' throughput (transactions per CPU second). The run ends with the
// per-transaction cost at 100k and at 1M over that at 10k, printed as the
// throughput at 10k over the throughput there: 1.00x is linear. The history is built outside the timed loop and must pass
// (a violation fails the benchmark: the generator or the checkers broke).
// BM_CheckAllCold measures the same with cold caches (see there).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/history_gen.h"
#include "bench/ratio_reporter.h"
#include "model/checkers.h"

namespace {

// Every check reuses one scratch, as a worker of `ktmsim run` does from run to
// run (model::CheckScratch): without it, each check of a large history takes
// its per-event arrays (17 bytes per event) as fresh pages from the kernel,
// while a small history's come back from the heap, and the comparison of
// sizes would measure the allocator. The first check at each size pays for
// the pages once (Google Benchmark's warm-up iteration for BM_CheckAllCold, which runs first).
model::CheckScratch& Scratch() {
  static model::CheckScratch scratch;
  return scratch;
}

// The history of the size being measured; the previous size is freed first.
const model::History& HistoryOf(uint64_t transactions) {
  static uint64_t held = 0;
  static std::unique_ptr<model::History> history;
  if (held != transactions) {
    history.reset();
    history = std::make_unique<model::History>(bench::GenerateHistory(transactions, 19));
    held = transactions;
  }
  return *history;
}

void BM_CheckAll(benchmark::State& state) {
  const uint64_t transactions = static_cast<uint64_t>(state.range(0));
  const model::History& history = HistoryOf(transactions);
  size_t violations = 0;
  for (auto _ : state) {
    violations += model::CheckAll(history, {}, bench::kGeneratedBoundNs, &Scratch()).size();
  }
  if (violations != 0) state.SkipWithError("the generated history has violations");
  const double total = static_cast<double>(transactions) * static_cast<double>(state.iterations());
  state.SetItemsProcessed(static_cast<int64_t>(total));
  state.SetLabel(absl::StrCat(history.events.size(), " events"));
}

// The same with the caches emptied before each check (a 128 MiB buffer
// rewritten while the timer is paused): what one CheckAll at the end of a run
// costs, with no size of history fitting in cache from the previous
// iteration. BM_CheckAll's small histories stay cache-resident across
// iterations (10k transactions = 17 MB of events, under the 32 MB L3 of the
// machine measured), which makes them look cheaper per transaction than one
// check of a history of that size is.
void BM_CheckAllCold(benchmark::State& state) {
  constexpr size_t kEvictBytes = size_t{128} << 20;
  static std::vector<uint64_t> evict(kEvictBytes / sizeof(uint64_t));
  const uint64_t transactions = static_cast<uint64_t>(state.range(0));
  const model::History& history = HistoryOf(transactions);
  size_t violations = 0;
  uint64_t pass = 0;
  for (auto _ : state) {
    state.PauseTiming();
    ++pass;
    for (uint64_t& word : evict) word += pass;
    benchmark::DoNotOptimize(evict.data());
    state.ResumeTiming();
    violations += model::CheckAll(history, {}, bench::kGeneratedBoundNs, &Scratch()).size();
  }
  if (violations != 0) state.SkipWithError("the generated history has violations");
  state.SetItemsProcessed(static_cast<int64_t>(transactions) * state.iterations());
  state.SetLabel(absl::StrCat(history.events.size(), " events, cold caches"));
}

}  // namespace

int main(int argc, char** argv) {
  // Size by size, cold then hot, so each history is generated once.
  for (int64_t transactions : {1'000, 10'000, 100'000, 1'000'000}) {
    benchmark::RegisterBenchmark("BM_CheckAllCold", BM_CheckAllCold)
        ->Arg(transactions)->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark("BM_CheckAll", BM_CheckAll)
        ->Arg(transactions)->Unit(benchmark::kMillisecond);
  }
  // At least 2 CPU seconds per benchmark unless the command line says
  // otherwise (a later --benchmark_min_time wins): one check of 1M
  // transactions takes about a second, and the single iteration the default
  // 0.5 s gave it measured mostly the machine's load at that moment.
  // (Benchmark::MinTime would rename the benchmarks the ratios name.)
  std::vector<char*> args(argv, argv + argc);
  static char kMinTime[] = "--benchmark_min_time=2";
  args.insert(args.begin() + 1, kMinTime);
  argc = static_cast<int>(args.size());
  argv = args.data();
  return bench::RunWithRatios(argc, argv, {{"BM_CheckAll/10000", "BM_CheckAll/100000", "items_per_second"},
                                           {"BM_CheckAll/10000", "BM_CheckAll/1000000", "items_per_second"},
                                           {"BM_CheckAllCold/10000", "BM_CheckAllCold/100000", "items_per_second"},
                                           {"BM_CheckAllCold/10000", "BM_CheckAllCold/1000000", "items_per_second"}});
}
