// Shrinker implementation (see shrink.h). Candidates run in forked child
// processes (RunIsolated) so an engine assertion costs one candidate, not the
// process. One Shrinker object per call holds
// the current failing state (scenario, schedule, its last run) and the run
// budget; every reduction goes through Try(), which runs a candidate and
// adopts it only when the rule still fails. Candidates already seen to pass
// are remembered by their text (scenario TOML + schedule text), so a later
// round never pays twice for the same run.
#include "harness/shrink.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/strings/string_view.h"
#include "harness/scenario_toml_writer.h"
#include "ktm/types.h"
#include "model/history.h"

namespace harness {
namespace {

// The events of a schedule that are faults: message fates and timed events
// before faults_until (the restarts and heals recorded when faults stop, at
// faults_until, are the end of the faults, and a replay ignores them).
std::vector<sim::FaultEvent> FaultsBefore(const std::vector<sim::FaultEvent>& events,
                                          sim::TimeNs faults_until_ns) {
  std::vector<sim::FaultEvent> faults;
  for (const sim::FaultEvent& event : events) {
    if (event.kind == sim::FaultEvent::Kind::kMessage || event.time < faults_until_ns) {
      faults.push_back(event);
    }
  }
  return faults;
}

// What the shrinker needs of a run. Candidates run in a child process (see
// RunIsolated), so this is also what comes back through the pipe.
struct Outcome {
  bool completed = false;  // false: the run died (an engine assertion aborted it)
  std::vector<Violation> violations;
  std::vector<std::string> kinds;  // ViolationKind of each violation (same order)
  // The occurrences of the prepare and commit crash triggers while faults
  // run, in the order the fault injector counts them: "<tx> <rm>" each (see
  // Occurrences). A targeted crash's nth names one of them.
  std::vector<std::string> prepares, commits;
  // The log force occurrences ("<tx> h<host>" each), from the structured
  // trace (kept only for candidates whose schedule has a log_force crash).
  std::vector<std::string> forces;
  // Operations per transaction ("<N> <count>" each: the write, read and
  // refused-open events the history names transaction t<N> in), for the
  // candidates that skip single operations (workload.skip_ops).
  std::vector<std::string> ops;
  // When each transaction ran ("<N> <first ns> <last ns>": the times of the
  // first and last history events naming t<N>), for the candidate that keeps
  // the transactions that overlap the violating ones.
  std::vector<std::string> spans;
  uint64_t digest = 0, trace_events = 0, transactions = 0, faults_injected = 0;
  uint64_t crashes = 0;    // history Crash events
  int64_t sim_time_ns = 0;
  std::string schedule_text;
  std::string trace_text;  // when the run kept it
};

// The kind of event a violation happened on, where it can be said: for a
// broken invariant the check and its source location ("<check> failed at
// <file:line>", without the run's own message); for a checker rule the kind
// of the last history event it names ("commit", "read", ...); "" otherwise.
std::string ViolationKind(const RunResult& result, const Violation& v) {
  if (v.rule == kAssertionRule) {
    const size_t at = v.message.find(" failed at ");
    if (at == std::string::npos) return "";
    const size_t colon = v.message.find(": ", at);
    return v.message.substr(0, colon);
  }
  if (v.events.empty() || v.events.back() >= result.history.events.size()) return "";
  return model::EventKindName(result.history.events[v.events.back()].kind);
}

// The trigger occurrences of a run (harness/history_recorder.cc counts a
// prepare right after recording a PREPARE notification and a commit right
// after an RM's commit), up to the end of faults: the injector counts from
// its start, before any transaction, until faults stop.
void Occurrences(const model::History& history, std::vector<std::string>* prepares,
                 std::vector<std::string>* commits) {
  const std::string prepare = ktm::NotificationName(ktm::TRANSACTION_NOTIFY_PREPARE);
  for (const model::HistoryEvent& e : history.events) {
    if (e.kind == model::EventKind::kFaultsStop) return;
    if (e.kind == model::EventKind::kNotification && e.detail == prepare) prepares->push_back(e.tx + " " + e.rm);
    if (e.kind == model::EventKind::kRmCommitted) commits->push_back(e.tx + " " + e.rm);
  }
}

// The log force occurrences of a run with a structured trace (the recorder
// counts one per "ktm.log_forced" / "dist.log_forced" event, which names
// the transaction's UOW), before faults stop.
std::vector<std::string> Forces(const RunResult& result) {
  std::vector<std::string> forces;
  sim::TimeNs stop = std::numeric_limits<sim::TimeNs>::max();
  for (const model::HistoryEvent& e : result.history.events) {
    if (e.kind == model::EventKind::kFaultsStop) stop = e.time_ns;
  }
  for (const sim::TraceEvent& e : result.trace) {
    if (e.time >= stop) break;
    if (e.kind != "ktm.log_forced" && e.kind != "dist.log_forced") continue;
    const auto name = result.names.tx_by_uow.find(e.Field("tx"));
    forces.push_back(absl::StrCat(name == result.names.tx_by_uow.end() ? e.Field("tx") : name->second, " h", e.host));
  }
  return forces;
}

// The number N of transaction "t<N>" (history.h: transactions are "t<N>" in
// start order); 0 when `name` is not one.
uint64_t TransactionNumber(absl::string_view name) {
  uint64_t number = 0;
  if (name.size() < 2 || name[0] != 't' || !absl::SimpleAtoi(name.substr(1), &number)) return 0;
  return number;
}

std::vector<std::string> OperationCounts(const model::History& history) {
  std::map<uint64_t, uint64_t> counts;
  for (const model::HistoryEvent& e : history.events) {
    if (e.kind != model::EventKind::kWrite && e.kind != model::EventKind::kRead && e.kind != model::EventKind::kOpen) {
      continue;
    }
    if (const uint64_t n = TransactionNumber(e.tx)) ++counts[n];
  }
  std::vector<std::string> out;
  for (const auto& [n, count] : counts) out.push_back(absl::StrCat(n, " ", count));
  return out;
}

std::vector<std::string> Spans(const model::History& history) {
  std::map<uint64_t, std::pair<int64_t, int64_t>> spans;
  for (const model::HistoryEvent& e : history.events) {
    const uint64_t n = TransactionNumber(e.tx);
    if (n == 0) continue;
    auto [it, inserted] = spans.try_emplace(n, e.time_ns, e.time_ns);
    if (!inserted) it->second.second = std::max<int64_t>(it->second.second, e.time_ns);
  }
  std::vector<std::string> out;
  for (const auto& [n, span] : spans) out.push_back(absl::StrCat(n, " ", span.first, " ", span.second));
  return out;
}

Outcome OutcomeOf(const RunResult& result) {
  Outcome outcome;
  outcome.completed = true;
  outcome.ops = OperationCounts(result.history);
  outcome.spans = Spans(result.history);
  Occurrences(result.history, &outcome.prepares, &outcome.commits);
  outcome.forces = Forces(result);
  outcome.violations = result.violations;
  for (const Violation& v : result.violations) outcome.kinds.push_back(ViolationKind(result, v));
  outcome.digest = result.digest;
  outcome.trace_events = result.trace_events;
  outcome.transactions = result.transactions;
  outcome.faults_injected = result.faults_injected;
  for (const model::HistoryEvent& event : result.history.events) {
    if (event.kind == model::EventKind::kCrash) ++outcome.crashes;
  }
  outcome.sim_time_ns = result.sim_time_ns;
  outcome.schedule_text = result.schedule_text;
  outcome.trace_text = result.trace_text;
  return outcome;
}

// Encoding for the pipe: numbers as "<decimal>;", strings as "<length>:<bytes>".
void PutNumber(std::string* out, uint64_t value) { absl::StrAppend(out, value, ";"); }
void PutString(std::string* out, const std::string& text) { absl::StrAppend(out, text.size(), ":", text); }

class Reader {
 public:
  explicit Reader(absl::string_view data) : data_(data) {}
  bool Number(uint64_t* value) {
    const size_t end = data_.find(';');
    if (end == absl::string_view::npos || !absl::SimpleAtoi(data_.substr(0, end), value)) return false;
    data_.remove_prefix(end + 1);
    return true;
  }
  bool String(std::string* text) {
    const size_t colon = data_.find(':');
    uint64_t size = 0;
    if (colon == absl::string_view::npos || !absl::SimpleAtoi(data_.substr(0, colon), &size) ||
        size > data_.size() - colon - 1) {
      return false;
    }
    *text = std::string(data_.substr(colon + 1, size));
    data_.remove_prefix(colon + 1 + size);
    return true;
  }
  bool Done() const { return data_.empty(); }

