// SPDX-License-Identifier: Apache-2.0
// The emulator's state and request handling, independent of the network: devices and their data,
// statistics, faults and the request budget. The server (server.h) turns HTTP requests into
// handle() calls and applies what the Response asks (a delay, a dropped connection).
//
// Device API (tagoio-api.md): POST/GET/DELETE /data, DELETE /data/{variable_or_id}, GET /info.
// Control API (no token): /_emulator/faults, /_emulator/stats, /_emulator/reset,
// /_emulator/devices. See README.md for both.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "edgegw/status.h"
#include "latency_histogram.h"
#include "seq_set.h"
#include "store.h"

namespace edgegw::cloud_emulator {

struct Request {
  std::string_view method;  // "POST"
  std::string_view target;  // "/data?qty=3"
  std::string_view body;
  // The first token header present: Device-Token, token (any case), Authorization.
  std::optional<std::string_view> token_header;
};

struct Response {
  unsigned status = 200;
  std::string body;
  std::string_view content_type = "application/json";
  std::optional<std::int64_t> retry_after_header;  // seconds
  std::chrono::milliseconds delay{0};              // answer this much later
  bool drop = false;                               // close the connection without answering
  bool truncate = false;  // send half the answer (its full Content-Length), then close
  std::chrono::milliseconds trickle{0};  // send the answer one byte per this interval (slowloris)
  std::string note;                      // for --log-requests: device, readings
};

struct EmulatorConfig {
  std::size_t keep = 10000;
  std::size_t max_body_bytes = 200'000;
  bool log_requests = false;
  std::vector<std::string> startup_faults;  // control-API fault objects (JSON text)
};

class Emulator {
 public:
  explicit Emulator(EmulatorConfig config);
  Emulator(const Emulator&) = delete;
  Emulator& operator=(const Emulator&) = delete;
  ~Emulator();

  // Adds a device, or another token to the device of that name. A token is one device's only.
  Status add_device(const std::string& name, const std::string& token);
  // Applies the start-up faults; an invalid one is an error (the process exits 2).
  Status apply_startup_faults();

  Response handle(const Request& request);

 private:
  struct Device;
  struct Fault;
  struct RejectRule;
  struct Faults;
  struct BudgetWindow;
  class BodyCache;

  Response handle_control(const Request& request, std::string_view path);
  Response handle_api(const Request& request, std::string_view path, std::string_view query);
  Response process_api(const Request& request, std::string_view path, std::string_view query,
                       std::string_view token, std::int64_t now);
  Response post_data(Device& device, std::string_view body, std::int64_t now);
  Response get_data(Device& device, std::string_view query, std::int64_t now);
  Response delete_data(Device& device, std::string_view path, std::string_view query,
                       std::int64_t now);
  Response info(const Device& device);

  // Under mu_:
  Device* find_device_locked(std::string_view token);
  Status add_device_locked(const std::string& name, const std::string& token);
  std::optional<Fault> take_fault_locked(std::string_view method, std::string_view path,
                                         std::string_view token);
  std::optional<std::int64_t> count_budget_locked(std::int64_t now);  // Retry-After when over
  Status apply_fault_locked(const boost::json::value& spec);
  void clear_faults_locked();
  boost::json::value faults_json_locked() const;
  boost::json::value stats_json_locked() const;
  boost::json::value device_json_locked(const Device& device) const;
  void reset_locked();
  Response fault_response_locked(const Fault& fault) const;

  const EmulatorConfig config_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Device>> devices_;
  std::unordered_map<std::string, Device*> by_token_;
  std::unordered_map<std::string, Device*> by_name_;
  std::unique_ptr<Faults> faults_;
  std::unique_ptr<BudgetWindow> budget_window_;
  std::uint64_t next_serial_ = 1;
  // Statistics of Device API requests.
  std::uint64_t requests_total_ = 0;
  std::uint64_t dropped_ = 0;
  std::map<unsigned, std::uint64_t> by_status_;
  std::uint64_t readings_accepted_ = 0;
  std::uint64_t max_body_bytes_ = 0;
  LatencyHistogram latency_;  // arrival minus `time`, of readings that carry one
};

}  // namespace edgegw::cloud_emulator
