// RmAdapter: the workload's and the recorder's view of one resource manager
// of a scenario, whatever its kind (RmSpec::kind): the example key-value RM
// (ktm/kv), Transactional NTFS (ktm/txf) or the Transactional Registry
// (ktm/txr). The cluster creates one per RM at every boot of its host and
// drives it only through this interface, so the commit protocol, crash and
// history paths of cluster.cc are the same for the three kinds.
//
// Workload keys are "k<N>". Each adapter maps an operation on a key onto
// the RM's own API, called with the client's transaction handle
// (docs/txf-txr.md, "The harness workload"):
// - kv:  KvRm::Write / KvRm::Read of the key.
// - txf: the file "\d\k<N>". Write = CreateFileTransacted(GENERIC_WRITE,
//        CREATE_ALWAYS) + WriteFile(whole value) + CloseFileHandle, creating
//        the directory "\d" in the transaction first if the transaction does
//        not see it; read = CreateFileTransacted(GENERIC_READ, OPEN_EXISTING)
//        + ReadFile + CloseFileHandle; delete = DeleteFileTransacted; move =
//        MoveFileTransacted(another key's file, MOVEFILE_REPLACE_EXISTING)
//        followed by a write of the key (so the file gets contents unique to
//        the transaction).
// - txr: the value "v" of the key "HKLM\Software\ktmsim\k<N>". Write =
//        RegCreateKeyTransacted(KEY_SET_VALUE) + RegSetValueEx(REG_SZ) +
//        RegCloseKey; read = RegOpenKeyTransacted(KEY_QUERY_VALUE) +
//        RegQueryValueEx + RegCloseKey; delete = RegDeleteKeyTransacted.
//
// History: the RMs report reads and writes to the run's RmObserver (the
// HistoryRecorder, harness/history_recorder.h) with the key in their own
// terms (HistoryKey) and the value as they store it (a file's
// ContentDigest, a registry ValueText). A read that fails because the
// file or key does not exist in the transaction's view is answered by the
// RM before any data call, so the RM reports nothing: Read then reports
// *traced = false and the cluster records the read of "" (absent) itself.
//
// Issue 18's workload pieces (off unless the scenario's RmSpec asks):
// - txr, volatile_fraction: workload key "v<N>" is the volatile twin of
//   "k<N>": the value "v" of HKLM\Software\ktmsim\volatile\k<N>, created
//   with REG_OPTION_VOLATILE under a volatile parent the adapter provisions
//   at every start. Each write of a twin then asks for a stable child
//   ("...\k<N>\stable") and asserts STATUS_CHILD_MUST_BE_VOLATILE (a
//   granted one would outlive its volatile parent). The recorder marks
//   writes of twins (IsVolatileHistoryKey) so the checkers expect them gone
//   after a crash of the RM's host (model/checkers.h).
// - txf, nontransacted_open_fraction: HoldWriterOpen opens the key's file
//   for GENERIC_WRITE, OPEN_EXISTING, outside any transaction, and closes it
//   hold_ns later (unless the host crashed first), so transacted opens of it
//   meet a non-transacted writer (STATUS_TRANSACTIONAL_CONFLICT) and it
//   meets transactions' writers (STATUS_SHARING_VIOLATION).
//
// Statuses: STATUS_SUCCESS, or the RM's failure status unchanged (a
// conflict, STATUS_SHARING_VIOLATION, STATUS_RM_NOT_ACTIVE, ...), after
// which the client rolls the transaction back. Informational successes
// (STATUS_OBJECT_NAME_EXISTS) come back as STATUS_SUCCESS; deleting a
// file or key that does not exist is a success that changes nothing.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "harness/scenario.h"
#include "ktm/api.h"
#include "ktm/rm_observer.h"
#include "sim/disk.h"
#include "sim/host.h"

namespace harness {

class RmAdapter {
 public:
  virtual ~RmAdapter() = default;

