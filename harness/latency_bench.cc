// Latency bench implementation: scenario construction, one run's reduction
// (history -> latencies, trace -> forced writes and messages), the parallel
// driver and the three renderers. See latency_bench.h for the contract;
// everything is computed from simulated time only.
#include "harness/latency_bench.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <thread>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "harness/markup.h"
#include "harness/runner.h"
#include "ktm/assert.h"
#include "ktm/rm_base.h"
#include "sim/trace.h"

namespace harness {
namespace {

constexpr double kRmMissProbabilityMax = 1e-4;  // OpsPerRm's target
constexpr uint32_t kKeysMin = 1024;
// TxF and TxR keep their records on a PageStore when their disk is paged
// (ktm/rm_base.h, kPagedDiskBytesMin): their cases get at least this many
// keys (files / registry values) per RM and paged disks.
constexpr uint32_t kTxfTxrKeysMin = 10000;
constexpr uint64_t kKeysMax = 1000000;  // scenarios/README.md's limit
// Keys x RMs bounds the final-value events a run records (one per key per
// RM): at most this many per transaction started, and at least kKeysMin x RMs.
constexpr uint64_t kKeyRmProductPerTransaction = 512;
constexpr uint64_t kSectorCountMax = uint64_t{1} << 24;  // scenarios/README.md's limit
constexpr sim::TimeNs kRunUntilNs = 3600 * sim::kSecond;  // the scenario maximum
constexpr size_t kCdfPointsMax = 400;  // points per SVG curve

// ---------------------------------------------------------------------------
// Scenario construction.

// Sectors for a log that stays below a quarter full (the kv snapshot and TM
// checkpoint-by-space threshold) for `transactions`: per transaction at most
// two blocks (prepare or commit decision, commit), each its header and
// records rounded up to whole sectors.
uint64_t LogSectors(const sim::DiskOptions& disk, uint32_t transactions, uint32_t writes_per_tx) {
  const uint64_t record_bytes = 256 + uint64_t{writes_per_tx} * 64;
  const uint64_t sectors_per_block = 1 + (record_bytes + disk.sector_size - 1) / disk.sector_size;
  const uint64_t needed = 4 * (uint64_t{transactions} * 2 * sectors_per_block + 64);
  return std::min(kSectorCountMax, std::max<uint64_t>(disk.sector_count, needed));
}

// Keys per RM: enough that the expected number of lock conflicts per
// transaction (writes per tx x locks held per RM / keys = c k^2 n / keys)
// is about 1/32, within the final-value budget. On one host a conflict costs
// no simulated time (the client rolls back at once, nothing is forced), only
// a commit; a distributed one costs the round trips made before it.
uint32_t KeysFor(uint32_t concurrency, uint32_t transactions, uint32_t ops_per_rm, uint32_t rms) {
  const uint64_t active = std::max<uint32_t>(1, std::min(concurrency, transactions));
  const uint64_t wanted = 32 * active * ops_per_rm * ops_per_rm * rms;
  const uint64_t cap = std::clamp<uint64_t>(kKeyRmProductPerTransaction * transactions / std::max<uint32_t>(rms, 1),
                                            kKeysMin, kKeysMax);
  return static_cast<uint32_t>(std::clamp<uint64_t>(wanted, kKeysMin, cap));
}

WorkloadSpec BenchWorkload(const LatencyCase& kase, uint32_t concurrency, uint32_t transactions) {
  const bool read_only = kase.kind == LatencyCaseKind::kReadOnly;
  const uint32_t ops = OpsPerRm(kase.rms);
  WorkloadSpec w;
  w.transactions = transactions;
  w.duration_ns = 0;
  w.arrival_per_second = 0;  // back to back
  w.concurrency = concurrency;
  w.ops_min = w.ops_max = ops;
  w.rms_per_tx_min = w.rms_per_tx_max = kase.rms;
  w.keys = KeysFor(concurrency, transactions, ops, kase.rms);
  // TxF and TxR on paged disks: the volume is bounded by the disk, not by a
  // 32 KiB snapshot record, so they get 10,000+ keys (few lock conflicts).
  if (!kase.rm_kinds.empty()) w.keys = std::max(w.keys, kTxfTxrKeysMin);
  w.read_fraction = read_only ? 1 : 0;
  w.commit_fraction = read_only ? 0 : 1;
  w.rollback_fraction = 0;
  w.read_only_fraction = read_only ? 1 : 0;
  w.async_commit_fraction = 0;  // the async path polls every 1ms: not the protocol's latency
  w.timeout_ns = 0;
  w.think_ns = 0;
  w.distributed_fraction = kase.kind == LatencyCaseKind::kDistributed ? 1 : 0;
  return w;
}

// ---------------------------------------------------------------------------
// Reducing a run.

struct TxTimes {
  uint32_t root_host = 0;  // where the client runs
  int64_t commit_request_ns = -1;
  int64_t outcome_ns = -1;
  bool committed = false;
  std::set<std::string> rms_written;
  std::set<uint32_t> participants;  // other hosts written to
  uint64_t remote_writes = 0;
};

// The least time a committed transaction can take (LatencyRow::transaction_minimum_ns).
double TransactionMinimumNs(const TxTimes& tx, const BenchDisks& disks, const ProtocolMinimum& minimum) {
  const sim::TimeNs round_trip = 2 * disks.network.latency.Minimum();
  const sim::TimeNs branch = round_trip + FuaWriteMinimumNs(disks.tm_log_disk);  // PROPAGATE + Dtc force
  return static_cast<double>(minimum.latency_ns + static_cast<sim::TimeNs>(tx.participants.size()) * branch +
                             static_cast<sim::TimeNs>(tx.remote_writes) * round_trip);
}

void ReduceHistory(const model::History& history, const LatencyCase& kase, const BenchDisks& disks,
                   LatencyRow* row) {
  std::map<std::string, TxTimes> txs;
  int64_t first_begin = -1, last_outcome = -1;
  for (const model::HistoryEvent& e : history.events) {
    if (e.kind == model::EventKind::kBegin) {
      if (first_begin < 0) first_begin = e.time_ns;
      txs[e.tx].root_host = e.host;
    } else if (e.kind == model::EventKind::kWrite) {
      TxTimes& tx = txs[e.tx];
      tx.rms_written.insert(e.rm);
      if (e.host != tx.root_host) {
        tx.participants.insert(e.host);
        ++tx.remote_writes;
      }
    } else if (e.kind == model::EventKind::kCommitRequest) {
      txs[e.tx].commit_request_ns = e.time_ns;
    } else if (e.kind == model::EventKind::kOutcome) {
      txs[e.tx].outcome_ns = e.time_ns;
      txs[e.tx].committed = e.detail == "committed";
      last_outcome = std::max(last_outcome, e.time_ns);
    }
  }
  const size_t rms_expected = kase.kind == LatencyCaseKind::kReadOnly ? 0 : kase.rms;
  double minimum_ns_sum = 0, messages_sum = 0;
  for (const auto& [name, tx] : txs) {
    if (!tx.committed) continue;
    if (tx.commit_request_ns >= 0) row->latencies_ns.push_back(tx.outcome_ns - tx.commit_request_ns);
    if (tx.rms_written.size() != rms_expected) ++row->committed_not_every_rm;
    minimum_ns_sum += TransactionMinimumNs(tx, disks, row->minimum);
    messages_sum += static_cast<double>(8 * tx.participants.size() + 2 * tx.remote_writes);
  }
  if (row->committed > 0) {
    row->transaction_minimum_ns = minimum_ns_sum / static_cast<double>(row->committed);
    row->messages_minimum_per_commit = messages_sum / static_cast<double>(row->committed);
  }
  std::sort(row->latencies_ns.begin(), row->latencies_ns.end());
  row->span_ns = first_begin >= 0 && last_outcome >= first_begin ? last_outcome - first_begin : 0;
}

// Counts, from the first transaction's creation on (trace order, so no boot
// I/O is counted), the successful FUA writes of every log (log blocks apart
// from the two restart-area sectors at the start of each log) and the
// datagrams sent.
void ReduceTrace(const std::vector<sim::TraceEvent>& trace, const BenchDisks& disks, LatencyRow* row) {
  bool counting = false;
  for (const sim::TraceEvent& event : trace) {
    const std::string& kind = event.kind;
    if (!counting) {
      counting = kind == "tx.create";
      if (!counting) continue;
    }
    if (kind == "net.send") {
      ++row->messages;
      continue;
    }
    if (kind != "disk.write") continue;
    if (event.Field("fua") != "1" || event.Field("status") != "ok") continue;
    // RM disks are "rm.<name>"; the TM's "tmlog" and a Dtc's "dtc" copy the host's log disk.
    const bool rm_disk = absl::StartsWith(event.Field("disk"), "rm.");
    const uint32_t sector = rm_disk ? disks.rm_disk.sector_size : disks.tm_log_disk.sector_size;
    uint64_t offset = 0;
    KTM_ASSERT(absl::SimpleAtoi(event.Field("off"), &offset), absl::StrCat("disk.write without an offset: ", kind));
    if (offset < 2 * uint64_t{sector}) {
      ++row->restart_area_writes;
    } else {
      ++row->forced_writes;
    }
  }
}

double Ratio(double measured, double minimum) {
  if (minimum == 0) return measured == 0 ? 1.0 : std::numeric_limits<double>::infinity();
  return measured / minimum;
}

void Summarize(LatencyRow* row) {
  const std::vector<int64_t>& l = row->latencies_ns;
  if (!l.empty()) {
    row->min_ns = l.front();
    row->max_ns = l.back();
    row->p50_ns = Percentile(l, 50);
    row->p90_ns = Percentile(l, 90);
    row->p99_ns = Percentile(l, 99);
    row->p999_ns = Percentile(l, 99.9);
    double sum = 0;
    for (int64_t v : l) sum += static_cast<double>(v);
    row->mean_ns = sum / static_cast<double>(l.size());
  }
  if (row->span_ns > 0) {
    row->throughput_per_s = static_cast<double>(row->committed) * 1e9 / static_cast<double>(row->span_ns);
  }
  row->p50_over_minimum = Ratio(static_cast<double>(row->p50_ns), static_cast<double>(row->minimum.latency_ns));
  if (row->transaction_minimum_ns > 0) {
    row->bound_per_s = row->concurrency * 1e9 / row->transaction_minimum_ns;
    if (row->throughput_per_s) row->throughput_over_bound = *row->throughput_per_s / *row->bound_per_s;
  }
  if (row->committed > 0) {
    row->forced_writes_per_commit = static_cast<double>(row->forced_writes) / static_cast<double>(row->committed);
    row->messages_per_commit = static_cast<double>(row->messages) / static_cast<double>(row->committed);
  }
}

}  // namespace

// ---------------------------------------------------------------------------
// Cases, disks, minima.

const std::vector<LatencyCase>& DefaultLatencyCases() {
  static const std::vector<LatencyCase> cases = {
      {"spc_1rm", "1 RM single-phase", LatencyCaseKind::kSinglePhase, 1},
      {"2pc_2rm", "2 RMs 2PC", LatencyCaseKind::kTwoPhase, 2},
      {"2pc_4rm", "4 RMs 2PC", LatencyCaseKind::kTwoPhase, 4},
      {"txf_txr", "TxF + TxR 2PC", LatencyCaseKind::kTwoPhase, 2, 1, {"txf", "txr"}},
      {"read_only", "read-only (2 RMs)", LatencyCaseKind::kReadOnly, 2},
      {"dist_3hosts", "distributed, 3 hosts", LatencyCaseKind::kDistributed, 3, 3},
  };
  return cases;
}

BenchDisks BenchDisksOf(const Scenario& base) {
  BenchDisks disks;
  const RmSpec* rm = nullptr;
  for (const RmSpec& r : base.rms) {
    if (r.durable) {
      rm = &r;
      break;
    }
  }
  if (rm != nullptr) disks.rm_disk = rm->disk;
  const HostSpec* host = base.hosts.empty() ? nullptr : &base.hosts.front();
  for (const HostSpec& h : base.hosts) {
    if (rm != nullptr && h.name == rm->host) host = &h;
  }
  if (host != nullptr) disks.tm_log_disk = host->log_disk;
  disks.network = base.network;
  disks.network.loss_probability = 0;
  disks.network.duplicate_probability = 0;
  disks.network.reorder_probability = 0;
  return disks;
}

sim::TimeNs FuaWriteMinimumNs(const sim::DiskOptions& disk) {
  return disk.write_latency.Minimum() + disk.fua_extra_latency.Minimum();
}

ProtocolMinimum ProtocolMinimumFor(const BenchDisks& disks, const LatencyCase& kase) {
  ProtocolMinimum m;
  switch (kase.kind) {
    case LatencyCaseKind::kSinglePhase:
      m.critical_path_forces = 1;
      m.latency_ns = FuaWriteMinimumNs(disks.rm_disk);
      m.forced_writes_per_commit = 1;
      break;
    case LatencyCaseKind::kTwoPhase:
      // The RMs' prepare records are forced in parallel, then the TM's commit record.
      m.critical_path_forces = 2;
      m.latency_ns = FuaWriteMinimumNs(disks.rm_disk) + FuaWriteMinimumNs(disks.tm_log_disk);
      m.forced_writes_per_commit = 1 + 2 * kase.rms;
      break;
    case LatencyCaseKind::kReadOnly:
      break;
    case LatencyCaseKind::kDistributed: {
      const uint32_t participants = kase.hosts - 1;
      m.critical_path_forces = 3;
      m.message_round_trips = 2;
      m.latency_ns = FuaWriteMinimumNs(disks.rm_disk) + 2 * FuaWriteMinimumNs(disks.tm_log_disk) +
                     2 * m.message_round_trips * disks.network.latency.Minimum();
      m.forced_writes_per_commit = 3 + 5 * participants;
      m.messages_per_commit = 6 * participants;
      break;
    }
  }
  return m;
}

uint32_t OpsPerRm(uint32_t rms) {
  if (rms <= 1) return 2;
  const double miss_one = 1.0 - 1.0 / rms;
  for (uint32_t k = 1;; ++k) {
    // Union bound on "some RM gets none of the rms * k operations".
    if (rms * std::pow(miss_one, static_cast<double>(rms) * k) <= kRmMissProbabilityMax) return k;
  }
}

absl::StatusOr<Scenario> BuildLatencyScenario(const std::string& base_name, const BenchDisks& disks,
                                              const LatencyCase& kase, uint32_t concurrency,
                                              uint32_t transactions) {
  Scenario s;
  s.name = absl::StrCat(base_name, "-", kase.id, "-c", concurrency);
  s.description = absl::StrCat(kase.label, " at concurrency ", concurrency, ", disks of ", base_name);
  s.workload = BenchWorkload(kase, concurrency, transactions);
  const uint32_t writes_per_tx = s.workload.ops_max * kase.rms;
  const uint32_t hosts = kase.kind == LatencyCaseKind::kDistributed ? std::max<uint32_t>(kase.hosts, 2) : 1;
  for (uint32_t h = 0; h < hosts; ++h) {
    HostSpec host;
    host.name = absl::StrCat("node", h + 1);
    host.log_disk = disks.tm_log_disk;
    host.log_disk.sector_count = LogSectors(host.log_disk, transactions, writes_per_tx);
    s.hosts.push_back(host);
  }
  for (uint32_t i = 0; i < kase.rms; ++i) {
    RmSpec rm;
    rm.kind = i < kase.rm_kinds.size() ? kase.rm_kinds[i] : "kv";
    rm.name = absl::StrCat(rm.kind, i + 1);
    rm.host = s.hosts[i % hosts].name;
    rm.durable = true;
    rm.single_phase = kase.kind == LatencyCaseKind::kSinglePhase;
    rm.disk = disks.rm_disk;
    rm.disk.sector_count = LogSectors(rm.disk, transactions, writes_per_tx);
    // No snapshot during a run (the log stays below a quarter): none of the
    // latencies or forced writes per commit is a snapshot's.
    rm.snapshot_log_bytes = rm.disk.sector_count * rm.disk.sector_size;
    if (rm.kind != "kv") {  // TxF / TxR: a paged disk (records on the RM's PageStore)
      rm.disk.sector_count = std::max<uint64_t>(rm.disk.sector_count, ktm::kPagedDiskBytesMin / rm.disk.sector_size);
    }
    s.rms.push_back(rm);
  }
  s.network = disks.network;
  s.faults.mode = FaultMode::kNone;
  s.run_until_ns = kRunUntilNs;
  if (absl::Status valid = Validate(s); !valid.ok()) return valid;
  return s;
}

// ---------------------------------------------------------------------------
// Running.

absl::StatusOr<LatencyRow> RunLatencyCase(const std::string& base_name, const BenchDisks& disks,
                                          const LatencyCase& kase, uint32_t concurrency,
                                          const LatencyBenchOptions& options) {
  absl::StatusOr<Scenario> scenario = BuildLatencyScenario(base_name, disks, kase, concurrency, options.transactions);
  if (!scenario.ok()) return scenario.status();
  RunResult result = RunScenario(*scenario, options.seed, {.keep_trace = true});
  LatencyRow row;
  row.kase = kase;
  row.concurrency = concurrency;
  row.passed = result.passed;
  row.digest = result.digest;
  row.transactions = result.transactions;
  row.committed = result.committed;
  row.aborted = result.aborted;
  row.minimum = ProtocolMinimumFor(disks, kase);
  ReduceHistory(result.history, kase, disks, &row);
  std::vector<int64_t> runner_latencies = result.commit_latencies_ns;
  std::sort(runner_latencies.begin(), runner_latencies.end());
  KTM_ASSERT(runner_latencies == row.latencies_ns,
             absl::StrCat(scenario->name, ": history latencies differ from the runner's"));
  ReduceTrace(result.trace, disks, &row);
  Summarize(&row);
  return row;
}

bool LatencyReport::passed() const {
  for (const LatencyBase& base : bases) {
    for (const LatencyRow& row : base.rows) {
      if (!row.passed) return false;
    }
    if (base.recovery.has_value() && !base.recovery->passed()) return false;
  }
  return true;
}

absl::StatusOr<LatencyReport> RunLatencyBench(const std::vector<Scenario>& bases,
                                              const LatencyBenchOptions& options) {
  if (options.cases.empty() || options.concurrencies.empty()) {
    return absl::InvalidArgumentError("the latency bench needs at least one case and one concurrency");
  }
  if (options.transactions == 0) return absl::InvalidArgumentError("transactions must be at least 1");
  if (options.recovery.has_value()) {
    if (absl::Status valid = ValidateRecoveryOptions(*options.recovery); !valid.ok()) return valid;
  }
  LatencyReport report;
  report.transactions = options.transactions;
  report.seed = options.seed;
  struct Item {
    size_t base, row;
  };
  std::vector<Item> items;
  for (const Scenario& s : bases) {
    LatencyBase base{s.name, s.file, BenchDisksOf(s), {}};
    for (const LatencyCase& kase : options.cases) {
      for (uint32_t c : options.concurrencies) {
        absl::StatusOr<Scenario> check = BuildLatencyScenario(s.name, base.disks, kase, c, options.transactions);
        if (!check.ok()) return check.status();
        items.push_back({report.bases.size(), base.rows.size()});
        base.rows.push_back(LatencyRow{kase, c});
      }
    }
    report.bases.push_back(std::move(base));
  }
  // Workers take the next item from a shared counter; results go to their slot.
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < items.size(); i = next++) {
      LatencyBase& base = report.bases[items[i].base];
      LatencyRow& row = base.rows[items[i].row];
      absl::StatusOr<LatencyRow> done = RunLatencyCase(base.name, base.disks, row.kase, row.concurrency, options);
      KTM_ASSERT(done.ok(), "a validated latency scenario failed to build");
      row = *std::move(done);
    }
  };
  std::vector<std::thread> workers;
  const size_t jobs = std::clamp<size_t>(options.jobs, 1, items.size());
  for (size_t j = 1; j < jobs; ++j) workers.emplace_back(work);
  work();
  for (std::thread& t : workers) t.join();
  if (options.recovery.has_value()) {
    RecoveryBenchOptions recovery = *options.recovery;
    recovery.jobs = options.jobs;
    for (LatencyBase& base : report.bases) {
      absl::StatusOr<RecoveryReport> done = RunRecoveryBench(base.disks.tm_log_disk, base.disks.rm_disk, recovery);
      KTM_ASSERT(done.ok(), "validated recovery options were refused");
      base.recovery = *std::move(done);
    }
  }
  return report;
}

