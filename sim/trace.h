// Trace: the structured record of everything that happened in one world.
//
// Contract: every event has (time, host, kind, fields). The text form of an
// event is stable across versions of the same build and platform-independent:
//   "<time_ns> h<host> <kind> k1=v1 k2=v2"
// The digest is a running 64-bit hash over a compact binary encoding of each
// event, typed, never over formatted text. Each event is first reduced to one
// word: its time, its host with the field count, its kind's word (TraceTextHash
// of the string, computed at compile time for literals), and per field a term
// from its key's word (tagged with its value's type: unsigned, signed, hex,
// text) and its value's word (text as its TraceTextHash, a number as itself).
// Each term is one multiply of two words, each xored with a secret for the
// field's position, so a field's key, value and place all count; the terms
// are independent of each other and of the running digest. The running digest
// then takes one dependent multiply per event (Mix with the event's word):
// the chain a run waits on is one multiply an event, not one per word.
// Two runs with equal digests
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

#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "sim/time.h"

namespace sim {

constexpr uint32_t kNoHost = UINT32_MAX;

// A 64-bit word a trace shows as 16 lower-case hex digits ("00000000000000ff").
struct TraceHex {
  uint64_t value = 0;
};

// The digest's word for a string (an event's kind, a field's key, a text
// value): a 64-bit hash of its bytes and length, the same on every platform.
// constexpr, so a name known at compile time (TraceName from a literal, or a
// constexpr table of TraceNames) is hashed by the compiler, never per event.
namespace trace_internal {
// One 64x64->128 multiply folded to 64 bits (the wyhash/mum mix).
// On x86-64 at run time the multiply is one `mul` whose halves stay in
// rax:rdx: written with __int128, GCC 12 stores the product to the stack and
// loads it back at every inlined step of a busy trace site (two instructions
// a step, disassembly of ktm::Kernel::SetEnState). Same value either way
// (tests/engine_fast_paths_test.cc pins digests).
constexpr uint64_t kMixMultiplier = 0x9e3779b97f4a7c15ull;
constexpr uint64_t kMixConstant = 0x2d358dccaa6c78a5ull;
[[gnu::always_inline]] constexpr uint64_t Mix(uint64_t hash, uint64_t word) {
#if defined(__x86_64__)
  // Operands the optimizer knows (a literal's words, after inlining) take
  // the plain multiply below, which it folds; the asm it could not.
  if (!std::is_constant_evaluated() && !__builtin_constant_p(hash ^ word)) {
    uint64_t low;
    uint64_t high;
    asm("mulq %3" : "=a"(low), "=d"(high) : "a"(hash ^ word), "rm"(kMixMultiplier) : "cc");
    return low ^ high ^ kMixConstant;
  }
#endif
  const unsigned __int128 product = static_cast<unsigned __int128>(hash ^ word) * kMixMultiplier;
  return static_cast<uint64_t>(product) ^ static_cast<uint64_t>(product >> 64) ^ kMixConstant;
}
// `size` (1..8) bytes from `data` as a little-endian word, zero above them.
// At run time by whole loads (1..3: two; 4..8: two overlapping 4-byte loads),
// never past data + size; by a byte loop only in constant evaluation.
[[gnu::always_inline]] constexpr uint64_t LoadLittle(const char* data, size_t size) {
  if (std::is_constant_evaluated()) {
    uint64_t word = 0;
    for (size_t i = 0; i < size; ++i) word |= static_cast<uint64_t>(static_cast<uint8_t>(data[i])) << (8 * i);
    return word;
  }
  auto load32 = [](const char* p) {
    uint32_t word;
    __builtin_memcpy(&word, p, 4);
    if constexpr (std::endian::native == std::endian::big) word = __builtin_bswap32(word);
    return static_cast<uint64_t>(word);
  };
  if (size == 8) {
    uint64_t word;
    __builtin_memcpy(&word, data, 8);
    if constexpr (std::endian::native == std::endian::big) word = __builtin_bswap64(word);
    return word;
  }
  if (size >= 4) return load32(data) | (load32(data + size - 4) << (8 * (size - 4)));
  const uint64_t first = static_cast<uint8_t>(data[0]);
  if (size == 1) return first;
  const uint64_t second = static_cast<uint8_t>(data[1]);
  if (size == 2) return first | (second << 8);
  return first | (second << 8) | (static_cast<uint64_t>(static_cast<uint8_t>(data[2])) << 16);
}
}  // namespace trace_internal

[[gnu::always_inline]] constexpr uint64_t TraceTextHash(std::string_view text) {
  // The length's low byte in the top byte of the first word (with up to 7
  // bytes), then 8-byte words, the last one partial: the number of words and
  // that byte fix the length, so two strings never give the same words.
  const char* data = text.data();
  size_t size = text.size();
  uint64_t hash = 0x6a09e667f3bcc909ull;
  const size_t first = size < 7 ? size : 7;
  hash = trace_internal::Mix(hash, (static_cast<uint64_t>(size) << 56) |
                                       (first == 0 ? 0 : trace_internal::LoadLittle(data, first)));
  data += first;
  size -= first;
  for (; size >= 8; data += 8, size -= 8) hash = trace_internal::Mix(hash, trace_internal::LoadLittle(data, 8));
  if (size > 0) hash = trace_internal::Mix(hash, trace_internal::LoadLittle(data, size));
  return hash;
}

// A name with its digest word. From a string literal the word is computed at
// compile time (consteval); from any other string at run time, to the same
// value: how a name was passed never changes the digest.
struct TraceName {
  std::string_view text;
  uint64_t hash = TraceTextHash({});

