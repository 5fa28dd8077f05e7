// SPDX-License-Identifier: Apache-2.0
#include "launcher.h"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <thread>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace edgegw::testing {

std::string cloud_emulator_binary() {
  const char* dir = std::getenv("EDGEGW_BINARY_DIR");
  if (dir == nullptr) throw std::runtime_error("EDGEGW_BINARY_DIR is not set (run under ctest)");
  return std::string(dir) + "/tests/cloud_emulator/edgegw-cloud-emulator";
}

CloudEmulator::CloudEmulator(std::vector<std::string> args, HttpClientOptions client)
    : client_options_(std::move(client)) {
  const bool has_listen = std::any_of(args.begin(), args.end(), [](const std::string& a) {
    return a == "--listen" || a.starts_with("--listen=");
  });
  tls_ = std::any_of(args.begin(), args.end(), [](const std::string& a) {
    return a == "--tls-cert" || a.starts_with("--tls-cert=");
  });
  std::vector<std::string> argv{cloud_emulator_binary()};
  if (!has_listen) {
    argv.emplace_back("--listen");
    argv.emplace_back("127.0.0.1:0");
  }
  argv.insert(argv.end(), args.begin(), args.end());
  process_ = std::make_unique<Subprocess>(std::move(argv));

  const std::string kPrefix = "listening on ";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (true) {
    const std::string out = process_->out();
    if (const auto nl = out.find('\n'); nl != std::string::npos) {
      const std::string line = out.substr(0, nl);
      if (!line.starts_with(kPrefix)) {
        throw std::runtime_error("cloud emulator: unexpected first line: " + line);
      }
      const std::string address = line.substr(kPrefix.size());
      const auto colon = address.rfind(':');
      host_ = address.substr(0, colon);
      port_ = std::stoi(address.substr(colon + 1));
      if (host_ == "0.0.0.0") host_ = "127.0.0.1";
      if (host_ == "[::]") host_ = "[::1]";
      break;
    }
    if (!process_->running() || std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error("cloud emulator did not start: " + process_->err());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  control_ = std::make_unique<HttpClient>(url(), client_options_);
}

CloudEmulator::~CloudEmulator() = default;

std::string CloudEmulator::url() const {
  return std::string(tls_ ? "https://" : "http://") + host_ + ":" + std::to_string(port_);
}

HttpClient CloudEmulator::client() const { return HttpClient(url(), client_options_); }

boost::json::value CloudEmulator::control(std::string_view method, std::string_view target,
                                          std::string_view body) {
  auto r = control_->request(method, target, body);
  if (r.status != 200) {
    throw std::runtime_error("cloud emulator " + std::string(method) + " " + std::string(target) +
                             ": " + (r.error.empty() ? std::to_string(r.status) : r.error) + " " +
                             r.body);
  }
  return boost::json::parse(r.body).at("result");
}

boost::json::value CloudEmulator::stats() { return control("GET", "/_emulator/stats"); }

boost::json::value CloudEmulator::set_fault(std::string_view fault_json) {
  return control("POST", "/_emulator/faults", fault_json);
}

void CloudEmulator::clear_faults() { control("DELETE", "/_emulator/faults"); }

void CloudEmulator::reset() { control("POST", "/_emulator/reset"); }

void CloudEmulator::add_device(const std::string& name, const std::string& token) {
  boost::json::object o{{"name", name}, {"token", token}};
  control("POST", "/_emulator/devices", boost::json::serialize(o));
}

boost::json::value CloudEmulator::devices(std::string_view query) {
  std::string target = "/_emulator/devices";
  if (!query.empty()) target += "?" + std::string(query);
  return control("GET", target);
}

boost::json::value CloudEmulator::set_account(std::string_view account_json) {
  return control("POST", "/_emulator/account", account_json);
}

std::int64_t CloudEmulator::device_stat(const std::string& name, const std::string& field) {
  const auto s = stats();
  const auto* device = s.at("devices").as_object().if_contains(name);
  if (device == nullptr) return 0;
  const auto* v = device->as_object().if_contains(field);
  if (v == nullptr || v->is_null()) return 0;
  return v->to_number<std::int64_t>();
}

}  // namespace edgegw::testing
