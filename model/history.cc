// History text forms: event kind names, one stable line per event, and the
// time format the checkers use in their messages. Everything here is a pure
// function of its input, so two equal histories always print the same text
// (reports diff these lines to find where two runs diverge).
#include "model/history.h"

#include <cstdlib>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace model {

const char* EventKindName(EventKind kind) {
  switch (kind) {
    case EventKind::kBegin: return "Begin";
    case EventKind::kEnlist: return "Enlist";
    case EventKind::kWrite: return "Write";
    case EventKind::kRead: return "Read";
    case EventKind::kCommitRequest: return "CommitRequest";
    case EventKind::kRollbackRequest: return "RollbackRequest";
    case EventKind::kVote: return "Vote";
    case EventKind::kNotification: return "Notification";
    case EventKind::kTimeoutFired: return "TimeoutFired";
    case EventKind::kOutcome: return "Outcome";
    case EventKind::kRmCommitted: return "RmCommitted";
    case EventKind::kRmAborted: return "RmAborted";
    case EventKind::kFinalValue: return "FinalValue";
    case EventKind::kCrash: return "Crash";
    case EventKind::kRestart: return "Restart";
    case EventKind::kRecovered: return "Recovered";
    case EventKind::kDiskError: return "DiskError";
    case EventKind::kPartition: return "Partition";
    case EventKind::kHeal: return "Heal";
    case EventKind::kFaultsStop: return "FaultsStop";
    case EventKind::kRmLost: return "RmLost";
    case EventKind::kOpen: return "Open";
    case EventKind::kRequestOutcome: return "RequestOutcome";
  }
  return "Unknown";  // only reachable with a value cast from outside the enum
}

namespace {

// "12.300" -> "12.3", "12.000" -> "12".
std::string TrimDecimals(std::string text) {
  if (text.find('.') == std::string::npos) return text;
  while (!text.empty() && text.back() == '0') text.pop_back();
  if (!text.empty() && text.back() == '.') text.pop_back();
  return text;
}

}  // namespace

std::string FormatTimeNs(int64_t ns) {
  // Work on the magnitude as unsigned so INT64_MIN does not overflow.
  const bool negative = ns < 0;
  const uint64_t magnitude =
      negative ? uint64_t{0} - static_cast<uint64_t>(ns) : static_cast<uint64_t>(ns);
  const char* sign = negative ? "-" : "";
  if (magnitude < 1000) return absl::StrCat(sign, magnitude, "ns");
  const double value = static_cast<double>(magnitude);
  if (magnitude < 1000 * 1000) {
    return absl::StrCat(sign, TrimDecimals(absl::StrFormat("%.3f", value / 1e3)), "us");
  }
  if (magnitude < 1000 * 1000 * 1000) {
    return absl::StrCat(sign, TrimDecimals(absl::StrFormat("%.3f", value / 1e6)), "ms");
  }
  return absl::StrCat(sign, TrimDecimals(absl::StrFormat("%.3f", value / 1e9)), "s");
}

std::string HistoryEvent::ToText() const {
  std::string line = absl::StrFormat("%d h%u %s", time_ns, host, EventKindName(kind));
  if (!tx.empty()) absl::StrAppend(&line, " tx=", tx);
  if (!rm.empty()) absl::StrAppend(&line, " rm=", rm);
  if (!key.empty()) absl::StrAppend(&line, " key=", absl::CEscape(key));
  const bool value_meaningful =
      kind == EventKind::kRead || kind == EventKind::kFinalValue || kind == EventKind::kWrite;
  if (!value.empty() || value_meaningful) {
    absl::StrAppend(&line, " value=\"", absl::CEscape(value), "\"");
  }
  if (!detail.empty()) absl::StrAppend(&line, " detail=\"", absl::CEscape(detail), "\"");
  return line;
}

std::string History::ToText() const {
  std::string text;
  for (size_t i = 0; i < events.size(); ++i) {
    absl::StrAppend(&text, "#", i, " ", events[i].ToText(), "\n");
  }
  absl::StrAppend(&text, "end ", end_ns, "\n");
  return text;
}

}  // namespace model