  constexpr TraceName() = default;
  template <size_t N>
  consteval TraceName(const char (&literal)[N])  // NOLINT: implicit, for "kind" and {"key", value}
      : text(literal, N - 1), hash(TraceTextHash(text)) {}
  constexpr TraceName(std::string_view name) : text(name), hash(TraceTextHash(name)) {}  // NOLINT
  TraceName(const std::string& name) : TraceName(std::string_view(name)) {}                 // NOLINT
  // A `const char*` that is not a literal (a literal takes the consteval
  // constructor: it is the more specialized template).
  template <class P>
    requires std::same_as<P, const char*> || std::same_as<P, char*>
  TraceName(P name) : TraceName(std::string_view(name)) {}  // NOLINT
};
// A literal is hashed by the compiler (this would not compile if the literal
// took the run-time const char* constructor).
static_assert(TraceName("tx.state").hash == TraceTextHash("tx.state"));

// One key=value pair as the recorder passes it: views into strings that live
// until Record returns (literals, or temporaries of the calling expression),
// or a number kept as a number until somebody wants text. A text value given
// as a TraceName (a constexpr table of state names) carries its digest word.
struct TraceField {
  enum class Type : uint8_t { kText, kUnsigned, kSigned, kHex };
  std::string_view key;
  uint64_t key_hash = TraceTextHash({});
  std::string_view text;  // kText
  uint64_t number = 0;    // kUnsigned, kSigned (two's complement), kHex; kText with text_hashed: its hash
  Type type = Type::kText;
  bool text_hashed = false;

  constexpr TraceField() = default;
  constexpr TraceField(TraceName k, std::string_view v) : key(k.text), key_hash(k.hash), text(v) {}
  // A literal value: inline, so the compiler folds its hash (not consteval:
  // `c ? "1" : "0"` is a char array too, known only at run time; the text is
  // up to the first NUL, as for a `const char*`). Any other `const char*`
  // hashes at run time (a template too, so a literal takes the more
  // specialized constructor above).
  template <size_t N>
  [[gnu::always_inline]] constexpr TraceField(TraceName k, const char (&v)[N])
      : key(k.text), key_hash(k.hash), text(v), number(TraceTextHash(text)), text_hashed(true) {}
  template <class P>
    requires std::same_as<P, const char*> || std::same_as<P, char*>
  constexpr TraceField(TraceName k, P v) : key(k.text), key_hash(k.hash), text(v) {}
  TraceField(TraceName k, const std::string& v) : key(k.text), key_hash(k.hash), text(v) {}
  constexpr TraceField(TraceName k, const TraceName& v)
      : key(k.text), key_hash(k.hash), text(v.text), number(v.hash), text_hashed(true) {}
  template <std::integral I>
    requires(!std::same_as<I, bool> && !std::same_as<I, char>)
  constexpr TraceField(TraceName k, I v)
      : key(k.text),
        key_hash(k.hash),
        number(static_cast<uint64_t>(v)),
        type(std::is_signed_v<I> ? Type::kSigned : Type::kUnsigned) {}
  constexpr TraceField(TraceName k, const TraceHex& v)
      : key(k.text), key_hash(k.hash), number(v.value), type(Type::kHex) {}