int64_t Percentile(const std::vector<int64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  KTM_ASSERT(p > 0 && p <= 100, absl::StrCat("percentile out of range: ", p));
  const double rank = std::ceil(p / 100.0 * static_cast<double>(sorted.size()));
  const size_t index = static_cast<size_t>(std::max(1.0, rank)) - 1;
  return sorted[std::min(index, sorted.size() - 1)];
}

}  // namespace harness


// ---------------------------------------------------------------------------
// Renderers.

namespace harness {
namespace {

std::string Ms(int64_t ns) { return absl::StrFormat("%.3f", static_cast<double>(ns) / 1e6); }

std::string Fixed(const std::optional<double>& v, int decimals) {
  if (!v || !std::isfinite(*v)) return "-";
  return absl::StrFormat("%.*f", decimals, *v);
}

std::string TableHeader() {
  return absl::StrFormat("%-21s %4s %7s %6s %8s %8s %8s %8s %8s %8s %8s %7s %8s %8s %8s %4s %7s %6s\n", "case",
                         "conc", "commits", "aborts", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms", "tput/s",
                         "min ms", "p50/min", "bound/s", "tput/bnd", "forced/c", "min", "msgs/c", "min");
}

std::string TableRow(const LatencyRow& r) {
  return absl::StrFormat("%-21s %4d %7d %6d %8s %8s %8s %8s %8s %8s %8s %7s %8s %8s %8s %4d %7s %6s\n", r.kase.label,
                         r.concurrency, r.committed, r.aborted, Ms(r.p50_ns), Ms(r.p90_ns), Ms(r.p99_ns),
                         Ms(r.p999_ns), Ms(r.max_ns), Fixed(r.throughput_per_s, 0), Ms(r.minimum.latency_ns),
                         Fixed(r.p50_over_minimum, 3), Fixed(r.bound_per_s, 0), Fixed(r.throughput_over_bound, 3),
                         Fixed(r.forced_writes_per_commit, 3), r.minimum.forced_writes_per_commit,
                         Fixed(r.messages_per_commit, 1), Fixed(r.messages_minimum_per_commit, 1));
}

std::string JsonNumber(const std::optional<double>& v) {
  if (!v || !std::isfinite(*v)) return "null";
  return absl::StrFormat("%.10g", *v);
}

std::string JsonRow(const LatencyRow& r) {
  const ProtocolMinimum& m = r.minimum;
  return absl::StrCat(
      "        {\"case\": ", JsonQuoted(r.kase.id), ", \"label\": ", JsonQuoted(r.kase.label), ", \"rms\": ",
      r.kase.rms, ", \"hosts\": ", r.kase.hosts, ", \"concurrency\": ", r.concurrency, ", \"passed\": ", r.passed ? "true" : "false",
      ", \"digest\": ", JsonQuoted(sim::DigestHex(r.digest)), ",\n         \"transactions\": ", r.transactions,
      ", \"committed\": ", r.committed, ", \"aborted\": ", r.aborted,
      ", \"committed_not_every_rm\": ", r.committed_not_every_rm, ",\n         \"latency_ns\": {\"min\": ", r.min_ns,
      ", \"p50\": ", r.p50_ns, ", \"p90\": ", r.p90_ns, ", \"p99\": ", r.p99_ns, ", \"p99_9\": ", r.p999_ns,
      ", \"max\": ", r.max_ns, ", \"mean\": ", JsonNumber(r.mean_ns), "},\n         \"span_ns\": ", r.span_ns,
      ", \"throughput_per_s\": ", JsonNumber(r.throughput_per_s),
      ",\n         \"minimum\": {\"critical_path_forces\": ", m.critical_path_forces,
      ", \"message_round_trips\": ", m.message_round_trips, ", \"latency_ns\": ", m.latency_ns,
      ", \"forced_writes_per_commit\": ", m.forced_writes_per_commit, ", \"messages_per_commit\": ",
      m.messages_per_commit, "},\n         \"p50_over_minimum\": ", JsonNumber(r.p50_over_minimum),
      ", \"transaction_minimum_ns\": ", JsonNumber(r.transaction_minimum_ns),
      ", \"bound_per_s\": ", JsonNumber(r.bound_per_s), ", \"throughput_over_bound\": ",
      JsonNumber(r.throughput_over_bound), ",\n         \"forced_writes\": ", r.forced_writes,
      ", \"restart_area_writes\": ", r.restart_area_writes, ", \"forced_writes_per_commit\": ",
      JsonNumber(r.forced_writes_per_commit), ", \"messages\": ", r.messages,
      ", \"messages_per_commit\": ", JsonNumber(r.messages_per_commit),
      ", \"messages_minimum_per_commit\": ", JsonNumber(r.messages_minimum_per_commit), "}");
}

std::string JsonBase(const LatencyBase& b) {
  std::vector<std::string> rows;
  for (const LatencyRow& r : b.rows) rows.push_back(JsonRow(r));
  return absl::StrCat("    {\"name\": ", JsonQuoted(b.name), ", \"file\": ", JsonQuoted(b.file),
                      ",\n     \"rm_fua_write_min_ns\": ", FuaWriteMinimumNs(b.disks.rm_disk),
                      ", \"tm_fua_write_min_ns\": ", FuaWriteMinimumNs(b.disks.tm_log_disk),
                      ", \"network_min_ns\": ", b.disks.network.latency.Minimum(), ",\n     \"rows\": [\n",
                      absl::StrJoin(rows, ",\n"), "\n     ]",
                      b.recovery.has_value() ? absl::StrCat(",\n     \"recovery\": ", RecoveryJson(*b.recovery, "     "))
                                             : "",
                      "}");
}

// --- SVG ---------------------------------------------------------------------

constexpr double kSvgWidth = 980, kSvgHeight = 560;
constexpr double kPlotLeft = 80, kPlotTop = 50, kPlotWidth = 560, kPlotHeight = 430;
constexpr const char* kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
                                   "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"};

// A step CDF through at most kCdfPointsMax samples of the sorted latencies:
// a horizontal segment to each new latency, then a vertical one up to the
// fraction of commits at or below it (runs of equal latencies make one).
std::string CdfPoints(const std::vector<int64_t>& sorted, double x_max_ns) {
  auto x = [x_max_ns](int64_t ns) { return kPlotLeft + kPlotWidth * static_cast<double>(ns) / x_max_ns; };
  auto y = [](double fraction) { return kPlotTop + kPlotHeight * (1.0 - fraction); };
  const size_t n = sorted.size();
  const size_t samples = std::min(n, kCdfPointsMax);
  std::vector<size_t> indexes;  // ceil(m n / samples) - 1 for m = 1..samples
  for (size_t m = 1; m <= samples; ++m) indexes.push_back((m * n + samples - 1) / samples - 1);
  std::vector<std::string> points = {absl::StrFormat("%.2f,%.2f", x(sorted[indexes[0]]), y(0))};
  double fraction = 0;
  for (size_t k = 0; k < indexes.size(); ++k) {
    const int64_t latency = sorted[indexes[k]];
    if (k > 0 && latency != sorted[indexes[k - 1]]) {
      points.push_back(absl::StrFormat("%.2f,%.2f", x(latency), y(fraction)));
    }
    fraction = static_cast<double>(indexes[k] + 1) / static_cast<double>(n);
    if (k + 1 == indexes.size() || sorted[indexes[k + 1]] != latency) {
      points.push_back(absl::StrFormat("%.2f,%.2f", x(latency), y(fraction)));
    }
  }
  return absl::StrJoin(points, " ");
}

// The tick step: 1, 2 or 5 times a power of ten, at most eight steps to x_max.
double TickStep(double x_max_ms) {
  const double power = std::pow(10.0, std::floor(std::log10(x_max_ms)) - 1);  // x_max_ms / power in [10, 100)
  for (double m : {1.0, 2.0, 5.0, 10.0, 20.0}) {
    if (x_max_ms / (m * power) <= 8) return m * power;
  }
  return 50 * power;
}

std::string SvgAxes(double x_max_ns) {
  std::string out = absl::StrFormat(
      "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" stroke=\"#444\"/>\n", kPlotLeft,
      kPlotTop, kPlotWidth, kPlotHeight);
  const double x_max_ms = x_max_ns / 1e6;
  const double step = TickStep(x_max_ms);
  for (int i = 0; i * step <= x_max_ms; ++i) {
    const double t = i * step;
    const double px = kPlotLeft + kPlotWidth * t / x_max_ms;
    absl::StrAppendFormat(&out,
                          "<line x1=\"%.2f\" y1=\"%.0f\" x2=\"%.2f\" y2=\"%.0f\" stroke=\"#ddd\"/>\n"
                          "<text x=\"%.2f\" y=\"%.0f\" font-size=\"11\" text-anchor=\"middle\">%g</text>\n",
                          px, kPlotTop, px, kPlotTop + kPlotHeight, px, kPlotTop + kPlotHeight + 16, t);
  }
  for (int i = 0; i <= 10; ++i) {
    const double py = kPlotTop + kPlotHeight * (1.0 - i / 10.0);
    absl::StrAppendFormat(&out,
                          "<line x1=\"%.0f\" y1=\"%.2f\" x2=\"%.0f\" y2=\"%.2f\" stroke=\"#ddd\"/>\n"
                          "<text x=\"%.0f\" y=\"%.2f\" font-size=\"11\" text-anchor=\"end\">%.1f</text>\n",
                          kPlotLeft, py, kPlotLeft + kPlotWidth, py, kPlotLeft - 6, py + 4, i / 10.0);
  }
  absl::StrAppendFormat(&out,
                        "<text x=\"%.0f\" y=\"%.0f\" font-size=\"13\" text-anchor=\"middle\">commit latency "
                        "(simulated ms)</text>\n"
                        "<text x=\"20\" y=\"%.0f\" font-size=\"13\" text-anchor=\"middle\" "
                        "transform=\"rotate(-90 20 %.0f)\">fraction of commits</text>\n",
                        kPlotLeft + kPlotWidth / 2, kPlotTop + kPlotHeight + 40, kPlotTop + kPlotHeight / 2,
                        kPlotTop + kPlotHeight / 2);
  return out;
}

struct Curve {
  const LatencyRow* row;
  std::string label;
  const char* color;
  bool dashed;
};

std::vector<Curve> CurvesOf(const LatencyReport& report) {
  std::vector<Curve> curves;
  size_t color = 0;
  for (const LatencyBase& base : report.bases) {
    if (base.rows.empty()) continue;
    uint32_t low = UINT32_MAX, high = 0;
    for (const LatencyRow& r : base.rows) {
      low = std::min(low, r.concurrency);
      high = std::max(high, r.concurrency);
    }
    std::map<std::string, const char*> case_color;
    for (const LatencyRow& r : base.rows) {
      if ((r.concurrency != low && r.concurrency != high) || r.latencies_ns.empty()) continue;
      if (!case_color.count(r.kase.id)) case_color[r.kase.id] = kColors[color++ % std::size(kColors)];
      std::string label = absl::StrCat(r.kase.label, ", c=", r.concurrency);
      if (report.bases.size() > 1) label = absl::StrCat(base.name, ": ", label);
      curves.push_back({&r, label, case_color[r.kase.id], r.concurrency == high && high != low});
    }
  }
  return curves;
}

}  // namespace

