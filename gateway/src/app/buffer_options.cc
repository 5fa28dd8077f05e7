// SPDX-License-Identifier: Apache-2.0
#include "app/buffer_options.h"

#include "history/history.h"

namespace edgegw::app {

buffer::Options buffer_options(const config::Config& config) {
  buffer::Options o;
  o.path = config.gateway.data_dir + "/buffer";
  o.max_bytes = config.buffer.max_bytes;
  o.min_free_bytes = config.buffer.min_free;
  o.max_age = config.buffer.max_age;
  o.on_full = config.buffer.on_full;
  o.sync = config.buffer.sync;
  o.sync_interval = config.buffer.sync_interval;
  return o;
}

Result<std::unique_ptr<buffer::Buffer>> open_buffer(const config::Config& config, bool read_only) {
  buffer::Options options = buffer_options(config);
  options.read_only = read_only;
  auto opened = buffer::Buffer::open(std::move(options));
  if (!opened) return opened.status();
  if (!read_only) {
    if (Status s = history::attach(**opened, config.history_per_variable()); !s) return s;
  }
  return opened;
}

}  // namespace edgegw::app
