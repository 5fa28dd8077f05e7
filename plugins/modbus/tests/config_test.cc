// SPDX-License-Identifier: Apache-2.0
// Config parsing: defaults, every key, and an error naming the key path for every kind of mistake.
#include "config.h"

#include <gtest/gtest.h>

#include <string>

#include "support/plugin_config_error.h"

namespace edgegw::plugins::modbus {
namespace {

std::string error_of(std::string_view json) {
  return edgegw::testing::config_error([](std::string_view j) { return parse_config(j); }, json);
}

constexpr const char* kUnit =
    R"("units":[{"id":1,"device":"m1","groups":[{"points":[{"name":"v","address":0}]}]}])";

std::string tcp(const std::string& extra = "") {
  return R"({"transport":"tcp","host":"10.0.0.5",)" + extra + kUnit + "}";
}
std::string rtu(const std::string& extra = "") {
  return R"({"transport":"rtu","port":"/dev/ttyUSB0",)" + extra + kUnit + "}";
}
// A config with one point given as `point` (an object's inner text).
std::string with_point(const std::string& point) {
  return R"({"transport":"tcp","host":"h","units":[{"id":1,"device":"m1","groups":[{"points":[{)" +
         point + "}]}]}]}";
}

TEST(ModbusConfig, DefaultsOfTcp) {
  const Config c = parse_config(tcp());
  EXPECT_EQ(c.transport, Transport::kTcp);
  EXPECT_EQ(c.host, "10.0.0.5");
  EXPECT_EQ(c.tcp_port, 502);
  EXPECT_EQ(c.connect_timeout.count(), 3000);
  EXPECT_EQ(c.timeout.count(), 1000);
  EXPECT_EQ(c.initial_backoff.count(), 1000);
  EXPECT_EQ(c.max_backoff.count(), 60000);
  EXPECT_EQ(c.max_gap, 0);
  EXPECT_EQ(c.append_interval.count(), 20);
  ASSERT_EQ(c.units.size(), 1u);
  const Unit& u = c.units[0];
  EXPECT_EQ(u.id, 1);
  EXPECT_EQ(u.device, "m1");
  ASSERT_EQ(u.groups.size(), 1u);
  EXPECT_EQ(u.groups[0].name, "group 1");
  EXPECT_EQ(u.groups[0].interval.count(), 10000);
  const Point& p = u.groups[0].points[0];
  EXPECT_EQ(p.name, "v");
  EXPECT_EQ(p.kind, Kind::kHolding);
  EXPECT_EQ(p.type, Type::kU16);
  EXPECT_EQ(p.count, 1);
  EXPECT_FALSE(p.word_swap);
  EXPECT_FALSE(p.byte_swap);
  EXPECT_FALSE(p.scaled());
  EXPECT_EQ(p.report, Report::kEveryPoll);
  EXPECT_EQ(describe(c), "tcp 10.0.0.5:502");
}

TEST(ModbusConfig, DefaultsOfRtuAreTheSerialLineStandard) {
  const Config c = parse_config(rtu());
  EXPECT_EQ(c.serial_port, "/dev/ttyUSB0");
  EXPECT_EQ(c.baud, 19200u);
  EXPECT_EQ(c.parity, 'E');
  EXPECT_EQ(c.data_bits, 8);
  EXPECT_EQ(c.stop_bits, 1);
  EXPECT_FALSE(c.rs485);
  EXPECT_EQ(c.request_delay.count(), 0);
  EXPECT_EQ(describe(c), "rtu /dev/ttyUSB0 19200 8E1");
}

TEST(ModbusConfig, EveryKey) {
  const Config c = parse_config(R"({
    "transport": "rtu", "port": "/dev/serial/by-id/usb-FTDI-if00-port0", "baud": 9600,
    "parity": "none", "data_bits": 8, "stop_bits": 2, "rs485": true, "request_delay": "5ms",
    "timeout": "250ms", "initial_backoff": "100ms", "max_backoff": "10s", "max_gap": 4,
    "interval": "2s", "append_interval": "0s", "word_order": "little", "byte_order": "big",
    "units": [{"id": 7, "device": "meter-7", "byte_order": "little", "groups": [
      {"name": "fast", "interval": "500ms", "points": [
        {"name": "energy", "kind": "input", "address": 100, "type": "u64", "word_order": "big",
         "scale": 0.001, "offset": 1, "unit": "kWh", "report": "on_change", "deadband": 0.5},
        {"name": "alarm", "kind": "coil", "address": 3},
        {"name": "door", "kind": "discrete_input", "address": 4, "type": "bool"},
        {"name": "ready", "address": 9, "type": "bool", "bit": 15},
        {"name": "model", "address": 20, "type": "string", "length": 8}]},
      {"points": [{"name": "temp", "address": 30, "type": "f32"}]}]}]})");
  EXPECT_EQ(c.baud, 9600u);
  EXPECT_EQ(c.parity, 'N');
  EXPECT_EQ(c.stop_bits, 2);
  EXPECT_TRUE(c.rs485);
  EXPECT_EQ(c.request_delay.count(), 5);
  EXPECT_EQ(c.timeout.count(), 250);
  EXPECT_EQ(c.initial_backoff.count(), 100);
  EXPECT_EQ(c.max_backoff.count(), 10000);
  EXPECT_EQ(c.max_gap, 4);
  EXPECT_EQ(c.append_interval.count(), 0);
  const Unit& u = c.units[0];
  EXPECT_EQ(u.id, 7);
  EXPECT_EQ(u.device, "meter-7");
  const Group& fast = u.groups[0];
  EXPECT_EQ(fast.name, "fast");
  EXPECT_EQ(fast.interval.count(), 500);
  const Point& e = fast.points[0];
  EXPECT_EQ(e.kind, Kind::kInput);
  EXPECT_EQ(e.address, 100);
  EXPECT_EQ(e.type, Type::kU64);
  EXPECT_EQ(e.count, 4);
  EXPECT_FALSE(e.word_swap);  // the point's own, over the source's little
  EXPECT_TRUE(e.byte_swap);   // the unit's
  EXPECT_DOUBLE_EQ(e.scale, 0.001);
  EXPECT_DOUBLE_EQ(e.offset, 1);
  EXPECT_EQ(e.unit, "kWh");
  EXPECT_EQ(e.report, Report::kOnChange);
  EXPECT_DOUBLE_EQ(e.deadband, 0.5);
  EXPECT_EQ(fast.points[1].kind, Kind::kCoil);
  EXPECT_EQ(fast.points[1].type, Type::kBool);
  EXPECT_EQ(fast.points[2].kind, Kind::kDiscreteInput);
  EXPECT_EQ(fast.points[3].bit, 15);
  EXPECT_EQ(fast.points[4].type, Type::kString);
  EXPECT_EQ(fast.points[4].count, 8);
  const Group& second = u.groups[1];
  EXPECT_EQ(second.name, "group 2");
  EXPECT_EQ(second.interval.count(), 2000);  // the source's interval
  EXPECT_TRUE(second.points[0].word_swap);   // the source's word order
  EXPECT_EQ(second.points[0].count, 2);
}

TEST(ModbusConfig, TypesTakeTheirRegisters) {
  for (const auto& [type, count] : std::vector<std::pair<std::string, int>>{{"u16", 1},
                                                                            {"i16", 1},
                                                                            {"u32", 2},
                                                                            {"i32", 2},
                                                                            {"f32", 2},
                                                                            {"u64", 4},
                                                                            {"i64", 4},
                                                                            {"f64", 4}}) {
    const Config c = parse_config(with_point(R"("name":"v","address":0,"type":")" + type + "\""));
    EXPECT_EQ(c.units[0].groups[0].points[0].count, count) << type;
  }
}

