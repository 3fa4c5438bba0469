// Tests of harness/explore.h (label `explore`): the explorer visits exactly
// the crash points the protocol implies, finds no violation in a correct
// engine, finds every planted bug (ktm/bugs.h) within depth 2, and its
// violations replay; fault point text, fingerprints and the ktmsim explore
// command end to end.
#include "harness/explore.h"

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "harness/scenario_toml.h"
#include "ktm/bugs.h"
#include "nlohmann/json.hpp"
#include "sim/disk.h"
#include "sim/world.h"

namespace harness {
namespace {

namespace fs = std::filesystem;

Scenario Load(const std::string& name) {
  absl::StatusOr<Scenario> scenario =
      LoadScenarioFile(absl::StrCat(KTMSIM_SOURCE_DIR, "/scenarios/explore/", name, ".toml"));
  EXPECT_TRUE(scenario.ok()) << scenario.status();
  return scenario.ok() ? *scenario : Scenario{};
}

// The number of crash points of the fault-free run of two_rms_2pc follows
// from the protocol (docs/ktm-logging.md), all on host h0:
//   disk.write at boot: each of the 3 logs (tmlog, rm.kv1, rm.kv2) is new and
//     is formatted: one FUA write of both restart sectors, then one of the
//     first restart area                                              3 x 2 = 6
//   disk.write for the transaction (forced writes per commit, n = 2 durable
//     RMs, 2PC): TM log 1 (commit decision) + each RM 2 (prepare, commit)
//                                                                 1 + 2 x 2 = 5
//     (the end record is not forced and nothing forces after it: no write)
//   ktm.notify: PREPREPARE, PREPARE and COMMIT to each of 2 enlistments 3 x 2 = 6
//   disk.flush: 0 (the logs write with FUA); net.send: 0 (one host, no Dtc)
// In all 6 + 5 + 6 = 17 crash points and no datagram, so depth 1 is 17 runs.
TEST(Explore, VisitsEveryCrashPointOfOneTwoPhaseCommit) {
  const Scenario scenario = Load("two_rms_2pc");
  ExploreOptions options;
  options.depth = 1;
  const ExploreResult result = Explore(scenario, options);
  EXPECT_EQ(result.frontier.at("h0 disk.write"), 6u + 5u);
  EXPECT_EQ(result.frontier.at("h0 ktm.notify"), 6u);
  EXPECT_EQ(result.frontier.count("h0 disk.flush"), 0u);
  EXPECT_EQ(result.frontier.count("h0 net.send"), 0u);
  EXPECT_EQ(result.crash_points, 17u);
  EXPECT_EQ(result.message_points, 0u);
  ASSERT_EQ(result.runs_by_depth.size(), 2u);
  EXPECT_EQ(result.runs_by_depth[0], 1u);
  EXPECT_EQ(result.runs_by_depth[1], 17u);  // every crash point, each once
  EXPECT_EQ(result.runs, 18u);
  EXPECT_FALSE(result.budget_exhausted);
  EXPECT_TRUE(result.violations.empty()) << FaultPointsText(result.violations.front().points);
  // Crashes at one instant after two events of the same kind hit the same state.
  EXPECT_GT(result.pruned, 0u);
  EXPECT_LE(result.distinct_states, result.runs - 1);
  std::printf("two_rms_2pc depth 1: %llu crash points, %llu runs, %llu pruned, %llu distinct states\n",
              static_cast<unsigned long long>(result.crash_points), static_cast<unsigned long long>(result.runs),
              static_cast<unsigned long long>(result.pruned),
              static_cast<unsigned long long>(result.distinct_states));
}

TEST(Explore, DepthTwoFindsNoViolationInACorrectEngineAndIsDeterministic) {
  for (const char* name : {"two_rms_2pc", "vote_no", "single_phase_two_rms", "slow_commit_complete"}) {
    const Scenario scenario = Load(name);
    ExploreOptions options;
    options.depth = 2;
    const ExploreResult first = Explore(scenario, options);
    const ExploreResult again = Explore(scenario, options);
    EXPECT_TRUE(first.violations.empty()) << name << ": " << FaultPointsText(first.violations.front().points);
    EXPECT_GT(first.runs_by_depth[2], first.runs_by_depth[1]) << name;
    EXPECT_GT(first.pruned_by_depth[2], 0u) << name;
    EXPECT_EQ(first.runs, again.runs) << name;
    EXPECT_EQ(first.pruned, again.pruned) << name;
    EXPECT_EQ(first.distinct_states, again.distinct_states) << name;
    std::printf("%s depth 2: %llu runs, %llu pruned, %llu distinct states\n", name,
                static_cast<unsigned long long>(first.runs), static_cast<unsigned long long>(first.pruned),
                static_cast<unsigned long long>(first.distinct_states));
  }
}

TEST(Explore, MessagePointsOfADistributedTransactionAllSurvive) {
  const Scenario scenario = Load("dist_two_hosts");
  ExploreOptions options;
  options.depth = 1;
  const ExploreResult result = Explore(scenario, options);
  EXPECT_GT(result.message_points, 0u);
  EXPECT_GT(result.frontier.at("h1 disk.write"), 0u);
  // Depth 1: each crash point once, each datagram dropped, duplicated, delayed.
  EXPECT_EQ(result.runs_by_depth[1], result.crash_points + 3 * result.message_points);
  EXPECT_TRUE(result.violations.empty()) << FaultPointsText(result.violations.front().points);
}

TEST(Explore, BudgetCapsRuns) {
  const Scenario scenario = Load("two_rms_2pc");
  ExploreOptions options;
  options.depth = 2;
  options.budget = 10;
  const ExploreResult result = Explore(scenario, options);
  EXPECT_EQ(result.runs, 10u);
  EXPECT_TRUE(result.budget_exhausted);
}

// Which scenario shows planted bug N (ktm/bugs.h) to explore.
const char* BugScenario(uint32_t bug) {
  switch (bug) {
    case ktm::kBugIgnoreNoVote: return "vote_no";
    case ktm::kBugSinglePhaseWithOthers: return "single_phase_two_rms";
    case ktm::kBugForgetBeforeCommitComplete: return "slow_commit_complete";
    default: return "two_rms_2pc";
  }
}

// Limit: seeds the random comparison tries.
constexpr uint64_t kRandomSeedsMax = 2000;

// The first seed (1-based count) whose swarm-faulted run of the scenario
// violates a rule; 0 when none of kRandomSeedsMax does.
uint64_t RandomSeedsNeeded(Scenario scenario, uint32_t bug) {
  scenario.faults.mode = FaultMode::kSwarm;
  RunOptions options;
  options.keep_trace = false;
  options.planted_bug = bug;
  for (uint64_t seed = 1; seed <= kRandomSeedsMax; ++seed) {
    if (!RunScenario(scenario, seed, options).violations.empty()) return seed;
  }
  return 0;
}

class PlantedBug : public testing::TestWithParam<uint32_t> {};

TEST_P(PlantedBug, ExploreFindsItWithinDepthTwo) {
  const uint32_t bug = GetParam();
  const Scenario scenario = Load(BugScenario(bug));
  ExploreOptions options;
  options.depth = 2;
  options.planted_bug = bug;
  options.stop_at_first_violation = true;
  const ExploreResult result = Explore(scenario, options);
  ASSERT_FALSE(result.violations.empty()) << "explore missed planted bug " << bug << " in " << result.runs << " runs";
  const ExploreViolation& found = result.violations.front();
  EXPECT_LE(found.points.size(), 2u);
  // The violation replays: same digest, same first rule.
  RunOptions replay;
  replay.keep_trace = true;
  replay.planted_bug = bug;
  const RunResult again = RunWithFaultPoints(scenario, options.seed, replay, found.points);
  EXPECT_EQ(again.digest, found.result.digest);
  ASSERT_FALSE(again.violations.empty());
  EXPECT_EQ(again.violations.front().rule, found.result.violations.front().rule);
  const uint64_t random = RandomSeedsNeeded(scenario, bug);
  std::printf("bug %u: explore %llu runs, random %s seeds (%s; explore's fault points: %s; rule %s)\n", bug,
              static_cast<unsigned long long>(found.run),
              random == 0 ? absl::StrCat(">", kRandomSeedsMax).c_str() : std::to_string(random).c_str(),
              ktm::PlantedBugName(bug), found.points.empty() ? "none" : FaultPointsText(found.points).c_str(),
              found.result.violations.front().rule.c_str());
}

// Bugs 1..6: the protocol bugs of issue 10 (bug 7 and later are ordering
// bugs for the scheduling strategies, tests/schedule_test.cc).
INSTANTIATE_TEST_SUITE_P(Bugs, PlantedBug,
                         testing::Range<uint32_t>(1, ktm::kBugForgetBeforeCommitComplete + 1),
                         [](const testing::TestParamInfo<uint32_t>& info) { return absl::StrCat("Bug", info.param); });

TEST(FaultPoints, TextRoundTripsAndBadItemsAreNamed) {
  const Scenario scenario = Load("dist_two_hosts");
  const std::string text = "crash:h1:disk.write:3,drop:msg:7,dup:msg:2,delay:msg:9,crash:h0:ktm.notify:1";
  absl::StatusOr<std::vector<FaultPoint>> points = ParseFaultPoints(text, scenario);
  ASSERT_TRUE(points.ok()) << points.status();
  ASSERT_EQ(points->size(), 5u);
  EXPECT_EQ((*points)[0], (FaultPoint{FaultPoint::Kind::kCrash, 1, "disk.write", 3}));
  EXPECT_EQ((*points)[1].kind, FaultPoint::Kind::kDrop);
  EXPECT_EQ(FaultPointsText(*points), text);
  for (const char* bad : {"crash:h2:disk.write:1", "crash:h0:disk.read:1", "crash:h0:disk.write:0", "lose:msg:3",
                          "drop:msg:x", "crash:0:disk.write:1", ""}) {
    absl::StatusOr<std::vector<FaultPoint>> parsed = ParseFaultPoints(bad, scenario);
    EXPECT_FALSE(parsed.ok()) << bad;
    if (!parsed.ok() && bad[0] != '\0') {
      EXPECT_NE(parsed.status().message().find(bad), std::string::npos) << bad;
    }
  }
}

TEST(Fingerprint, DisksAndNetworksHashTheirContentOnly) {
  auto world_with_write = [](uint64_t seed, uint8_t byte) {
    sim::WorldOptions options;
    options.seed = seed;
    auto world = std::make_unique<sim::World>(options);
    sim::Disk* disk = world->AddHost("a")->AddDisk("d", sim::DiskOptions{});
    world->AddHost("b");
    std::vector<uint8_t> sector(512, byte);
    disk->Write(0, sector, /*fua=*/false, [](sim::IoStatus) {});
    world->scheduler().RunUntilIdle();
    world->network().Send(0, 1, {1, 2, 3});
    return world;
  };
  auto a = world_with_write(1, 7), b = world_with_write(2, 7), c = world_with_write(1, 8);
  // Different seeds (latencies, garbage), same content: same fingerprints.
  EXPECT_EQ(a->host(0)->disk(0)->Fingerprint(), b->host(0)->disk(0)->Fingerprint());
  EXPECT_EQ(a->network().Fingerprint(), b->network().Fingerprint());
  EXPECT_NE(a->host(0)->disk(0)->Fingerprint(), c->host(0)->disk(0)->Fingerprint());
  const uint64_t cached = a->host(0)->disk(0)->Fingerprint();
  a->host(0)->disk(0)->Flush([](sim::IoStatus) {});
  EXPECT_NE(a->host(0)->disk(0)->Fingerprint(), cached);  // a flush in flight
  const uint64_t in_flight = a->network().Fingerprint();
  a->scheduler().RunUntilIdle();
  EXPECT_NE(a->network().Fingerprint(), in_flight);  // delivered
}

// ---------------------------------------------------------------------------
// ktmsim explore end to end.

struct Command {
  int status = -1;
  std::string out;
};

Command Shell(const std::string& command) {
  Command result;
  FILE* pipe = ::popen((command + " 2>/dev/null").c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) result.out.append(buffer, n);
  const int status = ::pclose(pipe);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(ExploreCommand, WritesTheReportAndReplayableFailureFolders) {
  const std::string out = testing::TempDir() + "/explore-cli";
  fs::remove_all(out);
  const std::string scenario = absl::StrCat(KTMSIM_SOURCE_DIR, "/scenarios/explore/two_rms_2pc.toml");
  const Command explore = Shell(absl::StrCat(KTMSIM_BINARY, " explore ", scenario,
                                           " --depth 1 --planted-bug 3 --failure_folders_max 2 --quiet --out ", out));
  EXPECT_EQ(explore.status, 1) << explore.out;
  EXPECT_NE(explore.out.find("violation 1: crash:h0:"), std::string::npos) << explore.out;
  const nlohmann::json json = nlohmann::json::parse(ReadText(out + "/explore.json"), nullptr, false);
  ASSERT_FALSE(json.is_discarded());
  EXPECT_EQ(json["crash_points"], 17);
  ASSERT_GE(json["violations"].size(), 1u);
  const std::string folder = out + "/" + json["violations"][0]["folder"].get<std::string>();
  for (const char* file : {"trace.txt", "trace.svg", "trace.json", "states.svg", "replay.sh", "result.json",
                           "fault_points.txt"}) {
    EXPECT_TRUE(fs::exists(folder + "/" + file)) << folder << "/" << file;
  }
  // replay.sh replays the explored run: the digest explore recorded.
  const Command replay = Shell(folder + "/replay.sh");
  EXPECT_EQ(replay.status, 1);
  EXPECT_EQ(replay.out.substr(0, 23), "digest " + json["violations"][0]["digest"].get<std::string>()) << replay.out;
}

TEST(ExploreCommand, BadInputExitsTwoAndWritesNothing) {
  const std::string out = testing::TempDir() + "/explore-bad";
  fs::remove_all(out);
  const std::string scenario = absl::StrCat(KTMSIM_SOURCE_DIR, "/scenarios/explore/two_rms_2pc.toml");
  for (const std::string& args : {absl::StrCat(scenario, " --depth 0"), absl::StrCat(scenario, " --depth 4"),
                                  absl::StrCat(scenario, " --budget 0"), std::string("/nonexistent.toml"),
                                  absl::StrCat(KTMSIM_SOURCE_DIR, "/scenarios/crash_during_commit.toml"),
                                  absl::StrCat(scenario, " ", scenario)}) {
    EXPECT_EQ(Shell(absl::StrCat(KTMSIM_BINARY, " explore ", args, " --quiet --out ", out)).status, 2) << args;
    EXPECT_FALSE(fs::exists(out)) << args;
  }
  EXPECT_EQ(Shell(absl::StrCat(KTMSIM_BINARY, " replay ", scenario, " --seed 1 --fault-points crash:h9:disk.write:1"))
                .status,
            2);
}

}  // namespace
}  // namespace harness
