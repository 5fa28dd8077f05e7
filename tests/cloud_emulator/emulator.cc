// SPDX-License-Identifier: Apache-2.0
#include "emulator.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/parser.hpp>
#include <boost/json/serialize.hpp>

#include "body_scan.h"
#include "core/time.h"
#include "device_api/query.h"

namespace edgegw::cloud_emulator {

namespace json = boost::json;
using device_api::parse_data_filter;
using device_api::QueryParams;
using device_api::url_decode;

struct Emulator::Device {
  std::string name;
  std::string id;
  std::vector<std::string> tokens;
  std::int64_t created_ms = 0;
  std::int64_t last_input_ms = 0;
  std::deque<Record> records;
  // Statistics (exact, whatever --keep is).
  std::uint64_t requests = 0;           // POST /data with this device's token, any outcome
  std::uint64_t accepted_requests = 0;  // ... answered 200
  std::uint64_t readings = 0;           // readings accepted
  std::uint64_t duplicates = 0;         // metadata.seq seen before
  std::uint64_t order_violations = 0;   // a new metadata.seq below the highest seen
  std::optional<std::int64_t> last_seq;
  SeqSet seqs;

  // Everything but the identity: name and id never change (other threads read them without the
  // lock); tokens change under the lock (the Account API adds and removes them).
  void clear_data() {
    last_input_ms = 0;
    records.clear();
    requests = accepted_requests = readings = duplicates = order_violations = 0;
    last_seq.reset();
    seqs.clear();
  }
};

struct Emulator::Fault {
  unsigned status = 0;  // 0: answer normally
  bool drop = false;
  std::int64_t delay_ms = 0;
  std::int64_t remaining = -1;  // requests left; -1: unlimited
  std::optional<std::chrono::steady_clock::time_point> until;
  bool after_processing = false;  // process the request (store its data), then misbehave
  std::optional<std::int64_t> retry_after;
  std::optional<std::string> message;
  std::optional<std::string> body;
  std::int64_t body_bytes = -1;  // >= 0: a body of this many bytes ("xxx...", text/plain)
  bool truncate = false;
  std::int64_t trickle_ms = 0;
  std::string token;   // only requests with this token ("" any)
  std::string method;  // only this method ("" any)
  std::string path;    // only this path ("" any)
  json::object spec;   // as given, for GET /_emulator/faults
};

struct Emulator::RejectRule {
  json::object match;  // field -> value, all must be equal
  unsigned status = 400;
  std::int64_t remaining = -1;
  std::optional<std::string> message;
};

struct Emulator::Faults {
  std::deque<Fault> queue;
  std::vector<RejectRule> rejects;
  std::set<std::string> denied_tokens;
  std::optional<std::uint64_t> budget_requests;
  std::int64_t budget_window_ms = 60'000;
  bool retry_after_header = false;
};

// Requests per window, counted whether or not a budget is set (then per minute).
struct Emulator::BudgetWindow {
  std::int64_t window_ms = 60'000;
  std::int64_t current = -1;  // window index: now / window_ms (minute-aligned for 60000)
  std::uint64_t requests = 0;
  std::uint64_t admitted = 0;
  std::uint64_t windows = 0;
  std::uint64_t max_requests = 0;
  std::uint64_t max_admitted = 0;
  std::uint64_t throttled = 0;
};

namespace {

constexpr std::string_view kControlPrefix = "/_emulator";

std::string_view default_message(unsigned status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 401:
      return "Authorization Denied";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 408:
      return "Request Timeout";
    case 413:
      return "Request Entity Too Large";
    case 422:
      return "Unprocessable Entity";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Error";
  }
}

std::string too_many_requests(std::int64_t seconds) {
  return "Too many requests (Retry-After: " + std::to_string(seconds) + ")";
}

std::string hex_hash(std::string_view text, std::uint64_t seed) {
  std::uint64_t h = 1469598103934665603ULL ^ seed;
  for (char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 15; i >= 0; --i) out += kHex[(h >> (4 * i)) & 0xF];
  return out;
}

// The device id: 24 hex, stable for a name.
std::string device_id_for(std::string_view name) {
  return hex_hash(name, 0).substr(0, 8) + hex_hash(name, 0x9e3779b97f4a7c15ULL);
}

std::pair<std::string_view, std::string_view> split_target(std::string_view target) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return {target, {}};
  return {target.substr(0, q), target.substr(q + 1)};
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool matches_rule(const json::object& match, const json::object& item) {
  for (const auto& [key, wanted] : match) {
    const auto* have = item.if_contains(key);
    if (have == nullptr) return false;
    if (key == "variable" && wanted.is_string() && have->is_string()) {
      if (lower(wanted.get_string()) != lower(have->get_string())) return false;
    } else if (*have != wanted) {
      return false;
    }
  }
  return true;
}

std::string describe_match(const json::object& match) {
  std::string out;
  for (const auto& [key, value] : match) {
    if (!out.empty()) out += ", ";
    out += std::string(key) + " " + json_text(value);
  }
  return out;
}

// An integer field of a control-API object: nullopt when absent, error text when wrong.
Status get_int(const json::object& o, std::string_view key, std::int64_t min, std::int64_t max,
               std::optional<std::int64_t>& out) {
  const auto* v = o.if_contains(key);
  if (v == nullptr) return Status::ok();
  std::int64_t n = 0;
  if (v->is_int64()) {
    n = v->get_int64();
  } else if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(max)) {
    n = static_cast<std::int64_t>(v->get_uint64());
  } else if (v->is_double() && std::trunc(v->get_double()) == v->get_double()) {
    n = static_cast<std::int64_t>(v->get_double());
  } else {
    return Status::invalid_argument(std::string(key) + " must be an integer");
  }
  if (n < min || n > max) {
    return Status::invalid_argument(std::string(key) + " must be in " + std::to_string(min) + ".." +
                                    std::to_string(max));
  }
  out = n;
  return Status::ok();
}

