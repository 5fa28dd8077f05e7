// SPDX-License-Identifier: Apache-2.0
// Starts edgegw-cloud-emulator for a test: on a free port (port 0, read back from its first
// stdout line), killed with its process group when the object goes out of scope.
//
//   testing::CloudEmulator cloud({"--device", "boiler-1=" + token});
//   ... point the gateway at cloud.url() ...
//   auto stats = cloud.stats();
//   EXPECT_EQ(stats.at("devices").at("boiler-1").at("readings").as_int64(), 100);
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "support/http_client.h"
#include "support/subprocess.h"

namespace edgegw::testing {

// $EDGEGW_BINARY_DIR/tests/cloud_emulator/edgegw-cloud-emulator
std::string cloud_emulator_binary();

class CloudEmulator {
 public:
  // `args` are passed through (e.g. "--device", "NAME=TOKEN", "--budget", "10/1000"); --listen
  // defaults to 127.0.0.1:0. With "--tls-cert", url() is https and `client` should name the CA.
  explicit CloudEmulator(std::vector<std::string> args = {}, HttpClientOptions client = {});
  CloudEmulator(const CloudEmulator&) = delete;
  CloudEmulator& operator=(const CloudEmulator&) = delete;
  ~CloudEmulator();

  int port() const { return port_; }
  std::string url() const;  // "http://127.0.0.1:PORT" (or https)
  Subprocess& process() { return *process_; }
  // A new client for the emulator's URL.
  HttpClient client() const;

  // Control API; each throws std::runtime_error when the emulator does not answer 200.
  boost::json::value stats();  // the "result" of GET /_emulator/stats
  boost::json::value set_fault(std::string_view fault_json);
  void clear_faults();
  void reset();
  void add_device(const std::string& name, const std::string& token);
  // GET /_emulator/devices[?query]: [{name,id,tokens,tags,provisioned}], e.g.
  // devices("name=gw-dev-1") or devices("tag=serial=SN1&provisioned=true").
  boost::json::value devices(std::string_view query = {});
  // POST /_emulator/account, e.g. R"({"revoked":true})"; returns {tokens, revoked}.
  boost::json::value set_account(std::string_view account_json);
  // stats().devices[name][field] as an integer (0 when absent or null).
  std::int64_t device_stat(const std::string& name, const std::string& field);

 private:
  boost::json::value control(std::string_view method, std::string_view target,
                             std::string_view body = {});

  std::unique_ptr<Subprocess> process_;
  HttpClientOptions client_options_;
  std::unique_ptr<HttpClient> control_;
  bool tls_ = false;
  std::string host_ = "127.0.0.1";
  int port_ = 0;
};

}  // namespace edgegw::testing
