// HistoryRecorder: builds one run's model::History from what the engine
// reports, and keeps the names that join engine ids to history names.
//
// Sources:
// - The RMs and Dtcs report through the typed ktm::RmObserver seam (enlist,
//   read, write, notification, vote, outcome, branch): the recorder is that
//   observer for every RM of the run.
// - The cluster (the client workload and the host lifecycle) calls Record
//   for what only it knows: begin, commit/rollback requests, outcomes seen
//   by the client, crashes, restarts, refusals, final values.
// - A few kernel and world events are taken from the trace as structured
//   events (kinds in WantsTraceKind): a transaction timeout, log forces
//   (targeted-crash triggers), partitions and heals.
//
// Names: a transaction is named by the client ("t<N>", Begin), its engine
// UOW joined to that name at CreateTransaction (NameTransaction); a
// participant's local transaction is filed under its root's name (OnBranch).
// An RM is named by its scenario name (RmOptions::name) everywhere.
//
// Resolution bookkeeping (per transaction x RM): whether the RM was asked to
// commit single-phase, voted yes, or reached an outcome; the cluster asks
// the recorder to resolve what a crash or a refused RM leaves open.
//
// Targeted crashes: each PREPARE notification, RM commit and log force is
// passed to the trigger callback (the FaultInjector decides).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "ktm/rm_observer.h"
#include "model/history.h"
#include "sim/fault_plan.h"
#include "sim/scheduler.h"
#include "sim/trace.h"

namespace harness {

// The names a run's reports need to join engine ids to history names.
struct RunNames {
  std::map<std::string, std::string> tx_by_uow;  // UOW short id -> "t<N>" (branches too)
  std::map<std::string, std::string> rm_by_id;   // RM id short -> scenario RM name
};

class HistoryRecorder : public ktm::RmObserver {
 public:
  using TriggerFn = std::function<void(sim::CrashTrigger trigger, uint32_t host)>;

  explicit HistoryRecorder(const sim::Scheduler* scheduler) : scheduler_(scheduler) {}

  void set_trigger(TriggerFn trigger) { trigger_ = std::move(trigger); }
  // Which writes are of volatile registry keys (the workload created them
  // REG_OPTION_VOLATILE): their kWrite events get detail "volatile", so the
  // checkers expect them gone after a crash of the RM's host.
  using VolatileKeyFn = std::function<bool(std::string_view rm, std::string_view key)>;
  void set_volatile_keys(VolatileKeyFn is_volatile) { is_volatile_ = std::move(is_volatile); }

  // One history event now.
  void Record(model::EventKind kind, uint32_t host, std::string tx, std::string rm = "", std::string key = "",
              std::string value = "", std::string detail = "");
  // The client's transaction `tx` has engine id `uow`.
  void NameTransaction(const std::string& tx, const ktm::Guid& uow);
  void NameRm(const std::string& rm, const ktm::Guid& rm_id);
  // The history name of an engine transaction ("uow-<short>" when unknown).
  std::string TxName(const ktm::Guid& uow) const;
  std::string UowOf(const std::string& tx) const;

  // ---- ktm::RmObserver ----
  void OnEnlist(uint32_t host, std::string_view rm, const ktm::Guid& uow) override;
  void OnRead(uint32_t host, std::string_view rm, const ktm::Guid& uow, std::string_view key,
              std::string_view value) override;
  void OnWrite(uint32_t host, std::string_view rm, const ktm::Guid& uow, std::string_view key,
               std::string_view value) override;
  void OnNotify(uint32_t host, std::string_view rm, const ktm::Guid& uow, uint32_t notification) override;
  void OnVote(uint32_t host, std::string_view rm, const ktm::Guid& uow, ktm::RmVote vote,
              std::string_view why) override;
  void OnCommitted(uint32_t host, std::string_view rm, const ktm::Guid& uow) override;
  void OnAborted(uint32_t host, std::string_view rm, const ktm::Guid& uow, std::string_view why) override;
  void OnBranch(uint32_t host, const ktm::Guid& root_uow, const ktm::Guid& local_uow) override;
  void OnRequestOutcome(uint32_t host, std::string_view rm, const ktm::Guid& uow) override;

  // ---- Structured trace events (kernel and world) ----
  static bool WantsTraceKind(std::string_view kind);
  void OnTraceEvent(const sim::TraceEvent& event);

