// Scenario files: reads TOML with toml++ (exceptions off) into a Scenario.
//
// How: a TableReader per TOML table reads the keys it knows (recording each
// as known), type-checks them and converts them; whatever is left in the table
// afterwards is an unknown key. Range and cross-field checks are not repeated
// here: FindProblems() reports them with the C++ path of the field, which
// ResolveProblem() maps back to the TOML node (and so to a line and column).
// A field the loader already complained about is left at its default and its
// path suppressed, so one mistake gives one message. All problems are
// collected, sorted by position, and returned together.
#define TOML_EXCEPTIONS 0
#include "harness/scenario_toml.h"

#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <string_view>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "harness/scenario_toml_prescan.h"
#include "harness/schedule_validation.h"
#include "sim/fault_kinds.h"

namespace harness {
namespace {

constexpr const char* kTimeUnits[] = {"ns", "us", "ms", "s"};
constexpr size_t kScenarioFileBytesMax = 4 << 20;  // a scenario or schedule file

struct Position {
  int64_t line = 1;
  int64_t column = 1;
};

Position PositionOf(const toml::source_region& region) {
  if (!region.begin) return {};
  return {static_cast<int64_t>(region.begin.line), static_cast<int64_t>(region.begin.column)};
}

Position PositionOf(const toml::node* node) { return node ? PositionOf(node->source()) : Position{}; }

std::string Join(const std::string& prefix, const std::string& key) {
  return prefix.empty() ? std::string(key) : absl::StrCat(prefix, ".", key);
}

std::string Quoted(const std::string& text) { return absl::StrCat("\"", text, "\""); }

const char* TypeName(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time of day";
    case toml::node_type::date_time: return "a date-time";
    default: return "nothing";
  }
}

// Reads a whole file; the error message is the system's reason.
absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  std::error_code ignored;
  if (std::filesystem::is_directory(path, ignored)) return absl::NotFoundError(std::strerror(EISDIR));
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) return absl::NotFoundError(std::strerror(errno));
  std::string text;
  char buffer[65536];
  size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof buffer, file)) > 0 && text.size() <= kScenarioFileBytesMax) {
    text.append(buffer, got);
  }
  const bool failed = std::ferror(file) != 0;
  const int error = errno;
  std::fclose(file);
  if (failed) return absl::NotFoundError(std::strerror(error));
  if (text.size() > kScenarioFileBytesMax) {
    return absl::InvalidArgumentError(absl::StrCat("larger than ", kScenarioFileBytesMax, " bytes"));
  }
  return text;
}

// Collects problems of one load, formats them, and records the keys read.
class Loader {
 public:
  Loader(std::string path, std::set<std::string>* keys_read)
      : path_(std::move(path)), keys_read_(keys_read) {}

  const std::string& path() const { return path_; }

  // A problem in the scenario file. `cpp_path`, when given, is suppressed:
  // FindProblems() will not report it again.
  void Report(Position where, const std::string& toml_path, const std::string& message,
              const std::string& cpp_path = "") {
    const std::string text = toml_path.empty() ? message : absl::StrCat(toml_path, ": ", message);
    ReportIn(path_, where, where, text);
    if (!cpp_path.empty()) suppressed_.insert(cpp_path);
  }
  // A problem in another file (a schedule_file), sorted as if at `order`.
  void ReportIn(const std::string& file, Position where, Position order, const std::string& text) {
    problems_.push_back(
        {order, absl::StrCat(file, ":", where.line, ":", where.column, ": ", OneLine(text))});
  }
  void Suppress(const std::string& cpp_path) { suppressed_.insert(cpp_path); }
  // True if `cpp_path` or a field inside it was suppressed.
  bool Suppressed(const std::string& cpp_path) const {
    for (const std::string& s : suppressed_) {
      if (cpp_path == s) return true;
      if (cpp_path.size() > s.size() && cpp_path.compare(0, s.size(), s) == 0 &&
          (cpp_path[s.size()] == '.' || cpp_path[s.size()] == '[')) {
        return true;
      }
    }
    return false;
  }
  void NoteKey(const std::string& pattern) {
    if (keys_read_ != nullptr) keys_read_->insert(pattern);
  }
  // NoteKey(Join(prefix, key + suffix)), joined only when keys are recorded
  // (ScenarioKeysRead): a plain load reads every key without building it.
  void NoteKey(const std::string& prefix, std::string_view key, std::string_view suffix = {}) {
    if (keys_read_ == nullptr) return;
    std::string name(key);
    name.append(suffix);
    keys_read_->insert(prefix.empty() ? name : absl::StrCat(prefix, ".", name));
  }
  absl::Status Result() {
    if (problems_.empty()) return absl::OkStatus();
    std::stable_sort(problems_.begin(), problems_.end(), [](const Problem& a, const Problem& b) {
      return std::pair(a.order.line, a.order.column) < std::pair(b.order.line, b.order.column);
    });
    std::vector<std::string> lines;
    std::set<std::string> seen;
    for (const Problem& problem : problems_) {
      if (seen.insert(problem.text).second) lines.push_back(problem.text);
    }
    return absl::InvalidArgumentError(absl::StrJoin(lines, "\n"));
  }

 private:
  struct Problem {
    Position order;
    std::string text;
  };
  std::string path_;
  std::set<std::string>* keys_read_;
  std::vector<Problem> problems_;
  std::set<std::string> suppressed_;
};

template <typename E>
using Choices = std::vector<std::pair<std::string, E>>;