TEST(ModbusConfig, ErrorsNameTheKey) {
  const std::string p = "units[0].groups[0].points[0].";
  const std::pair<std::string, std::string> cases[] = {
      {R"({"host":"h"})", "transport: required"},
      {R"({"transport":"udp"})", "transport: 'udp' is not tcp or rtu"},
      {R"({"transport":"tcp",)" + std::string(kUnit) + "}", "host: required with transport: tcp"},
      {R"({"transport":"rtu",)" + std::string(kUnit) + "}", "port: required with transport: rtu"},
      {tcp(R"("port":"/dev/ttyS0",)"), "port: expected a TCP port number"},
      {tcp(R"("port":0,)"), "port: 0 is out of range 1 … 65535"},
      {tcp(R"("baud":9600,)"), "baud: only with transport: rtu"},
      {rtu(R"("host":"h",)"), "host: only with transport: tcp"},
      {rtu(R"("connect_timeout":"1s",)"), "connect_timeout: only with transport: tcp"},
      {rtu(R"("baud":14400,)"), "baud: 14400 is not a rate libmodbus can set"},
      {rtu(R"("parity":"mark",)"), "parity: 'mark' is not none, even or odd"},
      {rtu(R"("data_bits":9,)"), "data_bits: 9 is out of range 7 … 8"},
      {rtu(R"("stop_bits":3,)"), "stop_bits: 3 is out of range 1 … 2"},
      {rtu(R"("rs485":"yes",)"), "rs485: expected true or false"},
      {tcp(R"("timeout":"soon",)"), "timeout: 'soon' is not a duration"},
      {tcp(R"("timeout":"5ms",)"), "timeout: 5ms is out of range (10ms … 60s)"},
      {tcp(R"("initial_backoff":"10s","max_backoff":"1s",)"),
       "max_backoff: is shorter than initial_backoff"},
      {tcp(R"("max_gap":125,)"), "max_gap: 125 is out of range 0 … 124"},
      {tcp(R"("append_interval":"2s",)"), "append_interval: 2000ms is out of range (0 … 1s)"},
      {tcp(R"("word_order":"middle",)"), "word_order: 'middle' is not big or little"},
      {R"({"transport":"tcp","host":"h"})", "units: required"},
      {R"({"transport":"tcp","host":"h","units":[]})", "units: is empty"},
      {R"({"transport":"tcp","host":"h","units":{}})", "units: expected a list"},
      {R"({"transport":"tcp","host":"h","units":[{"device":"d","groups":[]}]})",
       "units[0].id: required"},
      {R"({"transport":"rtu","port":"p","units":[{"id":0,"device":"d"}]})",
       "units[0].id: 0 is out of range 1 … 247"},
      {R"({"transport":"tcp","host":"h","units":[{"id":1,"groups":[]}]})",
       "units[0].device: required"},
      {R"({"transport":"tcp","host":"h","units":[{"id":1,"device":"d"}]})",
       "units[0].groups: required"},
      {R"({"transport":"tcp","host":"h","units":[{"id":1,"device":"d","groups":[{}]}]})",
       "units[0].groups[0].points: required"},
      {R"({"transport":"tcp","host":"h","units":[{"id":1,"device":"d","groups":[
          {"interval":"0ms","points":[{"name":"v","address":0}]}]}]})",
       "units[0].groups[0].interval: 0ms is out of range (1ms … 24h)"},
      {R"({"transport":"tcp","host":"h","units":[
          {"id":1,"device":"a","groups":[{"points":[{"name":"v","address":0}]}]},
          {"id":1,"device":"b","groups":[{"points":[{"name":"v","address":0}]}]}]})",
       "units[1].id: 1 is already a unit of this source"},
      {R"({"transport":"tcp","host":"h","units":[{"id":1,"device":"a","groups":[
          {"points":[{"name":"v","address":0}]},{"points":[{"name":"v","address":1}]}]}]})",
       "units[0].groups[1].points[0].name: 'v' is already a point of this unit"},
      {with_point(R"("address":0)"), p + "name: required"},
      {with_point(R"("name":"v")"), p + "address: required"},
      {with_point(R"("name":"Volt","address":0)"), p + "name: 'Volt' must be lower case"},
      {with_point(R"("name":"a.b","address":0)"), p + "name: 'a.b' holds one of"},
      {with_point(R"("name":"v","address":65536)"), p + "address: 65536 is out of range"},
      {with_point(R"("name":"v","address":65535,"type":"u32")"),
       p + "address: 65535 + 2 registers run past 65535"},
      {with_point(R"("name":"v","address":0,"type":"float")"), p + "type: 'float' is not bool"},
      {with_point(R"("name":"v","address":0,"kind":"register")"),
       p + "kind: 'register' is not coil, discrete_input, holding or input"},
      {with_point(R"("name":"v","address":0,"kind":"coil","type":"u16")"),
       p + "type: coil points are bool (not u16)"},
      {with_point(R"("name":"v","address":0,"type":"bool")"), p + "bit: required with type: bool"},
      {with_point(R"("name":"v","address":0,"type":"bool","bit":16)"),
       p + "bit: 16 is out of range 0 … 15"},
      {with_point(R"("name":"v","address":0,"bit":1)"), p + "bit: only with type: bool"},
      {with_point(R"("name":"v","address":0,"type":"string")"),
       p + "length: required with type: string"},
      {with_point(R"("name":"v","address":0,"type":"string","length":126)"),
       p + "length: 126 is out of range 1 … 125"},
      {with_point(R"("name":"v","address":0,"length":2)"), p + "length: only with type: string"},
      {with_point(R"("name":"v","address":0,"scale":0)"), p + "scale: must not be 0"},
      {with_point(R"("name":"v","address":0,"scale":"x")"), p + "scale: expected a number"},
      {with_point(R"("name":"v","kind":"coil","address":0,"scale":2)"),
       p + "scale: scale and offset apply to numbers, not to bool"},
      {with_point(R"("name":"v","address":0,"deadband":1)"),
       p + "deadband: only with report: on_change"},
      {with_point(R"("name":"v","address":0,"report":"on_change","deadband":-1)"),
       p + "deadband: must be 0 or more"},
      {with_point(R"("name":"v","address":0,"report":"sometimes")"),
       p + "report: 'sometimes' is not every_poll or on_change"},
      {with_point(R"("name":"v","address":0,"unit":"abcdefghijklmnopqrstuvwxyz")"),
       p + "unit: is longer than 25 characters"},
      {R"([1])", "config: expected an object"},
  };
  for (const auto& [json, expected] : cases) {
    const std::string e = error_of(json);
    EXPECT_EQ(e.rfind(expected, 0), 0u) << json << "\n  gave: " << e;
  }
}

