// SPDX-License-Identifier: Apache-2.0
// Request handling without sockets: targets, token headers, routes, legacy deletes, answers, and
// the parser's limits.
#include "request.h"

#include <gtest/gtest.h>

#include <string>

namespace edgegw::plugins::http {
namespace {

Request with(const std::string& name, const std::string& value) {
  Request r(beast_http::verb::get, "/data", 11);
  r.set(name, value);
  return r;
}

TEST(HttpRequest, SplitsTargets) {
  EXPECT_EQ(split_target("/data").path, "/data");
  EXPECT_EQ(split_target("/data").query, "");
  EXPECT_EQ(split_target("/data?qty=1&x=").path, "/data");
  EXPECT_EQ(split_target("/data?qty=1&x=").query, "qty=1&x=");
}

TEST(HttpRequest, FindsTheTokenInEachHeaderForm) {
  for (const char* name : {"token", "Token", "Device-Token", "device-token", "Authorization"}) {
    EXPECT_EQ(find_token(with(name, "abc")), "abc") << name;
  }
  EXPECT_EQ(find_token(with("Authorization", "Bearer  abc ")), "abc");
  EXPECT_EQ(find_token(with("Authorization", "bearer abc")), "abc");
  EXPECT_EQ(find_token(with("X-Token", "abc")), "");
  EXPECT_EQ(find_token(with("token", "  ")), "");
  Request both = with("Authorization", "second");
  both.set("token", "first");
  EXPECT_EQ(find_token(both), "first");
}

TEST(HttpRequest, Routes) {
  using beast_http::verb;
  EXPECT_EQ(route(verb::post, "/data"), Route::kPostData);
  EXPECT_EQ(route(verb::get, "/data"), Route::kGetData);
  EXPECT_EQ(route(verb::delete_, "/data"), Route::kDeleteData);
  EXPECT_EQ(route(verb::delete_, "/data/temp"), Route::kDeleteData);
  EXPECT_EQ(route(verb::get, "/data/temp"), Route::kWrongMethod);
  EXPECT_EQ(route(verb::get, "/info"), Route::kGetInfo);
  EXPECT_EQ(route(verb::post, "/info"), Route::kWrongMethod);
  EXPECT_EQ(route(verb::put, "/data"), Route::kWrongMethod);
  EXPECT_EQ(route(verb::get, "/"), Route::kNotFound);
  EXPECT_EQ(route(verb::delete_, "/data/"), Route::kNotFound);
}

TEST(HttpRequest, LegacyDeleteNamesAVariableOrAnId) {
  EXPECT_EQ(legacy_delete_query("/data/temp", ""), "variable=temp");
  EXPECT_EQ(legacy_delete_query("/data/temp", "qty=2"), "qty=2&variable=temp");
  EXPECT_EQ(legacy_delete_query("/data/6143842f561c4e00199f517b", ""),
            "id=6143842f561c4e00199f517b");
}

TEST(HttpRequest, Answers) {
  EXPECT_EQ(ok_body("\"1 Data Added\""), R"({"status":true,"result":"1 Data Added"})");
  EXPECT_EQ(error_body("a \"quoted\"\nline"), R"({"status":false,"message":"a \"quoted\"\nline"})");
  Request req(beast_http::verb::get, "/info", 10);  // HTTP/1.0: no keep-alive unless asked
  const Response r = json_response(req, beast_http::status::ok, "{}");
  EXPECT_EQ(r.version(), 10);
  EXPECT_FALSE(r.keep_alive());
  EXPECT_EQ(r[beast_http::field::content_length], "2");
}

TEST(HttpRequest, ParserLimits) {
  const std::string ok =
      "POST /data HTTP/1.1\r\nHost: g\r\ntoken: t\r\nContent-Length: 2\r\n\r\n{}";
  ParseOutcome p = parse_request(ok, 1024, 1024);
  ASSERT_TRUE(p.complete);
  EXPECT_EQ(p.request->body(), "{}");
  EXPECT_EQ(parse_request(ok.substr(0, 20), 1024, 1024).complete, false);
  EXPECT_EQ(parse_request(ok.substr(0, 20), 1024, 1024).refusal_status, 0);
  EXPECT_EQ(parse_request("POST /data HTTP/1.1\r\nContent-Length: 5000\r\n\r\n", 1024, 1024)
                .refusal_status,
            413);
  EXPECT_EQ(parse_request("GET / HTTP/1.1\r\nX: " + std::string(2000, 'x') + "\r\n\r\n", 1024, 1024)
                .refusal_status,
            431);
  EXPECT_EQ(parse_request("NOT HTTP\r\n\r\n", 1024, 1024).refusal_status, 400);
}

}  // namespace
}  // namespace edgegw::plugins::http