template <typename E>
std::string UnknownChoice(const std::string& value, const Choices<E>& choices) {
  std::vector<std::string> names;
  std::string expected;
  for (size_t i = 0; i < choices.size(); ++i) {
    names.push_back(choices[i].first);
    if (i > 0) expected += (i + 1 == choices.size()) ? " or " : ", ";
    expected += Quoted(choices[i].first);
  }
  std::string message = absl::StrCat("unknown value ", Quoted(value), "; expected ", expected);
  const std::string close = ClosestName(value, names);
  if (!close.empty()) absl::StrAppend(&message, "; did you mean ", Quoted(close), "?");
  return message;
}

// Reads the keys of one TOML table; see the file comment.
class TableReader {
 public:
  // toml_path: for messages ("rms[1].disk"); cpp_path: the Scenario field
  // ("rms[1].disk"); pattern: for ScenarioKeysRead ("rms.disk").
  TableReader(Loader& loader, const toml::table& table, std::string toml_path, std::string cpp_path,
              std::string pattern)
      : loader_(loader), table_(table), toml_path_(std::move(toml_path)),
        cpp_path_(std::move(cpp_path)), pattern_(std::move(pattern)) {}

  TableReader Child(const toml::table& table, const std::string& key) const {
    return TableReader(loader_, table, Join(toml_path_, key), Join(cpp_path_, key), Join(pattern_, key));
  }
  TableReader Element(const toml::table& table, const std::string& key, size_t index) const {
    return TableReader(loader_, table, absl::StrCat(Join(toml_path_, key), "[", index, "]"),
                       absl::StrCat(Join(cpp_path_, key), "[", index, "]"), Join(pattern_, key));
  }
  // Fields read from here on are Scenario fields under `cpp_path`.
  void set_cpp_path(std::string cpp_path) { cpp_path_ = std::move(cpp_path); }

  Loader& loader() const { return loader_; }
  const toml::table& table() const { return table_; }
  std::string KeyPath(const std::string& key) const { return Join(toml_path_, key); }
  std::string CppPath(const std::string& field) const { return Join(cpp_path_, field); }

  // Marks `key` known and returns its node (nullptr when absent).
  const toml::node* Get(const std::string& key) {
    known_.push_back(key);
    loader_.NoteKey(pattern_, key);
    return table_.get(key);
  }
  void Error(const std::string& key, const toml::node* node, const std::string& message,
             const std::string& cpp_field = "") {
    loader_.Report(PositionOf(node), KeyPath(key), message, CppPath(cpp_field.empty() ? key : cpp_field));
  }
  void TypeError(const std::string& key, const toml::node& node, const char* expected) {
    Error(key, &node, absl::StrCat("expected ", expected, ", got ", TypeName(node)));
  }
  void Require(const std::string& key) {
    if (table_.get(key) == nullptr) {
      loader_.Report(PositionOf(&table_), KeyPath(key), "required key is missing", CppPath(key));
    }
  }

  bool Bool(const std::string& key, bool* out);
  template <typename T>
  bool Unsigned(const std::string& key, T* out);
  bool Number(const std::string& key, double* out);
  bool Text(const std::string& key, std::string* out);
  template <typename E>
  bool Choice(const std::string& key, const Choices<E>& choices, E* out);
  bool Time(const std::string& base, sim::TimeNs* out);
  // The unit key present for a time field (nullptr if none); marks them known.
  const toml::key* TimeKey(const std::string& base);
  const toml::table* Table(const std::string& key);
  const toml::array* Array(const std::string& key);
  void ReportUnknownKeys();

 private:
  Loader& loader_;
  const toml::table& table_;
  std::string toml_path_, cpp_path_, pattern_;
  // Keys read (repeats allowed) and time bases read (each stands for its
  // base_<unit> keys): few per table, so scanned, and sorted only for a "did
  // you mean" (KnownKeys).
  std::vector<std::string> known_;
  std::vector<std::string> time_bases_;
  bool Known(std::string_view name) const;
  std::vector<std::string> KnownKeys() const;
};

bool TableReader::Bool(const std::string& key, bool* out) {
  const toml::node* node = Get(key);
  if (node == nullptr) return false;
  if (!node->is_boolean()) {
    TypeError(key, *node, "a boolean");
    return false;
  }
  *out = node->as_boolean()->get();
  return true;
}

template <typename T>
bool TableReader::Unsigned(const std::string& key, T* out) {
  const toml::node* node = Get(key);
  if (node == nullptr) return false;
  if (!node->is_integer()) {
    TypeError(key, *node, "an integer");
    return false;
  }
  const int64_t value = node->as_integer()->get();
  if (value < 0) {
    Error(key, node, absl::StrCat("must not be negative, got ", value));
    return false;
  }
  if (static_cast<uint64_t>(value) > std::numeric_limits<T>::max()) {
    Error(key, node, absl::StrCat("must be at most ", std::numeric_limits<T>::max(), ", got ", value));
    return false;
  }
  *out = static_cast<T>(value);
  return true;
}

bool TableReader::Number(const std::string& key, double* out) {
  const toml::node* node = Get(key);
  if (node == nullptr) return false;
  if (node->is_integer()) {
    *out = static_cast<double>(node->as_integer()->get());
    return true;
  }
  if (!node->is_floating_point()) {
    TypeError(key, *node, "a number");
    return false;
  }
  const double value = node->as_floating_point()->get();
  if (!std::isfinite(value)) {
    Error(key, node, absl::StrCat("must be a finite number, got ", value));
    return false;
  }
  *out = value;
  return true;
}

bool TableReader::Text(const std::string& key, std::string* out) {
  const toml::node* node = Get(key);
  if (node == nullptr) return false;
  if (!node->is_string()) {
    TypeError(key, *node, "a string");
    return false;
  }
  *out = node->as_string()->get();
  return true;
}

