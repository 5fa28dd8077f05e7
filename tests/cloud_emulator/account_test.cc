// SPDX-License-Identifier: Apache-2.0
// The Account API for device provisioning (tagoio-api.md sections 1, 2, 4, 7) as the cloud answers
// it: POST/GET /device, GET/DELETE /device/{id}, POST /device/token, GET/DELETE
// /device/token/{...}; account versus device tokens, the 400 bodies, the revoke control, faults
// aimed at account endpoints, and its separate statistics. Spoken over real HTTP to the real
// emulator binary.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <regex>
#include <vector>

#include "core/time.h"
#include "request.h"
#include "test_util.h"

namespace edgegw::cloud_emulator {
namespace {

using namespace std::chrono_literals;
using namespace test;
using testing::CloudEmulator;
using testing::HttpClient;
using testing::HttpHeaders;
using testing::url_encode;
using Tags = std::vector<std::pair<std::string, std::string>>;
namespace json = boost::json;

constexpr const char* kAccount = "a0c1d2e3-f405-4a6b-8c7d-9e0f1a2b3c4d";
constexpr const char* kConnector = "5f5a8f3351d4db99c40dece5";
constexpr const char* kNetwork = "5bbd0d144051a50034cd19fb";
constexpr const char* kDenied = R"({"status":false,"message":"Authorization Denied"})";
const std::regex kHexId("[0-9a-f]{24}");
const std::regex kUuid4("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");

HttpHeaders account(const std::string& header = "Account-Token") { return {{header, kAccount}}; }

std::vector<std::string> account_args() {
  auto args = device_args();  // boiler-1 (kToken) and press-7 (kToken2)
  args.insert(args.end(), {"--account-token", kAccount});
  return args;
}

std::string device_body(const std::string& name, const Tags& tags = {},
                        const std::string& extra = "") {
  json::array list;
  for (const auto& [k, v] : tags) list.push_back(json::object{{"key", k}, {"value", v}});
  json::object o{{"name", name},        {"type", "mutable"}, {"connector", kConnector},
                 {"network", kNetwork}, {"tags", list},      {"active", true},
                 {"visible", true}};
  std::string text = json::serialize(o);
  if (!extra.empty()) text = text.substr(0, text.size() - 1) + "," + extra + "}";
  return text;
}

struct Created {
  std::string id;
  std::string bucket;
  std::string token;
};

Created create(HttpClient& client, const std::string& name, const Tags& tags = {}) {
  auto r = client.post("/device", device_body(name, tags), account());
  EXPECT_EQ(r.status, 201) << r.body;
  if (r.status != 201) return {};
  const auto& res = result_of(r);
  return {std::string(res.at("device_id").as_string()),
          std::string(res.at("bucket_id").as_string()), std::string(res.at("token").as_string())};
}

// "filter[tags][0][key]=serial&..." with the brackets URL-encoded, as the SDK sends them.
std::string tag_filter(const Tags& tags) {
  std::string q;
  for (std::size_t i = 0; i < tags.size(); ++i) {
    const std::string prefix = "filter[tags][" + std::to_string(i) + "]";
    q += (q.empty() ? "" : "&") + url_encode(prefix + "[key]") + "=" + url_encode(tags[i].first) +
         "&" + url_encode(prefix + "[value]") + "=" + url_encode(tags[i].second);
  }
  return q;
}

// The names in a GET /device answer, in order.
std::vector<std::string> names(const testing::HttpResponse& r) {
  std::vector<std::string> out;
  const json::value result = result_of(r);
  for (const auto& d : result.as_array()) out.emplace_back(d.at("name").as_string());
  return out;
}

std::int64_t account_stat(const json::value& stats, const std::string& field) {
  return stats.at("account").at(field).to_number<std::int64_t>();
}

std::int64_t account_status_count(const json::value& stats, int status) {
  const auto* v = stats.at("account")
                      .at("requests")
                      .at("by_status")
                      .as_object()
                      .if_contains(std::to_string(status));
  return v == nullptr ? 0 : v->to_number<std::int64_t>();
}

std::string post_item() { return R"([{"variable":"t","value":1}])"; }

TEST(CloudEmulatorAccount, CreateDeviceAnswers201WithIdsAndAWorkingToken) {
  CloudEmulator cloud(account_args());
  HttpClient client = cloud.client();
  auto r = client.post("/device",
                       device_body("gw-dev-1", {{"gateway", "gw01"}, {"serial", "SN1"}},
                                   R"("serie_number":"SN1","description":"line 3")"),
                       account());
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.header("Content-Type"), "application/json");
  const auto body = parse(r.body).as_object();
  EXPECT_EQ(body.at("status"), true);
  const auto& res = body.at("result").as_object();
  EXPECT_EQ(res.size(), 3u);
  const std::string id(res.at("device_id").as_string());
  const std::string bucket(res.at("bucket_id").as_string());
  const std::string token(res.at("token").as_string());
  EXPECT_TRUE(std::regex_match(id, kHexId)) << id;
  EXPECT_TRUE(std::regex_match(bucket, kHexId)) << bucket;
  EXPECT_NE(id, bucket);
  EXPECT_TRUE(std::regex_match(token, kUuid4)) << token;