std::string LatencyTableText(const LatencyReport& report) {
  std::string out = absl::StrFormat(
      "commit latency in simulated time: %d transactions per run, seed %d; p50/min = p50 / protocol minimum; "
      "bound = concurrency / least begin-to-outcome time (Little's law); forced/c, msgs/c: forced log writes and "
      "datagrams per commit, each with the protocol minimum\n",
      report.transactions, report.seed);
  for (const LatencyBase& base : report.bases) {
    absl::StrAppendFormat(&out,
                          "\nbase %s%s: FUA write minimum %s ms on the RM disks, %s ms on the TM (and Dtc) log "
                          "disks; network minimum %s ms\n",
                          base.name, base.file.empty() ? "" : absl::StrCat(" (", base.file, ")"),
                          Ms(FuaWriteMinimumNs(base.disks.rm_disk)), Ms(FuaWriteMinimumNs(base.disks.tm_log_disk)),
                          Ms(base.disks.network.latency.Minimum()));
    out += TableHeader();
    for (const LatencyRow& row : base.rows) out += TableRow(row);
    for (const LatencyRow& row : base.rows) {
      if (!row.passed) absl::StrAppendFormat(&out, "FAILED checkers: %s at concurrency %d\n", row.kase.label, row.concurrency);
      if (row.committed_not_every_rm > 0) {
        absl::StrAppendFormat(&out, "note: %s at concurrency %d: %d committed transactions skipped an RM\n",
                              row.kase.label, row.concurrency, row.committed_not_every_rm);
      }
    }
    if (base.recovery.has_value()) absl::StrAppend(&out, "\n", RecoveryTableText(*base.recovery));
  }
  return out;
}

