// The engine's fast paths keep the digest (issue 19): the hot trace events
// are hashed in place with digest words computed ahead of time (a disk's
// name, state and notification names from tables), and the kernel and RMs
// reach their objects by raw pointers where the object provably lives
// through the call. None of that may change what a run records:
// - a run that keeps its events gives the digest recomputed from the kept
//   events' text (Trace::DigestStep rehashes every text: a precomputed word
//   that went stale or was taken from the wrong entry of a table shows);
// - a run that keeps nothing (the inline path) gives the same digest and
//   count as one that keeps everything (the out-of-line path);
// - bench/engine_rig.h's engine gives the digests it gave before this work
//   (pinned: change them only with a digest change stated in the commit;
//   the pins from before the digest's stop-37 definition are checked by
//   recomputing the old definition over kept events).
#include <gtest/gtest.h>

#include <charconv>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/engine_rig.h"
#include "ktm/kernel.h"
#include "ktm/types.h"
#include "sim/disk.h"
#include "sim/scheduler.h"
#include "sim/trace.h"

namespace {

uint64_t DigestOfKept(const sim::Trace& trace) {
  uint64_t digest = sim::Trace::kDigestStart;
  for (const sim::TraceEvent& event : trace.events()) digest = sim::Trace::DigestStep(digest, event);
  return digest;
}

// Every request shape a disk traces, completed and rejected.
void DiskWorkload(sim::Scheduler& scheduler, sim::Disk& disk) {
  const std::vector<uint8_t> sector(512, 7);
  auto ignore = [](sim::IoStatus) {};
  auto ignore_read = [](sim::IoStatus, std::vector<uint8_t>) {};
  disk.Write(0, sector, false, ignore);
  disk.Write(512, sector, true, ignore);
  disk.Flush(ignore);
  disk.Read(0, 1024, ignore_read);
  disk.Write(3, sector, true, ignore);                  // misaligned
  disk.Write(UINT64_MAX, sector, false, ignore);        // misaligned, no offset shown
  disk.Read(1u << 30, 512, ignore_read);                // out of range
  disk.Read(UINT64_MAX, 512, ignore_read);              // no offset shown
  disk.AddLatentError(1);
  disk.Read(0, 1024, ignore_read);                      // media error
  scheduler.RunUntilIdle();
}

TEST(EngineFastPaths, DiskEventsHashAsTheirText) {
  sim::Scheduler scheduler;
  sim::Trace kept(true);
  sim::Disk disk(&scheduler, &kept, 3, "a-disk-name-longer-than-sixteen", 1, sim::DiskOptions{});
  DiskWorkload(scheduler, disk);
  ASSERT_EQ(kept.events().size(), 10u) << kept.ToText();
  EXPECT_EQ(kept.digest(), DigestOfKept(kept));
  // One event of each shape, as text.
  std::vector<std::string> texts;
  for (const sim::TraceEvent& event : kept.events()) texts.push_back(event.ToText());
  auto has = [&texts](const std::string& text) {
    for (const std::string& t : texts) {
      if (t == text) return true;
    }
    return false;
  };
  const std::string name = "disk=a-disk-name-longer-than-sixteen";
  EXPECT_TRUE(has("100000 h3 disk.write " + name + " off=0 len=512 fua=0 status=ok"));
  EXPECT_TRUE(has("1100000 h3 disk.write " + name + " off=512 len=512 fua=1 status=ok"));
  EXPECT_TRUE(has("1000000 h3 disk.flush " + name + " status=ok"));
  EXPECT_TRUE(has("100000 h3 disk.read " + name + " off=0 len=1024 status=media_error"));
  EXPECT_TRUE(has("0 h3 disk.write " + name + " off=3 len=512 fua=1 status=misaligned"));
  EXPECT_TRUE(has("0 h3 disk.write " + name + " fua=0 status=misaligned"));
  EXPECT_TRUE(has("0 h3 disk.read " + name + " off=1073741824 len=512 status=out_of_range"));
  EXPECT_TRUE(has("0 h3 disk.read " + name + " status=misaligned"));
  sim::Scheduler scheduler2;
  sim::Trace unkept(false);
  sim::Disk disk2(&scheduler2, &unkept, 3, "a-disk-name-longer-than-sixteen", 1, sim::DiskOptions{});
  DiskWorkload(scheduler2, disk2);
  EXPECT_EQ(unkept.digest(), kept.digest());
  EXPECT_EQ(unkept.count(), kept.count());
}

// The engine rig's digest after `commits` commits with `rms` RMs.
struct RigRun {
  uint64_t digest = 0;
  uint64_t count = 0;
  uint64_t recomputed = 0;
};
RigRun RunRig(int rms, int commits, bool keep) {
  bench::EngineRig rig(rms, keep);
  for (int n = 0; n < commits; ++n) {
    EXPECT_TRUE(rig.Commit(absl::StrCat("k", n % 16), absl::StrCat("v", n)));
  }
  const sim::Trace& trace = rig.world.trace();
  return {trace.digest(), trace.count(), keep ? DigestOfKept(trace) : 0};
}

TEST(EngineFastPaths, EngineDigestIsTheKeptEventsDigest) {
  for (int rms : {1, 2, 4}) {
    SCOPED_TRACE(absl::StrCat(rms, " RMs"));
    const RigRun kept = RunRig(rms, 40, true);
    EXPECT_EQ(kept.digest, kept.recomputed);
    const RigRun unkept = RunRig(rms, 40, false);
    EXPECT_EQ(unkept.digest, kept.digest);
    EXPECT_EQ(unkept.count, kept.count);
  }
}

// The digest as it was defined before stop 37, over kept events: one
// dependent Mix per word (time, host with the field count, kind, then each
// field's key word and value word). Kept here so that the pins below, taken
// before issue 19's engine work, still prove the rig records the same events.
uint64_t ChainDigestOfKept(const sim::Trace& trace) {
  using sim::trace_internal::KeyWord;
  using sim::trace_internal::Mix;
  uint64_t hash = sim::Trace::kDigestStart;
  for (const sim::TraceEvent& event : trace.events()) {
    hash = Mix(hash, static_cast<uint64_t>(event.time));
    hash = Mix(hash, static_cast<uint64_t>(event.host) | (static_cast<uint64_t>(event.fields.size()) << 32));
    hash = Mix(hash, sim::TraceTextHash(event.kind));
    for (size_t i = 0; i < event.fields.size(); ++i) {
      const auto& [key, value] = event.fields[i];
      const auto type = i < event.field_types.size() ? event.field_types[i] : sim::TraceField::Type::kText;
      uint64_t word = 0;
      if (type == sim::TraceField::Type::kText) {
        word = sim::TraceTextHash(value);
      } else if (type == sim::TraceField::Type::kSigned) {
        int64_t number = 0;
        std::from_chars(value.data(), value.data() + value.size(), number);
        word = static_cast<uint64_t>(number);
      } else {
        std::from_chars(value.data(), value.data() + value.size(), word,
                        type == sim::TraceField::Type::kHex ? 16 : 10);
      }
      hash = Mix(hash, KeyWord(sim::TraceTextHash(key), type));
      hash = Mix(hash, word);
    }
  }
  return hash;
}

TEST(EngineFastPaths, EngineDigestIsUnchanged) {
  // bench/engine_rig.h at main 287d046 (before issue 19's stop-31 engine
  // work), under the digest's old definition, recomputed from kept events.
  const auto old_digest = [](int rms) {
    bench::EngineRig rig(rms, true);
    for (int n = 0; n < 40; ++n) EXPECT_TRUE(rig.Commit(absl::StrCat("k", n % 16), absl::StrCat("v", n)));
    return sim::DigestHex(ChainDigestOfKept(rig.world.trace()));
  };
  EXPECT_EQ(old_digest(1), "6a4e1140bd81d3e4");
  EXPECT_EQ(old_digest(2), "a1ef62862ae38d51");
  EXPECT_EQ(old_digest(4), "7b12ef89156f92f9");
  // The same runs under the current definition (stop 37: one dependent
  // multiply per event), kept or not.
  EXPECT_EQ(sim::DigestHex(RunRig(1, 40, false).digest), "146d2fd68440b055");
  EXPECT_EQ(sim::DigestHex(RunRig(2, 40, false).digest), "3c465d7b3cf0f5bb");
  EXPECT_EQ(sim::DigestHex(RunRig(4, 40, false).digest), "f99b4c5aed3db62e");
}

}  // namespace

