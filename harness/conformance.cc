// Conformance checker: a trace listener that keeps compact per-transaction
// records, and a replay that projects them onto KtmTwoPhaseCrash states and
// checks each step (harness/conformance.h, spec/README.md).
#include "harness/conformance.h"

#include <algorithm>
#include <array>
#include <string_view>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "harness/same_text.h"
#include "model/spec_common.h"

namespace harness {
namespace {

using model::spec::Action;
using model::spec::kSpecRmMax;
using model::spec::RmPhase;
using model::spec::TmPhase;
using model::spec::TwoPhaseCrash;
using State = model::spec::TwoPhaseState;

// Engine state names (tx.state / en.state "from" and "to"), by index; the
// projection tells apart the few it names below, the rest are kOther.
constexpr std::array<std::string_view, 20> kEngNames = {
    "other",     "Prepared",  "InDoubt",      "Committed",       "Aborted",         "Delegated",      "Active",
    "ReadOnly",  "Forgotten", "Recovering",   "PrePreparing",    "PrePrepared",     "Preparing",      "CommittedNotify",
    "Aborting",  "CommitRequested", "DelegatedDisconnected", "OutcomeUnavailable", "Offline", "Initialized"};
enum Eng : uint8_t { kOther, kPrepared, kInDoubt, kCommitted, kAborted, kDelegated, kActive, kReadOnly, kForgotten, kRecovering };
constexpr std::array<uint64_t, kEngNames.size()> kEngWords = [] {
  std::array<uint64_t, kEngNames.size()> words{};
  for (size_t i = 0; i < kEngNames.size(); ++i) words[i] = sim::TraceTextHash(kEngNames[i]);
  return words;
}();
// A perfect hash of a few digest words, found at compile time: slot
// (word * mult) >> (64 - kBits) holds 1 + the word's index, or 0; a lookup
// is one multiply, one load and one compare (a word not in the set lands on
// some slot and fails the compare).
template <size_t N>
struct WordIndex {
  static constexpr int kBits = 7;
  uint64_t mult = 0;
  std::array<uint8_t, size_t{1} << kBits> slot{};

  // -1 when `word` is none of the words.
  int Find(const std::array<uint64_t, N>& words, uint64_t word) const {
    const uint8_t at = slot[(word * mult) >> (64 - kBits)];
    return at != 0 && words[at - 1] == word ? at - 1 : -1;
  }
  // Words [first, N) (the others never match); mult 0 when no multiplier
  // among the ones tried separates them.
  static constexpr WordIndex Of(const std::array<uint64_t, N>& words, size_t first) {
    static_assert(N < 255);
    uint64_t mult = 0x9e3779b97f4a7c15ull;
    for (int attempt = 0; attempt < 1000; ++attempt, mult += 0x5851f42d4c957f2eull) {
      WordIndex index;
      index.mult = mult | 1;
      bool distinct = true;
      for (size_t i = first; i < N && distinct; ++i) {
        uint8_t& at = index.slot[(words[i] * index.mult) >> (64 - kBits)];
        distinct = at == 0;
        at = static_cast<uint8_t>(i + 1);
      }
      if (distinct) return index;
    }
    return WordIndex{};
  }
};
constexpr WordIndex<kEngWords.size()> kEngIndex = WordIndex<kEngWords.size()>::Of(kEngWords, 1);
static_assert(kEngIndex.mult != 0, "no multiplier separates the engine state words");

// A state field (nullptr: absent) as the engine state it names; a number or
// an unknown name is kOther. Names compared by their digest words.
Eng EngOf(const sim::TraceField* field) {
  if (field == nullptr || field->type != sim::TraceField::Type::kText) return kOther;
  const int at = kEngIndex.Find(kEngWords, field->ValueWord());
  return at < 0 ? kOther : static_cast<Eng>(at);
}
absl::string_view EngName(Eng e) {
  const std::string_view name = e < kEngNames.size() ? kEngNames[e] : "other";
  return absl::string_view(name.data(), name.size());
}

enum class Kind : uint8_t { kTxState, kEnState, kEnVoteNo, kRmVoteYes, kRmVoteNo, kRmCommitted, kRmAborted, kRmPresumedAbort, kCrash };

struct Ev {
  uint64_t index;
  Kind kind;
  int16_t slot;  // enlistment slot in its transaction; -1 for transaction events
  Eng from, to;
};

// An engine id as the trace shows it (tx, en, uow fields): the kernel's 16
// lower-case hex digits are kept as their number, anything else (hand-built
// traces) as an id in the checker's table of other texts. No allocation per
// id, and hashing one is hashing two words.
struct IdKey {
  uint64_t hex = 0;
  uint32_t other = 0;  // 0: `hex` is the id; else 1 + index in Impl::other_ids
  uint32_t host = 0;
  bool operator==(const IdKey&) const = default;
};
// Two multiplies and a shift (absl's combine of three fields costs several
// times that, and nearly every trace event the checker reads hashes one):
// the product's high bits folded down, so the table's low-bit control byte
// and high-bit position both depend on every input bit.
struct IdKeyHash {
  size_t operator()(const IdKey& k) const {
    const uint64_t x = k.hex * 0x9e3779b97f4a7c15ull ^ ((uint64_t{k.other} << 32 | k.host) * 0xc2b2ae3d27d4eb4full);
    return static_cast<size_t>(x ^ (x >> 29));
  }
};

// Exactly 16 lower-case hex digits (what TraceHex prints), as a number.
bool ParseHex16(std::string_view text, uint64_t* value) {
  if (text.size() != 16) return false;
  uint64_t v = 0;
  for (char c : text) {
    uint64_t digit;
    if (c >= '0' && c <= '9') {
      digit = static_cast<uint64_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = static_cast<uint64_t>(c - 'a' + 10);
    } else {
      return false;
    }
    v = (v << 4) | digit;
  }
  *value = v;
  return true;
}

constexpr uint8_t kSeen = 1, kReadOnlyFlag = 2, kSuperior = 4, kTracesVotes = 8;
constexpr uint32_t kNoEv = 0xffffffffu;

struct TxRec {
  uint32_t host;
  IdKey tx;
  // Inline for the usual few enlistments and RMs: a record allocates
  // nothing of its own (ids are numbers, RM names ids in Impl::rm_names,
  // events chained in Impl::events), so a long run's records do not
  // fragment the heap and are freed as a few big blocks.
  absl::InlinedVector<IdKey, 3> ens;           // slot -> enlistment id
  absl::InlinedVector<uint8_t, 8> en_flags;    // slot -> kSeen | kReadOnly
  absl::InlinedVector<std::pair<uint32_t, int>, 3> rm_slot;  // RM name id -> slot, first enlist wins
  // The slot of RM `rm` (an id in Impl::rm_names), or -1.
  int SlotOfRm(uint32_t rm) const {
    for (const auto& [name, slot] : rm_slot) {
      if (name == rm) return slot;
    }
    return -1;
  }
  int last_created = -1;
  bool forgotten = false;
  bool cold = false;  // its index entries are in the cold tier (RecordStore)
  uint32_t first_ev = kNoEv, last_ev = kNoEv;  // the record's events, chained through Impl::events
};

// Every record's events, in arrival order, each chained to its record's next.
struct ChainedEv {
  Ev ev;
  uint32_t next = kNoEv;
};

// Texts of ids that are not 16 hex digits, and RM names: small tables.
class TextIds {
 public:
  uint32_t Intern(std::string_view text) {
    const uint32_t found = Find(text);
    if (found != kAbsent) return found;
    texts_.push_back(std::make_unique<std::string>(text));
    const uint32_t id = static_cast<uint32_t>(texts_.size() - 1);
    ids_.emplace(std::string_view(*texts_.back()), id);
    return id;
  }
  // kAbsent when never interned.
  static constexpr uint32_t kAbsent = 0xffffffffu;
  uint32_t Find(std::string_view text) const {
    if (texts_.size() <= kScanMax) {
      // A run has a few RM names: comparing them beats hashing the text.
      for (size_t id = 0; id < texts_.size(); ++id) {
        if (SameText(*texts_[id], text)) return static_cast<uint32_t>(id);
      }
      return kAbsent;
    }
    auto it = ids_.find(text);
    return it == ids_.end() ? kAbsent : it->second;
  }
  const std::string& Text(uint32_t id) const { return *texts_[id]; }

