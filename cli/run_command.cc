// `ktmsim run`: scenarios x seeds on worker threads, then a report.
//
// Order of work, so a bad invocation leaves nothing behind: read the flags,
// load every scenario (all errors shown, exit 2), expand the shard's items,
// run them all with keep_trace=false (results stored by item index, so the
// output does not depend on --jobs), create the staging report directory,
// re-run each failed seed with keep_trace=true to write its failure folder
// (the digest must match the first run: determinism), write summary.json and
// junit.xml, and commit the directory (cli/output_dir.h). Each failure that
// gets a folder is also shrunk (harness/shrink.h, --shrink-budget runs; 0
// turns it off) into the folder's shrunk/, and index.html links them all.
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <filesystem>
#include <mutex>
#include <optional>
#include <set>
#include <utility>
#include <thread>
#include <unistd.h>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/output_dir.h"
#include "cli/progress.h"
#include "cli/scenario_set.h"
#include "cli/shrink_figures.h"
#include "cli/version.h"
#include "cli/work_items.h"
#include "harness/determinism.h"
#include "harness/free_memory.h"
#include "harness/runner.h"
#include "harness/shrink.h"
#include "reports/atomic_file.h"
#include "reports/coverage_json.h"
#include "reports/failure.h"
#include "reports/report_files.h"
#include "reports/summary.h"

ABSL_FLAG(bool, check_determinism, false,
          "run: run each seed twice and compare digests; on a mismatch print the first event where the two "
          "runs diverge (exit 1)");

