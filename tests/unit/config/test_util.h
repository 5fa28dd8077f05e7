// SPDX-License-Identifier: Apache-2.0
// Helpers for the config tests: loading inline YAML with a fixed environment, temp folders.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/loader.h"

namespace edgegw::config::testing {

inline EnvLookup env_of(std::map<std::string, std::string, std::less<>> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

inline LoadResult load(std::string_view yaml, const EnvLookup& env = env_of({}),
                       const std::string& base_dir = ".") {
  return load_string(yaml, "test.yaml", env, base_dir);
}

// Every diagnostic as printed: "test.yaml:LINE:COL: message".
inline std::vector<std::string> errors_of(const LoadResult& result) {
  std::vector<std::string> out;
  for (const Diagnostic& d : result.errors) out.push_back(d.to_string());
  return out;
}

// The errors of a file that must not load.
inline std::vector<std::string> errors_of(std::string_view yaml, const EnvLookup& env = env_of({}),
                                          const std::string& base_dir = ".") {
  const LoadResult result = load(yaml, env, base_dir);
  EXPECT_FALSE(result.config.has_value());
  return errors_of(result);
}

// A folder of its own for one test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "edgegw-config-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }

  const std::filesystem::path& path() const { return path_; }

  // Writes a file with the given permission bits; returns its path.
  std::string write(const std::string& name, std::string_view content, mode_t mode = 0600) const {
    const std::filesystem::path file = path_ / name;
    std::filesystem::create_directories(file.parent_path());
    {
      std::ofstream out(file, std::ios::binary | std::ios::trunc);
      out << content;
    }
    ::chmod(file.c_str(), mode);
    return file.string();
  }

 private:
  std::filesystem::path path_;
};

}  // namespace edgegw::config::testing
