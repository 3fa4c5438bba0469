// Little-endian encoding of log records and restart payloads (fixed-width
// integers for everything persisted). Reader never reads past the end: a
// short or malformed buffer makes ok() false, and callers reject the record.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "ktm/types.h"

namespace ktm {

class Writer {
 public:
  // Most encodings are a few ids and counts: one allocation up front rather
  // than a regrowth every few bytes.
  Writer() { out_.resize(64); }
  // Encodes into `buffer`'s storage (cleared first): a caller that keeps one
  // buffer for its records and takes it back after use (TakeBuffer)
  // encodes without allocating once the buffer has grown.
  explicit Writer(std::vector<uint8_t>&& buffer) : out_(std::move(buffer)) {
    out_.resize(out_.capacity() < 64 ? 64 : out_.capacity());
  }
  std::vector<uint8_t>&& TakeBuffer() { return std::move(data()); }
  // A Writer kept for many records (a member): Reset starts a new encoding
  // in the same storage and view() shows it without resizing the storage,
  // so a record costs neither an allocation nor a zero-fill once the
  // storage has grown (Writer(vector&&) zero-fills up to the capacity each
  // time; data() shrinks the vector to the encoding).
  void Reset() { size_ = 0; }
  // The encoding so far (valid until the next write or Reset).
  std::span<const uint8_t> view() const { return {out_.data(), size_}; }
  void U8(uint8_t v) { *Extend(1) = v; }
  void U32(uint32_t v) { Little(v, 4); }
  void U64(uint64_t v) { Little(v, 8); }
  // One bounds check for both words (ids are most of the hot records).
  void Id(const Guid& g) {
    uint64_t words[2] = {g.hi, g.lo};
    if constexpr (std::endian::native == std::endian::big) {
      words[0] = __builtin_bswap64(words[0]);
      words[1] = __builtin_bswap64(words[1]);
    }
    std::memcpy(Extend(16), words, 16);
  }
  // Bytes without a length in front (a payload appended to another record).
  void Raw(std::span<const uint8_t> b) {
    if (!b.empty()) std::memcpy(Extend(b.size()), b.data(), b.size());
  }
  void Bytes(std::span<const uint8_t> b) { U32(static_cast<uint32_t>(b.size())); Raw(b); }
  void Str(const std::string& s) { Bytes({reinterpret_cast<const uint8_t*>(s.data()), s.size()}); }
  // The encoding so far. Writing through the Writer after changing or moving
  // the vector through this reference is not supported (use Raw to append).
  std::vector<uint8_t>& data() {
    out_.resize(size_);
    return out_;
  }

 private:
  // out_ is written up to size_; the bytes after it are room already
  // allocated (and zeroed once, when grown), so appending is a bounds check,
  // a store and an add: no per-byte push_back, no per-write zero-fill.
  uint8_t* Extend(size_t n) {
    if (out_.size() - size_ < n) Grow(n);
    uint8_t* at = out_.data() + size_;
    size_ += n;
    return at;
  }
  void Grow(size_t n) {
    size_t room = 2 * out_.size();
    if (room < size_ + n) room = size_ + n;
    out_.resize(room);
  }
  // The value's low `bytes` bytes, least significant first: one store of a
  // constant size (bytes is 4 or 8 at every call) on a little-endian machine.
  void Little(uint64_t v, size_t bytes) {
    if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);  // low bytes first in memory
    std::memcpy(Extend(bytes), &v, bytes);
  }
  std::vector<uint8_t> out_;
  size_t size_ = 0;
};

class Reader {
 public:
  explicit Reader(std::span<const uint8_t> in) : in_(in) {}
  uint8_t U8() { return Need(1) ? in_[pos_++] : 0; }
  uint32_t U32() { return static_cast<uint32_t>(Little(4)); }
  uint64_t U64() { return Little(8); }
  Guid Id() { Guid g; g.hi = U64(); g.lo = U64(); return g; }
  std::vector<uint8_t> Bytes() {
    uint32_t n = U32();
    if (!Need(n)) return {};
    std::vector<uint8_t> b(in_.begin() + pos_, in_.begin() + pos_ + n);
    pos_ += n;
    return b;
  }
  // Straight from the input: no intermediate byte vector.
  std::string Str() {
    uint32_t n = U32();
    if (!Need(n)) return {};
    std::string s(reinterpret_cast<const char*>(in_.data() + pos_), n);
    pos_ += n;
    return s;
  }
  // Like Str, as a view into the input (valid while the input lives).
  std::string_view StrView() {
    uint32_t n = U32();
    if (!Need(n)) return {};
    std::string_view s(reinterpret_cast<const char*>(in_.data() + pos_), n);
    pos_ += n;
    return s;
  }
  bool ok() const { return ok_; }
  bool done() const { return ok_ && pos_ == in_.size(); }

 private:
  bool Need(size_t n) { if (!ok_ || in_.size() - pos_ < n) { ok_ = false; return false; } return true; }
  // The next `bytes` bytes (4 or 8 at every call) as a little-endian value,
  // 0 past the end: one load of a constant size on a little-endian machine
  // (Writer::Little's mirror), where a shift-and-or per byte stayed a loop.
  uint64_t Little(size_t bytes) {
    if (!Need(bytes)) return 0;
    uint64_t v = 0;
    std::memcpy(&v, in_.data() + pos_, bytes);
    if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);  // the bytes were the high ones
    pos_ += bytes;
    return v;
  }
  std::span<const uint8_t> in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace ktm
