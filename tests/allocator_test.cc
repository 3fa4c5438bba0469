// The allocator every program of ours runs on (CMakeLists.txt,
// ktmsim_link_allocator): with KTMSIM_MIMALLOC (the default, off under the
// sanitizers) malloc, operator new and the standard containers' memory must
// come from mimalloc's heap. A program linked without it (the link line lost,
// or libc's malloc bound first) fails here. Built only when the programs link
// mimalloc (tests/CMakeLists.txt).
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <mimalloc.h>

namespace {

TEST(Allocator, MallocNewAndContainersAllocateFromMimalloc) {
  void* raw = std::malloc(64);
  ASSERT_NE(raw, nullptr);
  EXPECT_TRUE(mi_is_in_heap_region(raw)) << "malloc is not mimalloc's";
  std::free(raw);
  auto object = std::make_unique<int>(7);
  EXPECT_TRUE(mi_is_in_heap_region(object.get())) << "operator new is not mimalloc's";
  std::vector<uint64_t> big(1 << 20);  // 8 MiB: past every small-object path
  EXPECT_TRUE(mi_is_in_heap_region(big.data())) << "a large allocation is not mimalloc's";
  std::string text(1000, 'x');
  EXPECT_TRUE(mi_is_in_heap_region(text.data()));
}

TEST(Allocator, AStackObjectIsNotInMimallocsHeap) {
  // The check above means something: memory mimalloc did not give out is
  // not reported as its own.
  int on_stack = 0;
  EXPECT_FALSE(mi_is_in_heap_region(&on_stack));
}

}  // namespace
