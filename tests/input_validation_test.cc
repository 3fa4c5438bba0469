// input_validation_test: issue 15's run-level guarantees, with the runner.
//
// - Vacuous runs fail (harness/vacuous.h): a run whose workload never
//   started, or in which nothing committed without a fault, is not a pass.
// - The load-time enlistment limit is the engine's: 64 RMs per transaction
//   run and commit.
// - Schedule validation agrees with the harness: HostDisks lists the disks
//   the Cluster builds, and every schedule a run records is accepted again.
// - `ktmsim replay --schedule FILE` refuses events the scenario cannot take
//   with FILE:LINE and exit 2 (it aborted with exit 134 before).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "harness/cluster.h"
#include "harness/runner.h"
#include "harness/scenario.h"
#include "harness/scenario_toml.h"
#include "harness/schedule_validation.h"
#include "harness/vacuous.h"

namespace harness {
namespace {

using ::testing::HasSubstr;

Scenario OneHost(size_t rms) {
  Scenario scenario;
  scenario.name = "input_validation";
  scenario.hosts.push_back({.name = "node1"});
  for (size_t r = 0; r < rms; ++r) {
    RmSpec rm;
    rm.name = absl::StrCat("kv", r);
    rm.host = "node1";
    scenario.rms.push_back(rm);
  }
  scenario.workload.transactions = 10;
  return scenario;
}

bool HasVacuousViolation(const RunResult& result) {
  for (const Violation& violation : result.violations) {
    if (violation.rule == kVacuousRule) return true;
  }
  return false;
}

TEST(VacuousRuns, RunUntilBeforeTheHostsBootFails) {
  Scenario scenario = OneHost(1);
  scenario.run_until_ns = 100 * sim::kMicrosecond;
  scenario.faults.faults_until_ns = 0;
  scenario.termination_bound_ns = 1;
  ASSERT_TRUE(Validate(scenario).ok()) << Validate(scenario);
  const RunResult result = RunScenario(scenario, 1, {.keep_trace = false});
  EXPECT_EQ(result.transactions, 0u);
  EXPECT_FALSE(result.passed);
  ASSERT_TRUE(HasVacuousViolation(result));
  EXPECT_THAT(result.violations.back().message, HasSubstr("the workload started no transaction"));
}

TEST(VacuousRuns, NothingCommittedWithoutAFaultFails) {
  Scenario scenario = OneHost(2);
  for (RmSpec& rm : scenario.rms) {
    rm.single_phase = false;
    rm.vote_no_probability = 1;  // every prepare is refused: no transaction can commit
  }
  scenario.workload.rms_per_tx_min = 2;
  scenario.workload.transactions = 40;  // enough commit requests to rule out chance (harness/vacuous.cc)
  scenario.workload.read_only_fraction = 0;
  scenario.workload.read_fraction = 0;
  const RunResult result = RunScenario(scenario, 1, {.keep_trace = false});
  EXPECT_EQ(result.committed, 0u);
  EXPECT_FALSE(result.passed);
  ASSERT_TRUE(HasVacuousViolation(result));
  EXPECT_THAT(result.violations.back().message, HasSubstr("no transaction committed although"));
}

TEST(VacuousRuns, AnOrdinaryRunIsNotVacuous) {
  const RunResult result = RunScenario(OneHost(2), 1, {.keep_trace = false});
  EXPECT_GT(result.committed, 0u);
  EXPECT_TRUE(result.passed);
  EXPECT_EQ(VacuousReason(result), "");
}

TEST(EngineLimits, SixtyFourRmsPerTransactionCommit) {
  Scenario scenario = OneHost(64);
  scenario.workload.transactions = 3;
  scenario.workload.rms_per_tx_min = 64;
  scenario.workload.rms_per_tx_max = 64;
  scenario.workload.ops_min = scenario.workload.ops_max = 1;
  ASSERT_TRUE(Validate(scenario).ok()) << Validate(scenario);
  const RunResult result = RunScenario(scenario, 1, {.keep_trace = false});
  EXPECT_TRUE(result.passed);
  EXPECT_GT(result.committed, 0u);
}

TEST(ScheduleAgreement, HostDisksAreTheDisksTheClusterBuilds) {
  Scenario scenario = OneHost(2);
  scenario.hosts.push_back({.name = "node2"});
  scenario.hosts.push_back({.name = "node3", .tm_volatile = true});
  scenario.rms[1].host = "node2";
  scenario.rms[1].disk.sector_count = 100;
  RmSpec rm;
  rm.name = "volatile";
  rm.host = "node3";
  rm.durable = false;
  scenario.rms.push_back(rm);
  for (const double distributed : {0.0, 0.5}) {
    scenario.workload.distributed_fraction = distributed;
    ASSERT_TRUE(Validate(scenario).ok()) << Validate(scenario);
    Cluster cluster(scenario, 1, {.keep_trace = false});
    for (size_t h = 0; h < scenario.hosts.size(); ++h) {
      const sim::Host* host = cluster.world().host(static_cast<uint32_t>(h));
      const std::vector<sim::DiskOptions> disks = HostDisks(scenario, h);
      ASSERT_EQ(disks.size(), host->disk_count()) << "host " << h << " distributed " << distributed;
      for (size_t d = 0; d < disks.size(); ++d) {
        EXPECT_EQ(disks[d].sector_count, host->disk(d)->options().sector_count);
        EXPECT_EQ(disks[d].sector_size, host->disk(d)->options().sector_size);
      }
    }
  }
}

TEST(ScheduleAgreement, EveryRecordedScheduleIsAcceptedForItsScenario) {
  for (const char* name : {"swarm", "dist_swarm", "latent_sector_errors", "torn_log_writes"}) {
    const absl::StatusOr<Scenario> scenario =
        LoadScenarioFile(absl::StrCat(KTMSIM_SOURCE_DIR, "/scenarios/", name, ".toml"));
    ASSERT_TRUE(scenario.ok()) << scenario.status();
    for (uint64_t seed = 1; seed <= 4; ++seed) {
      const RunResult result = RunScenario(*scenario, seed, {.keep_trace = false});
      const std::vector<ScheduleProblem> problems = CheckFaultSchedule(*scenario, result.schedule_text);
      EXPECT_TRUE(problems.empty()) << name << " seed " << seed << ": line " << problems[0].line << ": "
                                    << problems[0].message;
    }
  }
}

// ---------------------------------------------------------------------------
// The binary: replay --schedule.

struct Command {
  int exit_code = -1;
  std::string err;
};

Command Replay(const std::string& arguments) {
  const std::string dir = ::testing::TempDir();
  const std::string err = dir + "/input_validation_stderr";
  const std::string line = absl::StrCat("cd ", KTMSIM_SOURCE_DIR, " && ", KTMSIM_BINARY, " replay ", arguments,
                                        " >/dev/null 2>", err);
  const int status = std::system(line.c_str());
  Command result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(err);
  std::stringstream text;
  text << in.rdbuf();
  result.err = text.str();
  return result;
}

TEST(ReplaySchedule, EventsTheScenarioCannotTakeAreRefusedWithFileAndLine) {
  const std::string file = ::testing::TempDir() + "/input_validation_schedule.txt";
  std::ofstream(file) << "# single_rm has one host: disk 0 = TM log, disk 1 = kv1's log\n"
                         "1000 latent host=0 disk=7 sector=1\n"
                         "2000 restart host=3\n"
                         "0 msg seq=1 delay=9223372036854775807\n";
  const Command command = Replay("scenarios/single_rm.toml --seed 1 --schedule " + file);
  EXPECT_EQ(command.exit_code, 2) << command.err;
  EXPECT_THAT(command.err, HasSubstr(file + ":2: a latent sector error is a beyond-recoverable fault"));
  EXPECT_THAT(command.err, HasSubstr(file + ":2: no disk 7 on host 0"));
  EXPECT_THAT(command.err, HasSubstr(file + ":3: names host 3"));
  EXPECT_THAT(command.err, HasSubstr(file + ":4: delay must be at most"));
}

TEST(ReplaySchedule, AValidScheduleReplays) {
  const std::string file = ::testing::TempDir() + "/input_validation_ok.txt";
  std::ofstream(file) << "20000000 crash host=0 seed=3\n25000000 restart host=0\n";
  const Command command = Replay("scenarios/single_rm.toml --seed 1 --schedule " + file);
  EXPECT_EQ(command.exit_code, 0) << command.err;
}

}  // namespace
// Memory stays bounded under maximal fault rates: rates that would plan
// more than 100,000 timed faults are refused at load (file:line), not run
// (1e6 corruptions/s per disk planned 737,000 faults and 386 MB before).
TEST(FaultRateLimits, RatesThatPlanTooManyFaultsAreRefusedAtLoad) {
  const std::string base =
      "[[hosts]]\nname = \"a\"\n[[rms]]\nname = \"kv1\"\nhost = \"a\"\n[faults]\nmode = \"probabilities\"\n"
      "budget = \"beyond\"\nfaults_until_ms = 250\n";
  absl::StatusOr<Scenario> too_many = LoadScenarioString(base + "corrupt_per_second = 1000000\n", "max.toml");
  ASSERT_FALSE(too_many.ok());
  EXPECT_THAT(std::string(too_many.status().message()), HasSubstr("max.toml:6:1: faults: these rates"));
  EXPECT_THAT(std::string(too_many.status().message()), HasSubstr("at most 100000"));
  EXPECT_TRUE(LoadScenarioString(base + "corrupt_per_second = 100000\n", "ok.toml").ok());
}

}  // namespace harness
