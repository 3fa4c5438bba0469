// KtmRig: one simulated host with a durable TM and N example key-value RMs,
// for the engine's tests. Boot/CrashAndRecover/Settle wrap the asynchronous
// start-up and recovery sequence a real host runs.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "ktm/api.h"
#include "ktm/kernel.h"
#include "ktm/kv/kv_rm.h"
#include "sim/world.h"

namespace ktmtest {

inline ktm::Guid TestRmGuid(int i) { return ktm::Guid{0x1000u + static_cast<uint64_t>(i), 0x77}; }

class KtmRig {
 public:
  explicit KtmRig(uint64_t seed, int rm_count = 2, uint32_t planted_bug = 0, bool single_phase = true)
      : world_(Options(seed)), rm_count_(rm_count), bug_(planted_bug), single_phase_(single_phase) {
    host_ = world_.AddHost("h0");
    sim::DiskOptions disk;
    disk.sector_count = 2048;
    host_->AddDisk("tmlog", disk);
    for (int i = 0; i < rm_count; ++i) host_->AddDisk(absl::StrCat("rm", i), disk);
    host_->set_on_crash([this] {
      rms_.clear();
      kernel_.reset();
    });
    Boot();
  }
  ~KtmRig() {
    rms_.clear();
    kernel_.reset();
  }

  static sim::WorldOptions Options(uint64_t seed) {
    sim::WorldOptions o;
    o.seed = seed;
    return o;
  }

  // Builds the host's software and runs until the TM and every RM are up.
  void Boot() {
    kernel_ = std::make_unique<ktm::Kernel>(host_, bug_);
    ready_ = false;
    ktm::CreateTransactionManager(*kernel_, "tmlog", 0, [this](ktm::NTSTATUS s, ktm::HANDLE tm) {
      ASSERT_EQ(s, ktm::STATUS_SUCCESS) << ktm::StatusName(s);
      tm_ = tm;
      ktm::RecoverTransactionManager(*kernel_, tm, [this](ktm::NTSTATUS st) {
        ASSERT_EQ(st, ktm::STATUS_SUCCESS);
        StartRm(0);
      });
    });
    Settle();
  }

  void StartRm(int i) {
    if (i == rm_count_) {
      ready_ = true;
      return;
    }
    ktm::kv::KvOptions o;
    o.name = absl::StrCat("rm", i);
    o.rm_id = TestRmGuid(i);
    o.single_phase = single_phase_;
    o.snapshot_log_bytes = snapshot_log_bytes;
    rms_.push_back(std::make_unique<ktm::kv::KvRm>(kernel_.get(), host_, host_->disk(1 + i), tm_, o));
    rms_.back()->Start([this, i](ktm::NTSTATUS s) {
      ASSERT_EQ(s, ktm::STATUS_SUCCESS) << ktm::StatusName(s);
      StartRm(i + 1);
    });
  }

  void Settle() { world_.scheduler().RunUntilIdle(5'000'000); }
  void RunFor(sim::TimeNs ns) { world_.scheduler().RunFor(ns); }

  void CrashAndRecover(uint64_t crash_seed) {
    host_->Crash(crash_seed);
    host_->Restart();
    Boot();
  }

  ktm::Kernel& k() { return *kernel_; }
  ktm::kv::KvRm& rm(int i) { return *rms_.at(i); }
  ktm::HANDLE tm() const { return tm_; }
  sim::Host* host() { return host_; }
  sim::World& world() { return world_; }
  bool ready() const { return ready_; }

  // ktm::RmOptions::snapshot_log_bytes of the RMs the next Boot starts.
  uint64_t snapshot_log_bytes = 0;

 private:
  sim::World world_;
  sim::Host* host_;
  int rm_count_;
  uint32_t bug_;
  bool single_phase_;
  std::unique_ptr<ktm::Kernel> kernel_;
  ktm::HANDLE tm_ = ktm::INVALID_HANDLE_VALUE;
  std::vector<std::unique_ptr<ktm::kv::KvRm>> rms_;
  bool ready_ = false;
};

}  // namespace ktmtest
