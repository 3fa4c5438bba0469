// RmClient: the KTM side every resource manager shares, written once: the
// RM's own log (open, or format a blank disk), registration with its TM
// (OpenResourceManager, else CreateResourceManager; then
// RecoverResourceManager), and the notification pump with its inbox. Used by
// RmBase (kv, TxF, TxR and users' RMs) and by the Dtc, which is a durable RM
// of its own TM.
//
// Contract:
// - Start(replay, done): a durable client opens its log; a blank disk is
//   formatted (an empty restart area written), a log that refuses to open
//   (damage, an unreadable sector: docs/faults.md) ends the start with
//   STATUS_LOG_CORRUPTION_DETECTED and `error` says why. Otherwise `replay`
//   sees the recovered records (none after a format) before the RM
//   registers, so the owner rebuilds its state before any RECOVER arrives.
//   A volatile client only creates a volatile RM. done(status, error) runs
//   once, from its own scheduler event, never inside Start.
// - The pump: every notification is queued in delivery order (the inbox)
//   and handled by one event per notification in the RM's own scheduler
//   chain, response_delay_ns after delivery; each event takes the oldest
//   notification waiting, so however a tie-breaking strategy orders
//   same-time events, the owner sees notifications in delivery order, as
//   one RM thread would (a LAST_RECOVER never overtakes its RECOVERs).
// - Lifetime: the client is volatile state of its host (destroyed by a
//   crash with its owner); no callback of it runs after it is destroyed.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ktm/api.h"
#include "ktm/log/log.h"
#include "sim/host.h"

namespace ktm {

struct RmClientOptions {
  std::string name;                 // for errors and the RM's chain
  std::string description;          // given to CreateResourceManager
  Guid rm_id;                       // the RM's persistent identity
  bool durable = true;              // false: a volatile RM, no log
  sim::TimeNs response_delay_ns = 0;  // think time before each notification is handled
  uint64_t log_bytes = 0;           // the log region [0, log_bytes) of the disk; 0: the whole disk
};

class RmClient {
 public:
  using Handler = std::function<void(const TRANSACTION_NOTIFICATION&)>;
  using ReplayFn = std::function<void(const log::RecoveredLog&)>;
  using DoneFn = std::function<void(NTSTATUS status, std::string_view error)>;

  // disk: the RM's log disk (ignored when volatile). handler: called for
  // every notification, in delivery order.
  RmClient(Kernel* kernel, sim::Host* host, sim::Disk* disk, HANDLE tm, RmClientOptions options, Handler handler);
  ~RmClient();
  RmClient(const RmClient&) = delete;
  RmClient& operator=(const RmClient&) = delete;

  void Start(ReplayFn replay, DoneFn done);

  // The RM's log (nullptr when volatile); exists from construction on.
  log::Log* log() const { return log_.get(); }
  HANDLE rm() const { return rm_; }
  // Registered with the TM (the RM handle is valid).
  bool online() const { return rm_ != INVALID_HANDLE_VALUE; }
  const RmClientOptions& options() const { return options_; }
  // Runs fn in the RM's chain after the response delay, unless the client is gone.
  void Later(std::function<void()> fn);

 private:
  void OnLogOpened(absl::StatusOr<log::RecoveredLog> recovered, ReplayFn replay, DoneFn done);
  void Register(DoneFn done);
  // Arm and LaterHandleNext: inline in OnNotification (every notification).
  // alive: the wait's liveness guard (of alive_), moved into it.
  [[gnu::always_inline]] inline void Arm(std::weak_ptr<bool> alive);
  // alive: the answered wait's guard, handed on to the next wait.
  void OnNotification(NTSTATUS status, const TRANSACTION_NOTIFICATION& n, std::weak_ptr<bool>& alive);
  void HandleNext();
  // One HandleNext event in the RM's chain (what Later does, without a std::function).
  [[gnu::always_inline]] inline void LaterHandleNext();
  // Sets chain_ (on first use: out of line, off the notification path).
  [[gnu::noinline]] void InternChain();
  // done(status, error) from its own event.
  void Finish(DoneFn done, NTSTATUS status, std::string error);

  Kernel* kernel_;
  sim::Host* host_;
  HANDLE tm_;
  RmClientOptions options_;
  Handler handler_;
  std::unique_ptr<log::Log> log_;
  HANDLE rm_ = INVALID_HANDLE_VALUE;
  // Delivered, not handled yet: inbox_[inbox_head_..] oldest first. A vector
  // emptied (capacity kept) whenever it drains, and compacted when the
  // handled prefix is most of it: no allocation per notification.
  std::vector<TRANSACTION_NOTIFICATION> inbox_;
  size_t inbox_head_ = 0;
  uint32_t chain_ = 0;  // the scheduler chain of this RM's notifications; 0 until first used
  std::shared_ptr<bool> alive_;
};

}  // namespace ktm