 private:
  absl::string_view data_;
};

std::string Encode(const Outcome& outcome) {
  std::string out;
  PutNumber(&out, outcome.violations.size());
  for (size_t i = 0; i < outcome.violations.size(); ++i) {
    const Violation& v = outcome.violations[i];
    PutString(&out, v.rule);
    PutString(&out, v.tx);
    PutString(&out, v.message);
    PutString(&out, outcome.kinds[i]);
  }
  for (uint64_t value : {outcome.digest, outcome.trace_events, outcome.transactions, outcome.faults_injected,
                         outcome.crashes, static_cast<uint64_t>(outcome.sim_time_ns)}) {
    PutNumber(&out, value);
  }
  PutString(&out, outcome.schedule_text);
  PutString(&out, outcome.trace_text);
  for (const std::vector<std::string>* list : {&outcome.prepares, &outcome.commits, &outcome.forces, &outcome.ops, &outcome.spans}) {
    PutNumber(&out, list->size());
    for (const std::string& occurrence : *list) PutString(&out, occurrence);
  }
  return out;
}

bool Decode(absl::string_view data, Outcome* outcome) {
  Reader in(data);
  uint64_t count = 0;
  if (!in.Number(&count) || count > data.size()) return false;
  outcome->violations.resize(count);
  outcome->kinds.resize(count);
  for (size_t i = 0; i < count; ++i) {
    Violation& v = outcome->violations[i];
    if (!in.String(&v.rule) || !in.String(&v.tx) || !in.String(&v.message) || !in.String(&outcome->kinds[i])) {
      return false;
    }
  }
  uint64_t sim_time = 0;
  for (uint64_t* value : {&outcome->digest, &outcome->trace_events, &outcome->transactions,
                          &outcome->faults_injected, &outcome->crashes, &sim_time}) {
    if (!in.Number(value)) return false;
  }
  outcome->sim_time_ns = static_cast<int64_t>(sim_time);
  if (!in.String(&outcome->schedule_text) || !in.String(&outcome->trace_text)) return false;
  for (std::vector<std::string>* list : {&outcome->prepares, &outcome->commits, &outcome->forces, &outcome->ops, &outcome->spans}) {
    uint64_t size = 0;
    if (!in.Number(&size) || size > data.size()) return false;
    list->resize(size);
    for (std::string& occurrence : *list) {
      if (!in.String(&occurrence)) return false;
    }
  }
  if (!in.Done()) return false;
  outcome->completed = true;
  return true;
}

bool WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t wrote = ::write(fd, data.data() + done, data.size() - done);
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote <= 0) return false;
    done += static_cast<size_t>(wrote);
  }
  return true;
}

// Reads the 8-byte length, then that many bytes (not to EOF: a sibling
// child forked by another thread may hold a copy of the write end).
bool ReadPayload(int fd, std::string* payload) {
  const auto read_exactly = [fd](char* buffer, size_t size) {
    size_t done = 0;
    while (done < size) {
      const ssize_t got = ::read(fd, buffer + done, size - done);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) return false;
      done += static_cast<size_t>(got);
    }
    return true;
  };
  uint64_t size = 0;
  if (!read_exactly(reinterpret_cast<char*>(&size), sizeof size)) return false;
  payload->resize(size);
  return size == 0 || read_exactly(payload->data(), size);
}

// Runs a candidate in a forked child, so that an engine assertion (which
// aborts the process: ktm/assert.h) costs the candidate, not the shrinker
// and the report of `ktmsim run` around it. The child's stderr goes to
// /dev/null: a dying candidate is expected and counted, not shown. Falls
// back to an in-process run if fork fails.
// Not in sanitizer builds: ASan's allocator is not fork-safe in a
// multithreaded process. A child forked while another worker thread (`run
// --jobs 2`) holds an allocator lock deadlocks on its first allocation (seen
// in scripts/test-all). There a candidate runs in-process, and an engine
// assertion ends the whole run, as it does outside the shrinker.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kForkCandidates = false;
#else
constexpr bool kForkCandidates = true;
#endif

Outcome RunIsolated(const Scenario& scenario, uint64_t seed, const RunOptions& options) {
  if (!kForkCandidates) return OutcomeOf(RunScenario(scenario, seed, options));
  int fds[2];
  if (::pipe(fds) != 0) return OutcomeOf(RunScenario(scenario, seed, options));
  const pid_t child = ::fork();
  if (child < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return OutcomeOf(RunScenario(scenario, seed, options));
  }
  if (child == 0) {
    ::close(fds[0]);
    const int null = ::open("/dev/null", O_WRONLY);
    if (null >= 0) ::dup2(null, STDERR_FILENO);
    std::string payload;
    try {
      payload = Encode(OutcomeOf(RunScenario(scenario, seed, options)));
    } catch (...) {
      ::_exit(1);  // a candidate that throws dies like one that asserts; never back into the caller's copy
    }
    const uint64_t size = payload.size();
    const bool sent = WriteAll(fds[1], std::string(reinterpret_cast<const char*>(&size), sizeof size) + payload);
    ::_exit(sent ? 0 : 1);  // no atexit handlers, no leak check: the parent owns the process's life
  }
  ::close(fds[1]);
  std::string payload;
  const bool received = ReadPayload(fds[0], &payload);
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  Outcome outcome;
  if (received && WIFEXITED(status) && WEXITSTATUS(status) == 0 && Decode(payload, &outcome)) return outcome;
  return Outcome{};  // completed = false
}

bool ViolatesRule(const std::vector<Violation>& violations, const std::string& rule) {
  return std::any_of(violations.begin(), violations.end(), [&rule](const Violation& v) { return v.rule == rule; });
}

bool ViolatesRule(const RunResult& result, const std::string& rule) { return ViolatesRule(result.violations, rule); }

// The first violation of `rule` of a completed run: its kind (ViolationKind).
std::optional<std::string> KindOf(const Outcome& outcome, const std::string& rule) {
  if (!outcome.completed) return std::nullopt;
  for (size_t i = 0; i < outcome.violations.size(); ++i) {
    if (outcome.violations[i].rule == rule) return outcome.kinds[i];
  }
  return std::nullopt;
}

// The run fails as the original did: `rule`, and when the original's kind
// of event could be said (non-empty), a violation of `rule` on that kind.
bool FailsAlike(const Outcome& outcome, const std::string& rule, const std::string& kind) {
  if (!outcome.completed) return false;
  for (size_t i = 0; i < outcome.violations.size(); ++i) {
    if (outcome.violations[i].rule == rule && (kind.empty() || outcome.kinds[i] == kind)) return true;
  }
  return false;
}

// The number N of the first transaction "t<N>" named by a violation of
// `rule` (history.h: transactions are "t<N>" in start order); 0 if none.
uint64_t FirstViolatingTransaction(const Outcome& outcome, const std::string& rule) {
  uint64_t first = 0;
  for (const Violation& v : outcome.violations) {
    uint64_t number = 0;
    if (v.rule != rule || v.tx.size() < 2 || v.tx[0] != 't' ||
        !absl::SimpleAtoi(absl::string_view(v.tx).substr(1), &number)) {
      continue;
    }
    if (first == 0 || number < first) first = number;
  }
  return first;
}

// A scenario field the shrinker lowers, in whole units of `unit`.
struct Knob {
  const char* name;
  std::function<uint64_t(const Scenario&)> get;      // in units
  std::function<void(Scenario&, uint64_t)> set;      // in units
  std::function<uint64_t(const Scenario&)> lowest;   // in units
};

std::vector<Knob> Knobs() {
  constexpr uint64_t kMs = static_cast<uint64_t>(sim::kMillisecond);
  return {
      {"workload.transactions", [](const Scenario& s) { return uint64_t{s.workload.transactions}; },
       [](Scenario& s, uint64_t v) {
         s.workload.transactions = static_cast<uint32_t>(v);
         std::vector<uint32_t>& skip = s.workload.skip;
         skip.erase(std::remove_if(skip.begin(), skip.end(), [v](uint32_t n) { return n > v; }), skip.end());
         std::vector<WorkloadSpec::OpRef>& ops = s.workload.skip_ops;
         ops.erase(std::remove_if(ops.begin(), ops.end(),
                                  [v](const WorkloadSpec::OpRef& op) { return op.transaction > v; }),
                   ops.end());
       },
       [](const Scenario&) { return uint64_t{1}; }},
      {"workload.concurrency", [](const Scenario& s) { return uint64_t{s.workload.concurrency}; },
       [](Scenario& s, uint64_t v) { s.workload.concurrency = static_cast<uint32_t>(v); },
       [](const Scenario&) { return uint64_t{1}; }},
      {"workload.rms_per_tx_max", [](const Scenario& s) { return uint64_t{s.workload.rms_per_tx_max}; },
       [](Scenario& s, uint64_t v) { s.workload.rms_per_tx_max = static_cast<uint32_t>(v); },
       [](const Scenario& s) { return uint64_t{s.workload.rms_per_tx_min}; }},
      {"workload.rms_per_tx_min", [](const Scenario& s) { return uint64_t{s.workload.rms_per_tx_min}; },
       [](Scenario& s, uint64_t v) { s.workload.rms_per_tx_min = static_cast<uint32_t>(v); },
       [](const Scenario&) { return uint64_t{1}; }},
      {"workload.ops_max", [](const Scenario& s) { return uint64_t{s.workload.ops_max}; },
       [](Scenario& s, uint64_t v) { s.workload.ops_max = static_cast<uint32_t>(v); },
       [](const Scenario& s) { return uint64_t{s.workload.ops_min}; }},
      {"workload.ops_min", [](const Scenario& s) { return uint64_t{s.workload.ops_min}; },
       [](Scenario& s, uint64_t v) { s.workload.ops_min = static_cast<uint32_t>(v); },
       [](const Scenario&) { return uint64_t{1}; }},
      {"workload.keys", [](const Scenario& s) { return uint64_t{s.workload.keys}; },
       [](Scenario& s, uint64_t v) { s.workload.keys = static_cast<uint32_t>(v); },
       [](const Scenario&) { return uint64_t{1}; }},
      {"faults.faults_until_ms",
       [](const Scenario& s) { return static_cast<uint64_t>(s.faults.faults_until_ns) / kMs; },
       [](Scenario& s, uint64_t v) { s.faults.faults_until_ns = static_cast<sim::TimeNs>(v * kMs); },
       [](const Scenario&) { return uint64_t{0}; }},
  };
}

