// SoloMap: an ordered map that keeps one entry (its "solo") beside its tree,
// for maps that hold one entry nearly all the time and take a new one per
// unit of work: a TM's logged transactions, an RM's open units of work, a
// kv store's write sets. While the map holds a single entry, putting,
// finding and erasing it costs no tree search, node insert or rebalancing.
//
// Contract: the same map as sim::RecyclingMap<K, V, Compare> (which holds
// the other entries, so their nodes are reused too), seen through a smaller
// interface: find, operator[], erase, size, and a walk in key order
// (for_each) that takes the solo entry in its key's place among the tree's.
// Which entry is the solo one is not observable through this interface.
// References to a value stay valid until its entry is erased (the solo
// value lives in the map object). An erased entry's value is reset at once
// (clear() when V has one, else V{}), as RecyclingMap does.
// K needs operator== consistent with Compare (the solo test is one ==).
#pragma once

#include <cstddef>
#include <functional>
#include <utility>

#include "sim/recycling_map.h"

namespace sim {

template <class K, class V, class Compare = std::less<K>>
class SoloMap {
 public:
  size_t size() const { return tree_.size() + (solo_used_ ? 1 : 0); }
  bool empty() const { return !solo_used_ && tree_.empty(); }

  // The value of key, or nullptr.
  V* find(const K& key) {
    if (solo_used_ && solo_key_ == key) return &solo_value_;
    if (tree_.empty()) return nullptr;
    auto it = tree_.find(key);
    return it == tree_.end() ? nullptr : &it->second;
  }
  const V* find(const K& key) const { return const_cast<SoloMap*>(this)->find(key); }
  bool contains(const K& key) const { return find(key) != nullptr; }

  // Like std::map::operator[]: the value of key, value-initialized (or a
  // reset spare) if new. A new key takes the solo place when it is free.
  V& operator[](const K& key) {
    if (solo_used_) {
      if (solo_key_ == key) return solo_value_;
    } else if (tree_.empty() || !tree_.contains(key)) {
      solo_used_ = true;
      solo_key_ = key;
      return solo_value_;
    }
    return tree_[key];
  }

  // Erases key's entry, first calling before(V&) on its value (the value's
  // last use, with no second search). False, and no call, if key has none.
  template <class F>
  bool erase(const K& key, F&& before) {
    if (solo_used_ && solo_key_ == key) {
      before(solo_value_);
      solo_used_ = false;
      RecyclingMap<K, V, Compare>::Reset(solo_value_);
      return true;
    }
    if (tree_.empty()) return false;
    auto it = tree_.find(key);
    if (it == tree_.end()) return false;
    before(it->second);
    tree_.erase(it);
    return true;
  }
  bool erase(const K& key) {
    return erase(key, [](V&) {});
  }

  // fn(const K&, const V&) for every entry, in key order.
  template <class F>
  void for_each(F&& fn) const {
    const Compare less;
    bool solo_pending = solo_used_;
    for (const auto& [key, value] : tree_) {
      if (solo_pending && less(solo_key_, key)) {
        fn(solo_key_, solo_value_);
        solo_pending = false;
      }
      fn(key, value);
    }
    if (solo_pending) fn(solo_key_, solo_value_);
  }

 private:
  bool solo_used_ = false;
  K solo_key_{};
  V solo_value_{};
  // Never holds solo_key_ while solo_used_.
  RecyclingMap<K, V, Compare> tree_;
};

}  // namespace sim
