// Engine benchmarks (Google Benchmark):
// - CPU time per commit through the whole engine (KTM + example RMs + logs +
//   scheduler) with zero-latency disks: 1 RM single-phase, 2 and 4 RMs 2PC;
// - the floor for the same commits (bench/floor_commit.h: a binary-heap event
//   loop of function pointers, nothing else), and at the end of the run one
//   line per RM count with the engine's CPU per commit over the floor's
//   ("ratio BM_EngineCommit/2 / BM_FloorCommit/2 = ...x", bench/ratio_reporter.h), both measured in
//   this one process;
// - runs (scenario x seed) per second of the default suite, and the ratio of
//   simulated time to wall time over those runs.
// Timing is measured here, never asserted in tests.
// For instruction counts (callgrind, perf stat) without the benchmark
// library's calibration runs: `engine_bench --commits=N --rms=R` sets up one
// engine, runs N commits and exits; the difference between two N gives the
// cost per commit, e.g.
//   valgrind --tool=callgrind engine_bench --commits=2000 --rms=2   (and 4000)
#include <benchmark/benchmark.h>

#include <array>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/engine_rig.h"
#include "bench/floor_commit.h"
#include "bench/ratio_reporter.h"
#include "harness/runner.h"
#include "harness/scenario_toml.h"
#include "ktm/api.h"
#include "ktm/kv/kv_rm.h"
#include "sim/world.h"

namespace {

// bench/engine_rig.h's engine; each commit writes k<n % 16> = v<n>. The
// texts are made without absl::StrCat (two strings built and freed per
// commit, ~270 instructions: the benchmark's own work, not the engine's):
// the 16 keys once, the value in one reused string.
struct Engine {
  explicit Engine(int rms) : rig(rms) {
    for (uint64_t i = 0; i < keys.size(); ++i) keys[i] = absl::StrCat("k", i);
  }
  bool CommitOne(uint64_t n) {
    char text[21] = {'v'};
    value.assign(text, std::to_chars(text + 1, text + sizeof(text), n).ptr);
    return rig.Commit(keys[n % keys.size()], value);
  }
  bench::EngineRig rig;
  std::array<std::string, 16> keys;
  std::string value;
};

void BM_EngineCommit(benchmark::State& state) {
  Engine engine(static_cast<int>(state.range(0)));
  uint64_t n = 0, failed = 0;
  for (auto _ : state) failed += engine.CommitOne(n++) ? 0 : 1;
  if (failed) state.SkipWithError("a commit failed");
  state.SetItemsProcessed(static_cast<int64_t>(n));
  state.SetLabel(state.range(0) == 1 ? "1 RM single-phase" : absl::StrCat(state.range(0), " RMs 2PC"));
}
BENCHMARK(BM_EngineCommit)->Arg(1)->Arg(2)->Arg(4);

void BM_FloorCommit(benchmark::State& state) {
  bench::FloorWorld floor(static_cast<uint32_t>(state.range(0)));
  uint64_t n = 0, failed = 0;
  for (auto _ : state) {
    failed += floor.CommitOne() ? 0 : 1;
    ++n;
  }
  if (failed) state.SkipWithError("a floor commit failed");
  state.SetItemsProcessed(static_cast<int64_t>(n));
  state.counters["events_per_commit"] =
      static_cast<double>(floor.events()) / static_cast<double>(std::max<uint64_t>(n, 1));
  state.SetLabel(state.range(0) == 1 ? "floor, 1 RM single-phase"
                                     : absl::StrCat("floor, ", state.range(0), " RMs 2PC"));
}
BENCHMARK(BM_FloorCommit)->Arg(1)->Arg(2)->Arg(4);

std::vector<harness::Scenario> DefaultSuite() {
  std::vector<harness::Scenario> out;
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(KTMSIM_SOURCE_DIR "/scenarios")) {
    if (e.path().extension() == ".toml") files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    auto s = harness::LoadScenarioFile(f);
    if (s.ok()) out.push_back(*s);
  }
  return out;
}

void BM_DefaultSuiteRuns(benchmark::State& state) {
  static const std::vector<harness::Scenario> suite = DefaultSuite();
  uint64_t seed = 1, runs = 0;
  double sim_ns = 0, wall_ns = 0;
  for (auto _ : state) {
    for (const auto& s : suite) {
      auto start = std::chrono::steady_clock::now();
      harness::RunResult r = harness::RunScenario(s, seed, {.keep_trace = false});
      wall_ns += std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
      sim_ns += static_cast<double>(r.sim_time_ns);
      benchmark::DoNotOptimize(r.digest);
      ++runs;
    }
    ++seed;
  }
  state.SetItemsProcessed(static_cast<int64_t>(runs));
  state.counters["sim_per_wall"] = sim_ns / std::max(wall_ns, 1.0);
  state.SetLabel(absl::StrCat(suite.size(), " scenarios; items = runs"));
}
BENCHMARK(BM_DefaultSuiteRuns)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  // --commits=N [--rms=R]: N commits through one engine, no benchmark library.
  uint64_t commits = 0;
  int rms = 2;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.starts_with("--commits=")) commits = std::strtoull(argv[i] + 10, nullptr, 10);
    if (arg.starts_with("--rms=")) rms = std::atoi(argv[i] + 6);
  }
  if (commits > 0) {
    if (rms < 1 || rms > 16) {
      std::fprintf(stderr, "engine_bench: --rms must be 1..16\n");
      return 2;
    }
    Engine engine(rms);
    uint64_t failed = 0;
    for (uint64_t n = 0; n < commits; ++n) failed += engine.CommitOne(n) ? 0 : 1;
    std::printf("%llu commits with %d RMs, %llu failed, %llu scheduler events, %llu trace events\n",
                static_cast<unsigned long long>(commits), rms, static_cast<unsigned long long>(failed),
                static_cast<unsigned long long>(engine.rig.world.scheduler().events_run()),
                static_cast<unsigned long long>(engine.rig.world.trace().count()));
    return failed == 0 ? 0 : 1;
  }
  return bench::RunWithRatios(argc, argv, {{"BM_EngineCommit/1", "BM_FloorCommit/1", ""},
                                           {"BM_EngineCommit/2", "BM_FloorCommit/2", ""},
                                           {"BM_EngineCommit/4", "BM_FloorCommit/4", ""}});
}
