// SPDX-License-Identifier: Apache-2.0
// The plugin host: finds a source's plugin (libedgegw_<plugin>.so in gateway.plugin_dir), checks
// its ABI version, creates the instance with the source's config and gives it the host's
// callbacks, whose append runs the source's ingest pipeline. Every failure says which source,
// which file and what to do.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "buffer/buffer.h"
#include "config/config.h"
#include "edgegw/plugin.h"
#include "edgegw/status.h"
#include "ingest/pipeline.h"
#include "log/log.h"
#include "plugin_host/library.h"

namespace edgegw::plugin_host {

// <directory of the running executable>/../lib/edgegw/plugins (normalised).
std::string default_plugin_dir();
// gateway.plugin_dir, or the default when it is empty.
std::string plugin_dir(const config::GatewayConfig& gateway);
// <dir>/libedgegw_<plugin>.so
std::string plugin_path(std::string_view dir, std::string_view plugin);
// The plugins in `dir` (the <name> of each libedgegw_<name>.so), sorted.
std::vector<std::string> installed_plugins(const std::string& dir);
// <data_dir>/sources: where each source's state directory is.
std::string state_root(const config::GatewayConfig& gateway);

// "1.0" for 0x00010000.
std::string abi_version_string(std::uint32_t version);

// An opened plugin whose ABI version this host accepts.
struct LoadedPlugin {
  Library library;
  const edgegw_plugin* table = nullptr;  // owned by the library: valid while it is open
};

// Opens and checks a plugin file. Messages name the file and the remedy (without the source).
Result<std::shared_ptr<LoadedPlugin>> load_plugin(const std::string& path,
                                                  std::string_view plugin_dir);

// What Source::create and validate() share: the source's label in messages ("sources[0] 'plant':
// plugin 'mqtt'"), loading its plugin, and creating an instance with the given host callbacks.
std::string source_label(const config::SourceConfig& config, std::size_t index);
Result<std::shared_ptr<LoadedPlugin>> load_source_plugin(const config::SourceConfig& config,
                                                         const std::string& plugin_dir,
                                                         std::string_view label);
// Calls the plugin's create(). `state_root` (e.g. <data_dir>/sources) holds the source's state
// directory, made here (empty: none is given to the plugin). `host` must outlive the instance.
Result<edgegw_instance*> create_instance(const LoadedPlugin& plugin, const edgegw_host& host,
                                         const config::SourceConfig& config,
                                         const std::string& state_root, std::string_view label);
// Logs one line a plugin sent through edgegw_host.log (an EDGEGW_LOG_* level).
void log_from_plugin(spdlog::logger& logger, std::string_view source, std::int32_t level,
                     const char* message, std::size_t len) noexcept;

// One configured source: a plugin instance and its ingest pipeline.
class Source {
 public:
  // Loads the plugin and creates the instance (not started). `index` is the source's position in
  // `sources:` (for messages). `state_root` (e.g. <data_dir>/sources) holds each source's state
  // directory, made here (empty: none is given to the plugin). `mapping` and `buffer` must
  // outlive the source.
  static Result<std::unique_ptr<Source>> create(const config::SourceConfig& config,
                                                std::size_t index, const std::string& plugin_dir,
                                                const std::string& state_root,
                                                const ingest::Mapping& mapping,
                                                buffer::Buffer& buffer,
                                                std::shared_ptr<ingest::SourceStats> stats = {});
  ~Source();  // stops (if started) and destroys the instance, then closes the library
  Source(const Source&) = delete;
  Source& operator=(const Source&) = delete;

  Status start();
  // Returns once the plugin makes no more calls. Idempotent.
  void stop();

  const config::SourceConfig& config() const noexcept { return config_; }
  ingest::SourceStats& stats() noexcept { return pipeline_.stats(); }
  std::shared_ptr<ingest::SourceStats> shared_stats() const noexcept { return stats_; }
  // What the plugin says of itself (edgegw_plugin_info): its version and the ABI it was built for.
  std::string_view plugin_version() const noexcept {
    return plugin_->table->version != nullptr ? plugin_->table->version : "";
  }
  std::uint32_t plugin_abi_version() const noexcept { return plugin_->table->abi_version; }

