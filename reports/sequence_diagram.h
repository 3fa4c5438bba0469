// The space-time (sequence) diagram of a run, as Graphviz DOT: trace.dot,
// rendered to trace.svg (reports/graphviz.h).
//
// One lane (column) per participant: the client and the transaction
// manager (TM) of every host, every resource manager (RM), and "world" for
// the fault plan; virtual time flows downward, one row per drawn event, the
// row's time in the left column. Calls and notifications are arrows between
// lanes (CreateTransaction / Commit client -> TM, notifications TM -> RM,
// enlistments and votes RM -> TM, datagrams from sender to receiver);
// forced log writes and flushes are cylinders, crashes black and restarts
// green octagons across the lanes of their host, state changes blue boxes.
// The events that show a violation are red, tagged "V1 rule".
//
// A limit: at most `events_max` rows. With a violating transaction the
// candidates are its own events (by its engine ids), the crashes, restarts
// and other faults, and the forced writes while it ran; the rows kept are
// the violating events and those nearest to them. Without one, the first
// events of the run. Left-out stretches become a "⋮ N events not drawn" row
// and the title says how many of how many events are drawn (trace.txt has
// them all).
#pragma once

#include <cstddef>
#include <string>

#include "reports/trace_model.h"

namespace reports {

struct SequenceOptions {
  size_t events_max = 150;  // rows drawn (limit), not counting "not drawn" rows
};

std::string SequenceDiagramDot(const TraceModel& model, const SequenceOptions& options = {});

}  // namespace reports
