// HistoryRecorder implementation: see history_recorder.h.
#include "harness/history_recorder.h"

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "harness/same_text.h"
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

uint64_t MixString(uint64_t hash, std::string_view text) { return Mix(hash, sim::HashName(text)); }

}  // namespace

void HistoryRecorder::Record(model::EventKind kind, uint32_t host, std::string_view tx, std::string_view rm,
                             std::string_view key, std::string_view value, std::string_view detail) {
  const model::Name tx_name = Intern(tx);
  if (kind == model::EventKind::kBegin) begin_host_[tx_name.id()] = host;
  RecordNames(kind, host, tx_name, Intern(rm), Intern(key), Intern(value), Intern(detail));
}

void HistoryRecorder::Reserve(uint64_t transactions, uint64_t operations, uint64_t final_values) {
  // About 30 events and 4 distinct names (the transaction, its written
  // values) per transaction in the suite's scenarios, plus an event per
  // operation; reserved pages that are never written cost no memory.
  // At most kReservedEventsMax (1.5 GiB of address space) beyond what the
  // transactions' own 32 events took before (a run of a million long
  // transactions would otherwise ask for more than the machine has).
  constexpr uint64_t kReservedEventsMax = uint64_t{1} << 24;
  history_.events.reserve(static_cast<size_t>(std::min<uint64_t>(
      transactions * (32 + operations) + final_values, std::max<uint64_t>(transactions * 32, kReservedEventsMax))));
  table_->Reserve(transactions * 4);
  first_pair_of_tx_.reserve(transactions * 4);
  tx_by_uow_.reserve(transactions);
}

uint32_t HistoryRecorder::PairAt(model::Name tx, std::string_view rm_text) { return PairOf(tx, RmName(rm_text)); }

uint32_t HistoryRecorder::PairAt(model::Name tx, const ktm::ObservedRm& rm) { return PairOf(tx, RmName(rm)); }

uint32_t HistoryRecorder::PairOf(model::Name tx, model::Name rm) {
  const uint32_t tx_id = tx.id();
  if (tx_id >= first_pair_of_tx_.size()) {
    first_pair_of_tx_.resize(std::max<size_t>(tx_id + 1, first_pair_of_tx_.size() * 2), kNoPair);
  }
  uint32_t& first = first_pair_of_tx_[tx_id];
  for (uint32_t index = first; index != kNoPair; index = pairs_[index].next_of_tx) {
    if (pairs_[index].rm.id() == rm.id()) return index;
  }
  const uint32_t index = static_cast<uint32_t>(pairs_.size());
  pairs_.push_back(PairState{.tx = tx, .rm = rm, .next_of_tx = first, .open_slot = static_cast<uint32_t>(open_.size())});
  first = index;
  open_.push_back(index);
  return index;
}

void HistoryRecorder::Resolve(uint32_t index) {
  PairState& pair = pairs_[index];
  pair.resolved = true;
  if (pair.open_slot == kNoPair) return;
  const uint32_t last = open_.back();  // takes the resolved pair's slot
  open_[pair.open_slot] = last;
  pairs_[last].open_slot = pair.open_slot;
  open_.pop_back();
  pair.open_slot = kNoPair;
}

std::vector<uint32_t> HistoryRecorder::OpenByName() const {
  std::vector<uint32_t> order = open_;
  std::sort(order.begin(), order.end(), [this](uint32_t a, uint32_t b) {
    const PairState& x = pairs_[a];
    const PairState& y = pairs_[b];
    return std::make_pair(x.tx, x.rm) < std::make_pair(y.tx, y.rm);
  });
  return order;
}

std::vector<uint32_t> HistoryRecorder::PairsByName() const {
  std::vector<uint32_t> order(pairs_.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [this](uint32_t a, uint32_t b) {
    const PairState& x = pairs_[a];
    const PairState& y = pairs_[b];
    return std::make_pair(x.tx, x.rm) < std::make_pair(y.tx, y.rm);
  });
  return order;
}

const RunNames& HistoryRecorder::names() const {
  // A short id's text is its 16 lower-case hex digits, so numeric order is
  // the text order: sorted once, the map is built by appending.
  std::vector<std::pair<uint64_t, model::Name>> sorted(tx_by_uow_.begin(), tx_by_uow_.end());
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  names_.tx_by_uow.clear();
  for (const auto& [uow, tx] : sorted) {
    ktm::GuidShort short_uow;
    short_uow.value = uow;
    names_.tx_by_uow.emplace_hint(names_.tx_by_uow.end(), std::string(short_uow.view()), tx.str());
  }
  return names_;
}

