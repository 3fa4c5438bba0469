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
//
// Cost: the recorder keeps names as model::Names of the history's own table
// (interned once: a transaction's name when it is named, an RM's at its
// first event) and keys its indexes by their integer ids and by the UOW's
// 64-bit short id, so recording an event hashes no name it has seen before
// and no index compares strings; open pairs are walked in (tx, rm) name
// order, and what grows with the run (names, pairs) is kept in flat tables.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
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

  explicit HistoryRecorder(const sim::Scheduler* scheduler)
      : scheduler_(scheduler), table_(std::make_shared<model::NameTable>()) {
    history_.names = table_;
  }

  void set_trigger(TriggerFn trigger) { trigger_ = std::move(trigger); }
  // Which writes are of volatile registry keys (the workload created them
  // REG_OPTION_VOLATILE): their kWrite events get detail "volatile", so the
  // checkers expect them gone after a crash of the RM's host.
  using VolatileKeyFn = std::function<bool(std::string_view rm, std::string_view key)>;
  void set_volatile_keys(VolatileKeyFn is_volatile) { is_volatile_ = std::move(is_volatile); }

  // One history event now.
  void Record(model::EventKind kind, uint32_t host, std::string_view tx, std::string_view rm = {},
              std::string_view key = {}, std::string_view value = {}, std::string_view detail = {});
  // Room for about `transactions` transactions of up to `operations` each
  // and `final_values` kFinalValue events (the history's events and names),
  // so a run does not copy its history as it grows: a copy holds the old
  // and the new array at once (reserved pages never written cost no memory).
  void Reserve(uint64_t transactions, uint64_t operations = 0, uint64_t final_values = 0);
  // Room for `events` more events than recorded so far (one copy at most,
  // now, instead of a doubling while they are recorded).
  void ReserveMore(size_t events) { history_.events.reserve(history_.events.size() + events); }
  // For tests: the events recorded so far and the room for them.
  size_t events_recorded() const { return history_.events.size(); }
  size_t events_capacity() const { return history_.events.capacity(); }
  // The client's transaction `tx` has engine id `uow`.
  void NameTransaction(const std::string& tx, const ktm::Guid& uow);
  void NameRm(const std::string& rm, const ktm::Guid& rm_id);
  // The history name of an engine transaction ("uow-<short>" when unknown).
  model::Name TxName(const ktm::Guid& uow);
  std::string UowOf(const std::string& tx) const;

  // ---- ktm::RmObserver ----
  void OnEnlist(uint32_t host, const ktm::ObservedRm& rm, const ktm::Guid& uow) override;
  void OnRead(uint32_t host, const ktm::ObservedRm& rm, const ktm::Guid& uow, std::string_view key,
              std::string_view value) override;
  void OnWrite(uint32_t host, const ktm::ObservedRm& rm, const ktm::Guid& uow, std::string_view key,
               std::string_view value) override;
  void OnNotify(uint32_t host, const ktm::ObservedRm& rm, const ktm::Guid& uow, uint32_t notification) override;
  void OnVote(uint32_t host, const ktm::ObservedRm& rm, const ktm::Guid& uow, ktm::RmVote vote,
              std::string_view why) override;
  void OnCommitted(uint32_t host, const ktm::ObservedRm& rm, const ktm::Guid& uow) override;
  void OnAborted(uint32_t host, const ktm::ObservedRm& rm, const ktm::Guid& uow, std::string_view why) override;
  void OnBranch(uint32_t host, const ktm::Guid& root_uow, const ktm::Guid& local_uow) override;
  void OnRequestOutcome(uint32_t host, const ktm::ObservedRm& rm, const ktm::Guid& uow) override;
  // An RM's key: its index + 1 in rm_keys_ (RmName by index, no text compared).
  uint32_t RmKey(std::string_view rm_name) override;

  // ---- Structured trace events (kernel and world) ----
  // The recorder is the trace's view observer (Cluster): it reads these
  // kinds' fields as recorded, so no text is made for events only it wants.
  static bool WantsTraceKind(std::string_view kind);
  void OnTraceView(const sim::TraceView& event);

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
  // rm_by_id only (tx_by_uow left empty): what a run without a trace needs,
  // since only trace readers (reports, shrink, conform) join engine ids to
  // transaction names, and building that map is most of names()' cost.
  RunNames RmNames() const { return RunNames{{}, names_.rm_by_id}; }

 private:
  static constexpr uint32_t kNoPair = 0xffffffffu;
  struct PairState {
    model::Name tx, rm;
    bool spc_notified = false;
    bool prepared = false;   // voted yes: recovery decides
    bool resolved = false;
    bool in_doubt = false;   // told TRANSACTION_NOTIFY_INDOUBT, not resolved since
    uint32_t in_doubt_host = 0;
    uint32_t next_of_tx = kNoPair;  // the tx's next pair (first_pair_of_tx_)
    uint32_t open_slot = kNoPair;   // its place in open_ while unresolved
  };
  // One history event whose names are already in history_'s table.
  void RecordNames(model::EventKind kind, uint32_t host, model::Name tx, model::Name rm = {},
                   model::Name key = {}, model::Name value = {}, model::Name detail = {}) {
    history_.AddInterned(scheduler_->Now(), host, kind, tx, rm, key, value, detail);
  }
  model::Name Intern(std::string_view text) { return table_->Intern(text); }
  // An RM's name, interned: found among the RM names seen so far by its
  // text (a handful a run), without hashing it (every RM event names its RM).
  model::Name RmName(std::string_view rm);
  // The same by the RM's key (RmKey): an index; by its text when the key is not ours.
  model::Name RmName(const ktm::ObservedRm& rm);
  // RmVoteName(vote), interned once per vote (as NotificationNameOf).
  model::Name VoteNameOf(ktm::RmVote vote);
  // ktm::NotificationName(notification), interned once per code (the first
  // call interns it where an Intern would have: the same ids).
  model::Name NotificationNameOf(uint32_t notification);
  // The pair's index in pairs_, created (open) on first use.
  uint32_t PairAt(model::Name tx, std::string_view rm);
  uint32_t PairAt(model::Name tx, const ktm::ObservedRm& rm);
  uint32_t PairOf(model::Name tx, model::Name rm);
  PairState& Pair(model::Name tx, const ktm::ObservedRm& rm) { return pairs_[PairAt(tx, rm)]; }
  // Marks pair `index` resolved and drops it from open_.
  void Resolve(uint32_t index);
  // The unresolved pairs in (tx, rm) name order (what crash and refusal
  // handling walk; a pair resolved meanwhile has open_slot kNoPair).
  std::vector<uint32_t> OpenByName() const;
  // Every pair seen, in (tx, rm) name order (the fingerprint, stranded pairs).
  std::vector<uint32_t> PairsByName() const;
  // The history name of engine transaction `short_uow` is `tx`.
  void SetTxName(uint64_t short_uow, model::Name tx) {
    tx_by_uow_.insert_or_assign(short_uow, tx);
    tx_names_[TxNameSlotOf(short_uow)] = TxNameSlot{short_uow, tx, true};
  }
  void Trigger(sim::CrashTrigger trigger, uint32_t host) {
    if (trigger_) trigger_(trigger, host);
  }

  const sim::Scheduler* scheduler_;
  TriggerFn trigger_;
  VolatileKeyFn is_volatile_;
  model::History history_;
  // history_'s name table, kept after TakeHistory (the recorder's Names point into it).
  std::shared_ptr<model::NameTable> table_;
  std::vector<std::pair<uint32_t, model::Name>> notification_names_;  // a handful of codes
  // RmName's cache, direct-mapped by where the caller's text lives (an RM
  // passes its own name string every time); a hit is confirmed by the text,
  // so a string reused at the same address for another name misses.
  struct RmNameSlot {
    const char* source = nullptr;
    model::Name name;
  };
  static constexpr size_t kRmNameSlots = 64;
  std::array<RmNameSlot, kRmNameSlots> rm_names_{};
  // The RM names RmKey gave keys to (key = index + 1), each interned at its
  // first report (RmName): a handful a run, found by the key alone.
  struct RmKeySlot {
    std::string text;
    model::Name name;
    bool interned = false;
  };
  std::vector<RmKeySlot> rm_keys_;
  std::vector<std::pair<ktm::RmVote, model::Name>> vote_names_;  // at most the four votes
  mutable RunNames names_;  // rm_by_id; tx_by_uow filled by names()
  // UOW short id (Guid::hi) -> "t<N>": hashed by the number, so naming and
  // looking up a transaction costs the same however long the run (names()
  // orders it for the reports).
  absl::flat_hash_map<uint64_t, model::Name> tx_by_uow_;
  // In front of tx_by_uow_: TxName's answers found there, direct-mapped by
  // the UOW (the events of the few transactions in flight interleave, so one
  // last answer missed most of the time); SetTxName keeps its slot current.
  struct TxNameSlot {
    uint64_t uow = 0;
    model::Name tx;
    bool valid = false;
  };
  static constexpr int kTxNameSlotBits = 6;
  static size_t TxNameSlotOf(uint64_t uow) {
    return static_cast<size_t>((uow * 0x9e3779b97f4a7c15ull) >> (64 - kTxNameSlotBits));
  }
  std::array<TxNameSlot, size_t{1} << kTxNameSlotBits> tx_names_{};
  absl::flat_hash_map<uint32_t, uint64_t> uow_by_tx_;    // tx name id -> UOW short id
  absl::flat_hash_map<uint32_t, uint32_t> begin_host_;   // tx name id -> the host its client began it on
  std::deque<PairState> pairs_;  // every pair seen (the fingerprint hashes them all)
  // Tx name id -> its latest pair in pairs_ (kNoPair: none), the tx's
  // pairs chained through PairState::next_of_tx: a tx's lookup reads a flat
  // vector near its end (names are interned in run order) and a few pairs,
  // where a hash of every pair ever seen cost a cache miss per lookup on a
  // long run.
  std::vector<uint32_t> first_pair_of_tx_;
  // The unresolved pairs (indexes in pairs_, in no order; OpenByName sorts
  // them): what crash and refusal handling walk, so their cost follows what
  // is live, not the run's length. A pair comes and goes in O(1), without
  // comparing names (a map by name compared strings on every pair made and
  // resolved; walks are rare and short).
  std::vector<uint32_t> open_;
  std::map<std::string, std::vector<std::string>> cut_single_phase_;  // rm -> txs
};

}  // namespace harness
