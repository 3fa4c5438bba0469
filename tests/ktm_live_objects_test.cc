// A long engine run holds a bounded number of kernel objects: after
// thousands of 2PC commits the kernel keeps no forgotten transaction, no
// leftover handle, and each RM's enlistment list (Rm::enlistments, which
// used to grow by one entry per transaction forever) stays near the live
// enlistments. The harness's history recorder likewise keeps only the
// unresolved (transaction, RM) pairs where crash handling walks them, so a
// crash costs what is in flight, not what the run did before. Counts, not
// timings: speed is measured in bench/.
#include <algorithm>
#include <cstdint>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "harness/history_recorder.h"
#include "sim/scheduler.h"
#include "sim/trace.h"
#include "ktm/api.h"
#include "ktm/kernel.h"
#include "tests/ktm_rig.h"

namespace {

constexpr uint64_t kCommits = 10'000;
constexpr size_t kRmEnlistmentsMax = 64;  // 2 RMs x (2 x live + prune slack), with room

// One transaction writing one key on every RM, committed; true if it committed.
bool CommitOne(ktmtest::KtmRig& rig, int rm_count, uint64_t n) {
  ktm::HANDLE tx;
  if (ktm::CreateTransaction(rig.k(), 0, 0, "", &tx) != ktm::STATUS_SUCCESS) return false;
  for (int i = 0; i < rm_count; ++i) rig.rm(i).Write(tx, absl::StrCat("k", n % 16), absl::StrCat("v", n));
  bool committed = false;
  ktm::CommitTransaction(rig.k(), tx, [&committed](ktm::NTSTATUS s) { committed = s == ktm::STATUS_SUCCESS; });
  rig.Settle();
  ktm::CloseHandle(rig.k(), tx);
  return committed;
}

TEST(KtmLiveObjects, TenThousandCommitsLeaveTheLiveObjectCountsBounded) {
  constexpr int kRms = 2;
  ktmtest::KtmRig rig(/*seed=*/19, kRms, /*planted_bug=*/0, /*single_phase=*/false);
  uint64_t committed = 0;
  for (uint64_t n = 0; n < 100; ++n) committed += CommitOne(rig, kRms, n) ? 1 : 0;
  const ktm::Kernel::LiveCounts early = rig.k().Live();
  for (uint64_t n = 100; n < kCommits; ++n) committed += CommitOne(rig, kRms, n) ? 1 : 0;
  const ktm::Kernel::LiveCounts late = rig.k().Live();
  EXPECT_EQ(committed, kCommits);
  EXPECT_EQ(late.transactions, 0u);
  EXPECT_EQ(late.handles, early.handles);
  EXPECT_LE(late.rm_enlistments, kRmEnlistmentsMax)
      << "each RM's enlistment list grows with every transaction";
}

// 20,000 transactions over two RMs, eight in flight, a crash of the RMs'
// host after every 100: the recorder's open pairs stay at what is in flight,
// and each crash aborts exactly the unprepared pairs in flight (and no
// resolved one of the thousands before it).
TEST(HistoryRecorderLiveObjects, OpenPairsStayAtWhatIsInFlight) {
  constexpr uint64_t kTransactions = 20'000;
  constexpr uint64_t kInFlight = 8;
  constexpr uint64_t kCrashEvery = 100;
  constexpr size_t kOpenPairsMax = 2 * kInFlight;
  sim::Scheduler scheduler;
  harness::HistoryRecorder recorder(&scheduler);
  const std::set<std::string> rms = {"kv1", "kv2"};
  auto uow_of = [](uint64_t n) { return ktm::Guid{n + 1, 7}; };
  size_t open_max = 0;
  uint64_t crash_aborts = 0;
  for (uint64_t n = 0; n < kTransactions; ++n) {
    const std::string tx = absl::StrCat("t", n);
    recorder.NameTransaction(tx, uow_of(n));
    recorder.Record(model::EventKind::kBegin, 1, tx);
    for (const std::string& rm : rms) recorder.OnEnlist(1, rm, uow_of(n));
    if (n >= kInFlight) {
      // The oldest in flight commits: both RMs vote yes and commit.
      const ktm::Guid old = uow_of(n - kInFlight);
      for (const std::string& rm : rms) recorder.OnVote(1, rm, old, ktm::RmVote::kYes, "");
      for (const std::string& rm : rms) recorder.OnCommitted(1, rm, old);
    }
    open_max = std::max(open_max, recorder.open_pairs());
    if (n % kCrashEvery == kCrashEvery - 1) {
      const size_t before = recorder.open_pairs();
      recorder.ResolveCrashedRms(1, rms, {});
      crash_aborts += before - recorder.open_pairs();
    }
  }
  EXPECT_LE(open_max, kOpenPairsMax);
  const model::History history = recorder.TakeHistory(scheduler.Now());
  uint64_t crash_events = 0;
  for (const model::HistoryEvent& e : history.events) {
    if (e.kind == model::EventKind::kRmAborted && e.detail == "crash") ++crash_events;
  }
  EXPECT_EQ(crash_events, crash_aborts);
  // Each crash aborts the (unprepared) pairs of the transactions in flight then.
  EXPECT_EQ(crash_aborts, kTransactions / kCrashEvery * kInFlight * rms.size());
}

// Open pairs come and go in any order (a resolved pair's slot is taken by
// the last one); a crash still aborts exactly the open unprepared pairs, in
// (tx, rm) name order, whatever order they were made and resolved in.
TEST(HistoryRecorderLiveObjects, CrashAbortsOpenPairsInNameOrder) {
  sim::Scheduler scheduler;
  harness::HistoryRecorder recorder(&scheduler);
  const std::vector<std::string> txs = {"t3", "t10", "t1", "t7", "t2"};
  const std::vector<std::string> rms = {"kv2", "kv1"};
  for (size_t n = 0; n < txs.size(); ++n) {
    recorder.NameTransaction(txs[n], ktm::Guid{n + 1, 9});
    recorder.Record(model::EventKind::kBegin, 1, txs[n]);
    for (const std::string& rm : rms) recorder.OnEnlist(1, rm, ktm::Guid{n + 1, 9});
  }
  EXPECT_EQ(recorder.open_pairs(), 10u);
  // Resolve from the middle and the front (t1 and t3 commit at kv1 only, t7 at both).
  recorder.OnCommitted(1, "kv1", ktm::Guid{3, 9});  // t1
  recorder.OnCommitted(1, "kv1", ktm::Guid{1, 9});  // t3
  recorder.OnCommitted(1, "kv2", ktm::Guid{4, 9});  // t7
  recorder.OnCommitted(1, "kv1", ktm::Guid{4, 9});
  recorder.OnCommitted(1, "kv1", ktm::Guid{4, 9});  // again: already resolved
  EXPECT_EQ(recorder.open_pairs(), 6u);
  recorder.ResolveCrashedRms(1, {"kv1", "kv2"}, {});
  EXPECT_EQ(recorder.open_pairs(), 0u);
  std::vector<std::string> aborted;
  const model::History history = recorder.TakeHistory(scheduler.Now());
  for (const model::HistoryEvent& e : history.events) {
    if (e.kind == model::EventKind::kRmAborted && e.detail == "crash") aborted.push_back(e.tx.str() + "/" + e.rm.str());
  }
  EXPECT_EQ(aborted, (std::vector<std::string>{"t1/kv2", "t10/kv1", "t10/kv2", "t2/kv1", "t2/kv2", "t3/kv2"}));
}

// The recorder keys engine transactions by their 64-bit short id and files a
// timeout (a trace event naming the UOW as 16 hex digits) under the client's
// name; an unknown UOW, or a field that is no short id, as "uow-<text>".
// names() lists every named UOW under its text, in text order.
TEST(HistoryRecorderNames, TraceEventsAndNamesUseTheShortIdText) {
  sim::Scheduler scheduler;
  harness::HistoryRecorder recorder(&scheduler);
  const ktm::Guid named{0xa1b2c3d4e5f60718ull, 1};
  const ktm::Guid later{0x0000000000000fffull, 2};
  const ktm::Guid unknown{0xffff000000000001ull, 3};
  recorder.NameTransaction("t1", named);
  recorder.NameTransaction("t2", later);
  auto timeout = [&](std::string tx) {
    sim::TraceEvent e;
    e.host = 1;
    e.kind = "ktm.timeout";
    e.fields = {{"tx", std::move(tx)}};
    recorder.OnTraceView(sim::TraceEventView(e).view());
  };
  timeout("a1b2c3d4e5f60718");
  timeout("ffff000000000001");
  timeout("A1B2C3D4E5F60718");  // not our rendering: no match
  timeout("t1");
  // As the engine may record it: the short id as a number (TraceHex), read
  // without text.
  const sim::TraceField hex_field("tx", sim::TraceHex{0x0000000000000fffull});
  recorder.OnTraceView(sim::TraceView{0, 1, "ktm.timeout", std::span<const sim::TraceField>(&hex_field, 1)});
  EXPECT_EQ(recorder.TxName(named), "t1");
  EXPECT_EQ(recorder.TxName(unknown), "uow-ffff000000000001");
  EXPECT_EQ(recorder.UowOf("t2"), "0000000000000fff");
  EXPECT_EQ(recorder.UowOf("t3"), "");
  const model::History history = recorder.TakeHistory(scheduler.Now());
  std::vector<std::string> filed;
  for (const model::HistoryEvent& e : history.events) filed.push_back(e.tx.str());
  EXPECT_EQ(filed,
            (std::vector<std::string>{"t1", "uow-ffff000000000001", "uow-A1B2C3D4E5F60718", "uow-t1", "t2"}));
  const harness::RunNames& names = recorder.names();
  std::vector<std::pair<std::string, std::string>> listed(names.tx_by_uow.begin(), names.tx_by_uow.end());
  EXPECT_EQ(listed, (std::vector<std::pair<std::string, std::string>>{{"0000000000000fff", "t2"},
                                                                      {"a1b2c3d4e5f60718", "t1"}}));
}

}  // namespace
