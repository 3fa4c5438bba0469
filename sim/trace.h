// Trace: the structured record of everything that happened in one world.
//
// Contract: every event has (time, host, kind, fields). The text form of an
// event is stable across versions of the same build and platform-independent:
//   "<time_ns> h<host> <kind> k1=v1 k2=v2"
// The digest is a running 64-bit hash over a compact binary encoding of each
// event, typed, never over formatted text: time, host, the field count, the
// kind and every key as strings with their lengths, and each value as what it
// was recorded as: text with its length, or a number as one 64-bit word
// tagged with its type (unsigned, signed, hex). Two runs with equal digests
// recorded the same events in the same order, and the first differing event
// can be found by comparing kept events (keep_events=true). A value recorded
// as the number 5 and one recorded as the text "5" render alike but hash
// differently: the digest sees what the engine recorded, not its rendering.
// Cost: Record takes its fields as views (no allocation). A field's value is
// text, an integer or a TraceHex (a 64-bit word shown as 16 hex digits, e.g.
// a Guid's short form): integers and words are recorded as numbers, hashed as
// one word each, and turned into text only when an event is kept or somebody
// observes it. Observers see a reused event (its strings keep their capacity).
// host is kNoHost for world-level events (the scheduler, the fault plan).
// Limit: events_max bounds the kept events (the digest always covers all).
#pragma once

#include <concepts>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sim/time.h"

namespace sim {

constexpr uint32_t kNoHost = UINT32_MAX;

// A 64-bit word a trace shows as 16 lower-case hex digits ("00000000000000ff").
struct TraceHex {
  uint64_t value = 0;
};

// One key=value pair as the recorder passes it: views into strings that live
// until Record returns (literals, or temporaries of the calling expression),
// or a number kept as a number until somebody wants text.
struct TraceField {
  enum class Type : uint8_t { kText, kUnsigned, kSigned, kHex };
  std::string_view key;
  std::string_view text;  // kText
  uint64_t number = 0;    // kUnsigned, kSigned (two's complement), kHex
  Type type = Type::kText;

  constexpr TraceField() = default;
  constexpr TraceField(std::string_view k, std::string_view v) : key(k), text(v) {}
  constexpr TraceField(std::string_view k, const char* v) : key(k), text(v) {}
  TraceField(std::string_view k, const std::string& v) : key(k), text(v) {}
  template <std::integral I>
    requires(!std::same_as<I, bool> && !std::same_as<I, char>)
  constexpr TraceField(std::string_view k, I v)
      : key(k), number(static_cast<uint64_t>(v)), type(std::is_signed_v<I> ? Type::kSigned : Type::kUnsigned) {}
  constexpr TraceField(std::string_view k, const TraceHex& v) : key(k), number(v.value), type(Type::kHex) {}

  // The value's text form (what TraceEvent holds).
  std::string ValueText() const;
  void AppendValueText(std::string* out) const;
};

struct TraceEvent {
  TimeNs time = 0;
  uint32_t host = kNoHost;
  std::string kind;
  std::vector<std::pair<std::string, std::string>> fields;
  // How each field's value was recorded (parallel to fields; a field without
  // an entry counts as text): the digest of a kept event hashes numbers as
  // numbers, as Record did.
  std::vector<TraceField::Type> field_types;

  std::string ToText() const;
  // Value of a field, or "" when absent.
  const std::string& Field(std::string_view key) const;
};

class Trace {
 public:
  explicit Trace(bool keep_events = true, uint64_t events_max = 10'000'000)
      : keep_events_(keep_events), events_max_(events_max) {}

  void Record(TimeNs time, uint32_t host, std::string_view kind, std::initializer_list<TraceField> fields = {}) {
    Record(time, host, kind, std::span<const TraceField>(fields.begin(), fields.size()));
  }
  void Record(TimeNs time, uint32_t host, std::string_view kind, std::span<const TraceField> fields);

  // The digest's step: `digest` extended by one event. Recomputing it over the
  // kept events from kDigestStart gives digest() (tests check that): a kept
  // event's number fields are parsed back from their text by field_types.
  static constexpr uint64_t kDigestStart = 14695981039346656037ull;
  static uint64_t DigestStep(uint64_t digest, TimeNs time, uint32_t host, std::string_view kind,
                             std::span<const TraceField> fields);
  static uint64_t DigestStep(uint64_t digest, const TraceEvent& event);

  uint64_t digest() const { return digest_; }
  uint64_t count() const { return count_; }
  const std::vector<TraceEvent>& events() const { return events_; }
  bool keep_events() const { return keep_events_; }
  // Every kept event's text form, one per line.
  std::string ToText() const;

  // Says from an event's kind alone whether an observer wants the event
  // (empty: every event). An event nobody keeps or wants is never copied out.
  using KindFilter = std::function<bool(std::string_view kind)>;
  // An observer called for every event it wants (the harness's history recorder).
  void set_observer(std::function<void(const TraceEvent&)> observer, KindFilter wants = {}) {
    observer_ = {std::move(observer), std::move(wants)};
  }
  // More observers (coverage, ...), called after the observer, in the order
  // added; at most listeners_max.
  static constexpr size_t listeners_max = 64;
  void add_listener(std::function<void(const TraceEvent&)> listener, KindFilter wants = {});

 private:
  bool keep_events_;
  uint64_t events_max_;
  // Copies an event into `event`, reusing its strings' storage.
  void Fill(TraceEvent& event, TimeNs time, uint32_t host, std::string_view kind,
            std::span<const TraceField> fields);

  uint64_t digest_ = kDigestStart;
  uint64_t count_ = 0;
  std::vector<TraceEvent> events_;
  struct Observer {
    std::function<void(const TraceEvent&)> fn;
    KindFilter wants;
    bool Wants(std::string_view kind) const { return fn && (!wants || wants(kind)); }
  };
  Observer observer_;
  std::vector<Observer> listeners_;
  // The event observers are shown (reused: no allocation per event once warm),
  // spare fields with their storage, and the observer nesting depth (an
  // observer that records gets a fresh event, never the one being shown).
  TraceEvent scratch_;
  std::vector<std::pair<std::string, std::string>> spare_fields_;
  int observing_depth_ = 0;
};

// "0123456789abcdef"-style 16 hex digit rendering of a digest.
std::string DigestHex(uint64_t digest);

}  // namespace sim
