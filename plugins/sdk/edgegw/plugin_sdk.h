// SPDX-License-Identifier: Apache-2.0
// Optional header-only C++ helpers over the C ABI (edgegw/plugin.h): a typed wrapper of the host's
// callbacks, an exception barrier that turns exceptions into error codes, and define_plugin<T>()
// that builds the C function table from a C++ class. Nothing here is part of the ABI: a plugin may
// use it, copy it or ignore it.
//
//   class MySource {
//    public:
//     MySource(edgegw::sdk::Host host, std::string_view name, std::string_view config_json);
//     // or, to receive the source's state directory (ABI 1.1; empty from an older host):
//     // MySource(Host, std::string_view name, std::string_view config_json,
//     //          std::string_view state_dir);
//     void start();  // throw edgegw::sdk::Error(EDGEGW_ERR_..., "why") to fail
//     void stop();   // returns once no host callback runs
//   };
//   extern "C" EDGEGW_PLUGIN_EXPORT const edgegw_plugin* edgegw_plugin_entry(uint32_t host) {
//     return edgegw::sdk::plugin_table<MySource>("my", "1.0.0", host);
//   }
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <new>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

#include "edgegw/plugin.h"

namespace edgegw::sdk {

// Copies `message` into the caller's buffer, NUL-terminated and truncated to fit.
inline void write_error(char* error, std::size_t error_size, std::string_view message) noexcept {
  if (error == nullptr || error_size == 0) return;
  const std::size_t n = message.size() < error_size - 1 ? message.size() : error_size - 1;
  std::memcpy(error, message.data(), n);
  error[n] = '\0';
}

// An error with an ABI code, thrown inside a plugin and turned into (code, message) at the
// boundary by guard().
class Error : public std::runtime_error {
 public:
  Error(std::int32_t code, const std::string& message) : std::runtime_error(message), code_(code) {}
  std::int32_t code() const noexcept { return code_; }

 private:
  std::int32_t code_;
};

// The exception barrier: runs `f` (returning void or an int32_t code) and turns any exception into
// an error code and message. Nothing escapes.
template <typename F>
std::int32_t guard(char* error, std::size_t error_size, F&& f) noexcept {
  try {
    if constexpr (std::is_void_v<decltype(f())>) {
      f();
      return EDGEGW_OK;
    } else {
      return f();
    }
  } catch (const Error& e) {
    write_error(error, error_size, e.what());
    return e.code();
  } catch (const std::bad_alloc&) {
    write_error(error, error_size, "out of memory");
    return EDGEGW_ERR_INTERNAL;
  } catch (const std::exception& e) {
    write_error(error, error_size, e.what());
    return EDGEGW_ERR_INTERNAL;
  } catch (...) {
    write_error(error, error_size, "unknown exception");
    return EDGEGW_ERR_INTERNAL;
  }
}

inline edgegw_bytes bytes(std::string_view s) noexcept { return {s.data(), s.size()}; }
inline std::string_view view(edgegw_bytes b) noexcept {
  return b.ptr == nullptr ? std::string_view() : std::string_view(b.ptr, b.len);
}

// A raw message over borrowed views (they must outlive the append call).
inline edgegw_raw_message message(std::string_view device_key, std::string_view payload,
                                  std::int64_t receive_time_ms,
                                  std::string_view variable = {}) noexcept {
  edgegw_raw_message m{};
  m.struct_size = sizeof(edgegw_raw_message);
  m.device_key = bytes(device_key);
  m.variable = bytes(variable);
  m.payload = bytes(payload);
  m.receive_time_ms = receive_time_ms;
  return m;
}

// A typed reading (ABI 1.5) over borrowed views (they must outlive the append call); the caller
// sets its `type` and the one field that type reads.
inline edgegw_reading reading(std::string_view variable, std::string_view unit = {}) noexcept {
  edgegw_reading r{};
  r.struct_size = sizeof(edgegw_reading);
  r.variable = bytes(variable);
  r.unit = bytes(unit);
  return r;
}
// One device's readings of one moment (ABI 1.5).
inline edgegw_reading_batch reading_batch(std::string_view device_key,
                                          std::span<const edgegw_reading> readings,
                                          std::int64_t time_ms) noexcept {
  edgegw_reading_batch b{};
  b.struct_size = sizeof(edgegw_reading_batch);
  b.device_key = bytes(device_key);
  b.readings = readings.data();
  b.count = readings.size();
  b.time_ms = time_ms;
  return b;
}

// The result of Host::append: code EDGEGW_OK, or the code and the host's reason.
struct AppendResult {
  std::int32_t code = EDGEGW_OK;
  std::string message;
  bool ok() const noexcept { return code == EDGEGW_OK; }
  bool full() const noexcept { return code == EDGEGW_ERR_FULL; }
};

// The host's callbacks, typed. Copyable; valid until the instance is destroyed.
class Host {
 public:
  explicit Host(const edgegw_host* host) noexcept : host_(host) {}

