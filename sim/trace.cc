// Trace: the structured event record and its running digest.
//
// Text form: "<time_ns> h<host> <kind> k1=v1 k2=v2" ("h-" for kNoHost), built
// only for kept events on demand (ToText) — never on the recording path.
// The digest reduces each event to one word (HeadWord: time, host with the
// field count, the kind's word; plus per field FieldTerm of its key's word
// with the value's type and its value's word) and mixes that word into the
// running digest (trace.h's file comment says why). A string's word is TraceTextHash
// (trace.h): computed by the compiler for literals and constexpr name tables,
// bytes read in a fixed (little-endian) order, so the digest is the same on
// every platform.
#include "sim/trace.h"

#include <bit>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace sim {
namespace {

using trace_internal::DigestOne;
using trace_internal::FieldTerm;
using trace_internal::HeadWord;
using trace_internal::KeyWord;
using trace_internal::Mix;

// 32 bits as 8 lower-case hex digits, most significant first, as the word a
// little-endian load of that text gives: nibbles spread to bytes, reversed,
// then turned into ASCII all at once ('0'..'9', 'a'..'f').
inline uint64_t HexDigitsWord(uint32_t value) {
  uint64_t x = value;
  x = (x | (x << 16)) & 0x0000ffff0000ffffull;
  x = (x | (x << 8)) & 0x00ff00ff00ff00ffull;
  x = (x | (x << 4)) & 0x0f0f0f0f0f0f0f0full;  // byte k: nibble k (least significant first)
  x = __builtin_bswap64(x);                    // byte 0: the most significant nibble
  const uint64_t letters = ((x + 0x0606060606060606ull) >> 4) & 0x0101010101010101ull;
  return x + 0x3030303030303030ull + letters * ('a' - '0' - 10);
}

// A kept event's number field back from its text (what AppendValueText wrote).
uint64_t ParseNumber(std::string_view text, TraceField::Type type) {
  const char* first = text.data();
  const char* last = first + text.size();
  if (type == TraceField::Type::kSigned) {
    int64_t value = 0;
    std::from_chars(first, last, value);
    return static_cast<uint64_t>(value);
  }
  uint64_t value = 0;
  std::from_chars(first, last, value, type == TraceField::Type::kHex ? 16 : 10);
  return value;
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

void TraceField::AppendValueText(std::string* out) const {
  switch (type) {
    case Type::kText:
      out->append(text);
      return;
    case Type::kHex: {
      char digits[16];
      const uint64_t high = HexDigitsWord(static_cast<uint32_t>(number >> 32));
      const uint64_t low = HexDigitsWord(static_cast<uint32_t>(number));
      for (int i = 0; i < 8; ++i) {
        digits[i] = static_cast<char>(high >> (8 * i));
        digits[8 + i] = static_cast<char>(low >> (8 * i));
      }
      out->append(digits, sizeof digits);
      return;
    }
    case Type::kUnsigned:
    case Type::kSigned: {
      char buffer[24];
      char* end = type == Type::kSigned
                      ? std::to_chars(buffer, buffer + sizeof buffer, static_cast<int64_t>(number)).ptr
                      : std::to_chars(buffer, buffer + sizeof buffer, number).ptr;
      out->append(buffer, static_cast<size_t>(end - buffer));
      return;
    }
  }
}

std::string TraceField::ValueText() const {
  std::string text_form;
  AppendValueText(&text_form);
  return text_form;
}

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

const std::string& TraceEvent::Field(std::string_view key) const {
  static const std::string* const kEmpty = new std::string();
  for (const auto& field : fields) {
    if (field.first == key) return field.second;
  }
  return *kEmpty;
}

uint64_t Trace::DigestStep(uint64_t digest, TimeNs time, uint32_t host, TraceName kind,
                           std::span<const TraceField> fields) {
  return DigestOne(digest, time, host, kind, fields);
}

uint64_t Trace::DigestStep(uint64_t digest, const TraceEvent& event) {
  uint64_t word = HeadWord(event.time, event.host, event.fields.size(), TraceName(event.kind));
  for (size_t i = 0; i < event.fields.size(); ++i) {
    const auto& [key, value] = event.fields[i];
    const TraceField::Type type =
        i < event.field_types.size() ? event.field_types[i] : TraceField::Type::kText;
    word += FieldTerm(i, KeyWord(TraceTextHash(key), type),
                      type == TraceField::Type::kText ? TraceTextHash(value) : ParseNumber(value, type));
  }
  return Mix(digest, word);
}

void Trace::Fill(TraceEvent& event, TimeNs time, uint32_t host, std::string_view kind,
                 std::span<const TraceField> fields) {
  event.time = time;
  event.host = host;
  event.kind.assign(kind);
  while (event.fields.size() > fields.size()) {
    spare_fields_.push_back(std::move(event.fields.back()));
    event.fields.pop_back();
  }
  while (event.fields.size() < fields.size()) {
    if (spare_fields_.empty()) {
      event.fields.emplace_back();
    } else {
      event.fields.push_back(std::move(spare_fields_.back()));
      spare_fields_.pop_back();
    }
  }
  event.field_types.resize(fields.size());
  for (size_t i = 0; i < fields.size(); ++i) {
    event.field_types[i] = fields[i].type;
    event.fields[i].first.assign(fields[i].key);
    if (fields[i].type == TraceField::Type::kText) {
      event.fields[i].second.assign(fields[i].text);
    } else {
      event.fields[i].second.clear();
      fields[i].AppendValueText(&event.fields[i].second);
    }
  }
}

const Trace::KindWants& Trace::AskKindWants(KindWants& slot, TraceName kind) {
  // Asked once per kind (a bit per listener).
  static_assert(listeners_max <= 64);
  slot.kind_hash = kind.hash;
  slot.observer = observer_.Wants(kind.text);
  slot.listeners = 0;
  for (size_t i = 0; i < listeners_.size(); ++i) {
    if (listeners_[i].Wants(kind.text)) slot.listeners |= uint64_t{1} << i;
  }
  slot.valid = true;
  slot.unwanted = !keep_events_ && !slot.observer && slot.listeners == 0;
  return slot;
}

void Trace::ForgetKindWants() {
  for (KindWants& slot : kind_wants_) slot.valid = slot.unwanted = false;
}

// Inline into both paths of RecordObserved (the view-only one runs for nearly
// every observed event).
[[gnu::always_inline]] inline void Trace::Show(const TraceEvent* event, const TraceView& view, bool observer_wants,
                                               uint64_t listeners_want) {
  if (observer_wants) {
    if (observer_.fn) {
      observer_.fn(*event);
    } else {
      observer_.view_fn(view);
    }
  }
  for (; listeners_want != 0; listeners_want &= listeners_want - 1) {
    const Observer& listener = listeners_[static_cast<size_t>(std::countr_zero(listeners_want))];
    if (listener.fn) {
      listener.fn(*event);
    } else {
      listener.view_fn(view);
    }
  }
}

// Out of line: the view-only path of RecordObserved (the common one) then
// needs no registers saved for Fill's work.
[[gnu::noinline]] void Trace::RecordWithText(TimeNs time, uint32_t host, TraceName name,
                                             std::span<const TraceField> fields, bool keep, bool observer_wants,
                                             uint64_t listeners_want) {
  const std::string_view kind = name.text;
  const bool observed = observer_wants || listeners_want != 0;
  if (!observed) {
    TraceEvent& kept = events_.emplace_back();
    Fill(kept, time, host, kind, fields);
    return;
  }
  // An observer that records gets a fresh event, never the one being shown.
  TraceEvent nested;
  TraceEvent& event = observing_depth_ == 0 ? scratch_ : nested;
  Fill(event, time, host, kind, fields);
  // Kept before the observers run: an event an observer records is kept
  // after this one, in the digest's order.
  if (keep) events_.push_back(event);
  ++observing_depth_;
  Show(&event, TraceView{time, host, name, fields}, observer_wants, listeners_want);
  --observing_depth_;
}

void Trace::RecordObserved(TimeNs time, uint32_t host, TraceName name, std::span<const TraceField> fields) {
  const bool keep = keep_events_ && events_.size() < events_max_;
  const KindWants& wants = WantsOf(name);
  const bool observer_wants = wants.observer;
  const uint64_t listeners_want = wants.listeners;
  // Text is made only when it is kept or a text observer wants it.
  if (keep || (observer_wants && observer_.fn) || (listeners_want & text_listeners_) != 0) [[unlikely]] {
    RecordWithText(time, host, name, fields, keep, observer_wants, listeners_want);
    return;
  }
  if (!observer_wants && listeners_want == 0) return;
  // Only view listeners want it: no TraceEvent is touched.
  ++observing_depth_;
  Show(nullptr, TraceView{time, host, name, fields}, observer_wants, listeners_want);
  --observing_depth_;
}

namespace {
// Listeners are bits of a 64-bit word: one more than listeners_max is a bug.
void CheckListenerRoom(size_t listeners, size_t listeners_max) {
  if (listeners >= listeners_max) {
    std::fprintf(stderr, "sim::Trace: more than %zu listeners\n", listeners_max);
    std::abort();
  }
}
}  // namespace

void Trace::add_listener(std::function<void(const TraceEvent&)> listener, KindFilter wants) {
  CheckListenerRoom(listeners_.size(), listeners_max);
  text_listeners_ |= uint64_t{1} << listeners_.size();
  listeners_.push_back({std::move(listener), {}, std::move(wants)});
  ForgetKindWants();
  UpdateObserved();
}

void Trace::add_view_listener(std::function<void(const TraceView&)> listener, KindFilter wants) {
  CheckListenerRoom(listeners_.size(), listeners_max);
  listeners_.push_back({{}, std::move(listener), std::move(wants)});
  ForgetKindWants();
  UpdateObserved();
}

TraceEventView::TraceEventView(const TraceEvent& event) {
  fields_.reserve(event.fields.size());
  for (const auto& [key, value] : event.fields) fields_.emplace_back(TraceName(key), value);
  view_ = TraceView{event.time, event.host, TraceName(event.kind), fields_};
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
