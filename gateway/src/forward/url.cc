// SPDX-License-Identifier: Apache-2.0
#include "forward/url.h"

namespace edgegw::forward {

Result<Url> parse_url(std::string_view text) {
  Url url;
  std::string_view rest;
  if (text.starts_with("https://")) {
    url.tls = true;
    rest = text.substr(8);
  } else if (text.starts_with("http://")) {
    rest = text.substr(7);
  } else {
    return Status::invalid_argument("cloud.url must start with http:// or https://");
  }
  const std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  while (path.ends_with('/')) path.remove_suffix(1);
  if (authority.starts_with('[')) {  // [::1]:8080
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos)
      return Status::invalid_argument("cloud.url: bad IPv6 host");
    url.host = std::string(authority.substr(1, close - 1));
    authority.remove_prefix(close + 1);
    if (authority.starts_with(':')) url.port = std::string(authority.substr(1));
  } else {
    const std::size_t colon = authority.rfind(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) url.port = std::string(authority.substr(colon + 1));
  }
  if (url.host.empty()) return Status::invalid_argument("cloud.url has no host");
  if (url.port.empty()) url.port = url.tls ? "443" : "80";
  url.base_path = std::string(path);
  return url;
}

}  // namespace edgegw::forward
