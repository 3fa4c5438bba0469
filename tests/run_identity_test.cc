// Tests of the run identity (harness/run_identity.h): its replay command
// round-trips through the parser and through a real sh, and every replay
// command `ktmsim run` writes (summary.json, junit.xml, index.html, the
// failure folder's result.json and replay.sh) reproduces the run's digest,
// for runs made with --strategy random / pct, a planted bug and targeted
// crashes (faults.crash_on).
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "harness/run_identity.h"
#include "nlohmann/json.hpp"

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

struct Output {
  int exit_code = -1;
  std::string out;
};

// Runs `command` with sh from the source tree, with the ktmsim under test
// first on PATH (replay commands name the program "ktmsim").
Output Sh(const std::string& command, const std::string& scratch) {
  const std::string out = scratch + "/sh.out";
  const std::string bin = fs::path(KTMSIM_BINARY).parent_path().string();
  const std::string line =
      absl::StrCat("cd ", harness::ShellQuote(KTMSIM_SOURCE_DIR), " && PATH=", harness::ShellQuote(bin),
                   ":\"$PATH\" && ", command, " >", harness::ShellQuote(out), " 2>&1");
  const int status = std::system(line.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, ReadAll(out)};
}

std::vector<harness::RunIdentity> Identities() {
  harness::RunIdentity plain{.scenario_file = "scenarios/single_rm.toml", .seed = 7};
  harness::RunIdentity full{.scenario_file = "/tmp/it's a \"dir\"/x y$z.toml",
                            .seed = UINT64_MAX,
                            .strategy = "pct",
                            .pct_depth = 5,
                            .schedule_file = "fail ures/a b/schedule.txt",
                            .planted_bug = 4};
  harness::RunIdentity points{.scenario_file = "s.toml", .seed = 1, .strategy = "random",
                              .fault_points = "crash:h0:disk.write:3,drop:msg:7", .planted_bug = 7};
  return {plain, full, points};
}

TEST(RunIdentityTest, ParsingTheRenderedCommandGivesTheIdentityBack) {
  for (const harness::RunIdentity& identity : Identities()) {
    const std::string line = harness::ReplayCommandLine(identity);
    EXPECT_TRUE(absl::StartsWith(line, "ktmsim replay ")) << line;
    absl::StatusOr<harness::RunIdentity> parsed = harness::ParseReplayCommandLine(line);
    ASSERT_TRUE(parsed.ok()) << parsed.status() << "\n" << line;
    EXPECT_EQ(*parsed, identity) << line;
    // Any program word, e.g. a quoted binary path.
    parsed = harness::ParseReplayCommandLine(harness::ReplayCommandLine(identity, "'/opt/k t/ktmsim'"));
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, identity);
  }
  EXPECT_EQ(harness::ReplayCommandLine(Identities()[0]), "ktmsim replay scenarios/single_rm.toml --seed 7");
}

TEST(RunIdentityTest, ShWordSplitsTheCommandAsTheParserDoes) {
  const std::string scratch = testing::TempDir();
  for (const harness::RunIdentity& identity : Identities()) {
    const std::string line = harness::ReplayCommandLine(identity, "printf '%s\\n'");
    const Output sh = Sh(line, scratch);
    ASSERT_EQ(sh.exit_code, 0);
    std::vector<std::string> words = harness::ReplayArguments(identity);
    EXPECT_EQ(sh.out, absl::StrCat(absl::StrJoin(words, "\n"), "\n")) << line;
  }
}

TEST(RunIdentityTest, ParseRejectsWhatIsNotAReplayCommand) {
  for (const char* bad : {"", "ktmsim", "ktmsim run x --seed 1", "ktmsim replay x", "ktmsim replay --seed 1",
                          "ktmsim replay x --seed one", "ktmsim replay x --seed 1 --jobs 2",
                          "ktmsim replay 'x --seed 1", "ktmsim replay x y --seed 1",
                          "ktmsim replay x --seed 1 --schedule s --fault-points crash:h0:disk.write:1",
                          "ktmsim replay x --seed"}) {
    EXPECT_FALSE(harness::ParseReplayCommandLine(bad).ok()) << bad;
  }
}

