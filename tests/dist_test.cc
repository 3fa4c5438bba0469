// Distributed transactions (ktm/dist, label dist):
// - the wire format round-trips every message type and rejects malformed bytes;
// - with no faults every branch uses exactly the protocol minimum of messages
//   (docs/distributed.md): PROPAGATE + reply, an OP + reply per operation,
//   then PREPREPARE, PREPARE, COMMIT and their replies (8 + 2k) for a commit,
//   or a single ABORT (3 + 2k) for a rollback; the participant's DTC forces
//   exactly two log blocks per committed branch (branch record, outcome);
// - crash points: for the coordinator (root) host and for a participant host,
//   a run per trace event of the distributed commit on that host, crashing
//   the host right after that event, restarting it, healing, and running
//   until quiet, with and without message loss: the hosts agree on the
//   outcome, an acknowledged commit is committed at every RM, and every
//   checker passes.
#include <cstdint>
#include <map>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "harness/cluster.h"
#include "harness/runner.h"
#include "harness/scenario.h"
#include "harness/scenario_toml.h"
#include "ktm/dist/message.h"
#include "model/history.h"

namespace {

using harness::Scenario;
using ktm::dist::Message;
using ktm::dist::MessageType;

// ---------------------------------------------------------------------------
// Wire format.

TEST(DistMessage, RoundTripsEveryTypeAndRejectsMalformedBytes) {
  for (uint8_t t = 1; t <= ktm::dist::kMessageTypeMax; ++t) {
    Message m;
    m.type = static_cast<MessageType>(t);
    m.from = 3;
    m.from_incarnation = 5;
    m.to_incarnation = 7;
    m.id = 11;
    m.reply_to = 13;
    m.branch = {2, 9, 17};
    m.root = ktm::Guid{0x1234, 0x5678};
    m.op_sequence = 4;
    m.write = true;
    m.rm = "kv1";
    m.key = "k3";
    m.value = "t1.2";
    m.status = ktm::STATUS_TRANSACTIONAL_CONFLICT;
    m.outcome = ktm::dist::Outcome::kCommit;
    std::vector<uint8_t> bytes = ktm::dist::Encode(m);
    Message back;
    ASSERT_TRUE(ktm::dist::Decode(bytes, &back)) << ktm::dist::MessageTypeName(m.type);
    EXPECT_EQ(back.type, m.type);
    EXPECT_EQ(back.from, 3u);
    EXPECT_EQ(back.from_incarnation, 5u);
    EXPECT_EQ(back.to_incarnation, 7u);
    EXPECT_EQ(back.id, 11u);
    EXPECT_EQ(back.reply_to, 13u);
    EXPECT_EQ(back.branch, m.branch);
    EXPECT_EQ(back.root, m.root);
    EXPECT_EQ(back.op_sequence, 4u);
    EXPECT_EQ(back.status, m.status);
    EXPECT_EQ(back.outcome, m.outcome);
    const bool op = m.type == MessageType::kOp || m.type == MessageType::kOpReply;
    EXPECT_EQ(back.key, op ? "k3" : "");
    EXPECT_EQ(back.write, op);
    // Every strict prefix and one extra byte are rejected.
    for (size_t n = 0; n < bytes.size(); ++n) {
      EXPECT_FALSE(ktm::dist::Decode(std::span<const uint8_t>(bytes.data(), n), &back)) << n;
    }
    bytes.push_back(0);
    EXPECT_FALSE(ktm::dist::Decode(bytes, &back));
  }
  Message bad;
  bad.id = 1;
  bad.branch = {0, 1, 1};
  std::vector<uint8_t> bytes = ktm::dist::Encode(bad);
  bytes[5] = ktm::dist::kMessageTypeMax + 1;  // the type byte
  EXPECT_FALSE(ktm::dist::Decode(bytes, &bad));
  bad.rm = std::string(ktm::dist::kStringBytesMax + 1, 'x');
  bad.type = MessageType::kOp;
  EXPECT_FALSE(ktm::dist::Decode(ktm::dist::Encode(bad), &bad));
}

TEST(DistMessage, BranchRecordRoundTrips) {
  ktm::dist::BranchRecord r{{4, 3, 99}, 1, ktm::Guid{7, 8}};
  ktm::dist::BranchRecord back;
  ASSERT_TRUE(ktm::dist::DecodeBranchRecord(ktm::dist::EncodeBranchRecord(r), &back));
  EXPECT_EQ(back.id, r.id);
  EXPECT_EQ(back.participant, 1u);
  EXPECT_EQ(back.root, r.root);
  EXPECT_EQ(r.id.ToString(), "b4.3.99");
  EXPECT_FALSE(ktm::dist::DecodeBranchRecord({}, &back));
}

// BranchId::ToString formats by hand: every digit of the widest values, and 0.
TEST(DistMessage, BranchIdTextHasEveryDigit) {
  EXPECT_EQ((ktm::dist::BranchId{0, 0, 0}).ToString(), "b0.0.0");
  EXPECT_EQ((ktm::dist::BranchId{10, 100, 1000}).ToString(), "b10.100.1000");
  EXPECT_EQ((ktm::dist::BranchId{UINT32_MAX, UINT64_MAX, UINT64_MAX}).ToString(),
            "b4294967295.18446744073709551615.18446744073709551615");
}

// Encode sizes its buffer up front: a message is exactly its fields, with
// and without the operation's strings, and decodes back.
TEST(DistMessage, EncodedSizeIsExactlyTheFields) {
  ktm::dist::Message m;
  m.type = MessageType::kPrepare;
  m.id = 1;
  m.branch = {1, 2, 3};
  EXPECT_EQ(ktm::dist::Encode(m).size(), 91u);
  m.type = MessageType::kOp;
  m.rm = "kv1";
  m.key = std::string(200, 'k');
  m.value = std::string(ktm::dist::kStringBytesMax, 'v');
  const std::vector<uint8_t> bytes = ktm::dist::Encode(m);
  EXPECT_EQ(bytes.size(), 91u + 1 + 3 * 4 + 3 + 200 + ktm::dist::kStringBytesMax);
  ktm::dist::Message back;
  ASSERT_TRUE(ktm::dist::Decode(bytes, &back));
  EXPECT_EQ(back.key, m.key);
  EXPECT_EQ(back.value, m.value);
}

// ---------------------------------------------------------------------------
// Scenarios.

// Hosts h0..h<hosts-1>, one durable KV RM each ("kv<i>" on h<i>), every
// transaction distributed, no faults.
Scenario DistScenario(int hosts, uint32_t transactions) {
  Scenario s;
  s.name = "dist";
  for (int i = 0; i < hosts; ++i) {
    harness::HostSpec h;
    h.name = absl::StrCat("h", i);
    s.hosts.push_back(h);
    harness::RmSpec rm;
    rm.name = absl::StrCat("kv", i);
    rm.host = h.name;
    rm.single_phase = i % 2 == 0;
    s.rms.push_back(rm);
  }
  auto& w = s.workload;
  w.transactions = transactions;
  w.distributed_fraction = 1;
  w.rms_per_tx_min = 2;
  w.rms_per_tx_max = static_cast<uint32_t>(hosts);
  w.ops_min = 1;
  w.ops_max = 3;
  w.keys = 32;
  s.termination_bound_ns = 2 * sim::kSecond;
  s.run_until_ns = 10 * sim::kSecond;
  return s;
}

std::string Describe(const harness::RunResult& r) {
  std::string out = absl::StrCat("seed ", r.seed, ": ", r.violations.size(), " violations\n");
  for (const auto& v : r.violations) absl::StrAppend(&out, "  ", v.rule, " ", v.tx, ": ", v.message, "\n");
  return out;
}

// ---------------------------------------------------------------------------
// The history recorder's trace kinds (harness/history_recorder.h).

// The recorder is the trace's view observer: it reads transaction timeouts,
// partitions, heals and log forces from the fields as recorded, no text made.
// A text trace hook routes the same events to it as text (TraceEventView),
// the way it read them before: both give the same history and digest, and
// the history holds those events (timeouts under the client's "t<N>" name,
// partitions with their groups, a targeted crash on a log force).
TEST(HistoryRecorder, ViewsAndTextGiveTheSameHistory) {
  std::map<model::EventKind, int> seen;
  int named_timeouts = 0, log_force_crashes = 0;
  for (const char* file : {"dist_partitions.toml", "timeouts.toml", "dist_coordinator_crash.toml"}) {
    absl::StatusOr<Scenario> scenario = harness::LoadScenarioFile(absl::StrCat(KTMSIM_SOURCE_DIR, "/scenarios/", file));
    ASSERT_TRUE(scenario.ok()) << scenario.status();
    for (uint64_t seed = 1; seed <= 3; ++seed) {
      harness::Cluster views(*scenario, seed, {.keep_trace = false});
      const harness::RunResult a = views.Run();
      harness::Cluster text(*scenario, seed, {.keep_trace = false});
      uint64_t hooked = 0;
      text.set_trace_hook([&hooked](const sim::TraceEvent&) { ++hooked; });
      const harness::RunResult b = text.Run();
      EXPECT_GT(hooked, 0u);
      EXPECT_EQ(a.digest, b.digest) << file << " seed " << seed;
      EXPECT_EQ(a.history.ToText(), b.history.ToText()) << file << " seed " << seed;
      EXPECT_EQ(a.schedule_text, b.schedule_text) << file << " seed " << seed;
      for (const model::HistoryEvent& e : a.history.events) {
        ++seen[e.kind];
        if (e.kind == model::EventKind::kTimeoutFired && absl::StartsWith(e.tx.str(), "t")) ++named_timeouts;
        if (e.kind == model::EventKind::kPartition) {
          EXPECT_FALSE(e.detail.str().empty());
        }
      }
      if (absl::StrContains(a.schedule_text, "on=log_force")) ++log_force_crashes;
    }
  }
  EXPECT_GT(seen[model::EventKind::kTimeoutFired], 0);
  EXPECT_EQ(named_timeouts, seen[model::EventKind::kTimeoutFired]);
  EXPECT_GT(seen[model::EventKind::kPartition], 0);
  EXPECT_GT(seen[model::EventKind::kHeal], 0);
  EXPECT_GT(log_force_crashes, 0);
}

// ---------------------------------------------------------------------------
// Admission: what a Dtc drops.

TEST(DistAdmission, DropsStaleMalformedAndMisroutedMessagesAndAnswersTheRest) {
  Scenario s = DistScenario(2, 1);
  harness::Cluster cluster(s, 7, {.keep_trace = false});
  std::vector<std::string> drops, answers;
  cluster.set_trace_hook([&](const sim::TraceEvent& e) {
    if (e.time < sim::kSecond) return;
    if (e.kind == "dist.drop") drops.push_back(absl::StrCat("h", e.host, " ", e.Field("reason")));
    if (e.kind == "dist.send") answers.push_back(e.Field("type") + "/" + e.Field("reply_to"));
  });
  sim::World& world = cluster.world();
  // Long after the one transaction, host 0 "sends" host 1 crafted messages,
  // 1 ms apart (more than the network's latency: they arrive in order).
  std::vector<std::vector<uint8_t>> datagrams;
  Message m;
  m.type = MessageType::kInquiry;  // host 1 is asked as the coordinator of branch b1.1.77
  m.from = 0;
  m.from_incarnation = 9;
  m.id = 100;
  m.branch = {1, 1, 77};
  datagrams.push_back(ktm::dist::Encode(m));  // answered: OUTCOME abort (unknown branch)
  m.id = 101;
  m.from_incarnation = 3;
  datagrams.push_back(ktm::dist::Encode(m));  // an older incarnation of host 0 than one already seen
  m.id = 102;
  m.from_incarnation = 9;
  m.to_incarnation = 12345;
  datagrams.push_back(ktm::dist::Encode(m));  // meant for another incarnation of host 1
  m.id = 103;
  m.to_incarnation = 0;
  m.branch = {0, 1, 77};
  datagrams.push_back(ktm::dist::Encode(m));  // an inquiry about a branch host 1 does not coordinate
  m.type = MessageType::kAbort;
  m.id = 104;
  m.branch = {1, 1, 78};
  datagrams.push_back(ktm::dist::Encode(m));  // an ABORT from a host that is not the branch's coordinator
  datagrams.push_back({1, 2, 3});             // not a message
  for (size_t i = 0; i < datagrams.size(); ++i) {
    world.scheduler().At(sim::kSecond + static_cast<sim::TimeNs>(i) * sim::kMillisecond,
                         [&world, d = datagrams[i]] { world.network().Send(0, 1, d); });
  }
  harness::RunResult r = cluster.Run();
  ASSERT_TRUE(r.violations.empty()) << Describe(r);
  // The answer to the inquiry goes to incarnation 9 of host 0, which is not
  // the one running: host 0 drops it.
  EXPECT_EQ(drops, (std::vector<std::string>{"h0 stale_receiver", "h1 stale_sender", "h1 stale_receiver",
                                             "h1 misrouted", "h1 misrouted", "h1 malformed"}));
  EXPECT_EQ(answers, std::vector<std::string>{"OUTCOME/100"});
}

// A reply's status is traced by its name (built once per change of code):
// each message shows its own, whatever the one before it carried.
TEST(DistTrace, EachReplyShowsItsOwnStatus) {
  Scenario s = DistScenario(2, 1);
  harness::Cluster cluster(s, 7, {.keep_trace = false});
  std::vector<std::string> statuses;
  cluster.set_trace_hook([&](const sim::TraceEvent& e) {
    if (e.time >= sim::kSecond && e.kind == "dist.recv" && e.host == 1) statuses.push_back(e.Field("status"));
  });
  sim::World& world = cluster.world();
  const std::vector<ktm::NTSTATUS> sent = {ktm::STATUS_TRANSACTION_NOT_ACTIVE, ktm::STATUS_TRANSACTION_NOT_ACTIVE,
                                      ktm::STATUS_SUCCESS, ktm::STATUS_INVALID_PARAMETER,
                                      ktm::STATUS_TRANSACTION_NOT_ACTIVE};
  std::vector<std::string> expected;
  for (size_t i = 0; i < sent.size(); ++i) {
    Message m;
    m.type = i % 2 == 0 ? MessageType::kOpReply : MessageType::kPropagateReply;
    m.from = 0;
    m.id = 200 + i;
    m.reply_to = 1;
    m.branch = {1, 1, 90 + i};  // no such branch: answered by nobody, traced on receipt
    m.status = sent[i];
    expected.push_back(ktm::StatusName(sent[i]));
    world.scheduler().At(sim::kSecond + static_cast<sim::TimeNs>(i) * sim::kMillisecond,
                         [&world, d = ktm::dist::Encode(m)] { world.network().Send(0, 1, d); });
  }
  cluster.Run();
  EXPECT_EQ(statuses, expected);
}

// ---------------------------------------------------------------------------
// Messages per commit.

// The message types each branch sent, in order, keyed by branch id.
struct BranchMessages {
  std::map<std::string, std::vector<std::string>> types;
  std::map<std::string, uint64_t> participant_log_forces;  // dist.log_forced per branch
  uint64_t sends = 0;
};

void Collect(BranchMessages* out, const sim::TraceEvent& e) {
  if (e.kind == "dist.send") {
    out->types[e.Field("branch")].push_back(e.Field("type"));
    ++out->sends;
  } else if (e.kind == "dist.log_forced") {
    ++out->participant_log_forces[e.Field("branch")];
  }
}

// "PROPAGATE PROPAGATE_REPLY (OP OP_REPLY)^k <tail>" for some k >= 1.
bool MatchesPattern(const std::vector<std::string>& got, const std::vector<std::string>& tail, size_t* ops) {
  if (got.size() < 2 + tail.size() || got[0] != "PROPAGATE" || got[1] != "PROPAGATE_REPLY") return false;
  const size_t middle = got.size() - 2 - tail.size();
  if (middle == 0 || middle % 2 != 0) return false;
  for (size_t i = 0; i < middle; i += 2) {
    if (got[2 + i] != "OP" || got[3 + i] != "OP_REPLY") return false;
  }
  *ops = middle / 2;
  return std::equal(tail.begin(), tail.end(), got.end() - static_cast<long>(tail.size()));
}

TEST(DistMessages, EveryBranchUsesTheProtocolMinimum) {
  const std::vector<std::string> commit = {"PREPREPARE", "PREPREPARED", "PREPARE", "PREPARED", "COMMIT", "COMMITTED"};
  const std::vector<std::string> abort = {"ABORT"};
  uint64_t committed = 0, aborted = 0;
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    Scenario s = DistScenario(3, 40);
    s.workload.concurrency = 3;
    harness::Cluster cluster(s, seed, {.keep_trace = false});
    BranchMessages seen;
    cluster.set_trace_hook([&seen](const sim::TraceEvent& e) { Collect(&seen, e); });
    harness::RunResult r = cluster.Run();
    ASSERT_TRUE(r.violations.empty()) << Describe(r);
    uint64_t expected_sends = 0;
    for (const auto& [branch, types] : seen.types) {
      size_t ops = 0;
      if (MatchesPattern(types, commit, &ops)) {
        ++committed;
        expected_sends += 8 + 2 * ops;
        // The participant's DTC forces its branch record and the outcome, nothing else.
        EXPECT_EQ(seen.participant_log_forces[branch], 2u) << branch;
      } else if (MatchesPattern(types, abort, &ops)) {
        ++aborted;
        expected_sends += 3 + 2 * ops;
        EXPECT_EQ(seen.participant_log_forces[branch], 1u) << branch;
      } else {
        ADD_FAILURE() << "seed " << seed << " branch " << branch << ": " << absl::StrJoin(types, " ");
      }
    }
    EXPECT_EQ(seen.sends, expected_sends) << "seed " << seed << ": extra messages (retransmissions, inquiries)";
  }
  EXPECT_GT(committed, 50u);
  EXPECT_GT(aborted, 5u);
}

