// Coverage: the state x fault matrix and the code probe counts of a run.
//
// Crash and partition are sustained faults: active while a host is down or
// the network is partitioned, and for kCoverageWindowNs after the restart or
// heal (the recovery that follows is what the column is about). Message
// loss, duplication, reordering, latent errors and corruptions are
// instantaneous: active for kCoverageWindowNs after the injector reports them.
#include "harness/coverage.h"

#include <algorithm>
#include <iterator>
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
  world_->trace().add_listener([this](const sim::TraceEvent& event) { OnTrace(event); });
  world_->add_fault_listener(
      [this](sim::TimeNs time, const char* kind, uint32_t host) { OnFault(time, kind, host); });
}

void CoverageRecorder::OnFault(sim::TimeNs time, const char* kind, uint32_t host) {
  const std::string k = kind;
  const sim::TimeNs until = time + kCoverageWindowNs;
  auto extend = [&](const std::string& column) {
    sim::TimeNs& t = active_until_[column];
    t = std::max(t, until);
  };
  if (k == "crash") {
    down_hosts_.insert(host);
  } else if (k == "restart") {
    down_hosts_.erase(host);
    extend("crash");
  } else if (k == "partition") {
    partitioned_ = true;
  } else if (k == "heal") {
    partitioned_ = false;
    extend("partition");
  } else if (k == "loss" || k == "dup" || k == "reorder" || k == "latent" || k == "corrupt") {
    extend(k);
  }
}

std::vector<std::string> CoverageRecorder::ActiveKinds(sim::TimeNs now) const {
  std::vector<std::string> active;
  for (const std::string& column : CoverageColumns()) {
    if (column == "none") continue;
    bool on = (column == "crash" && !down_hosts_.empty()) || (column == "partition" && partitioned_);
    auto it = active_until_.find(column);
    if (it != active_until_.end() && now <= it->second) on = true;
    if (on) active.push_back(column);
  }
  return active;
}

void CoverageRecorder::OnTrace(const sim::TraceEvent& event) {
  const char* prefix = nullptr;
  if (event.kind == "tx.state") prefix = "tx ";
  if (event.kind == "en.state") prefix = "en ";
  if (prefix == nullptr) return;
  const std::string row = prefix + event.Field("to");
  ++coverage_.transitions[row];
  std::vector<std::string> active = ActiveKinds(event.time);
  if (active.empty()) active.push_back("none");
  for (const std::string& column : active) ++coverage_.matrix[row][column];
}

Coverage CoverageRecorder::Finish() const {
  Coverage coverage = coverage_;
  for (std::string_view name : ktm::kProbeNames) {
    coverage.probes[std::string(name)] = world_->probes().hits(name);
  }
  return coverage;
}

}  // namespace harness
