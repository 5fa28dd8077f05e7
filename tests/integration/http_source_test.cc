// SPDX-License-Identifier: Apache-2.0
// The http source (the local Device API) in the real gateway, driven with curl: every token header
// form, every error (401, 400, 413, 431, 503 under reject_new with a full buffer, a slow client cut
// off), readings read back and deleted, and readings delivered to the cloud emulator.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

#include <boost/json/parse.hpp>

#include "http_gateway.h"
#include "support/metrics_text.h"

namespace edgegw {
namespace {

using namespace std::chrono_literals;
using testing::fake_token;
using testing::HttpGateway;

struct Curl {
  int status = 0;
  std::string body;
};

// curl -s -X METHOD URL -H header... [--data-binary @file]: the status and the body.
Curl curl(const std::string& method, const std::string& url,
          const std::vector<std::string>& headers, const std::string& body = "",
          bool has_body = false) {
  testing::TempDir dir;
  std::vector<std::string> argv = {"curl", "-sS",          "-X", method, "-o", dir.path() + "/body",
                                   "-w",   "%{http_code}", url};
  for (const auto& h : headers) {
    argv.push_back("-H");
    argv.push_back(h);
  }
  if (has_body || !body.empty()) {
    argv.push_back("-H");
    argv.push_back("Content-Type: application/json");
    argv.push_back("--data-binary");
    argv.push_back("@" + dir.write("request", body));
  }
  const auto r = testing::run_command(argv, {}, 20s);
  EXPECT_EQ(r.exit_code, 0) << "curl failed: " << r.err;
  Curl out;
  out.status = std::atoi(r.out.c_str());
  out.body = testing::read_file(dir.path() + "/body");
  return out;
}

boost::json::value result_of(const Curl& c) { return boost::json::parse(c.body).at("result"); }

// "2026-12-04T19:50:00.123Z"
std::string iso8601(std::chrono::system_clock::time_point t) {
  const auto ms = std::chrono::floor<std::chrono::milliseconds>(t);
  const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  const auto milli = ms.time_since_epoch().count() % 1000;
  return std::string(text) + "." + std::string(milli < 100 ? (milli < 10 ? "00" : "0") : "") +
         std::to_string(milli) + "Z";
}

TEST(HttpSource, AcceptsEachTokenHeaderForm) {
  HttpGateway gw;
  const std::string t = fake_token(1);
  const std::vector<std::string> forms = {"token: " + t,
                                          "Device-Token: " + t,
                                          "Authorization: " + t,
                                          "Token: " + t,
                                          "authorization: Bearer " + t,
                                          "DEVICE-TOKEN: " + t,
                                          "token: " + fake_token(101)};  // the local_token
  for (const auto& h : forms) {
    const Curl c = curl("POST", gw.url() + "/data", {h}, R"({"variable":"temp","value":1})");
    EXPECT_EQ(c.status, 200) << h << ": " << c.body;
    EXPECT_EQ(c.body, R"({"status":true,"result":"1 Data Added"})") << h;
  }
  const Curl count = curl("GET", gw.url() + "/data?query=count", {"Device-Token: " + t});
  EXPECT_EQ(result_of(count).as_int64(), static_cast<std::int64_t>(forms.size()));
  // Delivered to the cloud under the device's cloud token.
  EXPECT_TRUE(testing::wait_until(
      [&] {
        return gw.cloud().device_stat("boiler-1", "readings") ==
               static_cast<std::int64_t>(forms.size());
      },
      15s));
}

TEST(HttpSource, RefusesWrongOrMissingTokensWith401) {
  HttpGateway gw;
  const std::string body = R"({"variable":"temp","value":1})";
  for (const auto& headers :
       std::vector<std::vector<std::string>>{{},
                                             {"Device-Token: " + fake_token(3)},
                                             {"token: " + fake_token(1) + "x"},
                                             {"Authorization: Bearer "}}) {
    for (const char* method : {"POST", "GET"}) {
      const Curl c = curl(method, gw.url() + "/data", headers, method[0] == 'P' ? body : "");
      EXPECT_EQ(c.status, 401) << c.body;
      EXPECT_EQ(c.body, R"({"status":false,"message":"Authorization Denied"})");
    }
  }
  EXPECT_EQ(curl("GET", gw.url() + "/info", {"token: nope"}).status, 401);
  // The refused token is in no log line.
  EXPECT_EQ(gw.process().err().find(fake_token(3)), std::string::npos);
}

TEST(HttpSource, InvalidDataIs400AndNothingOfTheRequestIsKept) {
  HttpGateway gw;
  const std::string h = "Device-Token: " + fake_token(1);
  for (const std::string body :
       {R"([{"variable":"ok","value":1},{"variable":"bad name","value":2}])",
        R"([{"variable":"ok","value":1},{"value":2}])", R"({"variable":"ok","value":)",
        R"("just a string")",
        R"([{"variable":"ok","value":1,"unit":"this unit is longer than 25"}])"}) {
    const Curl c = curl("POST", gw.url() + "/data", {h}, body);
    EXPECT_EQ(c.status, 400) << body << ": " << c.body;
    const auto message = boost::json::parse(c.body).at("message").as_string();
    EXPECT_FALSE(message.empty());
  }
  const Curl c = curl("POST", gw.url() + "/data", {h},
                      R"([{"variable":"ok","value":1},{"variable":"Bad=Name","value":2}])");
  EXPECT_NE(c.body.find("[1].variable"), std::string::npos) << c.body;  // says which and why
  EXPECT_EQ(result_of(curl("GET", gw.url() + "/data?query=count", {h})).as_int64(), 0);
  EXPECT_EQ(gw.cloud().device_stat("boiler-1", "readings"), 0);
}

TEST(HttpSource, BodiesOver200kBAre413) {
  HttpGateway gw;
  std::string big = R"([{"variable":"blob","value":")" + std::string(200'000, 'x') + R"("}])";
  const Curl c = curl("POST", gw.url() + "/data", {"token: " + fake_token(1)}, big);
  EXPECT_EQ(c.status, 413) << c.body;
  EXPECT_NE(c.body.find("200000"), std::string::npos) << c.body;
  // Just under the limit is taken (a value of 6 kB, many readings).
  std::string fits = "[";
  for (int i = 0; i < 30; ++i) {
    fits += std::string(i ? "," : "") + R"({"variable":"v","value":")" + std::string(6000, 'y') +
            R"("})";
  }
  fits += "]";
  ASSERT_LT(fits.size(), 200'000u);
  const Curl ok = curl("POST", gw.url() + "/data", {"token: " + fake_token(1)}, fits);
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.body, R"({"status":true,"result":"30 Data Added"})");
}

