// SPDX-License-Identifier: Apache-2.0
// HTTPS: a CA and a server certificate made with the openssl CLI; the client verifies the chain
// and the host name against that CA.
#include <gtest/gtest.h>

#include "support/pki.h"
#include "test_util.h"

namespace edgegw::cloud_emulator {
namespace {

using namespace test;
using testing::CloudEmulator;
using testing::HttpClient;
using testing::Pki;
using testing::TempDir;

class CloudEmulatorTls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    pki_ = testing::make_pki(*dir_);
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static std::vector<std::string> args() {
    auto a = device_args();
    a.insert(a.end(), {"--tls-cert", pki_.cert, "--tls-key", pki_.key});
    return a;
  }
  static testing::HttpClientOptions verified() {
    testing::HttpClientOptions o;
    o.ca_file = pki_.ca;
    return o;
  }
  static TempDir* dir_;
  static Pki pki_;
};

TempDir* CloudEmulatorTls::dir_ = nullptr;
Pki CloudEmulatorTls::pki_;

TEST_F(CloudEmulatorTls, ServesHttpsVerifiedAgainstTheCa) {
  CloudEmulator cloud(args(), verified());
  EXPECT_EQ(cloud.url(), "https://127.0.0.1:" + std::to_string(cloud.port()));
  HttpClient client = cloud.client();
  auto r = client.post("/data", readings(3), auth());
  EXPECT_EQ(r.status, 200) << r.error << r.body;
  EXPECT_EQ(result_of(r), "3 Data Added");
  EXPECT_EQ(client.post("/data", readings(2, 4), auth()).status, 200);  // same TLS connection
  // By host name too (the certificate names localhost).
  HttpClient by_name("https://localhost:" + std::to_string(cloud.port()), verified());
  EXPECT_EQ(by_name.get("/info", auth()).status, 200);
  EXPECT_EQ(cloud.device_stat("boiler-1", "readings"), 5);  // the control API over HTTPS
}

TEST_F(CloudEmulatorTls, AClientWithoutTheCaRefusesTheServer) {
  CloudEmulator cloud(args(), verified());
  HttpClient client(cloud.url());  // system CAs only
  auto r = client.post("/data", readings(1), auth());
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.error.find("TLS handshake"), std::string::npos) << r.error;
  // Without verification it connects (what `tls.verify: false` would do).
  testing::HttpClientOptions insecure;
  insecure.verify = false;
  HttpClient unverified(cloud.url(), insecure);
  EXPECT_EQ(unverified.post("/data", readings(1), auth()).status, 200);
}

TEST_F(CloudEmulatorTls, PlainHttpStillWorksOnTheSamePort) {
  CloudEmulator cloud(args(), verified());
  HttpClient plain("http://127.0.0.1:" + std::to_string(cloud.port()));
  EXPECT_EQ(plain.post("/data", readings(1), auth()).status, 200);
}

TEST_F(CloudEmulatorTls, AMissingCertificateIsAClearStartError) {
  auto r = testing::run_command({testing::cloud_emulator_binary(), "--tls-cert",
                                 dir_->path() + "/missing.pem", "--tls-key", pki_.key});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("TLS certificate or key"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace edgegw::cloud_emulator
