// Explore: see explore.h. One PointRun is one simulation with a list of
// fault points: a trace hook counts the events fault points refer to, the
// crashes are put on the scheduler at Now() (never run inside the event
// that triggers them), message fates go through an explicit FaultSchedule.
#include "harness/explore.h"

#include <algorithm>
#include <deque>
#include <memory>
#include <optional>
#include <set>
#include <string_view>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "harness/cluster.h"
#include "harness/conformance.h"
#include "ktm/assert.h"
#include "sim/invariant.h"
#include "sim/fault_plan.h"
#include "sim/rng.h"

namespace harness {
namespace {

using Counters = std::map<std::pair<uint32_t, std::string>, uint64_t>;  // (host, event kind) -> count

uint64_t Mix(uint64_t hash, uint64_t word) {
  uint64_t z = (hash ^ word) + 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

bool IsMessagePoint(const FaultPoint& point) { return point.kind != FaultPoint::Kind::kCrash; }

const char* MessageKindName(FaultPoint::Kind kind) {
  switch (kind) {
    case FaultPoint::Kind::kDrop: return "drop";
    case FaultPoint::Kind::kDuplicate: return "dup";
    case FaultPoint::Kind::kDelay: return "delay";
    case FaultPoint::Kind::kCrash: break;
  }
  return "crash";
}

// What one simulation with fault points saw.
struct PointRunOutcome {
  RunResult result;
  bool pruned = false;
  bool all_injected = false;      // every point took effect (a crash of a down host does not)
  Counters totals;                // events before faults stopped
  uint64_t messages_total = 0;    // last datagram sequence number sent before faults stopped
  Counters at_last;               // counters when the last point was injected
  uint64_t message_at_last = 0;
  // The KtmTwoPhaseCrash states the conformance projection of the run
  // visited (up to its prune point), per number of RMs.
  std::map<int, std::set<uint64_t>> spec_states;
};

// Shared by the runs of one exploration: the keys and fingerprints seen.
struct PruneState {
  std::set<uint64_t> keys;
  std::set<uint64_t> fingerprints;
};

class PointRun {
 public:
  PointRun(const Scenario& scenario, uint64_t seed, const RunOptions& options, std::vector<FaultPoint> points,
           PruneState* prune)
      : scenario_(scenario), seed_(seed), options_(options), points_(std::move(points)), prune_(prune) {
    for (const FaultPoint& point : points_) {
      if (IsMessagePoint(point)) {
        sim::FaultEvent event;
        event.kind = sim::FaultEvent::Kind::kMessage;
        event.message_seq = point.n;
        event.fate.drop = point.kind == FaultPoint::Kind::kDrop;
        event.fate.duplicate = point.kind == FaultPoint::Kind::kDuplicate;
        if (point.kind == FaultPoint::Kind::kDelay) event.fate.extra_delay_ns = DelayNs();
        schedule_.events.push_back(event);
      }
    }
    // A crash is a power cut: every sector not on the media is lost (no
    // torn or half-surviving writes), so a crash's effect is decided by the
    // state it hits alone and pruning on the fingerprint is sound for it.
    schedule_.unflushed_survive_probability = 0;
    options_.schedule = schedule_;
    injected_.assign(points_.size(), false);
  }

  PointRunOutcome Run() {
    sim::InvariantTrap trap;  // a broken invariant is this run's violation (harness/runner.h)
    try {
      cluster_ = std::make_unique<Cluster>(scenario_, seed_, options_);
      // Only the kinds it counts (and the fault plan's stop), as views: no
      // text is made for them.
      cluster_->set_trace_view_hook([this](const sim::TraceView& event) { OnEvent(event); },
                                    [](std::string_view kind) {
                                      const std::vector<std::string>& kinds = CrashEventKinds();
                                      return kind == "faults.stop" ||
                                             std::find(kinds.begin(), kinds.end(), kind) != kinds.end();
                                    });
      ConformanceChecker conformance(&cluster_->world());
      outcome_.result = cluster_->Run();
      outcome_.spec_states = conformance.Finish().spec_states;
    } catch (const sim::InvariantFailure& failure) {
      outcome_.result = AssertionResult(scenario_, seed_, cluster_.get(), failure, options_);
    } catch (const std::exception& error) {
      outcome_.result = AssertionResult(scenario_, seed_, cluster_.get(), UncaughtException(error), options_);
    }
    outcome_.pruned = cluster_->stop_requested();
    outcome_.all_injected = std::all_of(injected_.begin(), injected_.end(), [](bool b) { return b; });
    cluster_.reset();
    return std::move(outcome_);
  }

 private:
  sim::TimeNs DelayNs() const { return std::max<sim::TimeNs>(scenario_.network.reorder_delay_max_ns, 1); }

  void OnEvent(const sim::TraceView& event) {
    static constexpr sim::TraceName kStop = "faults.stop", kNetSend = "net.send";
    if (event.kind.hash == kStop.hash) {
      stopped_ = true;
      return;
    }
    if (stopped_ || event.host == sim::kNoHost) return;
    const std::string kind(event.kind.text);  // one of CrashEventKinds (the hook's filter)
    const uint64_t count = ++counters_[{event.host, kind}];
    outcome_.totals[{event.host, kind}] = count;
    if (event.kind.hash == kNetSend.hash) {
      if (std::optional<uint64_t> seq = NumberField(event, "seq")) {
        last_seq_ = *seq;
        outcome_.messages_total = *seq;
        OnMessage(*seq);
      }
    }
    for (size_t i = 0; i < points_.size(); ++i) {
      const FaultPoint& point = points_[i];
      if (point.kind == FaultPoint::Kind::kCrash && point.host == event.host && point.event == kind &&
          point.n == count) {
        cluster_->world().scheduler().After(0, [this, i] { Crash(i); });
      }
    }
  }

  // A field recorded as an unsigned number, or as its decimal text.
  static std::optional<uint64_t> NumberField(const sim::TraceView& event, sim::TraceName key) {
    const sim::TraceField* field = event.Find(key);
    if (field == nullptr) return std::nullopt;
    if (field->type == sim::TraceField::Type::kUnsigned) return field->number;
    std::string scratch;
    uint64_t value = 0;
    const std::string_view text = field->ValueView(&scratch);
    if (!absl::SimpleAtoi(absl::string_view(text.data(), text.size()), &value)) return std::nullopt;
    return value;
  }

  void OnMessage(uint64_t seq) {
    for (size_t i = 0; i < points_.size(); ++i) {
      if (IsMessagePoint(points_[i]) && points_[i].n == seq) Inject(i);
    }
  }

  void Crash(size_t i) {
    if (cluster_->stop_requested() || stopped_) return;
    sim::Host* host = cluster_->world().host(points_[i].host);
    if (!host->up()) return;  // an earlier point of the same instant crashed it
    if (!Inject(i)) return;
    // The crash's own random choices depend on the state it hits, not on
    // how the run got there (pruning treats equal states as one).
    host->Crash(Mix(seed_, last_fingerprint_));
    const sim::TimeNs restart = std::max<sim::TimeNs>(scenario_.faults.probabilities.restart_delay_min_ns, 1);
    cluster_->world().scheduler().After(restart, [host] { host->Restart(); });
  }

  // Marks point i injected, takes the fingerprint, checks the prune key.
  // False when the run is pruned here.
  bool Inject(size_t i) {
    injected_[i] = true;
    outcome_.at_last = counters_;
    outcome_.message_at_last = last_seq_;
    const uint64_t fingerprint = cluster_->Fingerprint();
    last_fingerprint_ = fingerprint;
    if (prune_ == nullptr) return true;
    prune_->fingerprints.insert(fingerprint);
    uint64_t key = Mix(fingerprint, sim::HashName(absl::StrCat(MessageKindName(points_[i].kind), "/",
                                                               points_[i].host, "/", points_[i].event)));
    for (size_t j = i + 1; j < points_.size(); ++j) {
      const FaultPoint& later = points_[j];
      const uint64_t base = IsMessagePoint(later) ? last_seq_ : counters_[{later.host, later.event}];
      key = Mix(key, sim::HashName(absl::StrCat(MessageKindName(later.kind), "/", later.host, "/", later.event)));
      key = Mix(key, later.n - std::min(base, later.n));
    }
    if (prune_->keys.insert(key).second) return true;
    cluster_->RequestStop();
    return false;
  }

  const Scenario& scenario_;
  uint64_t seed_;
  RunOptions options_;
  std::vector<FaultPoint> points_;
  PruneState* prune_;
  sim::FaultSchedule schedule_;
  std::unique_ptr<Cluster> cluster_;
  Counters counters_;
  uint64_t last_seq_ = 0;
  uint64_t last_fingerprint_ = 0;
  bool stopped_ = false;
  std::vector<bool> injected_;
  PointRunOutcome outcome_;
};

// Every point after the last injected one of `outcome`, in a fixed order:
// crash points by (host, kind, n), then message points by (seq, drop/dup/delay).
std::vector<FaultPoint> LaterPoints(const PointRunOutcome& outcome) {
  std::vector<FaultPoint> points;
  for (const auto& [where, total] : outcome.totals) {
    auto it = outcome.at_last.find(where);
    const uint64_t from = it == outcome.at_last.end() ? 0 : it->second;
    for (uint64_t n = from + 1; n <= total; ++n) {
      points.push_back(FaultPoint{FaultPoint::Kind::kCrash, where.first, where.second, n});
    }
  }
  for (uint64_t seq = outcome.message_at_last + 1; seq <= outcome.messages_total; ++seq) {
    for (FaultPoint::Kind kind : {FaultPoint::Kind::kDrop, FaultPoint::Kind::kDuplicate, FaultPoint::Kind::kDelay}) {
      points.push_back(FaultPoint{kind, 0, "", seq});
    }
  }
  return points;
}

}  // namespace

// ---------------------------------------------------------------------------
// Fault points: text form.

const std::vector<std::string>& CrashEventKinds() {
  static const std::vector<std::string> kinds = {"disk.write", "disk.flush", "net.send", "ktm.notify"};
  return kinds;
}

std::string FaultPoint::ToText() const {
  if (kind == Kind::kCrash) return absl::StrCat("crash:h", host, ":", event, ":", n);
  return absl::StrCat(MessageKindName(kind), ":msg:", n);
}

std::string FaultPointsText(const std::vector<FaultPoint>& points) {
  return absl::StrJoin(points, ",", [](std::string* out, const FaultPoint& p) { out->append(p.ToText()); });
}

absl::StatusOr<std::vector<FaultPoint>> ParseFaultPoints(const std::string& text, const Scenario& scenario) {
  std::vector<FaultPoint> points;
  for (absl::string_view item : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    const std::vector<std::string> parts = absl::StrSplit(item, ':');
    auto bad = [&item](const std::string& why) {
      return absl::InvalidArgumentError(absl::StrCat("bad fault point '", item, "': ", why,
                                                     " (expected crash:h<H>:<event>:<N> or drop|dup|delay:msg:<S>)"));
    };
    FaultPoint point;
    if (parts.size() == 4 && parts[0] == "crash") {
      uint32_t host = 0;
      if (parts[1].size() < 2 || parts[1][0] != 'h' || !absl::SimpleAtoi(parts[1].substr(1), &host)) {
        return bad("host must be h<index>");
      }
      if (host >= scenario.hosts.size()) {
        return bad(absl::StrCat("no host h", host, " (the scenario has ", scenario.hosts.size(), ")"));
      }
      const std::vector<std::string>& kinds = CrashEventKinds();
      if (std::find(kinds.begin(), kinds.end(), parts[2]) == kinds.end()) {
        return bad(absl::StrCat("unknown event '", parts[2], "', need one of ", absl::StrJoin(kinds, ", ")));
      }
      point.host = host;
      point.event = parts[2];
    } else if (parts.size() == 3 && parts[1] == "msg") {
      if (parts[0] == "drop") {
        point.kind = FaultPoint::Kind::kDrop;
      } else if (parts[0] == "dup") {
        point.kind = FaultPoint::Kind::kDuplicate;
      } else if (parts[0] == "delay") {
        point.kind = FaultPoint::Kind::kDelay;
      } else {
        return bad(absl::StrCat("unknown message fault '", parts[0], "'"));
      }
    } else {
      return bad("wrong shape");
    }
    if (!absl::SimpleAtoi(parts.back(), &point.n) || point.n == 0) return bad("the count must be >= 1");
    points.push_back(point);
  }
  if (points.empty()) return absl::InvalidArgumentError("no fault points given");
  return points;
}

absl::Status CheckExplorable(const Scenario& scenario) {
  if (!scenario.faults.crash_on.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("scenario ", scenario.name, " has faults.crash_on = \"",
                                                   scenario.faults.crash_on,
                                                   "\": explore places every crash itself; remove it"));
  }
  return absl::OkStatus();
}

RunResult RunWithFaultPoints(const Scenario& scenario, uint64_t seed, const RunOptions& options,
                             const std::vector<FaultPoint>& points) {
  KTM_ASSERT(!options.schedule.has_value(), "fault points replace the fault schedule");
  const RunIdentity identity = FaultPointsIdentity(scenario, seed, options, points);
  ktm::SetAssertContext(
      absl::StrCat("scenario=", scenario.name, " seed=", seed, " replay: ", ReplayCommandLine(identity)));
  const Scenario as_run = ScenarioAsRun(scenario, options);
  PointRunOutcome outcome = PointRun(as_run, seed, options, points, nullptr).Run();
  ktm::SetAssertContext("");
  outcome.result.identity = identity;
  return std::move(outcome.result);
}

RunIdentity FaultPointsIdentity(const Scenario& scenario, uint64_t seed, const RunOptions& options,
                                const std::vector<FaultPoint>& points) {
  RunIdentity identity = IdentityOf(scenario, seed, options);
  identity.fault_points = FaultPointsText(points);
  return identity;
}

// ---------------------------------------------------------------------------
// The search.

namespace {

class Explorer {
 public:
  Explorer(const Scenario& scenario, const ExploreOptions& options) : scenario_(scenario), options_(options) {
    run_options_.keep_trace = false;
    run_options_.planted_bug = options.planted_bug;
    result_.scenario = scenario.name;
    result_.seed = options.seed;
    result_.depth = options.depth;
    result_.budget = options.budget;
    result_.target_spec_states = options.target_spec_states;
    known_ = options.spec_baseline;
    result_.runs_by_depth.assign(options.depth + 1, 0);
    result_.pruned_by_depth.assign(options.depth + 1, 0);
  }

