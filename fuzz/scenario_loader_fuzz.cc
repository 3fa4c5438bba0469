// Fuzz target: the scenario loader (harness/scenario_toml.h) on arbitrary
// text. Properties: it never crashes, asserts or reaches undefined
// behaviour (toml++ included: the pre-scan must refuse what toml++ cannot
// take); a problem message is one line per problem, each starting with the
// file name; a scenario it accepts passes Validate and survives a round
// trip through the writer (harness/scenario_toml_writer.h).
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "fuzz/fuzz_check.h"
#include "harness/scenario.h"
#include "harness/scenario_toml.h"
#include "harness/scenario_toml_writer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const absl::StatusOr<harness::Scenario> scenario = harness::LoadScenarioString(text, "fuzz.toml");
  if (!scenario.ok()) {
    for (absl::string_view line : absl::StrSplit(scenario.status().message(), '\n')) {
      FUZZ_CHECK(absl::StartsWith(line, "fuzz.toml:"), "every problem names the file");
    }
    return 0;
  }
  FUZZ_CHECK(harness::Validate(*scenario).ok(), "a loaded scenario is valid");
  const std::string written = harness::ScenarioToToml(*scenario);
  const absl::StatusOr<harness::Scenario> again = harness::LoadScenarioString(written, "fuzz.toml");
  FUZZ_CHECK(again.ok(), "the writer's output loads");
  FUZZ_CHECK(harness::ScenarioToToml(*again) == written, "writing is a fixed point");
  return 0;
}
