// SPDX-License-Identifier: Apache-2.0
// The buffer as the config describes it: the buffer itself knows nothing of the config file
// (buffer::Options), and the local history hooks into it from above (history::attach).
#pragma once

#include <memory>

#include "buffer/buffer.h"
#include "config/config.h"
#include "edgegw/status.h"

namespace edgegw::app {

// buffer.* and gateway.data_dir as buffer::Options (the store in <data_dir>/buffer).
buffer::Options buffer_options(const config::Config& config);

// Opens the buffer of the config; read-write, with its local history attached
// (buffer.history_per_variable, history::attach).
Result<std::unique_ptr<buffer::Buffer>> open_buffer(const config::Config& config,
                                                    bool read_only = false);

}  // namespace edgegw::app