  // The token is a device token of that device: its data lands there.
  r = client.post("/data", readings(3), auth(token));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, R"({"status":true,"result":"3 Data Added"})");
  r = client.get("/info", auth(token, "token"));
  ASSERT_EQ(r.status, 200);
  const auto info = result_of(r).as_object();
  EXPECT_EQ(info.at("id"), id.c_str());
  EXPECT_EQ(info.at("name"), "gw-dev-1");
  EXPECT_EQ(info.at("type"), "mutable");
  EXPECT_EQ(info.at("serie_number"), "SN1");
  EXPECT_EQ(info.at("description"), "line 3");
  EXPECT_EQ(info.at("bucket").at("id"), bucket.c_str());
  EXPECT_EQ(json::serialize(info.at("tags")),
            R"([{"key":"gateway","value":"gw01"},{"key":"serial","value":"SN1"}])");
  EXPECT_FALSE(info.at("last_input").is_null());

  const auto stats = cloud.stats();
  EXPECT_EQ(stat(stats, "gw-dev-1", "readings"), 3);
  EXPECT_EQ(stats.at("devices").at("gw-dev-1").at("id"), id.c_str());
  EXPECT_EQ(account_stat(stats, "creates"), 1);
  EXPECT_EQ(account_stat(stats, "devices_created"), 1);
  EXPECT_EQ(account_stat(stats, "devices"), 1);
  EXPECT_EQ(account_status_count(stats, 201), 1);
  // The Device API's counters hold only the Device API's requests.
  EXPECT_EQ(stats.at("requests").at("total").as_int64(), 2);
  EXPECT_EQ(stats.at("account").at("requests").at("total").as_int64(), 1);
}

TEST(CloudEmulatorAccount, TheAccountTokenIsAcceptedInEveryTokenHeader) {
  CloudEmulator cloud(account_args());
  HttpClient client = cloud.client();
  for (const char* header :
       {"Account-Token", "Profile-Token", "token", "Token", "Device-Token", "Authorization"}) {
    auto r = client.get("/device", account(header));
    EXPECT_EQ(r.status, 200) << header << ": " << r.body;
  }
  EXPECT_EQ(client.get(std::string("/device?token=") + kAccount).status, 200);
  EXPECT_EQ(account_stat(cloud.stats(), "lookups"), 7);
}

TEST(CloudEmulatorAccount, DeviceTokensOnTheAccountApiAndAccountTokensOnDataAre401) {
  CloudEmulator cloud(account_args());
  HttpClient client = cloud.client();
  const Created gw = create(client, "gw-dev-1");
  struct Call {
    const char* method;
    std::string target;
    std::string body;
  };
  const std::vector<Call> account_calls = {
      {"POST", "/device", device_body("x")},
      {"GET", "/device", ""},
      {"GET", "/device/" + gw.id, ""},
      {"DELETE", "/device/" + gw.id, ""},
      {"POST", "/device/token", R"({"device":")" + gw.id + R"(","name":"x"})"},
      {"GET", "/device/token/" + gw.id, ""},
      {"DELETE", "/device/token/" + gw.token, ""}};
  for (const auto& headers :
       {HttpHeaders{}, auth(kToken), auth(gw.token), auth("not-a-token"), auth(gw.id)}) {
    for (const auto& call : account_calls) {
      auto r = client.request(call.method, call.target, call.body, headers);
      EXPECT_EQ(r.status, 401) << call.method << " " << call.target;
      EXPECT_EQ(r.body, kDenied);
    }
  }
  EXPECT_EQ(client.get("/device", {{"Authorization", std::string("Bearer ") + kAccount}}).status,
            401);
  // The account token is no device token.
  for (const char* header : {"Device-Token", "Account-Token", "token"}) {
    auto r = client.post("/data", post_item(), account(header));
    EXPECT_EQ(r.status, 401) << header;
    EXPECT_EQ(r.body, kDenied);
  }
  EXPECT_EQ(client.get("/info", account("token")).status, 401);
  EXPECT_EQ(client.get("/data", account("token")).status, 401);
  // Nothing was changed by the refused calls.
  EXPECT_EQ(client.post("/data", post_item(), auth(gw.token)).status, 200);
  const auto stats = cloud.stats();
  EXPECT_EQ(account_stat(stats, "devices"), 1);
  EXPECT_EQ(account_stat(stats, "devices_deleted"), 0);
  EXPECT_EQ(account_stat(stats, "tokens_deleted"), 0);
}

TEST(CloudEmulatorAccount, WithoutAnAccountTokenTheAccountApiAnswers401ToEveryone) {
  CloudEmulator cloud(device_args());
  HttpClient client = cloud.client();
  for (const auto& headers : {HttpHeaders{}, auth(kToken), account()}) {
    auto r = client.get("/device", headers);
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(r.body, kDenied);
    EXPECT_EQ(client.post("/device", device_body("x"), headers).status, 401);
  }
  EXPECT_EQ(client.post("/data", post_item(), auth()).status, 200);
}

