// Host: one simulated machine (id, disks, timers, network endpoint).
//
// Crash: up=false, ++incarnation, every disk crashes with a seed derived from
// (crash_seed, disk index), the endpoint is detached, "crash" is traced and
// on_crash runs. Restart: up=true, ++incarnation, the last Listen handler is
// re-attached, "restart" is traced and on_restart runs (the new engine
// normally calls Listen again, replacing the handler). Timers from After run
// only if the host is up and in the incarnation that set them.
#include "sim/host.h"

#include <cstdio>
#include <cstdlib>
#include <utility>

namespace sim {

Host::Host(Scheduler* scheduler, Trace* trace, Network* network, uint32_t id, std::string name,
           uint64_t seed)
    : scheduler_(scheduler),
      trace_(trace),
      network_(network),
      id_(id),
      name_(std::move(name)),
      seed_(seed) {}

Disk* Host::AddDisk(const std::string& name, const DiskOptions& options) {
  for (const auto& disk : disks_) {
    if (disk->name() == name) {
      std::fprintf(stderr, "sim::Host %s: duplicate disk name '%s'\n", name_.c_str(), name.c_str());
      std::abort();
    }
  }
  const uint64_t disk_seed = Rng::Derive(seed_, name_ + "/disk/" + name).Next();
  disks_.push_back(std::make_unique<Disk>(scheduler_, trace_, id_, name, disk_seed, options));
  return disks_.back().get();
}

void Host::Listen(Network::Handler handler) {
  handler_ = std::move(handler);
  if (up_) network_->Attach(id_, handler_);
}

uint64_t Host::Send(uint32_t to, std::vector<uint8_t> payload) {
  if (!up_) {
    // A down host has no engine; a send from it is a stale caller. Nothing leaves.
    trace_->Record(scheduler_->Now(), id_, "net.send_down", {{"to", to}});
    return 0;
  }
  return network_->Send(id_, to, std::move(payload));
}

Rng Host::DeriveRng(const std::string& purpose) const {
  return Rng::Derive(seed_, name_ + "/" + purpose);
}

bool Host::Crash(uint64_t crash_seed) {
  if (!up_) return false;
  up_ = false;
  ++incarnation_;
  live_incarnation_ = 0;
  for (size_t i = 0; i < disks_.size(); ++i) {
    disks_[i]->Crash(Rng::Derive(crash_seed, "disk/" + std::to_string(i)).Next());
  }
  network_->Detach(id_);
  trace_->Record(
      scheduler_->Now(), id_, "crash",
      {{"seed", crash_seed}, {"incarnation", incarnation_}});
  if (on_crash_) on_crash_();
  return true;
}

bool Host::Restart() {
  if (up_) return false;
  up_ = true;
  ++incarnation_;
  live_incarnation_ = incarnation_;
  if (handler_) network_->Attach(id_, handler_);
  trace_->Record(scheduler_->Now(), id_, "restart",
                 {{"incarnation", incarnation_}});
  if (on_restart_) on_restart_();
  return true;
}

}  // namespace sim
