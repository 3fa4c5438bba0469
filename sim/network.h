// Network: datagrams between simulated hosts.
//
// Contract: Send never delivers inside the call; delivery is a scheduled
// event after a latency drawn from options.latency. A host with no attached
// endpoint (crashed) drops what arrives. Datagrams are opaque byte vectors.
//
// Fault model, decided per datagram from the network's own fault stream
// (or, in schedule mode, only by explicit per-message decisions):
// - loss: dropped (probability loss_probability);
// - duplication: delivered twice, each copy with its own latency;
// - reordering: an extra delay of up to reorder_delay_max_ns, so later
//   datagrams overtake it;
// - partitions: a set of groups; hosts in different groups cannot talk.
//   Checked at delivery time; Heal() removes all partitions.
// Every datagram has a world-unique sequence number (its send order) used by
// fault schedules ("drop the 17th datagram").
// Limit: inflight_max datagrams in flight at once; beyond that Send drops
// (counted as congestion loss, traced).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "sim/latency.h"
#include "sim/rng.h"
#include "sim/scheduler.h"
#include "sim/trace.h"

namespace sim {

struct NetworkOptions {
  Latency latency = Latency::Uniform(100 * kMicrosecond, 500 * kMicrosecond);
  double loss_probability = 0;
  double duplicate_probability = 0;
  double reorder_probability = 0;
  TimeNs reorder_delay_max_ns = 2 * kMillisecond;
  uint64_t inflight_max = 100000;
};

// What happens to one datagram; drawn per message or read from a schedule.
struct MessageFate {
  bool drop = false;
  bool duplicate = false;
  TimeNs extra_delay_ns = 0;
};

class Network {
 public:
  using Handler = std::function<void(uint32_t from, std::vector<uint8_t> payload)>;
  // Given a message sequence number, decides its fate instead of the
  // probabilities (schedule replay). Return nullopt-like default fate for none.
  using FateOverride = std::function<MessageFate(uint64_t message_seq)>;
  // Called for every injected fault (drop, duplicate, delay) so a run can
  // emit its faults as an explicit schedule.
  using FaultObserver = std::function<void(uint64_t message_seq, const MessageFate&)>;

  Network(Scheduler* scheduler, Trace* trace, uint64_t seed, NetworkOptions options);

  void Attach(uint32_t host, Handler handler);
  void Detach(uint32_t host);
  // Returns the datagram's sequence number.
  uint64_t Send(uint32_t from, uint32_t to, std::vector<uint8_t> payload);

  // groups: each set is one side; hosts not named form one more group.
  void Partition(const std::vector<std::set<uint32_t>>& groups);
  void Heal();
  bool CanReach(uint32_t from, uint32_t to) const;

  void set_options(const NetworkOptions& options) { options_ = options; }
  const NetworkOptions& options() const { return options_; }
  void set_fate_override(FateOverride fate) { fate_override_ = std::move(fate); }
  void set_fault_observer(FaultObserver observer) { fault_observer_ = std::move(observer); }

  struct Stats {
    uint64_t sent = 0, delivered = 0, dropped = 0, duplicated = 0, reordered = 0,
             partitioned = 0, to_down_host = 0;
  };
  const Stats& stats() const { return stats_; }

  // Added helpers: whether a partition is in force; datagrams now in flight.
  bool partitioned() const { return !group_of_.empty(); }
  uint64_t inflight() const { return inflight_; }
  // A 64-bit hash of what the network holds (harness/explore.h prunes on
  // it): the datagrams in flight as a multiset of (from, to, payload) —
  // not their sequence numbers or arrival times — and the partition.
  uint64_t Fingerprint() const;

 private:
  // Implementation detail: the implementer may change everything below.
  MessageFate DrawFate();
  void Drop(uint64_t seq, uint32_t from, uint32_t to, const char* reason);
  void Deliver(uint64_t seq, uint32_t slot, uint32_t from, uint32_t to);
  // Registers one copy in flight (it holds the payload until it arrives);
  // returns its slot.
  uint32_t AddInFlight(uint32_t from, uint32_t to, std::vector<uint8_t> payload);
  uint32_t GroupOf(uint32_t host) const;
  Scheduler* scheduler_;
  Trace* trace_;
  NetworkOptions options_;
  Rng latency_rng_;
  Rng fault_rng_;
  uint64_t duplicate_seed_;
  // By host id (null: detached). Handlers are shared so a handler that
  // detaches its own host (a crash inside a delivery) does not destroy
  // itself while running.
  std::vector<std::shared_ptr<const Handler>> endpoints_;
  std::map<uint32_t, uint32_t> group_of_;  // empty: no partition
  uint64_t next_seq_ = 1;
  uint64_t inflight_ = 0;
  // Every copy in flight: (from, to, payload) in a slot, reused once the
  // copy arrives (free_slots_), so a datagram allocates no node of its own;
  // the payload's hash is computed by the first Fingerprint that needs it
  // (most runs never ask, and hashing every datagram's bytes cost more than
  // sending it).
  struct InFlight {
    uint32_t from = 0;
    uint32_t to = 0;
    std::vector<uint8_t> payload;
    bool live = false;
    mutable bool hashed = false;
    mutable uint64_t payload_hash = 0;
  };
  std::vector<InFlight> in_flight_;
  std::vector<uint32_t> free_slots_;
  FateOverride fate_override_;
  FaultObserver fault_observer_;
  Stats stats_;
};

}  // namespace sim
