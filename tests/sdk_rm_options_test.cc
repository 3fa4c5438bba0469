// [rms.options] (RmSpec::options): loaded as text from any scalar, refused
// for tables and arrays with file:line:col, and written back by
// ScenarioToToml so that a failure folder's scenario.toml keeps them.
#include <gtest/gtest.h>

#include <string>

#include "harness/scenario_toml.h"
#include "harness/scenario_toml_writer.h"

namespace harness {
namespace {

constexpr char kScenario[] = R"(
[[hosts]]
name = "node1"

[[rms]]
name = "a"
host = "node1"

[rms.options]
bug = "dirty_read"
limit = 12
strict = true
ratio = 0.5
"quoted key" = "x\"y"

[[rms]]
name = "b"
host = "node1"
)";

TEST(RmOptionsTest, LoadsEveryScalarAsText) {
  absl::StatusOr<Scenario> s = LoadScenarioString(kScenario, "opts.toml");
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->rms.size(), 2u);
  const auto& o = s->rms[0].options;
  EXPECT_EQ(o.at("bug"), "dirty_read");
  EXPECT_EQ(o.at("limit"), "12");
  EXPECT_EQ(o.at("strict"), "true");
  EXPECT_EQ(o.at("ratio"), "0.5");
  EXPECT_EQ(o.at("quoted key"), "x\"y");
  EXPECT_EQ(o.size(), 5u);
  EXPECT_TRUE(s->rms[1].options.empty());
}

TEST(RmOptionsTest, WriterRoundTrips) {
  absl::StatusOr<Scenario> s = LoadScenarioString(kScenario, "opts.toml");
  ASSERT_TRUE(s.ok()) << s.status();
  const std::string text = ScenarioToToml(*s);
  absl::StatusOr<Scenario> again = LoadScenarioString(text, "written.toml");
  ASSERT_TRUE(again.ok()) << again.status() << "\n" << text;
  EXPECT_EQ(again->rms[0].options, s->rms[0].options);
  EXPECT_TRUE(again->rms[1].options.empty());
}

TEST(RmOptionsTest, RefusesNonScalars) {
  const std::string text = std::string(kScenario) + "\n[rms.options]\nnested = { a = 1 }\n";
  absl::StatusOr<Scenario> s = LoadScenarioString(text, "bad.toml");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(std::string(s.status().message()).find("bad.toml:"), std::string::npos) << s.status();
  EXPECT_NE(std::string(s.status().message()).find("rms[1].options.nested"), std::string::npos) << s.status();
  EXPECT_NE(std::string(s.status().message()).find("expected a string, integer, number or boolean"),
            std::string::npos)
      << s.status();
}

}  // namespace
}  // namespace harness
