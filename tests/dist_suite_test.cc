// The distributed-transaction scenarios (scenarios/dist_*.toml) over 500
// seeds each, in-process on two threads (label suite: minutes, not seconds,
// under sanitizers). Every run must pass every checker; a failure prints the
// replay command.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "harness/runner.h"
#include "harness/scenario_toml.h"

namespace {

constexpr uint64_t kSeeds = 500;
constexpr int kThreads = 2;

std::vector<std::string> DistScenarioFiles() {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(KTMSIM_SOURCE_DIR) + "/scenarios")) {
    const std::string name = entry.path().filename().string();
    if (absl::StartsWith(name, "dist_") && absl::EndsWith(name, ".toml")) files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(DistSuite, EveryDistributedScenarioPasses500Seeds) {
  const std::vector<std::string> files = DistScenarioFiles();
  ASSERT_GE(files.size(), 4u);
  for (const std::string& file : files) {
    absl::StatusOr<harness::Scenario> scenario = harness::LoadScenarioFile(file);
    ASSERT_TRUE(scenario.ok()) << scenario.status().message();
    std::atomic<uint64_t> next{1}, committed{0}, aborted{0};
    std::mutex mu;
    std::vector<std::string> failures;
    auto worker = [&] {
      for (uint64_t seed = next++; seed <= kSeeds; seed = next++) {
        harness::RunResult r = harness::RunScenario(*scenario, seed, {.keep_trace = false});
        committed += r.committed;
        aborted += r.aborted;
        if (r.passed) continue;
        std::lock_guard<std::mutex> lock(mu);
        std::string line = harness::ReplayCommandLine(r.identity);
        for (const auto& v : r.violations) line += "\n    " + v.rule + " " + v.tx + ": " + v.message;
        failures.push_back(line);
      }
    };
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) threads.emplace_back(worker);
    for (auto& t : threads) t.join();
    std::printf("%-28s %llu seeds, %llu committed, %llu aborted, %zu failures\n",
                scenario->name.c_str(), static_cast<unsigned long long>(kSeeds),
                static_cast<unsigned long long>(committed.load()), static_cast<unsigned long long>(aborted.load()),
                failures.size());
    std::sort(failures.begin(), failures.end());
    for (const std::string& f : failures) ADD_FAILURE() << f;
    EXPECT_GT(committed.load(), kSeeds) << scenario->name << ": too few commits to mean anything";
  }
}

}  // namespace
