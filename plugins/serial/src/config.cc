// SPDX-License-Identifier: Apache-2.0
#include "config.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "edgegw/config_keys.h"
#include "edgegw/plugin_config.h"
#include "edgegw/plugin_sdk.h"

namespace edgegw::plugins::serial {
namespace {

namespace json = boost::json;
using sdk::Error;
using sdk::kind_of;

// Linux's termios rates (Bnnn); set with cfsetspeed, so all of them work, not only Boost's list.
constexpr std::array<std::uint32_t, 30> kStandardBauds = {
    50,     75,     110,     134,     150,     200,     300,     600,     1200,    1800,
    2400,   4800,   9600,    19200,   38400,   57600,   115200,  230400,  460800,  500000,
    576000, 921600, 1000000, 1152000, 1500000, 2000000, 2500000, 3000000, 3500000, 4000000};

constexpr std::array<std::string_view, 14> kKeys = {
    "port",         "baud",           "data_bits",          "parity",    "stop_bits",
    "flow_control", "framing",        "delimiter",          "max_frame", "device",
    "device_field", "reopen_backoff", "reopen_max_backoff", "exclusive"};

constexpr std::size_t kMaxFrameLimit = 16 * 1024 * 1024;  // the host's largest payload
constexpr std::size_t kMaxDelimiter = 16;
constexpr std::size_t kMaxDeviceKey = 256;

[[noreturn]] void fail(std::string_view key, const std::string& what) {
  throw Error(EDGEGW_ERR_INVALID_ARGUMENT, std::string(key) + ": " + what);
}

std::string_view as_string(std::string_view key, const json::value& v) {
  if (!v.is_string()) fail(key, "expected a string, got " + kind_of(v));
  return v.as_string();
}

std::optional<std::uint64_t> as_unsigned(const json::value& v) {
  if (v.is_int64() && v.as_int64() >= 0) return static_cast<std::uint64_t>(v.as_int64());
  if (v.is_uint64()) return v.as_uint64();
  return std::nullopt;
}

std::uint64_t as_integer(std::string_view key, const json::value& v) {
  if (auto n = as_unsigned(v)) return *n;
  fail(key, "expected a non-negative integer, got " + kind_of(v));
}

bool as_bool(std::string_view key, const json::value& v) {
  if (!v.is_bool()) fail(key, "expected true or false, got " + kind_of(v));
  return v.as_bool();
}

// Splits "250ms" into 250 and "ms"; false when it does not start with digits.
bool split_number(std::string_view s, std::uint64_t& n, std::string_view& unit) {
  std::size_t i = 0;
  n = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    if (n > (UINT64_MAX - 9) / 10) return false;
    n = n * 10 + static_cast<std::uint64_t>(s[i] - '0');
    ++i;
  }
  if (i == 0) return false;
  unit = s.substr(i);
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  return true;
}

// "250ms", "10s", "5m", "1h", "7d" or an integer number of milliseconds.
std::chrono::milliseconds as_duration(std::string_view key, const json::value& v) {
  if (auto n = as_unsigned(v)) return std::chrono::milliseconds(*n);
  if (v.is_string()) {
    if (auto d = sdk::parse_duration(v.as_string())) return *d;
    fail(key, "'" + std::string(v.as_string()) +
                  "' is not a duration (write 250ms, 10s, 5m, 1h, 7d or milliseconds)");
  }
  fail(key, "expected a duration such as 250ms or 10s, got " + kind_of(v));
}

// "4KiB", "64KiB", "1MiB", "4kB" or an integer number of bytes.
std::uint64_t as_size(std::string_view key, const json::value& v) {
  if (auto n = as_unsigned(v)) return *n;
  if (v.is_string()) {
    std::uint64_t n = 0;
    std::string_view unit;
    if (split_number(v.as_string(), n, unit) && n < (1ull << 40)) {
      if (unit.empty() || unit == "B") return n;
      if (unit == "KiB") return n << 10;
      if (unit == "MiB") return n << 20;
      if (unit == "kB") return n * 1000;
      if (unit == "MB") return n * 1000 * 1000;
    }
    fail(key,
         "'" + std::string(v.as_string()) + "' is not a size (write 4096, 4KiB, 64KiB or 1MiB)");
  }
  fail(key, "expected a size such as 4KiB, got " + kind_of(v));
}

bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

}  // namespace

bool is_standard_baud(std::uint64_t baud) noexcept {
  return std::find(kStandardBauds.begin(), kStandardBauds.end(), baud) != kStandardBauds.end();
}