template <typename E>
bool TableReader::Choice(const std::string& key, const Choices<E>& choices, E* out) {
  std::string value;
  if (!Text(key, &value)) return false;
  for (const auto& [name, choice] : choices) {
    if (name == value) {
      *out = choice;
      return true;
    }
  }
  Error(key, Get(key), UnknownChoice(value, choices));
  return false;
}

const toml::key* TableReader::TimeKey(const std::string& base) {
  time_bases_.push_back(base);
  loader_.NoteKey(pattern_, base, "_<unit>");
  const toml::key* found = nullptr;
  // The keys base_<unit> present, in kTimeUnits order (the first is the one
  // read, the others are errors): one ordered walk from base + "_" over the
  // keys that start with it, instead of a lookup per unit.
  std::array<toml::table::const_iterator, std::size(kTimeUnits)> present;
  present.fill(table_.end());
  const std::string prefix = base + "_";
  for (auto it = table_.lower_bound(prefix); it != table_.end(); ++it) {
    const std::string_view name = it->first.str();
    if (name.substr(0, prefix.size()) != prefix) break;
    for (size_t u = 0; u < std::size(kTimeUnits); ++u) {
      if (name.substr(prefix.size()) == kTimeUnits[u]) present[u] = it;
    }
  }
  for (size_t u = 0; u < std::size(kTimeUnits); ++u) {
    auto it = present[u];
    if (it == table_.end()) continue;
    const std::string key(it->first.str());
    if (found == nullptr) {
      found = &it->first;
    } else {
      Error(key, &it->second,
            absl::StrCat("sets the same time as '", std::string(found->str()), "'; keep one"), base + "_ns");
    }
  }
  return found;
}

bool TableReader::Time(const std::string& base, sim::TimeNs* out) {
  const toml::key* key = TimeKey(base);
  if (key == nullptr) return false;
  const toml::node& node = *table_.get(key->str());
  const std::string unit(key->str().substr(base.size() + 1));
  absl::StatusOr<sim::TimeNs> ns = absl::InvalidArgumentError("");
  if (node.is_integer()) {
    ns = TimeToNanoseconds(node.as_integer()->get(), unit);
  } else if (node.is_floating_point()) {
    ns = TimeToNanoseconds(node.as_floating_point()->get(), unit);
  } else {
    Error(std::string(key->str()), &node, absl::StrCat("expected a number, got ", TypeName(node)), base + "_ns");
    return false;
  }
  if (!ns.ok()) {
    Error(std::string(key->str()), &node, std::string(ns.status().message()), base + "_ns");
    return false;
  }
  *out = *ns;
  return true;
}

const toml::table* TableReader::Table(const std::string& key) {
  const toml::node* node = Get(key);
  if (node == nullptr) return nullptr;
  if (!node->is_table()) {
    TypeError(key, *node, "a table");
    return nullptr;
  }
  return node->as_table();
}

const toml::array* TableReader::Array(const std::string& key) {
  const toml::node* node = Get(key);
  if (node == nullptr) return nullptr;
  if (!node->is_array()) {
    TypeError(key, *node, "an array");
    return nullptr;
  }
  return node->as_array();
}

bool TableReader::Known(std::string_view name) const {
  for (const std::string& key : known_) {
    if (key == name) return true;
  }
  for (const std::string& base : time_bases_) {
    if (name.size() <= base.size() + 1 || name.substr(0, base.size()) != base || name[base.size()] != '_') continue;
    for (const char* unit : kTimeUnits) {
      if (name.substr(base.size() + 1) == unit) return true;
    }
  }
  return false;
}

std::vector<std::string> TableReader::KnownKeys() const {
  std::set<std::string> keys(known_.begin(), known_.end());
  for (const std::string& base : time_bases_) {
    for (const char* unit : kTimeUnits) keys.insert(absl::StrCat(base, "_", unit));
  }
  return std::vector<std::string>(keys.begin(), keys.end());
}

void TableReader::ReportUnknownKeys() {
  std::vector<std::string> known;  // the "did you mean" candidates: made at the first unknown key
  for (const auto& [key, node] : table_) {
    const std::string name(key.str());
    if (Known(name)) continue;
    std::string message;
    if (std::find(time_bases_.begin(), time_bases_.end(), name) != time_bases_.end()) {
      message = absl::StrCat("a time needs a unit: write ", name, "_ns, ", name, "_us, ", name,
                             "_ms or ", name, "_s");
    } else {
      message = "unknown key";
      if (known.empty()) known = KnownKeys();
      const std::string close = ClosestName(name, known);
      if (!close.empty()) absl::StrAppend(&message, "; did you mean '", close, "'?");
    }
    loader_.Report(PositionOf(key.source()), KeyPath(name), message);
  }
}

// ---------------------------------------------------------------------------
// The format, table by table.

// Reads each table of an array of tables ([[hosts]]) with `read`.
template <typename Read>
void ReadTableArray(TableReader& parent, const std::string& key, Read read) {
  const toml::array* array = parent.Array(key);
  if (array == nullptr) return;
  for (size_t i = 0; i < array->size(); ++i) {
    const toml::node& element = *array->get(i);
    if (!element.is_table()) {
      const std::string path = absl::StrCat(key, "[", i, "]");
      parent.loader().Report(PositionOf(&element), parent.KeyPath(path),
                             absl::StrCat("expected a table, got ", TypeName(element)),
                             parent.CppPath(path));
      read(nullptr, i);
      continue;
    }
    TableReader reader = parent.Element(*element.as_table(), key, i);
    read(&reader, i);
    reader.ReportUnknownKeys();
  }
}