  ExploreResult Run() {
    std::deque<std::vector<FaultPoint>> current = {{}};
    for (uint32_t depth = 0; depth <= options_.depth && !current.empty(); ++depth) {
      std::deque<std::vector<FaultPoint>> next;
      // Targeting: the extensions of runs that visited new spec states, most
      // new states first (stable, so ties keep the breadth-first order).
      std::vector<std::pair<size_t, std::vector<FaultPoint>>> ranked;
      while (!current.empty()) {
        if (Done()) return Finish();
        std::vector<FaultPoint> points = std::move(current.front());
        current.pop_front();
        const PointRunOutcome outcome = RunOne(depth, points, current.size() + next.size() + ranked.size());
        const size_t fresh = RecordSpecStates(outcome);
        if (depth == 0) {
          RecordFrontier(outcome);
          result_.baseline_spec_states = options_.spec_baseline;
          for (const auto& [n, keys] : outcome.spec_states) result_.baseline_spec_states[n].insert(keys.begin(), keys.end());
        }
        // A run that broke a rule is not extended: its faults already show
        // the bug, and the report keeps to minimal fault sets.
        if (outcome.pruned || !outcome.all_injected || depth == options_.depth ||
            !outcome.result.violations.empty()) {
          continue;
        }
        for (const FaultPoint& later : LaterPoints(outcome)) {
          std::vector<FaultPoint> extended = points;
          extended.push_back(later);
          if (options_.target_spec_states) {
            ranked.emplace_back(fresh, std::move(extended));
          } else {
            next.push_back(std::move(extended));
          }
        }
      }
      std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
      for (auto& [fresh, points] : ranked) next.push_back(std::move(points));
      current = std::move(next);
    }
    return Finish();
  }

