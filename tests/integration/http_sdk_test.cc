// SPDX-License-Identifier: Apache-2.0
// The official TagoIO JS SDK (@tago-io/sdk, pinned in http_sdk/package.json and installed there by
// deploy/setup.sh with `npm ci`) pointed at the gateway's local Device API. Node.js and the SDK are
// required: without them this test fails, saying what to install; it never skips.
#include <gtest/gtest.h>

#include <filesystem>

#include "http_gateway.h"
#include "support/metrics_text.h"

namespace edgegw {
namespace {

using namespace std::chrono_literals;
using testing::fake_token;

TEST(HttpSdk, SendGetInfoDeleteAndAWrongToken) {
  const std::string dir = testing::source_dir() + "/tests/integration/http_sdk";
  ASSERT_EQ(testing::run_command({"node", "--version"}).exit_code, 0)
      << "Node.js is missing: run deploy/setup.sh (apt-get install nodejs npm)";
  ASSERT_TRUE(std::filesystem::exists(dir + "/node_modules/@tago-io/sdk/package.json"))
      << "the SDK is not installed: run deploy/setup.sh (npm ci --prefix " << dir << ")";
  testing::HttpGateway gw;
  const auto r = testing::run_command(
      {"node", dir + "/sdk_check.cjs"},
      {"EDGEGW_API=" + gw.url(), "EDGEGW_TOKEN=" + fake_token(1),
       "EDGEGW_LOCAL_TOKEN=" + fake_token(101), "EDGEGW_WRONG_TOKEN=" + fake_token(999),
       // The SDK retries 5xx and network errors: a broken gateway fails fast instead.
       "TAGOIO_REQUEST_ATTEMPTS=1"},
      60s);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err << "\ngateway log:\n" << gw.process().err();
  EXPECT_NE(r.out.find("sdk checks: all passed"), std::string::npos) << r.out << r.err;
  // What the SDK sent reached the cloud emulator: 3 + 1 readings, less the humidity reading when
  // the DELETE withdrew it from the queue before the forwarder sent it (either may come first).
  const auto delivered = [&] { return gw.cloud().device_stat("boiler-1", "readings"); };
  EXPECT_TRUE(testing::wait_until([&] { return delivered() >= 3; }, 15s)) << delivered();
  // A humidity reading the forwarder had in flight when the DELETE came lands too: wait until
  // the gateway's buffer is empty.
  const std::string metrics = testing::metrics_address(gw.process());
  EXPECT_TRUE(testing::wait_until(
      [&] {
        const auto m =
            testing::parse_metrics(testing::metrics_client(metrics).get("/metrics").body);
        const auto it = m.find("edgegw_buffer_readings");
        return it != m.end() && it->second == 0;
      },
      15s));
  EXPECT_TRUE(delivered() == 3 || delivered() == 4) << delivered();
}

}  // namespace
}  // namespace edgegw
