// SPDX-License-Identifier: Apache-2.0
// The serial plugin's configuration: the `config:` subtree of a source, as JSON, parsed and
// validated in one place. Every error names its key (the host prefixes the source).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace edgegw::plugins::serial {

enum class Parity { kNone, kOdd, kEven };
enum class FlowControl { kNone, kSoftware, kHardware };

// Where a line's device key comes from when one bus carries several devices.
struct DeviceField {
  enum class Kind { kCsvColumn, kJsonKey };
  Kind kind = Kind::kCsvColumn;
  std::size_t column = 0;  // kCsvColumn: counted from 1
  std::string key;         // kJsonKey: a top-level key of the line's JSON object
};

struct Config {
  std::string port;  // a device path; /dev/serial/by-id/... is resolved again on every open
  std::uint32_t baud = 9600;
  std::uint32_t data_bits = 8;
  Parity parity = Parity::kNone;
  std::uint32_t stop_bits = 1;
  FlowControl flow_control = FlowControl::kNone;
  // Frames end at `delimiter`; with `line` framing the delimiter is "\n" and one '\r' before it is
  // removed (LF or CRLF lines).
  bool line_framing = true;
  std::string delimiter = "\n";
  std::size_t max_frame = 4096;  // bytes of a frame without its delimiter
  std::string device;            // the fixed device key, or the fallback of device_field
  std::optional<DeviceField> device_field;
  std::chrono::milliseconds reopen_backoff{200};
  std::chrono::milliseconds reopen_max_backoff{5000};
  bool exclusive = true;  // TIOCEXCL: no other (non-root) process may open the port meanwhile
};

// Parses the JSON text of the source's `config:`. Throws sdk::Error(EDGEGW_ERR_INVALID_ARGUMENT)
// naming the key, e.g. "baud: 115201 is not a standard rate (50 … 4000000)".
Config parse_config(std::string_view config_json);

// "8N1", "7E2", ... (for logs).
std::string line_settings(const Config& config);

// The standard rates the serial driver can be set to (Linux termios).
bool is_standard_baud(std::uint64_t baud) noexcept;

}  // namespace edgegw::plugins::serial
