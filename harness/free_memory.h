// ReturnFreedMemory: gives the heap memory a finished run freed back to the
// kernel: mimalloc's mi_collect(true) when the program runs on mimalloc (our
// programs do, CMakeLists.txt KTMSIM_MIMALLOC; the symbol is weak, so a
// program of an SDK user without mimalloc links too), else glibc's
// malloc_trim. glibc keeps freed heap and, once a large
// block was freed, serves large blocks from the heap too, so without this a
// process's resident size after a run is its largest run's peak and the next
// run's peak comes on top of the pieces (`ktmsim run`'s workers between runs,
// soak_bench before each run). A no-op without glibc and under
// AddressSanitizer, whose allocator is not glibc's: malloc_trim would walk
// glibc arenas ASan never set up (a SEGV in mtrim).
#pragma once

#include <cstddef>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#if defined(__SANITIZE_ADDRESS__)
#define KTMSIM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KTMSIM_ASAN 1
#endif
#endif

#if !defined(KTMSIM_ASAN)
// mimalloc's, when the process has it (mimalloc.h is not included: the SDK's
// headers must not need it).
extern "C" [[gnu::weak]] void mi_collect(bool force) noexcept;
extern "C" [[gnu::weak]] void mi_process_info(size_t* elapsed_msecs, size_t* user_msecs, size_t* system_msecs,
                                              size_t* current_rss, size_t* peak_rss, size_t* current_commit,
                                              size_t* peak_commit, size_t* page_faults) noexcept;
#endif

namespace harness {

inline void ReturnFreedMemory() {
#if !defined(KTMSIM_ASAN)
  if (mi_collect != nullptr) {
    mi_collect(true);
    return;
  }
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
#endif
}

// ReturnFreedMemory once mimalloc holds more than `kept_bytes` committed;
// below that the freed pages stay for the next run, which reuses them (a
// default-suite run never commits beyond mimalloc's first 32 MiB arena, and
// returning its pages after every run, to fault them in again, cost 1% of a
// one-job suite's CPU). Without mimalloc: ReturnFreedMemory.
inline void ReturnFreedMemoryOver(size_t kept_bytes) {
#if !defined(KTMSIM_ASAN)
  if (mi_collect != nullptr && mi_process_info != nullptr) {
    size_t elapsed, user, system, rss, peak_rss, commit, peak_commit, faults;
    mi_process_info(&elapsed, &user, &system, &rss, &peak_rss, &commit, &peak_commit, &faults);
    if (commit <= kept_bytes) return;
  }
#endif
  ReturnFreedMemory();
}

}  // namespace harness
