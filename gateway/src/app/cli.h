// SPDX-License-Identifier: Apache-2.0
// The command line: edgegw run | check-config | buffer ... | cloud ... | version | --help.
#pragma once

#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>

namespace edgegw::app {

enum class Command {
  kRun,
  kCheckConfig,
  kVersion,
  kHelp,
  kBufferStats,
  kDeadLetterList,
  kDeadLetterRetry,
  kDeadLetterPurge,
  kBufferRepair,
  kCloudDevices,
  kCloudRotateToken,
  kCloudForget,
};

struct Args {
  Command command = Command::kHelp;
  std::string config_path;
  bool no_plugins = false;  // check-config --no-plugins
  std::string key;          // cloud rotate-token KEY, cloud forget KEY
};

// Exit codes: 0 success, 1 the gateway could not start or failed, 2 usage or config error.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// Parses the arguments after the program name. On a usage error writes one line to `err`
// and returns nullopt.
std::optional<Args> parse_args(std::span<const std::string_view> args, std::ostream& err);

std::string_view usage() noexcept;

// `check-config`: every error as FILE:LINE:COL: message on `err`; a summary on `out` when valid.
// Each source's plugin must be in the plugin directory and accept its `config:`; with
// `with_plugins` false (--no-plugins: a machine without them) neither is looked at.
int check_config(const std::string& path, std::ostream& out, std::ostream& err,
                 bool with_plugins = true);

// The whole program: parse, dispatch, exit code.
int main_cli(int argc, char** argv);

}  // namespace edgegw::app
