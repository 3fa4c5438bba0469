// Determinism check: two runs, one comparison of their kept traces.
#include "harness/determinism.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "sim/trace.h"

namespace harness {
namespace {

// The line of `text` that starts at `begin`, or "<end of trace>".
std::string LineAt(const std::string& text, size_t begin) {
  if (begin >= text.size()) return "<end of trace>";
  const size_t end = text.find('\n', begin);
  return text.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

}  // namespace

DeterminismCheck CheckDeterminism(const Scenario& scenario, uint64_t seed, const RunOptions& options) {
  RunOptions traced = options;
  traced.keep_trace = true;
  DeterminismCheck check;
  RunResult first = RunScenario(scenario, seed, traced);
  RunResult second = RunScenario(scenario, seed, traced);
  check.digest_first = first.digest;
  check.digest_second = second.digest;
  check.events_first = first.trace_events;
  check.events_second = second.trace_events;
  check.same = first.digest == second.digest && first.trace_events == second.trace_events;
  if (!check.same) {
    const std::string& a = first.trace_text;
    const std::string& b = second.trace_text;
    const size_t common = std::min(a.size(), b.size());
    const size_t differ = static_cast<size_t>(
        std::mismatch(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(common), b.begin()).first - a.begin());
    const size_t line_begin = differ == 0 ? 0 : a.rfind('\n', differ - 1) + 1;  // npos + 1 == 0
    check.divergent_index = static_cast<uint64_t>(std::count(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(line_begin), '\n'));
    check.event_first = LineAt(a, line_begin);
    check.event_second = LineAt(b, line_begin);
  }
  first.trace_text.clear();
  check.first = std::move(first);
  return check;
}

std::string DescribeDivergence(const Scenario& scenario, uint64_t seed, const DeterminismCheck& check) {
  if (check.same) {
    return absl::StrCat("scenario ", scenario.name, " seed ", seed, ": deterministic (digest ",
                        sim::DigestHex(check.digest_first), ", ", check.events_first, " events)");
  }
  return absl::StrCat("scenario ", scenario.name, " seed ", seed, ": NONDETERMINISTIC: digests ",
                      sim::DigestHex(check.digest_first), " (", check.events_first, " events) and ",
                      sim::DigestHex(check.digest_second), " (", check.events_second,
                      " events); first divergent event #", check.divergent_index, ":\n  run 1: ", check.event_first,
                      "\n  run 2: ", check.event_second);
}

}  // namespace harness
