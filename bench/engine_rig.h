// The engine that bench/engine_bench.cc times and tests/ktm_allocations_test.cc
// counts allocations in: one host, a durable TM and `rms` example kv RMs, all
// on zero-latency disks, no trace events kept (the digest still runs). One
// Commit = create a transaction, write `key` = `value` at every RM, commit,
// run the world until idle, close the handle.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ktm/api.h"
#include "ktm/kernel.h"
#include "ktm/kv/kv_rm.h"
#include "sim/world.h"

namespace bench {

inline sim::DiskOptions ZeroLatencyDisk() {
  sim::DiskOptions d;
  d.sector_count = 8192;
  d.write_latency = sim::Latency::Fixed(0);
  d.read_latency = sim::Latency::Fixed(0);
  d.flush_latency = sim::Latency::Fixed(0);
  d.fua_extra_latency = sim::Latency::Fixed(0);
  return d;
}

struct EngineRig {
  // keep_trace_events: keep every trace event (tests recompute the digest
  // from them); the benchmark keeps none.
  explicit EngineRig(int rms, bool keep_trace_events = false) : world(Options(keep_trace_events)) {
    host = world.AddHost("h0");
    host->AddDisk("tmlog", ZeroLatencyDisk());
    for (int i = 0; i < rms; ++i) host->AddDisk(absl::StrCat("rm", i), ZeroLatencyDisk());
    kernel = std::make_unique<ktm::Kernel>(host);
    ktm::CreateTransactionManager(*kernel, "tmlog", 0, [this](ktm::NTSTATUS, ktm::HANDLE h) {
      tm = h;
      ktm::RecoverTransactionManager(*kernel, h, [](ktm::NTSTATUS) {});
    });
    world.scheduler().RunUntilIdle();
    for (int i = 0; i < rms; ++i) {
      ktm::kv::KvOptions o;
      o.name = absl::StrCat("rm", i);
      o.rm_id = ktm::Guid{0x100u + static_cast<uint64_t>(i), 1};
      kv.push_back(std::make_unique<ktm::kv::KvRm>(kernel.get(), host, host->disk(1 + i), tm, o));
      kv.back()->Start([](ktm::NTSTATUS) {});
      world.scheduler().RunUntilIdle();
    }
  }
  ~EngineRig() {
    kv.clear();
    kernel.reset();
  }
  EngineRig(const EngineRig&) = delete;
  EngineRig& operator=(const EngineRig&) = delete;

  static sim::WorldOptions Options(bool keep_trace_events = false) {
    sim::WorldOptions o;
    o.seed = 1;
    o.keep_trace_events = keep_trace_events;
    o.events_max = UINT64_MAX;
    return o;
  }
  // True when the commit succeeded.
  bool Commit(const std::string& key, const std::string& value) {
    ktm::HANDLE tx;
    ktm::CreateTransaction(*kernel, 0, 0, "", &tx);
    for (auto& rm : kv) rm->Write(tx, key, value);
    bool ok = false;
    ktm::CommitTransaction(*kernel, tx, [&ok](ktm::NTSTATUS s) { ok = s == ktm::STATUS_SUCCESS; });
    world.scheduler().RunUntilIdle();
    ktm::CloseHandle(*kernel, tx);
    return ok;
  }

  sim::World world;
  sim::Host* host = nullptr;
  std::unique_ptr<ktm::Kernel> kernel;
  ktm::HANDLE tm = ktm::INVALID_HANDLE_VALUE;
  std::vector<std::unique_ptr<ktm::kv::KvRm>> kv;
};

}  // namespace bench
