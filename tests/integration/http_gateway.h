// SPDX-License-Identifier: Apache-2.0
// `edgegw run` with the http source (the local Device API) on a free port, delivering to the cloud
// emulator: what the http integration tests and the SDK test share.
#pragma once

#include <gtest/gtest.h>

#include <csignal>
#include <memory>
#include <string>

#include "launcher.h"
#include "support/http_client.h"
#include "support/subprocess.h"
#include "support/tokens.h"

namespace edgegw::testing {

// boiler-1 (cloud token fake_token(1), local_token fake_token(101)) and press-7 (fake_token(2)).
class HttpGateway {
 public:
  // `buffer` and `http_config` are YAML put under buffer: and the source's config:; `cloud_url`
  // empty: the emulator's; `more_sources`: YAML list entries of other sources.
  explicit HttpGateway(const std::string& buffer = "{}", const std::string& http_config = "",
                       const std::string& cloud_url = "", const std::string& more_sources = "") {
    cloud_ = std::make_unique<CloudEmulator>(std::vector<std::string>{
        "--device", "boiler-1=" + fake_token(1), "--device", "press-7=" + fake_token(2)});
    const std::string c =
        "gateway:\n  data_dir: " + dir_.path() + "/data\n  log_level: debug\n" +
        "  shutdown_timeout: 3s\nbuffer: " + buffer + "\nmetrics: { listen: '127.0.0.1:0' }\n" +
        "cloud:\n  url: " + (cloud_url.empty() ? cloud_->url() : cloud_url) +
        "\n  batch: { linger: 20ms }\n  retry: { initial_backoff: 20ms, max_backoff: 200ms }\n" +
        "sources:\n  - name: local-api\n    plugin: http\n    format: tago_json\n" +
        "    config: { listen: '127.0.0.1:0'" + (http_config.empty() ? "" : ", " + http_config) +
        " }\n" + more_sources + "devices:\n  - key: boiler-1\n    token: " + fake_token(1) +
        "\n    local_token: " + fake_token(101) +
        "\n  - key: press-7\n    token: " + fake_token(2) + "\n";
    config_ = dir_.write("gw.yaml", c, 0600);
    gw_ = std::make_unique<Subprocess>(
        std::vector<std::string>{edgegw_binary(), "run", "-c", config_});
    port_ = logged_port(*gw_, "local Device API listening on ", std::chrono::seconds(15));
    EXPECT_NE(port_, 0) << gw_->err();
  }
  ~HttpGateway() {
    if (gw_ && gw_->running()) {
      gw_->signal(SIGTERM);
      (void)gw_->wait(std::chrono::seconds(10));
    }
  }

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  HttpClient client() const { return HttpClient(url()); }
  CloudEmulator& cloud() { return *cloud_; }
  Subprocess& process() { return *gw_; }

 private:
  TempDir dir_;
  int port_ = 0;  // the local API's: it listens on port 0 and logs the one it got
  std::unique_ptr<CloudEmulator> cloud_;
  std::string config_;
  std::unique_ptr<Subprocess> gw_;
};

}  // namespace edgegw::testing
