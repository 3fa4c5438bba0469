// Checker benchmarks (Google Benchmark): model::CheckAll, every rule, over
// one generated history (bench/history_gen.h) of 1k, 10k, 100k and 1M
// transactions. Items are transactions, so items_per_second is the
// checkers' throughput (transactions per CPU second). The run ends with the
// per-transaction cost at 100k and at 1M over that at 10k, printed as the
// throughput at 10k over the throughput there: 1.00x is linear. The history is built outside the timed loop and must pass
// (a violation fails the benchmark: the generator or the checkers broke).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>

#include "absl/strings/str_cat.h"
#include "bench/history_gen.h"
#include "bench/ratio_reporter.h"
#include "model/checkers.h"

namespace {

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
    violations += model::CheckAll(history, {}, bench::kGeneratedBoundNs).size();
  }
  if (violations != 0) state.SkipWithError("the generated history has violations");
  const double total = static_cast<double>(transactions) * static_cast<double>(state.iterations());
  state.SetItemsProcessed(static_cast<int64_t>(total));
  state.SetLabel(absl::StrCat(history.events.size(), " events"));
}

}  // namespace

BENCHMARK(BM_CheckAll)->Arg(1'000)->Arg(10'000)->Arg(100'000)->Arg(1'000'000)
    ->Unit(benchmark::kMillisecond);

int main(int argc, char** argv) {
  return bench::RunWithRatios(argc, argv, {{"BM_CheckAll/10000", "BM_CheckAll/100000", "items_per_second"},
                                           {"BM_CheckAll/10000", "BM_CheckAll/1000000", "items_per_second"}});
}
