// The cheap paths of observing a run (issue 19): each test states what the
// fast path must still do exactly as the slow one did, so breaking the fast
// path (a stale cached hash, a lost payload, a name found by the wrong text,
// an event shown from a reused buffer) fails here.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "harness/history_recorder.h"
#include "model/history.h"
#include "sim/scheduler.h"
#include "sim/trace.h"
#include "sim/world.h"

namespace {

std::unique_ptr<sim::World> TwoHosts(uint64_t seed) {
  sim::WorldOptions options;
  options.seed = seed;
  auto world = std::make_unique<sim::World>(options);
  world->AddHost("a");
  world->AddHost("b");
  return world;
}

// Network keeps a datagram's payload with its copy in flight and hashes it
// only when a fingerprint is asked for: the fingerprint must still follow
// the payloads in flight (not a hash cached from an earlier question), and
// the receiver must get the bytes that were sent.
TEST(ObservePaths, NetworkFingerprintFollowsThePayloadsInFlight) {
  auto asked_between = TwoHosts(1);
  auto asked_once = TwoHosts(2);
  auto other_bytes = TwoHosts(1);
  const uint64_t empty = asked_between->network().Fingerprint();
  asked_between->network().Send(0, 1, {1, 2, 3});
  const uint64_t one = asked_between->network().Fingerprint();
  EXPECT_NE(one, empty);
  EXPECT_EQ(asked_between->network().Fingerprint(), one);  // asked twice: the same
  asked_between->network().Send(0, 1, {4, 5});
  asked_once->network().Send(0, 1, {1, 2, 3});
  asked_once->network().Send(0, 1, {4, 5});
  other_bytes->network().Send(0, 1, {1, 2, 3});
  other_bytes->network().Send(0, 1, {4, 6});
  EXPECT_NE(asked_between->network().Fingerprint(), one);
  EXPECT_EQ(asked_between->network().Fingerprint(), asked_once->network().Fingerprint());
  EXPECT_NE(other_bytes->network().Fingerprint(), asked_once->network().Fingerprint());

  std::vector<std::vector<uint8_t>> received;
  asked_between->network().Attach(1, [&](uint32_t from, std::vector<uint8_t> payload) {
    EXPECT_EQ(from, 0u);
    received.push_back(std::move(payload));
  });
  asked_between->scheduler().RunUntilIdle();
  ASSERT_EQ(received.size(), 2u);
  // Latencies may reorder them: compare as a set of two.
  const bool in_order = received[0] == std::vector<uint8_t>{1, 2, 3};
  EXPECT_EQ(received[in_order ? 0 : 1], (std::vector<uint8_t>{1, 2, 3}));
  EXPECT_EQ(received[in_order ? 1 : 0], (std::vector<uint8_t>{4, 5}));
  EXPECT_EQ(asked_between->network().Fingerprint(), empty);  // nothing left in flight
}

// The recorder finds RM names it has seen without hashing them: names of one
// length that differ in one byte, more names than its cache has slots, one
// buffer reused for different names, and the empty name must each record
// as themselves.
TEST(ObservePaths, RecorderNamesEveryRmByItsOwnText) {
  sim::Scheduler scheduler;
  harness::HistoryRecorder recorder(&scheduler);
  std::vector<std::string> rms;
  for (int i = 0; i < 40; ++i) rms.push_back(absl::StrCat("kv", i % 10, i / 10));  // "kv00", "kv10", ...
  rms.push_back("a-much-longer-resource-manager-name-1");
  rms.push_back("a-much-longer-resource-manager-name-2");
  const ktm::Guid uow{5, 6};
  recorder.NameTransaction("t1", uow);
  // Writes name their RM from one reused buffer: the same address holds a
  // different name each time (a cache keyed by address must check the text).
  std::string same_place;
  same_place.reserve(64);
  for (int round = 0; round < 3; ++round) {
    for (const std::string& rm : rms) {
      recorder.OnEnlist(1, rm, uow);
      same_place.assign(rm);
      recorder.OnWrite(1, same_place, uow, "k", absl::StrCat(rm, ".", round));
      recorder.OnVote(1, rm, uow, round == 0 ? ktm::RmVote::kYes : ktm::RmVote::kNo, "");
    }
  }
  recorder.OnNotify(1, "", uow, 0);
  const model::History history = recorder.TakeHistory(100);
  ASSERT_EQ(history.events.size(), 3 * 3 * rms.size() + 1);
  for (size_t i = 0; i + 1 < history.events.size(); ++i) {
    const model::HistoryEvent& e = history.events[i];
    const std::string& rm = rms[(i / 3) % rms.size()];
    EXPECT_EQ(std::string(e.rm), rm) << i;
    EXPECT_EQ(e.tx, "t1");
    if (e.kind == model::EventKind::kWrite) {
      EXPECT_EQ(std::string(e.value), absl::StrCat(rm, ".", i / (3 * rms.size())));
    }
    if (e.kind == model::EventKind::kVote) {
      EXPECT_EQ(std::string(e.detail), i < 3 * rms.size() ? "yes" : "no") << i;
    }
  }
  EXPECT_EQ(std::string(history.events.back().rm), "");
  // One name per RM, however often it was named (no duplicates interned).
  uint32_t kv00 = 0;
  for (const model::HistoryEvent& e : history.events) {
    if (std::string_view(e.rm) == "kv00") {
      if (kv00 == 0) kv00 = e.rm.id();
      EXPECT_EQ(e.rm.id(), kv00);
    }
  }
  EXPECT_NE(kv00, 0u);
}

// RMs that report with the recorder's keys (RmKey) are named as by their
// text, with the same name ids (the first report interns the name, where the
// text did: RmKey interns nothing); a key the recorder never gave falls
// back to the text.
TEST(ObservePaths, RecorderNamesKeyedRmsAsByTheirText) {
  sim::Scheduler scheduler;
  harness::HistoryRecorder keyed(&scheduler), by_text(&scheduler);
  const uint32_t kv1 = keyed.RmKey("kv1");
  const uint32_t kv2 = keyed.RmKey("kv2");
  EXPECT_EQ(keyed.RmKey("kv1"), kv1);  // one key per name
  EXPECT_NE(kv1, kv2);
  const ktm::Guid uow{7, 8};
  keyed.NameTransaction("t1", uow);
  by_text.NameTransaction("t1", uow);
  keyed.OnWrite(1, ktm::ObservedRm("kv2", kv2), uow, "a", "b");
  by_text.OnWrite(1, "kv2", uow, "a", "b");
  keyed.OnEnlist(1, ktm::ObservedRm("kv1", kv1), uow);
  by_text.OnEnlist(1, "kv1", uow);
  keyed.OnEnlist(1, "kv3", uow);  // no key: by text
  by_text.OnEnlist(1, "kv3", uow);
  keyed.OnVote(1, ktm::ObservedRm("kv4", 999), uow, ktm::RmVote::kYes, "");  // not a key of `keyed`
  by_text.OnVote(1, "kv4", uow, ktm::RmVote::kYes, "");
  keyed.OnCommitted(1, ktm::ObservedRm("kv2", kv2), uow);
  by_text.OnCommitted(1, "kv2", uow);
  const model::History a = keyed.TakeHistory(10);
  const model::History b = by_text.TakeHistory(10);
  ASSERT_EQ(a.events.size(), 5u);
  ASSERT_EQ(b.events.size(), 5u);
  const std::vector<std::string> rms = {"kv2", "kv1", "kv3", "kv4", "kv2"};
  for (size_t i = 0; i < a.events.size(); ++i) {
    EXPECT_EQ(std::string(a.events[i].rm), rms[i]) << i;
    EXPECT_EQ(a.events[i].rm.id(), b.events[i].rm.id()) << i;
    EXPECT_EQ(a.events[i].value.id(), b.events[i].value.id()) << i;
  }
}

// TxName remembers its last answer: naming a transaction again (or a branch
// joining a local transaction to its root) must change what the next event
// of that engine transaction is filed under.
TEST(ObservePaths, RecorderFilesEventsUnderTheTransactionsLatestName) {
  sim::Scheduler scheduler;
  harness::HistoryRecorder recorder(&scheduler);
  const ktm::Guid root{0x11, 1}, local{0x22, 2};
  recorder.NameTransaction("t1", root);
  recorder.OnEnlist(1, "kv1", root);
  recorder.OnEnlist(1, "kv1", local);  // not named yet
  recorder.OnBranch(1, root, local);
  recorder.OnEnlist(1, "kv2", local);
  recorder.OnEnlist(1, "kv2", root);
  recorder.NameTransaction("t9", root);
  recorder.OnEnlist(1, "kv3", root);
  const model::History history = recorder.TakeHistory(10);
  std::vector<std::string> txs;
  for (const model::HistoryEvent& e : history.events) txs.push_back(std::string(e.tx));
  EXPECT_EQ(txs, (std::vector<std::string>{"t1", "uow-0000000000000022", "t1", "t1", "t9"}));
}

// Observers see the event being recorded even when one of them records
// another event while it is shown (the nested one is shown in full first,
// from an event of its own): view and text listeners alike, in order.
TEST(ObservePaths, NestedRecordsLeaveTheShownEventIntact) {
  sim::Trace trace(/*keep_events=*/false);
  std::vector<std::string> texts, views;
  trace.add_view_listener([&](const sim::TraceView& v) {
    std::string scratch;
    views.push_back(std::string(v.kind.text) + ":" + std::string(v.FieldText("n", &scratch)));
    if (v.kind.text == "outer") trace.Record(v.time, v.host, "inner", {{"n", uint64_t{2}}});
  });
  trace.add_listener([&](const sim::TraceEvent& e) { texts.push_back(e.ToText()); },
                     [](std::string_view kind) { return kind != "views_only"; });
  trace.RecordEach(5, 1, "outer", sim::TraceField("n", uint64_t{1}), sim::TraceField("who", "x"));
  trace.Record(6, 1, "views_only", {{"n", uint64_t{3}}});
  EXPECT_EQ(views, (std::vector<std::string>{"outer:1", "inner:2", "views_only:3"}));
  EXPECT_EQ(texts, (std::vector<std::string>{"5 h1 inner n=2", "5 h1 outer n=1 who=x"}));
  EXPECT_EQ(trace.count(), 3u);
}

}  // namespace
