// SPDX-License-Identifier: Apache-2.0
#include "request.h"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

namespace edgegw::plugins::http {

namespace {

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

Target split_target(std::string_view target) noexcept {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return {target, {}};
  return {target.substr(0, q), target.substr(q + 1)};
}

std::string_view find_token(const Request& request) noexcept {
  for (std::string_view name : {"token", "device-token", "authorization"}) {
    // Beast matches field names in any case, so "token" also finds "Token".
    const auto it = request.find(boost::beast::string_view(name.data(), name.size()));
    if (it == request.end()) continue;
    std::string_view value = trim(std::string_view(it->value().data(), it->value().size()));
    if (value.size() > 7 && boost::beast::iequals(value.substr(0, 7), "bearer ")) {
      value = trim(value.substr(7));
    }
    if (!value.empty()) return value;
  }
  return {};
}

Route route(beast_http::verb method, std::string_view path) noexcept {
  if (path == "/data") {
    switch (method) {
      case beast_http::verb::post:
        return Route::kPostData;
      case beast_http::verb::get:
        return Route::kGetData;
      case beast_http::verb::delete_:
        return Route::kDeleteData;
      default:
        return Route::kWrongMethod;
    }
  }
  if (path.starts_with("/data/") && path.size() > 6) {
    return method == beast_http::verb::delete_ ? Route::kDeleteData : Route::kWrongMethod;
  }
  if (path == "/info") {
    return method == beast_http::verb::get ? Route::kGetInfo : Route::kWrongMethod;
  }
  return Route::kNotFound;
}

std::string legacy_delete_query(std::string_view path, std::string_view query) {
  std::string out(query);
  if (!path.starts_with("/data/") || path.size() <= 6) return out;
  const std::string_view x = path.substr(6);
  // A 24-hex name is an id (as the cloud's ObjectIds); anything else a variable.
  const bool id =
      x.size() == 24 && x.find_first_not_of("0123456789abcdefABCDEF") == std::string_view::npos;
  if (!out.empty()) out += '&';
  out += id ? "id=" : "variable=";
  out += x;  // still percent-encoded, like the rest of the query string
  return out;
}

std::string ok_body(std::string_view result_json) {
  std::string out;
  out.reserve(result_json.size() + 26);
  out += R"({"status":true,"result":)";
  out += result_json;
  out += '}';
  return out;
}

std::string error_body(std::string_view message) {
  return R"({"status":false,"message":)" +
         boost::json::serialize(boost::json::string(message.data(), message.size())) + "}";
}

Response json_response(const Request& request, beast_http::status status, std::string body) {
  Response r(status, request.version());
  r.set(beast_http::field::content_type, "application/json; charset=utf-8");
  r.keep_alive(request.keep_alive());
  r.body() = std::move(body);
  r.prepare_payload();
  return r;
}

ParseOutcome parse_request(std::string_view bytes, std::size_t max_header_bytes,
                           std::size_t max_body_bytes) {
  ParseOutcome out;
  beast_http::request_parser<beast_http::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(max_header_bytes));
  parser.body_limit(max_body_bytes);
  parser.eager(true);
  boost::beast::error_code ec;
  std::size_t used = 0;
  while (used < bytes.size() && !parser.is_done()) {
    const std::size_t n =
        parser.put(boost::asio::buffer(bytes.data() + used, bytes.size() - used), ec);
    if (ec == beast_http::error::need_more) break;
    if (ec) {
      out.refusal_status = ec == beast_http::error::header_limit ? 431
                           : ec == beast_http::error::body_limit ? 413
                                                                 : 400;
      return out;
    }
    if (n == 0) break;
    used += n;
  }
  if (parser.is_done()) {
    out.complete = true;
    out.request = parser.release();
  }
  return out;
}

}  // namespace edgegw::plugins::http
