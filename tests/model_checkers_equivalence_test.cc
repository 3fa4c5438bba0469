// The interned-id checkers (model/checkers.cc) give exactly the violations
// of the string-keyed checkers they replaced (tests/model_checkers_reference.cc):
// same rules, transactions, messages, evidence and order, for every rule and
// for CheckAll, on random histories over small name pools, so that every rule
// fires often (many histories break several rules at once), including odd
// ones: empty tx / rm / key names, kinds in any order, duplicate events,
// values nobody wrote; on long histories shaped like the harness's (file
// opens, crashes, votes of every kind, final values) with random mutations,
// where a disagreement shrinks to a few transactions; and on a long
// generated history that passes.
#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "absl/strings/str_cat.h"
#include "bench/history_gen.h"
#include "model/checkers.h"
#include "model/history.h"
#include "tests/model_checkers_reference.h"

namespace model {
namespace {

const std::vector<std::string> kTxs = {"t1", "t2", "t3", "t10", "t2b", ""};
const std::vector<std::string> kRms = {"rmA", "rmB", "kv1", ""};
const std::vector<std::string> kKeys = {"x", "y", "k\n", ""};
const std::vector<std::string> kValues = {"", "t1.0", "t2.0", "t3.0", "t10.1", "v"};
const std::vector<std::string> kDetails = {"yes",   "no",    "readonly", "spc",    "committed",
                                           "aborted", "rm", "volatile", "write", "close",
                                           "refused STATUS_SHARING_VIOLATION", "absent", ""};
constexpr int kKinds = static_cast<int>(EventKind::kRequestOutcome) + 1;  // every kind

rc::Gen<HistoryEvent> GenEvent() {
  return rc::gen::apply(
      [](int kind, std::string tx, std::string rm, std::string key, std::string value,
         std::string detail) {
        HistoryEvent event;
        event.kind = static_cast<EventKind>(kind);
        event.tx = std::move(tx);
        event.rm = std::move(rm);
        event.key = std::move(key);
        event.value = std::move(value);
        event.detail = std::move(detail);
        return event;
      },
      rc::gen::inRange(0, kKinds), rc::gen::elementOf(kTxs), rc::gen::elementOf(kRms),
      rc::gen::elementOf(kKeys), rc::gen::elementOf(kValues), rc::gen::elementOf(kDetails));
}

History GenHistory() {
  History history;
  history.events = *rc::gen::container<std::vector<HistoryEvent>>(GenEvent());
  int64_t now = 0;
  for (HistoryEvent& event : history.events) {
    now += *rc::gen::inRange<int64_t>(0, 3) * 1'000'000;
    event.time_ns = now;
  }
  history.end_ns = now + *rc::gen::inRange<int64_t>(0, 6) * 1'000'000;
  return history;
}

void ExpectSame(const std::vector<Violation>& got, const std::vector<Violation>& want) {
  if (got != want) {  // the evidence, for the shrunk counterexample
    for (const Violation& violation : got) RC_LOG() << "checkers:  " << violation.ToText() << "\n";
    for (const Violation& violation : want) RC_LOG() << "reference: " << violation.ToText() << "\n";
  }
  RC_ASSERT(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    RC_ASSERT(got[i].ToText() == want[i].ToText());
    RC_ASSERT(got[i] == want[i]);
  }
}

// CommittedValue has no operator== in checkers.h: compare its fields.
bool SameReference(const std::map<RmKey, CommittedValue>& got,
                   const std::map<RmKey, CommittedValue>& want) {
  if (got.size() != want.size()) return false;
  for (auto a = got.begin(), b = want.begin(); a != got.end(); ++a, ++b) {
    if (a->first != b->first || a->second.value != b->second.value ||
        a->second.tx != b->second.tx || a->second.write_event != b->second.write_event) {
      return false;
    }
  }
  return true;
}

// Every rule, CheckAll (all rules and some) and ReferenceState give the
// reference's answers on `history` (its names in the shared table), on the
// same events with their names in the history's own table and mixed, and
// through a scratch shared by every case.
void ExpectCheckersAgree(const History& history, int64_t bound) {
  ExpectSame(CheckAtomicity(history), reference::CheckAtomicity(history));
  ExpectSame(CheckAgreement(history), reference::CheckAgreement(history));
  ExpectSame(CheckValidity(history), reference::CheckValidity(history));
  ExpectSame(CheckDurability(history), reference::CheckDurability(history));
  ExpectSame(CheckIsolation(history), reference::CheckIsolation(history));
  ExpectSame(CheckTermination(history, bound), reference::CheckTermination(history, bound));
  ExpectSame(CheckAll(history, {}, bound), reference::CheckAll(history, {}, bound));
  const std::vector<std::string> some = {"isolation", "atomicity", "nonsense"};
  ExpectSame(CheckAll(history, some, bound), reference::CheckAll(history, some, bound));
  RC_ASSERT(SameReference(ReferenceState(history), reference::ReferenceState(history)));
  RC_TAG(CheckAll(history, {}, bound).empty() ? "passes" : "violations");
  // The same events with their names in the history's own table (what the
  // recorder makes: the checkers' fast path, on table ids), and mixed (every
  // other event's names in the shared table: the checkers re-intern).
  History own, mixed;
  own.end_ns = mixed.end_ns = history.end_ns;
  for (size_t i = 0; i < history.events.size(); ++i) {
    own.Add(history.events[i]);
    if (i % 2 == 0) mixed.Add(history.events[i]);
    else mixed.events.push_back(history.events[i]);
  }
  RC_ASSERT(own.NamesAreOwn());
  RC_ASSERT(own.ToText() == history.ToText());
  RC_ASSERT(mixed.ToText() == history.ToText());
  ExpectSame(CheckAll(own, {}, bound), reference::CheckAll(history, {}, bound));
  ExpectSame(CheckAll(own, some, bound), reference::CheckAll(history, some, bound));
  ExpectSame(CheckAll(mixed, {}, bound), reference::CheckAll(history, {}, bound));
  RC_ASSERT(SameReference(ReferenceState(own), reference::ReferenceState(history)));
  // Through one scratch shared by every case: its arrays hold what earlier
  // (often larger) histories left in them.
  static CheckScratch scratch;
  ExpectSame(CheckAll(own, {}, bound, &scratch), reference::CheckAll(history, {}, bound));
  ExpectSame(CheckAll(mixed, some, bound, &scratch), reference::CheckAll(history, some, bound));
}

RC_GTEST_PROP(CheckersEquivalence, EveryRuleGivesTheReferenceViolations, ()) {
  const History history = GenHistory();
  ExpectCheckersAgree(history, *rc::gen::inRange<int64_t>(0, 4) * 1'000'000);
}

// ---- long, realistic histories, mutated ------------------------------------
//
// Histories shaped like the harness's (transactions over kv, file and
// registry RMs on two hosts, file opens outside transactions, crashes,
// faults-stop, volatile writes, every kind of vote, final values), hundreds
// of events long, then mutated (events dropped, moved, duplicated, re-kinded,
// their tx, value or detail changed; opens, crashes and faults-stops added).
// All of it is drawn from RapidCheck generators, so a disagreement shrinks to
// a few transactions and mutations. This is what found the reference missing
// the share-mode rule (the small-pool property above never made kOpen events).

const std::vector<std::string> kLongRms = {"kv1", "kv2", "files", "registry"};
const std::vector<std::string> kVotes = {"yes", "yes", "yes", "no", "readonly", "spc", "maybe"};
constexpr int kTxNumbers = 40;   // t0..t39: a number drawn twice is one tx doing more
constexpr int kKeysPerRm = 4;

uint32_t HostOf(const std::string& rm) { return rm == "kv1" || rm == "files" ? 1 : 2; }
std::string KeyName(const std::string& rm, int key) {
  return rm == "files" ? absl::StrCat("\\d\\k", key) : absl::StrCat("k", key);
}

// One transaction: one or two RMs, a write at each (sometimes a read), a
// vote at each, then how it ends.
struct TxPlan {
  int number, start, pace, rm_a, rm_b, key_a, key_b, vote_a, vote_b, ending;
  bool read, volatile_write;
};

void showValue(const TxPlan& p, std::ostream& os) {
  os << "{t" << p.number << " start " << p.start << " pace " << p.pace << " rms " << p.rm_a << "," << p.rm_b
     << " keys " << p.key_a << "," << p.key_b << " votes " << p.vote_a << "," << p.vote_b << " ending " << p.ending
     << (p.read ? " read" : "") << (p.volatile_write ? " volatile" : "") << "}";
}

rc::Gen<TxPlan> GenTxPlan() {
  return rc::gen::apply(
      [](int number, int start, int pace, int rm_a, int rm_b, int key_a, int key_b, int vote_a, int vote_b,
         int ending, bool read, bool volatile_write) {
        return TxPlan{number, start, pace, rm_a, rm_b, key_a, key_b, vote_a, vote_b, ending, read, volatile_write};
      },
      rc::gen::inRange(0, kTxNumbers), rc::gen::inRange(0, 400), rc::gen::inRange(1, 4),
      rc::gen::inRange(0, 4), rc::gen::inRange(-1, 4), rc::gen::inRange(0, kKeysPerRm),
      rc::gen::inRange(0, kKeysPerRm), rc::gen::inRange(0, static_cast<int>(kVotes.size())),
      rc::gen::inRange(0, static_cast<int>(kVotes.size())), rc::gen::inRange(0, 5), rc::gen::arbitrary<bool>(),
      rc::gen::weightedOneOf<bool>({{4, rc::gen::just(false)}, {1, rc::gen::just(true)}}));
}

// Events of `plan`, at 1 ms steps from its start; "ending": 0 committed,
// 1 aborted, 2 lost at the second RM, 3 rolled back by the client, 4 never
// resolved.
void AddTx(const TxPlan& plan, std::vector<HistoryEvent>& out) {
  const std::string tx = absl::StrCat("t", plan.number);
  int64_t now = plan.start * int64_t{1'000'000};
  auto add = [&](EventKind kind, const std::string& rm, const std::string& key, const std::string& value,
                 const std::string& detail) {
    HistoryEvent event;
    event.time_ns = now;
    now += plan.pace * int64_t{1'000'000};
    event.host = rm.empty() ? 1 : HostOf(rm);
    event.kind = kind;
    event.tx = tx;
    event.rm = rm;
    event.key = key;
    event.value = value;
    event.detail = detail;
    out.push_back(std::move(event));
  };
  std::vector<std::string> rms = {kLongRms[plan.rm_a]};
  if (plan.rm_b >= 0 && plan.rm_b != plan.rm_a) rms.push_back(kLongRms[plan.rm_b]);
  add(EventKind::kBegin, "", "", "", "");
  for (size_t i = 0; i < rms.size(); ++i) {
    const std::string key = KeyName(rms[i], i == 0 ? plan.key_a : plan.key_b);
    const std::string value = absl::StrCat(tx, ".", i + 1);
    add(EventKind::kEnlist, rms[i], "", "", "");
    if (plan.read) add(EventKind::kRead, rms[i], key, "", rms[i] == "files" ? "absent" : "");
    add(EventKind::kWrite, rms[i], key, value, plan.volatile_write && rms[i] == "registry" ? "volatile" : "");
    if (plan.read) add(EventKind::kRead, rms[i], key, value, "");
  }
  if (plan.ending == 3) {
    add(EventKind::kRollbackRequest, "", "", "", "");
  } else {
    add(EventKind::kCommitRequest, "", "", "", "");
  }
  for (size_t i = 0; i < rms.size(); ++i) add(EventKind::kVote, rms[i], "", "", kVotes[i == 0 ? plan.vote_a : plan.vote_b]);
  if (plan.ending == 4) return;
  const bool commit = plan.ending == 0;
  for (size_t i = 0; i < rms.size(); ++i) {
    const bool lost = plan.ending == 2 && i + 1 == rms.size();
    add(lost ? EventKind::kRmLost : commit ? EventKind::kRmCommitted : EventKind::kRmAborted, rms[i], "", "", "");
  }
  add(EventKind::kOutcome, "", "", "", commit ? "committed" : "aborted");
}

// What happens around the transactions: file opens outside them (granted,
// closed, refused), a transaction's refusal, crashes and restarts of a host,
// faults-stop, timeouts, rollback requests, outcome requests.
struct Around {
  int what, time, rm, key, id, tx;
};

void showValue(const Around& a, std::ostream& os) {
  os << "{what " << a.what << " time " << a.time << " rm " << a.rm << " key " << a.key << " id " << a.id << " tx "
     << a.tx << "}";
}

rc::Gen<Around> GenAround() {
  return rc::gen::apply([](int what, int time, int rm, int key, int id,
                           int tx) { return Around{what, time, rm, key, id, tx}; },
                        rc::gen::inRange(0, 10), rc::gen::inRange(0, 450), rc::gen::inRange(0, 4),
                        rc::gen::inRange(0, kKeysPerRm), rc::gen::inRange(0, 3), rc::gen::inRange(0, kTxNumbers));
}

void AddAround(const Around& around, std::vector<HistoryEvent>& out) {
  // Mostly the file RM: share modes are about files.
  const std::string& rm = around.rm == 0 ? kLongRms[1] : kLongRms[2];
  HistoryEvent event;
  event.time_ns = around.time * int64_t{1'000'000};
  event.host = HostOf(rm);
  event.rm = rm;
  event.key = KeyName(rm, around.key);
  event.value = absl::StrCat("t9.", around.id);
  const std::string tx = absl::StrCat("t", around.tx);
  event.kind = EventKind::kOpen;
  switch (around.what) {
    case 0: case 1: event.detail = "write"; break;
    case 2: event.detail = "close"; break;
    case 3: event.detail = "refused STATUS_SHARING_VIOLATION"; break;
    case 4: event.tx = tx; event.value = ""; event.detail = "refused STATUS_TRANSACTIONAL_CONFLICT"; break;
    default: event.rm = event.key = event.value = ""; break;
  }
  switch (around.what) {
    case 5: event.kind = EventKind::kCrash; break;
    case 6: event.kind = EventKind::kRestart; break;
    case 7: event.kind = EventKind::kFaultsStop; event.host = 0; break;
    case 8: event.kind = EventKind::kTimeoutFired; event.tx = tx; break;
    case 9: event.kind = EventKind::kRequestOutcome; event.tx = tx; event.rm = rm; break;
    default: break;
  }
  out.push_back(std::move(event));
}

// One change to a history: `at` and `to` pick events (per mille of the
// length), `pick` a new kind, detail or host.
struct Mutation {
  int what, at, to, pick;
};

void showValue(const Mutation& m, std::ostream& os) {
  os << "{what " << m.what << " at " << m.at << " to " << m.to << " pick " << m.pick << "}";
}

rc::Gen<Mutation> GenMutation() {
  return rc::gen::apply([](int what, int at, int to, int pick) { return Mutation{what, at, to, pick}; },
                        rc::gen::inRange(0, 10), rc::gen::inRange(0, 1000), rc::gen::inRange(0, 1000),
                        rc::gen::inRange(0, 64));
}

void Mutate(const Mutation& mutation, std::vector<HistoryEvent>& events) {
  if (events.empty()) return;
  const size_t at = events.size() * mutation.at / 1000;
  const size_t to = events.size() * mutation.to / 1000;
  HistoryEvent event = events[at];
  // Inserted before `to`, at its time: the history stays in time order.
  auto insert = [&events, to](HistoryEvent added) {
    added.time_ns = events[to].time_ns;
    events.insert(events.begin() + static_cast<std::ptrdiff_t>(to), std::move(added));
  };
  static const std::vector<std::string> kDetailsLong = {"yes", "no", "readonly", "spc", "volatile", "",
                                                        "write", "close", "absent", "committed", "aborted"};
  switch (mutation.what) {
    case 0: events.erase(events.begin() + static_cast<std::ptrdiff_t>(at)); break;
    case 1: events.erase(events.begin() + static_cast<std::ptrdiff_t>(at)); if (to < events.size()) insert(event); break;
    case 2: insert(event); break;
    case 3: events[at].kind = static_cast<EventKind>(mutation.pick % kKinds); break;
    case 4: events[at].tx = events[to].tx; break;
    case 5: events[at].value = events[to].value; break;
    case 6: events[at].detail = kDetailsLong[mutation.pick % kDetailsLong.size()]; break;
    case 7: {  // a non-transacted open of what the event names
      HistoryEvent open = event;
      open.kind = EventKind::kOpen;
      open.tx = "";
      open.value = absl::StrCat("t8.", mutation.pick % 4);
      open.detail = mutation.pick % 3 == 0 ? "close" : "write";
      insert(open);
      break;
    }
    case 8: case 9: {  // a crash of a host, or faults stop
      HistoryEvent added;
      added.kind = mutation.what == 8 ? EventKind::kCrash : EventKind::kFaultsStop;
      added.host = static_cast<uint32_t>(mutation.pick % 3);
      insert(added);
      break;
    }
  }
}

// Final values: each written (rm, key)'s last committed value in time order,
// the way a correct run ends (mutations then break some).
void AddFinalValues(std::vector<HistoryEvent>& events, int64_t end_ns) {
  std::map<std::pair<std::string, std::string>, std::string> last;
  std::map<std::pair<std::string, std::string>, std::vector<std::pair<std::string, std::string>>> pending;
  for (const HistoryEvent& event : events) {
    if (event.kind == EventKind::kWrite) {
      last.try_emplace({event.rm, event.key});
      pending[{event.tx, event.rm}].push_back({event.key, event.value});
    } else if (event.kind == EventKind::kRmCommitted) {
      for (const auto& [key, value] : pending[{event.tx, event.rm}]) last[{event.rm, key}] = value;
    }
  }
  for (const auto& [place, value] : last) {
    HistoryEvent final_value;
    final_value.time_ns = end_ns;
    final_value.kind = EventKind::kFinalValue;
    final_value.rm = place.first;
    final_value.key = place.second;
    final_value.value = value;
    events.push_back(std::move(final_value));
  }
}

RC_GTEST_PROP(CheckersEquivalence, LongMutatedHistoriesGiveTheReferenceViolations, ()) {
  const auto plans = *rc::gen::container<std::vector<TxPlan>>(GenTxPlan());
  const auto around = *rc::gen::container<std::vector<Around>>(GenAround());
  const auto mutations = *rc::gen::container<std::vector<Mutation>>(GenMutation());
  std::vector<HistoryEvent> events;
  for (const TxPlan& plan : plans) AddTx(plan, events);
  for (const Around& one : around) AddAround(one, events);
  std::stable_sort(events.begin(), events.end(),
                   [](const HistoryEvent& a, const HistoryEvent& b) { return a.time_ns < b.time_ns; });
  const int64_t final_ns = (events.empty() ? 0 : events.back().time_ns) + 1'000'000;
  AddFinalValues(events, final_ns);
  for (const Mutation& mutation : mutations) Mutate(mutation, events);
  History history;
  history.events = std::move(events);
  history.end_ns = final_ns + *rc::gen::inRange<int64_t>(0, 50) * 1'000'000;
  RC_TAG(history.events.size() >= 200 ? "200+ events" : "fewer");
  RC_LOG() << history.ToText();
  ExpectCheckersAgree(history, *rc::gen::inRange<int64_t>(0, 40) * 1'000'000);
}

TEST(CheckScratch, KeepsThePerEventArraysBetweenChecksAndChangesNoResult) {
  const History big = bench::GenerateHistory(2000, 19);
  const History small = bench::GenerateHistory(300, 7);
  History broken = small;  // a commit both ways: violations to compare
  for (HistoryEvent& event : broken.events) {
    if (event.kind == EventKind::kRmCommitted) {
      event.kind = EventKind::kRmAborted;
      break;
    }
  }
  CheckScratch scratch;
  EXPECT_EQ(scratch.bytes_held(), 0u);
  for (const History* history : std::initializer_list<const History*>{&big, &small, &broken, &big, &broken}) {
    const std::vector<Violation> alone = CheckAll(*history, {}, bench::kGeneratedBoundNs);
    const std::vector<Violation> reused = CheckAll(*history, {}, bench::kGeneratedBoundNs, &scratch);
    EXPECT_EQ(reused, alone);
    // The arrays came back: 17 bytes per event of the largest history so far.
    EXPECT_GE(scratch.bytes_held(), 17 * big.events.size());
  }
  EXPECT_FALSE(CheckAll(broken, {}, bench::kGeneratedBoundNs, &scratch).empty());
}

TEST(HistoryNames, InternedOncePerTableWithDenseIds) {
  History history;
  const Name a = history.Intern("t1");
  const Name b = history.Intern(std::string("t1"));
  const Name c = history.Intern("kv1");
  EXPECT_EQ(a.id(), b.id());
  EXPECT_EQ(a.data(), b.data());  // one copy of the characters
  EXPECT_NE(a.id(), c.id());
  EXPECT_EQ(history.Intern("").id(), 0u);
  EXPECT_EQ(history.names->size(), 3u);  // "", "t1", "kv1"
  EXPECT_EQ(history.names->At(c.id()), "kv1");
  EXPECT_EQ(history.names->Find("t1"), a.id());
  EXPECT_EQ(history.names->Find("t2"), NameTable::kAbsent);
  EXPECT_STREQ(c.c_str(), "kv1");
  // A name from the shared table equals the same text from a history's table.
  const Name shared = "t1";
  EXPECT_EQ(shared, a);
  EXPECT_NE(shared.table(), a.table());
  const std::string copy = a;
  EXPECT_EQ(copy, "t1");
  // A long string (its own arena block) survives many later interns.
  const std::string long_text(100'000, 'x');
  const Name big = history.Intern(long_text);
  for (int i = 0; i < 20'000; ++i) history.Intern(absl::StrCat("v", i));
  EXPECT_EQ(big, long_text);
  EXPECT_EQ(a, "t1");
  EXPECT_EQ(history.names->At(a.id()), "t1");
}

// The index hashes short texts by words, halves or three bytes (history.cc
// TextHash): texts of every length up to 40 that differ in a single byte, at
// every position, or only in length (embedded '\0's included) are distinct
// names, each found again by its text.
TEST(HistoryNames, TextsDifferingInOneByteOrInLengthAreDistinctNames) {
  NameTable table;
  std::vector<std::string> texts;
  for (size_t size = 1; size <= 40; ++size) {
    const std::string base(size, 'a');
    texts.push_back(base);
    texts.push_back(std::string(size, '\0'));
    for (size_t at = 0; at < size; ++at) {
      std::string text = base;
      text[at] = 'b';
      texts.push_back(text);
    }
  }
  std::vector<uint32_t> ids;
  for (const std::string& text : texts) ids.push_back(table.Intern(text).id());
  EXPECT_EQ(table.size(), texts.size() + 1);  // every text new, plus ""
  for (size_t i = 0; i < texts.size(); ++i) {
    EXPECT_EQ(table.Find(texts[i]), ids[i]) << i;
    EXPECT_EQ(table.Intern(texts[i]).id(), ids[i]) << i;
    EXPECT_EQ(std::string(table.At(ids[i])), texts[i]) << i;
  }
}

TEST(HistoryNames, AnEventIsSmallAndCopiesShareTheTable) {
  static_assert(sizeof(HistoryEvent) <= 96, "an event holds five 16-byte names, time, host and kind");
  History history;
  history.Add(5, 1, EventKind::kWrite, "t1", "kv1", "k", "t1.0", "volatile");
  const History copy = history;
  EXPECT_EQ(copy.names, history.names);
  EXPECT_TRUE(copy.NamesAreOwn());
  EXPECT_EQ(copy.ToText(), "#0 5 h1 Write tx=t1 rm=kv1 key=k value=\"t1.0\" detail=\"volatile\"\nend 0\n");
}

TEST(CheckersEquivalence, ReferenceStatesOfAGeneratedHistoryAreEqual) {
  const History history = bench::GenerateHistory(300, 7);
  EXPECT_FALSE(ReferenceState(history).empty());
  EXPECT_TRUE(SameReference(ReferenceState(history), reference::ReferenceState(history)));
}

TEST(CheckersEquivalence, ALongGeneratedHistoryPassesBoth) {
  const History history = bench::GenerateHistory(5000, 19);
  EXPECT_TRUE(CheckAll(history, {}, bench::kGeneratedBoundNs).empty());
  EXPECT_TRUE(reference::CheckAll(history, {}, bench::kGeneratedBoundNs).empty());
}

}  // namespace
}  // namespace model
