// LedgerRm: see ledger_rm.h.
#include "ledger_rm.h"

#include <utility>

namespace ledger {
namespace {

void PutPosts(ktm::Writer& w, const std::map<std::string, std::string>& posts) {
  w.U32(static_cast<uint32_t>(posts.size()));
  for (const auto& [account, text] : posts) {
    w.Str(account);
    w.Str(text);
  }
}

std::map<std::string, std::string> GetPosts(ktm::Reader& r) {
  std::map<std::string, std::string> posts;
  const uint32_t n = r.U32();
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    std::string account = r.Str();
    posts[account] = r.Str();
  }
  return posts;
}

}  // namespace

LedgerRm::LedgerRm(ktm::Kernel* kernel, sim::Host* host, sim::Disk* disk, ktm::HANDLE tm, ktm::RmOptions options,
                   LedgerBug bug)
    : RmBase(kernel, host, disk, tm, std::move(options), "ledger"), bug_(bug) {}

ktm::NTSTATUS LedgerRm::Post(ktm::HANDLE transaction, const std::string& account, const std::string& text) {
  ktm::Guid uow;
  if (ktm::NTSTATUS s = Enlist(transaction, &uow); s != ktm::STATUS_SUCCESS) return s;
  auto lock = locks_.find(account);
  if (lock != locks_.end() && lock->second != uow) return ktm::STATUS_TRANSACTIONAL_CONFLICT;
  locks_[account] = uow;
  posts_[uow][account] = text;
  ReportWrite(uow, account, text);
  return ktm::STATUS_SUCCESS;
}

ktm::NTSTATUS LedgerRm::Balance(ktm::HANDLE transaction, const std::string& account, std::string* text) {
  ktm::Guid uow;
  if (ktm::NTSTATUS s = Enlist(transaction, &uow); s != ktm::STATUS_SUCCESS) return s;
  const auto& own = posts_[uow];
  if (auto it = own.find(account); it != own.end()) {
    *text = it->second;
  } else if (auto lock = locks_.find(account); bug_ == LedgerBug::kDirtyRead && lock != locks_.end()) {
    *text = posts_[lock->second][account];  // the planted bug: another transaction's pending post
  } else {
    auto j = journal_.find(account);
    *text = j == journal_.end() || j->second.empty() ? "" : j->second.back().text;
  }
  ReportRead(uow, account, *text);
  return ktm::STATUS_SUCCESS;
}

std::map<std::string, std::string> LedgerRm::committed() const {
  std::map<std::string, std::string> out;
  for (const auto& [account, entries] : journal_) {
    if (!entries.empty()) out[account] = entries.back().text;
  }
  return out;
}

bool LedgerRm::HasChanges(const ktm::Guid& uow) const {
  auto it = posts_.find(uow);
  return it != posts_.end() && !it->second.empty();
}

void LedgerRm::EncodeChanges(const ktm::Guid& uow, ktm::Writer& w) const {
  if (bug_ == LedgerBug::kWorkAfterPrepare) {
    // The planted bug: a fee posted while the transaction prepares (EncodeChanges
    // runs at PREPARE / SINGLE_PHASE_COMMIT), after the RM was asked to vote.
    auto* self = const_cast<LedgerRm*>(this);
    const std::string fee_account = "fee." + std::string(uow.Short());  // its own account: no lock to take
    self->posts_[uow][fee_account] = fee_account;
    self->ReportWrite(uow, fee_account, fee_account);
  }
  w.Id(uow);
  auto it = posts_.find(uow);
  PutPosts(w, it == posts_.end() ? std::map<std::string, std::string>{} : it->second);
}

void LedgerRm::ApplyChanges(ktm::Reader& r) {
  const ktm::Guid uow = r.Id();
  std::map<std::string, std::string> posts = GetPosts(r);
  // Replay runs before the RM is online (RmBase::Start).
  if (bug_ == LedgerBug::kLoseReplayedCommits && !online()) return;
  if (bug_ == LedgerBug::kReapplyCommit && !online()) replayed_[uow] = posts;
  PostEntries(std::move(posts));
}

void LedgerRm::PostEntries(std::map<std::string, std::string> posts) {
  for (auto& [account, text] : posts) {
    std::deque<Entry>& entries = journal_[account];
    entries.push_back(Entry{.sequence = next_sequence_++, .text = std::move(text)});
    while (entries.size() > kJournalEntriesMax) entries.pop_front();
  }
}

void LedgerRm::RestorePrepared(const ktm::Guid& uow, ktm::Reader& r) {
  (void)r.Id();
  std::map<std::string, std::string> posts = GetPosts(r);
  for (auto& [account, text] : posts) {
    locks_[account] = uow;
    posts_[uow][account] = std::move(text);
  }
}

void LedgerRm::EndTransaction(const ktm::Guid& uow) {
  if (auto replayed = replayed_.find(uow); replayed != replayed_.end()) {
    // The planted bug: the COMMIT KTM re-delivers after recovery for a
    // transaction whose commit the log already replayed is applied again.
    std::map<std::string, std::string> posts = std::move(replayed->second);
    replayed_.erase(replayed);
    if (posts_.count(uow) == 0) {
      for (const auto& [account, text] : posts) ReportWrite(uow, account, text);  // posted like new work
      PostEntries(std::move(posts));
    }
  }
  auto it = posts_.find(uow);
  if (it == posts_.end()) return;
  for (const auto& [account, text] : it->second) {
    auto lock = locks_.find(account);
    if (lock != locks_.end() && lock->second == uow) locks_.erase(lock);
  }
  posts_.erase(it);
}

void LedgerRm::EncodeCommitted(ktm::Writer& w) const {
  w.U64(next_sequence_);
  w.U32(static_cast<uint32_t>(journal_.size()));
  for (const auto& [account, entries] : journal_) {
    w.Str(account);
    w.U32(static_cast<uint32_t>(entries.size()));
    for (const Entry& e : entries) {
      w.U64(e.sequence);
      w.Str(e.text);
    }
  }
}

void LedgerRm::DecodeCommitted(ktm::Reader& r) {
  journal_.clear();
  next_sequence_ = r.U64();
  const uint32_t accounts = r.U32();
  for (uint32_t i = 0; i < accounts && r.ok(); ++i) {
    std::deque<Entry>& entries = journal_[r.Str()];
    const uint32_t n = r.U32();
    for (uint32_t k = 0; k < n && r.ok(); ++k) {
      Entry e;
      e.sequence = r.U64();
      e.text = r.Str();
      entries.push_back(std::move(e));
    }
  }
}

}  // namespace ledger
