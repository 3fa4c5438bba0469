// `ktmsim trace SCENARIO --seed S [--format txt|svg|dot|json|tla] [--out FILE]`:
// renders one run, failing or not, in one of the failure folder's trace
// forms: txt (trace.txt: the verdict and violations, then the trace with the
// violating events marked), svg / dot (the sequence diagram and its Graphviz
// source), json (Chrome trace-event format for Perfetto) or tla (one
// transaction's projected behaviour as a TLA+ module, spec/README.md). Writes to stdout,
// or atomically to FILE with --out. Accepts --schedule and --planted-bug like
// replay. Exit 0 when the run passed, 1 when it failed (the output is
// written either way), 2 on bad input or when the output cannot be written.
#include <cstdio>
#include <filesystem>
#include <system_error>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/scenario_set.h"
#include "harness/conformance.h"
#include "harness/runner.h"
#include "reports/atomic_file.h"
#include "reports/chrome_trace.h"
#include "reports/failure.h"
#include "reports/graphviz.h"
#include "reports/sequence_diagram.h"
#include "reports/summary.h"
#include "reports/trace_model.h"

namespace cli {
namespace {

absl::StatusOr<std::string> Render(const std::string& format, const harness::Scenario& scenario,
                                   const harness::RunResult& result) {
  if (format == "txt") return reports::FailureTraceText(scenario, result);
  const reports::TraceModel model = reports::BuildTraceModel(scenario, result);
  if (format == "json") {
    return reports::ChromeTraceJson(model).dump(-1, ' ', false, reports::Json::error_handler_t::replace) + "\n";
  }
  const std::string dot = reports::SequenceDiagramDot(model);
  if (format == "dot") return dot;
  return reports::RenderSvg(dot);
}

}  // namespace

int TraceMain(const ParsedArgs& args) {
  const std::string format = absl::GetFlag(FLAGS_format);
  if (format != "txt" && format != "svg" && format != "dot" && format != "json" && format != "tla") {
    return UsageError("trace", absl::StrCat("bad --format '", format, "': txt, svg, dot, json or tla"));
  }
  absl::StatusOr<OneRun> run = RunFromArgs(args, true);
  if (!run.ok()) return UsageError("trace", std::string(run.status().message()));
  const harness::RunResult& result = run->result;
  absl::StatusOr<std::string> output;
  if (format == "tla") {
    // The same run again (deterministic), watched by the conformance checker.
    harness::RunResult again;
    output = harness::TlaTraceModule(run->scenario, result.seed, run->options, &again);
  } else {
    output = Render(format, run->scenario, result);
  }
  if (!output.ok()) {
    absl::FPrintF(stderr, "ktmsim trace: %s\n", output.status().message());
    return kExitBadInput;
  }
  if (args.specified.count("out") == 0) {
    std::fwrite(output->data(), 1, output->size(), stdout);
  } else if (absl::Status status = reports::WriteFileAtomically(absl::GetFlag(FLAGS_out), *output); !status.ok()) {
    absl::FPrintF(stderr, "ktmsim trace: %s\n", status.message());
    return kExitBadInput;
  }
  return result.passed ? kExitPass : kExitFail;
}

}  // namespace cli
