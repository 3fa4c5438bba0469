// TxfTxrRig: one simulated host with a durable TM and, each on its own log
// disk, the example KvRm, a TxfRm and a TxrRm (any subset), for the TxF/TxR
// tests. Boot/CrashAndRecover/Settle wrap the asynchronous start-up and
// recovery sequence a real host runs; Commit/Rollback run a transaction's
// outcome to completion and return what the client was told.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "ktm/api.h"
#include "ktm/kernel.h"
#include "ktm/kv/kv_rm.h"
#include "ktm/txf/txf_rm.h"
#include "ktm/txr/txr_rm.h"
#include "sim/world.h"

namespace ktmtest {

struct TxfTxrRigConfig {
  bool kv = true;
  bool txf = true;
  bool txr = true;
  bool single_phase = true;        // the RMs ask for SINGLE_PHASE_COMMIT
  uint64_t disk_sectors = 2048;    // each log disk (512-byte sectors)
  // Extra latency of every forced write on the TxF and TxR disks: makes
  // their log forces finish after the TM's and the KV RM's.
  sim::TimeNs rm_disk_extra_latency_ns = 0;
  // Paged storage (disks of ktm::kPagedDiskBytesMin or more): flush the RMs'
  // dirty records to their stores every this many log bytes (0: default).
  uint64_t paged_flush_log_bytes = 0;
  // A TxF start that fails is recorded (txf_start_status) instead of failing the test.
  bool tolerate_txf_start_failure = false;
  // Keep the world's trace events (false: only the digest; tests of millions of operations).
  bool keep_trace_events = true;
  ktm::txf::TxfOptions txf_options;
  ktm::txr::TxrOptions txr_options;
};

class TxfTxrRig {
 public:
  static constexpr size_t kDiskTm = 0, kDiskKv = 1, kDiskTxf = 2, kDiskTxr = 3;

  explicit TxfTxrRig(uint64_t seed, TxfTxrRigConfig config = {})
      : world_(Options(seed, config.keep_trace_events)), config_(std::move(config)) {
    host_ = world_.AddHost("h0");
    sim::DiskOptions disk;
    disk.sector_count = config_.disk_sectors;
    for (const char* name : {"tmlog", "kv"}) host_->AddDisk(name, disk);
    disk.fua_extra_latency = sim::Latency::Fixed(1 * sim::kMillisecond + config_.rm_disk_extra_latency_ns);
    for (const char* name : {"txf", "txr"}) host_->AddDisk(name, disk);
    host_->set_on_crash([this] { DropSoftware(); });
    Boot();
  }
  ~TxfTxrRig() { DropSoftware(); }

  static sim::WorldOptions Options(uint64_t seed, bool keep_trace_events = true) {
    sim::WorldOptions o;
    o.seed = seed;
    o.keep_trace_events = keep_trace_events;
    return o;
  }

  // Builds the host's software and runs until the TM and every RM are up.
  void Boot() {
    kernel_ = std::make_unique<ktm::Kernel>(host_);
    ready_ = false;
    ktm::CreateTransactionManager(*kernel_, "tmlog", 0, [this](ktm::NTSTATUS s, ktm::HANDLE tm) {
      ASSERT_EQ(s, ktm::STATUS_SUCCESS) << ktm::StatusName(s);
      tm_ = tm;
      ktm::RecoverTransactionManager(*kernel_, tm, [this](ktm::NTSTATUS st) {
        ASSERT_EQ(st, ktm::STATUS_SUCCESS) << ktm::StatusName(st);
        StartKv();
      });
    });
    Settle();
  }

  void Settle() { world_.scheduler().RunUntilIdle(5'000'000); }

  void CrashAndRecover(uint64_t crash_seed) {
    host_->Crash(crash_seed);
    host_->Restart();
    Boot();
  }

  ktm::HANDLE Begin() {
    ktm::HANDLE tx = ktm::INVALID_HANDLE_VALUE;
    EXPECT_EQ(ktm::CreateTransaction(*kernel_, 0, 0, "", &tx), ktm::STATUS_SUCCESS);
    return tx;
  }
  // Commits and runs the world until quiet; the status the client got
  // (STATUS_PENDING if the completion never ran).
  ktm::NTSTATUS Commit(ktm::HANDLE tx) {
    std::optional<ktm::NTSTATUS> got;
    ktm::CommitTransaction(*kernel_, tx, [&](ktm::NTSTATUS s) { got = s; });
    Settle();
    return got.value_or(ktm::STATUS_PENDING);
  }
  ktm::NTSTATUS Rollback(ktm::HANDLE tx) {
    std::optional<ktm::NTSTATUS> got;
    ktm::RollbackTransaction(*kernel_, tx, [&](ktm::NTSTATUS s) { got = s; });
    Settle();
    return got.value_or(ktm::STATUS_PENDING);
  }