Status get_string(const json::object& o, std::string_view key, std::optional<std::string>& out) {
  const auto* v = o.if_contains(key);
  if (v == nullptr) return Status::ok();
  if (!v->is_string()) return Status::invalid_argument(std::string(key) + " must be a string");
  out = std::string(v->get_string());
  return Status::ok();
}

Status get_bool(const json::object& o, std::string_view key, bool& out) {
  const auto* v = o.if_contains(key);
  if (v == nullptr) return Status::ok();
  if (!v->is_bool()) return Status::invalid_argument(std::string(key) + " must be true or false");
  out = v->get_bool();
  return Status::ok();
}

}  // namespace

Emulator::Emulator(EmulatorConfig config)
    : config_(std::move(config)),
      account_(
          std::make_unique<Account>(static_cast<DeviceRegistry&>(*this), device_id_for("profile"))),
      faults_(std::make_unique<Faults>()),
      budget_window_(std::make_unique<BudgetWindow>()) {}

Emulator::~Emulator() = default;

Status Emulator::add_device(const std::string& name, const std::string& token) {
  std::lock_guard lock(mu_);
  return add_device_locked(name, token);
}

Status Emulator::add_device_locked(const std::string& name, const std::string& token) {
  if (name.empty() || token.empty()) {
    return Status::invalid_argument("a device needs a name and a token");
  }
  if (auto it = by_token_.find(token); it != by_token_.end()) {
    if (it->second.device->name == name) return Status::ok();
    return Status::already_exists("token already belongs to device '" + it->second.device->name +
                                  "'");
  }
  if (account_->is_account_token(token)) {
    return Status::already_exists("token is an account token");
  }
  Device* device = nullptr;
  if (auto it = by_name_.find(name); it != by_name_.end()) {
    device = it->second;
  } else {
    std::string id = device_id_for(name);
    if (by_id_.count(id) != 0) {
      return Status::already_exists("device id " + id + " of '" + name + "' is taken");
    }
    const std::int64_t now = core::now_ms();
    create_device(id, name, now);
    device = by_id_.at(id);
    account_->adopt_device(id, name, now);
  }
  device->tokens.push_back(token);
  by_token_[token] = TokenEntry{device, TokenAccess{}};
  account_->adopt_token(device->id, token);
  return Status::ok();
}

Status Emulator::add_account_token(const std::string& token) {
  std::lock_guard lock(mu_);
  return account_->add_account_token(token);
}

// ---- DeviceRegistry: the Account API's changes to the devices ---------------------------------

void Emulator::create_device(const std::string& id, const std::string& name,
                             std::int64_t created_ms) {
  auto d = std::make_unique<Device>();
  d->name = name;
  d->id = id;
  d->created_ms = created_ms;
  by_id_[id] = d.get();
  by_name_.emplace(name, d.get());  // a later device of the same name does not replace it
  devices_.push_back(std::move(d));
}

void Emulator::delete_device(const std::string& id) {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return;
  Device* device = it->second;
  by_id_.erase(it);
  for (const auto& t : device->tokens) by_token_.erase(t);
  const auto owned = std::find_if(devices_.begin(), devices_.end(),
                                  [&](const auto& d) { return d.get() == device; });
  retired_.push_back(std::move(*owned));
  devices_.erase(owned);
  if (auto named = by_name_.find(device->name);
      named != by_name_.end() && named->second == device) {
    by_name_.erase(named);
    for (const auto& d : devices_) {  // the next device of that name, if any
      if (d->name == device->name) {
        by_name_.emplace(d->name, d.get());
        break;
      }
    }
  }
}

void Emulator::add_token(const std::string& device_id, const std::string& token,
                         TokenAccess access) {
  auto it = by_id_.find(device_id);
  if (it == by_id_.end()) return;
  it->second->tokens.push_back(token);
  by_token_[token] = TokenEntry{it->second, access};
}

void Emulator::remove_token(const std::string& token) {
  auto it = by_token_.find(token);
  if (it == by_token_.end()) return;
  auto& tokens = it->second.device->tokens;
  tokens.erase(std::remove(tokens.begin(), tokens.end(), token), tokens.end());
  by_token_.erase(it);
}

bool Emulator::is_device_token(const std::string& token) const {
  return by_token_.count(token) != 0;
}

std::int64_t Emulator::last_input_ms(const std::string& device_id) const {
  auto it = by_id_.find(device_id);
  return it == by_id_.end() ? 0 : it->second->last_input_ms;
}

Status Emulator::apply_startup_faults() {
  std::lock_guard lock(mu_);
  *faults_ = Faults{};
  *budget_window_ = BudgetWindow{};
  for (const auto& text : config_.startup_faults) {
    json::error_code ec;
    const json::value spec = json::parse(text, ec);
    if (ec) return Status::invalid_argument("fault '" + text + "': " + ec.message());
    if (auto s = apply_fault_locked(spec); !s) {
      return Status::invalid_argument("fault '" + text + "': " + std::string(s.message()));
    }
  }
  return Status::ok();
}

