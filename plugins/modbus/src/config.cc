// SPDX-License-Identifier: Apache-2.0
#include "config.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <set>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "edgegw/config_keys.h"

namespace edgegw::plugins::modbus {
namespace {

namespace json = boost::json;
using sdk::config_error;
using sdk::index_path;
using sdk::key_path;

constexpr std::array<std::string_view, 19> kSourceKeys = {
    "transport",   "host",      "port",     "connect_timeout", "baud",       "parity",
    "data_bits",   "stop_bits", "rs485",    "request_delay",   "timeout",    "initial_backoff",
    "max_backoff", "max_gap",   "interval", "append_interval", "word_order", "byte_order",
    "units"};
constexpr std::array<std::string_view, 5> kUnitKeys = {"id", "device", "groups", "word_order",
                                                       "byte_order"};
constexpr std::array<std::string_view, 3> kGroupKeys = {"name", "interval", "points"};
constexpr std::array<std::string_view, 14> kPointKeys = {
    "name",       "kind",  "address", "type", "length", "bit",      "word_order",
    "byte_order", "scale", "offset",  "unit", "report", "deadband", "variable"};

constexpr std::array<std::string_view, 4> kKindNames = {"coil", "discrete_input", "holding",
                                                        "input"};
constexpr std::array<std::string_view, 10> kTypeNames = {"bool", "u16", "i16", "u32", "i32",
                                                         "u64",  "i64", "f32", "f64", "string"};
constexpr std::array<std::string_view, 2> kOrderNames = {"big", "little"};
constexpr std::array<std::string_view, 2> kReportNames = {"every_poll", "on_change"};
constexpr std::array<std::string_view, 2> kTransportNames = {"tcp", "rtu"};
constexpr std::array<std::string_view, 3> kParityNames = {"none", "even", "odd"};

// libmodbus 3.1's termios table (others fall back to 9600 there, silently: refused here).
constexpr std::array<std::uint32_t, 21> kBauds = {
    110,    300,    600,    1200,   2400,   4800,    9600,    19200,   38400,   57600,  115200,
    230400, 460800, 500000, 576000, 921600, 1000000, 1152000, 1500000, 2500000, 3000000};

constexpr std::size_t kMaxDeviceKey = 256;
constexpr std::size_t kMaxVariable = 100;
constexpr std::size_t kMaxUnitText = 25;
constexpr std::int64_t kMaxStringRegisters = 125;

// The order defaults a unit hands to its points.
struct Orders {
  bool word_swap = false;
  bool byte_swap = false;
};

bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

// As the gateway's own check of a mapped variable: what the cloud accepts, lower case.
void check_variable(std::string_view key, std::string_view name) {
  if (name.empty()) config_error(key, "is empty");
  if (name.size() > kMaxVariable) config_error(key, "is longer than 100 characters");
  for (char c : name) {
    if (std::string_view("*?!<>.-=$ ").find(c) != std::string_view::npos) {
      config_error(key, "'" + std::string(name) +
                            "' holds one of *?!<>.-=$ or a space (the cloud refuses them)");
    }
    if (c >= 'A' && c <= 'Z') {
      config_error(key, "'" + std::string(name) +
                            "' must be lower case (variable names are lower-cased at decode)");
    }
  }
  if (has_control(name)) config_error(key, "holds a control character");
}

std::chrono::milliseconds duration_in(std::string_view key, const json::value& v,
                                      std::chrono::milliseconds min, std::chrono::milliseconds max,
                                      const char* range) {
  const auto d = sdk::read_duration(key, v);
  if (d < min || d > max) {
    config_error(key, std::to_string(d.count()) + "ms is out of range (" + range + ")");
  }
  return d;
}

Point parse_point(const std::string& path, const json::value& value, const Orders& orders) {
  Point p;
  p.word_swap = orders.word_swap;
  p.byte_swap = orders.byte_swap;
  bool have_name = false, have_address = false, have_type = false;
  const json::value* length = nullptr;
  const json::value* bit = nullptr;
  const json::value* deadband = nullptr;
  bool have_scale = false;
  for (const auto& [k, v] : sdk::read_object(path, value)) {
    const std::string key = key_path(path, k);
    if (k == "name" || k == "variable") {
      p.name = sdk::read_string(key, v);
      check_variable(key, p.name);
      have_name = true;
    } else if (k == "kind") {
      p.kind = static_cast<Kind>(sdk::read_choice(key, v, kKindNames));
    } else if (k == "address") {
      p.address = static_cast<std::uint16_t>(sdk::read_integer(key, v, 0, 65535));
      have_address = true;
    } else if (k == "type") {
      p.type = static_cast<Type>(sdk::read_choice(key, v, kTypeNames));
      have_type = true;
    } else if (k == "length") {
      length = &v;
    } else if (k == "bit") {
      bit = &v;
    } else if (k == "word_order") {
      p.word_swap = sdk::read_choice(key, v, kOrderNames) == 1;
    } else if (k == "byte_order") {
      p.byte_swap = sdk::read_choice(key, v, kOrderNames) == 1;
    } else if (k == "scale") {
      p.scale = sdk::read_number(key, v);
      if (p.scale == 0.0 || !std::isfinite(p.scale)) config_error(key, "must not be 0");
      have_scale = true;
    } else if (k == "offset") {
      p.offset = sdk::read_number(key, v);
      if (!std::isfinite(p.offset)) config_error(key, "must be a finite number");
      have_scale = true;
    } else if (k == "unit") {
      p.unit = sdk::read_string(key, v);
      if (p.unit.size() > kMaxUnitText) config_error(key, "is longer than 25 characters");
      if (has_control(p.unit)) config_error(key, "holds a control character");
    } else if (k == "report") {
      p.report = static_cast<Report>(sdk::read_choice(key, v, kReportNames));
    } else if (k == "deadband") {
      deadband = &v;
    } else {
      sdk::unknown_key(key, k, kPointKeys);
    }
  }
  if (!have_name) config_error(key_path(path, "name"), "required: the reading's variable");
  if (!have_address) {
    config_error(key_path(path, "address"),
                 "required: the protocol address from 0 (register 40001 is holding 0)");
  }
  const bool bits = is_bit_kind(p.kind);
  if (!have_type) p.type = bits ? Type::kBool : Type::kU16;
  if (bits && p.type != Type::kBool) {
    config_error(key_path(path, "type"), std::string(kind_name(p.kind)) + " points are bool (not " +
                                             std::string(type_name(p.type)) + ")");
  }
  if (bit != nullptr) {
    const std::string key = key_path(path, "bit");
    if (bits || p.type != Type::kBool) {
      config_error(key, "only with type: bool of a holding or input register");
    }
    p.bit = static_cast<std::int8_t>(sdk::read_integer(key, *bit, 0, 15));
  } else if (!bits && p.type == Type::kBool) {
    config_error(key_path(path, "bit"),
                 "required with type: bool of a register (0 … 15, 0 the least significant)");
  }
  if (p.type == Type::kString) {
    if (length == nullptr) {
      config_error(key_path(path, "length"),
                   "required with type: string (registers, 2 chars each)");
    }
    p.count = static_cast<std::uint16_t>(
        sdk::read_integer(key_path(path, "length"), *length, 1, kMaxStringRegisters));
  } else {
    if (length != nullptr) config_error(key_path(path, "length"), "only with type: string");
    p.count = bits ? 1 : type_registers(p.type);
  }
  if (static_cast<std::uint32_t>(p.address) + p.count - 1 > 65535) {
    config_error(
        key_path(path, "address"),
        std::to_string(p.address) + " + " + std::to_string(p.count) + " registers run past 65535");
  }
  const bool numeric = p.type != Type::kBool && p.type != Type::kString;
  if (have_scale && !numeric) {
    config_error(key_path(path, "scale"),
                 "scale and offset apply to numbers, not to " + std::string(type_name(p.type)));
  }
  if (p.scaled()) p.decimals = static_cast<std::int8_t>(scaled_decimals(p.scale, p.offset));
  if (deadband != nullptr) {
    const std::string key = key_path(path, "deadband");
    if (p.report != Report::kOnChange) config_error(key, "only with report: on_change");
    if (!numeric) config_error(key, "applies to numbers, not to " + std::string(type_name(p.type)));
    p.deadband = sdk::read_number(key, *deadband);
    if (p.deadband < 0 || !std::isfinite(p.deadband)) config_error(key, "must be 0 or more");
  }
  return p;
}

Group parse_group(const std::string& path, const json::value& value, std::size_t index,
                  std::chrono::milliseconds default_interval, const Orders& orders) {
  Group g;
  g.name = "group " + std::to_string(index + 1);
  g.interval = default_interval;
  const json::array* points = nullptr;
  for (const auto& [k, v] : sdk::read_object(path, value)) {
    const std::string key = key_path(path, k);
    if (k == "name") {
      g.name = sdk::read_string(key, v);
      if (g.name.empty() || g.name.size() > 64 || has_control(g.name)) {
        config_error(key, "expected 1 to 64 printable characters");
      }
    } else if (k == "interval") {
      g.interval =
          duration_in(key, v, std::chrono::milliseconds(1), std::chrono::hours(24), "1ms … 24h");
    } else if (k == "points") {
      points = &sdk::read_array(key, v);
    } else {
      sdk::unknown_key(key, k, kGroupKeys);
    }
  }
  const std::string points_path = key_path(path, "points");
  if (points == nullptr || points->empty()) {
    config_error(points_path, "required: a list of points (name, kind, address, type, ...)");
  }
  for (std::size_t i = 0; i < points->size(); ++i) {
    g.points.push_back(parse_point(index_path(points_path, i), (*points)[i], orders));
  }
  return g;
}

Unit parse_unit(const std::string& path, const json::value& value, const Config& c,
                const Orders& source_orders, std::chrono::milliseconds interval) {
  Unit u;
  Orders orders = source_orders;
  bool have_id = false;
  const json::value* groups = nullptr;
  for (const auto& [k, v] : sdk::read_object(path, value)) {
    const std::string key = key_path(path, k);
    if (k == "id") {
      // RTU: 1 … 247 (0 is broadcast, which nobody answers); TCP: any unit identifier.
      u.id = c.transport == Transport::kRtu ? static_cast<int>(sdk::read_integer(key, v, 1, 247))
                                            : static_cast<int>(sdk::read_integer(key, v, 0, 255));
      have_id = true;
    } else if (k == "device") {
      u.device = sdk::read_string(key, v);
      if (u.device.empty()) config_error(key, "is empty");
      if (u.device.size() > kMaxDeviceKey) config_error(key, "is longer than 256 bytes");
      if (has_control(u.device)) config_error(key, "holds a control character");
    } else if (k == "groups") {
      groups = &v;
    } else if (k == "word_order") {
      orders.word_swap = sdk::read_choice(key, v, kOrderNames) == 1;
    } else if (k == "byte_order") {
      orders.byte_swap = sdk::read_choice(key, v, kOrderNames) == 1;
    } else {
      sdk::unknown_key(key, k, kUnitKeys);
    }
  }
  if (!have_id) {
    config_error(key_path(path, "id"),
                 c.transport == Transport::kRtu
                     ? "required: the unit's address on the bus (slave id 1 … 247)"
                     : "required: the unit identifier (0 … 255; often 1, or 255 for a device "
                       "that is not a gateway)");
  }
  if (u.device.empty()) {
    config_error(key_path(path, "device"), "required: the device key of this unit's readings");
  }
  const std::string groups_path = key_path(path, "groups");
  if (groups == nullptr) config_error(groups_path, "required: a list of polling groups");
  const json::array& list = sdk::read_array(groups_path, *groups);
  if (list.empty()) config_error(groups_path, "is empty: give at least one polling group");
  for (std::size_t i = 0; i < list.size(); ++i) {
    u.groups.push_back(parse_group(index_path(groups_path, i), list[i], i, interval, orders));
  }
  // One variable once per unit: a reading's name says which point it is.
  std::set<std::string_view> names;
  for (std::size_t gi = 0; gi < u.groups.size(); ++gi) {
    for (std::size_t pi = 0; pi < u.groups[gi].points.size(); ++pi) {
      if (!names.insert(u.groups[gi].points[pi].name).second) {
        config_error(
            key_path(index_path(key_path(index_path(groups_path, gi), "points"), pi), "name"),
            "'" + u.groups[gi].points[pi].name + "' is already a point of this unit");
      }
    }
  }
  return u;
}

}  // namespace

std::string_view kind_name(Kind k) noexcept { return kKindNames[static_cast<std::size_t>(k)]; }
std::string_view type_name(Type t) noexcept { return kTypeNames[static_cast<std::size_t>(t)]; }

std::uint16_t type_registers(Type t) noexcept {
  switch (t) {
    case Type::kU32:
    case Type::kI32:
    case Type::kF32:
      return 2;
    case Type::kU64:
    case Type::kI64:
    case Type::kF64:
      return 4;
    default:
      return 1;
  }
}

int decimals_of(double x) noexcept {
  // The shortest text that reads back as x: "0.01", "273.15", "1e-05", "0.3333333333333333".
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, std::fabs(x));
  std::string_view t(buf, static_cast<std::size_t>(r.ptr - buf));
  int exponent = 0;
  if (const std::size_t e = t.find('e'); e != std::string_view::npos) {
    const std::string_view digits = t.substr(e + 1);
    const char* first = digits.data() + (digits.front() == '+' ? 1 : 0);
    std::from_chars(first, digits.data() + digits.size(), exponent);
    t = t.substr(0, e);
  }
  int fraction = 0;
  if (const std::size_t dot = t.find('.'); dot != std::string_view::npos) {
    fraction = static_cast<int>(t.size() - dot - 1);
  }
  const int d = std::max(0, fraction - exponent);
  return d > 12 ? -1 : d;
}

