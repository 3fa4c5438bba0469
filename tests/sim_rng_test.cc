// Tests of sim's building blocks without a world: Rng (against an
// independent reference of splitmix64 + xoshiro256** and FNV-1a), Latency
// sampling bounds, and Trace text form and digest.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "sim/latency.h"
#include "sim/rng.h"
#include "sim/rng_bytes.h"
#include "sim/trace.h"

namespace sim {
namespace {

std::string JoinWithBars(std::string_view a, std::string_view b, std::string_view c, std::string_view d) {
  return std::string(a) + "|" + std::string(b) + "|" + std::string(c) + "|" + std::string(d);
}

TEST(Rng, MatchesReferenceXoshiro256StarStarSeededBySplitMix64) {
  // Values from a reference implementation of the published algorithms.
  Rng zero(0);
  EXPECT_EQ(zero.Next(), 0x99ec5f36cb75f2b4ull);
  EXPECT_EQ(zero.Next(), 0xbf6e1f784956452aull);
  EXPECT_EQ(zero.Next(), 0x1a5f849d4933e6e0ull);
  Rng other(12345);
  EXPECT_EQ(other.Next(), 0xbe6a36374160d49bull);
  EXPECT_EQ(other.Next(), 0x214aaa0637a688c6ull);
  EXPECT_EQ(other.Next(), 0xf69d16de9954d388ull);
}

// RandomBytes is Rng::Next, 8 bytes per draw, least significant first, with
// a partial last draw.
TEST(Rng, RandomBytesAreTheDrawsLittleEndian) {
  for (size_t size : {size_t{0}, size_t{5}, size_t{8}, size_t{21}, size_t{512}}) {
    std::vector<uint8_t> bytes(size, 0xee);
    RandomBytes(99, bytes);
    Rng rng(99);
    std::vector<uint8_t> want;
    while (want.size() < size) {
      uint64_t word = rng.Next();
      for (int j = 0; j < 8 && want.size() < size; ++j, word >>= 8) want.push_back(static_cast<uint8_t>(word));
    }
    EXPECT_EQ(bytes, want) << size;
  }
}

// GarbageBytes, rebuilt here from its contract (rng_bytes.h): word i is the
// pad word (start + i) mod the pad size, XOR mask; start and mask are the
// first two splitmix64 outputs from the key; a partial last word gives its low
// bytes. Sizes cover empty, partial, one sector, every tail of the vector
// loops and more than the whole pad (so the window wraps past the pad's end).
TEST(Rng, GarbageBytesAreAMaskedWindowOfThePad) {
  std::vector<uint64_t> pad(kGarbagePadWords);
  Rng pad_rng(kGarbagePadSeed);
  for (uint64_t& word : pad) word = pad_rng.Next();
  auto splitmix = [](uint64_t& state) {
    state += 0x9e3779b97f4a7c15ull;
    uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  };
  // And a key whose one-sector window wraps past the pad's end (a sector
  // otherwise takes the one-call path).
  uint64_t wrapping = 2;
  for (;; ++wrapping) {
    uint64_t state = wrapping;
    if (splitmix(state) % kGarbagePadWords > kGarbagePadWords - 64) break;
  }
  for (uint64_t key : {uint64_t{0}, uint64_t{1}, uint64_t{0xfeedface12345678}, wrapping}) {
    // 136, 250, 1000: the 16-word AVX2 turns, then the 8-, 2- and 1-word tails.
    for (size_t size : {size_t{0}, size_t{5}, size_t{8}, size_t{21}, size_t{128}, size_t{136}, size_t{250},
                        size_t{512}, size_t{1000}, size_t{4096}, 8 * kGarbagePadWords + 13}) {
      std::vector<uint8_t> bytes(size, 0xee);
      GarbageBytes(key, bytes);
      uint64_t state = key;
      size_t at = splitmix(state) % kGarbagePadWords;
      const uint64_t mask = splitmix(state);
      std::vector<uint8_t> want;
      while (want.size() < size) {
        uint64_t word = pad[at] ^ mask;
        at = (at + 1) % kGarbagePadWords;
        for (int j = 0; j < 8 && want.size() < size; ++j, word >>= 8) want.push_back(static_cast<uint8_t>(word));
      }
      ASSERT_EQ(bytes, want) << "key " << key << " size " << size;
    }
  }
}

// What readers rely on: garbage looks random. Over 4096 keys (consecutive,
// like sectors) of 512 bytes: no two alike, no two sharing a first word, every
// byte value about equally common, every bit set about half the time.
TEST(Rng, GarbageBytesLookRandom) {
  constexpr size_t kKeys = 4096, kSize = 512;
  std::set<std::vector<uint8_t>> distinct;
  std::set<uint64_t> first_words;
  std::vector<uint64_t> byte_counts(256, 0), bit_counts(64, 0);
  for (uint64_t key = 0; key < kKeys; ++key) {
    std::vector<uint8_t> bytes(kSize);
    GarbageBytes(key * 0x9e3779b97f4a7c15ull, bytes);
    for (uint8_t byte : bytes) ++byte_counts[byte];
    for (size_t w = 0; w < kSize; w += 8) {
      uint64_t word;
      std::memcpy(&word, bytes.data() + w, 8);
      for (int b = 0; b < 64; ++b) bit_counts[b] += (word >> b) & 1;
    }
    uint64_t first;
    std::memcpy(&first, bytes.data(), 8);
    first_words.insert(first);
    distinct.insert(std::move(bytes));
  }
  EXPECT_EQ(distinct.size(), kKeys);
  EXPECT_EQ(first_words.size(), kKeys);
  // Byte counts: expected 8192 each; chi-square with 255 degrees of freedom
  // stays far below 400 for random bytes (p < 1e-8 to exceed it).
  const double expected = double(kKeys * kSize) / 256;
  double chi_square = 0;
  for (uint64_t count : byte_counts) chi_square += (count - expected) * (count - expected) / expected;
  EXPECT_LT(chi_square, 400.0);
  const double words = double(kKeys * kSize / 8);
  for (int b = 0; b < 64; ++b) {
    EXPECT_NEAR(bit_counts[b] / words, 0.5, 0.01) << "bit " << b;
  }
}

TEST(Rng, HashNameIsFnv1a64) {
  EXPECT_EQ(HashName(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(HashName("a"), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(HashName("foobar"), 0x85944171f73967e8ull);
}

TEST(Rng, DeriveIsAPureFunctionOfSeedAndName) {
  Rng a = Rng::Derive(7, "disk");
  Rng b = Rng::Derive(7, "disk");
  Rng c = Rng::Derive(7, "network");
  Rng d = Rng::Derive(8, "disk");
  const uint64_t a0 = a.Next();
  EXPECT_EQ(a0, b.Next());
  EXPECT_NE(a0, c.Next());
  EXPECT_NE(a0, d.Next());
}

RC_GTEST_PROP(Rng, UniformAndRangeStayInBounds,
              (uint64_t seed, uint64_t bound, int64_t lo, int64_t width)) {
  Rng rng(seed);
  const uint64_t b = bound == 0 ? 1 : bound;
  const int64_t w = width < 0 ? -(width / 2) : width / 2;
  const int64_t l = lo / 2;
  for (int i = 0; i < 50; ++i) {
    RC_ASSERT(rng.Uniform(b) < b);
    const int64_t r = rng.Range(l, l + w);
    RC_ASSERT(r >= l);
    RC_ASSERT(r <= l + w);
    const double u = rng.UnitDouble();
    RC_ASSERT(u >= 0.0);
    RC_ASSERT(u < 1.0);
  }
}

TEST(Rng, RangeCoversBothEndsAndTheFullDomain) {
  Rng rng(3);
  std::set<int64_t> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(rng.Range(-2, 2));
  EXPECT_EQ(seen, (std::set<int64_t>{-2, -1, 0, 1, 2}));
  // The full int64 range must not overflow or loop.
  for (int i = 0; i < 100; ++i) rng.Range(INT64_MIN, INT64_MAX);
  EXPECT_EQ(rng.Range(5, 5), 5);
}

TEST(Rng, UniformIsRoughlyUniform) {
  Rng rng(11);
  std::vector<int> counts(10);
  for (int i = 0; i < 100000; ++i) ++counts[rng.Uniform(10)];
  for (int c : counts) {
    EXPECT_GT(c, 9000);
    EXPECT_LT(c, 11000);
  }
}

TEST(Rng, BernoulliExtremesAndAlwaysOneDraw) {
  Rng rng(5);
  for (int i = 0; i < 1000; ++i) {
    EXPECT_FALSE(rng.Bernoulli(0));
    EXPECT_FALSE(rng.Bernoulli(-1));
    EXPECT_TRUE(rng.Bernoulli(1));
  }
  // Each Bernoulli consumes exactly one draw whatever p is.
  Rng a(9), b(9);
  a.Bernoulli(0);
  a.Bernoulli(1);
  b.Bernoulli(0.5);
  b.Bernoulli(0.25);
  EXPECT_EQ(a.Next(), b.Next());
  int hits = 0;
  for (int i = 0; i < 100000; ++i) hits += rng.Bernoulli(0.3) ? 1 : 0;
  EXPECT_GT(hits, 29000);
  EXPECT_LT(hits, 31000);
}

TEST(Latency, FixedDrawsNothing) {
  Rng a(1), b(1);
  const Latency fixed = Latency::Fixed(42);
  EXPECT_EQ(fixed.Sample(a), 42);
  EXPECT_EQ(a.Next(), b.Next());
  EXPECT_EQ(fixed.Minimum(), 42);
}

RC_GTEST_PROP(Latency, SamplesStayWithinMinAndMax, (uint64_t seed)) {
  Rng rng(seed);
  const TimeNs lo = *rc::gen::inRange<TimeNs>(0, 1000000);
  const TimeNs mean = lo + *rc::gen::inRange<TimeNs>(0, 1000000);
  const TimeNs hi = mean + *rc::gen::inRange<TimeNs>(0, 1000000);
  const Latency uniform = Latency::Uniform(lo, hi);
  const Latency exponential = Latency::Exponential(lo, mean, hi);
  for (int i = 0; i < 100; ++i) {
    const TimeNs u = uniform.Sample(rng);
    RC_ASSERT(u >= lo);
    RC_ASSERT(u <= hi);
    const TimeNs e = exponential.Sample(rng);
    RC_ASSERT(e >= lo);
    RC_ASSERT(e <= hi);
  }
}

TEST(Latency, ExponentialMeanIsRoughlyMean) {
  Rng rng(2);
  const Latency latency = Latency::Exponential(100, 1100, 1000000000);
  double sum = 0;
  const int n = 100000;
  for (int i = 0; i < n; ++i) sum += static_cast<double>(latency.Sample(rng));
  EXPECT_NEAR(sum / n, 1100.0, 30.0);
}

TEST(Latency, ToStringNamesTheKind) {
  EXPECT_EQ(Latency::Fixed(5).ToString(), "fixed(5ns)");
  EXPECT_EQ(Latency::Uniform(1, 9).ToString(), "uniform(1ns..9ns)");
  EXPECT_EQ(Latency::Exponential(1, 5, 9).ToString(), "exponential(min=1ns mean=5ns max=9ns)");
}

// The digest recomputed from kept events, one DigestStep per event.
uint64_t DigestOfKept(const Trace& trace) {
  uint64_t digest = Trace::kDigestStart;
  for (const TraceEvent& event : trace.events()) digest = Trace::DigestStep(digest, event);
  return digest;
}

TEST(Trace, TextFormAndDigestOverEvents) {
  Trace trace;
  trace.Record(5, 2, "disk.write", {{"off", "512"}, {"len", "1024"}});
  trace.Record(7, kNoHost, "net.heal");
  ASSERT_EQ(trace.events().size(), 2u);
  EXPECT_EQ(trace.events()[0].ToText(), "5 h2 disk.write off=512 len=1024");
  EXPECT_EQ(trace.events()[1].ToText(), "7 h- net.heal");
  EXPECT_EQ(trace.ToText(), "5 h2 disk.write off=512 len=1024\n7 h- net.heal\n");
  EXPECT_EQ(trace.digest(), DigestOfKept(trace));
  EXPECT_NE(trace.digest(), Trace::kDigestStart);
  EXPECT_EQ(trace.count(), 2u);
  EXPECT_EQ(trace.events()[0].Field("len"), "1024");
  EXPECT_EQ(trace.events()[0].Field("missing"), "");
}

TEST(Trace, DigestDoesNotDependOnKeepingEventsAndSeesEveryEvent) {
  Trace kept(true, 1);
  Trace unkept(false);
  std::vector<std::string> seen;
  unkept.set_observer([&seen](const TraceEvent& e) { seen.push_back(e.ToText()); });
  for (int i = 0; i < 10; ++i) {
    kept.Record(i, 0, "tick", {{"i", std::to_string(i)}});
    unkept.Record(i, 0, "tick", {{"i", std::to_string(i)}});
  }
  EXPECT_EQ(kept.digest(), unkept.digest());
  EXPECT_EQ(kept.events().size(), 1u);  // events_max bounds what is kept
  EXPECT_EQ(kept.count(), 10u);
  EXPECT_TRUE(unkept.events().empty());
  ASSERT_EQ(seen.size(), 10u);
  EXPECT_EQ(seen[9], "9 h0 tick i=9");
  Trace different;
  for (int i = 0; i < 10; ++i)
    different.Record(i, 0, "tick", {{"i", std::to_string(i == 9 ? 8 : i)}});
  EXPECT_NE(different.digest(), kept.digest());
}

// Observers see each event exactly as recorded although the event they are
// shown is reused (fields grow and shrink), and an observer that records gets
// its own event: the outer one is intact for the observers after it.
// Events are kept in the order they were recorded, which is the digest's.
TEST(Trace, ObserversSeeEachEventAsRecorded) {
  Trace trace(true);
  std::vector<std::string> seen, after;
  trace.set_observer([&](const TraceEvent& e) {
    seen.push_back(e.ToText());
    if (e.kind == "outer") trace.Record(e.time, e.host, "inner", {{"x", "1"}});
  });
  trace.add_listener([&](const TraceEvent& e) { after.push_back(e.ToText()); });
  trace.Record(1, 0, "three", {{"a", "1"}, {"b", "a-value-longer-than-sso-buffers"}, {"c", "3"}});
  trace.Record(2, 0, "one", {{"a", "x"}});
  trace.Record(3, 1, "outer", {{"k", "v"}, {"l", "w"}});
  trace.Record(4, kNoHost, "none");
  const std::vector<std::string> want = {"1 h0 three a=1 b=a-value-longer-than-sso-buffers c=3", "2 h0 one a=x",
                                         "3 h1 outer k=v l=w", "3 h1 inner x=1", "4 h- none"};
  EXPECT_EQ(seen, want);
  EXPECT_EQ(after, (std::vector<std::string>{want[0], want[1], want[3], want[2], want[4]}));
  // Kept in the order recorded (the digest's order), the nested one after its cause.
  EXPECT_EQ(trace.ToText(), want[0] + "\n" + want[1] + "\n" + want[2] + "\n" + want[3] + "\n" + want[4] + "\n");
  EXPECT_EQ(trace.digest(), DigestOfKept(trace));
}

// The digest sees every part of an event: time, host, kind, each key and
// value, and where one string ends and the next begins.
TEST(Trace, DigestSeesEveryPartOfAnEvent) {
  auto digest = [](TimeNs time, uint32_t host, std::string_view kind, std::initializer_list<TraceField> fields) {
    Trace trace(false);
    trace.Record(time, host, kind, fields);
    return trace.digest();
  };
  std::set<uint64_t> digests = {
      digest(1, 0, "k", {{"a", "b"}}),          digest(2, 0, "k", {{"a", "b"}}),
      digest(1, 1, "k", {{"a", "b"}}),          digest(1, kNoHost, "k", {{"a", "b"}}),
      digest(1, 0, "kk", {{"a", "b"}}),         digest(1, 0, "k", {{"a", "c"}}),
      digest(1, 0, "k", {{"ab", ""}}),          digest(1, 0, "k", {{"", "ab"}}),
      digest(1, 0, "k", {{"a", "b"}, {"", ""}}), digest(1, 0, "k", {}),
      digest(1, 0, "k", {{"a", "0123456789abcdef"}}), digest(1, 0, "k", {{"a", "0123456789abcdeg"}}),
      digest(1, 0, "k", {{"a", "0123456789abcde"}}),  digest(1, 0, "k", {{"a", "x0123456789abcde"}}),
      digest(1, 0, "k", {{"a", "abc"}}),        digest(1, 0, "k", {{"a", "acc"}}),
      digest(1, 0, "k", {{"a", "abcdefg"}}),    digest(1, 0, "k", {{"a", "abcxefg"}}),
      // Numbers: the value, and the type it was recorded as (text, unsigned,
      // signed, hex), with short and long keys.
      digest(1, 0, "k", {{"a", 1u}}),           digest(1, 0, "k", {{"a", 2u}}),
      digest(1, 0, "k", {{"a", 1}}),            digest(1, 0, "k", {{"a", TraceHex{1}}}),
      digest(1, 0, "k", {{"a", "1"}}),          digest(1, 0, "k", {{"a", -1}}),
      digest(1, 0, "k", {{"a", UINT64_MAX}}),   digest(1, 0, "k", {{"b", 1u}}),
      digest(1, 0, "k", {{"longer-key", 1u}}),  digest(1, 0, "k", {{"longer-key", 1}}),
      digest(1, 0, "k", {{"longer-key", "1"}}), digest(1, 0, "k", {{"a", 1u}, {"b", 2u}}),
      digest(1, 0, "k", {{"a", 2u}, {"b", 1u}}),
      // A field's place counts (an event's field terms are summed, each
      // with its position's secrets).
      digest(1, 0, "k", {{"b", 2u}, {"a", 1u}}), digest(1, 0, "k", {{"a", 1u}, {"a", 1u}}),
      digest(1, 0, "k", {{"a", 1u}, {"a", 1u}, {"a", 1u}}),
  };
  EXPECT_EQ(digests.size(), 34u);
  // The order of events counts.
  Trace first(false);
  first.Record(1, 0, "k", {{"a", 1u}});
  first.Record(1, 0, "k", {{"a", 2u}});
  Trace second(false);
  second.Record(1, 0, "k", {{"a", 2u}});
  second.Record(1, 0, "k", {{"a", 1u}});
  EXPECT_NE(first.digest(), second.digest());
  // And the same event always gives the same digest.
  EXPECT_EQ(digest(1, 0, "k", {{"a", "b"}}), digest(1, 0, "k", {{"a", "b"}}));
}

// Numbers are recorded as numbers and rendered only for kept or observed
// events; an event reads the same whether a value was given as a number or as
// its text (decimal; TraceHex: 16 lower-case hex digits), but the digest is
// typed: it hashes the number, so the two record streams digest differently,
// and each digest is recomputed from its kept events (numbers parsed back).
TEST(Trace, NumbersRenderAsTheirTextAndHashTyped) {
  Trace typed(true), text(true);
  std::vector<std::string> observed;
  typed.set_observer([&observed](const TraceEvent& e) { observed.push_back(e.ToText()); });
  const uint64_t words[] = {0, 1, 0x0123456789abcdefull, 0xfedcba9876543210ull, 0x00000000ffffffffull, UINT64_MAX};
  for (uint64_t w : words) {
    typed.Record(1, 0, "hex", {{"w", TraceHex{w}}});
    char buffer[17];
    std::snprintf(buffer, sizeof buffer, "%016llx", static_cast<unsigned long long>(w));
    text.Record(1, 0, "hex", {{"w", std::string(buffer)}});
  }
  typed.Record(2, 1, "ints", {{"u", uint64_t{0}}, {"v", UINT64_MAX}, {"i", -5}, {"j", INT64_MIN}, {"k", uint32_t{42}}});
  text.Record(2, 1, "ints",
              {{"u", "0"}, {"v", "18446744073709551615"}, {"i", "-5"}, {"j", "-9223372036854775808"}, {"k", "42"}});
  EXPECT_EQ(typed.ToText(), text.ToText());
  EXPECT_NE(typed.digest(), text.digest());
  EXPECT_EQ(typed.digest(), DigestOfKept(typed));
  EXPECT_EQ(text.digest(), DigestOfKept(text));
  ASSERT_EQ(typed.events().size(), 7u);
  EXPECT_EQ(typed.events()[6].field_types,
            (std::vector<TraceField::Type>{TraceField::Type::kUnsigned, TraceField::Type::kUnsigned,
                                           TraceField::Type::kSigned, TraceField::Type::kSigned,
                                           TraceField::Type::kUnsigned}));
  ASSERT_EQ(observed.size(), 7u);
  EXPECT_EQ(observed[2], "1 h0 hex w=0123456789abcdef");
  EXPECT_EQ(observed[6], "2 h1 ints u=0 v=18446744073709551615 i=-5 j=-9223372036854775808 k=42");
  EXPECT_EQ(TraceField("x", TraceHex{0xabcull}).ValueText(), "0000000000000abc");
  // A different number is a different digest.
  Trace other(false);
  for (uint64_t w : words) other.Record(1, 0, "hex", {{"w", TraceHex{w == 1 ? 2 : w}}});
  other.Record(2, 1, "ints", {{"u", uint64_t{0}}, {"v", UINT64_MAX}, {"i", -5}, {"j", INT64_MIN}, {"k", uint32_t{42}}});
  EXPECT_NE(other.digest(), typed.digest());
}

// A view listener is shown each event as recorded: numbers as numbers (text
// only on request), in the order listeners were added, text or view alike.
TEST(Trace, ViewListenersSeeFieldsAsRecordedInOrderWithTheOthers) {
  Trace trace(false);
  std::vector<std::string> calls;
  trace.add_listener([&](const TraceEvent& e) { calls.push_back("text1 " + e.ToText()); });
  trace.add_view_listener([&](const TraceView& e) {
    std::string scratch;
    const TraceField* id = e.Find("id");
    ASSERT_NE(id, nullptr);
    EXPECT_EQ(id->type, TraceField::Type::kHex);
    EXPECT_EQ(id->number, 0xffu);
    EXPECT_EQ(e.Find("absent"), nullptr);
    EXPECT_EQ(e.FieldText("absent", &scratch), "");
    EXPECT_EQ(e.kind.hash, TraceTextHash("k"));
    std::string id_text, n_text;  // one scratch per view held at once
    calls.push_back(JoinWithBars(e.kind.text, e.FieldText("id", &id_text), e.FieldText("n", &n_text),
                                 e.FieldText("s", &scratch)));
  });
  trace.add_listener([&](const TraceEvent& e) { calls.push_back("text2 " + e.ToText()); });
  trace.Record(7, 1, "k", {{"id", TraceHex{0xff}}, {"n", -5}, {"s", "x"}});
  EXPECT_EQ(calls, (std::vector<std::string>{"text1 7 h1 k id=00000000000000ff n=-5 s=x",
                                             "k|00000000000000ff|-5|x", "text2 7 h1 k id=00000000000000ff n=-5 s=x"}));
  // Fed a kept or hand-built event, a view holds its texts.
  TraceEvent kept{7, 1, "k", {{"id", "00000000000000ff"}, {"s", "x"}}, {}};
  TraceEventView view(kept);
  std::string scratch;
  EXPECT_EQ(view.view().kind.hash, TraceTextHash("k"));
  EXPECT_EQ(view.view().FieldText("id", &scratch), "00000000000000ff");
  EXPECT_EQ(view.view().Find("id")->type, TraceField::Type::kText);
}

// A filter is asked once per kind (it answers from the kind alone); adding a
// listener or setting the observer forgets the answers, so a filter that
// reads changed state is asked again once re-installed.
TEST(Trace, FiltersAreAskedOncePerKindUntilListenersChange) {
  Trace trace(false);
  int asked = 0, seen = 0;
  bool wanted = false;
  trace.set_observer([&](const TraceEvent&) { ++seen; }, [&](std::string_view kind) {
    ++asked;
    return wanted && kind == "a";
  });
  for (int i = 0; i < 3; ++i) trace.Record(i, 0, "a");
  trace.Record(3, 0, "b");
  EXPECT_EQ(asked, 2);  // "a" once, "b" once
  EXPECT_EQ(seen, 0);
  wanted = true;
  trace.Record(4, 0, "a");
  EXPECT_EQ(seen, 0);  // the remembered answer
  int views = 0;
  trace.add_view_listener([&](const TraceView&) { ++views; });
  trace.Record(5, 0, "a");
  trace.Record(6, 0, "a");
  EXPECT_EQ(asked, 3);
  EXPECT_EQ(seen, 2);
  EXPECT_EQ(views, 2);
}

// An event whose kind nobody wants is skipped inline once its kind was
// asked (RecordEach and Record alike); keeping events or a listener added
// later must bring such a kind back.
TEST(Trace, KindsNobodyWantsAreSkippedUntilSomebodyWantsThem) {
  for (const bool keep : {false, true}) {
    Trace trace(keep);
    int asked = 0;
    std::vector<std::string> seen;
    trace.add_view_listener([&](const TraceView& v) { seen.push_back(std::string(v.kind.text)); },
                            [&](std::string_view kind) {
                              ++asked;
                              return kind == "a";
                            });
    for (int i = 0; i < 3; ++i) {
      trace.RecordEach(i, 0, "a", TraceField("n", i));
      trace.RecordEach(i, 0, "b", TraceField("n", i));
      trace.Record(i, 0, "c", {{"n", i}});
    }
    EXPECT_EQ(asked, 3) << keep;  // once per kind
    EXPECT_EQ(seen, (std::vector<std::string>{"a", "a", "a"})) << keep;
    EXPECT_EQ(trace.events().size(), keep ? 9u : 0u);  // kept whether or not a listener wants it
    EXPECT_EQ(trace.count(), 9u);
    std::vector<std::string> later;
    trace.add_view_listener([&](const TraceView& v) { later.push_back(std::string(v.kind.text)); });
    trace.RecordEach(3, 0, "b", TraceField("n", 3));
    trace.Record(3, 0, "c", {{"n", 3}});
    EXPECT_EQ(later, (std::vector<std::string>{"b", "c"})) << keep;
    EXPECT_EQ(trace.events().size(), keep ? 11u : 0u);
  }
}

TEST(Trace, DigestHexIsSixteenDigits) {
  EXPECT_EQ(DigestHex(0), "0000000000000000");
  EXPECT_EQ(DigestHex(0x0123456789abcdefull), "0123456789abcdef");
}

}  // namespace
}  // namespace sim

// A name's digest word is the same whether the compiler computed it (a
// literal, a constexpr table) or it was hashed at run time from any string:
// how a caller passes a kind, key or value never changes the digest.
TEST(TraceDigest, ANameHashesAlikeAtCompileTimeAndAtRunTime) {
  static constexpr std::string_view kText = "0123456789abcdefghijklmnopqrstu";
  constexpr auto kAtCompileTime = [] {
    std::array<uint64_t, kText.size() + 1> words{};
    for (size_t n = 0; n <= kText.size(); ++n) words[n] = sim::TraceTextHash(kText.substr(0, n));
    return words;
  }();
  std::set<uint64_t> distinct;
  for (size_t n = 0; n <= kText.size(); ++n) {
    const std::string copy(kText.substr(0, n));  // run time, from the heap
    EXPECT_EQ(sim::TraceTextHash(copy), kAtCompileTime[n]) << n;
    EXPECT_EQ(sim::TraceName(copy).hash, kAtCompileTime[n]) << n;
    distinct.insert(kAtCompileTime[n]);
  }
  EXPECT_EQ(distinct.size(), kText.size() + 1);
  EXPECT_EQ(sim::TraceName("tx.state").hash, sim::TraceName(std::string("tx.state")).hash);
  // A literal value and the same text at run time give one event digest.
  const std::string to = "Active";
  const sim::TraceField literal[] = {{"to", "Active"}};
  const sim::TraceField run_time[] = {{"to", to}};
  EXPECT_TRUE(literal[0].text_hashed);
  EXPECT_FALSE(run_time[0].text_hashed);
  EXPECT_EQ(sim::Trace::DigestStep(sim::Trace::kDigestStart, 1, 0, "tx.state", literal),
            sim::Trace::DigestStep(sim::Trace::kDigestStart, 1, 0, std::string("tx.state"), run_time));
}

// RecordEach (the engine's inline path: fields passed one by one, hashed in
// place when nobody observes) must record exactly what Record records: the
// same digest step, with or without observers, and the same kept event.
TEST(TraceDigest, RecordEachRecordsWhatRecordRecords) {
  const std::string value = "v7";  // a text hashed at run time
  const sim::TraceField fields[] = {
      {"tx", sim::TraceHex{0xabcdef}}, {"from", "Active"}, {"n", int64_t{-3}}, {"key", value}, {"count", 9u}};
  for (const bool keep : {false, true}) {
    sim::Trace by_span(keep), each(keep), silent(keep);
    std::vector<std::string> seen_span, seen_each;
    by_span.add_view_listener([&](const sim::TraceView& v) { seen_span.push_back(std::string(v.kind.text)); });
    each.add_view_listener([&](const sim::TraceView& v) { seen_each.push_back(std::string(v.kind.text)); });
    for (int i = 0; i < 3; ++i) {
      by_span.Record(10 + i, 2, "tx.state", fields);
      by_span.Record(11 + i, sim::kNoHost, "tick");
      each.RecordEach(10 + i, 2, "tx.state", fields[0], fields[1], fields[2], fields[3], fields[4]);
      each.RecordEach(11 + i, sim::kNoHost, "tick");
      silent.RecordEach(10 + i, 2, "tx.state", fields[0], fields[1], fields[2], fields[3], fields[4]);
      silent.RecordEach(11 + i, sim::kNoHost, "tick");
    }
    EXPECT_EQ(each.digest(), by_span.digest()) << keep;
    EXPECT_EQ(silent.digest(), by_span.digest()) << keep;
    EXPECT_EQ(each.count(), 6u);
    EXPECT_EQ(silent.count(), 6u);
    EXPECT_EQ(seen_each, seen_span);
    EXPECT_EQ(seen_each.size(), 6u);
    EXPECT_EQ(each.ToText(), by_span.ToText());
    // A different field list gives a different digest (the test can fail).
    sim::Trace other(keep);
    for (int i = 0; i < 3; ++i) {
      other.RecordEach(10 + i, 2, "tx.state", fields[0], fields[1], fields[2], fields[4], fields[3]);
      other.RecordEach(11 + i, sim::kNoHost, "tick");
    }
    EXPECT_NE(other.digest(), by_span.digest());
  }
}
