// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the emulator's tests.
#pragma once

#include <string>

#include <boost/json.hpp>

#include "launcher.h"
#include "support/http_client.h"

namespace edgegw::cloud_emulator::test {

inline constexpr const char* kToken = "7c1f3a52-9e0b-4d6a-8c2f-5b4e3d2a1f00";
inline constexpr const char* kToken2 = "0d9e8f7a-6b5c-4d3e-2f1a-0b9c8d7e6f50";

inline testing::HttpHeaders auth(const std::string& token = kToken,
                                 const std::string& header = "Device-Token") {
  return {{header, token}};
}

// An array of n readings of `variable` with metadata.seq first_seq, first_seq+1, ...
inline std::string readings(int n, long long first_seq = 1,
                            const std::string& variable = "temperature") {
  std::string body = "[";
  for (int i = 0; i < n; ++i) {
    if (i > 0) body += ',';
    body += R"({"variable":")" + variable + R"(","value":)" + std::to_string(20 + i) +
            R"(,"unit":"C","metadata":{"seq":)" + std::to_string(first_seq + i) + "}}";
  }
  return body + "]";
}

inline boost::json::value parse(const std::string& text) { return boost::json::parse(text); }

inline std::string message_of(const testing::HttpResponse& r) {
  try {
    const auto v = boost::json::parse(r.body);
    return std::string(v.at("message").as_string());
  } catch (const std::exception&) {
    return "<no message: " + r.body + ">";
  }
}

// The "result" of a 200 answer.
inline boost::json::value result_of(const testing::HttpResponse& r) {
  return boost::json::parse(r.body).at("result");
}

inline std::int64_t stat(const boost::json::value& stats, const std::string& device,
                         const std::string& field) {
  const auto& v = stats.at("devices").at(device).at(field);
  return v.is_null() ? -1 : v.to_number<std::int64_t>();
}

inline std::int64_t status_count(const boost::json::value& stats, int status) {
  const auto* v =
      stats.at("requests").at("by_status").as_object().if_contains(std::to_string(status));
  return v == nullptr ? 0 : v->to_number<std::int64_t>();
}

inline std::vector<std::string> device_args() {
  return {"--device", std::string("boiler-1=") + kToken, "--device",
          std::string("press-7=") + kToken2};
}

}  // namespace edgegw::cloud_emulator::test
