// A deterministic, violation-free History of any length, shaped like the
// harness's: transactions "t<N>" in windows of eight in flight, each over one
// or two of three RMs, one write (and sometimes a read) per RM, votes,
// per-RM commits and the client's outcome; about 3% vote no and abort. Reads
// see the transaction's own earlier write or the value last committed before
// the window began; the run ends with a kFinalValue for every (rm, key) ever
// written and long enough after the last transaction that termination judges
// them all. For the checker benchmarks (the same seed gives the same history).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "model/history.h"
#include "sim/rng.h"

namespace bench {

constexpr int64_t kGeneratedBoundNs = 2'000'000'000;  // termination bound to check it with

inline model::History GenerateHistory(uint64_t transactions, uint64_t seed) {
  using model::EventKind;
  constexpr uint64_t kWindow = 8;           // transactions in flight together
  constexpr int64_t kWindowNs = 10'000;
  constexpr uint64_t kKeys = 32;
  const std::vector<std::string> rms = {"kv1", "kv2", "kv3"};
  sim::Rng rng(seed);
  model::History history;
  history.events.reserve(transactions * 10 + 128);
  std::map<std::pair<std::string, std::string>, std::string> committed;  // (rm, key) -> value
  std::vector<std::pair<std::pair<std::string, std::string>, std::string>> applied;
  std::vector<model::HistoryEvent> window;
  auto add = [&window, &history](int64_t time_ns, EventKind kind, std::string_view tx, std::string_view rm,
                                 std::string_view key, std::string_view value, std::string_view detail) {
    window.push_back(model::HistoryEvent{time_ns, 0, kind, history.Intern(tx), history.Intern(rm),
                                         history.Intern(key), history.Intern(value), history.Intern(detail)});
  };
  for (uint64_t first = 0; first < transactions; first += kWindow) {
    const int64_t base = static_cast<int64_t>(first / kWindow) * kWindowNs;
    window.clear();
    applied.clear();
    for (uint64_t n = first; n < std::min(first + kWindow, transactions); ++n) {
      const int64_t at = base + static_cast<int64_t>(n - first) * 10;
      const std::string tx = absl::StrCat("t", n);
      add(at, EventKind::kBegin, tx, "", "", "", "");
      const uint64_t count = 1 + rng.Uniform(2);
      const uint64_t skip = rng.Uniform(3);
      const bool abort = rng.Bernoulli(0.03);
      std::vector<std::pair<std::string, std::string>> writes;
      for (uint64_t i = 0; i < count; ++i) {
        const std::string& rm = rms[(skip + i) % rms.size()];
        const std::string key = absl::StrCat("k", rng.Uniform(kKeys));
        const std::string value = absl::StrCat(tx, ".", i);
        add(at + 100, EventKind::kEnlist, tx, rm, "", "", "");
        if (rng.Bernoulli(0.3)) {
          auto it = committed.find({rm, key});
          add(at + 200, EventKind::kRead, tx, rm, key, it == committed.end() ? "" : it->second, "");
        }
        add(at + 300, EventKind::kWrite, tx, rm, key, value, "");
        if (rng.Bernoulli(0.2)) add(at + 400, EventKind::kRead, tx, rm, key, value, "");
        writes.push_back({rm, key});
        applied.push_back({{rm, key}, value});
        if (abort) applied.pop_back();
      }
      add(at + 2000, EventKind::kCommitRequest, tx, "", "", "", "");
      for (uint64_t i = 0; i < count; ++i) {
        const std::string& rm = writes[i].first;
        add(at + 3000, EventKind::kVote, tx, rm, "", "", abort && i == 0 ? "no" : "yes");
      }
      for (uint64_t i = 0; i < count; ++i) {
        add(at + 4000, abort ? EventKind::kRmAborted : EventKind::kRmCommitted, tx,
            writes[i].first, "", "", "");
      }
      add(at + 5000, EventKind::kOutcome, tx, "", "", "", abort ? "aborted" : "committed");
    }
    std::stable_sort(window.begin(), window.end(),
                     [](const model::HistoryEvent& a, const model::HistoryEvent& b) {
                       return a.time_ns < b.time_ns;
                     });
    for (model::HistoryEvent& event : window) history.events.push_back(std::move(event));
    for (auto& [place, value] : applied) committed[place] = std::move(value);
  }
  const int64_t end = static_cast<int64_t>(transactions / kWindow + 1) * kWindowNs;
  for (const auto& [place, value] : committed) {
    history.Add(end, 0, EventKind::kFinalValue, "", place.first, place.second, value, "");
  }
  history.end_ns = end + kGeneratedBoundNs + 1;
  return history;
}

}  // namespace bench
