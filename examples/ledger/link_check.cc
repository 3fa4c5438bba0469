// ledger_link_check: a program on ktmsim::ktm (static) alone, to check the
// package's link interface; prints the RM transaction phases.
#include <cstdio>

#include "ktm/rm_base.h"

int main() {
  for (size_t i = 0; i < ktm::kRmTxPhaseCount; ++i) {
    std::printf("%s\n", ktm::RmTxPhaseName(static_cast<ktm::RmTxPhase>(i)));
  }
  return ktm::RmTxPhaseTransitionAllowed(ktm::RmTxPhase::kNone, ktm::RmTxPhase::kActive) ? 0 : 1;
}
