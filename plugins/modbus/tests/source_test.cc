// SPDX-License-Identifier: Apache-2.0
// The modbus source against a real libmodbus server (test_server.h), in-process with a recording
// host: over TCP on a free port and RTU over a socat pty pair. Every type and order, scaling,
// on_change with a deadband, an exception response, a unit that stops answering while another
// keeps working, a server restart, an unplugged adapter, garbage on the serial line and a full
// buffer. What it checks is what the host was handed: one message per poll of a unit (the units
// polled in one round in one append), the poll's time, and no value the server did not hold.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "edgegw/plugin_worker.h"
#include "fake_host.h"
#include "modbus_source.h"
#include "support/pty.h"
#include "support/subprocess.h"
#include "test_server.h"

namespace edgegw::plugins::modbus {
namespace {

using namespace std::chrono_literals;
using testing::FakeHost;
using testing::Message;
using testing::Table;
using testing::TestServer;
namespace json = boost::json;

// variable -> the JSON text of its value, and variable -> unit.
struct Readings {
  std::map<std::string, std::string> values;
  std::map<std::string, std::string> units;
};
Readings readings_of(const Message& m) {
  Readings r;
  const json::value v = json::parse(m.payload);
  for (const json::value& item : v.as_array()) {
    const json::object& o = item.as_object();
    const std::string name(o.at("variable").as_string());
    EXPECT_EQ(r.values.count(name), 0u) << "twice in one poll: " << name;
    r.values[name] = json::serialize(o.at("value"));
    if (const json::value* u = o.if_contains("unit")) r.units[name] = u->as_string();
    EXPECT_EQ(o.size(), o.contains("unit") ? 3u : 2u) << m.payload;
  }
  return r;
}

// Every value the variable had, poll after poll, for one device.
std::vector<std::string> history(const FakeHost& host, const std::string& device,
                                 const std::string& variable) {
  std::vector<std::string> values;
  for (const Message& m : host.messages()) {
    if (m.device != device) continue;
    const Readings r = readings_of(m);
    if (auto it = r.values.find(variable); it != r.values.end()) values.push_back(it->second);
  }
  return values;
}

// How often `needle` stands in `text`.
std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

std::size_t appends_of(const FakeHost& host, const std::string& device) {
  std::size_t n = 0;
  for (const Message& m : host.messages()) n += m.device == device ? 1 : 0;
  return n;
}

std::unique_ptr<ModbusSource> source(FakeHost& host, const std::string& config) {
  auto s = std::make_unique<ModbusSource>(host.host(), "meters", config);
  s->start();
  return s;
}

std::string tcp_config(int port, const std::string& units, const std::string& extra = "") {
  return R"({"transport":"tcp","host":"127.0.0.1","port":)" + std::to_string(port) +
         R"(,"timeout":"300ms","connect_timeout":"300ms","initial_backoff":"50ms",)"
         R"("max_backoff":"400ms",)" +
         extra + R"("units":)" + units + "}";
}
std::string rtu_config(const std::string& port, const std::string& units,
                       const std::string& extra = "") {
  return R"({"transport":"rtu","port":")" + port +
         R"(","baud":115200,"parity":"none","timeout":"200ms","initial_backoff":"50ms",)"
         R"("max_backoff":"1s",)" +
         extra + R"("units":)" + units + "}";
}

// A unit holding one of every type in every order (the server's registers set to match).
constexpr const char* kEveryTypePoints = R"([
  {"name":"u16","address":0,"type":"u16","unit":"V"},
  {"name":"i16","address":1,"type":"i16"},
  {"name":"u32","address":2,"type":"u32"},
  {"name":"i32_cdab","address":4,"type":"i32","word_order":"little"},
  {"name":"u64_badc","address":6,"type":"u64","byte_order":"little"},
  {"name":"i64_dcba","address":10,"type":"i64","word_order":"little","byte_order":"little"},
  {"name":"f32","address":14,"type":"f32","unit":"A"},
  {"name":"f32_cdab","address":16,"type":"f32","word_order":"little"},
  {"name":"f32_badc","address":18,"type":"f32","byte_order":"little"},
  {"name":"f32_dcba","address":20,"type":"f32","word_order":"little","byte_order":"little"},
  {"name":"f64","address":22,"type":"f64"},
  {"name":"f64_dcba","address":26,"type":"f64","word_order":"little","byte_order":"little"},
  {"name":"model","address":30,"type":"string","length":4},
  {"name":"ready","address":34,"type":"bool","bit":3},
  {"name":"power","address":35,"type":"i16","scale":0.1,"offset":-1,"unit":"kW"},
  {"name":"temp","kind":"input","address":0,"type":"i16","scale":0.01,"unit":"C"},
  {"name":"count","kind":"input","address":1,"type":"u32","word_order":"little"},
  {"name":"alarm","kind":"coil","address":5},
  {"name":"door","kind":"discrete_input","address":7}])";