namespace {

// The kernel's name tables give names.cc's names and digest words for
// every value (and fall back to names.cc outside the tables).
TEST(EngineFastPaths, NameTablesAgreeWithTheCatalog) {
  auto same = [](sim::TraceName a, sim::TraceName b) { return a.text == b.text && a.hash == b.hash; };
  for (uint32_t bit = 0; bit < 32; ++bit) {
    const uint32_t n = uint32_t{1} << bit;
    EXPECT_TRUE(same(ktm::NotificationTraceNameFast(n), ktm::NotificationTraceName(n))) << n;
    EXPECT_EQ(ktm::NotificationTraceNameFast(n).hash, sim::TraceTextHash(ktm::NotificationTraceName(n).text));
  }
  EXPECT_TRUE(same(ktm::NotificationTraceNameFast(0), ktm::NotificationTraceName(0)));
  EXPECT_TRUE(same(ktm::NotificationTraceNameFast(3), ktm::NotificationTraceName(3)));
  for (uint32_t v = 0; v < 40; ++v) {
    const auto state = static_cast<ktm::TxState>(v);
    EXPECT_TRUE(same(ktm::TxStateTraceNameFast(state), ktm::TxStateTraceName(state))) << v;
  }
  for (uint32_t v = 0; v < 300; ++v) {
    const auto state = static_cast<ktm::EnState>(v);
    EXPECT_TRUE(same(ktm::EnStateTraceNameFast(state), ktm::EnStateTraceName(state))) << v;
  }
  EXPECT_EQ(ktm::EnStateTraceNameFast(ktm::EnState::kPrepared).text, "Prepared");
  EXPECT_EQ(ktm::TxStateTraceNameFast(ktm::TxState::kPrePrepared).text, "PrePrepared");
  EXPECT_EQ(ktm::NotificationTraceNameFast(ktm::TRANSACTION_NOTIFY_PREPARE).text, "PREPARE");
}

}  // namespace

namespace {

// TraceShort records what Guid::Short() records.
TEST(EngineFastPaths, TraceShortIsGuidShort) {
  for (const ktm::Guid id : {ktm::Guid{0, 1}, ktm::Guid{0x0123456789abcdefull, 7}, ktm::Guid{~0ull, ~0ull}}) {
    const sim::TraceField fast("tx", ktm::TraceShort(id));
    const sim::TraceField slow("tx", id.Short());
    EXPECT_EQ(fast.type, slow.type);
    EXPECT_EQ(fast.ValueWord(), slow.ValueWord());
    std::string a, b;
    EXPECT_EQ(fast.ValueView(&a), slow.ValueView(&b));
  }
}

}  // namespace
