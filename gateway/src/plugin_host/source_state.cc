// SPDX-License-Identifier: Apache-2.0
// ABI 1.3: a source's own durable state (edgegw_source_state), kept in the buffer's meta column
// family under the source's name and written in the same batch as the readings of the same call,
// so that protocol state (MQTT QoS 2 packet ids) and the messages it concerns are durable together.
#include <vector>

#include "buffer/key_format.h"
#include "plugin_host/abi_util.h"
#include "plugin_host/source.h"

namespace edgegw::plugin_host {

namespace {

constexpr std::size_t kMaxKeyBytes = 64;
constexpr std::size_t kMaxValueBytes = 4096;

}  // namespace

const edgegw_source_state Source::kSourceState = [] {
  edgegw_source_state api{};
  api.struct_size = sizeof(edgegw_source_state);
  api.append_with_state = &Source::on_append_with_state;
  api.load = &Source::on_load_state;
  return api;
}();

std::int32_t Source::on_append_with_state(edgegw_host_ctx* host_ptr,
                                          const edgegw_raw_message* messages, std::size_t count,
                                          const edgegw_state_change* changes,
                                          std::size_t change_count, char* error,
                                          std::size_t error_size) noexcept {
  auto* self = reinterpret_cast<Source*>(host_ptr);
  return barrier(error, error_size, [&]() -> std::int32_t {
    if (change_count > 0 && changes == nullptr) {
      write_error(error, error_size, "append_with_state: changes is NULL");
      return EDGEGW_ERR_INVALID_ARGUMENT;
    }
    const std::size_t stride = change_count > 0 ? changes->struct_size : 0;
    if (change_count > 0 && stride < offsetof(edgegw_state_change, reserved)) {
      write_error(error, error_size,
                  "append_with_state: edgegw_state_change.struct_size is too small");
      return EDGEGW_ERR_INVALID_ARGUMENT;
    }
    std::vector<buffer::StateChange> state;
    state.reserve(change_count);
    const auto* base = reinterpret_cast<const unsigned char*>(changes);
    for (std::size_t i = 0; i < change_count; ++i) {
      const auto* c = reinterpret_cast<const edgegw_state_change*>(base + i * stride);
      const std::string_view key = view(c->key);
      if (key.empty() || key.size() > kMaxKeyBytes || c->value.len > kMaxValueBytes) {
        write_error(error, error_size,
                    "append_with_state: a state key must have 1 to 64 bytes and a value at most "
                    "4096");
        return EDGEGW_ERR_INVALID_ARGUMENT;
      }
      buffer::StateChange& change = state.emplace_back();
      change.key = buffer::meta_source_key(self->config_.name, key);
      if (c->value.ptr != nullptr) change.value = view(c->value);
    }
    ingest::Pipeline::AppendOptions options;
    options.state = state;
    return self->append_messages(messages, count, options, error, error_size);
  });
}

std::int32_t Source::on_load_state(edgegw_host_ctx* host_ptr,
                                   void (*visit)(void* context, edgegw_bytes key,
                                                 edgegw_bytes value),
                                   void* context, char* error, std::size_t error_size) noexcept {
  auto* self = reinterpret_cast<Source*>(host_ptr);
  return barrier(error, error_size, [&]() -> std::int32_t {
    if (visit == nullptr) {
      write_error(error, error_size, "load: visit is NULL");
      return EDGEGW_ERR_INVALID_ARGUMENT;
    }
    const Status s = self->buffer_.for_each_source_state(
        self->config_.name, [&](std::string_view key, std::string_view value) {
          visit(context, {key.data(), key.size()}, {value.data(), value.size()});
        });
    if (s) return EDGEGW_OK;
    write_error(error, error_size, s.message());
    return to_abi_code(s.code());
  });
}

}  // namespace edgegw::plugin_host
