// Command-line parsing for ktmsim subcommands on top of Abseil flags.
//
// absl::ParseCommandLine exits with status 1 on a bad flag, but ktmsim
// promises exit status 2 for bad input, and each subcommand accepts only its
// own flags. So arguments are parsed here with Abseil's reflection API
// (absl::FindCommandLineFlag + ParseFrom): "--name=value", "--name value",
// "-name=value", boolean "--name" / "--noname", and "--" ending the flags.
// A '-' inside a flag name counts as '_': "--planted-bug 4" is --planted_bug.
// Values go into the ABSL_FLAG variables of cli/flags.h.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace cli {

// Exit statuses of every subcommand (docs/cli.md).
inline constexpr int kExitPass = 0;      // every run passed
inline constexpr int kExitFail = 1;      // some run failed (its `passed` is false)
inline constexpr int kExitBadInput = 2;  // bad flags, scenario, seeds, shard or files

struct ParsedArgs {
  std::vector<std::string> positional;
  std::set<std::string> specified;  // flags given on the command line
  bool help = false;                // --help / -h / --helpfull was given
};

// Parses `args` (the words after the subcommand). Flags not in `allowed`
// and unparsable values are errors (kInvalidArgument, message names the flag).
absl::StatusOr<ParsedArgs> ParseArgs(const std::vector<std::string>& args,
                                     const std::vector<std::string>& allowed);

// The "flags:" part of a subcommand's usage: each allowed flag with its help
// text and default value, from the flag registry unless `defaults` gives
// this command's own (a flag shared by commands with different defaults).
std::string FlagsUsage(const std::vector<std::string>& allowed,
                       const std::map<std::string, std::string>& defaults = {});

// The one spelling of a flag in help, errors and docs: "--planted-bug" for
// planted_bug (the parser also takes the underscore form).
std::string FlagSpelling(const std::string& name);

// Prints "ktmsim <command>: <message>" and a pointer to --help on stderr;
// returns kExitBadInput.
int UsageError(const std::string& command, const std::string& message);

}  // namespace cli