TEST(HttpSource, OversizedHeadersAre431) {
  HttpGateway gw("{}", "max_header_bytes: 4096");
  const Curl c = curl("GET", gw.url() + "/info",
                      {"token: " + fake_token(1), "X-Padding: " + std::string(6000, 'p')});
  EXPECT_EQ(c.status, 431) << c.body;
  EXPECT_EQ(curl("GET", gw.url() + "/info", {"token: " + fake_token(1)}).status, 200);
}

TEST(HttpSource, AFullBufferUnderRejectNewIs503AndLosesNothingAccepted) {
  // The cloud is unreachable (port 1): nothing drains the 1 MiB buffer.
  HttpGateway gw("{ max_bytes: 1MiB, on_full: reject_new }", "", "http://127.0.0.1:1");
  std::string batch = "[";
  for (int i = 0; i < 1000; ++i) {
    batch += std::string(i ? "," : "") + R"({"variable":"fill","value":")" + std::string(100, 'f') +
             R"("})";
  }
  batch += "]";
  int accepted = 0;
  Curl refused;
  for (int i = 0; i < 40 && refused.status == 0; ++i) {
    const Curl c = curl("POST", gw.url() + "/data", {"token: " + fake_token(2)}, batch);
    if (c.status == 200) {
      ++accepted;
    } else {
      refused = c;
    }
  }
  EXPECT_GT(accepted, 0);
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_NE(refused.body.find("buffer full"), std::string::npos) << refused.body;
  EXPECT_NE(refused.body.find("retry later"), std::string::npos) << refused.body;
  const Curl info = curl("GET", gw.url() + "/info", {"token: " + fake_token(2)});
  EXPECT_EQ(result_of(info).at("buffered_readings").as_int64(), accepted * 1000);
}

// A raw connection, to behave as a slow client does.
int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

