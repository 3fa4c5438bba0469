// Scenario TOML pre-scan: a small lexer that knows comments, the four string
// forms and table headers, and nothing else; see scenario_toml_prescan.h.
#include "harness/scenario_toml_prescan.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace harness {
namespace {

// Decodes the UTF-8 sequence at text[i]; returns its length (0: invalid).
size_t Utf8Length(std::string_view text, size_t i, uint32_t* code_point) {
  const auto byte = [&text](size_t k) { return static_cast<uint8_t>(text[k]); };
  const uint8_t lead = byte(i);
  if (lead < 0x80) {
    *code_point = lead;
    return 1;
  }
  size_t length = 0;
  uint32_t value = 0;
  uint32_t minimum = 0;
  if ((lead & 0xE0) == 0xC0) {
    length = 2, value = lead & 0x1F, minimum = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, value = lead & 0x0F, minimum = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, value = lead & 0x07, minimum = 0x10000;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  for (size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    value = (value << 6) | (byte(i + k) & 0x3F);
  }
  if (value < minimum || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) return 0;
  *code_point = value;
  return length;
}

// True for the characters toml++ 3.3's is_non_ascii_horizontal_whitespace
// cannot classify: it reaches TOML_UNREACHABLE on them (its generated table
// covers only U+00A0, U+1680, U+180E, U+2000-U+200B, U+202F, U+205F-U+2060,
// U+3000 and U+FEFF, and the other code points of their 1018-wide blocks fall
// through to the default case). This mirrors that function's arithmetic.
bool TomlCannotClassify(uint32_t c) {
  if (c < 0xA0 || c > 0xFEFF) return false;
  const uint64_t block = (static_cast<uint64_t>(c) - 0xA0) / 0x3FA;
  if (((uint64_t{1} << block) & 0x7FFFFFFFFFFFF75EULL) != 0) return false;
  if (c == 0xA0 || c == 0x3000 || c == 0xFEFF) return false;
  return block != 0x05 && block != 0x07;
}

bool IsBareKeyChar(uint32_t c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

bool IsKeyStart(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '"' || c == '\'';
}

enum class Mode : uint8_t { kNormal, kComment, kBasic, kLiteral, kMultiBasic, kMultiLiteral };

// Walks the text once; Run returns the first problem.
class Prescan {
 public:
  explicit Prescan(std::string_view text) : text_(text) {}

  absl::Status Run() {
    if (At("\xEF\xBB\xBF")) i_ = 3;  // a UTF-8 byte order mark (toml++ skips it too)
    while (i_ < text_.size()) {
      if (mode_ == Mode::kComment || ((mode_ == Mode::kBasic || mode_ == Mode::kLiteral) && !escaped_)) {
        // The ASCII of a comment up to the line's end, or of a one-line
        // string up to its quote, backslash or line's end, moves only the
        // column (what Step does a character at a time); any other byte
        // takes the general step below.
        const char quote = mode_ == Mode::kBasic ? '"' : mode_ == Mode::kLiteral ? '\'' : '\n';
        const char escape = mode_ == Mode::kBasic ? '\\' : '\n';
        size_t end = i_;
        while (end < text_.size() && text_[end] != '\n' && text_[end] != quote && text_[end] != escape &&
               static_cast<uint8_t>(text_[end]) < 0x80) {
          ++end;
        }
        column_ += static_cast<int64_t>(end - i_);
        i_ = end;
        if (i_ == text_.size()) break;
      }
      uint32_t code_point = 0;
      const size_t length = Utf8Length(text_, i_, &code_point);
      if (length == 0) {
        return Problem(absl::StrFormat("invalid UTF-8 (byte 0x%02X)", static_cast<uint8_t>(text_[i_])));
      }
      if (absl::Status status = Step(code_point, length); !status.ok()) return status;
    }
    return absl::OkStatus();
  }

 private:
  absl::Status Problem(const std::string& message) const {
    return absl::InvalidArgumentError(absl::StrCat(line_, ":", column_, ": ", message));
  }
  bool At(std::string_view token) const { return text_.substr(i_, token.size()) == token; }
  void Advance(size_t bytes) {
    for (size_t k = 0; k < bytes && i_ < text_.size(); ++k) {
      const char c = text_[i_++];
      if (c == '\n') {
        ++line_;
        column_ = 1;
        line_start_ = true;
      } else if ((static_cast<uint8_t>(c) & 0xC0) != 0x80) {
        ++column_;  // one per character: continuation bytes do not count
      }
    }
  }

  absl::Status Step(uint32_t code_point, size_t length) {
    switch (mode_) {
      case Mode::kNormal: return Normal(code_point, length);
      case Mode::kComment:
        if (code_point == '\n') {
          mode_ = Mode::kNormal;
          EndOfLine();
        }
        break;
      case Mode::kBasic:
        if (escaped_) {
          escaped_ = false;
        } else if (code_point == '\\') {
          escaped_ = true;
        } else if (code_point == '"' || code_point == '\n') {
          mode_ = Mode::kNormal;
        }
        break;
      case Mode::kLiteral:
        if (code_point == '\'' || code_point == '\n') mode_ = Mode::kNormal;
        break;
      case Mode::kMultiBasic:
        if (escaped_) {
          // toml++ asks whether the character after a backslash, and the first
          // one after a line-ending backslash's blanks and line breaks, is
          // whitespace (rule 6).
          if (code_point == ' ' || code_point == '\t' || code_point == '\n' || code_point == '\r') {
            after_blank_ = true;
            break;
          }
          escaped_ = false;
          const bool was_blank = after_blank_;
          after_blank_ = false;
          if (TomlCannotClassify(code_point)) {
            return Problem(absl::StrFormat(
                "U+%04X right after a backslash (or a line-ending backslash's line break) in a "
                "multi-line string: toml++ 3.3 cannot read it there",
                code_point));
          }
          if (!was_blank) break;  // the escaped character itself
          return Step(code_point, length);  // after a line-ending backslash: an ordinary character
        } else if (code_point == '\\') {
          escaped_ = true;
        } else if (At("\"\"\"")) {
          Advance(3);
          while (At("\"")) Advance(1);  // up to two quotes may end the content
          mode_ = Mode::kNormal;
          return absl::OkStatus();
        }
        break;
      case Mode::kMultiLiteral:
        if (At("'''")) {
          Advance(3);
          while (At("'")) Advance(1);
          mode_ = Mode::kNormal;
          return absl::OkStatus();
        }
        break;
    }
    Advance(length);
    return absl::OkStatus();
  }

  absl::Status Normal(uint32_t code_point, size_t length) {
    if (code_point >= 0x80) {
      return Problem(absl::StrFormat(
          "non-ASCII character U+%04X outside a string or comment (TOML keys, values and "
          "whitespace are ASCII)",
          code_point));
    }
    if (code_point < 0x20 && code_point != '\t' && code_point != '\n' && code_point != '\r') {
      return Problem(absl::StrFormat("control character U+%04X outside a string", code_point));
    }
    if (code_point == 0x7F) return Problem("control character U+007F outside a string");
    const bool at_line_start = line_start_;
    const bool blank = code_point == ' ' || code_point == '\t' || code_point == '\n' || code_point == '\r';
    if (!blank) line_start_ = false;
    if (!blank && code_point != '#' && array_value_next_) {
      array_value_next_ = false;
      if (code_point == '}') return Problem("'}' where an array expects a value or ']'");
    }
    if (code_point == '"' || code_point == '\'') {
      // Rule 7: toml++ reads a quote right after a bare key or value character
      // as part of that key or value, and scans on past it.
      const bool after_value_start = prev_ == ' ' || prev_ == '\t' || prev_ == '\n' || prev_ == '\r' ||
                                     prev_ == '=' || prev_ == '[' || prev_ == ',';
      if (value_ ? !after_value_start : IsBareKeyChar(prev_)) {
        return Problem(absl::StrFormat("a quote right after '%c': a string starts a key or a value",
                                       static_cast<char>(prev_)));
      }
    }
    if (value_ && (code_point == '[' || code_point == '{') && !(at_line_start && open_.empty())) {
      // Rule 8: toml++ reads a bracket right after a bare value character as
      // part of that value and scans on past it ("a = 1['<U+3001>").
      const bool after_value_start = prev_ == ' ' || prev_ == '\t' || prev_ == '\n' || prev_ == '\r' ||
                                     prev_ == '=' || prev_ == '[' || prev_ == ',';
      if (!after_value_start) {
        return Problem(absl::StrFormat("'%c' right after '%c': an array or inline table starts a value",
                                       static_cast<char>(code_point), static_cast<char>(prev_)));
      }
    }
    if (code_point == '=' && value_) {
      // Rule 9 (CI's fixed fuzz run, corpus crash_equals_in_value).
      return Problem("'=' where a value is read: a key takes one '=', and a value has none outside its strings");
    }
    prev_ = code_point;
    if (code_point == '\n' && open_.empty()) EndOfLine();
    if (code_point == '=') value_ = true;
    if (code_point == '#') {
      mode_ = Mode::kComment;
    } else if (At("\"\"\"") || At("'''")) {
      mode_ = code_point == '"' ? Mode::kMultiBasic : Mode::kMultiLiteral;
      Advance(3);
      return absl::OkStatus();
    } else if (code_point == '"') {
      mode_ = Mode::kBasic;
    } else if (code_point == '\'') {
      mode_ = Mode::kLiteral;
    } else if (code_point == '[' && at_line_start && open_.empty()) {
      return Header();
    } else if (code_point == '[' || code_point == '{') {
      open_.push_back(static_cast<char>(code_point));
      enclosing_value_.push_back(value_);
      value_ = code_point == '[';  // an array holds values; an inline table starts with a key
      array_value_next_ = code_point == '[';
    } else if ((code_point == ']' || code_point == '}') && !open_.empty()) {
      open_.pop_back();
      value_ = enclosing_value_.back();
      enclosing_value_.pop_back();
    } else if (code_point == ',' && !open_.empty() && open_.back() == '[') {
      array_value_next_ = true;
    } else if (code_point == ',' && !open_.empty() && open_.back() == '{') {
      value_ = false;
    }
    Advance(length);
    SkipRunAfter(code_point);
    return absl::OkStatus();
  }

  // After a bare key or number character, the ones that follow it; after a
  // space or tab, the spaces and tabs: Normal would only set prev_ and move
  // the column for each (the first one did the rest: it is no blank, so
  // line_start_ and array_value_next_ are already false; a blank changes
  // neither).
  void SkipRunAfter(uint32_t code_point) {
    const auto plain = [](char c) { return IsBareKeyChar(static_cast<uint8_t>(c)) || c == '.'; };
    const auto blank = [](char c) { return c == ' ' || c == '\t'; };
    const bool after_plain = code_point < 0x80 && plain(static_cast<char>(code_point));
    if (!after_plain && !blank(static_cast<char>(code_point))) return;
    size_t end = i_;
    while (end < text_.size() && (after_plain ? plain(text_[end]) : blank(text_[end]))) ++end;
    if (end == i_) return;
    prev_ = static_cast<uint8_t>(text_[end - 1]);
    column_ += static_cast<int64_t>(end - i_);
    i_ = end;
  }

  // A line break outside arrays and inline tables: the next line starts with a key.
  void EndOfLine() {
    prev_ = '\n';
    if (open_.empty()) value_ = false;
  }

  // At the '[' of a table header: its key must start like a key.
  absl::Status Header() {
    Advance(1);
    if (At("[")) Advance(1);
    while (At(" ") || At("\t")) Advance(1);
    if (i_ < text_.size() && !IsKeyStart(text_[i_]) && text_[i_] != ']') {
      return Problem("a table header must start with a key (A-Z a-z 0-9 _ - or a quote)");
    }
    return absl::OkStatus();
  }

  std::string_view text_;
  size_t i_ = 0;
  int64_t line_ = 1;
  int64_t column_ = 1;
  bool line_start_ = true;
  std::string open_;  // the open '[' and '{' of values, innermost last
  // After an array's '[' or ',': the next character that is not blank or a
  // comment starts a value or is ']' (rule 5).
  bool array_value_next_ = false;
  Mode mode_ = Mode::kNormal;
  bool escaped_ = false;      // in a basic string, right after a backslash
  bool after_blank_ = false;  // in a multi-line basic string, blanks after a backslash
  // Rule 7: the last character outside strings and comments, and whether a
  // value (not a key) is being read there; enclosing_value_ holds that flag for
  // each open '[' and '{'.
  uint32_t prev_ = '\n';
  bool value_ = false;
  std::vector<bool> enclosing_value_;
};

}  // namespace

absl::Status PrescanScenarioToml(std::string_view text) { return Prescan(text).Run(); }

std::string OneLine(std::string_view message) {
  std::string out;
  for (const char c : message) {
    const auto byte = static_cast<uint8_t>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (byte < 0x20 || byte == 0x7F) {
      out += absl::StrFormat("\\x%02X", byte);
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace harness
