// Tests of sim::SoloMap: a RapidCheck property comparing random put / find /
// erase sequences with std::map (sizes, values, the key-order walk, and that
// a value's address holds until its entry is erased, solo or not), plus the
// reset of an erased value for both kinds of V (clear() and V{}).
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sim/solo_map.h"

namespace sim {
namespace {

RC_GTEST_PROP(SoloMap, BehavesAsAnOrderedMap, ()) {
  SoloMap<int, std::string> map;
  std::map<int, std::string> model;
  std::map<int, const std::string*> address;  // where each live key's value was first seen
  const int steps = *rc::gen::inRange(1, 120);
  for (int step = 0; step < steps; ++step) {
    // Few keys, so puts meet live keys, the solo one and tree ones alike.
    const int key = *rc::gen::inRange(0, 8);
    const int action = *rc::gen::inRange(0, 10);
    if (action < 5) {
      std::string& value = map[key];
      RC_ASSERT(value == model[key]);  // "" when new: a reset value
      value += static_cast<char>('a' + step % 26);
      model[key] = value;
      if (!address.contains(key)) address[key] = &value;
      RC_ASSERT(address[key] == &value);
    } else if (action < 8) {
      int calls = 0;
      const bool erased = map.erase(key, [&](std::string& value) {
        ++calls;
        RC_ASSERT(value == model[key]);
      });
      RC_ASSERT(erased == model.contains(key));
      RC_ASSERT(calls == (erased ? 1 : 0));
      model.erase(key);
      address.erase(key);
    } else {
      const std::string* found = map.find(key);
      RC_ASSERT((found != nullptr) == model.contains(key));
      if (found != nullptr) RC_ASSERT(*found == model.at(key));
      if (found != nullptr) RC_ASSERT(found == address.at(key));
    }
    RC_ASSERT(map.size() == model.size());
    RC_ASSERT(map.empty() == model.empty());
    std::vector<std::pair<int, std::string>> walked;
    map.for_each([&walked](const int& k, const std::string& v) { walked.emplace_back(k, v); });
    const std::vector<std::pair<int, std::string>> expected(model.begin(), model.end());
    RC_ASSERT(walked == expected);
  }
}

TEST(SoloMap, TheSoloEntryWalksInItsKeyPlace) {
  SoloMap<int, int> map;
  map[5] = 50;  // the solo place is free: 5 takes it
  map[2] = 20;
  map[9] = 90;
  map[7] = 70;
  std::vector<int> keys;
  map.for_each([&keys](const int& key, const int& value) {
    EXPECT_EQ(value, key * 10);
    keys.push_back(key);
  });
  EXPECT_EQ(keys, (std::vector<int>{2, 5, 7, 9}));
  EXPECT_TRUE(map.erase(5));
  EXPECT_FALSE(map.erase(5));
  map[1] = 10;  // the freed solo place again, now below every tree key
  keys.clear();
  map.for_each([&keys](const int& key, const int&) { keys.push_back(key); });
  EXPECT_EQ(keys, (std::vector<int>{1, 2, 7, 9}));
}

TEST(SoloMap, AnErasedValueIsResetAtOnce) {
  auto object = std::make_shared<int>(7);
  SoloMap<int, std::shared_ptr<int>> shared;
  shared[1] = object;  // the solo entry
  shared[2] = object;  // a tree entry
  EXPECT_EQ(object.use_count(), 3);
  EXPECT_TRUE(shared.erase(1));
  EXPECT_TRUE(shared.erase(2));
  EXPECT_EQ(object.use_count(), 1) << "an erased entry keeps nothing alive";
  EXPECT_EQ(shared[3], nullptr);

  // A V with clear() is cleared, its storage kept for the next entry.
  SoloMap<int, std::vector<int>> vectors;
  vectors[1].assign(100, 1);
  const int* storage = vectors[1].data();
  EXPECT_TRUE(vectors.erase(1));
  std::vector<int>& next = vectors[4];
  EXPECT_TRUE(next.empty());
  EXPECT_GE(next.capacity(), 100u);
  EXPECT_EQ(next.data(), storage);
}

}  // namespace
}  // namespace sim