void Emulator::clear_faults_locked() {
  *faults_ = Faults{};
  *budget_window_ = BudgetWindow{};
  for (const auto& text : config_.startup_faults) {
    json::error_code ec;
    const json::value spec = json::parse(text, ec);
    if (!ec) (void)apply_fault_locked(spec);  // validated by apply_startup_faults()
  }
}

Response Emulator::handle(const Request& request) {
  const auto [path, query] = split_target(request.target);
  if (path == kControlPrefix || path.starts_with("/_emulator/")) {
    return handle_control(request, path, query);
  }
  return handle_api(request, path, query);
}

// ---- Device API ------------------------------------------------------------------------------

Response Emulator::handle_api(const Request& request, std::string_view path,
                              std::string_view query) {
  const std::int64_t now = core::now_ms();
  // The token: headers first, then the query string.
  std::string token;
  if (request.token_header) {
    token = std::string(*request.token_header);
  } else if (!query.empty()) {
    const auto params = QueryParams::parse(query);
    for (const char* key : {"token", "device_token", "authorization"}) {
      if (const auto* t = params.first(key)) {
        token = *t;
        break;
      }
    }
  }

  // The Account API (account.h) shares the faults, but not the Device API's counters and budget.
  const AccountRoute route = Account::route(request.method, path);
  const bool account = route != AccountRoute::kNone;
  RequestCounts& counts = account ? account_requests_ : device_requests_;
  std::optional<Fault> fault;
  {
    std::lock_guard lock(mu_);
    account_->count(route);
    fault = take_fault_locked(request.method, path, token, account);
    if (fault && !fault->after_processing && (fault->drop || fault->status != 0)) {
      Response r;
      if (fault->drop) {
        r.drop = true;
      } else {
        r = fault_response_locked(*fault);
      }
      counts.count(r);
      r.delay = std::chrono::milliseconds(fault->delay_ms);
      if (config_.log_requests) r.note = "injected fault";
      return r;
    }
  }

  Response r = account ? process_account(request, route, path, query, token, now)
                       : process_api(request, path, query, token, now);

  std::lock_guard lock(mu_);
  if (fault) {
    r.delay = std::chrono::milliseconds(fault->delay_ms);
    if (fault->after_processing) {
      if (fault->drop) {
        r.drop = true;
      } else if (fault->status != 0) {
        std::string note = std::move(r.note);
        r = fault_response_locked(*fault);
        r.delay = std::chrono::milliseconds(fault->delay_ms);
        r.note = std::move(note);
      }
    }
  }
  counts.count(r);
  return r;
}

void Emulator::RequestCounts::count(const Response& r) {
  ++total;
  if (r.drop) {
    ++dropped;
  } else {
    ++by_status[r.status];
  }
}

json::value Emulator::RequestCounts::json() const {
  json::object by;
  for (const auto& [code, n] : by_status) by[std::to_string(code)] = n;
  return {{"total", total}, {"by_status", std::move(by)}, {"dropped", dropped}};
}

Response Emulator::process_account(const Request& request, AccountRoute route,
                                   std::string_view path, std::string_view query,
                                   const std::string& token, std::int64_t now) {
  if (route == AccountRoute::kWrongMethod) return error(405, "Method Not Allowed");
  if (request.body.size() > config_.max_body_bytes) {
    return error(413, "Request body is " + std::to_string(request.body.size()) +
                          " bytes; the limit is " + std::to_string(config_.max_body_bytes));
  }
  std::lock_guard lock(mu_);
  if (faults_->denied_tokens.count(token) != 0) return error(401, "Authorization Denied");
  Response r = account_->handle(route, path, query, request.body, token, now);
  if (config_.log_requests) r.note = "account API";
  return r;
}

Response Emulator::process_api(const Request& request, std::string_view path,
                               std::string_view query, std::string_view token, std::int64_t now) {
  const std::string_view method = request.method;
  const bool data = path == "/data";
  const bool data_item = path.starts_with("/data/") && path.size() > 6;
  const bool post_data_route = data && method == "POST";
  const bool known = (data && (method == "POST" || method == "GET" || method == "DELETE")) ||
                     (data_item && method == "DELETE") || (path == "/info" && method == "GET");
  if (!known) {
    if (data || data_item || path == "/info") return error(405, "Method Not Allowed");
    return error(404, "Route not found: " + std::string(method) + " " + std::string(path));
  }
  if (post_data_route) {
    std::lock_guard lock(mu_);
    max_body_bytes_ = std::max<std::uint64_t>(max_body_bytes_, request.body.size());
  }
  if (request.body.size() > config_.max_body_bytes) {
    return error(413, "Request body is " + std::to_string(request.body.size()) +
                          " bytes; the limit is " + std::to_string(config_.max_body_bytes));
  }
  Device* device = nullptr;
  {
    std::lock_guard lock(mu_);
    const TokenEntry* entry = find_token_locked(token);
    if (entry == nullptr || entry->access.expired(now)) return error(401, "Authorization Denied");
    // A read token may not write, a write token may not read (GET /info is open to both).
    const bool allowed = method == "POST" || method == "DELETE" ? entry->access.may_write()
                         : data                                 ? entry->access.may_read()
                                                                : true;
    if (!allowed) return error(401, "Authorization Denied");
    device = entry->device;
    if (post_data_route) {
      ++device->requests;
      if (const auto retry_after = count_budget_locked(now)) {
        Response r = error(429, too_many_requests(*retry_after));
        if (faults_->retry_after_header) r.retry_after_header = *retry_after;
        if (config_.log_requests) r.note = "device=" + device->name + " over budget";
        return r;
      }
    }
  }
  Response r;
  if (post_data_route) {
    r = post_data(*device, request.body, now);
  } else if (data && method == "GET") {
    r = get_data(*device, query, now);
  } else if (method == "DELETE") {
    r = delete_data(*device, path, query, now);
  } else {
    r = info(*device);
  }
  if (config_.log_requests && r.note.empty()) r.note = "device=" + device->name;
  return r;
}

