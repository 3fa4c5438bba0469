// Cluster: one run's simulated world with its hosts, KTM engines, resource
// managers, client workload, fault injection and history recorder.
//
// Lifetime of a host's software: Boot() builds a Kernel, creates/opens the
// TM on the host's "tmlog" disk, recovers it, starts the host's Dtc when the
// scenario has distributed transactions (it recovers from its "dtc" disk),
// then starts every RM of the host (each recovers from its own disk). A
// crash destroys all of it (the Kernel, Dtc and RMs are the volatile state of
// the host) and the host's client processes, whose concurrency slots go back
// to the workload; a restart boots again.
//
// Distributed transactions (workload.distributed_fraction): the client runs
// on its root host and reaches RMs of other hosts through the root's Dtc;
// the participant's Dtc traces "dist.branch" (tx = root UOW, uow = its local
// transaction) before any operation runs, so the recorder files the remote
// RM's events under the root transaction's name.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "harness/history_recorder.h"
#include "harness/rm_adapter.h"
#include "harness/runner.h"
#include "harness/scenario.h"
#include "ktm/dist/dtc.h"
#include "ktm/kernel.h"
#include "model/history.h"
#include "sim/fault_plan.h"
#include "sim/rng.h"
#include "sim/world.h"

namespace harness {

class Cluster {
 public:
  Cluster(const Scenario& scenario, uint64_t seed, const RunOptions& options);
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  // Simulate(), then CheckHistory() unless the run was stopped (RequestStop).
  RunResult Run();
  // The run without the model's check: the workload, faults and settling,
  // the final values, the result's trace figures and the history (moved
  // into the result); violations empty, passed false. The runner checks the
  // history after destroying this Cluster, so the simulated disks, engines
  // and RMs are freed before the checkers build their indexes: the two
  // peaks do not add up (docs/rm-storage.md "Memory of a run").
  RunResult Simulate();

  // For tests: the world and the runtime of a host.
  sim::World& world() { return *world_; }
  // For tests: runs after the recorder for every trace event, as text (e.g.
  // to crash a host right after a chosen event, through the scheduler).
  // Replaces a view hook.
  void set_trace_hook(std::function<void(const sim::TraceEvent&)> hook) {
    trace_hook_ = std::move(hook);
    trace_view_hook_ = nullptr;
    trace_view_hook_wants_ = nullptr;
    InstallTraceObserver();  // the trace remembers its filters' answers
  }
  // The same as a view (no text made), for the events of the kinds `wants`
  // accepts (empty: every kind): the explorer's hook. Replaces a text hook.
  void set_trace_view_hook(std::function<void(const sim::TraceView&)> hook,
                           sim::Trace::KindFilter wants = {}) {
    trace_hook_ = nullptr;
    trace_view_hook_ = std::move(hook);
    trace_view_hook_wants_ = std::move(wants);
    InstallTraceObserver();
  }
  // The Dtc of a host (nullptr while the host is down or has none).
  ktm::dist::Dtc* dtc(size_t host_index) const { return hosts_.at(host_index).dtc.get(); }
  // For the explorer (harness/explore.h): a 64-bit hash of the world's state
  // at this instant: every host (up, ready, clients), every RM (online,
  // committed values, in-doubt count), every disk and the network
  // (sim::Disk::Fingerprint, sim::Network::Fingerprint) and the workload's
  // counters and per-(transaction, RM) resolution. Not the time, the trace
  // or incarnations. Deterministic: only ordered containers are iterated.
  uint64_t Fingerprint() const;
  // For the explorer: ends Run() after the current event, without settling
  // or checking (the result has no violations and passed = false); used when
  // the rest of the run is known to repeat one already explored.
  void RequestStop() { stop_requested_ = true; }
  bool stop_requested() const { return stop_requested_; }
  // For a run a broken invariant ended (runner.h AssertionResult): the
  // transactions started and the faults injected so far (a replayable
  // schedule, "" without an injector), so the shrinker can cut them too.
  uint64_t transactions_started() const { return started_; }
  std::string InjectedScheduleText() const;
  // The history recorded so far (moved out: call once, after the run ended).
  model::History TakeHistorySoFar() { return recorder_.TakeHistory(world_->scheduler().Now()); }

