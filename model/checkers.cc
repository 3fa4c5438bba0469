// Checkers over a recorded History (see checkers.h for the rules). One pass
// over the events maps every transaction, RM and (rm, key) place to a dense
// integer id and builds Facts in flat vectors indexed by those ids: per
// transaction and per (transaction, RM) the indexes of the events that matter
// (first commit, first abort, writes, votes, ...), the commit order, per
// place the final values. Event indexes are stored in 32 bits and a
// transaction's lists of them (writes, "no" votes, reads) are chained through one
// per-event `next` array, so a transaction's facts are 176 bytes with
// no allocation of their own (was 312 with inlined vectors of size_t).
// The rules' walk, one transaction after another, reads those facts as a
// stream; what would send it back to the per-event arrays or to another
// transaction's facts (scattered: on a history larger than the cache each
// such read waited for memory) is kept or judged while the events are read
// (RmFacts' votes, ReadIsFine, TxFacts::wrote_reference). A name's id in the history's NameTable indexes a
// flat vector, so nothing hashes or compares strings (a history with names
// from other tables, built by hand, is re-interned into one table first).
// Each rule is then a walk over those vectors in name order (ids sorted by
// name once), so output order is what a walk over std::maps keyed by the
// strings gives, and the cost is linear in the number of events (plus
// sorting the distinct names). Indexes are compared as "happened before"
// because History::events is in time order.
#include "model/checkers.h"


#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <memory>
#include <set>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "model/checker_catalog.h"

namespace model {

namespace {

// Moves `from` into `to` when it holds more memory (a moved-from vector holds none).
template <typename T>
void KeepLarger(std::vector<T>& from, std::vector<T>& to) {
  if (from.capacity() > to.capacity()) to = std::move(from);
}

// "No event": event indexes are stored in 32 bits (a history has fewer
// than 2^32 - 1 events; BuildFacts checks), read back as size_t, and kNone
// is the largest of them, so Min() of an index and kNone is the index.
constexpr size_t kNone = std::numeric_limits<uint32_t>::max();
constexpr uint32_t kNoId = std::numeric_limits<uint32_t>::max();
using Index = uint32_t;  // an event index as stored (kNone when none)

// A list of event indexes, ascending, chained through Facts::next (each
// event is in at most one list): 8 bytes whatever its length.
struct List {
  Index head = kNoId;
  Index tail = kNoId;
  bool empty() const { return head == kNoId; }
  size_t front() const { return head; }
};

// The indexes of a List, in order.
class ListRange {
 public:
  ListRange(const std::vector<Index>& next, const List& list) : next_(next.data()), head_(list.head) {}
  class Iterator {
   public:
    Iterator(const Index* next, Index at) : next_(next), at_(at) {}
    size_t operator*() const { return at_; }
    Iterator& operator++() {
      at_ = next_[at_];
      return *this;
    }
    bool operator!=(const Iterator& other) const { return at_ != other.at_; }

   private:
    const Index* next_;
    Index at_;
  };
  Iterator begin() const { return Iterator(next_, head_); }
  Iterator end() const { return Iterator(next_, kNoId); }

 private:
  const Index* next_;
  Index head_;
};

// Names of one kind (transactions, RMs, keys) to dense ids (first seen = 0),
// and the ids in name order. Every name of the history is in one NameTable
// (BuildFacts sees to it), so a name's table id indexes a flat vector: no
// hashing, no string comparison.
class Names {
 public:
  // Inline for a name of this table seen before (nearly every call, once
  // per event and more); the rest out of line.
  uint32_t Intern(const Name& name) {
    const uint32_t table_id = name.id();
    if (name.table() == table_ && table_id < dense_.size() && dense_[table_id] != kNoId) [[likely]] {
      return dense_[table_id];
    }
    return InternNew(name);
  }
  absl::string_view Name(uint32_t id) const { return names_[id]; }
  // Room for ids of a table of `table_size` names and about `names` of this kind.
  // (names of this kind are spread over the whole table when `spread`, else
  // the table ids seen grow the flat index as needed).
  void Reserve(const NameTable* table, size_t names, bool spread) {
    table_ = table;
    dense_.assign(spread && table != nullptr ? table->size() : 1, kNoId);
    names_.reserve(names);
  }
  size_t size() const { return names_.size(); }
  // rank[id] = position of the name in sorted order; order = ids sorted by name.
  void Sort() {
    order_.resize(names_.size());
    for (uint32_t id = 0; id < order_.size(); ++id) order_[id] = id;
    std::sort(order_.begin(), order_.end(),
              [this](uint32_t a, uint32_t b) { return names_[a] < names_[b]; });
    rank_.resize(names_.size());
    for (uint32_t position = 0; position < order_.size(); ++position) {
      rank_[order_[position]] = position;
    }
  }
  const std::vector<uint32_t>& order() const { return order_; }
  uint32_t rank(uint32_t id) const { return rank_[id]; }
  // A name from another table was seen.
  bool foreign() const { return foreign_; }
  // The storage of the table id -> dense id map and the names, from and
  // back to a CheckScratch (the contents do not matter: Reserve resets them).
  void Take(std::vector<uint32_t>& dense, std::vector<absl::string_view>& names) {
    dense_ = std::move(dense);
    names_ = std::move(names);
    names_.clear();
  }
  void Return(std::vector<uint32_t>& dense, std::vector<absl::string_view>& names) {
    KeepLarger(dense_, dense);
    KeepLarger(names_, names);
  }

 private:
  [[gnu::noinline]] uint32_t InternNew(const model::Name& name) {
    if (name.table() != table_ && !name.empty()) {  // "" is id 0 in every table
      foreign_ = true;
      return 0;  // the facts are thrown away (BuildFacts)
    }
    const uint32_t table_id = name.id();
    if (table_id >= dense_.size()) dense_.resize(std::max<size_t>(table_id + 1, dense_.size() * 2), kNoId);
    uint32_t& dense = dense_[table_id];
    if (dense == kNoId) {
      dense = static_cast<uint32_t>(names_.size());
      names_.push_back(name);
    }
    return dense;
  }

  const NameTable* table_ = nullptr;
  bool foreign_ = false;
  std::vector<uint32_t> dense_;  // table id -> dense id, kNoId when not seen
  std::vector<absl::string_view> names_;
  std::vector<uint32_t> order_;
  std::vector<uint32_t> rank_;
};

uint64_t PlaceValue(uint32_t place, uint32_t value) {
  return (uint64_t{place} << 32) | value;
}

// What the rules need of an event's detail, read once in the pass that builds
// the facts (a write's in Facts::event_code, a vote's in its RmFacts), so the
// rules never go back to the events.
enum Code : uint8_t {
  kCodeNone = 0,
  kVoteYes, kVoteNo, kVoteReadOnly, kVoteSpc, kVoteOther,  // kVote detail
  kWriteVolatile,                                          // kWrite detail "volatile"
};

Code VoteCode(const Name& detail) {
  if (detail == "yes") return kVoteYes;
  if (detail == "no") return kVoteNo;
  if (detail == "readonly") return kVoteReadOnly;
  if (detail == "spc") return kVoteSpc;
  return kVoteOther;
}

// What one transaction did at one RM.
struct RmFacts {
  uint32_t rm = kNoId;
  List writes;                 // kWrite indexes
  // Its votes as validity reads them, kept when they come so that the rules
  // need not go back to them (scattered through the per-event arrays, on a
  // long history each a wait for memory): the "no" votes (each one a
  // violation if the tx commits), the first "yes" or "readonly" vote and the
  // first "spc" vote (AcceptedVote).
  List no_votes;
  Index first_yes = kNoId;     // "yes" or "readonly"
  Index first_spc = kNoId;
  Index enlist = kNoId;        // first kEnlist
  Index first_committed = kNoId;
  Index first_aborted = kNoId;
  Index lost = kNoId;          // first kRmLost (a volatile RM's effects gone in a crash)
  // Where its participation ended: the first of kRmCommitted, kRmAborted,
  // kRmLost and a "readonly" or "spc" vote (termination), and when.
  Index resolved = kNoId;
  int64_t resolved_ns = 0;
};

// What one transaction did overall; rms in RM name order once built.
struct TxFacts {
  // User-provided, so that a new one (Facts::AddTx) is not first
  // zero-filled whole: the members below are set, the inline RmFacts storage
  // is written when an RM is added. The fill (a `rep stos` of 160 bytes per
  // transaction) was a tenth of building the facts.
  TxFacts() {}  // NOLINT(modernize-use-equals-default): `= default` would zero-fill