 private:
  bool Done() {
    if (options_.stop_at_first_violation && !result_.violations.empty()) {
      result_.stopped_at_violation = true;
      return true;
    }
    if (result_.runs >= options_.budget) {
      result_.budget_exhausted = true;
      return true;
    }
    return false;
  }

  PointRunOutcome RunOne(uint32_t depth, const std::vector<FaultPoint>& points, uint64_t queued) {
    const RunIdentity identity = FaultPointsIdentity(scenario_, options_.seed, run_options_, points);
    ktm::SetAssertContext(absl::StrCat("scenario=", scenario_.name, " seed=", options_.seed,
                                       " explore replay: ", ReplayCommandLine(identity)));
    PointRunOutcome outcome = PointRun(scenario_, options_.seed, run_options_, points, &prune_).Run();
    ktm::SetAssertContext("");
    outcome.result.identity = identity;
    ++result_.runs;
    ++result_.runs_by_depth[depth];
    if (outcome.pruned) {
      ++result_.pruned;
      ++result_.pruned_by_depth[depth];
    } else if (!outcome.result.violations.empty()) {
      ExploreViolation violation;
      violation.points = points;
      violation.run = result_.runs;
      violation.result = outcome.result;
      result_.violations.push_back(std::move(violation));
    }
    result_.distinct_states = prune_.fingerprints.size();
    if (options_.progress) {
      ExploreProgress progress;
      progress.depth = depth;
      progress.runs = result_.runs;
      progress.pruned = result_.pruned;
      progress.distinct_states = result_.distinct_states;
      progress.violations = result_.violations.size();
      progress.queued = queued;
      options_.progress(progress);
    }
    return outcome;
  }