// ---- every replay command ktmsim run writes reproduces the run --------------

struct Case {
  const char* name;
  const char* arguments;  // after "ktmsim run"
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class ReplayCommandsTest : public testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "ktmsim_identity_test.XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code error;
    fs::remove_all(dir_, error);
  }
  // The digest a replay command line prints (its first line), "" if none.
  std::string DigestOf(const std::string& command) {
    const Output output = Sh(command, dir_);
    if (!absl::StartsWith(output.out, "digest ")) return "(no digest) " + output.out.substr(0, 500);
    return output.out.substr(7, 16);
  }
  std::string dir_;
};

// The text of the line starting with `prefix` after `anchor` in `text`.
std::string LineAfter(const std::string& text, const std::string& anchor, const std::string& prefix) {
  size_t at = text.find(anchor);
  if (at == std::string::npos) return "";
  at = text.find(prefix, at);
  if (at == std::string::npos) return "";
  at += prefix.size();
  return text.substr(at, text.find_first_of("\n<", at) - at);
}

std::string HtmlUnescape(std::string text) {
  return absl::StrReplaceAll(text, {{"&#39;", "'"}, {"&quot;", "\""}, {"&lt;", "<"}, {"&gt;", ">"}, {"&amp;", "&"}});
}

TEST_P(ReplayCommandsTest, EveryWrittenReplayCommandReproducesTheDigest) {
  const std::string out = dir_ + "/out dir";
  const Output run = Sh(absl::StrCat("ktmsim run ", GetParam().arguments, " --shrink-budget 0 --quiet --out ",
                                     harness::ShellQuote(out)),
                        dir_);
  ASSERT_EQ(run.exit_code, 1) << run.out;
  const Json summary = Json::parse(ReadAll(out + "/summary.json"));
  const std::string junit = ReadAll(out + "/junit.xml");
  const std::string index = ReadAll(out + "/index.html");
  size_t checked = 0;
  for (const Json& scenario : summary["scenarios"]) {
    for (const Json& failure : scenario["failures"]) {
      const std::string digest = failure["digest"];
      const std::string command = failure["replay"];
      const std::string folder = out + "/" + failure["folder"].get<std::string>();
      SCOPED_TRACE(command);
      EXPECT_EQ(DigestOf(command), digest) << "summary.json";
      const std::string seed = absl::StrCat("seed ", failure["seed"].get<uint64_t>());
      EXPECT_EQ(LineAfter(junit, absl::StrCat("name=\"", seed, "\""), "replay: "), command) << "junit.xml";
      EXPECT_EQ(HtmlUnescape(LineAfter(index, absl::StrCat("id=\"", failure["folder"].get<std::string>(), "\""),
                                       "<pre>")),
                command)
          << "index.html";
      const Json result = Json::parse(ReadAll(folder + "/result.json"));
      EXPECT_EQ(result["replay"], command);
      EXPECT_EQ(DigestOf(harness::ShellQuote(folder + "/replay.sh")), digest) << "replay.sh";
      // The folder moved elsewhere replays from its own scenario.toml.
      const std::string moved = dir_ + "/it's moved";
      fs::remove_all(moved);
      fs::copy(folder, moved, fs::copy_options::recursive);
      fs::remove_all(folder);
      EXPECT_EQ(DigestOf(absl::StrCat("cd / && ", harness::ShellQuote(moved + "/replay.sh"))), digest)
          << "moved replay.sh";
      ++checked;
    }
  }
  EXPECT_GT(checked, 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Runs, ReplayCommandsTest,
    testing::Values(Case{"random_strategy_planted_bug", "scenarios/crash_during_commit.toml --seeds 2 "
                                                        "--strategy random --planted-bug 1"},
                    Case{"pct_strategy_depth", "scenarios/two_phase_3rms.toml --seeds 2 --strategy pct "
                                               "--pct-depth 5 --planted-bug 4"},
                    Case{"targeted_crashes", "scenarios/crash_during_commit.toml --seeds 2 --planted-bug 2"}),
    [](const testing::TestParamInfo<Case>& info) { return std::string(info.param.name); });

}  // namespace