  Index begin = kNoId;
  Index first_commit_request = kNoId;
  Index first_rollback_request = kNoId;
  Index first_timeout = kNoId;
  Index first_outcome = kNoId;
  Index told_committed = kNoId;  // first kOutcome "committed"
  Index told_aborted = kNoId;    // first kOutcome "aborted"
  bool reads_fine = true;        // every kRead so far passed isolation (ReadIsFine)
  bool wrote_reference = false;  // a write of it is in the reference state (MarkReferenceWriters)
  int64_t begin_ns = 0;          // time of `begin`
  int64_t first_outcome_ns = 0;  // time of `first_outcome`
  List reads;
  absl::InlinedVector<RmFacts, 2> rms;

  RmFacts& At(uint32_t rm) {
    for (RmFacts& facts : rms) {
      if (facts.rm == rm) return facts;
    }
    rms.emplace_back().rm = rm;
    return rms.back();
  }
  const RmFacts* Find(uint32_t rm) const {
    for (const RmFacts& facts : rms) {
      if (facts.rm == rm) return &facts;
    }
    return nullptr;
  }
  const RmFacts& At(uint32_t rm) const { return *Find(rm); }  // the tx has facts at rm
};

}  // namespace

// The per-event arrays and the per-transaction facts of Facts, kept between
// checks (see CheckScratch).
struct CheckScratch::Buffers {
  std::vector<uint32_t> event_tx;
  std::vector<uint32_t> event_place;
  std::vector<uint32_t> next;
  std::vector<uint32_t> event_value;
  std::vector<uint8_t> event_code;
  std::vector<TxFacts> tx;
  // Per name of the history's table (Names and Facts::first_write_of_value).
  std::vector<uint32_t> tx_dense;
  std::vector<absl::string_view> tx_names;
  std::vector<Index> first_write_of_value;

  size_t bytes() const {
    return (event_tx.capacity() + event_place.capacity() + next.capacity() + event_value.capacity() +
            tx_dense.capacity() + first_write_of_value.capacity()) *
               sizeof(uint32_t) +
           event_code.capacity() + tx.capacity() * sizeof(TxFacts) +
           tx_names.capacity() * sizeof(absl::string_view);
  }
};

CheckScratch::CheckScratch() = default;
CheckScratch::~CheckScratch() = default;
size_t CheckScratch::bytes_held() const { return buffers_ == nullptr ? 0 : buffers_->bytes(); }

CheckScratch::Buffers& ScratchBuffers(CheckScratch& scratch) {
  if (scratch.buffers_ == nullptr) scratch.buffers_ = std::make_unique<CheckScratch::Buffers>();
  return *scratch.buffers_;
}

namespace {

struct Facts {
  Facts() = default;
  Facts(Facts&&) = default;
  Facts& operator=(Facts&&) = delete;
  // The arrays go back to the scratch they came from.
  ~Facts() {
    if (scratch == nullptr) return;
    KeepLarger(event_tx, scratch->event_tx);
    KeepLarger(event_place, scratch->event_place);
    KeepLarger(next, scratch->next);
    KeepLarger(event_value, scratch->event_value);
    KeepLarger(event_code, scratch->event_code);
    KeepLarger(tx, scratch->tx);
    txs.Return(scratch->tx_dense, scratch->tx_names);
    KeepLarger(first_write_of_value, scratch->first_write_of_value);
  }
  // Takes the arrays of `buffers` (they come back when this is destroyed).
  // Their contents are stale: the per-event arrays are written at every
  // index the rules read (Append ends each list) and never cleared, which
  // at 1M transactions was a pass of its own over 166 MB.
  void Borrow(CheckScratch::Buffers* buffers) {
    scratch = buffers;
    if (scratch == nullptr) return;
    event_tx = std::move(scratch->event_tx);
    event_place = std::move(scratch->event_place);
    next = std::move(scratch->next);
    event_value = std::move(scratch->event_value);
    event_code = std::move(scratch->event_code);
    tx = std::move(scratch->tx);
    txs.Take(scratch->tx_dense, scratch->tx_names);
    first_write_of_value = std::move(scratch->first_write_of_value);
  }

  CheckScratch::Buffers* scratch = nullptr;
  const History* history = nullptr;
  // The history re-interned into one table, when `history` was not (events
  // built by hand): `history` points at it.
  std::shared_ptr<const History> compacted;
  bool foreign = false;  // a written value from another table was seen
  Names txs;                        // transaction names
  Names rms;                        // RM names
  Names keys;                       // keys (only their order matters, with the RM's)
  // By tx id, the first tx_count of them; the rest are an earlier check's.
  // A vector kept in the scratch: a fresh deque took a long history's facts
  // (176 bytes a transaction) as new pages from the kernel at every check,
  // and gave them back. Its elements are reused in place (AddTx): clearing
  // them at the end of a check was one more pass over them all.
  std::vector<TxFacts> tx;
  uint32_t tx_count = 0;
  std::vector<uint32_t> event_tx;   // per event: tx id, kNoId when the event has no tx facts
  std::vector<uint32_t> event_place;  // per kWrite / kRead / kFinalValue: place id
  std::vector<Index> next;            // per event: the next one in its List, kNoId at the end
  // Per kWrite / kRead / kFinalValue: the value's id in the history's table
  // (0 = ""; equal ids are equal values, all names being in one table).
  std::vector<uint32_t> event_value;
  std::vector<uint8_t> event_code;    // per kWrite: its Code
  // (rm, key) places.
  absl::flat_hash_map<std::pair<uint32_t, uint32_t>, uint32_t> place_ids;
  std::vector<std::pair<uint32_t, uint32_t>> places;  // place id -> (rm id, key id)
  std::vector<uint32_t> place_order;                  // place ids by (rm name, key name)
  std::vector<uint32_t> place_rank;                   // place id -> position in place_order
  // Place id -> its kFinalValue indexes (chained through `next`: 8 bytes a
  // place, where an inlined vector took 16).
  std::vector<List> finals;
  // Place id -> the last write applied by a commit so far (kNoId: none),
  // kept while the events are read, when the committing transaction's writes
  // are still in cache (BuildReference). A write of a tx at an RM after its
  // commit there (late_write) applies at that commit's place in the order,
  // before later commits: then BuildReference replays the commits instead.
  std::vector<Index> committed_write;
  bool late_write = false;
  // Value's table id -> its first kWrite (at any place); a value also
  // written at another place: (place, value id) -> first kWrite there.
  std::vector<Index> first_write_of_value;
  absl::flat_hash_map<uint64_t, Index> first_write_elsewhere;
  int64_t faults_stop_ns = 0;       // time of the last kFaultsStop
  // kCrash indexes per host, ascending (volatile keys, sharing).
  std::map<uint32_t, std::vector<size_t>> crashes;
  std::vector<size_t> opens;        // kOpen indexes (non-transacted file opens)

  // The first crash of the host of `index` after it, or kNone.
  size_t CrashAfter(size_t index) const {
    auto it = crashes.find(history->events[index].host);
    if (it == crashes.end()) return kNone;
    auto next = std::upper_bound(it->second.begin(), it->second.end(), index);
    return next == it->second.end() ? kNone : *next;
  }
  // A write of a volatile key with a crash of its host after it: gone.
  size_t LostInCrash(size_t write) const {
    return event_code[write] == kWriteVolatile && !crashes.empty() ? CrashAfter(write) : kNone;
  }

