// SPDX-License-Identifier: Apache-2.0
#include "core/time.h"

#include <gtest/gtest.h>

namespace edgegw::core {
namespace {

constexpr std::int64_t k2024 = 1704067200000;  // 2024-01-01T00:00:00Z

TEST(Time, FormatsUtcWithMilliseconds) {
  EXPECT_EQ(format_iso8601_ms(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_iso8601_ms(k2024 + 1), "2024-01-01T00:00:00.001Z");
  EXPECT_EQ(format_iso8601_ms(951782400000 + 86399999), "2000-02-29T23:59:59.999Z");
  EXPECT_EQ(format_iso8601_ms(253402300799999), "9999-12-31T23:59:59.999Z");
}

TEST(Time, TheSameTimeAgainAndAnotherAfterItAreEachTheirOwn) {
  // The thread's last text is kept (append_iso8601_ms): a repeat reuses it, a change replaces it.
  std::string out;
  for (const std::int64_t ms : {k2024, k2024, k2024 + 1, k2024, std::int64_t{0}, std::int64_t{0}}) {
    append_iso8601_ms(ms, out);
    out += ' ';
  }
  EXPECT_EQ(out,
            "2024-01-01T00:00:00.000Z 2024-01-01T00:00:00.000Z 2024-01-01T00:00:00.001Z "
            "2024-01-01T00:00:00.000Z 1970-01-01T00:00:00.000Z 1970-01-01T00:00:00.000Z ");
}

TEST(Time, ParsesTheCloudsForms) {
  EXPECT_EQ(parse_iso8601("2024-01-01T00:00:00Z"), k2024);
  EXPECT_EQ(parse_iso8601("2024-01-01T00:00:00.123Z"), k2024 + 123);
  EXPECT_EQ(parse_iso8601("2024-01-01T00:00:00.1234567Z"), k2024 + 123);
  EXPECT_EQ(parse_iso8601("2024-01-01T00:00:00.5Z"), k2024 + 500);
  EXPECT_EQ(parse_iso8601("2024-01-01T02:00:00+02:00"), k2024);
  EXPECT_EQ(parse_iso8601("2024-01-01T02:00:00+0200"), k2024);
  EXPECT_EQ(parse_iso8601("2023-12-31T23:00:00-01:00"), k2024);
  EXPECT_EQ(parse_iso8601("2024-01-01T00:00:00"), k2024);
  EXPECT_EQ(parse_iso8601("2024-01-01 00:00:00"), k2024);
  EXPECT_EQ(parse_iso8601("2024-01-01T00:00Z"), k2024);
  EXPECT_EQ(parse_iso8601("2024-01-01"), k2024);
}

TEST(Time, RefusesWhatIsNotATime) {
  for (const char* bad :
       {"", "2024", "2024-13-01", "2024-02-30", "2024-01-01T25:00:00Z", "2024-01-01T00:00:00ZZ",
        "2024-01-01T00:00:00+2", "1969-12-31", "2024-01-01T00:00:00.Z", "2024-01-01T00:00:00 Z",
        "yesterday", "2024-01-01T00:00:00.1234567890Z", "1970-01-01T00:00:00+01:00"}) {
    EXPECT_FALSE(parse_iso8601(bad).has_value()) << bad;
  }
}

TEST(Time, RoundTrips) {
  for (std::int64_t ms : {std::int64_t{0}, k2024, k2024 + 999, std::int64_t{1732579200123}}) {
    EXPECT_EQ(parse_iso8601(format_iso8601_ms(ms)), ms);
  }
}

TEST(Time, UnixTimestamps) {
  EXPECT_EQ(unix_timestamp_to_ms(1704067200), k2024);
  EXPECT_EQ(unix_timestamp_to_ms(1704067200.5), k2024 + 500);
  EXPECT_EQ(unix_timestamp_to_ms(1704067200000.0), k2024);
  EXPECT_FALSE(unix_timestamp_to_ms(-1).has_value());
  EXPECT_FALSE(unix_timestamp_to_ms(1e300).has_value());
}

}  // namespace
}  // namespace edgegw::core
