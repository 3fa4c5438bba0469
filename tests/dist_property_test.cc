// Property test of distributed transactions through the whole stack (label
// dist): random distributed workloads over 2-4 hosts under random fault plans
// (crashes of roots and participants, targeted crashes, message loss,
// duplication, reordering, partitions) pass every checker. 500 cases by
// default; RC_PARAMS="max_success=5000" raises it (any RC_PARAMS, e.g. a
// reproduce= string, is used as given).
#include <cstdlib>
#include <string>

#include "gtest/gtest.h"
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "absl/strings/str_cat.h"
#include "harness/runner.h"
#include "harness/scenario.h"

namespace {

using harness::Scenario;

void AddHosts(Scenario& s) {
  const int hosts = *rc::gen::inRange(2, 5);
  for (int i = 0; i < hosts; ++i) {
    harness::HostSpec host;
    host.name = absl::StrCat("h", i);
    // Small logs make the TM checkpoint and the DTC snapshot often.
    host.log_disk.sector_count = *rc::gen::element<uint64_t>(4096, 4096, 96);
    s.hosts.push_back(host);
    // 0-2 RMs per host; the first two hosts always have one, so two hosts can take part.
    const int rms = i < 2 ? *rc::gen::inRange(1, 3) : *rc::gen::inRange(0, 3);
    for (int r = 0; r < rms; ++r) {
      harness::RmSpec rm;
      rm.name = absl::StrCat("kv", i, "_", r);
      rm.host = host.name;
      rm.single_phase = *rc::gen::arbitrary<bool>();
      rm.vote_no_probability = *rc::gen::element(0.0, 0.0, 0.05);
      rm.disk.sector_count = 4096;
      s.rms.push_back(rm);
    }
  }
}

void AddWorkload(Scenario& s) {
  auto& w = s.workload;
  w.transactions = *rc::gen::inRange(1, 16);
  w.concurrency = *rc::gen::inRange(1, 6);
  w.distributed_fraction = *rc::gen::element(0.3, 0.7, 1.0);
  w.rms_per_tx_min = 1;
  w.rms_per_tx_max = static_cast<uint32_t>(*rc::gen::inRange(1, static_cast<int>(s.rms.size()) + 1));
  w.keys = *rc::gen::inRange(1, 8);
  w.ops_max = *rc::gen::inRange(1, 4);
  w.rollback_fraction = *rc::gen::element(0.0, 0.1, 0.3);
  w.read_only_fraction = *rc::gen::element(0.0, 0.1, 0.3);
  w.commit_fraction = 1 - w.rollback_fraction - w.read_only_fraction;
  w.async_commit_fraction = *rc::gen::element(0.0, 0.3);
  w.timeout_ns = *rc::gen::element<sim::TimeNs>(0, 0, 20 * sim::kMillisecond);
}

void AddFaults(Scenario& s) {
  auto& f = s.faults;
  f.mode = *rc::gen::element(harness::FaultMode::kNone, harness::FaultMode::kProbabilities,
                             harness::FaultMode::kProbabilities, harness::FaultMode::kSwarm);
  auto& p = f.probabilities;
  p.crash_per_second = *rc::gen::element(0.0, 20.0, 60.0);
  p.restart_delay_min_ns = sim::kMillisecond;
  p.restart_delay_max_ns = *rc::gen::element<sim::TimeNs>(20 * sim::kMillisecond, 300 * sim::kMillisecond);
  p.message_loss = *rc::gen::element(0.0, 0.05, 0.2);
  p.message_duplicate = *rc::gen::element(0.0, 0.1);
  p.message_reorder = *rc::gen::element(0.0, 0.2);
  p.partition_per_second = *rc::gen::element(0.0, 20.0);
  p.partition_duration_max_ns = *rc::gen::element<sim::TimeNs>(30 * sim::kMillisecond, 300 * sim::kMillisecond);
  f.crash_on = *rc::gen::element<std::string>("", "", "prepare", "commit", "log_force");
  f.crash_on_probability = f.crash_on.empty() ? 0 : 0.2;
  if (!f.crash_on.empty() && f.mode == harness::FaultMode::kNone) f.mode = harness::FaultMode::kProbabilities;
  f.faults_until_ns = *rc::gen::element<sim::TimeNs>(60 * sim::kMillisecond, 400 * sim::kMillisecond);
  s.termination_bound_ns = 2 * sim::kSecond;
  s.run_until_ns = 5 * sim::kSecond;
}

rc::Gen<Scenario> GenDistributedScenario() {
  return rc::gen::exec([] {
    Scenario s;
    s.name = "dist_property";
    AddHosts(s);
    AddWorkload(s);
    AddFaults(s);
    return s;
  });
}

std::string Describe(const Scenario& s, const harness::RunResult& r) {
  std::string out = absl::StrCat("seed ", r.seed, ": ", r.violations.size(), " violations (", s.hosts.size(),
                                 " hosts, ", s.rms.size(), " RMs, ", s.workload.transactions, " transactions)\n");
  for (const auto& v : r.violations) absl::StrAppend(&out, "  ", v.rule, " ", v.tx, ": ", v.message, "\n");
  return out;
}

RC_GTEST_PROP(DistProperty, RandomDistributedWorkloadsAndFaultPlansPassEveryChecker, ()) {
  Scenario s = *GenDistributedScenario();
  RC_ASSERT(harness::Validate(s).ok());
  uint64_t seed = *rc::gen::arbitrary<uint64_t>();
  harness::RunResult r = harness::RunScenario(s, seed, {.keep_trace = false});
  RC_ASSERT(r.transactions > 0);
  if (!r.violations.empty()) RC_FAIL(Describe(s, r));
}

}  // namespace

int main(int argc, char** argv) {
  if (std::getenv("RC_PARAMS") == nullptr) setenv("RC_PARAMS", "max_success=500", 0);
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
