// SPDX-License-Identifier: Apache-2.0
// libedgegw_modbus.so's one exported symbol.
#include "edgegw/plugin_sdk.h"
#include "modbus_source.h"

extern "C" EDGEGW_PLUGIN_EXPORT const edgegw_plugin* edgegw_plugin_entry(
    std::uint32_t host_abi_version) {
  return edgegw::sdk::plugin_table<edgegw::plugins::modbus::ModbusSource>("modbus", "1.0.0",
                                                                          host_abi_version);
}
