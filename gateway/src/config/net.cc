// SPDX-License-Identifier: Apache-2.0
#include "config/net.h"

#include <charconv>

namespace edgegw::config::detail {
namespace {

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool starts_with_nocase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

// A host name or IPv4 address: letters, digits, '-', '_' and non-empty dot-separated labels.
bool is_host_name(std::string_view host) {
  if (host.empty() || host.front() == '.' || host.front() == '-') return false;
  char prev = 0;
  for (char c : host) {
    if (!(is_alnum(c) || c == '-' || c == '_' || c == '.')) return false;
    if (c == '.' && prev == '.') return false;
    prev = c;
  }
  return true;
}

// The inside of "[...]": hex digits, ':' and '.' (an embedded IPv4), with at least one ':'.
bool is_ipv6(std::string_view inside) {
  if (inside.find(':') == std::string_view::npos) return false;
  for (char c : inside) {
    if (!(is_hex(c) || c == ':' || c == '.')) return false;
  }
  return true;
}

// A listen address may name port 0 (any free port, logged at start: for tests); a URL may not.
std::optional<std::string> port_problem(std::string_view port, bool listen) {
  const std::string range = listen ? "(0..65535)" : "(1..65535)";
  if (port.empty()) return "has an empty port";
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size()) {
    if (ec == std::errc::result_out_of_range) return "has a port out of range " + range;
    return "has a port that is not a number";
  }
  if ((value < 1 && !listen) || value > 65535) return "has a port out of range " + range;
  return std::nullopt;
}

// "host[:port]" or "[v6][:port]"; listen addresses require the port.
std::optional<std::string> host_port_problem(std::string_view authority, bool listen) {
  const bool require_port = listen;
  if (authority.empty()) return "has no host";
  std::string_view host;
  std::string_view rest;
  if (authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return "has a '[' without its ']'";
    host = authority.substr(1, close - 1);
    if (!is_ipv6(host)) return "has a bad IPv6 address in brackets";
    rest = authority.substr(close + 1);
  } else {
    const std::size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos &&
        authority.find(':', colon + 1) != std::string_view::npos) {
      return "has an IPv6 address without brackets (write e.g. [::1]:9464)";
    }
    if (host.empty()) return "has no host";
    if (!is_host_name(host)) return "has a bad host name";
    rest = colon == std::string_view::npos ? std::string_view() : authority.substr(colon);
  }
  if (rest.empty()) {
    if (require_port) return "has no port (write host:port, e.g. 127.0.0.1:9464)";
    return std::nullopt;
  }
  if (rest.front() != ':') return "has text after the host that is no ':port'";
  return port_problem(rest.substr(1), listen);
}

}  // namespace

std::optional<std::string> url_problem(std::string_view url) {
  std::size_t scheme_len = 0;
  if (starts_with_nocase(url, "https://")) {
    scheme_len = 8;
  } else if (starts_with_nocase(url, "http://")) {
    scheme_len = 7;
  } else {
    return "must start with http:// or https://";
  }
  for (char c : url) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return "must not hold spaces or control characters";
  }
  const std::string_view rest = url.substr(scheme_len);
  const std::size_t slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  if (authority.find('@') != std::string_view::npos) {
    return "must not hold user credentials (user@host): the device tokens authenticate";
  }
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return "must not hold a query (?) or fragment (#): it is the base the API paths are added to";
  }
  if (auto problem = host_port_problem(authority, false)) return *problem;
  return std::nullopt;
}

std::optional<std::string> listen_problem(std::string_view listen) {
  for (char c : listen) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return "must not hold spaces or control characters";
  }
  return host_port_problem(listen, true);
}

}  // namespace edgegw::config::detail