  const HistoryEvent& event(size_t index) const { return history->events[index]; }
  // The facts of a transaction seen for the first time (id tx_count).
  void AddTx() {
    if (tx_count == tx.size()) {
      tx.emplace_back();
    } else {
      std::destroy_at(&tx[tx_count]);
      std::construct_at(&tx[tx_count]);
    }
    ++tx_count;
    // A transaction's facts are written over an earlier check's (the
    // scratch) or into fresh memory: on a long history it is not in cache,
    // and the first write of each TxFacts waited for its lines (at 1M
    // transactions, about a twentieth of a check). Asked for a few
    // transactions ahead (AddTx writes them in id order), the lines come
    // while the events between are read.
    static_assert(sizeof(TxFacts) <= 3 * 64, "three cache lines are asked for");
    if (tx_count + kPrefetchTxs < tx.capacity()) {
      const char* ahead = reinterpret_cast<const char*>(tx.data() + tx_count + kPrefetchTxs);
      __builtin_prefetch(ahead, 1);
      __builtin_prefetch(ahead + 64, 1);
      __builtin_prefetch(ahead + 128, 1);
    }
  }
  static constexpr size_t kPrefetchTxs = 8;
  // Appends event `index` (later than every index in `list`) to `list`.
  void Append(List& list, size_t index) {
    if (list.empty()) {
      list.head = static_cast<Index>(index);
    } else {
      next[list.tail] = static_cast<Index>(index);
    }
    list.tail = static_cast<Index>(index);
    next[index] = kNoId;
  }
  ListRange Each(const List& list) const { return ListRange(next, list); }
  // A name from another table than the history's was seen: ids do not apply.
  bool AnyForeign() const { return foreign || txs.foreign() || rms.foreign() || keys.foreign(); }
  // Notes a name whose table id is used (a value looked up by id).
  void Own(const Name& name) {
    if (name.table() != history->names.get() && !name.empty()) foreign = true;
  }
  // The kWrite at `index` (its place already in event_place) wrote `value`.
  void NoteWrite(size_t index, const Name& value) {
    Own(value);
    const uint32_t id = value.id();
    event_value[index] = id;
    if (id >= first_write_of_value.size()) {
      first_write_of_value.resize(std::max<size_t>(id + 1, first_write_of_value.size() * 2), kNone);
    }
    Index& first = first_write_of_value[id];
    if (first == kNone) {
      first = index;
    } else if (event_place[first] != event_place[index]) {
      first_write_elsewhere.try_emplace(PlaceValue(event_place[index], id), index);
    }
  }
  // The first kWrite of `value` at `place`, or kNone.
  size_t FirstWriteAt(uint32_t place, uint32_t id) const {
    if (id < first_write_of_value.size()) {
      const size_t first = first_write_of_value[id];
      if (first == kNone) return kNone;
      if (event_place[first] == place) return first;
    }
    auto it = first_write_elsewhere.find(PlaceValue(place, id));
    return it == first_write_elsewhere.end() ? kNone : it->second;
  }
  absl::string_view TxName(uint32_t id) const { return txs.Name(id); }
  absl::string_view RmName(uint32_t id) const { return rms.Name(id); }
  uint32_t Place(const HistoryEvent& event) {
    const uint32_t rm = rms.Intern(event.rm);
    const uint32_t key = keys.Intern(event.key);
    auto [it, inserted] = place_ids.try_emplace({rm, key}, static_cast<uint32_t>(places.size()));
    if (inserted) {
      places.push_back({rm, key});
      finals.emplace_back();
      committed_write.push_back(kNoId);
    }
    return it->second;
  }
  // The facts of the tx of the kWrite at `index` at the RM it wrote.
  const RmFacts& RmFactsOf(size_t write) const {
    return tx[event_tx[write]].At(places[event_place[write]].first);
  }
};

size_t Min(size_t a, size_t b) { return std::min(a, b); }


int64_t SaturatingAdd(int64_t a, int64_t b) {
  if (b > 0 && a > std::numeric_limits<int64_t>::max() - b) {
    return std::numeric_limits<int64_t>::max();
  }
  if (b < 0 && a < std::numeric_limits<int64_t>::min() - b) {
    return std::numeric_limits<int64_t>::min();
  }
  return a + b;
}

// The first resolving event of a tx at an RM (events come in index order).
void NoteResolved(const HistoryEvent& event, size_t index, RmFacts& rm_facts) {
  if (rm_facts.resolved != kNoId) return;
  rm_facts.resolved = static_cast<Index>(index);
  rm_facts.resolved_ns = event.time_ns;
}

void RecordRmEvent(const HistoryEvent& event, size_t index, RmFacts& rm_facts, Facts& facts) {
  switch (event.kind) {
    case EventKind::kEnlist:
      if (rm_facts.enlist == kNone) rm_facts.enlist = index;
      break;
    case EventKind::kWrite:
      if (rm_facts.first_committed != kNone) facts.late_write = true;
      facts.Append(rm_facts.writes, index);
      facts.NoteWrite(index, event.value);
      facts.event_code[index] = event.detail == "volatile" ? kWriteVolatile : kCodeNone;
      break;
    case EventKind::kVote: {
      const Code code = VoteCode(event.detail);
      if (code == kVoteNo) facts.Append(rm_facts.no_votes, index);
      if ((code == kVoteYes || code == kVoteReadOnly) && rm_facts.first_yes == kNoId) rm_facts.first_yes = index;
      if (code == kVoteSpc && rm_facts.first_spc == kNoId) rm_facts.first_spc = index;
      if (code == kVoteReadOnly || code == kVoteSpc) NoteResolved(event, index, rm_facts);
      break;
    }
    case EventKind::kRmCommitted:
      if (rm_facts.first_committed == kNone) {
        rm_facts.first_committed = index;
        for (size_t write : facts.Each(rm_facts.writes)) {
          facts.committed_write[facts.event_place[write]] = static_cast<Index>(write);
        }
      }
      NoteResolved(event, index, rm_facts);
      break;
    case EventKind::kRmAborted:
      if (rm_facts.first_aborted == kNone) rm_facts.first_aborted = index;
      NoteResolved(event, index, rm_facts);
      break;
    case EventKind::kRmLost:
      if (rm_facts.lost == kNone) rm_facts.lost = index;
      NoteResolved(event, index, rm_facts);
      break;
    default:
      break;
  }
}

bool ReadIsFine(const Facts& facts, const TxFacts& tx, uint32_t reader, size_t read);

void RecordTxEvent(const HistoryEvent& event, size_t index, Facts& facts) {
  const uint32_t id = facts.txs.Intern(event.tx);
  if (id == facts.tx_count) facts.AddTx();
  facts.event_tx[index] = id;
  TxFacts& tx = facts.tx[id];
  switch (event.kind) {
    case EventKind::kBegin:
      if (tx.begin == kNone) {
        tx.begin = index;
        tx.begin_ns = event.time_ns;
      }
      break;
    case EventKind::kCommitRequest:
      if (tx.first_commit_request == kNone) tx.first_commit_request = index;
      break;
    case EventKind::kRollbackRequest:
      if (tx.first_rollback_request == kNone) tx.first_rollback_request = index;
      break;
    case EventKind::kTimeoutFired:
      if (tx.first_timeout == kNone) tx.first_timeout = index;
      break;
    case EventKind::kOutcome:
      if (tx.first_outcome == kNone) {
        tx.first_outcome = index;
        tx.first_outcome_ns = event.time_ns;
      }
      if (tx.told_committed == kNone && event.detail == "committed") tx.told_committed = index;
      if (tx.told_aborted == kNone && event.detail == "aborted") tx.told_aborted = index;
      break;
    case EventKind::kRead:
      facts.Own(event.value);
      facts.event_value[index] = event.value.id();
      facts.Append(tx.reads, index);
      facts.event_place[index] = facts.Place(event);
      if (tx.reads_fine && !ReadIsFine(facts, tx, id, index)) tx.reads_fine = false;
      break;
    case EventKind::kWrite:
      facts.event_place[index] = facts.Place(event);
      RecordRmEvent(event, index, tx.At(facts.rms.Intern(event.rm)), facts);
      break;
    case EventKind::kEnlist:
    case EventKind::kVote:
    case EventKind::kRmCommitted:
    case EventKind::kRmAborted:
    case EventKind::kRmLost: {
      const uint32_t rm = facts.rms.Intern(event.rm);
      RecordRmEvent(event, index, tx.At(rm), facts);
      break;
    }
    default:
      break;
  }
}

// Name orders: RMs, places by (rm, key). Transactions are walked in id order
// and their violations sorted afterwards (SortByTx): sorting every name would
// cost more than the walk. Each tx's RMs are put in name order by SortRms,
// just before its rules read them.
void SortNames(Facts& facts) {
  facts.rms.Sort();
  facts.keys.Sort();
  facts.place_order.resize(facts.places.size());
  for (uint32_t id = 0; id < facts.place_order.size(); ++id) facts.place_order[id] = id;
  std::sort(facts.place_order.begin(), facts.place_order.end(), [&facts](uint32_t a, uint32_t b) {
    const auto [rm_a, key_a] = facts.places[a];
    const auto [rm_b, key_b] = facts.places[b];
    return std::make_pair(facts.rms.rank(rm_a), facts.keys.rank(key_a)) <
           std::make_pair(facts.rms.rank(rm_b), facts.keys.rank(key_b));
  });
  facts.place_rank.resize(facts.places.size());
  for (uint32_t position = 0; position < facts.place_order.size(); ++position) {
    facts.place_rank[facts.place_order[position]] = position;
  }
}

// A tx's RMs in name order. Done in the rules' walk, while the tx's facts are
// in cache for its rules: a pass of its own read a long history's facts from
// memory once more.
void SortRms(const Facts& facts, TxFacts& tx) {
  std::sort(tx.rms.begin(), tx.rms.end(), [&facts](const RmFacts& a, const RmFacts& b) {
    return facts.rms.rank(a.rm) < facts.rms.rank(b.rm);
  });
}

Facts BuildFactsOwn(const History& history, CheckScratch::Buffers* scratch) {
  Facts facts;
  facts.Borrow(scratch);
  facts.history = &history;
  const size_t count = history.events.size();
  if (count >= kNone) {
    // 2^32 - 1 events is 400 GB of history: a limit, not a case to handle.
    std::fprintf(stderr, "model::CheckAll: a history of %zu events is over the limit of %zu\n", count, kNone - 1);
    std::abort();
  }
  facts.event_tx.resize(count);
  facts.event_place.resize(count);
  facts.next.resize(count);
  facts.event_value.resize(count);
  facts.event_code.resize(count);
  // Growing the big tables by rehashing costs about as much as filling them:
  // start them at a size a typical history needs (about 10 events per
  // transaction, 1.5 writes per transaction).
  facts.txs.Reserve(history.names.get(), count / 8, true);
  facts.tx.reserve(count / 8);
  facts.rms.Reserve(history.names.get(), 16, false);
  facts.keys.Reserve(history.names.get(), 64, false);
  facts.first_write_of_value.assign(history.names == nullptr ? 1 : history.names->size(), kNone);
  for (size_t i = 0; i < count; ++i) {
    const HistoryEvent& event = history.events[i];
    if (event.kind == EventKind::kFinalValue) {
      facts.Own(event.value);
      facts.event_value[i] = event.value.id();
      facts.event_place[i] = facts.Place(event);
      facts.Append(facts.finals[facts.event_place[i]], i);
    } else if (event.kind == EventKind::kFaultsStop) {
      facts.faults_stop_ns = event.time_ns;
    } else if (event.kind == EventKind::kCrash) {
      facts.crashes[event.host].push_back(i);
    } else if (event.kind == EventKind::kOpen) {
      facts.opens.push_back(i);
    } else if (!event.tx.empty()) {
      RecordTxEvent(event, i, facts);
    }
    if (facts.AnyForeign()) return facts;  // half-built: BuildFacts starts over
  }
  SortNames(facts);
  return facts;
}

// Facts of `history`, re-interned into one table first unless it is in one.
Facts BuildFacts(const History& history, CheckScratch::Buffers* scratch = nullptr) {
  {
    Facts facts = BuildFactsOwn(history, scratch);
    if (!facts.AnyForeign()) return facts;
  }
  auto compacted = std::make_shared<History>();
  compacted->events.reserve(history.events.size());
  for (const HistoryEvent& event : history.events) compacted->Add(event);
  compacted->end_ns = history.end_ns;
  Facts facts = BuildFactsOwn(*compacted, scratch);
  facts.compacted = std::move(compacted);
  return facts;
}

// The committed write the model expects at each place (kNone: absent): per
// RM, its committed transactions' writes there applied in commit order. A
// place belongs to one RM, so one pass over all RMs' commits in event order
// gives the same state as one pass per RM: the pass that builds the facts
// (Facts::committed_write), unless a write came after its tx's commit.
std::vector<size_t> BuildReference(const Facts& facts) {
  std::vector<size_t> state(facts.committed_write.begin(), facts.committed_write.end());
  if (facts.late_write) {
    // Every first kRmCommitted of a tx at an RM, in event (= commit) order.
    std::vector<const RmFacts*> commits;
    for (uint32_t id = 0; id < facts.tx_count; ++id) {
      for (const RmFacts& rm_facts : facts.tx[id].rms) {
        if (rm_facts.first_committed != kNone) commits.push_back(&rm_facts);
      }
    }
    std::sort(commits.begin(), commits.end(),
              [](const RmFacts* a, const RmFacts* b) { return a->first_committed < b->first_committed; });
    std::fill(state.begin(), state.end(), kNone);
    for (const RmFacts* commit : commits) {
      for (size_t write : facts.Each(commit->writes)) state[facts.event_place[write]] = write;
    }
  }
  // A volatile key's last committed write with a crash of its host after it
  // is gone, and with it every earlier one there (a later write to the key
  // after the crash would be the last).
  if (!facts.crashes.empty()) {
    for (size_t& write : state) {
      if (write != kNone && facts.LostInCrash(write) != kNone) write = kNone;
    }
  }
  return state;
}

// Sets TxFacts::wrote_reference of the transactions whose write the model
// expects at some place: only they can break durability's final-value part.
void MarkReferenceWriters(Facts& facts, const std::vector<size_t>& reference) {
  for (size_t write : reference) {
    if (write != kNone) facts.tx[facts.event_tx[write]].wrote_reference = true;
  }
}

// Per-transaction walks go in id (first appearance) order; this puts their
// violations from `from` on in transaction name order, each transaction's own
// in the order found: the order of a walk over a std::map keyed by name.
void SortByTx(std::vector<Violation>& violations, size_t from) {
  std::stable_sort(violations.begin() + static_cast<std::ptrdiff_t>(from), violations.end(),
                   [](const Violation& a, const Violation& b) { return a.tx < b.tx; });
}

// ---- message helpers -------------------------------------------------------

std::string At(const Facts& facts, size_t index) { return FormatTimeNs(facts.event(index).time_ns); }

std::string Quote(absl::string_view value) {
  if (value.empty()) return "\"\" (absent)";
  return absl::StrCat("\"", absl::CEscape(value), "\"");
}

std::string Place(absl::string_view rm, absl::string_view key) {
  return absl::StrCat(rm, "/", absl::CEscape(key));
}

Violation MakeViolation(std::string rule, absl::string_view tx, std::string message,
                        std::vector<size_t> events) {
  events.erase(std::remove(events.begin(), events.end(), kNone), events.end());
  std::sort(events.begin(), events.end());
  events.erase(std::unique(events.begin(), events.end()), events.end());
  return Violation{std::move(rule), std::string(tx), std::move(message), std::move(events)};
}

// "committed on rmA at 5ms" or "was acknowledged committed at 5ms".
std::string DescribeCommit(const Facts& facts, size_t index) {
  const HistoryEvent& event = facts.event(index);
  if (event.kind == EventKind::kRmCommitted) {
    return absl::StrCat("committed on ", event.rm, " at ", At(facts, index));
  }
  return absl::StrCat("was acknowledged committed at ", At(facts, index));
}

// The earliest kRmCommitted (or kRmAborted) of a tx over all RMs, kNone if none.
size_t FirstRmCommitted(const TxFacts& tx) {
  size_t first = kNone;
  for (const RmFacts& rm_facts : tx.rms) first = Min(first, rm_facts.first_committed);
  return first;
}

size_t FirstRmAborted(const TxFacts& tx) {
  size_t first = kNone;
  for (const RmFacts& rm_facts : tx.rms) first = Min(first, rm_facts.first_aborted);
  return first;
}

// ---- atomicity -------------------------------------------------------------

void AllOrNothingOf(const Facts& facts, uint32_t id, std::vector<Violation>& out) {
  const TxFacts& tx_facts = facts.tx[id];
  const absl::string_view tx = facts.TxName(id);
  size_t anchor = kNone;  // earliest kRmCommitted on an RM the tx wrote
  for (const RmFacts& rm_facts : tx_facts.rms) {
    if (!rm_facts.writes.empty()) anchor = Min(anchor, rm_facts.first_committed);
  }
  if (anchor == kNone) return;  // committed nowhere it wrote: "none" holds
  for (const RmFacts& rm_facts : tx_facts.rms) {
    if (rm_facts.writes.empty() || rm_facts.first_committed != kNone) continue;
    if (rm_facts.lost != kNone) continue;  // a volatile RM promises nothing across a crash
    const absl::string_view rm = facts.RmName(rm_facts.rm);
    const size_t write = rm_facts.writes.front();
    std::string message = absl::StrCat(
        tx, " ", DescribeCommit(facts, anchor), " but never committed on ", rm,
        ", where it wrote ", Place(rm, facts.event(write).key), " at ", At(facts, write));
    if (rm_facts.first_aborted != kNone) {
      absl::StrAppend(&message, "; ", rm, " rolled it back at ",
                      At(facts, rm_facts.first_aborted));
    }
    out.push_back(MakeViolation("atomicity", tx, std::move(message),
                                {anchor, write, rm_facts.first_aborted}));
  }
}

// The first write of `value` at the place of `index`, or kNone.
size_t FirstWriteOf(const Facts& facts, size_t index) {
  return facts.FirstWriteAt(facts.event_place[index], facts.event_value[index]);
}

// One kFinalValue that differs from the model: say whose fault it is.
// `expected` is the model's write there (kNone: absent).
Violation FinalValueViolation(const Facts& facts, size_t final_index, size_t expected) {
  const HistoryEvent& final_event = facts.event(final_index);
  const std::string place = Place(final_event.rm, final_event.key);
  const HistoryEvent* expected_write = expected == kNone ? nullptr : &facts.event(expected);
  const std::string expectation =
      expected_write == nullptr
          ? std::string("the model expects it absent")
          : absl::StrCat("the model expects ", Quote(expected_write->value), " from ",
                         expected_write->tx);
  const std::string seen = absl::StrCat("final value of ", place, " is ",
                                        Quote(final_event.value));
  size_t writer = kNone;
  if (!final_event.value.empty()) {
    writer = FirstWriteOf(facts, final_index);
    if (writer == kNone) {
      return MakeViolation("atomicity", "",
                           absl::StrCat(seen, ", which no transaction wrote there; ", expectation),
                           {final_index});
    }
    const std::string& writer_tx = facts.event(writer).tx;
    if (const size_t crash = facts.LostInCrash(writer); crash != kNone && expected == kNone) {
      return MakeViolation(
          "atomicity", writer_tx,
          absl::StrCat(seen, ", a volatile key written by ", writer_tx, " at ", At(facts, writer),
                       "; its host crashed at ", At(facts, crash), ", which removes volatile keys; ",
                       expectation),
          {final_index, writer, crash});
    }
    if (facts.RmFactsOf(writer).first_committed == kNone) {
      return MakeViolation(
          "atomicity", writer_tx,
          absl::StrCat(seen, ", written by ", writer_tx, " at ", At(facts, writer),
                       ", which never committed on ", final_event.rm, "; ", expectation),
          {final_index, writer});
    }
  }
  // The shown value is absent or from a tx that committed here, so the model
  // holds a write for this key (that tx's, at least): an expected effect is
  // missing. The fallback only guards against a broken Facts.
  if (expected_write == nullptr) {
    return MakeViolation("atomicity", "", absl::StrCat(seen, "; ", expectation),
                         {final_index, writer});
  }
  const std::string& expected_tx = expected_write->tx;
  const size_t commit = facts.RmFactsOf(expected).first_committed;
  return MakeViolation(
      "atomicity", expected_tx,
      absl::StrCat(seen, " but ", expected_tx, " committed on ", final_event.rm, " at ",
                   At(facts, commit), " and its write ", Quote(expected_write->value), " at ",
                   At(facts, expected), " is missing"),
      {final_index, writer, expected, commit});
}

void CheckFinalValues(const Facts& facts, const std::vector<size_t>& reference,
                      std::vector<Violation>& out) {
  for (uint32_t place : facts.place_order) {
    const size_t expected = reference[place];
    const uint32_t expected_value = expected == kNone ? 0 : facts.event_value[expected];
    for (size_t final_index : facts.Each(facts.finals[place])) {
      if (facts.event_value[final_index] == expected_value) continue;
      out.push_back(FinalValueViolation(facts, final_index, expected));
    }
  }
}

// ---- agreement -------------------------------------------------------------

void AgreementOf(const Facts& facts, absl::string_view tx, const TxFacts& tx_facts,
                 std::vector<Violation>& out) {
  const size_t committed = FirstRmCommitted(tx_facts);
  const size_t aborted = FirstRmAborted(tx_facts);
  const size_t told_committed = tx_facts.told_committed;
  const size_t told_aborted = tx_facts.told_aborted;
  // Built only for a violation (most aborted transactions are fine).
  const auto rolled_back = [&]() -> std::string {
    return aborted == kNone ? "" : absl::StrCat("rolled back on ", facts.event(aborted).rm, " at ",
                                                At(facts, aborted));
  };
  if (committed != kNone && aborted != kNone) {
    out.push_back(MakeViolation(
        "agreement", tx, absl::StrCat(tx, " ", DescribeCommit(facts, committed), " but ", rolled_back()),
        {committed, aborted}));
  }
  if (told_committed != kNone && aborted != kNone) {
    out.push_back(MakeViolation(
        "agreement", tx,
        absl::StrCat(tx, " ", DescribeCommit(facts, told_committed), " but ", rolled_back()),
        {told_committed, aborted}));
  }
  if (told_aborted != kNone && committed != kNone) {
    out.push_back(MakeViolation(
        "agreement", tx,
        absl::StrCat(tx, " was reported aborted to the client at ", At(facts, told_aborted),
                     " but ", DescribeCommit(facts, committed)),
        {told_aborted, committed}));
  }
  if (told_committed != kNone && told_aborted != kNone) {
    out.push_back(MakeViolation(
        "agreement", tx,
        absl::StrCat(tx, " was reported committed to the client at ", At(facts, told_committed),
                     " and aborted at ", At(facts, told_aborted)),
        {told_committed, told_aborted}));
  }
}

// ---- validity --------------------------------------------------------------

// The first vote of `rm_facts` that allows the commit, or kNone: a "yes" or
// "readonly" vote before its own commit and any other's, or an "spc" vote
// before any other's. Each condition is "before" a deadline, so only the
// first vote of each kind can be the first to meet it.
// `acknowledged` is the first kOutcome "committed" (or kNone).
size_t AcceptedVote(const TxFacts& tx, const RmFacts& rm_facts, size_t acknowledged) {
  size_t others_committed = acknowledged;
  for (const RmFacts& other : tx.rms) {
    if (other.rm != rm_facts.rm) others_committed = Min(others_committed, other.first_committed);
  }
  const size_t own_deadline = Min(others_committed, rm_facts.first_committed);
  const size_t yes = rm_facts.first_yes < own_deadline ? rm_facts.first_yes : kNone;
  const size_t spc = rm_facts.first_spc < others_committed ? rm_facts.first_spc : kNone;
  return Min(yes, spc);
}

// Every enlisted writer voted in time; returns when the last vote came in.
size_t CheckVotesIn(const Facts& facts, absl::string_view tx, const TxFacts& tx_facts,
                    size_t commit, size_t acknowledged, std::vector<Violation>& out) {
  size_t all_votes_in = kNone;
  for (const RmFacts& rm_facts : tx_facts.rms) {
    const size_t vote = AcceptedVote(tx_facts, rm_facts, acknowledged);
    if (vote != kNone) {
      all_votes_in = all_votes_in == kNone ? vote : std::max(all_votes_in, vote);
      continue;
    }
    if (rm_facts.enlist == kNone || rm_facts.writes.empty()) continue;
    out.push_back(MakeViolation(
        "validity", tx,
        absl::StrCat(tx, " ", DescribeCommit(facts, commit), " but ", facts.RmName(rm_facts.rm),
                     ", which enlisted and wrote, had no yes/readonly/spc vote before that"),
        {rm_facts.writes.front(), commit}));
  }
  return all_votes_in;
}

void CheckRequests(const Facts& facts, absl::string_view tx, const TxFacts& tx_facts,
                   size_t commit, std::vector<Violation>& out) {
  auto committed = [&] { return absl::StrCat(tx, " ", DescribeCommit(facts, commit)); };
  if (tx_facts.first_commit_request == kNone || tx_facts.first_commit_request > commit) {
    out.push_back(MakeViolation("validity", tx,
                                absl::StrCat(committed(), " without a commit request before it"),
                                {commit, tx_facts.first_commit_request}));
  }
  const size_t limit = Min(tx_facts.first_commit_request, commit);
  if (tx_facts.first_rollback_request < limit) {
    const size_t rollback = tx_facts.first_rollback_request;
    const std::string& by = facts.event(rollback).detail;
    out.push_back(MakeViolation(
        "validity", tx,
        absl::StrCat(committed(), " although a rollback was requested",
                     by.empty() ? "" : absl::StrCat(" (by ", by, ")"), " at ",
                     At(facts, rollback), ", before its commit request"),
        {rollback, limit}));
  }
}

void CheckValidityOf(const Facts& facts, absl::string_view tx, const TxFacts& tx_facts,
                     std::vector<Violation>& out) {
  const size_t acknowledged = tx_facts.told_committed;
  const size_t commit = Min(FirstRmCommitted(tx_facts), acknowledged);
  if (commit == kNone) return;
  CheckRequests(facts, tx, tx_facts, commit, out);
  for (const RmFacts& rm_facts : tx_facts.rms) {
    for (size_t vote : facts.Each(rm_facts.no_votes)) {
      out.push_back(MakeViolation("validity", tx,
                                  absl::StrCat(tx, " ", DescribeCommit(facts, commit), " but ",
                                               facts.RmName(rm_facts.rm), " voted no at ",
                                               At(facts, vote)),
                                  {vote, commit}));
    }
  }
  size_t all_votes_in = CheckVotesIn(facts, tx, tx_facts, commit, acknowledged, out);
  if (all_votes_in == kNone) all_votes_in = Min(tx_facts.first_commit_request, commit);
  if (tx_facts.first_timeout < all_votes_in) {
    const size_t timeout = tx_facts.first_timeout;
    out.push_back(MakeViolation(
        "validity", tx,
        absl::StrCat(tx, " ", DescribeCommit(facts, commit), " but its timeout fired at ",
                     At(facts, timeout), ", before all votes were in (at ",
                     At(facts, all_votes_in), ")"),
        {timeout, all_votes_in}));
  }
}

// ---- durability ------------------------------------------------------------

// `wrote_reference`: TxFacts::wrote_reference.
void CheckDurableAt(const Facts& facts, const std::vector<size_t>& reference, uint32_t tx_id,
                    const RmFacts& rm_facts, size_t acknowledged, bool wrote_reference,
                    std::vector<Violation>& out) {
  const absl::string_view tx = facts.TxName(tx_id);
  const absl::string_view rm = facts.RmName(rm_facts.rm);
  auto acked = [&] { return absl::StrCat(tx, " was acknowledged committed at ", At(facts, acknowledged)); };
  if (rm_facts.first_committed == kNone) {
    if (rm_facts.lost != kNone) return;  // a volatile RM promises nothing across a crash
    const size_t write = rm_facts.writes.front();
    out.push_back(MakeViolation(
        "durability", tx,
        absl::StrCat(acked(), " but never committed on ", rm, ", where it wrote ",
                     Place(rm, facts.event(write).key), " at ", At(facts, write)),
        {acknowledged, write}));
    return;
  }
  // The model keeps none of its writes anywhere: nothing to compare with the
  // final values (reading its writes here, scattered through the per-event
  // arrays, waited for memory on a long history).
  if (!wrote_reference) return;
  // The last write of tx per key at rm, in key order.
  absl::InlinedVector<std::pair<uint32_t, size_t>, 2> last_write;  // (place rank, write)
  for (size_t write : facts.Each(rm_facts.writes)) {
    const uint32_t rank = facts.place_rank[facts.event_place[write]];
    auto it = std::find_if(last_write.begin(), last_write.end(),
                           [rank](const auto& entry) { return entry.first == rank; });
    if (it == last_write.end()) {
      last_write.push_back({rank, write});
    } else {
      it->second = write;
    }
  }
  std::sort(last_write.begin(), last_write.end());
  for (const auto& [rank, write] : last_write) {
    const uint32_t place = facts.place_order[rank];
    // The model keeps this tx's last write there unless a later committed tx
    // overwrote the key.
    const size_t expected = reference[place];
    if (expected != write) continue;
    const uint32_t expected_id = facts.event_value[expected];
    for (size_t final_index : facts.Each(facts.finals[place])) {
      if (facts.event_value[final_index] == expected_id) continue;
      const std::string& expected_value = facts.event(expected).value;
      const std::string& seen = facts.event(final_index).value;
      out.push_back(MakeViolation(
          "durability", tx,
          absl::StrCat(acked(), " but its write ", Place(rm, facts.event(write).key), "=",
                       Quote(expected_value), " is missing at the end (final value ", Quote(seen),
                       ") although no later committed transaction overwrote it"),
          {acknowledged, write, rm_facts.first_committed, final_index}));
      break;  // one report per key
    }
  }
}

void DurabilityOf(const Facts& facts, const std::vector<size_t>& reference, uint32_t id,
                  std::vector<Violation>& out) {
  const TxFacts& tx_facts = facts.tx[id];
  const size_t acknowledged = tx_facts.told_committed;
  if (acknowledged == kNone) return;
  for (const RmFacts& rm_facts : tx_facts.rms) {
    if (rm_facts.writes.empty()) continue;
    CheckDurableAt(facts, reference, id, rm_facts, acknowledged, tx_facts.wrote_reference, out);
  }
}

// ---- isolation -------------------------------------------------------------

// Whether the read at `read` by tx `reader` sees "" or a value another tx
// wrote there and committed before the read (and no crash removed since), as
// a read with no earlier own write must.
bool ReadsCommittedValue(const Facts& facts, uint32_t reader, size_t read) {
  if (facts.event_value[read] == 0) return true;  // absent
  const size_t write = FirstWriteOf(facts, read);
  if (write == kNone || facts.event_tx[write] == reader) return false;
  const size_t commit = facts.RmFactsOf(write).first_committed;
  if (commit == kNone || commit > read) return false;
  const size_t crash = facts.LostInCrash(write);
  return crash == kNone || crash > read;
}

// A read by tx `reader` with no earlier own write: it must see "" or a value
// committed there.
void CheckForeignRead(const Facts& facts, uint32_t reader, size_t read, std::vector<Violation>& out) {
  if (ReadsCommittedValue(facts, reader, read)) return;
  const HistoryEvent& event = facts.event(read);
  // The message's start, built only for a violation (nearly every read is
  // of a value committed before it, and formatting is most of the cost).
  const auto seen = [&] {
    return absl::StrCat(event.tx, " read ", Place(event.rm, event.key), "=", Quote(event.value), " at ",
                        At(facts, read));
  };
  const size_t write = FirstWriteOf(facts, read);
  if (write == kNone) {
    out.push_back(MakeViolation(
        "isolation", event.tx, absl::StrCat(seen(), ", a value no transaction wrote there"),
        {read}));
    return;
  }
  // Named only in a message: reading the writer's event (far back in a long
  // history, out of cache) and copying its name cost a tenth of the check.
  const auto writer = [&] { return facts.TxName(facts.event_tx[write]); };
  if (facts.event_tx[write] == reader) {
    out.push_back(MakeViolation(
        "isolation", event.tx,
        absl::StrCat(seen(), ", its own write made only later at ", At(facts, write)), {read, write}));
    return;
  }
  const size_t commit = facts.RmFactsOf(write).first_committed;
  if (const size_t crash = facts.LostInCrash(write); crash != kNone && crash < read) {
    out.push_back(MakeViolation(
        "isolation", event.tx,
        absl::StrCat(seen(), ", a volatile key written by ", writer(), " at ", At(facts, write),
                     "; its host crashed at ", At(facts, crash), ", which removed it"),
        {read, write, crash}));
    return;
  }
  if (commit != kNone && commit < read) return;
  const std::string when = commit == kNone
                               ? "never committed there"
                               : absl::StrCat("committed there only at ", At(facts, commit));
  out.push_back(MakeViolation(
      "isolation", event.tx,
      absl::StrCat(seen(), ", written by ", writer(), " at ", At(facts, write), ", which ", when,
                   " (dirty read)"),
      {read, write, commit}));
}

// The latest kWrite of the tx at the place of `read` before it, or kNone. A
// scan of the tx's own writes there: bounded by the operations of one
// transaction, not by the history.
size_t OwnWriteBefore(const Facts& facts, const TxFacts& tx, size_t read) {
  const uint32_t place = facts.event_place[read];
  const RmFacts* rm_facts = tx.Find(facts.places[place].first);
  if (rm_facts == nullptr) return kNone;
  size_t latest = kNone;
  for (size_t write : facts.Each(rm_facts->writes)) {
    if (write >= read) break;  // ascending
    if (facts.event_place[write] == place) latest = write;
  }
  return latest;
}

// Whether the read at `read` by tx `reader` (facts `tx`) passes isolation:
// it sees its own latest earlier write there, or with none ReadsCommittedValue.
// Asked when the facts are built up to the read (RecordTxEvent): what it
// reads of them (the tx's earlier writes; the first write of the value, its
// writer and the writer's first commit there before the read, a crash
// between) no later event changes, so a yes then is the answer for the whole
// history, got while the writer's facts are in cache; IsolationOf then skips
// a tx whose reads all passed. The rules' walk came to those facts a
// transaction at a time, scattered: on a history larger than the cache,
// nearly every lookup waited for memory (a fifth of a check at 1M
// transactions). A no is judged again, with its message, by IsolationOf.
bool ReadIsFine(const Facts& facts, const TxFacts& tx, uint32_t reader, size_t read) {
  const size_t own = OwnWriteBefore(facts, tx, read);
  if (own != kNone) return facts.event_value[own] == facts.event_value[read];
  return ReadsCommittedValue(facts, reader, read);
}

void IsolationOf(const Facts& facts, uint32_t id, std::vector<Violation>& out) {
  if (facts.tx[id].reads_fine) return;
  for (size_t read : facts.Each(facts.tx[id].reads)) {
    const size_t own = OwnWriteBefore(facts, facts.tx[id], read);
    if (own == kNone) {
      CheckForeignRead(facts, id, read, out);
      continue;
    }
    if (facts.event_value[own] == facts.event_value[read]) continue;
    const HistoryEvent& event = facts.event(read);
    const HistoryEvent& write = facts.event(own);
    out.push_back(MakeViolation(
        "isolation", event.tx,
        absl::StrCat(event.tx, " read ", Place(event.rm, event.key), "=", Quote(event.value),
                     " at ", At(facts, read), " but its own latest write there was ",
                     Quote(write.value), " at ", At(facts, own)),
        {own, read}));
  }
}

// Share modes of files (TxF: files are opened without sharing write or
// delete). Only files that some non-transacted open (kOpen) touched are
// followed. A transaction holds a file from its first write there until its
// outcome, read-only vote or loss at that RM, or a crash of the RM's host
// (after which a restored prepared transaction may hold it again unseen:
// forgetting it only misses violations, never invents one). A granted
// non-transacted writer open is held until its "close" or a crash.
class SharingWalk {
 public:
  SharingWalk(const Facts& facts, std::vector<Violation>& out) : facts_(facts), out_(out) {}