TEST(CloudEmulatorAccount, AnAccountTokenMayNotBeADeviceToken) {
  auto r = testing::run_command({testing::cloud_emulator_binary(), "--device",
                                 std::string("boiler-1=") + kToken, "--account-token", kToken});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("already a device token"), std::string::npos) << r.err;
  r = testing::run_command({testing::cloud_emulator_binary(), "--account-token"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--account-token: missing value"), std::string::npos) << r.err;
  r = testing::run_command({testing::cloud_emulator_binary(), "--help"});
  EXPECT_NE(r.out.find("--account-token TOKEN"), std::string::npos);
}

struct BadDevice {
  const char* what;
  std::string body;
  const char* message_part;
};

TEST(CloudEmulatorAccount, CreateDeviceRefusesABadBodyWith400) {
  CloudEmulator cloud(account_args());
  HttpClient client = cloud.client();
  const std::string c = std::string(R"("connector":")") + kConnector + R"(")";
  const std::string n = std::string(R"("network":")") + kNetwork + R"(")";
  const std::string cn = c + "," + n;
  const std::vector<BadDevice> bad = {
      {"not JSON", "{\"name\":", "Invalid JSON body"},
      {"an array", "[" + device_body("x") + "]", "must be a JSON object"},
      {"no name", R"({"type":"mutable",)" + cn + "}", "name is required"},
      {"empty name", R"({"name":"","type":"mutable",)" + cn + "}", "name is required"},
      {"name not a string", R"({"name":5,"type":"mutable",)" + cn + "}", "name must be a string"},
      {"no type", R"({"name":"x",)" + cn + "}", "type is required"},
      {"legacy type", R"({"name":"x","type":"legacy",)" + cn + "}",
       R"(type must be "mutable" or "immutable")"},
      {"immutable without chunk_period", R"({"name":"x","type":"immutable",)" + cn + "}",
       "chunk_period is required for an immutable device"},
      {"chunk_period year",
       R"({"name":"x","type":"immutable","chunk_period":"year","chunk_retention":1,)" + cn + "}",
       "chunk_period must be day, week, month or quarter"},
      {"immutable without chunk_retention",
       R"({"name":"x","type":"immutable","chunk_period":"day",)" + cn + "}",
       "chunk_retention is required for an immutable device"},
      {"chunk_retention 37",
       R"({"name":"x","type":"immutable","chunk_period":"day","chunk_retention":37,)" + cn + "}",
       "chunk_retention must be an integer from 0 to 36"},
      {"chunk_retention 1.5",
       R"({"name":"x","type":"immutable","chunk_period":"day","chunk_retention":1.5,)" + cn + "}",
       "chunk_retention must be an integer from 0 to 36"},
      {"no connector", R"({"name":"x","type":"mutable",)" + n + "}", "connector is required"},
      {"short connector", R"({"name":"x","type":"mutable","connector":"5f5a8f",)" + n + "}",
       "connector must be a 24-character hex id"},
      {"no network", R"({"name":"x","type":"mutable",)" + c + "}", "network is required"},
      {"network not hex",
       R"({"name":"x","type":"mutable","network":"zzzzzzzzzzzzzzzzzzzzzzzz",)" + c + "}",
       "network must be a 24-character hex id"},
      {"tags not an array", R"({"name":"x","type":"mutable","tags":{},)" + cn + "}",
       "tags must be an array"},
      {"tag without key", R"({"name":"x","type":"mutable","tags":[{"value":"v"}],)" + cn + "}",
       "tags[0].key is required"},
      {"tag value a number",
       R"({"name":"x","type":"mutable","tags":[{"key":"a","value":"b"},{"key":"k","value":1}],)" +
           cn + "}",
       "tags[1].value must be a string"},
      {"active a string", R"({"name":"x","type":"mutable","active":"yes",)" + cn + "}",
       "active must be true or false"},
      {"serie_number a number", R"({"name":"x","type":"mutable","serie_number":7,)" + cn + "}",
       "serie_number must be a string"},
  };
  for (const auto& b : bad) {
    auto r = client.post("/device", b.body, account());
    EXPECT_EQ(r.status, 400) << b.what << ": " << r.body;
    const auto doc = parse(r.body).as_object();
    EXPECT_EQ(doc.at("status"), false) << b.what;
    EXPECT_EQ(doc.size(), 2u) << b.what;  // {"status":false,"message":"..."}
    EXPECT_NE(message_of(r).find(b.message_part), std::string::npos)
        << b.what << ": " << message_of(r);
  }
  auto stats = cloud.stats();
  EXPECT_EQ(account_stat(stats, "creates"), static_cast<std::int64_t>(bad.size()));
  EXPECT_EQ(account_stat(stats, "devices"), 0);
  EXPECT_EQ(account_status_count(stats, 400), static_cast<std::int64_t>(bad.size()));

  // An immutable device with its chunk settings is fine.
  auto r = client.post("/device",
                       R"({"name":"x","type":"immutable","chunk_period":"month",)"
                       R"("chunk_retention":12,)" +
                           cn + "}",
                       account());
  ASSERT_EQ(r.status, 201) << r.body;
  r = client.get("/device/" + std::string(result_of(r).at("device_id").as_string()), account());
  const auto d = result_of(r).as_object();
  EXPECT_EQ(d.at("type"), "immutable");
  EXPECT_EQ(d.at("chunk_period"), "month");
  EXPECT_EQ(d.at("chunk_retention"), 12);
}

TEST(CloudEmulatorAccount, NothingDedupesCreates) {
  CloudEmulator cloud(account_args());
  HttpClient client = cloud.client();
  const Created a = create(client, "gw-dev-1", {{"serial", "SN1"}});
  const Created b = create(client, "gw-dev-1", {{"serial", "SN1"}});
  EXPECT_NE(a.id, b.id);
  EXPECT_NE(a.token, b.token);
  auto r = client.get("/device?" + url_encode("filter[name]") + "=gw-dev-1", account());
  EXPECT_EQ(result_of(r).as_array().size(), 2u);
  // The control API finds them by name or tag; the stats key the later one NAME#ID.
  EXPECT_EQ(cloud.devices("name=gw-dev-1").as_array().size(), 2u);
  EXPECT_EQ(cloud.devices("tag=serial=SN1&provisioned=true").as_array().size(), 2u);
  EXPECT_EQ(cloud.devices("tag=serial=SN2").as_array().size(), 0u);
  EXPECT_EQ(cloud.devices("provisioned=false").as_array().size(), 2u);  // boiler-1, press-7
  ASSERT_EQ(client.post("/data", readings(2), auth(b.token)).status, 200);
  const auto stats = cloud.stats();
  EXPECT_EQ(stat(stats, "gw-dev-1", "readings"), 0);
  EXPECT_EQ(stat(stats, "gw-dev-1#" + b.id, "readings"), 2);
  EXPECT_EQ(account_stat(stats, "devices"), 2);
  EXPECT_EQ(account_stat(stats, "creates"), 2);
}

TEST(CloudEmulatorAccount, TheTagFilterWantsEveryTag) {
  CloudEmulator cloud(account_args());
  HttpClient client = cloud.client();
  create(client, "a", {{"gateway", "gw01"}, {"serial", "SN1"}});
  create(client, "b", {{"gateway", "gw01"}, {"serial", "SN2"}});
  create(client, "c", {{"gateway", "gw02"}, {"serial", "SN1"}});
  create(client, "d", {});

  auto r = client.get("/device?" + tag_filter({{"gateway", "gw01"}, {"serial", "SN1"}}), account());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(names(r), std::vector<std::string>{"a"});
  r = client.get("/device?" + tag_filter({{"serial", "SN1"}, {"gateway", "gw01"}}), account());
  EXPECT_EQ(names(r), std::vector<std::string>{"a"});
  r = client.get("/device?" + tag_filter({{"gateway", "gw01"}}), account());
  EXPECT_EQ(names(r), (std::vector<std::string>{"a", "b"}));
  r = client.get("/device?" + tag_filter({{"serial", "SN1"}}), account());
  EXPECT_EQ(names(r), (std::vector<std::string>{"a", "c"}));
  r = client.get("/device?" + tag_filter({{"gateway", "gw02"}, {"serial", "SN2"}}), account());
  EXPECT_TRUE(names(r).empty());
  // Brackets not encoded, and the rest of the SDK's query (capture in tagoio-api.md section 7).
  r = client.get(
      "/device?page=1&fields[0]=id&fields[1]=name&fields[2]=tags"
      "&filter[tags][0][key]=gateway&filter[tags][0][value]=gw01"
      "&filter[tags][1][key]=serial&filter[tags][1][value]=SN2"
      "&amount=20&orderBy=name,asc&resolveBucketName=false&resolveConnectorName=false",
      account());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(names(r), std::vector<std::string>{"b"});
  // A key alone matches any value.
  r = client.get("/device?" + url_encode("filter[tags][0][key]") + "=serial", account());
  EXPECT_EQ(names(r), (std::vector<std::string>{"a", "b", "c"}));
}

TEST(CloudEmulatorAccount, ListByNameIdFieldsPagesAndOrder) {
  CloudEmulator cloud(account_args());  // boiler-1 and press-7 are devices of the profile too
  HttpClient client = cloud.client();
  create(client, "pump-2");
  const Created pump1 = create(client, "pump-1");
  create(client, "valve-1");
  const std::string name = url_encode("filter[name]");

  auto r = client.get("/device", account());  // default: name ascending, whole objects
  EXPECT_EQ(names(r),
            (std::vector<std::string>{"boiler-1", "press-7", "pump-1", "pump-2", "valve-1"}));
  const auto first = result_of(r).as_array()[0].as_object();
  for (const char* field : {"id", "name", "tags", "created_at", "type", "active", "bucket"}) {
    EXPECT_TRUE(first.contains(field)) << field;
  }
  EXPECT_EQ(first.at("tags").as_array().size(), 0u);

  r = client.get("/device?" + name + "=pump-*", account());
  EXPECT_EQ(names(r), (std::vector<std::string>{"pump-1", "pump-2"}));
  r = client.get("/device?" + name + "=*-1", account());
  EXPECT_EQ(names(r), (std::vector<std::string>{"boiler-1", "pump-1", "valve-1"}));
  r = client.get("/device?" + name + "=*ump*", account());
  EXPECT_EQ(names(r), (std::vector<std::string>{"pump-1", "pump-2"}));
  r = client.get("/device?" + name + "=valve-1", account());
  EXPECT_EQ(names(r), std::vector<std::string>{"valve-1"});
  r = client.get("/device?" + name + "=valve", account());
  EXPECT_TRUE(names(r).empty());
  r = client.get("/device?" + url_encode("filter[id]") + "=" + pump1.id, account());
  EXPECT_EQ(names(r), std::vector<std::string>{"pump-1"});

  // fields: only those, and always the id.
  r = client.get("/device?" + url_encode("fields[0]") + "=name&" + name + "=pump-1", account());
  const auto only = result_of(r).as_array().at(0).as_object();
  EXPECT_EQ(only.size(), 2u);
  EXPECT_EQ(only.at("id"), pump1.id.c_str());
  EXPECT_EQ(only.at("name"), "pump-1");

  // Pages of 2, 1-based.
  auto page = [&](int n, const std::string& order) {
    return names(client.get(
        "/device?amount=2&page=" + std::to_string(n) + "&orderBy=" + url_encode(order), account()));
  };
  EXPECT_EQ(page(1, "name,asc"), (std::vector<std::string>{"boiler-1", "press-7"}));
  EXPECT_EQ(page(2, "name,asc"), (std::vector<std::string>{"pump-1", "pump-2"}));
  EXPECT_EQ(page(3, "name,asc"), std::vector<std::string>{"valve-1"});
  EXPECT_TRUE(page(4, "name,asc").empty());
  EXPECT_EQ(page(1, "name,desc"), (std::vector<std::string>{"valve-1", "pump-2"}));
  // Equal created_at (milliseconds) are ordered by creation too.
  r = client.get("/device?orderBy=" + url_encode("created_at,desc") + "&" + name + "=*-*",
                 account());
  auto by_created = names(r);
  ASSERT_EQ(by_created.size(), 5u);
  EXPECT_EQ(by_created.back(), "boiler-1") << "created at start-up, before the account's devices";

  // Bad paging or order: 400 with the cloud's envelope.
  for (const std::string q : {"page=0", "page=x", "amount=0", "amount=-1", "orderBy=bogus,asc",
                              "orderBy=name,sideways"}) {
    r = client.get("/device?" + q, account());
    EXPECT_EQ(r.status, 400) << q;
    EXPECT_EQ(parse(r.body).at("status"), false) << q;
  }
  EXPECT_EQ(client.get("/device?amount=20000", account()).status, 200);  // capped at 10000
}

TEST(CloudEmulatorAccount, GetAndDeleteADevice) {
  CloudEmulator cloud(account_args());
  HttpClient client = cloud.client();
  const Created gw = create(client, "gw-dev-1", {{"serial", "SN1"}});
  auto r = client.get("/device/" + gw.id, account());
  ASSERT_EQ(r.status, 200);
  const auto d = result_of(r).as_object();
  EXPECT_EQ(d.at("id"), gw.id.c_str());
  EXPECT_EQ(d.at("name"), "gw-dev-1");
  EXPECT_EQ(d.at("connector"), kConnector);
  EXPECT_EQ(d.at("network"), kNetwork);
  EXPECT_EQ(d.at("active"), true);
  EXPECT_TRUE(d.at("last_input").is_null());

  r = client.get("/device/0123456789abcdef01234567", account());
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, R"({"status":false,"message":"Device not found"})");

  ASSERT_EQ(client.post("/data", post_item(), auth(gw.token)).status, 200);
  r = client.del("/device/" + gw.id, account());
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"status":true,"result":"Successfully Removed"})");
  // Gone, and so are its tokens.
  EXPECT_EQ(client.get("/device/" + gw.id, account()).status, 404);
  EXPECT_EQ(client.del("/device/" + gw.id, account()).status, 404);
  EXPECT_EQ(client.get("/device/token/" + gw.id, account()).status, 404);
  r = client.post("/data", post_item(), auth(gw.token));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, kDenied);
  EXPECT_EQ(client.get("/info", auth(gw.token)).status, 401);
  r = client.get("/device?" + tag_filter({{"serial", "SN1"}}), account());
  EXPECT_TRUE(names(r).empty());
  EXPECT_EQ(cloud.devices("name=gw-dev-1").as_array().size(), 0u);
  const auto stats = cloud.stats();
  EXPECT_FALSE(stats.at("devices").as_object().contains("gw-dev-1"));
  EXPECT_EQ(account_stat(stats, "deletes"), 2);
  EXPECT_EQ(account_stat(stats, "devices_deleted"), 1);
  EXPECT_EQ(account_stat(stats, "devices"), 0);
  EXPECT_EQ(account_stat(stats, "lookups"), 4);
}

