// Rendering and parsing of a run's replay command (see run_identity.h).
// The renderer and the parser are written against each other: every option
// the renderer writes, the parser reads, and a test round-trips both.
#include "harness/run_identity.h"

#include "ktm/bugs.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace harness {

namespace {
std::vector<std::string>& Plugins() {
  static auto* plugins = new std::vector<std::string>();
  return *plugins;
}
}  // namespace

void AddLoadedPlugin(std::string path) { Plugins().push_back(std::move(path)); }
const std::vector<std::string>& LoadedPlugins() { return Plugins(); }

std::string PlantedBugName(uint32_t bug) { return bug == 0 ? "" : std::string(ktm::PlantedBugName(bug)); }
namespace {

bool SafeShellChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("_./:,=+@%-").find(c) != std::string_view::npos;
}

absl::Status BadCommand(std::string_view command, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat("not a replay command (", why, "): ", std::string(command)));
}

bool ParseNumber(const std::string& text, uint64_t* value) {
  return !text.empty() && text.find_first_not_of("0123456789") == std::string::npos &&
         absl::SimpleAtoi(text, value);
}

}  // namespace

std::string ShellQuote(std::string_view word) {
  bool safe = !word.empty();
  for (char c : word) safe = safe && SafeShellChar(c);
  if (safe) return std::string(word);
  std::string quoted = "'";
  for (char c : word) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted.push_back(c);
    }
  }
  return quoted + "'";
}

absl::StatusOr<std::vector<std::string>> ShellSplit(std::string_view line) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
      continue;
    }
    in_word = true;
    if (c == '\'') {
      const size_t end = line.find('\'', i + 1);
      if (end == std::string_view::npos) return absl::InvalidArgumentError("unterminated '");
      word.append(line.substr(i + 1, end - i - 1));
      i = end;
    } else if (c == '"') {
      for (++i; i < line.size() && line[i] != '"'; ++i) {
        if (line[i] == '\\' && i + 1 < line.size() &&
            std::string_view("\"\\$`").find(line[i + 1]) != std::string_view::npos) {
          ++i;
        }
        word.push_back(line[i]);
      }
      if (i >= line.size()) return absl::InvalidArgumentError("unterminated \"");
    } else if (c == '\\') {
      if (i + 1 >= line.size()) return absl::InvalidArgumentError("\\ at the end");
      word.push_back(line[++i]);
    } else {
      word.push_back(c);
    }
  }
  if (in_word) words.push_back(std::move(word));
  return words;
}

std::vector<std::string> ReplayArguments(const RunIdentity& identity) {
  std::vector<std::string> words = {"replay", identity.scenario_file, "--seed", absl::StrCat(identity.seed)};
  const auto add = [&words](const char* flag, std::string value) {
    words.push_back(flag);
    words.push_back(std::move(value));
  };
  if (!identity.strategy.empty()) add("--strategy", identity.strategy);
  if (identity.pct_depth != 0) add("--pct-depth", absl::StrCat(identity.pct_depth));
  if (!identity.schedule_file.empty()) add("--schedule", identity.schedule_file);
  if (!identity.fault_points.empty()) add("--fault-points", identity.fault_points);
  if (identity.planted_bug != 0) add("--planted-bug", absl::StrCat(identity.planted_bug));
  if (identity.rm_contract) words.push_back("--rm-contract");
  for (const std::string& plugin : identity.plugins) add("--plugin", plugin);
  return words;
}

std::string ReplayCommandLine(const RunIdentity& identity, std::string_view program) {
  std::string line(program);
  for (const std::string& word : ReplayArguments(identity)) absl::StrAppend(&line, " ", ShellQuote(word));
  return line;
}

absl::StatusOr<RunIdentity> ParseReplayCommandLine(std::string_view command) {
  absl::StatusOr<std::vector<std::string>> words = ShellSplit(command);
  if (!words.ok()) return BadCommand(command, std::string(words.status().message()));
  if (words->size() < 3 || (*words)[1] != "replay") return BadCommand(command, "expected PROGRAM replay FILE");
  RunIdentity identity;
  identity.plugins.clear();  // only what the command names
  bool have_seed = false;
  for (size_t i = 2; i < words->size(); ++i) {
    const std::string& word = (*words)[i];
    if (word.rfind("--", 0) != 0) {
      if (!identity.scenario_file.empty()) return BadCommand(command, "two scenario files");
      identity.scenario_file = word;
      continue;
    }
    if (word == "--rm-contract") {  // the one option without a value
      identity.rm_contract = true;
      continue;
    }
    if (i + 1 >= words->size()) return BadCommand(command, absl::StrCat(word, " needs a value"));
    const std::string& value = (*words)[++i];
    uint64_t number = 0;
    const bool numeric = ParseNumber(value, &number);
    if (word == "--seed" && numeric) {
      identity.seed = number;
      have_seed = true;
    } else if (word == "--strategy") {
      identity.strategy = value;
    } else if (word == "--pct-depth" && numeric && number <= UINT32_MAX) {
      identity.pct_depth = static_cast<uint32_t>(number);
    } else if (word == "--schedule") {
      identity.schedule_file = value;
    } else if (word == "--fault-points") {
      identity.fault_points = value;
    } else if (word == "--planted-bug" && numeric && number <= UINT32_MAX) {
      identity.planted_bug = static_cast<uint32_t>(number);
    } else if (word == "--plugin") {
      identity.plugins.push_back(value);
    } else {
      return BadCommand(command, absl::StrCat("bad option ", word, " ", value));
    }
  }
  if (identity.scenario_file.empty() || !have_seed) return BadCommand(command, "needs FILE and --seed");
  if (!identity.schedule_file.empty() && !identity.fault_points.empty()) {
    return BadCommand(command, "--schedule and --fault-points exclude each other");
  }
  return identity;
}

void ApplyScheduleOverrides(const RunIdentity& identity, Scenario* scenario) {
  if (!identity.strategy.empty()) scenario->schedule_strategy = identity.strategy;
  if (identity.pct_depth != 0) scenario->schedule_pct_depth = identity.pct_depth;
}

}  // namespace harness
