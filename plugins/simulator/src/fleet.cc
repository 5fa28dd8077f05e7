// SPDX-License-Identifier: Apache-2.0
#include "fleet.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <ctime>
#include <numbers>

namespace edgegw::plugins::simulator {
namespace {

// splitmix64: tiny, fast and good enough for waveforms; one state per device keeps a device's
// sequence independent of how the devices are interleaved.
std::uint64_t next_u64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

double uniform(std::uint64_t& state) {  // [0, 1)
  return static_cast<double>(next_u64(state) >> 11) * 0x1.0p-53;
}

void append_number(std::string& out, double v, int decimals) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, decimals);
  out.append(buf, r.ptr);
}

void append_uint(std::string& out, std::uint64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

constexpr double kTwoPi = 2 * std::numbers::pi;
constexpr double kSinePeriodMessages = 600;  // a full temperature cycle every 600 messages
// The tracks circle around a point near Florianopolis; a degree of latitude is ~111 km.
constexpr double kOriginLat = -27.5954, kOriginLng = -48.5480;

}  // namespace

std::optional<Waveform> parse_waveform(std::string_view name) {
  if (name == "temperature") return Waveform::kTemperature;
  if (name == "counter") return Waveform::kCounter;
  if (name == "switch") return Waveform::kSwitch;
  if (name == "gps") return Waveform::kGps;
  return std::nullopt;
}

std::string_view waveform_name(Waveform w) {
  switch (w) {
    case Waveform::kTemperature:
      return "temperature";
    case Waveform::kCounter:
      return "counter";
    case Waveform::kSwitch:
      return "switch";
    case Waveform::kGps:
      return "position";
  }
  return "?";
}

std::string device_key(std::string_view pattern, std::uint32_t n) {
  std::string out;
  const std::string num = std::to_string(n);
  std::size_t pos = 0;
  for (;;) {
    const std::size_t at = pattern.find("{n}", pos);
    if (at == std::string_view::npos) {
      out.append(pattern.substr(pos));
      return out;
    }
    out.append(pattern.substr(pos, at - pos));
    out += num;
    pos = at + 3;
  }
}

std::string iso_time(std::int64_t time_ms) {
  const std::time_t secs = static_cast<std::time_t>(time_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out(buf, n);
  const auto ms = static_cast<unsigned>(time_ms % 1000);
  out += '.';
  out += static_cast<char>('0' + ms / 100);
  out += static_cast<char>('0' + ms / 10 % 10);
  out += static_cast<char>('0' + ms % 10);
  out += 'Z';
  return out;
}

Fleet::Fleet(const FleetOptions& options)
    : variables_(options.variables), malformed_fraction_(options.malformed) {
  devices_.resize(options.devices);
  for (std::uint32_t i = 0; i < options.devices; ++i) {
    const std::uint32_t n = options.first + i;
    Device& d = devices_[i];
    d.key = device_key(options.key_pattern, n);
    d.rng = options.seed * 0x100000001b3ULL + n;
    d.temp_base = 18 + 6 * uniform(d.rng);
    d.sine_phase = kTwoPi * uniform(d.rng);
    d.counter = next_u64(d.rng) % 1000;
    d.on = uniform(d.rng) < 0.5;
    const double r = 0.01 + 0.02 * uniform(d.rng);  // 1-3 km from the origin
    const double a = kTwoPi * uniform(d.rng);
    d.lat = kOriginLat + r * std::sin(a);
    d.lng = kOriginLng + r * std::cos(a);
    d.heading = kTwoPi * uniform(d.rng);
    d.speed = 20 + 40 * uniform(d.rng);
  }
}

bool Fleet::next(std::size_t i, std::int64_t time_ms, std::string& out) {
  Device& d = devices_[i];
  ++d.messages;
  if (time_ms != time_cache_ms_) {
    time_cache_ = iso_time(time_ms);
    time_cache_ms_ = time_ms;
  }
  out.clear();
  out += '[';
  for (std::size_t v = 0; v < variables_.size(); ++v) {
    if (v > 0) out += ',';
    render_reading(d, variables_[v], time_cache_, out);
  }
  out += ']';
  if (malformed_fraction_ > 0 && uniform(d.rng) < malformed_fraction_) {
    // Broken JSON (cut in the middle): the host counts it as a decode reject. Its seqs are
    // given back so the well-formed readings stay numbered without gaps.
    out.resize(out.size() / 2);
    d.seq -= variables_.size();
    ++malformed_;
    return false;
  }
  readings_ += variables_.size();
  return true;
}

void Fleet::render_reading(Device& d, Waveform w, std::string_view time, std::string& out) {
  out += R"({"variable":")";
  out += waveform_name(w);
  out += R"(","value":)";
  const auto m = static_cast<double>(d.messages);
  switch (w) {
    case Waveform::kTemperature: {
      // Drift is a bounded random walk; the sine is a slow day-like cycle.
      d.temp_drift = std::clamp(d.temp_drift + (uniform(d.rng) - 0.5) * 0.1, -1.5, 1.5);
      const double t = d.temp_base + 2 * std::sin(d.sine_phase + kTwoPi * m / kSinePeriodMessages) +
                       d.temp_drift + (uniform(d.rng) - 0.5) * 0.05;
      append_number(out, t, 2);
      out += R"(,"unit":"C")";
      break;
    }
    case Waveform::kCounter:
      d.counter += next_u64(d.rng) % 11;
      append_uint(out, d.counter);
      break;
    case Waveform::kSwitch:
      if (uniform(d.rng) < 0.05) d.on = !d.on;
      out += d.on ? "true" : "false";
      break;
    case Waveform::kGps: {
      d.heading += (uniform(d.rng) - 0.5) * 0.2;
      d.speed = std::clamp(d.speed + (uniform(d.rng) - 0.5) * 4, 0.0, 90.0);
      const double step = d.speed / 3600.0 / 111.0;  // degrees moved in one second at that speed
      d.lat += step * std::sin(d.heading);
      d.lng += step * std::cos(d.heading) / std::cos(d.lat * std::numbers::pi / 180);
      // Pull back toward the origin so the track stays in the area.
      if (std::hypot(d.lat - kOriginLat, d.lng - kOriginLng) > 0.05) d.heading += std::numbers::pi;
      append_number(out, d.speed, 1);
      out += R"(,"unit":"km/h","location":{"lat":)";
      append_number(out, d.lat, 6);
      out += R"(,"lng":)";
      append_number(out, d.lng, 6);
      out += '}';
      break;
    }
  }
  out += R"(,"time":")";
  out += time;
  out += R"(","metadata":{"seq":)";
  append_uint(out, ++d.seq);
  out += "}}";
}

}  // namespace edgegw::plugins::simulator