// The sizes of a run (see RunSizes): faults are the schedule's faults plus
// the crashes the schedule did not make (targeted crash_on crashes).
RunSizes SizesOfOutcome(const Scenario& scenario, const Outcome& outcome) {
  RunSizes sizes;
  sizes.trace_events = outcome.trace_events;
  sizes.transactions = outcome.transactions;
  sizes.hosts = scenario.hosts.size();
  sizes.rms = scenario.rms.size();
  uint64_t planned_crashes = 0;
  absl::StatusOr<sim::FaultSchedule> schedule = sim::FaultSchedule::Parse(outcome.schedule_text);
  if (schedule.ok()) {
    const std::vector<sim::FaultEvent> faults = FaultsBefore(schedule->events, scenario.faults.faults_until_ns);
    for (const sim::FaultEvent& event : faults) {
      if (event.kind == sim::FaultEvent::Kind::kCrash) ++planned_crashes;
    }
    sizes.faults = faults.size();
  }
  sizes.faults += outcome.crashes > planned_crashes ? outcome.crashes - planned_crashes : 0;
  return sizes;
}

// Limit: runs per round spent skipping operations (ddmin over every
// operation of 19 transactions once took 84 runs of a 200-run budget).
inline constexpr int kShrinkOpsRunsPerRound = 24;

// Limit: operations per transaction the shrinker offers to skip.
inline constexpr uint32_t kShrinkOpsPerTransactionMax = 64;

// Limit: values of a targeted crash's occurrence count (nth) tried when a
// transaction cut moved the occurrence it fired after.
inline constexpr uint64_t kReaimCountsMax = 6;

bool HasTrigger(const sim::FaultSchedule& schedule, sim::CrashTrigger trigger) {
  return std::any_of(schedule.events.begin(), schedule.events.end(),
                     [trigger](const sim::FaultEvent& e) { return e.trigger == trigger; });
}

bool HasTargetedCrash(const sim::FaultSchedule& schedule) {
  return std::any_of(schedule.events.begin(), schedule.events.end(),
                     [](const sim::FaultEvent& e) { return e.trigger != sim::CrashTrigger::kNone; });
}

// `schedule` with targeted crash `index` re-aimed at occurrence `nth`; none
// when another targeted crash already fires after that occurrence.
std::optional<sim::FaultSchedule> Reaimed(const sim::FaultSchedule& schedule, size_t index, uint64_t nth) {
  const sim::FaultEvent& target = schedule.events[index];
  for (size_t i = 0; i < schedule.events.size(); ++i) {
    const sim::FaultEvent& e = schedule.events[i];
    if (i != index && e.trigger == target.trigger && e.trigger_count == nth) return std::nullopt;
  }
  sim::FaultSchedule reaimed = schedule;
  reaimed.events[index].trigger_count = nth;
  return reaimed;
}

// A targeted crash fires after the n-th occurrence of its trigger counted
// over the whole run, so deleting transactions moves the occurrence it hits.
// The schedules with the first targeted crash re-aimed at occurrences 1, 2,
// ... (at most kReaimCountsMax, below its current count): cheap guesses for a
// run with few transactions left, where the occurrence wanted is early.
std::vector<sim::FaultSchedule> ReaimedSchedules(const sim::FaultSchedule& schedule) {
  std::vector<sim::FaultSchedule> out;
  for (size_t i = 0; i < schedule.events.size(); ++i) {
    const sim::FaultEvent& e = schedule.events[i];
    if (e.trigger == sim::CrashTrigger::kNone) continue;
    for (uint64_t nth = 1; nth < e.trigger_count && nth <= kReaimCountsMax; ++nth) {
      if (std::optional<sim::FaultSchedule> reaimed = Reaimed(schedule, i, nth)) out.push_back(*std::move(reaimed));
    }
    break;
  }
  return out;
}

class Shrinker {
 public:
  Shrinker(const Scenario& scenario, uint64_t seed, const RunOptions& options, std::string rule,
           int budget_runs)
      : current_(scenario), seed_(seed), options_(options), rule_(std::move(rule)),
        budget_(std::max(budget_runs, 2)) {
    options_.keep_trace = false;
  }

  ShrinkResult Run(bool keep_trace);

 private:
  Outcome RunOnce(const Scenario& scenario, const std::optional<sim::FaultSchedule>& schedule,
                  bool keep_trace = false) {
    ++runs_;
    RunOptions options = options_;
    options.schedule = schedule;
    // A log_force crash is re-aimed by the trace's log force events (Forces).
    options.keep_trace = keep_trace || (schedule && HasTrigger(*schedule, sim::CrashTrigger::kLogForce));
    Outcome outcome = RunIsolated(scenario, seed_, options);
    if (!keep_trace) outcome.trace_text.clear();
    if (!outcome.completed) ++died_;
    return outcome;
  }
  std::optional<sim::FaultSchedule> CurrentSchedule() const {
    return uses_schedule_ ? std::optional<sim::FaultSchedule>(schedule_) : std::nullopt;
  }
  bool Start(ShrinkResult* out);
  bool Try(const Scenario& scenario, const sim::FaultSchedule& schedule);
  // Try(scenario, schedule_), and when that candidate did not fail because
  // its targeted crashes now fire after other occurrences (the candidate
  // moved them: fewer transactions, other settings), once more with them
  // re-aimed at their transaction's occurrence (AimedSchedule).
  // When the candidate deletes transactions or RMs, the crashes are re-aimed
  // first where the deletion will move their occurrences (PredictedSchedule):
  // one run instead of two (the old count, which hits another pair, and the
  // re-aimed one).
  bool TryScenario(const Scenario& scenario) {
    if (std::optional<sim::FaultSchedule> predicted = PredictedSchedule(scenario)) {
      if (Try(scenario, *predicted)) return true;
    } else if (Try(scenario, schedule_)) {
      return true;
    }
    std::optional<sim::FaultSchedule> aimed = AimedSchedule();
    return aimed && Try(scenario, *aimed);
  }
  std::optional<sim::FaultSchedule> AimedSchedule() const;
  bool TryEvents(const std::vector<sim::FaultEvent>& events) {
    sim::FaultSchedule schedule = schedule_;
    schedule.events = events;
    return Try(current_, schedule);
  }
  void ScheduleTargetedCrashes();
  // ddmin over `items` (complements only: halves, quarters, ... single
  // items); `attempt` tries a kept subset and adopts it when it fails.
  // Returns the items kept.
  template <typename T>
  std::vector<T> Ddmin(std::vector<T> items, const std::function<bool(const std::vector<T>&)>& attempt);
  void ShrinkFaultKinds();
  void ShrinkTransactionTail();
  void ShrinkTransactions();
  void ShrinkRms();
  void ShrinkHosts();
  void Simplify();
  void TurnOffFeatures();
  // ddmin over the operations of the transactions left (workload.skip_ops).
  void ShrinkOperations();
  // The schedule with each targeted crash re-aimed at the occurrence its
  // (transaction, RM) pair will have in `candidate`, predicted from the
  // current run's occurrences without those of the transactions and RMs the
  // candidate deletes; none when nothing moves or it cannot be said.
  std::optional<sim::FaultSchedule> PredictedSchedule(const Scenario& candidate) const;
  // The schedule with every timed fault moved by as much as transaction
  // `anchor` began later (or earlier) in the candidate Try just rejected
  // than in the current run; none when it did not move or a fault would
  // leave the faults window.
  std::optional<sim::FaultSchedule> TimeAimedSchedule(uint64_t anchor) const;
  void ShrinkFaultTimes();
  void ShrinkFaults();
  void ShrinkKnob(const Knob& knob);
  void ShrinkRunUntil();
  void ShrinkCrashOnProbability();
  void AdoptEffectiveSchedule();
  Scenario Emitted() const;

