// SPDX-License-Identifier: Apache-2.0
// A configured topic such as "sensors/{device}/data": the MQTT filter it subscribes to
// ("sensors/+/data") and how to take the device key and the variable out of a received topic.
//
// A capture ({device} or {variable}) is one whole topic level and becomes a `+` wildcard. `+` and a
// final `#` may also be written directly. A shared subscription ("$share/group/sensors/...") keeps
// its prefix in the filter; topics are matched against the part after it, since the broker
// delivers them without it.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edgegw::plugins::mqtt {

struct TopicMatch {
  std::string_view device;    // empty: the pattern has no {device}
  std::string_view variable;  // empty: the pattern has no {variable}
};

class TopicPattern {
 public:
  // Parses one entry of `topics:`; the error says what is wrong (without the key's name).
  static std::optional<TopicPattern> parse(std::string_view text, std::string* error);

  // The filter to subscribe to (with its $share prefix, if any).
  const std::string& filter() const noexcept { return filter_; }
  const std::string& text() const noexcept { return text_; }
  bool captures_device() const noexcept { return device_level_ != kNone; }

  // The captures when `topic` matches the pattern (views into `topic`).
  std::optional<TopicMatch> match(std::string_view topic) const;

 private:
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  enum class Level { kLiteral, kOne, kRest };
  struct Part {
    Level kind = Level::kLiteral;
    std::string literal;
  };

  std::string text_;
  std::string filter_;
  std::vector<Part> parts_;  // without the $share/group/ prefix
  std::size_t device_level_ = kNone;
  std::size_t variable_level_ = kNone;
};

}  // namespace edgegw::plugins::mqtt