  // The value's digest word: a number as itself, a text as its TraceTextHash.
  [[gnu::always_inline]] constexpr uint64_t ValueWord() const {
    return type != Type::kText || text_hashed ? number : TraceTextHash(text);
  }
  // The value's text form (what TraceEvent holds).
  std::string ValueText() const;
  void AppendValueText(std::string* out) const;
  // The value's text form as a view: the text itself, or a number rendered
  // into *scratch (valid until scratch changes).
  std::string_view ValueView(std::string* scratch) const {
    if (type == Type::kText) return text;
    scratch->clear();
    AppendValueText(scratch);
    return *scratch;
  }
};

// Literal values take the array constructor (their hash folds at compile time).
static_assert(TraceField("key", "value").text_hashed);

namespace trace_internal {
// A field's key word with the type of the field's value folded in (the
// type in the top bits, added: a number and a text value never encode alike
// short of a 64-bit hash collision).
[[gnu::always_inline]] constexpr uint64_t KeyWord(uint64_t key_hash, TraceField::Type type) {
  return key_hash + (static_cast<uint64_t>(type) << 62);
}
// One 64x64->128 multiply of two words folded to 64 bits, with no running
// state (wyhash's mum): an event's terms are computed beside the digest's
// chain, not in it. The asm keeps the product in rax:rdx, as in Mix.
[[gnu::always_inline]] constexpr uint64_t Fold(uint64_t a, uint64_t b) {
#if defined(__x86_64__)
  if (!std::is_constant_evaluated() && !(__builtin_constant_p(a) && __builtin_constant_p(b))) {
    uint64_t low;
    uint64_t high;
    asm("mulq %3" : "=a"(low), "=d"(high) : "a"(a), "rm"(b) : "cc");
    return low ^ high;
  }
#endif
  const unsigned __int128 product = static_cast<unsigned __int128>(a) * b;
  return static_cast<uint64_t>(product) ^ static_cast<uint64_t>(product >> 64);
}
// Secrets (digits of pi and e): the head's two words, and per field position
// one for the value word and one for the key word (at a call site with a
// fixed list of fields the position, and so both secrets, are constants).
constexpr uint64_t kTimeSecret = 0x243f6a8885a308d3ull;
constexpr uint64_t kHostSecret = 0x13198a2e03707344ull;
constexpr uint64_t kValueSecret = 0xa4093822299f31d0ull;
constexpr uint64_t kKeySecret = 0xb7e151628aed2a6bull;
// The event's word before its fields: time, host with the field count, kind.
[[gnu::always_inline]] inline uint64_t HeadWord(TimeNs time, uint32_t host, size_t field_count,
                                                const TraceName& kind) {
  return Fold(static_cast<uint64_t>(time) ^ kTimeSecret,
              (static_cast<uint64_t>(host) | (static_cast<uint64_t>(field_count) << 32)) ^ kHostSecret) +
         kind.hash;
}
// The term of the field at `position` (0 for the first): key word (with the
// value's type) and value word, each xored with its secret for the position.
[[gnu::always_inline]] inline uint64_t FieldTerm(size_t position, uint64_t key_word, uint64_t value_word) {
  return Fold(value_word ^ (kValueSecret + position * kMixMultiplier),
              key_word ^ (kKeySecret + position * kMixConstant));
}
[[gnu::always_inline]] inline uint64_t FieldTerm(size_t position, const TraceField& field) {
  return FieldTerm(position, KeyWord(field.key_hash, field.type), field.ValueWord());
}
// The digest's step over one event (see the file comment): the event's word
// (HeadWord plus each FieldTerm), then one Mix into the running digest. Inline
// into Record's callers, where most words are constants.
[[gnu::always_inline]] inline uint64_t DigestOne(uint64_t digest, TimeNs time, uint32_t host, const TraceName& kind,
                                                 std::span<const TraceField> fields) {
  uint64_t word = HeadWord(time, host, fields.size(), kind);
  // Unrolled: at a call site with a fixed list of fields every key word,
  // type and literal value word is a constant (events have at most a few).
#pragma GCC unroll 8
  for (size_t i = 0; i < fields.size(); ++i) word += FieldTerm(i, fields[i]);
  return Mix(digest, word);
}
}  // namespace trace_internal

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

// An event as recorded, for listeners that read its fields without text
// (TraceField as the engine passed it: numbers as numbers, names with their
// digest words). Views: valid only during the listener's call.
struct TraceView {
  TimeNs time = 0;
  uint32_t host = kNoHost;
  TraceName kind;
  std::span<const TraceField> fields;

