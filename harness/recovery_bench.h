// Recovery bench: simulated time to bring a built-in RM on paged storage
// (ktm/rm_base.h "Paged storage", docs/rm-storage.md) back online after a
// host crash, against the volume it holds and how often it flushes its
// records to its PageStore (issue 22). `ktmsim bench` prints it below the
// commit-latency table, one table per base scenario (harness/latency_bench.h).
//
// One row = one (case, volume, flush interval) run on a TxfTxrRig
// (harness/txf_txr_rig.h): one host, its TM, and the case's RM alone on a
// paged disk (disk_bytes; 16 MiB: 4 MiB RM log, 4 MiB store log, 512 pages of
// 16 KiB). The volume is built `names_per_transaction` names per committed
// transaction (TxF: a file with a short content; TxR: a key with one REG_SZ
// value), the world runs until idle, the host crashes (crash_seed) and
// restarts. Figures: simulated time from the restart to the TM recovered and
// to the RM online (TM recovery, store redo from its checkpoint, loading every
// record from the data pages, RM log replay from its last flush), and the
// store's recovery work (page reads, log records redo looked at, torn pages
// repaired). A flush interval of 0 means never: the whole volume replays from
// the RM log, which works only while the volume fits that log.
//
// Contract: a pure function of (disk latency models, options): simulated time
// only, so the figures are the same at every run and for every `jobs`. A row
// passes when every commit succeeded and the restarted RM holds exactly the
// committed state of before the crash; a row that does not pass says why.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sim/disk.h"
#include "sim/time.h"

namespace harness {

enum class RecoveryRmKind : uint8_t {
  kTxf,  // a TxF volume: files \file<i>
  kTxr,  // a TxR hive: keys HKCU\K<i>, each with one value
};

struct RecoveryCase {
  std::string id;     // stable identifier for JSON: "txf", "txr"
  std::string label;  // for people: "TxF", "TxR"
  std::string unit;   // what the volume counts: "files", "keys"
  RecoveryRmKind kind = RecoveryRmKind::kTxf;
};

// The cases, in table order: TxF (files), TxR (keys).
const std::vector<RecoveryCase>& DefaultRecoveryCases();

inline constexpr uint32_t kRecoveryVolumeMax = 1'000'000;  // names per run

struct RecoveryBenchOptions {
  std::vector<RecoveryCase> cases = DefaultRecoveryCases();
  std::vector<uint32_t> volumes = {1000, 4000, 16000};  // names committed before the crash
  // RM log bytes between flushes to the store (RmOptions::paged_flush_log_bytes); 0: never.
  std::vector<uint64_t> flush_log_bytes = {0, 64 * 1024, 512 * 1024};
  uint32_t names_per_transaction = 100;
  uint64_t disk_bytes = 16ull * 1024 * 1024;  // each RM's paged disk (ktm::kPagedDiskBytesMin or more)
  uint64_t seed = 1;        // the world's seed
  uint64_t crash_seed = 5;  // which volatile writes the crash loses (none are left when it comes)
  uint32_t jobs = 1;        // runs in parallel (the report does not depend on it)
};

// Checks the options: at least one case, volume and flush interval; volumes
// in [1, kRecoveryVolumeMax]; names_per_transaction >= 1; disk_bytes at least
// ktm::kPagedDiskBytesMin and a multiple of 512. kInvalidArgument otherwise.
absl::Status ValidateRecoveryOptions(const RecoveryBenchOptions& options);

struct RecoveryRow {
  RecoveryCase kase;
  uint32_t volume = 0;
  uint64_t flush_log_bytes = 0;  // 0: never
  bool passed = false;
  std::string failure;           // why the row did not pass ("" when it did)
  uint64_t records = 0;          // names the RM held after the restart
  sim::TimeNs tm_recovered_ns = 0;  // restart -> TM recovered
  sim::TimeNs online_ns = 0;        // restart -> the RM online
  uint64_t page_reads = 0;          // by the restarted RM's store: redo and loading the records
  uint64_t redo_records = 0;        // store log records redo looked at
  uint64_t pages_repaired = 0;      // torn or damaged pages rebuilt from their images
  uint64_t digest = 0;              // the run's trace digest
};

// Runs one row on disks of the given latency models (sector counts are the bench's).
RecoveryRow RunRecoveryCase(const sim::DiskOptions& tm_log_disk, const sim::DiskOptions& rm_disk,
                            const RecoveryCase& kase, uint32_t volume, uint64_t flush_log_bytes,
                            const RecoveryBenchOptions& options);

struct RecoveryReport {
  uint32_t names_per_transaction = 0;
  uint64_t disk_bytes = 0, seed = 0, crash_seed = 0;
  std::vector<RecoveryRow> rows;  // case-major, then volume, then flush interval, in options order
  bool passed() const;            // every row passed
};

// Every (case, volume, flush interval) row. Errors: ValidateRecoveryOptions'.
absl::StatusOr<RecoveryReport> RunRecoveryBench(const sim::DiskOptions& tm_log_disk, const sim::DiskOptions& rm_disk,
                                                const RecoveryBenchOptions& options);

// Renderers. Text: a header line (what is measured, the disk, the seeds),
// then a row per run and a FAILED line per row that did not pass. JSON: one
// object (the "recovery" member of a base in bench.json), numbers in
// nanoseconds, no wall-clock figures.
std::string RecoveryTableText(const RecoveryReport& report);
std::string RecoveryJson(const RecoveryReport& report, const std::string& indent);

}  // namespace harness
