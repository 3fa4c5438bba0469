// Scenario -> TOML: the inverse of the loader (harness/scenario_toml.h), used
// to write the minimal scenario the shrinker finds and a failure folder's own
// copy of the scenario it ran.
//
// Contract: for every Scenario s that passes Validate(),
// LoadScenarioString(ScenarioToToml(s), path) succeeds and yields s again,
// field for field, except `file` (which the loader sets to `path`). Every
// field is written explicitly, defaults included, so the text does not
// depend on the loader's defaults staying the same; times use the largest
// unit that holds them exactly ("think_us = 100"), floats the shortest text
// that reads back to the same double. Canonical forms: a fixed latency is
// written by its min_ns (the loader sets max and mean from it), a uniform one
// by min and max (its mean_ns, which sampling ignores, is not in the format:
// the loader sets it to min_ns), probability
// keys only with mode "probabilities" (the loader rejects them otherwise),
// `schedule` inline (never schedule_file) and only when it is not empty.
#pragma once

#include <string>

#include "harness/scenario.h"

namespace harness {

// The TOML text of `scenario`. `header`, when not empty, is written first as
// comment lines ("# " prepended to each of its lines).
std::string ScenarioToToml(const Scenario& scenario, const std::string& header = "");

// A TOML basic string literal for `text`, quotes included, with '"', '\\'
// and control characters escaped (UTF-8 is passed through unchanged).
std::string TomlString(const std::string& text);

}  // namespace harness