// Which of value/min/mean/max each latency kind takes (indexed by Kind).
static_assert(static_cast<int>(sim::Latency::Kind::kFixed) == 0 &&
              static_cast<int>(sim::Latency::Kind::kUniform) == 1 &&
              static_cast<int>(sim::Latency::Kind::kExponential) == 2);
const std::vector<std::string> kLatencyParts = {"value", "min", "mean", "max"};
const std::vector<std::vector<std::string>> kLatencyPartsWanted = {
    {"value"}, {"min", "max"}, {"min", "mean", "max"}};

void ReadLatency(TableReader& parent, const std::string& key, sim::Latency* out) {
  const toml::table* table = parent.Table(key);
  if (table == nullptr) return;
  TableReader reader = parent.Child(*table, key);
  const Choices<sim::Latency::Kind> kinds = {{"fixed", sim::Latency::Kind::kFixed},
                                             {"uniform", sim::Latency::Kind::kUniform},
                                             {"exponential", sim::Latency::Kind::kExponential}};
  sim::Latency latency;
  reader.Require("kind");
  const bool kind_ok = reader.Choice("kind", kinds, &latency.kind);
  bool values_ok = kind_ok;
  sim::TimeNs values[4] = {0, 0, 0, 0};
  for (size_t i = 0; i < kLatencyParts.size(); ++i) {
    const toml::key* present = reader.TimeKey(kLatencyParts[i]);
    if (!kind_ok) continue;
    const std::vector<std::string>& want = kLatencyPartsWanted[static_cast<size_t>(latency.kind)];
    const bool needed = std::find(want.begin(), want.end(), kLatencyParts[i]) != want.end();
    const std::string kind_name = Quoted(kinds[static_cast<size_t>(latency.kind)].first);
    if (present != nullptr && !needed) {
      const std::string takes = absl::StrJoin(
          want, ", ", [](std::string* s, const std::string& part) { absl::StrAppend(s, part, "_<unit>"); });
      parent.loader().Report(PositionOf(present->source()), reader.KeyPath(std::string(present->str())),
                             absl::StrCat("not used by kind ", kind_name, " (it takes ", takes, ")"));
    } else if (present == nullptr && needed) {
      parent.loader().Report(PositionOf(table), reader.KeyPath(kLatencyParts[i] + "_<unit>"),
                             absl::StrCat("required by kind ", kind_name));
      values_ok = false;
    } else if (present != nullptr) {
      values_ok = reader.Time(kLatencyParts[i], &values[i]) && values_ok;
    }
  }
  reader.ReportUnknownKeys();
  if (!values_ok) {
    parent.loader().Suppress(parent.CppPath(key));
    return;
  }
  const bool fixed = latency.kind == sim::Latency::Kind::kFixed;
  latency.min_ns = fixed ? values[0] : values[1];
  latency.max_ns = fixed ? values[0] : values[3];
  latency.mean_ns = latency.kind == sim::Latency::Kind::kExponential ? values[2] : latency.min_ns;
  *out = latency;
}

void ReadDisk(TableReader& parent, const std::string& key, sim::DiskOptions* disk) {
  const toml::table* table = parent.Table(key);
  if (table == nullptr) return;
  TableReader reader = parent.Child(*table, key);
  reader.Unsigned("sector_size", &disk->sector_size);
  reader.Unsigned("sector_count", &disk->sector_count);
  reader.Unsigned("inflight_max", &disk->inflight_max);
  reader.Number("unflushed_survive_probability", &disk->unflushed_survive_probability);
  ReadLatency(reader, "write_latency", &disk->write_latency);
  ReadLatency(reader, "read_latency", &disk->read_latency);
  ReadLatency(reader, "flush_latency", &disk->flush_latency);
  ReadLatency(reader, "fua_extra_latency", &disk->fua_extra_latency);
  reader.ReportUnknownKeys();
}

void ReadHost(TableReader& reader, HostSpec* host) {
  reader.Require("name");
  reader.Text("name", &host->name);
  reader.Bool("tm_volatile", &host->tm_volatile);
  ReadDisk(reader, "log_disk", &host->log_disk);
}

// [rms.options]: the kind's own options, each value kept as its text
// (a string as is; an integer, number or boolean as TOML writes it).
void ReadRmOptions(TableReader& parent, std::map<std::string, std::string>* options) {
  const toml::table* table = parent.Table("options");
  if (table == nullptr) return;
  TableReader reader = parent.Child(*table, "options");
  for (const auto& [key, node] : *table) {
    const std::string name(key.str());  // any name: the kind reads what it knows
    if (node.is_string()) {
      (*options)[name] = node.as_string()->get();
    } else if (node.is_integer()) {
      (*options)[name] = absl::StrCat(node.as_integer()->get());
    } else if (node.is_boolean()) {
      (*options)[name] = node.as_boolean()->get() ? "true" : "false";
    } else if (node.is_floating_point()) {
      (*options)[name] = absl::StrCat(node.as_floating_point()->get());
    } else {
      reader.TypeError(name, node, "a string, integer, number or boolean");
    }
  }
}

