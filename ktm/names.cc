// Names of statuses, notifications, states and planted bugs (for traces and
// messages), GUID formatting, and the always-on assertion handler.
#include <bit>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>

#include "absl/strings/str_format.h"
#include "ktm/assert.h"
#include "ktm/bugs.h"
#include "ktm/status.h"
#include "ktm/types.h"
#include "sim/invariant.h"

namespace ktm {

namespace {
// Every status ktmsim returns, once: StatusName, KnownStatuses and the
// Win32 mapping test (tests/ktm_status_test.cc) read this list.
#define KTM_STATUS_LIST(X)                                                                                      \
  X(STATUS_SUCCESS) X(STATUS_TIMEOUT) X(STATUS_PENDING) X(STATUS_OBJECT_NAME_EXISTS) X(STATUS_RECOVERY_NOT_NEEDED) \
  X(STATUS_RM_ALREADY_STARTED) X(STATUS_NO_MORE_FILES) X(STATUS_NO_MORE_ENTRIES) X(STATUS_INVALID_HANDLE)          \
  X(STATUS_INVALID_PARAMETER) X(STATUS_NO_SUCH_FILE) X(STATUS_END_OF_FILE) X(STATUS_ACCESS_DENIED)                 \
  X(STATUS_BUFFER_TOO_SMALL) X(STATUS_OBJECT_TYPE_MISMATCH) X(STATUS_OBJECT_NAME_INVALID)                          \
  X(STATUS_OBJECT_NAME_NOT_FOUND) X(STATUS_OBJECT_NAME_COLLISION) X(STATUS_OBJECT_PATH_NOT_FOUND)                  \
  X(STATUS_SHARING_VIOLATION) X(STATUS_DISK_FULL) X(STATUS_INSUFFICIENT_RESOURCES) X(STATUS_FILE_IS_A_DIRECTORY)   \
  X(STATUS_UNEXPECTED_IO_ERROR) X(STATUS_DIRECTORY_NOT_EMPTY) X(STATUS_NOT_A_DIRECTORY) X(STATUS_CANNOT_DELETE)    \
  X(STATUS_FILE_DELETED) X(STATUS_KEY_DELETED) X(STATUS_CHILD_MUST_BE_VOLATILE) X(STATUS_TRANSACTIONAL_CONFLICT)   \
  X(STATUS_INVALID_TRANSACTION) X(STATUS_TRANSACTION_NOT_ACTIVE) X(STATUS_TM_INITIALIZATION_FAILED)                \
  X(STATUS_RM_NOT_ACTIVE) X(STATUS_TRANSACTION_NOT_JOINED) X(STATUS_TRANSACTION_SUPERIOR_EXISTS)                   \
  X(STATUS_TRANSACTION_REQUEST_NOT_VALID) X(STATUS_TRANSACTION_NOT_REQUESTED) X(STATUS_TRANSACTION_ALREADY_ABORTED) \
  X(STATUS_TRANSACTION_ALREADY_COMMITTED) X(STATUS_HANDLE_NO_LONGER_VALID) X(STATUS_LOG_CORRUPTION_DETECTED)       \
  X(STATUS_RM_DISCONNECTED) X(STATUS_ENLISTMENT_NOT_SUPERIOR) X(STATUS_CANT_BREAK_TRANSACTIONAL_DEPENDENCY)        \
  X(STATUS_TM_VOLATILE) X(STATUS_TRANSACTION_NOT_FOUND) X(STATUS_RESOURCEMANAGER_NOT_FOUND)                        \
  X(STATUS_ENLISTMENT_NOT_FOUND) X(STATUS_TRANSACTIONMANAGER_NOT_FOUND) X(STATUS_TRANSACTIONMANAGER_NOT_ONLINE)    \
  X(STATUS_TRANSACTION_NOT_ROOT) X(STATUS_TRANSACTION_RESPONSE_NOT_ENLISTED) X(STATUS_LOG_FULL)

#define KTM_VALUE(x) x,
constexpr NTSTATUS kKnownStatuses[] = {KTM_STATUS_LIST(KTM_VALUE)};
#undef KTM_VALUE
}  // namespace

std::span<const NTSTATUS> KnownStatuses() { return kKnownStatuses; }

std::string StatusName(NTSTATUS s) {
  const char* name = "STATUS_UNKNOWN";
  switch (s) {
#define KTM_NAME(x) case x: name = #x; break;
    KTM_STATUS_LIST(KTM_NAME)
#undef KTM_NAME
    default: break;
  }
  // "<name> (0x%08X)" by hand: traces name a status on hot paths, and a
  // format string costs about ten times this.
  static constexpr char kHex[] = "0123456789ABCDEF";
  char hex[] = " (0x00000000)";
  for (int i = 0; i < 8; ++i) hex[4 + i] = kHex[(s >> (28 - 4 * i)) & 0xF];
  std::string text;
  text.reserve(std::strlen(name) + sizeof hex - 1);
  text.append(name).append(hex, sizeof hex - 1);
  return text;
}

sim::TraceName NotificationTraceName(uint32_t n) {
  switch (n) {
    case TRANSACTION_NOTIFY_PREPREPARE: return "PREPREPARE";
    case TRANSACTION_NOTIFY_PREPARE: return "PREPARE";
    case TRANSACTION_NOTIFY_COMMIT: return "COMMIT";
    case TRANSACTION_NOTIFY_ROLLBACK: return "ROLLBACK";
    case TRANSACTION_NOTIFY_PREPREPARE_COMPLETE: return "PREPREPARE_COMPLETE";
    case TRANSACTION_NOTIFY_PREPARE_COMPLETE: return "PREPARE_COMPLETE";
    case TRANSACTION_NOTIFY_COMMIT_COMPLETE: return "COMMIT_COMPLETE";
    case TRANSACTION_NOTIFY_ROLLBACK_COMPLETE: return "ROLLBACK_COMPLETE";
    case TRANSACTION_NOTIFY_RECOVER: return "RECOVER";
    case TRANSACTION_NOTIFY_SINGLE_PHASE_COMMIT: return "SINGLE_PHASE_COMMIT";
    case TRANSACTION_NOTIFY_RECOVER_QUERY: return "RECOVER_QUERY";
    case TRANSACTION_NOTIFY_LAST_RECOVER: return "LAST_RECOVER";
    case TRANSACTION_NOTIFY_INDOUBT: return "INDOUBT";
    case TRANSACTION_NOTIFY_RM_DISCONNECTED: return "RM_DISCONNECTED";
    case TRANSACTION_NOTIFY_TM_ONLINE: return "TM_ONLINE";
    case TRANSACTION_NOTIFY_COMMIT_REQUEST: return "COMMIT_REQUEST";
    case TRANSACTION_NOTIFY_REQUEST_OUTCOME: return "REQUEST_OUTCOME";
    default: return "UNKNOWN";
  }
}

const char* NotificationName(uint32_t n) { return NotificationTraceName(n).text.data(); }

sim::TraceName TxStateTraceName(TxState s) {
  switch (s) {
    case TxState::kUninitialized: return "Uninitialized";
    case TxState::kActive: return "Active";
    case TxState::kPreparing: return "Preparing";
    case TxState::kPrepared: return "Prepared";
    case TxState::kInDoubt: return "InDoubt";
    case TxState::kCommitted: return "Committed";
    case TxState::kAborted: return "Aborted";
    case TxState::kDelegated: return "Delegated";
    case TxState::kPrePreparing: return "PrePreparing";
    case TxState::kForgotten: return "Forgotten";
    case TxState::kRecovering: return "Recovering";
    case TxState::kPrePrepared: return "PrePrepared";
  }
  return "?";
}

const char* TxStateName(TxState s) { return TxStateTraceName(s).text.data(); }

sim::TraceName EnStateTraceName(EnState s) {
  switch (s) {
    case EnState::kUninitialized: return "Uninitialized";
    case EnState::kActive: return "Active";
    case EnState::kPreparing: return "Preparing";
    case EnState::kPrepared: return "Prepared";
    case EnState::kInDoubt: return "InDoubt";
    case EnState::kCommitted: return "Committed";
    case EnState::kCommittedNotify: return "CommittedNotify";
    case EnState::kCommitRequested: return "CommitRequested";
    case EnState::kAborted: return "Aborted";
    case EnState::kDelegated: return "Delegated";
    case EnState::kDelegatedDisconnected: return "DelegatedDisconnected";
    case EnState::kPrePreparing: return "PrePreparing";
    case EnState::kForgotten: return "Forgotten";
    case EnState::kRecovering: return "Recovering";
    case EnState::kAborting: return "Aborting";
    case EnState::kReadOnly: return "ReadOnly";
    case EnState::kOutcomeUnavailable: return "OutcomeUnavailable";
    case EnState::kOffline: return "Offline";
    case EnState::kPrePrepared: return "PrePrepared";
    case EnState::kInitialized: return "Initialized";
  }
  return "?";
}

const char* EnStateName(EnState s) { return EnStateTraceName(s).text.data(); }

const char* TmStateName(TmState s) {
  switch (s) {
    case TmState::kUninitialized: return "Uninitialized";
    case TmState::kInitialized: return "Initialized";
    case TmState::kRecovering: return "Recovering";
    case TmState::kOnline: return "Online";
    case TmState::kRecoveryFailed: return "RecoveryFailed";
    case TmState::kOffline: return "Offline";
  }
  return "?";
}

const char* PlantedBugName(uint32_t bug) {
  switch (bug) {
    case kBugNone: return "none";
    case kBugAckBeforeForce: return "ack-before-force";
    case kBugSkipCommitRecord: return "skip-commit-record";
    case kBugRollbackCommittedOnRecovery: return "rollback-committed-on-recovery";
    case kBugIgnoreNoVote: return "ignore-no-vote";
    case kBugSinglePhaseWithOthers: return "single-phase-with-others";
    case kBugForgetBeforeCommitComplete: return "forget-before-commit-complete";
    case kBugTrustResponseOrder: return "trust-response-order";
    default: return "unknown";
  }
}

std::string Guid::ToString() const {
  return absl::StrFormat("%08x-%04x-%04x-%04x-%012x", hi >> 32, (hi >> 16) & 0xffff, hi & 0xffff, lo >> 48,
                         lo & 0xffffffffffffull);
}

namespace {

// Eight lowercase hex digits of v, most significant first, as the bytes of a
// word in memory order (SWAR: spread the nibbles to bytes, then add '0' or
// 'a' - 10 per byte). Built in a register and stored once: byte-wise stores
// into the result would stall the caller's wide load of it.
uint64_t HexWord(uint32_t v) {
  uint64_t x = v;
  x = (x | (x << 16)) & 0x0000FFFF0000FFFFull;
  x = (x | (x << 8)) & 0x00FF00FF00FF00FFull;
  x = (x | (x << 4)) & 0x0F0F0F0F0F0F0F0Full;
  if constexpr (std::endian::native == std::endian::little) x = __builtin_bswap64(x);
  const uint64_t letters = ((x + 0x0606060606060606ull) >> 4) & 0x0101010101010101ull;
  return x + 0x3030303030303030ull + letters * ('a' - '0' - 10);
}

}  // namespace

GuidShort Guid::Short() const {
  // Hot path (every trace event names a transaction or enlistment): the word
  // only; the text is rendered when somebody asks for it.
  GuidShort out;
  out.value = hi;
  return out;
}

std::string_view GuidShort::view() const {
  // No formatting library, no allocation.
  const uint64_t words[2] = {HexWord(static_cast<uint32_t>(value >> 32)), HexWord(static_cast<uint32_t>(value))};
  std::memcpy(text_, words, sizeof text_);
  return {text_, sizeof text_};
}

namespace {
thread_local std::string assert_context;
}

void SetAssertContext(const std::string& context) { assert_context = context; }

void AssertFailed(const char* condition, const char* file, int line, const std::string& message) {
  // Inside a harness run: a failed run with rule "assertion" (sim/invariant.h).
  if (sim::InvariantTrapped()) sim::FailInvariant(std::string("KTM_ASSERT(") + condition + ")", message, file, line);
  std::fprintf(stderr, "KTM_ASSERT failed at %s:%d: %s\n  %s\n  %s\n", file, line, condition, message.c_str(),
               assert_context.empty() ? "(no run context)" : assert_context.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace ktm
