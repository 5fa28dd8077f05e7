// SPDX-License-Identifier: Apache-2.0
// Checks a source's `config:` the way `edgegw run` would, without running anything: its plugin is
// loaded, an instance is created (its create() validates the keys) and destroyed again, and the
// plugin unloaded. No buffer is opened; the host callbacks the plugin is given refuse every append
// and Device API call with EDGEGW_ERR_UNSUPPORTED.
#pragma once

#include <cstddef>
#include <string>

#include "config/config.h"
#include "edgegw/status.h"

namespace edgegw::plugin_host {

// OK, or Source::create's message for the same config ("sources[0] 'plant': plugin 'mqtt': create
// failed (invalid argument): qos: expected 0, 1 or 2"). The plugin gets a throwaway state directory
// (removed before returning), so that a config that needs one checks as it runs.
Status validate(const config::SourceConfig& config, std::size_t index,
                const std::string& plugin_dir);

}  // namespace edgegw::plugin_host