  AppendResult append(std::span<const edgegw_raw_message> messages) const {
    AppendResult result;
    char error[512] = {};
    result.code =
        host_->append(host_->host_ptr, messages.data(), messages.size(), error, sizeof error);
    if (result.code != EDGEGW_OK) result.message = error;
    return result;
  }
  AppendResult append(const edgegw_raw_message& message) const { return append({&message, 1}); }

  // As append, for readings held as values (ABI 1.5). EDGEGW_ERR_UNSUPPORTED from an older host.
  AppendResult append_readings(std::span<const edgegw_reading_batch> batches) const {
    AppendResult result;
    if ((host_->abi_version & 0xffffu) < 5 ||
        host_->struct_size <
            offsetof(edgegw_host, append_readings) + sizeof(host_->append_readings) ||
        host_->append_readings == nullptr) {
      result.code = EDGEGW_ERR_UNSUPPORTED;
      result.message = "this gateway takes no typed readings (plugin ABI 1.5)";
      return result;
    }
    char error[512] = {};
    result.code = host_->append_readings(host_->host_ptr, batches.data(), batches.size(), error,
                                         sizeof error);
    if (result.code != EDGEGW_OK) result.message = error;
    return result;
  }

  void log(std::int32_t level, std::string_view message) const noexcept {
    host_->log(host_->host_ptr, level, message.data(), message.size());
  }
  void info(std::string_view message) const noexcept { log(EDGEGW_LOG_INFO, message); }
  void warn(std::string_view message) const noexcept { log(EDGEGW_LOG_WARN, message); }
  void error(std::string_view message) const noexcept { log(EDGEGW_LOG_ERROR, message); }
  void set_up(bool up) const noexcept { host_->set_up(host_->host_ptr, up ? 1 : 0); }

  // As append, and `changes` to the source's own durable state in the same write (ABI 1.3).
  // EDGEGW_ERR_UNSUPPORTED from a host without source state.
  AppendResult append_with_state(std::span<const edgegw_raw_message> messages,
                                 std::span<const edgegw_state_change> changes) const {
    AppendResult result;
    const edgegw_source_state* state = source_state();
    if (state == nullptr) {
      result.code = EDGEGW_ERR_UNSUPPORTED;
      result.message = "this gateway keeps no source state (plugin ABI 1.3)";
      return result;
    }
    char error[512] = {};
    result.code = state->append_with_state(host_->host_ptr, messages.data(), messages.size(),
                                           changes.data(), changes.size(), error, sizeof error);
    if (result.code != EDGEGW_OK) result.message = error;
    return result;
  }

  // The source's own durable state (ABI 1.3), or nullptr from an older host.
  const edgegw_source_state* source_state() const noexcept {
    if ((host_->abi_version & 0xffffu) < 3 ||
        host_->struct_size < offsetof(edgegw_host, source_state) + sizeof(host_->source_state)) {
      return nullptr;
    }
    return host_->source_state;
  }

