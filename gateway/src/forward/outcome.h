// SPDX-License-Identifier: Apache-2.0
// What the forwarder does with each answer of the cloud: one table, one function.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace edgegw::forward {

enum class Action {
  kDelivered,     // 2xx: ack the batch in the buffer
  kRateLimited,   // 429: wait Retry-After (body text or header), else back off; not a failure
  kRetry,         // 5xx, 408, timeouts, connection errors, other 4xx: back off and send again
  kTokenRefused,  // 401, 403: hold the device's lane (long backoff), keep its data
  kSplit,         // 400, 413, 422: halve the batch to isolate what the cloud refuses
};

struct Outcome {
  Action action;
  // The wait the cloud asked for, when it said one (429/503).
  std::optional<std::chrono::seconds> retry_after;
};

// status: the HTTP status, or 0 when no answer came (connection error, timeout).
// retry_after_header: the Retry-After header's value, if any.
// body: the answer's body (the cloud's 429 says "Too many requests (Retry-After: 8)").
Outcome classify(int status, std::string_view retry_after_header, std::string_view body);

// "Retry-After: 8" anywhere in a text, or a header value "8": the seconds, capped at one hour.
std::optional<std::chrono::seconds> parse_retry_after(std::string_view text);

std::string_view action_name(Action action) noexcept;

}  // namespace edgegw::forward
