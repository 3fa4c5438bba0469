// shrink.json: a report's shrink figures (harness::ShrinkSummary, per
// scenario and in total) and the record of every shrunk failure they come
// from, so `ktmsim merge` recomputes the figures of the union of its shards
// (a median does not merge; its inputs do). `ktmsim run` writes it when it
// shrinks; records are sorted by (scenario, seed), so --jobs and --shard +
// merge give the same bytes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "harness/shrink.h"
#include "reports/summary.h"

namespace cli {

struct ShrinkRecord {
  std::string scenario;
  uint64_t seed = 0;
  harness::ShrinkFigure figure;
};

// The file's JSON: {"budget", "total", "scenarios": {name: figures}, "failures": [records]}.
reports::Json ShrinkFiguresJson(int budget, std::vector<ShrinkRecord> records);

// The records of a shrink.json (InvalidArgument naming `where` and the field).
absl::StatusOr<std::vector<ShrinkRecord>> ShrinkRecordsFromJson(const reports::Json& json, const std::string& where);

}  // namespace cli
