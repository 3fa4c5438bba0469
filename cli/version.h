// The ktmsim version: printed by `ktmsim --version`, on the start line of
// `ktmsim run` and recorded in summary.json ("ktmsim": {"version", ...}).
// Raise it with every change of a report format or of the digests.
#pragma once

namespace cli {

inline constexpr char kVersion[] = "0.16.0";

}  // namespace cli
