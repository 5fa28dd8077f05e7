// SPDX-License-Identifier: Apache-2.0
// The device mapping: which buffer queue (cloud device) a device key's readings go to, and what
// happens to each variable on the way (rename, unit, scale/offset). Built from the config on
// start and on every reload; readers take an immutable snapshot (swapped atomically).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "buffer/key_format.h"
#include "config/config.h"
#include "edgegw/reading.h"
#include "ingest/time_check.h"
#include "ingest/unmapped.h"

namespace edgegw::ingest {

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};
template <typename V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

struct MappedDevice {
  buffer::DeviceId id = 0;
  StringMap<config::VariableMapping> variables;  // by the name the source reports (lower case)
};

// A device that a token names (the local Device API's authentication).
struct TokenOwner {
  std::string key;
  buffer::DeviceId id = 0;
};

// Devices the config does not list that the gateway knows all the same (provisioned ones): asked
// by MappingTable::find() after the configured devices. Called on the sources' threads.
class DeviceResolver {
 public:
  virtual ~DeviceResolver() = default;
  // The device of `key`, or nullptr (its readings are unmapped). A device returned stays valid
  // as long as the resolver.
  virtual const MappedDevice* resolve(std::string_view key) = 0;
};

// An immutable snapshot of the mapping.
class MappingTable {
 public:
  // `devices[i]` is queued under `ids[i]`; `default_id` is the catch-all queue (nullopt: reject).
  // `time_rules`: what is done with the devices' implausible times (cloud.implausible_time).
  // `resolver`: asked for the keys not configured, before the catch-all (must outlive the table).
  MappingTable(const std::vector<config::DeviceConfig>& devices,
               const std::vector<buffer::DeviceId>& ids, std::optional<buffer::DeviceId> default_id,
               TimeRules time_rules = {}, DeviceResolver* resolver = nullptr);

  // The device a key maps to: configured, else the resolver's, else the catch-all device; or
  // nullptr (unmapped: reject).
  const MappedDevice* find(std::string_view device_key) const;
  // A configured device only (no catch-all), or nullptr.
  const MappedDevice* find_configured(std::string_view device_key) const noexcept;

  // The configured device whose `token` or `local_token` is `token`, or nullptr. The lookup is by
  // SHA-256 of the token and the final comparison constant-time, so the time taken says nothing
  // about how much of a token was right.
  const TokenOwner* authenticate(std::string_view token) const noexcept;

  const TimeRules& time_rules() const noexcept { return time_rules_; }

 private:
  using Digest = std::array<unsigned char, 32>;
  struct DigestHash {
    std::size_t operator()(const Digest& d) const noexcept;
  };
  struct TokenEntry {
    std::string token;
    TokenOwner owner;
  };
  static Digest digest(std::string_view token) noexcept;

  StringMap<MappedDevice> devices_;
  std::optional<MappedDevice> default_;
  std::unordered_map<Digest, TokenEntry, DigestHash> tokens_;
  TimeRules time_rules_;
  DeviceResolver* resolver_ = nullptr;
};

// Applies a variable's mapping to a reading. Returns why the result is not a valid reading
// (a renamed variable is valid by construction: the config checks it), or nullopt.
std::optional<std::string> apply(const config::VariableMapping& mapping, Reading& reading);

// The current table, shared by every source; replaced whole on reload.
class Mapping {
 public:
  Mapping() = default;
  explicit Mapping(std::shared_ptr<const MappingTable> table) : table_(std::move(table)) {}
  std::shared_ptr<const MappingTable> load() const noexcept {
    return table_.load(std::memory_order_acquire);
  }
  void store(std::shared_ptr<const MappingTable> table) noexcept {
    table_.store(std::move(table), std::memory_order_release);
  }

 private:
  std::atomic<std::shared_ptr<const MappingTable>> table_;
};

}  // namespace edgegw::ingest
