// Finding and loading the scenarios of a ktmsim run: every *.toml file of
// each directory argument (not recursive, sorted by name) and every file
// argument, each loaded once. Loading is all or nothing: every error of
// every file is collected, so one invocation shows them all.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "harness/scenario.h"

namespace cli {

struct ScenarioSet {
  std::vector<harness::Scenario> scenarios;  // in argument order, directories sorted
  std::vector<std::string> errors;           // "file:line:col: message" lines
};

// Limit: bytes of an input file read to tell text from binary.
inline constexpr size_t kInputSniffBytes = 64 * 1024;

// An input file (scenario, schedule) is refused at once unless it is a
// readable regular file whose first kInputSniffBytes hold no NUL byte: a
// FIFO would block the read, a binary file would give pages of parse errors.
absl::Status CheckInputFile(const std::string& path);

// Loads the scenarios named by `paths` (files or directories). A duplicate
// scenario name, a missing path or a directory without *.toml files is an
// error too, reported in the same "path:line:col: message" form.
ScenarioSet LoadScenarios(const std::vector<std::string>& paths);

}  // namespace cli
