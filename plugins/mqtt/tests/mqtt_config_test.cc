// SPDX-License-Identifier: Apache-2.0
#include "mqtt_config.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace edgegw::plugins::mqtt {
namespace {

std::string error_of(std::string_view json) {
  try {
    parse_config(json, "plant");
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  ADD_FAILURE() << "accepted: " << json;
  return {};
}

TEST(MqttConfig, DefaultsOfTheContract) {
  const MqttConfig c =
      parse_config(R"({"uri":"tcp://127.0.0.1:1883","topics":["s/{device}/d"]})", "plant");
  EXPECT_EQ(c.qos, 1);
  EXPECT_FALSE(c.clean_session);
  EXPECT_EQ(c.protocol, 4);
  EXPECT_FALSE(c.tls_enabled);
  EXPECT_TRUE(c.client_id.starts_with("edgegw-"));
  EXPECT_TRUE(c.client_id.ends_with("-plant"));
  ASSERT_EQ(c.topics.size(), 1u);
  EXPECT_EQ(c.topics[0].filter(), "s/+/d");
  EXPECT_EQ(c.coalesce, std::chrono::milliseconds(5));
}

TEST(MqttConfig, EveryKey) {
  const MqttConfig c = parse_config(
      R"({"uri":"ssl://broker:8883","client_id":"gw-1","topics":["$share/g/a/{device}"],
          "qos":2,"username":"u","password":"p","clean_session":true,"protocol":"5",
          "session_expiry":"1h","keep_alive":"20s","connect_timeout":"5s",
          "reconnect_min":"100ms","reconnect_max":"10s","persistence_dir":"/tmp/x","coalesce":0,
          "ca_file":"/ca.pem","cert_file":"/c.pem","key_file":"/k.pem","key_password":"kp",
          "tls_insecure_skip_verify":false})",
      "plant");
  EXPECT_EQ(c.client_id, "gw-1");
  EXPECT_EQ(c.qos, 2);
  EXPECT_EQ(c.protocol, 5);
  EXPECT_EQ(c.session_expiry, std::chrono::seconds(3600));
  EXPECT_EQ(c.keep_alive, std::chrono::seconds(20));
  EXPECT_EQ(c.reconnect_min, std::chrono::milliseconds(100));
  EXPECT_EQ(c.coalesce, std::chrono::milliseconds(0));
  EXPECT_TRUE(c.tls_enabled);
  EXPECT_EQ(c.tls.ca_file, "/ca.pem");
  EXPECT_EQ(c.tls.key_password, "kp");
}

TEST(MqttConfig, ErrorsNameTheKey) {
  EXPECT_EQ(error_of(R"({"topics":["a/{device}"]})").rfind("uri: required", 0), 0u);
  EXPECT_EQ(error_of(R"({"uri":"tcp://h:1"})").rfind("topics: required", 0), 0u);
  EXPECT_EQ(error_of(R"({"uri":"http://h:1","topics":["a/{device}"]})").rfind("uri:", 0), 0u);
  EXPECT_EQ(error_of(R"({"uri":"tcp://h:1","topics":"a/{device}"})").rfind("topics:", 0), 0u);
  EXPECT_EQ(
      error_of(R"({"uri":"tcp://h:1","topics":["a/{device}","b/{x}"]})").rfind("topics[1]:", 0),
      0u);
  EXPECT_EQ(error_of(R"({"uri":"tcp://h:1","topics":["a/{device}"],"qos":3})").rfind("qos:", 0),
            0u);
  EXPECT_NE(error_of(R"({"uri":"tcp://h:1","topics":["a/{device}"],"qs":1})").find("unknown key"),
            std::string::npos);
  EXPECT_EQ(error_of(R"({"uri":"tcp://h:1","topics":["a/b"]})").rfind("topics[0]:", 0), 0u);
  EXPECT_EQ(error_of(R"({"uri":"tcp://h:1","topics":["a/{device}"],"keep_alive":"soon"})")
                .rfind("keep_alive:", 0),
            0u);
  EXPECT_EQ(error_of(R"({"uri":"tcp://h:1","topics":["a/{device}"],"coalesce":"1s"})")
                .rfind("coalesce: expected at most 100ms", 0),
            0u);
  EXPECT_EQ(error_of(R"({"uri":"tcp://h:1","topics":["a/{device}"],"ca_file":"/x"})")
                .rfind("ca_file:", 0),
            0u);
  EXPECT_EQ(error_of(R"({"uri":"ssl://h:1","topics":["a/{device}"],"cert_file":"/x"})")
                .rfind("key_file:", 0),
            0u);
  EXPECT_EQ(error_of(R"({"uri":"tcp://h:1","topics":["a/{device}"],"session_expiry":"1h"})")
                .rfind("session_expiry:", 0),
            0u);
}

TEST(MqttConfig, SecretsAreNeverQuoted) {
  const std::string e =
      error_of(R"({"uri":"tcp://h:1","topics":["a/{device}"],"password":"s3cr3t"})");
  EXPECT_EQ(e.find("s3cr3t"), std::string::npos);
  EXPECT_EQ(e.rfind("password:", 0), 0u);
  const std::string u = error_of(R"({"uri":"tcp://user:s3cr3t@h:1","topics":["a/{device}"]})");
  EXPECT_EQ(u.find("s3cr3t"), std::string::npos);
}

TEST(MqttConfig, FixedDeviceForTopicsWithoutCapture) {
  const MqttConfig c =
      parse_config(R"({"uri":"tcp://h:1","topics":["line/7"],"device":"press-7"})", "p");
  EXPECT_EQ(c.device, "press-7");
}

}  // namespace
}  // namespace edgegw::plugins::mqtt
