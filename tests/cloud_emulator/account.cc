// SPDX-License-Identifier: Apache-2.0
#include "account.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>

#include "core/time.h"
#include "device_api/query.h"
#include "ids.h"

namespace edgegw::cloud_emulator {

namespace json = boost::json;

namespace {

constexpr std::string_view kDevicePrefix = "/device/";
constexpr std::string_view kTokenPrefix = "/device/token/";

// A field's problem, as the 400's message; nullopt when the field is fine.
using Problem = std::optional<std::string>;

bool is_hex_id(std::string_view s) {
  return s.size() == 24 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
         });
}

// The body as a JSON object, or the 400 to answer.
std::optional<Response> parse_object(std::string_view body, json::value& out) {
  json::error_code ec;
  out = json::parse(body, ec);
  if (ec) return error(400, "Invalid JSON body: " + ec.message());
  if (!out.is_object()) return error(400, "The body must be a JSON object");
  return std::nullopt;
}

Problem required_string(const json::object& o, std::string_view key, std::string& out) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return std::string(key) + " is required";
  if (!v->is_string()) return std::string(key) + " must be a string";
  if (v->get_string().empty()) return std::string(key) + " is required";
  out = std::string(v->get_string());
  return std::nullopt;
}

// Absent or null leaves `out` as it is.
Problem optional_string(const json::object& o, std::string_view key,
                        std::optional<std::string>& out) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (!v->is_string()) return std::string(key) + " must be a string";
  out = std::string(v->get_string());
  return std::nullopt;
}

Problem optional_bool(const json::object& o, std::string_view key, bool& out) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (!v->is_bool()) return std::string(key) + " must be true or false";
  out = v->get_bool();
  return std::nullopt;
}

Problem hex_id(const json::object& o, std::string_view key, std::string& out) {
  if (auto p = required_string(o, key, out)) return p;
  if (!is_hex_id(out)) {
    return std::string(key) + " must be a 24-character hex id, got \"" + out + "\"";
  }
  return std::nullopt;
}

Problem tags_of(const json::object& o, std::vector<Tag>& out) {
  const auto* v = o.if_contains("tags");
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (!v->is_array()) return std::string("tags must be an array of {\"key\",\"value\"}");
  const auto& array = v->get_array();
  for (std::size_t i = 0; i < array.size(); ++i) {
    const std::string where = "tags[" + std::to_string(i) + "]";
    const auto* tag = array[i].if_object();
    if (tag == nullptr) return where + " must be an object {\"key\",\"value\"}";
    Tag t;
    if (auto p = required_string(*tag, "key", t.key)) return where + "." + *p;
    const auto* value = tag->if_contains("value");
    if (value == nullptr || !value->is_string()) return where + ".value must be a string";
    t.value = std::string(value->get_string());
    out.push_back(std::move(t));
  }
  return std::nullopt;
}

Problem chunk_settings(const json::object& o, ProfileDevice& d) {
  std::string period;
  if (auto p = required_string(o, "chunk_period", period)) {
    return *p + " for an immutable device (day, week, month or quarter)";
  }
  if (period != "day" && period != "week" && period != "month" && period != "quarter") {
    return "chunk_period must be day, week, month or quarter, got \"" + period + "\"";
  }
  const auto* v = o.if_contains("chunk_retention");
  if (v == nullptr || v->is_null()) {
    return std::string("chunk_retention is required for an immutable device (0 to 36)");
  }
  std::optional<std::int64_t> n;
  if (v->is_int64()) n = v->get_int64();
  if (v->is_uint64() && v->get_uint64() <= 36) n = static_cast<std::int64_t>(v->get_uint64());
  if (v->is_double() && std::trunc(v->get_double()) == v->get_double() &&
      std::fabs(v->get_double()) < 1e6) {
    n = static_cast<std::int64_t>(v->get_double());
  }
  if (!n || *n < 0 || *n > 36) {
    return std::string("chunk_retention must be an integer from 0 to 36");
  }
  d.chunk_period = period;
  d.chunk_retention = *n;
  return std::nullopt;
}

std::string_view permission_name(Permission p) {
  switch (p) {
    case Permission::kRead:
      return "read";
    case Permission::kWrite:
      return "write";
    case Permission::kFull:
      break;
  }
  return "full";
}

// "never" (nullopt), an ISO date, or a duration from now ("3 hours", "1 month").
std::optional<std::optional<std::int64_t>> parse_expire_time(const std::string& text,
                                                             std::int64_t now) {
  if (text == "never") return std::optional<std::int64_t>();
  if (auto at = core::parse_iso8601(text)) return std::optional<std::int64_t>(*at);
  // parse_date reads "N unit" as N units before now.
  if (auto before = device_api::parse_date(text, now)) {
    return std::optional<std::int64_t>(now + (now - *before));
  }
  return std::nullopt;
}

