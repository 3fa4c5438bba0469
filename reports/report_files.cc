// The report file list (see report_files.h).
#include "reports/report_files.h"

#include "reports/atomic_file.h"
#include "reports/coverage_json.h"
#include "reports/index_html.h"
#include "reports/summary.h"

namespace reports {
namespace {

absl::Status WriteJunit(const std::string& dir, const Json& summary) {
  return WriteFileAtomically(dir + "/junit.xml", JunitXml(summary));
}

absl::Status WriteCoverage(const std::string& dir, const Json& summary) {
  return WriteFileAtomically(dir + "/coverage.json", CoverageFileText(summary["coverage"]));
}

absl::Status WriteSummary(const std::string& dir, const Json& summary) {
  return WriteFileAtomically(dir + "/summary.json", SummaryText(summary));
}

}  // namespace

const std::vector<ReportFile>& ReportFiles() {
  static const std::vector<ReportFile> files = {
      {"junit.xml", "JUnit XML for CI: a test suite per scenario, a test case per failed seed", &WriteJunit},
      {"index.html", "one page linking every failure folder, its pictures and replay command", &WriteIndexHtml},
      {"coverage.json", "states reached x fault kinds active, and the code probes hit", &WriteCoverage},
      {"summary.json", "every run (seed, digest, verdict), every failure with its replay command", &WriteSummary},
  };
  return files;
}

std::vector<std::string> CommitOrder() {
  std::vector<std::string> order = {kFailuresDir, kShrinkFile};
  for (const ReportFile& file : ReportFiles()) order.push_back(file.name);
  return order;
}

absl::Status WriteReportFiles(const std::string& dir, const Json& summary) {
  for (const ReportFile& file : ReportFiles()) {
    if (absl::Status status = file.write(dir, summary); !status.ok()) return status;
  }
  return absl::OkStatus();
}

}  // namespace reports