std::string LatencyJson(const LatencyReport& report) {
  std::vector<std::string> bases;
  for (const LatencyBase& b : report.bases) bases.push_back(JsonBase(b));
  return absl::StrCat("{\n  \"schema\": \"ktmsim-bench\",\n  \"version\": 2,\n  \"transactions\": ",
                      report.transactions, ",\n  \"seed\": ", report.seed, ",\n  \"passed\": ",
                      report.passed() ? "true" : "false", ",\n  \"bases\": [\n", absl::StrJoin(bases, ",\n"),
                      "\n  ]\n}\n");
}

std::string LatencyCdfSvg(const LatencyReport& report) {
  const std::vector<Curve> curves = CurvesOf(report);
  int64_t max_ns = 0;
  for (const Curve& c : curves) max_ns = std::max(max_ns, c.row->latencies_ns.back());
  const double x_max_ns = max_ns > 0 ? static_cast<double>(max_ns) * 1.05 : 1e6;
  std::string out = absl::StrFormat(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
      "font-family=\"sans-serif\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
      "<text x=\"%.0f\" y=\"28\" font-size=\"15\">Commit latency CDF (simulated time, %d transactions per "
      "run; solid: lowest concurrency, dashed: highest)</text>\n",
      kSvgWidth, kSvgHeight, kSvgWidth, kSvgHeight, kPlotLeft, report.transactions);
  out += SvgAxes(x_max_ns);
  for (size_t i = 0; i < curves.size(); ++i) {
    const Curve& c = curves[i];
    absl::StrAppendFormat(&out,
                          "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.8\"%s points=\"%s\">"
                          "<title>%s</title></polyline>\n",
                          c.color, c.dashed ? " stroke-dasharray=\"6 4\"" : "",
                          CdfPoints(c.row->latencies_ns, x_max_ns), harness::MarkupEscape(c.label));
    const double ly = kPlotTop + 10 + 20.0 * static_cast<double>(i);
    absl::StrAppendFormat(&out,
                          "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"%s\" stroke-width=\"2\"%s/>\n"
                          "<text x=\"%.0f\" y=\"%.0f\" font-size=\"12\">%s</text>\n",
                          kPlotLeft + kPlotWidth + 20, ly, kPlotLeft + kPlotWidth + 50, ly, c.color,
                          c.dashed ? " stroke-dasharray=\"6 4\"" : "", kPlotLeft + kPlotWidth + 56, ly + 4,
                          harness::MarkupEscape(c.label));
  }
  out += "</svg>\n";
  return out;
}

}  // namespace harness
