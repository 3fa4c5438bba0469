// Spec common: what the executable twins of the TLA+ modules in spec/ share —
// an action label, the limit on RMs, and the breadth-first enumerator of
// reachable states that cross-checks an encoding against TLC's published
// state counts (34 TCommit, 288 TwoPhase, 1,245 2PCwithBTM with 3 RMs).
//
// Contract: a spec is a class with a State type (equality-comparable, with
// a 64-bit Key() that is injective for n <= kSpecRmMax), Init(n) and
// Next(state, n, out) that appends every (action, successor) pair, stutters
// left out. Next is a pure function: the same state gives the same
// successors in the same order, so BFS order (and every list built from it)
// is deterministic.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"

namespace model::spec {

// The most RMs a spec instance has (states are packed into 64 bits).
constexpr int kSpecRmMax = 8;
// The most states Reachable() enumerates before it stops (a guard, never
// reached for n <= 6 by any spec here).
constexpr size_t kSpecStatesMax = 4'000'000;

// One spec action: its TLA+ name and the RM it is about (-1: a TM action).
struct Action {
  const char* name = "";
  int rm = -1;
  std::string ToText() const { return rm < 0 ? std::string(name) : std::string(name) + "(rm" + std::to_string(rm + 1) + ")"; }
};

// Every state reachable from Init(n), in breadth-first order (Init first).
// The list is its own queue: states are expanded in the order they were
// found, and what was found beyond states_max is cut off at the end.
template <class Spec>
std::vector<typename Spec::State> Reachable(int n, size_t states_max = kSpecStatesMax) {
  using State = typename Spec::State;
  std::vector<State> order;
  absl::flat_hash_set<uint64_t> seen;
  State init = Spec::Init(n);
  seen.insert(init.Key());
  order.push_back(init);
  std::vector<std::pair<Action, State>> next;
  for (size_t i = 0; i < order.size() && i < states_max; ++i) {
    const State s = order[i];  // a copy: order grows below
    next.clear();
    Spec::Next(s, n, &next);
    for (const auto& [action, t] : next) {
      if (seen.insert(t.Key()).second) order.push_back(t);
    }
  }
  if (order.size() > states_max) order.resize(states_max);
  return order;
}

// The actions that lead from `from` to `to` in one step (empty: none).
template <class Spec>
std::vector<Action> ActionsBetween(const typename Spec::State& from, const typename Spec::State& to, int n) {
  std::vector<std::pair<Action, typename Spec::State>> next;
  Spec::Next(from, n, &next);
  std::vector<Action> out;
  for (const auto& [action, t] : next) {
    if (t == to) out.push_back(action);
  }
  return out;
}

// A shortest path of at most depth_max actions from `from` to `to` (empty
// when to == from); false when there is none that short. Cost: the states
// within depth_max steps of `from`, bounded for a fixed n.
template <class Spec>
bool PathWithin(const typename Spec::State& from, const typename Spec::State& to, int n, int depth_max,
                std::vector<Action>* path) {
  using State = typename Spec::State;
  path->clear();
  if (from == to) return true;
  struct Node {
    State state;
    size_t parent;
    Action action;
    int depth;
  };
  std::vector<Node> nodes{{from, 0, {}, 0}};
  absl::flat_hash_set<uint64_t> seen{from.Key()};
  std::vector<std::pair<Action, State>> next;
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i].depth >= depth_max) continue;
    next.clear();
    Spec::Next(nodes[i].state, n, &next);
    for (const auto& [action, t] : next) {
      if (!seen.insert(t.Key()).second) continue;
      nodes.push_back({t, i, action, nodes[i].depth + 1});
      if (t == to) {
        for (size_t j = nodes.size() - 1; j != 0; j = nodes[j].parent) path->insert(path->begin(), nodes[j].action);
        return true;
      }
    }
  }
  return false;
}

}  // namespace model::spec
