// SPDX-License-Identifier: Apache-2.0
// Config parsing: defaults, every key, and an error naming the key for each kind of mistake.
#include "http_config.h"

#include <gtest/gtest.h>

#include <string>

#include "edgegw/plugin_sdk.h"
#include "support/plugin_config_error.h"

namespace edgegw::plugins::http {
namespace {

std::string error_of(std::string_view json) {
  return testing::config_error([](std::string_view j) { return parse_config(j); }, json);
}

TEST(HttpConfig, Defaults) {
  const Config c = parse_config("{}");
  EXPECT_EQ(c.host, "127.0.0.1");
  EXPECT_EQ(c.port, 8080);
  EXPECT_EQ(c.threads, 2u);
  EXPECT_EQ(c.max_connections, 1024u);
  EXPECT_EQ(c.max_header_bytes, 8192u);
  EXPECT_EQ(c.max_body_bytes, 200000u);
  EXPECT_EQ(c.request_timeout.count(), 10000);
  EXPECT_EQ(c.idle_timeout.count(), 60000);
}

TEST(HttpConfig, EveryKey) {
  const Config c = parse_config(
      R"({"listen":"[::1]:0","threads":4,"max_connections":10,"max_header_bytes":2048,)"
      R"("max_body_bytes":4096,"request_timeout":"250ms","idle_timeout":"5m"})");
  EXPECT_EQ(c.host, "::1");
  EXPECT_EQ(c.port, 0);
  EXPECT_EQ(c.threads, 4u);
  EXPECT_EQ(c.max_connections, 10u);
  EXPECT_EQ(c.max_header_bytes, 2048u);
  EXPECT_EQ(c.max_body_bytes, 4096u);
  EXPECT_EQ(c.request_timeout.count(), 250);
  EXPECT_EQ(c.idle_timeout.count(), 300000);
}

TEST(HttpConfig, ErrorsNameTheKey) {
  EXPECT_EQ(error_of("[]"), "config: expected a map of settings");
  EXPECT_EQ(error_of(R"({"listen":"8080"})"), "listen: '8080' needs a host and a port (host:port)");
  EXPECT_EQ(error_of(R"({"listen":"0.0.0.0:99999"})"), "listen: '99999' is not a port (0 … 65535)");
  EXPECT_EQ(error_of(R"({"threads":0})"), "threads: 0 is outside 1 … 64");
  EXPECT_EQ(error_of(R"({"threads":"two"})"), "threads: expected a whole number from 1 to 64");
  EXPECT_EQ(error_of(R"({"request_timeout":"soon"})"),
            "request_timeout: expected a positive duration such as 250ms, 10s or 5m");
  EXPECT_EQ(error_of(R"({"port":80})").rfind("port: unknown key; known keys: listen, threads", 0),
            0u);
}

}  // namespace
}  // namespace edgegw::plugins::http