const Emulator::TokenEntry* Emulator::find_token_locked(std::string_view token) {
  if (token.empty()) return nullptr;
  const std::string key(token);
  if (faults_->denied_tokens.count(key) != 0) return nullptr;
  auto it = by_token_.find(key);
  return it == by_token_.end() ? nullptr : &it->second;
}

std::optional<std::int64_t> Emulator::count_budget_locked(std::int64_t now) {
  BudgetWindow& w = *budget_window_;
  const std::int64_t index = now / w.window_ms;
  if (index != w.current) {
    w.current = index;
    w.requests = 0;
    w.admitted = 0;
    ++w.windows;
  }
  ++w.requests;
  w.max_requests = std::max(w.max_requests, w.requests);
  if (faults_->budget_requests && w.requests > *faults_->budget_requests) {
    ++w.throttled;
    const std::int64_t window_end = (index + 1) * w.window_ms;
    return std::max<std::int64_t>(1, (window_end - now + 999) / 1000);
  }
  ++w.admitted;
  w.max_admitted = std::max(w.max_admitted, w.admitted);
  return std::nullopt;
}

Response Emulator::post_data(Device& device, std::string_view body, std::int64_t now) {
  // Parse and check outside the lock, in one pass and without a DOM (body_scan.h).
  thread_local BodyScanner scanner;
  if (auto problem = scanner.scan(body, now)) return error(400, *problem);
  std::vector<ScannedItem>& items = scanner.items();
  const std::size_t count = items.size();

  std::vector<RejectRule> rejects;
  {
    std::lock_guard lock(mu_);
    rejects = faults_->rejects;
  }
  if (!rejects.empty()) {  // a test feature: compare items with a DOM
    const json::value doc = json::parse(body);
    for (std::size_t i = 0; i < count; ++i) {
      const json::object* item = doc.is_array() ? doc.get_array()[i].if_object() : doc.if_object();
      if (item == nullptr) continue;
      for (const RejectRule& rule : rejects) {
        if (!matches_rule(rule.match, *item)) continue;
        std::lock_guard lock(mu_);
        // The rule may have been used up or cleared meanwhile.
        auto it = std::find_if(faults_->rejects.begin(), faults_->rejects.end(),
                               [&](const RejectRule& r) { return r.match == rule.match; });
        if (it == faults_->rejects.end()) continue;
        if (it->remaining > 0 && --it->remaining == 0) faults_->rejects.erase(it);
        return error(rule.status,
                     rule.message.value_or("Invalid data item at index " + std::to_string(i) +
                                           ": " + describe_match(rule.match) + " is refused"));
      }
    }
  }

  std::shared_ptr<const std::string> stored_body;
  const std::size_t first = config_.keep == 0 || count <= config_.keep ? 0 : count - config_.keep;
  if (config_.keep > 0 && count > 0) stored_body = std::make_shared<const std::string>(body);

  std::lock_guard lock(mu_);
  ++device.accepted_requests;
  device.readings += count;
  readings_accepted_ += count;
  device.last_input_ms = now;
  for (std::size_t i = 0; i < count; ++i) {
    if (items[i].has_time) latency_.add(now - items[i].time_ms);
    if (!items[i].seq) continue;
    const std::int64_t seq = *items[i].seq;
    const bool had_any = !device.seqs.empty();
    const std::int64_t max_before = had_any ? device.seqs.max() : 0;
    if (!device.seqs.insert(seq)) {
      ++device.duplicates;
    } else if (had_any && seq < max_before) {
      ++device.order_violations;
    }
    device.last_seq = seq;
  }
  if (stored_body) {
    const std::size_t adding = count - first;
    while (!device.records.empty() && device.records.size() + adding > config_.keep) {
      device.records.pop_front();
    }
    std::uint64_t group_serial = 0;
    for (std::size_t i = first; i < count; ++i) {
      ScannedItem& item = items[i];
      Record& r = device.records.emplace_back();
      r.body = stored_body;
      r.index = static_cast<std::uint32_t>(i);
      r.has_value = item.has_value;
      r.has_location = item.has_location;
      r.has_group = item.has_group;
      r.variable = std::move(item.variable);
      r.group = std::move(item.group);
      r.number = item.number;
      r.time_ms = item.time_ms;
      r.created_ms = now;
      r.serial = next_serial_++;
      if (!r.has_group) {
        if (group_serial == 0) group_serial = next_serial_++;
        r.group_serial = group_serial;
      }
    }
  }
  Response r = ok(json::value(std::to_string(count) + " Data Added"));
  if (config_.log_requests) r.note = "device=" + device.name + " readings=" + std::to_string(count);
  return r;
}

