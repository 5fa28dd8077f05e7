// SPDX-License-Identifier: Apache-2.0
#include "config/reader.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "config/env_subst.h"
#include "config/numbers.h"
#include "config/units.h"

namespace edgegw::config::detail {
namespace {

// Longer values are cut in messages: a message names the problem, it is no copy of the file.
constexpr std::size_t kMaxQuoted = 80;

std::string format_number(double value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", value);
  return buf;
}

}  // namespace

Mark mark_of(const YAML::Mark& mark) {
  if (mark.line < 0 || mark.column < 0) return {};
  return {mark.line + 1, mark.column + 1};
}

Mark mark_of(const YAML::Node& node) { return mark_of(node.Mark()); }

std::string_view kind_of(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "a scalar";
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return "an empty value";
  }
  return "an empty value";
}

std::string printable(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (out.size() >= kMaxQuoted) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string quote(std::string_view text) { return "'" + printable(text) + "'"; }

bool is_showable_key(std::string_view key) {
  if (key.size() > 64) return false;
  for (char c : key) {
    const auto u = static_cast<unsigned char>(c);
    if (c == ':' || c == '=' || u < 0x20 || u == 0x7f) return false;
  }
  return true;
}

std::string join_path(std::string_view path, std::string_view key) {
  std::string out(path);
  if (!out.empty()) out += '.';
  out += printable(key);
  return out;
}

Mark Item::mark() const {
  if (!node.IsDefined() || node.IsNull()) return key_mark;
  const Mark m = mark_of(node);
  return m.line == 0 ? key_mark : m;
}

Reader::Reader(std::string file, EnvLookup env, std::string base_dir)
    : file_(std::move(file)), env_(std::move(env)), base_dir_(std::move(base_dir)) {}

void Reader::error(Mark mark, std::string_view path, std::string_view what) {
  if (errors_.size() >= kMaxErrors) {
    overflowed_ = true;
    return;
  }
  std::string message(path);
  if (!message.empty()) message += ": ";
  message += what;
  errors_.push_back({file_, mark, std::move(message)});
}

std::vector<Diagnostic> Reader::take_errors() {
  std::stable_sort(errors_.begin(), errors_.end(), [](const Diagnostic& a, const Diagnostic& b) {
    if (a.mark.line != b.mark.line) return a.mark.line < b.mark.line;
    return a.mark.column < b.mark.column;
  });
  if (overflowed_) {
    errors_.push_back(
        {file_,
         {},
         "too many errors; the first " + std::to_string(kMaxErrors) + " are shown above"});
  }
  return std::move(errors_);
}

bool Reader::spend(const YAML::Node& node, const Item& where, std::size_t path_bytes) {
  if (exhausted_) return false;
  const YAML::Mark mark = node.Mark();
  const bool first = visited_.emplace(mark.line, mark.column, static_cast<int>(node.Type())).second;
  if (!first && !mark.is_null()) ++alias_visits_;
  expanded_bytes_ += path_bytes + (node.IsScalar() ? node.Scalar().size() : 0);
  if (alias_visits_ <= kMaxAliasVisits && expanded_bytes_ <= kMaxExpandedBytes) return true;
  exhausted_ = true;
  if (alias_visits_ > kMaxAliasVisits) {
    error(where, "aliases (*) expand the file to more than " + std::to_string(kMaxAliasVisits) +
                     " repeated values; refusing to read further");
  } else {
    error(where, "the file expands to more than " +
                     std::to_string(kMaxExpandedBytes / (1024ULL * 1024)) +
                     " MiB of values (through aliases?); refusing to read further");
  }
  return false;
}

std::optional<Scalar> Reader::scalar(const Item& item, std::string_view expected) {
  if (!item.node.IsScalar()) {
    error(item, "expected " + std::string(expected) + ", got " + std::string(kind_of(item.node)));
    return std::nullopt;
  }
  const std::string& written = item.node.Scalar();
  auto result = substitute_env(written, env_);
  if (auto* problem = std::get_if<SubstitutionError>(&result)) {
    error(item, problem->reason);
    return std::nullopt;
  }
  return Scalar{std::get<std::string>(std::move(result)), written, item.node.Tag() == "?"};
}

bool Reader::read_string(const Item& item, std::string& out) {
  auto s = scalar(item);
  if (!s) return false;
  out = std::move(s->value);
  return true;
}

bool Reader::read_non_empty(const Item& item, std::string& out) {
  auto s = scalar(item);
  if (!s) return false;
  if (s->value.empty()) {
    error(item, "must not be empty");
    return false;
  }
  out = std::move(s->value);
  return true;
}

bool Reader::read_bool(const Item& item, bool& out) {
  const auto s = scalar(item, "true or false");
  if (!s) return false;
  const std::string& v = s->value;
  if (v == "true" || v == "True" || v == "TRUE") {
    out = true;
  } else if (v == "false" || v == "False" || v == "FALSE") {
    out = false;
  } else {
    error(item, quote(s->written) + " is not true or false");
    return false;
  }
  return true;
}

bool Reader::read_int64(const Item& item, std::int64_t lo, std::int64_t hi, std::int64_t& out) {
  const auto s = scalar(item, "an integer");
  if (!s) return false;
  std::string_view v = s->value;
  if (v.size() > 1 && v.front() == '+' && v[1] != '-') v.remove_prefix(1);
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), value);
  const bool whole = !v.empty() && end == v.data() + v.size();
  if (!whole || (ec != std::errc() && ec != std::errc::result_out_of_range)) {
    error(item, quote(s->written) + " is not an integer");
    return false;
  }
  if (ec == std::errc::result_out_of_range || value < lo || value > hi) {
    std::string range = "(" + std::to_string(lo) + "..";
    if (hi != std::numeric_limits<std::int64_t>::max()) range += std::to_string(hi);
    error(item, printable(s->written) + " is out of range " + range + ")");
    return false;
  }
  out = value;
  return true;
}

