// `ktmsim bench [SCENARIO...] [--transactions N] [--recovery-volumes V,...]
// [--recovery-flush-kib F,...] [--out DIR] [--format text|json|svg]`:
// commit latency and throughput of every protocol case at concurrency 1, 4,
// 16 and 64, in simulated time, against the protocol's minimum
// (harness/latency_bench.h), then the recovery-time table: simulated time
// from a host restart to a paged TxF / TxR RM online against its volume and
// flush interval (harness/recovery_bench.h). Each SCENARIO (default
// bench/latency.toml) only lends its disk and network latency models. Writes
// DIR/bench.txt (the tables), DIR/bench.json and DIR/bench.svg (latency CDF),
// each atomically, and prints the --format one on stdout. The files hold
// simulated figures only, so equal inputs give equal bytes; the wall time
// goes to stderr. Exit 0 when every run passed its checkers and every
// recovery row recovered its volume, 1 when one did not, 2 on bad input.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/output_dir.h"
#include "cli/scenario_set.h"
#include "harness/latency_bench.h"
#include "reports/atomic_file.h"

ABSL_FLAG(uint32_t, transactions, 1000,
          "ktmsim bench: transactions started per (case, concurrency) run");
ABSL_FLAG(std::string, recovery_volumes, "1000,4000,16000",
          "ktmsim bench: volumes (files / keys per RM) of the recovery-time table, comma-separated; "
          "none: no recovery table");
ABSL_FLAG(std::string, recovery_flush_kib, "never,64,512",
          "ktmsim bench: RM log KiB between flushes to the store, per row of the recovery-time table, "
          "comma-separated (never: no flush)");

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

// --recovery-volumes and --recovery-flush-kib into options (nullopt: "none");
// a message naming the bad flag when a value does not parse.
absl::StatusOr<std::optional<harness::RecoveryBenchOptions>> ParseRecoveryFlags() {
  const std::string volumes = absl::GetFlag(FLAGS_recovery_volumes);
  if (volumes == "none") return std::nullopt;
  harness::RecoveryBenchOptions options;
  options.volumes.clear();
  for (absl::string_view word : absl::StrSplit(volumes, ',')) {
    uint32_t v = 0;
    if (!absl::SimpleAtoi(word, &v) || v < 1 || v > harness::kRecoveryVolumeMax) {
      return absl::InvalidArgumentError(absl::StrCat("bad --recovery-volumes '", volumes, "': need numbers in [1, ",
                                                     harness::kRecoveryVolumeMax, "] or none"));
    }
    options.volumes.push_back(v);
  }
  const std::string flushes = absl::GetFlag(FLAGS_recovery_flush_kib);
  options.flush_log_bytes.clear();
  for (absl::string_view word : absl::StrSplit(flushes, ',')) {
    uint64_t kib = 0;
    if (word == "never") {
      options.flush_log_bytes.push_back(0);
    } else if (absl::SimpleAtoi(word, &kib) && kib >= 1 && kib <= options.disk_bytes / 1024) {
      options.flush_log_bytes.push_back(kib * 1024);
    } else {
      return absl::InvalidArgumentError(absl::StrCat("bad --recovery-flush-kib '", flushes,
                                                     "': need never or KiB in [1, ", options.disk_bytes / 1024, "]"));
    }
  }
  return options;
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
  absl::StatusOr<std::optional<harness::RecoveryBenchOptions>> recovery = ParseRecoveryFlags();
  if (!recovery.ok()) return UsageError("bench", std::string(recovery.status().message()));
  options.recovery = *recovery;
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
    for (const auto& base : report->bases) runs += base.rows.size() + (base.recovery ? base.recovery->rows.size() : 0);
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