// ---------------------------------------------------------------------------
// The participant's log: snapshots move its base while branches are live, and
// crashes replay what the snapshot kept.

TEST(DistLog, SnapshotsKeepLiveBranchesAcrossCrashes) {
  uint64_t snapshots = 0, replays_after_snapshot = 0;
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    Scenario s = DistScenario(3, 250);
    for (auto& host : s.hosts) host.log_disk.sector_count = 96;  // 48 KiB logs: a snapshot every ~12 KiB
    s.workload.concurrency = 4;
    s.faults.mode = harness::FaultMode::kProbabilities;
    s.faults.crash_on = "log_force";
    s.faults.crash_on_probability = 0.01;
    s.faults.probabilities.crash_per_second = 3;
    s.faults.probabilities.message_loss = 0.02;
    s.faults.faults_until_ns = 2 * sim::kSecond;
    s.run_until_ns = 8 * sim::kSecond;
    harness::Cluster cluster(s, seed, {.keep_trace = false});
    std::set<uint32_t> snapshotted;
    cluster.set_trace_hook([&](const sim::TraceEvent& e) {
      if (e.kind == "dist.snapshot") {
        ++snapshots;
        snapshotted.insert(e.host);
      }
      if (e.kind == "dist.replayed" && snapshotted.count(e.host) && e.Field("branches") != "0") {
        ++replays_after_snapshot;
      }
    });
    harness::RunResult r = cluster.Run();
    EXPECT_TRUE(r.violations.empty()) << Describe(r);
    EXPECT_GT(r.committed, 100u) << "seed " << seed;
  }
  EXPECT_GT(snapshots, 20u);
  EXPECT_GT(replays_after_snapshot, 0u) << "no crash replayed live branches from a snapshotted log";
}