TEST(CloudEmulatorAccount, ACreatedTokenPostsDataToItsDevice) {
  CloudEmulator cloud(account_args());
  HttpClient client = cloud.client();
  const Created gw = create(client, "gw-dev-1");
  auto r =
      client.post("/device/token", R"({"device":")" + gw.id + R"(","name":"edgegw"})", account());
  ASSERT_EQ(r.status, 201) << r.body;
  const auto res = result_of(r).as_object();
  EXPECT_EQ(res.size(), 3u);
  const std::string token(res.at("token").as_string());
  EXPECT_TRUE(std::regex_match(token, kUuid4)) << token;
  EXPECT_EQ(res.at("permission"), "full");
  EXPECT_TRUE(res.at("expire_date").is_null());
  r = client.post("/data", readings(4), auth(token));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(stat(cloud.stats(), "gw-dev-1", "readings"), 4);

  r = client.post(
      "/device/token",
      R"({"device":")" + gw.id + R"(","name":"never","permission":"full","expire_time":"never"})",
      account());
  ASSERT_EQ(r.status, 201);
  EXPECT_TRUE(result_of(r).at("expire_date").is_null());

  // The account sees the token values.
  r = client.get("/device/token/" + gw.id, account());
  ASSERT_EQ(r.status, 200);
  const json::value tokens = result_of(r);
  const auto& list = tokens.as_array();
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].at("token"), gw.token.c_str());
  EXPECT_EQ(list[0].at("name"), "Default");
  EXPECT_EQ(list[1].at("token"), token.c_str());
  EXPECT_EQ(list[1].at("name"), "edgegw");
  for (const auto& t : list) {
    EXPECT_EQ(t.at("permission"), "full");
    EXPECT_TRUE(t.at("expire_time").is_null());
    EXPECT_TRUE(core::parse_iso8601(t.at("created_at").as_string()).has_value());
  }
  EXPECT_EQ(client.get("/device/token/" + gw.id + "?amount=1&page=2", account()).body,
            result_body(json::array{list[1]}));
  // The emulator's own devices have theirs too.
  const std::string boiler(cloud.devices("name=boiler-1").at(0).at("id").as_string());
  r = client.get("/device/token/" + boiler, account());
  EXPECT_EQ(result_of(r).at(0).at("token"), kToken);

  const auto stats = cloud.stats();
  EXPECT_EQ(account_stat(stats, "token_creates"), 2);
  EXPECT_EQ(account_stat(stats, "token_lists"), 3);
  EXPECT_EQ(account_stat(stats, "tokens_created"), 3);  // with the device's first one
}

