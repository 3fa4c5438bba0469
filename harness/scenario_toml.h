// Scenario files: TOML -> Scenario. The format is documented key by key in
// scenarios/README.md.
//
// Contract: a load either returns a Scenario that passes Validate(), or an
// error (kInvalidArgument; kNotFound when the file cannot be opened) whose
// message lists EVERY problem found, one per line, each exactly
//   <file>:<line>:<column>: <toml path>: <message>
// (lines and columns 1-based; a problem in a schedule_file names that file;
// a TOML syntax error stops parsing, so it is reported alone, and without the
// toml path). Unknown keys, wrong types, unrepresentable values, missing
// required keys and everything Validate() finds are all reported, with a
// "did you mean" hint for a close key or value name.
//
// Times: a time field `foo` is written as exactly one of the keys `foo_ns`,
// `foo_us`, `foo_ms` or `foo_s`, an integer or a float that comes to a whole
// number of nanoseconds (`think_us = 250`, `timeout_s = 0.5`).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "harness/scenario.h"
#include "sim/time.h"

namespace harness {

// Reads and loads a scenario file. A name not given in the file is the file's
// stem ("scenarios/soak.toml" -> "soak"); Scenario::file is `path`.
absl::StatusOr<Scenario> LoadScenarioFile(const std::string& path);

// Loads scenario text; `path_for_messages` prefixes every problem, gives the
// default name (its stem), and is the base for a relative schedule_file.
absl::StatusOr<Scenario> LoadScenarioString(const std::string& text,
                                            const std::string& path_for_messages);

// The conversion behind time keys: `value` in `unit` ("ns", "us", "ms", "s")
// as nanoseconds. Errors (kInvalidArgument): unknown unit, negative, not a
// whole number of nanoseconds, beyond int64 nanoseconds (about 292 years).
absl::StatusOr<sim::TimeNs> TimeToNanoseconds(int64_t value, const std::string& unit);
absl::StatusOr<sim::TimeNs> TimeToNanoseconds(double value, const std::string& unit);

// Every key the loader looks for while loading `text` (present or not), as
// sorted dotted paths without array indexes ("hosts.log_disk.flush_latency.kind",
// "workload.timeout_<unit>"). With a document that has every table, this is
// the whole format: tests use it to check that scenarios/README.md documents
// every key. Errors as LoadScenarioString.
absl::StatusOr<std::vector<std::string>> ScenarioKeysRead(const std::string& text);

}  // namespace harness
