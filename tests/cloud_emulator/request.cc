// SPDX-License-Identifier: Apache-2.0
#include "request.h"

#include <boost/json/object.hpp>

#include "device_api/record.h"

namespace edgegw::cloud_emulator {

namespace json = boost::json;

std::string error_body(std::string_view message) {
  json::object o;
  o["status"] = false;
  o["message"] = message;
  return device_api::json_text(o);
}

std::string result_body(json::value result) {
  json::object o;
  o["status"] = true;
  o["result"] = std::move(result);
  return device_api::json_text(o);
}

Response error(unsigned status, std::string_view message) {
  Response r;
  r.status = status;
  r.body = error_body(message);
  return r;
}

Response ok(json::value result, unsigned status) {
  Response r;
  r.status = status;
  r.body = result_body(std::move(result));
  return r;
}

}  // namespace edgegw::cloud_emulator
