// ReturnFreedMemory: gives the heap memory a finished run freed back to the
// kernel (glibc's malloc_trim). glibc keeps freed heap and, once a large
// block was freed, serves large blocks from the heap too, so without this a
// process's resident size after a run is its largest run's peak and the next
// run's peak comes on top of the pieces (`ktmsim run`'s workers between runs,
// soak_bench before each run). A no-op without glibc and under
// AddressSanitizer, whose allocator is not glibc's: malloc_trim would walk
// glibc arenas ASan never set up (a SEGV in mtrim).
#pragma once

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

namespace harness {

inline void ReturnFreedMemory() {
#if defined(__GLIBC__) && !defined(KTMSIM_ASAN)
  malloc_trim(0);
#endif
}

}  // namespace harness
