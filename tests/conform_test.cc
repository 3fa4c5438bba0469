// The RM conformance kit (harness/conform.h): each rule's check fires on a
// history that breaks it and stays quiet on one that keeps it; the battery
// passes the built-in kv RM (an RmBase RM, like a user's); the JUnit text;
// an RM kind's option check refusing a scenario at file:line; replay
// commands naming the loaded plugins.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "harness/conform.h"
#include "harness/rm_kinds.h"
#include "harness/run_identity.h"
#include "harness/scenario_toml.h"

namespace harness {
namespace {

using model::EventKind;

// A history written event by event, 1 ms apart, all on host 0.
struct HistoryBuilder {
  model::History history;
  size_t Add(EventKind kind, std::string tx, std::string rm = "", std::string key = "", std::string value = "",
             std::string detail = "") {
    model::HistoryEvent e;
    e.time_ns = static_cast<int64_t>(history.events.size() + 1) * 1'000'000;
    e.kind = kind;
    e.tx = std::move(tx);
    e.rm = std::move(rm);
    e.key = std::move(key);
    e.value = std::move(value);
    e.detail = std::move(detail);
    history.events.push_back(std::move(e));
    return history.events.size() - 1;
  }
  size_t Notify(const std::string& tx, const std::string& what) {
    return Add(EventKind::kNotification, tx, "r1", "", "", what);
  }
  size_t Vote(const std::string& tx, const std::string& vote) { return Add(EventKind::kVote, tx, "r1", "", "", vote); }
  size_t Write(const std::string& tx, const std::string& value) { return Add(EventKind::kWrite, tx, "r1", "k0", value); }
  size_t Committed(const std::string& tx) { return Add(EventKind::kRmCommitted, tx, "r1"); }
  size_t Crash() { return Add(EventKind::kCrash, ""); }
  size_t Recovered() { return Add(EventKind::kRecovered, ""); }
  size_t Final(const std::string& value) { return Add(EventKind::kFinalValue, "", "r1", "k0", value); }
  int64_t TimeOf(size_t index) const { return history.events[index].time_ns; }
};

std::vector<ConformRule> Rules(const HistoryBuilder& b, const TmForgotten& forgotten = {}) {
  std::vector<ConformRule> rules;
  for (const ConformFinding& f : CheckRmContract(b.history, forgotten, {"r1"})) rules.push_back(f.rule);
  return rules;
}

using Found = std::vector<ConformRule>;

TEST(ConformRuleTest, NoWorkAfterPrepare) {
  HistoryBuilder b;
  b.Write("t1", "t1.1");
  b.Notify("t1", "PREPARE");
  b.Vote("t1", "yes");
  EXPECT_EQ(Rules(b), Found{});
  b.Add(EventKind::kWrite, "t1", "r1", "fee", "t1.fee");  // work after the vote was asked for
  EXPECT_EQ(Rules(b), Found{ConformRule::kNoWorkAfterPrepare});
}

TEST(ConformRuleTest, AnswerEveryNotification) {
  HistoryBuilder b;
  b.Write("t1", "t1.1");
  b.Notify("t1", "ROLLBACK");
  EXPECT_EQ(Rules(b), Found{ConformRule::kAnswerNotifications});
  HistoryBuilder crashed = b;
  crashed.Crash();  // owed by recovery, not by this incarnation
  EXPECT_EQ(Rules(crashed), Found{});
  b.Add(EventKind::kRmAborted, "t1", "r1");
  EXPECT_EQ(Rules(b), Found{});
}

TEST(ConformRuleTest, SinglePhaseRejectIsAnAnswer) {
  HistoryBuilder b;
  b.Write("t1", "t1.1");
  b.Notify("t1", "SINGLE_PHASE_COMMIT");
  EXPECT_EQ(Rules(b), Found{ConformRule::kAnswerNotifications});
  b.Notify("t1", "PREPARE");  // SinglePhaseReject: KTM goes on with 2PC
  b.Vote("t1", "yes");
  EXPECT_EQ(Rules(b), Found{});
}

// A committed transaction r1 voted yes on, its host crashed before the TM
// forgot it, recovered: KTM owes a re-delivery, the RM a RecoverEnlistment.
HistoryBuilder PreparedThenCrashed() {
  HistoryBuilder b;
  b.Write("t1", "t1.1");
  b.Notify("t1", "PREPARE");
  b.Vote("t1", "yes");
  b.Add(EventKind::kOutcome, "t1", "", "", "", "committed");
  b.Crash();
  b.Recovered();
  return b;
}

TEST(ConformRuleTest, RecoverEnlistmentOnRecover) {
  HistoryBuilder b = PreparedThenCrashed();
  EXPECT_EQ(Rules(b), Found{ConformRule::kRecoverEnlistment});
  TmForgotten forgotten;
  forgotten["t1"].emplace_back(0, b.TimeOf(3));  // the TM forgot t1 before the crash: nothing owed
  EXPECT_EQ(Rules(b, forgotten), Found{});
  b.Notify("t1", "COMMIT");
  b.Committed("t1");
  b.Final("t1.1");
  EXPECT_EQ(Rules(b), Found{});
}

TEST(ConformRuleTest, PrepareDurableBeforePrepareComplete) {
  HistoryBuilder b = PreparedThenCrashed();
  b.Notify("t1", "COMMIT");
  b.Committed("t1");
  b.Final("");  // the prepared write did not survive the crash
  EXPECT_EQ(Rules(b), Found{ConformRule::kPrepareDurable});
}

TEST(ConformRuleTest, WaitOutInDoubt) {
  HistoryBuilder b;
  b.Write("t1", "t1.1");
  b.Vote("t1", "yes");
  b.Notify("t1", "INDOUBT");
  HistoryBuilder waits = b;
  waits.Notify("t1", "COMMIT");
  waits.Committed("t1");
  EXPECT_EQ(Rules(waits), Found{});
  b.Add(EventKind::kRmAborted, "t1", "r1", "", "", "indoubt");
  EXPECT_EQ(Rules(b), Found{ConformRule::kWaitOutInDoubt});
}

TEST(ConformRuleTest, CommitIdempotentAfterRecovery) {
  HistoryBuilder b;
  b.Write("t1", "t1.1");
  b.Vote("t1", "yes");
  b.Committed("t1");
  b.Crash();
  b.Recovered();
  b.Notify("t1", "COMMIT");  // re-delivered: fine to acknowledge
  b.Committed("t1");
  EXPECT_EQ(Rules(b), Found{});
  b.Write("t1", "t1.1");  // ... but not to apply again
  EXPECT_EQ(Rules(b), Found{ConformRule::kCommitIdempotent});
}

TEST(ConformRuleTest, DurableAfterCommitComplete) {
  HistoryBuilder b;
  b.Write("t1", "t1.1");
  b.Notify("t1", "SINGLE_PHASE_COMMIT");
  b.Vote("t1", "spc");
  const size_t committed = b.Committed("t1");
  b.Crash();
  b.Recovered();
  b.Final("");
  // The crash came before the TM had t1's CommitComplete: the COMMIT's fate
  // is recovery's, and the history cannot tell which record was lost.
  EXPECT_EQ(Rules(b), Found{});
  TmForgotten forgotten;
  forgotten["t1"].emplace_back(0, b.TimeOf(committed));
  EXPECT_EQ(Rules(b, forgotten), Found{ConformRule::kDurableAfterCommit});
  HistoryBuilder kept = b;
  kept.history.events.back().value = "t1.1";
  EXPECT_EQ(Rules(kept, forgotten), Found{});
}

TEST(ConformRuleTest, OnlyTheRmsUnderTestAreJudged) {
  HistoryBuilder b;
  b.Write("t1", "t1.1");
  b.Notify("t1", "ROLLBACK");
  EXPECT_TRUE(CheckRmContract(b.history, {}, {"other"}).empty());
}

TEST(ConformBatteryTest, TheCleanKvRmPassesEveryRule) {
  size_t reported = 0;
  absl::StatusOr<ConformResult> result =
      RunConform("kv", {}, [&reported](size_t done, size_t total, const ConformCaseStats& stats) {
        EXPECT_EQ(done, ++reported);
        EXPECT_EQ(total, ConformBattery("kv", {}).size());
        EXPECT_GT(stats.runs, 0u) << stats.name;
      });
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(reported, result->cases.size());
  for (const ConformRuleVerdict& verdict : result->rules) {
    EXPECT_TRUE(verdict.passed()) << verdict.info.name << ": "
                                  << (verdict.failures.empty() ? "" : verdict.failures[0].finding.message);
  }
  EXPECT_TRUE(result->passed());
  EXPECT_GT(result->runs, 100u);
}

TEST(ConformBatteryTest, AnUnknownKindIsBadInput) {
  absl::StatusOr<ConformResult> result = RunConform("no_such_kind", {}, nullptr);
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(absl::StrContains(result.status().message(), "no_such_kind")) << result.status();
}

TEST(ConformReportTest, JunitHasATestcasePerRuleAndAFailureWithItsReplay) {
  ConformResult result;
  result.kind = "led<ger";
  for (size_t r = 0; r < kConformRuleCount; ++r) result.rules[r].info = ConformRules()[r];
  ConformRuleVerdict& broken = result.rules[static_cast<size_t>(ConformRule::kWaitOutInDoubt)];
  broken.runs_failed = 2;
  ConformFailure failure;
  failure.case_name = "in_doubt_under_superior";
  failure.seed = 1;
  failure.finding.message = "r1 decided \"early\"";
  broken.failures.push_back(failure);
  const size_t index = static_cast<size_t>(ConformRule::kWaitOutInDoubt);
  const std::string xml = ConformJunitXml(result, {{{index, 0}, "ktmsim replay f/scenario.toml --seed 1"}},
                                          {{{index, 0}, "failures/wait_out_indoubt-1"}});
  size_t testcases = 0;
  for (size_t at = xml.find("<testcase "); at != std::string::npos; at = xml.find("<testcase ", at + 1)) ++testcases;
  EXPECT_EQ(testcases, kConformRuleCount);
  EXPECT_TRUE(absl::StrContains(xml, "name=\"conform.led&lt;ger\""));
  EXPECT_TRUE(absl::StrContains(xml, "failures=\"1\""));
  EXPECT_TRUE(absl::StrContains(xml, "<failure message=\"wait out INDOUBT: 2 failing runs\">"));
  EXPECT_TRUE(absl::StrContains(xml, "r1 decided &quot;early&quot;"));
  EXPECT_TRUE(absl::StrContains(xml, "replay: ktmsim replay f/scenario.toml --seed 1"));
  EXPECT_TRUE(absl::StrContains(xml, "folder: failures/wait_out_indoubt-1"));
}

TEST(ConformReportTest, ARunEndedByABrokenInvariantFailsConform) {
  ConformResult result;
  result.kind = "ledger";
  for (size_t r = 0; r < kConformRuleCount; ++r) result.rules[r].info = ConformRules()[r];
  EXPECT_TRUE(result.passed());
  EXPECT_FALSE(absl::StrContains(ConformJunitXml(result, {}, {}), "broken_invariant"));
  ConformFailure asserted;
  asserted.case_name = "random_faults";
  asserted.seed = 4;
  asserted.result.identity.scenario_file = "conform_random_faults.toml";
  asserted.result.identity.seed = 4;
  asserted.result.violations.push_back(Violation{.rule = kAssertionRule, .message = "rm_base.cc:1: boom"});
  result.asserted.push_back(asserted);
  EXPECT_FALSE(result.passed());
  const std::string xml = ConformJunitXml(result, {}, {});
  EXPECT_TRUE(absl::StrContains(xml, "tests=\"8\" failures=\"1\""));
  EXPECT_TRUE(absl::StrContains(xml, "name=\"broken_invariant\""));
  EXPECT_TRUE(absl::StrContains(xml, "rm_base.cc:1: boom"));
  EXPECT_TRUE(absl::StrContains(xml, "replay: ktmsim replay conform_random_faults.toml --seed 4"));
}

TEST(RmKindOptionsTest, ARefusedOptionIsReportedAtItsLine) {
  RmKindInfo kind;
  for (const RmKindInfo& builtin : BuiltInRmKinds()) {
    if (builtin.name == "kv") kind = builtin;
  }
  kind.name = "conform_test_kind";
  kind.check_option = [](const std::string& key, const std::string& value) {
    return key == "mode" && value == "ok" ? absl::OkStatus() : absl::InvalidArgumentError("refused " + key);
  };
  ASSERT_TRUE(RegisterRmKind(kind).ok());
  const std::string good =
      "[[hosts]]\nname = \"n1\"\n\n[[rms]]\nname = \"a\"\nhost = \"n1\"\nkind = \"conform_test_kind\"\n\n"
      "[rms.options]\nmode = \"ok\"\n";
  EXPECT_TRUE(LoadScenarioString(good, "good.toml").ok());
  absl::StatusOr<Scenario> bad = LoadScenarioString(good + "speed = 3\n", "bad.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(absl::StrContains(bad.status().message(), "bad.toml:11:")) << bad.status();
  EXPECT_TRUE(absl::StrContains(bad.status().message(), "refused speed")) << bad.status();
}

TEST(PluginIdentityTest, ReplayCommandsNameThePlugins) {
  RunIdentity identity;
  identity.scenario_file = "failures/x/scenario.toml";
  identity.seed = 7;
  identity.plugins = {"/opt/rm/libmy rm.so", "/opt/rm/libother.so"};
  const std::string line = ReplayCommandLine(identity);
  EXPECT_EQ(line,
            "ktmsim replay failures/x/scenario.toml --seed 7 --plugin '/opt/rm/libmy rm.so' --plugin "
            "/opt/rm/libother.so");
  absl::StatusOr<RunIdentity> parsed = ParseReplayCommandLine(line);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, identity);
}

// A conform run's identity says the contract judged it; its replay command
// carries that (a flag without a value) and parses back to the same identity.
TEST(PluginIdentityTest, ConformReplayCommandsSayTheContractJudgesThem) {
  RunIdentity identity;
  identity.scenario_file = "conform_vote_no.toml";
  identity.seed = 3;
  identity.rm_contract = true;
  identity.plugins = {"/opt/rm/libledger_plugin.so"};
  const std::string line = ReplayCommandLine(identity);
  EXPECT_EQ(line, "ktmsim replay conform_vote_no.toml --seed 3 --rm-contract --plugin /opt/rm/libledger_plugin.so");
  absl::StatusOr<RunIdentity> parsed = ParseReplayCommandLine(line);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, identity);
  Scenario scenario;
  EXPECT_TRUE(IdentityOf(scenario, 1, RunOptions{.rm_contract = true}).rm_contract);
  EXPECT_FALSE(IdentityOf(scenario, 1, RunOptions{}).rm_contract);
}

// Last in this binary: it changes what every later identity carries.
TEST(PluginIdentityTest, EveryIdentityCarriesTheLoadedPlugins) {
  EXPECT_TRUE(RunIdentity{}.plugins.empty());
  AddLoadedPlugin("/abs/libledger_plugin.so");
  EXPECT_EQ(RunIdentity{}.plugins, std::vector<std::string>{"/abs/libledger_plugin.so"});
  absl::StatusOr<RunIdentity> parsed = ParseReplayCommandLine("ktmsim replay s.toml --seed 1");
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed->plugins.empty());  // only what the command names
}

}  // namespace
}  // namespace harness
