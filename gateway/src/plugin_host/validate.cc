// SPDX-License-Identifier: Apache-2.0
#include "plugin_host/validate.h"

#include <stdlib.h>

#include <filesystem>

#include "plugin_host/abi_util.h"
#include "plugin_host/source.h"

namespace edgegw::plugin_host {

namespace {

// What the validating host's callbacks know: the source, for its log lines.
struct Checking {
  const config::SourceConfig& config;
  std::shared_ptr<spdlog::logger> logger;
};

constexpr std::string_view kRefused = "the config is being checked: nothing is received";

std::int32_t refuse(char* error, std::size_t error_size) noexcept {
  write_error(error, error_size, kRefused);
  return EDGEGW_ERR_UNSUPPORTED;
}

std::int32_t on_append(edgegw_host_ctx*, const edgegw_raw_message*, std::size_t, char* error,
                       std::size_t error_size) noexcept {
  return refuse(error, error_size);
}

std::int32_t on_append_readings(edgegw_host_ctx*, const edgegw_reading_batch*, std::size_t,
                                char* error, std::size_t error_size) noexcept {
  return refuse(error, error_size);
}

void on_log(edgegw_host_ctx* host_ptr, std::int32_t level, const char* message,
            std::size_t len) noexcept {
  const auto* checking = reinterpret_cast<const Checking*>(host_ptr);
  log_from_plugin(*checking->logger, checking->config.name, level, message, len);
}

void on_set_up(edgegw_host_ctx*, std::int32_t) noexcept {}

const edgegw_device_api kRefusingDeviceApi = [] {
  edgegw_device_api api{};
  api.struct_size = sizeof(edgegw_device_api);
  api.authenticate = [](edgegw_host_ctx*, edgegw_bytes, edgegw_host_buffer*, char* error,
                        std::size_t error_size) noexcept { return refuse(error, error_size); };
  api.append_checked = [](edgegw_host_ctx*, const edgegw_raw_message*, std::size_t, std::uint32_t,
                          std::size_t*, char* error,
                          std::size_t error_size) noexcept { return refuse(error, error_size); };
  api.query_data = [](edgegw_host_ctx*, edgegw_bytes, edgegw_bytes, edgegw_host_buffer*,
                      char* error,
                      std::size_t error_size) noexcept { return refuse(error, error_size); };
  api.delete_data = [](edgegw_host_ctx*, edgegw_bytes, edgegw_bytes, std::uint64_t*, char* error,
                       std::size_t error_size) noexcept { return refuse(error, error_size); };
  api.device_info = [](edgegw_host_ctx*, edgegw_bytes, edgegw_host_buffer*, char* error,
                       std::size_t error_size) noexcept { return refuse(error, error_size); };
  api.append_each = [](edgegw_host_ctx*, const edgegw_raw_message*, std::size_t count,
                       edgegw_append_outcome* outcomes, char* error,
                       std::size_t error_size) noexcept {
    if (outcomes_usable(outcomes)) {
      for (std::size_t i = 0; i < count; ++i) {
        set_outcome(outcomes, i, EDGEGW_ERR_UNSUPPORTED, 0, kRefused);
      }
    }
    return refuse(error, error_size);
  };
  // Nothing is ever allocated for the plugin.
  api.free_buffer = [](edgegw_host_ctx*, edgegw_host_buffer* buffer) noexcept {
    if (buffer != nullptr) *buffer = {nullptr, 0};
  };
  return api;
}();

const edgegw_source_state kRefusingSourceState = [] {
  edgegw_source_state api{};
  api.struct_size = sizeof(edgegw_source_state);
  api.append_with_state = [](edgegw_host_ctx*, const edgegw_raw_message*, std::size_t,
                             const edgegw_state_change*, std::size_t, char* error,
                             std::size_t error_size) noexcept { return refuse(error, error_size); };
  api.load = [](edgegw_host_ctx*, void (*)(void*, edgegw_bytes, edgegw_bytes), void*, char* error,
                std::size_t error_size) noexcept { return refuse(error, error_size); };
  return api;
}();

}  // namespace

Status validate(const config::SourceConfig& config, std::size_t index,
                const std::string& plugin_dir) {
  const std::string label = source_label(config, index);
  auto loaded = load_source_plugin(config, plugin_dir, label);
  if (!loaded) return loaded.status();
  std::error_code ec;
  std::string scratch = (std::filesystem::temp_directory_path(ec) / "edgegw-check-XXXXXX").string();
  if (ec || ::mkdtemp(scratch.data()) == nullptr) {
    return Status::io_error(label + ": cannot make a temporary state directory to check it");
  }
  Checking checking{config, log::get("source")};
  edgegw_host host{};
  host.struct_size = sizeof(edgegw_host);
  host.abi_version = EDGEGW_PLUGIN_ABI_VERSION;
  host.host_ptr = reinterpret_cast<edgegw_host_ctx*>(&checking);
  host.append = &on_append;
  host.log = &on_log;
  host.set_up = &on_set_up;
  host.device_api = &kRefusingDeviceApi;
  host.source_state = &kRefusingSourceState;
  host.append_readings = &on_append_readings;
  auto instance = create_instance(**loaded, host, config, scratch + "/sources", label);
  if (instance) (*loaded)->table->destroy(*instance);
  std::filesystem::remove_all(scratch, ec);
  return instance ? Status::ok() : instance.status();
}

}  // namespace edgegw::plugin_host