  Scenario current_;
  uint64_t seed_;
  RunOptions options_;
  std::string rule_;
  std::string kind_;                  // the original's ViolationKind; "" where it cannot be said
  uint64_t original_events_ = 0;      // a candidate with more trace events is not kept (ratio <= 1)
  int budget_;
  int runs_ = 0;
  bool exhausted_ = false;
  bool uses_schedule_ = false;
  sim::FaultSchedule schedule_;
  Outcome last_;                      // the run of (current_, schedule_)
  Outcome rejected_;                  // the run of the last candidate Try rejected (completed false: none)
  int died_ = 0;                      // candidate runs an engine assertion aborted
  std::set<std::string> passed_;      // candidates that did not fail the rule
  bool fixed_point_ = false;
  // Try keeps a candidate only when its run differs from the current one
  // (ShrinkOperations: the operation count read from the history may name
  // operations a transaction never started; skipping those changes the
  // scenario, not the run, and would never reach a fixed point).
  bool require_new_run_ = false;
  // A phase with a cap on its runs per round (ShrinkOperations): Try runs no
  // candidate at or past phase_runs_end_, and says so in phase_capped_; a
  // round that was capped is no fixed point (the next round repeats the
  // candidates already seen to pass for free and goes further).
  int phase_runs_end_ = std::numeric_limits<int>::max();
  bool phase_capped_ = false;
  std::vector<std::string> steps_;
  std::vector<std::string> rounds_;   // runs spent per phase, one line per round
};

bool Shrinker::Start(ShrinkResult* out) {
  Outcome first = RunOnce(current_, options_.schedule);
  if (!first.completed) {
    out->error = "the run dies (an engine assertion aborts it): nothing to shrink";
    return false;
  }
  out->before = SizesOfOutcome(current_, first);
  const std::optional<std::string> kind = KindOf(first, rule_);
  if (!kind) {
    out->error = absl::StrCat("the run does not violate '", rule_, "': nothing to shrink");
    return false;
  }
  kind_ = *kind;
  out->kind = kind_;
  original_events_ = first.trace_events;
  last_ = std::move(first);
  if (options_.schedule) {
    uses_schedule_ = true;
    schedule_ = *options_.schedule;
    return true;
  }
  absl::StatusOr<sim::FaultSchedule> recorded = sim::FaultSchedule::Parse(last_.schedule_text);
  if (!recorded.ok()) return true;  // shrink the scenario only
  // The recorded faults must reproduce the failure before they can be cut.
  Outcome replayed = RunOnce(current_, *recorded);
  if (FailsAlike(replayed, rule_, kind_)) {
    uses_schedule_ = true;
    schedule_ = *recorded;
    last_ = std::move(replayed);
  } else {
    steps_.push_back("the recorded faults do not reproduce the failure: faults left as they are");
  }
  return true;
}

bool Shrinker::Try(const Scenario& scenario, const sim::FaultSchedule& schedule) {
  rejected_ = Outcome{};
  if (exhausted_) return false;
  if (runs_ >= budget_ - 1) {  // one run stays reserved for the final, traced run
    exhausted_ = true;
    return false;
  }
  if (!Validate(scenario).ok()) return false;
  std::string key = ScenarioToToml(scenario);
  if (uses_schedule_) absl::StrAppend(&key, "\n--schedule--\n", schedule.ToText());
  if (passed_.count(key) != 0) return false;
  if (runs_ >= phase_runs_end_) {  // the phase's share of this round is spent: next round goes on
    phase_capped_ = true;
    return false;
  }
  Outcome result =
      RunOnce(scenario, uses_schedule_ ? std::optional<sim::FaultSchedule>(schedule) : std::nullopt);
  if (!FailsAlike(result, rule_, kind_)) {
    passed_.insert(std::move(key));
    rejected_ = std::move(result);
    return false;
  }
  if (result.trace_events > original_events_) {
    passed_.insert(std::move(key));  // fails, but longer than the original: never kept
    return false;
  }
  if (require_new_run_ && result.digest == last_.digest) {
    passed_.insert(std::move(key));  // the same run: it skipped operations that never happen
    return false;
  }
  current_ = scenario;
  if (uses_schedule_) schedule_ = schedule;
  last_ = std::move(result);
  return true;
}

// A targeted crash fires after the nth occurrence of its trigger over the
// run; in the current failing run (last_) that occurrence is a (transaction,
// RM) pair's prepare or commit, or a (transaction, host) pair's log force. When the rejected candidate had that pair's
// occurrence earlier (the run up to there is the same with the crash aimed
// there: it fires after), the schedule with the crash re-aimed at it. A
// log_force occurrence is a (transaction, host) pair, read from the trace.
std::optional<sim::FaultSchedule> Shrinker::AimedSchedule() const {
  if (!uses_schedule_ || !rejected_.completed || !HasTargetedCrash(schedule_)) return std::nullopt;
  sim::FaultSchedule aimed = schedule_;
  bool moved = false;
  for (size_t i = 0; i < aimed.events.size(); ++i) {
    sim::FaultEvent& e = aimed.events[i];
    if (e.trigger == sim::CrashTrigger::kNone) continue;
    const auto list = [&e](const Outcome& o) -> const std::vector<std::string>& {
      if (e.trigger == sim::CrashTrigger::kPrepare) return o.prepares;
      return e.trigger == sim::CrashTrigger::kCommit ? o.commits : o.forces;
    };
    const std::vector<std::string>& was = list(last_);
    const std::vector<std::string>& now = list(rejected_);
    if (e.trigger_count == 0 || e.trigger_count > was.size()) continue;
    const std::string& target = was[e.trigger_count - 1];
    // The k-th occurrence of that pair (a pair prepares again after a crash).
    const auto k = std::count(was.begin(), was.begin() + static_cast<long>(e.trigger_count), target);
    long seen = 0;
    for (size_t n = 0; n < now.size() && n + 1 < e.trigger_count; ++n) {
      if (now[n] == target && ++seen == k) {
        e.trigger_count = n + 1;
        moved = true;
        break;
      }
    }
  }
  if (!moved) return std::nullopt;
  std::set<std::pair<sim::CrashTrigger, uint64_t>> occurrences;
  for (const sim::FaultEvent& e : aimed.events) {
    if (e.trigger != sim::CrashTrigger::kNone && !occurrences.emplace(e.trigger, e.trigger_count).second) {
      return std::nullopt;  // two crashes after one occurrence: not a valid schedule
    }
  }
  return aimed;
}

// The transactions of `present` whose span (Outcome::spans) meets the span
// of one of `named` (the named ones included), in order.
std::vector<uint32_t> Overlapping(const Outcome& outcome, const std::vector<uint32_t>& present,
                                  const std::vector<uint32_t>& named) {
  std::map<uint64_t, std::pair<int64_t, int64_t>> spans;
  for (const std::string& entry : outcome.spans) {
    const std::vector<std::string> parts = absl::StrSplit(entry, ' ');
    uint64_t n = 0;
    int64_t first = 0, last = 0;
    if (parts.size() == 3 && absl::SimpleAtoi(parts[0], &n) && absl::SimpleAtoi(parts[1], &first) &&
        absl::SimpleAtoi(parts[2], &last)) {
      spans[n] = {first, last};
    }
  }
  std::vector<uint32_t> out;
  for (uint32_t n : present) {
    const auto span = spans.find(n);
    bool meets = std::find(named.begin(), named.end(), n) != named.end();
    for (uint32_t v : named) {
      const auto other = spans.find(v);
      if (meets || span == spans.end() || other == spans.end()) continue;
      meets = span->second.first <= other->second.second && other->second.first <= span->second.second;
    }
    if (meets) out.push_back(n);
  }
  return out;
}

// Begin time of transaction `n` in `outcome` (Outcome::spans); none if it did not run.
std::optional<int64_t> BeginOf(const Outcome& outcome, uint64_t n) {
  for (const std::string& entry : outcome.spans) {
    const std::vector<std::string> parts = absl::StrSplit(entry, ' ');
    uint64_t number = 0;
    int64_t first = 0;
    if (parts.size() == 3 && absl::SimpleAtoi(parts[0], &number) && number == n &&
        absl::SimpleAtoi(parts[1], &first)) {
      return first;
    }
  }
  return std::nullopt;
}

std::optional<sim::FaultSchedule> Shrinker::TimeAimedSchedule(uint64_t anchor) const {
  if (!uses_schedule_ || !rejected_.completed) return std::nullopt;
  const std::optional<int64_t> was = BeginOf(last_, anchor), now = BeginOf(rejected_, anchor);
  if (!was || !now || *was == *now) return std::nullopt;
  const sim::TimeNs delta = *now - *was;
  sim::FaultSchedule moved = schedule_;
  bool any = false;
  for (sim::FaultEvent& e : moved.events) {
    if (e.kind == sim::FaultEvent::Kind::kMessage || e.trigger != sim::CrashTrigger::kNone) continue;
    const sim::TimeNs time = std::max<sim::TimeNs>(e.time + delta, 0);
    // Still a fault (before faults_until), or it would be dropped.
    if (time >= current_.faults.faults_until_ns) return std::nullopt;
    any |= time != e.time;
    e.time = time;
  }
  if (!any) return std::nullopt;
  std::stable_sort(moved.events.begin(), moved.events.end(),
                   [](const sim::FaultEvent& a, const sim::FaultEvent& b) { return a.time < b.time; });
  return moved;
}