void set_every_type(TestServer& server, int unit) {
  server.add_unit(unit);
  std::vector<std::uint16_t> h(36, 0);
  h[0] = 65534;
  h[1] = 0xfffe;                                                   // -2
  h[2] = 0x0102, h[3] = 0x0304;                                    // 16909060
  h[4] = 0xfffe, h[5] = 0xffff;                                    // -2, CDAB
  h[6] = 0x0201, h[7] = 0x0403, h[8] = 0x0605, h[9] = 0x0807;      // BADC
  h[10] = 0x85ff, h[11] = 0xffff, h[12] = 0xffff, h[13] = 0xffff;  // -123, DCBA
  // f32 230.1 ABCD, -0.5 CDAB, 1e-7 BADC, 49.99 DCBA (libmodbus 3.1.6's float setters swap
  // bytes on a little-endian machine: not used).
  h[14] = 0x4366, h[15] = 0x199a;
  h[16] = 0x0000, h[17] = 0xbf00;
  h[18] = 0xd633, h[19] = 0x95bf;
  h[20] = 0xc3f5, h[21] = 0x4742;
  h[22] = 0x405c, h[23] = 0xc666, h[24] = 0x6666, h[25] = 0x6666;  // 115.1
  h[26] = 0x6666, h[27] = 0x6666, h[28] = 0x66c6, h[29] = 0x5c40;  // 115.1, DCBA
  h[30] = 0x4d31, h[31] = 0x2d58, h[32] = 0x2020, h[33] = 0x2020;  // "M1-X"
  h[34] = 0x0008;                                                  // bit 3
  h[35] = 0xff9c;                                                  // -100 x 0.1 - 1
  server.set_registers(unit, Table::kHolding, 0, h);
  server.set_registers(unit, Table::kInput, 0, {0xf830, 0x0001, 0x0002});  // -2000; 0x00020001
  server.set_bits(unit, Table::kCoil, 5, {true});
  server.set_bits(unit, Table::kDiscreteInput, 7, {false});
}

void expect_every_type(const Readings& r) {
  const std::map<std::string, std::string> expected = {{"u16", "65534"},
                                                       {"i16", "-2"},
                                                       {"u32", "16909060"},
                                                       {"i32_cdab", "-2"},
                                                       {"u64_badc", "72623859790382856"},
                                                       {"i64_dcba", "-123"},
                                                       {"f32", "2.301E2"},
                                                       {"f32_cdab", "-5E-1"},
                                                       {"f32_badc", "1E-7"},
                                                       {"f32_dcba", "4.999E1"},
                                                       {"f64", "1.151E2"},
                                                       {"f64_dcba", "1.151E2"},
                                                       {"model", "\"M1-X\""},
                                                       {"ready", "true"},
                                                       {"power", "-11"},
                                                       {"temp", "-20"},
                                                       {"count", "131073"},
                                                       {"alarm", "true"},
                                                       {"door", "false"}};
  EXPECT_EQ(r.values, expected);
  EXPECT_EQ(r.units.at("u16"), "V");
  EXPECT_EQ(r.units.at("power"), "kW");
  EXPECT_EQ(r.units.at("temp"), "C");
  EXPECT_EQ(r.units.count("i16"), 0u);
}

std::string unit_json(int id, const std::string& device, const std::string& points,
                      const std::string& interval = "50ms") {
  return R"({"id":)" + std::to_string(id) + R"(,"device":")" + device +
         R"(","groups":[{"interval":")" + interval + R"(","points":)" + points + "}]}";
}

constexpr const char* kOnePoint = R"([{"name":"v","address":0}])";

// A TCP server whose unit 1 holds `value` in holding register 0.
std::unique_ptr<TestServer> tcp_server_holding(std::uint16_t value) {
  auto server = TestServer::tcp();
  server->add_unit(1);
  server->set_registers(1, Table::kHolding, 0, {value});
  return server;
}
// A source of device "m" reading it every 50 ms.
std::string one_point_tcp(int port) {
  return tcp_config(port, "[" + unit_json(1, "m", kOnePoint) + "]");
}