 private:
  struct HostRuntime {
    sim::Host* host = nullptr;
    std::vector<size_t> rm_indexes;               // into scenario.rms
    std::unique_ptr<ktm::Kernel> kernel;
    ktm::HANDLE tm = ktm::INVALID_HANDLE_VALUE;
    // By scenario rm index (kv, txf or txr; nullptr or past the end: not
    // started here): every operation looks its RM up.
    std::vector<std::unique_ptr<RmAdapter>> rms;
    bool has_dtc = false;                         // distributed transactions: a Dtc on this host
    std::unique_ptr<ktm::dist::Dtc> dtc;
    bool ready = false;                           // TM online and every RM started
    uint32_t clients = 0;                         // client processes running here (die with the host)
  };
  struct ClientTx {
    // Streams "workload/tx/<n>" and "workload/tx/<n>/rm_ops" of the seed.
    ClientTx(uint64_t seed, uint64_t n);
    uint64_t number = 0;
    sim::Rng rng;                                 // this transaction's choices (RMs, keys, ops, outcome)
    // Its deletes, moves, volatile keys and non-transacted opens (derived
    // on first use: most transactions never draw from it).
    sim::Rng& RmOps();
    std::string name;                             // "t<N>"
    size_t host = 0;
    uint64_t incarnation = 0;
    ktm::HANDLE handle = ktm::INVALID_HANDLE_VALUE;
    absl::InlinedVector<size_t, 4> rms;           // scenario rm indexes (a few: inline)
    uint32_t ops_left = 0;
    uint32_t op_number = 0;
    uint32_t ops_done = 0;                        // operations started
    enum class End { kCommit, kRollback } end = End::kCommit;
    bool read_only = false;
    bool async_commit = false;
    int64_t commit_request_ns = 0;

   private:
    uint64_t seed_;
    std::optional<sim::Rng> rm_ops_rng_;
  };

  void Build();
  // The recorder (and trace hook) as the trace's observer.
  void InstallTraceObserver();
  void Boot(size_t host_index);
  void StartRms(size_t host_index, size_t next);
  void StartDtc(size_t host_index);
  ktm::NTSTATUS RunRemoteOp(size_t host_index, ktm::HANDLE transaction, const ktm::dist::RemoteOp& op,
                            std::string* value);
  void OnCrash(size_t host_index);
  void Record(model::EventKind kind, uint32_t host, std::string tx, std::string rm = "", std::string key = "",
              std::string value = "", std::string detail = "") {
    recorder_.Record(kind, host, std::move(tx), std::move(rm), std::move(key), std::move(value), std::move(detail));
  }

