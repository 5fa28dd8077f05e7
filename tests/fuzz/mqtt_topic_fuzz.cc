// SPDX-License-Identifier: Apache-2.0
// Fuzzes the mqtt plugin's topic patterns (`topics:` from the config, topics from the broker):
// the input is a pattern and a topic separated by the first NUL. Invariants: no crash; a parsed
// pattern's filter is a valid MQTT filter (wildcards only as whole levels, '#' last); a match's
// captures are whole levels of the topic.
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "topic_pattern.h"

namespace {

using edgegw::fuzz::check;

bool is_level_of(std::string_view topic, std::string_view part) {
  if (part.data() < topic.data() || part.data() + part.size() > topic.data() + topic.size()) {
    return false;
  }
  const std::size_t at = static_cast<std::size_t>(part.data() - topic.data());
  const bool starts = at == 0 || topic[at - 1] == '/';
  const bool ends = at + part.size() == topic.size() || topic[at + part.size()] == '/';
  return starts && ends && part.find('/') == std::string_view::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using edgegw::plugins::mqtt::TopicPattern;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t nul = input.find('\0');
  const std::string_view pattern_text = input.substr(0, nul);
  const std::string_view topic = nul == std::string_view::npos ? "" : input.substr(nul + 1);
  std::string error;
  const auto pattern = TopicPattern::parse(pattern_text, &error);
  if (!pattern) {
    check(!error.empty(), "refused without a reason");
    return 0;
  }
  const std::string& filter = pattern->filter();
  check(!filter.empty(), "an empty filter");
  for (std::size_t i = 0; i < filter.size(); ++i) {
    if (filter[i] == '+' || filter[i] == '#') {
      check(i == 0 || filter[i - 1] == '/', "a wildcard inside a level");
      check(i + 1 == filter.size() || filter[i + 1] == '/', "a wildcard inside a level");
    }
    if (filter[i] == '#') check(i + 1 == filter.size(), "'#' before the last level");
  }
  if (const auto m = pattern->match(topic)) {
    if (!m->device.empty()) check(is_level_of(topic, m->device), "device is not a whole level");
    if (!m->variable.empty()) {
      check(is_level_of(topic, m->variable), "variable is not a whole level");
    }
  }
  return 0;
}
