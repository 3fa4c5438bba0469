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
  std::string scratch;
  const std::string_view to = event.FieldText("to", &scratch);
  char buffer[64];
  std::string_view row;
  std::string long_row;
  if (prefix.size() + to.size() <= sizeof buffer) {
    std::copy(prefix.begin(), prefix.end(), buffer);
    std::copy(to.begin(), to.end(), buffer + prefix.size());
    row = std::string_view(buffer, prefix.size() + to.size());
  } else {
    long_row = std::string(prefix);
    long_row += to;
    row = long_row;
  }
  auto it = rows_.find(absl::string_view(row.data(), row.size()));
  if (it == rows_.end()) it = rows_.emplace(std::string(row), RowCounts{}).first;
  RowCounts& counts = it->second;
  ++counts.transitions;
  bool any = false;
  for (size_t column = 1; column < kColumns; ++column) {
    const bool on = !ongoing_[column].empty() || event.time <= active_until_[column];
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