  ktm::Kernel& k() { return *kernel_; }
  ktm::kv::KvRm& kv() { return *kv_; }
  ktm::txf::TxfRm& txf() { return *txf_; }
  ktm::txr::TxrRm& txr() { return *txr_; }
  // The history observer of every RM, now and after restarts (nullptr: none).
  void set_observer(ktm::RmObserver* observer) {
    observer_ = observer;
    for (ktm::RmBase* rm : {static_cast<ktm::RmBase*>(kv_.get()), static_cast<ktm::RmBase*>(txf_.get()),
                            static_cast<ktm::RmBase*>(txr_.get())}) {
      if (rm != nullptr) rm->set_observer(observer);
    }
  }
  ktm::HANDLE tm() const { return tm_; }
  sim::Host* host() { return host_; }
  sim::World& world() { return world_; }
  bool ready() const { return ready_; }
  ktm::NTSTATUS txf_start_status() const { return txf_start_status_; }

 private:
  static ktm::RmOptions RmOptionsFor(const char* name, uint64_t id, bool single_phase) {
    ktm::RmOptions o;
    o.name = name;
    o.rm_id = ktm::Guid{0x7F00u + id, 0x42};
    o.single_phase = single_phase;
    return o;
  }

  void DropSoftware() {
    txr_.reset();
    txf_.reset();
    kv_.reset();
    kernel_.reset();
  }

  void StartKv() {
    if (!config_.kv) return StartTxf();
    ktm::kv::KvOptions o;
    o.name = "kv";
    o.rm_id = ktm::Guid{0x7F00u, 0x42};
    o.single_phase = config_.single_phase;
    o.observer = observer_;
    o.paged_flush_log_bytes = config_.paged_flush_log_bytes;
    kv_ = std::make_unique<ktm::kv::KvRm>(kernel_.get(), host_, host_->disk(kDiskKv), tm_, o);
    kv_->Start([this](ktm::NTSTATUS s) {
      ASSERT_EQ(s, ktm::STATUS_SUCCESS) << ktm::StatusName(s);
      StartTxf();
    });
  }

  void StartTxf() {
    if (!config_.txf) return StartTxr();
    ktm::txf::TxfOptions o = config_.txf_options;
    o.rm = RmOptionsFor("txf", 1, config_.single_phase);
    o.rm.observer = observer_;
    o.rm.paged_flush_log_bytes = config_.paged_flush_log_bytes;
    txf_ = std::make_unique<ktm::txf::TxfRm>(kernel_.get(), host_, host_->disk(kDiskTxf), tm_, o);
    txf_->Start([this](ktm::NTSTATUS s) {
      txf_start_status_ = s;
      if (!config_.tolerate_txf_start_failure) {
        ASSERT_EQ(s, ktm::STATUS_SUCCESS) << ktm::StatusName(s);
      }
      StartTxr();
    });
  }

  void StartTxr() {
    if (!config_.txr) {
      ready_ = true;
      return;
    }
    ktm::txr::TxrOptions o = config_.txr_options;
    o.rm = RmOptionsFor("txr", 2, config_.single_phase);
    o.rm.observer = observer_;
    o.rm.paged_flush_log_bytes = config_.paged_flush_log_bytes;
    txr_ = std::make_unique<ktm::txr::TxrRm>(kernel_.get(), host_, host_->disk(kDiskTxr), tm_, o);
    txr_->Start([this](ktm::NTSTATUS s) {
      ASSERT_EQ(s, ktm::STATUS_SUCCESS) << ktm::StatusName(s);
      ready_ = true;
    });
  }

  sim::World world_;
  TxfTxrRigConfig config_;
  sim::Host* host_;
  std::unique_ptr<ktm::Kernel> kernel_;
  ktm::HANDLE tm_ = ktm::INVALID_HANDLE_VALUE;
  std::unique_ptr<ktm::kv::KvRm> kv_;
  std::unique_ptr<ktm::txf::TxfRm> txf_;
  std::unique_ptr<ktm::txr::TxrRm> txr_;
  bool ready_ = false;
  ktm::NTSTATUS txf_start_status_ = ktm::STATUS_SUCCESS;
  ktm::RmObserver* observer_ = nullptr;
};

}  // namespace ktmtest
