// The ledger plugin: registers RM kind "ledger" (LedgerRm behind an
// RmAdapter) with the ktmsim binary. Options ([rms.options]):
//   bug = "none" | one of kBugs below   (ledger_rm.h; each breaks one rule)
// An unknown option or value is refused when the scenario loads
// (RmKindInfo::check_option: file:line, exit 2).
#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "harness/plugin_api.h"
#include "harness/rm_adapter.h"
#include "harness/rm_kinds.h"
#include "ktm/assert.h"
#include "ledger_rm.h"

namespace ledger {
namespace {

struct BugChoice {
  LedgerBug ledger = LedgerBug::kNone;
  ktm::RmProtocolBug protocol = ktm::RmProtocolBug::kNone;
};

// The planted bugs by option value; the comment names the rule each breaks.
const std::map<std::string, BugChoice>& Bugs() {
  static const auto* bugs = new std::map<std::string, BugChoice>{
      {"none", {}},
      // prepare durable before PrepareComplete
      {"prepare_complete_early", {.protocol = ktm::RmProtocolBug::kPrepareCompleteBeforeForce}},
      // commit idempotent after recovery
      {"reapply_commit", {.ledger = LedgerBug::kReapplyCommit}},
      // answer every notification
      {"ignore_rollback", {.protocol = ktm::RmProtocolBug::kIgnoreRollback}},
      // no new work after PREPARE
      {"work_after_prepare", {.ledger = LedgerBug::kWorkAfterPrepare}},
      // RecoverEnlistment on RECOVER
      {"skip_recover_enlistment", {.protocol = ktm::RmProtocolBug::kSkipRecoverEnlistment}},
      // wait out INDOUBT
      {"decide_in_doubt", {.protocol = ktm::RmProtocolBug::kDecideInDoubt}},
      // durable after CommitComplete
      {"lose_replayed_commits", {.ledger = LedgerBug::kLoseReplayedCommits}},
      // isolation (not an RM-contract rule: `ktmsim run`'s checkers catch it)
      {"dirty_read", {.ledger = LedgerBug::kDirtyRead}},
  };
  return *bugs;
}

std::string BugNames() {
  std::string names;
  for (const auto& [name, choice] : Bugs()) names += (names.empty() ? "" : ", ") + name;
  return names;
}

absl::Status CheckOption(const std::string& key, const std::string& value) {
  if (key != "bug") return absl::InvalidArgumentError("unknown ledger option '" + key + "' (known: bug)");
  if (Bugs().count(value) == 0) {
    return absl::InvalidArgumentError("unknown ledger bug '" + value + "' (one of: " + BugNames() + ")");
  }
  return absl::OkStatus();
}

// Options were checked when the scenario loaded (CheckOption).
BugChoice BugOption(const harness::RmSpec& spec) {
  auto it = spec.options.find("bug");
  if (it == spec.options.end()) return {};
  auto bug = Bugs().find(it->second);
  KTM_ASSERT(bug != Bugs().end(), "ledger RM " + spec.name + ": unchecked bug option " + it->second);
  return bug->second;
}

// Workload key k<N> is the account k<N>; a write posts the value, a read
// asks the balance (traced by the RM, "" when the account is empty).
class LedgerAdapter : public harness::RmAdapter {
 public:
  explicit LedgerAdapter(std::unique_ptr<LedgerRm> rm) : rm_(std::move(rm)) {}
  void Start(std::function<void(ktm::NTSTATUS)> done) override { rm_->Start(std::move(done)); }
  bool online() const override { return rm_->online(); }
  bool recovery_done() const override { return rm_->recovery_done(); }
  size_t in_doubt() const override { return rm_->in_doubt(); }
  bool ReplayedCommit(const std::string& uow_short) const override { return rm_->ReplayedCommit(uow_short); }
  ktm::NTSTATUS Disconnect(ktm::HANDLE transaction) override { return rm_->Disconnect(transaction); }
  std::map<std::string, std::string> committed() const override { return rm_->committed(); }
  std::string HistoryKey(const std::string& key) const override { return key; }
  ktm::NTSTATUS Write(ktm::HANDLE transaction, const std::string& key, const std::string& value) override {
    return rm_->Post(transaction, key, value);
  }
  ktm::NTSTATUS Read(ktm::HANDLE transaction, const std::string& key, std::string* value, bool* traced) override {
    *traced = true;
    return rm_->Balance(transaction, key, value);
  }

 private:
  std::unique_ptr<LedgerRm> rm_;
};

int Register(const ktmsim_plugin_api& api) {
  harness::RmKindInfo kind{
      .name = "ledger",
      .description = "example ledger RM (examples/ledger): accounts k<N> with a journal of posts",
      .make = [](const harness::RmKindContext& c) -> std::unique_ptr<harness::RmAdapter> {
        const BugChoice bug = BugOption(*c.spec);
        ktm::RmOptions options = harness::RmOptionsFor(c);
        options.protocol_bug = bug.protocol;
        return std::make_unique<LedgerAdapter>(
            std::make_unique<LedgerRm>(c.kernel, c.host, c.disk, c.tm, std::move(options), bug.ledger));
      },
      .check_option = CheckOption};
  return api.register_rm_kind(std::move(kind)).ok() ? 0 : 1;
}

}  // namespace
}  // namespace ledger

KTMSIM_PLUGIN(ledger::Register)
