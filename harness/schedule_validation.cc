// Schedule validation: parses a fault schedule one line at a time (so every
// problem keeps its line) and checks each event against the scenario; see
// schedule_validation.h for what is checked and why.
#include "harness/schedule_validation.h"

#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "sim/fault_plan.h"

namespace harness {
namespace {

using Kind = sim::FaultEvent::Kind;

// Collects the problems of one line.
class LineChecker {
 public:
  LineChecker(const Scenario& scenario, int64_t line, std::vector<ScheduleProblem>* problems)
      : scenario_(scenario), line_(line), problems_(problems) {}

  void Add(std::string message) { problems_->push_back({line_, std::move(message)}); }

  // True when `host` names a scenario host (else reports it).
  bool Host(uint32_t host) {
    if (host < scenario_.hosts.size()) return true;
    Add(absl::StrCat("names host ", host, ", but the scenario has ", scenario_.hosts.size(),
                     " host(s), numbered from 0"));
    return false;
  }

  void Event(const sim::FaultEvent& event) {
    if (event.kind == Kind::kMessage) return Message(event);
    if (event.time > kScheduleTimeMaxNs) {
      Add(absl::StrCat("time must be at most ", kScheduleTimeMaxNs, " (", FormatTime(kScheduleTimeMaxNs),
                       ", the longest run), got ", event.time));
    }
    switch (event.kind) {
      case Kind::kCrash:
      case Kind::kRestart: Host(event.host); return;
      case Kind::kPartition: Partition(event); return;
      case Kind::kHeal:
      case Kind::kMessage: return;
      case Kind::kLatentError:
      case Kind::kCorruptSector:
      case Kind::kPageLatent: Disk(event); return;
      case Kind::kPageTorn:
      case Kind::kPageLost: DiskOf(event); return;
    }
  }

 private:
  void Message(const sim::FaultEvent& event) {
    if (event.time != 0) {
      Add(absl::StrCat("a message fate applies to the whole run: its time must be 0, got ", event.time));
    }
    if (event.fate.extra_delay_ns > kScheduleDelayMaxNs) {
      Add(absl::StrCat("delay must be at most ", kScheduleDelayMaxNs, " (", FormatTime(kScheduleDelayMaxNs),
                       "), got ", event.fate.extra_delay_ns));
    }
  }

  void Partition(const sim::FaultEvent& event) {
    std::set<uint32_t> seen;
    for (const auto& group : event.groups) {
      for (const uint32_t host : group) {
        if (!Host(host)) continue;
        if (!seen.insert(host).second) Add(absl::StrCat("host ", host, " is in two partition groups"));
      }
    }
  }

  // True when the event's host and disk exist (else reports them).
  bool DiskOf(const sim::FaultEvent& event) {
    if (!Host(event.host)) return false;
    const std::vector<sim::DiskOptions> disks = HostDisks(scenario_, event.host);
    if (event.disk >= disks.size()) {
      Add(absl::StrCat("no disk ", event.disk, " on host ", event.host, " (\"",
                       scenario_.hosts[event.host].name, "\" has ", disks.size(),
                       " disk(s): its TM log, then its durable RMs' logs, numbered from 0)"));
      return false;
    }
    return true;
  }

  void Disk(const sim::FaultEvent& event) {
    const char* what = event.kind == Kind::kLatentError   ? "a latent sector error"
                       : event.kind == Kind::kPageLatent ? "a latent error on a data page"
                                                         : "a corrupted sector";
    if (scenario_.faults.budget != "beyond") {
      Add(absl::StrCat(what, " is a beyond-recoverable fault (a log has no second copy): needs budget "
                             "\"beyond\""));
    }
    if (!DiskOf(event)) return;
    const std::vector<sim::DiskOptions> disks = HostDisks(scenario_, event.host);
    const uint64_t sectors = disks[event.disk].sector_count;
    if (event.sector >= sectors) {
      Add(absl::StrCat("no sector ", event.sector, " on disk ", event.disk, " of host ", event.host,
                       " (", sectors, " sectors, numbered from 0)"));
    }
  }

  const Scenario& scenario_;
  int64_t line_;
  std::vector<ScheduleProblem>* problems_;
};

// "line 1: message" (FaultSchedule::Parse of one line) -> "message".
std::string WithoutLinePrefix(absl::string_view message) {
  if (absl::ConsumePrefix(&message, "line ")) {
    const size_t colon = message.find(": ");
    if (colon != absl::string_view::npos) message.remove_prefix(colon + 2);
  }
  return std::string(message);
}

}  // namespace

std::vector<sim::DiskOptions> HostDisks(const Scenario& scenario, size_t host) {
  std::vector<sim::DiskOptions> disks;
  if (host >= scenario.hosts.size()) return disks;
  const HostSpec& spec = scenario.hosts[host];
  if (!spec.tm_volatile) disks.push_back(spec.log_disk);
  for (const RmSpec& rm : scenario.rms) {
    if (rm.durable && rm.host == spec.name) disks.push_back(rm.disk);
  }
  size_t durable_hosts = 0;
  for (const HostSpec& h : scenario.hosts) durable_hosts += h.tm_volatile ? 0 : 1;
  const bool distributed = scenario.workload.distributed_fraction > 0 && durable_hosts >= 2;
  if (distributed && !spec.tm_volatile) disks.push_back(spec.log_disk);
  return disks;
}

std::vector<ScheduleProblem> CheckFaultSchedule(const Scenario& scenario, const std::string& text) {
  std::vector<ScheduleProblem> problems;
  std::map<uint64_t, int64_t> message_lines;  // seq -> the line that gave its fate
  int64_t line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    absl::StatusOr<sim::FaultSchedule> parsed = sim::FaultSchedule::Parse(std::string(line));
    if (!parsed.ok()) {
      problems.push_back({line_number, WithoutLinePrefix(parsed.status().message())});
      continue;
    }
    LineChecker checker(scenario, line_number, &problems);
    for (const sim::FaultEvent& event : parsed->events) {
      checker.Event(event);
      if (event.kind != Kind::kMessage) continue;
      const auto [it, first] = message_lines.emplace(event.message_seq, line_number);
      if (!first) {
        checker.Add(absl::StrCat("message ", event.message_seq, " already has a fate (line ", it->second,
                                 "): only the last would count"));
      }
    }
  }
  return problems;
}

absl::Status CheckScheduleText(const Scenario& scenario, const std::string& text, const std::string& file) {
  std::vector<std::string> lines;
  for (const ScheduleProblem& problem : CheckFaultSchedule(scenario, text)) {
    lines.push_back(absl::StrCat(file, ":", problem.line, ": ", problem.message));
  }
  if (lines.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrJoin(lines, "\n"));
}

}  // namespace harness