 private:
  static constexpr size_t kScanMax = 8;
  std::vector<std::unique_ptr<std::string>> texts_;
  absl::flat_hash_map<std::string_view, uint32_t> ids_;  // every text, scanned or not
};

// The trace kinds the checker reads (every trace event's kind is looked up
// here once: string_view compares, length first).
enum class TraceKind : uint8_t {
  kTxCreate, kTxState, kEnCreate, kEnState, kEnVoteNo, kRmEnlist, kRmVote, kRmCommitted, kRmAborted,
  kCrash, kDistBranch, kEnSuperiorCommit, kEnSuperiorRollback, kOther
};
constexpr std::array<std::pair<std::string_view, TraceKind>, 13> kTraceKinds = {{
    {"tx.create", TraceKind::kTxCreate}, {"tx.state", TraceKind::kTxState}, {"en.create", TraceKind::kEnCreate},
    {"en.state", TraceKind::kEnState}, {"en.vote_no", TraceKind::kEnVoteNo}, {"rm.enlist", TraceKind::kRmEnlist},
    {"rm.vote", TraceKind::kRmVote}, {"rm.committed", TraceKind::kRmCommitted},
    {"rm.aborted", TraceKind::kRmAborted}, {"crash", TraceKind::kCrash}, {"dist.branch", TraceKind::kDistBranch},
    {"en.superior_commit", TraceKind::kEnSuperiorCommit}, {"en.superior_rollback", TraceKind::kEnSuperiorRollback},
}};
// Bit n set: some kind above is n characters long (most trace events are
// rejected by their length alone).
constexpr uint32_t KindLengths() {
  uint32_t bits = 0;
  for (const auto& [name, value] : kTraceKinds) bits |= 1u << name.size();
  return bits;
}
static_assert(kTraceKinds.back().first.size() < 32);

TraceKind TraceKindOf(std::string_view kind) {
  if (kind.size() >= 32 || ((KindLengths() >> kind.size()) & 1) == 0) return TraceKind::kOther;
  for (const auto& [name, value] : kTraceKinds) {
    if (name == kind) return value;
  }
  return TraceKind::kOther;
}
constexpr std::array<uint64_t, kTraceKinds.size()> kTraceKindWords = [] {
  std::array<uint64_t, kTraceKinds.size()> words{};
  for (size_t i = 0; i < kTraceKinds.size(); ++i) words[i] = sim::TraceTextHash(kTraceKinds[i].first);
  return words;
}();
constexpr WordIndex<kTraceKindWords.size()> kTraceKindIndex = WordIndex<kTraceKindWords.size()>::Of(kTraceKindWords, 0);
static_assert(kTraceKindIndex.mult != 0, "no multiplier separates the trace kind words");
// The same from the kind's digest word (what a trace listener is shown).
TraceKind TraceKindOf(const sim::TraceName& kind) {
  const int at = kTraceKindIndex.Find(kTraceKindWords, kind.hash);
  return at < 0 ? TraceKind::kOther : kTraceKinds[static_cast<size_t>(at)].second;
}

bool Wanted(std::string_view kind) { return TraceKindOf(kind) != TraceKind::kOther; }

// What the listener keeps: the records, their events, and the indexes that
// find a record or an enlistment from a trace event. The indexes come in two
// tiers: hot, transactions in flight (what nearly every event is about: a
// small table, in cache whatever the run's length), and cold, those forgotten
// or cut by a crash of their host (looked up only when the hot tier misses: a
// new transaction, recovery, or the rare late event about a forgotten one).
// A key is in one tier at a time, so a lookup's cost does not grow with the
// run while every record stays findable exactly as before.
struct RecordStore {
  std::vector<TxRec> txs;
  std::vector<ChainedEv> events;
  TextIds other_ids;  // ids that are not 16 hex digits
  TextIds rm_names;
  std::string scratch;  // a number field's text, when an id is one
  absl::flat_hash_map<IdKey, uint32_t, IdKeyHash> hot_txs, cold_txs;  // (host, tx) -> index in txs
  absl::flat_hash_map<IdKey, std::pair<uint32_t, int>, IdKeyHash> hot_ens, cold_ens;  // (host, en) -> (tx, slot)