// ---------------------------------------------------------------------------
// Crash points.

struct Outcomes {
  std::map<std::string, std::set<std::string>> rm_outcomes;  // tx -> {"committed","aborted"} over its RMs
  std::map<std::string, std::set<std::string>> writers;      // tx -> RMs it wrote
  std::map<std::string, std::set<std::string>> committed_at;  // tx -> RMs with RmCommitted
  std::map<std::string, std::string> client;                 // tx -> client's outcome
};

Outcomes Summarize(const model::History& h) {
  Outcomes o;
  for (const auto& e : h.events) {
    if (e.kind == model::EventKind::kRmCommitted) {
      o.rm_outcomes[e.tx].insert("committed");
      o.committed_at[e.tx].insert(e.rm);
    } else if (e.kind == model::EventKind::kRmAborted) {
      o.rm_outcomes[e.tx].insert("aborted");
    } else if (e.kind == model::EventKind::kWrite) {
      o.writers[e.tx].insert(e.rm);
    } else if (e.kind == model::EventKind::kOutcome) {
      o.client[e.tx] = e.detail;
    }
  }
  return o;
}

// One distributed transaction that commits without faults: a seed whose
// single transaction writes on two hosts and commits.
struct Baseline {
  uint64_t seed = 0;
  uint32_t root = 0;         // host of the client
  uint32_t participant = 0;  // host of a branch
  size_t root_events = 0;    // events on each host from the commit request on
  size_t participant_events = 0;
};