// A key that is not a plain path is quoted, so the error shows where it ends (found by the
// config fuzzer: a key beginning with ": ") and no control character reaches the log.
TEST(ModbusConfig, AnOddKeyIsNamedQuoted) {
  EXPECT_EQ(error_of(tcp(R"(": anspovt":"x",)")).rfind(R"(": anspovt": unknown key)", 0), 0u);
  EXPECT_EQ(error_of(tcp(R"("a\nb\"c":"x",)")).rfind(R"("a\u000ab\"c": unknown key)", 0), 0u);
  EXPECT_EQ(error_of(tcp(R"("":"x",)")).rfind(R"("": unknown key)", 0), 0u);
}

TEST(ModbusConfig, UnknownKeysAreRefusedWithASuggestion) {
  const std::string top = error_of(tcp(R"("hots":"x",)"));
  EXPECT_EQ(top.rfind("hots: unknown key (did you mean 'host'?); known keys: transport, host,", 0),
            0u)
      << top;
  const std::string deep = error_of(with_point(R"("name":"v","address":0,"wordorder":"big")"));
  EXPECT_EQ(deep.rfind("units[0].groups[0].points[0].wordorder: unknown key (did you mean "
                       "'word_order'?)",
                       0),
            0u)
      << deep;
}

}  // namespace
}  // namespace edgegw::plugins::modbus
