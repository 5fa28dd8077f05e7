// SPDX-License-Identifier: Apache-2.0
// What the gateway provisioned: for each device key, the cloud device it made or found and the
// token it made for it. One JSON file in the data dir (provisioned.json, mode 0600: it holds
// tokens), replaced whole and atomically on each change (a crash leaves the old or the new one).
// Changes are rare (a new device, a rotation): a whole-file write is cheap next to the cloud call
// that causes it. Not thread-safe: the provisioner's strand, or the CLI holding the data-dir lock.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "edgegw/status.h"

namespace edgegw::provision {

struct Entry {
  std::string key;            // the device key, as the sources give it
  std::string device_id;      // the cloud's id of the device
  config::Secret token;       // the token the gateway sends its readings with
  bool created = false;       // made by this gateway; false: found by its tags
  std::int64_t since_ms = 0;  // when the token was made (provisioned, or rotated)
  // Tokens replaced by a rotation and not yet deleted in the cloud (deleted at the next start
  // when a rotation was cut short).
  std::vector<config::Secret> old_tokens;
};

class Store {
 public:
  // <data_dir>/provisioned.json
  static std::string path_in(std::string_view data_dir);
  // Reads the file; a missing file is an empty store. A file others may read is made private
  // (0600) rather than refused: it was written by this program.
  static Result<Store> load(std::string path);

  const std::map<std::string, Entry, std::less<>>& entries() const noexcept { return entries_; }
  const Entry* find(std::string_view key) const;
  // Adds or replaces the entry of entry.key, then writes the file.
  Status put(Entry entry);
  // Removes the entry of `key` (absent: no change), then writes the file.
  Status erase(std::string_view key);
  const std::string& path() const noexcept { return path_; }

 private:
  explicit Store(std::string path) : path_(std::move(path)) {}
  Status save() const;

  std::string path_;
  std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace edgegw::provision