TEST(HttpSource, ASlowClientIsCutOffAfterRequestTimeout) {
  HttpGateway gw("{}", "request_timeout: 300ms, idle_timeout: 1s");
  const int slow = connect_to(gw.port());
  const std::string start = "POST /data HTTP/1.1\r\nHost: x\r\ntoken: " + fake_token(1) + "\r\n";
  ASSERT_EQ(::write(slow, start.data(), start.size()), static_cast<ssize_t>(start.size()));
  const auto t0 = std::chrono::steady_clock::now();
  const std::string answer = read_all(slow);  // returns once the server closes
  const auto waited = std::chrono::steady_clock::now() - t0;
  ::close(slow);
  EXPECT_EQ(answer, "");
  EXPECT_GE(waited, 250ms);
  EXPECT_LT(waited, 4s);
  // An idle keep-alive connection is closed after idle_timeout, without an answer.
  const int idle = connect_to(gw.port());
  EXPECT_EQ(read_all(idle), "");
  ::close(idle);
  // Others were served meanwhile and after.
  EXPECT_EQ(curl("GET", gw.url() + "/info", {"token: " + fake_token(1)}).status, 200);
}

TEST(HttpSource, ReadsBackQueriesAndDeletes) {
  HttpGateway gw;
  const std::string h = "token: " + fake_token(1);
  ASSERT_EQ(curl("POST", gw.url() + "/data", {h},
                 R"([{"variable":"temp","value":20,"time":"2024-01-01T00:00:00Z"},)"
                 R"({"variable":"temp","value":21,"time":"2024-01-01T00:01:00Z"},)"
                 R"({"variable":"hum","value":50,"time":"2024-01-01T00:00:30Z"}])")
                .status,
            200);
  // Each device sees only its own readings.
  EXPECT_EQ(result_of(curl("GET", gw.url() + "/data?query=count", {"token: " + fake_token(2)}))
                .as_int64(),
            0);
  const auto last = result_of(curl("GET", gw.url() + "/data?variable=temp&query=last_value", {h}));
  ASSERT_EQ(last.as_array().size(), 1u);
  EXPECT_EQ(last.as_array()[0].at("value").as_int64(), 21);
  const auto range = result_of(
      curl("GET",
           gw.url() + "/data?variables[]=temp&variables[]=hum&ordination=ascending&end_date=" +
               "2024-01-01T00:00:45Z",
           {h}));
  ASSERT_EQ(range.as_array().size(), 2u);
  EXPECT_EQ(range.as_array()[1].at("variable").as_string(), "hum");
  EXPECT_EQ(curl("GET", gw.url() + "/data?qty=lots", {h}).status, 400);
  // DELETE /data and the legacy DELETE /data/{variable}.
  const Curl removed = curl("DELETE", gw.url() + "/data?variable=temp&query=last_item", {h});
  EXPECT_EQ(removed.body, R"({"status":true,"result":"1 Data Removed"})");
  EXPECT_EQ(curl("DELETE", gw.url() + "/data/hum", {h}).body,
            R"({"status":true,"result":"1 Data Removed"})");
  EXPECT_EQ(result_of(curl("GET", gw.url() + "/data?query=count", {h})).as_int64(), 1);
  const auto info = result_of(curl("GET", gw.url() + "/info", {h}));
  EXPECT_EQ(info.at("name").as_string(), "boiler-1");
  EXPECT_EQ(info.at("history_readings").as_int64(), 1);
  EXPECT_FALSE(info.at("last_input").is_null());
  EXPECT_EQ(curl("GET", gw.url() + "/nowhere", {h}).status, 404);
  EXPECT_EQ(curl("PUT", gw.url() + "/info", {h}).status, 405);
}