bool Reader::read_double(const Item& item, double lo, double hi, double& out) {
  const auto s = scalar(item, "a number");
  if (!s) return false;
  const auto number = parse_double(s->value);
  if (const auto* problem = std::get_if<NumberError>(&number)) {
    error(item, quote(s->written) + (*problem == NumberError::kNotFinite ? " is not a finite number"
                                                                         : " is not a number"));
    return false;
  }
  const double value = std::get<double>(number);
  if (value < lo || value > hi) {
    error(item, printable(s->written) + " is out of range (" + format_number(lo) + ".." +
                    format_number(hi) + ")");
    return false;
  }
  out = value;
  return true;
}

bool Reader::read_duration(const Item& item, Duration min, Duration& out) {
  const auto s = scalar(item, "a duration");
  if (!s) return false;
  auto result = duration_or_reason(s->value);
  if (auto* reason = std::get_if<std::string>(&result)) {
    error(item, quote(s->written) + " " + *reason);
    return false;
  }
  const Duration value = std::get<Duration>(result);
  if (value < min) {
    error(item, printable(s->written) + " must be at least " + format_duration(min));
    return false;
  }
  out = value;
  return true;
}

bool Reader::read_size(const Item& item, std::uint64_t& out) {
  const auto s = scalar(item, "a size");
  if (!s) return false;
  auto result = size_or_reason(s->value);
  if (auto* reason = std::get_if<std::string>(&result)) {
    error(item, quote(s->written) + " " + *reason);
    return false;
  }
  out = std::get<std::uint64_t>(result);
  return true;
}

bool Reader::for_each_entry(
    const Item& map, const std::function<void(const std::string& key, const Item& value)>& fn) {
  if (map.node.IsNull() || !map.node.IsDefined()) return true;
  if (!map.node.IsMap()) {
    error(map, "expected a map, got " + std::string(kind_of(map.node)));
    return false;
  }
  std::map<std::string, Mark, std::less<>> first_at;
  for (auto it = map.node.begin(); it != map.node.end(); ++it) {
    // Copies: the iterator's pair is a temporary, references into it would dangle.
    const YAML::Node key = it->first;
    const YAML::Node node = it->second;
    const Mark key_mark = mark_of(key);
    if (!key.IsScalar()) {
      if (!spend(node, map, 0)) break;
      error(key_mark.line ? key_mark : map.mark(), map.path,
            "a key must be a scalar, not " + std::string(kind_of(key)));
      continue;
    }
    const std::string& name = key.Scalar();
    Item value{node, join_path(map.path, name), key_mark};
    if (!spend(node, map, value.path.size())) break;
    const auto [first, inserted] = first_at.try_emplace(name, key_mark);
    if (!inserted) {
      error(key_mark, is_showable_key(name) ? value.path : map.path,
            "duplicate key (first at " + std::to_string(first->second.line) + ":" +
                std::to_string(first->second.column) + ")");
      continue;
    }
    fn(name, value);
  }
  return true;
}

bool Reader::for_each_element(const Item& list, const std::function<void(const Item&)>& fn) {
  if (list.node.IsNull() || !list.node.IsDefined()) return true;
  if (!list.node.IsSequence()) {
    error(list, "expected a list, got " + std::string(kind_of(list.node)));
    return false;
  }
  std::size_t index = 0;
  for (auto it = list.node.begin(); it != list.node.end(); ++it, ++index) {
    const YAML::Node node = *it;
    Item element{node, list.path + "[" + std::to_string(index) + "]", {}};
    if (!spend(node, list, element.path.size())) break;
    // yaml-cpp places an empty element ("- " alone) at the token after it, a line too far: the
    // list's own position is the better pointer, the path names the element.
    const bool empty = element.node.IsNull() || !element.node.IsDefined();
    element.key_mark = empty ? list.mark() : mark_of(element.node);
    if (element.key_mark.line == 0) element.key_mark = list.mark();
    fn(element);
  }
  return true;
}

}  // namespace edgegw::config::detail