TEST(ModbusSource, NamesAndUnitsAreWrittenAsJsonStrings) {
  auto server = tcp_server_holding(7);
  FakeHost host;
  // A quote and a backslash are allowed in a variable name; a unit is UTF-8.
  auto s = source(
      host,
      tcp_config(
          server->port(),
          "[" + unit_json(1, "m", R"([{"name":"t\"in\\out","address":0,"unit":"°C"}])") + "]"));
  ASSERT_TRUE(FakeHost::wait([&] { return host.appends().size() >= 1; })) << host.log();
  s->stop();
  const Readings r = readings_of(host.messages().at(0));
  EXPECT_EQ(r.values.at("t\"in\\out"), "7");
  EXPECT_EQ(r.units.at("t\"in\\out"), "°C");
}

TEST(ModbusSource, EveryTypeAndOrderOverTcpInOneAppendPerPoll) {
  auto server = TestServer::tcp();
  set_every_type(*server, 1);
  FakeHost host;
  const std::int64_t before = sdk::now_ms();
  auto s = source(
      host, tcp_config(server->port(), "[" + unit_json(1, "meter-1", kEveryTypePoints) + "]"));
  ASSERT_TRUE(FakeHost::wait([&] { return host.appends().size() >= 3; })) << host.log();
  s->stop();
  const std::int64_t after = sdk::now_ms();
  const auto appends = host.appends();
  std::int64_t last_time = 0;
  for (const auto& a : appends) {
    ASSERT_EQ(a.size(), 1u);  // one poll of one unit: one message in one append
    EXPECT_EQ(a[0].device, "meter-1");
    expect_every_type(readings_of(a[0]));
    EXPECT_GE(a[0].time_ms, before);
    EXPECT_LE(a[0].time_ms, after);
    EXPECT_GT(a[0].time_ms, last_time);  // the poll's own time, 50 ms apart
    last_time = a[0].time_ms;
  }
  // What the group costs, said at start-up: holding 0-35, input 0-2, a coil and a discrete input.
  EXPECT_NE(host.log().find("unit 1 (meter-1), group 'group 1' every 50ms: 19 point(s) in 4 "
                            "request(s): coil 5, discrete_input 7, holding 0-35, input 0-2"),
            std::string::npos)
      << host.log();
  EXPECT_NE(host.log().find("connected: tcp 127.0.0.1:" + std::to_string(server->port())),
            std::string::npos);
  EXPECT_EQ(host.ups().front(), 0);
  EXPECT_EQ(host.ups().at(1), 1);
  EXPECT_EQ(host.up(), 0);  // stopped
}

TEST(ModbusSource, GroupsOfOneUnitDueTogetherShareTheirPoll) {
  auto server = TestServer::tcp();
  server->add_unit(4);
  server->set_registers(4, Table::kHolding, 0, {1, 2});
  FakeHost host;
  auto s = source(host, tcp_config(server->port(), R"([{"id":4,"device":"m4","groups":[
      {"name":"a","interval":"100ms","points":[{"name":"a","address":0}]},
      {"name":"b","interval":"100ms","points":[{"name":"b","address":1}]}]}])"));
  ASSERT_TRUE(FakeHost::wait([&] { return host.appends().size() >= 3; })) << host.log();
  s->stop();
  for (const auto& a : host.appends()) {
    ASSERT_EQ(a.size(), 1u);
    EXPECT_EQ(readings_of(a[0]).values,
              (std::map<std::string, std::string>{{"a", "1"}, {"b", "2"}}));
  }
}

