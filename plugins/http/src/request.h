// SPDX-License-Identifier: Apache-2.0
// The http plugin's request handling without sockets: reading a request from bytes with the
// server's limits, finding the device token, routing, and building the Device API's answers.
// The server (http_source.cc) and the fuzzer (tests/fuzz/http_request_fuzz.cc) share it.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace edgegw::plugins::http {

namespace beast_http = boost::beast::http;
using Request = beast_http::request<beast_http::string_body>;
using Response = beast_http::response<beast_http::string_body>;

// The parts of a request target: "/data?qty=1" -> {"/data", "qty=1"}.
struct Target {
  std::string_view path;
  std::string_view query;
};
Target split_target(std::string_view target) noexcept;

// The device token of a request: the first of the `token`, `Device-Token`, `Authorization` and
// `Token` headers (names match in any case; an `Authorization: Bearer x` gives x). Empty: none.
std::string_view find_token(const Request& request) noexcept;

enum class Route {
  kPostData,     // POST /data
  kGetData,      // GET /data
  kDeleteData,   // DELETE /data, DELETE /data/{variable or id}
  kGetInfo,      // GET /info
  kWrongMethod,  // a known path, another method: 405
  kNotFound,
};
Route route(beast_http::verb method, std::string_view path) noexcept;

// DELETE /data/{x}: the query string with x as a variable or an id filter added.
std::string legacy_delete_query(std::string_view path, std::string_view query);

// {"status":true,"result":<result_json>} and {"status":false,"message":"..."}.
std::string ok_body(std::string_view result_json);
std::string error_body(std::string_view message);
// A JSON answer to `request` (keep-alive and version as the request's).
Response json_response(const Request& request, beast_http::status status, std::string body);

// What reading a request from bytes gave (the fuzzer's view of the server's parser).
struct ParseOutcome {
  bool complete = false;           // a whole request was read
  std::optional<Request> request;  // when complete
  int refusal_status = 0;          // 400, 413 or 431 when the bytes were refused; 0 otherwise
};
ParseOutcome parse_request(std::string_view bytes, std::size_t max_header_bytes,
                           std::size_t max_body_bytes);

}  // namespace edgegw::plugins::http
