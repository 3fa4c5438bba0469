// fuzz_check.h: the one assertion the fuzz targets use. A property a target
// states about the code under test (a round trip, a contract between two
// units) that does not hold aborts, so libFuzzer records the input as a
// crash. Always on: the targets are built without NDEBUG.
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(condition, what)                                            \
  do {                                                                         \
    if (!(condition)) {                                                        \
      std::fprintf(stderr, "FUZZ_CHECK failed: %s (%s)\n", #condition, what); \
      std::abort();                                                            \
    }                                                                          \
  } while (0)
