// SPDX-License-Identifier: Apache-2.0
// Fuzzes the config loader: any bytes must give a Config or diagnostics, never a crash or a hang.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config/loader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view yaml(reinterpret_cast<const char*>(data), size);
  // Every ${NAME} is set, so that substituted values reach the typed readers.
  const edgegw::config::EnvLookup env = [](std::string_view) -> std::optional<std::string> {
    return std::string("1");
  };
  const auto result = edgegw::config::load_string(yaml, "fuzz.yaml", env, "/nonexistent");
  for (const auto& error : result.errors) (void)error.to_string();
  if (result.config) (void)result.config->secret_values();
  return 0;
}
