// SPDX-License-Identifier: Apache-2.0
// ABI 1.5 (1.6: floats): readings a plugin holds as values (edgegw_host.append_readings), taken
// into the pipeline as typed messages: no payload to decode, the same checks, mapping and durable
// append.
#include <vector>

#include "plugin_host/abi_util.h"
#include "plugin_host/source.h"

namespace edgegw::plugin_host {

namespace {

// Reused per thread: one call's readings and messages as the pipeline takes them.
thread_local std::vector<TypedReading> t_readings;
thread_local std::vector<TypedMessage> t_typed;

TypedReading typed(const edgegw_reading& r) {
  TypedReading t;
  t.variable = view(r.variable);
  t.unit = view(r.unit);
  switch (r.type) {
    case EDGEGW_VALUE_NUMBER:
      t.value = r.number;
      break;
    case EDGEGW_VALUE_INTEGER:
      t.value = r.integer;
      break;
    case EDGEGW_VALUE_TEXT:
      t.value = view(r.text);
      break;
    case EDGEGW_VALUE_BOOL:
      t.value = r.integer != 0;
      break;
    case EDGEGW_VALUE_FLOAT32:  // checked with the others (decode/typed.cc)
      t.value = r.number;
      t.float32 = true;
      break;
    default:
      t.unknown_type = r.type;
      break;
  }
  return t;
}

}  // namespace

std::int32_t Source::on_append_readings(edgegw_host_ctx* host_ptr,
                                        const edgegw_reading_batch* batches, std::size_t count,
                                        char* error, std::size_t error_size) noexcept {
  auto* self = reinterpret_cast<Source*>(host_ptr);
  return barrier(error, error_size, [&]() -> std::int32_t {
    if (self->stopped_.load(std::memory_order_acquire)) {
      write_error(error, error_size, "the source is stopped");
      return EDGEGW_ERR_STOPPED;
    }
    if (count == 0) return EDGEGW_OK;
    if (batches == nullptr) {
      write_error(error, error_size, "append_readings: batches is NULL");
      return EDGEGW_ERR_INVALID_ARGUMENT;
    }
    // Strides are the plugin's struct sizes (it may be newer than this host).
    const std::size_t stride = batches->struct_size;
    if (stride < offsetof(edgegw_reading_batch, reserved)) {
      write_error(error, error_size,
                  "append_readings: edgegw_reading_batch.struct_size is too small");
      return EDGEGW_ERR_INVALID_ARGUMENT;
    }
    std::vector<TypedReading>& readings = t_readings;
    std::vector<TypedMessage>& messages = t_typed;
    readings.clear();
    messages.clear();
    const auto* base = reinterpret_cast<const unsigned char*>(batches);
    for (std::size_t i = 0; i < count; ++i) {
      const auto* b = reinterpret_cast<const edgegw_reading_batch*>(base + i * stride);
      if (b->count > 0 && b->readings == nullptr) {
        write_error(error, error_size, "append_readings: a batch's readings are NULL");
        return EDGEGW_ERR_INVALID_ARGUMENT;
      }
      const std::size_t reading_stride = b->count > 0 ? b->readings->struct_size : 0;
      if (b->count > 0 && reading_stride < offsetof(edgegw_reading, reserved)) {
        write_error(error, error_size, "append_readings: edgegw_reading.struct_size is too small");
        return EDGEGW_ERR_INVALID_ARGUMENT;
      }
      const auto* first = reinterpret_cast<const unsigned char*>(b->readings);
      for (std::size_t k = 0; k < b->count; ++k) {
        readings.push_back(
            typed(*reinterpret_cast<const edgegw_reading*>(first + k * reading_stride)));
      }
      // The span is set once every reading is in place (the vector may move them meanwhile).
      messages.push_back({view(b->device_key), {}, b->time_ms});
    }
    std::size_t begin = 0;
    for (std::size_t i = 0; i < count; ++i) {
      const auto* b = reinterpret_cast<const edgegw_reading_batch*>(base + i * stride);
      messages[i].readings = std::span<const TypedReading>(readings).subspan(begin, b->count);
      begin += b->count;
    }
    const Status status = self->pipeline_.append(std::span<const TypedMessage>(messages));
    if (status) return EDGEGW_OK;
    write_error(error, error_size, status.message());
    return to_abi_code(status.code());
  });
}

}  // namespace edgegw::plugin_host