// Parses each stored body once per query, on demand.
class Emulator::BodyCache {
 public:
  const json::object* item(const Record& r) {
    auto it = parsed_.find(r.body.get());
    if (it == parsed_.end()) {
      json::error_code ec;
      it = parsed_.emplace(r.body.get(), json::parse(*r.body, ec)).first;
    }
    return item_in(it->second, r);
  }

 private:
  std::unordered_map<const std::string*, json::value> parsed_;
};

namespace {

// A device's records as the shared query sees them.
class DeviceRecords final : public device_api::RecordSet {
 public:
  using ItemOf = std::function<const json::object*(const Record&)>;
  DeviceRecords(const std::deque<Record>& records, ItemOf item_of)
      : records_(records), item_of_(std::move(item_of)) {}
  std::size_t size() const override { return records_.size(); }
  std::string_view variable(std::size_t i) const override { return records_[i].variable; }
  std::int64_t time_ms(std::size_t i) const override { return records_[i].time_ms; }
  std::uint64_t serial(std::size_t i) const override { return records_[i].serial; }
  bool has_value(std::size_t i) const override { return records_[i].has_value; }
  bool has_location(std::size_t i) const override { return records_[i].has_location; }
  std::optional<double> number(std::size_t i) const override { return records_[i].number; }
  std::string group(std::size_t i) const override { return record_group(records_[i]); }
  const json::value* value(std::size_t i) const override {
    const json::object* item = item_of_(records_[i]);
    return item != nullptr ? item->if_contains("value") : nullptr;
  }

 private:
  const std::deque<Record>& records_;
  ItemOf item_of_;
};

}  // namespace

Response Emulator::get_data(Device& device, std::string_view query, std::int64_t now) {
  auto filter = parse_data_filter(QueryParams::parse(query), now);
  if (!filter) return error(400, filter.status().message());
  std::lock_guard lock(mu_);
  BodyCache bodies;
  auto result = device_api::run_query(
      DeviceRecords(device.records, [&](const Record& r) { return bodies.item(r); }), *filter);
  if (!result) return error(400, result.status().message());
  if (result->number) {
    const double n = *result->number;
    if (std::trunc(n) == n && std::fabs(n) < 9e15) {
      return ok(json::value(static_cast<std::int64_t>(n)));
    }
    return ok(json::value(n));
  }
  json::array out;
  out.reserve(result->indices.size());
  static const json::object kEmpty;
  for (auto i : result->indices) {
    const Record& r = device.records[i];
    const json::object* item = bodies.item(r);
    out.emplace_back(record_json(r, item != nullptr ? *item : kEmpty, device.id, filter->details));
  }
  return ok(std::move(out));
}

Response Emulator::delete_data(Device& device, std::string_view path, std::string_view query,
                               std::int64_t now) {
  QueryParams params = QueryParams::parse(query);
  auto filter = parse_data_filter(params, now);
  if (!filter) return error(400, filter.status().message());
  if (path.size() > 6) {  // legacy DELETE /data/{variable_or_id}
    const std::string key = url_decode(path.substr(6));
    if (const auto serial = serial_of_id(key); serial != 0) {
      filter->has_ids = true;
      filter->id_serials.push_back(serial);
    } else {
      std::string name = key;
      for (char& c : name) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      }
      filter->variables.push_back(std::move(name));
    }
  }
  std::lock_guard lock(mu_);
  BodyCache bodies;
  auto result = device_api::run_query(
      DeviceRecords(device.records, [&](const Record& r) { return bodies.item(r); }), *filter);
  if (!result) return error(400, result.status().message());
  std::size_t removed = 0;
  if (!result->number) {
    std::vector<bool> gone(device.records.size(), false);
    for (auto i : result->indices) gone[i] = true;
    removed = result->indices.size();
    std::deque<Record> kept;
    for (std::size_t i = 0; i < device.records.size(); ++i) {
      if (!gone[i]) kept.push_back(std::move(device.records[i]));
    }
    device.records = std::move(kept);
  }
  return ok(json::value(std::to_string(removed) + " Data Removed"));
}

Response Emulator::info(const Device& device) {
  std::lock_guard lock(mu_);
  // The profile's description of it (profile_devices.h): tags, type, ... as it was created.
  auto o = account_->device_object(device.id);
  if (!o) return error(404, "Device not found");  // deleted meanwhile
  return ok(std::move(*o));
}

// ---- Faults ------------------------------------------------------------------------------------

std::optional<Emulator::Fault> Emulator::take_fault_locked(std::string_view method,
                                                           std::string_view path,
                                                           std::string_view token, bool account) {
  auto& queue = faults_->queue;
  const auto now = std::chrono::steady_clock::now();
  // "/device" only that path; "/device/token/*" any path under it; "/*" every path.
  auto path_matches = [&](const std::string& wanted) {
    if (wanted.empty()) return true;
    if (wanted.ends_with('*')) {
      return path.starts_with(std::string_view(wanted).substr(0, wanted.size() - 1));
    }
    return wanted == path;
  };
  for (auto it = queue.begin(); it != queue.end();) {
    if (it->until && now >= *it->until) {
      it = queue.erase(it);
      continue;
    }
    // An Account API request only meets the faults that name its path or its token.
    if ((account && it->path.empty() && it->token.empty()) ||
        (!it->token.empty() && it->token != token) ||
        (!it->method.empty() && it->method != method) || !path_matches(it->path)) {
      ++it;
      continue;
    }
    Fault taken = *it;
    if (it->remaining > 0 && --it->remaining == 0) queue.erase(it);
    return taken;
  }
  return std::nullopt;
}