  // The local Device API (ABI 1.2), or nullptr from an older host.
  const edgegw_device_api* device_api() const noexcept {
    if ((host_->abi_version & 0xffffu) < 2 ||
        host_->struct_size < offsetof(edgegw_host, device_api) + sizeof(host_->device_api)) {
      return nullptr;
    }
    return host_->device_api;
  }
  edgegw_host_ctx* host_ptr() const noexcept { return host_->host_ptr; }

 private:
  const edgegw_host* host_;
};

// One change of the source's own durable state (ABI 1.3): a put, or a delete without a value.
inline edgegw_state_change state_put(std::string_view key, std::string_view value) noexcept {
  edgegw_state_change c{};
  c.struct_size = sizeof(edgegw_state_change);
  c.key = bytes(key);
  c.value = value.data() != nullptr ? bytes(value) : edgegw_bytes{"", 0};
  return c;
}
inline edgegw_state_change state_delete(std::string_view key) noexcept {
  edgegw_state_change c{};
  c.struct_size = sizeof(edgegw_state_change);
  c.key = bytes(key);
  return c;
}

// The source's state directory (ABI 1.1), or empty from an older host.
inline std::string_view state_dir(const edgegw_source_info& source) noexcept {
  if (source.struct_size < offsetof(edgegw_source_info, state_dir) + sizeof(edgegw_bytes)) {
    return {};
  }
  return view(source.state_dir);
}

namespace detail {

template <typename T>
T* self(edgegw_instance* plugin_ptr) noexcept {
  return reinterpret_cast<T*>(plugin_ptr);
}

template <typename T>
std::int32_t create(const edgegw_host* host, const edgegw_source_info* source,
                    edgegw_instance** out_plugin_ptr, char* error, std::size_t error_size) {
  return guard(error, error_size, [&] {
    if (host == nullptr || source == nullptr || out_plugin_ptr == nullptr) {
      throw Error(EDGEGW_ERR_INVALID_ARGUMENT, "create: null argument");
    }
    T* instance = nullptr;
    if constexpr (std::is_constructible_v<T, Host, std::string_view, std::string_view,
                                          std::string_view>) {
      instance =
          new T(Host(host), view(source->name), view(source->config_json), state_dir(*source));
    } else {
      instance = new T(Host(host), view(source->name), view(source->config_json));
    }
    *out_plugin_ptr = reinterpret_cast<edgegw_instance*>(instance);
  });
}

template <typename T>
std::int32_t start(edgegw_instance* plugin_ptr, char* error, std::size_t error_size) {
  return guard(error, error_size, [&] { self<T>(plugin_ptr)->start(); });
}

template <typename T>
void stop(edgegw_instance* plugin_ptr) {
  (void)guard(nullptr, 0, [&] { self<T>(plugin_ptr)->stop(); });
}

template <typename T>
void destroy(edgegw_instance* plugin_ptr) {
  (void)guard(nullptr, 0, [&] { delete self<T>(plugin_ptr); });
}

}  // namespace detail

// The C table of plugin class T (static storage), or NULL when the host's ABI major differs.
template <typename T>
const edgegw_plugin* plugin_table(const char* name, const char* version,
                                  std::uint32_t host_abi_version) noexcept {
  if ((host_abi_version >> 16) != EDGEGW_PLUGIN_ABI_MAJOR) return nullptr;
  static const edgegw_plugin kTable = [&] {
    edgegw_plugin t{};
    t.struct_size = sizeof(edgegw_plugin);
    t.abi_version = EDGEGW_PLUGIN_ABI_VERSION;
    t.name = name;
    t.version = version;
    t.create = &detail::create<T>;
    t.start = &detail::start<T>;
    t.stop = &detail::stop<T>;
    t.destroy = &detail::destroy<T>;
    return t;
  }();
  return &kTable;
}

}  // namespace edgegw::sdk
