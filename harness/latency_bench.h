// Latency bench: commit latency and throughput of the protocol cases, in
// simulated time, against the protocol's theoretical minimum.
//
// For each base scenario (only its disk and network latency models are used),
// each case (1 RM single-phase, 2 and 4 RMs two-phase commit, read-only,
// distributed over 3 hosts) and each concurrency (1, 4, 16, 64),
// BuildLatencyScenario makes a no-fault scenario: back-to-back arrivals, zero
// think time, every transaction writing to every RM of its case (the
// read-only case only reads), keys spread so that conflicts are rare. RunLatencyCase runs it and
// reduces the history and the trace to percentiles of commit latency (commit
// request -> outcome, committed transactions only), throughput (committed /
// simulated span from the first begin to the last outcome), forced log writes
// and network messages per commit, and compares them with the protocol's
// minimum (ProtocolMinimumFor).
//
// Contract: everything here is a pure function of (base scenario, options):
// simulated time only, never a wall clock, so the report is byte-for-byte
// reproducible and the numbers can be tested exactly. The renderers
// (text table, JSON, SVG CDF plot) add nothing that is not in the report.
// Not modelled: disk bandwidth (a disk's latency does not depend on the
// request size), so the throughput bound is Little's law alone:
// concurrency / the least time a transaction can take from begin to outcome
// (the commit minimum, plus for distributed transactions the message round
// trips and branch forces of their remote operations).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "harness/recovery_bench.h"
#include "harness/scenario.h"
#include "sim/time.h"

