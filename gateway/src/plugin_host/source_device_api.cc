// SPDX-License-Identifier: Apache-2.0
// ABI 1.2: the host's local Device API (edgegw_device_api) for one source: token authentication
// against the device map, the all-or-nothing append (1.4: of many requests in one write), and
// GET/DELETE /data and GET /info over the local history (history/local_api.h). Results are
// host-allocated buffers the plugin frees with free_buffer.
#include <array>
#include <cstddef>
#include <cstring>
#include <new>
#include <vector>

#include "core/time.h"
#include "history/local_api.h"
#include "plugin_host/abi_util.h"
#include "plugin_host/source.h"

namespace edgegw::plugin_host {

namespace {

// The reason of a refused append_each, before it is copied into each outcome's room.
constexpr std::size_t kReasonBytes = 1024;

// Copies `text` into a new host buffer.
void give(std::string_view text, edgegw_host_buffer* out) {
  out->host_ptr = new char[text.size() + 1];
  std::memcpy(out->host_ptr, text.data(), text.size());
  out->host_ptr[text.size()] = '\0';  // convenient for C callers; not counted in len
  out->len = text.size();
}

std::int32_t fail(const Status& status, char* error, std::size_t error_size) {
  write_error(error, error_size, status.message());
  // not_found: the local history is disabled.
  return status.code() == Code::kNotFound ? EDGEGW_ERR_UNSUPPORTED : to_abi_code(status.code());
}

}  // namespace

const edgegw_device_api Source::kDeviceApi = [] {
  edgegw_device_api api{};
  api.struct_size = sizeof(edgegw_device_api);
  api.authenticate = &Source::on_authenticate;
  api.append_checked = &Source::on_append_checked;
  api.query_data = &Source::on_query_data;
  api.delete_data = &Source::on_delete_data;
  api.device_info = &Source::on_device_info;
  api.free_buffer = &Source::on_free_buffer;
  api.append_each = &Source::on_append_each;
  return api;
}();

std::int32_t Source::on_authenticate(edgegw_host_ctx* host_ptr, edgegw_bytes token,
                                     edgegw_host_buffer* out_key, char* error,
                                     std::size_t error_size) noexcept {
  auto* self = reinterpret_cast<Source*>(host_ptr);
  return barrier(error, error_size, [&]() -> std::int32_t {
    if (out_key == nullptr) {
      write_error(error, error_size, "authenticate: out_key is NULL");
      return EDGEGW_ERR_INVALID_ARGUMENT;
    }
    *out_key = {nullptr, 0};
    const auto table = self->mapping_.load();
    const ingest::TokenOwner* owner = table ? table->authenticate(view(token)) : nullptr;
    if (owner == nullptr) {
      write_error(error, error_size, "Authorization Denied");
      return EDGEGW_ERR_DENIED;
    }
    give(owner->key, out_key);
    return EDGEGW_OK;
  });
}

std::int32_t Source::on_append_checked(edgegw_host_ctx* host_ptr,
                                       const edgegw_raw_message* messages, std::size_t count,
                                       std::uint32_t flags, std::size_t* out_readings, char* error,
                                       std::size_t error_size) noexcept {
  ingest::Pipeline::AppendOptions options;
  options.all_or_nothing = (flags & EDGEGW_APPEND_ALL_OR_NOTHING) != 0;
  options.appended = out_readings;
  return reinterpret_cast<Source*>(host_ptr)->append_messages(messages, count, options, error,
                                                              error_size);
}

std::int32_t Source::on_append_each(edgegw_host_ctx* host_ptr, const edgegw_raw_message* messages,
                                    std::size_t count, edgegw_append_outcome* outcomes, char* error,
                                    std::size_t error_size) noexcept {
  if (count == 0) return EDGEGW_OK;
  if (!outcomes_usable(outcomes)) {
    write_error(error, error_size, "append_each: outcomes is NULL or its struct_size too small");
    return EDGEGW_ERR_INVALID_ARGUMENT;
  }
  thread_local std::vector<ingest::Pipeline::MessageOutcome> each;
  std::array<char, kReasonBytes> reason{};
  std::int32_t code = EDGEGW_OK;
  try {
    each.assign(count, {});
  } catch (const std::bad_alloc&) {
    write_error(reason.data(), reason.size(), "out of memory");
    code = EDGEGW_ERR_INTERNAL;
  }
  if (code == EDGEGW_OK) {
    ingest::Pipeline::AppendOptions options;
    options.each = each;
    code = reinterpret_cast<Source*>(host_ptr)->append_messages(messages, count, options,
                                                                reason.data(), reason.size());
  }
  for (std::size_t i = 0; i < count; ++i) {
    if (code != EDGEGW_OK) {
      set_outcome(outcomes, i, code, 0, reason.data());
    } else if (each[i].status) {
      set_outcome(outcomes, i, EDGEGW_OK, each[i].readings, {});
    } else {
      set_outcome(outcomes, i, to_abi_code(each[i].status.code()), 0, each[i].status.message());
    }
  }
  if (code != EDGEGW_OK) write_error(error, error_size, reason.data());
  return code;
}

namespace {

// Runs f(id) for the buffer id of a configured device (inside barrier()), or fails.
template <typename F>
std::int32_t with_device(const ingest::Mapping& mapping, edgegw_bytes device_key, char* error,
                         std::size_t error_size, F&& f) noexcept {
  return barrier(error, error_size, [&]() -> std::int32_t {
    const auto table = mapping.load();
    const ingest::MappedDevice* device = table ? table->find_configured(view(device_key)) : nullptr;
    if (device == nullptr) {
      write_error(error, error_size,
                  "no device '" + std::string(view(device_key)) + "' in devices:");
      return EDGEGW_ERR_INVALID_ARGUMENT;
    }
    return f(device->id);
  });
}

}  // namespace

std::int32_t Source::on_query_data(edgegw_host_ctx* host_ptr, edgegw_bytes device_key,
                                   edgegw_bytes query, edgegw_host_buffer* out_json, char* error,
                                   std::size_t error_size) noexcept {
  auto* self = reinterpret_cast<Source*>(host_ptr);
  if (out_json == nullptr) return EDGEGW_ERR_INVALID_ARGUMENT;
  *out_json = {nullptr, 0};
  return with_device(self->mapping_, device_key, error, error_size, [&](buffer::DeviceId id) {
    auto result = history::query_json(self->buffer_, id, view(query), core::now_ms());
    if (!result) return fail(result.status(), error, error_size);
    give(*result, out_json);
    return EDGEGW_OK;
  });
}

std::int32_t Source::on_delete_data(edgegw_host_ctx* host_ptr, edgegw_bytes device_key,
                                    edgegw_bytes query, std::uint64_t* out_removed, char* error,
                                    std::size_t error_size) noexcept {
  auto* self = reinterpret_cast<Source*>(host_ptr);
  if (out_removed != nullptr) *out_removed = 0;
  return with_device(self->mapping_, device_key, error, error_size, [&](buffer::DeviceId id) {
    auto removed = history::delete_matching(self->buffer_, id, view(query), core::now_ms());
    if (!removed) return fail(removed.status(), error, error_size);
    if (out_removed != nullptr) *out_removed = *removed;
    return EDGEGW_OK;
  });
}

std::int32_t Source::on_device_info(edgegw_host_ctx* host_ptr, edgegw_bytes device_key,
                                    edgegw_host_buffer* out_json, char* error,
                                    std::size_t error_size) noexcept {
  auto* self = reinterpret_cast<Source*>(host_ptr);
  if (out_json == nullptr) return EDGEGW_ERR_INVALID_ARGUMENT;
  *out_json = {nullptr, 0};
  return with_device(self->mapping_, device_key, error, error_size, [&](buffer::DeviceId id) {
    give(history::info_json(self->buffer_, id, view(device_key)), out_json);
    return EDGEGW_OK;
  });
}

void Source::on_free_buffer(edgegw_host_ctx*, edgegw_host_buffer* buffer) noexcept {
  if (buffer == nullptr) return;
  delete[] buffer->host_ptr;
  *buffer = {nullptr, 0};
}

}  // namespace edgegw::plugin_host
