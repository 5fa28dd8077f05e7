// SPDX-License-Identifier: Apache-2.0
#include "ingest/mapping.h"

#include <cmath>
#include <cstring>
#include <variant>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "decode/encode.h"

namespace edgegw::ingest {

MappingTable::MappingTable(const std::vector<config::DeviceConfig>& devices,
                           const std::vector<buffer::DeviceId>& ids,
                           std::optional<buffer::DeviceId> default_id, TimeRules time_rules,
                           DeviceResolver* resolver)
    : time_rules_(time_rules), resolver_(resolver) {
  devices_.reserve(devices.size());
  for (std::size_t i = 0; i < devices.size() && i < ids.size(); ++i) {
    MappedDevice& d = devices_[devices[i].key];
    d.id = ids[i];
    for (const auto& [name, mapping] : devices[i].variables) d.variables.emplace(name, mapping);
    for (const config::Secret* token : {&devices[i].token, &devices[i].local_token}) {
      if (token->empty()) continue;
      // A token shared by two devices names the first.
      tokens_.try_emplace(digest(token->reveal()),
                          TokenEntry{token->reveal(), TokenOwner{devices[i].key, ids[i]}});
    }
  }
  if (default_id) default_ = MappedDevice{*default_id, {}};
}

const MappedDevice* MappingTable::find(std::string_view device_key) const {
  if (auto it = devices_.find(device_key); it != devices_.end()) return &it->second;
  if (resolver_ != nullptr) {
    if (const MappedDevice* d = resolver_->resolve(device_key)) return d;
  }
  return default_ ? &*default_ : nullptr;
}

const MappedDevice* MappingTable::find_configured(std::string_view device_key) const noexcept {
  auto it = devices_.find(device_key);
  return it != devices_.end() ? &it->second : nullptr;
}

MappingTable::Digest MappingTable::digest(std::string_view token) noexcept {
  Digest d{};
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), d.data());
  return d;
}

std::size_t MappingTable::DigestHash::operator()(const Digest& d) const noexcept {
  std::size_t h = 0;
  std::memcpy(&h, d.data(), sizeof h);  // a digest's bytes are already uniform
  return h;
}

const TokenOwner* MappingTable::authenticate(std::string_view token) const noexcept {
  if (token.empty()) return nullptr;
  auto it = tokens_.find(digest(token));
  if (it == tokens_.end()) return nullptr;
  const std::string& known = it->second.token;
  if (known.size() != token.size() ||
      CRYPTO_memcmp(known.data(), token.data(), token.size()) != 0) {
    return nullptr;
  }
  return &it->second.owner;
}

std::optional<std::string> apply(const config::VariableMapping& mapping, Reading& reading) {
  if (!mapping.rename.empty()) reading.variable = mapping.rename;
  if (mapping.unit) reading.unit = *mapping.unit;
  if (mapping.scale == 1.0 && mapping.offset == 0.0) return std::nullopt;  // int64 stays exact
  decode::widen_float(reading);  // 0.1f scales as the 0.1 its text says
  double scaled = 0;
  if (const auto* d = std::get_if<double>(&reading.value)) {
    scaled = *d * mapping.scale + mapping.offset;
  } else if (const auto* i = std::get_if<std::int64_t>(&reading.value)) {
    scaled = static_cast<double>(*i) * mapping.scale + mapping.offset;
  } else {
    return std::nullopt;  // strings, booleans and no value are not scaled
  }
  if (!std::isfinite(scaled)) return "value: scale/offset give a number out of range";
  reading.value = scaled;
  return std::nullopt;
}

}  // namespace edgegw::ingest
