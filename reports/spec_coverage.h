// Spec-state coverage in reports: the "spec_states" and "spec_coverage"
// values inside summary.json's (and coverage.json's) "coverage", and the
// spec-coverage section of index.html (issue 21; harness/conformance.h).
//
// JSON form:
//   "spec_states": { "<N>": [key, ...], ... }   // sorted KtmTwoPhaseCrash keys
//   "spec_coverage": [ { "rms": N,
//       "two_phase": [reached, states], "crash": [reached, states],
//       "two_phase_unreached": ["tm=init rm=[...] ...", ...],  // BFS order
//       "unreached_ktm_impossible": K } ... ]   // N = 1..kSpecCoverageRmsMax
// "spec_states" is the merge-able raw form (set union, so any order of runs
// and shards gives the same bytes); "spec_coverage" is a pure function of it
// (SpecCoverageFigures), recomputed and compared when a summary is parsed.
// unreached_ktm_impossible counts the unreached states that KTM cannot reach
// without a crash (not AtMostOneRmInFlight): the test
// SpecCoverage.KtmCannotReachTwoUndecidedRmMoves shows why.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "absl/status/status.h"
#include "nlohmann/json.hpp"

namespace reports {

// The numbers of RMs the figures are given for (the classic TLC figures are for 3).
inline constexpr int kSpecCoverageRmsMax = 3;

nlohmann::ordered_json SpecStatesJson(const std::map<int, std::set<uint64_t>>& spec_states);
nlohmann::ordered_json SpecCoverageJson(const std::map<int, std::set<uint64_t>>& spec_states);

// Reads "spec_states" (absent: none) into *spec_states and checks that
// "spec_coverage" (if present) matches it; kInvalidArgument otherwise.
absl::Status ReadSpecStates(const nlohmann::ordered_json& coverage, std::map<int, std::set<uint64_t>>* spec_states);

// index.html's section: one line per N with both fractions, and the
// unreached KtmTwoPhase states in a collapsed <details>. "" when absent.
std::string SpecCoverageHtml(const nlohmann::ordered_json& coverage);

}  // namespace reports
