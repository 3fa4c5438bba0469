// The checker catalog (model/checker_catalog.h) is the one list of checkers:
// RuleNames() and CheckAll's order come from it, each entry's function finds
// what CheckAll finds for that rule alone, and the liveness/safety split is
// what a run beyond the recoverable fault budget uses to drop termination.
#include "model/checker_catalog.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "bench/history_gen.h"
#include "model/checkers.h"

namespace model {
namespace {

// A generated history broken so that several rules fire: a read of a value
// nobody wrote (isolation), a committed transaction told "aborted"
// (agreement), a final value nobody wrote (atomicity, and durability of the
// write it hides) and a transaction enlisted on an RM that never resolves
// (termination).
History BrokenHistory() {
  History history = bench::GenerateHistory(200, 3);
  bool read_broken = false, outcome_broken = false, final_broken = false;
  for (HistoryEvent& event : history.events) {
    if (!read_broken && event.kind == EventKind::kRead) {
      event.value = "nobody.wrote.this";
      read_broken = true;
    }
    if (!final_broken && event.kind == EventKind::kFinalValue) {
      event.value = "garbage";
      final_broken = true;
    }
    if (!outcome_broken && event.kind == EventKind::kOutcome && event.detail == "committed") {
      event.detail = "aborted";
      outcome_broken = true;
    }
  }
  HistoryEvent begin;
  begin.kind = EventKind::kBegin;
  begin.tx = "t999999";
  begin.time_ns = history.events.back().time_ns;
  history.events.push_back(begin);
  HistoryEvent enlist = begin;
  enlist.kind = EventKind::kEnlist;
  enlist.rm = "kv1";
  history.events.push_back(enlist);
  return history;
}

TEST(CheckerCatalog, RuleNamesAreTheCatalogInOrderWithTerminationTheOnlyLivenessRule) {
  std::vector<std::string> names;
  for (const CheckerInfo& checker : CheckerCatalog()) {
    names.emplace_back(checker.name);
    EXPECT_EQ(checker.kind == CheckerKind::kLiveness, checker.name == "termination") << checker.name;
    EXPECT_FALSE(checker.promise.empty());
    EXPECT_EQ(FindChecker(checker.name), &checker);
  }
  EXPECT_EQ(names, RuleNames());
  EXPECT_EQ(FindChecker("Isolation"), nullptr);
  EXPECT_STREQ(CheckerKindName(CheckerKind::kLiveness), "liveness");
}

TEST(CheckerCatalog, EachEntryFindsWhatCheckAllFindsForThatRuleAlone) {
  const History history = BrokenHistory();
  size_t rules_that_fire = 0;
  for (const CheckerInfo& checker : CheckerCatalog()) {
    const std::vector<Violation> alone = checker.check(history, bench::kGeneratedBoundNs);
    EXPECT_EQ(alone, CheckAll(history, {std::string(checker.name)}, bench::kGeneratedBoundNs))
        << checker.name;
    for (const Violation& violation : alone) EXPECT_EQ(violation.rule, checker.name);
    rules_that_fire += alone.empty() ? 0 : 1;
  }
  EXPECT_EQ(rules_that_fire, 5u);  // all but validity
}

TEST(CheckerCatalog, SafetyRulesDropOnlyLivenessRulesKeepingOrderAndUnknownNames) {
  EXPECT_EQ(SafetyRules({}), (std::vector<std::string>{"atomicity", "agreement", "validity",
                                                       "durability", "isolation"}));
  EXPECT_EQ(SafetyRules({"termination", "isolation", "nonsense", "atomicity"}),
            (std::vector<std::string>{"isolation", "nonsense", "atomicity"}));
}

}  // namespace
}  // namespace model
