// Scenario TOML pre-scan: refuses, before toml++ sees it, the input that
// drives toml++ 3.3 (Debian 12) into undefined behaviour or a failed
// assertion, so the parser is only ever given text it handles.
//
// Known reaches in toml++ 3.3 (found by libFuzzer on toml::parse itself;
// the inputs are in fuzz/corpus/scenario_loader_fuzz/crash_*):
// - some non-ASCII characters reach TOML_UNREACHABLE in
//   is_non_ascii_horizontal_whitespace wherever toml++ asks whether a
//   character is whitespace: after a value (U+3001 after "a = 1"), inside a
//   value it scans past a quote ("a = 1'<U+3001>"), and in a multi-line basic
//   string after a backslash or a line-ending backslash ("\"\"\"\\<LF>é\"\"\"");
// - "}" where an array expects a value ("x = [ }", "x = [1, }]")
//   fails TOML_ASSERT_ASSUME in parse_value;
// - a table header whose first key character is neither a bare-key
//   character nor a quote ("[[*", "[ %") fails TOML_ASSERT_ASSUME in
//   parse_key (an assertion without NDEBUG, undefined behaviour with it).
// The rules, stricter than TOML 1.0 only where TOML 1.0 itself has no use for
// the input:
// 1. the text is valid UTF-8 (no overlong forms, surrogates or code points
//    above U+10FFFF), optionally after a byte order mark;
// 2. non-ASCII characters appear only inside strings and comments (TOML 1.0
//    bare keys, numbers, booleans and whitespace are ASCII);
// 3. ASCII control characters other than tab, LF and CR appear nowhere
//    outside strings and comments (TOML 1.0 forbids them there too);
// 4. after the "[" or "[[" that opens a table header (and any spaces), the
//    next character starts a key: A-Z a-z 0-9 _ - or a quote.
// 5. inside an array, after its "[" or a "," (and any blanks, line breaks
//    and comments), the next character is not "}" (toml++ 3.3 fails
//    TOML_ASSERT_ASSUME in parse_value on "[{ a = 1 }, }]"; TOML 1.0 has no
//    use for it).
// 6. in a multi-line basic string, the first character after a backslash
//    (and after a line-ending backslash's blanks and line breaks) is none of
//    the non-ASCII characters toml++ 3.3 cannot classify as whitespace or not
//    (e.g. U+00E9, U+3001; TOML 1.0 allows them there after a line-ending
//    backslash, toml++ 3.3 does not survive them);
// 7. a quote does not follow a bare key character directly (A-Z a-z 0-9 _ -:
//    "a'b' = 1"), nor, where a value is read, anything but a blank, "=", "["
//    or "," ("a = 1'x'"): toml++ reads such a quote as part of the key or
//    value, so the string the pre-scan would see is not one, and TOML 1.0 has
//    no use for it.
// 8. where a value is read, a "[" or "{" follows only a blank, "=", "[" or ","
//    ("a = 1['<U+3001>" reached TOML_UNREACHABLE: toml++ reads the bracket
//    and the quote after it as part of the value "1"); TOML 1.0 has no use
//    for it either.
// 9. where a value is read, no "=" appears outside strings ("a = 1x='<U+3001>"
//    reached TOML_UNREACHABLE: toml++ reads "1x=" and the quote after it as
//    one value, and the "=" made rule 7 see a quote that starts a value);
//    TOML 1.0 has no use for it (a key takes one "=", a value has none).
#pragma once

#include <string_view>

#include "absl/status/status.h"

namespace harness {

// OK, or kInvalidArgument "LINE:COLUMN: message" (1-based; the column counts
// characters, as toml++ does) for the first violation of the rules above.
absl::Status PrescanScenarioToml(std::string_view text);

// toml++'s error text as one line: control characters (a newline in a
// message would read as two problems) become escapes ("\n", "\x01").
std::string OneLine(std::string_view message);

}  // namespace harness
