// `ktmsim bench [SCENARIO...] [--transactions N] [--out DIR] [--format text|json|svg]`:
// commit latency and throughput of every protocol case at concurrency 1, 4,
// 16 and 64, in simulated time, against the protocol's minimum
// (harness/latency_bench.h). Each SCENARIO (default bench/latency.toml) only
// lends its disk and network latency models. Writes DIR/bench.txt (the
// table), DIR/bench.json and DIR/bench.svg (latency CDF), each atomically,
// and prints the --format one on stdout. The files hold simulated figures
// only, so equal inputs give equal bytes; the wall time goes to stderr.
// Exit 0 when every run passed its checkers, 1 when one did not, 2 on bad input.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/output_dir.h"
#include "cli/scenario_set.h"
#include "harness/latency_bench.h"
#include "reports/atomic_file.h"

ABSL_FLAG(uint32_t, transactions, 1000,
          "ktmsim bench: transactions started per (case, concurrency) run");

namespace cli {
namespace {

constexpr char kDefaultBase[] = "bench/latency.toml";

enum class BenchFormat { kText, kJson, kSvg };

// --format: text (also "txt", the flag's shared default), json or svg.
bool ParseBenchFormat(const ParsedArgs& args, BenchFormat* format) {
  const std::string value = args.specified.count("format") ? absl::GetFlag(FLAGS_format) : "text";
  if (value == "text" || value == "txt") {
    *format = BenchFormat::kText;
  } else if (value == "json") {
    *format = BenchFormat::kJson;
  } else if (value == "svg") {
    *format = BenchFormat::kSvg;
  } else {
    return false;
  }
  return true;
}

// Writes the three files into dir (created if missing); prints what failed.
bool WriteBenchFiles(const std::string& dir, const harness::LatencyReport& report) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    absl::FPrintF(stderr, "ktmsim bench: cannot create %s: %s\n", dir, error.message());
    return false;
  }
  const std::vector<std::pair<std::string, std::string>> files = {
      {"bench.txt", harness::LatencyTableText(report)},
      {"bench.json", harness::LatencyJson(report)},
      {"bench.svg", harness::LatencyCdfSvg(report)},
  };
  for (const auto& [name, contents] : files) {
    const std::string path = absl::StrCat(dir, "/", name);
    if (absl::Status s = reports::WriteFileAtomically(path, contents); !s.ok()) {
      absl::FPrintF(stderr, "ktmsim bench: cannot write %s: %s\n", path, s.message());
      return false;
    }
  }
  return true;
}

}  // namespace

int BenchMain(const ParsedArgs& args) {
  BenchFormat format = BenchFormat::kText;
  if (!ParseBenchFormat(args, &format)) {
    return UsageError("bench", absl::StrCat("bad --format '", absl::GetFlag(FLAGS_format), "': text, json or svg"));
  }
  harness::LatencyBenchOptions options;
  options.transactions = absl::GetFlag(FLAGS_transactions);
  if (options.transactions == 0) return UsageError("bench", "--transactions must be at least 1");
  const int32_t jobs = absl::GetFlag(FLAGS_jobs);
  if (jobs < 1) return UsageError("bench", absl::StrCat("bad --jobs ", jobs, ": need at least 1"));
  options.jobs = static_cast<uint32_t>(jobs);
  absl::StatusOr<std::string> dir = NormalizeOutDir(absl::GetFlag(FLAGS_out));
  if (!dir.ok()) return UsageError("bench", std::string(dir.status().message()));
  const std::vector<std::string> paths =
      args.positional.empty() ? std::vector<std::string>{kDefaultBase} : args.positional;
  ScenarioSet set = LoadScenarios(paths);
  if (!set.errors.empty()) {
    for (const std::string& line : set.errors) absl::FPrintF(stderr, "%s\n", line);
    return kExitBadInput;
  }
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<harness::LatencyReport> report = harness::RunLatencyBench(set.scenarios, options);
  if (!report.ok()) {
    absl::FPrintF(stderr, "ktmsim bench: %s\n", report.status().message());
    return kExitBadInput;
  }
  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!absl::GetFlag(FLAGS_quiet)) {
    size_t runs = 0;
    for (const auto& base : report->bases) runs += base.rows.size();
    absl::FPrintF(stderr, "ktmsim bench: %d runs in %.2f s of wall time (%d jobs)\n", runs, wall_s, options.jobs);
  }
  if (!WriteBenchFiles(*dir, *report)) return kExitBadInput;
  switch (format) {
    case BenchFormat::kText:
      absl::PrintF("%s\nreports: %s/bench.txt (and bench.json, bench.svg)\n", harness::LatencyTableText(*report), *dir);
      break;
    case BenchFormat::kJson:
      absl::PrintF("%s", harness::LatencyJson(*report));
      break;
    case BenchFormat::kSvg:
      absl::PrintF("%s", harness::LatencyCdfSvg(*report));
      break;
  }
  return report->passed() ? kExitPass : kExitFail;
}

}  // namespace cli
