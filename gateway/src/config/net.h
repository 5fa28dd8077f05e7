// SPDX-License-Identifier: Apache-2.0
// Checks of the addresses a config names: the cloud's URL and the metrics listen address.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace edgegw::config::detail {

// Why `url` is not http(s)://host[:port][/path], or nullopt. The reason never repeats the URL (it
// might hold credentials).
std::optional<std::string> url_problem(std::string_view url);

// Why `listen` is not host:port (an IPv6 host in brackets: [::1]:9464), or nullopt. Port 0 is
// allowed: any free port, which the gateway logs (tests use it).
std::optional<std::string> listen_problem(std::string_view listen);

}  // namespace edgegw::config::detail