  // The field with this key, or nullptr (keys compared by their words).
  const TraceField* Find(TraceName key) const {
    for (const TraceField& field : fields) {
      if (field.key_hash == key.hash) return &field;
    }
    return nullptr;
  }
  // A field's value as text ("" when absent), as TraceEvent::Field gives it.
  std::string_view FieldText(TraceName key, std::string* scratch) const {
    const TraceField* field = Find(key);
    return field == nullptr ? std::string_view() : field->ValueView(scratch);
  }
};

// A kept or hand-built TraceEvent as a TraceView (every value as its text,
// as TraceEvent holds it), for code that takes views and is fed events.
class TraceEventView {
 public:
  explicit TraceEventView(const TraceEvent& event);
  const TraceView& view() const { return view_; }

 private:
  std::vector<TraceField> fields_;
  TraceView view_;
};

class Trace {
 public:
  explicit Trace(bool keep_events = true, uint64_t events_max = 10'000'000)
      : keep_events_(keep_events), events_max_(events_max) {}

  // Inline: when nobody keeps or observes events (a benchmark, a run without
  // a history) only the digest and the count change, and the digest step is
  // compiled into the caller, where a call site's keys, types and literal
  // values are constants (the fields' array is never built; about 100
  // instructions less per event than the out-of-line path, callgrind on
  // bench/engine_bench). Otherwise RecordObserved does the rest.
  [[gnu::always_inline]] void Record(TimeNs time, uint32_t host, TraceName kind,
                                     std::initializer_list<TraceField> fields = {}) {
    Record(time, host, kind, std::span<const TraceField>(fields.begin(), fields.size()));
  }
  [[gnu::always_inline]] void Record(TimeNs time, uint32_t host, TraceName kind, std::span<const TraceField> fields) {
    digest_ = trace_internal::DigestOne(digest_, time, host, kind, fields);
    ++count_;
    if (observed_ && !UnwantedKind(kind)) RecordObserved(time, host, kind, fields);
  }
  // Record of a fixed list of fields passed one by one (each a TraceField):
  // the same digest and the same event. The digest step is compiled into
  // the caller whether or not somebody observes (a call site's keys, types
  // and literal values are constants there); when nobody observes, the
  // fields never go to memory (an array whose address is passed on would be
  // written out and read back): the hot engine events use this one.
  template <class... Fields>
  [[gnu::always_inline]] void RecordEach(TimeNs time, uint32_t host, TraceName kind, const Fields&... fields) {
    static_assert((std::is_same_v<Fields, TraceField> && ...), "RecordEach takes sim::TraceField values");
    uint64_t word = trace_internal::HeadWord(time, host, sizeof...(Fields), kind);
    [[maybe_unused]] size_t position = 0;
    ((word += trace_internal::FieldTerm(position++, fields)), ...);
    digest_ = trace_internal::Mix(digest_, word);
    ++count_;
    if (observed_ && !UnwantedKind(kind)) [[unlikely]] {
      if constexpr (sizeof...(Fields) == 0) {
        RecordObserved(time, host, kind, {});
      } else {
        const TraceField array[] = {fields...};
        RecordObserved(time, host, kind, array);
      }
    }
  }