  // An id field (nullptr: absent, the empty text) as a key: a TraceHex is
  // its number; a text of 16 hex digits too (kept or hand-built traces).
  IdKey Key(uint32_t host, const sim::TraceField* field) {
    IdKey key;
    key.host = host;
    if (field != nullptr && field->type == sim::TraceField::Type::kHex) {
      key.hex = field->number;
      return key;
    }
    const std::string_view text = field == nullptr ? std::string_view() : field->ValueView(&scratch);
    if (!ParseHex16(text, &key.hex)) key.other = 1 + other_ids.Intern(text);
    return key;
  }
  // The key of an id only looked up: false when it cannot name anything
  // (a text that is no hex id and was never interned).
  bool KnownKey(uint32_t host, const sim::TraceField* field, IdKey* key) {
    key->host = host;
    if (field != nullptr && field->type == sim::TraceField::Type::kHex) {
      key->hex = field->number;
      return true;
    }
    const std::string_view text = field == nullptr ? std::string_view() : field->ValueView(&scratch);
    if (ParseHex16(text, &key->hex)) return true;
    const uint32_t other = other_ids.Find(text);
    if (other == TextIds::kAbsent) return false;
    key->other = 1 + other;
    return true;
  }
  std::string Text(const IdKey& key) const {
    return key.other == 0 ? absl::StrFormat("%016x", key.hex) : other_ids.Text(key.other - 1);
  }
  void Append(TxRec& rec, const Ev& ev) {
    const uint32_t at = static_cast<uint32_t>(events.size());
    // Field by field into the new element: copying a whole ChainedEv built
    // on the stack by narrow stores was a wide load of them, a failed store
    // forwarding (a quarter of OnEvent's time, perf annotate).
    ChainedEv& added = events.emplace_back();
    added.ev.index = ev.index;
    added.ev.kind = ev.kind;
    added.ev.slot = ev.slot;
    added.ev.from = ev.from;
    added.ev.to = ev.to;
    if (rec.first_ev == kNoEv) {
      rec.first_ev = at;
    } else {
      events[rec.last_ev].next = at;
    }
    rec.last_ev = at;
  }
};

// Replays one transaction's records through the projection.
// What Replay::Step found for one (from, to, RMs, depth): whether the spec
// leads there and by which actions. A pure function of its key, and runs
// repeat the same few steps transaction after transaction and run after
// run, so a thread asks the spec (and searches paths) once per distinct
// step (StepMemo, kept across Finish calls).
struct StepKey {
  uint64_t from, to;
  int n, depth;
  bool operator==(const StepKey&) const = default;
};
// As IdKeyHash: a few multiplies, the high bits folded down (keys use 45
// bits, n and depth a few more).
struct StepKeyHash {
  size_t operator()(const StepKey& k) const {
    const uint64_t x = k.from * 0x9e3779b97f4a7c15ull ^ k.to * 0xc2b2ae3d27d4eb4full ^
                       (static_cast<uint64_t>(static_cast<uint32_t>(k.n)) << 32 | static_cast<uint32_t>(k.depth)) *
                           0x165667b19e3779f9ull;
    return static_cast<size_t>(x ^ (x >> 29));
  }
};
struct StepFound {
  bool accepted = false;
  std::vector<Action> actions;
  uint64_t visited_in = 0;  // the last Finish (StepMemo::finishes) that visited its target
};
struct StepMemo {
  absl::flat_hash_map<StepKey, StepFound, StepKeyHash> steps;
  uint64_t finishes = 0;  // Finish calls that used it
  // A limit on the distinct steps kept: beyond it a Finish starts afresh.
  static constexpr size_t steps_max = size_t{1} << 16;
};
// What one Finish's replays share: the spec's successors (reused), the step
// memo and the Finish's number in it, the slot -> RM table (reused), which N
// already had their initial state visited, and the replays that found no
// violation, by what a replay reads (Replay::Signature, its buffer reused).
struct ReplayScratch {
  explicit ReplayScratch(StepMemo* step_memo) : memo(*step_memo), finish(++step_memo->finishes) {}
  std::vector<std::pair<Action, State>> next;
  StepMemo& memo;
  const uint64_t finish;
  std::vector<int> participant;
  std::array<bool, kSpecRmMax + 1> init_visited{};
  absl::flat_hash_set<std::vector<uint32_t>> accepted;
  std::vector<uint32_t> signature;
};

class Replay {
 public:
  Replay(const RecordStore& store, const TxRec& rec, ConformanceResult* out, bool keep, ReplayScratch* scratch)
      : store_(store),
        rec_(rec),
        out_(out),
        keep_(keep),
        participant_(scratch->participant),
        next_(scratch->next),
        memo_(scratch->memo.steps),
        finish_(scratch->finish),
        init_visited_(scratch->init_visited),
        accepted_(scratch->accepted),
        signature_(scratch->signature) {}

  void Run() {
    participant_.assign(rec_.ens.size(), -1);
    for (size_t slot = 0; slot < rec_.ens.size(); ++slot) {
      if ((rec_.en_flags[slot] & (kSeen | kReadOnlyFlag | kSuperior)) == kSeen) participant_[slot] = n_++;
    }
    if (n_ == 0 || n_ > kSpecRmMax) {
      ++out_->transactions_skipped;
      return;
    }
    ++out_->transactions_checked;
    behaviour_.host = rec_.host;
    if (keep_) behaviour_.tx = TxText();
    behaviour_.rms = n_;
    // Every state a replay reaches is visited once per Finish: the initial
    // state here, a step's target when its memo entry is made (Step).
    if (!init_visited_[n_]) {
      init_visited_[n_] = true;
      Visit(s_);
    }
    // Transactions repeat a few shapes: one whose replay reads what an
    // earlier one of this Finish without a violation read takes the same
    // steps (their targets visited already) and finds no violation either.
    if (!keep_ && accepted_.contains(Signature())) return;
    bool violated = false;
    for (uint32_t at = rec_.first_ev; at != kNoEv && !violated; at = store_.events[at].next) {
      violated = !Apply(store_.events[at].ev);
    }
    if (keep_) {
      out_->behaviours.push_back(std::move(behaviour_));
    } else if (!violated) {
      accepted_.insert(signature_);
    }
  }

