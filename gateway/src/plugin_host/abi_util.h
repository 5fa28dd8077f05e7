// SPDX-License-Identifier: Apache-2.0
// Small conversions between the C ABI and the host's types, shared by the host's callbacks.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <new>
#include <string_view>

#include "edgegw/plugin.h"
#include "edgegw/status.h"

namespace edgegw::plugin_host {

inline std::int32_t to_abi_code(Code code) {
  switch (code) {
    case Code::kOk:
      return EDGEGW_OK;
    case Code::kResourceExhausted:
      return EDGEGW_ERR_FULL;
    case Code::kIoError:
    case Code::kCorruption:
      return EDGEGW_ERR_IO;
    case Code::kCancelled:
      return EDGEGW_ERR_STOPPED;
    case Code::kUnavailable:
    case Code::kDeadlineExceeded:
      return EDGEGW_ERR_UNAVAILABLE;
    case Code::kInvalidArgument:
      return EDGEGW_ERR_INVALID_ARGUMENT;
    default:
      return EDGEGW_ERR_INTERNAL;
  }
}

inline void write_error(char* error, std::size_t error_size, std::string_view message) noexcept {
  if (error == nullptr || error_size == 0) return;
  const std::size_t n = std::min(message.size(), error_size - 1);
  std::copy_n(message.data(), n, error);
  error[n] = '\0';
}

// Whether a plugin's edgegw_append_outcome array can be written (its elements are as large as the
// plugin's struct, which may be newer than ours, and must hold the fields of 1.4).
inline bool outcomes_usable(const edgegw_append_outcome* outcomes) noexcept {
  return outcomes != nullptr && outcomes->struct_size >= offsetof(edgegw_append_outcome, reserved);
}
// Sets the i-th outcome of a usable array.
inline void set_outcome(edgegw_append_outcome* outcomes, std::size_t i, std::int32_t code,
                        std::size_t readings, std::string_view reason) noexcept {
  auto* o = reinterpret_cast<edgegw_append_outcome*>(reinterpret_cast<unsigned char*>(outcomes) +
                                                     i * outcomes->struct_size);
  o->code = code;
  o->readings = readings;
  if (code != EDGEGW_OK) write_error(o->error, o->error_size, reason);
}

inline std::string_view view(edgegw_bytes b) noexcept {
  return b.ptr == nullptr ? std::string_view() : std::string_view(b.ptr, b.len);
}

// Runs `f` (returning an ABI code) with every exception turned into EDGEGW_ERR_INTERNAL.
template <typename F>
std::int32_t barrier(char* error, std::size_t error_size, F&& f) noexcept {
  try {
    return f();
  } catch (const std::bad_alloc&) {
    write_error(error, error_size, "out of memory");
  } catch (const std::exception& e) {
    write_error(error, error_size, e.what());
  } catch (...) {
    write_error(error, error_size, "unknown exception");
  }
  return EDGEGW_ERR_INTERNAL;
}

}  // namespace edgegw::plugin_host
