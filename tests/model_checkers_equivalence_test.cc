// The interned-id checkers (model/checkers.cc) give exactly the violations
// of the string-keyed checkers they replaced (tests/model_checkers_reference.cc):
// same rules, transactions, messages, evidence and order, for every rule and
// for CheckAll, on random histories over small name pools, so that every rule
// fires often (many histories break several rules at once), including odd
// ones: empty tx / rm / key names, kinds in any order, duplicate events,
// values nobody wrote. Also on a long generated history that passes.
#include <cstdint>
#include <map>
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
const std::vector<std::string> kDetails = {"yes",       "no", "readonly", "spc", "committed",
                                           "aborted", "rm", "volatile", ""};
constexpr int kKinds = static_cast<int>(EventKind::kRmLost) + 1;

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

RC_GTEST_PROP(CheckersEquivalence, EveryRuleGivesTheReferenceViolations, ()) {
  const History history = GenHistory();
  const int64_t bound = *rc::gen::inRange<int64_t>(0, 4) * 1'000'000;
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
