// FaultPlan text and probabilities: FaultProbabilities::Swarm/ToString,
// FaultEvent/FaultSchedule text form, Parse and Validate.
//
// The text form is the replay and shrinking interface, so ToText and Parse
// are exact inverses: every field of every event round-trips (the survive
// probability is printed with 17 significant digits). Parse reports the
// first error as "line N: message" (N is 1-based) and never aborts.
#include "sim/fault_plan.h"

#include <map>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace sim {

FaultProbabilities FaultProbabilities::Swarm(Rng& rng) {
  // Every kind draws its switch and its rate, used or not, so the stream
  // position never depends on earlier outcomes.
  auto rate = [&rng](double max) {
    const bool on = rng.Bernoulli(0.5);
    const double value = rng.UnitDouble() * max;
    return on ? value : 0.0;
  };
  FaultProbabilities p;
  p.crash_per_second = rate(20);
  p.latent_error_per_second = rate(5);
  p.message_loss = rate(0.2);
  p.message_duplicate = rate(0.2);
  p.message_reorder = rate(0.3);
  p.partition_per_second = rate(10);
  p.unflushed_survive_probability = rng.UnitDouble();
  p.corrupt_per_second = 0;  // beyond-recoverable faults are opt-in
  // page_torn / page_lost / page_latent are opt-in too (aimed at data-page
  // regions, which only paged RM disks have): not drawn, so every swarm
  // seed keeps the rates and draws it had before they existed.
  return p;
}

std::string FaultProbabilities::ToString() const {
  return absl::StrFormat(
      "crash=%g/s restart=%dns..%dns survive=%g latent=%g/s corrupt=%g/s loss=%g dup=%g "
      "reorder=%g partition=%g/s partition_max=%dns",
      crash_per_second, restart_delay_min_ns, restart_delay_max_ns, unflushed_survive_probability,
      latent_error_per_second, corrupt_per_second, message_loss, message_duplicate, message_reorder,
      partition_per_second, partition_duration_max_ns) +
         // The page kinds only when set: the text of every run without them stays as it was.
         (page_torn_per_second > 0 || page_lost_per_second > 0 || page_latent_per_second > 0
              ? absl::StrFormat(" page_torn=%g/s page_lost=%g/s page_latent=%g/s", page_torn_per_second,
                                page_lost_per_second, page_latent_per_second)
              : std::string());
}

std::string_view CrashTriggerName(CrashTrigger trigger) {
  switch (trigger) {
    case CrashTrigger::kNone: return "";
    case CrashTrigger::kPrepare: return "prepare";
    case CrashTrigger::kCommit: return "commit";
    case CrashTrigger::kLogForce: return "log_force";
  }
  return "";
}

bool ParseCrashTrigger(std::string_view name, CrashTrigger* trigger) {
  for (CrashTrigger t : {CrashTrigger::kPrepare, CrashTrigger::kCommit, CrashTrigger::kLogForce}) {
    if (CrashTriggerName(t) == name) {
      *trigger = t;
      return true;
    }
  }
  return false;
}

namespace {

std::string GroupsText(const std::vector<std::vector<uint32_t>>& groups) {
  std::string text;
  for (size_t i = 0; i < groups.size(); ++i) {
    if (i > 0) text += '|';
    for (size_t j = 0; j < groups[i].size(); ++j) {
      if (j > 0) text += ',';
      absl::StrAppend(&text, groups[i][j]);
    }
  }
  return text;
}

}  // namespace

