// Determinism of a whole world: the same seed gives the same trace digest
// (1000 seeds of a small world with hosts, disks, network traffic and swarm
// faults), and different seeds give different digests.
#include <gtest/gtest.h>

#include <cstdint>
#include <set>

#include "sim/fault_plan.h"
#include "tests/sim_test_workload.h"

namespace sim {
namespace {

uint64_t RunSeed(uint64_t seed) {
  sim_test::WorkloadOptions options;
  options.seed = seed;
  options.run_ns = 30 * kMillisecond;
  options.faults_until_ns = 20 * kMillisecond;
  Rng rng = Rng::Derive(seed, "swarm");
  FaultProbabilities p = FaultProbabilities::Swarm(rng);
  p.crash_per_second *= 5;  // the run is short: make faults likely within it
  p.partition_per_second *= 5;
  p.latent_error_per_second *= 20;
  sim_test::Workload workload(options);
  return workload.Run(p);
}

TEST(World, SameSeedSameDigestDifferentSeedsDiffer) {
  std::set<uint64_t> digests;
  for (uint64_t seed = 1; seed <= 1000; ++seed) {
    const uint64_t digest = RunSeed(seed);
    ASSERT_EQ(RunSeed(seed), digest) << "seed " << seed << " is not deterministic";
    digests.insert(digest);
  }
  EXPECT_EQ(digests.size(), 1000u);
}

TEST(World, KeptEventsMatchTheDigestAndFaultsHappen) {
  sim_test::WorkloadOptions options;
  options.seed = 77;
  options.keep_trace_events = true;
  FaultProbabilities p;
  p.crash_per_second = 100;
  p.message_loss = 0.2;
  sim_test::Workload workload(options);
  const uint64_t digest = workload.Run(p);
  const Trace& trace = workload.world().trace();
  EXPECT_EQ(trace.events().size(), trace.count());
  uint64_t hash = Trace::kDigestStart;
  for (const TraceEvent& e : trace.events()) hash = Trace::DigestStep(hash, e);
  EXPECT_EQ(hash, digest);
  std::set<std::string> kinds;
  for (const TraceEvent& e : trace.events()) kinds.insert(e.kind);
  for (const char* kind :
       {"crash", "restart", "disk.write", "disk.read", "disk.flush", "disk.crash", "net.send",
        "net.deliver", "net.drop", "wl.read", "faults.stop"}) {
    EXPECT_TRUE(kinds.count(kind)) << kind;
  }
}

TEST(World, SeedAndDerivedStreams) {
  WorldOptions options;
  options.seed = 99;
  World a(options), b(options);
  EXPECT_EQ(a.seed(), 99u);
  EXPECT_EQ(a.DeriveRng("x").Next(), b.DeriveRng("x").Next());
  EXPECT_NE(a.DeriveRng("x").Next(), a.DeriveRng("y").Next());
}

}  // namespace
}  // namespace sim
