// Host: one simulated machine: an id (its network address), disks, timers
// and a network endpoint.
//
// Contract: Crash destroys every volatile thing of the host: timers set with
// After never fire, disk requests in flight never complete (and may tear),
// the network endpoint is detached, and on_crash runs so the owner destroys
// the engine object. Restart brings the host up with a new incarnation and
// runs on_restart so the owner builds a fresh engine that must recover from
// the disks alone. Disks persist across crashes (with Disk's fault model).
// Crash of a down host and Restart of an up host are no-ops returning false.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sim/disk.h"
#include "sim/network.h"
#include "sim/probes.h"
#include "sim/rng.h"
#include "sim/scheduler.h"
#include "sim/trace.h"

namespace sim {

class Host {
 public:
  Host(Scheduler* scheduler, Trace* trace, Network* network, uint32_t id, std::string name,
       uint64_t seed);
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  uint32_t id() const { return id_; }
  const std::string& name() const { return name_; }
  bool up() const { return up_; }
  // Bumped by every Crash and Restart; lets owners detect stale callbacks.
  uint64_t incarnation() const { return incarnation_; }

  Disk* AddDisk(const std::string& name, const DiskOptions& options);
  Disk* disk(size_t index) const { return disks_.at(index).get(); }
  size_t disk_count() const { return disks_.size(); }

  TimeNs Now() const { return scheduler_->Now(); }
  // A timer that is dropped if the host crashes before it fires (any
  // callable; captures up to Callback::inline_bytes cost no allocation).
  template <class F>
  EventId After(TimeNs delay, F&& fn) {
    return scheduler_->AtInChainGuarded(scheduler_->Now() + delay, scheduler_->current_chain(), &live_incarnation_,
                                        incarnation_, std::forward<F>(fn));
  }
  // After, in a chain of its own (Scheduler: chains matter to PCT only).
  template <class F>
  EventId AfterInChain(TimeNs delay, uint32_t chain, F&& fn) {
    return scheduler_->AtInChainGuarded(scheduler_->Now() + delay, chain, &live_incarnation_, incarnation_,
                                        std::forward<F>(fn));
  }
  // The chain id of "<host name>/<purpose>" ("node1/tm", "node1/rm/kv1").
  uint32_t Chain(const std::string& purpose) const { return scheduler_->Chain(name_ + "/" + purpose); }
  bool Cancel(EventId id) { return scheduler_->Cancel(id); }

  // Network endpoint of this host. Listen replaces any previous handler.
  // Send from a down host sends nothing, traces net.send_down and returns 0.
  void Listen(Network::Handler handler);
  uint64_t Send(uint32_t to, std::vector<uint8_t> payload);

  // A random stream private to this host and purpose: Derive(seed, name/purpose).
  Rng DeriveRng(const std::string& purpose) const;

  // Trace an event on this host at Now(). Inline (as Trace::Record): the
  // digest step is compiled into the caller, where a literal list's keys
  // and literal values are constants.
  [[gnu::always_inline]] void TraceEvent(TraceName kind, std::initializer_list<TraceField> fields = {}) {
    TraceEvent(kind, std::span<const TraceField>(fields.begin(), fields.size()));
  }
  [[gnu::always_inline]] void TraceEvent(TraceName kind, std::span<const TraceField> fields) {
    trace_->Record(scheduler_->Now(), id_, kind, fields);
  }
  Trace* trace() const { return trace_; }
  Scheduler* scheduler() const { return scheduler_; }
  // The world's code probes (nullptr for a host built outside a World).
  CodeProbes* probes() const { return probes_; }
  void set_probes(CodeProbes* probes) { probes_ = probes; }

  bool Crash(uint64_t crash_seed);
  bool Restart();
  void set_on_crash(std::function<void()> fn) { on_crash_ = std::move(fn); }
  void set_on_restart(std::function<void()> fn) { on_restart_ = std::move(fn); }

 private:
  Scheduler* scheduler_;
  Trace* trace_;
  Network* network_;
  uint32_t id_;
  std::string name_;
  uint64_t seed_;
  bool up_ = true;
  uint64_t incarnation_ = 1;
  // incarnation_ while up, 0 while down: a timer runs only if it equals the
  // incarnation the timer was set in (so never while down, nor after a restart).
  uint64_t live_incarnation_ = 1;
  std::vector<std::unique_ptr<Disk>> disks_;
  Network::Handler handler_;
  std::function<void()> on_crash_;
  std::function<void()> on_restart_;
  CodeProbes* probes_ = nullptr;
};

}  // namespace sim
