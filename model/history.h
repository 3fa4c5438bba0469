// History: what a run did, as the checkers see it. Recorded by the harness
// (client and RM operations, votes, notifications, outcomes, faults), with
// virtual timestamps and host. model/ depends on nothing else of ours.
//
// Identifiers are strings chosen by the harness: tx = "t<N>" (workload
// transaction number, unique in a run), rm = RM name from the scenario
// (unique in a run), key = RM-local key. Written values are unique per run
// ("t<N>.<op>"), so a value names the transaction that wrote it.
//
// Storage: every string of a history lives once in its NameTable (a
// per-history string table, shared by copies of the History); an event holds
// 16-byte Name handles into it, so an event is 96 bytes whatever its strings,
// and the checkers use the table's dense ids instead of hashing strings. A
// Name reads as a const std::string& (and converts to string views), so code
// that reads events reads them as before. Names assigned outside a History
// (HistoryEvent built by hand, tests) go to one process-wide table; the
// checkers accept such histories too (they re-intern them first, slower).
// An event's names live as long as the table they point into: to move events
// between histories, Add() them (which interns into the target's table).
#pragma once

#include <compare>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"

namespace model {

class NameTable;

// An interned, immutable string: a string view of its characters in a
// NameTable, which keeps a small header (table, dense id) just before them
// and a '\0' after. Reads like an absl::string_view (absl::StrCat takes it,
// comparisons, find, ...) and converts to std::string and std::string_view.
// Default = "" (id 0 in every table).
class Name : public absl::string_view {
 public:
  // What the table keeps before the characters.
  struct Header {
    const NameTable* table = nullptr;  // nullptr for the shared ""
    uint32_t id = 0;                   // dense id in `table` (0 = "")
    uint32_t size = 0;
  };

  Name() : Name(EmptyHeader()) {}
  // Interns into the process-wide table (for events built outside a History).
  Name(std::string_view text);  // NOLINT: implicit, so `event.tx = "t1"` keeps working
  Name(const char* text) : Name(std::string_view(text)) {}         // NOLINT
  Name(const std::string& text) : Name(std::string_view(text)) {}  // NOLINT
  Name(absl::string_view text) : Name(std::string_view(text.data(), text.size())) {}  // NOLINT

  std::string str() const { return std::string(data(), size()); }
  const char* c_str() const { return data(); }  // '\0'-terminated
  operator std::string() const { return str(); }                               // NOLINT
  operator std::string_view() const { return std::string_view(data(), size()); }  // NOLINT
  bool starts_with(std::string_view prefix) const { return std::string_view(*this).starts_with(prefix); }
  bool ends_with(std::string_view suffix) const { return std::string_view(*this).ends_with(suffix); }

  // The dense id in table() (0 = "", in any table).
  uint32_t id() const { return header()->id; }
  const NameTable* table() const { return header()->table; }

  friend std::string operator+(const Name& a, const std::string& b) { return a.str() + b; }
  friend std::string operator+(const std::string& a, const Name& b) { return a + b.str(); }
  friend std::string operator+(const Name& a, const char* b) { return a.str() + b; }
  friend std::string operator+(const char* a, const Name& b) { return a + b.str(); }
  friend std::string operator+(const Name& a, char b) { return a.str() + b; }

 private:
  friend class NameTable;
  explicit Name(const Header* header)
      : absl::string_view(reinterpret_cast<const char*>(header + 1), header->size) {}
  const Header* header() const { return reinterpret_cast<const Header*>(data()) - 1; }
  static const Header* EmptyHeader();
};

// A history's strings, each once, with dense ids (0 = ""). Append-only:
// characters never move, so Names stay valid while the table lives. Not
// thread-safe (Name(string) locks the shared table).
class NameTable {
 public:
  NameTable() = default;
  NameTable(const NameTable&) = delete;
  NameTable& operator=(const NameTable&) = delete;

  Name Intern(std::string_view text);
  // Room for about `names` distinct names without rehashing the index.
  void Reserve(size_t names) {
    index_.reserve(names);
    headers_.reserve(names);
  }
  // The name with this id (0 <= id < size()).
  Name At(uint32_t id) const { return id == 0 ? Name() : Name(headers_[id - 1]); }
  // The id of `text` if interned here, else kAbsent.
  uint32_t Find(std::string_view text) const;
  // Ids in use: 0 ("") and one per distinct non-empty string.
  uint32_t size() const { return static_cast<uint32_t>(headers_.size() + 1); }
  // Bytes the table holds: its arena blocks, the id -> name array and the
  // index (slots and control bytes, as allocated).
  size_t bytes_used() const;
  static constexpr uint32_t kAbsent = 0xffffffffu;
  // The table that Name(string) interns into (lives for the process).
  static NameTable& Shared();

