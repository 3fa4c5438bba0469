// TxfTxrRig implementation: the host's disks, and the start-up chain
// TM create -> TM recover -> kv Start -> TxF Start -> TxR Start, each step
// begun by the completion of the one before (see txf_txr_rig.h).
#include "harness/txf_txr_rig.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "ktm/assert.h"

namespace harness {
namespace {

ktm::RmOptions RmOptionsFor(const char* name, uint64_t id, bool single_phase) {
  ktm::RmOptions o;
  o.name = name;
  o.rm_id = ktm::Guid{0x7F00u + id, 0x42};
  o.single_phase = single_phase;
  return o;
}

}  // namespace

TxfTxrRig::TxfTxrRig(uint64_t seed, TxfTxrRigConfig config)
    : world_(Options(seed, config.keep_trace_events)), config_(std::move(config)) {
  host_ = world_.AddHost("h0");
  sim::DiskOptions tm_disk = config_.tm_log_disk.value_or(sim::DiskOptions{});
  sim::DiskOptions rm_disk = config_.rm_disk.value_or(sim::DiskOptions{});
  tm_disk.sector_count = rm_disk.sector_count = config_.disk_sectors;
  host_->AddDisk("tmlog", tm_disk);
  host_->AddDisk("kv", rm_disk);
  if (config_.rm_disk.has_value()) {
    KTM_ASSERT(config_.rm_disk_extra_latency_ns == 0, "rm_disk_extra_latency_ns needs the default RM disk");
  } else {
    rm_disk.fua_extra_latency = sim::Latency::Fixed(1 * sim::kMillisecond + config_.rm_disk_extra_latency_ns);
  }
  for (const char* name : {"txf", "txr"}) host_->AddDisk(name, rm_disk);
  host_->set_on_crash([this] { DropSoftware(); });
  Boot();
}

TxfTxrRig::~TxfTxrRig() { DropSoftware(); }

sim::WorldOptions TxfTxrRig::Options(uint64_t seed, bool keep_trace_events) {
  sim::WorldOptions o;
  o.seed = seed;
  o.keep_trace_events = keep_trace_events;
  return o;
}

void TxfTxrRig::Fail(const std::string& what, ktm::NTSTATUS status) {
  if (first_failure_.empty()) first_failure_ = absl::StrCat(what, ": ", ktm::StatusName(status));
  if (config_.on_failure) config_.on_failure(what, status);
}

void TxfTxrRig::Boot() {
  kernel_ = std::make_unique<ktm::Kernel>(host_);
  ready_ = false;
  ktm::CreateTransactionManager(*kernel_, "tmlog", 0, [this](ktm::NTSTATUS s, ktm::HANDLE tm) {
    if (s != ktm::STATUS_SUCCESS) return Fail("CreateTransactionManager", s);
    tm_ = tm;
    ktm::RecoverTransactionManager(*kernel_, tm, [this](ktm::NTSTATUS st) {
      if (st != ktm::STATUS_SUCCESS) return Fail("RecoverTransactionManager", st);
      tm_recovered_ns_ = world_.scheduler().Now();
      StartKv();
    });
  });
  Settle();
}

void TxfTxrRig::Settle() { world_.scheduler().RunUntilIdle(5'000'000); }

void TxfTxrRig::CrashAndRecover(uint64_t crash_seed) {
  host_->Crash(crash_seed);
  host_->Restart();
  Boot();
}

ktm::HANDLE TxfTxrRig::Begin() {
  ktm::HANDLE tx = ktm::INVALID_HANDLE_VALUE;
  if (ktm::NTSTATUS s = ktm::CreateTransaction(*kernel_, 0, 0, "", &tx); s != ktm::STATUS_SUCCESS) {
    Fail("CreateTransaction", s);
  }
  return tx;
}

ktm::NTSTATUS TxfTxrRig::Commit(ktm::HANDLE tx) {
  std::optional<ktm::NTSTATUS> got;
  ktm::CommitTransaction(*kernel_, tx, [&](ktm::NTSTATUS s) { got = s; });
  Settle();
  return got.value_or(ktm::STATUS_PENDING);
}

ktm::NTSTATUS TxfTxrRig::Rollback(ktm::HANDLE tx) {
  std::optional<ktm::NTSTATUS> got;
  ktm::RollbackTransaction(*kernel_, tx, [&](ktm::NTSTATUS s) { got = s; });
  Settle();
  return got.value_or(ktm::STATUS_PENDING);
}

void TxfTxrRig::set_observer(ktm::RmObserver* observer) {
  observer_ = observer;
  for (ktm::RmBase* rm : {static_cast<ktm::RmBase*>(kv_.get()), static_cast<ktm::RmBase*>(txf_.get()),
                          static_cast<ktm::RmBase*>(txr_.get())}) {
    if (rm != nullptr) rm->set_observer(observer);
  }
}

void TxfTxrRig::DropSoftware() {
  txr_.reset();
  txf_.reset();
  kv_.reset();
  kernel_.reset();
}

void TxfTxrRig::StartKv() {
  if (!config_.kv) return StartTxf();
  ktm::kv::KvOptions o;
  o.name = "kv";
  o.rm_id = ktm::Guid{0x7F00u, 0x42};
  o.single_phase = config_.single_phase;
  o.observer = observer_;
  o.paged_flush_log_bytes = config_.paged_flush_log_bytes;
  kv_ = std::make_unique<ktm::kv::KvRm>(kernel_.get(), host_, host_->disk(kDiskKv), tm_, o);
  kv_->Start([this](ktm::NTSTATUS s) {
    if (s != ktm::STATUS_SUCCESS) return Fail("kv Start", s);
    StartTxf();
  });
}

void TxfTxrRig::StartTxf() {
  if (!config_.txf) return StartTxr();
  ktm::txf::TxfOptions o = config_.txf_options;
  o.rm = RmOptionsFor("txf", 1, config_.single_phase);
  o.rm.observer = observer_;
  o.rm.paged_flush_log_bytes = config_.paged_flush_log_bytes;
  txf_ = std::make_unique<ktm::txf::TxfRm>(kernel_.get(), host_, host_->disk(kDiskTxf), tm_, o);
  txf_->Start([this](ktm::NTSTATUS s) {
    txf_start_status_ = s;
    if (s != ktm::STATUS_SUCCESS && !config_.tolerate_txf_start_failure) return Fail("txf Start", s);
    StartTxr();
  });
}

void TxfTxrRig::StartTxr() {
  if (!config_.txr) return Online();
  ktm::txr::TxrOptions o = config_.txr_options;
  o.rm = RmOptionsFor("txr", 2, config_.single_phase);
  o.rm.observer = observer_;
  o.rm.paged_flush_log_bytes = config_.paged_flush_log_bytes;
  txr_ = std::make_unique<ktm::txr::TxrRm>(kernel_.get(), host_, host_->disk(kDiskTxr), tm_, o);
  txr_->Start([this](ktm::NTSTATUS s) {
    if (s != ktm::STATUS_SUCCESS) return Fail("txr Start", s);
    Online();
  });
}

void TxfTxrRig::Online() {
  ready_ = true;
  online_ns_ = world_.scheduler().Now();
}

}  // namespace harness
