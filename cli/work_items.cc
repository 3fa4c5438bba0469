// Parsing of --seeds and --shard and the expansion of a shard's items (see
// work_items.h). Overflow is checked before every multiplication: a seed
// range may span all of uint64_t.
#include "cli/work_items.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace cli {
namespace {

// Digits only: SimpleAtoi would also take "+5" and " 5".
bool ParseUnsigned(const std::string& text, uint64_t* value) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) return false;
  return absl::SimpleAtoi(text, value);
}

}  // namespace

absl::StatusOr<SeedRange> ParseSeedRange(const std::string& text) {
  const std::vector<std::string> parts = absl::StrSplit(text, '-');
  SeedRange range;
  const std::string expected = "expected N (seeds 1..N) or A-B (seeds A..B)";
  if (parts.size() == 1) {
    if (!ParseUnsigned(parts[0], &range.last) || range.last == 0) {
      return absl::InvalidArgumentError(absl::StrCat("bad --seeds '", text, "': ", expected,
                                                     ", N >= 1"));
    }
    range.first = 1;
    return range;
  }
  if (parts.size() != 2 || !ParseUnsigned(parts[0], &range.first) ||
      !ParseUnsigned(parts[1], &range.last)) {
    return absl::InvalidArgumentError(absl::StrCat("bad --seeds '", text, "': ", expected));
  }
  if (range.first > range.last) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad --seeds '", text, "': the range is empty (", range.first, " > ",
                     range.last, ")"));
  }
  return range;
}

absl::StatusOr<Shard> ParseShard(const std::string& text) {
  const std::vector<std::string> parts = absl::StrSplit(text, '/');
  Shard shard;
  if (parts.size() != 2 || !ParseUnsigned(parts[0], &shard.index) ||
      !ParseUnsigned(parts[1], &shard.count)) {
    return absl::InvalidArgumentError(absl::StrCat("bad --shard '", text, "': expected i/n"));
  }
  if (shard.count == 0 || shard.index == 0 || shard.index > shard.count) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad --shard '", text, "': need 1 <= i <= n"));
  }
  return shard;
}

absl::StatusOr<std::vector<WorkItem>> ShardItems(size_t scenario_count, const SeedRange& seeds,
                                                 const Shard& shard) {
  // 128-bit arithmetic: seeds may span all of uint64_t (count() would wrap).
  using Wide = unsigned __int128;
  const Wide per_scenario = Wide{seeds.last} - seeds.first + 1;
  const Wide total = per_scenario * scenario_count;
  const Wide start = shard.index - 1;
  const Wide mine = total > start ? (total - start + shard.count - 1) / shard.count : 0;
  if (mine > kItemsPerProcessMax || total > UINT64_MAX) {
    return absl::InvalidArgumentError(absl::StrCat(
        "too many runs: ", scenario_count, " scenarios x seeds ", seeds.first, "-", seeds.last,
        " gives this process more than ", kItemsPerProcessMax, " runs; split it with --shard"));
  }
  std::vector<WorkItem> items;
  items.reserve(static_cast<size_t>(mine));
  const uint64_t per = static_cast<uint64_t>(per_scenario);
  for (uint64_t k = shard.index - 1; k < static_cast<uint64_t>(total); k += shard.count) {
    items.push_back({static_cast<size_t>(k / per), seeds.first + k % per});
    if (UINT64_MAX - k < shard.count) break;  // k + count would wrap
  }
  return items;
}

absl::StatusOr<std::vector<WorkItem>> ShardItemsPinned(const std::vector<std::vector<uint64_t>>& pinned,
                                                       const SeedRange& seeds, const Shard& shard) {
  bool any = false;
  for (const std::vector<uint64_t>& list : pinned) any = any || !list.empty();
  if (!any) return ShardItems(pinned.size(), seeds, shard);
  std::vector<WorkItem> items;
  uint64_t k = 0;
  const auto add = [&](size_t scenario, uint64_t seed) -> absl::Status {
    if (k++ % shard.count == shard.index - 1) items.push_back({scenario, seed});
    if (items.size() > kItemsPerProcessMax) {
      return absl::InvalidArgumentError(absl::StrCat("too many runs: more than ", kItemsPerProcessMax,
                                                     " in this process; split it with --shard"));
    }
    return absl::OkStatus();
  };
  for (size_t scenario = 0; scenario < pinned.size(); ++scenario) {
    if (!pinned[scenario].empty()) {
      for (uint64_t seed : pinned[scenario]) {
        if (absl::Status status = add(scenario, seed); !status.ok()) return status;
      }
      continue;
    }
    for (uint64_t seed = seeds.first;; ++seed) {
      if (absl::Status status = add(scenario, seed); !status.ok()) return status;
      if (seed == seeds.last) break;
    }
  }
  return items;
}

}  // namespace cli