json::value iso_or_null(const std::optional<std::int64_t>& ms) {
  return ms ? json::value(core::format_iso8601_ms(*ms)) : json::value(nullptr);
}

}  // namespace

Account::Account(DeviceRegistry& registry, std::string profile_id)
    : registry_(registry), profile_id_(std::move(profile_id)) {}

AccountRoute Account::route(std::string_view method, std::string_view path) {
  if (path == "/device") {
    if (method == "POST") return AccountRoute::kCreateDevice;
    if (method == "GET") return AccountRoute::kListDevices;
    return AccountRoute::kWrongMethod;
  }
  if (path == "/device/token") {
    return method == "POST" ? AccountRoute::kCreateToken : AccountRoute::kWrongMethod;
  }
  if (path.starts_with(kTokenPrefix)) {
    const std::string_view key = path.substr(kTokenPrefix.size());
    if (key.empty() || key.find('/') != std::string_view::npos) return AccountRoute::kNone;
    if (method == "GET") return AccountRoute::kListTokens;
    if (method == "DELETE") return AccountRoute::kDeleteToken;
    return AccountRoute::kWrongMethod;
  }
  if (path.starts_with(kDevicePrefix)) {
    const std::string_view id = path.substr(kDevicePrefix.size());
    // /device/params (a device-token route) and /device/{id}/data etc. are not emulated here.
    if (id.empty() || id == "params" || id.find('/') != std::string_view::npos) {
      return AccountRoute::kNone;
    }
    if (method == "GET") return AccountRoute::kGetDevice;
    if (method == "DELETE") return AccountRoute::kDeleteDevice;
    return AccountRoute::kWrongMethod;
  }
  return AccountRoute::kNone;
}

Status Account::add_account_token(const std::string& token) {
  if (token.empty()) return Status::invalid_argument("an account token may not be empty");
  if (registry_.is_device_token(token)) {
    return Status::already_exists("account token '" + token + "' is already a device token");
  }
  tokens_.insert(token);
  return Status::ok();
}

void Account::adopt_device(const std::string& id, const std::string& name,
                           std::int64_t created_ms) {
  if (devices_.count(id) != 0) return;
  ProfileDevice d;
  d.id = id;
  d.bucket_id = id;
  d.name = name;
  d.created_ms = d.updated_ms = created_ms;
  d.order = next_order_++;
  devices_.emplace(id, std::move(d));
}

void Account::adopt_token(const std::string& device_id, const std::string& token) {
  DeviceToken t;
  t.token = token;
  t.device_id = device_id;
  t.name = "Default";
  t.created_ms = core::now_ms();
  t.order = next_order_++;
  device_tokens_[token] = std::move(t);
}

void Account::count(AccountRoute route) {
  switch (route) {
    case AccountRoute::kCreateDevice:
      ++counts_.creates;
      break;
    case AccountRoute::kListDevices:
    case AccountRoute::kGetDevice:
      ++counts_.lookups;
      break;
    case AccountRoute::kDeleteDevice:
      ++counts_.deletes;
      break;
    case AccountRoute::kCreateToken:
      ++counts_.token_creates;
      break;
    case AccountRoute::kListTokens:
      ++counts_.token_lists;
      break;
    case AccountRoute::kDeleteToken:
      ++counts_.token_deletes;
      break;
    case AccountRoute::kNone:
    case AccountRoute::kWrongMethod:
      break;
  }
}

Response Account::handle(AccountRoute route, std::string_view path, std::string_view query,
                         std::string_view body, const std::string& token, std::int64_t now) {
  if (revoked_ || !is_account_token(token)) return error(401, "Authorization Denied");
  const std::string key = device_api::url_decode(path.substr(path.rfind('/') + 1));
  switch (route) {
    case AccountRoute::kCreateDevice:
      return create_device(body, now);
    case AccountRoute::kListDevices:
      return list_devices(query);
    case AccountRoute::kGetDevice: {
      const ProfileDevice* d = find_device(key);
      if (d == nullptr) return error(404, "Device not found");
      return ok(object_of(*d));
    }
    case AccountRoute::kDeleteDevice:
      return delete_device(key);
    case AccountRoute::kCreateToken:
      return create_token(body, now);
    case AccountRoute::kListTokens:
      return list_tokens(key, query);
    case AccountRoute::kDeleteToken:
      return delete_token(key);
    case AccountRoute::kNone:
    case AccountRoute::kWrongMethod:
      break;
  }
  return error(405, "Method Not Allowed");
}

