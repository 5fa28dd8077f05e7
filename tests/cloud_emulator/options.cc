// SPDX-License-Identifier: Apache-2.0
#include "options.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string_view>

#include "core/cpus.h"

namespace edgegw::cloud_emulator {

const char* const kUsage =
    "usage: edgegw-cloud-emulator [options]\n"
    "A local stand-in for the cloud's Device API (POST/GET/DELETE /data, GET /info) and Account\n"
    "API (/device, /device/token), with fault injection and statistics under /_emulator/\n"
    "(see tests/cloud_emulator/README.md).\n"
    "\n"
    "  --listen HOST:PORT       address to listen on [127.0.0.1:0]; port 0 picks a free port.\n"
    "                           The first stdout line is always 'listening on HOST:PORT'.\n"
    "  --threads N              I/O threads [number of cores]\n"
    "  --devices FILE           devices, one 'TOKEN NAME' per line, '#' comments\n"
    "  --device NAME=TOKEN      one device (repeatable)\n"
    "  --account-token TOKEN    an account (profile) token for the Account API (repeatable);\n"
    "                           without one, the Account API answers 401\n"
    "  --keep N                 readings kept per device for GET /data [10000]; counters are "
    "exact\n"
    "  --max-body BYTES         request body limit, 413 beyond [200000]\n"
    "  --tls-cert FILE          serve HTTPS with this certificate chain (PEM) ...\n"
    "  --tls-key FILE           ... and this private key (PEM); plain HTTP is still accepted\n"
    "  --log-requests           one stderr line per request\n"
    "Faults set at start-up (kept by DELETE /_emulator/faults and POST /_emulator/reset):\n"
    "  --fault JSON             any control-API fault object, e.g. '{\"status\":503,\"count\":2}'\n"
    "  --budget N[/WINDOW_MS]   at most N POST /data per window [60000 ms], minute-aligned; 429 "
    "beyond\n"
    "  --retry-after-header     429s also carry a Retry-After header\n"
    "  --delay-ms MS            answer every Device API request MS late\n"
    "  --token-denied TOKEN     401 for this token (repeatable)\n"
    "  --reject-variable NAME   400 for any POST holding a reading of this variable (repeatable)\n"
    "  -h, --help               this text\n";

namespace {

template <typename T>
bool parse_number(std::string_view text, T& out) {
  const auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end && !text.empty();
}

std::string json_quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

Status parse_listen(std::string_view text, Options& options) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return Status::invalid_argument("--listen: expected HOST:PORT, got '" + std::string(text) +
                                    "'");
  }
  std::string host(text.substr(0, colon));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) host = "0.0.0.0";
  unsigned port = 0;
  if (!parse_number(text.substr(colon + 1), port) || port > 65535) {
    return Status::invalid_argument("--listen: bad port in '" + std::string(text) + "'");
  }
  options.host = std::move(host);
  options.port = static_cast<std::uint16_t>(port);
  return Status::ok();
}

}  // namespace

Result<std::vector<DeviceSpec>> parse_devices_file(const std::string& text,
                                                   const std::string& path) {
  std::vector<DeviceSpec> out;
  std::istringstream in(text);
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (const auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos) continue;
    const auto token_end = line.find_first_of(" \t", first);
    if (token_end == std::string::npos) {
      return Status::invalid_argument(path + ":" + std::to_string(number) +
                                      ": expected 'TOKEN NAME'");
    }
    const auto name_begin = line.find_first_not_of(" \t", token_end);
    const auto name_end = line.find_last_not_of(" \t\r");
    if (name_begin == std::string::npos) {
      return Status::invalid_argument(path + ":" + std::to_string(number) +
                                      ": expected 'TOKEN NAME'");
    }
    out.push_back({line.substr(name_begin, name_end + 1 - name_begin),
                   line.substr(first, token_end - first)});
  }
  return out;
}

