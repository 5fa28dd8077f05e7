// SPDX-License-Identifier: Apache-2.0
// The emulator's state and request handling, independent of the network: devices and their data,
// statistics, faults and the request budget. The server (server.h) turns HTTP requests into
// handle() calls and applies what the Response asks (a delay, a dropped connection).
//
// Device API (tagoio-api.md): POST/GET/DELETE /data, DELETE /data/{variable_or_id}, GET /info.
// Account API (account.h): POST/GET /device, GET/DELETE /device/{id}, POST /device/token,
// GET/DELETE /device/token/{...}, for an account token.
// Control API (no token): /_emulator/faults, /_emulator/stats, /_emulator/reset,
// /_emulator/devices, /_emulator/account. See README.md for all three.
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

#include "account.h"
#include "edgegw/status.h"
#include "latency_histogram.h"
#include "request.h"
#include "seq_set.h"
#include "store.h"

namespace edgegw::cloud_emulator {

struct EmulatorConfig {
  std::size_t keep = 10000;
  std::size_t max_body_bytes = 200'000;
  bool log_requests = false;
  std::vector<std::string> startup_faults;  // control-API fault objects (JSON text)
};

class Emulator : private DeviceRegistry {
 public:
  explicit Emulator(EmulatorConfig config);
  Emulator(const Emulator&) = delete;
  Emulator& operator=(const Emulator&) = delete;
  ~Emulator();

  // Adds a device, or another token to the device of that name. A token is one device's only.
  Status add_device(const std::string& name, const std::string& token);
  // Adds an account (profile) token for the Account API (--account-token).
  Status add_account_token(const std::string& token);
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
  // A device token: its device and what it may do.
  struct TokenEntry {
    Device* device = nullptr;
    TokenAccess access;
  };
  // Requests answered, per API.
  struct RequestCounts {
    std::uint64_t total = 0;
    std::uint64_t dropped = 0;
    std::map<unsigned, std::uint64_t> by_status;
    void count(const Response& r);
    boost::json::value json() const;
  };

  Response handle_control(const Request& request, std::string_view path, std::string_view query);
  Response handle_api(const Request& request, std::string_view path, std::string_view query);
  Response process_api(const Request& request, std::string_view path, std::string_view query,
                       std::string_view token, std::int64_t now);
  Response process_account(const Request& request, AccountRoute route, std::string_view path,
                           std::string_view query, const std::string& token, std::int64_t now);
  Response post_data(Device& device, std::string_view body, std::int64_t now);
  Response get_data(Device& device, std::string_view query, std::int64_t now);
  Response delete_data(Device& device, std::string_view path, std::string_view query,
                       std::int64_t now);
  Response info(const Device& device);

  // Under mu_:
  const TokenEntry* find_token_locked(std::string_view token);  // nullptr: unknown or denied
  Status add_device_locked(const std::string& name, const std::string& token);
  // An Account API request (`account`) only meets the faults that name its path or its token.
  std::optional<Fault> take_fault_locked(std::string_view method, std::string_view path,
                                         std::string_view token, bool account);
  std::optional<std::int64_t> count_budget_locked(std::int64_t now);  // Retry-After when over
  Status apply_fault_locked(const boost::json::value& spec);
  void clear_faults_locked();
  boost::json::value faults_json_locked() const;
  boost::json::value stats_json_locked() const;
  boost::json::value device_json_locked(const Device& device) const;
  boost::json::value devices_list_locked(std::string_view query) const;
  void reset_locked();
  Response fault_response_locked(const Fault& fault) const;

  // DeviceRegistry (the Account API's changes), under mu_:
  void create_device(const std::string& id, const std::string& name,
                     std::int64_t created_ms) override;
  void delete_device(const std::string& id) override;
  void add_token(const std::string& device_id, const std::string& token,
                 TokenAccess access) override;
  void remove_token(const std::string& token) override;
  bool is_device_token(const std::string& token) const override;
  std::int64_t last_input_ms(const std::string& device_id) const override;

  const EmulatorConfig config_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Device>> devices_;  // in creation order
  // Deleted devices: a request in flight may still point at one.
  std::vector<std::unique_ptr<Device>> retired_;
  std::unordered_map<std::string, TokenEntry> by_token_;
  std::unordered_map<std::string, Device*> by_name_;  // the first device of each name
  std::unordered_map<std::string, Device*> by_id_;
  std::unique_ptr<Account> account_;
  std::unique_ptr<Faults> faults_;
  std::unique_ptr<BudgetWindow> budget_window_;
  std::uint64_t next_serial_ = 1;
  RequestCounts device_requests_;   // Device API
  RequestCounts account_requests_;  // Account API
  // Statistics of Device API requests.
  std::uint64_t readings_accepted_ = 0;
  std::uint64_t max_body_bytes_ = 0;
  LatencyHistogram latency_;  // arrival minus `time`, of readings that carry one
};

}  // namespace edgegw::cloud_emulator