  // ---- Resolution of open (transaction, RM) pairs ----
  // A crash of a host with these RMs: work not prepared is lost (an abort
  // at that RM), a volatile RM loses everything, a single-phase commit cut
  // mid-force waits for the RM's log (ResolveCutSinglePhaseCommits).
  void ResolveCrashedRms(uint32_t host, const std::set<std::string>& rms, const std::set<std::string>& volatile_rms);
  // Every open pair at a refusing RM (or every RM of a refusing TM) is unavailable.
  void ResolveRefusedRm(const std::string& rm, uint32_t host, std::string_view why);
  // A refusal elsewhere strands open pairs: every open pair for which
  // stranded_at(tx, begin host, rm, prepared) names a host is unavailable,
  // recorded there (kRmLost `why`). A refusing Dtc strands the branches that
  // cross its host; a refusing root TM its prepared participants elsewhere,
  // which wait in doubt for an answer that never comes (2PC blocks).
  using StrandedAt = std::function<std::optional<uint32_t>(const std::string& tx, uint32_t begin_host,
                                                           const std::string& rm, bool prepared)>;
  void ResolveRefusedPairs(std::string_view why, const StrandedAt& stranded_at);
  // Beyond the budget, at the end of the run: every pair an RM was told is in
  // doubt (TRANSACTION_NOTIFY_INDOUBT) and that never resolved since, when
  // the run had a refusal: it stranded them (a Dtc, a superior's TM). Records kRmLost "in
  // doubt at end" for each and returns the places (rm, key) they wrote: the
  // in-doubt transaction holds them, so they have no observable final value.
  std::set<std::pair<std::string, std::string>> ResolveStrandedInDoubt();
  // After the RM restarted: replayed(uow short) says whether its log held the commit record.
  void ResolveCutSinglePhaseCommits(const std::string& rm, uint32_t host,
                                    const std::function<bool(const std::string&)>& replayed);

  // For the explorer's fingerprint: a hash of the resolution bookkeeping.
  uint64_t Fingerprint() const;

  model::History TakeHistory(sim::TimeNs end_ns);
  // Unresolved (transaction, RM) pairs: what crash handling walks (bounded by
  // what is in flight, not by the run's length).
  size_t open_pairs() const { return open_.size(); }
  // The run's names (tx_by_uow built from the recorder's hashed index on
  // each call: call it once, at the end of the run).
  const RunNames& names() const;

 private:
  struct PairState {
    bool spc_notified = false;
    bool prepared = false;   // voted yes: recovery decides
    bool resolved = false;
    bool in_doubt = false;   // told TRANSACTION_NOTIFY_INDOUBT, not resolved since
    uint32_t in_doubt_host = 0;
  };
  using PairKey = std::pair<std::string, std::string>;  // (tx, rm)
  using PairEntry = std::pair<const PairKey, PairState>;
  struct ByKey {
    bool operator()(const PairEntry* a, const PairEntry* b) const { return a->first < b->first; }
  };
  // The pair's state, created (open) on first use.
  PairEntry& PairAt(const std::string& tx, std::string_view rm);
  PairState& Pair(const std::string& tx, std::string_view rm) { return PairAt(tx, rm).second; }
  // Marks `entry` resolved and drops it from open_.
  void Resolve(PairEntry& entry);
  // The history name of engine transaction `short_uow` is `tx`.
  void SetTxName(std::string_view short_uow, std::string tx);
  void Trigger(sim::CrashTrigger trigger, uint32_t host) {
    if (trigger_) trigger_(trigger, host);
  }

  const sim::Scheduler* scheduler_;
  TriggerFn trigger_;
  VolatileKeyFn is_volatile_;
  model::History history_;
  mutable RunNames names_;  // rm_by_id; tx_by_uow filled by names()
  // UOW short id -> "t<N>": hashed, so naming and looking up a transaction
  // costs the same however long the run (names() orders it for the reports).
  absl::flat_hash_map<std::string, std::string> tx_by_uow_;
  absl::flat_hash_map<std::string, std::string> uow_by_tx_;
  absl::flat_hash_map<std::string, uint32_t> begin_host_;  // tx -> the host its client began it on
  std::map<PairKey, PairState> pairs_;  // every pair seen (the fingerprint hashes them all)
  // The unresolved pairs of pairs_, in the same order: what crash and refusal
  // handling walk, so their cost follows what is live, not the run's length.
  std::set<PairEntry*, ByKey> open_;
  // pairs_ by key in O(1) (views of the map's own strings).
  absl::flat_hash_map<std::pair<std::string_view, std::string_view>, PairEntry*> pair_index_;
  std::map<std::string, std::vector<std::string>> cut_single_phase_;  // rm -> txs
};

}  // namespace harness
