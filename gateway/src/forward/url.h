// SPDX-License-Identifier: Apache-2.0
// cloud.url, split for the HTTP client: "https://api.tago.io" -> tls, host, port, base path.
#pragma once

#include <string>
#include <string_view>

#include "edgegw/status.h"

namespace edgegw::forward {

struct Url {
  bool tls = false;
  std::string host;
  std::string port;       // "443" / "80" when not given
  std::string base_path;  // "" or "/prefix" (no trailing slash): requests go to base_path + "/data"
};

Result<Url> parse_url(std::string_view text);

}  // namespace edgegw::forward
