// Scenario collection and loading (see scenario_set.h). Paths are kept as
// the user spelled them (lexically normalised), because they appear in
// replay commands and in summary.json, which must not depend on the machine.
#include "cli/scenario_set.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <system_error>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "harness/scenario_toml.h"

namespace cli {
namespace {

namespace fs = std::filesystem;

std::string Normal(const fs::path& path) {
  std::string text = path.lexically_normal().string();
  while (text.size() > 1 && text.back() == '/') text.pop_back();
  return text;
}

// The files a path argument stands for; errors appended to `errors`.
std::vector<std::string> FilesOf(const std::string& argument, std::vector<std::string>* errors) {
  std::error_code error;
  const fs::file_status status = fs::status(argument, error);
  if (error || !fs::exists(status)) {
    errors->push_back(absl::StrCat(argument, ":1:1: no such file or directory"));
    return {};
  }
  if (!fs::is_directory(status)) return {Normal(argument)};
  std::vector<std::string> files;
  for (const fs::directory_entry& entry : fs::directory_iterator(argument, error)) {
    if (entry.path().extension() == ".toml" && !entry.is_directory()) {
      files.push_back(Normal(fs::path(argument) / entry.path().filename()));
    }
  }
  if (error) {
    errors->push_back(absl::StrCat(argument, ":1:1: cannot list directory: ", error.message()));
  }
  std::sort(files.begin(), files.end());
  if (files.empty() && !error) {
    errors->push_back(absl::StrCat(argument, ":1:1: no *.toml scenario files in this directory"));
  }
  return files;
}

// The loader's message is one or more "file:line:col: message" lines; pass
// them through, prefixing a bare message with the file name.
void AppendLoadErrors(const std::string& file, const std::string& message,
                      std::vector<std::string>* errors) {
  for (absl::string_view line : absl::StrSplit(message, '\n', absl::SkipEmpty())) {
    if (line.substr(0, file.size()) == file) {
      errors->emplace_back(line);
    } else {
      errors->push_back(absl::StrCat(file, ":1:1: ", line));
    }
  }
}

}  // namespace

absl::Status CheckInputFile(const std::string& path) {
  std::error_code error;
  const fs::file_status status = fs::status(path, error);
  if (error || !fs::exists(status)) return absl::NotFoundError("no such file");
  if (fs::is_directory(status)) return absl::InvalidArgumentError("is a directory; name a file");
  if (!fs::is_regular_file(status)) {
    return absl::InvalidArgumentError("not a regular file (a FIFO, socket or device): refused");
  }
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return absl::PermissionDeniedError(absl::StrCat("cannot read: ", std::strerror(errno)));
  char buffer[kInputSniffBytes];
  const ssize_t got = ::read(fd, buffer, sizeof buffer);
  ::close(fd);
  if (got < 0) return absl::PermissionDeniedError(absl::StrCat("cannot read: ", std::strerror(errno)));
  if (std::memchr(buffer, '\0', static_cast<size_t>(got)) != nullptr) {
    return absl::InvalidArgumentError("binary file (a NUL byte), not text: refused");
  }
  return absl::OkStatus();
}

ScenarioSet LoadScenarios(const std::vector<std::string>& paths) {
  ScenarioSet set;
  std::set<std::string> seen_files;
  std::map<std::string, std::string> file_of_name;
  for (const std::string& argument : paths) {
    for (const std::string& file : FilesOf(argument, &set.errors)) {
      if (!seen_files.insert(file).second) continue;
      if (absl::Status input = CheckInputFile(file); !input.ok()) {
        set.errors.push_back(absl::StrCat(file, ":1:1: ", input.message()));
        continue;
      }
      absl::StatusOr<harness::Scenario> scenario = harness::LoadScenarioFile(file);
      if (!scenario.ok()) {
        AppendLoadErrors(file, std::string(scenario.status().message()), &set.errors);
        continue;
      }
      if (scenario->file.empty()) scenario->file = file;
      auto [it, inserted] = file_of_name.emplace(scenario->name, file);
      if (!inserted) {
        set.errors.push_back(absl::StrCat(file, ":1:1: scenario name '", scenario->name,
                                          "' is already used by ", it->second));
        continue;
      }
      set.scenarios.push_back(*std::move(scenario));
    }
  }
  return set;
}

}  // namespace cli
