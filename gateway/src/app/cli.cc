// SPDX-License-Identifier: Apache-2.0
#include "app/cli.h"

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <optional>
#include <tuple>
#include <vector>

#include "app/buffer_commands.h"
#include "app/buffer_options.h"
#include "app/cloud_commands.h"
#include "app/daemon.h"
#include "app/data_dir.h"
#include "app/version.h"
#include "buffer/buffer.h"
#include "config/loader.h"
#include "config/suggest.h"
#include "log/log.h"
#include "plugin_host/source.h"
#include "plugin_host/validate.h"

namespace edgegw::app {

namespace {

constexpr std::string_view kUsage =
    R"(usage: edgegw <command> [options]

commands:
  run -c FILE            run the gateway in the foreground (logs to stderr)
                         SIGTERM/SIGINT: graceful stop; SIGHUP: reload FILE
  check-config -c FILE   validate FILE without starting anything (exit 0, or 2 with
                         every error as FILE:LINE:COL: message); each source's plugin
                         must be in gateway.plugin_dir and accept its config: keys
    --no-plugins         do not look for the plugins (a machine without them)
  buffer stats -c FILE   per-device queued readings, bytes, oldest age; dead letters
                         (read-only: works while the gateway runs)
  buffer dead-letter list -c FILE    the readings the cloud refused for good (JSON lines)
  buffer dead-letter retry -c FILE   queue them again (gateway stopped)
  buffer dead-letter purge -c FILE   delete them (gateway stopped)
  buffer repair -c FILE  salvage a damaged buffer with RocksDB's repair (gateway stopped;
                         back up gateway.data_dir first)
  cloud devices -c FILE  the devices the gateway provisioned (unmapped: provision):
                         key, cloud device, created or found, since when
  cloud rotate-token KEY -c FILE   a new token for a provisioned device; the old one
                         is deleted in the cloud once no request carries it
  cloud forget KEY -c FILE         drop its token (deleted in the cloud) and its entry;
                         with unmapped: provision it is provisioned again at once
                         (e.g. after the cloud refused its token)
  version                version and build information
  help, --help, -h       this text

options:
  -c, --config FILE      the YAML configuration file

exit status: 0 ok, 1 the gateway failed, 2 usage or configuration error
)";

struct CommandName {
  std::string_view name;  // one or more words
  Command command;
  bool needs_config;
};

constexpr CommandName kCommands[] = {
    {"run", Command::kRun, true},
    {"check-config", Command::kCheckConfig, true},
    {"buffer stats", Command::kBufferStats, true},
    {"buffer dead-letter list", Command::kDeadLetterList, true},
    {"buffer dead-letter retry", Command::kDeadLetterRetry, true},
    {"buffer dead-letter purge", Command::kDeadLetterPurge, true},
    {"buffer repair", Command::kBufferRepair, true},
    {"cloud devices", Command::kCloudDevices, true},
    {"cloud rotate-token", Command::kCloudRotateToken, true},
    {"cloud forget", Command::kCloudForget, true},
    {"version", Command::kVersion, false},
    {"help", Command::kHelp, false},
    {"--help", Command::kHelp, false},
    {"-h", Command::kHelp, false},
};

// How many leading arguments spell `name` ("buffer dead-letter list" is three), or 0.
std::size_t match_words(std::string_view name, std::span<const std::string_view> args) {
  std::size_t used = 0;
  while (!name.empty()) {
    const std::size_t space = name.find(' ');
    const std::string_view word = name.substr(0, space);
    if (used == args.size() || args[used] != word) return 0;
    ++used;
    name = space == std::string_view::npos ? std::string_view() : name.substr(space + 1);
  }
  return used;
}

void print_errors(const std::vector<config::Diagnostic>& errors, std::ostream& err) {
  for (const auto& e : errors) err << e.to_string() << '\n';
}

int run(const std::string& path) {
  config::LoadResult loaded = config::load_file(path);
  if (!loaded.config) {
    print_errors(loaded.errors, std::cerr);
    std::cerr << "edgegw: " << path << ": " << loaded.errors.size() << " error(s); not starting\n";
    return kExitUsage;
  }
  config::Config config = std::move(*loaded.config);
  apply_logging(config);
  Result<DataDirLock> lock = DataDirLock::acquire(config.gateway.data_dir);
  if (!lock) {
    std::cerr << "edgegw: cannot start: " << lock.status().message() << '\n';
    return kExitFailure;
  }
  auto buffer = open_buffer(config);
  if (!buffer) {
    std::cerr << "edgegw: cannot start: " << buffer.status().message() << '\n';
    return kExitFailure;
  }
  try {
    Daemon daemon(std::move(config), std::move(lock).value(), std::move(buffer).value());
    if (Status s = daemon.init(); !s) {
      std::cerr << "edgegw: cannot start: " << s.message() << '\n';
      return kExitFailure;
    }
    return daemon.run();
  } catch (const std::exception& e) {
    // Start-up failures of the system (threads, sockets) end here with one clear line.
    std::cerr << "edgegw: failed: " << e.what() << '\n';
    return kExitFailure;
  }
}

}  // namespace

