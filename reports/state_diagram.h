// The state machines of the failing transaction, as Graphviz DOT: states.dot,
// rendered to states.svg.
//
// Two clusters: the enlistment states and the transaction states. In each,
// every transition the run's trace shows for any enlistment (resp.
// transaction) is a thin grey edge: the machine as this run exercised it.
// Over it, the path the focus transaction took ("en.state" events of its
// enlistments, found through "en.create"'s tx field; its own "tx.state"
// events) is drawn with one colour per enlistment, each edge labelled with
// its step number, the RM and the virtual time; a step whose event a
// violation names is red and tagged "V1 rule". Without a focus transaction
// (a run with no violation) only the grey machines are drawn, with a note.
#pragma once

#include <string>

#include "reports/trace_model.h"

namespace reports {

std::string StateDiagramDot(const TraceModel& model);

}  // namespace reports