Response Emulator::fault_response_locked(const Fault& fault) const {
  Response r;
  r.status = fault.status;
  if (fault.body_bytes >= 0) {
    r.body.assign(static_cast<std::size_t>(fault.body_bytes), 'x');
    r.content_type = "text/plain";
  } else if (fault.body) {
    r.body = *fault.body;
    const bool is_json = !r.body.empty() && (r.body.front() == '{' || r.body.front() == '[');
    r.content_type = is_json ? "application/json" : "text/html";
  } else if (fault.message) {
    r.body = error_body(*fault.message);
  } else if (fault.status == 429) {
    r.body = error_body(too_many_requests(fault.retry_after.value_or(1)));
  } else {
    r.body = error_body(default_message(fault.status));
  }
  if (fault.retry_after && faults_->retry_after_header) r.retry_after_header = *fault.retry_after;
  r.truncate = fault.truncate;
  r.trickle = std::chrono::milliseconds(fault.trickle_ms);
  if (fault.status == 429 && !fault.retry_after && faults_->retry_after_header) {
    r.retry_after_header = 1;
  }
  return r;
}

Status Emulator::apply_fault_locked(const json::value& spec) {
  if (spec.is_array()) {
    for (const auto& element : spec.get_array()) {
      if (auto s = apply_fault_locked(element); !s) return s;
    }
    return Status::ok();
  }
  if (!spec.is_object()) return Status::invalid_argument("a fault must be a JSON object");
  const json::object& o = spec.get_object();
  static constexpr std::string_view kKeys[] = {"status",
                                               "count",
                                               "for_ms",
                                               "delay_ms",
                                               "drop_connection",
                                               "after_processing",
                                               "retry_after",
                                               "message",
                                               "body",
                                               "body_bytes",
                                               "truncate",
                                               "trickle_ms",
                                               "token",
                                               "method",
                                               "path",
                                               "retry_after_header",
                                               "reject",
                                               "token_denied",
                                               "token_allowed",
                                               "budget"};
  for (const auto& kv : o) {
    if (std::find(std::begin(kKeys), std::end(kKeys), kv.key()) == std::end(kKeys)) {
      std::string allowed;
      for (auto k : kKeys) allowed += (allowed.empty() ? "" : ", ") + std::string(k);
      return Status::invalid_argument("unknown fault key \"" + std::string(kv.key()) +
                                      "\" (known: " + allowed + ")");
    }
  }
  std::optional<std::int64_t> status, count, for_ms, delay_ms, retry_after, body_bytes, trickle_ms;
  if (auto s = get_int(o, "status", 100, 599, status); !s) return s;
  if (auto s = get_int(o, "body_bytes", 0, 256LL << 20, body_bytes); !s) return s;
  if (auto s = get_int(o, "trickle_ms", 1, 60'000, trickle_ms); !s) return s;
  if (auto s = get_int(o, "count", 1, INT64_MAX, count); !s) return s;
  if (auto s = get_int(o, "for_ms", 1, INT64_MAX / 2, for_ms); !s) return s;
  if (auto s = get_int(o, "delay_ms", 0, 600'000, delay_ms); !s) return s;
  if (auto s = get_int(o, "retry_after", 0, 86'400, retry_after); !s) return s;
  std::optional<std::string> message, body, token, method, path;
  if (auto s = get_string(o, "message", message); !s) return s;
  if (auto s = get_string(o, "body", body); !s) return s;
  if (auto s = get_string(o, "token", token); !s) return s;
  if (auto s = get_string(o, "method", method); !s) return s;
  if (auto s = get_string(o, "path", path); !s) return s;
  bool drop = false, after = false, truncate = false;
  if (auto s = get_bool(o, "drop_connection", drop); !s) return s;
  if (auto s = get_bool(o, "after_processing", after); !s) return s;
  if (auto s = get_bool(o, "truncate", truncate); !s) return s;
  if (body && body_bytes)
    return Status::invalid_argument("give \"body\" or \"body_bytes\", not both");
  if ((body_bytes || truncate || trickle_ms) && !status) {
    return Status::invalid_argument(
        "\"body_bytes\", \"truncate\" and \"trickle_ms\" need a \"status\"");
  }

  // Validate everything before changing anything.
  const json::object* reject = nullptr;
  if (const auto* v = o.if_contains("reject")) {
    if (!v->is_object() || v->get_object().empty()) {
      return Status::invalid_argument("reject must be an object of fields to match");
    }
    reject = &v->get_object();
  }
  std::vector<std::string> denied, allowed;
  for (const char* key : {"token_denied", "token_allowed"}) {
    if (const auto* v = o.if_contains(key)) {
      auto& list = std::string_view(key) == "token_denied" ? denied : allowed;
      if (v->is_string()) {
        list.emplace_back(v->get_string());
      } else if (v->is_array()) {
        for (const auto& t : v->get_array()) {
          if (!t.is_string()) return Status::invalid_argument(std::string(key) + ": strings only");
          list.emplace_back(t.get_string());
        }
      } else {
        return Status::invalid_argument(std::string(key) + " must be a token or a list of them");
      }
    }
  }
  bool set_budget = false;
  std::optional<std::int64_t> budget_requests, budget_window;
  if (const auto* v = o.if_contains("budget")) {
    set_budget = true;
    if (v->is_object()) {
      if (auto s = get_int(v->get_object(), "requests", 0, INT64_MAX, budget_requests); !s) {
        return Status::invalid_argument("budget." + std::string(s.message()));
      }
      if (auto s = get_int(v->get_object(), "window_ms", 1, INT64_MAX / 4, budget_window); !s) {
        return Status::invalid_argument("budget." + std::string(s.message()));
      }
      if (!budget_requests) return Status::invalid_argument("budget.requests is required");
    } else if (!v->is_null()) {
      return Status::invalid_argument("budget must be {\"requests\":N,\"window_ms\":M} or null");
    }
  }
  bool header = faults_->retry_after_header;
  if (auto s = get_bool(o, "retry_after_header", header); !s) return s;
  const bool queued = reject == nullptr && (status || drop || delay_ms);
  if (reject == nullptr && !queued &&
      (count || for_ms || after || retry_after || message || body || token || method || path)) {
    return Status::invalid_argument(
        "a fault needs \"status\", \"delay_ms\" or \"drop_connection\" (or \"reject\")");
  }

  faults_->retry_after_header = header;
  for (auto& t : denied) faults_->denied_tokens.insert(std::move(t));
  for (auto& t : allowed) faults_->denied_tokens.erase(t);
  if (set_budget) {
    faults_->budget_requests =
        budget_requests ? std::optional<std::uint64_t>(*budget_requests) : std::nullopt;
    faults_->budget_window_ms = budget_window.value_or(60'000);
    *budget_window_ = BudgetWindow{};
    budget_window_->window_ms = faults_->budget_window_ms;
  }
  if (reject != nullptr) {
    RejectRule rule;
    rule.match = *reject;
    rule.status = static_cast<unsigned>(status.value_or(400));
    rule.remaining = count.value_or(-1);
    rule.message = message;
    faults_->rejects.push_back(std::move(rule));
  } else if (queued) {
    Fault f;
    f.status = static_cast<unsigned>(status.value_or(0));
    f.drop = drop;
    f.delay_ms = delay_ms.value_or(0);
    f.remaining = count.value_or(-1);
    if (for_ms) f.until = std::chrono::steady_clock::now() + std::chrono::milliseconds(*for_ms);
    f.after_processing = after;
    f.retry_after = retry_after;
    f.message = message;
    f.body = body;
    f.body_bytes = body_bytes.value_or(-1);
    f.truncate = truncate;
    f.trickle_ms = trickle_ms.value_or(0);
    f.token = token.value_or("");
    f.method = method.value_or("");
    f.path = path.value_or("");
    f.spec = o;
    faults_->queue.push_back(std::move(f));
  }
  return Status::ok();
}

json::value Emulator::faults_json_locked() const {
  json::object out;
  json::array queue;
  for (const auto& f : faults_->queue) {
    json::object e = f.spec;
    if (f.remaining >= 0) e["remaining"] = f.remaining;
    queue.push_back(std::move(e));
  }
  out["queue"] = std::move(queue);
  json::array rejects;
  for (const auto& r : faults_->rejects) {
    json::object e;
    e["reject"] = r.match;
    e["status"] = r.status;
    if (r.remaining >= 0) e["remaining"] = r.remaining;
    rejects.push_back(std::move(e));
  }
  out["rejects"] = std::move(rejects);
  json::array denied;
  for (const auto& t : faults_->denied_tokens) denied.emplace_back(t);
  out["token_denied"] = std::move(denied);
  if (faults_->budget_requests) {
    out["budget"] = {{"requests", *faults_->budget_requests},
                     {"window_ms", faults_->budget_window_ms}};
  } else {
    out["budget"] = nullptr;
  }
  out["retry_after_header"] = faults_->retry_after_header;
  return out;
}

// ---- Control API --------------------------------------------------------------------------------

json::value Emulator::device_json_locked(const Device& d) const {
  json::object o;
  o["id"] = d.id;
  o["requests"] = d.requests;
  o["accepted_requests"] = d.accepted_requests;
  o["readings"] = d.readings;
  o["stored"] = d.records.size();
  o["duplicates"] = d.duplicates;
  o["order_violations"] = d.order_violations;
  o["last_seq"] = d.last_seq ? json::value(*d.last_seq) : json::value(nullptr);
  if (d.seqs.empty()) {
    o["min_seq"] = nullptr;
    o["max_seq"] = nullptr;
  } else {
    o["min_seq"] = d.seqs.min();
    o["max_seq"] = d.seqs.max();
  }
  o["distinct_seqs"] = d.seqs.size();
  o["missing_seqs"] = d.seqs.missing();
  o["seq_intervals"] = d.seqs.intervals();
  return o;
}

json::value Emulator::stats_json_locked() const {
  json::object out;
  out["requests"] = device_requests_.json();
  out["readings_accepted"] = readings_accepted_;
  out["max_body_bytes"] = max_body_bytes_;
  json::object latency;
  latency["readings"] = latency_.count();
  latency["early"] = latency_.early();
  latency["mean"] = latency_.mean();
  latency["p50"] = latency_.percentile(0.5);
  latency["p90"] = latency_.percentile(0.9);
  latency["p99"] = latency_.percentile(0.99);
  latency["p999"] = latency_.percentile(0.999);
  latency["max"] = latency_.max();
  out["latency_ms"] = std::move(latency);
  json::object devices;
  for (const auto& d : devices_) {
    // Names need not be unique (POST /device does not dedupe): a later one is "NAME#ID".
    const std::string key = devices.contains(d->name) ? d->name + "#" + d->id : d->name;
    devices[key] = device_json_locked(*d);
  }
  out["devices"] = std::move(devices);
  const BudgetWindow& w = *budget_window_;
  json::object budget;
  budget["requests"] =
      faults_->budget_requests ? json::value(*faults_->budget_requests) : json::value(nullptr);
  budget["window_ms"] = w.window_ms;
  budget["windows"] = w.windows;
  const bool current = w.current == core::now_ms() / w.window_ms;
  budget["current_window_requests"] = current ? w.requests : 0;
  budget["max_requests_per_window"] = w.max_requests;
  budget["max_admitted_per_window"] = w.max_admitted;
  budget["throttled"] = w.throttled;
  out["budget"] = std::move(budget);
  json::object account = account_->stats_json();
  account["requests"] = account_requests_.json();
  out["account"] = std::move(account);
  return out;
}

json::value Emulator::devices_list_locked(std::string_view query) const {
  // ?name=NAME&tag=KEY=VALUE (repeatable: every tag must be there)&provisioned=true|false
  const auto params = QueryParams::parse(query);
  const std::string* name = params.first("name");
  const std::string* provisioned = params.first("provisioned");
  const auto tags = params.all({"tag"});
  json::array list;
  for (const auto& d : devices_) {
    const ProfileDevice* p = account_->find_device(d->id);
    if (name != nullptr && d->name != *name) continue;
    if (provisioned != nullptr && (p != nullptr && p->provisioned) != (*provisioned == "true")) {
      continue;
    }
    const bool has_tags = std::all_of(tags.begin(), tags.end(), [&](const std::string& kv) {
      const auto eq = kv.find('=');
      const std::string key = kv.substr(0, eq);
      const std::string value = eq == std::string::npos ? "" : kv.substr(eq + 1);
      return p != nullptr && std::any_of(p->tags.begin(), p->tags.end(), [&](const Tag& t) {
               return t.key == key && (eq == std::string::npos || t.value == value);
             });
    });
    if (!has_tags) continue;
    json::array token_list;
    for (const auto& t : d->tokens) token_list.emplace_back(t);
    json::array tag_list;
    if (p != nullptr) {
      for (const auto& t : p->tags) {
        tag_list.push_back(json::object{{"key", t.key}, {"value", t.value}});
      }
    }
    list.push_back(json::object{{"name", d->name},
                                {"id", d->id},
                                {"tokens", std::move(token_list)},
                                {"tags", std::move(tag_list)},
                                {"provisioned", p != nullptr && p->provisioned}});
  }
  return list;
}

void Emulator::reset_locked() {
  for (auto& d : devices_) d->clear_data();
  device_requests_ = RequestCounts{};
  account_requests_ = RequestCounts{};
  account_->reset();
  readings_accepted_ = 0;
  max_body_bytes_ = 0;
  latency_.clear();
  clear_faults_locked();
}

Response Emulator::handle_control(const Request& request, std::string_view path,
                                  std::string_view query) {
  const std::string_view method = request.method;
  const std::string_view what = path.substr(std::min(path.size(), kControlPrefix.size() + 1));
  auto parse_body = [&](json::value& out) -> std::optional<Response> {
    json::error_code ec;
    out = json::parse(request.body.empty() ? std::string_view("{}") : request.body, ec);
    if (ec) return error(400, "Invalid JSON body: " + ec.message());
    return std::nullopt;
  };
  std::lock_guard lock(mu_);
  if (what == "faults") {
    if (method == "GET") return ok(faults_json_locked());
    if (method == "DELETE") {
      clear_faults_locked();
      return ok(faults_json_locked());
    }
    if (method == "POST") {
      json::value spec;
      if (auto bad = parse_body(spec)) return *bad;
      if (auto s = apply_fault_locked(spec); !s) return error(400, s.message());
      return ok(faults_json_locked());
    }
  } else if (what == "stats") {
    if (method == "GET") return ok(stats_json_locked());
  } else if (what == "reset") {
    if (method == "POST") {
      reset_locked();
      return ok(json::value("reset"));
    }
  } else if (what == "account") {
    return account_->control(method, request.body);
  } else if (what == "devices") {
    if (method == "GET") return ok(devices_list_locked(query));
    if (method == "POST") {
      json::value spec;
      if (auto bad = parse_body(spec)) return *bad;
      json::array specs = spec.is_array() ? spec.get_array() : json::array{spec};
      json::array added;
      for (const auto& s : specs) {
        const auto* o = s.if_object();
        const auto* name = o != nullptr ? o->if_contains("name") : nullptr;
        const auto* token = o != nullptr ? o->if_contains("token") : nullptr;
        if (name == nullptr || token == nullptr || !name->is_string() || !token->is_string()) {
          return error(400, "a device is {\"name\":\"...\",\"token\":\"...\"}");
        }
        const std::string n(name->get_string());
        if (auto st = add_device_locked(n, std::string(token->get_string())); !st) {
          return error(400, st.message());
        }
        added.push_back(json::object{{"name", n}, {"id", by_name_[n]->id}});
      }
      return ok(std::move(added));
    }
  } else {
    return error(404, "unknown control endpoint " + std::string(path) +
                          " (faults, stats, reset, devices, account)");
  }
  return error(405, "Method Not Allowed");
}

}  // namespace edgegw::cloud_emulator
