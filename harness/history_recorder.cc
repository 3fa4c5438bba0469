// HistoryRecorder implementation: see history_recorder.h.
#include "harness/history_recorder.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "ktm/api.h"
#include "sim/rng.h"

namespace harness {
namespace {

uint64_t Mix(uint64_t hash, uint64_t word) {
  // splitmix64 finaliser of (hash ^ word): order-sensitive, well spread.
  uint64_t z = (hash ^ word) + 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t MixString(uint64_t hash, const std::string& text) { return Mix(hash, sim::HashName(text)); }

}  // namespace

void HistoryRecorder::Record(model::EventKind kind, uint32_t host, std::string tx, std::string rm, std::string key,
                             std::string value, std::string detail) {
  if (kind == model::EventKind::kBegin) begin_host_[tx] = host;
  history_.Add(scheduler_->Now(), host, kind, tx, rm, key, value, detail);
}

HistoryRecorder::PairEntry& HistoryRecorder::PairAt(const std::string& tx, std::string_view rm) {
  auto found = pair_index_.find(std::make_pair(std::string_view(tx), rm));
  if (found != pair_index_.end()) return *found->second;
  auto it = pairs_.try_emplace({tx, std::string(rm)}).first;
  open_.insert(&*it);
  pair_index_.emplace(std::make_pair(std::string_view(it->first.first), std::string_view(it->first.second)), &*it);
  return *it;
}

void HistoryRecorder::SetTxName(std::string_view short_uow, std::string tx) {
  tx_by_uow_.insert_or_assign(std::string(short_uow), std::move(tx));
}

const RunNames& HistoryRecorder::names() const {
  names_.tx_by_uow = std::map<std::string, std::string>(tx_by_uow_.begin(), tx_by_uow_.end());
  return names_;
}

void HistoryRecorder::Resolve(PairEntry& entry) {
  entry.second.resolved = true;
  open_.erase(&entry);
}

void HistoryRecorder::NameTransaction(const std::string& tx, const ktm::Guid& uow) {
  const std::string short_uow = uow.Short();
  SetTxName(short_uow, tx);
  uow_by_tx_[tx] = short_uow;
}

void HistoryRecorder::NameRm(const std::string& rm, const ktm::Guid& rm_id) { names_.rm_by_id[rm_id.Short()] = rm; }

std::string HistoryRecorder::TxName(const ktm::Guid& uow) const {
  const ktm::GuidShort short_uow = uow.Short();
  const std::string_view text = short_uow.view();
  auto it = tx_by_uow_.find(absl::string_view(text.data(), text.size()));
  return it == tx_by_uow_.end() ? "uow-" + std::string(short_uow) : it->second;
}

std::string HistoryRecorder::UowOf(const std::string& tx) const {
  auto it = uow_by_tx_.find(tx);
  return it == uow_by_tx_.end() ? "" : it->second;
}

// ---------------------------------------------------------------------------
// ktm::RmObserver.

void HistoryRecorder::OnEnlist(uint32_t host, std::string_view rm, const ktm::Guid& uow) {
  std::string tx = TxName(uow);
  Pair(tx, rm);
  Record(model::EventKind::kEnlist, host, std::move(tx), std::string(rm));
}

void HistoryRecorder::OnRead(uint32_t host, std::string_view rm, const ktm::Guid& uow, std::string_view key,
                             std::string_view value) {
  Record(model::EventKind::kRead, host, TxName(uow), std::string(rm), std::string(key), std::string(value));
}

void HistoryRecorder::OnWrite(uint32_t host, std::string_view rm, const ktm::Guid& uow, std::string_view key,
                              std::string_view value) {
  const bool is_volatile = is_volatile_ && is_volatile_(rm, key);
  Record(model::EventKind::kWrite, host, TxName(uow), std::string(rm), std::string(key), std::string(value),
         is_volatile ? "volatile" : "");
}

void HistoryRecorder::OnRequestOutcome(uint32_t host, std::string_view rm, const ktm::Guid& uow) {
  Record(model::EventKind::kRequestOutcome, host, TxName(uow), std::string(rm));
}

void HistoryRecorder::OnNotify(uint32_t host, std::string_view rm, const ktm::Guid& uow, uint32_t notification) {
  std::string tx = TxName(uow);
  if (notification == ktm::TRANSACTION_NOTIFY_SINGLE_PHASE_COMMIT) Pair(tx, rm).spc_notified = true;
  if (notification == ktm::TRANSACTION_NOTIFY_INDOUBT) {
    PairState& pair = Pair(tx, rm);
    pair.in_doubt = true;
    pair.in_doubt_host = host;
  }
  Record(model::EventKind::kNotification, host, std::move(tx), std::string(rm), "", "",
         ktm::NotificationName(notification));
  if (notification == ktm::TRANSACTION_NOTIFY_PREPARE) Trigger(sim::CrashTrigger::kPrepare, host);
}

void HistoryRecorder::OnVote(uint32_t host, std::string_view rm, const ktm::Guid& uow, ktm::RmVote vote,
                             std::string_view /*why*/) {
  std::string tx = TxName(uow);
  PairEntry& entry = PairAt(tx, rm);
  if (vote == ktm::RmVote::kYes) entry.second.prepared = true;
  if (vote == ktm::RmVote::kReadOnly || vote == ktm::RmVote::kSinglePhase) Resolve(entry);
  Record(model::EventKind::kVote, host, std::move(tx), std::string(rm), "", "", std::string(ktm::RmVoteName(vote)));
}

void HistoryRecorder::OnCommitted(uint32_t host, std::string_view rm, const ktm::Guid& uow) {
  std::string tx = TxName(uow);
  PairEntry& entry = PairAt(tx, rm);
  entry.second.in_doubt = false;
  Resolve(entry);
  Record(model::EventKind::kRmCommitted, host, std::move(tx), std::string(rm));
  Trigger(sim::CrashTrigger::kCommit, host);
}

void HistoryRecorder::OnAborted(uint32_t host, std::string_view rm, const ktm::Guid& uow, std::string_view /*why*/) {
  std::string tx = TxName(uow);
  PairEntry& entry = PairAt(tx, rm);
  entry.second.in_doubt = false;
  Resolve(entry);
  Record(model::EventKind::kRmAborted, host, std::move(tx), std::string(rm));
}

void HistoryRecorder::OnBranch(uint32_t /*host*/, const ktm::Guid& root_uow, const ktm::Guid& local_uow) {
  // A participant's local transaction: its RMs' events belong to the root.
  SetTxName(local_uow.Short(), TxName(root_uow));
}

// ---------------------------------------------------------------------------
// Structured trace events.

bool HistoryRecorder::WantsTraceKind(std::string_view kind) {
  // Exactly the kinds OnTraceEvent acts on.
  return kind == "ktm.timeout" || kind == "ktm.log_forced" || kind == "dist.log_forced" || kind == "partition" ||
         kind == "net.partition" || kind == "heal" || kind == "net.heal";
}

void HistoryRecorder::OnTraceEvent(const sim::TraceEvent& e) {
  const std::string& kind = e.kind;
  if (kind == "ktm.timeout") {
    auto it = tx_by_uow_.find(e.Field("tx"));
    Record(model::EventKind::kTimeoutFired, e.host, it == tx_by_uow_.end() ? "uow-" + e.Field("tx") : it->second);
  } else if (kind == "ktm.log_forced" || kind == "dist.log_forced") {
    Trigger(sim::CrashTrigger::kLogForce, e.host);
  } else if (kind == "net.partition" || kind == "partition") {
    Record(model::EventKind::kPartition, e.host, "", "", "", "", e.Field("groups"));
  } else if (kind == "net.heal" || kind == "heal") {
    Record(model::EventKind::kHeal, e.host, "");
  }
}

// ---------------------------------------------------------------------------
// Resolution.

void HistoryRecorder::ResolveCrashedRms(uint32_t host, const std::set<std::string>& rms,
                                        const std::set<std::string>& volatile_rms) {
  // Only open pairs, in (tx, rm) order; resolving one drops it from open_.
  for (auto next = open_.begin(); next != open_.end();) {
    PairEntry& entry = **next++;
    const auto& [tx, rm] = entry.first;
    const PairState& pair = entry.second;
    if (!rms.count(rm)) continue;
    if (volatile_rms.count(rm)) {
      // Prepared or not, a volatile RM's work is gone: nothing recovers it.
      Resolve(entry);
      Record(model::EventKind::kRmLost, host, tx, rm, "", "", "crash");
      continue;
    }
    if (pair.prepared) continue;
    if (pair.spc_notified) {
      cut_single_phase_[rm].push_back(tx);
      continue;
    }
    Resolve(entry);
    Record(model::EventKind::kRmAborted, host, tx, rm, "", "", "crash");
  }
}

void HistoryRecorder::ResolveRefusedRm(const std::string& rm_name, uint32_t host, std::string_view why) {
  for (auto next = open_.begin(); next != open_.end();) {
    PairEntry& entry = **next++;
    const auto& [tx, rm] = entry.first;
    if (rm != rm_name) continue;
    Resolve(entry);
    Record(model::EventKind::kRmLost, host, tx, rm, "", "", std::string(why));
  }
}

void HistoryRecorder::ResolveRefusedPairs(std::string_view why, const StrandedAt& stranded_at) {
  for (auto next = open_.begin(); next != open_.end();) {
    PairEntry& entry = **next++;
    const auto& [tx, rm] = entry.first;
    const auto begun = begin_host_.find(tx);
    if (begun == begin_host_.end()) continue;
    const std::optional<uint32_t> host = stranded_at(tx, begun->second, rm, entry.second.prepared);
    if (!host) continue;
    Resolve(entry);
    Record(model::EventKind::kRmLost, *host, tx, rm, "", "", std::string(why));
  }
}

std::set<std::pair<std::string, std::string>> HistoryRecorder::ResolveStrandedInDoubt() {
  std::set<std::pair<std::string, std::string>> stranded;  // (tx, rm)
  // Only a refusal can strand a transaction: without one, an in-doubt pair
  // left at the end is the engine's to explain, and stays checked.
  const bool refused = std::any_of(history_.events.begin(), history_.events.end(), [](const model::HistoryEvent& e) {
    return e.kind == model::EventKind::kDiskError;
  });
  if (!refused) return {};
  for (auto& entry : pairs_) {
    const PairKey& key = entry.first;
    PairState& pair = entry.second;
    if (!pair.in_doubt) continue;
    pair.in_doubt = false;
    Resolve(entry);
    stranded.insert(key);
    Record(model::EventKind::kRmLost, pair.in_doubt_host, key.first, key.second, "", "", "in doubt at end");
  }
  std::set<std::pair<std::string, std::string>> places;  // (rm, key)
  if (stranded.empty()) return places;
  for (const model::HistoryEvent& e : history_.events) {
    if (e.kind == model::EventKind::kWrite && stranded.count({e.tx, e.rm}) > 0) places.insert({e.rm, e.key});
  }
  return places;
}

void HistoryRecorder::ResolveCutSinglePhaseCommits(const std::string& rm_name, uint32_t host,
                                                   const std::function<bool(const std::string&)>& replayed) {
  auto it = cut_single_phase_.find(rm_name);
  if (it == cut_single_phase_.end()) return;
  for (const std::string& tx : it->second) {
    PairEntry& entry = PairAt(tx, rm_name);
    if (entry.second.resolved) continue;
    Resolve(entry);
    if (replayed(UowOf(tx))) {
      // The single-phase commit record reached the disk: that was the RM's decision.
      Record(model::EventKind::kVote, host, tx, rm_name, "", "", "spc");
      Record(model::EventKind::kRmCommitted, host, tx, rm_name, "", "", "replayed");
    } else {
      Record(model::EventKind::kRmAborted, host, tx, rm_name, "", "", "crash");
    }
  }
  cut_single_phase_.erase(it);
}

uint64_t HistoryRecorder::Fingerprint() const {
  uint64_t hash = 0;
  for (const auto& [key, pair] : pairs_) {
    hash = MixString(MixString(hash, key.first), key.second);
    hash = Mix(hash, (pair.spc_notified ? 1 : 0) | (pair.prepared ? 2 : 0) | (pair.resolved ? 4 : 0));
  }
  for (const auto& [rm, txs] : cut_single_phase_) {
    hash = MixString(hash, rm);
    for (const std::string& tx : txs) hash = MixString(hash, tx);
  }
  return hash;
}

model::History HistoryRecorder::TakeHistory(sim::TimeNs end_ns) {
  history_.end_ns = end_ns;
  return std::move(history_);
}

}  // namespace harness
