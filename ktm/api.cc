// ktm/api.h: the KTM-named functions, each forwarding to the host's Kernel.
#include "ktm/api.h"

namespace ktm {

NTSTATUS CreateTransaction(Kernel& k, uint32_t create_options, uint32_t timeout_ms,
                           const std::string& description, HANDLE* transaction) {
  return k.CreateTransaction(create_options, timeout_ms, description, transaction);
}
NTSTATUS OpenTransaction(Kernel& k, const Guid& transaction_id, HANDLE* transaction) {
  return k.OpenTransaction(transaction_id, transaction);
}
void CommitTransaction(Kernel& k, HANDLE transaction, Completion done) { k.CommitTransaction(transaction, std::move(done)); }
NTSTATUS CommitTransactionAsync(Kernel& k, HANDLE transaction) { return k.CommitTransactionAsync(transaction); }
void RollbackTransaction(Kernel& k, HANDLE transaction, Completion done) {
  k.RollbackTransaction(transaction, std::move(done));
}
NTSTATUS RollbackTransactionAsync(Kernel& k, HANDLE transaction) { return k.RollbackTransactionAsync(transaction); }
NTSTATUS GetTransactionInformation(Kernel& k, HANDLE transaction, TransactionInformation* info) {
  if (info == nullptr) return STATUS_INVALID_PARAMETER;
  return k.GetTransactionInformation(transaction, &info->outcome, &info->timeout_ms, &info->description);
}
NTSTATUS SetTransactionInformation(Kernel& k, HANDLE transaction, uint32_t isolation_level, uint32_t isolation_flags,
                                   uint32_t timeout_ms, const std::string& description) {
  return k.SetTransactionInformation(transaction, isolation_level, isolation_flags, timeout_ms, description);
}
NTSTATUS GetTransactionId(Kernel& k, HANDLE transaction, Guid* transaction_id) {
  return k.GetTransactionId(transaction, transaction_id);
}

void CreateTransactionManager(Kernel& k, const std::string& log_name, uint32_t create_options,
                              std::function<void(NTSTATUS, HANDLE)> done) {
  k.CreateTransactionManager(log_name, create_options, std::move(done));
}
void OpenTransactionManager(Kernel& k, const std::string& log_name, std::function<void(NTSTATUS, HANDLE)> done) {
  k.OpenTransactionManager(log_name, std::move(done));
}
NTSTATUS OpenTransactionManagerById(Kernel& k, const Guid& tm_id, HANDLE* tm) {
  return k.OpenTransactionManagerById(tm_id, tm);
}
void RecoverTransactionManager(Kernel& k, HANDLE tm, Completion done) { k.RecoverTransactionManager(tm, 0, std::move(done)); }
void RollforwardTransactionManager(Kernel& k, HANDLE tm, uint64_t virtual_clock, Completion done) {
  if (virtual_clock == 0) {
    k.host()->After(0, [done = std::move(done)] { done(STATUS_INVALID_PARAMETER); });
    return;
  }
  k.RecoverTransactionManager(tm, virtual_clock, std::move(done));
}
NTSTATUS GetTransactionManagerId(Kernel& k, HANDLE tm, Guid* tm_id) { return k.GetTransactionManagerId(tm, tm_id); }
NTSTATUS GetCurrentClockTransactionManager(Kernel& k, HANDLE tm, uint64_t* clock) {
  return k.GetCurrentClockTransactionManager(tm, clock);
}

NTSTATUS CreateResourceManager(Kernel& k, const Guid& rm_id, uint32_t create_options, HANDLE tm,
                               const std::string& description, HANDLE* rm) {
  return k.CreateResourceManager(rm_id, create_options, tm, description, rm);
}
NTSTATUS OpenResourceManager(Kernel& k, HANDLE tm, const Guid& rm_id, HANDLE* rm) {
  return k.OpenResourceManager(tm, rm_id, rm);
}
NTSTATUS RecoverResourceManager(Kernel& k, HANDLE rm) { return k.RecoverResourceManager(rm); }
NTSTATUS GetNotificationResourceManager(Kernel& k, HANDLE rm, TRANSACTION_NOTIFICATION* out) {
  return k.GetNotificationResourceManager(rm, out);
}
void GetNotificationResourceManagerAsync(Kernel& k, HANDLE rm, sim::TimeNs timeout,
                                         NotificationDone done) {
  k.GetNotificationResourceManagerAsync(rm, timeout, std::move(done));
}

NTSTATUS CreateEnlistment(Kernel& k, HANDLE rm, HANDLE transaction, uint32_t notification_mask,
                          uint32_t create_options, uint64_t enlistment_key, HANDLE* enlistment) {
  return k.CreateEnlistment(rm, transaction, notification_mask, create_options, enlistment_key, enlistment);
}
NTSTATUS OpenEnlistment(Kernel& k, HANDLE rm, const Guid& enlistment_id, HANDLE* enlistment) {
  return k.OpenEnlistment(rm, enlistment_id, enlistment);
}
NTSTATUS RecoverEnlistment(Kernel& k, HANDLE enlistment, uint64_t enlistment_key) {
  return k.RecoverEnlistment(enlistment, enlistment_key);
}
NTSTATUS PrePrepareComplete(Kernel& k, HANDLE enlistment, uint64_t* clock) { return k.PrePrepareComplete(enlistment, clock); }
NTSTATUS PrepareComplete(Kernel& k, HANDLE enlistment, uint64_t* clock) { return k.PrepareComplete(enlistment, clock); }
NTSTATUS CommitComplete(Kernel& k, HANDLE enlistment, uint64_t* clock) { return k.CommitComplete(enlistment, clock); }
NTSTATUS RollbackComplete(Kernel& k, HANDLE enlistment, uint64_t* clock) { return k.RollbackComplete(enlistment, clock); }
NTSTATUS ReadOnlyEnlistment(Kernel& k, HANDLE enlistment, uint64_t* clock) { return k.ReadOnlyEnlistment(enlistment, clock); }
NTSTATUS SinglePhaseReject(Kernel& k, HANDLE enlistment, uint64_t* clock) { return k.SinglePhaseReject(enlistment, clock); }
NTSTATUS RollbackEnlistment(Kernel& k, HANDLE enlistment, uint64_t* clock) { return k.RollbackEnlistment(enlistment, clock); }
NTSTATUS RequestOutcomeEnlistment(Kernel& k, HANDLE enlistment, uint64_t* clock) {
  return k.RequestOutcomeEnlistment(enlistment, clock);
}
NTSTATUS PrePrepareEnlistment(Kernel& k, HANDLE enlistment, uint64_t* clock) {
  return k.PrePrepareEnlistment(enlistment, clock);
}
NTSTATUS PrepareEnlistment(Kernel& k, HANDLE enlistment, uint64_t* clock) { return k.PrepareEnlistment(enlistment, clock); }
NTSTATUS CommitEnlistment(Kernel& k, HANDLE enlistment, uint64_t* clock) { return k.CommitEnlistment(enlistment, clock); }
NTSTATUS GetEnlistmentId(Kernel& k, HANDLE enlistment, Guid* enlistment_id) {
  return k.GetEnlistmentId(enlistment, enlistment_id);
}
NTSTATUS GetEnlistmentRecoveryInformation(Kernel& k, HANDLE enlistment, std::vector<uint8_t>* blob) {
  return k.GetEnlistmentRecoveryInformation(enlistment, blob);
}
NTSTATUS SetEnlistmentRecoveryInformation(Kernel& k, HANDLE enlistment, const std::vector<uint8_t>& blob) {
  return k.SetEnlistmentRecoveryInformation(enlistment, blob);
}

NTSTATUS CloseHandle(Kernel& k, HANDLE handle) { return k.CloseHandle(handle); }

}  // namespace ktm