TEST(ModbusSource, EveryTypeOverRtuWithTwoUnitsOnTheBus) {
  edgegw::testing::TempDir dir;
  edgegw::testing::PtyPair pty(dir.path() + "/tty", dir.path() + "/tty-dev");
  auto server = TestServer::rtu(pty.dev_link());
  set_every_type(*server, 1);
  set_every_type(*server, 2);
  FakeHost host;
  auto s =
      source(host, rtu_config(pty.gw_link(), "[" + unit_json(1, "meter-1", kEveryTypePoints) + "," +
                                                 unit_json(2, "meter-2", kEveryTypePoints) + "]"));
  ASSERT_TRUE(FakeHost::wait([&] {
    return appends_of(host, "meter-1") >= 2 && appends_of(host, "meter-2") >= 2;
  })) << host.log();
  s->stop();
  for (const Message& m : host.messages()) expect_every_type(readings_of(m));
  // Both units are due together: a round's polls go to the buffer in one append, one message
  // (one poll) per unit. On a loaded machine a poll may miss its timeout and leave its round
  // with the other unit alone (logged); never two polls of one unit, never out of bus order.
  std::size_t shared = 0;
  for (const auto& a : host.appends()) {
    ASSERT_GE(a.size(), 1u);
    ASSERT_LE(a.size(), 2u);
    if (a.size() == 1) continue;
    ++shared;
    EXPECT_EQ(a[0].device, "meter-1");
    EXPECT_EQ(a[1].device, "meter-2");
    EXPECT_LE(a[0].time_ms, a[1].time_ms);
  }
  EXPECT_GE(shared, 1u) << host.log();
  EXPECT_NE(host.log().find("connected: rtu " + pty.gw_link() + " 115200 8N1"), std::string::npos)
      << host.log();
}

TEST(ModbusSource, OnChangeWithADeadband) {
  auto server = TestServer::tcp();
  server->add_unit(1);
  server->set_registers(1, Table::kHolding, 0, {100});
  FakeHost host;
  auto s = source(host, tcp_config(server->port(), "[" + unit_json(1, "m", R"([
      {"name":"level","address":0,"scale":0.1,"report":"on_change","deadband":1},
      {"name":"pump","kind":"coil","address":0,"report":"on_change"},
      {"name":"raw","address":0,"report":"on_change"},
      {"name":"tick","address":0}])") + "]"));
  auto polls = [&] { return history(host, "m", "tick").size(); };
  ASSERT_TRUE(FakeHost::wait([&] { return polls() >= 1; })) << host.log();
  auto step = [&](std::uint16_t raw) {
    server->set_registers(1, Table::kHolding, 0, {raw});
    const std::size_t n = polls();
    ASSERT_TRUE(FakeHost::wait([&] { return polls() >= n + 3; })) << host.log();
  };
  step(105);  // 10.5: within the deadband of the 10 last reported
  step(110);  // 11.0: exactly 1 away, not more
  step(111);  // 11.1: reported
  step(102);  // 10.2: 0.9 from 11.1, not reported
  server->set_bits(1, Table::kCoil, 0, {true});
  step(102);
  s->stop();
  EXPECT_EQ(history(host, "m", "level"), (std::vector<std::string>{"10", "1.11E1"}));
  EXPECT_EQ(history(host, "m", "pump"), (std::vector<std::string>{"false", "true"}));
  // No deadband: every change, each once.
  EXPECT_EQ(history(host, "m", "raw"),
            (std::vector<std::string>{"100", "105", "110", "111", "102"}));
  // every_poll: in every append.
  EXPECT_EQ(history(host, "m", "tick").size(), host.appends().size());
}

TEST(ModbusSource, AnExceptionCostsOnlyThePointsOfItsRequest) {
  auto server = TestServer::tcp();
  server->add_unit(1);
  server->set_registers(1, Table::kHolding, 0, {7, 8});
  server->set_registers(1, Table::kHolding, 10, {9});
  server->set_exception(1, Table::kHolding, 10, MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS);
  FakeHost host;
  auto s = source(host, tcp_config(server->port(), "[" + unit_json(1, "m", R"([
      {"name":"a","address":0},{"name":"b","address":1},{"name":"c","address":10}])") +
                                                       "]"));
  ASSERT_TRUE(FakeHost::wait([&] { return host.appends().size() >= 3; })) << host.log();
  server->set_exception(1, Table::kHolding, 10, 0);
  ASSERT_TRUE(FakeHost::wait([&] { return !history(host, "m", "c").empty(); })) << host.log();
  s->stop();
  const auto a = history(host, "m", "a");
  const auto c = history(host, "m", "c");
  EXPECT_GT(a.size(), c.size());
  for (const auto& v : c) EXPECT_EQ(v, "9");
  const std::string log = host.log();
  EXPECT_NE(log.find("warn: unit 1 (m), holding 10: exception 2 (illegal data address): its "
                     "points left out; 1 exception(s) since start"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("exceptions="), std::string::npos);
  EXPECT_EQ(log.find("exceptions=0 "), std::string::npos) << log;  // counted in the summary
  EXPECT_EQ(log.find("does not answer"), std::string::npos);       // an exception is an answer
}