void ReadRm(TableReader& reader, RmSpec* rm) {
  reader.Require("name");
  reader.Text("name", &rm->name);
  reader.Require("host");
  reader.Text("host", &rm->host);
  reader.Text("kind", &rm->kind);  // checked against the RM-kind catalog (Validate)
  reader.Bool("durable", &rm->durable);
  reader.Bool("single_phase", &rm->single_phase);
  reader.Number("vote_no_probability", &rm->vote_no_probability);
  reader.Number("disconnect_probability", &rm->disconnect_probability);
  reader.Number("reject_single_phase_probability", &rm->reject_single_phase_probability);
  reader.Time("response_delay", &rm->response_delay_ns);
  reader.Number("delete_fraction", &rm->delete_fraction);
  reader.Number("move_fraction", &rm->move_fraction);
  reader.Number("volatile_fraction", &rm->volatile_fraction);
  reader.Number("nontransacted_open_fraction", &rm->nontransacted_open_fraction);
  reader.Time("nontransacted_hold", &rm->nontransacted_hold_ns);
  reader.Time("request_outcome_after", &rm->request_outcome_after_ns);
  reader.Unsigned("snapshot_log_bytes", &rm->snapshot_log_bytes);
  ReadDisk(reader, "disk", &rm->disk);
  ReadRmOptions(reader, &rm->options);
}

void ReadWorkload(TableReader& reader, WorkloadSpec* w) {
  reader.Unsigned("transactions", &w->transactions);
  reader.Time("duration", &w->duration_ns);
  reader.Number("arrival_per_second", &w->arrival_per_second);
  reader.Unsigned("concurrency", &w->concurrency);
  reader.Unsigned("ops_min", &w->ops_min);
  reader.Unsigned("ops_max", &w->ops_max);
  reader.Unsigned("rms_per_tx_min", &w->rms_per_tx_min);
  reader.Unsigned("rms_per_tx_max", &w->rms_per_tx_max);
  reader.Unsigned("keys", &w->keys);
  reader.Unsigned("value_bytes", &w->value_bytes);
  reader.Number("read_fraction", &w->read_fraction);
  reader.Number("commit_fraction", &w->commit_fraction);
  reader.Number("rollback_fraction", &w->rollback_fraction);
  reader.Number("read_only_fraction", &w->read_only_fraction);
  reader.Number("async_commit_fraction", &w->async_commit_fraction);
  reader.Time("timeout", &w->timeout_ns);
  reader.Time("think", &w->think_ns);
  reader.Number("distributed_fraction", &w->distributed_fraction);
  if (const toml::array* skip = reader.Array("skip")) {
    for (size_t i = 0; i < skip->size(); ++i) {
      const toml::node& element = *skip->get(i);
      const std::optional<int64_t> number = element.value<int64_t>();
      if (!element.is_integer() || !number || *number < 1 || *number > int64_t{UINT32_MAX}) {
        reader.loader().Report(PositionOf(&element), absl::StrCat(reader.KeyPath("skip"), "[", i, "]"),
                               absl::StrCat("expected a transaction number >= 1, got ", TypeName(element)),
                               absl::StrCat("workload.skip[", i, "]"));
        continue;
      }
      w->skip.push_back(static_cast<uint32_t>(*number));
    }
  }
  if (const toml::array* skip_ops = reader.Array("skip_ops")) {
    for (size_t i = 0; i < skip_ops->size(); ++i) {
      const toml::node& element = *skip_ops->get(i);
      const toml::array* pair = element.as_array();
      std::optional<int64_t> numbers[2];
      if (pair != nullptr && pair->size() == 2) {
        for (size_t j = 0; j < 2; ++j) {
          if (pair->get(j)->is_integer()) numbers[j] = pair->get(j)->value<int64_t>();
        }
      }
      const auto in_range = [](const std::optional<int64_t>& n) { return n && *n >= 1 && *n <= int64_t{UINT32_MAX}; };
      if (!in_range(numbers[0]) || !in_range(numbers[1])) {
        reader.loader().Report(PositionOf(&element), absl::StrCat(reader.KeyPath("skip_ops"), "[", i, "]"),
                               absl::StrCat("expected [transaction, operation], two integers >= 1, got ",
                                            pair != nullptr ? absl::StrCat("an array of ", pair->size()) : TypeName(element)),
                               absl::StrCat("workload.skip_ops[", i, "]"));
        continue;
      }
      w->skip_ops.push_back({static_cast<uint32_t>(*numbers[0]), static_cast<uint32_t>(*numbers[1])});
    }
  }
}

void ReadNetwork(TableReader& reader, sim::NetworkOptions* network) {
  ReadLatency(reader, "latency", &network->latency);
  reader.Number("loss_probability", &network->loss_probability);
  reader.Number("duplicate_probability", &network->duplicate_probability);
  reader.Number("reorder_probability", &network->reorder_probability);
  reader.Time("reorder_delay_max", &network->reorder_delay_max_ns);
  reader.Unsigned("inflight_max", &network->inflight_max);
}

// Where a problem reported by FaultSchedule::Parse ("line N: ...") lies in
// an inline `schedule = """..."""` string starting at `begin`. TOML drops a
// newline right after the opening quotes; line-ending backslashes would shift
// lines (then the position is approximate).
Position InlineScheduleLine(const std::string& document, Position begin, int64_t schedule_line) {
  size_t offset = 0;
  for (int64_t line = 1; line < begin.line && offset != std::string::npos; ++line) {
    offset = document.find('\n', offset);
    if (offset != std::string::npos) ++offset;
  }
  if (offset == std::string::npos) return begin;
  const size_t quotes = offset + static_cast<size_t>(begin.column - 1);
  const std::string_view rest = std::string_view(document).substr(std::min(quotes, document.size()));
  const bool multi_line = rest.substr(0, 3) == "\"\"\"" || rest.substr(0, 3) == "'''";
  if (!multi_line) return begin;
  const bool starts_on_next_line = rest.substr(3, 1) == "\n" || rest.substr(3, 2) == "\r\n";
  if (starts_on_next_line) return {begin.line + schedule_line, 1};
  if (schedule_line == 1) return {begin.line, begin.column + 3};
  return {begin.line + schedule_line - 1, 1};
}