void HistoryRecorder::NameTransaction(const std::string& tx, const ktm::Guid& uow) {
  const model::Name name = Intern(tx);
  SetTxName(uow.hi, name);
  uow_by_tx_[name.id()] = uow.hi;
}

void HistoryRecorder::NameRm(const std::string& rm, const ktm::Guid& rm_id) { names_.rm_by_id[rm_id.Short()] = rm; }

model::Name HistoryRecorder::TxName(const ktm::Guid& uow) {
  const uint64_t short_uow = uow.hi;  // Guid::Short()'s word, as NameTransaction keys it
  TxNameSlot& slot = tx_names_[TxNameSlotOf(short_uow)];
  if (slot.valid && slot.uow == short_uow) return slot.tx;
  auto it = tx_by_uow_.find(short_uow);
  if (it != tx_by_uow_.end()) {
    slot = TxNameSlot{short_uow, it->second, true};
    return it->second;
  }
  return Intern("uow-" + std::string(uow.Short().view()));
}

std::string HistoryRecorder::UowOf(const std::string& tx) const {
  const uint32_t id = table_->Find(tx);
  auto it = uow_by_tx_.find(id);
  if (id == model::NameTable::kAbsent || it == uow_by_tx_.end()) return "";
  ktm::GuidShort short_uow;
  short_uow.value = it->second;
  return std::string(short_uow.view());
}

// ---------------------------------------------------------------------------
// ktm::RmObserver.

void HistoryRecorder::OnEnlist(uint32_t host, const ktm::ObservedRm& rm, const ktm::Guid& uow) {
  const model::Name tx = TxName(uow);
  RecordNames(model::EventKind::kEnlist, host, tx, pairs_[PairAt(tx, rm)].rm);
}

void HistoryRecorder::OnRead(uint32_t host, const ktm::ObservedRm& rm, const ktm::Guid& uow, std::string_view key,
                             std::string_view value) {
  RecordNames(model::EventKind::kRead, host, TxName(uow), RmName(rm), Intern(key), Intern(value));
}

void HistoryRecorder::OnWrite(uint32_t host, const ktm::ObservedRm& rm, const ktm::Guid& uow, std::string_view key,
                              std::string_view value) {
  const bool is_volatile = is_volatile_ && is_volatile_(rm, key);
  RecordNames(model::EventKind::kWrite, host, TxName(uow), RmName(rm), Intern(key), Intern(value),
              is_volatile ? Intern("volatile") : model::Name());
}

void HistoryRecorder::OnRequestOutcome(uint32_t host, const ktm::ObservedRm& rm, const ktm::Guid& uow) {
  RecordNames(model::EventKind::kRequestOutcome, host, TxName(uow), RmName(rm));
}

void HistoryRecorder::OnNotify(uint32_t host, const ktm::ObservedRm& rm, const ktm::Guid& uow, uint32_t notification) {
  const model::Name tx = TxName(uow);
  if (notification == ktm::TRANSACTION_NOTIFY_SINGLE_PHASE_COMMIT) Pair(tx, rm).spc_notified = true;
  if (notification == ktm::TRANSACTION_NOTIFY_INDOUBT) {
    PairState& pair = Pair(tx, rm);
    pair.in_doubt = true;
    pair.in_doubt_host = host;
  }
  RecordNames(model::EventKind::kNotification, host, tx, RmName(rm), {}, {}, NotificationNameOf(notification));
  if (notification == ktm::TRANSACTION_NOTIFY_PREPARE) Trigger(sim::CrashTrigger::kPrepare, host);
}

model::Name HistoryRecorder::NotificationNameOf(uint32_t notification) {
  for (const auto& [code, name] : notification_names_) {
    if (code == notification) return name;
  }
  const model::Name name = Intern(ktm::NotificationName(notification));
  notification_names_.emplace_back(notification, name);
  return name;
}

model::Name HistoryRecorder::RmName(std::string_view rm) {
  if (rm.empty()) return model::Name();
  const uintptr_t address = reinterpret_cast<uintptr_t>(rm.data());
  RmNameSlot& slot = rm_names_[(address ^ (address >> 6) ^ (address >> 12)) % kRmNameSlots];
  if (slot.source == rm.data() && SameText(slot.name, rm)) return slot.name;
  const model::Name name = Intern(rm);
  slot.source = rm.data();
  slot.name = name;
  return name;
}

