// Coverage: what a run (or a suite, summed) reached — a matrix of
// transaction and enlistment states by the fault kinds active when the state
// was entered, and the hit counts of the engine's code probes (ktm/probes.h).
// docs/coverage.md explains the columns and the "active" rule.
//
// Contract: a CoverageRecorder listens to one world (its trace and its fault
// listener) from before the run starts; Finish() reads the world's probes.
// It only observes: a run's digest is the same with or without it.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "harness/same_text.h"
#include "sim/fault_kinds.h"
#include "sim/time.h"
#include "sim/trace.h"
#include "sim/world.h"

namespace harness {

struct Coverage {
  // Rows "tx <State>" / "en <State>" / "rm <phase>" (the "to" of a tx.state /
  // en.state / rm.phase event: KTM's transaction and enlistment states and
  // the RM-side transaction phases of ktm/rm_base.h); columns from CoverageColumns(). A transition entered while k
  // fault kinds were active counts once in each of their k columns; with
  // none active it counts in "none". Only nonzero cells are stored.
  std::map<std::string, std::map<std::string, uint64_t>> matrix;
  // Transitions into each row's state, each counted once (a row's "none"
  // cell plus the transitions with any fault active).
  std::map<std::string, uint64_t> transitions;
  // Every declared probe (zeros included) -> hits.
  std::map<std::string, uint64_t> probes;
  // Spec coverage (harness/conformance.h): number of RMs -> keys of the
  // KtmTwoPhaseCrash states the conformance projection visited.
  std::map<int, std::set<uint64_t>> spec_states;

  void Merge(const Coverage& other);
  uint64_t Cell(const std::string& row, const std::string& column) const;
  // Declared probes with zero hits, in declaration order.
  std::vector<std::string> NeverReachedProbes() const;
};

// Every probe ktm/probes.h declares, in declaration order.
const std::vector<std::string>& DeclaredProbes();

// "none", then the fault kinds of the catalog (sim/fault_kinds.h), in its
// order: "crash", "partition", "loss", "dup", "reorder", "latent", "corrupt".
const std::vector<std::string>& CoverageColumns();

// How long an instantaneous fault (or the end of a crash or partition)
// counts as active: recovery and retransmission happen in this window.
constexpr sim::TimeNs kCoverageWindowNs = 10 * sim::kMillisecond;

class CoverageRecorder {
 public:
  explicit CoverageRecorder(sim::World* world);
  CoverageRecorder(const CoverageRecorder&) = delete;
  CoverageRecorder& operator=(const CoverageRecorder&) = delete;

  // The coverage so far, with the world's probe counts.
  Coverage Finish() const;

 private:
  // Columns by index into CoverageColumns() (0 is "none").
  static constexpr size_t kColumns = 1 + sim::kFaultKindCount;
  static_assert(kColumns <= 64, "active columns are bits of a word");
  struct RowCounts {
    uint64_t transitions = 0;
    std::array<uint64_t, kColumns> cells{};
  };

  void OnTrace(const sim::TraceView& event);
  void OnFault(sim::TimeNs time, const char* kind, uint32_t host);

  // The row of (kind's word, the "to" field's value word), found without
  // making its text but checked against it (a word collision takes the
  // text's row).
  RowCounts& Row(uint64_t kind_word, std::string_view prefix, const sim::TraceField* to);
  // Bits of the columns (1..) active at `time` (events come in time order).
  uint64_t ActiveColumns(sim::TimeNs time);

  sim::World* world_;
  // Counted per row with columns by index (every state change passes here:
  // no string keys per column, no ordered-map walk); Finish turns them into
  // a Coverage (ordered there). Row texts -> their index in rows_.
  struct RowEntry {
    std::string text;
    RowCounts counts;
  };
  std::vector<RowEntry> rows_;
  absl::flat_hash_map<std::string, uint32_t> row_of_text_;
  // (kind word, value word) -> index in rows_ (text-valued fields only).
  absl::flat_hash_map<std::pair<uint64_t, uint64_t>, uint32_t> row_of_words_;
  // In front of row_of_words_: a direct-mapped cache of its entries, slot
  // by a multiply of the two words (a run has a few dozen rows; a slot
  // shared by two of them just sends one to the map). A hit still checks
  // the row's text, as the map path does.
  struct CachedRow {
    uint64_t kind_word = 0, value_word = 0;
    uint32_t row = kNoRow;
  };
  static constexpr uint32_t kNoRow = 0xffffffffu;
  static constexpr int kRowCacheBits = 8;
  static size_t RowCacheSlot(uint64_t kind_word, uint64_t value_word) {
    return static_cast<size_t>(((kind_word ^ (value_word * 0x9e3779b97f4a7c15ull)) * 0xd6e8feb86659fd93ull) >>
                               (64 - kRowCacheBits));
  }
  // The row's text is prefix + text.
  bool RowTextIs(const RowEntry& row, std::string_view prefix, std::string_view text) const {
    return row.text.size() == prefix.size() + text.size() &&
           SameText(std::string_view(row.text).substr(prefix.size()), text);
  }
  std::array<CachedRow, size_t{1} << kRowCacheBits> row_cache_{};
  // The row from the cache, or nullptr (then Row() finds or makes it).
  RowCounts* CachedRowOf(uint64_t kind_word, std::string_view prefix, const sim::TraceField* to) {
    if (to == nullptr || to->type != sim::TraceField::Type::kText) return nullptr;
    const uint64_t value_word = to->ValueWord();
    const CachedRow& cached = row_cache_[RowCacheSlot(kind_word, value_word)];
    if (cached.row == kNoRow || cached.kind_word != kind_word || cached.value_word != value_word) return nullptr;
    RowEntry& row = rows_[cached.row];
    return RowTextIs(row, prefix, to->text) ? &row.counts : nullptr;
  }
  // Sustained faults in progress, per column: the hosts (kNoHost for a
  // network-wide fault) where the fault has not ended yet.
  std::array<std::set<uint32_t>, kColumns> ongoing_;
  // Column -> last instant it counts as active (INT64_MIN: never).
  std::array<sim::TimeNs, kColumns> active_until_;
  // ActiveColumns' answer, good for times up to active_valid_until_ while no
  // fault arrives (OnFault clears active_valid_).
  uint64_t active_mask_ = 0;
  sim::TimeNs active_valid_until_ = 0;
  bool active_valid_ = false;
};

}  // namespace harness