  // Unites the run's spec states into the result; returns how many were new
  // (to the baseline and every earlier run).
  size_t RecordSpecStates(const PointRunOutcome& outcome) {
    size_t fresh = 0;
    for (const auto& [n, keys] : outcome.spec_states) {
      result_.spec_states[n].insert(keys.begin(), keys.end());
      for (uint64_t key : keys) fresh += known_[n].insert(key).second ? 1 : 0;
    }
    return fresh;
  }

  void RecordFrontier(const PointRunOutcome& outcome) {
    for (const auto& [where, total] : outcome.totals) {
      result_.frontier[absl::StrCat("h", where.first, " ", where.second)] = total;
      result_.crash_points += total;
    }
    result_.frontier["msg"] = outcome.messages_total;
    result_.message_points = outcome.messages_total;
  }

  ExploreResult Finish() {
    result_.distinct_states = prune_.fingerprints.size();
    std::map<int, std::set<uint64_t>> after = result_.spec_states;
    for (const auto& [n, keys] : result_.baseline_spec_states) after[n].insert(keys.begin(), keys.end());
    for (const SpecTarget& t : SpecTargetsOf(result_.baseline_spec_states, after)) {
      if (result_.spec_states.count(t.rms) != 0) result_.spec_targets.push_back(t);  // N of this scenario
    }
    return std::move(result_);
  }