 private:
  static constexpr size_t kBlockBytes = 64 * 1024;  // arena block; longer strings get their own
  friend class Name;
  std::vector<std::unique_ptr<uint64_t[]>> blocks_;
  size_t block_used_ = 0;     // bytes used of blocks_.back() (when it is a shared block)
  size_t block_size_ = 0;     // bytes of blocks_.back()
  size_t block_bytes_ = 0;    // bytes of all blocks
  std::vector<const Name::Header*> headers_;  // id - 1
  // The index's hash: names are short (ids, RM names, keys), so a few
  // 8-byte loads and multiplies (history.cc) instead of std::hash's byte-wise
  // murmur through a library call; only looked up, never iterated.
  struct TextHash {
    size_t operator()(std::string_view text) const;
  };
  // The index holds ids only (4 bytes a slot, where a string view and its
  // id took 24): it hashes and compares an id by its text in this table, and
  // is looked up by text (heterogeneous lookup). On a run that names a
  // million values it was the table's largest part (bytes_used()).
  std::string_view TextOf(uint32_t id) const {
    const Name::Header* header = headers_[id - 1];
    return std::string_view(reinterpret_cast<const char*>(header + 1), header->size);
  }
  struct IdHash {
    using is_transparent = void;
    const NameTable* table;
    size_t operator()(uint32_t id) const { return TextHash()(table->TextOf(id)); }
    size_t operator()(std::string_view text) const { return TextHash()(text); }
  };
  struct IdEq {
    using is_transparent = void;
    const NameTable* table;
    bool operator()(uint32_t a, uint32_t b) const { return a == b; }
    bool operator()(std::string_view text, uint32_t id) const { return table->TextOf(id) == text; }
    bool operator()(uint32_t id, std::string_view text) const { return table->TextOf(id) == text; }
  };
  absl::flat_hash_set<uint32_t, IdHash, IdEq> index_{0, IdHash{this}, IdEq{this}};
  std::mutex mutex_;  // taken for Shared() only
};

enum class EventKind : uint8_t {
  kBegin,            // client created tx
  kEnlist,           // rm enlisted in tx
  kWrite,            // tx wrote key=value at rm (accepted by the RM); detail "volatile": a
                     // volatile key's (a crash of the host removes it)
  kRead,             // tx read key at rm; value = what it saw ("" = absent)
  kCommitRequest,    // client asked to commit tx
  kRollbackRequest,  // client (or RM: detail="rm") asked to roll back tx
  kVote,             // rm voted on tx: detail = "yes" | "no" | "readonly" | "spc" (single-phase commit done)
  kNotification,     // rm received a notification for tx: detail = "PREPARE", "COMMIT", ...
  kTimeoutFired,     // the engine's timeout for tx fired
  kOutcome,          // the client learned tx's outcome: detail = "committed" | "aborted"
  kRmCommitted,      // rm made tx's effects durable and visible (idempotent re-apply after recovery allowed)
  kRmAborted,        // rm discarded tx's effects
  kFinalValue,       // at the end of the run, after recovery: rm's committed key=value ("" = absent)
  kCrash,            // host crashed
  kRestart,          // host restarted
  kRecovered,        // host's TM and RMs finished recovery
  kDiskError,        // a disk reported an error: detail = status
  kPartition,        // detail = groups
  kHeal,
  kFaultsStop,       // no fault is injected after this time; everything restarted/healed
  kRmLost,           // a volatile rm lost tx's effects in a crash (volatile RMs keep nothing:
                     // KTM promises them no durability, so this resolves tx at rm without
                     // counting as a commit or an abort); also a durable rm that refused to
                     // start after detecting log damage beyond the recoverable budget
                     // (detail "refused": its effects are unavailable, not half-applied)
  kOpen,             // a file open outside any transaction (tx ""), for sharing checks: rm,
                     // key = the file, value = the open's id; detail = "write" (granted for
                     // GENERIC_WRITE, held until its "close" or a crash of the host),
                     // "close", or "refused <status>". With a tx: an operation of tx on
                     // the file refused (detail "refused <status>"), for the reader only
  kRequestOutcome,   // rm asked KTM for tx's outcome (TmRequestOutcomeEnlistment) while
                     // prepared; what it then does must agree with everyone (agreement)
};
// Stable name of a kind without the leading 'k' ("Begin", "RmCommitted", ...).
const char* EventKindName(EventKind kind);

// A virtual time or duration for messages: "750ns", "12.3us", "12.3ms", "1.25s"
// (at most three decimals, trailing zeros dropped). Negative values get a '-'.
std::string FormatTimeNs(int64_t ns);

struct HistoryEvent {
  int64_t time_ns = 0;
  uint32_t host = 0;
  EventKind kind = EventKind::kBegin;
  Name tx;
  Name rm;
  Name key;
  Name value;
  Name detail;
  // One stable line: "<time_ns> h<host> <Kind> tx=.. rm=.. key=.. value=".."
  // detail=..". Empty fields are left out, except value for kWrite, kRead
  // and kFinalValue, where "" (absent / deleted) is meaningful. Keys, values
  // and details are C-escaped; values and details are quoted.
  std::string ToText() const;
};

struct History {
  std::vector<HistoryEvent> events;  // in time order (ties: recording order)
  int64_t end_ns = 0;                // virtual time at which the run ended
  // The strings of `events` (created by the first Intern/Add; shared by copies).
  std::shared_ptr<NameTable> names;

  // `text` in this history's table.
  Name Intern(std::string_view text);
  // Appends one event, its strings interned in this history's table.
  void Add(int64_t time_ns, uint32_t host, EventKind kind, std::string_view tx, std::string_view rm = {},
           std::string_view key = {}, std::string_view value = {}, std::string_view detail = {});
  // Appends `event` with its strings interned here (events from another history).
  void Add(const HistoryEvent& event);
  // Appends one event whose names are already in this history's table (from
  // Intern): no hashing. The recorder's path for names it holds.
  void AddInterned(int64_t time_ns, uint32_t host, EventKind kind, Name tx, Name rm, Name key, Name value,
                   Name detail) {
    events.push_back(HistoryEvent{time_ns, host, kind, tx, rm, key, value, detail});
  }
  // Whether every name of every event is in `names` (or ""): the checkers'
  // fast path (dense ids without hashing).
  bool NamesAreOwn() const;
  // One line per event, "#<index> <event line>", then "end <end_ns>".
  std::string ToText() const;
};

}  // namespace model
