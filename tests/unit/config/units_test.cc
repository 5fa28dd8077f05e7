// SPDX-License-Identifier: Apache-2.0
#include "config/units.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace edgegw::config {
namespace {

using std::chrono::milliseconds;

struct DurationCase {
  const char* text;
  std::int64_t ms;  // -1: an error
  const char* error;
};

TEST(ConfigParseDurationTest, AcceptsEachUnitAndRefusesTheRest) {
  const DurationCase cases[] = {
      {"250ms", 250, nullptr},
      {"10s", 10'000, nullptr},
      {"5m", 300'000, nullptr},
      {"1h", 3'600'000, nullptr},
      {"7d", 604'800'000, nullptr},
      {"0s", 0, nullptr},
      {"0ms", 0, nullptr},
      {"10", -1, "'10' needs a unit: ms, s, m, h or d"},
      {"0", -1, "'0' needs a unit: ms, s, m, h or d"},
      {"", -1, "'' is empty; write e.g. 250ms, 10s, 5m, 1h or 7d"},
      {"-5s", -1, "'-5s' is negative"},
      {"1.5s", -1,
       "'1.5s' must be a whole number with a unit (no fractions); write e.g. 250ms, 10s, 5m, 1h or "
       "7d"},
      {"10 s", -1, "'10 s' must not have a space between the number and the unit"},
      {"10sec", -1, "'10sec' has an unknown unit; use ms, s, m, h or d"},
      {"10S", -1, "'10S' has an unknown unit; use ms, s, m, h or d"},
      {"s", -1, "'s' is not a number with a unit; write e.g. 250ms, 10s, 5m, 1h or 7d"},
      {"+5s", -1, "'+5s' is not a number with a unit; write e.g. 250ms, 10s, 5m, 1h or 7d"},
      {"99999999999999999999ms", -1, "'99999999999999999999ms' is too large"},
      {"9223372036854775807ms", 9223372036854775807LL, nullptr},
      {"9223372036854775807s", -1, "'9223372036854775807s' is too large"},
      {"106751991167d", 9223372036828800000LL, nullptr},
      {"106751991168d", -1, "'106751991168d' is too large"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    const auto result = parse_duration(c.text);
    if (c.error == nullptr) {
      ASSERT_TRUE(std::holds_alternative<Duration>(result)) << std::get<std::string>(result);
      EXPECT_EQ(std::get<Duration>(result), milliseconds(c.ms));
    } else {
      ASSERT_TRUE(std::holds_alternative<std::string>(result));
      EXPECT_EQ(std::get<std::string>(result), c.error);
    }
  }
}

struct SizeCase {
  const char* text;
  std::uint64_t bytes;
  const char* error;
};

TEST(ConfigParseSizeTest, AcceptsBinaryAndSiUnitsAndBareBytes) {
  const SizeCase cases[] = {
      {"512KiB", 512 * 1024, nullptr},
      {"64MiB", 64ULL << 20, nullptr},
      {"2GiB", 2ULL << 30, nullptr},
      {"1TiB", 1ULL << 40, nullptr},
      {"200kB", 200'000, nullptr},
      {"5MB", 5'000'000, nullptr},
      {"1GB", 1'000'000'000, nullptr},
      {"2TB", 2'000'000'000'000ULL, nullptr},
      {"4096", 4096, nullptr},
      {"0", 0, nullptr},
      {"18446744073709551615", 18446744073709551615ULL, nullptr},
      {"18446744073709551616", 0, "'18446744073709551616' is too large"},
      {"17179869184GiB", 0, "'17179869184GiB' is too large"},
      {"1KB", 0,
       "'1KB' has an unknown unit; use KiB, MiB, GiB, TiB, kB, MB, GB, TB or none for bytes"},
      {"1kib", 0,
       "'1kib' has an unknown unit; use KiB, MiB, GiB, TiB, kB, MB, GB, TB or none for bytes"},
      {"1.5MiB", 0,
       "'1.5MiB' must be a whole number with a unit (no fractions); write e.g. 512KiB, 64MiB, "
       "2GiB, 200kB or a number of bytes"},
      {"-1", 0, "'-1' is negative"},
      {"MiB", 0,
       "'MiB' is not a number with a unit; write e.g. 512KiB, 64MiB, 2GiB, 200kB or a number of "
       "bytes"},
      {"64 MiB", 0, "'64 MiB' must not have a space between the number and the unit"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    const auto result = parse_size(c.text);
    if (c.error == nullptr) {
      ASSERT_TRUE(std::holds_alternative<std::uint64_t>(result)) << std::get<std::string>(result);
      EXPECT_EQ(std::get<std::uint64_t>(result), c.bytes);
    } else {
      ASSERT_TRUE(std::holds_alternative<std::string>(result));
      EXPECT_EQ(std::get<std::string>(result), c.error);
    }
  }
}

TEST(ConfigFormatDurationTest, UsesTheLargestExactUnit) {
  EXPECT_EQ(format_duration(milliseconds(1500)), "1500ms");
  EXPECT_EQ(format_duration(std::chrono::seconds(10)), "10s");
  EXPECT_EQ(format_duration(std::chrono::minutes(5)), "5m");
  EXPECT_EQ(format_duration(std::chrono::hours(48)), "2d");
  EXPECT_EQ(format_duration(milliseconds(0)), "0ms");
}

TEST(ConfigDetailReasonTest, DoesNotRepeatTheText) {
  const auto result = detail::duration_or_reason("10");
  ASSERT_TRUE(std::holds_alternative<std::string>(result));
  EXPECT_EQ(std::get<std::string>(result), "needs a unit: ms, s, m, h or d");
  const auto size = detail::size_or_reason("x");
  ASSERT_TRUE(std::holds_alternative<std::string>(size));
  EXPECT_EQ(std::get<std::string>(size).find('x'), std::string::npos);
}

}  // namespace
}  // namespace edgegw::config
