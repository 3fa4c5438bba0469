// ktmsim: the command-line entry point. Dispatches to a subcommand (run,
// replay, merge, help); each subcommand has its own flags and its own
// --help. Exit status for every subcommand: 0 all runs passed, 1 some run
// failed, 2 bad input (flags, scenario files, seeds, shard, report inputs).
// docs/cli.md is the user's guide.
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "cli/plugins.h"
#include "cli/version.h"

namespace cli {
namespace {

constexpr char kGeneralUsage[] =
    "ktmsim: a deterministic simulator and reimplementation of the Kernel Transaction Manager.\n"
    "\n"
    "usage: ktmsim <command> [arguments] [flags]     ktmsim --version\n"
    "\n"
    "commands:\n"
    "  run     run scenarios over many seeds and write a report (summary.json, junit.xml,\n"
    "          a folder per failed run)\n"
    "  replay  run one scenario with one seed again (optionally with a fault schedule)\n"
    "  merge   merge the reports of shards into one report\n"
    "  trace   render one run's trace: marked text, sequence diagram (SVG or DOT), or\n"
    "          Chrome trace-event JSON for Perfetto\n"
    "  shrink  shrink a failure folder's run to a minimal one that still fails\n"
    "  bench   commit latency and throughput per protocol case, against the protocol minimum;\n"
    "          recovery time of a paged TxF / TxR RM per volume and flush interval\n"
    "  explore bounded exhaustive exploration of crash and message fault points of one scenario\n"
    "  promote turn a failure folder into a regression scenario (scenarios/regressions/)\n"
    "  conform run a plugin's RM kind through the RM-contract battery, a verdict per rule\n"
    "  help    'ktmsim help <command>' or 'ktmsim <command> --help' shows a command's usage\n"
    "\n"
    "exit status: 0 every run passed, 1 some run failed, 2 bad input.\n";

const Subcommand* FindSubcommand(const std::string& name) {
  for (const Subcommand& subcommand : Subcommands()) {
    if (name == subcommand.name) return &subcommand;
  }
  return nullptr;
}

std::string SubcommandUsage(const Subcommand& subcommand) {
  return absl::StrCat("usage: ", subcommand.synopsis, "\n\n", subcommand.description, "\n",
                      FlagsUsage(subcommand.flags, subcommand.defaults),
                      *subcommand.example != '\0' ? absl::StrCat("\nexample:\n  ", subcommand.example, "\n") : "");
}

int Help(const std::vector<std::string>& args) {
  if (args.size() < 2) {
    absl::PrintF("%s", kGeneralUsage);
    return kExitPass;
  }
  const Subcommand* subcommand = FindSubcommand(args[1]);
  if (subcommand == nullptr) {
    absl::FPrintF(stderr, "ktmsim help: unknown command '%s'\n\n%s", args[1], kGeneralUsage);
    return kExitBadInput;
  }
  absl::PrintF("%s", SubcommandUsage(*subcommand));
  return kExitPass;
}

std::vector<std::string> WithRunFlags(std::vector<std::string> flags) {
  flags.insert(flags.end(), kRunFlags.begin(), kRunFlags.end());
  return flags;
}

}  // namespace

const std::vector<Subcommand>& Subcommands() {
  static const std::vector<Subcommand> subcommands = {
      {"run", "ktmsim run [FILE|DIR...] [--seeds N|A-B] [--jobs J] [--out DIR] [--shard i/n] [--quiet]\n"
       "                  [--failure-folders-max K] [--shrink-budget N] [--planted-bug N]\n"
       "                  [--strategy fifo|random|pct] [--pct-depth D] [--check-determinism]",
       "Runs every scenario (each FILE, and every *.toml in each DIR, sorted; default: scenarios)\n"
       "with every seed, on J worker threads. All scenarios are loaded first: any error is\n"
       "printed as file:line:col: message and nothing runs or is written (exit 2).\n"
       "Writes DIR/summary.json, DIR/junit.xml and DIR/failures/<scenario>-<seed>/ per failed\n"
       "run (at most K per scenario: those with the smallest seeds). The report is built in\n"
       "DIR.tmp-<pid> and moved into place at the end; an existing DIR keeps its other files\n"
       "but gets new summary.json, junit.xml and failures/. The report does not depend on\n"
       "--jobs, and the reports of --shard 1/n .. n/n merge ('ktmsim merge') into the\n"
       "unsharded report. Each failure folder has the run's pictures (trace.svg, states.svg,\n"
       "trace.json for Perfetto) and, unless --shrink-budget 0, shrunk/: the minimal run that\n"
       "still fails; DIR/index.html links them all. --planted-bug is a test-only switch.\n"
       "DIR/coverage.json (and summary.json's \"coverage\") counts the states reached by the\n"
       "fault kinds active then, and the code probes hit (docs/coverage.md). --strategy and\n"
       "--pct-depth override every scenario's tie-breaking (docs/scheduling.md);\n"
       "--check-determinism runs every seed twice and prints the first divergent event.\n"
       "Exit 0 when every run passed, 1 when one failed, 2 on bad input.\n",
       {"seeds", "jobs", "out", "shard", "quiet", "failure_folders_max", "shrink_budget", "planted_bug",
        "strategy", "pct_depth", "check_determinism"},
       &RunMain,
       {},
       "ktmsim run scenarios --seeds 20 --planted-bug 4   # a planted bug: failures, folders, exit 1"},
      {"replay", "ktmsim replay SCENARIO --seed S [--schedule FILE | --fault-points P] [--trace] [--planted-bug N] [--rm-contract]",
       "Runs one scenario with one seed and prints 'digest <16 hex>', the verdict, the\n"
       "violations and the counters (with --trace, the trace too). With --schedule, the faults\n"
       "come from FILE (a failure folder's schedule.txt) instead of the scenario's fault plan;\n"
       "with --fault-points, exactly those faults (as 'ktmsim explore' names them, e.g.\n"
       "crash:h0:disk.write:3,drop:msg:7). --planted-bug N switches on a planted engine bug\n"
       "(test-only, ktm/bugs.h). --rm-contract judges the run by the RM contract rules too, as\n"
       "'ktmsim conform' did (its replay commands carry it). Exit 0 when the run passed, 1 when\n"
       "it failed, 2 on bad input.\n",
       WithRunFlags({"seed", "trace", "rm_contract"}),
       &ReplayMain,
       {{"seed", "(required)"}},
       "ktmsim replay scenarios/two_phase_3rms.toml --seed 3 --strategy pct --planted-bug 4"},
      {"merge", "ktmsim merge DIR... --out DIR",
       "Merges the reports of the shards of one run (each DIR from 'ktmsim run --shard i/n')\n"
       "into one: summary.json merged (equal to the unsharded run's), junit.xml regenerated,\n"
       "failure folders copied. A seed reported by two inputs is an error. Exit 2 on a bad or\n"
       "missing input, else 1 when the merged report has a failed run, else 0.\n",
       {"out"},
       &MergeMain,
       {{"out", "(required)"}},
       "ktmsim merge shard1 shard2 --out merged"},
      {"trace", "ktmsim trace SCENARIO --seed S [--format txt|svg|dot|json|tla] [--out FILE] [--schedule FILE]\n"
       "                    [--planted-bug N]",
       "Runs one scenario with one seed, failing or not, and renders it: txt (the verdict and\n"
       "violations, then the trace with the violating events marked), svg (a sequence diagram:\n"
       "a lane per client, TM and RM, time downward, violating events red), dot (its Graphviz\n"
       "source), json (Chrome trace-event format: open it in ui.perfetto.dev) or tla (a TLA+\n"
       "trace module of one transaction's behaviour projected onto spec/KtmTwoPhaseCrash.tla,\n"
       "for TLC; spec/README.md). Writes to stdout, or to FILE with --out. Exit 0 when the run passed, 1 when it failed (the\n"
       "output is written either way), 2 on bad input.\n",
       WithRunFlags({"seed", "format", "out"}),
       &TraceMain,
       {{"seed", "(required)"}, {"out", "(stdout)"}},
       "ktmsim trace scenarios/single_rm.toml --seed 1 --format svg --out trace.svg"},
      {"shrink", "ktmsim shrink FAILURE_DIR [--budget N] [--planted-bug N]",
       "Shrinks the failed run of a failure folder (DIR/failures/<scenario>-<seed>): fewer faults\n"
       "(delta debugging over its fault schedule), fewer transactions, lower concurrency, fewer\n"
       "operations, RMs per transaction and keys, earlier end of faults and of the run, each\n"
       "kept only while the same checker rule still fails, in at most N simulations. Writes\n"
       "FAILURE_DIR/shrunk/ (scenario.toml, schedule.txt, replay.sh, trace.txt, trace.svg,\n"
       "states.svg, trace.json), adds the before/after figures to result.json and index.html,\n"
       "and prints them with the replay command. Exit 0 when written, 1 when the failure does\n"
       "not reproduce, 2 on bad input.\n",
       WithRunFlags({"budget"}),
       &ShrinkMain,
       {{"schedule", "(none; the folder's own faults)"}},
       "ktmsim shrink ktmsim-out/failures/two_phase_3rms-3 --budget 200"},
      {"bench", "ktmsim bench [SCENARIO...] [--transactions N] [--recovery-volumes V,...|none]\n"
       "                    [--recovery-flush-kib F,...] [--out DIR] [--format text|json|svg] [--jobs J]",
       "Commit latency (p50..max) and throughput of each protocol case at concurrency 1, 4, 16, 64\n"
       "in simulated time, against the protocol minimum; then the recovery-time table: simulated\n"
       "time from a host restart to a paged TxF / TxR RM online, per volume (files / keys) and RM\n"
       "log between flushes to its store (never: the volume replays from the RM log), with the\n"
       "store's page reads and redo records. Disk/network latencies from each SCENARIO (default\n"
       "bench/latency.toml). Writes DIR/bench.txt, bench.json, bench.svg; prints --format.\n"
       "Exit 0 when every run passed its checkers and every recovery row recovered its volume,\n"
       "1 when one did not, 2 on bad input.\n",
       {"transactions", "recovery_volumes", "recovery_flush_kib", "out", "format", "jobs", "quiet"},
       &BenchMain,
       {{"format", "text"}},
       "ktmsim bench --format json"},
      {"explore", "ktmsim explore SCENARIO [--depth K] [--budget N] [--seed S] [--out DIR] [--quiet]\n"
       "                      [--failure-folders-max K] [--planted-bug N]\n"
       "                      [--target-spec-states] [--spec-baseline SUMMARY_JSON]",
       "Bounded exhaustive fault exploration of one small scenario with one seed (default 1):\n"
       "runs it without faults to find every fault point (crash a host right after its n-th\n"
       "disk.write, disk.flush, net.send or ktm.notify; drop, duplicate or delay the n-th\n"
       "datagram), then every point (depth 1) and every later point after each (up to depth K,\n"
       "default 2), pruning runs whose world fingerprint at a fault was already explored with\n"
       "the same faults to come; at most N runs (default 10000). Prints a table (points, runs,\n"
       "pruned, distinct states, violations, time) and writes DIR/explore.json and a failure\n"
       "folder per violating run (at most K; replay.sh replays it with --fault-points).\n"
       "It also reports, per number of RMs, how many of the spec states (spec/KtmTwoPhase,\n"
       "KtmTwoPhaseCrash) the fault-free run did not reach the faulty runs closed;\n"
       "--target-spec-states runs first the extensions of the runs that reached the most new\n"
       "spec states, so a budget too small for everything goes there; --spec-baseline counts\n"
       "the spec states of a suite's summary.json (or coverage.json) as reached already.\n"
       "Exit 0 when no run violated a rule, 1 when one did, 2 on bad input.\n",
       {"depth", "budget", "seed", "out", "quiet", "failure_folders_max", "planted_bug", "target_spec_states",
        "spec_baseline"},
       &ExploreMain,
       {{"budget", "10000"}, {"seed", "1"}},
       "ktmsim explore scenarios/explore/two_rms_2pc.toml --depth 2 --planted-bug 1"},
      {"promote", "ktmsim promote FAILURE_DIR [--name N] [--out DIR]",
       "Turns a failure folder into a regression scenario: the folder's shrunk run when it has\n"
       "one, else its run, renamed N (default <scenario>-seed<S>), pinned to the failing seed\n"
       "(seeds = [S]) and written to DIR/N.toml (default scenarios/regressions, which 'ktmsim run'\n"
       "without paths runs). A planted bug is not kept: the regression fails while the bug is in\n"
       "the engine and passes once it is fixed. Exit 0 when written, 2 on bad input or when the\n"
       "file exists.\n",
       {"name", "out"},
       &PromoteMain,
       {{"out", "scenarios/regressions"}},
       "ktmsim promote ktmsim-out/failures/two_phase_3rms-3 --name ignored_no_vote"},
      {"conform", "ktmsim conform --plugin PATH --kind K [--rm-option KEY=VALUE,...] [--out DIR] [--quiet]",
       "The RM conformance kit (docs/writing-an-rm.md): runs RMs of kind K (registered by the\n"
       "--plugin) through a fixed battery - every crash point of a small 2PC and of single-phase\n"
       "commits, random crashes over seeds, recovery after PREPARE, in-doubt under a superior,\n"
       "COMMIT re-delivered after recovery, no votes, SinglePhaseReject - and prints a verdict\n"
       "per rule of the RM contract, each failure with its folder and replay command. Progress\n"
       "k/N per case on stderr. Writes DIR (default ktmsim-conform): conform.json, junit.xml,\n"
       "failures/<rule>-<n>/. --rm-option sets every RM's [rms.options].\n"
       "Exit 0 when every rule passed, 1 when one failed, 2 on bad input.\n",
       {"kind", "rm_option", "out", "quiet"},
       &ConformMain,
       {{"out", "ktmsim-conform"}},
       "ktmsim conform --plugin ./libledger_plugin.so --kind ledger"},
  };
  return subcommands;
}

std::string SelfPath() {
  char path[PATH_MAX];
  const ssize_t length = ::readlink("/proc/self/exe", path, sizeof path - 1);
  if (length <= 0) return "ktmsim";
  return std::string(path, static_cast<size_t>(length));
}

void PrintReportLocation(const std::string& dir, uint64_t failure_folders) {
  absl::PrintF("reports: %s/summary.json (and junit.xml, %d failure folders)\n", dir,
               failure_folders);
}

}  // namespace cli

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(cli::kGeneralUsage);
  std::vector<std::string> args(argv + 1, argv + argc);
  if (const int rc = cli::LoadPluginFlags(&args); rc >= 0) return rc;  // --plugin PATH (cli/plugins.h)
  if (args.empty()) {
    absl::FPrintF(stderr, "%s", absl::ProgramUsageMessage());
    return cli::kExitBadInput;
  }
  const std::string& command = args[0];
  if (command == "--version" || command == "version") {
    absl::PrintF("ktmsim %s\n", cli::kVersion);
    return cli::kExitPass;
  }
  if (command == "help" || command == "--help" || command == "-h" || command == "--helpfull") {
    return cli::Help(args);
  }
  const cli::Subcommand* subcommand = cli::FindSubcommand(command);
  if (subcommand == nullptr) {
    absl::FPrintF(stderr, "ktmsim: unknown command '%s'\n\n%s", command,
                  absl::ProgramUsageMessage());
    return cli::kExitBadInput;
  }
  absl::StatusOr<cli::ParsedArgs> parsed =
      cli::ParseArgs(std::vector<std::string>(args.begin() + 1, args.end()), subcommand->flags);
  if (!parsed.ok()) return cli::UsageError(command, std::string(parsed.status().message()));
  if (parsed->help) {
    absl::PrintF("%s", cli::SubcommandUsage(*subcommand));
    return cli::kExitPass;
  }
  return subcommand->main(*parsed);
}