// The transaction numbers a scenario starts (1..transactions, not skipped).
std::set<uint64_t> Started(const Scenario& scenario) {
  std::set<uint64_t> started;
  for (uint64_t n = 1; n <= scenario.workload.transactions; ++n) started.insert(n);
  for (uint32_t n : scenario.workload.skip) started.erase(n);
  return started;
}

std::optional<sim::FaultSchedule> Shrinker::PredictedSchedule(const Scenario& candidate) const {
  if (!uses_schedule_ || !HasTargetedCrash(schedule_)) return std::nullopt;
  const std::set<uint64_t> started = Started(candidate);
  std::set<std::string> rms;
  for (const RmSpec& rm : candidate.rms) rms.insert(rm.name);
  // An occurrence "<tx> <rm>" stays when its transaction is still started
  // and its RM still there (a log force's "h<host>" is not an RM: it stays).
  const auto stays = [&started, &rms](const std::string& occurrence) {
    const size_t space = occurrence.find(' ');
    const std::string rm = occurrence.substr(space + 1);
    if (!started.count(TransactionNumber(occurrence.substr(0, space)))) return false;
    return rm.empty() || rm[0] == 'h' || rms.count(rm) != 0;
  };
  sim::FaultSchedule predicted = schedule_;
  bool moved = false;
  for (sim::FaultEvent& e : predicted.events) {
    if (e.trigger == sim::CrashTrigger::kNone) continue;
    const std::vector<std::string>& was = e.trigger == sim::CrashTrigger::kPrepare  ? last_.prepares
                                          : e.trigger == sim::CrashTrigger::kCommit ? last_.commits
                                                                                    : last_.forces;
    if (e.trigger_count == 0 || e.trigger_count > was.size()) return std::nullopt;
    if (!stays(was[e.trigger_count - 1])) return std::nullopt;  // its pair goes: nothing to aim at
    uint64_t kept = 0;
    for (uint64_t n = 0; n < e.trigger_count; ++n) kept += stays(was[n]) ? 1 : 0;
    moved |= kept != e.trigger_count;
    e.trigger_count = kept;
  }
  if (!moved) return std::nullopt;
  std::set<std::pair<sim::CrashTrigger, uint64_t>> occurrences;
  for (const sim::FaultEvent& e : predicted.events) {
    if (e.trigger != sim::CrashTrigger::kNone && !occurrences.emplace(e.trigger, e.trigger_count).second) {
      return std::nullopt;
    }
  }
  return predicted;
}

// Operations: ddmin over (transaction, operation) of the transactions still
// started, written as workload.skip_ops. A skipped operation still makes its
// draws (cluster.cc), so the others stay as they were. The operations of a
// transaction are counted from the current run's history (ops).
void Shrinker::ShrinkOperations() {
  const std::set<uint64_t> started = Started(current_);
  std::map<uint64_t, uint64_t> done;
  for (const std::string& entry : last_.ops) {
    std::pair<std::string, std::string> parts = absl::StrSplit(entry, ' ');
    uint64_t n = 0, count = 0;
    if (absl::SimpleAtoi(parts.first, &n) && absl::SimpleAtoi(parts.second, &count)) done[n] = count;
  }
  const std::vector<WorkloadSpec::OpRef> skipped = current_.workload.skip_ops;
  const auto is_skipped = [&skipped](const WorkloadSpec::OpRef& op) {
    return std::find(skipped.begin(), skipped.end(), op) != skipped.end();
  };
  std::vector<WorkloadSpec::OpRef> items;
  for (const auto& [n, count] : done) {
    if (!started.count(n)) continue;
    uint64_t seen = 0;
    for (uint32_t k = 1; seen < count && k <= kShrinkOpsPerTransactionMax; ++k) {
      if (is_skipped({static_cast<uint32_t>(n), k})) continue;
      items.push_back({static_cast<uint32_t>(n), k});
      ++seen;
    }
  }
  if (items.size() < 2) return;  // a transaction's only operation: deleting the transaction is the candidate
  const size_t before = items.size();
  const auto attempt = [this, &items, &skipped](const std::vector<WorkloadSpec::OpRef>& kept) {
    Scenario candidate = current_;
    candidate.workload.skip_ops = skipped;
    for (const WorkloadSpec::OpRef& op : items) {
      if (std::find(kept.begin(), kept.end(), op) == kept.end()) candidate.workload.skip_ops.push_back(op);
    }
    std::sort(candidate.workload.skip_ops.begin(), candidate.workload.skip_ops.end());
    return TryScenario(candidate);
  };
  require_new_run_ = true;
  phase_runs_end_ = runs_ + kShrinkOpsRunsPerRound;
  const std::vector<WorkloadSpec::OpRef> kept = Ddmin<WorkloadSpec::OpRef>(items, attempt);
  phase_runs_end_ = std::numeric_limits<int>::max();
  require_new_run_ = false;
  if (kept.size() != before) steps_.push_back(absl::StrCat("operations: ", before, " -> ", kept.size()));
}

// Targeted crashes (crash_on) are in the recorded schedule like every other
// fault ("crash ... on=prepare nth=3 restart=..."), and a run given a
// schedule applies exactly that schedule: the scenario's crash_on no longer
// changes anything and goes, so ddmin can drop targeted crashes one by one.
void Shrinker::ScheduleTargetedCrashes() {
  if (!uses_schedule_ || current_.faults.crash_on.empty()) return;
  const std::string crash_on = current_.faults.crash_on;
  Scenario candidate = current_;
  candidate.faults.crash_on.clear();
  candidate.faults.crash_on_probability = 0;
  if (Try(candidate, schedule_)) {
    steps_.push_back(absl::StrCat("targeted crashes (crash_on = \"", crash_on,
                                  "\"): replayed from the fault schedule"));
  }
}

template <typename T>
std::vector<T> Shrinker::Ddmin(std::vector<T> items, const std::function<bool(const std::vector<T>&)>& attempt) {
  if (items.empty()) return items;
  if (attempt({})) return {};
  // One sweep per chunk size (halves, quarters, ... single items): a chunk
  // whose removal still fails goes, and the sweep goes on with the next
  // chunk of what is left instead of starting over (the round loop repeats
  // the whole search until nothing goes).
  for (size_t chunk = (items.size() + 1) / 2; chunk >= 1 && items.size() >= 2 && !exhausted_;
       chunk = chunk == 1 ? 0 : (chunk + 1) / 2) {
    for (size_t start = 0; start < items.size() && items.size() >= 2 && !exhausted_;) {
      std::vector<T> rest(items.begin(), items.begin() + static_cast<long>(start));
      rest.insert(rest.end(), items.begin() + static_cast<long>(std::min(start + chunk, items.size())), items.end());
      if (!rest.empty() && attempt(rest)) {
        items = std::move(rest);
      } else {
        start += chunk;
      }
    }
  }
  return items;
}

// Cheap first: all faults of one kind at once (message fates, which a lossy
// network records by the hundred, then partitions, disk faults, timed
// crashes and restarts, targeted crashes), one run each, before ddmin.
void Shrinker::ShrinkFaultKinds() {
  if (!uses_schedule_ || schedule_.events.empty()) return;
  using Kind = sim::FaultEvent::Kind;
  const std::vector<std::pair<const char*, std::function<bool(const sim::FaultEvent&)>>> groups = {
      {"message fates", [](const sim::FaultEvent& e) { return e.kind == Kind::kMessage; }},
      {"partitions", [](const sim::FaultEvent& e) { return e.kind == Kind::kPartition || e.kind == Kind::kHeal; }},
      {"disk faults",
       [](const sim::FaultEvent& e) {
         return e.kind == Kind::kLatentError || e.kind == Kind::kCorruptSector || e.kind == Kind::kPageLatent;
       }},
      {"page write faults", [](const sim::FaultEvent& e) { return e.kind == Kind::kPageTorn || e.kind == Kind::kPageLost; }},
      {"timed crashes",
       [](const sim::FaultEvent& e) {
         return (e.kind == Kind::kCrash && e.trigger == sim::CrashTrigger::kNone) || e.kind == Kind::kRestart;
       }},
      {"targeted crashes", [](const sim::FaultEvent& e) { return e.trigger != sim::CrashTrigger::kNone; }},
  };
  for (const auto& [what, in_group] : groups) {
    if (exhausted_) return;
    std::vector<sim::FaultEvent> rest;
    for (const sim::FaultEvent& e : schedule_.events) {
      if (!in_group(e)) rest.push_back(e);
    }
    if (rest.size() == schedule_.events.size() || rest.empty()) continue;  // none, or all (ddmin tries that)
    const size_t before = schedule_.events.size();
    if (TryEvents(rest)) steps_.push_back(absl::StrCat("fault schedule: ", before, " -> ", rest.size(), " events (no ", what, ")"));
  }
}

