// Test helper shared by the conformance tests: one run of a scenario from
// scenarios/ with a ConformanceChecker listening to its world.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "harness/conformance.h"
#include "harness/runner.h"
#include "harness/scenario_toml.h"
#include "sim/world.h"

namespace harness {

// Runs scenarios/<name>.toml with `seed` (no trace kept) and returns the
// checker that listened, the run's result in *result when given; nullptr
// (and a test failure) when the scenario does not load.
inline std::unique_ptr<ConformanceChecker> RunWithConformance(const std::string& name, uint64_t seed,
                                                              RunResult* result = nullptr) {
  auto scenario = LoadScenarioFile(std::string(KTMSIM_SOURCE_DIR) + "/scenarios/" + name + ".toml");
  if (!scenario.ok()) {
    ADD_FAILURE() << name << ": " << scenario.status();
    return nullptr;
  }
  std::unique_ptr<ConformanceChecker> checker;
  RunOptions options{.keep_trace = false};
  options.world_hook = [&checker](sim::World& world) { checker = std::make_unique<ConformanceChecker>(&world); };
  RunResult run = RunScenario(*scenario, seed, options);
  if (result != nullptr) *result = std::move(run);
  return checker;
}

}  // namespace harness
