// SPDX-License-Identifier: Apache-2.0
// The readers of the config's top-level sections, one key table each.
#pragma once

#include <vector>

#include "config/config.h"
#include "config/reader.h"

namespace edgegw::config::detail {

// The whole document: the root map's sections, defaults, checks across keys.
void read_config(Reader& reader, const Item& root, Config& out);

void read_gateway(Reader& reader, const Item& item, GatewayConfig& out);
void read_buffer(Reader& reader, const Item& item, BufferConfig& out);
void read_cloud(Reader& reader, const Item& item, CloudConfig& out);
// cloud.provisioning (provisioning.cc).
void read_provisioning(Reader& reader, const Item& item, ProvisioningConfig& out);
void read_metrics(Reader& reader, const Item& item, MetricsConfig& out);
void read_sources(Reader& reader, const Item& item, std::vector<SourceConfig>& out);
void read_devices(Reader& reader, const Item& item, std::vector<DeviceConfig>& out);
void read_unmapped(Reader& reader, const Item& item, UnmappedPolicy& out);
void read_analyses(Reader& reader, const Item& item, std::vector<AnalysisConfig>& out);
// Actions name devices and analyses: read once those are, wherever they stand in the file.
void read_actions(Reader& reader, const Item& item, const std::vector<DeviceConfig>& devices,
                  const std::vector<AnalysisConfig>& analyses, std::vector<ActionConfig>& out);

// A source's, an action's or an analysis' name: [A-Za-z0-9_.-]+, not empty (sources.cc).
void read_name(Reader& reader, const Item& item, std::string& out);

// Why `name` cannot be a variable name in a mapping (decode's rules, and lower case since readings
// are lower-cased at decode), or nullopt.
std::optional<std::string> mapped_variable_problem(std::string_view name);

}  // namespace edgegw::config::detail