std::string_view usage() noexcept { return kUsage; }

std::optional<Args> parse_args(std::span<const std::string_view> args, std::ostream& err) {
  if (args.empty()) {
    err << "edgegw: no command given; try 'edgegw --help'\n";
    return std::nullopt;
  }
  const CommandName* found = nullptr;
  std::size_t words = 0;
  for (const auto& c : kCommands) {
    if (const std::size_t n = match_words(c.name, args); n > words) {
      found = &c;
      words = n;
    }
  }
  if (found == nullptr) {
    if (args[0] == "buffer") {
      err << "edgegw buffer: expected stats, dead-letter list|retry|purge, or repair\n";
    } else if (args[0] == "cloud") {
      err << "edgegw cloud: expected devices, rotate-token KEY or forget KEY\n";
    } else {
      err << "edgegw: unknown command '" << args[0]
          << "'; the commands are run, check-config, buffer, cloud, version, help\n";
    }
    return std::nullopt;
  }
  Args parsed;
  parsed.command = found->command;
  const bool takes_key =
      found->command == Command::kCloudRotateToken || found->command == Command::kCloudForget;
  for (std::size_t i = words; i < args.size(); ++i) {
    const std::string_view a = args[i];
    if (a == "-c" || a == "--config") {
      if (i + 1 == args.size()) {
        err << "edgegw: " << a << " needs a file name\n";
        return std::nullopt;
      }
      parsed.config_path = std::string(args[++i]);
    } else if (a.starts_with("--config=")) {
      parsed.config_path = std::string(a.substr(9));
    } else if (a == "--no-plugins" && parsed.command == Command::kCheckConfig) {
      parsed.no_plugins = true;
    } else if (a == "--help" || a == "-h") {
      parsed.command = Command::kHelp;
      return parsed;
    } else if (takes_key && parsed.key.empty() && !a.starts_with("-")) {
      parsed.key = std::string(a);
    } else {
      err << "edgegw " << found->name << ": unexpected argument '" << a << "'\n";
      return std::nullopt;
    }
  }
  if (takes_key && parsed.key.empty()) {
    err << "edgegw " << found->name << ": missing KEY (the device key; edgegw cloud devices "
        << "lists them)\n";
    return std::nullopt;
  }
  if (found->needs_config && parsed.config_path.empty()) {
    err << "edgegw " << found->name << ": missing -c FILE (the configuration file)\n";
    return std::nullopt;
  }
  if (!found->needs_config && !parsed.config_path.empty()) {
    err << "edgegw " << found->name << ": takes no -c option\n";
    return std::nullopt;
  }
  return parsed;
}

namespace {

// Where a plugin's complaint points: the `config:` key it names ('key', `key` or "key: ..."),
// the longest one named, else the source's entry.
config::Mark complaint_mark(const config::SourceConfig& source, std::string_view message) {
  config::Mark mark = source.mark;
  std::size_t best = 0;
  for (const auto& [key, key_mark] : source.config_marks) {
    const bool named = message.find("'" + key + "'") != std::string_view::npos ||
                       message.find("`" + key + "`") != std::string_view::npos ||
                       message.find(": " + key + ":") != std::string_view::npos;
    if (named && key.size() > best) {
      best = key.size();
      mark = key_mark;
    }
  }
  return mark;
}

// Why a source's plugin cannot be loaded from `dir` (with the likely one it meant), or nullopt
// when its file is there.
std::optional<std::string> missing_plugin(const config::SourceConfig& source,
                                          const std::string& dir) {
  std::error_code ec;
  if (std::filesystem::exists(plugin_host::plugin_path(dir, source.plugin), ec)) {
    return std::nullopt;
  }
  std::string why = "no plugin '" + source.plugin + "' in " + dir + " (gateway.plugin_dir)";
  const std::vector<std::string> installed = plugin_host::installed_plugins(dir);
  const std::vector<std::string_view> names(installed.begin(), installed.end());
  if (const std::string_view near = config::detail::closest(source.plugin, names); !near.empty()) {
    why += "; did you mean '" + std::string(near) + "'?";
  } else if (!installed.empty()) {
    why += "; installed:";
    for (const auto& n : installed) why += (n == installed.front() ? " " : ", ") + n;
  } else {
    why += std::filesystem::is_directory(dir, ec) ? "; the folder holds no plugin"
                                                  : "; the folder does not exist";
    why += " (check-config --no-plugins checks a config where they are not installed)";
  }
  return why;
}

std::vector<config::Diagnostic> check_sources(const std::string& path, const config::Config& config,
                                              const std::vector<std::size_t>& sources) {
  std::vector<config::Diagnostic> errors;
  const std::string dir = plugin_host::plugin_dir(config.gateway);
  // A plugin's message may quote what it refused: never a secret of the config.
  log::set_secrets(config.secret_values());
  for (const std::size_t i : sources) {
    const config::SourceConfig& source = config.sources[i];
    if (const Status s = plugin_host::validate(source, i, dir); !s) {
      const std::string message = log::redact(s.message());
      errors.push_back({path, complaint_mark(source, message), message});
    }
  }
  return errors;
}

}  // namespace