Scenario CrashScenario(double loss, int hosts) {
  Scenario s = DistScenario(hosts, 1);
  auto& w = s.workload;
  w.rms_per_tx_min = static_cast<uint32_t>(hosts);
  w.rms_per_tx_max = static_cast<uint32_t>(hosts);
  w.ops_min = 2;
  w.ops_max = 2;
  w.read_fraction = 0;
  w.rollback_fraction = 0;
  w.read_only_fraction = 0;
  w.commit_fraction = 1;
  if (loss > 0) {
    s.faults.mode = harness::FaultMode::kProbabilities;
    s.faults.probabilities.message_loss = loss;
    s.faults.faults_until_ns = 150 * sim::kMillisecond;
  }
  return s;
}

// Counts each host's trace events from the client's commit request on.
class CommitWindow {
 public:
  void Observe(const sim::TraceEvent& e) {
    if (e.kind == "tx.commit_request") open_ = true;
    if (open_ && e.host != sim::kNoHost) ++events_[e.host];
  }
  size_t events(uint32_t host) const {
    auto it = events_.find(host);
    return it == events_.end() ? 0 : it->second;
  }
  bool open() const { return open_; }

 private:
  bool open_ = false;
  std::map<uint32_t, size_t> events_;
};

Baseline FindBaseline(double loss, int hosts) {
  for (uint64_t seed = 1; seed < 200; ++seed) {
    Scenario s = CrashScenario(loss, hosts);
    harness::Cluster cluster(s, seed, {.keep_trace = false});
    CommitWindow window;
    uint32_t participant = sim::kNoHost, root = sim::kNoHost;
    cluster.set_trace_hook([&](const sim::TraceEvent& e) {
      window.Observe(e);
      if (e.kind == "dist.branch") participant = e.host;
      if (e.kind == "tx.create" && root == sim::kNoHost) root = e.host;
    });
    harness::RunResult r = cluster.Run();
    EXPECT_TRUE(r.violations.empty()) << Describe(r);
    Outcomes o = Summarize(r.history);
    if (participant == sim::kNoHost || o.client["t1"] != "committed" ||
        o.writers["t1"].size() != static_cast<size_t>(hosts)) {
      continue;
    }
    Baseline b;
    b.seed = seed;
    b.participant = participant;
    b.root = root;
    b.root_events = window.events(b.root);
    b.participant_events = window.events(b.participant);
    return b;
  }
  ADD_FAILURE() << "no seed gives a committed two-host transaction";
  return {};
}

