// SPDX-License-Identifier: Apache-2.0
#include "config/units.h"

#include <array>
#include <charconv>
#include <limits>

namespace edgegw::config {
namespace {

struct Unit {
  std::string_view suffix;
  std::uint64_t factor;
};

constexpr std::array<Unit, 5> kDurationUnits = {{
    {"ms", 1},
    {"s", 1000},
    {"m", 60ULL * 1000},
    {"h", 60ULL * 60 * 1000},
    {"d", 24ULL * 60 * 60 * 1000},
}};

constexpr std::array<Unit, 8> kSizeUnits = {{
    {"KiB", 1ULL << 10},
    {"MiB", 1ULL << 20},
    {"GiB", 1ULL << 30},
    {"TiB", 1ULL << 40},
    {"kB", 1000},
    {"MB", 1000ULL * 1000},
    {"GB", 1000ULL * 1000 * 1000},
    {"TB", 1000ULL * 1000 * 1000 * 1000},
}};

constexpr std::string_view kDurationHint = "write e.g. 250ms, 10s, 5m, 1h or 7d";
constexpr std::string_view kSizeHint = "write e.g. 512KiB, 64MiB, 2GiB, 200kB or a number of bytes";

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// The leading decimal number and the rest of the text. Both parsers share the strict rules: digits
// only, no sign, no fraction, no space between number and unit.
struct Split {
  std::string_view digits;
  std::string_view unit;
};

Split split_number(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size() && is_digit(text[i])) ++i;
  return {text.substr(0, i), text.substr(i)};
}

// The reason common to both parsers when the text is not "<digits><unit>", or empty when it is.
std::string shape_problem(std::string_view text, const Split& split, std::string_view hint) {
  if (text.empty()) return "is empty; " + std::string(hint);
  if (text.front() == '-') return "is negative";
  if (split.digits.empty()) return "is not a number with a unit; " + std::string(hint);
  if (!split.unit.empty() && (split.unit.front() == '.' || split.unit.front() == ',')) {
    return "must be a whole number with a unit (no fractions); " + std::string(hint);
  }
  if (!split.unit.empty() && split.unit.front() == ' ') {
    return "must not have a space between the number and the unit";
  }
  return {};
}

// Multiplies the digits by factor, or returns nullopt on overflow of `limit`.
std::optional<std::uint64_t> scaled(std::string_view digits, std::uint64_t factor,
                                    std::uint64_t limit) {
  std::uint64_t n = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  if (factor != 0 && n > limit / factor) return std::nullopt;
  return n * factor;
}

std::string quoted(std::string_view text) { return "'" + std::string(text) + "' "; }

}  // namespace

namespace detail {

std::variant<Duration, std::string> duration_or_reason(std::string_view text) {
  const Split split = split_number(text);
  if (std::string problem = shape_problem(text, split, kDurationHint); !problem.empty()) {
    return problem;
  }
  if (split.unit.empty()) return std::string("needs a unit: ms, s, m, h or d");
  for (const Unit& unit : kDurationUnits) {
    if (unit.suffix != split.unit) continue;
    const auto limit = static_cast<std::uint64_t>(std::numeric_limits<Duration::rep>::max());
    const auto ms = scaled(split.digits, unit.factor, limit);
    if (!ms) return std::string("is too large");
    return Duration(static_cast<Duration::rep>(*ms));
  }
  return std::string("has an unknown unit; use ms, s, m, h or d");
}

std::variant<std::uint64_t, std::string> size_or_reason(std::string_view text) {
  const Split split = split_number(text);
  if (std::string problem = shape_problem(text, split, kSizeHint); !problem.empty()) {
    return problem;
  }
  std::uint64_t factor = 0;
  if (split.unit.empty()) factor = 1;  // a bare integer is bytes
  for (const Unit& unit : kSizeUnits) {
    if (unit.suffix == split.unit) factor = unit.factor;
  }
  if (factor == 0) {
    return std::string(
        "has an unknown unit; use KiB, MiB, GiB, TiB, kB, MB, GB, TB or none for bytes");
  }
  const auto bytes = scaled(split.digits, factor, std::numeric_limits<std::uint64_t>::max());
  if (!bytes) return std::string("is too large");
  return *bytes;
}

}  // namespace detail

std::variant<Duration, std::string> parse_duration(std::string_view text) {
  auto result = detail::duration_or_reason(text);
  if (auto* reason = std::get_if<std::string>(&result)) return quoted(text) + *reason;
  return result;
}

std::variant<std::uint64_t, std::string> parse_size(std::string_view text) {
  auto result = detail::size_or_reason(text);
  if (auto* reason = std::get_if<std::string>(&result)) return quoted(text) + *reason;
  return result;
}

std::string format_duration(Duration duration) {
  const auto ms = duration.count();
  for (auto it = kDurationUnits.rbegin(); it != kDurationUnits.rend(); ++it) {
    const auto factor = static_cast<Duration::rep>(it->factor);
    if (ms != 0 && ms % factor == 0) return std::to_string(ms / factor) + std::string(it->suffix);
  }
  return std::to_string(ms) + "ms";
}

}  // namespace edgegw::config
