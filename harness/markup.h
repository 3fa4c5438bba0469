// Escaping text for HTML, XML and JSON, the one copy every report writer uses
// (index.html, coverage.html fragments, the conform JUnit XML, SVG labels, bench.json).
//
// MarkupEscape makes text safe both as element content and inside a
// double- or single-quoted attribute, in HTML5 and in XML 1.0: the five
// markup characters become character references, and control characters
// that XML 1.0 forbids (below 0x20 except tab, LF and CR; and DEL) become
// '?', so a run's message can never make a report unparsable.
//
// JsonQuoted is the same for JSON (the bench's bench.json): the text as a
// JSON string literal, quotes included; '"' and '\\' escaped, control
// characters as \u00XX.
#pragma once

#include <string>
#include <string_view>

namespace harness {

std::string MarkupEscape(std::string_view text);
std::string JsonQuoted(std::string_view text);

}  // namespace harness