std::string FaultEvent::ToText() const {
  switch (kind) {
    case Kind::kCrash:
      if (trigger != CrashTrigger::kNone) {
        return absl::StrFormat("%d crash host=%d seed=%d on=%s nth=%d restart=%d", time, host, seed,
                               CrashTriggerName(trigger), trigger_count, restart_after_ns);
      }
      return absl::StrFormat("%d crash host=%d seed=%d", time, host, seed);
    case Kind::kRestart:
      return absl::StrFormat("%d restart host=%d", time, host);
    case Kind::kPartition:
      return absl::StrFormat("%d partition groups=%s", time, GroupsText(groups));
    case Kind::kHeal:
      return absl::StrFormat("%d heal", time);
    case Kind::kLatentError:
      return absl::StrFormat("%d latent host=%d disk=%d sector=%d", time, host, disk, sector);
    case Kind::kCorruptSector:
      return absl::StrFormat("%d corrupt host=%d disk=%d sector=%d seed=%d", time, host, disk,
                             sector, seed);
    case Kind::kPageTorn:
    case Kind::kPageLost:
      return absl::StrFormat("%d %s host=%d disk=%d seed=%d restart=%d", time,
                             kind == Kind::kPageTorn ? "page_torn" : "page_lost", host, disk, seed,
                             restart_after_ns);
    case Kind::kPageLatent:
      return absl::StrFormat("%d page_latent host=%d disk=%d sector=%d", time, host, disk, sector);
    case Kind::kMessage: {
      std::string text = absl::StrFormat("%d msg seq=%d", time, message_seq);
      if (fate.drop) text += " drop";
      if (fate.duplicate) text += " dup";
      if (fate.extra_delay_ns != 0) absl::StrAppend(&text, " delay=", fate.extra_delay_ns);
      return text;
    }
  }
  return "";
}

std::string FaultSchedule::ToText() const {
  std::string text;
  if (unflushed_survive_probability >= 0) {
    text += absl::StrFormat("0 survive p=%.17g\n", unflushed_survive_probability);
  }
  for (const FaultEvent& event : events) {
    text += event.ToText();
    text += '\n';
  }
  return text;
}

namespace {

// The key=value pairs and bare flags of one line, consumed by the kind's parser.
class LineFields {
 public:
  absl::Status Add(absl::string_view token) {
    const size_t eq = token.find('=');
    if (eq == absl::string_view::npos) {
      if (!flags_.insert(std::string(token)).second) return Error("duplicate '", token, "'");
      return absl::OkStatus();
    }
    const std::string key(token.substr(0, eq));
    if (key.empty()) return Error("empty key in '", token, "'");
    if (!values_.emplace(key, std::string(token.substr(eq + 1))).second) {
      return Error("duplicate key '", key, "'");
    }
    return absl::OkStatus();
  }
  bool TakeFlag(const std::string& flag) { return flags_.erase(flag) != 0; }
  bool Has(const std::string& key) const { return values_.count(key) != 0; }
  template <typename T>
  absl::Status Take(const std::string& key, T* out) {
    auto it = values_.find(key);
    if (it == values_.end()) return Error("missing key '", key, "'");
    const std::string value = it->second;
    values_.erase(it);
    if (!absl::SimpleAtoi(value, out)) return Error("bad number '", value, "' for '", key, "'");
    return absl::OkStatus();
  }
  absl::Status TakeString(const std::string& key, std::string* out) {
    auto it = values_.find(key);
    if (it == values_.end()) return Error("missing key '", key, "'");
    *out = it->second;
    values_.erase(it);
    return absl::OkStatus();
  }
  // Anything not consumed is an error.
  absl::Status Finish(absl::string_view kind) const {
    if (!values_.empty()) return Error("unknown key '", values_.begin()->first, "' for ", kind);
    if (!flags_.empty()) return Error("unknown word '", *flags_.begin(), "' for ", kind);
    return absl::OkStatus();
  }
  template <typename... Args>
  static absl::Status Error(const Args&... args) {
    return absl::InvalidArgumentError(absl::StrCat(args...));
  }

