#include "app/cli.h"

#include <iostream>
#include <vector>

#include "app/daemon.h"
#include "app/data_dir.h"
#include "app/version.h"
#include "config/loader.h"

namespace edgegw::app {

namespace {

constexpr std::string_view kUsage =
    R"(usage: edgegw <command> [options]

commands:
  run -c FILE            run the gateway in the foreground (logs to stderr)
                         SIGTERM/SIGINT: graceful stop; SIGHUP: reload FILE
  check-config -c FILE   validate FILE without starting anything (exit 0, or 2 with
                         every error as FILE:LINE:COL: message)
  version                version and build information
  help, --help, -h       this text

options:
  -c, --config FILE      the YAML configuration file

exit status: 0 ok, 1 the gateway failed, 2 usage or configuration error
)";

struct CommandName {
  std::string_view name;
  Command command;
  bool needs_config;
};

constexpr CommandName kCommands[] = {
    {"run", Command::kRun, true},
    {"check-config", Command::kCheckConfig, true},
    {"version", Command::kVersion, false},
    {"help", Command::kHelp, false},
    {"--help", Command::kHelp, false},
    {"-h", Command::kHelp, false},
};

void print_errors(const std::vector<config::Diagnostic>& errors, std::ostream& err) {
  for (const auto& e : errors) err << e.to_string() << '\n';
}

int run(const std::string& path) {
  config::LoadResult loaded = config::load_file(path);
  if (!loaded.config) {
    print_errors(loaded.errors, std::cerr);
    std::cerr << "edgegw: " << path << ": " << loaded.errors.size()
              << " error(s); not starting\n";
    return kExitUsage;
  }
  config::Config config = std::move(*loaded.config);
  apply_logging(config);
  Result<DataDirLock> lock = DataDirLock::acquire(config.gateway.data_dir);
  if (!lock) {
    std::cerr << "edgegw: cannot start: " << lock.status().message() << '\n';
    return kExitFailure;
  }
  try {
    Daemon daemon(std::move(config), std::move(lock).value());
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
  for (const auto& c : kCommands) {
    if (c.name == args[0]) found = &c;
  }
  if (found == nullptr) {
    err << "edgegw: unknown command '" << args[0]
        << "'; the commands are run, check-config, version, help\n";
    return std::nullopt;
  }
  Args parsed;
  parsed.command = found->command;
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string_view a = args[i];
    if (a == "-c" || a == "--config") {
      if (i + 1 == args.size()) {
        err << "edgegw: " << a << " needs a file name\n";
        return std::nullopt;
      }
      parsed.config_path = std::string(args[++i]);
    } else if (a.starts_with("--config=")) {
      parsed.config_path = std::string(a.substr(9));
    } else if (a == "--help" || a == "-h") {
      parsed.command = Command::kHelp;
      return parsed;
    } else {
      err << "edgegw " << found->name << ": unexpected argument '" << a << "'\n";
      return std::nullopt;
    }
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

int check_config(const std::string& path, std::ostream& out, std::ostream& err) {
  config::LoadResult loaded = config::load_file(path);
  if (!loaded.config) {
    print_errors(loaded.errors, err);
    err << path << ": " << loaded.errors.size() << " error(s)\n";
    return kExitUsage;
  }
  out << path << ": OK (" << loaded.config->sources.size() << " source(s), "
      << loaded.config->devices.size() << " device(s))\n";
  return kExitOk;
}

int main_cli(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  std::optional<Args> parsed = parse_args(args, std::cerr);
  if (!parsed) return kExitUsage;
  switch (parsed->command) {
    case Command::kHelp: std::cout << kUsage; return kExitOk;
    case Command::kVersion: std::cout << version_text(); return kExitOk;
    case Command::kCheckConfig: return check_config(parsed->config_path, std::cout, std::cerr);
    case Command::kRun: return run(parsed->config_path);
  }
  return kExitUsage;
}

}  // namespace edgegw::app