// ddmin over the schedule's events (bisection down to single events).
void Shrinker::ShrinkFaults() {
  if (!uses_schedule_ || schedule_.events.empty()) return;
  const size_t before = schedule_.events.size();
  Ddmin<sim::FaultEvent>(schedule_.events, [this](const std::vector<sim::FaultEvent>& events) {
    return TryEvents(events);
  });
  if (schedule_.events.size() != before) {
    steps_.push_back(absl::StrCat("fault schedule: ", before, " -> ", schedule_.events.size(), " events"));
  }
}

// Transactions: first the tail after the first violating one (the knob
// workload.transactions), then ddmin over the numbers still started, written
// as workload.skip. Every transaction draws from its own stream (cluster.h),
// so deleting one leaves the others' choices as they were.
void Shrinker::ShrinkTransactions() {
  const WorkloadSpec& w = current_.workload;
  std::vector<uint32_t> present;
  for (uint32_t n = 1; n <= w.transactions; ++n) {
    if (std::find(w.skip.begin(), w.skip.end(), n) == w.skip.end()) present.push_back(n);
  }
  const size_t before = present.size();
  const auto with = [this](const std::vector<uint32_t>& kept) {
    Scenario candidate = current_;
    candidate.workload.transactions = kept.back();  // the tail goes without a skip entry
    candidate.workload.skip.clear();
    for (uint32_t n = 1; n < kept.back(); ++n) {
      if (std::find(kept.begin(), kept.end(), n) == kept.end()) candidate.workload.skip.push_back(n);
    }
    return candidate;
  };
  const auto attempt = [this, &with](const std::vector<uint32_t>& kept) {
    return !kept.empty() && TryScenario(with(kept));  // a run needs a transaction
  };
  // First the transactions the violation names, alone: one run, and often
  // the whole answer.
  std::vector<uint32_t> named;
  for (const Violation& v : last_.violations) {
    uint64_t number = 0;
    if (v.rule == rule_ && v.tx.size() >= 2 && v.tx[0] == 't' &&
        absl::SimpleAtoi(absl::string_view(v.tx).substr(1), &number) &&
        std::find(present.begin(), present.end(), number) != present.end() &&
        std::find(named.begin(), named.end(), number) == named.end()) {
      named.push_back(static_cast<uint32_t>(number));
    }
  }
  std::sort(named.begin(), named.end());
  if (!named.empty() && named.size() < present.size()) {
    if (attempt(named)) {
      present = named;
    } else if (uses_schedule_ && HasTargetedCrash(schedule_)) {
      // The cut moved the occurrence a targeted crash fires after: re-aim it.
      const Scenario alone = with(named);
      std::vector<sim::FaultSchedule> schedules = ReaimedSchedules(schedule_);
      sim::FaultSchedule targeted_only = schedule_;
      targeted_only.events.clear();
      for (const sim::FaultEvent& e : schedule_.events) {
        if (e.trigger != sim::CrashTrigger::kNone) targeted_only.events.push_back(e);
      }
      if (targeted_only.events.size() < schedule_.events.size()) {  // the other faults hit other messages now
        schedules.push_back(targeted_only);
        for (sim::FaultSchedule& reaimed : ReaimedSchedules(targeted_only)) schedules.push_back(std::move(reaimed));
      }
      for (const sim::FaultSchedule& reaimed : schedules) {
        if (Try(alone, reaimed)) {
          present = named;
          steps_.push_back("targeted crash re-aimed at an earlier occurrence");
          break;
        }
      }
    }
  }
  // A timed fault hit the named transaction at some point of its run; alone
  // it begins at another time. Once more with the timed faults moved by as
  // much as its begin moved (in the run just rejected).
  if (!named.empty() && named.size() < present.size() && present != named && !exhausted_) {
    if (std::optional<sim::FaultSchedule> timed = TimeAimedSchedule(named.front())) {
      if (Try(with(named), *timed)) {
        present = named;
        steps_.push_back("timed faults moved with the transaction they hit");
      }
    }
  }
  // Then the named ones with every transaction that ran while they did (the
  // ones they can meet: conflicts, shared RMs, a crash between them), one
  // run, and ddmin starts from those when it fails alike.
  if (!named.empty() && present.size() > named.size() && !exhausted_) {
    const std::vector<uint32_t> overlapping = Overlapping(last_, present, named);
    if (overlapping.size() > named.size() && overlapping.size() < present.size()) {
      if (attempt(overlapping)) {
        present = overlapping;
      } else if (std::optional<sim::FaultSchedule> timed = TimeAimedSchedule(named.front())) {
        if (Try(with(overlapping), *timed)) present = overlapping;
      }
    }
  }
  Ddmin<uint32_t>(present, attempt);
  size_t after = current_.workload.transactions - current_.workload.skip.size();
  if (after != before) steps_.push_back(absl::StrCat("transactions: ", before, " -> ", after));
}

// RMs one by one (from the last): the workload spreads over those left.
void Shrinker::ShrinkRms() {
  for (size_t r = current_.rms.size(); r-- > 0 && current_.rms.size() > 1 && !exhausted_;) {
    if (r >= current_.rms.size()) continue;
    Scenario candidate = current_;
    const std::string name = candidate.rms[r].name;
    candidate.rms.erase(candidate.rms.begin() + static_cast<long>(r));
    const uint32_t rms = static_cast<uint32_t>(candidate.rms.size());
    candidate.workload.rms_per_tx_min = std::min(candidate.workload.rms_per_tx_min, rms);
    candidate.workload.rms_per_tx_max = std::min(candidate.workload.rms_per_tx_max, rms);
    if (TryScenario(candidate)) steps_.push_back(absl::StrCat("rm ", name, " removed"));
  }
}

// `schedule` without host `id` (its faults go, and every fault of a host
// after it names that host's new id, one lower; a partition's groups too).
// Message fates are keyed by sequence number, not host: they stay.
sim::FaultSchedule WithoutHost(const sim::FaultSchedule& schedule, uint32_t id) {
  sim::FaultSchedule out = schedule;
  out.events.clear();
  for (sim::FaultEvent e : schedule.events) {
    if (e.kind != sim::FaultEvent::Kind::kMessage) {
      bool names = e.host == id;
      for (const auto& group : e.groups) names |= std::find(group.begin(), group.end(), id) != group.end();
      if (names) continue;
      if (e.host > id) --e.host;
      for (auto& group : e.groups) {
        for (uint32_t& member : group) member -= member > id ? 1 : 0;
      }
    }
    out.events.push_back(std::move(e));
  }
  return out;
}

// Hosts one by one, from the last (any host, not only the last: the ids of
// the hosts after it move down one, and their faults with them), each with
// its RMs and the faults that name it.
void Shrinker::ShrinkHosts() {
  for (size_t h = current_.hosts.size(); h-- > 0 && current_.hosts.size() > 1 && !exhausted_;) {
    if (h >= current_.hosts.size()) continue;
    Scenario candidate = current_;
    const std::string host = candidate.hosts[h].name;
    candidate.hosts.erase(candidate.hosts.begin() + static_cast<long>(h));
    candidate.rms.erase(std::remove_if(candidate.rms.begin(), candidate.rms.end(),
                                       [&host](const RmSpec& rm) { return rm.host == host; }),
                        candidate.rms.end());
    if (candidate.rms.empty()) continue;
    const uint32_t rms = static_cast<uint32_t>(candidate.rms.size());
    candidate.workload.rms_per_tx_min = std::min(candidate.workload.rms_per_tx_min, rms);
    candidate.workload.rms_per_tx_max = std::min(candidate.workload.rms_per_tx_max, rms);
    if (Try(candidate, WithoutHost(schedule_, static_cast<uint32_t>(h)))) {
      steps_.push_back(absl::StrCat("host ", host, " removed"));
    }
  }
}

// Simpler settings, each kept when the run still fails: zero delays, back-to-
// back arrivals, one client at a time, no async commits, the fifo schedule.
void Shrinker::Simplify() {
  const std::vector<std::pair<const char*, std::function<bool(Scenario&)>>> edits = {
      {"workload.think = 0", [](Scenario& s) { return std::exchange(s.workload.think_ns, 0) != 0; }},
      {"rms.response_delay = 0",
       [](Scenario& s) {
         bool changed = false;
         for (RmSpec& rm : s.rms) changed |= std::exchange(rm.response_delay_ns, 0) != 0;
         return changed;
       }},
      {"workload.arrival_per_second = 0 (back to back)",
       [](Scenario& s) { return std::exchange(s.workload.arrival_per_second, 0.0) != 0; }},
      {"workload.async_commit_fraction = 0",
       [](Scenario& s) { return std::exchange(s.workload.async_commit_fraction, 0.0) != 0; }},
      // Unless the run's options pin the strategy (RunOptions::strategy
      // overrides the scenario's; every candidate keeps it and its seed).
      {"schedule_strategy = fifo",
       [this](Scenario& s) {
         return options_.strategy.empty() && std::exchange(s.schedule_strategy, std::string("fifo")) != "fifo";
       }},
  };
  for (const auto& [what, edit] : edits) {
    if (exhausted_) return;
    Scenario candidate = current_;
    if (edit(candidate) && TryScenario(candidate)) steps_.push_back(what);
  }
}

