// SPDX-License-Identifier: Apache-2.0
// The http plugin's configuration: the `config:` subtree of a source, as JSON, parsed and
// validated in one place. Every error names its key (the host prefixes the source).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace edgegw::plugins::http {

struct Config {
  std::string host = "127.0.0.1";  // listen: "host:port"; port 0 picks a free one (logged)
  std::uint16_t port = 8080;
  std::size_t threads = 2;                  // I/O threads (each blocks while its append is written)
  std::size_t max_connections = 1024;       // beyond: 503 and close
  std::size_t max_header_bytes = 8 * 1024;  // request line + headers; beyond: 431 and close
  std::size_t max_body_bytes = 200'000;     // the cloud's limit; beyond: 413
  // A request must arrive whole within request_timeout of its first byte (slow clients), and a
  // keep-alive connection may idle idle_timeout between requests.
  std::chrono::milliseconds request_timeout{10'000};
  std::chrono::milliseconds idle_timeout{60'000};
};

// Parses the JSON text of the source's `config:`. Throws sdk::Error(EDGEGW_ERR_INVALID_ARGUMENT)
// naming the key, e.g. "listen: '1.2.3.4' needs a port (host:port)".
Config parse_config(std::string_view config_json);

}  // namespace edgegw::plugins::http
