// SPDX-License-Identifier: Apache-2.0
// UTC time in milliseconds: formatting and parsing of the cloud's time strings.
// The edge box may have no real-time clock; we never convert to local time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace edgegw::core {

// Latest time the cloud's ISO 8601 form can carry: 9999-12-31T23:59:59.999Z.
inline constexpr std::int64_t kMaxTimeMs = 253402300799999;

// Milliseconds since the Unix epoch, from the system clock.
std::int64_t now_ms() noexcept;

// "2024-01-01T00:00:00.000Z": ISO 8601, UTC, always with milliseconds (what we send the cloud).
void append_iso8601_ms(std::int64_t ms, std::string& out);
std::string format_iso8601_ms(std::int64_t ms);

// Parses the time forms the cloud accepts, returning UTC ms, or nullopt when the text is not a
// time:
//  "2024-01-01T00:00:00Z", "2024-01-01T00:00:00.123+02:00", "2024-01-01T00:00:00" (UTC assumed),
//  "2015-11-03 13:44:33" (space instead of T), "2024-01-01" (midnight UTC).
// Fractions beyond milliseconds are truncated. Years 1970..9999 only.
std::optional<std::int64_t> parse_iso8601(std::string_view text) noexcept;

// A Unix timestamp given as a number: seconds, or milliseconds when it is too large to be seconds
// (above 1e11, i.e. after year 5138 in seconds). nullopt for negative or non-finite input.
std::optional<std::int64_t> unix_timestamp_to_ms(double value) noexcept;

}  // namespace edgegw::core