// Counts a unit's polls in the host's appends while `during` runs for `d`.
TEST(ModbusSource, ASilentUnitIsBackedOffWhileTheOtherKeepsItsPace) {
  edgegw::testing::TempDir dir;
  edgegw::testing::PtyPair pty(dir.path() + "/tty", dir.path() + "/tty-dev");
  auto server = TestServer::rtu(pty.dev_link());
  for (int id : {1, 2}) {
    server->add_unit(id);
    server->set_registers(id, Table::kHolding, 0, {static_cast<std::uint16_t>(id), 0, 5});
  }
  FakeHost host;
  // Two requests per poll of unit 2: a silent unit costs one timeout per try, not two.
  auto s = source(
      host, rtu_config(pty.gw_link(), "[" + unit_json(1, "u1", R"([{"name":"v","address":0}])") +
                                          "," + unit_json(2, "u2", R"([{"name":"v","address":0},
                                                              {"name":"w","address":2}])") +
                                          "]"));
  ASSERT_TRUE(FakeHost::wait([&] { return appends_of(host, "u2") >= 2; })) << host.log();
  server->set_silent(2, true);
  ASSERT_TRUE(FakeHost::wait([&] {
    return host.log().find("does not answer") != std::string::npos;
  })) << host.log();
  const std::size_t u1_before = appends_of(host, "u1");
  const std::size_t u2_before = appends_of(host, "u2");
  const std::uint64_t probes_before = server->requests(2);
  // Unit 1 polled every 50 ms; unit 2 tried after 50, 100, 200, 400 ms, then every 1 s. Were
  // unit 2 tried at every poll, each try's 200 ms timeout would hold unit 1 back: 15 polls of
  // unit 1 would cost 15 tries of unit 2.
  ASSERT_TRUE(FakeHost::wait([&] { return appends_of(host, "u1") >= u1_before + 15; }, 20s))
      << host.log();
  const std::uint64_t probes = server->requests(2) - probes_before;
  EXPECT_EQ(appends_of(host, "u2"), u2_before);  // nothing made up for the silent unit
  EXPECT_LE(probes, 8u) << host.log();
  EXPECT_EQ(host.up(), 1);  // unit 1 answers: the source is up
  server->set_silent(2, false);
  ASSERT_TRUE(FakeHost::wait([&] { return appends_of(host, "u2") > u2_before; })) << host.log();
  s->stop();
  EXPECT_NE(host.log().find("warn: unit 2 (u2) does not answer (no response within 200ms to "
                            "holding 0): next try in 50ms"),
            std::string::npos)
      << host.log();
  EXPECT_NE(host.log().find("info: unit 2 (u2) answers again"), std::string::npos) << host.log();
  for (const auto& v : history(host, "u2", "v")) EXPECT_EQ(v, "2");
  for (const auto& v : history(host, "u1", "v")) EXPECT_EQ(v, "1");
}

TEST(ModbusSource, AllUnitsSilentIsDown) {
  auto server = tcp_server_holding(0);
  FakeHost host;
  auto s = source(host, one_point_tcp(server->port()));
  ASSERT_TRUE(FakeHost::wait([&] { return host.up() == 1; })) << host.log();
  server->set_silent(1, true);
  ASSERT_TRUE(FakeHost::wait([&] { return host.up() == 0; })) << host.log();
  server->set_silent(1, false);
  ASSERT_TRUE(FakeHost::wait([&] { return host.up() == 1; })) << host.log();
  s->stop();
  // Over TCP a connection nobody answers on is replaced (it may be dead without a reset).
  const std::string log = host.log();
  EXPECT_NE(log.find("no unit of tcp 127.0.0.1:" + std::to_string(server->port()) +
                     " answers: reconnecting before the next try"),
            std::string::npos)
      << log;
  EXPECT_GE(count_of(log, "connected: "), 2u) << log;
}

