// Tests of sim::Host and sim::World: timers die with the incarnation that set
// them, Crash and Restart (disks crash, endpoint detached and re-attached,
// callbacks, no-op on the wrong state), per-host random streams, and Send
// from a down host.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "sim/world.h"

namespace sim {
namespace {

struct Rig {
  Rig() : world(WorldOptions{}) {
    a = world.AddHost("a");
    b = world.AddHost("b");
  }
  World world;
  Host* a;
  Host* b;
};

TEST(Host, IdsAreIndicesAndNamesKeyStreams) {
  Rig rig;
  EXPECT_EQ(rig.a->id(), 0u);
  EXPECT_EQ(rig.b->id(), 1u);
  EXPECT_EQ(rig.world.host(1), rig.b);
  EXPECT_EQ(rig.world.host_count(), 2u);
  EXPECT_EQ(rig.a->DeriveRng("x").Next(), rig.a->DeriveRng("x").Next());
  EXPECT_NE(rig.a->DeriveRng("x").Next(), rig.a->DeriveRng("y").Next());
  EXPECT_NE(rig.a->DeriveRng("x").Next(), rig.b->DeriveRng("x").Next());
  Rig other;
  EXPECT_EQ(rig.a->DeriveRng("x").Next(), other.a->DeriveRng("x").Next());
}

TEST(Host, TimersOfAnEarlierIncarnationNeverFire) {
  Rig rig;
  std::vector<std::string> fired;
  rig.a->After(10, [&] { fired.push_back("before-crash"); });
  rig.a->After(30, [&] { fired.push_back("cancelled"); });
  const EventId cancelled = rig.a->After(30, [&] { fired.push_back("cancelled"); });
  EXPECT_TRUE(rig.a->Cancel(cancelled));
  rig.world.scheduler().RunUntil(15);
  EXPECT_EQ(rig.a->incarnation(), 1u);
  EXPECT_TRUE(rig.a->Crash(1));
  EXPECT_EQ(rig.a->incarnation(), 2u);
  rig.a->After(5, [&] { fired.push_back("while-down"); });
  EXPECT_TRUE(rig.a->Restart());
  EXPECT_EQ(rig.a->incarnation(), 3u);
  rig.a->After(5, [&] { fired.push_back("after-restart"); });
  rig.world.scheduler().RunUntilIdle();
  EXPECT_EQ(fired, (std::vector<std::string>{"before-crash", "after-restart"}));
}

TEST(Host, CrashAndRestartAreNoOpsInTheWrongState) {
  Rig rig;
  int crashes = 0, restarts = 0;
  rig.a->set_on_crash([&] { ++crashes; });
  rig.a->set_on_restart([&] { ++restarts; });
  EXPECT_FALSE(rig.a->Restart());
  EXPECT_TRUE(rig.a->Crash(3));
  EXPECT_FALSE(rig.a->up());
  EXPECT_FALSE(rig.a->Crash(3));
  EXPECT_TRUE(rig.a->Restart());
  EXPECT_TRUE(rig.a->up());
  EXPECT_EQ(crashes, 1);
  EXPECT_EQ(restarts, 1);
  EXPECT_EQ(rig.a->incarnation(), 3u);
  const std::vector<TraceEvent>& events = rig.world.trace().events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].ToText(), "0 h0 crash seed=3 incarnation=2");
  EXPECT_EQ(events[1].ToText(), "0 h0 restart incarnation=3");
}

TEST(Host, CrashCrashesEveryDiskAndDropsTheirCallbacks) {
  Rig rig;
  DiskOptions options;
  options.unflushed_survive_probability = 0;
  Disk* d0 = rig.a->AddDisk("d0", options);
  Disk* d1 = rig.a->AddDisk("d1", options);
  EXPECT_EQ(rig.a->disk_count(), 2u);
  EXPECT_EQ(rig.a->disk(1), d1);
  const std::vector<uint8_t> old0 = d0->MediaSector(0);
  const std::vector<uint8_t> data(512, 1);
  int callbacks = 0;
  d0->Write(0, data, false, [&](IoStatus) { ++callbacks; });
  rig.world.scheduler().RunUntilIdle();
  d1->Write(0, data, true, [&](IoStatus) { ++callbacks; });  // in flight at the crash
  rig.a->Crash(5);
  rig.world.scheduler().RunUntilIdle();
  EXPECT_EQ(callbacks, 1);
  EXPECT_EQ(d0->VisibleSector(0), old0);
  EXPECT_NE(d1->VisibleSector(0), data);
  EXPECT_EQ(rig.world.trace().events().back().kind, "crash");
}

TEST(Host, DisksCrashWithDifferentSeeds) {
  // Two identical disks on one host must not lose the same sectors.
  Rig rig;
  DiskOptions options;
  options.sector_count = 64;
  Disk* d0 = rig.a->AddDisk("d0", options);
  Disk* d1 = rig.a->AddDisk("d1", options);
  const std::vector<uint8_t> data(512 * 64, 1);
  d0->Write(0, data, false, [](IoStatus) {});
  d1->Write(0, data, false, [](IoStatus) {});
  rig.world.scheduler().RunUntilIdle();
  rig.a->Crash(5);
  int differ = 0;
  for (uint64_t s = 0; s < 64; ++s) {
    differ += (d0->MediaSector(s)[0] == 1) != (d1->MediaSector(s)[0] == 1) ? 1 : 0;
  }
  EXPECT_GT(differ, 0);
}

TEST(Host, RestartReattachesTheEndpoint) {
  Rig rig;
  std::vector<uint8_t> got;
  rig.b->Listen([&](uint32_t from, std::vector<uint8_t> payload) {
    EXPECT_EQ(from, 0u);
    got.push_back(payload[0]);
  });
  rig.a->Send(1, {1});
  rig.world.scheduler().RunUntilIdle();
  rig.a->Send(1, {2});
  rig.b->Crash(1);
  rig.world.scheduler().RunUntilIdle();  // arrives while b is down
  rig.b->Restart();
  rig.a->Send(1, {3});
  rig.world.scheduler().RunUntilIdle();
  EXPECT_EQ(got, (std::vector<uint8_t>{1, 3}));
  EXPECT_EQ(rig.world.network().stats().to_down_host, 1u);
}

TEST(Host, SendFromADownHostSendsNothing) {
  Rig rig;
  int received = 0;
  rig.b->Listen([&](uint32_t, std::vector<uint8_t>) { ++received; });
  rig.a->Crash(1);
  EXPECT_EQ(rig.a->Send(1, {1}), 0u);
  rig.world.scheduler().RunUntilIdle();
  EXPECT_EQ(received, 0);
  EXPECT_EQ(rig.world.network().stats().sent, 0u);
  EXPECT_EQ(rig.world.trace().events().back().kind, "net.send_down");
}

TEST(Host, TraceEventUsesHostAndNow) {
  Rig rig;
  rig.world.scheduler().RunUntil(77);
  rig.b->TraceEvent("tm.state", {{"tx", "1"}});
  EXPECT_EQ(rig.world.trace().events().back().ToText(), "77 h1 tm.state tx=1");
}

}  // namespace
}  // namespace sim
