// SPDX-License-Identifier: Apache-2.0
// Command-line options of edgegw-cloud-emulator (see README.md for the whole list).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "edgegw/status.h"

namespace edgegw::cloud_emulator {

struct DeviceSpec {
  std::string name;
  std::string token;
};

struct Options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // 0: pick a free one
  unsigned threads = 0;    // 0: one per core
  std::vector<DeviceSpec> devices;
  std::vector<std::string> account_tokens;  // the Account API's tokens (none: it answers 401)
  std::size_t keep = 10000;                 // readings kept per device for GET /data
  std::size_t max_body_bytes = 200'000;     // the cloud's request body limit (413 beyond)
  std::string tls_cert;
  std::string tls_key;
  bool log_requests = false;
  // Faults set at start-up, as control-API JSON objects; DELETE /_emulator/faults and
  // POST /_emulator/reset go back to these.
  std::vector<std::string> startup_faults;
  bool help = false;
};

// Parses argv; devices files are read here. Errors name the flag.
Result<Options> parse_options(int argc, char** argv);

// Parses the text of a devices file: one "TOKEN NAME" per line, '#' starts a comment.
Result<std::vector<DeviceSpec>> parse_devices_file(const std::string& text,
                                                   const std::string& path);

extern const char* const kUsage;

}  // namespace edgegw::cloud_emulator
