// SPDX-License-Identifier: Apache-2.0
#include "topic_pattern.h"

namespace edgegw::plugins::mqtt {
namespace {

std::vector<std::string_view> split_levels(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t slash = s.find('/', start);
    out.push_back(s.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) return out;
    start = slash + 1;
  }
}

bool fail(std::string* error, std::string message) {
  if (error != nullptr) *error = std::move(message);
  return false;
}

}  // namespace

std::optional<TopicPattern> TopicPattern::parse(std::string_view text, std::string* error) {
  TopicPattern p;
  p.text_ = std::string(text);
  if (text.empty()) {
    fail(error, "a topic must not be empty");
    return std::nullopt;
  }
  if (text.find('\0') != std::string_view::npos) {
    fail(error, "a topic must not contain a NUL character");
    return std::nullopt;
  }
  std::string_view rest = text;
  std::string prefix;
  if (rest.starts_with("$share/")) {
    const std::size_t group_end = rest.find('/', 7);
    if (group_end == std::string_view::npos || group_end == 7 || group_end + 1 >= rest.size()) {
      fail(error, "a shared subscription is written $share/<group>/<filter>");
      return std::nullopt;
    }
    const std::string_view group = rest.substr(7, group_end - 7);
    if (group.find_first_of("+#{}") != std::string_view::npos) {
      fail(error, "the share group name must not contain +, #, { or }");
      return std::nullopt;
    }
    prefix = std::string(rest.substr(0, group_end + 1));
    rest = rest.substr(group_end + 1);
  }
  const std::vector<std::string_view> levels = split_levels(rest);
  std::string filter = prefix;
  for (std::size_t i = 0; i < levels.size(); ++i) {
    const std::string_view level = levels[i];
    Part part;
    if (level == "{device}" || level == "{variable}") {
      std::size_t& slot = level == "{device}" ? p.device_level_ : p.variable_level_;
      if (slot != kNone) {
        fail(error, std::string(level) + " appears twice");
        return std::nullopt;
      }
      slot = i;
      part.kind = Level::kOne;
      filter += '+';
    } else if (level == "+") {
      part.kind = Level::kOne;
      filter += '+';
    } else if (level == "#") {
      if (i + 1 != levels.size()) {
        fail(error, "# must be the last level of a topic");
        return std::nullopt;
      }
      part.kind = Level::kRest;
      filter += '#';
    } else if (level.find_first_of("+#") != std::string_view::npos) {
      fail(error,
           "a level holding + or # must hold nothing else (level '" + std::string(level) + "')");
      return std::nullopt;
    } else if (level.find_first_of("{}") != std::string_view::npos) {
      fail(error, "unknown capture in level '" + std::string(level) +
                      "' (known: {device} and {variable}, each a whole level)");
      return std::nullopt;
    } else {
      part.literal = std::string(level);
      filter += level;
    }
    if (i + 1 != levels.size()) filter += '/';
    p.parts_.push_back(std::move(part));
  }
  p.filter_ = std::move(filter);
  return p;
}

std::optional<TopicMatch> TopicPattern::match(std::string_view topic) const {
  TopicMatch m;
  std::size_t start = 0;
  for (std::size_t i = 0; i < parts_.size(); ++i) {
    const Part& part = parts_[i];
    if (part.kind == Level::kRest) {
      // "a/#" also matches "a" itself (MQTT 3.1.1, 4.7.1.2); topics starting with $ are not
      // matched by a leading wildcard, but the broker already filtered those.
      return m;
    }
    if (start > topic.size()) return std::nullopt;  // fewer levels than the pattern
    const std::size_t slash = topic.find('/', start);
    const std::size_t end = slash == std::string_view::npos ? topic.size() : slash;
    const std::string_view level = topic.substr(start, end - start);
    if (part.kind == Level::kLiteral) {
      if (level != part.literal) return std::nullopt;
    } else if (i == device_level_) {
      m.device = level;
    } else if (i == variable_level_) {
      m.variable = level;
    }
    start = slash == std::string_view::npos ? topic.size() + 1 : slash + 1;
  }
  if (start <= topic.size()) return std::nullopt;  // more levels than the pattern
  return m;
}

}  // namespace edgegw::plugins::mqtt
