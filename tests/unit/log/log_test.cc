// SPDX-License-Identifier: Apache-2.0
#include "log/log.h"

#include <gtest/gtest.h>

#include <sstream>

#include <boost/json.hpp>

namespace edgegw::log {
namespace {

class LogTest : public ::testing::Test {
 protected:
  void TearDown() override {
    set_secrets({});
    init(Format::kText, Level::info);
  }
  std::ostringstream out_;
};

TEST_F(LogTest, TextLineHasTimeLevelComponentAndMessage) {
  init(Format::kText, Level::info, &out_);
  get("forward")->info("sent {} readings", 12);
  get("forward")->debug("not shown at info");
  flush();
  const std::string line = out_.str();
  EXPECT_NE(line.find("info  [forward] sent 12 readings\n"), std::string::npos) << line;
  EXPECT_EQ(line.find("not shown"), std::string::npos);
  EXPECT_EQ(line[4], '-');
  EXPECT_NE(line.find("Z info"), std::string::npos);  // UTC
}

TEST_F(LogTest, JsonLinesParse) {
  init(Format::kJson, Level::debug, &out_);
  get("mqtt")->warn("payload \"{}\" refused", "a\nb");
  flush();
  const auto v = boost::json::parse(out_.str());
  EXPECT_EQ(v.at("level").as_string(), "warning");
  EXPECT_EQ(v.at("component").as_string(), "mqtt");
  EXPECT_EQ(v.at("msg").as_string(), "payload \"a\nb\" refused");
  EXPECT_TRUE(v.at("time").as_string().ends_with("Z"));
}

TEST_F(LogTest, SecretsNeverReachTheOutput) {
  const std::string token = "2f6b8a1c-1b3e-4c55-9d0a-7e1f00c0ffee";
  const std::string password = "pa\"ss\\word";
  for (Format format : {Format::kText, Format::kJson}) {
    out_.str("");
    init(format, Level::trace, &out_);
    set_secrets({token, password, "ab"});
    auto logger = get("test");
    logger->error("token {} refused", token);
    logger->info("url tcp://user:{}@broker", password);
    logger->trace("{}{}", token.substr(0, 10), token.substr(10));  // split, then joined
    flush();
    const std::string text = out_.str();
    EXPECT_EQ(text.find(token), std::string::npos) << text;
    EXPECT_EQ(text.find("pa\\\"ss"), std::string::npos) << text;
    EXPECT_EQ(text.find("pa\"ss"), std::string::npos) << text;
    EXPECT_NE(text.find("token <redacted> refused"), std::string::npos) << text;
    EXPECT_NE(text.find("user:<redacted>@broker"), std::string::npos) << text;
  }
  EXPECT_EQ(redact("x " + token + " y"), "x <redacted> y");
  EXPECT_EQ(redact("abc"), "abc");  // too short to be scrubbed
}

TEST_F(LogTest, LevelAppliesToExistingLoggers) {
  init(Format::kText, Level::info, &out_);
  auto logger = get("level");
  set_level(Level::err);
  logger->warn("hidden");
  set_level(Level::debug);
  logger->debug("visible");
  flush();
  EXPECT_EQ(out_.str().find("hidden"), std::string::npos);
  EXPECT_NE(out_.str().find("visible"), std::string::npos);
}

}  // namespace
}  // namespace edgegw::log
