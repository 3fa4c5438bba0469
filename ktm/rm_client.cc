// RmClient implementation: see rm_client.h for the contract.
#include "ktm/rm_client.h"

#include <utility>

#include "ktm/assert.h"

namespace ktm {
namespace {

// Whether the owner of the weak_ptr's shared_ptr (alive_) still exists: its
// destructor drops alive_ first, so every callback that runs from then on
// (members destroyed after it included) sees it expired. One load, where
// lock() took an atomic increment and decrement per callback.
bool Alive(const std::weak_ptr<bool>& alive) { return !alive.expired(); }

}  // namespace

RmClient::RmClient(Kernel* kernel, sim::Host* host, sim::Disk* disk, HANDLE tm, RmClientOptions options,
                   Handler handler)
    : kernel_(kernel),
      host_(host),
      tm_(tm),
      options_(std::move(options)),
      handler_(std::move(handler)),
      alive_(std::make_shared<bool>(true)) {
  KTM_ASSERT(handler_ != nullptr, "RmClient without a notification handler");
  if (options_.durable) {
    KTM_ASSERT(disk != nullptr, "a durable RM without a log disk: " + options_.name);
    const uint64_t log_bytes = options_.log_bytes == 0 ? disk->size_bytes() : options_.log_bytes;
    KTM_ASSERT(log_bytes <= disk->size_bytes(), "an RM log region larger than its disk: " + options_.name);
    log_ = std::make_unique<log::Log>(disk, log::LogOptions{.disk_offset = 0, .size_bytes = log_bytes});
  }
}

RmClient::~RmClient() { alive_.reset(); }  // callbacks from here on see Alive() false

void RmClient::Finish(DoneFn done, NTSTATUS status, std::string error) {
  std::weak_ptr<bool> alive = alive_;
  host_->After(0, [alive, done = std::move(done), status, error = std::move(error)] {
    if (Alive(alive)) done(status, error);
  });
}

void RmClient::Start(ReplayFn replay, DoneFn done) {
  if (!options_.durable) {
    HANDLE rm;
    NTSTATUS s = CreateResourceManager(*kernel_, options_.rm_id, RESOURCE_MANAGER_VOLATILE, tm_,
                                       options_.description, &rm);
    if (NT_SUCCESS(s)) {
      rm_ = rm;
      Arm(alive_);
    }
    return Finish(std::move(done), s, "");
  }
  std::weak_ptr<bool> alive = alive_;
  log_->Open([this, alive, replay = std::move(replay), done = std::move(done)](
                 absl::StatusOr<log::RecoveredLog> recovered) mutable {
    if (Alive(alive)) OnLogOpened(std::move(recovered), std::move(replay), std::move(done));
  });
}

void RmClient::OnLogOpened(absl::StatusOr<log::RecoveredLog> recovered, ReplayFn replay, DoneFn done) {
  if (recovered.ok()) {
    replay(*recovered);
    return Register(std::move(done));
  }
  if (!absl::IsNotFound(recovered.status())) {
    return Finish(std::move(done), STATUS_LOG_CORRUPTION_DETECTED, std::string(recovered.status().message()));
  }
  // A blank disk: a new RM. Format, write an empty restart area, register.
  std::weak_ptr<bool> alive = alive_;
  log_->Format([this, alive, replay = std::move(replay), done = std::move(done)](absl::Status status) mutable {
    if (!Alive(alive)) return;
    if (!status.ok()) return Finish(std::move(done), STATUS_UNEXPECTED_IO_ERROR, std::string(status.message()));
    log_->WriteRestartArea({}, 0, [this, alive, replay = std::move(replay), done = std::move(done)](
                                      absl::Status st) mutable {
      if (!Alive(alive)) return;
      if (!st.ok()) return Finish(std::move(done), STATUS_UNEXPECTED_IO_ERROR, std::string(st.message()));
      replay(log::RecoveredLog{});
      Register(std::move(done));
    });
  });
}

void RmClient::Register(DoneFn done) {
  HANDLE rm;
  NTSTATUS s = OpenResourceManager(*kernel_, tm_, options_.rm_id, &rm);
  if (s == STATUS_RESOURCEMANAGER_NOT_FOUND) {
    s = CreateResourceManager(*kernel_, options_.rm_id, 0, tm_, options_.description, &rm);
  }
  if (NT_SUCCESS(s)) {
    rm_ = rm;
    Arm(alive_);
    s = RecoverResourceManager(*kernel_, rm_);
  }
  Finish(std::move(done), s, "");
}

// The callbacks below capture the liveness guard by constructing it in the
// capture (one weak count increment), not by copying a local (two, and a
// decrement when the local goes). A wait hands its guard on to the next one
// (OnNotification re-arms from inside the wait being answered, which is
// destroyed right after): no increment and decrement per notification.
inline void RmClient::Arm(std::weak_ptr<bool> alive) {
  GetNotificationResourceManagerAsync(*kernel_, rm_, sim::kTimeNever,
                                      [this, alive = std::move(alive)](NTSTATUS status,
                                                                       const TRANSACTION_NOTIFICATION& n) mutable {
                                        if (Alive(alive)) OnNotification(status, n, alive);
                                      });
}

inline void RmClient::LaterHandleNext() {
  if (chain_ == 0) [[unlikely]] InternChain();
  host_->AfterInChain(options_.response_delay_ns, chain_, [alive = std::weak_ptr<bool>(alive_), this] {
    if (Alive(alive)) HandleNext();
  });
}

void RmClient::OnNotification(NTSTATUS status, const TRANSACTION_NOTIFICATION& n, std::weak_ptr<bool>& alive) {
  if (status != STATUS_SUCCESS) return;  // the RM handle went away
  Arm(std::move(alive));
  // Emptied (capacity kept) once drained, here rather than in HandleNext:
  // HandleNext's handler reads its notification in place.
  if (inbox_.begin() + static_cast<std::ptrdiff_t>(inbox_head_) == inbox_.end()) {  // no division by the size
    inbox_.clear();
    inbox_head_ = 0;
  } else if (inbox_head_ > 32 && 2 * inbox_head_ > inbox_.size()) {
    inbox_.erase(inbox_.begin(), inbox_.begin() + static_cast<std::ptrdiff_t>(inbox_head_));
    inbox_head_ = 0;
  }
  inbox_.push_back(n);
  LaterHandleNext();
}

void RmClient::HandleNext() {
  KTM_ASSERT(inbox_.begin() + static_cast<std::ptrdiff_t>(inbox_head_) < inbox_.end(),  // no division by the size
             "a notification handler event without a notification");
  // In place, not copied out: a notification is delivered only by a
  // scheduler event of its own (OnNotification), never while a handler
  // runs, so inbox_ stays as it is until the handler returns; nothing here
  // touches inbox_ after it (the handler may end the client's life).
  handler_(inbox_[inbox_head_++]);
}

void RmClient::InternChain() {
  // The chain the kernel delivers this RM's notifications in: the RM's
  // "thread" for PCT. Interned on first use (chains are numbered in first-use order).
  chain_ = host_->Chain("rm/" + std::string(options_.rm_id.Short()));
}

void RmClient::Later(std::function<void()> fn) {
  if (chain_ == 0) InternChain();
  host_->AfterInChain(options_.response_delay_ns, chain_, [alive = std::weak_ptr<bool>(alive_), fn = std::move(fn)] {
    if (Alive(alive)) fn();
  });
}

}  // namespace ktm
