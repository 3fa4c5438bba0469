// The work of `ktmsim run`: seed ranges, shards and the (scenario, seed)
// items a shard runs.
//
// Items are numbered scenario-major: item k is scenario k / seed_count with
// seed first + k % seed_count. Shard i of n owns the items with
// k % n == i - 1, so the shards of a run are disjoint, together cover every
// item, and each one's work does not depend on how many jobs run it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace cli {

// Limit: items one ktmsim run process may hold (results are kept in memory
// until the summary is written). More: split with --shard.
inline constexpr uint64_t kItemsPerProcessMax = 20'000'000;

struct SeedRange {
  uint64_t first = 1;
  uint64_t last = 20;  // inclusive
  uint64_t count() const { return last - first + 1; }
};

// "N" -> 1..N (N >= 1); "A-B" -> A..B inclusive (A <= B). Errors are
// kInvalidArgument with a message for the user.
absl::StatusOr<SeedRange> ParseSeedRange(const std::string& text);

struct Shard {
  uint64_t index = 1;  // 1-based
  uint64_t count = 1;
};

// "i/n" with 1 <= i <= n.
absl::StatusOr<Shard> ParseShard(const std::string& text);

struct WorkItem {
  size_t scenario = 0;  // index into the loaded scenarios
  uint64_t seed = 0;
};

// The items of `shard` for `scenario_count` scenarios x `seeds`, in item
// order. kInvalidArgument when there would be more than kItemsPerProcessMax.
absl::StatusOr<std::vector<WorkItem>> ShardItems(size_t scenario_count, const SeedRange& seeds,
                                                 const Shard& shard);

// As ShardItems, but a scenario whose `pinned` list is non-empty runs
// exactly those seeds (a regression scenario: harness::Scenario::seeds)
// instead of `seeds`. Items are still numbered scenario-major and shard i of
// n owns those with k % n == i - 1.
absl::StatusOr<std::vector<WorkItem>> ShardItemsPinned(const std::vector<std::vector<uint64_t>>& pinned,
                                                       const SeedRange& seeds, const Shard& shard);

}  // namespace cli