Response Account::create_device(std::string_view body, std::int64_t now) {
  json::value doc;
  if (auto bad = parse_object(body, doc)) return *bad;
  const json::object& o = doc.get_object();
  ProfileDevice d;
  std::string type;
  Problem p = required_string(o, "name", d.name);
  if (!p) p = required_string(o, "type", type);
  if (!p && type != "mutable" && type != "immutable") {
    p = "type must be \"mutable\" or \"immutable\", got \"" + type + "\"";
  }
  if (!p && type == "immutable") p = chunk_settings(o, d);
  if (!p) p = hex_id(o, "connector", d.connector);
  if (!p) p = hex_id(o, "network", d.network);
  if (!p) p = tags_of(o, d.tags);
  if (!p) p = optional_string(o, "serie_number", d.serie_number);
  if (!p) p = optional_string(o, "description", d.description);
  if (!p) p = optional_bool(o, "active", d.active);
  if (!p) p = optional_bool(o, "visible", d.visible);
  if (p) return error(400, *p);

  d.type = type;
  d.id = fresh_id(now);
  d.bucket_id = fresh_id(now);
  d.created_ms = d.updated_ms = now;
  d.provisioned = true;
  d.order = next_order_++;
  registry_.create_device(d.id, d.name, now);
  DeviceToken t;
  t.token = uuid_v4();
  t.device_id = d.id;
  t.name = "Default";
  t.created_ms = now;
  json::object result{{"device_id", d.id}, {"bucket_id", d.bucket_id}, {"token", t.token}};
  devices_.emplace(d.id, std::move(d));
  add_token(std::move(t));
  ++counts_.devices_created;
  return ok(std::move(result), 201);
}

Response Account::list_devices(std::string_view query) const {
  auto q = parse_device_list_query(query);
  if (!q) return error(400, q.status().message());
  std::vector<const ProfileDevice*> hits;
  for (const auto& [id, d] : devices_) {
    if (device_matches(*q, d)) hits.push_back(&d);
  }
  json::array out;
  for (const ProfileDevice* d : order_and_page(std::move(hits), *q)) {
    json::object full = object_of(*d);
    if (q->fields.empty()) {
      out.push_back(std::move(full));
      continue;
    }
    json::object some;
    some["id"] = d->id;
    for (const auto& field : q->fields) {
      if (const auto* v = full.if_contains(field)) some[field] = *v;
    }
    out.push_back(std::move(some));
  }
  return ok(std::move(out));
}

Response Account::delete_device(const std::string& id) {
  if (devices_.count(id) == 0) return error(404, "Device not found");
  for (auto it = device_tokens_.begin(); it != device_tokens_.end();) {
    it = it->second.device_id == id ? device_tokens_.erase(it) : std::next(it);
  }
  registry_.delete_device(id);  // and its tokens on the data side
  devices_.erase(id);
  ++counts_.devices_deleted;
  return ok(json::value("Successfully Removed"));
}

Response Account::create_token(std::string_view body, std::int64_t now) {
  json::value doc;
  if (auto bad = parse_object(body, doc)) return *bad;
  const json::object& o = doc.get_object();
  DeviceToken t;
  std::optional<std::string> permission, expire_time;
  Problem p = required_string(o, "device", t.device_id);
  if (!p) p = required_string(o, "name", t.name);
  if (!p) p = optional_string(o, "permission", permission);
  if (!p && permission && *permission != "full" && *permission != "read" &&
      *permission != "write") {
    p = "permission must be full, read or write, got \"" + *permission + "\"";
  }
  if (!p) p = optional_string(o, "expire_time", expire_time);
  if (!p) p = optional_string(o, "serie_number", t.serie_number);
  if (p) return error(400, *p);
  if (expire_time) {
    const auto expire = parse_expire_time(*expire_time, now);
    if (!expire) {
      return error(400,
                   "expire_time must be \"never\", a date or a duration such as "
                   "\"3 hours\", got \"" +
                       *expire_time + "\"");
    }
    t.access.expire_ms = *expire;
  }
  if (devices_.count(t.device_id) == 0) return error(404, "Device not found");
  if (permission == "read") t.access.permission = Permission::kRead;
  if (permission == "write") t.access.permission = Permission::kWrite;
  t.token = uuid_v4();
  t.created_ms = now;
  json::object result{{"token", t.token},
                      {"permission", permission_name(t.access.permission)},
                      {"expire_date", iso_or_null(t.access.expire_ms)}};
  add_token(std::move(t));
  return ok(std::move(result), 201);
}