namespace cli {
namespace {

// SIGINT / SIGTERM: the first one stops starting runs (and folders); the
// report of what finished is written, marked "interrupted", and the exit
// status is 130. A second one ends the process at once (default action).
std::atomic<bool> interrupted{false};

void OnInterrupt(int signal_number) {
  interrupted.store(true);
  std::signal(signal_number, SIG_DFL);
}

void CatchInterrupts() {
  std::signal(SIGINT, OnInterrupt);
  std::signal(SIGTERM, OnInterrupt);
}

// Exit status after an interruption (128 + SIGINT, as shells report it).
constexpr int kExitInterrupted = 130;

// Limit: worker threads (each runs one single-threaded world at a time).
constexpr int32_t kJobsMax = 1024;

struct RunSettings {
  SeedRange seeds;
  Shard shard;
  int32_t jobs = 1;
  std::string out;
  bool quiet = false;
  uint64_t failure_folders_max = reports::kFailureFoldersMaxDefault;
  uint32_t planted_bug = 0;  // test-only (ktm/bugs.h)
  int32_t shrink_budget = 0;  // runs per failure; 0: no shrinking
  std::string strategy;       // "" or a strategy every scenario runs with
  uint32_t pct_depth = 0;     // 0 or the PCT depth every scenario runs with
  bool check_determinism = false;
};

// Limit: simulations spent shrinking one failure.
constexpr int32_t kShrinkBudgetMax = 100'000;

absl::StatusOr<RunSettings> ReadRunFlags() {
  RunSettings settings;
  absl::StatusOr<SeedRange> seeds = ParseSeedRange(absl::GetFlag(FLAGS_seeds));
  if (!seeds.ok()) return seeds.status();
  absl::StatusOr<Shard> shard = ParseShard(absl::GetFlag(FLAGS_shard));
  if (!shard.ok()) return shard.status();
  absl::StatusOr<std::string> out = NormalizeOutDir(absl::GetFlag(FLAGS_out));
  if (!out.ok()) return out.status();
  settings.jobs = absl::GetFlag(FLAGS_jobs);
  if (settings.jobs < 1 || settings.jobs > kJobsMax) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad --jobs ", settings.jobs, ": need 1 <= jobs <= ", kJobsMax));
  }
  settings.seeds = *seeds;
  settings.shard = *shard;
  settings.out = *out;
  settings.quiet = absl::GetFlag(FLAGS_quiet);
  settings.failure_folders_max = absl::GetFlag(FLAGS_failure_folders_max);
  absl::StatusOr<uint32_t> planted_bug = PlantedBugFromFlag();
  if (!planted_bug.ok()) return planted_bug.status();
  settings.planted_bug = *planted_bug;
  settings.shrink_budget = absl::GetFlag(FLAGS_shrink_budget);
  if (settings.shrink_budget < 0 || settings.shrink_budget > kShrinkBudgetMax) {
    return absl::InvalidArgumentError(absl::StrCat("bad --shrink-budget ", settings.shrink_budget,
                                                   ": need 0 (off) <= runs <= ", kShrinkBudgetMax));
  }
  if (absl::Status status = ScheduleFlags(&settings.strategy, &settings.pct_depth); !status.ok()) return status;
  settings.check_determinism = absl::GetFlag(FLAGS_check_determinism);
  return settings;
}

// The options every run of this invocation has: the planted bug and the
// --strategy / --pct-depth overrides (part of each run's identity).
harness::RunOptions BaseOptions(const RunSettings& settings, bool keep_trace) {
  harness::RunOptions options;
  options.keep_trace = keep_trace;
  options.planted_bug = settings.planted_bug;
  options.strategy = settings.strategy;
  options.pct_depth = settings.pct_depth;
  return options;
}

// The heap a worker keeps between runs rather than give back to the kernel.
constexpr size_t kWorkerHeapKeptBytes = size_t{64} << 20;

// Runs body(i) for every i in [0, count) on up to `jobs` threads, each
// pulling the next index from a shared counter, while the calling thread
// draws `progress`. One job runs on the calling thread, drawing between
// runs: a process that never started a thread keeps libstdc++'s shared_ptr
// counts plain (not atomic: __libc_single_threaded), and the engine copies
// shared_ptrs on every step (2% of a one-job suite's CPU).
void ParallelFor(size_t count, int32_t jobs, const std::function<void(size_t)>& body, Progress& progress) {
  if (jobs == 1) {
    for (size_t i = 0; i < count; ++i) {
      body(i);
      progress.DrawIfDue();
    }
    progress.Finish();
    return;
  }
  std::atomic<size_t> next{0};
  std::vector<std::thread> workers;
  const size_t threads = std::min(count, static_cast<size_t>(jobs));
  for (size_t t = 0; t < threads; ++t) {
    workers.emplace_back([&next, count, &body] {
      for (size_t i = next.fetch_add(1); i < count; i = next.fetch_add(1)) body(i);
    });
  }
  progress.Run();
  for (std::thread& worker : workers) worker.join();
}

// The records of the runs; with an interruption, only those that finished
// (`finished` says which).
std::vector<reports::RunRecord> RunSwarm(const std::vector<harness::Scenario>& scenarios,
                                         const std::vector<WorkItem>& items, const RunSettings& settings,
                                         size_t* nondeterministic, std::vector<char>* finished) {
  std::vector<reports::RunRecord> records(items.size());
  finished->assign(items.size(), 0);
  Progress progress(items.size(), settings.quiet);
  const harness::RunOptions options = BaseOptions(settings, false);
  std::vector<std::string> divergences(items.size());
  ParallelFor(
      items.size(), settings.jobs,
      [&](size_t i) {
        if (interrupted.load()) return progress.Advance(false);
        const harness::Scenario& scenario = scenarios[items[i].scenario];
        (*finished)[i] = 1;
        if (settings.check_determinism) {
          const harness::DeterminismCheck check = harness::CheckDeterminism(scenario, items[i].seed, options);
          if (!check.same) divergences[i] = harness::DescribeDivergence(scenario, items[i].seed, check);
          records[i] = reports::MakeRunRecord(scenario, check.first);
          progress.Advance(!check.first.passed || !check.same);
          return;
        }
        // The checkers reuse this worker's memory from its previous run.
        thread_local model::CheckScratch check_scratch;
        harness::RunOptions run_options = options;
        run_options.check_scratch = &check_scratch;
        const harness::RunResult result = harness::RunScenario(scenario, items[i].seed, run_options);
        records[i] = reports::MakeRunRecord(scenario, result);
        progress.Advance(!result.passed);
        harness::ReturnFreedMemoryOver(kWorkerHeapKeptBytes);  // between runs (harness/free_memory.h)
      },
      progress);
  if (!settings.quiet) absl::FPrintF(stderr, "%s\n", progress.FinalLine());
  if (settings.check_determinism) {
    size_t mismatches = 0;
    for (const std::string& divergence : divergences) {
      if (divergence.empty()) continue;
      ++mismatches;
      absl::FPrintF(stderr, "ktmsim: %s\n", divergence);
    }
    absl::FPrintF(stderr, "ktmsim: check-determinism: %d runs twice each, %d nondeterministic\n", items.size(),
                  mismatches);
    *nondeterministic = mismatches;
  }
  return records;
}

// Determinism is what makes a failure folder worth anything: the re-run
// with a trace must be the run that failed. A mismatch is a simulator bug.
void CheckSameRun(const harness::Scenario& scenario, const reports::RunRecord& first,
                  const harness::RunResult& again) {
  if (again.digest == first.digest && again.passed == first.passed) return;
  absl::FPrintF(stderr,
                "ktmsim: FATAL: nondeterminism: scenario %s seed %d gave digest %s (passed=%s) "
                "and, re-run with keep_trace, digest %s (passed=%s)\nreplay: %s\n",
                scenario.name, first.seed, reports::DigestText(first.digest), first.passed ? "true" : "false",
                reports::DigestText(again.digest), again.passed ? "true" : "false",
                first.replay_command);
  std::abort();
}

// The items whose failure the summary gives a folder.
std::vector<size_t> ItemsWithFolders(const std::vector<harness::Scenario>& scenarios,
                                     const std::vector<WorkItem>& items,
                                     const reports::Json& summary) {
  std::set<std::pair<std::string, uint64_t>> with_folder;
  for (const reports::Json& scenario : summary["scenarios"]) {
    for (const reports::Json& failure : scenario["failures"]) {
      if (failure["folder"] != "") {
        with_folder.emplace(scenario["name"].get<std::string>(), failure["seed"].get<uint64_t>());
      }
    }
  }
  std::vector<size_t> chosen;
  for (size_t i = 0; i < items.size(); ++i) {
    if (with_folder.count({scenarios[items[i].scenario].name, items[i].seed}) != 0) {
      chosen.push_back(i);
    }
  }
  return chosen;
}

// The shrinker's work for one failure: the rule of its first violation,
// when the scenario expects a pass (a run that misses an expected violation
// has nothing to keep failing).
harness::ShrinkResult ShrinkFailure(const harness::Scenario& scenario, const harness::RunResult& result,
                                    const RunSettings& settings) {
  if (scenario.expect != harness::Expect::kPass || result.violations.empty()) {
    harness::ShrinkResult none;
    none.error = "not shrunk: the run has no violation to keep (it misses an expected one)";
    return none;
  }
  return harness::Shrink(scenario, result.seed, BaseOptions(settings, true), result.violations.front().rule,
                         settings.shrink_budget);
}

void PrintShrink(const harness::Scenario& scenario, uint64_t seed, const harness::ShrinkResult& shrink) {
  if (!shrink.ok) {
    absl::FPrintF(stderr, "ktmsim: %s seed %d: %s\n", scenario.name, seed, shrink.error);
    return;
  }
  absl::FPrintF(stderr,
                "ktmsim: shrunk %s seed %d (%s) in %d runs%s, stopped by %s: events %d -> %d (ratio %.3f), "
                "transactions %d -> %d, faults %d -> %d, hosts %d -> %d, rms %d -> %d\n",
                scenario.name, seed, shrink.rule, shrink.runs,
                shrink.died > 0 ? absl::StrCat(" (", shrink.died, " died on an engine assertion)") : "",
                shrink.stopped_by(), shrink.before.trace_events, shrink.after.trace_events, shrink.ratio(),
                shrink.before.transactions, shrink.after.transactions, shrink.before.faults, shrink.after.faults,
                shrink.before.hosts, shrink.after.hosts, shrink.before.rms, shrink.after.rms);
}

// The shrink figures of the suite (harness::ShrinkSummary): per scenario and
// in total, on stderr (one line each) and in <report>/shrink.json
// (cli/shrink_figures.h).
absl::Status WriteShrinkFigures(std::vector<ShrinkRecord> records, const RunSettings& settings,
                                const std::string& report_dir) {
  if (records.empty()) return absl::OkStatus();
  std::map<std::string, std::vector<harness::ShrinkFigure>> by_scenario;
  std::vector<harness::ShrinkFigure> all;
  for (const ShrinkRecord& record : records) {
    by_scenario[record.scenario].push_back(record.figure);
    all.push_back(record.figure);
  }
  if (!settings.quiet) {
    for (const auto& [name, figures] : by_scenario) {
      absl::FPrintF(stderr, "ktmsim: shrink %s: %s\n", name, harness::SummaryLine(harness::Summarize(figures)));
    }
  }
  absl::FPrintF(stderr, "ktmsim: shrink figures (budget %d): %s\n", settings.shrink_budget,
                harness::SummaryLine(harness::Summarize(all)));
  const reports::Json json = ShrinkFiguresJson(settings.shrink_budget, std::move(records));
  return reports::WriteFileAtomically(report_dir + "/" + reports::kShrinkFile, json.dump(2) + "\n");
}

absl::Status WriteFailureFolders(const std::vector<harness::Scenario>& scenarios,
                                 const std::vector<WorkItem>& items,
                                 const std::vector<reports::RunRecord>& records,
                                 const reports::Json& summary, const RunSettings& settings,
                                 const std::string& report_dir) {
  const std::vector<size_t> failed = ItemsWithFolders(scenarios, items, summary);
  if (failed.empty()) return absl::OkStatus();
  if (!settings.quiet) {
    absl::FPrintF(stderr, "ktmsim: re-running %d failed runs with traces for their folders%s\n", failed.size(),
                  settings.shrink_budget > 0
                      ? absl::StrCat(" and shrinking each (at most ", settings.shrink_budget, " runs)")
                      : "");
  }
  reports::FailureFolderOptions folder_options;
  folder_options.ktmsim_binary = SelfPath();
  const harness::RunOptions options = BaseOptions(settings, true);
  std::mutex mutex;
  absl::Status first_error;
  std::vector<ShrinkRecord> shrinks;  // for the figures
  Progress progress(failed.size(), settings.quiet, "failure folders");
  const bool progress_terminal = ::isatty(STDERR_FILENO) == 1;  // shrink lines would break the bar
  ParallelFor(
      failed.size(), settings.jobs,
      [&](size_t f) {
        if (interrupted.load()) return progress.Advance(false);
        const size_t i = failed[f];
        const harness::Scenario& scenario = scenarios[items[i].scenario];
        const harness::RunResult result = harness::RunScenario(scenario, items[i].seed, options);
        CheckSameRun(scenario, records[i], result);
        std::optional<harness::ShrinkResult> shrink;
        if (settings.shrink_budget > 0) shrink = ShrinkFailure(scenario, result, settings);
        absl::Status status = reports::WriteFailureFolder(report_dir, scenario, result, folder_options,
                                                          shrink ? &*shrink : nullptr, settings.shrink_budget);
        progress.Advance(true);
        std::lock_guard<std::mutex> lock(mutex);
        if (shrink && !settings.quiet && !progress_terminal) PrintShrink(scenario, items[i].seed, *shrink);
        if (shrink && shrink->error.rfind("not shrunk:", 0) != 0) {
          shrinks.push_back({scenario.name, items[i].seed, harness::FigureOf(*shrink)});
        }
        if (first_error.ok()) first_error = status;
      },
      progress);
  if (!settings.quiet) absl::FPrintF(stderr, "%s\n", progress.FinalLine());
  if (settings.shrink_budget > 0 && first_error.ok()) {
    first_error = WriteShrinkFigures(std::move(shrinks), settings, report_dir);
  }
  return first_error;
}

// summary.json's "ktmsim": the version and every option that decides what
// the report holds. Not --jobs, --shard, --out or --quiet: the report does
// not depend on them (shards merge into the unsharded report).
reports::Json Invocation(const RunSettings& settings) {
  reports::Json options = reports::Json::object();
  options["seeds"] = absl::StrCat(settings.seeds.first, "-", settings.seeds.last);
  options["strategy"] = settings.strategy;
  options["pct_depth"] = settings.pct_depth;
  options["planted_bug"] = settings.planted_bug;
  options["shrink_budget"] = settings.shrink_budget;
  options["failure_folders_max"] = settings.failure_folders_max;
  options["check_determinism"] = settings.check_determinism;
  return reports::Json{{"version", kVersion}, {"options", options}};
}

// Limit: failures the console lists per signature (the rest: summary.json).
constexpr size_t kConsoleFailuresPerSignature = 5;

// The end-of-run failure list on stdout: per signature (the rules of the
// failure and, for an assertion, where it broke), each failure with a replay
// command to paste.
void PrintFailures(const reports::Json& summary) {
  std::map<std::string, std::vector<const reports::Json*>> by_signature;
  for (const reports::Json& scenario : summary["scenarios"]) {
    for (const reports::Json& failure : scenario["failures"]) {
      const std::string signature = reports::FailureSignature(failure);
      by_signature[signature].push_back(&failure);
    }
  }
  if (by_signature.empty()) return;
  absl::PrintF("\nfailures (%d), by signature; replay one with the command shown:\n",
               summary["totals"]["failed"].get<uint64_t>());
  for (const auto& [signature, failures] : by_signature) {
    absl::PrintF("  %s: %d\n", signature, failures.size());
    for (size_t f = 0; f < failures.size() && f < kConsoleFailuresPerSignature; ++f) {
      absl::PrintF("    %s\n", (*failures[f])["replay"].get<std::string>());
    }
    if (failures.size() > kConsoleFailuresPerSignature) {
      absl::PrintF("    ... and %d more (summary.json)\n", failures.size() - kConsoleFailuresPerSignature);
    }
  }
  absl::PrintF("\n");
}

// From the finished runs to the committed report directory (created, and
// so checked, before any run started). After an interruption: only the
// finished runs, no failure folders, "interrupted": true.
int Report(const std::vector<harness::Scenario>& scenarios, const std::vector<WorkItem>& items,
           std::vector<reports::RunRecord> records, const std::vector<char>& finished, const RunSettings& settings,
           size_t nondeterministic, ReportDirectory& directory) {
  std::vector<reports::ScenarioInfo> infos;
  for (const harness::Scenario& scenario : scenarios) infos.push_back({scenario.name, scenario.file});
  const bool cut = interrupted.load();
  if (cut) {
    std::vector<reports::RunRecord> done;
    for (size_t i = 0; i < records.size(); ++i) {
      if (finished[i]) done.push_back(std::move(records[i]));
    }
    records = std::move(done);
  }
  absl::StatusOr<reports::Json> summary = reports::BuildSummary(infos, records, settings.failure_folders_max);
  absl::Status status = summary.status();
  if (status.ok() && !cut) status = WriteFailureFolders(scenarios, items, records, *summary, settings, directory.staging());
  if (status.ok() && interrupted.load()) {
    // Interrupted now or before: a report of the finished runs, without folders.
    summary = reports::BuildSummary(infos, records, 0);
    status = summary.status();
    std::error_code error;
    std::filesystem::remove_all(directory.staging() + "/" + reports::kFailuresDir, error);
    std::filesystem::create_directory(directory.staging() + "/" + reports::kFailuresDir, error);
  }
  if (status.ok()) {
    (*summary)["ktmsim"] = Invocation(settings);
    if (interrupted.load()) (*summary)["interrupted"] = true;
    status = reports::WriteReportFiles(directory.staging(), *summary);
  }
  if (status.ok()) status = directory.Commit();
  if (!status.ok()) {
    directory.Abandon();
    absl::FPrintF(stderr, "ktmsim run: cannot write the report: %s\n", status.message());
    return kExitBadInput;
  }
  const uint64_t failed = (*summary)["totals"]["failed"].get<uint64_t>();
  absl::PrintF("%s", reports::SummaryTable(*summary));
  PrintFailures(*summary);
  PrintReportLocation(settings.out, (*summary)["totals"]["failure_folders"].get<uint64_t>());
  if (interrupted.load()) {
    absl::FPrintF(stderr, "ktmsim run: interrupted: the report holds the %d finished runs\n", records.size());
    return kExitInterrupted;
  }
  return failed == 0 && nondeterministic == 0 ? kExitPass : kExitFail;
}

// `ktmsim run` without paths: scenarios/ and, when it holds any, the
// regression corpus scenarios/regressions/ (`ktmsim promote` writes it).
std::vector<std::string> DefaultSuite() {
  std::vector<std::string> paths = {"scenarios"};
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(kRegressionsDir, error)) {
    if (entry.path().extension() == ".toml") {
      paths.push_back(kRegressionsDir);
      break;
    }
  }
  return paths;
}

