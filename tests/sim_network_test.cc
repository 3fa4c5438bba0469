// Tests of sim::Network: exactly-once delivery within latency bounds without
// faults; loss, duplication and reordering at their configured rates (fixed
// seed, loose bounds); partitions checked at delivery and healed; drops to a
// detached host; the congestion limit; the fate override and the fault
// observer; latency draws independent of fault settings.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <vector>

#include "sim/network.h"

namespace sim {
namespace {

std::vector<uint8_t> Id(uint32_t id) {
  return {static_cast<uint8_t>(id), static_cast<uint8_t>(id >> 8), static_cast<uint8_t>(id >> 16),
          static_cast<uint8_t>(id >> 24)};
}
uint32_t IdOf(const std::vector<uint8_t>& p) {
  return p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

struct Arrival {
  uint32_t id;
  uint32_t from;
  uint32_t to;
  TimeNs time;
};

struct Rig {
  explicit Rig(NetworkOptions options, uint64_t seed = 1, uint32_t hosts = 3)
      : trace(false), network(&scheduler, &trace, seed, options) {
    for (uint32_t h = 0; h < hosts; ++h) Listen(h);
  }
  void Listen(uint32_t h) {
    network.Attach(h, [this, h](uint32_t from, std::vector<uint8_t> payload) {
      arrivals.push_back({IdOf(payload), from, h, scheduler.Now()});
    });
  }
  // Sends n datagrams round-robin between hosts, one every `gap`; returns send times.
  std::vector<TimeNs> SendMany(uint32_t n, TimeNs gap, uint32_t hosts = 3) {
    std::vector<TimeNs> sent;
    for (uint32_t i = 0; i < n; ++i) {
      sent.push_back(scheduler.Now());
      network.Send(i % hosts, (i + 1) % hosts, Id(i));
      scheduler.RunFor(gap);
    }
    scheduler.RunUntilIdle();
    return sent;
  }
  Scheduler scheduler;
  Trace trace;
  Network network;
  std::vector<Arrival> arrivals;
};

TEST(Network, WithoutFaultsEveryDatagramArrivesOnceWithinLatencyBounds) {
  NetworkOptions options;
  options.latency = Latency::Uniform(100 * kMicrosecond, 500 * kMicrosecond);
  Rig rig(options);
  const std::vector<TimeNs> sent = rig.SendMany(2000, 10 * kMicrosecond);
  ASSERT_EQ(rig.arrivals.size(), 2000u);
  std::vector<int> seen(2000);
  for (const Arrival& a : rig.arrivals) {
    ++seen[a.id];
    EXPECT_EQ(a.from, a.id % 3);
    EXPECT_EQ(a.to, (a.id + 1) % 3);
    const TimeNs latency = a.time - sent[a.id];
    EXPECT_GE(latency, 100 * kMicrosecond);
    EXPECT_LE(latency, 500 * kMicrosecond);
  }
  for (int count : seen) EXPECT_EQ(count, 1);
  EXPECT_EQ(rig.network.stats().sent, 2000u);
  EXPECT_EQ(rig.network.stats().delivered, 2000u);
  EXPECT_EQ(rig.network.inflight(), 0u);
}

TEST(Network, SendNeverDeliversInsideTheCall) {
  Rig rig(NetworkOptions{});
  const uint64_t seq = rig.network.Send(0, 0, Id(1));
  EXPECT_EQ(seq, 1u);
  EXPECT_TRUE(rig.arrivals.empty());
  EXPECT_EQ(rig.network.Send(0, 1, Id(2)), 2u);
  rig.scheduler.RunUntilIdle();
  EXPECT_EQ(rig.arrivals.size(), 2u);
}

TEST(Network, LossDuplicationAndReorderingHappenAtConfiguredRates) {
  NetworkOptions options;
  options.latency = Latency::Fixed(100 * kMicrosecond);  // only reordering reorders
  options.loss_probability = 0.1;
  options.duplicate_probability = 0.2;
  options.reorder_probability = 0.3;
  options.reorder_delay_max_ns = 1 * kMillisecond;
  Rig rig(options, 42);
  const uint32_t n = 20000;
  rig.SendMany(n, 20 * kMicrosecond);
  const Network::Stats& stats = rig.network.stats();
  EXPECT_NEAR(static_cast<double>(stats.dropped) / n, 0.1, 0.02);
  EXPECT_NEAR(static_cast<double>(stats.duplicated) / (n - stats.dropped), 0.2, 0.03);
  EXPECT_NEAR(static_cast<double>(stats.reordered) / (n - stats.dropped), 0.3, 0.03);
  EXPECT_EQ(stats.delivered, n - stats.dropped + stats.duplicated);
  std::map<uint32_t, int> copies;
  uint64_t overtaken = 0;
  uint32_t highest = 0;
  for (const Arrival& a : rig.arrivals) {
    ++copies[a.id];
    if (a.id < highest) ++overtaken;
    highest = std::max(highest, a.id);
  }
  uint64_t twice = 0;
  for (const auto& [id, count] : copies) {
    EXPECT_LE(count, 2);
    twice += count == 2 ? 1 : 0;
  }
  EXPECT_EQ(twice, stats.duplicated);
  EXPECT_EQ(copies.size(), n - stats.dropped);
  EXPECT_GT(overtaken, n / 10);  // a delayed datagram is overtaken by later ones
}

TEST(Network, PartitionIsCheckedAtDeliveryAndHealRestoresIt) {
  Rig rig(NetworkOptions{});
  rig.network.Send(0, 1, Id(1));  // in flight when the partition starts
  rig.network.Partition({{0}, {1}});
  EXPECT_TRUE(rig.network.partitioned());
  EXPECT_FALSE(rig.network.CanReach(0, 1));
  EXPECT_FALSE(rig.network.CanReach(0, 2));  // 2 is in the group of the unnamed
  EXPECT_FALSE(rig.network.CanReach(2, 1));
  EXPECT_TRUE(rig.network.CanReach(0, 0));
  rig.network.Send(0, 1, Id(2));
  rig.network.Send(1, 1, Id(3));
  rig.scheduler.RunUntilIdle();
  ASSERT_EQ(rig.arrivals.size(), 1u);
  EXPECT_EQ(rig.arrivals[0].id, 3u);
  EXPECT_EQ(rig.network.stats().partitioned, 2u);
  rig.network.Send(0, 1, Id(4));
  rig.network.Heal();  // healed before it arrives
  EXPECT_TRUE(rig.network.CanReach(0, 1));
  rig.scheduler.RunUntilIdle();
  ASSERT_EQ(rig.arrivals.size(), 2u);
  EXPECT_EQ(rig.arrivals[1].id, 4u);
  rig.network.Partition({{0, 2}, {1}});
  EXPECT_TRUE(rig.network.CanReach(0, 2));
  EXPECT_FALSE(rig.network.CanReach(2, 1));
}

TEST(Network, DetachedHostDropsWhatArrives) {
  Rig rig(NetworkOptions{});
  rig.network.Send(0, 1, Id(1));
  rig.network.Detach(1);
  rig.scheduler.RunUntilIdle();
  EXPECT_TRUE(rig.arrivals.empty());
  EXPECT_EQ(rig.network.stats().to_down_host, 1u);
  rig.Listen(1);
  rig.network.Send(0, 1, Id(2));
  rig.scheduler.RunUntilIdle();
  ASSERT_EQ(rig.arrivals.size(), 1u);
}

TEST(Network, HandlerMayDetachItsOwnHost) {
  Rig rig(NetworkOptions{});
  int calls = 0;
  rig.network.Attach(1, [&](uint32_t, std::vector<uint8_t>) {
    ++calls;
    rig.network.Detach(1);  // a crash inside a delivery
  });
  rig.network.Send(0, 1, Id(1));
  rig.network.Send(0, 1, Id(2));
  rig.scheduler.RunUntilIdle();
  EXPECT_EQ(calls, 1);
}

TEST(Network, CongestionLimitDrops) {
  NetworkOptions options;
  options.inflight_max = 5;
  Rig rig(options);
  for (uint32_t i = 0; i < 8; ++i) rig.network.Send(0, 1, Id(i));
  rig.scheduler.RunUntilIdle();
  EXPECT_EQ(rig.arrivals.size(), 5u);
  EXPECT_EQ(rig.network.stats().dropped, 3u);
}

TEST(Network, FateOverrideAloneDecidesAndObserverSeesEveryFault) {
  NetworkOptions options;
  options.latency = Latency::Fixed(100);
  options.loss_probability = 1;  // ignored while an override is set
  Rig rig(options);
  std::map<uint64_t, MessageFate> observed;
  rig.network.set_fault_observer([&](uint64_t seq, const MessageFate& f) { observed[seq] = f; });
  rig.network.set_fate_override([](uint64_t seq) {
    MessageFate fate;
    if (seq == 2) fate.drop = true;
    if (seq == 3) fate.duplicate = true;
    if (seq == 4) fate.extra_delay_ns = 1000;
    return fate;
  });
  for (uint32_t i = 1; i <= 5; ++i) rig.network.Send(0, 1, Id(i));
  rig.scheduler.RunUntilIdle();
  std::vector<uint32_t> order;
  for (const Arrival& a : rig.arrivals) order.push_back(a.id);
  EXPECT_EQ(order, (std::vector<uint32_t>{1, 3, 3, 5, 4}));
  ASSERT_EQ(observed.size(), 3u);
  EXPECT_TRUE(observed[2].drop);
  EXPECT_TRUE(observed[3].duplicate);
  EXPECT_EQ(observed[4].extra_delay_ns, 1000);
}

TEST(Network, FaultSettingsDoNotShiftLatencyDraws) {
  auto run = [](double loss, double duplicate) {
    NetworkOptions options;
    options.loss_probability = loss;
    options.duplicate_probability = duplicate;
    Rig rig(options, 7);
    rig.SendMany(500, 0);
    std::map<uint32_t, std::vector<TimeNs>> arrivals;  // id -> arrival times of its copies
    for (const Arrival& a : rig.arrivals) arrivals[a.id].push_back(a.time);
    return arrivals;
  };
  const auto clean = run(0, 0);
  const auto faulty = run(0.3, 0.3);
  ASSERT_EQ(clean.size(), 500u);
  ASSERT_LT(faulty.size(), 450u);
  size_t duplicated = 0;
  for (const auto& [id, times] : faulty) {
    // The original copy arrives exactly when it does without faults.
    const TimeNs expected = clean.at(id).at(0);
    EXPECT_NE(std::find(times.begin(), times.end(), expected), times.end()) << id;
    duplicated += times.size() == 2 ? 1 : 0;
  }
  EXPECT_GT(duplicated, 50u);
}

TEST(Network, SameSeedSameTrace) {
  auto digest = [](uint64_t seed) {
    NetworkOptions options;
    options.loss_probability = 0.1;
    options.duplicate_probability = 0.1;
    options.reorder_probability = 0.1;
    Rig rig(options, seed);
    rig.SendMany(300, 5 * kMicrosecond);
    return rig.trace.digest();
  };
  EXPECT_EQ(digest(3), digest(3));
  EXPECT_NE(digest(3), digest(4));
}

}  // namespace
}  // namespace sim