TEST(ModbusSource, AServerRestartIsRecovered) {
  auto server = tcp_server_holding(42);
  FakeHost host;
  auto s = source(host, one_point_tcp(server->port()));
  ASSERT_TRUE(FakeHost::wait([&] { return host.appends().size() >= 2 && host.up() == 1; }))
      << host.log();
  server->stop();
  ASSERT_TRUE(FakeHost::wait([&] { return host.up() == 0; })) << host.log();
  const std::size_t during = host.appends().size();
  // While it is down the source retries; no retry makes up a value.
  ASSERT_TRUE(FakeHost::wait([&] { return count_of(host.log(), "cannot connect to tcp") >= 2; }))
      << host.log();
  EXPECT_LE(host.appends().size(), during + 1);  // at most a poll that was in flight
  server->set_registers(1, Table::kHolding, 0, {43});
  server->start();
  ASSERT_TRUE(FakeHost::wait([&] {
    return host.up() == 1 && history(host, "m", "v").back() == "43";
  })) << host.log();
  s->stop();
  const std::string log = host.log();
  EXPECT_NE(log.find("warn: lost tcp 127.0.0.1:"), std::string::npos) << log;
  EXPECT_NE(log.find("cannot connect to tcp 127.0.0.1:"), std::string::npos) << log;
  EXPECT_GE(std::count(log.begin(), log.end(), '\n'), 3);
  for (const auto& v : history(host, "m", "v")) EXPECT_TRUE(v == "42" || v == "43") << v;
}

TEST(ModbusSource, AnUnpluggedAdapterIsRecovered) {
  edgegw::testing::TempDir dir;
  edgegw::testing::PtyPair pty(dir.path() + "/tty", dir.path() + "/tty-dev");
  auto server = TestServer::rtu(pty.dev_link());
  server->add_unit(1);
  server->set_registers(1, Table::kHolding, 0, {42});
  FakeHost host;
  auto s = source(host, rtu_config(pty.gw_link(),
                                   "[" + unit_json(1, "m", R"([{"name":"v","address":0}])") + "]"));
  ASSERT_TRUE(FakeHost::wait([&] { return host.appends().size() >= 2; })) << host.log();
  server.reset();
  pty.stop();  // the adapter is gone, and its /dev/serial/by-id link with it
  ASSERT_TRUE(FakeHost::wait([&] { return host.up() == 0; })) << host.log();
  pty.start();
  server = TestServer::rtu(pty.dev_link());
  server->add_unit(1);
  server->set_registers(1, Table::kHolding, 0, {43});
  ASSERT_TRUE(FakeHost::wait([&] {
    return host.up() == 1 && history(host, "m", "v").back() == "43";
  })) << host.log();
  s->stop();
  EXPECT_NE(host.log().find("warn: lost rtu " + pty.gw_link()), std::string::npos) << host.log();
}

TEST(ModbusSource, GarbageOnTheSerialLineNeverBecomesAValue) {
  edgegw::testing::TempDir dir;
  edgegw::testing::PtyPair pty(dir.path() + "/tty", dir.path() + "/tty-dev");
  auto server = TestServer::rtu(pty.dev_link());
  server->add_unit(1);
  server->set_registers(1, Table::kHolding, 0, {1234, 5678, 0x4142});
  FakeHost host;
  auto s = source(host, rtu_config(pty.gw_link(), "[" + unit_json(1, "m", R"([
      {"name":"a","address":0},{"name":"b","address":1},
      {"name":"s","address":2,"type":"string","length":1}])") +
                                                      "]"));
  ASSERT_TRUE(FakeHost::wait([&] { return host.appends().size() >= 2; })) << host.log();
  for (const std::size_t bytes : {1, 3, 7, 20, 64}) {
    server->inject_garbage(bytes, 3);
    const std::size_t n = host.appends().size();
    ASSERT_TRUE(FakeHost::wait([&] { return host.appends().size() >= n + 4; }, 20s)) << host.log();
  }
  s->stop();
  for (const auto& a : host.appends()) {
    const Readings r = readings_of(a.at(0));
    for (const auto& [name, value] : r.values) {
      EXPECT_EQ(value, name == "a" ? "1234" : name == "b" ? "5678" : "\"AB\"") << name;
    }
  }
  const std::string log = host.log();
  EXPECT_TRUE(log.find("bad CRC") != std::string::npos ||
              log.find("malformed answer") != std::string::npos)
      << log;
}

// The readings a unit read, as its stop summary counts them ("stopped: unit 1 (a): 12 poll(s),
// 12 request(s), 12 reading(s); ...").
std::size_t readings_logged(const FakeHost& host, const std::string& label) {
  const std::string log = host.log();
  const auto line = log.find("stopped: " + label + ": ");
  const auto at = log.find(" request(s), ", line);
  return line == std::string::npos || at == std::string::npos
             ? 0
             : std::stoul(log.substr(at + std::string(" request(s), ").size()));
}