int scaled_decimals(double scale, double offset) noexcept {
  const int s = decimals_of(scale), o = decimals_of(offset);
  return s < 0 || o < 0 ? -1 : std::max(s, o);
}

bool is_supported_baud(std::uint64_t baud) noexcept {
  return std::find(kBauds.begin(), kBauds.end(), baud) != kBauds.end();
}

Config parse_config(std::string_view config_json) {
  boost::system::error_code ec;
  const json::value root = json::parse(config_json, ec);
  if (ec || !root.is_object())
    config_error("config", "expected an object of the modbus plugin's keys");
  const json::object& obj = root.as_object();
  for (const auto& [k, v] : obj) {  // a misspelt key first: it may be the missing one
    if (std::find(kSourceKeys.begin(), kSourceKeys.end(), std::string_view(k)) ==
        kSourceKeys.end()) {
      sdk::unknown_key(k, k, kSourceKeys);
    }
  }

  Config c;
  const json::value* transport = obj.if_contains("transport");
  if (transport == nullptr) {
    config_error("transport", "required: tcp (host, port) or rtu (a serial port)");
  }
  c.transport = static_cast<Transport>(sdk::read_choice("transport", *transport, kTransportNames));
  const bool rtu = c.transport == Transport::kRtu;
  if (rtu) {
    c.baud = 19200;  // the Modbus serial line's default: 19200 baud, even parity
    c.parity = 'E';
  }

  auto only = [&](std::string_view key, bool allowed, const char* transport_name) {
    if (!allowed) config_error(key, std::string("only with transport: ") + transport_name);
  };
  Orders orders;
  std::chrono::milliseconds interval{10000};
  const json::value* units = nullptr;
  for (const auto& [k, v] : obj) {
    const std::string_view key = k;
    if (key == "transport") {
      continue;
    } else if (key == "host") {
      only(key, !rtu, "tcp");
      c.host = sdk::read_string(key, v);
      if (c.host.empty() || has_control(c.host) || c.host.find(' ') != std::string::npos) {
        config_error(key, "expected a host name or IP address");
      }
    } else if (key == "port") {
      if (rtu) {
        c.serial_port = sdk::read_string(key, v);
        if (c.serial_port.empty() || c.serial_port.find('\0') != std::string::npos) {
          config_error(key,
                       "expected a serial device such as /dev/ttyUSB0 or /dev/serial/by-id/...");
        }
      } else {
        if (!v.is_int64() && !v.is_uint64()) {
          config_error(
              key, "expected a TCP port number 1 … 65535 (502 for Modbus), got " + sdk::kind_of(v));
        }
        c.tcp_port = static_cast<std::uint16_t>(sdk::read_integer(key, v, 1, 65535));
      }
    } else if (key == "connect_timeout") {
      only(key, !rtu, "tcp");
      c.connect_timeout = duration_in(key, v, std::chrono::milliseconds(10),
                                      std::chrono::seconds(60), "10ms … 60s");
    } else if (key == "baud") {
      only(key, rtu, "rtu");
      const std::int64_t b = sdk::read_integer(key, v, 1, 4000000);
      if (!is_supported_baud(static_cast<std::uint64_t>(b))) {
        config_error(key, std::to_string(b) +
                              " is not a rate libmodbus can set (1200, 2400, 4800, 9600, 19200, "
                              "38400, 57600, 115200, 230400, … 3000000)");
      }
      c.baud = static_cast<std::uint32_t>(b);
    } else if (key == "parity") {
      only(key, rtu, "rtu");
      c.parity = "NEO"[sdk::read_choice(key, v, kParityNames)];
    } else if (key == "data_bits") {
      only(key, rtu, "rtu");
      c.data_bits = static_cast<int>(sdk::read_integer(key, v, 7, 8));
    } else if (key == "stop_bits") {
      only(key, rtu, "rtu");
      c.stop_bits = static_cast<int>(sdk::read_integer(key, v, 1, 2));
    } else if (key == "rs485") {
      only(key, rtu, "rtu");
      c.rs485 = sdk::read_bool(key, v);
    } else if (key == "request_delay") {
      only(key, rtu, "rtu");
      c.request_delay =
          duration_in(key, v, std::chrono::milliseconds(0), std::chrono::seconds(10), "0 … 10s");
    } else if (key == "timeout") {
      c.timeout = duration_in(key, v, std::chrono::milliseconds(10), std::chrono::seconds(60),
                              "10ms … 60s");
    } else if (key == "initial_backoff") {
      c.initial_backoff =
          duration_in(key, v, std::chrono::milliseconds(10), std::chrono::hours(1), "10ms … 1h");
    } else if (key == "max_backoff") {
      c.max_backoff =
          duration_in(key, v, std::chrono::milliseconds(10), std::chrono::hours(24), "10ms … 24h");
    } else if (key == "max_gap") {
      c.max_gap = static_cast<std::uint16_t>(sdk::read_integer(key, v, 0, 124));
    } else if (key == "append_interval") {
      c.append_interval =
          duration_in(key, v, std::chrono::milliseconds(0), std::chrono::seconds(1), "0 … 1s");
    } else if (key == "interval") {
      interval =
          duration_in(key, v, std::chrono::milliseconds(1), std::chrono::hours(24), "1ms … 24h");
    } else if (key == "word_order") {
      orders.word_swap = sdk::read_choice(key, v, kOrderNames) == 1;
    } else if (key == "byte_order") {
      orders.byte_swap = sdk::read_choice(key, v, kOrderNames) == 1;
    } else if (key == "units") {
      units = &v;
    }
  }
  if (!rtu && c.host.empty()) config_error("host", "required with transport: tcp");
  if (rtu && c.serial_port.empty()) {
    config_error("port", "required with transport: rtu (e.g. /dev/serial/by-id/...)");
  }
  if (c.max_backoff < c.initial_backoff)
    config_error("max_backoff", "is shorter than initial_backoff");
  if (units == nullptr) config_error("units", "required: a list of units (id, device, groups)");
  const json::array& list = sdk::read_array("units", *units);
  if (list.empty()) config_error("units", "is empty: give at least one unit");
  std::set<int> ids;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string path = index_path("units", i);
    Unit u = parse_unit(path, list[i], c, orders, interval);
    if (!ids.insert(u.id).second) {
      config_error(key_path(path, "id"),
                   std::to_string(u.id) + " is already a unit of this source");
    }
    c.units.push_back(std::move(u));
  }
  return c;
}

std::string describe(const Config& c) {
  if (c.transport == Transport::kTcp) {
    return "tcp " + c.host + ":" + std::to_string(c.tcp_port);
  }
  return "rtu " + c.serial_port + " " + std::to_string(c.baud) + " " + std::to_string(c.data_bits) +
         c.parity + std::to_string(c.stop_bits);
}

}  // namespace edgegw::plugins::modbus