// Where the schedule text came from, so its problems can be reported at
// their line (in the scenario file or in the schedule file).
struct ScheduleSource {
  const toml::node* node = nullptr;  // the `schedule` or `schedule_file` value
  bool is_inline = false;
  std::string file;                  // schedule_file: the path that was read
  std::string key_path;              // "faults.schedule" / "faults.schedule_file"
};

// Reads `schedule` or `schedule_file` into faults->schedule_text and records
// where it came from; ReportScheduleProblems checks it once the whole
// scenario is read.
void ReadSchedule(TableReader& reader, FaultSpec* faults, ScheduleSource* source) {
  Loader& loader = reader.loader();
  const toml::node* inline_node = reader.Get("schedule");
  const toml::node* file_node = reader.Get("schedule_file");
  if (inline_node != nullptr && file_node != nullptr) {
    reader.Error("schedule_file", file_node, "give either schedule or schedule_file, not both",
                 "schedule_text");
    return;
  }
  if (inline_node != nullptr) {
    if (!reader.Text("schedule", &faults->schedule_text)) {
      loader.Suppress("faults.schedule_text");
      return;
    }
    *source = {inline_node, true, "", reader.KeyPath("schedule")};
  } else if (file_node != nullptr) {
    std::string name;
    if (!reader.Text("schedule_file", &name)) {
      loader.Suppress("faults.schedule_text");
      return;
    }
    const std::string schedule_path = (std::filesystem::path(loader.path()).parent_path() / name).string();
    absl::StatusOr<std::string> text = ReadWholeFile(schedule_path);
    if (!text.ok()) {
      reader.Error("schedule_file", file_node,
                   absl::StrCat("cannot open ", Quoted(schedule_path), ": ", text.status().message()),
                   "schedule_text");
      return;
    }
    faults->schedule_text = *text;
    *source = {file_node, false, schedule_path, reader.KeyPath("schedule_file")};
  }
}

// In schedule mode, checks every line of the schedule against the scenario
// (harness/schedule_validation.h) and reports each problem at its line.
void ReportScheduleProblems(Loader& loader, const std::string& document, const Scenario& scenario,
                            const ScheduleSource& source) {
  const FaultSpec& faults = scenario.faults;
  if (source.node == nullptr || faults.mode != FaultMode::kSchedule || faults.schedule_text.empty()) return;
  const std::vector<ScheduleProblem> problems = CheckFaultSchedule(scenario, faults.schedule_text);
  if (problems.empty()) return;
  loader.Suppress("faults.schedule_text");
  for (const ScheduleProblem& problem : problems) {
    if (source.is_inline) {
      loader.Report(InlineScheduleLine(document, PositionOf(source.node), problem.line), source.key_path,
                    problem.message);
    } else {
      loader.ReportIn(source.file, {problem.line, 1}, PositionOf(source.node),
                      absl::StrCat("fault schedule: ", problem.message));
    }
  }
}

// The FaultProbabilities number keys: every fault kind's rate key (the
// catalog, sim/fault_kinds.h), then the crash survival probability.
std::vector<std::pair<std::string, double sim::FaultProbabilities::*>> ProbabilityNumberKeys() {
  std::vector<std::pair<std::string, double sim::FaultProbabilities::*>> keys;
  for (const sim::FaultKindInfo& kind : sim::kFaultKinds) keys.emplace_back(std::string(kind.rate_key), kind.rate);
  keys.emplace_back("unflushed_survive_probability", &sim::FaultProbabilities::unflushed_survive_probability);
  return keys;
}

void ReadProbabilities(TableReader& reader, FaultMode mode, bool mode_known, sim::FaultProbabilities* p) {
  reader.set_cpp_path("faults.probabilities");
  std::vector<std::pair<std::string, const toml::node*>> present;
  for (const auto& [key, field] : ProbabilityNumberKeys()) {
    if (reader.Number(key, &(p->*field))) present.emplace_back(key, reader.table().get(key));
  }
  const std::pair<std::string, sim::TimeNs*> times[] = {
      {"restart_delay_min", &p->restart_delay_min_ns},
      {"restart_delay_max", &p->restart_delay_max_ns},
      {"partition_duration_max", &p->partition_duration_max_ns}};
  for (const auto& [base, out] : times) {
    const toml::key* key = reader.TimeKey(base);
    if (key != nullptr && reader.Time(base, out)) {
      present.emplace_back(std::string(key->str()), reader.table().get(key->str()));
    }
  }
  reader.set_cpp_path("faults");
  if (!mode_known || mode == FaultMode::kProbabilities) return;
  for (const auto& [key, node] : present) {
    reader.Error(key, node,
                 mode == FaultMode::kSwarm
                     ? "only used with mode \"probabilities\" (mode \"swarm\" draws its own rates per seed)"
                     : "only used with mode \"probabilities\"");
  }
}

void ReadFaults(TableReader& reader, FaultSpec* faults, ScheduleSource* source) {
  const bool mode_known = reader.Choice("mode",
                                        Choices<FaultMode>{{"none", FaultMode::kNone},
                                                           {"probabilities", FaultMode::kProbabilities},
                                                           {"swarm", FaultMode::kSwarm},
                                                           {"schedule", FaultMode::kSchedule}},
                                        &faults->mode) ||
                          reader.table().get("mode") == nullptr;
  reader.Time("faults_until", &faults->faults_until_ns);
  reader.Text("crash_on", &faults->crash_on);
  reader.Number("crash_on_probability", &faults->crash_on_probability);
  reader.Text("budget", &faults->budget);
  if (mode_known) {
    ReadSchedule(reader, faults, source);
  } else {
    // Unknown mode: the default (none) stands in, so checks that depend on
    // the mode would only add noise.
    reader.Get("schedule");
    reader.Get("schedule_file");
    reader.loader().Suppress("faults.schedule_text");
    reader.loader().Suppress("faults.crash_on");
  }
  ReadProbabilities(reader, faults->mode, mode_known, &faults->probabilities);
}

