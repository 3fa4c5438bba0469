// A long engine run holds a bounded number of kernel objects: after
// thousands of 2PC commits the kernel keeps no forgotten transaction, no
// leftover handle, and each RM's enlistment list (Rm::enlistments, which
// used to grow by one entry per transaction forever) stays near the live
// enlistments. Counts, not timings: speed is measured in bench/.
#include <cstdint>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "ktm/api.h"
#include "ktm/kernel.h"
#include "tests/ktm_rig.h"

namespace {

constexpr uint64_t kCommits = 10'000;
constexpr size_t kRmEnlistmentsMax = 64;  // 2 RMs x (2 x live + prune slack), with room

// One transaction writing one key on every RM, committed; true if it committed.
bool CommitOne(ktmtest::KtmRig& rig, int rm_count, uint64_t n) {
  ktm::HANDLE tx;
  if (ktm::CreateTransaction(rig.k(), 0, 0, "", &tx) != ktm::STATUS_SUCCESS) return false;
  for (int i = 0; i < rm_count; ++i) rig.rm(i).Write(tx, absl::StrCat("k", n % 16), absl::StrCat("v", n));
  bool committed = false;
  ktm::CommitTransaction(rig.k(), tx, [&committed](ktm::NTSTATUS s) { committed = s == ktm::STATUS_SUCCESS; });
  rig.Settle();
  ktm::CloseHandle(rig.k(), tx);
  return committed;
}

TEST(KtmLiveObjects, TenThousandCommitsLeaveTheLiveObjectCountsBounded) {
  constexpr int kRms = 2;
  ktmtest::KtmRig rig(/*seed=*/19, kRms, /*planted_bug=*/0, /*single_phase=*/false);
  uint64_t committed = 0;
  for (uint64_t n = 0; n < 100; ++n) committed += CommitOne(rig, kRms, n) ? 1 : 0;
  const ktm::Kernel::LiveCounts early = rig.k().Live();
  for (uint64_t n = 100; n < kCommits; ++n) committed += CommitOne(rig, kRms, n) ? 1 : 0;
  const ktm::Kernel::LiveCounts late = rig.k().Live();
  EXPECT_EQ(committed, kCommits);
  EXPECT_EQ(late.transactions, 0u);
  EXPECT_EQ(late.handles, early.handles);
  EXPECT_LE(late.rm_enlistments, kRmEnlistmentsMax)
      << "each RM's enlistment list grows with every transaction";
}

}  // namespace
