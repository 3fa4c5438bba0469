// Report directory staging and commit (see output_dir.h), with
// std::filesystem and error codes (no exceptions escape).
#include "cli/output_dir.h"

#include <unistd.h>

#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "reports/report_files.h"

namespace cli {
namespace {

namespace fs = std::filesystem;

absl::Status FsError(const std::string& what, const fs::path& path, const std::error_code& error) {
  return absl::InternalError(absl::StrCat(what, " ", path.string(), ": ", error.message()));
}

absl::Status Rename(const fs::path& from, const fs::path& to) {
  std::error_code error;
  fs::rename(from, to, error);
  if (error) return FsError(absl::StrCat("rename ", from.string(), " to"), to, error);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> NormalizeOutDir(const std::string& dir) {
  std::string text = dir;
  while (text.size() > 1 && text.back() == '/') text.pop_back();
  if (text.empty() || text == "/" || text == "." || text == "..") {
    return absl::InvalidArgumentError(absl::StrCat("bad --out '", dir, "': name a directory"));
  }
  return text;
}

absl::StatusOr<ReportDirectory> ReportDirectory::Create(const std::string& dir) {
  std::error_code error;
  const fs::file_status status = fs::status(dir, error);
  if (fs::exists(status) && !fs::is_directory(status)) {
    return absl::InvalidArgumentError(absl::StrCat("--out ", dir, " exists and is not a directory"));
  }
  const fs::path parent = fs::path(dir).parent_path();
  if (!parent.empty()) {
    fs::create_directories(parent, error);
    if (error) return FsError("cannot create", parent, error);
  }
  const std::string staging = absl::StrCat(dir, ".tmp-", ::getpid());
  fs::remove_all(staging, error);  // a leftover of a crashed process with our pid
  fs::create_directory(staging, error);
  if (!error) fs::create_directory(fs::path(staging) / "failures", error);
  if (error) return FsError("cannot create", staging, error);
  return ReportDirectory(dir, staging);
}

absl::Status ReportDirectory::Commit() {
  std::error_code error;
  if (!fs::exists(dir_, error)) return Rename(staging_, dir_);
  const fs::path dir(dir_), staging(staging_);
  const fs::path old_failures = dir / absl::StrCat(".failures.old-", ::getpid());
  if (fs::exists(dir / "failures", error)) {
    if (absl::Status status = Rename(dir / "failures", old_failures); !status.ok()) return status;
  }
  for (const std::string& name : reports::CommitOrder()) {
    if (!fs::exists(staging / name, error)) {
      // e.g. a run that shrank nothing: the previous report's file would be stale.
      fs::remove(dir / name, error);
      if (error) return FsError("cannot remove", dir / name, error);
      continue;
    }
    if (absl::Status status = Rename(staging / name, dir / name); !status.ok()) return status;
  }
  fs::remove_all(old_failures, error);
  if (error) return FsError("cannot remove", old_failures, error);
  fs::remove(staging, error);
  if (error) return FsError("cannot remove", staging, error);
  return absl::OkStatus();
}

void ReportDirectory::Abandon() {
  std::error_code error;
  fs::remove_all(staging_, error);
}

}  // namespace cli