int check_config(const std::string& path, std::ostream& out, std::ostream& err, bool with_plugins) {
  config::LoadResult loaded = config::load_file(path);
  if (!loaded.config) {
    print_errors(loaded.errors, err);
    err << path << ": " << loaded.errors.size() << " error(s)\n";
    return kExitUsage;
  }
  const config::Config& config = *loaded.config;
  std::vector<config::Diagnostic> errors;
  if (with_plugins) {
    // Each source's plugin must be there, as `edgegw run` needs it; then its own keys (under
    // `config:`) are its plugin's to check: create each instance as `run` would, without a
    // buffer and without starting it.
    const std::string dir = plugin_host::plugin_dir(config.gateway);
    std::vector<std::size_t> present;
    for (std::size_t i = 0; i < config.sources.size(); ++i) {
      const config::SourceConfig& source = config.sources[i];
      if (auto missing = missing_plugin(source, dir)) {
        const config::Mark mark = source.plugin_mark.line > 0 ? source.plugin_mark : source.mark;
        errors.push_back(
            {path, mark, "sources[" + std::to_string(i) + "].plugin: " + std::move(*missing)});
      } else {
        present.push_back(i);
      }
    }
    for (auto& e : check_sources(path, config, present)) errors.push_back(std::move(e));
  }
  if (!errors.empty()) {
    std::stable_sort(errors.begin(), errors.end(), [](const auto& a, const auto& b) {
      return std::tie(a.mark.line, a.mark.column) < std::tie(b.mark.line, b.mark.column);
    });
    print_errors(errors, err);
    err << path << ": " << errors.size() << " error(s)\n";
    return kExitUsage;
  }
  out << path << ": OK (" << config.sources.size() << " source(s), " << config.devices.size()
      << " device(s)";
  if (!config.actions.empty()) out << ", " << config.actions.size() << " action(s)";
  if (!config.analyses.empty()) out << ", " << config.analyses.size() << " analysis(es)";
  if (config.unmapped.provision) {
    out << ", unmapped: provision (cap " << config.cloud.provisioning.max_created_per_hour << "/h)";
  }
  out << (with_plugins ? "" : "; plugins not checked: --no-plugins") << ")\n";
  return kExitOk;
}

int main_cli(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  std::optional<Args> parsed = parse_args(args, std::cerr);
  if (!parsed) return kExitUsage;
  switch (parsed->command) {
    case Command::kHelp:
      std::cout << kUsage;
      return kExitOk;
    case Command::kVersion:
      std::cout << version_text();
      return kExitOk;
    case Command::kCheckConfig:
      return check_config(parsed->config_path, std::cout, std::cerr, !parsed->no_plugins);
    case Command::kRun:
      return run(parsed->config_path);
    case Command::kBufferStats:
      return buffer_stats(parsed->config_path, std::cout, std::cerr);
    case Command::kDeadLetterList:
      return dead_letter_list(parsed->config_path, std::cout, std::cerr);
    case Command::kDeadLetterRetry:
      return dead_letter_retry(parsed->config_path, std::cout, std::cerr);
    case Command::kDeadLetterPurge:
      return dead_letter_purge(parsed->config_path, std::cout, std::cerr);
    case Command::kBufferRepair:
      return buffer_repair(parsed->config_path, std::cout, std::cerr);
    case Command::kCloudDevices:
      return cloud_devices(parsed->config_path, std::cout, std::cerr);
    case Command::kCloudRotateToken:
      return cloud_rotate_token(parsed->config_path, parsed->key, std::cout, std::cerr);
    case Command::kCloudForget:
      return cloud_forget(parsed->config_path, parsed->key, std::cout, std::cerr);
  }
  return kExitUsage;
}

}  // namespace edgegw::app