struct CrashRun {
  harness::RunResult result;
  bool crashed = false;
  bool participant_recovered = false;   // a participant recovered its branch in doubt (RECOVER_QUERY)
  bool coordinator_recovered = false;   // a root recovered a committed branch from KTM's log (RECOVER)
  bool inquired = false;                // a participant asked its coordinator (INQUIRY)
  std::string crash_event;
};

// Runs the baseline's seed, crashing `host` right after its k-th event from
// the commit request on; it restarts `down_ns` later.
CrashRun RunWithCrash(const Scenario& s, uint64_t seed, uint32_t host, size_t k, sim::TimeNs down_ns) {
  harness::Cluster cluster(s, seed, {.keep_trace = false});
  CrashRun run;
  CommitWindow window;
  sim::World* world = &cluster.world();
  cluster.set_trace_hook([&](const sim::TraceEvent& e) {
    window.Observe(e);
    if (e.kind == "dist.state" && e.Field("from") == "recovered") {
      (e.Field("role") == "participant" ? run.participant_recovered : run.coordinator_recovered) = true;
    }
    if (e.kind == "dist.send" && e.Field("type") == "INQUIRY") run.inquired = true;
    if (run.crashed || !window.open() || e.host != host || window.events(host) != k) return;
    run.crashed = true;
    run.crash_event = e.ToText();
    sim::Host* h = world->host(host);
    world->scheduler().After(0, [h, k] { h->Crash(0xc0ffee + k); });
    world->scheduler().After(down_ns, [h] { h->Restart(); });
  });
  run.result = cluster.Run();
  return run;
}