 private:
  // What the replay reads, in signature_: N, then per event of an RM of the
  // instance or of the transaction its kind, RM index, states and (an
  // enlistment's) whether its RM traces votes; events of other enlistments
  // are left out (Apply skips them). Not the event index nor any id: they
  // only name a violation.
  const std::vector<uint32_t>& Signature() {
    static_assert(static_cast<int>(Kind::kCrash) < 16 && kSpecRmMax < 15 && kEngNames.size() <= 32);
    signature_.assign(1, static_cast<uint32_t>(n_));
    for (uint32_t at = rec_.first_ev; at != kNoEv; at = store_.events[at].next) {
      const Ev& ev = store_.events[at].ev;
      const int i = ev.slot >= 0 ? participant_[ev.slot] : -1;
      if (ev.slot >= 0 && i < 0) continue;
      const bool traces_votes = ev.slot >= 0 && (rec_.en_flags[ev.slot] & kTracesVotes) != 0;
      signature_.push_back(static_cast<uint32_t>(ev.kind) | static_cast<uint32_t>(i + 1) << 4 |
                           static_cast<uint32_t>(ev.from) << 8 | static_cast<uint32_t>(ev.to) << 13 |
                           static_cast<uint32_t>(traces_votes) << 18);
    }
    return signature_;
  }

  // The transaction's id as the trace shows it (built only for messages).
  std::string TxText() const { return store_.Text(rec_.tx); }
  uint8_t Bit(int i) const { return static_cast<uint8_t>(1u << i); }
  void Visit(const State& s) { out_->spec_states[n_].insert(s.Key()); }

  std::string Describe(const Ev& ev) const {
    std::string en = ev.slot >= 0 ? absl::StrCat(" en=", store_.Text(rec_.ens[ev.slot])) : "";
    switch (ev.kind) {
      case Kind::kTxState: return absl::StrCat("tx.state tx=", TxText(), " to=", EngName(ev.to));
      case Kind::kEnState: return absl::StrCat("en.state", en, " from=", EngName(ev.from), " to=", EngName(ev.to));
      case Kind::kEnVoteNo: return absl::StrCat("en.vote_no", en);
      case Kind::kRmVoteYes: return absl::StrCat("rm.vote vote=yes uow=", TxText(), en);
      case Kind::kRmVoteNo: return absl::StrCat("rm.vote vote=no uow=", TxText(), en);
      case Kind::kRmCommitted: return absl::StrCat("rm.committed uow=", TxText(), en);
      case Kind::kRmAborted: return absl::StrCat("rm.aborted uow=", TxText(), en);
      case Kind::kRmPresumedAbort: return absl::StrCat("rm.aborted why=presumed uow=", TxText(), en);
      case Kind::kCrash: return absl::StrCat("crash h", rec_.host);
    }
    return "?";
  }

  // One observed (or implied) step to `target`: a stutter, a spec action, or
  // a short path of them; anything else is the violation.
  // depth: how many spec actions the event may stand for (1 but for the
  // engine calls that do several at once, see the header).
  bool Step(const State& target, const Ev& ev, int depth = 1) {
    if (target == s_) return true;  // a stutter
    auto [found, inserted] = memo_.try_emplace(StepKey{s_.Key(), target.Key(), n_, depth});
    if (inserted) {
      std::vector<Action>& actions = found->second.actions;
      found->second.accepted =
          OneAction(target, &actions) ||
          (depth > 1 && model::spec::PathWithin<TwoPhaseCrash>(s_, target, n_, depth, &actions));
    }
    // An accepted step's target is visited on the step's first use in this
    // Finish (a later use, same N and target key, would visit it again).
    if (found->second.accepted && found->second.visited_in != finish_) {
      found->second.visited_in = finish_;
      Visit(target);
    }
    if (!keep_ && found->second.accepted) {  // the common case: nothing to record
      s_ = target;
      return true;
    }
    ConformanceStep step;
    step.accepted = found->second.accepted;
    if (keep_) step.actions = found->second.actions;
    if (keep_ || !step.accepted) {
      step.event_index = ev.index;
      step.event = Describe(ev);
      step.from = s_;
      step.to = target;
    }
    if (!step.accepted) {
      out_->violations.push_back(
          {kConformanceRule, TxText(),
           absl::StrFormat("transaction %s (h%d, %d RMs): trace event #%d (%s) is no step of KtmTwoPhaseCrash: "
                           "from %s to %s %s leads",
                           TxText(), rec_.host, n_, ev.index, step.event, s_.ToText(n_), target.ToText(n_),
                           depth == 1 ? "no action" : absl::StrCat("no path of at most ", depth, " actions")),
           {}});
      if (keep_) behaviour_.steps.push_back(std::move(step));
      return false;
    }
    if (keep_) behaviour_.steps.push_back(std::move(step));
    s_ = target;
    return true;
  }

  // The common case without allocation once warm: one action leads there.
  bool OneAction(const State& target, std::vector<Action>* actions) {
    next_.clear();
    TwoPhaseCrash::Next(s_, n_, &next_);
    for (const auto& [action, t] : next_) {
      if (t == target) {
        actions->assign(1, action);
        return true;
      }
    }
    return false;
  }

