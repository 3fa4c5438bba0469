// Rng: the only source of randomness in ktmsim.
//
// Contract: a pure function of its seed. xoshiro256** seeded through splitmix64.
// Every component derives its own stream from (run seed, component name) with
// Rng::Derive, so adding a component never shifts the draws of the others.
// No global state, no OS entropy source, no standard-library distributions (their output
// is not specified across standard libraries).
#pragma once

#include <cstdint>
#include <string_view>

namespace sim {

class Rng {
 public:
  explicit Rng(uint64_t seed);
  // A stream for one component: same (seed, name) gives the same stream.
  static Rng Derive(uint64_t seed, std::string_view name);
  // Derive(seed, name) for the name whose HashName is name_hash.
  static Rng DeriveFromHash(uint64_t seed, uint64_t name_hash);

  uint64_t Next();
  // Uniform in [0, bound); bound > 0. Unbiased (rejection sampling).
  uint64_t Uniform(uint64_t bound);
  // Uniform in [lo, hi] inclusive; lo <= hi.
  int64_t Range(int64_t lo, int64_t hi);
  // Uniform double in [0, 1) with 53 bits of precision.
  double UnitDouble();
  // True with probability p (p <= 0: never, p >= 1: always).
  bool Bernoulli(double p);

 private:
  uint64_t s_[4];
};

// 64-bit FNV-1a over a name, used for stream derivation and digests.
uint64_t HashName(std::string_view name);
// The same continued over `more` from `hash`, the HashName of the text
// before it: HashName(a + b) == HashNameFrom(HashName(a), b). Names that
// share a prefix hash only what follows it.
uint64_t HashNameFrom(uint64_t hash, std::string_view more);

}  // namespace sim
