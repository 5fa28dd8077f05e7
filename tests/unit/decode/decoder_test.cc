// SPDX-License-Identifier: Apache-2.0
#include "decode/decoder.h"

#include <gtest/gtest.h>

#include <string>

#include "test_util.h"

namespace edgegw::decode {
namespace {

using testing::kReceiveMs;

TEST(Format, NamesRoundTrip) {
  for (const Format f : {Format::kTagoJson, Format::kFlatJson, Format::kCsv, Format::kRaw}) {
    EXPECT_EQ(parse_format(format_name(f)), f);
  }
  EXPECT_EQ(format_name(Format::kTagoJson), "tago_json");
  EXPECT_EQ(format_name(Format::kFlatJson), "flat_json");
  EXPECT_EQ(format_name(Format::kCsv), "csv");
  EXPECT_EQ(format_name(Format::kRaw), "raw");
  EXPECT_EQ(parse_format("json"), std::nullopt);
  EXPECT_EQ(parse_format("TAGO_JSON"), std::nullopt);
  EXPECT_EQ(parse_format(""), std::nullopt);
}

// What every format shares: the payload-level checks.
class EveryFormat : public ::testing::TestWithParam<Format> {
 protected:
  DecodeOutput run(std::string_view payload) { return testing::run(GetParam(), payload, "var"); }
  // A payload that decodes to exactly one good reading in this format.
  std::string good() const {
    switch (GetParam()) {
      case Format::kTagoJson:
        return R"({"variable":"var","value":1})";
      case Format::kFlatJson:
        return R"({"var":1})";
      case Format::kCsv:
        return "var,1\n";
      case Format::kRaw:
        return "1";
    }
    return "";
  }
};

TEST_P(EveryFormat, GoodPayload) {
  const DecodeOutput out = run(good());
  EXPECT_FALSE(out.payload_rejected) << out.first_error;
  ASSERT_EQ(out.readings.size(), 1u);
  EXPECT_EQ(out.readings[0].variable, "var");
  EXPECT_EQ(out.readings[0].value, Value(std::int64_t{1}));
  EXPECT_EQ(out.readings[0].time_ms, kReceiveMs);
}

TEST_P(EveryFormat, EmptyPayloadIsRejected) {
  const DecodeOutput out = run("");
  EXPECT_TRUE(out.payload_rejected);
  EXPECT_EQ(out.first_error, "empty payload");
}

TEST_P(EveryFormat, OversizedPayloadIsRejected) {
  const std::string big(kMaxPayloadBytes + 1, ' ');
  const DecodeOutput out = run(big);
  EXPECT_TRUE(out.payload_rejected);
  EXPECT_TRUE(out.readings.empty());
  EXPECT_EQ(out.first_error, "payload of 16777217 bytes is over the limit of 16777216");
}

TEST_P(EveryFormat, InvalidUtf8AnywhereIsRejected) {
  for (const std::string bad : {"\xc0\xaf", "\xed\xa0\x80", "\xed\xbf\xbf", "\xe2\x82", "\xff",
                                "\xf4\x90\x80\x80", "\x80"}) {
    // At the end of a payload that is otherwise good, so nothing of it may be kept.
    const std::string payload = good() + bad;
    const DecodeOutput out = run(payload);
    EXPECT_TRUE(out.payload_rejected) << ::testing::PrintToString(bad);
    EXPECT_TRUE(out.readings.empty());
    EXPECT_EQ(out.first_error,
              "payload is not valid UTF-8 (at byte " + std::to_string(good().size()) + ")");
  }
}

TEST_P(EveryFormat, OutputIsAppendedAndARejectionKeepsEarlierReadings) {
  DecodeOutput out;
  const std::string first = good();
  const RawMessage msg{"src", "dev", "var", first, kReceiveMs};
  decode(GetParam(), msg, out);
  decode(GetParam(), msg, out);
  ASSERT_EQ(out.readings.size(), 2u);
  const std::string bad = "\xff";
  const RawMessage bad_msg{"src", "dev", "var", bad, kReceiveMs};
  decode(GetParam(), bad_msg, out);
  EXPECT_TRUE(out.payload_rejected);
  EXPECT_EQ(out.readings.size(), 2u);
  out.clear();
  EXPECT_TRUE(out.readings.empty());
  EXPECT_FALSE(out.payload_rejected);
  EXPECT_EQ(out.invalid, 0u);
  EXPECT_TRUE(out.first_error.empty());
}

TEST_P(EveryFormat, TheFirstErrorIsKept) {
  DecodeOutput out;
  const RawMessage empty{"src", "dev", "var", "", kReceiveMs};
  decode(GetParam(), empty, out);
  const std::string bad = "\xff";
  const RawMessage bad_msg{"src", "dev", "var", bad, kReceiveMs};
  decode(GetParam(), bad_msg, out);
  EXPECT_EQ(out.first_error, "empty payload");
}

TEST_P(EveryFormat, ArbitraryBytesNeverCrash) {
  // A cheap in-test fuzz: every prefix of a mixed payload, and every single byte.
  const std::string mixed =
      R"([{"variable":"a","value":"x,y\"z","location":{"lat":1,"lng":2},"metadata":{"m":[1e400]}},)"
      "\n\"q\",\"w\"\r\n#c\nk,1e5,u,2024-01-01\n";
  for (std::size_t n = 1; n <= mixed.size(); ++n) (void)run(mixed.substr(0, n));
  for (int c = 0; c < 256; ++c) (void)run(std::string(1, static_cast<char>(c)));
}

INSTANTIATE_TEST_SUITE_P(Decode, EveryFormat,
                         ::testing::Values(Format::kTagoJson, Format::kFlatJson, Format::kCsv,
                                           Format::kRaw),
                         [](const ::testing::TestParamInfo<Format>& param_info) {
                           return std::string(format_name(param_info.param));
                         });

}  // namespace
}  // namespace edgegw::decode
