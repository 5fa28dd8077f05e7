// SPDX-License-Identifier: Apache-2.0
// The host's callbacks as a recorder, for running a source in the test's own process: every
// append (its messages copied; typed readings written as the tago_json array the host would
// forward, so that a test reads both alike), every log line and every set_up. An append can be
// made to fail as a full buffer does.
#pragma once

#include <charconv>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "edgegw/plugin_sdk.h"
#include "support/subprocess.h"

namespace edgegw::plugins::modbus::testing {

struct Message {
  std::string device;
  std::string payload;
  std::int64_t time_ms = 0;
};

class FakeHost {
 public:
  FakeHost() {
    host_.struct_size = sizeof host_;
    host_.abi_version = EDGEGW_PLUGIN_ABI_VERSION;
    host_.host_ptr = reinterpret_cast<edgegw_host_ctx*>(this);
    host_.append = &FakeHost::on_append;
    host_.append_readings = &FakeHost::on_append_readings;
    host_.log = &FakeHost::on_log;
    host_.set_up = &FakeHost::on_set_up;
  }
  FakeHost(const FakeHost&) = delete;
  FakeHost& operator=(const FakeHost&) = delete;

  sdk::Host host() const { return sdk::Host(&host_); }

  std::vector<std::vector<Message>> appends() const {
    std::lock_guard lock(mu_);
    return appends_;
  }
  // Every message of every append, in order.
  std::vector<Message> messages() const {
    std::lock_guard lock(mu_);
    std::vector<Message> all;
    for (const auto& a : appends_) all.insert(all.end(), a.begin(), a.end());
    return all;
  }
  std::string log() const {
    std::lock_guard lock(mu_);
    return log_;
  }
  std::vector<int> ups() const {
    std::lock_guard lock(mu_);
    return ups_;
  }
  int up() const {
    std::lock_guard lock(mu_);
    return ups_.empty() ? -1 : ups_.back();
  }
  void set_full(bool full) {
    std::lock_guard lock(mu_);
    full_ = full;
  }
  void clear() {
    std::lock_guard lock(mu_);
    appends_.clear();
  }

  // Waits until `done` (the test support's wait_until); its last answer.
  static bool wait(const std::function<bool()>& done,
                   std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    return edgegw::testing::wait_until(done, timeout);
  }
  // The times of the messages of each append a full buffer refused.
  std::vector<std::vector<std::int64_t>> refused() const {
    std::lock_guard lock(mu_);
    return refused_;
  }

 private:
  static FakeHost& self(edgegw_host_ctx* p) { return *reinterpret_cast<FakeHost*>(p); }

  // The modbus source hands typed readings (append_readings): a raw append is a regression.
  static std::int32_t on_append(edgegw_host_ctx*, const edgegw_raw_message*, std::size_t,
                                char* error, std::size_t error_size) {
    sdk::write_error(error, error_size, "the modbus source appends typed readings (test)");
    return EDGEGW_ERR_UNSUPPORTED;
  }

  // A typed reading as its tago_json object: {"variable", "value"[, "unit"]}.
  static boost::json::object object_of(const edgegw_reading& r) {
    boost::json::object o;
    o["variable"] = sdk::view(r.variable);
    switch (r.type) {
      case EDGEGW_VALUE_NUMBER:
        o["value"] = r.number;
        break;
      case EDGEGW_VALUE_FLOAT32: {  // as the host writes it: the float's shortest text
        char buf[24];
        const auto end = std::to_chars(buf, buf + sizeof buf, static_cast<float>(r.number)).ptr;
        o["value"] = boost::json::parse(std::string_view(buf, static_cast<std::size_t>(end - buf)));
        break;
      }
      case EDGEGW_VALUE_INTEGER:
        o["value"] = r.integer;
        break;
      case EDGEGW_VALUE_TEXT:
        o["value"] = sdk::view(r.text);
        break;
      case EDGEGW_VALUE_BOOL:
        o["value"] = r.integer != 0;
        break;
      default:
        o["value"] = "unknown type " + std::to_string(r.type);
    }
    if (r.unit.len > 0) o["unit"] = sdk::view(r.unit);
    return o;
  }

  static std::int32_t on_append_readings(edgegw_host_ctx* p, const edgegw_reading_batch* batches,
                                         std::size_t count, char* error, std::size_t error_size) {
    FakeHost& h = self(p);
    std::lock_guard lock(h.mu_);
    if (h.full_) {
      std::vector<std::int64_t>& times = h.refused_.emplace_back();
      for (std::size_t i = 0; i < count; ++i) times.push_back(batches[i].time_ms);
      sdk::write_error(error, error_size, "the buffer is full (test)");
      return EDGEGW_ERR_FULL;
    }
    std::vector<Message>& a = h.appends_.emplace_back();
    for (std::size_t i = 0; i < count; ++i) {
      boost::json::array items;
      for (std::size_t k = 0; k < batches[i].count; ++k) {
        items.push_back(object_of(batches[i].readings[k]));
      }
      a.push_back({std::string(sdk::view(batches[i].device_key)), boost::json::serialize(items),
                   batches[i].time_ms});
    }
    return EDGEGW_OK;
  }
  static void on_log(edgegw_host_ctx* p, std::int32_t level, const char* message, std::size_t len) {
    FakeHost& h = self(p);
    static constexpr const char* kLevels[] = {"trace", "debug", "info", "warn", "error"};
    std::lock_guard lock(h.mu_);
    h.log_ += std::string(kLevels[level < 0 || level > 4 ? 4 : level]) + ": " +
              std::string(message, len) + "\n";
  }
  static void on_set_up(edgegw_host_ctx* p, std::int32_t up) {
    FakeHost& h = self(p);
    std::lock_guard lock(h.mu_);
    h.ups_.push_back(up);
  }

  edgegw_host host_{};
  mutable std::mutex mu_;
  std::vector<std::vector<Message>> appends_;
  std::string log_;
  std::vector<int> ups_;
  bool full_ = false;
  std::vector<std::vector<std::int64_t>> refused_;
};

}  // namespace edgegw::plugins::modbus::testing
