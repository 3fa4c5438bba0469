// TxfTxrRig for the TxF/TxR tests: the harness's rig (harness/txf_txr_rig.h:
// one host, a durable TM, kv / TxF / TxR on their own disks) with every
// failure of the rig's own calls (TM create or recovery, an RM's Start,
// CreateTransaction) reported as a gtest failure.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "harness/txf_txr_rig.h"

namespace ktmtest {

using harness::TxfTxrRigConfig;

class TxfTxrRig : public harness::TxfTxrRig {
 public:
  explicit TxfTxrRig(uint64_t seed, TxfTxrRigConfig config = {})
      : harness::TxfTxrRig(seed, FailingTheTest(std::move(config))) {}

 private:
  static TxfTxrRigConfig FailingTheTest(TxfTxrRigConfig config) {
    config.on_failure = [](const std::string& what, ktm::NTSTATUS status) {
      ADD_FAILURE() << what << ": " << ktm::StatusName(status);
    };
    return config;
  }
};

}  // namespace ktmtest
