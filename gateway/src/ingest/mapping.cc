#include "ingest/mapping.h"

#include <cmath>
#include <variant>

namespace edgegw::ingest {

MappingTable::MappingTable(const std::vector<config::DeviceConfig>& devices,
                           const std::vector<buffer::DeviceId>& ids,
                           std::optional<buffer::DeviceId> default_id) {
  devices_.reserve(devices.size());
  for (std::size_t i = 0; i < devices.size() && i < ids.size(); ++i) {
    MappedDevice& d = devices_[devices[i].key];
    d.id = ids[i];
    for (const auto& [name, mapping] : devices[i].variables) d.variables.emplace(name, mapping);
  }
  if (default_id) default_ = MappedDevice{*default_id, {}};
}

const MappedDevice* MappingTable::find(std::string_view device_key) const noexcept {
  if (auto it = devices_.find(device_key); it != devices_.end()) return &it->second;
  return default_ ? &*default_ : nullptr;
}

std::optional<std::string> apply(const config::VariableMapping& mapping, Reading& reading) {
  if (!mapping.rename.empty()) reading.variable = mapping.rename;
  if (mapping.unit) reading.unit = *mapping.unit;
  if (mapping.scale == 1.0 && mapping.offset == 0.0) return std::nullopt;  // int64 stays exact
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
