// SPDX-License-Identifier: Apache-2.0
// The host's local Device API (ABI 1.2 edgegw_device_api), typed: owned results instead of host
// buffers, codes with their reasons.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "edgegw/plugin.h"

namespace edgegw::plugins::http {

// One POST /data body to append (the device key and body are borrowed for the call).
struct AppendRequest {
  std::string_view device_key;
  std::string_view body;
  std::int64_t now_ms = 0;
};

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
  // Many POST /data bodies, each all or nothing on its own, in one durable write (ABI 1.4
  // append_each; one append per body from an older host). results[i] and readings[i] are the
  // i-th body's, as append() would give them.
  void append_each(std::span<const AppendRequest> requests, std::span<ApiResult> results,
                   std::span<std::size_t> readings);
  ApiResult query(std::string_view device_key, std::string_view query) const;
  ApiResult remove(std::string_view device_key, std::string_view query,
                   std::uint64_t& removed) const;
  ApiResult info(std::string_view device_key) const;

 private:
  // Takes a host buffer into a string (and frees it).
  std::string take(edgegw_host_buffer& buffer) const;

  const edgegw_device_api* api_;
  edgegw_host_ctx* host_;
  // append_each's scratch, reused (a LocalApi is used by one thread at a time for it).
  std::vector<edgegw_raw_message> messages_;
  std::vector<edgegw_append_outcome> outcomes_;
  std::vector<char> reasons_;
};

}  // namespace edgegw::plugins::http
