// Summary building, validation, merging and rendering. Both BuildSummary
// and MergeSummaries go through one accumulator type and one renderer
// (ToJson), which is what makes "merge of the shards == the whole" hold
// exactly: the only inputs to the output are integer sums and seed-ordered
// maps.
#include "reports/summary.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "reports/coverage_json.h"
#include "reports/failure.h"

namespace reports {
namespace {

// Counters a scenario entry and the totals share, in output order.
constexpr const char* kCounterNames[] = {"transactions", "committed", "aborted", "unresolved",
                                         "faults_injected"};
constexpr size_t kCounterCount = sizeof(kCounterNames) / sizeof(kCounterNames[0]);

struct ScenarioAccumulator {
  std::string name;
  std::string file;
  uint64_t counters[kCounterCount] = {};
  std::map<uint64_t, Json> runs;      // seed -> [seed, "digest", passed]
  std::map<uint64_t, Json> failures;  // seed -> failure object
  uint64_t passed() const { return runs.size() - failures.size(); }
};
using Accumulators = std::map<std::string, ScenarioAccumulator>;

absl::Status Invalid(const std::string& message) { return absl::InvalidArgumentError(message); }

absl::Status AddScenarioInfo(const std::string& name, const std::string& file,
                             Accumulators* accumulators) {
  auto [it, inserted] = accumulators->try_emplace(name);
  if (inserted) {
    it->second.name = name;
    it->second.file = file;
  } else if (it->second.file != file) {
    return Invalid(absl::StrCat("scenario '", name, "' comes from two files: '", it->second.file,
                                "' and '", file, "'"));
  }
  return absl::OkStatus();
}

Json FailureJson(const RunRecord& record) {
  Json rules = Json::array();
  std::set<std::string> seen;
  for (const ViolationRecord& violation : record.violations) {
    if (seen.insert(violation.rule).second) rules.push_back(violation.rule);
  }
  Json violations = Json::array();
  for (const ViolationRecord& violation : record.violations) {
    violations.push_back(
        Json{{"rule", violation.rule}, {"tx", violation.tx}, {"message", violation.message}});
  }
  Json failure = Json::object();
  failure["scenario"] = record.scenario;
  failure["seed"] = record.seed;
  failure["expected"] = record.expected;
  failure["rules"] = std::move(rules);
  failure["violations"] = std::move(violations);
  failure["digest"] = DigestText(record.digest);
  failure["replay"] = record.replay_command;
  return failure;  // "folder" is set by ScenarioJson, which knows the folder limit

}

absl::Status AddRecord(const RunRecord& record, Accumulators* accumulators) {
  auto it = accumulators->find(record.scenario);
  if (it == accumulators->end()) {
    return Invalid(absl::StrCat("run of unknown scenario '", record.scenario, "'"));
  }
  ScenarioAccumulator& scenario = it->second;
  if (scenario.runs.count(record.seed) != 0) {
    return Invalid(absl::StrCat("scenario '", record.scenario, "' seed ", record.seed, " twice"));
  }
  scenario.runs[record.seed] = Json::array({record.seed, DigestText(record.digest), record.passed});
  if (!record.passed) scenario.failures[record.seed] = FailureJson(record);
  const uint64_t values[kCounterCount] = {record.transactions, record.committed, record.aborted,
                                          record.unresolved, record.faults_injected};
  for (size_t i = 0; i < kCounterCount; ++i) scenario.counters[i] += values[i];
  return absl::OkStatus();
}

// Merges `from` into `accumulators` (disjoint seeds required).
absl::Status AddAccumulator(ScenarioAccumulator from, Accumulators* accumulators) {
  if (absl::Status status = AddScenarioInfo(from.name, from.file, accumulators); !status.ok()) {
    return status;
  }
  ScenarioAccumulator& into = (*accumulators)[from.name];
  for (auto& [seed, run] : from.runs) {
    if (!into.runs.emplace(seed, std::move(run)).second) {
      return Invalid(absl::StrCat("scenario '", from.name, "' seed ", seed,
                                  " appears in more than one summary"));
    }
  }
  for (auto& [seed, failure] : from.failures) into.failures.emplace(seed, std::move(failure));
  for (size_t i = 0; i < kCounterCount; ++i) into.counters[i] += from.counters[i];
  return absl::OkStatus();
}

// Per scenario, the failed runs with the failure_folders_max smallest seeds
// have folders, and of those at most kFailureFoldersPerSignatureMax per
// signature (the smallest seeds again). Seed -> folder ("" for none). Both
// choices depend only on the set of failures, so shards and merge agree: a
// failure among the smallest of the union is among the smallest of its shard.
std::map<uint64_t, std::string> FoldersOf(const ScenarioAccumulator& scenario, uint64_t failure_folders_max) {
  std::map<uint64_t, std::string> folders;
  std::map<std::string, uint64_t> per_signature;
  uint64_t rank = 0;
  for (const auto& [seed, failure] : scenario.failures) {
    const bool within = rank++ < failure_folders_max &&
                        per_signature[FailureSignature(failure)]++ < kFailureFoldersPerSignatureMax;
    folders[seed] = within ? FailureFolderName(scenario.name, seed) : "";
  }
  return folders;
}

uint64_t FolderCount(const ScenarioAccumulator& scenario, uint64_t failure_folders_max) {
  uint64_t count = 0;
  for (const auto& [seed, folder] : FoldersOf(scenario, failure_folders_max)) count += folder.empty() ? 0 : 1;
  return count;
}

Json ScenarioJson(const ScenarioAccumulator& scenario, uint64_t failure_folders_max) {
  Json entry = Json::object();
  entry["name"] = scenario.name;
  entry["file"] = scenario.file;
  entry["seeds_run"] = scenario.runs.size();
  entry["passed"] = scenario.passed();
  entry["failed"] = scenario.failures.size();
  for (size_t i = 0; i < kCounterCount; ++i) entry[kCounterNames[i]] = scenario.counters[i];
  Json failures = Json::array();
  const std::map<uint64_t, std::string> folders = FoldersOf(scenario, failure_folders_max);
  for (const auto& [seed, failure] : scenario.failures) {
    failures.push_back(failure);
    failures.back()["folder"] = folders.at(seed);
  }
  entry["failures"] = std::move(failures);
  Json runs = Json::array();
  for (const auto& [seed, run] : scenario.runs) runs.push_back(run);
  entry["runs"] = std::move(runs);
  return entry;
}

Json TotalsJson(const Accumulators& accumulators, uint64_t failure_folders_max) {
  uint64_t runs = 0, passed = 0, failed = 0, folders = 0, counters[kCounterCount] = {};
  for (const auto& [name, scenario] : accumulators) {
    runs += scenario.runs.size();
    passed += scenario.passed();
    failed += scenario.failures.size();
    folders += FolderCount(scenario, failure_folders_max);
    for (size_t i = 0; i < kCounterCount; ++i) counters[i] += scenario.counters[i];
  }
  Json totals = Json::object();
  totals["scenarios"] = accumulators.size();
  totals["runs"] = runs;
  totals["passed"] = passed;
  totals["failed"] = failed;
  totals["failure_folders"] = folders;
  for (size_t i = 0; i < kCounterCount; ++i) totals[kCounterNames[i]] = counters[i];
  return totals;
}

Json ToJson(const Accumulators& accumulators, const harness::Coverage& coverage, uint64_t failure_folders_max) {
  Json summary = Json::object();
  summary["schema"] = kSummarySchema;
  summary["version"] = kSummaryVersion;
  summary["failure_folders_max"] = failure_folders_max;
  summary["totals"] = TotalsJson(accumulators, failure_folders_max);
  Json scenarios = Json::array();
  for (const auto& [name, scenario] : accumulators) {
    scenarios.push_back(ScenarioJson(scenario, failure_folders_max));
  }
  summary["scenarios"] = std::move(scenarios);
  summary["coverage"] = CoverageJson(coverage);
  return summary;
}

// ---- Validation of parsed summaries ----

bool IsDigestText(const Json& value) {
  if (!value.is_string()) return false;
  const std::string& text = value.get_ref<const std::string&>();
  return text.size() == 16 &&
         std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

absl::StatusOr<uint64_t> UnsignedField(const Json& object, const char* key,
                                       const std::string& where) {
  if (!object.contains(key) || !object[key].is_number_unsigned()) {
    return Invalid(absl::StrCat(where, ": '", key, "' must be an unsigned integer"));
  }
  return object[key].get<uint64_t>();
}

absl::StatusOr<std::string> StringField(const Json& object, const char* key,
                                        const std::string& where) {
  if (!object.contains(key) || !object[key].is_string()) {
    return Invalid(absl::StrCat(where, ": '", key, "' must be a string"));
  }
  return object[key].get<std::string>();
}

absl::Status ReadRuns(const Json& entry, const std::string& where, ScenarioAccumulator* scenario) {
  if (!entry.contains("runs") || !entry["runs"].is_array()) {
    return Invalid(absl::StrCat(where, ": 'runs' must be an array"));
  }
  for (const Json& run : entry["runs"]) {
    if (!run.is_array() || run.size() != 3 || !run[0].is_number_unsigned() ||
        !IsDigestText(run[1]) || !run[2].is_boolean()) {
      return Invalid(absl::StrCat(where, ": a run must be [seed, \"16 hex digest\", passed], not ",
                                  run.dump()));
    }
    if (!scenario->runs.emplace(run[0].get<uint64_t>(), run).second) {
      return Invalid(absl::StrCat(where, ": seed ", run[0].dump(), " listed twice"));
    }
  }
  return absl::OkStatus();
}

// "rules": [string...], "violations": [{"rule","tx","message"} strings].
absl::Status CheckFailureLists(const Json& failure, const std::string& where, uint64_t seed) {
  const std::string prefix = absl::StrCat(where, ": failure of seed ", seed, ": ");
  if (!failure.contains("rules") || !failure["rules"].is_array() ||
      !std::all_of(failure["rules"].begin(), failure["rules"].end(),
                   [](const Json& rule) { return rule.is_string(); })) {
    return Invalid(prefix + "'rules' must be an array of strings");
  }
  if (!failure.contains("violations") || !failure["violations"].is_array()) {
    return Invalid(prefix + "'violations' must be an array");
  }
  for (const Json& violation : failure["violations"]) {
    const bool well_formed = violation.is_object() && violation.contains("rule") &&
                             violation["rule"].is_string() && violation.contains("tx") &&
                             violation["tx"].is_string() && violation.contains("message") &&
                             violation["message"].is_string();
    if (!well_formed) return Invalid(prefix + "a violation must be {rule, tx, message} strings");
  }
  return absl::OkStatus();
}

absl::Status ReadFailures(const Json& entry, const std::string& where,
                          ScenarioAccumulator* scenario) {
  if (!entry.contains("failures") || !entry["failures"].is_array()) {
    return Invalid(absl::StrCat(where, ": 'failures' must be an array"));
  }
  for (const Json& failure : entry["failures"]) {
    if (!failure.is_object()) return Invalid(absl::StrCat(where, ": a failure must be an object"));
    absl::StatusOr<uint64_t> seed = UnsignedField(failure, "seed", where + " failure");
    if (!seed.ok()) return seed.status();
    auto run = scenario->runs.find(*seed);
    if (run == scenario->runs.end() || run->second[2].get<bool>()) {
      return Invalid(absl::StrCat(where, ": failure of seed ", *seed, " without a failed run"));
    }
    for (const char* key : {"scenario", "expected", "digest", "replay", "folder"}) {
      if (!failure.contains(key) || !failure[key].is_string()) {
        return Invalid(absl::StrCat(where, ": failure of seed ", *seed, ": '", key,
                                    "' must be a string"));
      }
    }
    if (absl::Status status = CheckFailureLists(failure, where, *seed); !status.ok()) {
      return status;
    }
    if (failure["scenario"] != scenario->name) {
      return Invalid(absl::StrCat(where, ": failure of seed ", *seed, ": 'scenario' must be \"",
                                  scenario->name, "\""));
    }
    if (!scenario->failures.emplace(*seed, failure).second) {
      return Invalid(absl::StrCat(where, ": failure of seed ", *seed, " listed twice"));
    }
  }
  return absl::OkStatus();
}

// The counts stored in the entry must be the ones its lists imply.
absl::Status CheckScenarioCounts(const Json& entry, const std::string& where,
                                 const ScenarioAccumulator& scenario) {
  uint64_t failed_runs = 0;
  for (const auto& [seed, run] : scenario.runs) failed_runs += run[2].get<bool>() ? 0 : 1;
  const std::pair<const char*, uint64_t> expected[] = {{"seeds_run", scenario.runs.size()},
                                                       {"passed", scenario.passed()},
                                                       {"failed", failed_runs}};
  for (const auto& [key, value] : expected) {
    absl::StatusOr<uint64_t> stored = UnsignedField(entry, key, where);
    if (!stored.ok()) return stored.status();
    if (*stored != value) {
      return Invalid(absl::StrCat(where, ": '", key, "' is ", *stored, " but the runs say ", value));
    }
  }
  if (failed_runs != scenario.failures.size()) {
    return Invalid(absl::StrCat(where, ": ", failed_runs, " failed runs but ",
                                scenario.failures.size(), " failure records"));
  }
  return absl::OkStatus();
}

// A folder is a path a merge copies from: only the canonical name, and only
// for the failures the limit gives a folder, is accepted.
absl::Status CheckFolders(const std::string& where, const ScenarioAccumulator& scenario,
                          uint64_t failure_folders_max) {
  const std::map<uint64_t, std::string> folders = FoldersOf(scenario, failure_folders_max);
  for (const auto& [seed, failure] : scenario.failures) {
    const std::string& expected = folders.at(seed);
    if (failure["folder"] != expected) {
      return Invalid(absl::StrCat(where, ": failure of seed ", seed, ": 'folder' must be \"",
                                  expected, "\""));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ScenarioAccumulator> ScenarioFromJson(const Json& entry, size_t index,
                                                     uint64_t failure_folders_max) {
  std::string where = absl::StrCat("scenarios[", index, "]");
  if (!entry.is_object()) return Invalid(where + ": must be an object");
  ScenarioAccumulator scenario;
  absl::StatusOr<std::string> name = StringField(entry, "name", where);
  if (!name.ok()) return name.status();
  absl::StatusOr<std::string> file = StringField(entry, "file", where);
  if (!file.ok()) return file.status();
  scenario.name = *name;
  scenario.file = *file;
  where = absl::StrCat("scenario '", *name, "'");
  for (size_t i = 0; i < kCounterCount; ++i) {
    absl::StatusOr<uint64_t> value = UnsignedField(entry, kCounterNames[i], where);
    if (!value.ok()) return value.status();
    scenario.counters[i] = *value;
  }
  if (absl::Status status = ReadRuns(entry, where, &scenario); !status.ok()) return status;
  if (absl::Status status = ReadFailures(entry, where, &scenario); !status.ok()) return status;
  if (absl::Status status = CheckScenarioCounts(entry, where, scenario); !status.ok()) {
    return status;
  }
  if (absl::Status status = CheckFolders(where, scenario, failure_folders_max); !status.ok()) {
    return status;
  }
  return scenario;
}

// A validated summary, ready to merge.
struct ParsedSummary {
  uint64_t failure_folders_max = 0;
  Accumulators scenarios;
  harness::Coverage coverage;  // empty when the summary predates coverage
};

absl::StatusOr<ParsedSummary> ParsedFromJson(const Json& summary) {
  if (!summary.is_object()) return Invalid("summary must be a JSON object");
  if (!summary.contains("schema") || summary["schema"] != kSummarySchema) {
    return Invalid(absl::StrCat("not a ktmsim summary ('schema' is not \"", kSummarySchema, "\")"));
  }
  if (!summary.contains("version") || summary["version"] != kSummaryVersion) {
    return Invalid(absl::StrCat("unsupported summary version (this ktmsim reads version ",
                                kSummaryVersion, ")"));
  }
  if (!summary.contains("scenarios") || !summary["scenarios"].is_array()) {
    return Invalid("'scenarios' must be an array");
  }
  ParsedSummary parsed;
  absl::StatusOr<uint64_t> folders_max = UnsignedField(summary, "failure_folders_max", "summary");
  if (!folders_max.ok()) return folders_max.status();
  parsed.failure_folders_max = *folders_max;
  Accumulators& accumulators = parsed.scenarios;
  size_t index = 0;
  for (const Json& entry : summary["scenarios"]) {
    absl::StatusOr<ScenarioAccumulator> scenario =
        ScenarioFromJson(entry, index++, parsed.failure_folders_max);
    if (!scenario.ok()) return scenario.status();
    if (accumulators.count(scenario->name) != 0) {
      return Invalid(absl::StrCat("scenario '", scenario->name, "' listed twice"));
    }
    const std::string name = scenario->name;
    accumulators.emplace(name, *std::move(scenario));
  }
  if (!summary.contains("totals") ||
      summary["totals"] != TotalsJson(accumulators, parsed.failure_folders_max)) {
    return Invalid("'totals' do not match the scenarios");
  }
  if (summary.contains("coverage")) {
    absl::StatusOr<harness::Coverage> coverage = CoverageFromJson(summary["coverage"]);
    if (!coverage.ok()) return coverage.status();
    parsed.coverage = *std::move(coverage);
  }
  return parsed;
}

// ---- Rendering ----

void AppendJson(const Json& value, int indent, std::string* out);

bool IsScalarArray(const Json& value) {
  return std::none_of(value.begin(), value.end(),
                      [](const Json& item) { return item.is_structured(); });
}

std::string ScalarText(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

void AppendContainer(const Json& value, int indent, std::string* out) {
  const bool object = value.is_object();
  if (value.empty()) {
    out->append(object ? "{}" : "[]");
    return;
  }
  if (!object && IsScalarArray(value)) {
    out->append("[");
    bool first = true;
    for (const Json& item : value) {
      out->append(first ? "" : ", ");
      out->append(ScalarText(item));
      first = false;
    }
    out->append("]");
    return;
  }
  const std::string inner(static_cast<size_t>(indent + 2), ' ');
  out->append(object ? "{\n" : "[\n");
  bool first = true;
  for (auto it = value.begin(); it != value.end(); ++it) {
    out->append(first ? "" : ",\n");
    out->append(inner);
    if (object) absl::StrAppend(out, ScalarText(Json(it.key())), ": ");
    AppendJson(it.value(), indent + 2, out);
    first = false;
  }
  absl::StrAppend(out, "\n", std::string(static_cast<size_t>(indent), ' '), object ? "}" : "]");
}

void AppendJson(const Json& value, int indent, std::string* out) {
  if (value.is_structured()) {
    AppendContainer(value, indent, out);
  } else {
    out->append(ScalarText(value));
  }
}

std::string FailureText(const Json& failure) {
  std::string text;
  for (const Json& violation : failure["violations"]) {
    absl::StrAppend(&text, violation.value("rule", ""), " tx=", violation.value("tx", ""), ": ",
                    violation.value("message", ""), "\n");
  }
  if (failure["violations"].empty()) {
    absl::StrAppend(&text, "no violation found, but the scenario expects ",
                    failure["expected"].get<std::string>(), "\n");
  }
  absl::StrAppend(&text, "digest ", failure["digest"].get<std::string>(), "\n",
                  "replay: ", failure["replay"].get<std::string>(), "\n",
                  "folder: ", failure["folder"] == "" ? std::string("(none: beyond failure_folders_max)")
                                                      : failure["folder"].get<std::string>(),
                  "\n");
  return text;
}

std::string FailureMessage(const Json& failure) {
  std::vector<std::string> rules;
  for (const Json& rule : failure["rules"]) rules.push_back(rule.get<std::string>());
  if (rules.empty()) return absl::StrCat("expected ", failure["expected"].get<std::string>());
  return absl::StrCat("violated: ", absl::StrJoin(rules, ", "));
}

void AppendTestsuite(const Json& scenario, std::string* xml) {
  const std::string name = XmlEscape(scenario["name"].get<std::string>());
  const uint64_t seeds_run = scenario["seeds_run"].get<uint64_t>();
  const uint64_t passed = scenario["passed"].get<uint64_t>();
  const uint64_t failed = scenario["failed"].get<uint64_t>();
  const uint64_t tests = failed + (passed > 0 || seeds_run == 0 ? 1 : 0);
  absl::StrAppend(xml, "  <testsuite name=\"", name, "\" tests=\"", tests, "\" failures=\"",
                  failed, "\" errors=\"0\" skipped=\"", seeds_run == 0 ? 1 : 0, "\">\n",
                  "    <properties>\n      <property name=\"file\" value=\"",
                  XmlEscape(scenario["file"].get<std::string>()), "\"/>\n    </properties>\n");
  for (const Json& failure : scenario["failures"]) {
    absl::StrAppend(xml, "    <testcase classname=\"ktmsim.", name, "\" name=\"seed ",
                    failure["seed"].get<uint64_t>(), "\">\n      <failure type=\"violation\" message=\"",
                    XmlEscape(FailureMessage(failure)), "\">", XmlEscape(FailureText(failure), /*in_attribute=*/false),
                    "</failure>\n    </testcase>\n");
  }
  if (passed > 0) {
    // The name does not carry the count: CI tools track a test case by name.
    absl::StrAppend(xml, "    <testcase classname=\"ktmsim.", name, "\" name=\"passing seeds\">\n",
                    "      <system-out>", passed, " of ", seeds_run, " seeds passed</system-out>\n",
                    "    </testcase>\n");
  } else if (seeds_run == 0) {
    absl::StrAppend(xml, "    <testcase classname=\"ktmsim.", name,
                    "\" name=\"no seeds\">\n      <skipped message=\"no seed of this scenario in "
                    "this shard\"/>\n    </testcase>\n");
  }
  xml->append("  </testsuite>\n");
}

// Length of the well-formed UTF-8 sequence at text[at] (a byte >= 0x80) whose
// code point XML 1.0 allows, or 0 when there is none.
size_t Utf8SequenceLength(std::string_view text, size_t at) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(at);
  size_t length = 0;
  uint32_t code_point = 0;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2, code_point = lead & 0x1f;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3, code_point = lead & 0x0f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4, code_point = lead & 0x07;
  } else {
    return 0;
  }
  if (at + length > text.size()) return 0;
  for (size_t i = 1; i < length; ++i) {
    if ((byte(at + i) & 0xc0) != 0x80) return 0;
    code_point = (code_point << 6) | (byte(at + i) & 0x3f);
  }
  const uint32_t minimum[] = {0, 0, 0x80, 0x800, 0x10000};
  const bool allowed = code_point >= minimum[length] && code_point <= 0x10ffff &&
                       !(code_point >= 0xd800 && code_point <= 0xdfff) && code_point != 0xfffe &&
                       code_point != 0xffff;
  return allowed ? length : 0;
}

}  // namespace

std::string DigestText(uint64_t digest) { return absl::StrFormat("%016x", digest); }

std::string FailureSignature(const Json& failure) {
  const Json& violations = failure["violations"];
  if (!violations.empty() && violations[0]["rule"] == harness::kAssertionRule) {
    const std::string message = violations[0]["message"].get<std::string>();
    return "assertion: " + message.substr(0, message.find(": "));
  }
  if (failure["rules"].empty()) return "no violation, expected " + failure["expected"].get<std::string>();
  return absl::StrJoin(failure["rules"].get<std::vector<std::string>>(), ", ");
}

std::string ExpectationText(const harness::Scenario& scenario) {
  if (scenario.expect == harness::Expect::kPass) return "pass";
  if (scenario.expect_rule.empty()) return "fail";
  return absl::StrCat("fail:", scenario.expect_rule);
}

RunRecord MakeRunRecord(const harness::Scenario& scenario, const harness::RunResult& result) {
  RunRecord record;
  record.scenario = scenario.name;
  record.seed = result.seed;
  record.passed = result.passed;
  record.digest = result.digest;
  record.transactions = result.transactions;
  record.committed = result.committed;
  record.aborted = result.aborted;
  record.unresolved = result.unresolved;
  record.faults_injected = result.faults_injected;
  record.expected = ExpectationText(scenario);
  record.coverage = result.coverage;
  if (!result.passed) {
    for (const harness::Violation& violation : result.violations) {
      record.violations.push_back({violation.rule, violation.tx, violation.message});
    }
    record.replay_command = harness::ReplayCommandLine(result.identity);
  }
  return record;
}

absl::StatusOr<Json> BuildSummary(const std::vector<ScenarioInfo>& scenarios,
                                  const std::vector<RunRecord>& records,
                                  uint64_t failure_folders_max) {
  Accumulators accumulators;
  harness::Coverage coverage;
  for (const RunRecord& record : records) coverage.Merge(record.coverage);
  for (const ScenarioInfo& info : scenarios) {
    if (absl::Status status = AddScenarioInfo(info.name, info.file, &accumulators); !status.ok()) {
      return status;
    }
  }
  for (const RunRecord& record : records) {
    if (absl::Status status = AddRecord(record, &accumulators); !status.ok()) return status;
  }
  return ToJson(accumulators, coverage, failure_folders_max);
}

absl::StatusOr<Json> ParseSummary(const std::string& text) {
  Json summary = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (summary.is_discarded()) return Invalid("not valid JSON");
  absl::StatusOr<ParsedSummary> parsed = ParsedFromJson(summary);
  if (!parsed.ok()) return parsed.status();
  return summary;
}

absl::StatusOr<Json> MergeSummaries(const std::vector<Json>& summaries) {
  if (summaries.empty()) return Invalid("no summaries to merge");
  Accumulators merged;
  harness::Coverage coverage;
  uint64_t failure_folders_max = 0;
  for (size_t i = 0; i < summaries.size(); ++i) {
    absl::StatusOr<ParsedSummary> input = ParsedFromJson(summaries[i]);
    if (!input.ok()) {
      return Invalid(absl::StrCat("summary ", i + 1, ": ", input.status().message()));
    }
    if (i == 0) failure_folders_max = input->failure_folders_max;
    if (input->failure_folders_max != failure_folders_max) {
      return Invalid(absl::StrCat("summary ", i + 1, " was written with failure_folders_max ",
                                  input->failure_folders_max, ", summary 1 with ",
                                  failure_folders_max, ": run every shard with the same flags"));
    }
    coverage.Merge(input->coverage);
    for (auto& [name, scenario] : input->scenarios) {
      if (absl::Status status = AddAccumulator(std::move(scenario), &merged); !status.ok()) {
        return status;
      }
    }
  }
  return ToJson(merged, coverage, failure_folders_max);
}

std::string SummaryText(const Json& summary) {
  std::string text;
  AppendJson(summary, 0, &text);
  text.push_back('\n');
  return text;
}

std::string JunitXml(const Json& summary) {
  const Json& totals = summary["totals"];
  std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  uint64_t tests = 0, skipped = 0;
  for (const Json& scenario : summary["scenarios"]) {
    const uint64_t seeds_run = scenario["seeds_run"].get<uint64_t>();
    tests += scenario["failed"].get<uint64_t>() +
             (scenario["passed"].get<uint64_t>() > 0 || seeds_run == 0 ? 1 : 0);
    skipped += seeds_run == 0 ? 1 : 0;
  }
  absl::StrAppend(&xml, "<testsuites name=\"ktmsim\" tests=\"", tests, "\" failures=\"",
                  totals["failed"].get<uint64_t>(), "\" errors=\"0\" skipped=\"", skipped, "\">\n");
  for (const Json& scenario : summary["scenarios"]) AppendTestsuite(scenario, &xml);
  xml.append("</testsuites>\n");
  return xml;
}

std::string SummaryTable(const Json& summary) {
  std::vector<std::vector<std::string>> rows = {
      {"scenario", "seeds", "pass", "fail", "committed", "aborted"}};
  auto add_row = [&rows](const std::string& name, const Json& counts, const char* seeds_key) {
    rows.push_back({name});
    for (const char* key : {seeds_key, "passed", "failed", "committed", "aborted"}) {
      rows.back().push_back(absl::StrCat(counts[key].get<uint64_t>()));
    }
  };
  for (const Json& scenario : summary["scenarios"]) {
    add_row(scenario["name"].get<std::string>(), scenario, "seeds_run");
  }
  add_row("TOTAL", summary["totals"], "runs");
  std::vector<size_t> widths(rows[0].size(), 0);
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string table;
  for (const auto& row : rows) {
    std::string line = absl::StrFormat("%-*s", static_cast<int>(widths[0]), row[0]);
    for (size_t i = 1; i < row.size(); ++i) {
      absl::StrAppend(&line, absl::StrFormat("  %*s", static_cast<int>(widths[i]), row[i]));
    }
    absl::StrAppend(&table, line, "\n");
  }
  return table;
}

std::string XmlEscape(std::string_view text, bool in_attribute) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (static_cast<unsigned char>(c) >= 0x80) {
      const size_t length = Utf8SequenceLength(text, i);
      if (length == 0) {
        out += absl::StrFormat("\\x%02x", static_cast<unsigned char>(c));
        ++i;
      } else {
        out.append(text.substr(i, length));
        i += length;
      }
      continue;
    }
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      case '\n': out += in_attribute ? "&#10;" : "\n"; break;
      case '\r': out += "&#13;"; break;
      case '\t': out += in_attribute ? "&#9;" : "\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          out += absl::StrFormat("\\x%02x", static_cast<unsigned char>(c));
        } else {
          out.push_back(c);
        }
    }
    ++i;
  }
  return out;
}

}  // namespace reports
