// SPDX-License-Identifier: Apache-2.0
// A request as the emulator's handlers see it, the answer they give, and the cloud's answer
// bodies: {"status":true,"result":...} and {"status":false,"message":"..."}.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

namespace edgegw::cloud_emulator {

struct Request {
  std::string_view method;  // "POST"
  std::string_view target;  // "/data?qty=3"
  std::string_view body;
  // The first token header present: Device-Token, token (any case), Authorization, Account-Token,
  // Profile-Token.
  std::optional<std::string_view> token_header;
};

struct Response {
  unsigned status = 200;
  std::string body;
  std::string_view content_type = "application/json";
  std::optional<std::int64_t> retry_after_header;  // seconds
  std::chrono::milliseconds delay{0};              // answer this much later
  bool drop = false;                               // close the connection without answering
  bool truncate = false;  // send half the answer (its full Content-Length), then close
  std::chrono::milliseconds trickle{0};  // send the answer one byte per this interval (slowloris)
  std::string note;                      // for --log-requests: device, readings
};

// {"status":false,"message":MESSAGE}
std::string error_body(std::string_view message);
// {"status":true,"result":RESULT}
std::string result_body(boost::json::value result);

// An answer with error_body(message).
Response error(unsigned status, std::string_view message);
// An answer with result_body(result).
Response ok(boost::json::value result, unsigned status = 200);

}  // namespace edgegw::cloud_emulator
