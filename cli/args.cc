// Argument parsing for ktmsim subcommands (see args.h): a small loop over
// the words, each flag looked up in the Abseil registry, checked against the
// subcommand's list and parsed by the flag's own parser.
#include "cli/args.h"

#include <algorithm>
#include <cstdio>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace cli {
namespace {

bool IsHelp(const std::string& arg) {
  return arg == "--help" || arg == "-help" || arg == "-h" || arg == "--helpfull" ||
         arg == "-helpfull";
}

bool Allowed(const std::vector<std::string>& allowed, const std::string& name) {
  return std::find(allowed.begin(), allowed.end(), name) != allowed.end();
}

// Resolves "name" or, for booleans, "noname" to an allowed flag.
absl::StatusOr<absl::CommandLineFlag*> LookUp(const std::vector<std::string>& allowed,
                                              const std::string& name, bool* negated) {
  *negated = false;
  std::string resolved = name;
  if (!Allowed(allowed, name) && absl::StartsWith(name, "no") && Allowed(allowed, name.substr(2))) {
    resolved = name.substr(2);
    *negated = true;
  }
  absl::CommandLineFlag* flag =
      Allowed(allowed, resolved) ? absl::FindCommandLineFlag(resolved) : nullptr;
  if (flag == nullptr || (*negated && !flag->IsOfType<bool>())) {
    std::vector<std::string> spelled;
    for (const std::string& a : allowed) spelled.push_back(FlagSpelling(a));
    return absl::InvalidArgumentError(
        absl::StrCat("unknown flag ", FlagSpelling(name), " (accepted: ", absl::StrJoin(spelled, ", "), ")"));
  }
  return flag;
}

}  // namespace

std::string FlagSpelling(const std::string& name) {
  std::string spelled = name;
  std::replace(spelled.begin(), spelled.end(), '_', '-');
  return "--" + spelled;
}

absl::StatusOr<ParsedArgs> ParseArgs(const std::vector<std::string>& args,
                                     const std::vector<std::string>& allowed) {
  ParsedArgs parsed;
  for (const std::string& arg : args) {
    if (arg == "--") break;
    if (IsHelp(arg)) {
      parsed.help = true;
      return parsed;
    }
  }
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      parsed.positional.insert(parsed.positional.end(), args.begin() + i + 1, args.end());
      break;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      parsed.positional.push_back(arg);
      continue;
    }
    const std::string body = arg.substr(arg[1] == '-' ? 2 : 1);
    const size_t equals = body.find('=');
    std::string name = body.substr(0, equals);
    std::replace(name.begin(), name.end(), '-', '_');  // --planted-bug == --planted_bug
    bool negated = false;
    absl::StatusOr<absl::CommandLineFlag*> flag = LookUp(allowed, name, &negated);
    if (!flag.ok()) return flag.status();
    std::string value;
    if (equals != std::string::npos) {
      if (negated) return absl::InvalidArgumentError(absl::StrCat("--", name, " takes no value"));
      value = body.substr(equals + 1);
    } else if ((*flag)->IsOfType<bool>()) {
      value = negated ? "false" : "true";
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return absl::InvalidArgumentError(absl::StrCat("flag --", name, " needs a value"));
    }
    std::string error;
    if (!(*flag)->ParseFrom(value, &error)) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad value '", value, "' for --", (*flag)->Name(), ": ", error));
    }
    parsed.specified.insert(std::string((*flag)->Name()));
  }
  return parsed;
}

std::string FlagsUsage(const std::vector<std::string>& allowed,
                       const std::map<std::string, std::string>& defaults) {
  std::string usage = "flags:\n";
  for (const std::string& name : allowed) {
    const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr) continue;
    const auto own = defaults.find(name);
    const std::string default_value = own != defaults.end() ? own->second : flag->DefaultValue();
    absl::StrAppend(&usage, "  ", FlagSpelling(name),
                    default_value.empty()        ? ""
                    : default_value[0] == '(' ? absl::StrCat(" ", default_value)
                                              : absl::StrCat(" (default: ", default_value, ")"),
                    "\n      ", flag->Help(), "\n");
  }
  return usage;
}

int UsageError(const std::string& command, const std::string& message) {
  absl::FPrintF(stderr, "ktmsim %s: %s\nRun 'ktmsim %s --help' for usage.\n", command, message,
                command);
  return kExitBadInput;
}

}  // namespace cli
