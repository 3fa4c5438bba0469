// Coverage: the state x fault matrix and the code probe counts of a run.
//
// Crash and partition are sustained faults: active while a host is down or
// the network is partitioned, and for kCoverageWindowNs after the restart or
// heal (the recovery that follows is what the column is about). Message
// loss, duplication, reordering, latent errors and corruptions are
// instantaneous: active for kCoverageWindowNs after the injector reports them.
#include "harness/coverage.h"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <iterator>
#include <limits>
#include <string_view>
#include <utility>

#include "ktm/probes.h"

namespace harness {

const std::vector<std::string>& DeclaredProbes() {
  static const std::vector<std::string> names(std::begin(ktm::kProbeNames), std::end(ktm::kProbeNames));
  return names;
}

const std::vector<std::string>& CoverageColumns() {
  static const std::vector<std::string> columns = [] {
    std::vector<std::string> c = {"none"};
    for (const sim::FaultKindInfo& kind : sim::kFaultKinds) c.emplace_back(kind.name);
    return c;
  }();
  return columns;
}

void Coverage::Merge(const Coverage& other) {
  for (const auto& [row, cells] : other.matrix) {
    for (const auto& [column, count] : cells) matrix[row][column] += count;
  }
  for (const auto& [row, count] : other.transitions) transitions[row] += count;
  for (const auto& [probe, hits] : other.probes) probes[probe] += hits;
  for (const auto& [n, keys] : other.spec_states) spec_states[n].insert(keys.begin(), keys.end());
}

uint64_t Coverage::Cell(const std::string& row, const std::string& column) const {
  auto r = matrix.find(row);
  if (r == matrix.end()) return 0;
  auto c = r->second.find(column);
  return c == r->second.end() ? 0 : c->second;
}

std::vector<std::string> Coverage::NeverReachedProbes() const {
  std::vector<std::string> never;
  for (const std::string& name : DeclaredProbes()) {
    auto it = probes.find(name);
    if (it == probes.end() || it->second == 0) never.push_back(name);
  }
  return never;
}


CoverageRecorder::CoverageRecorder(sim::World* world) : world_(world) {
  active_until_.fill(std::numeric_limits<sim::TimeNs>::min());
  world_->trace().add_view_listener(
      [this](const sim::TraceView& event) { OnTrace(event); },
      [](std::string_view kind) { return kind == "tx.state" || kind == "en.state" || kind == "rm.phase"; });
  world_->add_fault_listener(
      [this](sim::TimeNs time, const char* kind, uint32_t host) { OnFault(time, kind, host); });
}

void CoverageRecorder::OnFault(sim::TimeNs time, const char* kind, uint32_t host) {
  active_valid_ = false;  // a column may turn on or off
  const std::string_view k = kind;
  const sim::TimeNs until = time + kCoverageWindowNs;
  for (size_t i = 0; i < sim::kFaultKindCount; ++i) {
    const sim::FaultKindInfo& info = sim::kFaultKinds[i];
    const size_t column = 1 + i;
    if (k == info.name && info.ends_by.empty()) {
      active_until_[column] = std::max(active_until_[column], until);  // instantaneous
    } else if (k == info.name) {
      ongoing_[column].insert(host);  // sustained: until its end, then the window
    } else if (k == info.ends_by && ongoing_[column].erase(host) > 0) {
      active_until_[column] = std::max(active_until_[column], until);
    }
  }
}

void CoverageRecorder::OnTrace(const sim::TraceView& event) {
  std::string_view prefix;
  switch (event.kind.hash) {  // the kind's digest word, computed once per name
    case sim::TraceTextHash("tx.state"):
      prefix = "tx ";
      break;
    case sim::TraceTextHash("en.state"):
      prefix = "en ";
      break;
    case sim::TraceTextHash("rm.phase"):
      prefix = "rm ";
      break;
    default:
      return;
  }
  const sim::TraceField* to = event.Find("to");
  RowCounts* cached = CachedRowOf(event.kind.hash, prefix, to);
  RowCounts& counts = cached != nullptr ? *cached : Row(event.kind.hash, prefix, to);
  ++counts.transitions;
  const uint64_t active = ActiveColumns(event.time);
  if (active == 0) {
    ++counts.cells[0];
    return;
  }
  for (uint64_t bits = active; bits != 0; bits &= bits - 1) ++counts.cells[std::countr_zero(bits)];
}

CoverageRecorder::RowCounts& CoverageRecorder::Row(uint64_t kind_word, std::string_view prefix,
                                                   const sim::TraceField* to) {
  const bool text_value = to != nullptr && to->type == sim::TraceField::Type::kText;
  const std::pair<uint64_t, uint64_t> words{kind_word, text_value ? to->ValueWord() : 0};
  CachedRow* cached = nullptr;
  if (text_value) {
    cached = &row_cache_[RowCacheSlot(words.first, words.second)];
    if (auto it = row_of_words_.find(words); it != row_of_words_.end()) {
      RowEntry& row = rows_[it->second];
      if (RowTextIs(row, prefix, to->text)) {
        *cached = CachedRow{words.first, words.second, it->second};
        return row.counts;
      }
    }
  }
  std::string scratch;
  const std::string_view value = to == nullptr ? std::string_view() : to->ValueView(&scratch);
  std::string text;
  text.reserve(prefix.size() + value.size());
  text.append(prefix).append(value);
  auto [it, inserted] = row_of_text_.try_emplace(text, static_cast<uint32_t>(rows_.size()));
  if (inserted) rows_.push_back(RowEntry{std::move(text), {}});
  if (text_value) {
    const auto [at, fresh] = row_of_words_.try_emplace(words, it->second);  // a collision keeps the first
    if (fresh) *cached = CachedRow{words.first, words.second, it->second};
  }
  return rows_[it->second].counts;
}

uint64_t CoverageRecorder::ActiveColumns(sim::TimeNs time) {
  if (active_valid_ && time <= active_valid_until_) return active_mask_;
  // A column is on while its fault is ongoing, or until its window ends.
  active_mask_ = 0;
  active_valid_until_ = std::numeric_limits<sim::TimeNs>::max();
  for (size_t column = 1; column < kColumns; ++column) {
    if (!ongoing_[column].empty()) {
      active_mask_ |= uint64_t{1} << column;
    } else if (time <= active_until_[column]) {
      active_mask_ |= uint64_t{1} << column;
      active_valid_until_ = std::min(active_valid_until_, active_until_[column]);
    }  // else past its window: off until a fault (OnFault) moves it
  }
  active_valid_ = true;
  return active_mask_;
}

Coverage CoverageRecorder::Finish() const {
  Coverage coverage;
  const std::vector<std::string>& columns = CoverageColumns();
  for (const auto& [row, counts] : rows_) {  // RowEntry: text, counts
    coverage.transitions[row] += counts.transitions;
    for (size_t column = 0; column < kColumns; ++column) {
      if (counts.cells[column] > 0) coverage.matrix[row][columns[column]] += counts.cells[column];
    }
  }
  for (std::string_view name : ktm::kProbeNames) {
    coverage.probes[std::string(name)] = world_->probes().hits(name);
  }
  return coverage;
}

}  // namespace harness
