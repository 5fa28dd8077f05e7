// SPDX-License-Identifier: Apache-2.0
// Fuzzes the http source's request handling without sockets (plugins/http/src/request.h): the
// bytes are parsed with the server's limits; a request that parses is routed, its token looked
// up and its target split, and a legacy DELETE target turned into a query. Invariants: no crash;
// a refusal is 400, 413 or 431 and has no request; a parsed body is within the body limit; the
// token and the target's parts are views into the request; an answer body is valid for any
// message.
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "request.h"

namespace {

using edgegw::fuzz::check;

bool inside(std::string_view part, std::string_view whole) {
  return part.empty() ||
         (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace edgegw::plugins::http;
  constexpr std::size_t kHeaderLimit = 1024, kBodyLimit = 2048;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const ParseOutcome out = parse_request(bytes, kHeaderLimit, kBodyLimit);
  if (out.refusal_status != 0) {
    check(out.refusal_status == 400 || out.refusal_status == 413 || out.refusal_status == 431,
          "refusal status");
    check(!out.request, "a refusal has no request");
    return 0;
  }
  if (!out.complete) return 0;
  check(out.request.has_value(), "a complete parse has a request");
  const Request& request = *out.request;
  check(request.body().size() <= kBodyLimit, "body within the limit");
  const std::string_view target(request.target().data(), request.target().size());
  const Target t = split_target(target);
  check(inside(t.path, target) && inside(t.query, target), "target parts are views");
  check(t.path.size() + t.query.size() <= target.size(), "target parts fit");
  const std::string_view token = find_token(request);
  check(token.empty() || (token.front() != ' ' && token.back() != ' '), "token is trimmed");
  const Route route_of = route(request.method(), t.path);
  if (route_of == Route::kDeleteData) {
    const std::string q = legacy_delete_query(t.path, t.query);
    check(q.size() >= t.query.size(), "a legacy delete only adds to the query");
  }
  const std::string body = error_body(std::string(bytes.substr(0, 64)));
  check(body.front() == '{' && body.back() == '}', "error body is an object");
  const Response r = json_response(request, boost::beast::http::status::ok, ok_body("1"));
  check(r.keep_alive() == request.keep_alive(), "keep-alive mirrors the request");
  return 0;
}