// A field of every RM set to its "off" value; true when one changed.
template <typename T>
bool TurnOff(Scenario& s, T RmSpec::*field) {
  bool changed = false;
  for (RmSpec& rm : s.rms) changed |= std::exchange(rm.*field, T{}) != T{};
  return changed;
}

// Features the failure may not need, each turned off when the run still
// fails: distributed transactions (no Dtc: its boot, log and messages go),
// the transaction timeout, the RMs' shares of no votes, disconnects,
// single-phase rejects, deletes, moves, volatile keys and nontransacted
// opens and their outcome requests; then volatile RMs one by one (no RM log)
// and volatile TMs one by one (no TM log; only on a host whose RMs are all
// volatile by then).
void Shrinker::TurnOffFeatures() {
  const std::vector<std::pair<const char*, std::function<bool(Scenario&)>>> edits = {
      {"workload.distributed_fraction = 0 (no Dtc)",
       [](Scenario& s) { return std::exchange(s.workload.distributed_fraction, 0.0) != 0; }},
      {"workload.timeout = 0", [](Scenario& s) { return std::exchange(s.workload.timeout_ns, 0) != 0; }},
      {"rms.vote_no_probability = 0", [](Scenario& s) { return TurnOff(s, &RmSpec::vote_no_probability); }},
      {"rms.disconnect_probability = 0", [](Scenario& s) { return TurnOff(s, &RmSpec::disconnect_probability); }},
      {"rms.reject_single_phase_probability = 0",
       [](Scenario& s) { return TurnOff(s, &RmSpec::reject_single_phase_probability); }},
      {"rms.delete_fraction = 0", [](Scenario& s) { return TurnOff(s, &RmSpec::delete_fraction); }},
      {"rms.move_fraction = 0", [](Scenario& s) { return TurnOff(s, &RmSpec::move_fraction); }},
      {"rms.volatile_fraction = 0", [](Scenario& s) { return TurnOff(s, &RmSpec::volatile_fraction); }},
      {"rms.nontransacted_open_fraction = 0",
       [](Scenario& s) { return TurnOff(s, &RmSpec::nontransacted_open_fraction); }},
      {"rms.request_outcome_after = 0", [](Scenario& s) { return TurnOff(s, &RmSpec::request_outcome_after_ns); }},
  };
  for (const auto& [what, edit] : edits) {
    if (exhausted_) return;
    Scenario candidate = current_;
    if (edit(candidate) && TryScenario(candidate)) steps_.push_back(what);
  }
  for (size_t r = 0; r < current_.rms.size() && !exhausted_; ++r) {
    if (!current_.rms[r].durable) continue;
    Scenario candidate = current_;
    candidate.rms[r].durable = false;
    if (TryScenario(candidate)) steps_.push_back(absl::StrCat("rm ", candidate.rms[r].name, ": volatile"));
  }
  for (size_t h = 0; h < current_.hosts.size() && !exhausted_; ++h) {
    if (current_.hosts[h].tm_volatile) continue;
    const std::string& name = current_.hosts[h].name;
    if (std::any_of(current_.rms.begin(), current_.rms.end(),
                    [&name](const RmSpec& rm) { return rm.host == name && rm.durable; })) {
      continue;  // a volatile TM takes only volatile RMs (Validate)
    }
    Scenario candidate = current_;
    candidate.hosts[h].tm_volatile = true;
    if (TryScenario(candidate)) steps_.push_back(absl::StrCat("host ", name, ": volatile TM"));
  }
}

// Earlier fault times: each timed fault (not a message fate, not a targeted
// crash) moved to half its time, kept when the run still fails.
void Shrinker::ShrinkFaultTimes() {
  if (!uses_schedule_) return;
  int moved = 0;
  for (size_t i = 0; i < schedule_.events.size() && !exhausted_; ++i) {
    const sim::FaultEvent& event = schedule_.events[i];
    if (event.trigger != sim::CrashTrigger::kNone) {
      // A targeted crash: an earlier occurrence of its trigger (the first,
      // half its count, the one before), the first that still fails.
      const uint64_t nth = event.trigger_count;
      for (uint64_t earlier : {uint64_t{1}, nth / 2, nth - 1}) {
        if (earlier == 0 || earlier >= schedule_.events[i].trigger_count) continue;
        std::optional<sim::FaultSchedule> reaimed = Reaimed(schedule_, i, earlier);
        if (reaimed && Try(current_, *reaimed)) {
          ++moved;
          break;
        }
      }
      continue;
    }
    if (event.kind == sim::FaultEvent::Kind::kMessage || event.time < 2 * sim::kMillisecond) continue;
    sim::FaultSchedule schedule = schedule_;
    schedule.events[i].time = event.time / 2;
    std::stable_sort(schedule.events.begin(), schedule.events.end(),
                     [](const sim::FaultEvent& a, const sim::FaultEvent& b) { return a.time < b.time; });
    if (Try(current_, schedule)) ++moved;
  }
  if (moved > 0) steps_.push_back(absl::StrCat("fault times: ", moved, " moved earlier"));
}

// Binary search for the lowest value in [lowest, current] that still fails
// (the current value is known to fail; every value kept was seen to fail).
// The tail of transactions: the numbers still started are P[0] < P[1] < ...;
// a cut keeps P[0..i] (workload.transactions = P[i]). Cheap first: the cut
// after the first violating transaction (those after it often matter
// little), then the first alone, then a binary search over i (cuts between
// two numbers started are the same run, so only these are tried).
void Shrinker::ShrinkTransactionTail() {
  const WorkloadSpec& w = current_.workload;
  std::vector<uint32_t> present;
  for (uint32_t n = 1; n <= w.transactions; ++n) {
    if (std::find(w.skip.begin(), w.skip.end(), n) == w.skip.end()) present.push_back(n);
  }
  if (present.size() < 2) return;
  const uint32_t start = w.transactions;
  const Knob knob = Knobs().front();
  const auto cut = [this, &knob, &present](size_t i) {
    Scenario candidate = current_;
    knob.set(candidate, present[i]);
    return TryScenario(candidate);
  };
  size_t low = 0, high = present.size() - 1;
  const uint64_t first = FirstViolatingTransaction(last_, rule_);
  for (size_t i = 0; i < high; ++i) {
    if (present[i] == first) {
      if (cut(i)) high = i;
      break;
    }
  }
  if (low < high && !exhausted_) {
    if (cut(low)) high = low;
    else ++low;
  }
  while (low < high && !exhausted_) {
    const size_t middle = low + (high - low) / 2;
    if (cut(middle)) {
      high = middle;
    } else {
      low = middle + 1;
    }
  }
  if (current_.workload.transactions != start) {
    steps_.push_back(absl::StrCat("workload.transactions: ", start, " -> ", current_.workload.transactions));
  }
}

void Shrinker::ShrinkKnob(const Knob& knob) {
  const uint64_t start = knob.get(current_);
  uint64_t low = knob.lowest(current_);
  uint64_t high = start;
  if (low < high) {  // cheap first: the lowest value, often the answer
    Scenario candidate = current_;
    knob.set(candidate, low);
    if (TryScenario(candidate)) high = low;
    else ++low;
  }
  while (low < high && !exhausted_) {
    const uint64_t middle = low + (high - low) / 2;
    Scenario candidate = current_;
    knob.set(candidate, middle);
    if (TryScenario(candidate)) {
      high = middle;
    } else {
      low = middle + 1;
    }
  }
  if (knob.get(current_) != start) {
    steps_.push_back(absl::StrCat(knob.name, ": ", start, " -> ", knob.get(current_)));
  }
}

// run_until: first to the time the run actually ended (often far below the
// limit), then a binary search down to faults_until + termination_bound,
// the least the scenario format allows.
void Shrinker::ShrinkRunUntil() {
  constexpr sim::TimeNs kMs = sim::kMillisecond;
  const sim::TimeNs start = current_.run_until_ns;
  const sim::TimeNs floor_ns = current_.faults.faults_until_ns + current_.termination_bound_ns;
  sim::TimeNs high = start;
  const sim::TimeNs ended = (last_.sim_time_ns + kMs - 1) / kMs * kMs;
  if (ended < high && ended >= floor_ns) {
    Scenario candidate = current_;
    candidate.run_until_ns = ended;
    if (TryScenario(candidate)) high = ended;
  }
  sim::TimeNs low = (floor_ns + kMs - 1) / kMs;
  sim::TimeNs high_ms = high / kMs;
  if (low < high_ms && !exhausted_) {  // cheap first: the least the format allows
    Scenario candidate = current_;
    candidate.run_until_ns = low * kMs;
    if (TryScenario(candidate)) high_ms = low;
    else ++low;
  }
  while (low < high_ms && !exhausted_) {
    const sim::TimeNs middle = low + (high_ms - low) / 2;
    Scenario candidate = current_;
    candidate.run_until_ns = middle * kMs;
    if (TryScenario(candidate)) {
      high_ms = middle;
    } else {
      low = middle + 1;
    }
  }
  if (current_.run_until_ns != start) {
    steps_.push_back(absl::StrCat("run_until: ", FormatTime(start), " -> ", FormatTime(current_.run_until_ns)));
  }
}

