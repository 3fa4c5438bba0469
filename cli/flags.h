// The flags of every ktmsim subcommand, defined once (flags.cc) with Abseil
// flags. Which subcommand accepts which flag is decided by the subcommand's
// flag list (cli/args.h), not here: --out means the same for run and merge.
// A '-' in a flag name on the command line is read as '_' (--planted-bug).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/status/statusor.h"

ABSL_DECLARE_FLAG(std::string, seeds);
ABSL_DECLARE_FLAG(int32_t, jobs);
ABSL_DECLARE_FLAG(std::string, out);
ABSL_DECLARE_FLAG(std::string, shard);
ABSL_DECLARE_FLAG(bool, quiet);
ABSL_DECLARE_FLAG(uint64_t, failure_folders_max);
ABSL_DECLARE_FLAG(uint64_t, seed);
ABSL_DECLARE_FLAG(std::string, schedule);
ABSL_DECLARE_FLAG(bool, trace);
ABSL_DECLARE_FLAG(uint32_t, planted_bug);
ABSL_DECLARE_FLAG(bool, rm_contract);
ABSL_DECLARE_FLAG(int32_t, shrink_budget);
ABSL_DECLARE_FLAG(int32_t, budget);
ABSL_DECLARE_FLAG(std::string, format);
ABSL_DECLARE_FLAG(uint32_t, depth);
ABSL_DECLARE_FLAG(bool, target_spec_states);
ABSL_DECLARE_FLAG(std::string, spec_baseline);
ABSL_DECLARE_FLAG(std::string, fault_points);
ABSL_DECLARE_FLAG(std::string, strategy);
ABSL_DECLARE_FLAG(uint32_t, pct_depth);
ABSL_DECLARE_FLAG(std::string, kind);
ABSL_DECLARE_FLAG(std::vector<std::string>, rm_option);

namespace cli {

// --planted-bug checked against ktm/bugs.h: 0 (none) or a planted bug's
// number; kInvalidArgument naming the valid range otherwise.
absl::StatusOr<uint32_t> PlantedBugFromFlag();

// --strategy and --pct-depth checked: "" (the scenario's) or fifo, random,
// pct; 0 (the scenario's) to 64. kInvalidArgument naming the flag otherwise.
absl::Status ScheduleFlags(std::string* strategy, uint32_t* pct_depth);

}  // namespace cli