  // RM lifecycle and recovery facts (the RM's own calls, see ktm/rm_base.h).
  virtual void Start(std::function<void(ktm::NTSTATUS)> done) = 0;
  virtual bool online() const = 0;
  virtual bool recovery_done() const = 0;
  // Transactions prepared (by the RM's log) whose outcome is not known yet.
  virtual size_t in_doubt() const = 0;
  virtual bool ReplayedCommit(const std::string& uow_short) const = 0;
  virtual ktm::NTSTATUS Disconnect(ktm::HANDLE transaction) = 0;
  // The committed state as history key -> history value.
  virtual std::map<std::string, std::string> committed() const = 0;

  // The key of the history events for workload key `key`.
  virtual std::string HistoryKey(const std::string& key) const = 0;
  // Whether an operation on key (a read when `read`) can run without a page
  // read (false only for an RM on a paged disk that lacks what it needs: a
  // kv RM's record for a read, ktm/kv/kv_rm.h; a TxR RM's key, the keys
  // above it and its child counts, ktm/txr/txr_rm.h). Prefetch reads it in
  // and then runs ready (at once when nothing is missing; never when the RM
  // goes away first, a crash).
  virtual bool Resident(const std::string& /*key*/, bool /*read*/) const { return true; }
  virtual void Prefetch(const std::string& /*key*/, std::function<void()> ready) { ready(); }
  // Workload operations, in `transaction`. value: unique per run.
  virtual ktm::NTSTATUS Write(ktm::HANDLE transaction, const std::string& key, const std::string& value) = 0;
  virtual ktm::NTSTATUS Read(ktm::HANDLE transaction, const std::string& key, std::string* value,
                             bool* traced) = 0;
  // Only where SupportsDelete() / SupportsMove() (Validate keeps the
  // scenario's delete_fraction / move_fraction at 0 elsewhere).
  virtual bool SupportsDelete() const { return false; }
  virtual bool SupportsMove() const { return false; }
  virtual ktm::NTSTATUS Delete(ktm::HANDLE transaction, const std::string& key);
  // Moves from_key onto key (replacing it), then writes value to key. A
  // from_key that does not exist makes it a plain Write.
  virtual ktm::NTSTATUS MoveThenWrite(ktm::HANDLE transaction, const std::string& from_key, const std::string& key,
                                      const std::string& value);
  // Only where the kind supports_nontransacted_opens (txf): the
  // non-transacted writer open of key's file, held hold_ns; `closed` runs
  // when the adapter closes it (never when the host crashed first). A
  // refusal (STATUS_SHARING_VIOLATION, STATUS_OBJECT_NAME_NOT_FOUND, ...)
  // comes back as the status and nothing is held.
  virtual ktm::NTSTATUS HoldWriterOpen(const std::string& key, sim::TimeNs hold_ns, std::function<void()> closed);
};

// "k<N>" -> "v<N>": the volatile twin of a workload key (txr).
std::string VolatileTwin(const std::string& key);
// True when history_key (as an RM of `spec` reports it) is a volatile twin's:
// spec is a txr RM with volatile_fraction > 0 and the key lies under
// HKLM\Software\ktmsim\volatile.
bool IsVolatileHistoryKey(const RmSpec& spec, std::string_view history_key);
// True when an RM of `spec` can report volatile twins at all (a txr RM with
// volatile_fraction > 0): a run with none needs no check per write.
bool HasVolatileHistoryKeys(const RmSpec& spec);

// The adapter of the RM `spec` (its kind, options and identity), built on
// the host's kernel and TM. disk: the RM's log disk (nullptr when volatile).
// observer: the run's history recorder (may be null).
std::unique_ptr<RmAdapter> MakeRmAdapter(const RmSpec& spec, const ktm::Guid& rm_id, ktm::Kernel* kernel,
                                         sim::Host* host, sim::Disk* disk, ktm::HANDLE tm,
                                         ktm::RmObserver* observer);

}  // namespace harness
