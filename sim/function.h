// InlineFunction: a move-only type-erased callable that keeps captures of up
// to kInlineBytes inside itself, so the simulator's hot path (scheduler
// events, disk completions, log callbacks) allocates nothing per event.
//
// Contract: constructible from any callable with the signature (lambdas,
// function pointers, std::function: an empty std::function or a null pointer
// gives an empty InlineFunction), so APIs that took std::function stay source
// compatible. A callable larger than kInlineBytes, over-aligned, or whose
// move may throw is kept on the heap (correct, just not free). Calling an
// empty InlineFunction is a bug and aborts. operator() is const like
// std::function's (the stored callable may still mutate its captures).
#pragma once

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace sim {

// kAlign: the inline storage's alignment (a callable needing more goes to the
// heap); below max_align_t it lets an InlineFunction nest inside another's
// captures without padding (ktm::NotificationDone: 8).
template <class Signature, size_t kInlineBytes, size_t kAlign = alignof(std::max_align_t)>
class InlineFunction;

template <class R, class... Args, size_t kInlineBytes, size_t kAlign>
class InlineFunction<R(Args...), kInlineBytes, kAlign> {
  static_assert(kAlign >= alignof(void*) && kAlign <= alignof(std::max_align_t) && (kAlign & (kAlign - 1)) == 0);
  template <class D>
  static constexpr bool kFitsInline = sizeof(D) <= kInlineBytes && alignof(D) <= kAlign &&
                                      std::is_nothrow_move_constructible_v<D>;

 public:
  static constexpr size_t inline_bytes = kInlineBytes;

  InlineFunction() noexcept = default;
  InlineFunction(std::nullptr_t) noexcept {}  // NOLINT: implicit like std::function's

  template <class F, class D = std::decay_t<F>,
            class = std::enable_if_t<!std::is_same_v<D, InlineFunction> && std::is_invocable_r_v<R, D&, Args...>>>
  InlineFunction(F&& f) {  // NOLINT: implicit like std::function's
    Init(std::forward<F>(f));
  }

  // Replaces the callable with f, constructed in place (no temporary
  // InlineFunction, no indirect move): what a container of callbacks (the
  // scheduler's slots) uses to take a lambda straight from its caller. An
  // InlineFunction given to it is moved in.
  template <class F>
  [[gnu::always_inline]] void Emplace(F&& f) {
    if constexpr (std::is_same_v<std::decay_t<F>, InlineFunction>) {
      *this = std::move(f);
    } else {
      reset();
      EmplaceIntoEmpty(std::forward<F>(f));
    }
  }
  // Emplace into an InlineFunction that is empty (a container's free slot):
  // no test for a callable to destroy first.
  template <class F>
  [[gnu::always_inline]] void EmplaceIntoEmpty(F&& f) {
    using D = std::decay_t<F>;
    if constexpr (std::is_same_v<D, InlineFunction>) {
      TakeFrom(f);
    } else {
      static_assert(std::is_invocable_r_v<R, D&, Args...>, "InlineFunction: callable of the wrong signature");
      Init(std::forward<F>(f));
    }
  }

  InlineFunction(InlineFunction&& other) noexcept { TakeFrom(other); }
  InlineFunction& operator=(InlineFunction&& other) noexcept {
    if (this != &other) {
      reset();
      TakeFrom(other);
    }
    return *this;
  }
  InlineFunction& operator=(std::nullptr_t) noexcept {
    reset();
    return *this;
  }
  InlineFunction(const InlineFunction&) = delete;
  InlineFunction& operator=(const InlineFunction&) = delete;
  ~InlineFunction() { reset(); }

  explicit operator bool() const noexcept { return ops_ != nullptr; }
  // True when the callable lives inside the object (tests check the engine's
  // captures fit).
  bool is_inline() const noexcept { return ops_ != nullptr && ops_->is_inline; }

  R operator()(Args... args) const {
    if (ops_ == nullptr) {
      std::fprintf(stderr, "sim::InlineFunction: called while empty\n");
      std::abort();
    }
    return ops_->invoke(const_cast<unsigned char*>(storage_), std::forward<Args>(args)...);
  }

  void reset() noexcept {
    if (ops_ != nullptr) {
      ops_->destroy(storage_);
      ops_ = nullptr;
    }
  }

  // Calls the callable once and destroys it (one indirect call, not two):
  // afterwards the InlineFunction is empty. For one-shot callbacks (the
  // scheduler's events). Empty: a bug, aborts.
  R InvokeOnce(Args... args) {
    if (ops_ == nullptr) {
      std::fprintf(stderr, "sim::InlineFunction: called while empty\n");
      std::abort();
    }
    const Ops* ops = ops_;
    ops_ = nullptr;
    return ops->invoke_once(storage_, std::forward<Args>(args)...);
  }

 private:
  // Moves other's callable into this empty InlineFunction; other is left empty.
  void TakeFrom(InlineFunction& other) noexcept {
    ops_ = other.ops_;
    if (ops_ != nullptr) {
      ops_->move(storage_, other.storage_);
      other.ops_ = nullptr;
    }
  }
  template <class F>
  [[gnu::always_inline]] void Init(F&& f) {
    using D = std::decay_t<F>;
    if constexpr (std::is_pointer_v<D> || std::is_member_pointer_v<D>) {
      if (f == nullptr) return;
    } else if constexpr (requires(const D& d) { d == nullptr; }) {
      if (f == nullptr) return;  // an empty std::function
    }
    if constexpr (kFitsInline<D>) {
      ::new (static_cast<void*>(storage_)) D(std::forward<F>(f));
      ops_ = &kInlineOps<D>;
    } else {
      *reinterpret_cast<D**>(storage_) = new D(std::forward<F>(f));
      ops_ = &kHeapOps<D>;
    }
  }

  struct Ops {
    R (*invoke)(void* storage, Args&&... args);
    // invoke, then destroy (also when the call throws).
    R (*invoke_once)(void* storage, Args&&... args);
    void (*move)(void* to, void* from) noexcept;  // move-constructs `to`, destroys `from`
    void (*destroy)(void* storage) noexcept;
    bool is_inline;
  };
  template <class D>
  static constexpr Ops kInlineOps = {
      [](void* s, Args&&... args) -> R { return std::invoke(*static_cast<D*>(s), std::forward<Args>(args)...); },
      [](void* s, Args&&... args) -> R {
        struct Destroy {
          D* d;
          ~Destroy() { std::destroy_at(d); }  // clang rejects d->~D() for D a lambda type here
        } destroy{static_cast<D*>(s)};
        return std::invoke(*destroy.d, std::forward<Args>(args)...);
      },
      [](void* to, void* from) noexcept {
        ::new (to) D(std::move(*static_cast<D*>(from)));
        static_cast<D*>(from)->~D();
      },
      [](void* s) noexcept { static_cast<D*>(s)->~D(); },
      true,
  };
  template <class D>
  static constexpr Ops kHeapOps = {
      [](void* s, Args&&... args) -> R { return std::invoke(**static_cast<D**>(s), std::forward<Args>(args)...); },
      [](void* s, Args&&... args) -> R {
        struct Delete {
          D* d;
          ~Delete() { delete d; }
        } destroy{*static_cast<D**>(s)};
        return std::invoke(*destroy.d, std::forward<Args>(args)...);
      },
      [](void* to, void* from) noexcept { *static_cast<D**>(to) = *static_cast<D**>(from); },
      [](void* s) noexcept { delete *static_cast<D**>(s); },
      false,
  };

  alignas(kAlign) unsigned char storage_[kInlineBytes];
  const Ops* ops_ = nullptr;
};

// A scheduler event's callback: 120 bytes inline (128 with the table pointer)
// hold the engine's captures: a kernel or RM lambda with a weak_ptr guard, a
// shared_ptr or two and a few ids, or a std::function handed in by a caller
// (the largest hot one: the kernel's guard, an RM's waiter std::function and
// the 72-byte TRANSACTION_NOTIFICATION it delivers).
using Callback = InlineFunction<void(), 120>;

}  // namespace sim
