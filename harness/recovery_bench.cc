// Recovery bench implementation: building a volume on a TxfTxrRig, the crash
// and the timed restart, the parallel driver and the two renderers. See
// recovery_bench.h for the contract; everything is simulated time.
#include "harness/recovery_bench.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "harness/markup.h"
#include "harness/txf_txr_rig.h"
#include "ktm/rm_base.h"
#include "ktm/storage/page_store.h"
#include "sim/trace.h"

namespace harness {
namespace {

constexpr uint64_t kSectorBytes = 512;

// The committed state of the case's RM, for the before / after comparison.
struct Committed {
  std::map<std::string, std::string> records;
  size_t names = 0;  // files (TxF) or keys (TxR)
  bool operator==(const Committed&) const = default;
};

Committed CommittedOf(TxfTxrRig& rig, RecoveryRmKind kind) {
  if (kind == RecoveryRmKind::kTxf) {
    Committed c{rig.txf().committed(), 0};
    c.names = c.records.size();
    return c;
  }
  return Committed{rig.txr().committed(), rig.txr().committed_keys().size()};
}

ktm::RmBase& RmOf(TxfTxrRig& rig, RecoveryRmKind kind) {
  if (kind == RecoveryRmKind::kTxf) return rig.txf();
  return rig.txr();
}

// Adds name i to the volume inside transaction tx; the first failing call's status.
ktm::NTSTATUS AddName(TxfTxrRig& rig, RecoveryRmKind kind, uint32_t i, ktm::HANDLE tx, std::string* what) {
  ktm::NTSTATUS s = ktm::STATUS_SUCCESS;
  ktm::HANDLE h = ktm::INVALID_HANDLE_VALUE;
  if (kind == RecoveryRmKind::kTxf) {
    *what = "CreateFileTransacted";
    s = rig.txf().CreateFileTransacted(absl::StrCat("\\file", i), ktm::txf::GENERIC_WRITE, ktm::txf::CREATE_NEW, tx, &h);
    if (s != ktm::STATUS_SUCCESS) return s;
    *what = "WriteFile";
    s = rig.txf().WriteFile(h, 0, absl::StrCat("contents number ", i));
    if (s != ktm::STATUS_SUCCESS) return s;
    *what = "CloseFileHandle";
    return rig.txf().CloseFileHandle(h);
  }
  *what = "RegCreateKeyTransacted";
  s = rig.txr().RegCreateKeyTransacted(ktm::txr::HKEY_CURRENT_USER, absl::StrCat("K", i), 0,
                                       ktm::txr::KEY_ALL_ACCESS, &h, nullptr, tx);
  if (s != ktm::STATUS_SUCCESS) return s;
  *what = "RegSetValueEx";
  s = rig.txr().RegSetValueEx(h, "v", ktm::txr::REG_SZ, ktm::txr::RegSz(absl::StrCat("value ", i)));
  if (s != ktm::STATUS_SUCCESS) return s;
  *what = "RegCloseKey";
  return rig.txr().RegCloseKey(h);
}

// A paged TxF or TxR RM answers a call on a name it has not read in with
// STATUS_PENDING (ktm/txf/txf_rm.h, ktm/txr/txr_rm.h): names [first, end)
// are read in (a page read each on a miss) before the transaction that adds
// them; "" or why not.
std::string FetchNames(TxfTxrRig& rig, RecoveryRmKind kind, uint32_t first, uint32_t end) {
  uint32_t fetched = 0;
  ktm::NTSTATUS failed = ktm::STATUS_SUCCESS;
  auto one = [&fetched, &failed](ktm::NTSTATUS s) {
    ++fetched;
    if (s != ktm::STATUS_SUCCESS) failed = s;
  };
  for (uint32_t i = first; i < end; ++i) {
    if (kind == RecoveryRmKind::kTxf) rig.txf().Fetch(absl::StrCat("\\file", i), one);
    else rig.txr().Fetch(absl::StrCat("HKCU\\K", i), false, one);
  }
  if (fetched < end - first) rig.Settle();
  if (fetched < end - first) return absl::StrCat("reading names ", first, "-", end - 1, " in did not finish");
  if (failed == ktm::STATUS_SUCCESS) return "";
  return absl::StrCat("reading names ", first, "-", end - 1, " in: ", ktm::StatusName(failed));
}

// Commits the volume, names_per_transaction names at a time; "" or why not.
std::string BuildVolume(TxfTxrRig& rig, RecoveryRmKind kind, uint32_t volume, uint32_t per_transaction) {
  for (uint32_t first = 0; first < volume; first += per_transaction) {
    const uint32_t end = std::min(volume, first + per_transaction);
    if (std::string failure = FetchNames(rig, kind, first, end); !failure.empty()) return failure;
    ktm::HANDLE tx = rig.Begin();
    if (!rig.first_failure().empty()) return rig.first_failure();
    for (uint32_t i = first; i < end; ++i) {
      std::string what;
      if (ktm::NTSTATUS s = AddName(rig, kind, i, tx, &what); s != ktm::STATUS_SUCCESS) {
        (void)rig.Rollback(tx);
        return absl::StrCat(what, " of name ", i, ": ", ktm::StatusName(s));
      }
    }
    if (ktm::NTSTATUS s = rig.Commit(tx); s != ktm::STATUS_SUCCESS) {
      return absl::StrCat("commit of names ", first, "-", end - 1, ": ", ktm::StatusName(s));
    }
  }
  return "";
}

TxfTxrRigConfig RigConfig(const sim::DiskOptions& tm_log_disk, const sim::DiskOptions& rm_disk,
                          const RecoveryCase& kase, uint64_t flush_log_bytes, const RecoveryBenchOptions& options) {
  TxfTxrRigConfig config;
  config.kv = false;
  config.txf = kase.kind == RecoveryRmKind::kTxf;
  config.txr = kase.kind == RecoveryRmKind::kTxr;
  config.disk_sectors = options.disk_bytes / kSectorBytes;
  config.tm_log_disk = tm_log_disk;
  config.rm_disk = rm_disk;
  config.tm_log_disk->sector_size = config.rm_disk->sector_size = kSectorBytes;
  // Never: a threshold past the whole RM log, so no flush ever starts.
  config.paged_flush_log_bytes = flush_log_bytes == 0 ? options.disk_bytes : flush_log_bytes;
  config.keep_trace_events = false;
  return config;
}

std::string FlushLabel(uint64_t flush_log_bytes) {
  if (flush_log_bytes == 0) return "never";
  if (flush_log_bytes % 1024 == 0) return absl::StrCat(flush_log_bytes / 1024, " KiB");
  return absl::StrCat(flush_log_bytes, " B");
}

std::string Ms(sim::TimeNs ns) { return absl::StrFormat("%.1f", static_cast<double>(ns) / 1e6); }

}  // namespace

const std::vector<RecoveryCase>& DefaultRecoveryCases() {
  static const std::vector<RecoveryCase> cases = {
      {"txf", "TxF", "files", RecoveryRmKind::kTxf},
      {"txr", "TxR", "keys", RecoveryRmKind::kTxr},
  };
  return cases;
}

absl::Status ValidateRecoveryOptions(const RecoveryBenchOptions& options) {
  if (options.cases.empty() || options.volumes.empty() || options.flush_log_bytes.empty()) {
    return absl::InvalidArgumentError("the recovery bench needs at least one case, volume and flush interval");
  }
  for (uint32_t v : options.volumes) {
    if (v < 1 || v > kRecoveryVolumeMax) {
      return absl::InvalidArgumentError(absl::StrCat("recovery volume ", v, " is not in [1, ", kRecoveryVolumeMax, "]"));
    }
  }
  if (options.names_per_transaction < 1) return absl::InvalidArgumentError("names_per_transaction must be at least 1");
  if (options.disk_bytes < ktm::kPagedDiskBytesMin || options.disk_bytes % kSectorBytes != 0) {
    return absl::InvalidArgumentError(absl::StrCat("recovery disk_bytes ", options.disk_bytes, ": need at least ",
                                                   ktm::kPagedDiskBytesMin, " and a multiple of ", kSectorBytes));
  }
  return absl::OkStatus();
}

RecoveryRow RunRecoveryCase(const sim::DiskOptions& tm_log_disk, const sim::DiskOptions& rm_disk,
                            const RecoveryCase& kase, uint32_t volume, uint64_t flush_log_bytes,
                            const RecoveryBenchOptions& options) {
  RecoveryRow row;
  row.kase = kase;
  row.volume = volume;
  row.flush_log_bytes = flush_log_bytes;
  TxfTxrRig rig(options.seed, RigConfig(tm_log_disk, rm_disk, kase, flush_log_bytes, options));
  // What an empty RM already holds (TxR: its predefined root keys) is not part of the volume.
  const size_t names_empty = rig.ready() ? CommittedOf(rig, kase.kind).names : 0;
  row.failure = rig.ready() ? BuildVolume(rig, kase.kind, volume, options.names_per_transaction)
                            : absl::StrCat("first start: ", rig.first_failure());
  if (row.failure.empty()) {
    const Committed before = CommittedOf(rig, kase.kind);
    rig.host()->Crash(options.crash_seed);
    rig.host()->Restart();
    const sim::TimeNs restart = rig.world().scheduler().Now();
    rig.Boot();
    if (!rig.ready()) {
      row.failure = absl::StrCat("restart: ", rig.first_failure());
    } else {
      const Committed after = CommittedOf(rig, kase.kind);
      row.records = after.names - std::min(after.names, names_empty);
      row.tm_recovered_ns = rig.tm_recovered_ns() - restart;
      row.online_ns = rig.online_ns() - restart;
      const ktm::storage::PageStore* store = RmOf(rig, kase.kind).store();
      if (store == nullptr) {
        row.failure = "the RM is not on paged storage";
      } else {
        row.page_reads = store->stats().page_reads;
        row.redo_records = store->stats().redo_records_scanned;
        row.pages_repaired = store->stats().pages_repaired;
      }
      if (before.names != names_empty + volume) {
        row.failure = absl::StrCat("committed ", before.names - names_empty, " names, not ", volume);
      } else if (!(after == before)) {
        row.failure = absl::StrCat("recovered ", row.records, " names (", after.records.size(),
                                   " records) differing from the ", volume, " committed");
      }
    }
  }
  row.passed = row.failure.empty();
  row.digest = rig.world().trace().digest();
  return row;
}

bool RecoveryReport::passed() const {
  return std::all_of(rows.begin(), rows.end(), [](const RecoveryRow& r) { return r.passed; });
}

absl::StatusOr<RecoveryReport> RunRecoveryBench(const sim::DiskOptions& tm_log_disk, const sim::DiskOptions& rm_disk,
                                                const RecoveryBenchOptions& options) {
  if (absl::Status valid = ValidateRecoveryOptions(options); !valid.ok()) return valid;
  RecoveryReport report;
  report.names_per_transaction = options.names_per_transaction;
  report.disk_bytes = options.disk_bytes;
  report.seed = options.seed;
  report.crash_seed = options.crash_seed;
  for (const RecoveryCase& kase : options.cases) {
    for (uint32_t volume : options.volumes) {
      for (uint64_t flush : options.flush_log_bytes) {
        RecoveryRow row;
        row.kase = kase;
        row.volume = volume;
        row.flush_log_bytes = flush;
        report.rows.push_back(row);
      }
    }
  }
  // Workers take the next row from a shared counter; each fills its own slot.
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < report.rows.size(); i = next++) {
      RecoveryRow& row = report.rows[i];
      row = RunRecoveryCase(tm_log_disk, rm_disk, row.kase, row.volume, row.flush_log_bytes, options);
    }
  };
  std::vector<std::thread> workers;
  const size_t jobs = std::clamp<size_t>(options.jobs, 1, report.rows.size());
  for (size_t j = 1; j < jobs; ++j) workers.emplace_back(work);
  work();
  for (std::thread& t : workers) t.join();
  return report;
}

