// Summary of a swarm of runs: summary.json (machine-readable), junit.xml
// (for CI) and the stdout table, all derived from one JSON value.
//
// Contract: the summary is a pure function of the set of (scenario, seed)
// runs and their results. It holds no timestamps, wall-clock times, job
// counts or shard numbers; scenarios are sorted by name and runs and
// failures by seed. So a run with --jobs 1 and one with --jobs 8 write the
// same bytes, and MergeSummaries of the shards of a run equals the summary
// of the unsharded run, byte for byte once printed with SummaryText.
//
// summary.json, schema "ktmsim-summary" version 1:
//   { "schema": "ktmsim-summary", "version": 1, "failure_folders_max": K,
//     "totals": { "scenarios", "runs", "passed", "failed", "failure_folders",
//                 "transactions", "committed", "aborted", "unresolved",
//                 "faults_injected" },
//     "scenarios": [ { "name", "file", "seeds_run", "passed", "failed",
//                      "transactions", "committed", "aborted", "unresolved",
//                      "faults_injected",
//                      "failures": [ { "scenario", "seed", "expected", "rules",
//                                      "violations": [{"rule","tx","message"}],
//                                      "digest", "replay", "folder" } ],
//                      "runs": [ [seed, "digest", passed], ... ] } ],
//     "coverage": { states x fault kinds, code probes: reports/coverage_json.h } }
// "digest" is the 16 hex digit trace digest (sim::DigestHex's form),
// "folder" is relative to the report directory ("failures/<scenario>-<seed>";
// "" for a failure beyond the folder limits, see BuildSummary),
// "expected" is "pass", "fail" or "fail:<rule>".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "harness/coverage.h"
#include "harness/runner.h"
#include "harness/scenario.h"
#include "nlohmann/json.hpp"

namespace reports {

using Json = nlohmann::ordered_json;

inline constexpr char kSummarySchema[] = "ktmsim-summary";
inline constexpr int kSummaryVersion = 1;

// A scenario that took part in a run; listed in the summary even when this
// shard ran none of its seeds, so shard summaries merge to the whole.
struct ScenarioInfo {
  std::string name;
  std::string file;
};

struct ViolationRecord {
  std::string rule;
  std::string tx;
  std::string message;
};

// What the summary keeps of one run (a RunResult without trace and history).
struct RunRecord {
  std::string scenario;
  uint64_t seed = 0;
  bool passed = false;
  uint64_t digest = 0;
  uint64_t transactions = 0, committed = 0, aborted = 0, unresolved = 0;
  uint64_t faults_injected = 0;
  std::string expected = "pass";           // "pass" | "fail" | "fail:<rule>"
  std::vector<ViolationRecord> violations;  // kept for failed runs only
  std::string replay_command;              // failed runs only
  harness::Coverage coverage;              // summed into the summary's "coverage"
};

// "pass", "fail" or "fail:<rule>" for the scenario's expectation.
std::string ExpectationText(const harness::Scenario& scenario);

// The record of one run; the replay command is result.identity's
// (harness/run_identity.h).
RunRecord MakeRunRecord(const harness::Scenario& scenario, const harness::RunResult& result);

// Limit: failure folders per scenario unless --failure_folders_max says
// otherwise. A broken build can fail every run of a large swarm; each folder
// costs a re-run with its trace and disk space.
inline constexpr uint64_t kFailureFoldersMaxDefault = 100;

// Limit: failure folders per signature within a scenario (the failed runs
// with the smallest seeds): 80 runs failing the same way need not cost 80
// folders; the rest are listed in summary.json with their replay commands.
inline constexpr uint64_t kFailureFoldersPerSignatureMax = 10;

// A failure's signature: its violated rules ("atomicity, agreement"), for an
// engine assertion the check and its source line ("assertion: KTM_ASSERT(x)
// failed at ktm/kernel.cc:120"), or "no violation, expected fail:<rule>".
// The console groups failures by it; folders are capped per signature.
std::string FailureSignature(const Json& failure);

// summary.json's value for these runs. Per scenario, the failed runs with the
// `failure_folders_max` smallest seeds get a folder ("folder" non-empty);
// because that choice depends only on the set of failed seeds, shards and
// merge agree on it (the smallest K of a union are among the smallest K of
// each part). Errors (kInvalidArgument): a record names a scenario not in
// `scenarios`, two records share (scenario, seed), two scenarios share a
// name with different files.
absl::StatusOr<Json> BuildSummary(const std::vector<ScenarioInfo>& scenarios,
                                  const std::vector<RunRecord>& records,
                                  uint64_t failure_folders_max = kFailureFoldersMaxDefault);

// Parses and validates summary.json text (schema, version, field types and
// that the counts agree with the run lists). Errors are kInvalidArgument.
absl::StatusOr<Json> ParseSummary(const std::string& text);

// One summary from the summaries of disjoint shards: scenarios united by
// name, counts added, runs and failures united and sorted, folders assigned
// again by the limit. Every input must pass ParseSummary's checks. Errors
// (kInvalidArgument): no input, a (scenario, seed) in two inputs, one
// scenario name with two different files, different failure_folders_max.
absl::StatusOr<Json> MergeSummaries(const std::vector<Json>& summaries);

// The bytes of summary.json: indented JSON whose arrays of scalars are kept
// on one line (one line per run), ending in a newline.
std::string SummaryText(const Json& summary);

// JUnit XML for a summary: one <testsuite> per scenario, one failing
// <testcase> per failed seed ("seed S"), one aggregated passing <testcase>
// per scenario named "passing seeds" (a stable name; "P of N seeds passed"
// in its system-out) when any seed passed, and a skipped one when the
// scenario ran no seeds (an empty shard). Every text is XML-escaped.
std::string JunitXml(const Json& summary);

// The table printed on stdout: scenario, seeds, pass, fail, committed,
// aborted, with a total row.
std::string SummaryTable(const Json& summary);

// XML escaping: & < > " ' become references; in an attribute value line
// breaks and tabs do too (element text keeps them as they are); control
// characters and bytes that XML 1.0 cannot carry (not well-formed UTF-8)
// become the text "\xNN".
std::string XmlEscape(std::string_view text, bool in_attribute = true);

// "%016x": the form of sim::DigestHex, kept here so the summary's format is
// defined in one place.
std::string DigestText(uint64_t digest);

}  // namespace reports
