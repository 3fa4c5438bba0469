// Scenario -> TOML (see scenario_toml_writer.h). One function per table, in
// the order the loader reads them; each writes every key of its table.
#include "harness/scenario_toml_writer.h"

#include <charconv>
#include <cstdint>
#include <string>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/ascii.h"
#include "absl/strings/string_view.h"
#include "sim/fault_kinds.h"
#include "sim/time.h"

namespace harness {
namespace {

// The shortest text that reads back as exactly `value` (std::to_chars).
std::string Number(double value) {
  char buffer[64];
  const std::to_chars_result result = std::to_chars(buffer, buffer + sizeof buffer, value);
  if (result.ec != std::errc()) return absl::StrFormat("%.17g", value);
  return std::string(buffer, result.ptr);
}

// "base_<unit> = N" with the largest unit that holds `ns` exactly.
std::string TimeKey(const std::string& base, sim::TimeNs ns) {
  struct Unit {
    const char* name;
    sim::TimeNs factor;
  };
  static constexpr Unit kUnits[] = {
      {"s", sim::kSecond}, {"ms", sim::kMillisecond}, {"us", sim::kMicrosecond}};
  for (const Unit& unit : kUnits) {
    if (ns != 0 && ns % unit.factor == 0) return absl::StrCat(base, "_", unit.name, " = ", ns / unit.factor);
  }
  return absl::StrCat(base, "_ns = ", ns);
}

const char* Bool(bool value) { return value ? "true" : "false"; }

// `key = { kind = ..., ... }` for a latency.
std::string LatencyLine(const std::string& key, const sim::Latency& latency) {
  std::string parts;
  switch (latency.kind) {
    case sim::Latency::Kind::kFixed:
      parts = absl::StrCat("kind = \"fixed\", ", TimeKey("value", latency.min_ns));
      break;
    case sim::Latency::Kind::kUniform:
      parts = absl::StrCat("kind = \"uniform\", ", TimeKey("min", latency.min_ns), ", ",
                           TimeKey("max", latency.max_ns));
      break;
    case sim::Latency::Kind::kExponential:
      parts = absl::StrCat("kind = \"exponential\", ", TimeKey("min", latency.min_ns), ", ",
                           TimeKey("mean", latency.mean_ns), ", ", TimeKey("max", latency.max_ns));
      break;
  }
  return absl::StrCat(key, " = { ", parts, " }\n");
}

void AppendDisk(const std::string& header, const sim::DiskOptions& disk, std::string* out) {
  absl::StrAppend(out, "\n[", header, "]\n", "sector_size = ", disk.sector_size, "\n",
                  "sector_count = ", disk.sector_count, "\n", "inflight_max = ", disk.inflight_max,
                  "\n", "unflushed_survive_probability = ", Number(disk.unflushed_survive_probability),
                  "\n", LatencyLine("write_latency", disk.write_latency),
                  LatencyLine("read_latency", disk.read_latency),
                  LatencyLine("flush_latency", disk.flush_latency),
                  LatencyLine("fua_extra_latency", disk.fua_extra_latency));
}


const char* FaultModeName(FaultMode mode) {
  switch (mode) {
    case FaultMode::kNone: return "none";
    case FaultMode::kProbabilities: return "probabilities";
    case FaultMode::kSwarm: return "swarm";
    case FaultMode::kSchedule: return "schedule";
  }
  return "none";
}

void AppendTop(const Scenario& s, std::string* out) {
  absl::StrAppend(out, "name = ", TomlString(s.name), "\n", "description = ", TomlString(s.description),
                  "\n", TimeKey("run_until", s.run_until_ns), "\n",
                  TimeKey("termination_bound", s.termination_bound_ns), "\n",
                  "schedule_strategy = ", TomlString(s.schedule_strategy), "\n",
                  "schedule_pct_depth = ", s.schedule_pct_depth, "\n");
  absl::StrAppend(out, "seeds = [", absl::StrJoin(s.seeds, ", "), "]\n");
}

void AppendHosts(const Scenario& s, std::string* out) {
  for (const HostSpec& host : s.hosts) {
    absl::StrAppend(out, "\n[[hosts]]\n", "name = ", TomlString(host.name), "\n",
                    "tm_volatile = ", Bool(host.tm_volatile), "\n");
    AppendDisk("hosts.log_disk", host.log_disk, out);
  }
}

void AppendRms(const Scenario& s, std::string* out) {
  for (const RmSpec& rm : s.rms) {
    absl::StrAppend(out, "\n[[rms]]\n", "name = ", TomlString(rm.name), "\n", "host = ", TomlString(rm.host),
                    "\n", "kind = \"", rm.kind, "\"\n", "durable = ", Bool(rm.durable), "\n",
                    "single_phase = ", Bool(rm.single_phase), "\n",
                    "vote_no_probability = ", Number(rm.vote_no_probability), "\n",
                    "disconnect_probability = ", Number(rm.disconnect_probability), "\n",
                    "reject_single_phase_probability = ", Number(rm.reject_single_phase_probability),
                    "\n", TimeKey("response_delay", rm.response_delay_ns), "\n",
                    "delete_fraction = ", Number(rm.delete_fraction), "\n",
                    "move_fraction = ", Number(rm.move_fraction), "\n");
    // Issue 18's workload options: written only when set, so the scenario as
    // run of every other scenario reads as before.
    const RmSpec defaults;
    if (rm.volatile_fraction != defaults.volatile_fraction) {
      absl::StrAppend(out, "volatile_fraction = ", Number(rm.volatile_fraction), "\n");
    }
    if (rm.nontransacted_open_fraction != defaults.nontransacted_open_fraction ||
        rm.nontransacted_hold_ns != defaults.nontransacted_hold_ns) {
      absl::StrAppend(out, "nontransacted_open_fraction = ", Number(rm.nontransacted_open_fraction), "\n",
                      TimeKey("nontransacted_hold", rm.nontransacted_hold_ns), "\n");
    }
    if (rm.request_outcome_after_ns != defaults.request_outcome_after_ns) {
      absl::StrAppend(out, TimeKey("request_outcome_after", rm.request_outcome_after_ns), "\n");
    }
    if (rm.snapshot_log_bytes != defaults.snapshot_log_bytes) {
      absl::StrAppend(out, "snapshot_log_bytes = ", rm.snapshot_log_bytes, "\n");
    }
    AppendDisk("rms.disk", rm.disk, out);
    if (!rm.options.empty()) {
      absl::StrAppend(out, "\n[rms.options]\n");
      for (const auto& [key, value] : rm.options) absl::StrAppend(out, TomlString(key), " = ", TomlString(value), "\n");
    }
  }
}

void AppendWorkload(const WorkloadSpec& w, std::string* out) {
  absl::StrAppend(out, "\n[workload]\n", "transactions = ", w.transactions, "\n",
                  TimeKey("duration", w.duration_ns), "\n",
                  "arrival_per_second = ", Number(w.arrival_per_second), "\n",
                  "concurrency = ", w.concurrency, "\n", "ops_min = ", w.ops_min, "\n",
                  "ops_max = ", w.ops_max, "\n", "rms_per_tx_min = ", w.rms_per_tx_min, "\n",
                  "rms_per_tx_max = ", w.rms_per_tx_max, "\n", "keys = ", w.keys, "\n");
  if (w.value_bytes != 0) absl::StrAppend(out, "value_bytes = ", w.value_bytes, "\n");  // as before when unset
  absl::StrAppend(out, "read_fraction = ", Number(w.read_fraction), "\n",
                  "commit_fraction = ", Number(w.commit_fraction), "\n",
                  "rollback_fraction = ", Number(w.rollback_fraction), "\n",
                  "read_only_fraction = ", Number(w.read_only_fraction), "\n",
                  "async_commit_fraction = ", Number(w.async_commit_fraction), "\n",
                  "distributed_fraction = ", Number(w.distributed_fraction), "\n",
                  TimeKey("timeout", w.timeout_ns), "\n", TimeKey("think", w.think_ns), "\n");
  absl::StrAppend(out, "skip = [", absl::StrJoin(w.skip, ", "), "]\n");
  absl::StrAppend(out, "skip_ops = [",
                  absl::StrJoin(w.skip_ops, ", ",
                                [](std::string* o, const WorkloadSpec::OpRef& op) {
                                  absl::StrAppend(o, "[", op.transaction, ", ", op.op, "]");
                                }),
                  "]\n");
}

void AppendNetwork(const sim::NetworkOptions& n, std::string* out) {
  absl::StrAppend(out, "\n[network]\n", LatencyLine("latency", n.latency),
                  "loss_probability = ", Number(n.loss_probability), "\n",
                  "duplicate_probability = ", Number(n.duplicate_probability), "\n",
                  "reorder_probability = ", Number(n.reorder_probability), "\n",
                  TimeKey("reorder_delay_max", n.reorder_delay_max_ns), "\n",
                  "inflight_max = ", n.inflight_max, "\n");
}

// A schedule as a multi-line literal string when that keeps it verbatim
// (no ''' and no control characters but newlines and tabs), else escaped.
std::string ScheduleString(const std::string& text) {
  bool literal_ok = text.find("'''") == std::string::npos && (text.empty() || text.back() != '\'');
  for (char c : text) {
    const unsigned char u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\n' && c != '\t') || u == 0x7f) literal_ok = false;
  }
  if (!literal_ok) return TomlString(text);
  return absl::StrCat("'''\n", text, "'''");
}

void AppendFaults(const FaultSpec& f, std::string* out) {
  absl::StrAppend(out, "\n[faults]\n", "mode = \"", FaultModeName(f.mode), "\"\n",
                  TimeKey("faults_until", f.faults_until_ns), "\n", "budget = ", TomlString(f.budget),
                  "\n", "crash_on = ", TomlString(f.crash_on), "\n",
                  "crash_on_probability = ", Number(f.crash_on_probability), "\n");
  if (!f.schedule_text.empty()) absl::StrAppend(out, "schedule = ", ScheduleString(f.schedule_text), "\n");
  if (f.mode != FaultMode::kProbabilities) return;
  const sim::FaultProbabilities& p = f.probabilities;
  absl::StrAppend(out, "crash_per_second = ", Number(p.crash_per_second), "\n",
                  TimeKey("restart_delay_min", p.restart_delay_min_ns), "\n",
                  TimeKey("restart_delay_max", p.restart_delay_max_ns), "\n",
                  "unflushed_survive_probability = ", Number(p.unflushed_survive_probability), "\n",
                  "latent_error_per_second = ", Number(p.latent_error_per_second), "\n",
                  "corrupt_per_second = ", Number(p.corrupt_per_second), "\n");
  absl::StrAppend(out, "message_loss = ", Number(p.message_loss), "\n",
                  "message_duplicate = ", Number(p.message_duplicate), "\n",
                  "message_reorder = ", Number(p.message_reorder), "\n",
                  "partition_per_second = ", Number(p.partition_per_second), "\n",
                  TimeKey("partition_duration_max", p.partition_duration_max_ns), "\n");
  // The kinds added after the keys above (the page kinds), keys from the catalog.
  static_assert(sim::FaultKindIndex("page_torn") < sim::kFaultKindCount);
  for (size_t i = sim::FaultKindIndex("page_torn"); i < sim::kFaultKindCount; ++i) {
    const sim::FaultKindInfo& kind = sim::kFaultKinds[i];
    absl::StrAppend(out, std::string(kind.rate_key), " = ", Number(p.*kind.rate), "\n");
  }
}

void AppendCheckersAndExpect(const Scenario& s, std::string* out) {
  if (!s.checkers.empty()) {
    std::vector<std::string> names;
    for (const std::string& name : s.checkers) names.push_back(TomlString(name));
    absl::StrAppend(out, "\n[checkers]\nrun = [", absl::StrJoin(names, ", "), "]\n");
  }
  absl::StrAppend(out, "\n[expect]\nverdict = \"", s.expect == Expect::kFail ? "fail" : "pass", "\"\n");
  if (!s.expect_rule.empty()) absl::StrAppend(out, "rule = ", TomlString(s.expect_rule), "\n");
  absl::StrAppend(out, "refusals_min = ", s.expect_refusals_min, "\n");
}

}  // namespace

std::string TomlString(const std::string& text) {
  std::string quoted = "\"";
  for (char c : text) {
    const unsigned char u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': quoted += "\\\""; break;
      case '\\': quoted += "\\\\"; break;
      case '\n': quoted += "\\n"; break;
      case '\t': quoted += "\\t"; break;
      case '\r': quoted += "\\r"; break;
      default:
        if (u < 0x20 || u == 0x7f) {
          absl::StrAppendFormat(&quoted, "\\u%04x", u);
        } else {
          quoted.push_back(c);
        }
    }
  }
  return quoted + "\"";
}

std::string ScenarioToToml(const Scenario& scenario, const std::string& header) {
  std::string out;
  if (!header.empty()) {
    for (absl::string_view line : absl::StrSplit(absl::StripTrailingAsciiWhitespace(header), '\n')) {
      absl::StrAppend(&out, line.empty() ? "#" : absl::StrCat("# ", line), "\n");
    }
    out += "\n";
  }
  AppendTop(scenario, &out);
  AppendHosts(scenario, &out);
  AppendRms(scenario, &out);
  AppendWorkload(scenario.workload, &out);
  AppendNetwork(scenario.network, &out);
  AppendFaults(scenario.faults, &out);
  AppendCheckersAndExpect(scenario, &out);
  return out;
}

}  // namespace harness
