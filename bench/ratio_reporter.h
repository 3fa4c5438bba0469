// A console reporter that, after the usual table, prints one line per pair
// of benchmarks it was given: the ratio of their CPU time per iteration (or
// of a named counter), so a comparison comes out of one run of one binary
// rather than from two runs on a machine whose load changes in between.
// Pairs whose benchmarks were filtered out or failed print nothing.
#pragma once

#include <benchmark/benchmark.h>

#include <unistd.h>

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"

namespace bench {

class RatioReporter : public benchmark::ConsoleReporter {
 public:
  struct Pair {
    std::string numerator;    // full benchmark name, e.g. "BM_EngineCommit/2"
    std::string denominator;
    std::string counter;      // "" = CPU time per iteration, else this counter's value
  };
  RatioReporter(std::vector<Pair> pairs, OutputOptions options)
      : ConsoleReporter(options), pairs_(std::move(pairs)) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      if (run.run_type != Run::RT_Iteration || run.error_occurred) continue;
      Measured& measured = measured_[run.benchmark_name()];
      measured.cpu_ns = run.GetAdjustedCPUTime() *
                        benchmark::GetTimeUnitMultiplier(benchmark::kNanosecond) /
                        benchmark::GetTimeUnitMultiplier(run.time_unit);
      for (const auto& [name, counter] : run.counters) measured.counters[name] = counter.value;
    }
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    for (const Pair& pair : pairs_) {
      const double top = Value(pair.numerator, pair.counter);
      const double bottom = Value(pair.denominator, pair.counter);
      if (top < 0 || bottom <= 0) continue;
      const std::string what = pair.counter.empty() ? "CPU per iteration" : pair.counter;
      GetOutputStream() << absl::StrFormat("ratio %s / %s = %.2fx (%s: %.4g / %.4g)\n",
                                           pair.numerator, pair.denominator, top / bottom, what,
                                           top, bottom);
    }
  }

 private:
  struct Measured {
    double cpu_ns = 0;
    std::map<std::string, double> counters;
  };
  double Value(const std::string& name, const std::string& counter) const {
    auto it = measured_.find(name);
    if (it == measured_.end()) return -1;
    if (counter.empty()) return it->second.cpu_ns;
    auto c = it->second.counters.find(counter);
    return c == it->second.counters.end() ? -1 : c->second;
  }

  std::vector<Pair> pairs_;
  std::map<std::string, Measured> measured_;
};

// The console options --benchmark_color and --benchmark_counters_tabular ask
// for (the last of each wins; colour by default only on a terminal, counters
// in columns by default), as
// Google Benchmark sets them for its own console reporter: a reporter passed
// in keeps the options it was made with, and the default ones wrote colour
// codes into a pipe or a file (before a ratio line too).
inline benchmark::ConsoleReporter::OutputOptions ConsoleOptionsOf(int argc, char** argv) {
  auto value_of = [argc, argv](std::string_view flag) -> std::string_view {
    std::string_view value = "auto";
    for (int i = 1; i < argc; ++i) {
      const std::string_view arg = argv[i];
      if (arg.size() > flag.size() && arg.substr(0, flag.size()) == flag && arg[flag.size()] == '=') {
        value = arg.substr(flag.size() + 1);
      }
    }
    return value;
  };
  auto yes = [](std::string_view value) { return value == "true" || value == "yes" || value == "1"; };
  const std::string_view color = value_of("--benchmark_color");
  int options = benchmark::ConsoleReporter::OO_None;
  if (yes(color) || (color == "auto" && isatty(STDOUT_FILENO) != 0)) options |= benchmark::ConsoleReporter::OO_Color;
  // Counters in columns unless turned off (these binaries always showed them so).
  const std::string_view tabular = value_of("--benchmark_counters_tabular");
  if (tabular == "auto" || yes(tabular)) options |= benchmark::ConsoleReporter::OO_Tabular;
  return static_cast<benchmark::ConsoleReporter::OutputOptions>(options);
}

// main() for a benchmark binary that ends with the given ratios.
inline int RunWithRatios(int argc, char** argv, std::vector<RatioReporter::Pair> pairs) {
  const benchmark::ConsoleReporter::OutputOptions options = ConsoleOptionsOf(argc, argv);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  RatioReporter reporter(std::move(pairs), options);
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}

}  // namespace bench