// seeds = [3, 17]: non-negative integers, at most kPinnedSeedsMax.
void ReadSeeds(TableReader& reader, std::vector<uint64_t>* seeds) {
  const toml::array* list = reader.Array("seeds");
  if (list == nullptr) return;
  for (size_t i = 0; i < list->size() && i < kPinnedSeedsMax; ++i) {
    const toml::node& element = *list->get(i);
    if (!element.is_integer() || element.as_integer()->get() < 0) {
      reader.loader().Report(PositionOf(&element), absl::StrCat("seeds[", i, "]"),
                             absl::StrCat("expected a seed (an integer >= 0), got ", TypeName(element)), "seeds");
      continue;
    }
    seeds->push_back(static_cast<uint64_t>(element.as_integer()->get()));
  }
  if (list->size() > kPinnedSeedsMax) {
    reader.loader().Report(PositionOf(list), "seeds", absl::StrCat("at most ", kPinnedSeedsMax, " seeds"), "seeds");
  }
}

void ReadCheckers(TableReader& reader, std::vector<std::string>* checkers) {
  const toml::array* run = reader.Array("run");
  if (run == nullptr) return;
  for (size_t i = 0; i < run->size(); ++i) {
    const toml::node& element = *run->get(i);
    checkers->emplace_back();
    if (!element.is_string()) {
      reader.loader().Report(PositionOf(&element), absl::StrCat(reader.KeyPath("run"), "[", i, "]"),
                             absl::StrCat("expected a string, got ", TypeName(element)),
                             absl::StrCat("checkers[", i, "]"));
      continue;
    }
    checkers->back() = element.as_string()->get();
  }
}

void ReadExpect(TableReader& reader, Scenario* scenario) {
  if (!reader.Choice("verdict", Choices<Expect>{{"pass", Expect::kPass}, {"fail", Expect::kFail}},
                     &scenario->expect)) {
    reader.loader().Suppress("expect_rule");
  }
  reader.Text("rule", &scenario->expect_rule);
  reader.Unsigned("refusals_min", &scenario->expect_refusals_min);
}

// Reads the sub-table `key` of `parent` with `read`, then reports its unknown keys.
template <typename Read>
void ReadSection(TableReader& parent, const std::string& key, Read read) {
  const toml::table* table = parent.Table(key);
  if (table == nullptr) return;
  TableReader reader = parent.Child(*table, key);
  read(reader);
  reader.ReportUnknownKeys();
}

void ReadScenario(Loader& loader, const toml::table& root, Scenario* s, ScheduleSource* source) {
  TableReader top(loader, root, "", "", "");
  top.Text("name", &s->name);
  top.Text("description", &s->description);
  top.Time("run_until", &s->run_until_ns);
  top.Time("termination_bound", &s->termination_bound_ns);
  top.Text("schedule_strategy", &s->schedule_strategy);
  top.Unsigned("schedule_pct_depth", &s->schedule_pct_depth);
  ReadSeeds(top, &s->seeds);
  ReadTableArray(top, "hosts", [&](TableReader* reader, size_t) {
    s->hosts.emplace_back();
    if (reader != nullptr) ReadHost(*reader, &s->hosts.back());
  });
  ReadTableArray(top, "rms", [&](TableReader* reader, size_t) {
    s->rms.emplace_back();
    if (reader != nullptr) ReadRm(*reader, &s->rms.back());
  });
  ReadSection(top, "workload", [&](TableReader& reader) { ReadWorkload(reader, &s->workload); });
  ReadSection(top, "network", [&](TableReader& reader) { ReadNetwork(reader, &s->network); });
  ReadSection(top, "faults", [&](TableReader& reader) { ReadFaults(reader, &s->faults, source); });
  ReadSection(top, "checkers", [&](TableReader& reader) { ReadCheckers(reader, &s->checkers); });
  ReadSection(top, "expect", [&](TableReader& reader) { ReadExpect(reader, s); });
  top.ReportUnknownKeys();
}

// The TOML paths that may hold the Scenario field `cpp_path`, best first.
std::vector<std::string> TomlCandidates(std::string path) {
  auto replace_prefix = [&path](const std::string& from, const std::string& to) {
    if (path.compare(0, from.size(), from) == 0 &&
        (path.size() == from.size() || path[from.size()] == '.' || path[from.size()] == '[')) {
      path = absl::StrCat(to, path.substr(from.size()));
    }
  };
  replace_prefix("faults.probabilities", "faults");
  replace_prefix("checkers", "checkers.run");
  if (path == "expect_rule") path = "expect.rule";
  if (path == "expect_refusals_min") path = "expect.refusals_min";
  if (path == "expect") path = "expect.verdict";
  if (path == "faults.schedule_text") return {"faults.schedule", "faults.schedule_file"};
  if (!absl::EndsWith(path, "_ns")) return {path};
  const std::string base = path.substr(0, path.size() - 3);
  std::vector<std::string> candidates;
  for (const char* unit : kTimeUnits) candidates.push_back(absl::StrCat(base, "_", unit));
  if (absl::EndsWith(base, "latency.min")) {  // a fixed latency writes its min as value_<unit>
    const std::string value = absl::StrCat(base.substr(0, base.size() - 3), "value");
    for (const char* unit : kTimeUnits) candidates.push_back(absl::StrCat(value, "_", unit));
  }
  return candidates;
}

