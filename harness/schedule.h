// Schedule: a scenario's tie-breaking strategy as the simulator's options
// (sim::ScheduleOptions; docs/scheduling.md).
#pragma once

#include "harness/scenario.h"
#include "sim/scheduler.h"

namespace harness {

// The scenario's schedule_strategy and schedule_pct_depth (a strategy name
// Validate rejects is a programmer error here: it asserts).
sim::ScheduleOptions ScheduleOptionsFor(const Scenario& scenario);

}  // namespace harness
