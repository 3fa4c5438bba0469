// The checker catalog: the one list of the checkers (model/checkers.h) with,
// for each, its name, the function that runs it alone, and whether it judges
// safety (nothing bad ever happens: holds on every prefix of a run, under
// any faults) or liveness (something good eventually happens: only judged
// once faults stop, and not promised beyond the recoverable fault budget).
// Everything that lists checkers reads it: RuleNames(), CheckAll's order,
// scenario validation (harness AllCheckerNames) and the runner's choice of
// rules. Adding a checker = one function in checkers.* plus one line here.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "model/checkers.h"
#include "model/history.h"

namespace model {

enum class CheckerKind : uint8_t { kSafety, kLiveness };

// "safety" / "liveness".
const char* CheckerKindName(CheckerKind kind);

struct CheckerInfo {
  std::string_view name;   // as written in scenarios and reports
  CheckerKind kind;
  // Runs this checker alone; termination_bound_ns matters to liveness only.
  std::vector<Violation> (*check)(const History& history, int64_t termination_bound_ns);
  std::string_view promise;  // one line: what it checks
};

// Every checker, in the order CheckAll runs them.
const std::vector<CheckerInfo>& CheckerCatalog();

// Adds a checker at the end of the catalog (docs/extending.md): scenarios
// may then name it, CheckAll runs it, and runs report it like the built-in
// ones. `name` and `promise` must outlive the process (string literals).
// Call at start-up, before any run (the catalog is not locked against runs).
// Errors: kInvalidArgument (no name or function), kAlreadyExists.
absl::Status RegisterChecker(const CheckerInfo& checker);

// The catalog entry named `name`, or nullptr.
const CheckerInfo* FindChecker(std::string_view name);

// `rules` (empty = the whole catalog) without the liveness checkers, order
// kept (unknown names too, so CheckAll still reports them): what a run may
// still promise when its faults went beyond the recoverable budget.
std::vector<std::string> SafetyRules(const std::vector<std::string>& rules);

}  // namespace model
