// Trace: the structured event record and its running digest.
//
// Text form: "<time_ns> h<host> <kind> k1=v1 k2=v2" ("h-" for kNoHost).
// The digest is FNV-1a over each event's text form followed by '\n'. It is
// computed piece by piece from the event's parts (no string is built), so a
// Trace that keeps no events and has no observer costs only the hashing.
#include "sim/trace.h"

#include <charconv>

namespace sim {
namespace {

constexpr uint64_t kFnvPrime = 1099511628211ull;

inline uint64_t HashBytes(uint64_t hash, const char* data, size_t size) {
  for (size_t i = 0; i < size; ++i) {
    hash ^= static_cast<uint8_t>(data[i]);
    hash *= kFnvPrime;
  }
  return hash;
}

inline uint64_t HashChar(uint64_t hash, char c) {
  hash ^= static_cast<uint8_t>(c);
  return hash * kFnvPrime;
}

// Appends the "<time> h<host> " prefix to buffer; returns its length.
size_t FormatPrefix(TimeNs time, uint32_t host, char* buffer) {
  char* p = std::to_chars(buffer, buffer + 24, time).ptr;
  *p++ = ' ';
  *p++ = 'h';
  if (host == kNoHost) {
    *p++ = '-';
  } else {
    p = std::to_chars(p, p + 12, host).ptr;
  }
  *p++ = ' ';
  return static_cast<size_t>(p - buffer);
}

}  // namespace

std::string TraceEvent::ToText() const {
  char prefix[48];
  const size_t prefix_size = FormatPrefix(time, host, prefix);
  std::string text;
  size_t size = prefix_size + kind.size();
  for (const auto& [key, value] : fields) size += 2 + key.size() + value.size();
  text.reserve(size);
  text.append(prefix, prefix_size);
  text += kind;
  for (const auto& [key, value] : fields) {
    text += ' ';
    text += key;
    text += '=';
    text += value;
  }
  return text;
}

const std::string& TraceEvent::Field(const std::string& key) const {
  static const std::string* const kEmpty = new std::string();
  for (const auto& field : fields) {
    if (field.first == key) return field.second;
  }
  return *kEmpty;
}

void Trace::Record(TimeNs time, uint32_t host, std::string kind,
                   std::vector<std::pair<std::string, std::string>> fields) {
  char prefix[48];
  const size_t prefix_size = FormatPrefix(time, host, prefix);
  uint64_t hash = HashBytes(digest_, prefix, prefix_size);
  hash = HashBytes(hash, kind.data(), kind.size());
  for (const auto& [key, value] : fields) {
    hash = HashChar(hash, ' ');
    hash = HashBytes(hash, key.data(), key.size());
    hash = HashChar(hash, '=');
    hash = HashBytes(hash, value.data(), value.size());
  }
  digest_ = HashChar(hash, '\n');
  ++count_;

  const bool keep = keep_events_ && events_.size() < events_max_;
  if (!keep && !observer_ && listeners_.empty()) return;
  TraceEvent event{time, host, std::move(kind), std::move(fields)};
  if (observer_) observer_(event);
  for (const auto& listener : listeners_) listener(event);
  if (keep) events_.push_back(std::move(event));
}

std::string Trace::ToText() const {
  std::string text;
  for (const TraceEvent& event : events_) {
    text += event.ToText();
    text += '\n';
  }
  return text;
}

std::string DigestHex(uint64_t digest) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text(16, '0');
  for (int i = 15; i >= 0; --i) {
    text[i] = kHex[digest & 0xf];
    digest >>= 4;
  }
  return text;
}

}  // namespace sim