TEST(CloudEmulatorAccount, CreateTokenRefusesABadBody) {
  CloudEmulator cloud(account_args());
  HttpClient client = cloud.client();
  const Created gw = create(client, "gw-dev-1");
  const std::string dev = R"("device":")" + gw.id + R"(")";
  const std::vector<BadDevice> bad = {
      {"not JSON", "nope", "Invalid JSON body"},
      {"no device", R"({"name":"x"})", "device is required"},
      {"no name", "{" + dev + "}", "name is required"},
      {"bad permission", "{" + dev + R"(,"name":"x","permission":"admin"})",
       "permission must be full, read or write"},
      {"bad expire_time", "{" + dev + R"(,"name":"x","expire_time":"soon"})",
       "expire_time must be \"never\", a date or a duration"},
      {"expire_time a number", "{" + dev + R"(,"name":"x","expire_time":5})",
       "expire_time must be a string"},
  };
  for (const auto& b : bad) {
    auto r = client.post("/device/token", b.body, account());
    EXPECT_EQ(r.status, 400) << b.what << ": " << r.body;
    EXPECT_EQ(parse(r.body).at("status"), false);
    EXPECT_NE(message_of(r).find(b.message_part), std::string::npos)
        << b.what << ": " << message_of(r);
  }
  auto r = client.post("/device/token", R"({"device":"0123456789abcdef01234567","name":"x"})",
                       account());
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, R"({"status":false,"message":"Device not found"})");
  r = client.get("/device/token/0123456789abcdef01234567", account());
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(result_of(client.get("/device/token/" + gw.id, account())).as_array().size(), 1u);
}

