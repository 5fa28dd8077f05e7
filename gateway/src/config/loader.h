// SPDX-License-Identifier: Apache-2.0
// YAML -> Config, collecting every error with its position, never only the first.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace edgegw::config {

// One problem in a config file: printed as `FILE:LINE:COL: message`.
struct Diagnostic {
  std::string file;
  Mark mark;
  std::string message;  // "gateway.data_dri: unknown key; did you mean 'data_dir'?"
  std::string to_string() const;
};

struct LoadResult {
  std::optional<Config> config;  // set only when errors is empty
  std::vector<Diagnostic> errors;
};

// Looks up an environment variable for `${NAME}` substitution; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;
EnvLookup process_environment();

// Reads and validates a config file. Relative `token_file:` paths are relative to the file's
// folder.
LoadResult load_file(const std::string& path, const EnvLookup& env = process_environment());

// The same from text already in memory; `file_name` is used in diagnostics and `base_dir` for
// relative paths.
LoadResult load_string(std::string_view yaml, const std::string& file_name,
                       const EnvLookup& env = process_environment(),
                       const std::string& base_dir = ".");

}  // namespace edgegw::config
