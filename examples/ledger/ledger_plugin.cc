// The ledger plugin: registers RM kind "ledger" (LedgerRm behind an
// RmAdapter) with the ktmsim binary. Options ([rms.options]):
//   bug = "none" | "lose_replayed_commits" | "dirty_read"   (ledger_rm.h)
// An unknown option or value is a programmer error of the scenario: the
// factory cannot fail, so it is refused when the RM is built (KTM_ASSERT).
#include <memory>
#include <string>

#include "harness/plugin_api.h"
#include "harness/rm_adapter.h"
#include "harness/rm_kinds.h"
#include "ktm/assert.h"
#include "ledger_rm.h"

namespace ledger {
namespace {

LedgerBug BugOption(const harness::RmSpec& spec) {
  for (const auto& [key, value] : spec.options) {
    KTM_ASSERT(key == "bug", "ledger RM " + spec.name + ": unknown option '" + key + "' (known: bug)");
  }
  auto it = spec.options.find("bug");
  if (it == spec.options.end() || it->second == "none") return LedgerBug::kNone;
  if (it->second == "lose_replayed_commits") return LedgerBug::kLoseReplayedCommits;
  if (it->second == "dirty_read") return LedgerBug::kDirtyRead;
  KTM_ASSERT(false, "ledger RM " + spec.name + ": unknown bug '" + it->second +
                        "' (none, lose_replayed_commits, dirty_read)");
  return LedgerBug::kNone;
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
        return std::make_unique<LedgerAdapter>(std::make_unique<LedgerRm>(
            c.kernel, c.host, c.disk, c.tm, harness::RmOptionsFor(c), BugOption(*c.spec)));
      }};
  return api.register_rm_kind(std::move(kind)).ok() ? 0 : 1;
}

}  // namespace
}  // namespace ledger

KTMSIM_PLUGIN(ledger::Register)
