// The report directory of `ktmsim run` and `ktmsim merge`, built aside and
// moved into place at the end.
//
// Contract: the report is built in "<DIR>.tmp-<pid>" next to DIR. Commit():
// - DIR does not exist: the staging directory is renamed to DIR (atomic).
// - DIR exists: its failures/ and the report files (reports/report_files.h,
//   in CommitOrder) are replaced, each by one rename (the old failures/ is moved aside first
//   and then deleted); other files in DIR are left alone. summary.json goes
//   last, so a reader that sees the new summary also sees its failures.
// A run that stops before Commit() leaves DIR untouched (the staging
// directory is removed by Abandon(), or stays behind after a crash under a
// name that says what it is).
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cli {

class ReportDirectory {
 public:
  // Checks DIR (must be a directory if it exists), creates DIR's parent
  // directories and the staging directory with an empty failures/.
  static absl::StatusOr<ReportDirectory> Create(const std::string& dir);

  // Where to write the files now.
  const std::string& staging() const { return staging_; }
  const std::string& final_dir() const { return dir_; }

  absl::Status Commit();
  void Abandon();

 private:
  ReportDirectory(std::string dir, std::string staging)
      : dir_(std::move(dir)), staging_(std::move(staging)) {}
  std::string dir_;
  std::string staging_;
};

// "DIR" without trailing slashes; kInvalidArgument for "".
absl::StatusOr<std::string> NormalizeOutDir(const std::string& dir);

}  // namespace cli