TEST(CloudEmulatorAccount, ReadWriteAndExpiredTokens) {
  CloudEmulator cloud(account_args());
  HttpClient client = cloud.client();
  const Created gw = create(client, "gw-dev-1");
  auto make = [&](const std::string& extra) {
    auto r = client.post("/device/token",
                         R"({"device":")" + gw.id + R"(","name":"t")" + extra + "}", account());
    EXPECT_EQ(r.status, 201) << r.body;
    return result_of(r).as_object();
  };
  const auto read = make(R"(,"permission":"read")");
  const auto write = make(R"(,"permission":"write")");
  EXPECT_EQ(read.at("permission"), "read");
  EXPECT_EQ(write.at("permission"), "write");
  const std::string rt(read.at("token").as_string()), wt(write.at("token").as_string());
  EXPECT_EQ(client.post("/data", post_item(), auth(rt)).status, 401);
  EXPECT_EQ(client.del("/data", auth(rt)).status, 401);
  EXPECT_EQ(client.get("/data", auth(rt)).status, 200);
  EXPECT_EQ(client.post("/data", post_item(), auth(wt)).status, 200);
  EXPECT_EQ(client.get("/data", auth(wt)).status, 401);
  EXPECT_EQ(client.get("/info", auth(rt)).status, 200);
  EXPECT_EQ(client.get("/info", auth(wt)).status, 200);

  const std::int64_t now = core::now_ms();
  const auto hours = make(R"(,"expire_time":"3 hours")");
  const auto expire = core::parse_iso8601(hours.at("expire_date").as_string());
  ASSERT_TRUE(expire.has_value());
  EXPECT_NEAR(static_cast<double>(*expire - now), 3 * 3600e3, 60e3);
  EXPECT_EQ(
      client.post("/data", post_item(), auth(std::string(hours.at("token").as_string()))).status,
      200);
  const auto past = make(R"(,"expire_time":"2020-01-01T00:00:00Z")");
  EXPECT_EQ(past.at("expire_date"), "2020-01-01T00:00:00.000Z");
  EXPECT_EQ(
      client.post("/data", post_item(), auth(std::string(past.at("token").as_string()))).status,
      401);
}

