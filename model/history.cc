// History text forms: event kind names, one stable line per event, and the
// time format the checkers use in their messages. Everything here is a pure
// function of its input, so two equal histories always print the same text
// (reports diff these lines to find where two runs diverge).
#include "model/history.h"

#include <cstdlib>
#include <cstring>
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

const Name::Header* Name::EmptyHeader() {
  // A header followed by "\0", 8-byte aligned.
  static const uint64_t kEmpty[3] = {0, 0, 0};
  return reinterpret_cast<const Header*>(kEmpty);
}

Name::Name(std::string_view text) : Name(EmptyHeader()) {
  if (text.empty()) return;
  NameTable& shared = NameTable::Shared();
  std::lock_guard<std::mutex> lock(shared.mutex_);
  *this = shared.Intern(text);
}

NameTable& NameTable::Shared() {
  static NameTable* const kShared = new NameTable();
  return *kShared;
}

namespace {

inline uint64_t LoadWord(const char* at) {
  uint64_t word;
  std::memcpy(&word, at, 8);
  return word;
}

inline uint64_t LoadHalf(const char* at) {
  uint32_t half;
  std::memcpy(&half, at, 4);
  return half;
}

inline uint64_t Mix(uint64_t hash, uint64_t word) {
  hash = (hash ^ word) * 0xbf58476d1ce4e5b9ull;
  return hash ^ (hash >> 31);
}

}  // namespace

// Every byte counts: whole words, then the last (possibly overlapping) word,
// or for short texts two (possibly overlapping) 4-byte halves or three bytes;
// the length is mixed in first. Host byte order (the hash never leaves the
// process, and the index is never iterated).
size_t NameTable::TextHash::operator()(std::string_view text) const {
  const char* at = text.data();
  const size_t size = text.size();
  uint64_t hash = Mix(0x9e3779b97f4a7c15ull, size);
  if (size >= 8) {
    size_t i = 0;
    for (; i + 8 < size; i += 8) hash = Mix(hash, LoadWord(at + i));
    hash = Mix(hash, LoadWord(at + size - 8));
  } else if (size >= 4) {
    hash = Mix(hash, (LoadHalf(at) << 32) | LoadHalf(at + size - 4));
  } else if (size > 0) {
    const uint64_t bytes = (uint64_t{static_cast<uint8_t>(at[0])} << 16) |
                           (uint64_t{static_cast<uint8_t>(at[size / 2])} << 8) |
                           static_cast<uint8_t>(at[size - 1]);
    hash = Mix(hash, bytes);
  }
  hash *= 0x94d049bb133111ebull;
  return static_cast<size_t>(hash ^ (hash >> 29));
}

Name NameTable::Intern(std::string_view text) {
  if (text.empty()) return Name();
  auto it = index_.find(text);
  if (it != index_.end()) return At(*it);
  // Header, characters, '\0', rounded up to 8 bytes.
  const size_t bytes = (sizeof(Name::Header) + text.size() + 1 + 7) / 8 * 8;
  uint64_t* at = nullptr;
  if (bytes > kBlockBytes / 4) {
    // A long string gets a block of its own, placed before the current one.
    blocks_.push_back(std::make_unique_for_overwrite<uint64_t[]>(bytes / 8));
    block_bytes_ += bytes;
    at = blocks_.back().get();
    if (blocks_.size() >= 2) std::swap(blocks_[blocks_.size() - 1], blocks_[blocks_.size() - 2]);
    else block_used_ = block_size_ = 0;
  } else {
    if (blocks_.empty() || block_used_ + bytes > block_size_) {
      // Not zero-filled: a name's header, characters and '\0' are written
      // before anything reads them (the padding to 8 bytes never is read).
      blocks_.push_back(std::make_unique_for_overwrite<uint64_t[]>(kBlockBytes / 8));
      block_bytes_ += kBlockBytes;
      block_used_ = 0;
      block_size_ = kBlockBytes;
    }
    at = blocks_.back().get() + block_used_ / 8;
    block_used_ += bytes;
  }
  auto* header = reinterpret_cast<Name::Header*>(at);
  header->table = this;
  header->id = static_cast<uint32_t>(headers_.size() + 1);
  header->size = static_cast<uint32_t>(text.size());
  char* chars = reinterpret_cast<char*>(header + 1);
  std::memcpy(chars, text.data(), text.size());
  chars[text.size()] = '\0';
  headers_.push_back(header);
  index_.insert(header->id);
  return Name(header);
}

uint32_t NameTable::Find(std::string_view text) const {
  if (text.empty()) return 0;
  auto it = index_.find(text);
  return it == index_.end() ? kAbsent : *it;
}

size_t NameTable::bytes_used() const {
  size_t bytes = headers_.capacity() * sizeof(headers_[0]) + blocks_.capacity() * sizeof(blocks_[0]);
  bytes += block_bytes_;
  // absl's flat table: one slot and one control byte per bucket (plus a group
  // of control bytes at the end).
  bytes += index_.bucket_count() * (sizeof(decltype(index_)::value_type) + 1);
  return bytes;
}

Name History::Intern(std::string_view text) {
  if (names == nullptr) names = std::make_shared<NameTable>();
  return names->Intern(text);
}

void History::Add(int64_t time_ns, uint32_t host, EventKind kind, std::string_view tx, std::string_view rm,
                  std::string_view key, std::string_view value, std::string_view detail) {
  HistoryEvent& event = events.emplace_back();
  event.time_ns = time_ns;
  event.host = host;
  event.kind = kind;
  event.tx = Intern(tx);
  event.rm = Intern(rm);
  event.key = Intern(key);
  event.value = Intern(value);
  event.detail = Intern(detail);
}

void History::Add(const HistoryEvent& event) {
  Add(event.time_ns, event.host, event.kind, event.tx, event.rm, event.key, event.value, event.detail);
}

bool History::NamesAreOwn() const {
  const NameTable* own = names.get();
  auto ok = [own](const Name& name) { return name.id() == 0 || name.table() == own; };
  for (const HistoryEvent& e : events) {
    if (!ok(e.tx) || !ok(e.rm) || !ok(e.key) || !ok(e.value) || !ok(e.detail)) return false;
  }
  return true;
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
