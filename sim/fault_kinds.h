// Fault kinds: the one catalog of the kinds of fault the simulator injects.
// Every room that names a fault kind reads it from here: the injector's
// fault listener reports (World::NoteFault) use these names, the coverage
// matrix has one column per kind (harness/coverage.h), the fault budgets
// (docs/faults.md) say which kinds a scenario's "recoverable" budget keeps,
// and each kind's rate is one field of FaultProbabilities.
//
// A kind is either instantaneous (a lost message, a corrupted sector: it
// counts as active for a short window after it happened) or sustained (a
// crash lasts until the host restarts, a partition until it heals: `ends_by`
// names the NoteFault kind that ends it, per host for host faults).
//
// Adding a kind (docs/extending.md): its mechanism in Disk/Network/Host, a
// rate field in FaultProbabilities, the planner and Apply case in the
// FaultInjector with its schedule text, and one line here.
#pragma once

#include <cstddef>
#include <iterator>
#include <string_view>

#include "sim/fault_plan.h"

namespace sim {

// Which budget a kind belongs to (docs/faults.md): faults KTM must survive
// with every promise kept, or faults that destroy data with no second copy,
// under which only detection (a refusal) is promised.
enum class FaultBudget : unsigned char { kRecoverable, kBeyond };

// What a kind's rate counts: events per second (a Poisson process, per host,
// per disk or world-wide), or a probability per datagram.
enum class FaultRateUnit : unsigned char { kPerSecond, kPerMessage };

struct FaultKindInfo {
  std::string_view name;                  // NoteFault kind, coverage column, docs
  std::string_view ends_by;               // sustained: the NoteFault kind that ends it; "" instantaneous
  FaultBudget budget;
  double FaultProbabilities::*rate;       // its rate (per second or per message)
  std::string_view what;                  // one line for docs and reports
  std::string_view rate_key;              // the scenario key of its rate ([faults] table)
  FaultRateUnit unit;
};

inline constexpr FaultKindInfo kFaultKinds[] = {
    {"crash", "restart", FaultBudget::kRecoverable, &FaultProbabilities::crash_per_second,
     "a host loses power: volatile state and unflushed writes lost, multi-sector writes may tear",
     "crash_per_second", FaultRateUnit::kPerSecond},
    {"partition", "heal", FaultBudget::kRecoverable, &FaultProbabilities::partition_per_second,
     "the network splits into groups that cannot reach each other", "partition_per_second",
     FaultRateUnit::kPerSecond},
    {"loss", "", FaultBudget::kRecoverable, &FaultProbabilities::message_loss, "a datagram is dropped",
     "message_loss", FaultRateUnit::kPerMessage},
    {"dup", "", FaultBudget::kRecoverable, &FaultProbabilities::message_duplicate, "a datagram arrives twice",
     "message_duplicate", FaultRateUnit::kPerMessage},
    {"reorder", "", FaultBudget::kRecoverable, &FaultProbabilities::message_reorder,
     "a datagram is delayed past later ones", "message_reorder", FaultRateUnit::kPerMessage},
    {"latent", "", FaultBudget::kBeyond, &FaultProbabilities::latent_error_per_second,
     "a written sector becomes unreadable", "latent_error_per_second", FaultRateUnit::kPerSecond},
    {"corrupt", "", FaultBudget::kBeyond, &FaultProbabilities::corrupt_per_second,
     "a durable sector's bytes change", "corrupt_per_second", FaultRateUnit::kPerSecond},
    // Aimed at the data-page regions an engine tags on its disk (a PageStore's
    // pages; sim/disk.h TagRegion): the simulator never learns a layout.
    {"page_torn", "restart", FaultBudget::kRecoverable, &FaultProbabilities::page_torn_per_second,
     "a host loses power while a data-page write is in flight: the page tears (a prefix of its sectors new)",
     "page_torn_per_second", FaultRateUnit::kPerSecond},
    {"page_lost", "restart", FaultBudget::kRecoverable, &FaultProbabilities::page_lost_per_second,
     "a data-page write is acknowledged but never stored, then the host loses power",
     "page_lost_per_second", FaultRateUnit::kPerSecond},
    {"page_latent", "", FaultBudget::kBeyond, &FaultProbabilities::page_latent_per_second,
     "a written data-page sector becomes unreadable", "page_latent_per_second", FaultRateUnit::kPerSecond},
};
inline constexpr size_t kFaultKindCount = std::size(kFaultKinds);

// The catalog index of `name`, or kFaultKindCount.
// (Also by rate key: FaultKindIndexByKey.)
constexpr size_t FaultKindIndex(std::string_view name) {
  for (size_t i = 0; i < kFaultKindCount; ++i) {
    if (kFaultKinds[i].name == name) return i;
  }
  return kFaultKindCount;
}

// The catalog index of the kind whose rate key is `key`, or kFaultKindCount.
constexpr size_t FaultKindIndexByKey(std::string_view key) {
  for (size_t i = 0; i < kFaultKindCount; ++i) {
    if (kFaultKinds[i].rate_key == key) return i;
  }
  return kFaultKindCount;
}

// The probabilities with every kind outside `budget` switched off
// (kRecoverable keeps only recoverable kinds; kBeyond keeps all).
inline FaultProbabilities WithinBudget(FaultProbabilities p, FaultBudget budget) {
  if (budget == FaultBudget::kBeyond) return p;
  for (const FaultKindInfo& kind : kFaultKinds) {
    if (kind.budget == FaultBudget::kBeyond) p.*kind.rate = 0;
  }
  return p;
}

}  // namespace sim