std::string RecoveryTableText(const RecoveryReport& report) {
  std::string out = absl::StrFormat(
      "recovery time in simulated time: the RM alone on a %d MiB paged disk, its volume committed %d names per "
      "transaction, crash once idle (seed %d, crash seed %d), restart; flush = RM log between flushes to the store "
      "(never: the volume replays from the RM log); TM ms, online ms: restart -> TM recovered, -> RM online; page "
      "reads, redo: the store's recovery\n",
      report.disk_bytes / (1024 * 1024), report.names_per_transaction, report.seed, report.crash_seed);
  out += absl::StrFormat("%-4s %8s %-5s %9s %7s %9s %10s %7s %8s\n", "rm", "volume", "unit", "flush", "TM ms",
                         "online ms", "page reads", "redo", "repaired");
  for (const RecoveryRow& r : report.rows) {
    absl::StrAppendFormat(&out, "%-4s %8d %-5s %9s %7s %9s %10d %7d %8d\n", r.kase.label, r.volume, r.kase.unit,
                          FlushLabel(r.flush_log_bytes), r.passed ? Ms(r.tm_recovered_ns) : "-",
                          r.passed ? Ms(r.online_ns) : "-", r.page_reads, r.redo_records, r.pages_repaired);
  }
  for (const RecoveryRow& r : report.rows) {
    if (!r.passed) {
      absl::StrAppendFormat(&out, "FAILED recovery: %s, %d %s, flush %s: %s\n", r.kase.label, r.volume, r.kase.unit,
                            FlushLabel(r.flush_log_bytes), r.failure);
    }
  }
  return out;
}

