// SPDX-License-Identifier: Apache-2.0
#include "local_api.h"

#include <cstddef>

#include "edgegw/plugin_sdk.h"

namespace edgegw::plugins::http {

namespace {

constexpr std::size_t kErrorBytes = 512;

ApiResult failure(std::int32_t code, const char* error) { return {code, std::string(error)}; }

}  // namespace

std::string LocalApi::take(edgegw_host_buffer& buffer) const {
  std::string out = buffer.host_ptr != nullptr ? std::string(buffer.host_ptr, buffer.len) : "";
  api_->free_buffer(host_, &buffer);
  return out;
}

ApiResult LocalApi::authenticate(std::string_view token) const {
  char error[kErrorBytes] = {};
  edgegw_host_buffer key{};
  const std::int32_t code = api_->authenticate(host_, sdk::bytes(token), &key, error, sizeof error);
  if (code != EDGEGW_OK) return failure(code, error);
  return {EDGEGW_OK, take(key)};
}

ApiResult LocalApi::append(std::string_view device_key, std::string_view body, std::int64_t now_ms,
                           std::size_t& readings) const {
  char error[kErrorBytes] = {};
  const edgegw_raw_message message = sdk::message(device_key, body, now_ms);
  readings = 0;
  const std::int32_t code = api_->append_checked(host_, &message, 1, EDGEGW_APPEND_ALL_OR_NOTHING,
                                                 &readings, error, sizeof error);
  if (code != EDGEGW_OK) return failure(code, error);
  return {};
}

void LocalApi::append_each(std::span<const AppendRequest> requests, std::span<ApiResult> results,
                           std::span<std::size_t> readings) {
  const bool has_each =
      api_->struct_size > offsetof(edgegw_device_api, append_each) && api_->append_each != nullptr;
  if (!has_each) {
    for (std::size_t i = 0; i < requests.size(); ++i) {
      results[i] =
          append(requests[i].device_key, requests[i].body, requests[i].now_ms, readings[i]);
    }
    return;
  }
  const std::size_t n = requests.size();
  messages_.clear();
  for (const AppendRequest& r : requests) {
    messages_.push_back(sdk::message(r.device_key, r.body, r.now_ms));
  }
  reasons_.assign(n * kErrorBytes, '\0');
  outcomes_.assign(n, edgegw_append_outcome{});
  for (std::size_t i = 0; i < n; ++i) {
    outcomes_[i].struct_size = sizeof(edgegw_append_outcome);
    outcomes_[i].error = reasons_.data() + i * kErrorBytes;
    outcomes_[i].error_size = kErrorBytes;
  }
  char error[kErrorBytes] = {};
  const std::int32_t code =
      api_->append_each(host_, messages_.data(), n, outcomes_.data(), error, sizeof error);
  for (std::size_t i = 0; i < n; ++i) {
    if (code != EDGEGW_OK) {  // nothing was appended: the call's error is every body's
      readings[i] = 0;
      results[i] = failure(code, error);
      continue;
    }
    readings[i] = outcomes_[i].code == EDGEGW_OK ? outcomes_[i].readings : 0;
    results[i] = outcomes_[i].code == EDGEGW_OK ? ApiResult{}
                                                : failure(outcomes_[i].code, outcomes_[i].error);
  }
}

ApiResult LocalApi::query(std::string_view device_key, std::string_view query) const {
  char error[kErrorBytes] = {};
  edgegw_host_buffer json{};
  const std::int32_t code = api_->query_data(host_, sdk::bytes(device_key), sdk::bytes(query),
                                             &json, error, sizeof error);
  if (code != EDGEGW_OK) return failure(code, error);
  return {EDGEGW_OK, take(json)};
}

ApiResult LocalApi::remove(std::string_view device_key, std::string_view query,
                           std::uint64_t& removed) const {
  char error[kErrorBytes] = {};
  removed = 0;
  const std::int32_t code = api_->delete_data(host_, sdk::bytes(device_key), sdk::bytes(query),
                                              &removed, error, sizeof error);
  if (code != EDGEGW_OK) return failure(code, error);
  return {};
}

ApiResult LocalApi::info(std::string_view device_key) const {
  char error[kErrorBytes] = {};
  edgegw_host_buffer json{};
  const std::int32_t code =
      api_->device_info(host_, sdk::bytes(device_key), &json, error, sizeof error);
  if (code != EDGEGW_OK) return failure(code, error);
  return {EDGEGW_OK, take(json)};
}

}  // namespace edgegw::plugins::http