 private:
  Source(const config::SourceConfig& config, std::string label,
         std::shared_ptr<LoadedPlugin> plugin, const ingest::Mapping& mapping,
         buffer::Buffer& buffer, std::shared_ptr<ingest::SourceStats> stats);

  static std::int32_t on_append(edgegw_host_ctx* host_ptr, const edgegw_raw_message* messages,
                                std::size_t count, char* error, std::size_t error_size) noexcept;
  static void on_log(edgegw_host_ctx* host_ptr, std::int32_t level, const char* message,
                     std::size_t len) noexcept;
  static void on_set_up(edgegw_host_ctx* host_ptr, std::int32_t up) noexcept;
  // ABI 1.5 edgegw_host.append_readings (source_readings.cc).
  static std::int32_t on_append_readings(edgegw_host_ctx* host_ptr,
                                         const edgegw_reading_batch* batches, std::size_t count,
                                         char* error, std::size_t error_size) noexcept;
  std::int32_t append_messages(const edgegw_raw_message* messages, std::size_t count,
                               const ingest::Pipeline::AppendOptions& options, char* error,
                               std::size_t error_size) noexcept;

  // ABI 1.2 edgegw_device_api (source_device_api.cc).
  static const edgegw_device_api kDeviceApi;
  static std::int32_t on_authenticate(edgegw_host_ctx* host_ptr, edgegw_bytes token,
                                      edgegw_host_buffer* out_key, char* error,
                                      std::size_t error_size) noexcept;
  static std::int32_t on_append_checked(edgegw_host_ctx* host_ptr,
                                        const edgegw_raw_message* messages, std::size_t count,
                                        std::uint32_t flags, std::size_t* out_readings, char* error,
                                        std::size_t error_size) noexcept;
  // ABI 1.4.
  static std::int32_t on_append_each(edgegw_host_ctx* host_ptr, const edgegw_raw_message* messages,
                                     std::size_t count, edgegw_append_outcome* outcomes,
                                     char* error, std::size_t error_size) noexcept;
  static std::int32_t on_query_data(edgegw_host_ctx* host_ptr, edgegw_bytes device_key,
                                    edgegw_bytes query, edgegw_host_buffer* out_json, char* error,
                                    std::size_t error_size) noexcept;
  static std::int32_t on_delete_data(edgegw_host_ctx* host_ptr, edgegw_bytes device_key,
                                     edgegw_bytes query, std::uint64_t* out_removed, char* error,
                                     std::size_t error_size) noexcept;
  static std::int32_t on_device_info(edgegw_host_ctx* host_ptr, edgegw_bytes device_key,
                                     edgegw_host_buffer* out_json, char* error,
                                     std::size_t error_size) noexcept;
  static void on_free_buffer(edgegw_host_ctx* host_ptr, edgegw_host_buffer* buffer) noexcept;

  // ABI 1.3 edgegw_source_state (source_state.cc).
  static const edgegw_source_state kSourceState;
  static std::int32_t on_append_with_state(edgegw_host_ctx* host_ptr,
                                           const edgegw_raw_message* messages, std::size_t count,
                                           const edgegw_state_change* changes,
                                           std::size_t change_count, char* error,
                                           std::size_t error_size) noexcept;
  static std::int32_t on_load_state(edgegw_host_ctx* host_ptr,
                                    void (*visit)(void* context, edgegw_bytes key,
                                                  edgegw_bytes value),
                                    void* context, char* error, std::size_t error_size) noexcept;

  config::SourceConfig config_;
  std::string label_;                     // "sources[0] 'plant': plugin 'mqtt'"
  std::shared_ptr<LoadedPlugin> plugin_;  // first: closed last
  std::shared_ptr<ingest::SourceStats> stats_;
  ingest::Pipeline pipeline_;
  const ingest::Mapping& mapping_;
  buffer::Buffer& buffer_;
  std::shared_ptr<spdlog::logger> logger_;
  edgegw_host host_{};
  edgegw_instance* instance_ = nullptr;  // the plugin's
  bool started_ = false;
  std::atomic<bool> stopped_{false};  // after stop(): appends are refused
};

}  // namespace edgegw::plugin_host