  bool TmUp(const Ev& ev) {
    if (!s_.tm_down) return true;
    State t = s_;
    t.tm_down = false;
    return Step(t, ev);
  }
  bool RmUp(int i, const Ev& ev) {
    if (!(s_.rm_down & Bit(i))) return true;
    State t = s_;
    t.rm_down &= static_cast<uint8_t>(~Bit(i));
    return Step(t, ev);
  }
  // A recovered TM reads the prepared enlistments back from its log record.
  bool RereadPrepared(const Ev& ev) {
    for (int i = 0; i < n_; ++i) {
      if (s_.tm != TmPhase::kInit || !(s_.msg_prepared & Bit(i)) || (s_.tm_prepared & Bit(i))) continue;
      State t = s_;
      t.tm_prepared |= Bit(i);
      if (!Step(t, ev)) return false;
    }
    return true;
  }
  State WithRm(int i, RmPhase phase) const {
    State t = s_;
    t.rm[i] = phase;
    if (phase == RmPhase::kPrepared) t.msg_prepared |= Bit(i);
    return t;
  }

  bool Apply(const Ev& ev) {
    int i = ev.slot >= 0 ? participant_[ev.slot] : -1;
    if (ev.slot >= 0 && i < 0) {
      // Not an RM of the instance; only its delegation matters.
      return true;
    }
    switch (ev.kind) {
      case Kind::kTxState: return TxState(ev);
      case Kind::kEnState: return EnState(ev, i);
      case Kind::kEnVoteNo:
      case Kind::kRmVoteNo:
      case Kind::kRmAborted:
        return RmUp(i, ev) && Step(WithRm(i, RmPhase::kAborted), ev);
      case Kind::kRmVoteYes:
        return RmUp(i, ev) && Step(WithRm(i, RmPhase::kPrepared), ev);
      case Kind::kRmCommitted: return RmUp(i, ev) && Committed(ev, i);
      case Kind::kRmPresumedAbort: {
        if (!TmUp(ev)) return false;
        if (s_.tm == TmPhase::kInit) {
          State t = s_;
          t.tm = TmPhase::kAborted;
          t.msg_abort = true;
          if (!Step(t, ev)) return false;
        }
        return RmUp(i, ev) && Step(WithRm(i, RmPhase::kAborted), ev);
      }
      case Kind::kCrash: return Crash(ev);
    }
    return true;
  }

  bool TxState(const Ev& ev) {
    if (!TmUp(ev)) return false;
    if (ev.from == kRecovering && !RereadPrepared(ev)) return false;
    State t = s_;
    if (ev.to == kCommitted) {
      t.tm = TmPhase::kCommitted;
      t.msg_commit = true;
    } else if (ev.to == kAborted) {
      t.tm = TmPhase::kAborted;
      t.msg_abort = true;
    }
    return Step(t, ev);
  }

  bool EnState(const Ev& ev, int i) {
    if (ev.to == kDelegated) delegated_ = i;
    if (ev.from == kDelegated && ev.to == kActive) delegated_ = -1;
    if (!TmUp(ev)) return false;
    if (ev.to == kPrepared || ev.to == kInDoubt) {
      // PrepareComplete reached the TM (the RM prepared before it called it).
      if (ev.to == kPrepared && !RmUp(i, ev)) return false;
      // An RM that traces its votes (rm.vote) must have voted yes already;
      // for one that does not (the DTC's), its vote is implied.
      const bool traces_votes = (rec_.en_flags[ev.slot] & kTracesVotes) != 0;
      State t = s_.rm[i] == RmPhase::kWorking && !traces_votes ? WithRm(i, RmPhase::kPrepared) : s_;
      if (t.tm == TmPhase::kInit) t.tm_prepared |= Bit(i);
      return Step(t, ev, traces_votes ? 1 : 2);  // [RMPrepare,] TMRcvPrepared
    }
    if (ev.to == kCommitted) return RmUp(i, ev) && Committed(ev, i);
    if (ev.to == kAborted) return RmUp(i, ev) && Step(WithRm(i, RmPhase::kAborted), ev);
    return true;
  }

  // The RM committed. Under single-phase commit the delegated RM's commit is
  // the decision itself: the TM's commit and its Prepared message with it.
  bool Committed(const Ev& ev, int i) {
    State t = WithRm(i, RmPhase::kCommitted);
    if (delegated_ != i || s_.tm != TmPhase::kInit) return Step(t, ev);
    if (s_.rm[i] == RmPhase::kWorking) t.msg_prepared |= Bit(i);
    t.tm_prepared |= Bit(i);
    t.tm = TmPhase::kCommitted;
    t.msg_commit = true;
    return Step(t, ev, kConformancePathMax);  // RMPrepare, TMRcvPrepared, TMCommit, RMRcvCommitMsg
  }

  bool Crash(const Ev& ev) {
    if (!s_.tm_down) {
      State t = s_;
      t.tm_down = true;
      t.tm_prepared = 0;
      if (!Step(t, ev)) return false;
    }
    for (int i = 0; i < n_; ++i) {
      if (s_.rm_down & Bit(i)) continue;
      State t = s_;
      t.rm_down |= Bit(i);
      if (t.rm[i] == RmPhase::kWorking) t.rm[i] = RmPhase::kAborted;
      if (!Step(t, ev)) return false;
    }
    return true;
  }

  const RecordStore& store_;
  const TxRec& rec_;
  ConformanceResult* out_;
  bool keep_;
  std::vector<int>& participant_;  // slot -> RM index, or -1 (reused across transactions)
  int n_ = 0;
  int delegated_ = -1;
  State s_;
  ConformanceBehaviour behaviour_;
  std::vector<std::pair<Action, State>>& next_;  // reused across transactions
  absl::flat_hash_map<StepKey, StepFound, StepKeyHash>& memo_;  // StepMemo::steps
  const uint64_t finish_;                                         // this Finish's number in it
  std::array<bool, kSpecRmMax + 1>& init_visited_;
  absl::flat_hash_set<std::vector<uint32_t>>& accepted_;  // signatures replayed without a violation
  std::vector<uint32_t>& signature_;                      // this transaction's (reused buffer)
};

}  // namespace

struct ConformanceChecker::Impl {
  sim::World* world = nullptr;
  RecordStore store;
  // Indexes of txs not known forgotten (pruned at each crash): what a crash
  // walks, so its cost follows the live transactions, not the run's length.
  std::vector<uint32_t> live;