// Targeted crashes are not in the schedule: fewer of them only by halving
// their probability (a few times, while it still fails).
void Shrinker::ShrinkCrashOnProbability() {
  if (current_.faults.crash_on.empty()) return;
  const double start = current_.faults.crash_on_probability;
  for (int halvings = 0; halvings < 4 && !exhausted_; ++halvings) {
    Scenario candidate = current_;
    candidate.faults.crash_on_probability /= 2;
    if (!TryScenario(candidate)) break;
  }
  if (current_.faults.crash_on_probability != start) {
    steps_.push_back(absl::StrCat("faults.crash_on_probability: ", start, " -> ",
                                  current_.faults.crash_on_probability));
  }
}

// The schedule replayed is a superset of what took effect (a crash of a host
// that is already down is not injected): the recorded faults of the last
// failing run are the smaller schedule, if they still fail.
void Shrinker::AdoptEffectiveSchedule() {
  if (!uses_schedule_) return;
  absl::StatusOr<sim::FaultSchedule> recorded = sim::FaultSchedule::Parse(last_.schedule_text);
  if (!recorded.ok()) return;
  recorded->events = FaultsBefore(recorded->events, current_.faults.faults_until_ns);
  const size_t before = schedule_.events.size();
  if (recorded->events.size() >= before) return;
  if (Try(current_, *recorded)) {
    steps_.push_back(absl::StrCat("fault schedule: ", before, " -> ", schedule_.events.size(),
                                  " events (the faults that took effect)"));
  }
}

Scenario Shrinker::Emitted() const {
  Scenario emitted = current_;
  emitted.name = current_.name + "-shrunk";
  emitted.description = absl::StrCat("Shrunk by ktmsim from scenario ", current_.name,
                                     current_.file.empty() ? "" : " (" + current_.file + ")", " seed ", seed_,
                                     ": still violates ", rule_, ".");
  if (uses_schedule_ && emitted.faults.crash_on.empty()) {
    // The run ignores the scenario's fault plan when given a schedule; with
    // the schedule inline the file alone replays the same run.
    emitted.faults.mode = FaultMode::kSchedule;
    emitted.faults.probabilities = sim::FaultProbabilities{};
    emitted.faults.schedule_text =
        absl::StrCat("# the minimal fault schedule found by ktmsim shrink\n", schedule_.ToText());
  }
  return emitted;
}

ShrinkResult Shrinker::Run(bool keep_trace) {
  ShrinkResult out;
  out.rule = rule_;
  out.seed = seed_;
  out.planted_bug = options_.planted_bug;
  if (Start(&out)) {
    ScheduleTargetedCrashes();
    for (int round = 0; round < kShrinkRoundsMax && !exhausted_; ++round) {
      const std::string before = ScenarioToToml(current_) + schedule_.ToText();
      phase_capped_ = false;
      int mark = runs_;
      std::string tally = absl::StrCat("round ", round + 1, " runs:");
      const auto phase = [&](const char* name) {
        if (runs_ != mark) absl::StrAppend(&tally, " ", name, " ", runs_ - mark);
        mark = runs_;
      };
      // Cheap first: faults by kind and then one by one (message fates are
      // keyed by the message's sequence number and targeted crashes by an
      // occurrence count, both of which move when transactions go, so the
      // faults are cut before the transactions), then the tail of
      // transactions, those the violation names alone, ddmin over the rest.
      ShrinkFaultKinds();
      ShrinkFaults();
      phase("faults");
      ShrinkTransactionTail();
      phase("cut");
      ShrinkTransactions();
      phase("tx");
      ShrinkHosts();
      phase("hosts");
      ShrinkRms();
      phase("rms");
      const std::vector<Knob> knobs = Knobs();
      for (size_t k = 1; k < knobs.size(); ++k) {
        ShrinkKnob(knobs[k]);
        phase(knobs[k].name);
      }
      ShrinkOperations();
      phase("ops");
      Simplify();
      phase("simplify");
      TurnOffFeatures();
      phase("off");
      ShrinkFaultTimes();
      phase("times");
      ShrinkCrashOnProbability();
      phase("crashp");
      ShrinkRunUntil();
      phase("until");
      rounds_.push_back(tally);
      if (!exhausted_ && !phase_capped_ && ScenarioToToml(current_) + schedule_.ToText() == before) {
        fixed_point_ = true;  // a whole round of candidates kept nothing
        break;
      }
    }
    AdoptEffectiveSchedule();
    out.scenario = Emitted();
    RunOptions final_options = options_;
    final_options.keep_trace = keep_trace;
    final_options.schedule = CurrentSchedule();
    ++runs_;
    out.result = RunScenario(out.scenario, seed_, final_options);
    out.ok = FailsAlike(OutcomeOf(out.result), rule_, kind_);
    if (!out.ok) {
      out.error = absl::StrCat("nondeterminism: the minimal run no longer violates '", rule_,
                               "' when run again (digest ", out.result.digest, ")");
    }
    out.uses_schedule = uses_schedule_;
    out.schedule = schedule_;
    out.after = SizesOf(out.scenario, out.result);
  }
  out.runs = runs_;
  out.died = died_;
  out.budget_exhausted = exhausted_;
  out.fixed_point = fixed_point_;
  out.steps = steps_;
  out.rounds = rounds_;
  return out;
}

}  // namespace

RunSizes SizesOf(const Scenario& scenario, const RunResult& result) {
  return SizesOfOutcome(scenario, OutcomeOf(result));
}

double ShrinkResult::ratio() const {
  if (before.trace_events == 0) return 1;
  return static_cast<double>(after.trace_events) / static_cast<double>(before.trace_events);
}

const char* ShrinkResult::stopped_by() const {
  if (fixed_point) return "fixed point";
  return budget_exhausted ? "budget" : "rounds limit";
}

std::string SummaryLine(const ShrinkSummary& s) {
  const auto percent = [&s](uint64_t n) { return s.shrunk == 0 ? 0.0 : 100.0 * static_cast<double>(n) / static_cast<double>(s.shrunk); };
  return absl::StrFormat(
      "%d shrunk (%d not), same rule %d (same kind of event %d), events after/before median %.4f worst %.4f, "
      "<= 3 transactions %d (%.0f%%), fixed point %d (%.0f%%), runs %d",
      s.shrunk, s.failed, s.same_rule, s.same_kind, s.ratio_median, s.ratio_worst, s.at_most_3_transactions,
      percent(s.at_most_3_transactions), s.fixed_points, percent(s.fixed_points), s.runs);
}

ShrinkFigure FigureOf(const ShrinkResult& r) {
  ShrinkFigure figure;
  figure.ok = r.ok;
  figure.runs = static_cast<uint64_t>(r.runs);
  if (!r.ok) return figure;
  figure.ratio = r.ratio();
  figure.fixed_point = r.fixed_point;
  figure.transactions_after = r.after.transactions;
  figure.same_rule = ViolatesRule(r.result, r.rule);
  figure.same_kind = FailsAlike(OutcomeOf(r.result), r.rule, r.kind);
  return figure;
}

ShrinkSummary Summarize(const std::vector<ShrinkFigure>& figures) {
  ShrinkSummary summary;
  std::vector<double> ratios;
  for (const ShrinkFigure& f : figures) {
    summary.runs += f.runs;
    if (!f.ok) {
      ++summary.failed;
      continue;
    }
    ++summary.shrunk;
    ratios.push_back(f.ratio);
    if (f.fixed_point) ++summary.fixed_points;
    if (f.transactions_after <= 3) ++summary.at_most_3_transactions;
    if (f.same_rule) ++summary.same_rule;
    if (f.same_kind) ++summary.same_kind;
  }
  if (!ratios.empty()) {
    std::sort(ratios.begin(), ratios.end());
    const size_t n = ratios.size();
    summary.ratio_median = n % 2 == 1 ? ratios[n / 2] : (ratios[n / 2 - 1] + ratios[n / 2]) / 2;
    summary.ratio_worst = ratios.back();
  }
  return summary;
}

ShrinkSummary Summarize(const std::vector<ShrinkResult>& results) {
  std::vector<ShrinkFigure> figures;
  figures.reserve(results.size());
  for (const ShrinkResult& r : results) figures.push_back(FigureOf(r));
  return Summarize(figures);
}

ShrinkResult Shrink(const Scenario& scenario, uint64_t seed, const RunOptions& options,
                    const std::string& rule, int budget_runs) {
  Shrinker shrinker(scenario, seed, options, rule, budget_runs);
  return shrinker.Run(options.keep_trace);
}

}  // namespace harness
