// Coverage: the state x fault matrix and the code probe counts of a run.
//
// Crash and partition are sustained faults: active while a host is down or
// the network is partitioned, and for kCoverageWindowNs after the restart or
// heal (the recovery that follows is what the column is about). Message
// loss, duplication, reordering, latent errors and corruptions are
// instantaneous: active for kCoverageWindowNs after the injector reports them.
#include "harness/coverage.h"

#include <algorithm>
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
  static const std::vector<std::string> columns = {"none", "crash", "partition", "loss",
                                                   "dup", "reorder", "latent", "corrupt"};
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

namespace {

constexpr size_t kCrashColumn = 1, kPartitionColumn = 2;

// Index of a column in CoverageColumns(), or SIZE_MAX.
size_t ColumnIndex(std::string_view column) {
  const std::vector<std::string>& columns = CoverageColumns();
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i] == column) return i;
  }
  return SIZE_MAX;
}

}  // namespace

CoverageRecorder::CoverageRecorder(sim::World* world) : world_(world) {
  static_assert(kColumns == 8, "CoverageColumns() has 8 columns");
  active_until_.fill(std::numeric_limits<sim::TimeNs>::min());
  world_->trace().add_listener([this](const sim::TraceEvent& event) { OnTrace(event); },
                               [](std::string_view kind) { return kind == "tx.state" || kind == "en.state"; });
  world_->add_fault_listener(
      [this](sim::TimeNs time, const char* kind, uint32_t host) { OnFault(time, kind, host); });
}

void CoverageRecorder::OnFault(sim::TimeNs time, const char* kind, uint32_t host) {
  const std::string_view k = kind;
  const sim::TimeNs until = time + kCoverageWindowNs;
  auto extend = [&](size_t column) {
    sim::TimeNs& t = active_until_[column];
    t = std::max(t, until);
  };
  if (k == "crash") {
    down_hosts_.insert(host);
  } else if (k == "restart") {
    down_hosts_.erase(host);
    extend(kCrashColumn);
  } else if (k == "partition") {
    partitioned_ = true;
  } else if (k == "heal") {
    partitioned_ = false;
    extend(kPartitionColumn);
  } else if (k == "loss" || k == "dup" || k == "reorder" || k == "latent" || k == "corrupt") {
    extend(ColumnIndex(k));
  }
}

void CoverageRecorder::OnTrace(const sim::TraceEvent& event) {
  std::string_view prefix;
  if (event.kind == "tx.state") prefix = "tx ";
  if (event.kind == "en.state") prefix = "en ";
  if (prefix.empty()) return;
  const std::string& to = event.Field("to");
  char buffer[64];
  std::string_view row;
  std::string long_row;
  if (prefix.size() + to.size() <= sizeof buffer) {
    std::copy(prefix.begin(), prefix.end(), buffer);
    std::copy(to.begin(), to.end(), buffer + prefix.size());
    row = std::string_view(buffer, prefix.size() + to.size());
  } else {
    long_row = std::string(prefix) + to;
    row = long_row;
  }
  auto it = rows_.find(row);
  if (it == rows_.end()) it = rows_.emplace(std::string(row), RowCounts{}).first;
  RowCounts& counts = it->second;
  ++counts.transitions;
  bool any = false;
  for (size_t column = 1; column < kColumns; ++column) {
    const bool on = (column == kCrashColumn && !down_hosts_.empty()) ||
                    (column == kPartitionColumn && partitioned_) || event.time <= active_until_[column];
    if (on) {
      ++counts.cells[column];
      any = true;
    }
  }
  if (!any) ++counts.cells[0];
}

Coverage CoverageRecorder::Finish() const {
  Coverage coverage;
  const std::vector<std::string>& columns = CoverageColumns();
  for (const auto& [row, counts] : rows_) {
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
