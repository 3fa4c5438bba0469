// KTM object identities, handles, options, notification bits and the
// internal state enums (values from the Windows headers and symbol dumps,
// see ../shared/ktm-api.md §1 and §3).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sim/trace.h"

namespace ktm {

// Guid::Short: the Guid's hi word. As a trace field's value it is recorded
// as a number (sim::TraceHex: 16 hex digits when somebody wants the text, no
// formatting on the hot path); view() and the conversions to std::string_view
// and std::string render the 16 hex digits into the object on demand (a view
// lives as long as the GuidShort).
struct GuidShort : sim::TraceHex {
  std::string_view view() const;
  operator std::string_view() const { return view(); }
  operator std::string() const { return std::string(view()); }
  friend bool operator==(const GuidShort& a, std::string_view b) { return a.view() == b; }

 private:
  mutable char text_[16];
};

// A GUID drawn from sim's Rng (deterministic per seed).
struct Guid {
  uint64_t hi = 0;
  uint64_t lo = 0;
  bool operator==(const Guid&) const = default;
  auto operator<=>(const Guid&) const = default;
  bool null() const { return hi == 0 && lo == 0; }
  // "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
  std::string ToString() const;
  // Short form for traces: the 16 hex digits of hi.
  GuidShort Short() const;
  // For hash maps (absl::Hash); never iterated where order matters.
  template <typename H>
  friend H AbslHashValue(H h, const Guid& g) {
    return H::combine(std::move(h), g.hi, g.lo);
  }
};

using HANDLE = uint64_t;
constexpr HANDLE INVALID_HANDLE_VALUE = 0;

// A timeout of INFINITE (winbase.h's 0xFFFFFFFF) means none, as 0 does.
constexpr uint32_t INFINITE = 0xFFFFFFFF;
// CreateTransaction options.
constexpr uint32_t TRANSACTION_DO_NOT_PROMOTE = 0x1;
constexpr uint32_t MAX_TRANSACTION_DESCRIPTION_LENGTH = 64;
// CreateTransactionManager options.
constexpr uint32_t TRANSACTION_MANAGER_VOLATILE = 0x01;
constexpr uint32_t TRANSACTION_MANAGER_COMMIT_DEFAULT = 0x00;
constexpr uint32_t TRANSACTION_MANAGER_MAXIMUM_OPTION = 0x3F;
// CreateResourceManager options.
constexpr uint32_t RESOURCE_MANAGER_VOLATILE = 0x1;
constexpr uint32_t RESOURCE_MANAGER_COMMUNICATION = 0x2;
constexpr uint32_t RESOURCE_MANAGER_MAXIMUM_OPTION = 0x3;
// CreateEnlistment options.
constexpr uint32_t ENLISTMENT_SUPERIOR = 0x1;

// TRANSACTION_NOTIFY_* bits.
constexpr uint32_t TRANSACTION_NOTIFY_PREPREPARE = 0x00000001;
constexpr uint32_t TRANSACTION_NOTIFY_PREPARE = 0x00000002;
constexpr uint32_t TRANSACTION_NOTIFY_COMMIT = 0x00000004;
constexpr uint32_t TRANSACTION_NOTIFY_ROLLBACK = 0x00000008;
constexpr uint32_t TRANSACTION_NOTIFY_PREPREPARE_COMPLETE = 0x00000010;
constexpr uint32_t TRANSACTION_NOTIFY_PREPARE_COMPLETE = 0x00000020;
constexpr uint32_t TRANSACTION_NOTIFY_COMMIT_COMPLETE = 0x00000040;
constexpr uint32_t TRANSACTION_NOTIFY_ROLLBACK_COMPLETE = 0x00000080;
constexpr uint32_t TRANSACTION_NOTIFY_RECOVER = 0x00000100;
constexpr uint32_t TRANSACTION_NOTIFY_SINGLE_PHASE_COMMIT = 0x00000200;
constexpr uint32_t TRANSACTION_NOTIFY_DELEGATE_COMMIT = 0x00000400;
constexpr uint32_t TRANSACTION_NOTIFY_RECOVER_QUERY = 0x00000800;
constexpr uint32_t TRANSACTION_NOTIFY_ENLIST_PREPREPARE = 0x00001000;
constexpr uint32_t TRANSACTION_NOTIFY_LAST_RECOVER = 0x00002000;
constexpr uint32_t TRANSACTION_NOTIFY_INDOUBT = 0x00004000;
constexpr uint32_t TRANSACTION_NOTIFY_RM_DISCONNECTED = 0x01000000;
constexpr uint32_t TRANSACTION_NOTIFY_TM_ONLINE = 0x02000000;
constexpr uint32_t TRANSACTION_NOTIFY_COMMIT_REQUEST = 0x04000000;
constexpr uint32_t TRANSACTION_NOTIFY_REQUEST_OUTCOME = 0x20000000;
constexpr uint32_t TRANSACTION_NOTIFY_MASK = 0x3FFFFFFF;
// The bits CreateEnlistment accepts (the delivered ones; reserved bits rejected).
constexpr uint32_t TRANSACTION_NOTIFY_VALID_MASK =
    TRANSACTION_NOTIFY_PREPREPARE | TRANSACTION_NOTIFY_PREPARE | TRANSACTION_NOTIFY_COMMIT |
    TRANSACTION_NOTIFY_ROLLBACK | TRANSACTION_NOTIFY_PREPREPARE_COMPLETE |
    TRANSACTION_NOTIFY_PREPARE_COMPLETE | TRANSACTION_NOTIFY_COMMIT_COMPLETE |
    TRANSACTION_NOTIFY_ROLLBACK_COMPLETE | TRANSACTION_NOTIFY_RECOVER |
    TRANSACTION_NOTIFY_SINGLE_PHASE_COMMIT | TRANSACTION_NOTIFY_RECOVER_QUERY |
    TRANSACTION_NOTIFY_LAST_RECOVER | TRANSACTION_NOTIFY_INDOUBT |
    TRANSACTION_NOTIFY_RM_DISCONNECTED | TRANSACTION_NOTIFY_TM_ONLINE |
    TRANSACTION_NOTIFY_COMMIT_REQUEST | TRANSACTION_NOTIFY_REQUEST_OUTCOME;
// "PREPARE", "COMMIT", ... for one bit. The *TraceName forms carry the
// name's trace digest word (computed at compile time) for trace fields.
const char* NotificationName(uint32_t notification);
sim::TraceName NotificationTraceName(uint32_t notification);

// TRANSACTION_OUTCOME (public).
enum TRANSACTION_OUTCOME : uint32_t {
  TransactionOutcomeUndetermined = 1,
  TransactionOutcomeCommitted = 2,
  TransactionOutcomeAborted = 3,
};

// KTRANSACTION_STATE (internal, from symbol dumps).
enum class TxState : uint32_t {
  kUninitialized = 0, kActive = 1, kPreparing = 2, kPrepared = 3, kInDoubt = 4,
  kCommitted = 5, kAborted = 6, kDelegated = 7, kPrePreparing = 8, kForgotten = 9,
  kRecovering = 10, kPrePrepared = 11,
};
const char* TxStateName(TxState state);
sim::TraceName TxStateTraceName(TxState state);

// KENLISTMENT_STATE (internal).
enum class EnState : uint32_t {
  kUninitialized = 0, kActive = 256, kPreparing = 257, kPrepared = 258, kInDoubt = 259,
  kCommitted = 260, kCommittedNotify = 261, kCommitRequested = 262, kAborted = 263,
  kDelegated = 264, kDelegatedDisconnected = 265, kPrePreparing = 266, kForgotten = 267,
  kRecovering = 268, kAborting = 269, kReadOnly = 270, kOutcomeUnavailable = 271,
  kOffline = 272, kPrePrepared = 273, kInitialized = 274,
};
const char* EnStateName(EnState state);
sim::TraceName EnStateTraceName(EnState state);

// KTM_STATE of a transaction manager.
enum class TmState : uint32_t {
  kUninitialized = 0, kInitialized = 1, kRecovering = 2, kOnline = 3, kRecoveryFailed = 4,
  kOffline = 5,
};
const char* TmStateName(TmState state);

// TRANSACTION_NOTIFICATION as delivered to an RM.
struct TRANSACTION_NOTIFICATION {
  uint64_t TransactionKey = 0;       // the EnlistmentKey given at CreateEnlistment/RecoverEnlistment
  uint32_t TransactionNotification = 0;
  uint64_t TmVirtualClock = 0;
  // RECOVER argument (TRANSACTION_NOTIFICATION_RECOVERY_ARGUMENT).
  Guid EnlistmentId;
  Guid UOW;
  // TM_ONLINE argument.
  Guid TmIdentity;
};

}  // namespace ktm
