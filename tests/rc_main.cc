// main() for property tests: runs 1000 RapidCheck cases per property unless
// RC_PARAMS says otherwise (RC_PARAMS="max_success=10000" raises it; any
// RC_PARAMS, e.g. a reproduce= string, is left alone).
#include <cstdlib>

#include "gtest/gtest.h"

int main(int argc, char** argv) {
  if (std::getenv("RC_PARAMS") == nullptr) setenv("RC_PARAMS", "max_success=1000", 0);
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
