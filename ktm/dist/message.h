// The wire format of the distributed-transaction protocol between the Dtc of
// one host and the Dtc of another (docs/distributed.md has the diagram).
//
// Contract: every datagram is one Message: a fixed header (magic, version,
// type, sender host and incarnation, the incarnation of the receiver it is
// meant for, a message id unique per sender incarnation, the id of the request
// a reply answers) followed by the branch it concerns and the type's fields.
// Integers are little-endian fixed width (ktm/codec.h). Decode rejects
// anything malformed (short, unknown type, strings over kStringBytesMax,
// trailing bytes): the network never corrupts datagrams, but a receiver must
// never trust its input. The branch identity names the root: the coordinator
// host, the coordinator's incarnation when it created the branch and a
// sequence number, so a branch id is never reused, even across crashes.
#pragma once

#include <compare>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ktm/status.h"
#include "ktm/types.h"

namespace ktm::dist {

enum class MessageType : uint8_t {
  kPropagate = 1,       // coordinator -> participant: create the branch (a local transaction)
  kPropagateReply = 2,  // participant -> coordinator: status (success once the branch is logged)
  kOp = 3,              // coordinator -> participant: one client operation on one of its RMs
  kOpReply = 4,         // participant -> coordinator: status (and value for a read)
  kPrePrepare = 5,      // coordinator -> participant: phase 0
  kPrePrepared = 6,     // participant -> coordinator: PREPREPARE_COMPLETE
  kPrepare = 7,         // coordinator -> participant: phase 1
  kPrepared = 8,        // participant -> coordinator: vote yes (prepared record forced)
  kCommit = 9,          // coordinator -> participant: the decision
  kCommitted = 10,      // participant -> coordinator: commit acknowledged (outcome logged)
  kAbort = 11,          // coordinator -> participant: the decision (no acknowledgement: presumed abort)
  kAborted = 12,        // participant -> coordinator: vote no / the branch is gone
  kInquiry = 13,        // participant -> coordinator: what happened to this branch?
  kOutcome = 14,        // coordinator -> participant: answer to an inquiry or an unexpected kAborted
};
constexpr uint8_t kMessageTypeMax = 14;
// "PROPAGATE", "OP_REPLY", ...
const char* MessageTypeName(MessageType type);

// The coordinator's answer to an inquiry.
enum class Outcome : uint8_t { kCommit = 1, kAbort = 2, kWait = 3 };
const char* OutcomeName(Outcome outcome);

struct BranchId {
  uint32_t coordinator = 0;   // host id of the root transaction's host
  uint64_t incarnation = 0;   // the coordinator's host incarnation when it created the branch
  uint64_t sequence = 0;      // per coordinator incarnation, from 1
  auto operator<=>(const BranchId&) const = default;
  bool null() const { return sequence == 0; }
  // "b<coordinator>.<incarnation>.<sequence>"
  std::string ToString() const;
};

// A BranchId's text (as ToString) in a buffer of its own, no allocation:
// for trace fields, which need the text only while the event is recorded.
class BranchText {
 public:
  explicit BranchText(const BranchId& id);
  std::string_view view() const { return {text_, size_}; }

 private:
  char text_[1 + 10 + 1 + 20 + 1 + 20];  // 'b', u32, '.', u64, '.', u64
  size_t size_ = 0;
};

// What both ends store about a branch in KTM enlistment recovery blobs and
// in the participant's log.
struct BranchRecord {
  BranchId id;
  uint32_t participant = 0;   // host id of the branch's host
  Guid root;                  // UOW of the root transaction
};
std::vector<uint8_t> EncodeBranchRecord(const BranchRecord& record);
bool DecodeBranchRecord(std::span<const uint8_t> bytes, BranchRecord* record);

constexpr size_t kStringBytesMax = 256;

struct Message {
  MessageType type = MessageType::kPropagate;
  uint32_t from = 0;
  uint64_t from_incarnation = 0;
  uint64_t to_incarnation = 0;  // 0: whichever incarnation receives it; else it is dropped by any other
  uint64_t id = 0;              // unique per sender incarnation, from 1
  uint64_t reply_to = 0;        // the request this answers (0: a request or a notice)
  BranchId branch;
  Guid root;
  // kOp, kOpReply: the operation's sequence number in the branch (from 1).
  // kPrePrepare, kPrepare: the number of operations the coordinator had
  // acknowledged; a participant that applied a different number votes no.
  uint64_t op_sequence = 0;
  bool write = false;           // kOp
  std::string rm, key, value;   // kOp (value: the written one); kOpReply (value read)
  NTSTATUS status = STATUS_SUCCESS;  // kPropagateReply, kOpReply
  Outcome outcome = Outcome::kWait;  // kOutcome
};

std::vector<uint8_t> Encode(const Message& message);
// False (and *message unspecified) when the bytes are not one valid message.
bool Decode(std::span<const uint8_t> bytes, Message* message);

}  // namespace ktm::dist
