// Little-endian encoding of log records and restart payloads (fixed-width
// integers for everything persisted). Reader never reads past the end: a
// short or malformed buffer makes ok() false, and callers reject the record.
#pragma once

#include <cstdint>
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
  Writer() { out_.reserve(64); }
  // Encodes into `buffer`'s storage (cleared first): a caller that keeps one
  // buffer for its records and takes it back after use (TakeBuffer)
  // encodes without allocating once the buffer has grown.
  explicit Writer(std::vector<uint8_t>&& buffer) : out_(std::move(buffer)) { out_.clear(); }
  std::vector<uint8_t>&& TakeBuffer() { return std::move(out_); }
  void U8(uint8_t v) { out_.push_back(v); }
  void U32(uint32_t v) { Little(v, 4); }
  void U64(uint64_t v) { Little(v, 8); }
  void Id(const Guid& g) { U64(g.hi); U64(g.lo); }
  void Bytes(std::span<const uint8_t> b) { U32(static_cast<uint32_t>(b.size())); out_.insert(out_.end(), b.begin(), b.end()); }
  void Str(const std::string& s) { Bytes({reinterpret_cast<const uint8_t*>(s.data()), s.size()}); }
  std::vector<uint8_t>& data() { return out_; }

 private:
  // Byte by byte with push_back (inline; no out-of-line resize that
  // zero-fills the new bytes before they are overwritten).
  void Little(uint64_t v, size_t bytes) {
    for (size_t i = 0; i < bytes; ++i) out_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  std::vector<uint8_t> out_;
};

class Reader {
 public:
  explicit Reader(std::span<const uint8_t> in) : in_(in) {}
  uint8_t U8() { return Need(1) ? in_[pos_++] : 0; }
  uint32_t U32() { uint32_t v = 0; if (Need(4)) { for (int i = 0; i < 4; ++i) v |= uint32_t{in_[pos_ + i]} << (8 * i); pos_ += 4; } return v; }
  uint64_t U64() { uint64_t v = 0; if (Need(8)) { for (int i = 0; i < 8; ++i) v |= uint64_t{in_[pos_ + i]} << (8 * i); pos_ += 8; } return v; }
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
  bool ok() const { return ok_; }
  bool done() const { return ok_ && pos_ == in_.size(); }

 private:
  bool Need(size_t n) { if (!ok_ || in_.size() - pos_ < n) { ok_ = false; return false; } return true; }
  std::span<const uint8_t> in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace ktm