uint32_t HistoryRecorder::RmKey(std::string_view rm_name) {
  for (size_t i = 0; i < rm_keys_.size(); ++i) {
    if (rm_keys_[i].text == rm_name) return static_cast<uint32_t>(i + 1);
  }
  rm_keys_.push_back(RmKeySlot{.text = std::string(rm_name), .name = {}, .interned = false});
  return static_cast<uint32_t>(rm_keys_.size());
}

model::Name HistoryRecorder::RmName(const ktm::ObservedRm& rm) {
  if (rm.key == 0 || rm.key > rm_keys_.size()) return RmName(rm.name);  // not keyed by this recorder
  RmKeySlot& slot = rm_keys_[rm.key - 1];
  if (!slot.interned) {
    // Interned at the first report, where RmName(text) interned it (the name
    // ids stay those of a recorder without keys); RmKey must not intern.
    slot.name = RmName(std::string_view(slot.text));
    slot.interned = true;
  }
  return slot.name;
}

model::Name HistoryRecorder::VoteNameOf(ktm::RmVote vote) {
  for (const auto& [known, name] : vote_names_) {
    if (known == vote) return name;
  }
  const model::Name name = Intern(ktm::RmVoteName(vote));
  vote_names_.emplace_back(vote, name);
  return name;
}

void HistoryRecorder::OnVote(uint32_t host, const ktm::ObservedRm& rm, const ktm::Guid& uow, ktm::RmVote vote,
                             std::string_view /*why*/) {
  const model::Name tx = TxName(uow);
  const uint32_t index = PairAt(tx, rm);
  if (vote == ktm::RmVote::kYes) pairs_[index].prepared = true;
  if (vote == ktm::RmVote::kReadOnly || vote == ktm::RmVote::kSinglePhase) Resolve(index);
  RecordNames(model::EventKind::kVote, host, tx, pairs_[index].rm, {}, {}, VoteNameOf(vote));
}

void HistoryRecorder::OnCommitted(uint32_t host, const ktm::ObservedRm& rm, const ktm::Guid& uow) {
  const model::Name tx = TxName(uow);
  const uint32_t index = PairAt(tx, rm);
  pairs_[index].in_doubt = false;
  Resolve(index);
  RecordNames(model::EventKind::kRmCommitted, host, tx, pairs_[index].rm);
  Trigger(sim::CrashTrigger::kCommit, host);
}

void HistoryRecorder::OnAborted(uint32_t host, const ktm::ObservedRm& rm, const ktm::Guid& uow, std::string_view /*why*/) {
  const model::Name tx = TxName(uow);
  const uint32_t index = PairAt(tx, rm);
  pairs_[index].in_doubt = false;
  Resolve(index);
  RecordNames(model::EventKind::kRmAborted, host, tx, pairs_[index].rm);
}

void HistoryRecorder::OnBranch(uint32_t /*host*/, const ktm::Guid& root_uow, const ktm::Guid& local_uow) {
  // A participant's local transaction: its RMs' events belong to the root.
  SetTxName(local_uow.hi, TxName(root_uow));
}

// ---------------------------------------------------------------------------
// Structured trace events.

bool HistoryRecorder::WantsTraceKind(std::string_view kind) {
  // Exactly the kinds OnTraceView acts on.
  return kind == "ktm.timeout" || kind == "ktm.log_forced" || kind == "dist.log_forced" || kind == "partition" ||
         kind == "net.partition" || kind == "heal" || kind == "net.heal";
}

namespace {

// The short id a trace field shows as 16 lower-case hex digits, if it is one.
std::optional<uint64_t> ParseShortId(std::string_view text) {
  if (text.size() != 16) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    uint64_t digit = 0;
    if (c >= '0' && c <= '9') {
      digit = static_cast<uint64_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = static_cast<uint64_t>(c - 'a' + 10);
    } else {
      return std::nullopt;
    }
    value = (value << 4) | digit;
  }
  return value;
}

}  // namespace

