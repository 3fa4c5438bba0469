// Network: datagram delivery with latency, loss, duplication, reordering and
// partitions.
//
// Per datagram, in this order: a sequence number; the congestion limit
// (inflight_max); one latency draw from the latency stream (always, dropped
// or not); the fate: the override alone if one is set, else three Bernoulli
// draws from the fault stream (loss, duplicate, reorder) plus the reorder
// delay when reordering. Every non-default fate goes to the fault observer.
// A duplicate's latency comes from a stream derived from its sequence
// number, so fault settings never shift the latency draws of other
// datagrams. Partitions and the receiver's endpoint are checked when a copy
// arrives.
#include "sim/network.h"

#include <algorithm>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace sim {
namespace {

bool IsDefault(const MessageFate& fate) {
  return !fate.drop && !fate.duplicate && fate.extra_delay_ns == 0;
}

// FNV-1a, chained through `hash`.
uint64_t HashBytes(uint64_t hash, const uint8_t* bytes, size_t length) {
  for (size_t i = 0; i < length; ++i) hash = (hash ^ bytes[i]) * 1099511628211ull;
  return hash;
}

uint64_t HashWord(uint64_t hash, uint64_t word) {
  uint8_t bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<uint8_t>(word >> (8 * i));
  return HashBytes(hash, bytes, sizeof bytes);
}

}  // namespace

Network::Network(Scheduler* scheduler, Trace* trace, uint64_t seed, NetworkOptions options)
    : scheduler_(scheduler),
      trace_(trace),
      options_(options),
      latency_rng_(Rng::Derive(seed, "net.latency")),
      fault_rng_(Rng::Derive(seed, "net.faults")),
      duplicate_seed_(Rng::Derive(seed, "net.duplicate").Next()) {}

void Network::Attach(uint32_t host, Handler handler) {
  if (host >= endpoints_.size()) endpoints_.resize(host + 1);
  endpoints_[host] = std::make_shared<const Handler>(std::move(handler));
}

void Network::Detach(uint32_t host) {
  if (host < endpoints_.size()) endpoints_[host] = nullptr;
}

MessageFate Network::DrawFate() {
  MessageFate fate;
  fate.drop = fault_rng_.Bernoulli(options_.loss_probability);
  fate.duplicate = fault_rng_.Bernoulli(options_.duplicate_probability);
  if (fault_rng_.Bernoulli(options_.reorder_probability) && options_.reorder_delay_max_ns > 0) {
    fate.extra_delay_ns = fault_rng_.Range(1, options_.reorder_delay_max_ns);
  }
  return fate;
}

void Network::Drop(uint64_t seq, uint32_t from, uint32_t to, const char* reason) {
  trace_->Record(
      scheduler_->Now(), to, "net.drop",
      {{"seq", seq}, {"from", from}, {"reason", reason}});
}

uint64_t Network::Send(uint32_t from, uint32_t to, std::vector<uint8_t> payload) {
  const uint64_t seq = next_seq_++;
  ++stats_.sent;
  trace_->Record(scheduler_->Now(), from, "net.send",
                 {{"seq", seq},
                  {"to", to},
                  {"len", payload.size()}});
  if (inflight_ >= options_.inflight_max) {
    ++stats_.dropped;
    Drop(seq, from, to, "congestion");
    return seq;
  }
  // Drawn first and always, so faults never shift the latency stream.
  const TimeNs latency = options_.latency.Sample(latency_rng_);
  const MessageFate fate = fate_override_ ? fate_override_(seq) : DrawFate();
  if (!IsDefault(fate) && fault_observer_) fault_observer_(seq, fate);
  if (fate.drop) {
    ++stats_.dropped;
    Drop(seq, from, to, "loss");
    return seq;
  }
  if (fate.extra_delay_ns > 0) ++stats_.reordered;
  const TimeNs delay = latency + fate.extra_delay_ns;
  if (fate.duplicate) {
    ++stats_.duplicated;
    // The copy's latency comes from a stream of its own per datagram, so it
    // shifts nothing else either.
    Rng copy_rng(duplicate_seed_ ^ (seq * 0x9e3779b97f4a7c15ull));
    const TimeNs copy_delay = options_.latency.Sample(copy_rng) + fate.extra_delay_ns;
    ++inflight_;
    const uint32_t slot = AddInFlight(from, to, payload);
    scheduler_->After(copy_delay, [this, seq, slot, from, to] { Deliver(seq, slot, from, to); });
  }
  ++inflight_;
  const uint32_t slot = AddInFlight(from, to, std::move(payload));
  scheduler_->After(delay, [this, seq, slot, from, to] { Deliver(seq, slot, from, to); });
  return seq;
}