void CheckAgreement(const CrashRun& run) {
  Outcomes o = Summarize(run.result.history);
  for (const auto& [tx, outcomes] : o.rm_outcomes) {
    EXPECT_EQ(outcomes.size(), 1u) << tx << " committed at some RMs and aborted at others";
  }
  for (const auto& [tx, outcome] : o.client) {
    if (outcome != "committed") continue;
    for (const std::string& rm : o.writers[tx]) {
      EXPECT_TRUE(o.committed_at[tx].count(rm)) << tx << " acknowledged but not committed at " << rm;
    }
  }
}

struct CrashPointCase {
  const char* role;  // "coordinator" | "participant"
  double loss;
  sim::TimeNs down_ns;  // how long the crashed host stays down
  int hosts;            // 2: one branch; 3: two branches (the participant crashed is one of them)
};

void PrintTo(const CrashPointCase& c, std::ostream* out) {
  *out << c.role << " loss=" << c.loss << " down=" << model::FormatTimeNs(c.down_ns) << " hosts=" << c.hosts;
}

class DistCrashPoints : public ::testing::TestWithParam<CrashPointCase> {};

TEST_P(DistCrashPoints, AgreeAndKeepAcknowledgedCommits) {
  const CrashPointCase param = GetParam();
  Baseline base = FindBaseline(param.loss, param.hosts);
  ASSERT_NE(base.seed, 0u);
  const bool coordinator = std::string(param.role) == "coordinator";
  const uint32_t host = coordinator ? base.root : base.participant;
  const size_t points = coordinator ? base.root_events : base.participant_events;
  ASSERT_GT(points, 20u);
  Scenario s = CrashScenario(param.loss, param.hosts);
  size_t participant_recovered = 0, coordinator_recovered = 0, inquired = 0, acknowledged = 0;
  for (size_t k = 1; k <= points; ++k) {
    CrashRun run = RunWithCrash(s, base.seed, host, k, param.down_ns);
    SCOPED_TRACE(absl::StrCat(param.role, " crash point ", k, "/", points, " after: ", run.crash_event));
    ASSERT_TRUE(run.crashed);
    EXPECT_TRUE(run.result.violations.empty()) << Describe(run.result);
    CheckAgreement(run);
    participant_recovered += run.participant_recovered ? 1 : 0;
    coordinator_recovered += run.coordinator_recovered ? 1 : 0;
    inquired += run.inquired ? 1 : 0;
    acknowledged += run.result.committed;
    if (::testing::Test::HasFailure()) break;
  }
  // The crash points reach the windows that matter.
  EXPECT_GT(acknowledged, 0u);
  EXPECT_GT(inquired, 0u) << "no crash point made a participant inquire";
  if (coordinator) {
    EXPECT_GT(coordinator_recovered, 0u) << "no crash point made the root recover a committed branch";
  } else {
    EXPECT_GT(participant_recovered, 0u) << "no crash point made the participant recover its branch in doubt";
  }
  std::printf("%s (loss %.2f, down %s): %zu crash points, %zu acknowledged commits, %zu runs with inquiries, "
              "%zu root recoveries of a committed branch, %zu participant recoveries in doubt\n",
              param.role, param.loss, model::FormatTimeNs(param.down_ns).c_str(), points, acknowledged, inquired, coordinator_recovered,
              participant_recovered);
}

std::vector<CrashPointCase> CrashPointCases() {
  std::vector<CrashPointCase> cases;
  for (int hosts : {2, 3}) {
    for (const char* role : {"coordinator", "participant"}) {
      cases.push_back({role, 0, 3 * sim::kMillisecond, hosts});
      cases.push_back({role, 0.15, 3 * sim::kMillisecond, hosts});
      cases.push_back({role, 0.15, 400 * sim::kMillisecond, hosts});
    }
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Roles, DistCrashPoints, ::testing::ValuesIn(CrashPointCases()),
                         [](const ::testing::TestParamInfo<CrashPointCase>& info) {
                           return absl::StrCat(info.param.role, "_", info.param.hosts, "hosts",
                                               info.param.loss > 0 ? "_with_loss" : "",
                                               info.param.down_ns > 100 * sim::kMillisecond ? "_long_down" : "");
                         });

}  // namespace
