// SPDX-License-Identifier: Apache-2.0
#include "support/metrics_text.h"

#include <chrono>
#include <cstdlib>

#include "support/subprocess.h"

namespace edgegw::testing {

HttpClient metrics_client(const std::string& address) {
  HttpClientOptions options;
  options.keep_alive = false;
  return HttpClient("http://" + address, options);
}

std::string metrics_address(const Subprocess& gateway) {
  return logged_address(gateway, "metrics: http://", std::chrono::seconds(10));
}

std::map<std::string, double> parse_metrics(std::string_view text) {
  std::map<std::string, double> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty() || line.front() == '#') continue;
    const std::size_t space = line.rfind(' ');
    if (space == std::string_view::npos) continue;
    const std::string value(line.substr(space + 1));
    out[std::string(line.substr(0, space))] = std::strtod(value.c_str(), nullptr);
  }
  return out;
}

std::string promtool_check_metrics(const std::string& text) {
  TempDir dir;
  const std::string file = dir.write("metrics.txt", text);
  const RunResult r = run_command({"sh", "-c", "promtool check metrics < '" + file + "'"});
  if (r.exit_code != 0 && r.out.empty() && r.err.empty()) {
    return "promtool failed with exit code " + std::to_string(r.exit_code);
  }
  return r.out + r.err;
}

}  // namespace edgegw::testing
