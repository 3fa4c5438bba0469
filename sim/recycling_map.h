// RecyclingMap: a std::map that keeps the nodes of erased entries for the
// next insertions, so a map whose entries come and go at a steady rate (a
// kernel's live transactions, an RM's open units of work) allocates nothing
// once warm.
//
// Contract: the same ordered map as std::map<K, V, Compare> (iteration in key
// order, references stable until their entry is erased); only the nodes are
// reused. An erased entry's value is reset at once (`clear()` when V has one,
// which lets a nested RecyclingMap keep its own nodes, else `V{}`), so a
// spare node holds no resources of the entry that used it (no shared_ptr
// keeps its object alive). Limit: at most kSpareNodesMax spare nodes are kept;
// erasing beyond that frees nodes as std::map does.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <utility>
#include <vector>

namespace sim {

template <class K, class V, class Compare = std::less<K>, size_t kSpareNodesMax = 64>
class RecyclingMap {
 public:
  using Map = std::map<K, V, Compare>;
  using iterator = typename Map::iterator;
  using const_iterator = typename Map::const_iterator;
  using value_type = typename Map::value_type;
  static constexpr size_t spare_nodes_max = kSpareNodesMax;

  RecyclingMap() = default;
  RecyclingMap(RecyclingMap&&) noexcept = default;
  RecyclingMap& operator=(RecyclingMap&&) noexcept = default;
  RecyclingMap(const RecyclingMap& other) : map_(other.map_) {}
  RecyclingMap& operator=(const RecyclingMap& other) {
    if (this != &other) map_ = other.map_;
    return *this;
  }

  iterator begin() { return map_.begin(); }
  iterator end() { return map_.end(); }
  const_iterator begin() const { return map_.begin(); }
  const_iterator end() const { return map_.end(); }
  size_t size() const { return map_.size(); }
  bool empty() const { return map_.empty(); }
  iterator find(const K& key) { return map_.find(key); }
  const_iterator find(const K& key) const { return map_.find(key); }
  size_t count(const K& key) const { return map_.count(key); }
  bool contains(const K& key) const { return map_.contains(key); }
  const V& at(const K& key) const { return map_.at(key); }
  V& at(const K& key) { return map_.at(key); }
  // Spare nodes waiting for an insertion (tests).
  size_t spare_nodes() const { return spare_.size(); }

  // Like std::map::operator[]: the entry of `key`, value-initialized if new.
  V& operator[](const K& key) {
    auto it = map_.lower_bound(key);
    if (it != map_.end() && !map_.key_comp()(key, it->first)) return it->second;
    if (spare_.empty()) return map_.emplace_hint(it, key, V{})->second;
    typename Map::node_type node = std::move(spare_.back());
    spare_.pop_back();
    node.key() = key;
    return map_.insert(it, std::move(node))->second;
  }

  iterator erase(iterator it) {
    iterator next = std::next(it);
    Recycle(map_.extract(it));
    return next;
  }
  size_t erase(const K& key) {
    auto it = map_.find(key);
    if (it == map_.end()) return 0;
    erase(it);
    return 1;
  }
  void clear() {
    while (!map_.empty()) erase(map_.begin());
  }

  // What an erased entry's value becomes: clear() when V has one (a nested
  // container keeps its storage), else V{} (resources released). SoloMap's
  // solo value too.
  static void Reset(V& value) {
    if constexpr (requires(V& v) { v.clear(); }) {
      value.clear();
    } else {
      value = V{};
    }
  }

 private:
  void Recycle(typename Map::node_type node) {
    if (spare_.size() >= kSpareNodesMax) return;  // the node is freed here
    Reset(node.mapped());
    spare_.push_back(std::move(node));
  }

  Map map_;
  std::vector<typename Map::node_type> spare_;
};

}  // namespace sim
