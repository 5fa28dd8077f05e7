// SPDX-License-Identifier: Apache-2.0
// A source's `config:` subtree, handed to its plugin as a JSON object.
#pragma once

#include "config/config.h"
#include "config/reader.h"

namespace edgegw::config::detail {

// Fills out.config_json (plain scalars typed by the YAML core schema, quoted ones always strings),
// out.config_marks (the position of every key path: "uri", "topics[0]", "tls.ca_file") and
// out.config_secrets (values under password/token/secret-like keys).
void read_plugin_config(Reader& reader, const Item& item, SourceConfig& out);

// Nesting deeper than this is refused (and bounds our recursion, even through cyclic aliases).
inline constexpr int kMaxPluginConfigDepth = 64;

}  // namespace edgegw::config::detail