std::string StartLine(const RunSettings& settings, size_t scenarios, size_t runs) {
  return absl::StrFormat(
      "ktmsim %s: %d scenarios, seeds %d-%d, strategy %s, planted bug %s, shard %d/%d: %d runs on %d jobs\n",
      kVersion, scenarios, settings.seeds.first, settings.seeds.last,
      settings.strategy.empty() ? "as each scenario says"
                                : absl::StrCat(settings.strategy, settings.pct_depth != 0
                                                                      ? absl::StrCat(" depth ", settings.pct_depth)
                                                                      : ""),
      settings.planted_bug == 0 ? std::string("none") : absl::StrCat(settings.planted_bug),
      settings.shard.index, settings.shard.count, runs, settings.jobs);
}

}  // namespace

int RunMain(const ParsedArgs& args) {
  absl::StatusOr<RunSettings> settings = ReadRunFlags();
  if (!settings.ok()) return UsageError("run", std::string(settings.status().message()));
  const std::vector<std::string> paths = args.positional.empty() ? DefaultSuite() : args.positional;
  ScenarioSet set = LoadScenarios(paths);
  if (!set.errors.empty()) {
    for (const std::string& line : set.errors) absl::FPrintF(stderr, "%s\n", line);
    absl::FPrintF(stderr, "ktmsim run: %d error(s) in the scenarios; nothing was run\n",
                  set.errors.size());
    return kExitBadInput;
  }
  std::vector<std::vector<uint64_t>> pinned;
  for (const harness::Scenario& scenario : set.scenarios) pinned.push_back(scenario.seeds);
  absl::StatusOr<std::vector<WorkItem>> items = ShardItemsPinned(pinned, settings->seeds, settings->shard);
  if (!items.ok()) return UsageError("run", std::string(items.status().message()));
  // --out is checked (and the staging directory made) before any run.
  absl::StatusOr<ReportDirectory> directory = ReportDirectory::Create(settings->out);
  if (!directory.ok()) return UsageError("run", std::string(directory.status().message()));
  if (!settings->quiet) absl::FPrintF(stderr, "%s", StartLine(*settings, set.scenarios.size(), items->size()));
  CatchInterrupts();
  size_t nondeterministic = 0;
  std::vector<char> finished;
  std::vector<reports::RunRecord> records =
      RunSwarm(set.scenarios, *items, *settings, &nondeterministic, &finished);
  return Report(set.scenarios, *items, std::move(records), finished, *settings, nondeterministic, *directory);
}

}  // namespace cli