  // The digest's step: `digest` extended by one event. Recomputing it over the
  // kept events from kDigestStart gives digest() (tests check that): a kept
  // event's number fields are parsed back from their text by field_types.
  static constexpr uint64_t kDigestStart = 14695981039346656037ull;
  static uint64_t DigestStep(uint64_t digest, TimeNs time, uint32_t host, TraceName kind,
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
  // An observer called first for every event it wants, with the event as text.
  void set_observer(std::function<void(const TraceEvent&)> observer, KindFilter wants = {}) {
    observer_ = {std::move(observer), {}, std::move(wants)};
    ForgetKindWants();
    UpdateObserved();
  }
  // The observer as a view listener (no text made for the events it wants):
  // takes the observer's place (and its first turn), replacing a text one.
  void set_view_observer(std::function<void(const TraceView&)> observer, KindFilter wants = {}) {
    observer_ = {{}, std::move(observer), std::move(wants)};
    ForgetKindWants();
    UpdateObserved();
  }
  // More observers (coverage, ...), called after the observer, in the order
  // added; at most listeners_max.
  static constexpr size_t listeners_max = 64;
  void add_listener(std::function<void(const TraceEvent&)> listener, KindFilter wants = {});
  // A listener shown the event as recorded (no text made for it): cheaper
  // than add_listener for listeners that read numbers and names. Called in
  // the same order as the others (the order added).
  void add_view_listener(std::function<void(const TraceView&)> listener, KindFilter wants = {});
  // Filters answer from an event's kind alone, so each is asked once per kind
  // and its answer remembered; a filter whose answer changes (it reads state
  // that changed) must be re-installed, which forgets the answers.

 private:
  bool keep_events_;
  // Somebody keeps or observes events: Record calls RecordObserved.
  bool observed_ = keep_events_;
  uint64_t events_max_;
  // Record's part after the digest: keeping and showing the event.
  void RecordObserved(TimeNs time, uint32_t host, TraceName kind, std::span<const TraceField> fields);
  // RecordObserved's part for an event somebody keeps or a text observer
  // wants (a TraceEvent is filled).
  void RecordWithText(TimeNs time, uint32_t host, TraceName kind, std::span<const TraceField> fields, bool keep,
                      bool observer_wants, uint64_t listeners_want);
  // Shows the event to the observer (if it wants it) and the listeners in
  // listeners_want; `event` is the text form (nullptr: nobody shown wants text).
  void Show(const TraceEvent* event, const TraceView& view, bool observer_wants, uint64_t listeners_want);
  void UpdateObserved() { observed_ = keep_events_ || observer_.fn || observer_.view_fn || !listeners_.empty(); }
  // Copies an event into `event`, reusing its strings' storage.
  void Fill(TraceEvent& event, TimeNs time, uint32_t host, std::string_view kind,
            std::span<const TraceField> fields);

  uint64_t digest_ = kDigestStart;
  uint64_t count_ = 0;
  std::vector<TraceEvent> events_;
  struct Observer {
    std::function<void(const TraceEvent&)> fn;
    std::function<void(const TraceView&)> view_fn;  // a view listener (fn empty)
    KindFilter wants;
    bool Wants(std::string_view kind) const { return (fn || view_fn) && (!wants || wants(kind)); }
  };
  Observer observer_;
  std::vector<Observer> listeners_;
  // Which listeners (bits) and whether the observer want a kind, remembered
  // per kind word (direct-mapped; a slot holds the last kind that used it).
  struct KindWants {
    uint64_t kind_hash = 0;
    uint64_t listeners = 0;
    bool observer = false;
    bool valid = false;
    bool unwanted = false;  // nobody keeps events, nor does the observer or a listener want this kind
  };
  // A run traces some 50 kinds: at 256 slots the birthday collisions among
  // them (two busy kinds taking turns in a slot, each turn asking again)
  // were two thirds of the asks.
  static constexpr size_t kKindWantsSlots = 1024;
  std::vector<KindWants> kind_wants_ = std::vector<KindWants>(kKindWantsSlots);
  uint64_t text_listeners_ = 0;  // bits of listeners that take a TraceEvent
  // The slot of `kind`, its answers filled in if it held another kind.
  [[gnu::always_inline]] const KindWants& WantsOf(TraceName kind) {
    KindWants& slot = kind_wants_[kind.hash % kKindWantsSlots];
    if (slot.valid && slot.kind_hash == kind.hash) [[likely]] return slot;
    return AskKindWants(slot, kind);
  }
  const KindWants& AskKindWants(KindWants& slot, TraceName kind);
  // True only when the kind's slot already says nobody wants it (asked
  // before): the event then costs its digest step and this check, inline,
  // where a literal kind's slot is a constant offset. Any other answer goes
  // to RecordObserved, which asks and fills the slot.
  [[gnu::always_inline]] bool UnwantedKind(TraceName kind) const {
    const KindWants& slot = kind_wants_[kind.hash % kKindWantsSlots];
    return slot.unwanted && slot.kind_hash == kind.hash;
  }
  void ForgetKindWants();
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
