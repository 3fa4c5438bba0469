// The checker catalog (see checker_catalog.h). The order here is the order
// CheckAll runs and reports them in; checkers.cc checks that its one-walk
// runner agrees with it.
#include "model/checker_catalog.h"

#include "absl/strings/str_cat.h"


namespace model {
namespace {

std::vector<Violation> Atomicity(const History& history, int64_t) { return CheckAtomicity(history); }
std::vector<Violation> Agreement(const History& history, int64_t) { return CheckAgreement(history); }
std::vector<Violation> Validity(const History& history, int64_t) { return CheckValidity(history); }
std::vector<Violation> Durability(const History& history, int64_t) { return CheckDurability(history); }
std::vector<Violation> Isolation(const History& history, int64_t) { return CheckIsolation(history); }

}  // namespace

const char* CheckerKindName(CheckerKind kind) {
  return kind == CheckerKind::kSafety ? "safety" : "liveness";
}

namespace {

std::vector<CheckerInfo>& MutableCatalog() {
  static std::vector<CheckerInfo>* const kCatalog = new std::vector<CheckerInfo>{
      {"atomicity", CheckerKind::kSafety, &Atomicity,
       "all or nothing per transaction; final state = sequential replay of committed writes"},
      {"agreement", CheckerKind::kSafety, &Agreement,
       "no participant commits what another aborts; the client's outcome matches the RMs'"},
      {"validity", CheckerKind::kSafety, &Validity,
       "commit only after a commit request and yes votes of every enlisted writer"},
      {"durability", CheckerKind::kSafety, &Durability,
       "an acknowledged commit is visible at the end unless later overwritten"},
      {"isolation", CheckerKind::kSafety, &Isolation,
       "no dirty reads, read-your-own-writes, no read of a value nobody wrote"},
      {"termination", CheckerKind::kLiveness, &CheckTermination,
       "every transaction is resolved within the bound once faults stop"},
  };
  return *kCatalog;
}

}  // namespace

const std::vector<CheckerInfo>& CheckerCatalog() { return MutableCatalog(); }

absl::Status RegisterChecker(const CheckerInfo& checker) {
  if (checker.name.empty() || checker.check == nullptr) {
    return absl::InvalidArgumentError("a checker needs a name and a function");
  }
  if (FindChecker(checker.name) != nullptr) {
    return absl::AlreadyExistsError(absl::StrCat("checker \"", std::string(checker.name), "\" is registered twice"));
  }
  MutableCatalog().push_back(checker);
  return absl::OkStatus();
}

const CheckerInfo* FindChecker(std::string_view name) {
  for (const CheckerInfo& checker : CheckerCatalog()) {
    if (checker.name == name) return &checker;
  }
  return nullptr;
}

std::vector<std::string> SafetyRules(const std::vector<std::string>& rules) {
  std::vector<std::string> out = rules;
  if (out.empty()) {
    for (const CheckerInfo& checker : CheckerCatalog()) out.emplace_back(checker.name);
  }
  std::erase_if(out, [](const std::string& name) {
    const CheckerInfo* checker = FindChecker(name);
    return checker != nullptr && checker->kind == CheckerKind::kLiveness;
  });
  return out;
}

}  // namespace model