std::string RecoveryJson(const RecoveryReport& report, const std::string& indent) {
  std::vector<std::string> rows;
  for (const RecoveryRow& r : report.rows) {
    rows.push_back(absl::StrCat(
        indent, "  {\"case\": ", JsonQuoted(r.kase.id), ", \"volume\": ", r.volume, ", \"unit\": ",
        JsonQuoted(r.kase.unit), ", \"flush_log_bytes\": ", r.flush_log_bytes, ", \"passed\": ",
        r.passed ? "true" : "false", ", \"failure\": ", JsonQuoted(r.failure), ",\n", indent,
        "   \"records\": ", r.records, ", \"tm_recovered_ns\": ", r.tm_recovered_ns, ", \"online_ns\": ", r.online_ns,
        ", \"page_reads\": ", r.page_reads, ", \"redo_records\": ", r.redo_records, ", \"pages_repaired\": ",
        r.pages_repaired, ", \"digest\": ", JsonQuoted(sim::DigestHex(r.digest)), "}"));
  }
  return absl::StrCat("{\"disk_bytes\": ", report.disk_bytes, ", \"names_per_transaction\": ",
                      report.names_per_transaction, ", \"seed\": ", report.seed, ", \"crash_seed\": ",
                      report.crash_seed, ", \"passed\": ", report.passed() ? "true" : "false", ",\n", indent,
                      " \"rows\": [\n", absl::StrJoin(rows, ",\n"), "\n", indent, " ]}");
}

}  // namespace harness
