// Scenario validation: the range of every field and the checks that relate
// fields (names unique, RMs on existing hosts, fractions summing to at most
// 1, a parseable fault schedule, ...). FindProblems collects every problem
// with the C++ path of the field it concerns, so the TOML loader can point at
// the line that caused it; Validate folds them into one status. Every limit
// here is documented in scenarios/README.md.
#include "harness/scenario.h"

#include "harness/rm_kinds.h"
#include "harness/scenario_toml_prescan.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "harness/schedule_validation.h"
#include "model/checkers.h"
#include "sim/fault_kinds.h"

namespace harness {
namespace {

// Limits (STYLE: a limit on everything that grows).
constexpr size_t kHostsMax = 64;
constexpr size_t kRmsMax = 256;
constexpr uint64_t kTransactionsMax = 1'000'000;
constexpr uint64_t kConcurrencyMax = 10'000;
constexpr uint64_t kOpsMax = 1'000;
constexpr uint64_t kKeysMax = 1'000'000;
// workload.value_bytes: TxF's file_bytes_max (ktm/txf/txf_rm.h); TxR's values are at most 2048.
constexpr uint64_t kValueBytesMax = 4096;
constexpr uint64_t kTxrValueBytesMax = 2048;
constexpr double kArrivalPerSecondMax = 1e9;
constexpr double kFaultRatePerSecondMax = 1e6;
constexpr uint64_t kPlannedFaultsMax = 100'000;  // expected timed faults per run (CheckPlannedFaults)
constexpr uint64_t kRefusalsMinMax = 1'000;      // expect.refusals_min
constexpr uint64_t kSectorSizeMin = 64;
constexpr uint64_t kSectorSizeMax = 65'536;
constexpr uint64_t kSectorCountMin = 8;
constexpr uint64_t kSectorCountMax = uint64_t{1} << 24;
constexpr uint64_t kDiskInflightMax = uint64_t{1} << 20;
constexpr uint64_t kNetworkInflightMax = 10'000'000;
constexpr sim::TimeNs kLatencyMaxNs = 60 * sim::kSecond;
constexpr sim::TimeNs kRunUntilMaxNs = 3600 * sim::kSecond;
constexpr double kFractionSlack = 1e-9;
// Engine limits a scenario must stay inside, or the run could not check
// anything (every transaction refused, the TM never online).
// The engine refuses a transaction's 65th enlistment with
// STATUS_INSUFFICIENT_RESOURCES (kEnlistmentsPerTransactionMax in ktm/kernel.cc);
// one RM is one enlistment.
constexpr uint64_t kEnlistmentsPerTransactionMax = 64;
// A TM's log keeps its checkpoint in the log's restart area, one sector:
// a 64-byte header (ktm/log/log_format.h kRestartHeaderBytes) and the TM's
// 32-byte payload (magic, TM id, clock: EncodeRestart in ktm/kernel.cc).
// 64-byte sectors leave no room, so the TM never comes online; 128 is the
// smallest power of two that fits. RM logs write an empty restart payload.
constexpr uint64_t kTmLogSectorSizeMin = 128;
static_assert(kSectorSizeMin <= kSectorSizeMax && kSectorCountMin <= kSectorCountMax);

// Collects problems; one method per kind of range check.
class ProblemList {
 public:
  void Add(std::string path, std::string message) {
    problems_.push_back({std::move(path), std::move(message)});
  }
  void Fraction(const std::string& path, double value) { Real(path, value, 0, 1); }
  void Real(const std::string& path, double value, double lo, double hi) {
    if (!std::isfinite(value) || value < lo || value > hi) {
      Add(path, absl::StrCat("must be in [", lo, ", ", hi, "], got ", value));
    }
  }
  void Count(const std::string& path, uint64_t value, uint64_t lo, uint64_t hi) {
    if (value < lo || value > hi) {
      Add(path, absl::StrCat("must be in [", lo, ", ", hi, "], got ", value));
    }
  }
  void Time(const std::string& path, sim::TimeNs value, sim::TimeNs lo, sim::TimeNs hi) {
    if (value < lo || value > hi) {
      Add(path, absl::StrCat("must be in [", FormatTime(lo), ", ", FormatTime(hi), "], got ",
                             FormatTime(value)));
    }
  }
  void NonNegativeTime(const std::string& path, sim::TimeNs value) {
    if (value < 0) Add(path, absl::StrCat("must not be negative, got ", FormatTime(value)));
  }
  std::vector<ScenarioProblem> Take() { return std::move(problems_); }

