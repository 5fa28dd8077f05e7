// SPDX-License-Identifier: Apache-2.0
// The host's local Device API (ABI 1.2 edgegw_device_api), typed: owned results instead of host
// buffers, codes with their reasons.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "edgegw/plugin.h"

namespace edgegw::plugins::http {

struct ApiResult {
  std::int32_t code = EDGEGW_OK;
  std::string text;  // the result (a device key, JSON) on success, else the host's reason
  bool ok() const noexcept { return code == EDGEGW_OK; }
};

class LocalApi {
 public:
  LocalApi(const edgegw_device_api* api, edgegw_host_ctx* host_ptr) : api_(api), host_(host_ptr) {}

  ApiResult authenticate(std::string_view token) const;
  // One POST /data body of `device_key`, all or nothing; `readings` is set to how many were added.
  ApiResult append(std::string_view device_key, std::string_view body, std::int64_t now_ms,
                   std::size_t& readings) const;
  ApiResult query(std::string_view device_key, std::string_view query) const;
  ApiResult remove(std::string_view device_key, std::string_view query,
                   std::uint64_t& removed) const;
  ApiResult info(std::string_view device_key) const;

 private:
  // Takes a host buffer into a string (and frees it).
  std::string take(edgegw_host_buffer& buffer) const;

  const edgegw_device_api* api_;
  edgegw_host_ctx* host_;
};

}  // namespace edgegw::plugins::http
