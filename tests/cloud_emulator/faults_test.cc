// SPDX-License-Identifier: Apache-2.0
// Fault injection through /_emulator/faults (and the start-up flags): injected statuses, delays,
// dropped connections, rejected readings, denied tokens and the per-window request budget.
#include <gtest/gtest.h>

#include <thread>

#include "test_util.h"

namespace edgegw::cloud_emulator {
namespace {

using namespace std::chrono_literals;
using namespace test;
using testing::CloudEmulator;
using testing::HttpClient;
using Clock = std::chrono::steady_clock;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Sleeps until `margin_ms` after the start of a `window_ms` window (windows are aligned to the
// epoch, like the cloud's minutes), unless at least `need_ms` of the current one are left.
void align_to_window(std::int64_t window_ms, std::int64_t need_ms, std::int64_t margin_ms = 20) {
  const std::int64_t into = now_ms() % window_ms;
  if (window_ms - into >= need_ms) return;
  std::this_thread::sleep_for(std::chrono::milliseconds(window_ms - into + margin_ms));
}

TEST(CloudEmulatorFaults, StatusForTheNextNRequests) {
  CloudEmulator cloud(device_args());
  HttpClient client = cloud.client();
  cloud.set_fault(R"({"status":503,"count":2})");
  for (int i = 0; i < 2; ++i) {
    auto r = client.post("/data", readings(3), auth());
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(r.body, R"({"status":false,"message":"Service Unavailable"})");
  }
  EXPECT_EQ(client.post("/data", readings(3), auth()).status, 200);
  const auto stats = cloud.stats();
  EXPECT_EQ(stat(stats, "boiler-1", "readings"), 3);  // the refused ones stored nothing
  EXPECT_EQ(status_count(stats, 503), 2);
  EXPECT_EQ(status_count(stats, 200), 1);
}

TEST(CloudEmulatorFaults, StatusForADuration) {
  CloudEmulator cloud(device_args());
  HttpClient client = cloud.client();
  cloud.set_fault(R"({"status":500,"for_ms":300})");
  EXPECT_EQ(client.post("/data", readings(1), auth()).status, 500);
  EXPECT_EQ(client.post("/data", readings(1), auth()).status, 500);
  std::this_thread::sleep_for(400ms);
  EXPECT_EQ(client.post("/data", readings(1), auth()).status, 200);
}

TEST(CloudEmulatorFaults, FaultsApplyInTheOrderGiven) {
  CloudEmulator cloud(device_args());
  HttpClient client = cloud.client();
  cloud.set_fault(
      R"([{"status":503,"count":1},{"status":502,"count":1,"body":"<html>bad gateway</html>"}])");
  EXPECT_EQ(client.post("/data", readings(1), auth()).status, 503);
  auto r = client.post("/data", readings(1), auth());
  EXPECT_EQ(r.status, 502);
  EXPECT_EQ(r.body, "<html>bad gateway</html>");  // 5xx bodies need not be JSON
  EXPECT_EQ(r.header("Content-Type"), "text/html");
  EXPECT_EQ(client.post("/data", readings(1), auth()).status, 200);
}

TEST(CloudEmulatorFaults, DelayAnswersLateButNormally) {
  CloudEmulator cloud(device_args());
  HttpClient client = cloud.client();
  cloud.set_fault(R"({"delay_ms":300,"count":1})");
  auto start = Clock::now();
  EXPECT_EQ(client.post("/data", readings(2), auth()).status, 200);
  EXPECT_GE(Clock::now() - start, 290ms);
  start = Clock::now();
  EXPECT_EQ(client.post("/data", readings(2, 3), auth()).status, 200);
  EXPECT_LT(Clock::now() - start, 250ms);
  EXPECT_EQ(stat(cloud.stats(), "boiler-1", "readings"), 4);
}

TEST(CloudEmulatorFaults, DelayedRequestsDoNotBlockOthers) {
  CloudEmulator cloud({"--device", std::string("d=") + kToken, "--threads", "1"});
  cloud.set_fault(R"({"delay_ms":500,"count":1})");
  std::thread slow(
      [&] { EXPECT_EQ(cloud.client().post("/data", readings(1), auth()).status, 200); });
  std::this_thread::sleep_for(100ms);
  const auto start = Clock::now();
  EXPECT_EQ(cloud.client().post("/data", readings(1, 2), auth()).status, 200);
  EXPECT_LT(Clock::now() - start, 300ms);
  slow.join();
}

TEST(CloudEmulatorFaults, DropConnectionClosesWithoutAnAnswer) {
  CloudEmulator cloud(device_args());
  HttpClient client = cloud.client();
  cloud.set_fault(R"({"drop_connection":true,"count":2})");
  for (int i = 0; i < 2; ++i) {
    auto r = client.post("/data", readings(5), auth());
    EXPECT_EQ(r.status, 0);
    EXPECT_FALSE(r.error.empty());
  }
  EXPECT_EQ(client.post("/data", readings(5), auth()).status, 200);  // reconnects
  const auto stats = cloud.stats();
  EXPECT_EQ(stat(stats, "boiler-1", "readings"), 5);
  EXPECT_EQ(stats.at("requests").at("dropped").as_int64(), 2);
}

TEST(CloudEmulatorFaults, AfterProcessingTheDataIsStoredButTheAnswerLost) {
  CloudEmulator cloud(device_args());
  HttpClient client = cloud.client();
  // A lost response: the client's retry duplicates the batch (no idempotency key).
  cloud.set_fault(R"({"drop_connection":true,"count":1,"after_processing":true})");
  EXPECT_EQ(client.post("/data", readings(4), auth()).status, 0);
  EXPECT_EQ(client.post("/data", readings(4), auth()).status, 200);
  // A 504 after the data was stored.
  cloud.set_fault(R"({"status":504,"count":1,"after_processing":true})");
  EXPECT_EQ(client.post("/data", readings(1, 5), auth()).status, 504);
  const auto stats = cloud.stats();
  EXPECT_EQ(stat(stats, "boiler-1", "readings"), 9);
  EXPECT_EQ(stat(stats, "boiler-1", "duplicates"), 4);
  EXPECT_EQ(stat(stats, "boiler-1", "max_seq"), 5);
}

TEST(CloudEmulatorFaults, Injected429CarriesTheWaitInTextAndOptionallyAHeader) {
  CloudEmulator cloud(device_args());
  HttpClient client = cloud.client();
  cloud.set_fault(R"({"status":429,"retry_after":7,"count":1})");
  auto r = client.post("/data", readings(1), auth());
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.body, R"x({"status":false,"message":"Too many requests (Retry-After: 7)"})x");
  EXPECT_EQ(r.header("Retry-After"), "");
  cloud.set_fault(R"({"retry_after_header":true})");
  cloud.set_fault(R"({"status":429,"retry_after":3,"count":1})");
  r = client.post("/data", readings(1), auth());
  EXPECT_EQ(message_of(r), "Too many requests (Retry-After: 3)");
  EXPECT_EQ(r.header("Retry-After"), "3");
  cloud.set_fault(R"({"status":503,"retry_after":2,"count":1,"message":"maintenance"})");
  r = client.post("/data", readings(1), auth());
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(message_of(r), "maintenance");
  EXPECT_EQ(r.header("Retry-After"), "2");
}

TEST(CloudEmulatorFaults, FaultsCanTargetATokenMethodOrPath) {
  CloudEmulator cloud(device_args());
  HttpClient client = cloud.client();
  cloud.set_fault(std::string(R"({"status":503,"token":")") + kToken2 + R"("})");
  cloud.set_fault(R"({"status":500,"method":"GET","path":"/info"})");
  EXPECT_EQ(client.post("/data", readings(1), auth(kToken)).status, 200);
  EXPECT_EQ(client.post("/data", readings(1), auth(kToken2)).status, 503);
  EXPECT_EQ(client.post("/data", readings(1), auth(kToken2)).status, 503);
  EXPECT_EQ(client.get("/info", auth(kToken)).status, 500);
  EXPECT_EQ(client.get("/data", auth(kToken)).status, 200);
  auto faults = result_of(client.get("/_emulator/faults"));
  EXPECT_EQ(faults.at("queue").as_array().size(), 2U);
  cloud.clear_faults();
  EXPECT_EQ(client.post("/data", readings(1), auth(kToken2)).status, 200);
  EXPECT_EQ(client.get("/info", auth(kToken)).status, 200);
}

TEST(CloudEmulatorFaults, RejectRefusesAnyBatchHoldingAMatchingReading) {
  CloudEmulator cloud(device_args());
  HttpClient client = cloud.client();
  cloud.set_fault(R"({"reject":{"variable":"bad_var"},"status":400})");
  const std::string batch = R"([{"variable":"a","value":1},{"variable":"b","value":2},)"
                            R"({"variable":"BAD_VAR","value":3},{"variable":"c","value":4}])";
  auto r = client.post("/data", batch, auth());
  EXPECT_EQ(r.status, 400);
  const std::string message = message_of(r);
  EXPECT_NE(message.find("index 2"), std::string::npos) << message;
  EXPECT_NE(message.find("bad_var"), std::string::npos) << message;
  EXPECT_EQ(
      client.post("/data", R"([{"variable":"a","value":1},{"variable":"c","value":4}])", auth())
          .status,
      200);
  // Matching on several fields, a custom status and a count.
  cloud.set_fault(R"({"reject":{"variable":"t","value":13},"status":422,"count":1})");
  EXPECT_EQ(client.post("/data", R"([{"variable":"t","value":12}])", auth()).status, 200);
  EXPECT_EQ(client.post("/data", R"([{"variable":"t","value":13}])", auth()).status, 422);
  EXPECT_EQ(client.post("/data", R"([{"variable":"t","value":13}])", auth()).status, 200);
  EXPECT_EQ(stat(cloud.stats(), "boiler-1", "readings"), 4);
}

TEST(CloudEmulatorFaults, TokenDeniedUntilCleared) {
  CloudEmulator cloud(device_args());
  HttpClient client = cloud.client();
  cloud.set_fault(std::string(R"({"token_denied":")") + kToken + R"("})");
  auto r = client.post("/data", readings(1), auth());
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(message_of(r), "Authorization Denied");
  EXPECT_EQ(client.post("/data", readings(1), auth(kToken2)).status, 200);
  cloud.set_fault(std::string(R"({"token_allowed":")") + kToken + R"("})");
  EXPECT_EQ(client.post("/data", readings(1), auth()).status, 200);
  cloud.set_fault(std::string(R"({"token_denied":[")") + kToken + R"("]})");
  EXPECT_EQ(client.post("/data", readings(1), auth()).status, 401);
  cloud.clear_faults();
  EXPECT_EQ(client.post("/data", readings(1), auth()).status, 200);
}

TEST(CloudEmulatorFaults, StartupFaultsSurviveClearAndReset) {
  CloudEmulator cloud({"--device", std::string("a=") + kToken, "--device",
                       std::string("b=") + kToken2, "--token-denied", kToken2, "--reject-variable",
                       "nope", "--fault", R"({"status":503,"count":1})"});
  HttpClient client = cloud.client();
  EXPECT_EQ(client.post("/data", readings(1), auth()).status, 503);
  EXPECT_EQ(client.post("/data", readings(1), auth(kToken2)).status, 401);
  EXPECT_EQ(client.post("/data", readings(1, 1, "nope"), auth()).status, 400);
  cloud.clear_faults();
  EXPECT_EQ(client.post("/data", readings(1), auth()).status, 503);  // back to the start-up set
  EXPECT_EQ(client.post("/data", readings(1), auth(kToken2)).status, 401);
  cloud.reset();
  EXPECT_EQ(client.post("/data", readings(1), auth()).status, 503);
  EXPECT_EQ(client.post("/data", readings(1), auth()).status, 200);
}

TEST(CloudEmulatorFaults, GarbledAnswersHugeTruncatedAndTrickled) {
  CloudEmulator cloud(device_args());
  testing::HttpClientOptions slow;
  slow.timeout = 300ms;
  HttpClient client = cloud.client();
  // A huge non-JSON body.
  cloud.set_fault(R"({"status":200,"count":1,"body_bytes":5000000})");
  auto huge = client.post("/data", readings(2), auth());
  EXPECT_EQ(huge.status, 200);
  EXPECT_EQ(huge.body.size(), 5'000'000U);
  EXPECT_EQ(huge.header("Content-Type"), "text/plain");
  // Cut off halfway: the client sees a transport error, not an answer.
  cloud.set_fault(R"({"status":503,"count":1,"truncate":true})");
  auto cut = client.post("/data", readings(2), auth());
  EXPECT_EQ(cut.status, 0) << cut.body;
  EXPECT_FALSE(cut.error.empty());
  // One byte every 50 ms: a client with a 300 ms timeout gives up long before the end.
  HttpClient impatient(cloud.url(), slow);
  cloud.set_fault(R"({"status":200,"count":1,"trickle_ms":50})");
  const auto start = Clock::now();
  auto trickled = impatient.post("/data", readings(2), auth());
  EXPECT_EQ(trickled.status, 0);
  EXPECT_LT(Clock::now() - start, 5s);
  // Faults are used up; the connection is reopened and answers normally.
  EXPECT_EQ(client.post("/data", readings(2, 3), auth()).status, 200);
  EXPECT_EQ(stat(cloud.stats(), "boiler-1", "readings"), 2);
}

TEST(CloudEmulatorFaults, BadFaultSpecsAre400) {
  CloudEmulator cloud(device_args());
  HttpClient client = cloud.client();
  for (const char* spec :
       {R"({"stauts":503})", R"({"status":99})", R"({"count":3})", R"({"status":503,"count":0})",
        R"({"delay_ms":-1})", R"({"reject":{}})", R"({"budget":{"window_ms":10}})",
        R"({"truncate":true})", R"({"status":200,"body":"x","body_bytes":3})", "[1]", "not json"}) {
    auto r = client.post("/_emulator/faults", spec);
    EXPECT_EQ(r.status, 400) << spec << " -> " << r.body;
  }
  EXPECT_EQ(result_of(client.get("/_emulator/faults")).at("queue").as_array().size(), 0U);
}

TEST(CloudEmulatorFaults, BudgetAllowsNPerWindowThen429WithRetryAfter) {
  CloudEmulator cloud(device_args());
  HttpClient client = cloud.client();
  cloud.set_fault(R"({"budget":{"requests":5,"window_ms":60000},"retry_after_header":true})");
  align_to_window(60'000, 5'000);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(client.post("/data", readings(1, i + 1), auth(i % 2 ? kToken : kToken2)).status, 200);
  }
  // Only POST /data counts.
  EXPECT_EQ(client.get("/data", auth()).status, 200);
  EXPECT_EQ(client.get("/info", auth()).status, 200);
  const std::int64_t left_s = (60'000 - now_ms() % 60'000 + 999) / 1000;
  auto r = client.post("/data", readings(1, 9), auth());
  ASSERT_EQ(r.status, 429);
  const std::string message = message_of(r);
  EXPECT_TRUE(message.starts_with("Too many requests (Retry-After: ")) << message;
  const int retry_after = std::stoi(message.substr(message.find(": ") + 2));
  EXPECT_GE(retry_after, 1);
  EXPECT_LE(std::abs(retry_after - left_s), 1) << message;
  EXPECT_EQ(r.header("Retry-After"), std::to_string(retry_after));
  const auto stats = cloud.stats();
  const auto& budget = stats.at("budget");
  EXPECT_EQ(budget.at("requests").as_int64(), 5);
  EXPECT_EQ(budget.at("max_requests_per_window").as_int64(), 6);
  EXPECT_EQ(budget.at("max_admitted_per_window").as_int64(), 5);
  EXPECT_EQ(budget.at("throttled").as_int64(), 1);
  EXPECT_EQ(stat(stats, "boiler-1", "requests"), 3);  // the throttled one counts for its device
  EXPECT_EQ(stat(stats, "boiler-1", "accepted_requests"), 2);
}

TEST(CloudEmulatorFaults, BudgetWindowsRollOver) {
  CloudEmulator cloud({"--device", std::string("d=") + kToken, "--budget", "3/1000"});
  HttpClient client = cloud.client();
  align_to_window(1000, 600);
  int ok = 0;
  int limited = 0;
  for (int i = 0; i < 5; ++i) {
    const int status = client.post("/data", readings(1, i + 1), auth()).status;
    ok += status == 200;
    limited += status == 429;
  }
  EXPECT_EQ(ok, 3);
  EXPECT_EQ(limited, 2);
  auto r = client.post("/data", readings(1, 10), auth());
  ASSERT_EQ(r.status, 429);
  EXPECT_EQ(message_of(r), "Too many requests (Retry-After: 1)");  // under a second left
  EXPECT_EQ(r.header("Retry-After"), "");
  align_to_window(1000, 1000);  // the next window
  EXPECT_EQ(client.post("/data", readings(1, 11), auth()).status, 200);
  const auto stats = cloud.stats();
  EXPECT_GE(stats.at("budget").at("windows").as_int64(), 2);
  EXPECT_EQ(stats.at("budget").at("max_admitted_per_window").as_int64(), 3);
  EXPECT_EQ(stats.at("budget").at("max_requests_per_window").as_int64(), 6);
}

}  // namespace
}  // namespace edgegw::cloud_emulator