uint32_t Network::AddInFlight(uint32_t from, uint32_t to, std::vector<uint8_t> payload) {
  uint32_t slot;
  if (free_slots_.empty()) {
    slot = static_cast<uint32_t>(in_flight_.size());
    in_flight_.emplace_back();
  } else {
    slot = free_slots_.back();
    free_slots_.pop_back();
  }
  InFlight& copy = in_flight_[slot];
  copy.from = from;
  copy.to = to;
  copy.payload = std::move(payload);
  copy.live = true;
  copy.hashed = false;
  return slot;
}

uint64_t Network::Fingerprint() const {
  // A multiset: sorted, so send order and sequence numbers do not matter.
  std::vector<std::tuple<uint32_t, uint32_t, uint64_t>> copies;
  copies.reserve(inflight_);
  for (const InFlight& datagram : in_flight_) {
    if (!datagram.live) continue;
    if (!datagram.hashed) {
      datagram.payload_hash = HashBytes(14695981039346656037ull, datagram.payload.data(), datagram.payload.size());
      datagram.hashed = true;
    }
    copies.emplace_back(datagram.from, datagram.to, datagram.payload_hash);
  }
  std::sort(copies.begin(), copies.end());
  uint64_t hash = HashWord(14695981039346656037ull, copies.size());
  for (const auto& [from, to, payload_hash] : copies) {
    hash = HashWord(hash, (uint64_t{from} << 32) | to);
    hash = HashWord(hash, payload_hash);
  }
  for (const auto& [host, group] : group_of_) hash = HashWord(hash, (uint64_t{host} << 32) | group);
  return hash;
}

void Network::Deliver(uint64_t seq, uint32_t slot, uint32_t from, uint32_t to) {
  --inflight_;
  InFlight& copy = in_flight_[slot];
  std::vector<uint8_t> payload = std::move(copy.payload);
  copy.live = false;
  free_slots_.push_back(slot);
  if (!CanReach(from, to)) {
    ++stats_.partitioned;
    Drop(seq, from, to, "partition");
    return;
  }
  if (to >= endpoints_.size() || endpoints_[to] == nullptr) {
    ++stats_.to_down_host;
    Drop(seq, from, to, "down");
    return;
  }
  ++stats_.delivered;
  trace_->Record(scheduler_->Now(), to, "net.deliver",
                 {{"seq", seq}, {"from", from}});
  const std::shared_ptr<const Handler> handler = endpoints_[to];
  (*handler)(from, std::move(payload));
}

void Network::Partition(const std::vector<std::set<uint32_t>>& groups) {
  group_of_.clear();
  std::string text;
  for (size_t i = 0; i < groups.size(); ++i) {
    if (i > 0) text += '|';
    bool first = true;
    for (const uint32_t host : groups[i]) {
      group_of_[host] = static_cast<uint32_t>(i + 1);  // 0: the hosts not named
      if (!first) text += ',';
      text += std::to_string(host);
      first = false;
    }
  }
  trace_->Record(scheduler_->Now(), kNoHost, "net.partition", {{"groups", std::move(text)}});
}

void Network::Heal() {
  group_of_.clear();
  trace_->Record(scheduler_->Now(), kNoHost, "net.heal");
}

uint32_t Network::GroupOf(uint32_t host) const {
  auto it = group_of_.find(host);
  return it == group_of_.end() ? 0 : it->second;
}

bool Network::CanReach(uint32_t from, uint32_t to) const {
  if (group_of_.empty()) return true;
  return GroupOf(from) == GroupOf(to);
}

}  // namespace sim