Response Account::list_tokens(const std::string& device_id, std::string_view query) const {
  if (devices_.count(device_id) == 0) return error(404, "Device not found");
  auto q = parse_device_list_query(query);  // page and amount
  if (!q) return error(400, q.status().message());
  std::vector<const DeviceToken*> tokens;
  for (const auto& [token, t] : device_tokens_) {
    if (t.device_id == device_id) tokens.push_back(&t);
  }
  std::sort(tokens.begin(), tokens.end(),
            [](const DeviceToken* a, const DeviceToken* b) { return a->order < b->order; });
  const std::size_t pages_before = q->page - 1;
  const std::size_t begin = pages_before > tokens.size()
                                ? tokens.size()
                                : std::min(tokens.size(), pages_before * q->amount);
  const std::size_t end = std::min(tokens.size(), begin + q->amount);
  json::array out;
  for (std::size_t i = begin; i < end; ++i) {
    const DeviceToken& t = *tokens[i];
    json::object o;
    o["token"] = t.token;
    o["name"] = t.name;
    o["permission"] = permission_name(t.access.permission);
    o["serie_number"] = t.serie_number ? json::value(*t.serie_number) : json::value(nullptr);
    o["last_authorization"] = nullptr;
    o["expire_time"] = iso_or_null(t.access.expire_ms);
    o["created_at"] = core::format_iso8601_ms(t.created_ms);
    out.push_back(std::move(o));
  }
  return ok(std::move(out));
}

Response Account::delete_token(const std::string& token) {
  auto it = device_tokens_.find(token);
  if (it == device_tokens_.end()) return error(404, "Token not found");
  registry_.remove_token(token);
  device_tokens_.erase(it);
  ++counts_.tokens_deleted;
  return ok(json::value("Token Successfully Removed"));
}

void Account::add_token(DeviceToken token) {
  token.order = next_order_++;
  registry_.add_token(token.device_id, token.token, token.access);
  ++counts_.tokens_created;
  device_tokens_[token.token] = std::move(token);
}

std::string Account::fresh_id(std::int64_t now) const {
  std::string id;
  do {
    id = random_object_id(now);
  } while (devices_.count(id) != 0);
  return id;
}

const ProfileDevice* Account::find_device(const std::string& id) const {
  auto it = devices_.find(id);
  return it == devices_.end() ? nullptr : &it->second;
}

json::object Account::object_of(const ProfileDevice& d) const {
  return cloud_emulator::device_object(d, profile_id_, registry_.last_input_ms(d.id));
}

std::optional<json::object> Account::device_object(const std::string& id) const {
  const ProfileDevice* d = find_device(id);
  if (d == nullptr) return std::nullopt;
  return object_of(*d);
}

Response Account::control(std::string_view method, std::string_view body) {
  auto state = [&] {
    json::array tokens;
    for (const auto& t : tokens_) tokens.emplace_back(t);
    return json::object{{"tokens", std::move(tokens)}, {"revoked", revoked_}};
  };
  if (method == "GET") return ok(state());
  if (method != "POST") return error(405, "Method Not Allowed");
  json::value doc;
  if (auto bad = parse_object(body.empty() ? std::string_view("{}") : body, doc)) return *bad;
  const json::object& o = doc.get_object();
  std::optional<bool> revoked;
  std::vector<std::string> add;
  for (const auto& [key, v] : o) {
    if (key == "revoked") {
      if (!v.is_bool()) return error(400, "revoked must be true or false");
      revoked = v.get_bool();
    } else if (key == "token" || key == "tokens") {
      const json::array one{v};
      for (const auto& t : v.is_array() ? v.get_array() : one) {
        if (!t.is_string() || t.get_string().empty()) {
          return error(400, std::string(key) + " must be a token or a list of them");
        }
        add.emplace_back(t.get_string());
      }
    } else {
      return error(400, "unknown key \"" + std::string(key) + "\" (known: revoked, tokens)");
    }
  }
  for (const auto& t : add) {
    if (registry_.is_device_token(t)) {
      return error(400, "account token '" + t + "' is already a device token");
    }
  }
  for (const auto& t : add) tokens_.insert(t);
  if (revoked) revoked_ = *revoked;
  return ok(state());
}

json::object Account::stats_json() const {
  std::uint64_t provisioned = 0;
  for (const auto& [id, d] : devices_) provisioned += d.provisioned ? 1 : 0;
  json::object o;
  o["tokens"] = tokens_.size();
  o["revoked"] = revoked_;
  o["creates"] = counts_.creates;
  o["lookups"] = counts_.lookups;
  o["deletes"] = counts_.deletes;
  o["token_creates"] = counts_.token_creates;
  o["token_lists"] = counts_.token_lists;
  o["token_deletes"] = counts_.token_deletes;
  o["devices"] = provisioned;
  o["devices_created"] = counts_.devices_created;
  o["devices_deleted"] = counts_.devices_deleted;
  o["tokens_created"] = counts_.tokens_created;
  o["tokens_deleted"] = counts_.tokens_deleted;
  return o;
}

void Account::reset() {
  counts_ = Counts{};
  revoked_ = false;
}

}  // namespace edgegw::cloud_emulator
