// SPDX-License-Identifier: Apache-2.0
#include "plugin_host/source.h"

#include "plugin_host/abi_util.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <new>
#include <vector>

#include <fmt/format.h>

namespace edgegw::plugin_host {

namespace {

constexpr std::size_t kErrorBytes = 1024;

std::string_view code_text(std::int32_t code) {
  switch (code) {
    case EDGEGW_OK:
      return "ok";
    case EDGEGW_ERR_INVALID_ARGUMENT:
      return "invalid argument";
    case EDGEGW_ERR_FULL:
      return "full";
    case EDGEGW_ERR_UNAVAILABLE:
      return "unavailable";
    case EDGEGW_ERR_IO:
      return "I/O error";
    case EDGEGW_ERR_INTERNAL:
      return "internal error";
    case EDGEGW_ERR_STOPPED:
      return "stopped";
    case EDGEGW_ERR_UNSUPPORTED:
      return "unsupported";
    default:
      return "unknown error code";
  }
}

// The text a plugin wrote into an error buffer (it may have forgotten the NUL).
std::string error_text(const std::array<char, kErrorBytes>& buf) {
  const auto end = std::find(buf.begin(), buf.end(), '\0');
  return std::string(buf.begin(), end);
}

// Reused per thread: the raw messages of one append as the pipeline takes them.
thread_local std::vector<RawMessage> t_messages;

}  // namespace

std::string default_plugin_dir() {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "lib/edgegw/plugins";
  return (exe.parent_path().parent_path() / "lib" / "edgegw" / "plugins").string();
}

std::string plugin_dir(const config::GatewayConfig& gateway) {
  return gateway.plugin_dir.empty() ? default_plugin_dir() : gateway.plugin_dir;
}

std::string state_root(const config::GatewayConfig& gateway) {
  return gateway.data_dir + "/sources";
}

namespace {
constexpr std::string_view kPluginPrefix = "libedgegw_";
constexpr std::string_view kPluginSuffix = ".so";
}  // namespace

std::string plugin_path(std::string_view dir, std::string_view plugin) {
  std::string path(dir);
  if (!path.empty() && path.back() != '/') path += '/';
  return path + std::string(kPluginPrefix) + std::string(plugin) + std::string(kPluginSuffix);
}

std::vector<std::string> installed_plugins(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string file = it->path().filename().string();
    if (file.size() > kPluginPrefix.size() + kPluginSuffix.size() &&
        file.starts_with(kPluginPrefix) && file.ends_with(kPluginSuffix)) {
      names.push_back(file.substr(kPluginPrefix.size(),
                                  file.size() - kPluginPrefix.size() - kPluginSuffix.size()));
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string abi_version_string(std::uint32_t version) {
  return std::to_string(version >> 16) + "." + std::to_string(version & 0xffffU);
}

Result<std::shared_ptr<LoadedPlugin>> load_plugin(const std::string& path,
                                                  std::string_view plugin_dir) {
  auto library = Library::open(path);
  if (!library) {
    if (library.status().code() == Code::kNotFound) {
      return Status::not_found(
          fmt::format("{} not found (gateway.plugin_dir is {})", path, plugin_dir));
    }
    return library.status();
  }
  const auto entry =
      reinterpret_cast<edgegw_plugin_entry_fn>(library->symbol(EDGEGW_PLUGIN_ENTRY_SYMBOL));
  if (entry == nullptr) {
    return Status::invalid_argument(
        fmt::format("{} does not export {}: it is not an edgegw plugin (or was built without "
                    "EDGEGW_PLUGIN_EXPORT)",
                    path, EDGEGW_PLUGIN_ENTRY_SYMBOL));
  }
  const std::string ours = abi_version_string(EDGEGW_PLUGIN_ABI_VERSION);
  const edgegw_plugin* table = entry(EDGEGW_PLUGIN_ABI_VERSION);
  if (table == nullptr) {
    return Status::invalid_argument(
        fmt::format("{} refused this gateway's plugin ABI {}: use a plugin built for ABI {}", path,
                    ours, ours));
  }
  if (table->struct_size < offsetof(edgegw_plugin, reserved)) {
    return Status::invalid_argument(fmt::format(
        "{}: its plugin table is too small ({} bytes): rebuild it against edgegw/plugin.h", path,
        table->struct_size));
  }
  const std::uint32_t theirs = table->abi_version;
  const std::string theirs_text = abi_version_string(theirs);
  if ((theirs >> 16) != EDGEGW_PLUGIN_ABI_MAJOR) {
    return Status::invalid_argument(fmt::format(
        "{} is built for plugin ABI {}; this gateway supports ABI {}.0 to {}: rebuild the "
        "plugin against this gateway's edgegw/plugin.h",
        path, theirs_text, EDGEGW_PLUGIN_ABI_MAJOR, ours));
  }
  if ((theirs & 0xffffU) > EDGEGW_PLUGIN_ABI_MINOR) {
    return Status::invalid_argument(fmt::format(
        "{} is built for plugin ABI {}, newer than this gateway's {}: upgrade the gateway or use "
        "a plugin built for ABI {}",
        path, theirs_text, ours, ours));
  }
  if (table->create == nullptr || table->start == nullptr || table->stop == nullptr ||
      table->destroy == nullptr) {
    return Status::invalid_argument(
        fmt::format("{}: its plugin table lacks create/start/stop/destroy", path));
  }
  auto loaded = std::make_shared<LoadedPlugin>();
  loaded->library = std::move(library).value();
  loaded->table = table;
  return loaded;
}

Source::Source(const config::SourceConfig& config, std::string label,
               std::shared_ptr<LoadedPlugin> plugin, const ingest::Mapping& mapping,
               buffer::Buffer& buffer, std::shared_ptr<ingest::SourceStats> stats)
    : config_(config),
      label_(std::move(label)),
      plugin_(std::move(plugin)),
      stats_(stats ? std::move(stats) : std::make_shared<ingest::SourceStats>()),
      pipeline_(config, mapping, buffer, stats_),
      mapping_(mapping),
      buffer_(buffer),
      logger_(log::get("source")) {
  host_.struct_size = sizeof(edgegw_host);
  host_.abi_version = EDGEGW_PLUGIN_ABI_VERSION;
  host_.host_ptr = reinterpret_cast<edgegw_host_ctx*>(this);
  host_.append = &Source::on_append;
  host_.log = &Source::on_log;
  host_.set_up = &Source::on_set_up;
  host_.device_api = &kDeviceApi;
  host_.source_state = &kSourceState;
  host_.append_readings = &Source::on_append_readings;
}

std::string source_label(const config::SourceConfig& config, std::size_t index) {
  return fmt::format("sources[{}] '{}': plugin '{}'", index, config.name, config.plugin);
}

Result<std::shared_ptr<LoadedPlugin>> load_source_plugin(const config::SourceConfig& config,
                                                         const std::string& plugin_dir,
                                                         std::string_view label) {
  auto loaded = load_plugin(plugin_path(plugin_dir, config.plugin), plugin_dir);
  if (!loaded) {
    return Status(loaded.status().code(), fmt::format("{}: {}", label, loaded.status().message()));
  }
  return loaded;
}

Result<edgegw_instance*> create_instance(const LoadedPlugin& plugin, const edgegw_host& host,
                                         const config::SourceConfig& config,
                                         const std::string& state_root, std::string_view label) {
  edgegw_source_info info{};
  info.struct_size = sizeof info;
  info.name = {config.name.data(), config.name.size()};
  info.config_json = {config.config_json.data(), config.config_json.size()};
  std::string state_dir;
  if (!state_root.empty()) {
    // The source's own directory, private to the gateway's user (it may hold messages).
    state_dir = state_root + "/" + config.name;
    std::error_code ec;
    std::filesystem::create_directories(state_dir, ec);
    if (!ec) {
      std::filesystem::permissions(state_root, std::filesystem::perms::owner_all,
                                   std::filesystem::perm_options::replace, ec);
    }
    if (ec) {
      return Status::io_error(fmt::format("{}: cannot create its state directory {}: {}", label,
                                          state_dir, ec.message()));
    }
    info.state_dir = {state_dir.data(), state_dir.size()};
  }
  std::array<char, kErrorBytes> error{};
  edgegw_instance* instance = nullptr;
  const std::int32_t code =
      plugin.table->create(&host, &info, &instance, error.data(), error.size());
  if (code != EDGEGW_OK || instance == nullptr) {
    return Status::invalid_argument(
        fmt::format("{}: create failed ({}): {}", label, code_text(code), error_text(error)));
  }
  return instance;
}

Result<std::unique_ptr<Source>> Source::create(const config::SourceConfig& config,
                                               std::size_t index, const std::string& plugin_dir,
                                               const std::string& state_root,
                                               const ingest::Mapping& mapping,
                                               buffer::Buffer& buffer,
                                               std::shared_ptr<ingest::SourceStats> stats) {
  std::string label = source_label(config, index);
  auto loaded = load_source_plugin(config, plugin_dir, label);
  if (!loaded) return loaded.status();
  std::unique_ptr<Source> source(new Source(config, std::move(label), std::move(loaded).value(),
                                            mapping, buffer, std::move(stats)));
  auto instance =
      create_instance(*source->plugin_, source->host_, source->config_, state_root, source->label_);
  if (!instance) return instance.status();
  source->instance_ = *instance;
  return source;
}

Source::~Source() {
  stop();
  if (instance_ != nullptr) plugin_->table->destroy(instance_);
}

Status Source::start() {
  std::array<char, kErrorBytes> error{};
  const std::int32_t code = plugin_->table->start(instance_, error.data(), error.size());
  if (code != EDGEGW_OK) {
    return Status::unavailable(
        fmt::format("{}: start failed ({}): {}", label_, code_text(code), error_text(error)));
  }
  started_ = true;
  logger_->info("source {}: started (plugin {} {})", config_.name, plugin_->table->name,
                plugin_->table->version);
  return Status::ok();
}

void Source::stop() {
  if (started_) {
    plugin_->table->stop(instance_);
    started_ = false;
    logger_->info("source {}: stopped", config_.name);
  }
  stopped_.store(true, std::memory_order_release);
  stats_->up.store(false, std::memory_order_relaxed);
}

std::int32_t Source::on_append(edgegw_host_ctx* host_ptr, const edgegw_raw_message* messages,
                               std::size_t count, char* error, std::size_t error_size) noexcept {
  return reinterpret_cast<Source*>(host_ptr)->append_messages(messages, count, {}, error,
                                                              error_size);
}

std::int32_t Source::append_messages(const edgegw_raw_message* messages, std::size_t count,
                                     const ingest::Pipeline::AppendOptions& options, char* error,
                                     std::size_t error_size) noexcept {
  Source* self = this;
  if (self->stopped_.load(std::memory_order_acquire)) {
    write_error(error, error_size, "the source is stopped");
    return EDGEGW_ERR_STOPPED;
  }
  if (count == 0 && options.state.empty()) return EDGEGW_OK;
  if (count > 0 && messages == nullptr) {
    write_error(error, error_size, "append: messages is NULL");
    return EDGEGW_ERR_INVALID_ARGUMENT;
  }
  // Elements are as large as the plugin's edgegw_raw_message (it may be newer than ours); a field
  // beyond its struct_size is absent.
  const std::size_t stride = count > 0 ? messages->struct_size : sizeof(edgegw_raw_message);
  if (stride < offsetof(edgegw_raw_message, reserved)) {
    write_error(error, error_size, "append: edgegw_raw_message.struct_size is too small");
    return EDGEGW_ERR_INVALID_ARGUMENT;
  }
  try {
    std::vector<RawMessage>& raw = t_messages;
    raw.clear();
    const auto* base = reinterpret_cast<const unsigned char*>(messages);
    for (std::size_t i = 0; i < count; ++i) {
      const auto* m = reinterpret_cast<const edgegw_raw_message*>(base + i * stride);
      raw.push_back({self->config_.name, view(m->device_key), view(m->variable), view(m->payload),
                     m->receive_time_ms});
    }
    const Status status = self->pipeline_.append(raw, options);
    if (status) return EDGEGW_OK;
    write_error(error, error_size, status.message());
    return to_abi_code(status.code());
  } catch (const std::bad_alloc&) {
    write_error(error, error_size, "out of memory");
    return EDGEGW_ERR_INTERNAL;
  } catch (const std::exception& e) {
    write_error(error, error_size, e.what());
    return EDGEGW_ERR_INTERNAL;
  }
}

void log_from_plugin(spdlog::logger& logger, std::string_view source, std::int32_t level,
                     const char* message, std::size_t len) noexcept {
  log::Level l = log::Level::info;
  switch (level) {
    case EDGEGW_LOG_TRACE:
      l = log::Level::trace;
      break;
    case EDGEGW_LOG_DEBUG:
      l = log::Level::debug;
      break;
    case EDGEGW_LOG_INFO:
      l = log::Level::info;
      break;
    case EDGEGW_LOG_WARN:
      l = log::Level::warn;
      break;
    default:
      l = log::Level::err;
      break;
  }
  try {
    logger.log(l, "source {}: {}", source,
               message == nullptr ? std::string_view() : std::string_view(message, len));
  } catch (...) {
  }
}

void Source::on_log(edgegw_host_ctx* host_ptr, std::int32_t level, const char* message,
                    std::size_t len) noexcept {
  auto* self = reinterpret_cast<Source*>(host_ptr);
  log_from_plugin(*self->logger_, self->config_.name, level, message, len);
}

void Source::on_set_up(edgegw_host_ctx* host_ptr, std::int32_t up) noexcept {
  auto* self = reinterpret_cast<Source*>(host_ptr);
  self->stats_->up.store(up != 0, std::memory_order_relaxed);
}

}  // namespace edgegw::plugin_host
