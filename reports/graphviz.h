// Graphviz rendering for the reports: DOT text in, SVG text out, through the
// Graphviz library (libgvc + libcgraph: agmemread, gvLayout "dot",
// gvRenderData "svg"), so no `dot` program needs to be installed.
//
// Contract: RenderSvg is safe to call from several threads (Graphviz keeps
// global state, so calls are serialised by one mutex); a DOT syntax error or
// a layout failure comes back as kInvalidArgument / kInternal with
// Graphviz's own message, never on stderr. The Graphviz context is created
// once and kept for the life of the process (the plugins it loads are
// process-wide anyway; LeakSanitizer would report some of their allocations:
// graphviz.cc gives it the suppressions, as tests/lsan.supp does).
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace reports {

// Lays out `dot` with the "dot" engine and renders it as SVG.
absl::StatusOr<std::string> RenderSvg(const std::string& dot);

// A DOT double-quoted string for `text` ("..." with '"' and '\' escaped and
// line breaks as \n, which Graphviz centres; control characters dropped).
std::string DotQuote(const std::string& text);

}  // namespace reports