  // The last id the transaction index answered (a trace's events about one
  // transaction come in runs), and the enlistment index's answers,
  // direct-mapped by id (the events of a transaction's enlistments
  // interleave: one last answer missed 9 times in 10). A transaction's index
  // never changes once made; an enlistment's changes only when it is
  // created again, and en.create updates its slot.
  static constexpr IdKey kNoKey{0, 0xffffffffu, 0};  // never a key: other ids are fewer
  IdKey last_tx = kNoKey;
  uint32_t last_tx_index = 0;
  struct EnSlot {
    IdKey en = kNoKey;
    std::pair<uint32_t, int> at{0, 0};
  };
  static constexpr int kEnSlotBits = 6;
  std::array<EnSlot, size_t{1} << kEnSlotBits> en_slots{};
  EnSlot& EnSlotOf(const IdKey& en) {
    return en_slots[(IdKeyHash()(en) * 0x9e3779b97f4a7c15ull) >> (64 - kEnSlotBits)];
  }

  const std::pair<uint32_t, int>* FindEn(uint32_t host, const sim::TraceField* en) {
    IdKey key;
    if (!store.KnownKey(host, en, &key)) return nullptr;
    EnSlot& slot = EnSlotOf(key);
    if (slot.en == key) return &slot.at;
    const std::pair<uint32_t, int>* at = nullptr;
    if (auto it = store.hot_ens.find(key); it != store.hot_ens.end()) {
      at = &it->second;
    } else if (auto cold = store.cold_ens.find(key); cold != store.cold_ens.end()) {
      at = &cold->second;
    } else {
      return nullptr;
    }
    slot = EnSlot{key, *at};
    return &slot.at;
  }

