// The pre-issue-19 checkers (tests/model_checkers_reference.cc): the same
// contract as model/checkers.h, kept only to compare the new ones against.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "model/checkers.h"
#include "model/history.h"

namespace model::reference {

const std::vector<std::string>& RuleNames();
bool IsRuleName(std::string_view name);
std::map<RmKey, CommittedValue> ReferenceState(const History& history);
std::vector<Violation> CheckAtomicity(const History& history);
std::vector<Violation> CheckAgreement(const History& history);
std::vector<Violation> CheckValidity(const History& history);
std::vector<Violation> CheckDurability(const History& history);
std::vector<Violation> CheckIsolation(const History& history);
std::vector<Violation> CheckTermination(const History& history, int64_t bound_ns);
std::vector<Violation> CheckAll(const History& history, const std::vector<std::string>& rules,
                                int64_t termination_bound_ns);

}  // namespace model::reference