  void Run() {
    for (size_t open : facts_.opens) followed_.insert(PlaceOf(facts_.event(open)));
    if (followed_.empty()) return;
    const std::vector<HistoryEvent>& events = facts_.history->events;
    for (size_t i = 0; i < events.size(); ++i) Step(i, events[i]);
  }

 private:
  using FilePlace = std::pair<std::string, std::string>;  // (rm, file)
  static FilePlace PlaceOf(const HistoryEvent& e) { return {e.rm, e.key}; }

  void Step(size_t i, const HistoryEvent& e) {
    switch (e.kind) {
      case EventKind::kOpen: return OnOpen(i, e);
      case EventKind::kWrite: return OnTransactedAccess(i, e, true);
      case EventKind::kRead:
        if (e.detail != "absent") OnTransactedAccess(i, e, false);
        return;
      case EventKind::kRmCommitted:
      case EventKind::kRmAborted:
      case EventKind::kRmLost: return Release(e.tx, e.rm);
      case EventKind::kVote:
        if (e.detail == "readonly") Release(e.tx, e.rm);
        return;
      case EventKind::kCrash: return Crash(e.host);
      default: return;
    }
  }

  void OnOpen(size_t i, const HistoryEvent& e) {
    const FilePlace place = PlaceOf(e);
    if (e.detail == "close") {
      holds_[place].erase(e.value);
      return;
    }
    if (e.detail != "write") return;  // refused: an accepted outcome
    if (auto lock = locks_.find(place); lock != locks_.end()) {
      out_.push_back(MakeViolation(
          "isolation", "",
          absl::StrCat("a non-transacted writer open (", e.value, ") of ", Place(e.rm, e.key), " was granted at ",
                       At(facts_, i), " while ", lock->second.first, " held the file (it wrote it at ",
                       At(facts_, lock->second.second), "); it should get STATUS_SHARING_VIOLATION"),
          {lock->second.second, i}));
    }
    holds_[place][e.value] = i;
  }

