// SPDX-License-Identifier: Apache-2.0
#include "forward/outcome.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace edgegw::forward {

namespace {

constexpr std::chrono::seconds kMaxRetryAfter{3600};

std::optional<std::chrono::seconds> parse_seconds(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  long long v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end == s.data() || v < 0) return std::nullopt;
  return std::min(std::chrono::seconds(v), kMaxRetryAfter);
}

bool iequals_prefix(std::string_view text, std::size_t pos, std::string_view word) {
  if (pos + word.size() > text.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[pos + i])) !=
        std::tolower(static_cast<unsigned char>(word[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::optional<std::chrono::seconds> parse_retry_after(std::string_view text) {
  if (auto plain = parse_seconds(text)) return plain;  // a header: "8"
  constexpr std::string_view kKey = "retry-after";
  for (std::size_t pos = 0; pos + kKey.size() <= text.size(); ++pos) {
    if (!iequals_prefix(text, pos, kKey)) continue;
    std::size_t p = pos + kKey.size();
    while (p < text.size() && (text[p] == ':' || text[p] == ' ' || text[p] == '=')) ++p;
    if (auto v = parse_seconds(text.substr(p))) return v;
  }
  return std::nullopt;
}

Outcome classify(int status, std::string_view retry_after_header, std::string_view body) {
  const auto wait = [&] {
    auto v = parse_retry_after(retry_after_header);
    return v ? v : parse_retry_after(body);
  };
  if (status >= 200 && status < 300) return {Action::kDelivered, std::nullopt};
  switch (status) {
    case 429:
      return {Action::kRateLimited, wait()};
    case 503:
      return {Action::kRetry, wait()};
    case 401:
    case 403:
      return {Action::kTokenRefused, std::nullopt};
    case 400:
    case 413:
    case 422:
      return {Action::kSplit, std::nullopt};
    default:
      break;
  }
  // 5xx, 408, no answer at all, and 4xx that say nothing about the data (404: a wrong cloud.url):
  // keep the data and try again later; the operator sees the code in the metrics and the log.
  return {Action::kRetry, std::nullopt};
}

std::string_view action_name(Action action) noexcept {
  switch (action) {
    case Action::kDelivered:
      return "delivered";
    case Action::kRateLimited:
      return "rate limited";
    case Action::kRetry:
      return "retry";
    case Action::kTokenRefused:
      return "token refused";
    case Action::kSplit:
      return "split";
  }
  return "?";
}

}  // namespace edgegw::forward
