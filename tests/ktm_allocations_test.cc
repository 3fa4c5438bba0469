// Heap allocations per commit in steady state (issue 19): once an engine is
// warm, a commit through the kernel, two (or one, or four) example RMs, their
// logs and the scheduler allocates only its transaction and enlistment
// objects, not a map node, a callback or a buffer per step. Counted with a
// replaced global operator new (this test binary only), as a count per
// commit over many commits, never a timing: speed is measured in bench/.
// Also: sim::RecyclingMap allocates nothing once warm while std::map does
// (which shows the counter counts).
// The replacement operator delete frees with std::free what the replacement
// operator new took with std::malloc; GCC cannot see that they pair.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "bench/engine_rig.h"
#include "ktm/api.h"
#include "ktm/kernel.h"
#include "ktm/kv/kv_rm.h"
#include "sim/recycling_map.h"
#include "sim/world.h"

namespace {
std::atomic<uint64_t> allocations{0};
}  // namespace

void* operator new(std::size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace {

// bench/engine_rig.h's engine. Keys and values are short enough for
// std::string's inline buffer: the strings themselves never allocate, so
// what is counted is the engine's.
struct Engine {
  explicit Engine(int rms) : rig(rms) {}
  bool CommitOne(uint64_t n) { return rig.Commit(keys[n % 16], values[n % 16]); }
  static std::vector<std::string> MakeTexts(const char* prefix) {
    std::vector<std::string> texts;
    for (int i = 0; i < 16; ++i) texts.push_back(absl::StrCat(prefix, i));
    return texts;
  }
  bench::EngineRig rig;
  std::vector<std::string> keys = MakeTexts("k");
  std::vector<std::string> values = MakeTexts("v");
};

// Allocations per commit over `measured` commits after `warm` commits.
double AllocationsPerCommit(int rms, uint64_t warm, uint64_t measured) {
  Engine engine(rms);
  uint64_t n = 0, failed = 0;
  for (; n < warm; ++n) failed += engine.CommitOne(n) ? 0 : 1;
  const uint64_t before = allocations.load();
  for (; n < warm + measured; ++n) failed += engine.CommitOne(n) ? 0 : 1;
  const uint64_t after = allocations.load();
  EXPECT_EQ(failed, 0u);
  return static_cast<double>(after - before) / static_cast<double>(measured);
}

// What a commit may allocate: its Tx and one En per RM (objects the API
// hands out by handle), plus the log's block and media bookkeeping, which
// comes to under half an allocation per RM log per commit (measured: 0.15
// for 1 RM, 0.88 for 2, 1.49 for 4). One more allocation per commit fails
// the 1- and 2-RM bounds, one more per RM the 4-RM bound. Before issue 19's
// allocation work a 2-RM commit took about 28 (map nodes of the handle and
// transaction tables, the RMs' contexts, locks and write sets, buffers).
double BoundPerCommit(int rms) { return 1 + rms + 0.5 * rms + 0.5; }

TEST(KtmAllocations, SteadyTwoPhaseCommitAllocatesOnlyItsTransactionAndEnlistments) {
  for (int rms : {2, 4}) {
    const double per_commit = AllocationsPerCommit(rms, /*warm=*/300, /*measured=*/1000);
    EXPECT_LE(per_commit, BoundPerCommit(rms)) << rms << " RMs: allocations per 2PC commit";
  }
}

TEST(KtmAllocations, SteadySinglePhaseCommitAllocatesOnlyItsTransactionAndEnlistment) {
  const double per_commit = AllocationsPerCommit(1, /*warm=*/300, /*measured=*/1000);
  EXPECT_LE(per_commit, BoundPerCommit(1)) << "allocations per single-phase commit";
}

TEST(RecyclingMap, EntriesThatComeAndGoReuseTheirNodes) {
  sim::RecyclingMap<uint64_t, std::shared_ptr<int>> recycling;
  std::map<uint64_t, std::shared_ptr<int>> plain;
  auto value = std::make_shared<int>(7);
  auto churn = [&](auto& map) {
    const uint64_t before = allocations.load();
    for (uint64_t i = 0; i < 100; ++i) {
      map[i] = value;
      map[i + 1000] = value;
      map.erase(i);
      map.erase(i + 1000);
    }
    return allocations.load() - before;
  };
  churn(recycling);  // warm: the first nodes are allocated
  EXPECT_EQ(churn(recycling), 0u);
  EXPECT_EQ(churn(plain), 200u) << "the counter must see std::map's nodes";
  // An erased entry's value is released at once (a spare node keeps nothing alive).
  EXPECT_EQ(value.use_count(), 1);
  EXPECT_GT(recycling.spare_nodes(), 0u);
}

TEST(RecyclingMap, KeepsKeyOrderAndBoundsItsSpareNodes) {
  sim::RecyclingMap<int, std::string, std::less<int>, 4> map;
  for (int i = 10; i > 0; --i) map[i] = absl::StrCat("v", i);
  for (int i = 1; i <= 10; i += 2) map.erase(i);
  EXPECT_EQ(map.spare_nodes(), 4u);  // the fifth erased node was freed
  map[3] = "again";                   // a spare node under a new key
  std::vector<int> keys;
  for (const auto& [key, text] : map) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<int>{2, 3, 4, 6, 8, 10}));
  EXPECT_EQ(map.at(3), "again");
  EXPECT_EQ(map.at(4), "v4");
  EXPECT_EQ(map.spare_nodes(), 3u);
}

}  // namespace
