// KvModel implementation: plain std::maps, no cleverness, so it is easy to
// believe. Every call first resolves the transaction (unknown / not active),
// then acts on its pending writes or on the committed maps. Write locks are
// not stored: the holder of a key is whichever active tx has it pending.
#include "model/kv_model.h"

namespace model {

const char* KvStatusName(KvStatus status) {
  switch (status) {
    case KvStatus::kOk: return "Ok";
    case KvStatus::kUnknownTransaction: return "UnknownTransaction";
    case KvStatus::kTransactionExists: return "TransactionExists";
    case KvStatus::kNotActive: return "NotActive";
    case KvStatus::kWriteConflict: return "WriteConflict";
  }
  return "Unknown";
}

KvModel::Tx* KvModel::ActiveTx(const std::string& tx, KvStatus* status) {
  return const_cast<Tx*>(static_cast<const KvModel*>(this)->ActiveTx(tx, status));
}

const KvModel::Tx* KvModel::ActiveTx(const std::string& tx, KvStatus* status) const {
  auto it = txs_.find(tx);
  if (it == txs_.end()) {
    *status = KvStatus::kUnknownTransaction;
    return nullptr;
  }
  if (it->second.state != KvTxState::kActive) {
    *status = KvStatus::kNotActive;
    return nullptr;
  }
  *status = KvStatus::kOk;
  return &it->second;
}

KvStatus KvModel::Begin(const std::string& tx) {
  if (txs_.contains(tx)) return KvStatus::kTransactionExists;
  txs_.emplace(tx, Tx{});
  return KvStatus::kOk;
}

KvStatus KvModel::Write(const std::string& tx, const std::string& rm, const std::string& key,
                        const std::string& value) {
  KvStatus status;
  Tx* state = ActiveTx(tx, &status);
  if (state == nullptr) return status;
  if (options_.write_locks && !LockHolder(rm, key, tx).empty()) return KvStatus::kWriteConflict;
  state->pending[{rm, key}] = value;
  return KvStatus::kOk;
}

KvReadResult KvModel::Read(const std::string& tx, const std::string& rm,
                           const std::string& key) const {
  KvStatus status;
  const Tx* state = ActiveTx(tx, &status);
  if (state == nullptr) return KvReadResult{status, ""};
  auto own = state->pending.find({rm, key});
  if (own != state->pending.end()) return KvReadResult{KvStatus::kOk, own->second};
  return KvReadResult{KvStatus::kOk, Committed(rm, key)};
}

KvStatus KvModel::Commit(const std::string& tx) {
  KvStatus status;
  Tx* state = ActiveTx(tx, &status);
  if (state == nullptr) return status;
  for (const auto& [rm_key, value] : state->pending) {
    std::map<std::string, std::string>& rm = committed_[rm_key.first];
    if (value.empty()) {
      rm.erase(rm_key.second);
    } else {
      rm[rm_key.second] = value;
    }
  }
  state->state = KvTxState::kCommitted;
  state->pending.clear();
  return KvStatus::kOk;
}

KvStatus KvModel::Abort(const std::string& tx) {
  KvStatus status;
  Tx* state = ActiveTx(tx, &status);
  if (state == nullptr) return status;
  state->state = KvTxState::kAborted;
  state->pending.clear();
  return KvStatus::kOk;
}

KvTxState KvModel::State(const std::string& tx) const {
  auto it = txs_.find(tx);
  return it == txs_.end() ? KvTxState::kUnknown : it->second.state;
}

std::string KvModel::Committed(const std::string& rm, const std::string& key) const {
  auto rm_it = committed_.find(rm);
  if (rm_it == committed_.end()) return "";
  auto it = rm_it->second.find(key);
  return it == rm_it->second.end() ? "" : it->second;
}

std::map<std::string, std::string> KvModel::CommittedState(const std::string& rm) const {
  auto it = committed_.find(rm);
  return it == committed_.end() ? std::map<std::string, std::string>{} : it->second;
}

std::vector<std::string> KvModel::PendingRms(const std::string& tx) const {
  std::vector<std::string> rms;
  auto it = txs_.find(tx);
  if (it == txs_.end()) return rms;
  for (const auto& [rm_key, value] : it->second.pending) {
    if (rms.empty() || rms.back() != rm_key.first) rms.push_back(rm_key.first);
  }
  return rms;
}

std::string KvModel::LockHolder(const std::string& rm, const std::string& key,
                                const std::string& except) const {
  // A linear scan: the model favours obviousness over speed.
  for (const auto& [tx, state] : txs_) {
    if (tx == except || state.state != KvTxState::kActive) continue;
    if (state.pending.contains({rm, key})) return tx;
  }
  return "";
}

}  // namespace model
