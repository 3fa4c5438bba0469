// Schedule: maps the scenario's [schedule] keys to sim::ScheduleOptions.
#include "harness/schedule.h"

#include "absl/strings/str_cat.h"
#include "ktm/assert.h"

namespace harness {

sim::ScheduleOptions ScheduleOptionsFor(const Scenario& scenario) {
  sim::ScheduleOptions options;
  KTM_ASSERT(sim::ParseScheduleStrategy(scenario.schedule_strategy, &options.strategy),
             absl::StrCat("unknown schedule strategy '", scenario.schedule_strategy, "'"));
  options.pct_depth = scenario.schedule_pct_depth;
  return options;
}

}  // namespace harness