  TxRec* FindTx(uint32_t host, const sim::TraceField* tx, bool create) {
    IdKey key;
    if (create) {
      key = store.Key(host, tx);
    } else if (!store.KnownKey(host, tx, &key)) {
      return nullptr;
    }
    if (key == last_tx) return &store.txs[last_tx_index];
    if (auto it = store.hot_txs.find(key); it != store.hot_txs.end()) return Remember(key, it->second);
    if (auto it = store.cold_txs.find(key); it != store.cold_txs.end()) return Remember(key, it->second);
    if (!create) return nullptr;
    const uint32_t index = static_cast<uint32_t>(store.txs.size());
    store.hot_txs.emplace(key, index);
    last_tx = key;
    last_tx_index = index;
    live.push_back(index);
    TxRec& rec = store.txs.emplace_back();
    rec.host = host;
    rec.tx = key;
    return &rec;
  }
  TxRec* Remember(const IdKey& key, uint32_t index) {
    last_tx = key;
    last_tx_index = index;
    return &store.txs[index];
  }
  // The record was forgotten or its host crashed: its index entries move to
  // the cold tier (found as before, but no longer in the table nearly every
  // event probes).
  void MakeCold(TxRec& rec) {
    if (rec.cold) return;
    rec.cold = true;
    MoveCold(store.hot_txs, store.cold_txs, rec.tx);
    for (const IdKey& en : rec.ens) MoveCold(store.hot_ens, store.cold_ens, en);
  }
  // Moves `key`'s entry, if any, from `hot` to `cold` (an emplace and an
  // erase by iterator: half the cost of extract and node insert).
  template <class Map>
  static void MoveCold(Map& hot, Map& cold, const IdKey& key) {
    const auto it = hot.find(key);
    if (it == hot.end()) return;
    cold.emplace(key, it->second);
    hot.erase(it);
  }
  // The slot an RM event is about: (host, uow, rm name).
  std::pair<TxRec*, int> RmSlot(const sim::TraceView& e) {
    TxRec* rec = FindTx(e.host, e.Find("uow"), false);
    if (rec == nullptr) return {nullptr, -1};
    const uint32_t rm = store.rm_names.Find(e.FieldText("rm", &text));
    const int slot = rm == TextIds::kAbsent ? -1 : rec->SlotOfRm(rm);
    if (slot < 0) return {nullptr, -1};
    rec->en_flags[slot] |= kSeen;
    return {rec, slot};
  }
  void OnEvent(const sim::TraceView& e, uint64_t index);
  std::string text;  // a field's text when it was recorded as a number
};

void ConformanceChecker::Impl::OnEvent(const sim::TraceView& e, uint64_t index) {
  const TraceKind kind = TraceKindOf(e.kind);
  if (kind == TraceKind::kTxCreate) {
    FindTx(e.host, e.Find("tx"), true);
  } else if (kind == TraceKind::kEnCreate) {
    TxRec* rec = FindTx(e.host, e.Find("tx"), true);
    int slot = static_cast<int>(rec->ens.size());
    const IdKey en = store.Key(e.host, e.Find("en"));
    rec->ens.push_back(en);
    rec->en_flags.push_back(0);
    rec->last_created = slot;
    const std::pair<uint32_t, int> at = {static_cast<uint32_t>(rec - store.txs.data()), slot};
    // Created again (a recovered enlistment): the latest creation wins, in
    // whichever tier the id was.
    auto& tier = rec->cold ? store.cold_ens : store.hot_ens;
    if (auto [it, inserted] = tier.try_emplace(en, at); inserted) {
      (rec->cold ? store.hot_ens : store.cold_ens).erase(en);  // a key is in one tier at a time
    } else {
      it->second = at;
    }
    EnSlotOf(en) = EnSlot{en, at};
  } else if (kind == TraceKind::kDistBranch) {
    // A participant's branch: the enlistment just created for it is the
    // superior enlistment (the TM's own superior), no RM of the instance.
    TxRec* rec = FindTx(e.host, e.Find("uow"), false);
    if (rec != nullptr && rec->last_created >= 0) rec->en_flags[rec->last_created] |= kSuperior;
  } else if (kind == TraceKind::kEnSuperiorCommit || kind == TraceKind::kEnSuperiorRollback) {
    if (const auto* at = FindEn(e.host, e.Find("en"))) store.txs[at->first].en_flags[at->second] |= kSuperior;
  } else if (kind == TraceKind::kRmEnlist) {
    TxRec* rec = FindTx(e.host, e.Find("uow"), false);
    if (rec != nullptr && rec->last_created >= 0) {
      const uint32_t rm = store.rm_names.Intern(e.FieldText("rm", &text));
      if (rec->SlotOfRm(rm) < 0) {
        rec->rm_slot.emplace_back(rm, rec->last_created);
        rec->en_flags[rec->last_created] |= kTracesVotes;
      }
    }
  } else if (kind == TraceKind::kTxState) {
    TxRec* rec = FindTx(e.host, e.Find("tx"), true);
    Eng to = EngOf(e.Find("to"));
    store.Append(*rec, {index, Kind::kTxState, -1, EngOf(e.Find("from")), to});
    if (to == kForgotten) {
      rec->forgotten = true;
      MakeCold(*rec);
    }
  } else if (kind == TraceKind::kEnState || kind == TraceKind::kEnVoteNo) {
    const auto* at = FindEn(e.host, e.Find("en"));
    if (at == nullptr) return;
    TxRec& rec = store.txs[at->first];
    int slot = at->second;
    rec.en_flags[slot] |= kSeen;
    if (kind == TraceKind::kEnVoteNo) {
      store.Append(rec, {index, Kind::kEnVoteNo, static_cast<int16_t>(slot), kOther, kOther});
      return;
    }
    Eng to = EngOf(e.Find("to"));
    if (to == kReadOnly) rec.en_flags[slot] |= kReadOnlyFlag;
    store.Append(rec, {index, Kind::kEnState, static_cast<int16_t>(slot), EngOf(e.Find("from")), to});
  } else if (kind == TraceKind::kRmVote || kind == TraceKind::kRmCommitted || kind == TraceKind::kRmAborted) {
    auto [rec, slot] = RmSlot(e);
    if (rec == nullptr) return;
    Kind k = Kind::kRmCommitted;
    if (kind == TraceKind::kRmVote) {
      const std::string_view vote = e.FieldText("vote", &text);
      if (vote == "readonly") rec->en_flags[slot] |= kReadOnlyFlag;
      if (vote != "yes" && vote != "no") return;
      k = vote == "yes" ? Kind::kRmVoteYes : Kind::kRmVoteNo;
    } else if (kind == TraceKind::kRmAborted) {
      k = e.FieldText("why", &text) == "presumed" ? Kind::kRmPresumedAbort : Kind::kRmAborted;
    }
    store.Append(*rec, {index, k, static_cast<int16_t>(slot), kOther, kOther});
  } else if (kind == TraceKind::kCrash) {
    size_t kept = 0;
    for (uint32_t i : live) {
      TxRec& rec = store.txs[i];
      if (rec.forgotten) continue;
      live[kept++] = i;
      if (rec.host != e.host) continue;
      store.Append(rec, {index, Kind::kCrash, -1, kOther, kOther});
      MakeCold(rec);
    }
    live.resize(kept);
  }
}

ConformanceChecker::ConformanceChecker() : impl_(std::make_unique<Impl>()) {}

ConformanceChecker::ConformanceChecker(sim::World* world) : ConformanceChecker() {
  impl_->world = world;
  Impl* impl = impl_.get();
  world->trace().add_view_listener(
      [impl, world](const sim::TraceView& e) { impl->OnEvent(e, world->trace().count() - 1); }, Wanted);
}

ConformanceChecker::~ConformanceChecker() = default;

void ConformanceChecker::OnEvent(const sim::TraceEvent& event, uint64_t index) {
  if (Wanted(event.kind)) impl_->OnEvent(sim::TraceEventView(event).view(), index);
}

size_t ConformanceChecker::hot_index_size() const { return impl_->store.hot_txs.size() + impl_->store.hot_ens.size(); }

ConformanceResult ConformanceChecker::Finish(bool keep_behaviours) const {
  ConformanceResult result;
  // The thread's step memo: its entries are pure functions of their keys,
  // and which targets this Finish visited goes by its number.
  thread_local StepMemo step_memo;
  if (step_memo.steps.size() > StepMemo::steps_max) step_memo.steps.clear();
  ReplayScratch scratch(&step_memo);
  for (const TxRec& rec : impl_->store.txs) {
    Replay(impl_->store, rec, &result, keep_behaviours, &scratch).Run();
  }
  return result;
}

void ConformanceChecker::AppendTo(const Scenario& scenario, RunResult* result) const {
  ConformanceResult conformance = Finish();
  for (const auto& [n, keys] : conformance.spec_states) result->coverage.spec_states[n].insert(keys.begin(), keys.end());
  const auto& run = scenario.checkers;
  if (!run.empty() && std::find(run.begin(), run.end(), kConformanceRule) == run.end()) return;
  if (conformance.violations.empty()) return;
  for (Violation& v : conformance.violations) result->violations.push_back(std::move(v));
  if (scenario.expect == Expect::kPass) {
    result->passed = false;
  } else if (scenario.expect_rule.empty() || scenario.expect_rule == kConformanceRule) {
    result->passed = true;
  }
}

}  // namespace harness

namespace harness {

bool AtMostOneRmInFlight(const model::spec::TwoPhaseState& s, int n) {
  if (s.tm != model::spec::TmPhase::kInit) return true;
  int in_flight = 0;
  for (int i = 0; i < n; ++i) {
    if (s.rm[i] == model::spec::RmPhase::kAborted) ++in_flight;
    if ((s.msg_prepared & (1u << i)) && !(s.tm_prepared & (1u << i))) ++in_flight;
  }
  return in_flight <= 1;
}

std::vector<SpecCoverageFigure> SpecCoverageFigures(const std::map<int, std::set<uint64_t>>& spec_states,
                                                    int rms_max) {
  std::vector<SpecCoverageFigure> figures;
  static const std::set<uint64_t> kNone;
  for (int n = 1; n <= rms_max; ++n) {
    auto it = spec_states.find(n);
    const std::set<uint64_t>& seen = it == spec_states.end() ? kNone : it->second;
    SpecCoverageFigure f;
    f.rms = n;
    for (const auto& s : model::spec::Reachable<model::spec::TwoPhase>(n)) {
      ++f.two_phase_states;
      if (seen.count(s.Key())) {
        ++f.two_phase_reached;
      } else {
        f.two_phase_unreached.push_back(s.ToText(n));
        if (!AtMostOneRmInFlight(s, n)) ++f.two_phase_unreached_ktm_impossible;
      }
    }
    for (const auto& s : model::spec::Reachable<model::spec::TwoPhaseCrash>(n)) {
      ++f.crash_states;
      if (seen.count(s.Key())) ++f.crash_reached;
    }
    figures.push_back(std::move(f));
  }
  return figures;
}

}  // namespace harness

