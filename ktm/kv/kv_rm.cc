// KvRm implementation: see kv_rm.h for the contract. Only the data lives
// here; the commit protocol is RmBase's.
#include "ktm/kv/kv_rm.h"

#include <algorithm>
#include <utility>

#include "ktm/assert.h"
#include "ktm/codec.h"

namespace ktm::kv {
namespace {

RmOptions BaseOptions(const KvOptions& o) {
  RmOptions rm;
  rm.name = o.name;
  rm.rm_id = o.rm_id;
  rm.durable = o.durable;
  rm.single_phase = o.single_phase;
  rm.vote_no_probability = o.vote_no_probability;
  rm.reject_single_phase_probability = o.reject_single_phase_probability;
  rm.response_delay_ns = o.response_delay_ns;
  rm.observer = o.observer;
  rm.paged_flush_log_bytes = o.paged_flush_log_bytes;
  return rm;
}

void PutWrites(Writer& w, const std::map<std::string, std::string>& writes) {
  w.U32(static_cast<uint32_t>(writes.size()));
  for (const auto& [k, v] : writes) {
    w.Str(k);
    w.Str(v);
  }
}

std::map<std::string, std::string> GetWrites(Reader& r) {
  std::map<std::string, std::string> writes;
  uint32_t n = r.U32();
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    std::string k = r.Str();
    writes[k] = r.Str();
  }
  return writes;
}

}  // namespace

KvRm::KvRm(Kernel* kernel, sim::Host* host, sim::Disk* disk, HANDLE tm, KvOptions options)
    : RmBase(kernel, host, disk, tm, BaseOptions(options), "kv"), options_(std::move(options)) {}

KvRm::~KvRm() = default;

void KvRm::TakeWrite(const Guid& uow, const std::string& key, const std::string& value) {
  auto& writes = writes_[uow];
  auto it = writes.find(key);
  if (it != writes.end()) bytes_ -= PairBytes(key, it->second);
  bytes_ += PairBytes(key, value);
  writes[key] = value;
  locks_[key] = uow;
}

NTSTATUS KvRm::Write(HANDLE transaction, const std::string& key, const std::string& value) {
  Guid uow;
  if (NTSTATUS s = Enlist(transaction, &uow); s != STATUS_SUCCESS) return s;
  auto lock = locks_.find(key);
  if (lock != locks_.end() && lock->second != uow) return STATUS_TRANSACTIONAL_CONFLICT;
  const auto& writes = writes_[uow];
  auto own = writes.find(key);
  const uint64_t before = own == writes.end() ? 0 : PairBytes(key, own->second);
  if (BytesMax() > 0 && bytes_ - before + PairBytes(key, value) > BytesMax()) {
    return STATUS_DISK_FULL;
  }
  TakeWrite(uow, key, value);
  ReportWrite(uow, key, value);
  return STATUS_SUCCESS;
}

NTSTATUS KvRm::Read(HANDLE transaction, const std::string& key, std::string* value) {
  if (value == nullptr) return STATUS_INVALID_PARAMETER;
  if (transaction == INVALID_HANDLE_VALUE) {
    if (!online()) return STATUS_RM_NOT_ACTIVE;
    auto it = committed_.find(key);
    *value = it == committed_.end() ? "" : it->second;
    return STATUS_SUCCESS;
  }
  Guid uow;
  if (NTSTATUS s = Enlist(transaction, &uow); s != STATUS_SUCCESS) return s;
  const auto& writes = writes_[uow];
  if (auto own = writes.find(key); own != writes.end()) {
    *value = own->second;
  } else {
    auto it = committed_.find(key);
    *value = it == committed_.end() ? "" : it->second;
  }
  ReportRead(uow, key, *value);
  return STATUS_SUCCESS;
}

// ---------------------------------------------------------------------------
// What RmBase asks of the data.

bool KvRm::HasChanges(const Guid& uow) const {
  auto it = writes_.find(uow);
  return it != writes_.end() && !it->second.empty();
}

void KvRm::EncodeChanges(const Guid& uow, Writer& w) const {
  auto it = writes_.find(uow);
  PutWrites(w, it == writes_.end() ? std::map<std::string, std::string>{} : it->second);
}

void KvRm::ApplyChanges(Reader& r) {
  for (auto& [key, value] : GetWrites(r)) {
    auto it = committed_.find(key);
    if (it != committed_.end()) bytes_ -= PairBytes(key, it->second);
    bytes_ += PairBytes(key, value);
    MarkCommittedDirty(key);
    committed_[key] = std::move(value);
  }
}

uint64_t KvRm::BytesMax() const {
  if (!paged()) return options_.state_bytes_max;
  if (options_.state_bytes_max == 0) return PagedCapacityBytes();
  return std::min(options_.state_bytes_max, PagedCapacityBytes());
}

std::optional<std::string> KvRm::CommittedRecord(const std::string& key) const {
  auto it = committed_.find(key);
  if (it == committed_.end()) return std::nullopt;
  return it->second;
}

void KvRm::LoadCommittedRecord(const std::string& key, const std::string& record) {
  auto it = committed_.find(key);
  if (it != committed_.end()) bytes_ -= PairBytes(key, it->second);
  bytes_ += PairBytes(key, record);
  committed_[key] = record;
}

void KvRm::RestorePrepared(const Guid& uow, Reader& r) {
  for (const auto& [key, value] : GetWrites(r)) TakeWrite(uow, key, value);
}

void KvRm::EndTransaction(const Guid& uow) {
  auto it = writes_.find(uow);
  if (it == writes_.end()) return;
  for (const auto& [key, value] : it->second) {
    bytes_ -= PairBytes(key, value);
    auto lock = locks_.find(key);
    if (lock != locks_.end() && lock->second == uow) locks_.erase(lock);
  }
  writes_.erase(it);
}

// The state bound plus each open transaction's 4-byte write count.
uint64_t KvRm::StateBytesMax() const {
  if (options_.state_bytes_max == 0) return kStateBytesUnbounded;
  return options_.state_bytes_max + 4ull * RmOptions{}.transactions_max;
}

void KvRm::EncodeCommitted(Writer& w) const { PutWrites(w, committed_); }

void KvRm::DecodeCommitted(Reader& r) {
  for (const auto& [key, value] : committed_) bytes_ -= PairBytes(key, value);
  committed_ = GetWrites(r);
  for (const auto& [key, value] : committed_) bytes_ += PairBytes(key, value);
}

}  // namespace ktm::kv