  void OnTransactedAccess(size_t i, const HistoryEvent& e, bool write) {
    const FilePlace place = PlaceOf(e);
    if (followed_.count(place) == 0) return;
    if (auto held = holds_.find(place); held != holds_.end() && !held->second.empty()) {
      const auto& [id, open] = *held->second.begin();
      out_.push_back(MakeViolation(
          "isolation", e.tx,
          absl::StrCat(e.tx, (write ? " wrote " : " read "), Place(e.rm, e.key), " at ", At(facts_, i),
                       " while a non-transacted writer (", id, ", granted at ", At(facts_, open),
                       ") held it open; its open should get STATUS_TRANSACTIONAL_CONFLICT"),
          {open, i}));
    }
    if (!write) return;
    auto [lock, inserted] = locks_.try_emplace(place, e.tx, i);
    if (inserted) {
      held_by_[{e.tx, e.rm}].push_back(place);
    } else if (lock->second.first != e.tx) {
      out_.push_back(MakeViolation(
          "isolation", e.tx,
          absl::StrCat(e.tx, " wrote ", Place(e.rm, e.key), " at ", At(facts_, i), " while ", lock->second.first,
                       " held the file (it wrote it at ", At(facts_, lock->second.second),
                       "); its open should get STATUS_SHARING_VIOLATION"),
          {lock->second.second, i}));
    }
  }

