// SPDX-License-Identifier: Apache-2.0
// The modbus plugin's configuration: the `config:` subtree of a source, as JSON, parsed and
// validated in one place. Every error names its key path ("units[0].groups[1].points[2].type:
// 'float' is not bool, u16, ..."); the host prefixes the source.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace edgegw::plugins::modbus {

enum class Transport : std::uint8_t { kTcp, kRtu };

// The four Modbus tables and the function that reads each.
enum class Kind : std::uint8_t { kCoil, kDiscreteInput, kHolding, kInput };
// A bit table (coils, discrete inputs) or a register table (holding, input).
constexpr bool is_bit_kind(Kind k) noexcept {
  return k == Kind::kCoil || k == Kind::kDiscreteInput;
}
std::string_view kind_name(Kind k) noexcept;

enum class Type : std::uint8_t { kBool, kU16, kI16, kU32, kI32, kU64, kI64, kF32, kF64, kString };
std::string_view type_name(Type t) noexcept;
// Registers a value of the type takes (strings: their `length`).
std::uint16_t type_registers(Type t) noexcept;
// The digits after the decimal point that `x` needs (0.01 -> 2, 273.15 -> 2, 5 -> 0), or -1 when
// more than 12; and those an integer x scale + offset needs (-1: unbounded).
int decimals_of(double x) noexcept;
int scaled_decimals(double scale, double offset) noexcept;

enum class Report : std::uint8_t { kEveryPoll, kOnChange };

struct Point {
  std::string name;  // the reading's variable (lower case)
  Kind kind = Kind::kHolding;
  std::uint16_t address = 0;  // protocol address, from 0
  Type type = Type::kU16;
  std::uint16_t count = 1;  // registers (register kinds) or 1 bit (bit kinds)
  std::int8_t bit = -1;     // type bool of a register: its bit 0 … 15
  bool word_swap = false;   // word_order: little (least significant register first)
  bool byte_swap = false;   // byte_order: little (low byte first within each register)
  double scale = 1.0;
  double offset = 0.0;
  std::string unit;
  Report report = Report::kEveryPoll;
  double deadband = 0.0;  // on_change: a number must move more than this
  // Integers with scale or offset: the decimals of raw x scale + offset (those of scale and
  // offset as written), -1 when they have more than 12.
  std::int8_t decimals = -1;
  bool scaled() const noexcept { return scale != 1.0 || offset != 0.0; }
};

struct Group {
  std::string name;  // for logs ("group 1" unless named)
  std::chrono::milliseconds interval{10000};
  std::vector<Point> points;
};

struct Unit {
  int id = 1;          // the slave id / unit identifier
  std::string device;  // the device key of its readings
  std::vector<Group> groups;
};

struct Config {
  Transport transport = Transport::kTcp;
  // tcp
  std::string host;
  std::uint16_t tcp_port = 502;
  std::chrono::milliseconds connect_timeout{3000};
  // rtu
  std::string serial_port;  // a device path; /dev/serial/by-id/... preferred
  std::uint32_t baud = 9600;
  char parity = 'N';  // libmodbus's 'N', 'E', 'O'
  int data_bits = 8;
  int stop_bits = 1;
  bool rs485 = false;                          // TIOCSRS485 (the driver switches the transceiver)
  std::chrono::milliseconds request_delay{0};  // silence before each request on the line
  // both
  std::chrono::milliseconds timeout{1000};          // for each answer
  std::chrono::milliseconds initial_backoff{1000};  // a silent unit, a lost connection …
  std::chrono::milliseconds max_backoff{60000};     // … retried after this, doubling up to this
  std::uint16_t max_gap = 0;  // unused registers (bits: x16) one request may read across
  // When rounds come faster than this, their polls are handed to the buffer together once per
  // interval (one durable write instead of one per round); a poll is held about that long at
  // most, and not at all when the next round would end later. 0: every round on its own.
  std::chrono::milliseconds append_interval{20};
  std::vector<Unit> units;
};

// Parses the JSON text of the source's `config:`. Throws sdk::Error(EDGEGW_ERR_INVALID_ARGUMENT)
// naming the key path.
Config parse_config(std::string_view config_json);

// "tcp 10.0.0.5:502" or "rtu /dev/ttyUSB0 19200 8E1" (for logs).
std::string describe(const Config& config);

// The rates libmodbus can set a serial line to.
bool is_supported_baud(std::uint64_t baud) noexcept;

}  // namespace edgegw::plugins::modbus
