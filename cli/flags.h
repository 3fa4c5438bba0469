// The flags of every ktmsim subcommand, defined once (flags.cc) with Abseil
// flags. Which subcommand accepts which flag is decided by the subcommand's
// flag list (cli/args.h), not here: --out means the same for run and merge.
#pragma once

#include <cstdint>
#include <string>

#include "absl/flags/declare.h"

ABSL_DECLARE_FLAG(std::string, seeds);
ABSL_DECLARE_FLAG(int32_t, jobs);
ABSL_DECLARE_FLAG(std::string, out);
ABSL_DECLARE_FLAG(std::string, shard);
ABSL_DECLARE_FLAG(bool, quiet);
ABSL_DECLARE_FLAG(uint64_t, failure_folders_max);
ABSL_DECLARE_FLAG(uint64_t, seed);
ABSL_DECLARE_FLAG(std::string, schedule);
ABSL_DECLARE_FLAG(bool, trace);
