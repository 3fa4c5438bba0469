// Scenario: everything a run needs besides the seed. Built from a TOML file
// (harness/scenario_toml.h) or in C++ (tests). Every field has a default; the
// ranges documented in scenarios/README.md are enforced by the TOML loader
// and by Validate().
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "sim/disk.h"
#include "sim/fault_plan.h"
#include "sim/latency.h"
#include "sim/network.h"
#include "sim/time.h"

namespace harness {

struct HostSpec {
  std::string name;                 // unique
  bool tm_volatile = false;         // a volatile TM: no log, only volatile RMs
  sim::DiskOptions log_disk;        // the TM's log disk
};

struct RmSpec {
  std::string name;                 // unique in the scenario
  std::string host;                 // a HostSpec name
  std::string kind = "kv";          // a kind of the RM-kind catalog (harness/rm_kinds.h)
  bool durable = true;
  bool single_phase = true;         // asks for SINGLE_PHASE_COMMIT
  double vote_no_probability = 0;   // at PREPARE, vote no (RollbackEnlistment)
  double disconnect_probability = 0;  // per tx: close the enlistment before commit (RM disconnect)
  double reject_single_phase_probability = 0;  // answer SPC with SinglePhaseReject
  sim::TimeNs response_delay_ns = 0;  // extra think time before answering a notification
  // Shares of the workload's local write operations on this RM that delete
  // the key instead (txf, txr) or move another key's file onto it and then
  // write it (txf); see harness/rm_adapter.h. 0 for kv; sum <= 1.
  double delete_fraction = 0;
  double move_fraction = 0;
  // Issue 18's workload pieces, each 0 (off) unless the scenario asks:
  // - volatile_fraction (txr): share of this RM's operations (reads and
  //   writes, local or remote) on the volatile twin "v<N>" of key "k<N>": the
  //   registry key HKLM\Software\ktmsim\volatile\k<N>, created
  //   REG_OPTION_VOLATILE, so a host crash removes it; each such write also
  //   checks that a stable child of it is refused.
  // - nontransacted_open_fraction (txf): share of this RM's local operations
  //   that instead open the file of the key for writing outside any
  //   transaction (OPEN_EXISTING) and hold it nontransacted_hold_ns before
  //   closing it, so transacted opens meet it (share modes, both directions).
  double volatile_fraction = 0;
  double nontransacted_open_fraction = 0;
  sim::TimeNs nontransacted_hold_ns = 2 * sim::kMillisecond;
  // - request_outcome_after_ns (txf, txr): a transaction this RM prepared
  //   and has no outcome for this long after its yes vote gets
  //   TmRequestOutcomeEnlistment (ktm::RmOptions); the DTCs then answer
  //   TRANSACTION_NOTIFY_REQUEST_OUTCOME with an inquiry. 0: never.
  sim::TimeNs request_outcome_after_ns = 0;
  // A durable RM on a log (not paged) takes a snapshot of its committed
  // state once its log holds this many bytes past the last one, at most a
  // quarter of the log (ktm::RmOptions::snapshot_log_bytes). 0: the default,
  // max(64 KiB, 4 x the last snapshot's size).
  uint64_t snapshot_log_bytes = 0;
  sim::DiskOptions disk;            // the RM's own log disk
  // The kind's own options ([rms.options] key = value; strings, integers,
  // booleans and numbers, kept as their text): what a plugin RM kind reads
  // in its factory (RmKindContext::spec). The built-in kinds take none.
  std::map<std::string, std::string> options;
};

struct WorkloadSpec {
  uint32_t transactions = 50;       // how many transactions the client starts
  sim::TimeNs duration_ns = 0;      // 0: no limit; else stop starting new ones after this
  double arrival_per_second = 2000; // Poisson arrivals (0: back-to-back)
  uint32_t concurrency = 4;         // max transactions open at once
  uint32_t ops_min = 1, ops_max = 4;  // operations per transaction (per RM touched)
  uint32_t rms_per_tx_min = 1, rms_per_tx_max = 2;  // a tx touches at most rms.size() RMs
  uint32_t keys = 16;               // keys per RM
  // > 0: every value written is padded to this many bytes (its unique
  // "<tx>.<op>" name, then '.'s: WorkloadValue); 0: the name alone. Bounded
  // by the RM kinds' value limits (kValueBytesMax; TxR 2048).
  uint32_t value_bytes = 0;
  double read_fraction = 0.3;       // share of operations that are reads
  double commit_fraction = 0.8;     // the rest of the mix is rollback_fraction + read_only_fraction
  double rollback_fraction = 0.1;
  double read_only_fraction = 0.1;  // transactions that only read
  double async_commit_fraction = 0.2;  // use CommitTransactionAsync instead of CommitTransaction
  sim::TimeNs timeout_ns = 0;       // CreateTransaction timeout (0: none)
  sim::TimeNs think_ns = 100 * sim::kMicrosecond;  // client delay between operations
  // Share of transactions that touch RMs of two or more hosts: the client runs
  // on one host and reaches the others through the hosts' Dtcs
  // (ktm/dist, docs/distributed.md). Needs two hosts with durable TMs.
  double distributed_fraction = 0;
  // Transaction numbers (1..transactions) the client does not start; the
  // others keep their numbers and their choices (every transaction draws from
  // its own stream of (seed, number)). The shrinker deletes transactions so.
  std::vector<uint32_t> skip;
  // Single operations the client does not do: {transaction number, operation
  // number} (both from 1; operation n is the n-th the transaction starts).
  // A skipped operation still makes every draw it would have made (as if it
  // succeeded) and still waits its think time, so every other operation of
  // every transaction stays as it was. The shrinker deletes operations so.
  struct OpRef {
    uint32_t transaction = 0, op = 0;
    bool operator==(const OpRef&) const = default;
    auto operator<=>(const OpRef&) const = default;
  };
  std::vector<OpRef> skip_ops;
};

enum class FaultMode : uint8_t { kNone, kProbabilities, kSwarm, kSchedule };

struct FaultSpec {
  FaultMode mode = FaultMode::kNone;
  sim::FaultProbabilities probabilities;  // kProbabilities
  std::string schedule_text;        // kSchedule (FaultSchedule text form)
  sim::TimeNs faults_until_ns = 200 * sim::kMillisecond;
  // Targeted crashes: crash the RM/TM host right after the n-th event of a kind
  // ("prepare", "commit", "log_force"), with a probability per occurrence.
  // Only with kProbabilities or kSwarm (a schedule is applied exactly, alone).
  std::string crash_on;             // "" | "prepare" | "commit" | "log_force"
  double crash_on_probability = 0;
  std::string budget = "recoverable";  // "recoverable" | "beyond"
};

enum class Expect : uint8_t { kPass, kFail };

struct Scenario {
  std::string name;                 // defaults to the file's stem
  std::string file;                 // where it was loaded from ("" for C++)
  std::string description;
  std::vector<HostSpec> hosts;
  std::vector<RmSpec> rms;
  WorkloadSpec workload;
  sim::NetworkOptions network;
  FaultSpec faults;
  std::vector<std::string> checkers;  // empty: all
  Expect expect = Expect::kPass;
  std::string expect_rule;          // with kFail: the rule that must be violated ("" any)
  // Budget "beyond" only: the run must report at least this many refusals (a
  // TM, RM or Dtc that would not come online over a damaged log), so a
  // scenario that corrupts forced log data proves it was detected.
  uint32_t expect_refusals_min = 0;
  sim::TimeNs run_until_ns = 10 * sim::kSecond;      // hard stop of virtual time
  sim::TimeNs termination_bound_ns = 2 * sim::kSecond;  // after faults stop
  std::string schedule_strategy = "fifo";  // "fifo" | "random" | "pct"
  uint32_t schedule_pct_depth = 3;  // pct: the depth d (d-1 priority change points)
  // Pinned seeds (a regression scenario, `ktmsim promote`): `ktmsim run`
  // runs exactly these instead of --seeds. Empty: --seeds decides.
  std::vector<uint64_t> seeds;
};

// Limit: seeds one scenario may pin.
inline constexpr size_t kPinnedSeedsMax = 10'000;

// Cross-field checks (host names exist, fractions sum to <= 1, ...) and the
// range of every field. Returns kInvalidArgument listing every problem, one
// "path: message" per line (see FindProblems).
absl::Status Validate(const Scenario& scenario);

// One problem found by FindProblems. `path` names the field in C++ terms
// ("workload.ops_min", "rms[2].host", "faults.probabilities.message_loss",
// "faults.schedule_text"; "" for the scenario as a whole); `message` says
// what is wrong without repeating the path ("must be in [0, 1], got 1.5").
// The TOML loader maps `path` back to a line and column of the file.
struct ScenarioProblem {
  std::string path;
  std::string message;
};

// Every problem Validate reports, in field order (empty: valid).
std::vector<ScenarioProblem> FindProblems(const Scenario& scenario);

// The names of every checker the model provides.
std::vector<std::string> AllCheckerNames();

// A time for messages: the largest of s, ms, us, ns that divides it exactly
// ("5ms", "1500us", "0ns").
std::string FormatTime(sim::TimeNs ns);

// The candidate closest to `word` by edit distance when it is close enough
// to be a likely typo (at most 2 edits, and fewer than half the letters);
// "" otherwise. For "did you mean" hints.
std::string ClosestName(const std::string& word, const std::vector<std::string>& candidates);

// The value a workload write puts: `name` ("<tx>.<op>", unique per write,
// what the checkers match), padded with '.' to w.value_bytes when longer.
std::string WorkloadValue(const WorkloadSpec& w, std::string name);

}  // namespace harness
