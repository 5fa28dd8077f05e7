// SPDX-License-Identifier: Apache-2.0
// The cloud's Account API for device provisioning (tagoio-api.md sections 1 and 7), answered to an
// account (profile) token as the cloud answers it:
//   POST /device                  create a device and its first token (201)
//   GET  /device                  list devices (filters, fields, page, amount, orderBy)
//   GET/DELETE /device/{id}       a device's object / remove it and its tokens
//   POST /device/token            create a token for a device (201)
//   GET  /device/token/{id}       a device's tokens, with their values
//   DELETE /device/token/{token}  remove a token (it stops working at once)
// It keeps the profile: the devices' descriptions and their tokens. The data side (emulator.h)
// learns of devices and tokens through DeviceRegistry. Not thread-safe: the emulator calls it
// under its lock.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>

#include <boost/json/value.hpp>

#include "edgegw/status.h"
#include "profile_devices.h"
#include "request.h"

namespace edgegw::cloud_emulator {

enum class Permission : std::uint8_t { kFull, kRead, kWrite };

// What a device token may do on the Device API.
struct TokenAccess {
  Permission permission = Permission::kFull;
  std::optional<std::int64_t> expire_ms;  // nullopt: never expires

  bool expired(std::int64_t now_ms) const { return expire_ms && now_ms >= *expire_ms; }
  bool may_read() const { return permission != Permission::kWrite; }  // GET /data
  bool may_write() const { return permission != Permission::kRead; }  // POST, DELETE /data
};

// The data side's devices and tokens, as the Account API changes them. Called under the emulator's
// lock.
class DeviceRegistry {
 public:
  virtual void create_device(const std::string& id, const std::string& name,
                             std::int64_t created_ms) = 0;
  // Removes the device and every token of it.
  virtual void delete_device(const std::string& id) = 0;
  virtual void add_token(const std::string& device_id, const std::string& token,
                         TokenAccess access) = 0;
  virtual void remove_token(const std::string& token) = 0;
  virtual bool is_device_token(const std::string& token) const = 0;
  virtual std::int64_t last_input_ms(const std::string& device_id) const = 0;  // 0: none

  virtual ~DeviceRegistry() = default;
};

enum class AccountRoute : std::uint8_t {
  kNone,  // not an Account API path
  kWrongMethod,
  kCreateDevice,
  kListDevices,
  kGetDevice,
  kDeleteDevice,
  kCreateToken,
  kListTokens,
  kDeleteToken,
};

class Account {
 public:
  Account(DeviceRegistry& registry, std::string profile_id);

  // Which Account API request this is. /device/params and /device/{id}/... are not.
  static AccountRoute route(std::string_view method, std::string_view path);

  // Account tokens. A token may not be both an account token and a device token.
  Status add_account_token(const std::string& token);
  bool is_account_token(const std::string& token) const { return tokens_.count(token) != 0; }
  // While revoked, every account token gets 401.
  void set_revoked(bool revoked) { revoked_ = revoked; }

  // A device made outside the Account API (--device, POST /_emulator/devices): mutable, untagged,
  // its bucket id its own id. Its tokens are full and never expire.
  void adopt_device(const std::string& id, const std::string& name, std::int64_t created_ms);
  void adopt_token(const std::string& device_id, const std::string& token);

  // Counts a request of this kind, whatever its outcome (statistics).
  void count(AccountRoute route);
  // Answers an Account API request (route not kNone or kWrongMethod) that carried `token`.
  Response handle(AccountRoute route, std::string_view path, std::string_view query,
                  std::string_view body, const std::string& token, std::int64_t now);

  // The device object (GET /info), or nullopt for an unknown id.
  std::optional<boost::json::object> device_object(const std::string& id) const;
  const ProfileDevice* find_device(const std::string& id) const;

  // /_emulator/account: GET shows {tokens, revoked}; POST takes {"revoked":BOOL} and
  // {"tokens":[TOKEN...]} (or "token") to add account tokens.
  Response control(std::string_view method, std::string_view body);
  // The "account" object of /_emulator/stats, without "requests" (the emulator adds it).
  boost::json::object stats_json() const;
  // Back to the start: statistics cleared, tokens no longer revoked. Devices are kept.
  void reset();

 private:
  struct DeviceToken {
    std::string token;
    std::string device_id;
    std::string name;
    TokenAccess access;
    std::optional<std::string> serie_number;
    std::int64_t created_ms = 0;
    std::uint64_t order = 0;
  };
  struct Counts {
    std::uint64_t creates = 0, lookups = 0, deletes = 0;
    std::uint64_t token_creates = 0, token_lists = 0, token_deletes = 0;
    std::uint64_t devices_created = 0, devices_deleted = 0;
    std::uint64_t tokens_created = 0, tokens_deleted = 0;
  };

  Response create_device(std::string_view body, std::int64_t now);
  Response list_devices(std::string_view query) const;
  Response delete_device(const std::string& id);
  Response create_token(std::string_view body, std::int64_t now);
  Response list_tokens(const std::string& device_id, std::string_view query) const;
  Response delete_token(const std::string& token);
  void add_token(DeviceToken token);
  std::string fresh_id(std::int64_t now) const;
  boost::json::object object_of(const ProfileDevice& device) const;

  DeviceRegistry& registry_;
  const std::string profile_id_;
  std::set<std::string> tokens_;  // account tokens
  bool revoked_ = false;
  std::unordered_map<std::string, ProfileDevice> devices_;      // by id
  std::unordered_map<std::string, DeviceToken> device_tokens_;  // by token
  std::uint64_t next_order_ = 1;
  Counts counts_;
};

}  // namespace edgegw::cloud_emulator