  void Release(const std::string& tx, const std::string& rm) {
    auto it = held_by_.find({tx, rm});
    if (it == held_by_.end()) return;
    for (const FilePlace& place : it->second) {
      if (auto lock = locks_.find(place); lock != locks_.end() && lock->second.first == tx) locks_.erase(lock);
    }
    held_by_.erase(it);
  }

  // Handles and locks are volatile state of the RM's host.
  void Crash(uint32_t host) {
    for (auto& [place, ids] : holds_) {
      std::erase_if(ids, [&](const auto& entry) { return facts_.event(entry.second).host == host; });
    }
    for (auto it = held_by_.begin(); it != held_by_.end();) {
      const FilePlace& first = it->second.front();
      const auto lock = locks_.find(first);
      if (lock == locks_.end() || facts_.event(lock->second.second).host != host) {
        ++it;
        continue;
      }
      for (const FilePlace& place : it->second) locks_.erase(place);
      it = held_by_.erase(it);
    }
  }

  const Facts& facts_;
  std::vector<Violation>& out_;
  std::set<FilePlace> followed_;
  std::map<FilePlace, std::map<std::string, size_t>> holds_;       // open id -> its kOpen
  std::map<FilePlace, std::pair<std::string, size_t>> locks_;      // -> (tx, its first write)
  std::map<std::pair<std::string, std::string>, std::vector<FilePlace>> held_by_;  // (tx, rm) -> files
};

// ---- termination -----------------------------------------------------------

// Where a tx counts as resolved (kNone: not) and when.
struct Resolved {
  size_t index = kNone;
  int64_t time_ns = 0;
};

// `unresolved` and `enlists` collect the enlisted RMs without a resolution
// (RmFacts::resolved) and their kEnlist.
Resolved Resolution(const Facts& facts, const TxFacts& tx, std::vector<absl::string_view>& unresolved,
                    std::vector<size_t>& enlists) {
  Resolved all_rms{tx.begin, tx.begin_ns};  // vacuous when it enlisted nowhere
  for (const RmFacts& rm_facts : tx.rms) {
    if (rm_facts.enlist == kNone) continue;
    if (rm_facts.resolved == kNone) {
      unresolved.push_back(facts.RmName(rm_facts.rm));
      enlists.push_back(rm_facts.enlist);
    } else if (all_rms.index != kNone && rm_facts.resolved > all_rms.index) {
      all_rms = {rm_facts.resolved, rm_facts.resolved_ns};
    }
  }
  if (!unresolved.empty()) all_rms = {};
  if (tx.first_outcome < all_rms.index) return {tx.first_outcome, tx.first_outcome_ns};
  return all_rms;
}

void TerminationOf(const Facts& facts, absl::string_view tx, const TxFacts& tx_facts,
                   int64_t bound_ns, std::vector<Violation>& out) {
  const int64_t stop = facts.faults_stop_ns;
  const History& history = *facts.history;
  const int64_t began = tx_facts.begin_ns;
  const int64_t deadline = SaturatingAdd(std::max(stop, began), bound_ns);
  if (history.end_ns < deadline) return;
  std::vector<absl::string_view> unresolved;
  std::vector<size_t> enlists;
  const Resolved resolution = Resolution(facts, tx_facts, unresolved, enlists);
  const size_t resolved = resolution.index;
  if (resolved != kNone && resolution.time_ns <= deadline) return;
  const std::string context = absl::StrCat(" (faults stopped at ", FormatTimeNs(stop), ", bound ",
                                           FormatTimeNs(bound_ns), ")");
  std::string message = absl::StrCat(tx, " began at ", At(facts, tx_facts.begin));
  std::vector<size_t> evidence = {tx_facts.begin};
  if (resolved == kNone) {
    evidence.insert(evidence.end(), enlists.begin(), enlists.end());
    absl::StrAppend(&message, " and was still unresolved at the deadline ", FormatTimeNs(deadline),
                    context, ": no outcome, and no commit or abort on ",
                    absl::StrJoin(unresolved, ", "));
  } else {
    evidence.push_back(resolved);
    absl::StrAppend(&message, " and was resolved only at ", At(facts, resolved),
                    ", after the deadline ", FormatTimeNs(deadline), context);
  }
  out.push_back(MakeViolation("termination", tx, std::move(message), std::move(evidence)));
}

// The rules in CheckerCatalog() order (checked by RuleEnumMatchesCatalog).
enum Rule { kAtomicity, kAgreement, kValidity, kDurability, kIsolation, kTermination, kRuleCount };
using Wanted = std::array<bool, kRuleCount>;

constexpr std::array<std::string_view, kRuleCount> kRuleNames = {
    "atomicity", "agreement", "validity", "durability", "isolation", "termination"};

// The built-in rule named `name`, or kRuleCount for another catalog entry.
Rule RuleNamed(std::string_view name) {
  for (int rule = 0; rule < kRuleCount; ++rule) {
    if (kRuleNames[rule] == name) return static_cast<Rule>(rule);
  }
  return kRuleCount;
}

// Every wanted built-in rule, in one walk over the transactions (so each
// one's events are read once, while they are in cache); each rule's
// violations in transaction name order, atomicity's final-value checks after
// its per-transaction ones.
using Found = std::array<std::vector<Violation>, kRuleCount>;
Found RunRules(const History& history, const Wanted& wanted, int64_t bound_ns,
               CheckScratch::Buffers* scratch = nullptr) {
  Facts facts = BuildFacts(history, scratch);
  const bool needs_reference = wanted[kAtomicity] || wanted[kDurability];
  const std::vector<size_t> reference = needs_reference ? BuildReference(facts) : std::vector<size_t>();
  MarkReferenceWriters(facts, reference);
  const bool judge_termination =
      wanted[kTermination] && history.end_ns >= SaturatingAdd(facts.faults_stop_ns, bound_ns);
  std::array<std::vector<Violation>, kRuleCount> found;
  for (uint32_t id = 0; id < facts.tx_count; ++id) {
    SortRms(facts, facts.tx[id]);
    const TxFacts& tx_facts = facts.tx[id];
    const absl::string_view tx = facts.TxName(id);
    if (wanted[kAtomicity]) AllOrNothingOf(facts, id, found[kAtomicity]);
    if (wanted[kAgreement]) AgreementOf(facts, tx, tx_facts, found[kAgreement]);
    if (wanted[kValidity]) CheckValidityOf(facts, tx, tx_facts, found[kValidity]);
    if (wanted[kDurability]) DurabilityOf(facts, reference, id, found[kDurability]);
    if (wanted[kIsolation]) IsolationOf(facts, id, found[kIsolation]);
    if (judge_termination && tx_facts.begin != kNone) {
      TerminationOf(facts, tx, tx_facts, bound_ns, found[kTermination]);
    }
  }
  for (std::vector<Violation>& violations : found) SortByTx(violations, 0);
  if (wanted[kAtomicity]) CheckFinalValues(facts, reference, found[kAtomicity]);
  if (wanted[kIsolation]) SharingWalk(facts, found[kIsolation]).Run();
  return found;
}

std::vector<Violation> RunRule(const History& history, Rule rule, int64_t bound_ns = 0) {
  Wanted wanted{};
  wanted[rule] = true;
  return std::move(RunRules(history, wanted, bound_ns)[rule]);
}

}  // namespace

std::string Violation::ToText() const {
  std::string text = absl::StrCat(rule, " ", tx.empty() ? "-" : tx, ": ", message, " [events");
  for (size_t index : events) absl::StrAppend(&text, " #", index);
  absl::StrAppend(&text, "]");
  return text;
}

std::vector<std::string> RuleNames() {
  std::vector<std::string> names;
  for (const CheckerInfo& checker : CheckerCatalog()) names.emplace_back(checker.name);
  return names;
}

bool IsRuleName(std::string_view name) {
  const std::vector<std::string> names = RuleNames();
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::map<RmKey, CommittedValue> ReferenceState(const History& history) {
  const Facts facts = BuildFacts(history);
  const std::vector<size_t> reference = BuildReference(facts);
  std::map<RmKey, CommittedValue> state;
  for (uint32_t place = 0; place < reference.size(); ++place) {
    const size_t write = reference[place];
    if (write == kNone) continue;
    const HistoryEvent& event = history.events[write];
    state[{event.rm, event.key}] = CommittedValue{event.value, event.tx, write};
  }
  return state;
}

std::vector<Violation> CheckAtomicity(const History& history) {
  return RunRule(history, kAtomicity);
}

std::vector<Violation> CheckAgreement(const History& history) {
  return RunRule(history, kAgreement);
}

std::vector<Violation> CheckValidity(const History& history) {
  return RunRule(history, kValidity);
}

std::vector<Violation> CheckDurability(const History& history) {
  return RunRule(history, kDurability);
}

std::vector<Violation> CheckIsolation(const History& history) {
  return RunRule(history, kIsolation);
}

std::vector<Violation> CheckTermination(const History& history, int64_t bound_ns) {
  return RunRule(history, kTermination, bound_ns);
}

std::vector<Violation> CheckAll(const History& history, const std::vector<std::string>& rules,
                                int64_t termination_bound_ns) {
  return CheckAll(history, rules, termination_bound_ns, nullptr);
}

std::vector<Violation> CheckAll(const History& history, const std::vector<std::string>& rules,
                                int64_t termination_bound_ns, CheckScratch* scratch) {
  auto is_wanted = [&rules](std::string_view name) {
    return rules.empty() || std::find(rules.begin(), rules.end(), name) != rules.end();
  };
  Wanted wanted{};
  for (int rule = 0; rule < kRuleCount; ++rule) wanted[rule] = is_wanted(kRuleNames[rule]);
  Found found = RunRules(history, wanted, termination_bound_ns,
                         scratch == nullptr ? nullptr : &ScratchBuffers(*scratch));
  // In catalog order; a checker outside the built-in walk runs on its own.
  std::vector<Violation> out;
  for (const CheckerInfo& checker : CheckerCatalog()) {
    if (!is_wanted(checker.name)) continue;
    const Rule rule = RuleNamed(checker.name);
    std::vector<Violation> violations =
        rule == kRuleCount ? checker.check(history, termination_bound_ns) : std::move(found[rule]);
    for (Violation& violation : violations) out.push_back(std::move(violation));
  }
  for (const std::string& name : rules) {
    if (IsRuleName(name)) continue;
    out.push_back(MakeViolation(
        name, "",
        absl::StrCat("unknown checker rule \"", absl::CEscape(name), "\"; known rules: ",
                     absl::StrJoin(RuleNames(), ", ")),
        {}));
  }
  return out;
}

}  // namespace model
