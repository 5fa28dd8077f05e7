// SPDX-License-Identifier: Apache-2.0
// csv: lines `variable,value[,unit[,time]]`, RFC 4180 quoting, LF or CRLF, `#` comments.
#include <array>
#include <string>

#include "decode/internal.h"

namespace edgegw::decode {

namespace {

using internal::Problem;

constexpr std::size_t kMaxFields = 4;

struct Field {
  std::string_view text;
  bool quoted = false;
};

struct Record {
  std::size_t line = 0;   // where the record starts, from 1
  std::size_t count = 0;  // fields seen; only the first kMaxFields are kept
  std::array<Field, kMaxFields> fields;
  std::optional<Problem> problem;  // the line does not parse
};

bool is_blank(char c) noexcept { return c == ' ' || c == '\t'; }

class CsvReader {
 public:
  explicit CsvReader(std::string_view text) : s_(text) {}

  // The next record that is not blank or a comment; false at the end of the text.
  bool next(Record& rec) {
    if (!skip_empty_lines()) return false;
    rec.line = line_;
    rec.count = 0;
    rec.problem.reset();
    for (;;) {
      Field field;
      if (!read_field(rec, field)) {
        skip_line();
        return true;
      }
      if (rec.count < kMaxFields) rec.fields[rec.count] = field;
      ++rec.count;
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      skip_line();  // at '\n' or the end
      return true;
    }
  }

 private:
  // Skips blank lines and `#` comments; false when nothing is left.
  bool skip_empty_lines() {
    while (pos_ < s_.size()) {
      std::size_t q = pos_;
      while (q < s_.size() && is_blank(s_[q])) ++q;
      const bool blank = q == s_.size() || s_[q] == '\n' ||
                         (s_[q] == '\r' && (q + 1 == s_.size() || s_[q + 1] == '\n'));
      if (!blank && s_[q] != '#') return true;
      skip_line();
    }
    return false;
  }

  void skip_line() {
    const std::size_t nl = s_.find('\n', pos_);
    if (nl == std::string_view::npos) {
      pos_ = s_.size();
    } else {
      pos_ = nl + 1;
      ++line_;
    }
  }

  // Reads one field; false (and rec.problem set) when the line cannot be parsed.
  bool read_field(Record& rec, Field& field) {
    while (pos_ < s_.size() && is_blank(s_[pos_])) ++pos_;
    if (pos_ < s_.size() && s_[pos_] == '"') return read_quoted(rec, field);
    std::size_t end = s_.find_first_of(",\n", pos_);
    if (end == std::string_view::npos) end = s_.size();
    std::string_view text = s_.substr(pos_, end - pos_);
    pos_ = end;
    if (!text.empty() && text.back() == '\r' && (end == s_.size() || s_[end] == '\n')) {
      text.remove_suffix(1);
    }
    while (!text.empty() && is_blank(text.back())) text.remove_suffix(1);
    field = Field{text, false};
    return true;
  }

  bool read_quoted(Record& rec, Field& field) {
    const std::size_t start = ++pos_;
    bool doubled = false;  // holds "" escapes
    std::size_t end = 0;
    for (;;) {
      const std::size_t q = s_.find('"', pos_);
      if (q == std::string_view::npos) {
        rec.problem = Problem{"", "has a quoted field that is not closed"};
        pos_ = s_.size();
        return false;
      }
      if (q + 1 < s_.size() && s_[q + 1] == '"') {
        doubled = true;
        pos_ = q + 2;
        continue;
      }
      end = q;
      pos_ = q + 1;
      break;
    }
    // A quoted field may span lines; later lines count towards the line numbers.
    for (std::size_t i = start; i < end; ++i) line_ += s_[i] == '\n';
    while (pos_ < s_.size() && is_blank(s_[pos_])) ++pos_;
    if (pos_ < s_.size() && s_[pos_] == '\r' && (pos_ + 1 == s_.size() || s_[pos_ + 1] == '\n')) {
      ++pos_;
    }
    if (pos_ < s_.size() && s_[pos_] != ',' && s_[pos_] != '\n') {
      rec.problem = Problem{
          "", "field " + std::to_string(rec.count + 1) + " has text after its closing quote"};
      return false;
    }
    std::string_view text = s_.substr(start, end - start);
    if (doubled && rec.count < kMaxFields) {
      std::string& buf = unescaped_[rec.count];
      buf.clear();
      for (std::size_t i = 0; i < text.size(); ++i) {
        buf += text[i];
        if (text[i] == '"') ++i;  // the second quote of ""
      }
      text = buf;
    }
    field = Field{text, true};
    return true;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
  std::size_t line_ = 1;
  std::array<std::string, kMaxFields> unescaped_;
};

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char c = a[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != b[i]) return false;
  }
  return true;
}

std::optional<Problem> fill_reading(const Record& rec, Reading& r) {
  if (rec.count > kMaxFields) {
    return Problem{
        "", "has " + std::to_string(rec.count) + " fields (at most 4: variable,value,unit,time)"};
  }
  if (rec.count < 2) return Problem{"", "has 1 field (needs variable,value[,unit[,time]])"};
  const Field& variable = rec.fields[0];
  const Field& value = rec.fields[1];
  if (variable.text.empty()) return Problem{"variable", "is empty"};
  if (value.text.empty()) return Problem{"value", "is empty"};
  r.variable.assign(variable.text);
  if (value.quoted) {
    r.value = std::string(value.text);
  } else {
    internal::ScalarResult typed = internal::type_scalar(value.text);
    if (typed.problem) return std::move(typed.problem);
    if (typed.value) {
      r.value = std::move(*typed.value);
    } else {
      r.value = std::string(value.text);
    }
  }
  if (rec.count > 2) r.unit.assign(rec.fields[2].text);
  if (rec.count > 3 && !rec.fields[3].text.empty()) {
    const std::string_view time = rec.fields[3].text;
    auto ms = internal::parse_time_text(time);
    if (!ms) {
      return Problem{"time",
                     internal::quote(time) + " is not an ISO 8601 time or a Unix timestamp"};
    }
    r.time_ms = *ms;
  }
  return internal::check_reading(r);
}

}  // namespace

void decode_csv(const RawMessage& msg, DecodeOutput& out) {
  CsvReader reader(msg.payload);
  Record rec;
  bool first = true;
  while (reader.next(rec)) {
    const bool header = first && rec.count >= 2 && !rec.problem &&
                        iequals(rec.fields[0].text, "variable") &&
                        iequals(rec.fields[1].text, "value");
    first = false;
    if (header) continue;
    std::optional<Problem> problem = rec.problem;
    if (!problem) {
      Reading& r = out.readings.emplace_back();
      r.time_ms = msg.receive_time_ms;
      problem = fill_reading(rec, r);
      if (problem) out.readings.pop_back();
    }
    if (problem) internal::note_invalid(out, "line " + std::to_string(rec.line), *problem);
  }
}

}  // namespace edgegw::decode
