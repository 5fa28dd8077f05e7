// SPDX-License-Identifier: Apache-2.0
#include "fleet.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include <cmath>

namespace edgegw::plugins::simulator {
namespace {

namespace json = boost::json;

constexpr std::int64_t kT0 = 1'764'129'209'123;  // 2025-11-26T03:53:29.123Z

json::array parse_array(const std::string& s) {
  json::value v = json::parse(s);
  EXPECT_TRUE(v.is_array()) << s;
  return v.as_array();
}

TEST(Fleet, KeysFollowThePatternFromFirst) {
  EXPECT_EQ(device_key("sim-{n}", 7), "sim-7");
  EXPECT_EQ(device_key("{n}/x/{n}", 12), "12/x/12");
  EXPECT_EQ(device_key("fixed", 3), "fixed");
  FleetOptions o;
  o.devices = 3;
  o.first = 5;
  Fleet fleet(o);
  ASSERT_EQ(fleet.size(), 3u);
  EXPECT_EQ(fleet.key(0), "sim-5");
  EXPECT_EQ(fleet.key(2), "sim-7");
}

TEST(Fleet, IsoTimeHasMilliseconds) {
  EXPECT_EQ(iso_time(kT0), "2025-11-26T03:53:29.123Z");
  EXPECT_EQ(iso_time(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(iso_time(5), "1970-01-01T00:00:00.005Z");
}

TEST(Fleet, MessageIsATagoJsonArrayWithTimeAndGaplessSeqs) {
  FleetOptions o;
  o.devices = 2;
  Fleet fleet(o);
  std::string out;
  std::int64_t expected_seq[2] = {0, 0};
  for (int m = 0; m < 10; ++m) {
    const std::size_t d = static_cast<std::size_t>(m % 2);
    ASSERT_TRUE(fleet.next(d, kT0 + m, out));
    const json::array a = parse_array(out);
    ASSERT_EQ(a.size(), 4u);
    const char* names[] = {"temperature", "counter", "switch", "position"};
    for (std::size_t i = 0; i < 4; ++i) {
      const json::object& r = a[i].as_object();
      EXPECT_EQ(r.at("variable").as_string(), names[i]);
      EXPECT_EQ(r.at("time").as_string(), iso_time(kT0 + m));
      EXPECT_EQ(r.at("metadata").at("seq").as_int64(), ++expected_seq[d]);
    }
    EXPECT_TRUE(a[0].at("value").is_double());
    EXPECT_EQ(a[0].at("unit").as_string(), "C");
    EXPECT_TRUE(a[1].at("value").is_int64());
    EXPECT_TRUE(a[2].at("value").is_bool());
    EXPECT_TRUE(a[3].at("location").at("lat").is_double());
  }
  EXPECT_EQ(fleet.readings(), 40u);
}

TEST(Fleet, WaveformsArePlausible) {
  FleetOptions o;
  o.devices = 1;
  Fleet fleet(o);
  std::string out;
  double tmin = 1e9, tmax = -1e9, prev_t = NAN;
  std::int64_t prev_counter = -1;
  int flips = 0;
  bool prev_switch = false;
  double max_step = 0;
  double prev_lat = NAN, prev_lng = NAN;
  for (int m = 0; m < 3000; ++m) {
    ASSERT_TRUE(fleet.next(0, kT0 + 1000LL * m, out));
    const json::array a = parse_array(out);
    const double t = a[0].at("value").as_double();
    tmin = std::min(tmin, t);
    tmax = std::max(tmax, t);
    if (!std::isnan(prev_t)) {
      EXPECT_LT(std::abs(t - prev_t), 0.5) << "temperature jumps at " << m;
    }
    prev_t = t;
    const std::int64_t c = a[1].at("value").as_int64();
    EXPECT_GE(c, prev_counter) << "counter goes back at " << m;
    prev_counter = c;
    const bool s = a[2].at("value").as_bool();
    if (m > 0 && s != prev_switch) ++flips;
    prev_switch = s;
    const double lat = a[3].at("location").at("lat").as_double();
    const double lng = a[3].at("location").at("lng").as_double();
    if (!std::isnan(prev_lat)) {
      max_step = std::max(max_step, std::hypot(lat - prev_lat, lng - prev_lng));
    }
    prev_lat = lat;
    prev_lng = lng;
    EXPECT_LT(std::abs(lat - -27.5954), 0.2);
  }
  // Room temperatures with a visible swing, a switch that toggles now and then, a vehicle that
  // moves but does not teleport (90 km/h for a second is 0.00023 degrees).
  EXPECT_GT(tmin, 10);
  EXPECT_LT(tmax, 32);
  EXPECT_GT(tmax - tmin, 2);
  EXPECT_GT(flips, 50);
  EXPECT_LT(flips, 300);
  EXPECT_GT(max_step, 0);
  EXPECT_LT(max_step, 0.01);
}

TEST(Fleet, SameSeedSameDevicesWhateverTheSlice) {
  FleetOptions all;
  all.devices = 4;
  FleetOptions slice = all;
  slice.devices = 2;
  slice.first = 3;
  Fleet a(all), b(slice);
  std::string x, y;
  for (int m = 0; m < 20; ++m) {
    a.next(2 + static_cast<std::size_t>(m % 2), kT0, x);
    b.next(static_cast<std::size_t>(m % 2), kT0, y);
    EXPECT_EQ(x, y);
  }
}

TEST(Fleet, MalformedFractionIsBrokenJsonAndTakesNoSeq) {
  FleetOptions o;
  o.devices = 1;
  o.variables = {Waveform::kCounter};
  o.malformed = 0.2;
  Fleet fleet(o);
  std::string out;
  std::int64_t seq = 0;
  int broken = 0;
  for (int m = 0; m < 2000; ++m) {
    if (!fleet.next(0, kT0, out)) {
      ++broken;
      boost::system::error_code ec;
      (void)json::parse(out, ec);
      EXPECT_TRUE(ec) << out;
      continue;
    }
    EXPECT_EQ(parse_array(out)[0].at("metadata").at("seq").as_int64(), ++seq);
  }
  EXPECT_EQ(fleet.malformed(), static_cast<std::uint64_t>(broken));
  EXPECT_GT(broken, 300);
  EXPECT_LT(broken, 500);
  EXPECT_EQ(fleet.readings(), static_cast<std::uint64_t>(seq));
}

TEST(Fleet, WaveformNamesRoundTrip) {
  for (const char* n : {"temperature", "counter", "switch", "gps"}) EXPECT_TRUE(parse_waveform(n));
  EXPECT_EQ(waveform_name(*parse_waveform("gps")), "position");
  EXPECT_FALSE(parse_waveform("humidity"));
}

}  // namespace
}  // namespace edgegw::plugins::simulator
