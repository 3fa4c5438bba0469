// Encoding and decoding of protocol messages and branch records: see
// message.h. A version byte lets a later format be told apart; a decoder
// that sees any other version rejects the datagram.
#include "ktm/dist/message.h"

#include <bit>
#include <charconv>
#include <cstring>

#include "ktm/codec.h"

namespace ktm::dist {
namespace {

constexpr uint32_t kMagic = 0x4454434du;  // "MCTD"
constexpr uint8_t kVersion = 1;
// The fixed part every message starts with (Encode writes these fields in
// this order, little-endian): magic, version, type, from, from_incarnation,
// to_incarnation, id, reply_to, branch (4 + 8 + 8), root (16), op_sequence,
// status, outcome.
constexpr size_t kFixedBytes = 4 + 1 + 1 + 4 + 8 + 8 + 8 + 8 + (4 + 8 + 8) + 16 + 8 + 4 + 1;
static_assert(kFixedBytes == 91);

void PutBranch(Writer& w, const BranchId& id) {
  w.U32(id.coordinator);
  w.U64(id.incarnation);
  w.U64(id.sequence);
}

BranchId GetBranch(Reader& r) {
  BranchId id;
  id.coordinator = r.U32();
  id.incarnation = r.U64();
  id.sequence = r.U64();
  return id;
}

bool HasOpFields(MessageType type) { return type == MessageType::kOp || type == MessageType::kOpReply; }

bool StringFits(const std::string& s) { return s.size() <= kStringBytesMax; }

}  // namespace

const char* MessageTypeName(MessageType type) {
  switch (type) {
    case MessageType::kPropagate: return "PROPAGATE";
    case MessageType::kPropagateReply: return "PROPAGATE_REPLY";
    case MessageType::kOp: return "OP";
    case MessageType::kOpReply: return "OP_REPLY";
    case MessageType::kPrePrepare: return "PREPREPARE";
    case MessageType::kPrePrepared: return "PREPREPARED";
    case MessageType::kPrepare: return "PREPARE";
    case MessageType::kPrepared: return "PREPARED";
    case MessageType::kCommit: return "COMMIT";
    case MessageType::kCommitted: return "COMMITTED";
    case MessageType::kAbort: return "ABORT";
    case MessageType::kAborted: return "ABORTED";
    case MessageType::kInquiry: return "INQUIRY";
    case MessageType::kOutcome: return "OUTCOME";
  }
  return "UNKNOWN";
}

const char* OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kCommit: return "commit";
    case Outcome::kAbort: return "abort";
    case Outcome::kWait: return "wait";
  }
  return "unknown";
}

BranchText::BranchText(const BranchId& id) {
  // By hand (to_chars into the buffer): traces name a branch in every
  // protocol event, and StrCat of five pieces costs several times this.
  char* const end = text_ + sizeof text_;
  char* p = text_;
  *p++ = 'b';
  p = std::to_chars(p, end, id.coordinator).ptr;
  *p++ = '.';
  p = std::to_chars(p, end, id.incarnation).ptr;
  *p++ = '.';
  p = std::to_chars(p, end, id.sequence).ptr;
  size_ = static_cast<size_t>(p - text_);
}

std::string BranchId::ToString() const { return std::string(BranchText(*this).view()); }

std::vector<uint8_t> EncodeBranchRecord(const BranchRecord& record) {
  Writer w;
  PutBranch(w, record.id);
  w.U32(record.participant);
  w.Id(record.root);
  return std::move(w.data());
}

bool DecodeBranchRecord(std::span<const uint8_t> bytes, BranchRecord* record) {
  Reader r(bytes);
  record->id = GetBranch(r);
  record->participant = r.U32();
  record->root = r.Id();
  return r.done() && !record->id.null();
}

std::vector<uint8_t> Encode(const Message& m) {
  // Room for the whole message up front (the fixed part is 91 bytes, more
  // than a default Writer's 64): one allocation, no regrowth.
  std::vector<uint8_t> buffer;
  buffer.reserve(kFixedBytes + (HasOpFields(m.type) ? 1 + 3 * 4 + m.rm.size() + m.key.size() + m.value.size() : 0));
  Writer w(std::move(buffer));
  w.U32(kMagic);
  w.U8(kVersion);
  w.U8(static_cast<uint8_t>(m.type));
  w.U32(m.from);
  w.U64(m.from_incarnation);
  w.U64(m.to_incarnation);
  w.U64(m.id);
  w.U64(m.reply_to);
  PutBranch(w, m.branch);
  w.Id(m.root);
  w.U64(m.op_sequence);
  w.U32(m.status);
  w.U8(static_cast<uint8_t>(m.outcome));
  if (HasOpFields(m.type)) {
    w.U8(m.write ? 1 : 0);
    w.Str(m.rm);
    w.Str(m.key);
    w.Str(m.value);
  }
  return std::move(w.data());
}

namespace {

// A little-endian word at `at` (bounds checked by the caller, once for the
// whole fixed part).
template <class T>
T LoadLittle(const uint8_t* at) {
  T value;
  std::memcpy(&value, at, sizeof value);
  if constexpr (std::endian::native == std::endian::big) {
    if constexpr (sizeof value == 8) value = __builtin_bswap64(value);
    if constexpr (sizeof value == 4) value = __builtin_bswap32(value);
  }
  return value;
}

}  // namespace

bool Decode(std::span<const uint8_t> bytes, Message* m) {
  // Anything shorter than the fixed part is rejected whatever it holds (as
  // a Reader would, field by field); the fixed fields are then read at
  // their offsets without a check each.
  if (bytes.size() < kFixedBytes) return false;
  const uint8_t* p = bytes.data();
  if (LoadLittle<uint32_t>(p) != kMagic || p[4] != kVersion) return false;
  const uint8_t type = p[5];
  if (type == 0 || type > kMessageTypeMax) return false;
  m->type = static_cast<MessageType>(type);
  m->from = LoadLittle<uint32_t>(p + 6);
  m->from_incarnation = LoadLittle<uint64_t>(p + 10);
  m->to_incarnation = LoadLittle<uint64_t>(p + 18);
  m->id = LoadLittle<uint64_t>(p + 26);
  m->reply_to = LoadLittle<uint64_t>(p + 34);
  m->branch.coordinator = LoadLittle<uint32_t>(p + 42);
  m->branch.incarnation = LoadLittle<uint64_t>(p + 46);
  m->branch.sequence = LoadLittle<uint64_t>(p + 54);
  m->root.hi = LoadLittle<uint64_t>(p + 62);
  m->root.lo = LoadLittle<uint64_t>(p + 70);
  m->op_sequence = LoadLittle<uint64_t>(p + 78);
  m->status = LoadLittle<uint32_t>(p + 86);
  const uint8_t outcome = p[90];
  if (outcome < 1 || outcome > 3) return false;
  m->outcome = static_cast<Outcome>(outcome);
  bool done = bytes.size() == kFixedBytes;
  if (HasOpFields(m->type)) {
    Reader r(bytes.subspan(kFixedBytes));
    m->write = r.U8() == 1;
    m->rm = r.Str();
    m->key = r.Str();
    m->value = r.Str();
    if (!StringFits(m->rm) || !StringFits(m->key) || !StringFits(m->value)) return false;
    done = r.done();
  }
  return done && m->id != 0 && !m->branch.null();
}

}  // namespace ktm::dist
