// SPDX-License-Identifier: Apache-2.0
// The Device API as the cloud answers it (tagoio-api.md): tokens, POST/GET/DELETE /data, /info,
// the body limit and the item rules, spoken over real HTTP to the real emulator binary.
#include <gtest/gtest.h>

#include <csignal>
#include <regex>
#include <thread>

#include "test_util.h"

namespace edgegw::cloud_emulator {
namespace {

using namespace std::chrono_literals;
using namespace test;
using testing::CloudEmulator;
using testing::HttpClient;
using testing::Subprocess;

TEST(CloudEmulatorApi, PrintsTheListeningAddressFirstAndExitsCleanlyOnSigterm) {
  CloudEmulator cloud(device_args());
  EXPECT_GT(cloud.port(), 0);
  EXPECT_EQ(cloud.process().out(), "listening on 127.0.0.1:" + std::to_string(cloud.port()) + "\n");
  // An idle keep-alive connection does not hold the exit up.
  HttpClient client = cloud.client();
  ASSERT_EQ(client.post("/data", readings(2), auth()).status, 200);
  cloud.process().signal(SIGTERM);
  EXPECT_EQ(cloud.process().wait(5s), 0) << cloud.process().err();
  EXPECT_NE(cloud.process().err().find("stopped"), std::string::npos) << cloud.process().err();
}

TEST(CloudEmulatorApi, ExplicitPortAndBadFlags) {
  const int port = testing::free_port();
  CloudEmulator cloud({"--listen", "127.0.0.1:" + std::to_string(port), "--threads", "1"});
  EXPECT_EQ(cloud.port(), port);

  auto r = testing::run_command({testing::cloud_emulator_binary(), "--bogus"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown option '--bogus'"), std::string::npos) << r.err;
  r = testing::run_command({testing::cloud_emulator_binary(), "--fault", R"({"stauts":503})"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown fault key \"stauts\""), std::string::npos) << r.err;
  r = testing::run_command({testing::cloud_emulator_binary(), "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("--listen HOST:PORT"), std::string::npos);
}

TEST(CloudEmulatorApi, AcceptsEveryTokenForm) {
  CloudEmulator cloud(device_args());
  HttpClient client = cloud.client();
  const std::string body = R"([{"variable":"t","value":1}])";
  for (const char* header : {"Device-Token", "device-token", "Authorization", "token", "Token"}) {
    auto r = client.post("/data", body, auth(kToken, header));
    EXPECT_EQ(r.status, 200) << header << ": " << r.error << r.body;
  }
  for (const char* param : {"token", "device_token", "authorization"}) {
    auto r = client.post(std::string("/data?") + param + "=" + kToken, body);
    EXPECT_EQ(r.status, 200) << param << ": " << r.body;
  }
  EXPECT_EQ(stat(cloud.stats(), "boiler-1", "readings"), 8);
}

TEST(CloudEmulatorApi, UnknownMissingOrBearerTokenIs401) {
  CloudEmulator cloud(device_args());
  HttpClient client = cloud.client();
  const std::string body = R"([{"variable":"t","value":1}])";
  for (const auto& headers : {testing::HttpHeaders{}, auth("not-a-token"),
                              auth(std::string("Bearer ") + kToken, "Authorization")}) {
    auto r = client.post("/data", body, headers);
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(r.body, R"({"status":false,"message":"Authorization Denied"})");
  }
  EXPECT_EQ(client.get("/info").status, 401);
  EXPECT_EQ(client.get("/data?token=nope").status, 401);
  const auto stats = cloud.stats();
  EXPECT_EQ(stats.at("readings_accepted").as_int64(), 0);
  EXPECT_EQ(status_count(stats, 401), 5);
}

TEST(CloudEmulatorApi, PostAnswersNDataAdded) {
  CloudEmulator cloud(device_args());
  HttpClient client = cloud.client();
  auto r = client.post("/data", readings(3), auth());
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"status":true,"result":"3 Data Added"})");
  EXPECT_EQ(r.header("Content-Type"), "application/json");
  r = client.post("/data", R"({"variable":"hum","value":40})", auth());
  EXPECT_EQ(r.body, R"({"status":true,"result":"1 Data Added"})");
  r = client.post("/data", "[]", auth());
  EXPECT_EQ(r.body, R"({"status":true,"result":"0 Data Added"})");
  EXPECT_TRUE(client.connected());  // keep-alive
  EXPECT_EQ(stat(cloud.stats(), "boiler-1", "readings"), 4);
}

TEST(CloudEmulatorApi, BodyOver200000BytesIs413AndNothingIsStored) {
  CloudEmulator cloud(device_args());
  HttpClient client = cloud.client();
  const std::string item = R"({"variable":"t","value":1})";
  auto padded = [&](std::size_t size) {  // whitespace keeps it valid JSON
    return "[" + item + std::string(size - item.size() - 2, ' ') + "]";
  };
  auto r = client.post("/data", padded(200'000), auth());
  EXPECT_EQ(r.status, 200) << r.body;
  r = client.post("/data", padded(200'001), auth());
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(parse(r.body).at("status"), false);
  EXPECT_FALSE(message_of(r).empty());
  // The connection is still usable.
  EXPECT_EQ(client.post("/data", readings(1), auth()).status, 200);
  const auto stats = cloud.stats();
  EXPECT_EQ(stat(stats, "boiler-1", "readings"), 2);
  EXPECT_EQ(stats.at("max_body_bytes").as_int64(), 200'001);
}

TEST(CloudEmulatorApi, MalformedJsonIs400) {
  CloudEmulator cloud(device_args());
  HttpClient client = cloud.client();
  for (const char* body : {"[{\"variable\":", "not json", "42", "\"text\"", "[1]"}) {
    auto r = client.post("/data", body, auth());
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_EQ(parse(r.body).at("status"), false) << body;
  }
}

struct BadItem {
  const char* what;
  std::string item;
  const char* message_part;
};

TEST(CloudEmulatorApi, AnItemBreakingARuleRefusesTheWholeBatch) {
  CloudEmulator cloud(device_args());
  HttpClient client = cloud.client();
  const std::vector<BadItem> bad = {
      {"no variable", R"({"value":1})", "variable is required"},
      {"empty variable", R"({"variable":"","value":1})", "variable is required"},
      {"variable not a string", R"({"variable":5})", "variable must be a string"},
      {"variable 101 chars", R"({"variable":")" + std::string(101, 'v') + R"("})",
       "101 characters"},
      {"space", R"({"variable":"te mp"})", "a space"},
      {"unit 26 chars", R"({"variable":"t","unit":")" + std::string(26, 'u') + R"("})", "unit"},
      {"group 101 chars", R"({"variable":"t","group":")" + std::string(101, 'g') + R"("})",
       "group"},
      {"serie 101 chars", R"({"variable":"t","serie":")" + std::string(101, 'g') + R"("})",
       "group"},
      {"value 6145 bytes", R"({"variable":"t","value":")" + std::string(6145, 'x') + R"("})",
       "value is 6145 bytes"},
      {"value an object", R"({"variable":"t","value":{"a":1}})", "value must be"},
      {"metadata over 10 kB",
       R"({"variable":"t","metadata":{"a":")" + std::string(10240, 'm') + R"("}})", "metadata is"},
      {"metadata not an object", R"({"variable":"t","metadata":[1]})", "metadata must be"},
      {"bad location", R"({"variable":"t","location":{"lat":1}})", "location"},
      {"bad time", R"({"variable":"t","time":"yesterday"})", "time"},
      {"item not an object", R"("t")", "JSON object"},
  };
  std::vector<BadItem> all = bad;
  for (char c : std::string("*?!<>.-=$")) {
    all.push_back(
        {"forbidden char", R"({"variable":"a)" + std::string(1, c) + R"(b"})", "not allowed"});
  }
  const std::string good = R"({"variable":"ok","value":1})";
  for (const auto& b : all) {
    auto r = client.post("/data", "[" + good + "," + b.item + "," + good + "]", auth());
    EXPECT_EQ(r.status, 400) << b.what;
    const std::string message = message_of(r);
    EXPECT_NE(message.find("index 1"), std::string::npos) << b.what << ": " << message;
    EXPECT_NE(message.find(b.message_part), std::string::npos) << b.what << ": " << message;
  }
  const auto stats = cloud.stats();
  EXPECT_EQ(stats.at("readings_accepted").as_int64(), 0);
  EXPECT_EQ(status_count(stats, 400), static_cast<std::int64_t>(all.size()));
  EXPECT_EQ(result_of(client.get("/data?query=count", auth())).as_int64(), 0);

  // At the limits: accepted.
  const std::string limits =
      R"([{"variable":")" + std::string(100, 'v') + R"(","unit":")" + std::string(25, 'u') +
      R"(","group":")" + std::string(100, 'g') + R"(","value":")" + std::string(6144, 'x') +
      R"("},{"variable":"m","metadata":{"a":")" + std::string(10240 - 8, 'm') +
      R"("}},{"variable":"é","unit":")" + std::string(24, 'u') + R"(°"}])";
  auto r = client.post("/data", limits, auth());
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST(CloudEmulatorApi, GetDataQueries) {
  CloudEmulator cloud(device_args());
  HttpClient client = cloud.client();
  std::string body = "[";
  for (int i = 0; i < 20; ++i) {  // times 00:00:00 .. 00:00:19, out of order in the body
    const int s = (i * 7) % 20;
    char time[32];
    std::snprintf(time, sizeof time, "2024-01-01T00:00:%02dZ", s);
    body += std::string(i ? "," : "") + R"({"variable":")" + (s % 2 ? "Odd" : "even") +
            R"(","value":)" + std::to_string(s) + R"(,"time":")" + time + R"("})";
  }
  body += "]";
  ASSERT_EQ(client.post("/data", body, auth()).status, 200);
  ASSERT_EQ(
      client
          .post(
              "/data",
              R"([{"variable":"loc","location":{"lat":35.77,"lng":-78.67},"group":"g1",)"
              R"("time":1704067300},{"variable":"loc","serie":"g2","value":"x","time":"2024-01-01 00:02:00"}])",
              auth())
          .status,
      200);
  auto values = [&](const std::string& target) {
    auto r = client.get(target, auth());
    EXPECT_EQ(r.status, 200) << target << ": " << r.body;
    std::vector<std::string> out;
    const auto result = result_of(r);
    for (const auto& rec : result.as_array()) {
      const auto* v = rec.as_object().if_contains("value");
      out.push_back(v ? boost::json::serialize(*v) : "-");
    }
    return out;
  };
  using V = std::vector<std::string>;
  // Default: 15 most recent by time, descending.
  EXPECT_EQ(values("/data").size(), 15U);
  EXPECT_EQ(values("/data?variable=even&qty=3"), (V{"18", "16", "14"}));
  EXPECT_EQ(values("/data?variables=even&qty=3&ordination=ascending"), (V{"0", "2", "4"}));
  EXPECT_EQ(values("/data?variables=even&qty=2&skip=1"), (V{"16", "14"}));
  EXPECT_EQ(values("/data?variable%5B%5D=odd&variable%5B%5D=even&qty=3"), (V{"19", "18", "17"}));
  EXPECT_EQ(values("/data?variables%5B0%5D=ODD&variables%5B1%5D=even&qty=2"), (V{"19", "18"}));
  EXPECT_EQ(values("/data?variables[0]=odd&qty=1"), (V{"19"}));
  EXPECT_EQ(
      values("/data?variable=even&start_date=2024-01-01T00:00:04Z&end_date=2024-01-01T00:00:08Z"),
      (V{"8", "6", "4"}));
  EXPECT_EQ(values("/data?variable=even&query=last_item"), (V{"18"}));
  EXPECT_EQ(values("/data?variable=odd&query=first_item"), (V{"1"}));
  EXPECT_EQ(values("/data?variables[]=odd&variables[]=even&query=last_value"), (V{"19", "18"}));
  EXPECT_EQ(values("/data?variable=even&query=max"), (V{"18"}));
  EXPECT_EQ(values("/data?variable=loc&query=last_insert"), (V{"\"x\""}));
  EXPECT_EQ(values("/data?groups=g2"), (V{"\"x\""}));
  EXPECT_EQ(values("/data?values=7"), (V{"7"}));
  EXPECT_EQ(result_of(client.get("/data?query=count", auth())).as_int64(), 22);
  EXPECT_EQ(result_of(client.get("/data?variable=even&query=count", auth())).as_int64(), 10);
  EXPECT_EQ(result_of(client.get("/data?variable=even&query=sum", auth())).as_int64(), 90);

  // The record shape.
  auto r = client.get("/data?variable=loc&query=last_location&details=true", auth());
  const auto rec = result_of(r).as_array().at(0).as_object();
  EXPECT_TRUE(std::regex_match(std::string(rec.at("id").as_string()), std::regex("[0-9a-f]{24}")));
  EXPECT_TRUE(
      std::regex_match(std::string(rec.at("device").as_string()), std::regex("[0-9a-f]{24}")));
  EXPECT_EQ(rec.at("variable"), "loc");
  EXPECT_EQ(rec.at("group"), "g1");
  EXPECT_EQ(rec.at("location").at("type"), "Point");
  EXPECT_EQ(rec.at("time"), "2024-01-01T00:01:40.000Z");
  EXPECT_TRUE(rec.contains("created_at"));
  EXPECT_NE(r.body.find(R"("coordinates":[-78.67,35.77])"), std::string::npos) << r.body;
  // Without a group, a 24-hex auto group; no created_at without details.
  const auto plain = result_of(client.get("/data?variable=even&query=last_item", auth()));
  EXPECT_TRUE(std::regex_match(std::string(plain.at(0).at("group").as_string()),
                               std::regex("[0-9a-f]{24}")));
  EXPECT_FALSE(plain.at(0).as_object().contains("created_at"));
  EXPECT_EQ(plain.at(0).at("time"), "2024-01-01T00:00:18.000Z");
  // By id.
  const std::string id(plain.at(0).at("id").as_string());
  EXPECT_EQ(values("/data?ids=" + id), (V{"18"}));

  EXPECT_EQ(client.get("/data?qty=lots", auth()).status, 400);
  EXPECT_EQ(client.get("/data?query=aggregate", auth()).status, 400);
  EXPECT_EQ(client.get("/data?ordination=sideways", auth()).status, 400);
}

TEST(CloudEmulatorApi, DeleteDataRemovesMatchesButKeepsCounters) {
  CloudEmulator cloud(device_args());
  HttpClient client = cloud.client();
  ASSERT_EQ(client.post("/data", readings(20, 1, "a"), auth()).status, 200);
  ASSERT_EQ(client.post("/data", readings(5, 100, "b"), auth()).status, 200);
  auto r = client.del("/data?variable=a", auth());  // qty defaults to 15
  EXPECT_EQ(r.body, R"({"status":true,"result":"15 Data Removed"})");
  r = client.del("/data?variable=a&qty=100", auth());
  EXPECT_EQ(result_of(r), "5 Data Removed");
  r = client.del("/data/b?qty=2", auth());  // legacy form
  EXPECT_EQ(result_of(r), "2 Data Removed");
  r = client.del("/data?query=last_item", auth());
  EXPECT_EQ(result_of(r), "1 Data Removed");
  EXPECT_EQ(result_of(client.get("/data?query=count", auth())).as_int64(), 2);
  EXPECT_EQ(stat(cloud.stats(), "boiler-1", "readings"), 25);
  EXPECT_EQ(client.del("/data", auth("nope")).status, 401);
}

TEST(CloudEmulatorApi, InfoIsTheTokensDevice) {
  CloudEmulator cloud(device_args());
  HttpClient client = cloud.client();
  auto r = client.get("/info", auth(kToken2, "token"));
  ASSERT_EQ(r.status, 200);
  const auto info = result_of(r).as_object();
  EXPECT_EQ(info.at("name"), "press-7");
  EXPECT_TRUE(std::regex_match(std::string(info.at("id").as_string()), std::regex("[0-9a-f]{24}")));
  EXPECT_EQ(info.at("type"), "mutable");
  EXPECT_EQ(info.at("active"), true);
  EXPECT_TRUE(info.at("last_input").is_null());
  // The id is stable for a name (a restarted emulator gives the same).
  CloudEmulator again(device_args());
  auto r2 = again.client().get("/info", auth(kToken2));
  EXPECT_EQ(result_of(r2).at("id"), info.at("id"));
}

TEST(CloudEmulatorApi, UnknownRoutesAndMethods) {
  CloudEmulator cloud(device_args());
  HttpClient client = cloud.client();
  EXPECT_EQ(client.get("/v1/data", auth()).status, 404);
  EXPECT_EQ(client.request("PATCH", "/data", "{}", auth()).status, 405);
  EXPECT_EQ(client.get("/_emulator/nothing").status, 404);
}

TEST(CloudEmulatorApi, KeepBoundsStorageNotCounters) {
  CloudEmulator cloud({"--device", std::string("d=") + kToken, "--keep", "5"});
  HttpClient client = cloud.client();
  ASSERT_EQ(client.post("/data", readings(3, 1), auth()).status, 200);
  ASSERT_EQ(client.post("/data", readings(5, 4), auth()).status, 200);
  EXPECT_EQ(result_of(client.get("/data?query=count", auth())).as_int64(), 5);
  auto r = result_of(client.get("/data?qty=1&query=first_insert", auth()));
  EXPECT_EQ(r.at(0).at("metadata").at("seq"), 4);
  const auto stats = cloud.stats();
  EXPECT_EQ(stat(stats, "d", "readings"), 8);
  EXPECT_EQ(stat(stats, "d", "stored"), 5);
}

TEST(CloudEmulatorApi, DevicesFromFileFlagAndControlApi) {
  testing::TempDir dir;
  const std::string file = dir.write("devices.txt",
                                     "# token name\n"
                                     "tok-a   device a   # trailing comment\n"
                                     "\n"
                                     "tok-b\tdevice-b\n");
  CloudEmulator cloud({"--devices", file, "--device", "c=tok-c"});
  HttpClient client = cloud.client();
  EXPECT_EQ(result_of(client.get("/info", auth("tok-a"))).at("name"), "device a");
  EXPECT_EQ(result_of(client.get("/info", auth("tok-b"))).at("name"), "device-b");
  EXPECT_EQ(result_of(client.get("/info", auth("tok-c"))).at("name"), "c");
  EXPECT_EQ(client.get("/info", auth("tok-d")).status, 401);
  cloud.add_device("d", "tok-d");
  EXPECT_EQ(result_of(client.get("/info", auth("tok-d"))).at("name"), "d");
  // A second token for a device; a token cannot move to another device.
  cloud.add_device("d", "tok-d2");
  EXPECT_EQ(result_of(client.get("/info", auth("tok-d2"))).at("name"), "d");
  auto r = client.post("/_emulator/devices", R"({"name":"e","token":"tok-a"})");
  EXPECT_EQ(r.status, 400);
  r = client.get("/_emulator/devices");
  EXPECT_EQ(result_of(r).as_array().size(), 4U);

  auto bad = testing::run_command(
      {testing::cloud_emulator_binary(), "--devices", dir.write("bad.txt", "lonely\n")});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("bad.txt:1: expected 'TOKEN NAME'"), std::string::npos) << bad.err;
}

TEST(CloudEmulatorApi, ConcurrentClientsAreAllCounted) {
  CloudEmulator cloud({"--device", std::string("d=") + kToken, "--threads", "4"});
  constexpr int kThreads = 4;
  constexpr int kRequests = 50;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      HttpClient client = cloud.client();
      for (int i = 0; i < kRequests; ++i) {
        const long long seq = 1 + (static_cast<long long>(t) * kRequests + i) * 10;
        EXPECT_EQ(client.post("/data", readings(10, seq), auth()).status, 200);
      }
    });
  }
  for (auto& t : threads) t.join();
  const auto stats = cloud.stats();
  EXPECT_EQ(stat(stats, "d", "readings"), kThreads * kRequests * 10);
  EXPECT_EQ(stat(stats, "d", "requests"), kThreads * kRequests);
  EXPECT_EQ(stat(stats, "d", "duplicates"), 0);
  EXPECT_EQ(stat(stats, "d", "distinct_seqs"), kThreads * kRequests * 10);
  EXPECT_EQ(stat(stats, "d", "missing_seqs"), 0);
}

}  // namespace
}  // namespace edgegw::cloud_emulator