 private:
  std::map<std::string, std::string> values_;
  std::set<std::string> flags_;
};

absl::Status ParseGroups(const std::string& text, std::vector<std::vector<uint32_t>>* groups) {
  for (absl::string_view side : absl::StrSplit(text, '|')) {
    std::vector<uint32_t> group;
    for (absl::string_view host : absl::StrSplit(side, ',')) {
      uint32_t id = 0;
      if (!absl::SimpleAtoi(host, &id)) return LineFields::Error("bad host '", host, "' in groups");
      group.push_back(id);
    }
    groups->push_back(std::move(group));
  }
  return absl::OkStatus();
}

#define SIM_RETURN_IF_ERROR(expr)      \
  do {                                 \
    absl::Status status_ = (expr);     \
    if (!status_.ok()) return status_; \
  } while (0)

absl::Status ParseMessage(LineFields& fields, FaultEvent* event) {
  SIM_RETURN_IF_ERROR(fields.Take("seq", &event->message_seq));
  if (event->message_seq == 0) return LineFields::Error("message seq must be >= 1");
  event->fate.drop = fields.TakeFlag("drop");
  event->fate.duplicate = fields.TakeFlag("dup");
  if (fields.Has("delay")) {
    SIM_RETURN_IF_ERROR(fields.Take("delay", &event->fate.extra_delay_ns));
    if (event->fate.extra_delay_ns <= 0) return LineFields::Error("delay must be > 0");
  }
  return absl::OkStatus();
}

// "on=<trigger> nth=<n> restart=<ns>" of a targeted crash.
absl::Status ParseTargeted(LineFields& fields, FaultEvent* event) {
  std::string on;
  SIM_RETURN_IF_ERROR(fields.TakeString("on", &on));
  if (!ParseCrashTrigger(on, &event->trigger)) {
    return LineFields::Error("bad trigger '", on, "' (want prepare, commit or log_force)");
  }
  SIM_RETURN_IF_ERROR(fields.Take("nth", &event->trigger_count));
  if (event->trigger_count == 0) return LineFields::Error("nth must be >= 1");
  SIM_RETURN_IF_ERROR(fields.Take("restart", &event->restart_after_ns));
  if (event->restart_after_ns < 0 || event->restart_after_ns > kTimeNever / 4) {
    return LineFields::Error("restart delay out of range: ", event->restart_after_ns);
  }
  return absl::OkStatus();
}

absl::Status ParseEvent(const std::string& kind, LineFields& fields, FaultEvent* event) {
  using Kind = FaultEvent::Kind;
  if (kind == "crash") {
    event->kind = Kind::kCrash;
    SIM_RETURN_IF_ERROR(fields.Take("host", &event->host));
    SIM_RETURN_IF_ERROR(fields.Take("seed", &event->seed));
    if (!fields.Has("on")) return absl::OkStatus();
    return ParseTargeted(fields, event);
  }
  if (kind == "restart") {
    event->kind = Kind::kRestart;
    return fields.Take("host", &event->host);
  }
  if (kind == "partition") {
    event->kind = Kind::kPartition;
    std::string groups;
    SIM_RETURN_IF_ERROR(fields.TakeString("groups", &groups));
    return ParseGroups(groups, &event->groups);
  }
  if (kind == "heal") {
    event->kind = Kind::kHeal;
    return absl::OkStatus();
  }
  if (kind == "latent" || kind == "corrupt") {
    event->kind = kind == "latent" ? Kind::kLatentError : Kind::kCorruptSector;
    SIM_RETURN_IF_ERROR(fields.Take("host", &event->host));
    SIM_RETURN_IF_ERROR(fields.Take("disk", &event->disk));
    SIM_RETURN_IF_ERROR(fields.Take("sector", &event->sector));
    if (kind == "corrupt") return fields.Take("seed", &event->seed);
    return absl::OkStatus();
  }
  if (kind == "page_latent") {
    event->kind = Kind::kPageLatent;
    SIM_RETURN_IF_ERROR(fields.Take("host", &event->host));
    SIM_RETURN_IF_ERROR(fields.Take("disk", &event->disk));
    return fields.Take("sector", &event->sector);
  }
  if (kind == "page_torn" || kind == "page_lost") {
    event->kind = kind == "page_torn" ? Kind::kPageTorn : Kind::kPageLost;
    SIM_RETURN_IF_ERROR(fields.Take("host", &event->host));
    SIM_RETURN_IF_ERROR(fields.Take("disk", &event->disk));
    SIM_RETURN_IF_ERROR(fields.Take("seed", &event->seed));
    SIM_RETURN_IF_ERROR(fields.Take("restart", &event->restart_after_ns));
    if (event->restart_after_ns < 0 || event->restart_after_ns > kTimeNever / 4) {
      return LineFields::Error("restart delay out of range: ", event->restart_after_ns);
    }
    return absl::OkStatus();
  }
  if (kind == "msg") {
    event->kind = Kind::kMessage;
    return ParseMessage(fields, event);
  }
  return LineFields::Error("unknown fault kind '", kind, "'");
}

absl::Status ParseSurvive(LineFields& fields, FaultSchedule* schedule) {
  std::string text;
  SIM_RETURN_IF_ERROR(fields.TakeString("p", &text));
  double p = 0;
  if (!absl::SimpleAtod(text, &p) || !(p >= 0 && p <= 1)) {
    return LineFields::Error("bad probability '", text, "'");
  }
  schedule->unflushed_survive_probability = p;
  return absl::OkStatus();
}

absl::Status ParseLine(absl::string_view line, FaultSchedule* schedule) {
  if (const size_t hash = line.find('#'); hash != absl::string_view::npos) {
    line = line.substr(0, hash);
  }
  std::vector<absl::string_view> tokens =
      absl::StrSplit(line, absl::ByAnyChar(" \t\r"), absl::SkipEmpty());
  if (tokens.empty()) return absl::OkStatus();
  if (tokens.size() < 2) return LineFields::Error("missing fault kind after '", tokens[0], "'");
  FaultEvent event;
  if (!absl::SimpleAtoi(tokens[0], &event.time) || event.time < 0) {
    return LineFields::Error("bad time '", tokens[0], "'");
  }
  const std::string kind(tokens[1]);
  LineFields fields;
  for (size_t i = 2; i < tokens.size(); ++i) SIM_RETURN_IF_ERROR(fields.Add(tokens[i]));
  if (kind == "survive") {
    SIM_RETURN_IF_ERROR(ParseSurvive(fields, schedule));
    return fields.Finish(kind);
  }
  SIM_RETURN_IF_ERROR(ParseEvent(kind, fields, &event));
  SIM_RETURN_IF_ERROR(fields.Finish(kind));
  schedule->events.push_back(std::move(event));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<FaultSchedule> FaultSchedule::Parse(const std::string& text) {
  FaultSchedule schedule;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    const absl::Status status = ParseLine(line, &schedule);
    if (!status.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("line ", line_number, ": ", status.message()));
    }
  }
  return schedule;
}

