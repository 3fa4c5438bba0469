// Fuzz target: the fault schedule parser (sim/fault_plan.h) and its check
// against a scenario (harness/schedule_validation.h) on arbitrary text.
// Properties: Parse never crashes; a parsed schedule prints and parses back
// to the same text; when CheckFaultSchedule finds no problem, Parse succeeds
// and the schedule runs on that scenario to the end without an assertion or
// undefined behaviour (the contract `ktmsim replay --schedule` relies on:
// before issue 15 an unknown disk aborted with exit 134 and a huge message
// delay overflowed).
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_check.h"
#include "harness/runner.h"
#include "harness/scenario.h"
#include "harness/schedule_validation.h"
#include "sim/fault_plan.h"

namespace {

// Two hosts with durable TMs (so both have Dtc disks), three RMs, small
// disks (sector numbers a mutation reaches), the "beyond" budget so latent
// and corrupt events are allowed, and a short run.
harness::Scenario FuzzScenario() {
  harness::Scenario scenario;
  scenario.name = "schedule_fuzz";
  for (const char* name : {"node1", "node2"}) {
    harness::HostSpec host;
    host.name = name;
    host.log_disk.sector_count = 256;
    scenario.hosts.push_back(host);
  }
  for (const auto& [name, host] : {std::pair{"kv1", "node1"}, {"kv2", "node1"}, {"kv3", "node2"}}) {
    harness::RmSpec rm;
    rm.name = name;
    rm.host = host;
    rm.disk.sector_count = 64;
    scenario.rms.push_back(rm);
  }
  scenario.workload.transactions = 6;
  scenario.workload.distributed_fraction = 0.5;
  scenario.faults.budget = "beyond";
  scenario.faults.faults_until_ns = 50 * sim::kMillisecond;
  scenario.termination_bound_ns = 200 * sim::kMillisecond;
  scenario.run_until_ns = 300 * sim::kMillisecond;
  FUZZ_CHECK(harness::Validate(scenario).ok(), "the fuzz scenario is valid");
  return scenario;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const harness::Scenario* const kScenario = new harness::Scenario(FuzzScenario());
  const std::string text(reinterpret_cast<const char*>(data), size);
  const absl::StatusOr<sim::FaultSchedule> parsed = sim::FaultSchedule::Parse(text);
  if (parsed.ok()) {
    const std::string printed = parsed->ToText();
    const absl::StatusOr<sim::FaultSchedule> again = sim::FaultSchedule::Parse(printed);
    FUZZ_CHECK(again.ok(), "a printed schedule parses");
    FUZZ_CHECK(again->ToText() == printed, "printing is a fixed point");
  }
  if (!harness::CheckFaultSchedule(*kScenario, text).empty()) return 0;
  FUZZ_CHECK(parsed.ok(), "a schedule without problems parses");
  harness::RunOptions options;
  options.keep_trace = false;
  options.schedule = *parsed;
  const harness::RunResult result = harness::RunScenario(*kScenario, 1, options);
  FUZZ_CHECK(result.sim_time_ns <= kScenario->run_until_ns + sim::kSecond, "the run ends");
  return 0;
}
