// SPDX-License-Identifier: Apache-2.0
// raw: the whole payload is the value of one variable, named by the topic or the source config.
#include <string>

#include "decode/internal.h"

namespace edgegw::decode {

namespace {

bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

void decode_raw(const RawMessage& msg, DecodeOutput& out) {
  if (msg.variable.empty()) {
    internal::note_rejected(out,
                            "raw format needs a variable (a {variable} topic capture or the "
                            "source's `variable:`)");
    return;
  }
  const std::string_view trimmed = trim(msg.payload);
  if (trimmed.empty()) {
    internal::note_invalid(out, "", {"value", "is blank"});
    return;
  }
  Reading& r = out.readings.emplace_back();
  r.variable.assign(msg.variable);
  r.time_ms = msg.receive_time_ms;
  internal::ScalarResult typed = internal::type_scalar(trimmed);
  std::optional<internal::Problem> problem = std::move(typed.problem);
  if (!problem) {
    if (typed.value) {
      r.value = std::move(*typed.value);
    } else {
      r.value = std::string(msg.payload);  // text keeps its spaces and line ends
    }
    problem = internal::check_reading(r);
  }
  if (problem) {
    out.readings.pop_back();
    internal::note_invalid(out, "", *problem);
  }
}

}  // namespace edgegw::decode