 private:
  std::vector<ScenarioProblem> problems_;
};

std::string Quoted(const std::string& text) { return absl::StrCat("\"", text, "\""); }

// "unknown value "x"; expected "a", "b" or "c"; did you mean "a"?"
std::string UnknownChoice(const std::string& value, const std::vector<std::string>& allowed) {
  std::string expected;
  for (size_t i = 0; i < allowed.size(); ++i) {
    if (i > 0) expected += (i + 1 == allowed.size()) ? " or " : ", ";
    expected += Quoted(allowed[i]);
  }
  std::string message = absl::StrCat("unknown value ", Quoted(value), "; expected ", expected);
  const std::string close = ClosestName(value, allowed);
  if (!close.empty()) absl::StrAppend(&message, "; did you mean ", Quoted(close), "?");
  return message;
}

void CheckChoice(ProblemList& problems, const std::string& path, const std::string& value,
                 const std::vector<std::string>& allowed) {
  if (std::find(allowed.begin(), allowed.end(), value) == allowed.end()) {
    problems.Add(path, UnknownChoice(value, allowed));
  }
}

void CheckLatency(ProblemList& problems, const std::string& path, const sim::Latency& latency) {
  problems.Time(path + ".min_ns", latency.min_ns, 0, kLatencyMaxNs);
  if (latency.kind == sim::Latency::Kind::kFixed) return;
  problems.Time(path + ".max_ns", latency.max_ns, 0, kLatencyMaxNs);
  if (latency.min_ns > latency.max_ns) {
    problems.Add(path, absl::StrCat("min (", FormatTime(latency.min_ns), ") must be <= max (",
                                    FormatTime(latency.max_ns), ")"));
  }
  if (latency.kind == sim::Latency::Kind::kExponential &&
      (latency.mean_ns < latency.min_ns || latency.mean_ns > latency.max_ns)) {
    problems.Add(path, absl::StrCat("mean (", FormatTime(latency.mean_ns), ") must be in [min, max] = [",
                                    FormatTime(latency.min_ns), ", ", FormatTime(latency.max_ns), "]"));
  }
}

void CheckDisk(ProblemList& problems, const std::string& path, const sim::DiskOptions& disk) {
  const uint64_t size = disk.sector_size;
  if (size < kSectorSizeMin || size > kSectorSizeMax || (size & (size - 1)) != 0) {
    problems.Add(path + ".sector_size",
                 absl::StrCat("must be a power of two in [", kSectorSizeMin, ", ", kSectorSizeMax,
                              "], got ", size));
  }
  problems.Count(path + ".sector_count", disk.sector_count, kSectorCountMin, kSectorCountMax);
  problems.Count(path + ".inflight_max", disk.inflight_max, 1, kDiskInflightMax);
  problems.Fraction(path + ".unflushed_survive_probability", disk.unflushed_survive_probability);
  CheckLatency(problems, path + ".write_latency", disk.write_latency);
  CheckLatency(problems, path + ".read_latency", disk.read_latency);
  CheckLatency(problems, path + ".flush_latency", disk.flush_latency);
  CheckLatency(problems, path + ".fua_extra_latency", disk.fua_extra_latency);
}

void CheckHosts(const Scenario& scenario, ProblemList& problems) {
  if (scenario.hosts.empty()) problems.Add("hosts", "at least one host is required");
  if (scenario.hosts.size() > kHostsMax) {
    problems.Add("hosts", absl::StrCat("at most ", kHostsMax, " hosts, got ", scenario.hosts.size()));
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < scenario.hosts.size(); ++i) {
    const HostSpec& host = scenario.hosts[i];
    const std::string path = absl::StrCat("hosts[", i, "]");
    if (host.name.empty()) {
      problems.Add(path + ".name", "must not be empty");
    } else if (!seen.insert(host.name).second) {
      problems.Add(path + ".name", absl::StrCat("duplicate host name ", Quoted(host.name)));
    }
    CheckDisk(problems, path + ".log_disk", host.log_disk);
    const uint64_t size = host.log_disk.sector_size;
    if (!host.tm_volatile && (size & (size - 1)) == 0 && size >= kSectorSizeMin &&
        size < kTmLogSectorSizeMin) {
      problems.Add(path + ".log_disk.sector_size",
                   absl::StrCat("must be at least ", kTmLogSectorSizeMin,
                                " for a durable TM: its checkpoint (a 64-byte restart header and 32 "
                                "bytes) must fit in one sector, or the TM never comes online; got ",
                                host.log_disk.sector_size));
    }
  }
}

const HostSpec* FindHost(const Scenario& scenario, const std::string& name) {
  for (const HostSpec& host : scenario.hosts) {
    if (host.name == name) return &host;
  }
  return nullptr;
}

void CheckRmHost(const Scenario& scenario, const RmSpec& rm, const std::string& path,
                 ProblemList& problems) {
  if (rm.host.empty()) {
    problems.Add(path + ".host", "must not be empty");
    return;
  }
  const HostSpec* host = FindHost(scenario, rm.host);
  if (host == nullptr) {
    std::vector<std::string> names;
    for (const HostSpec& h : scenario.hosts) names.push_back(h.name);
    std::string message = absl::StrCat("unknown host ", Quoted(rm.host));
    const std::string close = ClosestName(rm.host, names);
    if (!close.empty()) absl::StrAppend(&message, "; did you mean ", Quoted(close), "?");
    problems.Add(path + ".host", message);
    return;
  }
  if (rm.durable && host->tm_volatile) {
    problems.Add(path + ".durable",
                 absl::StrCat("durable RM ", Quoted(rm.name), " on host ", Quoted(host->name),
                              ", whose TM is volatile (a volatile TM only accepts volatile RMs)"));
  }
}

// The kind is in the catalog; deletes and moves only where the kind has
// them (txf: both, txr: deletes; harness/rm_kinds.h).
void CheckRmOperations(const RmSpec& rm, const std::string& path, ProblemList& problems) {
  problems.Fraction(path + ".delete_fraction", rm.delete_fraction);
  problems.Fraction(path + ".move_fraction", rm.move_fraction);
  const RmKindInfo* kind = FindRmKind(rm.kind);
  if (kind == nullptr) {
    problems.Add(path + ".kind", UnknownChoice(rm.kind, RmKindNames()));
    return;
  }
  if (rm.delete_fraction > 0 && !kind->supports_delete) {
    problems.Add(path + ".delete_fraction",
                 absl::StrCat("must be 0 for a ", rm.kind, " RM (its kind has no deletes)"));
  }
  if (rm.move_fraction > 0 && !kind->supports_move) {
    problems.Add(path + ".move_fraction", absl::StrCat("must be 0 for a ", rm.kind, " RM (its kind has no moves)"));
  }
  problems.Fraction(path + ".volatile_fraction", rm.volatile_fraction);
  problems.Fraction(path + ".nontransacted_open_fraction", rm.nontransacted_open_fraction);
  problems.NonNegativeTime(path + ".nontransacted_hold_ns", rm.nontransacted_hold_ns);
  problems.NonNegativeTime(path + ".request_outcome_after_ns", rm.request_outcome_after_ns);
  if (rm.snapshot_log_bytes > 0 && !rm.durable) {
    problems.Add(path + ".snapshot_log_bytes", "must be 0 for a volatile RM (durable = false: it has no log)");
  }
  if (rm.request_outcome_after_ns > 0 && !kind->supports_request_outcome) {
    problems.Add(path + ".request_outcome_after_ns",
                 absl::StrCat("must be 0 for a ", rm.kind, " RM (only txf and txr RMs request outcomes)"));
  }
  if (rm.volatile_fraction > 0 && !kind->supports_volatile_keys) {
    problems.Add(path + ".volatile_fraction",
                 absl::StrCat("must be 0 for a ", rm.kind, " RM (its kind has no volatile keys; txr has)"));
  }
  if (rm.nontransacted_open_fraction > 0 && !kind->supports_nontransacted_opens) {
    problems.Add(path + ".nontransacted_open_fraction",
                 absl::StrCat("must be 0 for a ", rm.kind, " RM (its kind has no file opens; txf has)"));
  }
  for (const auto& [key, value] : rm.options) {
    if (!kind->check_option) break;
    if (absl::Status s = kind->check_option(key, value); !s.ok()) {
      problems.Add(path + ".options." + key, std::string(s.message()));
    }
  }
  if (rm.delete_fraction + rm.move_fraction > 1 + 1e-9) {
    problems.Add(path + ".delete_fraction", absl::StrCat("delete_fraction + move_fraction must be at most 1, got ",
                                                         rm.delete_fraction + rm.move_fraction));
  }
}

void CheckRms(const Scenario& scenario, ProblemList& problems) {
  if (scenario.rms.empty()) problems.Add("rms", "at least one resource manager is required");
  if (scenario.rms.size() > kRmsMax) {
    problems.Add("rms", absl::StrCat("at most ", kRmsMax, " RMs, got ", scenario.rms.size()));
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < scenario.rms.size(); ++i) {
    const RmSpec& rm = scenario.rms[i];
    const std::string path = absl::StrCat("rms[", i, "]");
    if (rm.name.empty()) {
      problems.Add(path + ".name", "must not be empty");
    } else if (!seen.insert(rm.name).second) {
      problems.Add(path + ".name", absl::StrCat("duplicate RM name ", Quoted(rm.name)));
    }
    CheckRmHost(scenario, rm, path, problems);
    problems.Fraction(path + ".vote_no_probability", rm.vote_no_probability);
    problems.Fraction(path + ".disconnect_probability", rm.disconnect_probability);
    problems.Fraction(path + ".reject_single_phase_probability", rm.reject_single_phase_probability);
    problems.NonNegativeTime(path + ".response_delay_ns", rm.response_delay_ns);
    CheckRmOperations(rm, path, problems);
    CheckDisk(problems, path + ".disk", rm.disk);
  }
}

// The most RMs one transaction can touch: rms_per_tx_max, clamped to the RMs
// of one host (local transactions) or of all hosts (distributed ones), as
// the harness picks them (harness/cluster.cc PickLocal, PickDistributed).
uint64_t RmsPerTransactionReach(const Scenario& scenario) {
  const WorkloadSpec& w = scenario.workload;
  uint64_t reach = 0;
  for (const HostSpec& host : scenario.hosts) {
    const auto on_host = std::count_if(scenario.rms.begin(), scenario.rms.end(),
                                       [&host](const RmSpec& rm) { return rm.host == host.name; });
    reach = std::max<uint64_t>(reach, static_cast<uint64_t>(on_host));
  }
  if (w.distributed_fraction > 0) reach = scenario.rms.size();
  return std::min<uint64_t>(reach, w.rms_per_tx_max);
}

void CheckEnlistmentLimit(const Scenario& scenario, ProblemList& problems) {
  const WorkloadSpec& w = scenario.workload;
  if (w.rms_per_tx_min > w.rms_per_tx_max) return;  // reported already
  const uint64_t reach = RmsPerTransactionReach(scenario);
  if (reach <= kEnlistmentsPerTransactionMax) return;
  const bool every = std::min<uint64_t>(w.rms_per_tx_min, reach) > kEnlistmentsPerTransactionMax;
  problems.Add(every ? "workload.rms_per_tx_min" : "workload.rms_per_tx_max",
               absl::StrCat("a transaction could touch ", reach, " RMs, but the engine allows at most ",
                            kEnlistmentsPerTransactionMax, " enlistments per transaction (",
                            every ? "every" : "such a", " transaction would be refused): must be at most ",
                            kEnlistmentsPerTransactionMax, ", got ",
                            every ? w.rms_per_tx_min : w.rms_per_tx_max));
}

void CheckWorkloadCounts(const Scenario& scenario, ProblemList& problems) {
  const WorkloadSpec& w = scenario.workload;
  problems.Count("workload.transactions", w.transactions, 1, kTransactionsMax);
  problems.Count("workload.concurrency", w.concurrency, 1, kConcurrencyMax);
  problems.Count("workload.ops_min", w.ops_min, 1, kOpsMax);
  problems.Count("workload.ops_max", w.ops_max, 1, kOpsMax);
  if (w.ops_min > w.ops_max) {
    problems.Add("workload.ops_min",
                 absl::StrCat("must be <= ops_max (", w.ops_max, "), got ", w.ops_min));
  }
  problems.Count("workload.rms_per_tx_min", w.rms_per_tx_min, 1, kRmsMax);
  problems.Count("workload.rms_per_tx_max", w.rms_per_tx_max, 1, kRmsMax);
  if (w.rms_per_tx_min > w.rms_per_tx_max) {
    problems.Add("workload.rms_per_tx_min", absl::StrCat("must be <= rms_per_tx_max (",
                                                         w.rms_per_tx_max, "), got ", w.rms_per_tx_min));
  } else if (!scenario.rms.empty() && w.rms_per_tx_min > scenario.rms.size()) {
    problems.Add("workload.rms_per_tx_min",
                 absl::StrCat("must be <= the number of RMs (", scenario.rms.size(), "), got ",
                              w.rms_per_tx_min));
  }
  problems.Count("workload.keys", w.keys, 1, kKeysMax);
  problems.Count("workload.value_bytes", w.value_bytes, 0, kValueBytesMax);
  for (const RmSpec& rm : scenario.rms) {
    if (rm.kind == "txr" && w.value_bytes > kTxrValueBytesMax) {
      problems.Add("workload.value_bytes", absl::StrCat("must be <= ", kTxrValueBytesMax, " with a txr RM (\"",
                                                        rm.name, "\": registry values are at most ",
                                                        kTxrValueBytesMax, " bytes), got ", w.value_bytes));
      break;
    }
  }
  std::set<uint32_t> skipped;
  for (size_t i = 0; i < w.skip.size(); ++i) {
    const std::string path = absl::StrCat("workload.skip[", i, "]");
    problems.Count(path, w.skip[i], 1, w.transactions);
    if (!skipped.insert(w.skip[i]).second) problems.Add(path, absl::StrCat("transaction ", w.skip[i], " twice"));
  }
  std::set<WorkloadSpec::OpRef> skipped_ops;
  for (size_t i = 0; i < w.skip_ops.size(); ++i) {
    const std::string path = absl::StrCat("workload.skip_ops[", i, "]");
    const WorkloadSpec::OpRef& op = w.skip_ops[i];
    if (op.transaction < 1 || op.transaction > w.transactions) {
      problems.Add(path, absl::StrCat("transaction must be in [1, ", w.transactions, "], got ", op.transaction));
    }
    if (op.op < 1 || op.op > kOpsMax * kRmsMax) {
      problems.Add(path, absl::StrCat("operation must be in [1, ", kOpsMax * kRmsMax, "], got ", op.op));
    }
    if (!skipped_ops.insert(op).second) {
      problems.Add(path, absl::StrCat("operation ", op.op, " of transaction ", op.transaction, " twice"));
    }
  }
  CheckEnlistmentLimit(scenario, problems);
}

void CheckWorkloadMix(const WorkloadSpec& w, ProblemList& problems) {
  problems.Real("workload.arrival_per_second", w.arrival_per_second, 0, kArrivalPerSecondMax);
  problems.Fraction("workload.read_fraction", w.read_fraction);
  problems.Fraction("workload.commit_fraction", w.commit_fraction);
  problems.Fraction("workload.rollback_fraction", w.rollback_fraction);
  problems.Fraction("workload.read_only_fraction", w.read_only_fraction);
  problems.Fraction("workload.async_commit_fraction", w.async_commit_fraction);
  const double sum = w.commit_fraction + w.rollback_fraction + w.read_only_fraction;
  if (sum > 1 + kFractionSlack) {
    problems.Add("workload.commit_fraction",
                 absl::StrCat("commit_fraction + rollback_fraction + read_only_fraction must be <= 1, got ",
                              w.commit_fraction, " + ", w.rollback_fraction, " + ",
                              w.read_only_fraction, " = ", sum));
  }
  problems.NonNegativeTime("workload.duration_ns", w.duration_ns);
  problems.NonNegativeTime("workload.timeout_ns", w.timeout_ns);
  problems.NonNegativeTime("workload.think_ns", w.think_ns);
}

// Distributed transactions need a Dtc on at least two hosts, and a Dtc
// needs a durable TM (its RM is durable).
void CheckDistributed(const Scenario& scenario, ProblemList& problems) {
  const double fraction = scenario.workload.distributed_fraction;
  problems.Fraction("workload.distributed_fraction", fraction);
  if (!(fraction > 0)) return;
  size_t durable_hosts = 0;
  for (const HostSpec& host : scenario.hosts) durable_hosts += host.tm_volatile ? 0 : 1;
  if (durable_hosts < 2) {
    problems.Add("workload.distributed_fraction",
                 absl::StrCat("distributed transactions need at least two hosts with a durable TM, got ",
                              durable_hosts));
  }
}

void CheckNetwork(const sim::NetworkOptions& network, ProblemList& problems) {
  CheckLatency(problems, "network.latency", network.latency);
  problems.Fraction("network.loss_probability", network.loss_probability);
  problems.Fraction("network.duplicate_probability", network.duplicate_probability);
  problems.Fraction("network.reorder_probability", network.reorder_probability);
  problems.Time("network.reorder_delay_max_ns", network.reorder_delay_max_ns, 0, kLatencyMaxNs);
  problems.Count("network.inflight_max", network.inflight_max, 1, kNetworkInflightMax);
}

void CheckProbabilities(const sim::FaultProbabilities& p, ProblemList& problems) {
  const std::string path = "faults.probabilities.";
  for (const sim::FaultKindInfo& kind : sim::kFaultKinds) {  // the catalog: one rate each
    const std::string key = path + std::string(kind.rate_key);
    if (kind.unit == sim::FaultRateUnit::kPerSecond) {
      problems.Real(key, p.*kind.rate, 0, kFaultRatePerSecondMax);
    } else {
      problems.Fraction(key, p.*kind.rate);
    }
  }
  problems.Fraction(path + "unflushed_survive_probability", p.unflushed_survive_probability);
  problems.Time(path + "restart_delay_min_ns", p.restart_delay_min_ns, 0, kLatencyMaxNs);
  problems.Time(path + "restart_delay_max_ns", p.restart_delay_max_ns, 0, kLatencyMaxNs);
  if (p.restart_delay_min_ns > p.restart_delay_max_ns) {
    problems.Add(path + "restart_delay_min_ns",
                 absl::StrCat("must be <= restart_delay_max (", FormatTime(p.restart_delay_max_ns),
                              "), got ", FormatTime(p.restart_delay_min_ns)));
  }
  problems.Time(path + "partition_duration_max_ns", p.partition_duration_max_ns, 0, kLatencyMaxNs);
}

void CheckSchedule(const Scenario& scenario, ProblemList& problems) {
  const FaultSpec& faults = scenario.faults;
  const bool has_text = !absl::StripAsciiWhitespace(faults.schedule_text).empty();
  if (faults.mode != FaultMode::kSchedule) {
    if (has_text) problems.Add("faults.schedule_text", "a schedule is only used with mode \"schedule\"");
    return;
  }
  if (!has_text) {
    problems.Add("faults.schedule_text", "mode \"schedule\" needs a schedule");
    return;
  }
  // Every line against the scenario (hosts, disks, sectors, times, budget).
  for (const ScheduleProblem& problem : CheckFaultSchedule(scenario, faults.schedule_text)) {
    problems.Add("faults.schedule_text", absl::StrCat("line ", problem.line, ": ", problem.message));
  }
}

// The injector plans every timed fault up front (about 0.5 KB each, and a
// corruption or latent error lists the disk's sectors to pick one): the
// expected number of planned faults is bounded so the worst rates refuse
// instead of swelling the process (1e6 corruptions/s per disk planned 737,000
// faults and 386 MB; docs/faults.md).
void CheckPlannedFaults(const Scenario& scenario, ProblemList& problems) {
  const FaultSpec& faults = scenario.faults;
  if (faults.mode != FaultMode::kProbabilities) return;  // swarm rates are small; schedules are explicit
  const sim::FaultProbabilities& p = faults.probabilities;
  double disks = 0;
  for (const HostSpec& host : scenario.hosts) disks += host.tm_volatile ? 0 : 2;  // TM log (+ Dtc log)
  for (const RmSpec& rm : scenario.rms) disks += rm.durable ? 1 : 0;
  const double seconds = static_cast<double>(std::max<sim::TimeNs>(faults.faults_until_ns, 0)) / 1e9;
  const double page_rates = p.page_torn_per_second + p.page_lost_per_second + p.page_latent_per_second;
  const double expected = seconds * (static_cast<double>(scenario.hosts.size()) * p.crash_per_second +
                                     disks * (p.latent_error_per_second + p.corrupt_per_second + page_rates) +
                                     p.partition_per_second);
  if (expected > static_cast<double>(kPlannedFaultsMax)) {
    problems.Add("faults.probabilities", absl::StrCat("these rates over faults_until plan about ",
                                                      static_cast<uint64_t>(expected), " faults; at most ",
                                                      kPlannedFaultsMax, " (lower a rate or faults_until)"));
  }
}

void CheckFaults(const Scenario& scenario, ProblemList& problems) {
  const FaultSpec& faults = scenario.faults;
  CheckProbabilities(faults.probabilities, problems);
  if (faults.mode == FaultMode::kProbabilities && faults.probabilities.corrupt_per_second > 0 &&
      faults.budget != "beyond") {
    problems.Add("faults.probabilities.corrupt_per_second",
                 "corrupting flushed sectors is a beyond-recoverable fault: needs budget \"beyond\"");
  }
  // A latent error under a log loses data that has no second copy: the run
  // would drop the rate to 0 under "recoverable" (harness/cluster.cc), so a
  // rate given there is refused rather than silently ignored.
  if (faults.mode == FaultMode::kProbabilities && faults.probabilities.latent_error_per_second > 0 &&
      faults.budget != "beyond") {
    problems.Add("faults.probabilities.latent_error_per_second",
                 "latent sector errors under a log are a beyond-recoverable fault: needs budget "
                 "\"beyond\" (under \"recoverable\" the rate would be ignored)");
  }
  // The other beyond kinds of the catalog (page_latent: a clean data page
  // has no second copy once the log forgot it; only a refusal is promised).
  for (const sim::FaultKindInfo& kind : sim::kFaultKinds) {
    if (kind.budget != sim::FaultBudget::kBeyond || kind.name == "latent" || kind.name == "corrupt") continue;
    if (faults.mode == FaultMode::kProbabilities && faults.probabilities.*kind.rate > 0 && faults.budget != "beyond") {
      problems.Add(absl::StrCat("faults.probabilities.", std::string(kind.rate_key)),
                   absl::StrCat("'", std::string(kind.name), "' is a beyond-recoverable fault (", std::string(kind.what),
                                "): needs budget \"beyond\" (under \"recoverable\" the rate would be ignored)"));
    }
  }
  CheckSchedule(scenario, problems);
  CheckPlannedFaults(scenario, problems);
  problems.Time("faults.faults_until_ns", faults.faults_until_ns, 0, scenario.run_until_ns);
  CheckChoice(problems, "faults.crash_on", faults.crash_on, {"", "prepare", "commit", "log_force"});
  problems.Fraction("faults.crash_on_probability", faults.crash_on_probability);
  if (!faults.crash_on.empty()) {
    if (faults.mode != FaultMode::kProbabilities && faults.mode != FaultMode::kSwarm) {
      problems.Add("faults.crash_on", "targeted crashes need mode \"probabilities\" or \"swarm\"");
    } else if (faults.crash_on_probability <= 0) {
      problems.Add("faults.crash_on_probability",
                   absl::StrCat("must be > 0 with crash_on = ", Quoted(faults.crash_on)));
    }
  } else if (faults.crash_on_probability > 0) {
    problems.Add("faults.crash_on_probability", "is only used with crash_on");
  }
  CheckChoice(problems, "faults.budget", faults.budget, {"recoverable", "beyond"});
}

void CheckRun(const Scenario& scenario, ProblemList& problems) {
  problems.Time("run_until_ns", scenario.run_until_ns, 1, kRunUntilMaxNs);
  problems.Time("termination_bound_ns", scenario.termination_bound_ns, 1, kRunUntilMaxNs);
  const sim::TimeNs needed = scenario.faults.faults_until_ns + scenario.termination_bound_ns;
  if (scenario.faults.faults_until_ns >= 0 && scenario.termination_bound_ns > 0 &&
      needed > scenario.run_until_ns) {
    problems.Add("run_until_ns", absl::StrCat("must be >= faults_until + termination_bound (",
                                              FormatTime(needed), "), got ",
                                              FormatTime(scenario.run_until_ns)));
  }
  CheckChoice(problems, "schedule_strategy", scenario.schedule_strategy, {"fifo", "random", "pct"});
  problems.Count("schedule_pct_depth", scenario.schedule_pct_depth, 1, 64);
}

void CheckCheckersAndExpect(const Scenario& scenario, ProblemList& problems) {
  if (scenario.expect_refusals_min > 0) {
    if (scenario.faults.budget != "beyond") {
      problems.Add("expect_refusals_min", "refusals only happen under budget \"beyond\"");
    } else if (scenario.expect != Expect::kPass) {
      problems.Add("expect_refusals_min", "only with verdict \"pass\" (a refusal is part of a passing run)");
    }
    problems.Count("expect_refusals_min", scenario.expect_refusals_min, 0, kRefusalsMinMax);
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < scenario.checkers.size(); ++i) {
    const std::string path = absl::StrCat("checkers[", i, "]");
    const std::string& name = scenario.checkers[i];
    CheckChoice(problems, path, name, AllCheckerNames());
    if (!seen.insert(name).second) problems.Add(path, absl::StrCat(Quoted(name), " is listed twice"));
  }
  if (scenario.expect_rule.empty()) return;
  if (scenario.expect == Expect::kPass) {
    problems.Add("expect_rule", "a rule is only used with verdict \"fail\"");
    return;
  }
  const std::vector<std::string> all = AllCheckerNames();
  if (std::find(all.begin(), all.end(), scenario.expect_rule) == all.end()) {
    problems.Add("expect_rule", UnknownChoice(scenario.expect_rule, all));
  } else if (!scenario.checkers.empty() && seen.count(scenario.expect_rule) == 0) {
    problems.Add("expect_rule", absl::StrCat(Quoted(scenario.expect_rule),
                                             " is expected to fail but is not among the checkers run"));
  }
}

size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

std::vector<ScenarioProblem> FindProblems(const Scenario& scenario) {
  ProblemList problems;
  CheckHosts(scenario, problems);
  CheckRms(scenario, problems);
  CheckWorkloadCounts(scenario, problems);
  CheckWorkloadMix(scenario.workload, problems);
  CheckDistributed(scenario, problems);
  CheckNetwork(scenario.network, problems);
  CheckFaults(scenario, problems);
  CheckRun(scenario, problems);
  CheckCheckersAndExpect(scenario, problems);
  return problems.Take();
}

absl::Status Validate(const Scenario& scenario) {
  const std::vector<ScenarioProblem> problems = FindProblems(scenario);
  if (problems.empty()) return absl::OkStatus();
  std::vector<std::string> lines;
  for (const ScenarioProblem& problem : problems) {
    lines.push_back(OneLine(problem.path.empty() ? problem.message
                                                 : absl::StrCat(problem.path, ": ", problem.message)));
  }
  return absl::InvalidArgumentError(absl::StrJoin(lines, "\n"));
}

// The model's rules (model/checker_catalog.h), then the harness-level
// conformance checker (harness/conformance.h: a run's trace against the spec).
std::vector<std::string> AllCheckerNames() {
  std::vector<std::string> names = model::RuleNames();
  names.push_back("conformance");
  return names;
}

std::string FormatTime(sim::TimeNs ns) {
  if (ns == 0) return "0ns";
  if (ns % sim::kSecond == 0) return absl::StrCat(ns / sim::kSecond, "s");
  if (ns % sim::kMillisecond == 0) return absl::StrCat(ns / sim::kMillisecond, "ms");
  if (ns % sim::kMicrosecond == 0) return absl::StrCat(ns / sim::kMicrosecond, "us");
  return absl::StrCat(ns, "ns");
}

std::string ClosestName(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = 3;  // at most 2 edits
  for (const std::string& candidate : candidates) {
    const size_t distance = EditDistance(word, candidate);
    if (distance < best_distance && 2 * distance < std::max(word.size(), candidate.size())) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

std::string WorkloadValue(const WorkloadSpec& w, std::string name) {
  if (name.size() < w.value_bytes) name.resize(w.value_bytes, '.');
  return name;
}

}  // namespace harness