absl::Status FaultSchedule::Validate(const World& world) const {
  using Kind = FaultEvent::Kind;
  std::set<std::pair<CrashTrigger, uint64_t>> occurrences;
  for (const FaultEvent& event : events) {
    const std::string where = event.ToText();
    if (event.trigger != CrashTrigger::kNone &&
        !occurrences.emplace(event.trigger, event.trigger_count).second) {
      return LineFields::Error(where, ": a second targeted crash after the same occurrence");
    }
    if (event.kind == Kind::kPartition) {
      for (const auto& group : event.groups) {
        for (const uint32_t host : group) {
          if (host >= world.host_count()) return LineFields::Error(where, ": no host ", host);
        }
      }
      continue;
    }
    if (event.kind == Kind::kHeal || event.kind == Kind::kMessage) continue;
    if (event.host >= world.host_count()) return LineFields::Error(where, ": no host ", event.host);
    const bool on_disk = event.kind == Kind::kLatentError || event.kind == Kind::kCorruptSector ||
                         event.kind == Kind::kPageLatent || event.kind == Kind::kPageTorn ||
                         event.kind == Kind::kPageLost;
    if (!on_disk) continue;
    const Host* host = world.host(event.host);
    if (event.disk >= host->disk_count()) return LineFields::Error(where, ": no disk ", event.disk);
    if (event.kind == Kind::kPageTorn || event.kind == Kind::kPageLost) continue;
    if (event.sector >= host->disk(event.disk)->options().sector_count) {
      return LineFields::Error(where, ": no sector ", event.sector);
    }
  }
  return absl::OkStatus();
}

}  // namespace sim
