// The conformance checker's fast paths (harness/conformance.cc) against
// straightforward recomputations: the spec states a run visited (recorded
// once per distinct step, not per step) are exactly the initial states and
// the targets of the accepted steps of the kept behaviours, and
// TwoPhaseState::Key (bit-gathered) is the field-by-field packing. And the
// coverage recorder's row cache (harness/coverage.h) counts every row as
// its text says, with more rows than cache slots and a reused buffer.
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "gtest/gtest.h"
#include "harness/conformance.h"
#include "harness/coverage.h"
#include "harness/runner.h"
#include "harness/scenario_toml.h"
#include "tests/conformance_run.h"
#include "model/spec_common.h"
#include "model/spec_btm.h"
#include "model/spec_tcommit.h"
#include "model/spec_two_phase.h"
#include "sim/trace.h"
#include "sim/world.h"

namespace harness {
namespace {

using model::spec::RmPhase;
using model::spec::TmPhase;
using model::spec::TwoPhaseState;

// Feeds hand-made events (host 0, text fields) to a checker, numbered in order.
struct Feeder {
  ConformanceChecker& checker;
  uint64_t index = 0;
  void operator()(std::string kind, std::vector<std::pair<std::string, std::string>> fields) {
    sim::TraceEvent e;
    e.host = 0;
    e.kind = std::move(kind);
    e.fields = std::move(fields);
    checker.OnEvent(e, index++);
  }
};

// The packing Key() documents, one field at a time.
uint64_t ReferenceKey(const TwoPhaseState& s) {
  uint64_t key = 0;
  for (int i = 0; i < model::spec::kSpecRmMax; ++i) key |= static_cast<uint64_t>(s.rm[i]) << (2 * i);
  key |= static_cast<uint64_t>(s.tm) << 16;
  key |= static_cast<uint64_t>(s.tm_prepared) << 18;
  key |= static_cast<uint64_t>(s.msg_prepared) << 26;
  key |= static_cast<uint64_t>(s.msg_commit) << 34;
  key |= static_cast<uint64_t>(s.msg_abort) << 35;
  key |= static_cast<uint64_t>(s.tm_down) << 36;
  key |= static_cast<uint64_t>(s.rm_down) << 37;
  return key;
}

TEST(ConformanceFastPath, StateKeyIsTheFieldByFieldPacking) {
  size_t checked = 0;
  for (int n = 1; n <= 3; ++n) {
    for (const TwoPhaseState& s : model::spec::Reachable<model::spec::TwoPhaseCrash>(n)) {
      ASSERT_EQ(s.Key(), ReferenceKey(s)) << s.ToText(n);
      ++checked;
    }
  }
  // Every phase in every RM slot, one slot at a time and all slots at once
  // (the 8 slots are read as one word), and a phase beyond two bits.
  for (int i = 0; i < model::spec::kSpecRmMax; ++i) {
    for (uint8_t phase = 0; phase <= static_cast<uint8_t>(RmPhase::kFailed); ++phase) {
      TwoPhaseState s;
      s.rm[i] = static_cast<RmPhase>(phase);
      s.tm = TmPhase::kAborted;
      s.rm_down = 0xa5;
      EXPECT_EQ(s.Key(), ReferenceKey(s)) << i << " " << int{phase};
      TwoPhaseState all = s;
      for (auto& p : all.rm) p = static_cast<RmPhase>(phase);
      EXPECT_EQ(all.Key(), ReferenceKey(all)) << int{phase};
      ++checked;
    }
  }
  EXPECT_GT(checked, 2'000u);
}

// Breadth-first search with a queue apart from the list, as Reachable was
// first written.
template <class Spec>
std::vector<typename Spec::State> ReferenceReachable(int n, size_t states_max) {
  using State = typename Spec::State;
  std::vector<State> order;
  std::unordered_set<uint64_t> seen;
  std::deque<State> frontier;
  seen.insert(Spec::Init(n).Key());
  frontier.push_back(Spec::Init(n));
  std::vector<std::pair<model::spec::Action, State>> next;
  while (!frontier.empty() && order.size() < states_max) {
    State s = frontier.front();
    frontier.pop_front();
    order.push_back(s);
    next.clear();
    Spec::Next(s, n, &next);
    for (const auto& [action, t] : next) {
      if (seen.insert(t.Key()).second) frontier.push_back(t);
    }
  }
  return order;
}

template <class Spec>
void ExpectReachableIsTheReference(int n, size_t states_max) {
  const auto fast = model::spec::Reachable<Spec>(n, states_max);
  const auto reference = ReferenceReachable<Spec>(n, states_max);
  ASSERT_EQ(fast.size(), reference.size()) << n << " " << states_max;
  for (size_t i = 0; i < fast.size(); ++i) ASSERT_TRUE(fast[i] == reference[i]) << n << " " << states_max << " #" << i;
}

TEST(SpecReachable, IsTheBreadthFirstOrderOfAQueueSearchWithAndWithoutALimit) {
  for (int n = 1; n <= 3; ++n) {
    for (size_t states_max : {size_t{0}, size_t{1}, size_t{7}, size_t{100}, model::spec::kSpecStatesMax}) {
      ExpectReachableIsTheReference<model::spec::TwoPhaseCrash>(n, states_max);
      ExpectReachableIsTheReference<model::spec::TwoPhase>(n, states_max);
      ExpectReachableIsTheReference<model::spec::TwoPhaseKtmCalls>(n, states_max);
      ExpectReachableIsTheReference<model::spec::TCommit>(n, states_max);
      ExpectReachableIsTheReference<model::spec::TwoPhaseBTM>(n, states_max);
    }
  }
}

struct Visited {
  std::map<int, std::set<uint64_t>> spec_states;
  size_t steps = 0;
};

// The states the behaviours visited: each checked transaction's initial
// state and the target of each accepted step.
Visited FromBehaviours(const ConformanceResult& r) {
  Visited v;
  for (const ConformanceBehaviour& b : r.behaviours) {
    v.spec_states[b.rms].insert(TwoPhaseState{}.Key());
    for (const ConformanceStep& step : b.steps) {
      if (step.accepted) v.spec_states[b.rms].insert(step.to.Key());
      ++v.steps;
    }
  }
  return v;
}

TEST(ConformanceFastPath, SpecStatesAreTheTargetsOfTheAcceptedStepsOfEveryBehaviour) {
  size_t steps = 0, runs = 0;
  for (const char* name :
       {"two_phase_3rms", "swarm", "spec_states_vote_no", "crash_during_commit", "dist_coordinator_crash", "dist_swarm"}) {
    for (uint64_t seed = 1; seed <= 2; ++seed) {
      std::unique_ptr<ConformanceChecker> checker = RunWithConformance(name, seed);
      ASSERT_NE(checker, nullptr);
      const ConformanceResult plain = checker->Finish();
      const ConformanceResult kept = checker->Finish(/*keep_behaviours=*/true);
      const ConformanceResult again = checker->Finish();
      const Visited visited = FromBehaviours(kept);
      EXPECT_EQ(plain.spec_states, visited.spec_states) << name << " seed " << seed;
      EXPECT_EQ(kept.spec_states, visited.spec_states) << name << " seed " << seed;
      EXPECT_EQ(again.spec_states, plain.spec_states) << name << " seed " << seed;
      EXPECT_EQ(plain.transactions_checked, kept.behaviours.size());
      EXPECT_EQ(plain.transactions_checked, kept.transactions_checked);
      EXPECT_EQ(plain.transactions_skipped, kept.transactions_skipped);
      ASSERT_EQ(plain.violations.size(), kept.violations.size());
      for (size_t i = 0; i < plain.violations.size(); ++i) {
        EXPECT_EQ(plain.violations[i].message, kept.violations[i].message);
      }
      steps += visited.steps;
      ++runs;
    }
  }
  EXPECT_EQ(runs, 12u);
  EXPECT_GT(steps, 5'000u);
}

// The figure's count of unreached states KTM cannot reach is the recount
// over KtmTwoPhase's states (what the report used to enumerate itself).
TEST(SpecCoverageFigure, UnreachedKtmImpossibleIsTheRecount) {
  for (size_t visited : {size_t{0}, size_t{1}, size_t{50}, size_t{200}, size_t{288}}) {
    std::map<int, std::set<uint64_t>> seen;
    const auto states = model::spec::Reachable<model::spec::TwoPhase>(3);
    for (size_t i = 0; i < visited && i < states.size(); ++i) seen[3].insert(states[i * 7 % states.size()].Key());
    size_t expected = 0;
    for (const auto& s : states) {
      if (seen[3].count(s.Key()) == 0 && !AtMostOneRmInFlight(s, 3)) ++expected;
    }
    const auto figures = SpecCoverageFigures(seen, 3);
    ASSERT_EQ(figures.size(), 3u);
    EXPECT_EQ(figures[2].two_phase_unreached_ktm_impossible, expected) << visited;
    if (visited == 0) {
      EXPECT_EQ(expected, 32u);
    }
  }
}

// An enlistment created again (recovered into another transaction) is the
// new one for the events after it, whichever id the checker saw last.
TEST(ConformanceFastPath, AnEnlistmentCreatedAgainBelongsToItsNewTransaction) {
  ConformanceChecker checker;
  Feeder add{checker};
  add("tx.create", {{"tx", "T"}});
  add("en.create", {{"en", "e1"}, {"tx", "T"}});
  add("en.state", {{"en", "e1"}, {"from", "Active"}, {"to", "Preparing"}});
  add("tx.create", {{"tx", "U"}});
  add("en.create", {{"en", "e1"}, {"tx", "U"}});
  add("en.state", {{"en", "e1"}, {"from", "Active"}, {"to", "Aborted"}});
  add("en.state", {{"en", "e1"}, {"from", "Aborted"}, {"to", "Aborted"}});
  const ConformanceResult r = checker.Finish(/*keep_behaviours=*/true);
  EXPECT_TRUE(r.violations.empty());
  ASSERT_EQ(r.behaviours.size(), 2u);
  for (const ConformanceBehaviour& b : r.behaviours) {
    ASSERT_EQ(b.rms, 1) << b.tx;
    if (b.tx == "T") {
      EXPECT_TRUE(b.steps.empty());  // Preparing is no step of the spec's RM
    } else {
      EXPECT_EQ(b.tx, "U");
      ASSERT_EQ(b.steps.size(), 1u);
      EXPECT_EQ(b.steps[0].event_index, 5u);
      EXPECT_EQ(b.steps[0].to.rm[0], RmPhase::kAborted);
    }
  }
}

// RM names are found by comparing them while a run has few, by a hash map
// beyond that: every RM's vote reaches its enlistment either way.
TEST(ConformanceFastPath, EveryRmsVoteIsFoundWithFewAndWithManyRmNames) {
  for (int rms : {3, 8, 9, 20}) {
    ConformanceChecker checker;
    Feeder add{checker};
    for (int i = 0; i < rms; ++i) {
      const std::string n = std::to_string(i);
      add("tx.create", {{"tx", "T" + n}});
      add("en.create", {{"en", "e" + n}, {"tx", "T" + n}});
      add("rm.enlist", {{"rm", "kv" + n}, {"uow", "T" + n}});
    }
    for (int i = rms - 1; i >= 0; --i) {
      const std::string n = std::to_string(i);
      add("rm.vote", {{"rm", "kv" + n}, {"uow", "T" + n}, {"vote", "yes"}});
    }
    const ConformanceResult r = checker.Finish(/*keep_behaviours=*/true);
    EXPECT_TRUE(r.violations.empty());
    ASSERT_EQ(r.behaviours.size(), static_cast<size_t>(rms));
    for (const ConformanceBehaviour& b : r.behaviours) {
      ASSERT_EQ(b.steps.size(), 1u) << rms << " " << b.tx;
      ASSERT_EQ(b.steps[0].actions.size(), 1u);
      EXPECT_EQ(b.steps[0].actions[0].ToText(), "RMPrepare(rm1)") << rms << " " << b.tx;
    }
  }
}

TEST(CoverageRowCache, EveryRowIsCountedByItsTextWithMoreRowsThanCacheSlots) {
  sim::World world(sim::WorldOptions{});
  CoverageRecorder recorder(&world);
  std::map<std::string, uint64_t> expected;
  std::string reused;  // one buffer, its text changed between events
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 700; ++i) {
      const std::string state = "State" + std::to_string(i * 7919 % 1000);
      world.trace().Record(0, 0, "tx.state", {{"tx", "T"}, {"to", state}});
      ++expected["tx " + state];
      reused = "Other" + std::to_string(i % 301);
      world.trace().Record(0, 0, "en.state", {{"en", "E"}, {"to", reused}});
      ++expected["en " + reused];
      // The same text under another kind is another row.
      world.trace().Record(0, 0, "rm.phase", {{"uow", "T"}, {"to", sim::TraceName(state)}});
      ++expected["rm " + state];
    }
  }
  const Coverage coverage = recorder.Finish();
  EXPECT_EQ(coverage.transitions, expected);
  EXPECT_EQ(coverage.matrix.size(), expected.size());
  for (const auto& [row, count] : expected) EXPECT_EQ(coverage.Cell(row, "none"), count) << row;
}

}  // namespace
}  // namespace harness