TEST(ModbusSource, RoundsFasterThanTheAppendIntervalShareOneAppendAndStopHandsTheRestOver) {
  auto server = TestServer::tcp();
  for (int unit : {1, 2}) {
    server->add_unit(unit);
    server->set_registers(unit, Table::kHolding, 0, {static_cast<std::uint16_t>(unit)});
  }
  FakeHost host;
  auto s = source(host, tcp_config(server->port(),
                                   "[" + unit_json(1, "a", kOnePoint, "5ms") + "," +
                                       unit_json(2, "b", kOnePoint, "5ms") + "]",
                                   R"("append_interval":"200ms",)"));
  ASSERT_TRUE(FakeHost::wait([&] {
    return host.appends().size() >= 3 && host.messages().size() >= 80;
  })) << host.log();
  s->stop();
  // Rounds every 5 ms, appends every 200 ms: an append holds many rounds (about 40 polls; a busy
  // machine makes fewer rounds), each round's polls in order.
  const std::size_t appends = host.appends().size();
  EXPECT_GE(host.messages().size(), 4 * appends) << appends << " appends";
  std::map<std::string, std::int64_t> last;
  for (const Message& m : host.messages()) {
    // In order (two polls of a unit may share a millisecond: a round's polls start one after
    // the other, and a busy machine may start one late, just before the next round).
    EXPECT_GE(m.time_ms, last[m.device]) << m.device;
    last[m.device] = m.time_ms;
    EXPECT_EQ(readings_of(m).values.at("v"), m.device == "a" ? "1" : "2");
  }

  // Nothing read stays behind at the stop, and nothing twice: every reading the units gave was
  // handed over once (one per poll here).
  EXPECT_EQ(appends_of(host, "a"), readings_logged(host, "unit 1 (a)")) << host.log();
  EXPECT_EQ(appends_of(host, "b"), readings_logged(host, "unit 2 (b)")) << host.log();
}

TEST(ModbusSource, APollSlowerThanTheAppendIntervalIsNotHeld) {
  auto server = tcp_server_holding(3);
  FakeHost host;
  // Polls every 300 ms, append_interval 100 ms: the next round is due after the interval, so
  // each poll goes at once.
  auto s =
      source(host, tcp_config(server->port(), "[" + unit_json(1, "m", kOnePoint, "300ms") + "]",
                              R"("append_interval":"100ms",)"));
  ASSERT_TRUE(FakeHost::wait([&] { return host.appends().size() >= 3; })) << host.log();
  s->stop();
  for (const auto& a : host.appends()) EXPECT_EQ(a.size(), 1u);
}

TEST(ModbusSource, AFullBufferHoldsItsRoundAndTakesNoNewPollUntilItIsTaken) {
  auto server = tcp_server_holding(1);
  FakeHost host;
  auto s = source(host, one_point_tcp(server->port()));
  ASSERT_TRUE(FakeHost::wait([&] { return host.appends().size() >= 1; })) << host.log();
  const std::size_t before = host.appends().size();
  host.set_full(true);
  ASSERT_TRUE(FakeHost::wait([&] { return host.refused().size() >= 4; })) << host.log();
  host.set_full(false);
  ASSERT_TRUE(FakeHost::wait([&] { return host.appends().size() >= before + 2; })) << host.log();
  s->stop();
  // Every refused append handed over the same held poll (no new poll while it was held), and it
  // is the first the buffer took afterwards, with its own time.
  const auto refused = host.refused();
  for (const auto& times : refused) EXPECT_EQ(times, refused.front());
  ASSERT_EQ(refused.front().size(), 1u);
  EXPECT_EQ(host.appends().at(before).at(0).time_ms, refused.front().at(0));
  std::int64_t last = 0;
  for (const Message& m : host.messages()) {
    EXPECT_GT(m.time_ms, last);  // every poll once, in order
    last = m.time_ms;
  }
  EXPECT_NE(host.log().find("taking no new poll until the buffer takes it"), std::string::npos);
  EXPECT_NE(host.log().find("1 held poll(s) appended; polling goes on"), std::string::npos);
}

}  // namespace
}  // namespace edgegw::plugins::modbus
