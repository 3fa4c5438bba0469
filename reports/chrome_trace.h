// trace.json: a run's trace in the Chrome trace-event format (the JSON array
// form), which Perfetto (ui.perfetto.dev) and chrome://tracing open.
//
// Layout: one process per host (pid = host id, named after the host; the
// world's events, such as "faults.stop", in a last process "world"), and in
// it one thread per lane: tid 1 the client, 2 the TM, 3.. the host's RMs in
// scenario order, then a thread per transaction ("tx t5", 1000 + N) holding
// its lifetime (ph "X", from tx.create to its last state change) with its
// states nested inside, and a thread per enlistment ("t5 @ kv1") holding
// its states as slices. Everything else is an instant event (ph "i") on its
// lane with the trace fields as args, crashes and restarts process-wide.
// Notifications TM -> RM and datagrams sender -> receiver are flow arrows
// (ph "s" / "f" between two 1 us slices). ts is in microseconds of virtual
// time (ns / 1000). Events a violation names carry "VIOLATION V1 <rule>" in
// their name, the violation in args, and cname "terrible" (red).
//
// Limit: the first kChromeTraceRecordsMax trace records are converted (the
// rest are counted in a last event "truncated", args.records_not_converted):
// about 300 bytes a record, so trace.json stays under about 3 MB per failure
// folder. trace.txt always holds the whole trace.
#pragma once

#include <cstddef>

#include "nlohmann/json.hpp"
#include "reports/trace_model.h"

namespace reports {

inline constexpr size_t kChromeTraceRecordsMax = 8'000;

nlohmann::ordered_json ChromeTraceJson(const TraceModel& model);

}  // namespace reports