namespace harness {

namespace {

const ConformanceBehaviour* PickBehaviour(const ConformanceResult& r) {
  const ConformanceBehaviour* best = nullptr;
  for (const auto& b : r.behaviours) {
    if (!b.steps.empty() && !b.steps.back().accepted) return &b;
    if (best == nullptr || b.steps.size() > best->steps.size()) best = &b;
  }
  return best;
}

}  // namespace

std::string TlaTraceModule(const Scenario& scenario, uint64_t seed, RunOptions options, RunResult* result) {
  std::unique_ptr<ConformanceChecker> checker;
  auto hook = options.world_hook;
  options.world_hook = [&checker, hook](sim::World& world) {
    checker = std::make_unique<ConformanceChecker>(&world);
    if (hook) hook(world);
  };
  *result = RunScenario(scenario, seed, options);
  ConformanceResult conformance = checker->Finish(/*keep_behaviours=*/true);
  const ConformanceBehaviour* b = PickBehaviour(conformance);
  std::string out = "------------------------------ MODULE KtmTrace ------------------------------\n";
  absl::StrAppend(&out, "(* ktmsim trace --format tla: scenario ", scenario.name, ", seed ", seed, ".\n");
  if (b == nullptr) {
    absl::StrAppend(&out, "   No transaction was checked (none had an RM). *)\n",
                    "EXTENDS KtmTwoPhaseCrash\n=============================================================================\n");
    return out;
  }
  bool violates = !b->steps.empty() && !b->steps.back().accepted;
  absl::StrAppend(&out, "   Transaction ", b->tx, " on host h", b->host, ", ", b->rms, " RMs, ", b->steps.size(),
                  " steps", violates ? "; its last step is the first that is no step of KtmTwoPhaseCrash" : "",
                  ".\n   Check with TLC (KtmTrace.cfg):\n     CONSTANTS ");
  std::string rms;
  for (int i = 0; i < b->rms; ++i) {
    absl::StrAppend(&out, "rm", i + 1, " = rm", i + 1, "  ");
    absl::StrAppend(&rms, i ? ", " : "", "rm", i + 1);
  }
  absl::StrAppend(&out, "RM = {", rms, "}\n     SPECIFICATION TraceSpec\n     PROPERTY TraceIsBehaviour\n",
                  violates ? "   TLC is expected to report TraceIsBehaviour violated at the last step.\n"
                           : "   TLC is expected to find no violation.\n",
                  "   Steps (trace event index: event -> actions):\n");
  for (const ConformanceStep& step : b->steps) {
    std::string actions;
    for (const auto& a : step.actions) absl::StrAppend(&actions, actions.empty() ? "" : ", ", a.ToText());
    absl::StrAppend(&out, "     #", step.event_index, " ", step.event, " -> ",
                    step.accepted ? actions : std::string("NOT A SPEC STEP"), "\n");
  }
  absl::StrAppend(&out, "*)\nEXTENDS KtmTwoPhaseCrash, Sequences, TLC\n\nCONSTANTS ", rms, "\nASSUME RM = {", rms,
                  "}\n\nVARIABLE i  \\* the position in Trace\n\n",
                  "Trace == <<\n  ", model::spec::TwoPhaseState{}.ToTlaRecord(b->rms));
  for (const auto& step : b->steps) {
    // A step that stands for several actions is written out state by state.
    State s = step.from;
    for (size_t a = 0; step.accepted && a + 1 < step.actions.size(); ++a) {
      std::vector<std::pair<Action, State>> next;
      TwoPhaseCrash::Next(s, b->rms, &next);
      for (const auto& [action, t] : next) {
        if (std::string_view(action.name) == step.actions[a].name && action.rm == step.actions[a].rm) {
          s = t;
          break;
        }
      }
      absl::StrAppend(&out, ",\n  ", s.ToTlaRecord(b->rms));
    }
    absl::StrAppend(&out, ",\n  ", step.to.ToTlaRecord(b->rms));
  }
  absl::StrAppend(&out, "\n>>\n\n",
                  "Is(k) == /\\ rmState = Trace[k].rmState /\\ tmState = Trace[k].tmState\n",
                  "         /\\ tmPrepared = Trace[k].tmPrepared /\\ msgs = Trace[k].msgs\n",
                  "         /\\ tmUp = Trace[k].tmUp /\\ rmUp = Trace[k].rmUp\n",
                  "TraceInit == i = 1 /\\ Is(1)\n",
                  "TraceNext == /\\ i < Len(Trace)\n",
                  "             /\\ i' = i + 1\n",
                  "             /\\ rmState' = Trace[i + 1].rmState /\\ tmState' = Trace[i + 1].tmState\n",
                  "             /\\ tmPrepared' = Trace[i + 1].tmPrepared /\\ msgs' = Trace[i + 1].msgs\n",
                  "             /\\ tmUp' = Trace[i + 1].tmUp /\\ rmUp' = Trace[i + 1].rmUp\n",
                  "TraceSpec == TraceInit /\\ [][TraceNext]_<<i, vars>>\n\n",
                  "\\* Each step of the trace is a step of KtmTwoPhaseCrash (an engine call that\n",
                  "\\* does several actions at once is written out one state per action).\n",
                  "TraceIsBehaviour == [][Next]_vars\n",
                  "=============================================================================\n");
  return out;
}

}  // namespace harness