  const Scenario& scenario_;
  ExploreOptions options_;
  RunOptions run_options_;
  PruneState prune_;
  ExploreResult result_;
  std::map<int, std::set<uint64_t>> known_;  // baseline and every run's spec states
};

}  // namespace

std::vector<SpecTarget> SpecTargetsOf(const std::map<int, std::set<uint64_t>>& baseline,
                                      const std::map<int, std::set<uint64_t>>& reached) {
  std::vector<SpecTarget> targets;
  const std::vector<SpecCoverageFigure> before = SpecCoverageFigures(baseline, kSpecTargetRmsMax);
  const std::vector<SpecCoverageFigure> after = SpecCoverageFigures(reached, kSpecTargetRmsMax);
  for (size_t i = 0; i < before.size(); ++i) {
    if (reached.count(before[i].rms) == 0) continue;  // no transaction with that many RMs
    SpecTarget t;
    t.rms = before[i].rms;
    t.two_phase_unreached = before[i].two_phase_states - before[i].two_phase_reached;
    t.two_phase_closed = after[i].two_phase_reached - before[i].two_phase_reached;
    t.crash_unreached = before[i].crash_states - before[i].crash_reached;
    t.crash_closed = after[i].crash_reached - before[i].crash_reached;
    targets.push_back(t);
  }
  return targets;
}

ExploreResult Explore(const Scenario& scenario, const ExploreOptions& options) {
  KTM_ASSERT(CheckExplorable(scenario).ok(), "Explore of a scenario CheckExplorable rejects");
  return Explorer(scenario, options).Run();
}

}  // namespace harness
