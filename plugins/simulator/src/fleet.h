// SPDX-License-Identifier: Apache-2.0
// Synthetic devices: each renders its next message as a tago_json array, one reading per
// configured variable, with plausible waveforms. Shared by the simulator plugin (in-process
// appends) and edgegw-simulate (the same devices publishing over MQTT), so both feed the host
// the same bytes a real device would.
//
// Every reading carries `time` (the generation time, ISO 8601 with milliseconds: the emulator
// measures end-to-end latency from it) and `metadata.seq`, numbered per device from 1 with no gap,
// so the cloud emulator can count duplicates, order violations and losses. A deliberately
// malformed message takes no seq: what the host rejects leaves no hole.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edgegw::plugins::simulator {

enum class Waveform {
  kTemperature,  // "temperature" (C): per-device base, slow sine, bounded random drift, noise
  kCounter,      // "counter": monotonic, grows by 0..10 per message
  kSwitch,       // "switch": a boolean that flips now and then
  kGps,          // "position": speed in km/h as value, location moving along a track
};

std::optional<Waveform> parse_waveform(std::string_view name);
std::string_view waveform_name(Waveform w);  // the variable it produces
inline constexpr std::string_view kWaveformNames = "temperature, counter, switch, gps";

struct FleetOptions {
  std::uint32_t devices = 10;
  std::uint32_t first = 1;  // the first device's number: a fleet may be one slice of a larger one
  std::string key_pattern = "sim-{n}";  // {n}: 1..devices
  std::vector<Waveform> variables = {Waveform::kTemperature, Waveform::kCounter, Waveform::kSwitch,
                                     Waveform::kGps};
  double malformed = 0;  // fraction of messages rendered broken (0..1)
  std::uint64_t seed = 1;
};

// The key of device number n: key_pattern with every {n} replaced.
std::string device_key(std::string_view pattern, std::uint32_t n);

class Fleet {
 public:
  explicit Fleet(const FleetOptions& options);

  std::size_t size() const { return devices_.size(); }
  const std::string& key(std::size_t i) const { return devices_[i].key; }

  // Renders device i's next message at `time_ms` (UTC ms since the epoch) into `out` (replacing
  // it). Returns false when the message was deliberately made malformed.
  bool next(std::size_t i, std::int64_t time_ms, std::string& out);

  // Readings (not messages) rendered well-formed so far, over all devices.
  std::uint64_t readings() const { return readings_; }
  std::uint64_t malformed() const { return malformed_; }

 private:
  struct Device {
    std::string key;
    std::uint64_t rng = 0;
    std::uint64_t seq = 0;  // the last reading's seq
    std::uint64_t messages = 0;
    double temp_base = 0, temp_drift = 0, sine_phase = 0;
    std::uint64_t counter = 0;
    bool on = false;
    double lat = 0, lng = 0, heading = 0, speed = 0;
  };

  void render_reading(Device& d, Waveform w, std::string_view time, std::string& out);

  std::vector<Device> devices_;
  std::vector<Waveform> variables_;
  double malformed_fraction_ = 0;
  std::uint64_t readings_ = 0;
  std::uint64_t malformed_ = 0;
  std::int64_t time_cache_ms_ = -1;
  std::string time_cache_;
};

// UTC ms since the epoch as ISO 8601 with milliseconds: 2026-11-26T03:53:29.123Z.
std::string iso_time(std::int64_t time_ms);

}  // namespace edgegw::plugins::simulator
