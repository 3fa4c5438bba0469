// TxfTxrRig: one simulated host with a durable TM and, each on its own log
// disk, the example KvRm, a TxfRm and a TxrRm (any subset), driven directly
// through the KTM API (no scenario, no workload generator). Boot /
// CrashAndRecover / Settle wrap the asynchronous start-up and recovery
// sequence a real host runs; Commit / Rollback run a transaction's outcome to
// completion and return what the client was told.
//
// Users: the TxF / TxR / storage tests (tests/txf_txr_rig.h adds a gtest
// failure hook) and the recovery-time bench (harness/recovery_bench.h).
//
// Contract: a pure function of (seed, config, the calls made): one World, one
// thread. A call of the rig's own that fails where it should not (TM create
// or recovery, an RM's Start, CreateTransaction) is reported to
// config.on_failure and remembered (first_failure()); a failed start stops
// the start-up chain there, so ready() stays false. A TxF start failure is
// only recorded (txf_start_status()) when config.tolerate_txf_start_failure.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "ktm/api.h"
#include "ktm/kernel.h"
#include "ktm/kv/kv_rm.h"
#include "ktm/txf/txf_rm.h"
#include "ktm/txr/txr_rm.h"
#include "sim/world.h"

namespace harness {

struct TxfTxrRigConfig {
  bool kv = true;
  bool txf = true;
  bool txr = true;
  bool single_phase = true;        // the RMs ask for SINGLE_PHASE_COMMIT
  uint64_t disk_sectors = 2048;    // each log disk (512-byte sectors)
  // Latency models of the disks (sector_count is disk_sectors whatever they
  // say). Unset: sim::DiskOptions' defaults, with a 1 ms FUA extra latency
  // on the TxF and TxR disks.
  std::optional<sim::DiskOptions> tm_log_disk;  // the TM's log disk
  std::optional<sim::DiskOptions> rm_disk;      // the kv, TxF and TxR disks
  // Extra latency of every forced write on the TxF and TxR disks: makes
  // their log forces finish after the TM's and the KV RM's.
  sim::TimeNs rm_disk_extra_latency_ns = 0;
  // Paged storage (disks of ktm::kPagedDiskBytesMin or more): flush the RMs'
  // dirty records to their stores every this many log bytes (0: default).
  uint64_t paged_flush_log_bytes = 0;
  // A TxF start that fails is recorded (txf_start_status) instead of reported as a failure.
  bool tolerate_txf_start_failure = false;
  // Keep the world's trace events (false: only the digest; tests of millions of operations).
  bool keep_trace_events = true;
  ktm::txf::TxfOptions txf_options;
  ktm::txr::TxrOptions txr_options;
  // Called with what failed and its status (see the contract above); may be empty.
  std::function<void(const std::string& what, ktm::NTSTATUS status)> on_failure;
};

class TxfTxrRig {
 public:
  static constexpr size_t kDiskTm = 0, kDiskKv = 1, kDiskTxf = 2, kDiskTxr = 3;

  explicit TxfTxrRig(uint64_t seed, TxfTxrRigConfig config = {});
  ~TxfTxrRig();
  TxfTxrRig(const TxfTxrRig&) = delete;
  TxfTxrRig& operator=(const TxfTxrRig&) = delete;

  static sim::WorldOptions Options(uint64_t seed, bool keep_trace_events = true);

  // Builds the host's software and runs until the TM and every RM are up
  // (ready()) or the start-up chain stopped at a failure.
  void Boot();
  // Runs the world until no event is left (at most 5,000,000 events).
  void Settle();
  void CrashAndRecover(uint64_t crash_seed);

  // A new transaction (INVALID_HANDLE_VALUE, reported as a failure, when refused).
  ktm::HANDLE Begin();
  // Commits and runs the world until quiet; the status the client got
  // (STATUS_PENDING if the completion never ran).
  ktm::NTSTATUS Commit(ktm::HANDLE tx);
  ktm::NTSTATUS Rollback(ktm::HANDLE tx);

  ktm::Kernel& k() { return *kernel_; }
  ktm::kv::KvRm& kv() { return *kv_; }
  ktm::txf::TxfRm& txf() { return *txf_; }
  ktm::txr::TxrRm& txr() { return *txr_; }
  // The history observer of every RM, now and after restarts (nullptr: none).
  void set_observer(ktm::RmObserver* observer);
  ktm::HANDLE tm() const { return tm_; }
  sim::Host* host() { return host_; }
  sim::World& world() { return world_; }
  bool ready() const { return ready_; }
  // Simulated times at which the last Boot's TM recovery completed, and its
  // last start (every configured RM online); meaningful when ready().
  sim::TimeNs tm_recovered_ns() const { return tm_recovered_ns_; }
  sim::TimeNs online_ns() const { return online_ns_; }
  ktm::NTSTATUS txf_start_status() const { return txf_start_status_; }
  // "what: STATUS_..." of the first failure since construction; "" when none.
  const std::string& first_failure() const { return first_failure_; }

 private:
  void Fail(const std::string& what, ktm::NTSTATUS status);
  void DropSoftware();
  void StartKv();
  void StartTxf();
  void StartTxr();
  void Online();

  sim::World world_;
  TxfTxrRigConfig config_;
  sim::Host* host_;
  std::unique_ptr<ktm::Kernel> kernel_;
  ktm::HANDLE tm_ = ktm::INVALID_HANDLE_VALUE;
  std::unique_ptr<ktm::kv::KvRm> kv_;
  std::unique_ptr<ktm::txf::TxfRm> txf_;
  std::unique_ptr<ktm::txr::TxrRm> txr_;
  bool ready_ = false;
  sim::TimeNs tm_recovered_ns_ = 0;
  sim::TimeNs online_ns_ = 0;
  ktm::NTSTATUS txf_start_status_ = ktm::STATUS_SUCCESS;
  ktm::RmObserver* observer_ = nullptr;
  std::string first_failure_;
};

}  // namespace harness