TEST(CloudEmulatorAccount, ADeletedTokenStopsWorkingAtOnce) {
  CloudEmulator cloud(account_args());
  HttpClient client = cloud.client();
  const Created gw = create(client, "gw-dev-1");
  auto r =
      client.post("/device/token", R"({"device":")" + gw.id + R"(","name":"second"})", account());
  const std::string second(result_of(r).at("token").as_string());
  ASSERT_EQ(client.post("/data", post_item(), auth(second)).status, 200);

  r = client.del("/device/token/" + second, account());
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"status":true,"result":"Token Successfully Removed"})");
  r = client.post("/data", post_item(), auth(second));  // the same kept-alive connection
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, kDenied);
  EXPECT_EQ(client.post("/data", post_item(), auth(gw.token)).status, 200);  // the other stays
  r = client.del("/device/token/" + second, account());
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, R"({"status":false,"message":"Token not found"})");
  r = client.get("/device/token/" + gw.id, account());
  ASSERT_EQ(result_of(r).as_array().size(), 1u);
  EXPECT_EQ(result_of(r).at(0).at("token"), gw.token.c_str());
  // A --device token can be removed as well.
  ASSERT_EQ(client.del(std::string("/device/token/") + kToken2, account()).status, 200);
  EXPECT_EQ(client.post("/data", post_item(), auth(kToken2)).status, 401);

  const auto stats = cloud.stats();
  EXPECT_EQ(account_stat(stats, "token_deletes"), 3);
  EXPECT_EQ(account_stat(stats, "tokens_deleted"), 2);
  EXPECT_EQ(stat(stats, "gw-dev-1", "readings"), 2);
}

TEST(CloudEmulatorAccount, RevokingTheAccountTokensAtRunTime) {
  CloudEmulator cloud(account_args());
  HttpClient client = cloud.client();
  const Created gw = create(client, "gw-dev-1");
  auto state = cloud.set_account(R"({"revoked":true})");
  EXPECT_EQ(state.at("revoked"), true);
  for (const auto& [method, target] : std::vector<std::pair<std::string, std::string>>{
           {"GET", "/device"}, {"GET", "/device/" + gw.id}, {"POST", "/device"}}) {
    auto r = client.request(method, target, device_body("x"), account());
    EXPECT_EQ(r.status, 401) << method << " " << target;
    EXPECT_EQ(r.body, kDenied);
  }
  // Device tokens are not affected, whatever the account API's state.
  EXPECT_EQ(client.post("/data", post_item(), auth(gw.token)).status, 200);
  EXPECT_EQ(cloud.stats().at("account").at("revoked"), true);

  cloud.set_account(R"({"revoked":false})");
  EXPECT_EQ(client.get("/device", account()).status, 200);
  // More tokens at run time; a device token cannot be one.
  state = cloud.set_account(R"({"tokens":["acct-2"]})");
  EXPECT_EQ(state.at("tokens").as_array().size(), 2u);
  EXPECT_EQ(client.get("/device", {{"Account-Token", "acct-2"}}).status, 200);
  HttpClient control = cloud.client();
  auto r = control.post("/_emulator/account", std::string(R"({"tokens":[")") + kToken + "\"]}");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(message_of(r).find("already a device token"), std::string::npos) << r.body;
  r = control.post("/_emulator/account", R"({"revokd":true})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(message_of(r).find("unknown key \"revokd\""), std::string::npos) << r.body;
  EXPECT_EQ(result_of(control.get("/_emulator/account")).at("revoked"), false);
  // The token_denied fault denies an account token as well.
  cloud.set_fault(R"({"token_denied":"acct-2"})");
  EXPECT_EQ(client.get("/device", {{"Account-Token", "acct-2"}}).status, 401);
  EXPECT_EQ(client.get("/device", account()).status, 200);
  // POST /_emulator/reset lifts a revocation; the devices stay.
  cloud.set_account(R"({"revoked":true})");
  cloud.reset();
  EXPECT_EQ(names(client.get("/device?" + url_encode("filter[name]") + "=gw-*", account())),
            std::vector<std::string>{"gw-dev-1"});
  EXPECT_EQ(account_stat(cloud.stats(), "lookups"), 1);
}

