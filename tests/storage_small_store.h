// A small PageStore layout for tests of ktm/storage: a 256 KiB log at offset
// 0 and data pages of 1 KiB after it, a few frames, frequent checkpoints.
#pragma once

#include <cstdint>

#include "ktm/storage/page_store.h"
#include "sim/time.h"

namespace ktm::storage {

inline StorageOptions SmallStore(uint32_t page_count = 16, uint32_t frames_max = 6) {
  StorageOptions options;
  options.log.disk_offset = 0;
  options.log.size_bytes = 256 * 1024;
  options.log.record_payload_max = 16 * 1024;
  options.log.block_bytes_max = 32 * 1024;
  options.data_offset = 256 * 1024;
  options.page_bytes = 1024;
  options.page_count = page_count;
  options.frames_max = frames_max;
  options.page_writes_in_flight_max = 2;
  options.writer_interval_ns = 300 * sim::kMicrosecond;
  options.checkpoint_every_commits = 4;
  return options;
}

}  // namespace ktm::storage