// cloud.implausible_time: stamp (the default): a device clock never set reaches the cloud with
// the time it arrived, the original in its metadata, and is counted.
TEST(HttpSource, ATimeBeforeTwoThousandIsStampedWithItsArrival) {
  HttpGateway gw;
  const std::string h = "token: " + fake_token(1);
  const auto before = std::chrono::system_clock::now();
  ASSERT_EQ(curl("POST", gw.url() + "/data", {h},
                 R"({"variable":"temp","value":20,"time":"1975-05-01T00:00:00Z"})")
                .status,
            200);
  ASSERT_TRUE(testing::wait_until(
      [&] { return gw.cloud().device_stat("boiler-1", "readings") == 1; }, 15s));
  const auto r =
      gw.cloud().client().get("/data?variable=temp&qty=1", {{"Device-Token", fake_token(1)}});
  ASSERT_EQ(r.status, 200) << r.body;
  const auto stored = boost::json::parse(r.body).at("result").as_array().at(0);
  EXPECT_EQ(stored.at("metadata").at("original_time").as_string(), "1975-05-01T00:00:00.000Z");
  // ISO 8601 with milliseconds in UTC sorts as time does.
  const std::string sent(stored.at("time").as_string());
  EXPECT_GE(sent, iso8601(before));
  EXPECT_LE(sent, iso8601(std::chrono::system_clock::now()));
  const auto m = testing::parse_metrics(
      testing::metrics_client(testing::metrics_address(gw.process())).get("/metrics").body);
  EXPECT_EQ(m.at(R"(edgegw_readings_implausible_time_total{action="stamped",source="local-api"})"),
            1);
}

TEST(HttpSource, ReadsBackWhatOtherSourcesSent) {
  // The local history is the gateway's: readings of another source (here the example plugin, as
  // an MQTT or serial device's would be) are read back over the local Device API too.
  HttpGateway gw("{}", "", "",
                 "  - name: other\n    plugin: example\n    format: tago_json\n"
                 "    config: { device: press-7, count: 5, payload: "
                 "'{\"variable\":\"pressure\",\"value\":{i}}' }\n");
  const std::string h = "Device-Token: " + fake_token(2);
  ASSERT_TRUE(testing::wait_until(
      [&] {
        const Curl c = curl("GET", gw.url() + "/data?query=count&variable=pressure", {h});
        return c.status == 200 && result_of(c).as_int64() == 5;
      },
      15s))
      << gw.process().err();
  const auto last = result_of(curl("GET", gw.url() + "/data?variable=pressure&qty=1", {h}));
  EXPECT_EQ(last.as_array().at(0).at("value").as_int64(), 5);
}

TEST(HttpSource, ManyKeepAliveClientsAtOnce) {
  HttpGateway gw;
  constexpr int kClients = 16, kRequests = 50;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      testing::HttpClient client = gw.client();
      for (int i = 0; i < kRequests; ++i) {
        auto r = client.post(
            "/data",
            R"({"variable":"c)" + std::to_string(c) + R"(","value":)" + std::to_string(i) + "}",
            {{"Device-Token", fake_token(1)}});
        if (r.status == 200) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kClients * kRequests);
  EXPECT_TRUE(testing::wait_until(
      [&] { return gw.cloud().device_stat("boiler-1", "readings") == kClients * kRequests; }, 20s));
}

// Many clients at once, one request in three invalid: the bodies a thread reads in one turn go to
// the buffer together, yet each is answered and kept (or refused) as if it came alone.
TEST(HttpSource, ConcurrentRequestsAreEachAllOrNothing) {
  HttpGateway gw;
  constexpr int kClients = 8, kRequests = 30;
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0}, good{0}, bad{0};
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      testing::HttpClient client = gw.client();
      for (int i = 0; i < kRequests; ++i) {
        const std::string v = "c" + std::to_string(c);
        const bool valid = i % 3 != 1;
        const std::string body =
            valid ? R"([{"variable":")" + v + R"(","value":)" + std::to_string(i) +
                        R"(},{"variable":")" + v + R"(x","value":1}])"
                  : R"([{"variable":")" + v + R"(","value":1},{"variable":"no way","value":2}])";
        auto r = client.post("/data", body, {{"Device-Token", fake_token(1)}});
        if (valid && r.status == 200 && r.body == R"({"status":true,"result":"2 Data Added"})") {
          ++good;
        } else if (!valid && r.status == 400 && r.body.find("[1].variable") != std::string::npos) {
          ++bad;
        } else {
          ++wrong;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(good.load(), kClients * 20);
  EXPECT_EQ(bad.load(), kClients * 10);
  const std::string h = "Device-Token: " + fake_token(1);
  EXPECT_EQ(result_of(curl("GET", gw.url() + "/data?query=count", {h})).as_int64(),
            kClients * 20 * 2);
  EXPECT_TRUE(testing::wait_until(
      [&] { return gw.cloud().device_stat("boiler-1", "readings") == kClients * 20 * 2; }, 20s));
}

}  // namespace
}  // namespace edgegw
