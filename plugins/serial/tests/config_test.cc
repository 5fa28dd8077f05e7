// SPDX-License-Identifier: Apache-2.0
// Config parsing: defaults, every key, and an error naming the key for every kind of mistake.
#include "config.h"

#include <gtest/gtest.h>

#include <string>

#include "edgegw/plugin_sdk.h"
#include "support/plugin_config_error.h"

namespace edgegw::plugins::serial {
namespace {

std::string error_of(std::string_view json) {
  return testing::config_error([](std::string_view j) { return parse_config(j); }, json);
}

TEST(SerialConfig, Defaults) {
  const Config c = parse_config(R"({"port":"/dev/ttyUSB0","device":"press-7"})");
  EXPECT_EQ(c.port, "/dev/ttyUSB0");
  EXPECT_EQ(c.device, "press-7");
  EXPECT_EQ(c.baud, 9600u);
  EXPECT_EQ(c.data_bits, 8u);
  EXPECT_EQ(c.parity, Parity::kNone);
  EXPECT_EQ(c.stop_bits, 1u);
  EXPECT_EQ(c.flow_control, FlowControl::kNone);
  EXPECT_TRUE(c.line_framing);
  EXPECT_EQ(c.delimiter, "\n");
  EXPECT_EQ(c.max_frame, 4096u);
  EXPECT_FALSE(c.device_field.has_value());
  EXPECT_EQ(c.reopen_backoff.count(), 200);
  EXPECT_EQ(c.reopen_max_backoff.count(), 5000);
  EXPECT_TRUE(c.exclusive);
  EXPECT_EQ(line_settings(c), "8N1");
}

TEST(SerialConfig, EveryKey) {
  const Config c = parse_config(R"({
    "port": "/dev/serial/by-id/usb-FTDI_FT232R-if00-port0", "baud": 115200, "data_bits": 7,
    "parity": "even", "stop_bits": 2, "flow_control": "hardware", "framing": "delimiter",
    "delimiter": "\r", "max_frame": "64KiB", "device": "fallback", "device_field": "dev",
    "reopen_backoff": "50ms", "reopen_max_backoff": "2s", "exclusive": false})");
  EXPECT_EQ(c.baud, 115200u);
  EXPECT_EQ(c.data_bits, 7u);
  EXPECT_EQ(c.parity, Parity::kEven);
  EXPECT_EQ(c.stop_bits, 2u);
  EXPECT_EQ(c.flow_control, FlowControl::kHardware);
  EXPECT_FALSE(c.line_framing);
  EXPECT_EQ(c.delimiter, "\r");
  EXPECT_EQ(c.max_frame, 64u * 1024);
  EXPECT_EQ(c.device, "fallback");
  ASSERT_TRUE(c.device_field.has_value());
  EXPECT_EQ(c.device_field->kind, DeviceField::Kind::kJsonKey);
  EXPECT_EQ(c.device_field->key, "dev");
  EXPECT_EQ(c.reopen_backoff.count(), 50);
  EXPECT_EQ(c.reopen_max_backoff.count(), 2000);
  EXPECT_FALSE(c.exclusive);
  EXPECT_EQ(line_settings(c), "7E2 RTS/CTS");
}

TEST(SerialConfig, DeviceFieldIsACsvColumnWhenANumber) {
  const Config c = parse_config(R"({"port":"/dev/ttyS0","device_field":2})");
  ASSERT_TRUE(c.device_field.has_value());
  EXPECT_EQ(c.device_field->kind, DeviceField::Kind::kCsvColumn);
  EXPECT_EQ(c.device_field->column, 2u);
  EXPECT_TRUE(c.device.empty());
}

TEST(SerialConfig, SizesAndDurationsInEveryForm) {
  EXPECT_EQ(parse_config(R"({"port":"p","device":"d","max_frame":100})").max_frame, 100u);
  EXPECT_EQ(parse_config(R"({"port":"p","device":"d","max_frame":"1MiB"})").max_frame, 1u << 20);
  EXPECT_EQ(parse_config(R"({"port":"p","device":"d","max_frame":"2kB"})").max_frame, 2000u);
  EXPECT_EQ(parse_config(R"({"port":"p","device":"d","reopen_max_backoff":"1m"})")
                .reopen_max_backoff.count(),
            60000);
  EXPECT_EQ(
      parse_config(R"({"port":"p","device":"d","reopen_backoff":300})").reopen_backoff.count(),
      300);
  EXPECT_EQ(line_settings(parse_config(R"({"port":"p","device":"d","flow_control":"software",
                                           "parity":"odd"})")),
            "8O1 XON/XOFF");
}

TEST(SerialConfig, EveryLinuxStandardBaudIsAccepted) {
  for (int baud :
       {50, 1200, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600, 1500000, 4000000}) {
    EXPECT_EQ(error_of(R"({"port":"p","device":"d","baud":)" + std::to_string(baud) + "}"), "")
        << baud;
  }
}

TEST(SerialConfig, ErrorsNameTheKey) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"device":"d"})", "port: required"},
      {R"({"port":"p"})", "device: required: a fixed device key, or device_field"},
      {R"({"port":"","device":"d"})", "port: is empty"},
      {R"({"port":7,"device":"d"})", "port: expected a string, got an integer"},
      {R"({"port":"p","device":"d","baud":115201})", "baud: 115201 is not a standard rate"},
      {R"({"port":"p","device":"d","baud":"fast"})", "baud: expected a non-negative integer"},
      {R"({"port":"p","device":"d","data_bits":9})", "data_bits: 9 is not 5, 6, 7 or 8"},
      {R"({"port":"p","device":"d","parity":"mark"})", "parity: 'mark' is not none, odd or even"},
      {R"({"port":"p","device":"d","stop_bits":1.5})", "stop_bits: 1.5 is not supported on Linux"},
      {R"({"port":"p","device":"d","stop_bits":3})", "stop_bits: 3 is not 1 or 2"},
      {R"({"port":"p","device":"d","flow_control":"dtr"})", "flow_control: 'dtr' is not none"},
      {R"({"port":"p","device":"d","framing":"slip"})", "framing: 'slip' is not line"},
      {R"({"port":"p","device":"d","framing":"delimiter"})", "delimiter: required with framing"},
      {R"({"port":"p","device":"d","delimiter":";"})", "delimiter: only with framing: delimiter"},
      {R"({"port":"p","device":"d","framing":"delimiter","delimiter":""})", "delimiter: is empty"},
      {R"({"port":"p","device":"d","framing":"delimiter","delimiter":"0123456789abcdefg"})",
       "delimiter: is 17 bytes (at most 16)"},
      {R"({"port":"p","device":"d","max_frame":0})", "max_frame: 0 bytes is out of range"},
      {R"({"port":"p","device":"d","max_frame":"17MiB"})", "max_frame: 17825792 bytes is out"},
      {R"({"port":"p","device":"d","max_frame":"4 KB"})", "max_frame: '4 KB' is not a size"},
      {R"({"port":"p","device":"d","max_frame":-1})", "max_frame: expected a size"},
      {R"({"port":"p","device":""})", "device: is empty"},
      {R"({"port":"p","device":"a\u0001b"})", "device: holds a control character"},
      {R"({"port":"p","device_field":0})", "device_field: CSV columns are counted from 1"},
      {R"({"port":"p","device_field":""})", "device_field: is empty"},
      {R"({"port":"p","device_field":true})", "device_field: expected a JSON key (a string)"},
      {R"({"port":"p","device":"d","reopen_backoff":"soon"})",
       "reopen_backoff: 'soon' is not a duration"},
      {R"({"port":"p","device":"d","reopen_backoff":0})", "reopen_backoff: must be at least 1ms"},
      {R"({"port":"p","device":"d","reopen_backoff":"10s","reopen_max_backoff":"1s"})",
       "reopen_max_backoff: is shorter than reopen_backoff"},
      {R"({"port":"p","device":"d","exclusive":"yes"})", "exclusive: expected true or false"},
      {R"([1,2])", "config: expected an object"},
      {R"({"port":)", "config: expected an object"},
  };
  for (const auto& [json, expected] : cases) {
    const std::string e = error_of(json);
    EXPECT_EQ(e.rfind(expected, 0), 0u) << json << "\n  gave: " << e;
  }
}

TEST(SerialConfig, UnknownKeyIsAnErrorWithASuggestionAndTheKnownKeys) {
  const std::string e = error_of(R"({"port":"p","device":"d","baudrate":9600})");
  EXPECT_EQ(e.rfind("baudrate: unknown key (did you mean 'baud'?); known keys: port, baud,", 0), 0u)
      << e;
  EXPECT_NE(e.find("device_field"), std::string::npos) << e;
  const std::string far = error_of(R"({"port":"p","device":"d","colour":"red"})");
  EXPECT_EQ(far.rfind("colour: unknown key; known keys: ", 0), 0u) << far;
}

}  // namespace
}  // namespace edgegw::plugins::serial
