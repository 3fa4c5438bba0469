// LedgerRm: an example resource manager written outside ktmsim against the
// installed SDK: accounts with an append-only journal, durable in its own
// log on the simulated disk (RmBase's: prepare and commit records, replay,
// snapshots). A transaction posts entries to accounts; the account's value
// is its newest entry, and the journal keeps the newest kJournalEntriesMax
// entries with a posting sequence number that only grows.
//
// Contract:
// - One poster per account at a time (a lock from the first post until the
//   outcome); a second gets STATUS_TRANSACTIONAL_CONFLICT. Reads see the
//   newest committed entry, or the transaction's own post. Absent: "".
// - Durability and recovery are RmBase's; the journal is replayed from it.
// - History: every post is a write of (account, entry), every read a read,
//   reported through ReportWrite / ReportRead.
// - Planted bugs (LedgerBug, the plugin option `bug`), for `ktmsim conform`
//   and the sdk test; each breaks one rule of the RM contract
//   (docs/writing-an-rm.md) and conform catches it by that rule:
//   kLoseReplayedCommits drops the commits replayed from the log at start
//   (durable after CommitComplete); kReapplyCommit posts a replayed commit
//   again when KTM re-delivers its COMMIT after recovery (commit idempotent
//   after recovery); kWorkAfterPrepare posts a fee entry while preparing
//   (no new work after PREPARE); the protocol bugs of ktm::RmProtocolBug
//   (prepare durable before PrepareComplete, answer every notification,
//   RecoverEnlistment on RECOVER, wait out INDOUBT) are passed to RmBase.
//   kDirtyRead lets a balance read see another transaction's pending post
//   (isolation: the checkers of `ktmsim run` see a read of a value that was
//   never committed).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>

#include "ktm/rm_base.h"

namespace ledger {

enum class LedgerBug : uint8_t { kNone, kLoseReplayedCommits, kDirtyRead, kReapplyCommit, kWorkAfterPrepare };

inline constexpr size_t kJournalEntriesMax = 4;  // entries kept per account

struct Entry {
  uint64_t sequence = 0;  // the ledger's posting order
  std::string text;
};

class LedgerRm : public ktm::RmBase {
 public:
  LedgerRm(ktm::Kernel* kernel, sim::Host* host, sim::Disk* disk, ktm::HANDLE tm, ktm::RmOptions options,
           LedgerBug bug);

  ktm::NTSTATUS Post(ktm::HANDLE transaction, const std::string& account, const std::string& text);
  ktm::NTSTATUS Balance(ktm::HANDLE transaction, const std::string& account, std::string* text);
  std::map<std::string, std::string> committed() const override;

 protected:
  bool HasChanges(const ktm::Guid& uow) const override;
  void EncodeChanges(const ktm::Guid& uow, ktm::Writer& w) const override;
  void ApplyChanges(ktm::Reader& r) override;
  void RestorePrepared(const ktm::Guid& uow, ktm::Reader& r) override;
  void EndTransaction(const ktm::Guid& uow) override;
  void EncodeCommitted(ktm::Writer& w) const override;
  void DecodeCommitted(ktm::Reader& r) override;
  uint64_t StateBytesMax() const override { return ktm::kStateBytesUnbounded; }

 private:
  void PostEntries(std::map<std::string, std::string> posts);

  LedgerBug bug_;
  uint64_t next_sequence_ = 1;
  std::map<std::string, std::deque<Entry>> journal_;             // committed, per account
  std::map<ktm::Guid, std::map<std::string, std::string>> posts_;  // per open transaction
  std::map<std::string, ktm::Guid> locks_;                        // account -> poster
  std::map<ktm::Guid, std::map<std::string, std::string>> replayed_;  // kReapplyCommit: commits replayed at start
};

}  // namespace ledger