Config parse_config(std::string_view config_json) {
  boost::system::error_code ec;
  const json::value root = json::parse(config_json, ec);
  if (ec || !root.is_object()) fail("config", "expected an object of the serial plugin's keys");

  Config c;
  bool have_port = false;
  std::optional<std::string> framing;
  std::optional<std::string> delimiter;
  for (const auto& [k, v] : root.as_object()) {
    const std::string_view key = k;
    if (key == "port") {
      c.port = as_string(key, v);
      if (c.port.empty())
        fail(key, "is empty (a device such as /dev/ttyUSB0 or /dev/serial/by-id/...)");
      if (c.port.find('\0') != std::string::npos) fail(key, "holds a NUL byte");
      have_port = true;
    } else if (key == "baud") {
      const std::uint64_t b = as_integer(key, v);
      if (!is_standard_baud(b)) {
        fail(key, std::to_string(b) +
                      " is not a standard rate (50 … 4000000, e.g. 9600, 19200, "
                      "38400, 57600, 115200, 230400, 460800, 921600)");
      }
      c.baud = static_cast<std::uint32_t>(b);
    } else if (key == "data_bits") {
      const std::uint64_t b = as_integer(key, v);
      if (b < 5 || b > 8) fail(key, std::to_string(b) + " is not 5, 6, 7 or 8");
      c.data_bits = static_cast<std::uint32_t>(b);
    } else if (key == "parity") {
      const std::string_view p = as_string(key, v);
      if (p == "none") {
        c.parity = Parity::kNone;
      } else if (p == "odd") {
        c.parity = Parity::kOdd;
      } else if (p == "even") {
        c.parity = Parity::kEven;
      } else {
        fail(key, "'" + std::string(p) + "' is not none, odd or even");
      }
    } else if (key == "stop_bits") {
      if (v.is_double() && v.as_double() == 1.5) {
        fail(key, "1.5 is not supported on Linux (use 1 or 2)");
      }
      const std::uint64_t s = as_integer(key, v);
      if (s != 1 && s != 2) fail(key, std::to_string(s) + " is not 1 or 2");
      c.stop_bits = static_cast<std::uint32_t>(s);
    } else if (key == "flow_control") {
      const std::string_view f = as_string(key, v);
      if (f == "none") {
        c.flow_control = FlowControl::kNone;
      } else if (f == "software" || f == "xon_xoff") {
        c.flow_control = FlowControl::kSoftware;
      } else if (f == "hardware" || f == "rts_cts") {
        c.flow_control = FlowControl::kHardware;
      } else {
        fail(key,
             "'" + std::string(f) + "' is not none, software (XON/XOFF) or hardware (RTS/CTS)");
      }
    } else if (key == "framing") {
      framing = std::string(as_string(key, v));
      if (*framing != "line" && *framing != "delimiter") {
        fail(key, "'" + *framing + "' is not line (LF or CRLF) or delimiter (with `delimiter:`)");
      }
    } else if (key == "delimiter") {
      delimiter = std::string(as_string(key, v));
      if (delimiter->empty()) fail(key, "is empty");
      if (delimiter->size() > kMaxDelimiter) {
        fail(key, "is " + std::to_string(delimiter->size()) + " bytes (at most " +
                      std::to_string(kMaxDelimiter) + ")");
      }
    } else if (key == "max_frame") {
      const std::uint64_t m = as_size(key, v);
      if (m < 1 || m > kMaxFrameLimit) {
        fail(key, std::to_string(m) + " bytes is out of range (1 … 16MiB)");
      }
      c.max_frame = static_cast<std::size_t>(m);
    } else if (key == "device") {
      c.device = as_string(key, v);
      if (c.device.empty()) fail(key, "is empty");
      if (c.device.size() > kMaxDeviceKey) fail(key, "is longer than 256 bytes");
      if (has_control(c.device)) fail(key, "holds a control character");
    } else if (key == "device_field") {
      DeviceField f;
      if (v.is_string()) {
        f.kind = DeviceField::Kind::kJsonKey;
        f.key = v.as_string();
        if (f.key.empty()) fail(key, "is empty (a JSON key, or a CSV column number from 1)");
      } else if (auto n = as_unsigned(v)) {
        if (*n == 0) fail(key, "CSV columns are counted from 1");
        if (*n > 1024) fail(key, std::to_string(*n) + " is not a plausible CSV column (1 … 1024)");
        f.kind = DeviceField::Kind::kCsvColumn;
        f.column = static_cast<std::size_t>(*n);
      } else {
        fail(key,
             "expected a JSON key (a string) or a CSV column number from 1, got " + kind_of(v));
      }
      c.device_field = std::move(f);
    } else if (key == "reopen_backoff") {
      c.reopen_backoff = as_duration(key, v);
      if (c.reopen_backoff.count() < 1) fail(key, "must be at least 1ms");
    } else if (key == "reopen_max_backoff") {
      c.reopen_max_backoff = as_duration(key, v);
    } else if (key == "exclusive") {
      c.exclusive = as_bool(key, v);
    } else {
      sdk::unknown_key(key, key, kKeys);
    }
  }

  if (!have_port) fail("port", "required (e.g. /dev/ttyUSB0 or /dev/serial/by-id/...)");
  if (c.device.empty() && !c.device_field) {
    fail("device", "required: a fixed device key, or device_field to read it from each line");
  }
  if (c.reopen_max_backoff < c.reopen_backoff) {
    fail("reopen_max_backoff", "is shorter than reopen_backoff");
  }
  const bool delimiter_framing = framing && *framing == "delimiter";
  if (delimiter_framing) {
    if (!delimiter) fail("delimiter", "required with framing: delimiter (e.g. \"\\r\" or \";\")");
    c.line_framing = false;
    c.delimiter = *delimiter;
  } else if (delimiter) {
    fail("delimiter", "only with framing: delimiter (framing: line ends frames at LF or CRLF)");
  }
  return c;
}

std::string line_settings(const Config& c) {
  std::string s = std::to_string(c.data_bits);
  s += c.parity == Parity::kNone ? 'N' : c.parity == Parity::kOdd ? 'O' : 'E';
  s += std::to_string(c.stop_bits);
  if (c.flow_control == FlowControl::kSoftware) s += " XON/XOFF";
  if (c.flow_control == FlowControl::kHardware) s += " RTS/CTS";
  return s;
}

}  // namespace edgegw::plugins::serial
