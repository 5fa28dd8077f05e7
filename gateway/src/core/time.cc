// SPDX-License-Identifier: Apache-2.0
#include "core/time.h"

#include <charconv>
#include <chrono>
#include <cmath>
#include <limits>

namespace edgegw::core {

namespace {

using std::chrono::days;
using std::chrono::sys_days;

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) noexcept {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    const char c = s[i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

// Writes `value` as `width` digits at `at`; returns the end.
char* put_digits(char* at, int value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    at[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  return at + width;
}

}  // namespace

std::int64_t now_ms() noexcept {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

void append_iso8601_ms(std::int64_t ms, std::string& out) {
  using namespace std::chrono;
  // The readings of one message, request or poll mostly share one time: each thread keeps the
  // text of the last one.
  constexpr std::size_t kSize = 24;  // 2024-01-02T03:04:05.678Z
  thread_local std::int64_t last_ms = std::numeric_limits<std::int64_t>::min();
  thread_local char last[kSize];
  if (ms != last_ms) {
    const sys_time<milliseconds> tp{milliseconds{ms}};
    const sys_days day = floor<days>(tp);
    const year_month_day ymd{day};
    const hh_mm_ss<milliseconds> hms{tp - day};
    char* at = put_digits(last, static_cast<int>(ymd.year()), 4);
    *at++ = '-';
    at = put_digits(at, static_cast<int>(static_cast<unsigned>(ymd.month())), 2);
    *at++ = '-';
    at = put_digits(at, static_cast<int>(static_cast<unsigned>(ymd.day())), 2);
    *at++ = 'T';
    at = put_digits(at, static_cast<int>(hms.hours().count()), 2);
    *at++ = ':';
    at = put_digits(at, static_cast<int>(hms.minutes().count()), 2);
    *at++ = ':';
    at = put_digits(at, static_cast<int>(hms.seconds().count()), 2);
    *at++ = '.';
    at = put_digits(at, static_cast<int>(hms.subseconds().count()), 3);
    *at = 'Z';
    last_ms = ms;
  }
  out.append(last, kSize);
}

std::string format_iso8601_ms(std::int64_t ms) {
  std::string out;
  out.reserve(24);
  append_iso8601_ms(ms, out);
  return out;
}

std::optional<std::int64_t> parse_iso8601(std::string_view s) noexcept {
  using namespace std::chrono;
  int y = 0, mo = 0, d = 0;
  if (!digits(s, 0, 4, y) || s.size() < 10 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d)) {
    return std::nullopt;
  }
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)},
                           day{static_cast<unsigned>(d)}};
  if (y < 1970 || !ymd.ok()) return std::nullopt;
  std::int64_t ms = duration_cast<milliseconds>(sys_days{ymd}.time_since_epoch()).count();
  std::size_t pos = 10;
  if (pos == s.size()) return ms;
  if (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ') return std::nullopt;
  int h = 0, mi = 0, sec = 0;
  if (!digits(s, pos + 1, 2, h) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
      !digits(s, pos + 4, 2, mi)) {
    return std::nullopt;
  }
  pos += 6;
  if (pos < s.size() && s[pos] == ':') {
    if (!digits(s, pos + 1, 2, sec)) return std::nullopt;
    pos += 3;
  }
  if (h > 23 || mi > 59 || sec > 60) return std::nullopt;  // 60: a leap second, folded below
  ms += (static_cast<std::int64_t>(h) * 3600 + mi * 60 + sec) * 1000;
  if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
    ++pos;
    const std::size_t start = pos;
    int frac = 0;
    int scale = 100;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      frac += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start || pos - start > 9) return std::nullopt;
    ms += frac;
  }
  if (pos == s.size()) return ms;  // no zone: UTC, as the cloud assumes
  if ((s[pos] == 'Z' || s[pos] == 'z') && pos + 1 == s.size()) return ms;
  if (s[pos] == '+' || s[pos] == '-') {
    const int sign = s[pos] == '+' ? 1 : -1;
    int oh = 0, om = 0;
    if (!digits(s, pos + 1, 2, oh)) return std::nullopt;
    std::size_t p = pos + 3;
    if (p < s.size() && s[p] == ':') ++p;
    if (p < s.size()) {
      if (!digits(s, p, 2, om)) return std::nullopt;
      p += 2;
    }
    if (p != s.size() || oh > 23 || om > 59) return std::nullopt;
    ms -= sign * (static_cast<std::int64_t>(oh) * 60 + om) * 60 * 1000;
    if (ms < 0) return std::nullopt;
    return ms;
  }
  return std::nullopt;
}

std::optional<std::int64_t> unix_timestamp_to_ms(double value) noexcept {
  if (!std::isfinite(value) || value < 0) return std::nullopt;
  // 253402300800 s is year 10000: larger "seconds" can only be milliseconds.
  if (value < 1e11) return static_cast<std::int64_t>(std::llround(value * 1000.0));
  if (value < 253402300800000.0) return static_cast<std::int64_t>(std::llround(value));
  return std::nullopt;
}

}  // namespace edgegw::core