// "a.b[2].c" -> "a.b[2]" -> "a.b" -> "a" -> "".
std::string ParentPath(const std::string& path) {
  const size_t cut = path.find_last_of(".[");
  return cut == std::string::npos ? "" : path.substr(0, cut);
}

// Reports a FindProblems() problem at the TOML node of its field (or of the
// nearest enclosing table that exists; the file's start for the root).
void ReportProblem(Loader& loader, const toml::table& root, const ScenarioProblem& problem) {
  const std::vector<std::string> candidates = TomlCandidates(problem.path);
  for (const std::string& candidate : candidates) {
    if (candidate.empty()) break;
    const toml::node* node = toml::at_path(root, candidate).node();
    if (node != nullptr) {
      loader.Report(PositionOf(node), candidate, problem.message);
      return;
    }
  }
  for (std::string path = ParentPath(candidates.front()); !path.empty(); path = ParentPath(path)) {
    const toml::node* node = toml::at_path(root, path).node();
    if (node != nullptr) {
      loader.Report(PositionOf(node), candidates.front(), problem.message);
      return;
    }
  }
  loader.Report(Position{}, candidates.front(), problem.message);
}

absl::StatusOr<Scenario> Load(const std::string& text, const std::string& path,
                              std::set<std::string>* keys_read) {
  Loader loader(path, keys_read);
  // toml++ 3.3 has undefined behaviour on some inputs: refuse them first.
  if (absl::Status prescan = PrescanScenarioToml(text); !prescan.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ":", prescan.message()));
  }
  toml::parse_result parsed = toml::parse(std::string_view(text), std::string_view(path));
  if (!parsed) {
    const toml::parse_error& error = parsed.error();
    loader.Report(PositionOf(error.source()), "", OneLine(error.description()));
    return loader.Result();
  }
  const toml::table& root = parsed.table();
  Scenario scenario;
  ScheduleSource schedule_source;
  ReadScenario(loader, root, &scenario, &schedule_source);
  if (scenario.name.empty() && root.get("name") == nullptr) {
    scenario.name = std::filesystem::path(path).stem().string();
  }
  scenario.file = path;
  ReportScheduleProblems(loader, text, scenario, schedule_source);
  for (const ScenarioProblem& problem : FindProblems(scenario)) {
    if (!loader.Suppressed(problem.path)) ReportProblem(loader, root, problem);
  }
  absl::Status status = loader.Result();
  if (!status.ok()) return status;
  return scenario;
}

int64_t UnitFactor(const std::string& unit) {
  if (unit == "ns") return 1;
  if (unit == "us") return sim::kMicrosecond;
  if (unit == "ms") return sim::kMillisecond;
  if (unit == "s") return sim::kSecond;
  return 0;
}

}  // namespace

absl::StatusOr<sim::TimeNs> TimeToNanoseconds(int64_t value, const std::string& unit) {
  const int64_t factor = UnitFactor(unit);
  if (factor == 0) return absl::InvalidArgumentError(absl::StrCat("unknown time unit '", unit, "'"));
  if (value < 0) return absl::InvalidArgumentError(absl::StrCat("must not be negative, got ", value, unit));
  if (value > std::numeric_limits<int64_t>::max() / factor) {
    return absl::InvalidArgumentError(absl::StrCat(
        "too large: at most ", std::numeric_limits<int64_t>::max() / factor, unit, ", got ", value, unit));
  }
  return value * factor;
}

absl::StatusOr<sim::TimeNs> TimeToNanoseconds(double value, const std::string& unit) {
  const int64_t factor = UnitFactor(unit);
  if (factor == 0) return absl::InvalidArgumentError(absl::StrCat("unknown time unit '", unit, "'"));
  if (!std::isfinite(value)) {
    return absl::InvalidArgumentError(absl::StrCat("must be a finite number, got ", value));
  }
  if (value < 0) return absl::InvalidArgumentError(absl::StrCat("must not be negative, got ", value, unit));
  const double ns = value * static_cast<double>(factor);
  // 2^63 as a double; anything at or above it does not fit in TimeNs.
  if (ns >= 9223372036854775808.0) {
    return absl::InvalidArgumentError(absl::StrCat("too large, got ", value, unit));
  }
  const double rounded = std::round(ns);
  if (std::abs(ns - rounded) > std::max(1e-3, ns * 4 * DBL_EPSILON)) {
    return absl::InvalidArgumentError(
        absl::StrCat("must be a whole number of nanoseconds, got ", value, unit,
                     unit == "ns" ? "" : absl::StrCat(" = ", ns, "ns")));
  }
  return static_cast<sim::TimeNs>(rounded);
}

absl::StatusOr<Scenario> LoadScenarioString(const std::string& text, const std::string& path_for_messages) {
  return Load(text, path_for_messages, nullptr);
}

absl::StatusOr<Scenario> LoadScenarioFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadWholeFile(path);
  if (!text.ok()) {
    return absl::Status(text.status().code(),
                        absl::StrCat(path, ":1:1: cannot open: ", text.status().message()));
  }
  return Load(*text, path, nullptr);
}

absl::StatusOr<std::vector<std::string>> ScenarioKeysRead(const std::string& text) {
  std::set<std::string> keys;
  absl::StatusOr<Scenario> scenario = Load(text, "<keys>", &keys);
  if (!scenario.ok()) return scenario.status();
  return std::vector<std::string>(keys.begin(), keys.end());
}

}  // namespace harness