namespace harness {

// What the commit protocol of a case is.
enum class LatencyCaseKind : uint8_t {
  kSinglePhase,  // one durable RM that asks for SINGLE_PHASE_COMMIT
  kTwoPhase,     // n durable RMs that never ask for single-phase commit
  kReadOnly,     // n durable RMs, the transactions only read: read-only votes
  kDistributed,  // one durable RM on each of n hosts; the client's host is the root,
                 // the others are subordinate branches through their Dtcs (ktm/dist)
};

struct LatencyCase {
  std::string id;     // stable identifier for JSON and file names: "spc_1rm", "2pc_2rm", ...
  std::string label;  // for people: "1 RM single-phase", "2 RMs 2PC", ...
  LatencyCaseKind kind = LatencyCaseKind::kTwoPhase;
  uint32_t rms = 1;   // RMs every transaction writes to (reads from, for kReadOnly)
  uint32_t hosts = 1;  // kDistributed: one RM per host; else every RM on one host
  std::vector<std::string> rm_kinds;  // kind of RM i (empty or shorter: kv); TxF/TxR through their APIs
};

// The cases, in table order: 1 RM single-phase, 2 RMs 2PC, 4 RMs 2PC,
// TxF + TxR 2PC (a transacted file and a registry value per transaction),
// read-only (2 RMs), distributed over 3 hosts.
const std::vector<LatencyCase>& DefaultLatencyCases();

struct LatencyBenchOptions {
  uint32_t transactions = 1000;  // started per (case, concurrency) run
  uint64_t seed = 1;             // the workload's choices (keys, RM per operation)
  std::vector<LatencyCase> cases = DefaultLatencyCases();
  std::vector<uint32_t> concurrencies = {1, 4, 16, 64};
  uint32_t jobs = 1;             // runs in parallel (the report does not depend on it)
  // Set: each base also gets the recovery-time table (harness/recovery_bench.h)
  // on its RM and TM disks' latency models; its jobs are `jobs`.
  std::optional<RecoveryBenchOptions> recovery;
};

// The disks a commit's forced writes go to, from the base scenario: the
// first durable RM's disk, and the log disk of that RM's host (else the first
// host's). A FUA write costs write_latency + fua_extra_latency.
struct BenchDisks {
  sim::DiskOptions rm_disk;
  sim::DiskOptions tm_log_disk;
  sim::NetworkOptions network;  // every fault rate set to 0
};
BenchDisks BenchDisksOf(const Scenario& base);

// The least a FUA write of `disk` can take: write_latency.Minimum() +
// fua_extra_latency.Minimum().
sim::TimeNs FuaWriteMinimumNs(const sim::DiskOptions& disk);

// The protocol's minimum for one commit at concurrency 1 (presumed abort,
// docs/ktm-logging.md): forced writes on the critical path times the FUA
// write minimum of their disks, plus message round trips times twice the
// network minimum:
// - single-phase: the RM's commit record;
// - 2PC: every RM's prepare record (in parallel), then the TM's commit record;
// - read-only: nothing;
// - distributed: a PREPREPARE and a PREPARE round trip to the participants
//   (in parallel); on each participant its RM's prepare record, then its
//   KTM's prepared record (forced before PREPARE_COMPLETE); then the root
//   TM's commit record (the root's own RM prepares in parallel).
struct ProtocolMinimum {
  uint32_t critical_path_forces = 0;
  uint32_t message_round_trips = 0;
  sim::TimeNs latency_ns = 0;
  // Forced log writes (blocks) per commit over every log, without group
  // commit: 1 (single-phase), 1 + 2n (2PC: TM commit; prepare and commit per
  // RM), 0 (read-only), 3 + 5 (n - 1) (distributed: root TM commit, root RM
  // prepare and commit; per participant the Dtc's branch and outcome
  // records, RM prepare and commit, the KTM prepared record).
  uint32_t forced_writes_per_commit = 0;
  // Commit-protocol datagrams per commit: PREPREPARE, PREPARE, COMMIT and
  // their answers, per participant (the operations' own messages come on
  // top: see LatencyRow::messages_minimum_per_commit).
  uint32_t messages_per_commit = 0;
};
ProtocolMinimum ProtocolMinimumFor(const BenchDisks& disks, const LatencyCase& kase);

// Operations per RM a transaction of an n-RM case makes: the smallest count
// for which the chance that one of the n RMs gets none of the n * count
// operations (each goes to a uniformly chosen RM) is at most 1e-4 (1 RM: 2).
uint32_t OpsPerRm(uint32_t rms);

// The no-fault scenario of one (case, concurrency) run: hosts node1..nodeH
// whose log disks are copies of disks.tm_log_disk (a Dtc's log disk is a copy
// of its host's) and RMs kv1..kvN on copies of disks.rm_disk (sector counts
// raised so that no log reaches the quarter-full snapshot/checkpoint
// threshold within `transactions`), back-to-back arrivals, zero think time,
// synchronous commits, no rollbacks; kDistributed: RM i on host i, every
// transaction distributed. Passes Validate() (else kInvalidArgument with its
// problems).
absl::StatusOr<Scenario> BuildLatencyScenario(const std::string& base_name, const BenchDisks& disks,
                                              const LatencyCase& kase, uint32_t concurrency,
                                              uint32_t transactions);

// One run's figures. Latencies are simulated nanoseconds.
struct LatencyRow {
  LatencyCase kase;
  uint32_t concurrency = 0;
  bool passed = false;               // every checker passed
  uint64_t digest = 0;               // the run's trace digest
  uint64_t transactions = 0, committed = 0, aborted = 0;
  uint64_t committed_not_every_rm = 0;  // committed transactions that skipped an RM of the case
  std::vector<int64_t> latencies_ns;    // commit latencies of committed transactions, sorted
  int64_t min_ns = 0, p50_ns = 0, p90_ns = 0, p99_ns = 0, p999_ns = 0, max_ns = 0;
  double mean_ns = 0;
  int64_t span_ns = 0;                    // first begin -> last outcome
  std::optional<double> throughput_per_s;  // committed / span; none when span is 0
  ProtocolMinimum minimum;
  double p50_over_minimum = 0;             // 1 when both are 0; inf when only minimum is 0
  // The least time from begin to outcome, averaged over the committed
  // transactions: minimum.latency_ns, plus for distributed ones a round trip
  // and a Dtc branch force per participant and a round trip per remote
  // operation (local operations take no simulated time).
  double transaction_minimum_ns = 0;
  std::optional<double> bound_per_s;       // Little: concurrency / transaction_minimum_ns
  std::optional<double> throughput_over_bound;
  // Forced writes: FUA writes of log blocks (the restart areas, written by
  // checkpoints and snapshots, are counted apart) from the first begin on.
  uint64_t forced_writes = 0, restart_area_writes = 0, messages = 0;
  double forced_writes_per_commit = 0, messages_per_commit = 0;  // messages: every datagram sent
  // Datagrams a committed transaction needs at least, averaged: per
  // participant PROPAGATE and its answer plus the commit protocol's six, and
  // an OP and its answer per remote operation. 0 for one-host cases.
  double messages_minimum_per_commit = 0;
};

// Builds and runs one (case, concurrency) scenario and reduces it.
absl::StatusOr<LatencyRow> RunLatencyCase(const std::string& base_name, const BenchDisks& disks,
                                          const LatencyCase& kase, uint32_t concurrency,
                                          const LatencyBenchOptions& options);

struct LatencyBase {
  std::string name;    // the base scenario's name
  std::string file;    // where it was loaded from ("" for C++)
  BenchDisks disks;
  std::vector<LatencyRow> rows;  // case-major, then concurrency, in options order
  std::optional<RecoveryReport> recovery;  // when LatencyBenchOptions::recovery was set
};

struct LatencyReport {
  uint32_t transactions = 0;
  uint64_t seed = 0;
  std::vector<LatencyBase> bases;
  bool passed() const;  // every run passed its checkers, every recovery row passed
};

// Every (base, case, concurrency) run, then each base's recovery table when
// options.recovery is set. Errors: an invalid option (no cases, concurrency
// 0, transactions 0, ValidateRecoveryOptions'), found before anything runs,
// or a scenario that does not validate.
absl::StatusOr<LatencyReport> RunLatencyBench(const std::vector<Scenario>& bases,
                                              const LatencyBenchOptions& options);

// Nearest-rank percentile (0 < p <= 100) of sorted values; 0 when empty.
int64_t Percentile(const std::vector<int64_t>& sorted, double p);

// Renderers. The text table: one block per base with a header line (its
// disks' FUA minimum), then a row per (case, concurrency), then its recovery
// table when it has one. JSON: schema "ktmsim-bench" version 2 (version 1
// plus a base's "recovery" member, RecoveryJson, when it has one; no
// wall-clock figures, so equal runs give equal bytes). SVG: the latency CDF, one curve per (base, case) at the lowest and
// the highest concurrency of the report.
std::string LatencyTableText(const LatencyReport& report);
std::string LatencyJson(const LatencyReport& report);
std::string LatencyCdfSvg(const LatencyReport& report);

}  // namespace harness