Result<Options> parse_options(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      options.help = true;
      return options;
    }
    if (arg == "--log-requests") {
      options.log_requests = true;
      continue;
    }
    if (arg == "--retry-after-header") {
      options.startup_faults.emplace_back(R"({"retry_after_header":true})");
      continue;
    }
    // Every other flag takes a value, as "--flag VALUE" or "--flag=VALUE".
    static constexpr std::string_view kValueFlags[] = {
        "--listen",   "--threads",      "--device",          "--devices",      "--keep",
        "--max-body", "--tls-cert",     "--tls-key",         "--fault",        "--budget",
        "--delay-ms", "--token-denied", "--reject-variable", "--account-token"};
    std::string_view flag = arg;
    std::string value;
    const auto arg_eq = arg.find('=');
    if (arg.starts_with("--") && arg_eq != std::string_view::npos) flag = arg.substr(0, arg_eq);
    if (std::find(std::begin(kValueFlags), std::end(kValueFlags), flag) == std::end(kValueFlags)) {
      return Status::invalid_argument("unknown option '" + std::string(flag) + "' (see --help)");
    }
    if (flag.size() != arg.size()) {
      value = std::string(arg.substr(arg_eq + 1));
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return Status::invalid_argument(std::string(arg) + ": missing value (see --help)");
    }
    if (flag == "--listen") {
      if (auto s = parse_listen(value, options); !s) return s;
    } else if (flag == "--threads") {
      if (!parse_number(value, options.threads) || options.threads == 0 || options.threads > 256) {
        return Status::invalid_argument("--threads: expected 1..256, got '" + value + "'");
      }
    } else if (flag == "--device") {
      const auto eq = value.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == value.size()) {
        return Status::invalid_argument("--device: expected NAME=TOKEN, got '" + value + "'");
      }
      options.devices.push_back({value.substr(0, eq), value.substr(eq + 1)});
    } else if (flag == "--account-token") {
      if (value.empty()) return Status::invalid_argument("--account-token: empty token");
      options.account_tokens.push_back(value);
    } else if (flag == "--devices") {
      std::ifstream in(value);
      if (!in) return Status::not_found("--devices: cannot read '" + value + "'");
      std::ostringstream text;
      text << in.rdbuf();
      auto devices = parse_devices_file(text.str(), value);
      if (!devices) return std::move(devices).take_status();
      for (auto& d : *devices) options.devices.push_back(std::move(d));
    } else if (flag == "--keep") {
      if (!parse_number(value, options.keep)) {
        return Status::invalid_argument("--keep: expected a count, got '" + value + "'");
      }
    } else if (flag == "--max-body") {
      if (!parse_number(value, options.max_body_bytes) || options.max_body_bytes == 0) {
        return Status::invalid_argument("--max-body: expected bytes, got '" + value + "'");
      }
    } else if (flag == "--tls-cert") {
      options.tls_cert = value;
    } else if (flag == "--tls-key") {
      options.tls_key = value;
    } else if (flag == "--fault") {
      options.startup_faults.push_back(value);
    } else if (flag == "--budget") {
      std::string_view v = value;
      std::uint64_t requests = 0;
      std::uint64_t window_ms = 60000;
      const auto slash = v.find('/');
      if (!parse_number(v.substr(0, slash), requests) ||
          (slash != std::string_view::npos &&
           (!parse_number(v.substr(slash + 1), window_ms) || window_ms == 0))) {
        return Status::invalid_argument("--budget: expected N or N/WINDOW_MS, got '" + value + "'");
      }
      options.startup_faults.push_back(R"({"budget":{"requests":)" + std::to_string(requests) +
                                       R"(,"window_ms":)" + std::to_string(window_ms) + "}}");
    } else if (flag == "--delay-ms") {
      std::uint64_t ms = 0;
      if (!parse_number(value, ms)) {
        return Status::invalid_argument("--delay-ms: expected milliseconds, got '" + value + "'");
      }
      options.startup_faults.push_back(R"({"delay_ms":)" + std::to_string(ms) + "}");
    } else if (flag == "--token-denied") {
      options.startup_faults.push_back(R"({"token_denied":)" + json_quote(value) + "}");
    } else if (flag == "--reject-variable") {
      options.startup_faults.push_back(R"({"reject":{"variable":)" + json_quote(value) + "}}");
    }
  }
  if (options.tls_cert.empty() != options.tls_key.empty()) {
    return Status::invalid_argument("--tls-cert and --tls-key go together");
  }
  if (options.threads == 0) options.threads = core::usable_cpu_count();
  return options;
}

}  // namespace edgegw::cloud_emulator