  // Workload.
  // The number of the next transaction to start: above the last one started,
  // at most workload.transactions, not in workload.skip; 0 when none is left.
  uint64_t NextNumber() const;
  void ScheduleArrival();
  // Starts the next transaction; false when no host is ready to run it.
  bool StartTransaction();
  // Picks the root host and RMs of a distributed transaction; false if no
  // two hosts can take part right now.
  bool PickDistributed(ClientTx& tx);
  void PickLocal(ClientTx& tx, const std::vector<size_t>& ready);
  void DoRemoteOperation(const std::shared_ptr<ClientTx>& tx, size_t rm_index, bool is_read, const std::string& key);
  void Step(std::shared_ptr<ClientTx> tx);
  void DoOperation(const std::shared_ptr<ClientTx>& tx);
  // The local part of DoOperation, once the key's record is resident (RmAdapter::Prefetch).
  void DoLocalOperation(const std::shared_ptr<ClientTx>& tx, size_t rm_index, bool is_read, const std::string& key);
  // Operation `op` (from 1) of transaction `number` is in workload.skip_ops.
  bool SkipsOperation(uint64_t number, uint64_t op) const;
  void SkipOperation(const std::shared_ptr<ClientTx>& tx, size_t r, bool is_read);
  // A write-side operation on a local RM: a write, or (txf/txr, per the
  // RM's delete_fraction / move_fraction) a delete or a move-then-write.
  ktm::NTSTATUS LocalWrite(ClientTx& tx, size_t rm_index, RmAdapter& rm, const std::string& key);
  // A non-transacted writer open of key's file (txf), held for the RM's
  // nontransacted_hold_ns; recorded as kOpen events (granted, refused, closed).
  void HoldWriterOpen(ClientTx& tx, size_t rm_index, RmAdapter& rm, const std::string& key);
  // A read whose RM traced nothing because the file or key is absent in the
  // transaction's view (RmAdapter::Read): the recorder files a read of "".
  void RecordAbsentRead(size_t host_index, ktm::HANDLE transaction, size_t rm_index, const std::string& key);
  void EndTransaction(const std::shared_ptr<ClientTx>& tx);
  void PollOutcome(const std::shared_ptr<ClientTx>& tx);
  void Finished(const std::shared_ptr<ClientTx>& tx, const char* outcome);
  bool ClientAlive(const ClientTx& tx) const;
  RmAdapter* RmOf(size_t rm_index);

  void RecordFinalValues();
  // What a crash does to the transactions of the crashed host's RMs: an
  // enlistment that had not prepared loses its (volatile) work: an abort at
  // that RM; a single-phase commit cut mid-force is decided by the RM's log.
  void ResolveCrashedEnlistments(size_t host_index);
  void ResolveCutSinglePhaseCommits(size_t rm_index);
  std::optional<uint32_t> ScenarioRmHost(const std::string& rm) const;
  // Beyond the recoverable budget: the host's Dtc refused to start.
  void ResolveRefusedDtc(size_t i);
  // Beyond the recoverable budget: the host's TM refused to start.
  void ResolveRefusedTm(size_t host_index);

  std::map<std::string, size_t> rm_index_;

  const Scenario& scenario_;
  uint64_t seed_;
  RunOptions options_;
  std::unique_ptr<sim::World> world_;
  std::unique_ptr<sim::FaultInjector> injector_;
  std::vector<HostRuntime> hosts_;
  std::map<std::string, size_t> host_index_;
  // RM index -> the index in hosts_ of its host (host_index_ of its spec's
  // host, looked up once in Build: the workload asks on every operation).
  std::vector<size_t> rm_host_;
  // StartTransaction's ready hosts and PickLocal's candidate RMs (reused:
  // no allocation per transaction).
  std::vector<size_t> ready_scratch_, candidates_scratch_;
  HistoryRecorder recorder_;
  uint64_t started_ = 0;                          // transactions started
  uint64_t last_number_ = 0;                      // the number of the last one started
  uint64_t active_ = 0;
  uint64_t outcomes_ = 0, committed_ = 0, aborted_ = 0;
  bool arrival_pending_ = false;
  bool faults_stopped_ = false;
  bool distributed_ = false;                      // hosts with durable TMs run a Dtc
  std::function<void(const sim::TraceEvent&)> trace_hook_;
  std::function<void(const sim::TraceView&)> trace_view_hook_;
  sim::Trace::KindFilter trace_view_hook_wants_;
  bool stop_requested_ = false;
  std::vector<int64_t> commit_latencies_;
};

// Judges result->history by the scenario's rules (model::CheckAll with
// options.check_scratch; "termination" left out beyond the recoverable budget,
// "conformance" left to the runner) and sets result->violations and passed.
void CheckHistory(const Scenario& scenario, const RunOptions& options, RunResult* result);

}  // namespace harness