void HistoryRecorder::OnTraceView(const sim::TraceView& e) {
  // Dispatch by the kind's digest word (computed at compile time for these
  // literals): no text is made or compared per event.
  static constexpr sim::TraceName kTimeout = "ktm.timeout", kLogForced = "ktm.log_forced",
                                  kDistLogForced = "dist.log_forced", kNetPartition = "net.partition",
                                  kPartition = "partition", kNetHeal = "net.heal", kHeal = "heal";
  const uint64_t kind = e.kind.hash;
  if (kind == kTimeout.hash) {
    std::string scratch;
    const sim::TraceField* field = e.Find("tx");
    std::optional<uint64_t> id;
    if (field != nullptr && field->type == sim::TraceField::Type::kHex) {
      id = field->number;
    } else if (field != nullptr) {
      id = ParseShortId(field->ValueView(&scratch));
    }
    auto it = id ? tx_by_uow_.find(*id) : tx_by_uow_.end();
    const model::Name tx = it == tx_by_uow_.end() ? Intern("uow-" + std::string(e.FieldText("tx", &scratch)))
                                                  : it->second;
    RecordNames(model::EventKind::kTimeoutFired, e.host, tx);
  } else if (kind == kLogForced.hash || kind == kDistLogForced.hash) {
    Trigger(sim::CrashTrigger::kLogForce, e.host);
  } else if (kind == kNetPartition.hash || kind == kPartition.hash) {
    std::string scratch;
    Record(model::EventKind::kPartition, e.host, "", "", "", "", e.FieldText("groups", &scratch));
  } else if (kind == kNetHeal.hash || kind == kHeal.hash) {
    Record(model::EventKind::kHeal, e.host, "");
  }
}

// ---------------------------------------------------------------------------
// Resolution.

void HistoryRecorder::ResolveCrashedRms(uint32_t host, const std::set<std::string>& rms,
                                        const std::set<std::string>& volatile_rms) {
  // Only open pairs, in (tx, rm) order; resolving one drops it from open_.
  for (const uint32_t index : OpenByName()) {
    const PairState& pair = pairs_[index];
    if (pair.open_slot == kNoPair) continue;
    const std::string rm = pair.rm.str();
    if (!rms.count(rm)) continue;
    if (volatile_rms.count(rm)) {
      // Prepared or not, a volatile RM's work is gone: nothing recovers it.
      Resolve(index);
      RecordNames(model::EventKind::kRmLost, host, pair.tx, pair.rm, {}, {}, Intern("crash"));
      continue;
    }
    if (pair.prepared) continue;
    if (pair.spc_notified) {
      cut_single_phase_[rm].push_back(pair.tx.str());
      continue;
    }
    Resolve(index);
    RecordNames(model::EventKind::kRmAborted, host, pair.tx, pair.rm, {}, {}, Intern("crash"));
  }
}

void HistoryRecorder::ResolveRefusedRm(const std::string& rm_name, uint32_t host, std::string_view why) {
  for (const uint32_t index : OpenByName()) {
    const PairState& pair = pairs_[index];
    if (pair.open_slot == kNoPair || pair.rm != rm_name) continue;
    Resolve(index);
    RecordNames(model::EventKind::kRmLost, host, pair.tx, pair.rm, {}, {}, Intern(why));
  }
}

void HistoryRecorder::ResolveRefusedPairs(std::string_view why, const StrandedAt& stranded_at) {
  for (const uint32_t index : OpenByName()) {
    const PairState& pair = pairs_[index];
    if (pair.open_slot == kNoPair) continue;
    const auto begun = begin_host_.find(pair.tx.id());
    if (begun == begin_host_.end()) continue;
    const std::optional<uint32_t> host = stranded_at(pair.tx.str(), begun->second, pair.rm.str(), pair.prepared);
    if (!host) continue;
    Resolve(index);
    RecordNames(model::EventKind::kRmLost, *host, pair.tx, pair.rm, {}, {}, Intern(why));
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
  for (uint32_t index : PairsByName()) {
    PairState& pair = pairs_[index];
    if (!pair.in_doubt) continue;
    pair.in_doubt = false;
    Resolve(index);
    stranded.insert({pair.tx.str(), pair.rm.str()});
    RecordNames(model::EventKind::kRmLost, pair.in_doubt_host, pair.tx, pair.rm, {}, {}, Intern("in doubt at end"));
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
    const uint32_t index = PairAt(Intern(tx), std::string_view(rm_name));
    const PairState& pair = pairs_[index];
    if (pair.resolved) continue;
    Resolve(index);
    if (replayed(UowOf(tx))) {
      // The single-phase commit record reached the disk: that was the RM's decision.
      RecordNames(model::EventKind::kVote, host, pair.tx, pair.rm, {}, {}, Intern("spc"));
      RecordNames(model::EventKind::kRmCommitted, host, pair.tx, pair.rm, {}, {}, Intern("replayed"));
    } else {
      RecordNames(model::EventKind::kRmAborted, host, pair.tx, pair.rm, {}, {}, Intern("crash"));
    }
  }
  cut_single_phase_.erase(it);
}

uint64_t HistoryRecorder::Fingerprint() const {
  uint64_t hash = 0;
  for (uint32_t index : PairsByName()) {
    const PairState& pair = pairs_[index];
    hash = MixString(MixString(hash, pair.tx), pair.rm);
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
