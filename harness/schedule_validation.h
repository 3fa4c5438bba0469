// Schedule validation: a fault schedule (sim/fault_plan.h text form) checked
// against the scenario it will run on, line by line, before any run starts.
//
// Contract: when CheckFaultSchedule(scenario, text) returns no problem,
// FaultSchedule::Parse(text) succeeds and the FaultInjector accepts the
// schedule on the world the harness builds for `scenario` (it never asserts),
// every event is injected as written, and no time or delay overflows. Each
// problem names the 1-based line of the text, so the scenario loader and
// `ktmsim replay --schedule FILE` can point at FILE:LINE.
//
// What is checked, per event:
// - a time in [0, kScheduleTimeMaxNs] (the longest run_until). Events after
//   this scenario's faults_until or run_until stay allowed: the shrinker
//   lowers both under a recorded schedule, and its replay must still load;
// - hosts exist (crash, restart, partition groups, latent, corrupt); a host
//   named in two partition groups is refused (only the last would count);
// - latent/corrupt: the disk index exists on that host (HostDisks below),
//   the sector lies inside that disk, and the budget is "beyond" (a log has
//   no second copy: under "recoverable" these faults would be blamed on the
//   engine; docs/faults.md);
// - msg: time 0 (the time of a message fate is not used), an extra delay
//   of at most kScheduleDelayMaxNs (a larger one would overflow the
//   delivery time), and one line per message sequence number.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "harness/scenario.h"
#include "sim/disk.h"
#include "sim/time.h"

namespace harness {

// The largest extra delay of one message fate in a schedule (the network's
// own reorder delays are at most 60 s, see scenarios/README.md).
constexpr sim::TimeNs kScheduleDelayMaxNs = 60 * sim::kSecond;
// The latest time of a scheduled event: the longest run_until a scenario may
// have (scenarios/README.md).
constexpr sim::TimeNs kScheduleTimeMaxNs = 3600 * sim::kSecond;

struct ScheduleProblem {
  int64_t line = 0;     // 1-based line of the schedule text
  std::string message;  // without the line ("no disk 3 on host 0 ...")
};

// Every problem of `text` for `scenario`, in line order (empty: valid).
// A line that does not parse gives FaultSchedule::Parse's message.
std::vector<ScheduleProblem> CheckFaultSchedule(const Scenario& scenario, const std::string& text);

// CheckFaultSchedule for `--schedule FILE`: OK, or kInvalidArgument with one
// "FILE:LINE: message" per problem, joined by newlines.
absl::Status CheckScheduleText(const Scenario& scenario, const std::string& text, const std::string& file);

// The disks of host `host` (an index into scenario.hosts) in the order the
// harness adds them (harness/cluster.cc Build): the TM log disk unless the
// TM is volatile, then the disk of every durable RM on the host in scenario
// order, then the Dtc's disk (log_disk options) when the workload has
// distributed transactions and the TM is durable. Schedules name disks by
// this index.
std::vector<sim::DiskOptions> HostDisks(const Scenario& scenario, size_t host);

}  // namespace harness
