// Memory of one run (docs/rm-storage.md "Memory of a run"): what a run
// holds at its end grows with its operations and names, not with copies.
// - The history is reserved for the final values before they are recorded
//   (one kFinalValue per workload key per durable RM), so recording them
//   does not double the event array (a doubling holds the old and the new
//   arrays at once, on top of an RM's committed map).
// - The runner frees the simulated world (disks, engines, RMs) before the
//   checkers build their indexes over the history: the two peaks do not add.
// - A name table's index holds 4-byte ids, not string views: bytes per name.
#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "harness/cluster.h"
#include "harness/runner.h"
#include "harness/scenario_toml.h"
#include "model/checkers.h"
#include "model/history.h"
#include "sim/world.h"

namespace {

// Few transactions, many keys: the history is mostly final values.
constexpr char kManyKeys[] = R"(
description = "Ten transactions over 50,000 keys at two kv RMs."
[[hosts]]
name = "node1"
[[rms]]
name = "kv1"
host = "node1"
[[rms]]
name = "kv2"
host = "node1"
[workload]
transactions = 10
concurrency = 2
rms_per_tx_min = 1
rms_per_tx_max = 2
ops_min = 1
ops_max = 3
keys = 50000
)";

harness::Scenario ManyKeys() {
  absl::StatusOr<harness::Scenario> scenario = harness::LoadScenarioString(kManyKeys, "many_keys");
  EXPECT_TRUE(scenario.ok()) << scenario.status();
  return *scenario;
}

TEST(RunMemory, FinalValuesDoNotDoubleTheHistory) {
  const harness::Scenario scenario = ManyKeys();
  harness::Cluster cluster(scenario, 1, {});
  const harness::RunResult result = cluster.Simulate();
  const size_t size = result.history.events.size();
  size_t finals = 0;
  for (const model::HistoryEvent& event : result.history.events) {
    if (event.kind == model::EventKind::kFinalValue) ++finals;
  }
  ASSERT_EQ(finals, 2u * 50'000u);  // every workload key at both RMs, absent ones too
  // Room for the transactions' events (reserved per transaction at the
  // start) and the final values, no more: a doubling while the final values
  // were recorded would leave about twice the size (163,840 slots here).
  EXPECT_GE(result.history.events.capacity(), size);
  EXPECT_LE(result.history.events.capacity(), size + size / 50)
      << "size " << size << ", capacity " << result.history.events.capacity();
}

// The world's trace keeps its listeners until the world is destroyed: one
// that holds a Sentinel tells when that happened, and the scratch the
// checkers fill tells whether they had run by then.
struct Sentinel {
  const model::CheckScratch* scratch = nullptr;
  size_t* scratch_bytes_at_destruction = nullptr;
  ~Sentinel() { *scratch_bytes_at_destruction = scratch->bytes_held(); }
};

TEST(RunMemory, TheWorldIsFreedBeforeTheHistoryIsChecked) {
  const harness::Scenario scenario = ManyKeys();
  model::CheckScratch scratch;
  size_t scratch_bytes_at_destruction = 1;  // not destroyed yet
  harness::RunOptions options;
  options.check_scratch = &scratch;
  options.world_hook = [&](sim::World& world) {
    auto sentinel = std::make_shared<Sentinel>();
    sentinel->scratch = &scratch;
    sentinel->scratch_bytes_at_destruction = &scratch_bytes_at_destruction;
    world.trace().add_view_listener([sentinel](const sim::TraceView&) {},
                                    [](std::string_view kind) { return kind == "no such kind"; });
  };
  const harness::RunResult result = harness::RunScenario(scenario, 1, options);
  EXPECT_TRUE(result.passed);
  EXPECT_EQ(result.violations.size(), 0u);
  // The checkers ran (they leave their per-event arrays in the scratch)...
  EXPECT_GE(scratch.bytes_held(), result.history.events.size());
  // ...after the world was gone.
  EXPECT_EQ(scratch_bytes_at_destruction, 0u);
}

// 400,000 names of 7 characters: 24 bytes of arena each (header, text,
// '\0', rounded to 8), 8 of id -> name array (up to 16 while it doubles) and
// the index: 5 bytes a bucket (a 4-byte id and a control byte) at 2^19
// buckets, about 7 a name. An index of string views and ids (25 bytes a
// bucket) took about 33 a name, 67 in all.
TEST(RunMemory, ANameTableHoldsAboutFortyBytesPerShortName) {
  model::NameTable table;
  constexpr uint32_t kNames = 400'000;
  for (uint32_t i = 0; i < kNames; ++i) table.Intern(absl::StrCat("v", 100'000 + i));
  ASSERT_EQ(table.size(), kNames + 1);
  EXPECT_EQ(table.Find("v100007"), 8u);
  const double per_name = static_cast<double>(table.bytes_used()) / kNames;
  EXPECT_LE(per_name, 48.0) << table.bytes_used() << " bytes";
  EXPECT_GE(per_name, 24.0) << table.bytes_used() << " bytes";  // the arena alone
}

}  // namespace