TEST(CloudEmulatorAccount, FaultsReachAccountEndpointsByPathOrToken) {
  CloudEmulator cloud(account_args());
  HttpClient client = cloud.client();
  // A 503 for POST /device only.
  cloud.set_fault(R"({"status":503,"method":"POST","path":"/device","count":1})");
  EXPECT_EQ(client.get("/device", account()).status, 200);
  auto r = client.post("/device", device_body("gw-dev-1"), account());
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, R"({"status":false,"message":"Service Unavailable"})");
  EXPECT_EQ(client.post("/device", device_body("gw-dev-1"), account()).status, 201);

  // A fault with neither path nor token stays with the Device API, as before.
  cloud.set_fault(R"({"status":503,"count":1})");
  EXPECT_EQ(client.get("/device", account()).status, 200);
  EXPECT_EQ(client.post("/data", post_item(), auth()).status, 503);

  // A delay, a prefix, "/*" for every request, and the account token as the selector.
  cloud.set_fault(R"({"delay_ms":300,"path":"/device","count":1})");
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(client.get("/device", account()).status, 200);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 290ms);
  cloud.set_fault(R"({"status":500,"path":"/device/token/*","count":1})");
  EXPECT_EQ(client.get("/device/token/0123456789abcdef01234567", account()).status, 500);
  cloud.set_fault(R"({"status":502,"path":"/*","count":2})");
  EXPECT_EQ(client.get("/device", account()).status, 502);
  EXPECT_EQ(client.post("/data", post_item(), auth()).status, 502);
  cloud.set_fault(std::string(R"({"status":429,"retry_after":7,"count":1,"token":")") + kAccount +
                  "\"}");
  EXPECT_EQ(client.post("/data", post_item(), auth()).status, 200);
  r = client.get("/device", account());
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(message_of(r), "Too many requests (Retry-After: 7)");

  // A lost answer: the device is made, the client hears 503 (its retry would make another).
  cloud.set_fault(
      R"({"status":503,"method":"POST","path":"/device","count":1,"after_processing":true})");
  EXPECT_EQ(client.post("/device", device_body("gw-dev-2"), account()).status, 503);
  EXPECT_EQ(cloud.devices("name=gw-dev-2").as_array().size(), 1u);

  const auto stats = cloud.stats();
  EXPECT_EQ(account_status_count(stats, 503), 2);
  EXPECT_EQ(account_status_count(stats, 500), 1);
  EXPECT_EQ(account_status_count(stats, 502), 1);
  EXPECT_EQ(account_status_count(stats, 429), 1);
  EXPECT_EQ(status_count(stats, 503), 1);  // the Device API's own
  EXPECT_EQ(status_count(stats, 502), 1);
  EXPECT_EQ(status_count(stats, 429), 0);
  EXPECT_EQ(account_stat(stats, "creates"), 3);
  EXPECT_EQ(account_stat(stats, "devices_created"), 2);
}

TEST(CloudEmulatorAccount, AccountRequestsStayOutOfTheDeviceApiBudget) {
  // The budget's windows are aligned on the clock: a run that crossed into the next window is
  // run again (with a fresh emulator) rather than judged; two crossings in a row cannot happen.
  constexpr std::int64_t kWindow = 60'000;
  struct Seen {
    std::vector<int> statuses;
    boost::json::value stats;
  };
  const auto run = [&]() -> std::optional<Seen> {
    const std::int64_t window = core::now_ms() / kWindow;
    auto args = account_args();
    args.insert(args.end(), {"--budget", "2/" + std::to_string(kWindow)});
    CloudEmulator cloud(args);
    HttpClient client = cloud.client();
    Seen seen;
    const Created gw = create(client, "gw-dev-1");
    for (int i = 0; i < 5; ++i) seen.statuses.push_back(client.get("/device", account()).status);
    seen.statuses.push_back(client.post("/data", post_item(), auth(gw.token)).status);
    seen.statuses.push_back(client.post("/data", post_item(), auth()).status);
    seen.statuses.push_back(client.post("/data", post_item(), auth()).status);
    seen.statuses.push_back(client.post("/device", device_body("gw-dev-2"), account()).status);
    seen.stats = cloud.stats();
    if (core::now_ms() / kWindow != window) return std::nullopt;
    return seen;
  };
  std::optional<Seen> seen = run();
  if (!seen) seen = run();
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->statuses, (std::vector<int>{200, 200, 200, 200, 200, 200, 200, 429, 201}));
  const auto& stats = seen->stats;
  EXPECT_EQ(stats.at("budget").at("current_window_requests").as_int64(), 3);
  EXPECT_EQ(stats.at("budget").at("throttled").as_int64(), 1);
  EXPECT_EQ(stats.at("requests").at("total").as_int64(), 3);
  EXPECT_EQ(stats.at("account").at("requests").at("total").as_int64(), 7);
}

TEST(CloudEmulatorAccount, UnknownMethodsAndPaths) {
  CloudEmulator cloud(account_args());
  HttpClient client = cloud.client();
  EXPECT_EQ(client.request("PUT", "/device", "{}", account()).status, 405);
  EXPECT_EQ(client.get("/device/token", account()).status, 405);
  EXPECT_EQ(client.request("PUT", "/device/token/abc", "{}", account()).status, 405);
  EXPECT_EQ(client.request("PATCH", "/device/0123456789abcdef01234567", "{}", account()).status,
            405);
  // Not Account API routes: as before.
  EXPECT_EQ(client.get("/device/params", auth()).status, 404);
  EXPECT_EQ(client.get("/device/0123456789abcdef01234567/data", account()).status, 404);
  // An over-size body is a 413 here too.
  EXPECT_EQ(client.post("/device", std::string(200'001, ' '), account()).status, 413);
}

}  // namespace
}  // namespace edgegw::cloud_emulator
