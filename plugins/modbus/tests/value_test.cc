// SPDX-License-Identifier: Apache-2.0
// Values from registers: every type in every word and byte order, scale and offset, strings, and
// the values that are not numbers.
#include "value.h"

#include <gtest/gtest.h>
#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <limits>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace edgegw::plugins::modbus {
namespace {

Point point(Type type, bool word_swap = false, bool byte_swap = false) {
  Point p;
  p.type = type;
  p.count = type_registers(type);
  p.word_swap = word_swap;
  p.byte_swap = byte_swap;
  return p;
}

std::string text(const Point& p, const std::vector<std::uint16_t>& regs, double* number = nullptr) {
  std::string out;
  if (!append_value(p, regs.data(), false, out, number)) return "<none>";
  return out;
}

// The registers of 0x0102030405060708 (or its first words) in the four orders.
struct Orders {
  bool word_swap;
  bool byte_swap;
  std::vector<std::uint16_t> u32;  // 0x01020304
  std::vector<std::uint16_t> u64;  // 0x0102030405060708
};
const Orders kOrders[] = {
    {false, false, {0x0102, 0x0304}, {0x0102, 0x0304, 0x0506, 0x0708}},  // ABCD
    {true, false, {0x0304, 0x0102}, {0x0708, 0x0506, 0x0304, 0x0102}},   // CDAB
    {false, true, {0x0201, 0x0403}, {0x0201, 0x0403, 0x0605, 0x0807}},   // BADC
    {true, true, {0x0403, 0x0201}, {0x0807, 0x0605, 0x0403, 0x0201}},    // DCBA
};

// An f32's registers in an order, from its IEEE 754 bits.
std::vector<std::uint16_t> float_registers(float f, bool word_swap, bool byte_swap) {
  const auto bits = std::bit_cast<std::uint32_t>(f);
  std::uint16_t hi = static_cast<std::uint16_t>(bits >> 16), lo = static_cast<std::uint16_t>(bits);
  if (byte_swap) {
    hi = static_cast<std::uint16_t>((hi >> 8) | (hi << 8));
    lo = static_cast<std::uint16_t>((lo >> 8) | (lo << 8));
  }
  return word_swap ? std::vector<std::uint16_t>{lo, hi} : std::vector<std::uint16_t>{hi, lo};
}

TEST(ModbusValue, SixteenBitIntegers) {
  EXPECT_EQ(text(point(Type::kU16), {0xfffe}), "65534");
  EXPECT_EQ(text(point(Type::kI16), {0xfffe}), "-2");
  EXPECT_EQ(text(point(Type::kU16, false, true), {0x3412}), "4660");  // 0x1234
  EXPECT_EQ(text(point(Type::kI16, true, true), {0x00ff}), "-256");   // 0xff00
}

TEST(ModbusValue, EveryWideTypeInEveryOrder) {
  for (const Orders& o : kOrders) {
    SCOPED_TRACE(std::string("word_swap ") + (o.word_swap ? "1" : "0") + " byte_swap " +
                 (o.byte_swap ? "1" : "0"));
    EXPECT_EQ(text(point(Type::kU32, o.word_swap, o.byte_swap), o.u32), "16909060");
    EXPECT_EQ(text(point(Type::kI32, o.word_swap, o.byte_swap), o.u32), "16909060");
    EXPECT_EQ(text(point(Type::kU64, o.word_swap, o.byte_swap), o.u64), "72623859790382856");
    EXPECT_EQ(text(point(Type::kI64, o.word_swap, o.byte_swap), o.u64), "72623859790382856");
  }
}

TEST(ModbusValue, NegativeAndExtremeIntegersAreExact) {
  EXPECT_EQ(text(point(Type::kI32), {0xffff, 0xfffe}), "-2");
  EXPECT_EQ(text(point(Type::kU32), {0xffff, 0xffff}), "4294967295");
  EXPECT_EQ(text(point(Type::kU64), {0xffff, 0xffff, 0xffff, 0xffff}), "18446744073709551615");
  EXPECT_EQ(text(point(Type::kI64), {0x8000, 0, 0, 0}), "-9223372036854775808");
  EXPECT_EQ(text(point(Type::kI64), {0xffff, 0xffff, 0xffff, 0xff85}), "-123");
}

TEST(ModbusValue, FloatsInEveryOrder) {
  // Not libmodbus's modbus_set_float_abcd() and friends as the reference: in 3.1.6 they swap the
  // bytes of each register on a little-endian machine (1.5f comes out as c03f 0000).
  for (const Orders& o : kOrders) {
    for (const float f : {230.1f, -0.5f, 1e-7f, 3.4028235e38f, 0.0f}) {
      const std::vector<std::uint16_t> regs = float_registers(f, o.word_swap, o.byte_swap);
      double number = 0;
      const std::string t = text(point(Type::kF32, o.word_swap, o.byte_swap), regs, &number);
      EXPECT_EQ(std::stof(t), f) << t;
      EXPECT_EQ(static_cast<float>(number), f);
    }
  }
  EXPECT_EQ(float_registers(1.5f, false, false), (std::vector<std::uint16_t>{0x3fc0, 0x0000}));
  EXPECT_EQ(text(point(Type::kF32), {0x4366, 0x199a}), "230.1");  // shortest, not 230.100006
  EXPECT_EQ(text(point(Type::kF32, true, false), {0x199a, 0x4366}), "230.1");
  EXPECT_EQ(text(point(Type::kF32, false, true), {0x6643, 0x9a19}), "230.1");
  EXPECT_EQ(text(point(Type::kF32, true, true), {0x9a19, 0x6643}), "230.1");
}

TEST(ModbusValue, DoublesInEveryOrder) {
  // 0x405CC66666666666 is 115.1.
  EXPECT_EQ(text(point(Type::kF64), {0x405c, 0xc666, 0x6666, 0x6666}), "115.1");
  EXPECT_EQ(text(point(Type::kF64, true, false), {0x6666, 0x6666, 0xc666, 0x405c}), "115.1");
  EXPECT_EQ(text(point(Type::kF64, false, true), {0x5c40, 0x66c6, 0x6666, 0x6666}), "115.1");
  EXPECT_EQ(text(point(Type::kF64, true, true), {0x6666, 0x6666, 0x66c6, 0x5c40}), "115.1");
  EXPECT_EQ(text(point(Type::kF64), {0xc000, 0, 0, 0}), "-2");
}

// As parse_config sets them.
void scale(Point& p, double by, double offset = 0) {
  p.scale = by;
  p.offset = offset;
  p.decimals = static_cast<std::int8_t>(scaled_decimals(by, offset));
}

TEST(ModbusValue, DecimalsOfScaleAndOffset) {
  EXPECT_EQ(decimals_of(0.01), 2);
  EXPECT_EQ(decimals_of(-273.15), 2);
  EXPECT_EQ(decimals_of(5), 0);
  EXPECT_EQ(decimals_of(0.001), 3);
  EXPECT_EQ(decimals_of(1.0 / 3), -1);
  EXPECT_EQ(scaled_decimals(0.1, -273.15), 2);
  EXPECT_EQ(scaled_decimals(1.0 / 3, 1), -1);
}

TEST(ModbusValue, ScaleAndOffset) {
  Point p = point(Type::kU16);
  scale(p, 0.1);
  double number = 0;
  EXPECT_EQ(text(p, {2301}, &number), "230.1");  // not 230.10000000000002
  EXPECT_DOUBLE_EQ(number, 230.1);
  scale(p, 0.01, -273.15);
  EXPECT_EQ(text(p, {29815}), "25");  // not 25.000000000000057
  EXPECT_EQ(text(p, {29816}), "25.01");
  Point s = point(Type::kI16);
  scale(s, 0.5, 10);
  EXPECT_EQ(text(s, {0xfffc}), "8");  // -4 x 0.5 + 10
  scale(s, 0.1);
  EXPECT_EQ(text(s, {0}), "0");
  EXPECT_EQ(text(s, {0xfffd}), "-0.3");
  Point third = point(Type::kU16);
  scale(third, 1.0 / 3);
  EXPECT_EQ(text(third, {2}), "0.666666666666667");  // 15 significant digits: unbounded decimals
  Point f = point(Type::kF32);
  scale(f, 1000);
  EXPECT_EQ(text(f, float_registers(1.2345f, false, false)),
            "1234.5");  // 7 significant digits of a float
  Point big = point(Type::kU64);
  scale(big, 0.001);
  EXPECT_EQ(text(big, {0, 0, 0x0001, 0xe240}), "123.456");
}

TEST(ModbusValue, NotANumberIsNeverWritten) {
  EXPECT_EQ(text(point(Type::kF32),
                 float_registers(std::numeric_limits<float>::quiet_NaN(), false, false)),
            "<none>");
  EXPECT_EQ(text(point(Type::kF32),
                 float_registers(std::numeric_limits<float>::infinity(), false, false)),
            "<none>");
  EXPECT_EQ(text(point(Type::kF64), {0x7ff8, 0, 0, 0}), "<none>");
  // A finite float that a scale makes infinite.
  Point p = point(Type::kF32);
  p.scale = 1e300;
  EXPECT_EQ(text(p, float_registers(3e38f, false, false)), "<none>");
}

TEST(ModbusValue, BoolsOfBitsAndOfRegisterBits) {
  Point coil;
  coil.kind = Kind::kCoil;
  coil.type = Type::kBool;
  std::string out;
  ASSERT_TRUE(append_value(coil, nullptr, true, out, nullptr));
  EXPECT_EQ(out, "true");
  Point bit = point(Type::kBool);
  bit.bit = 15;
  EXPECT_EQ(text(bit, {0x8000}), "true");
  EXPECT_EQ(text(bit, {0x7fff}), "false");
  bit.bit = 0;
  EXPECT_EQ(text(bit, {0x0001}), "true");
  bit.byte_swap = true;  // the register's bytes swapped before its bits are numbered
  EXPECT_EQ(text(bit, {0x0100}), "true");
}

TEST(ModbusValue, Strings) {
  Point s = point(Type::kString);
  s.count = 4;
  EXPECT_EQ(text(s, {0x4142, 0x4344, 0x2020, 0x2020}), R"("ABCD")");  // trailing spaces trimmed
  EXPECT_EQ(text(s, {0x4142, 0x4300, 0x4546, 0x4748}), R"("ABC")");   // ends at a NUL
  s.byte_swap = true;
  EXPECT_EQ(text(s, {0x4241, 0x4443, 0x0045, 0}), R"("ABCDE")");
  s.byte_swap = false;
  EXPECT_EQ(text(s, {0x2241, 0x5c01, 0xe900, 0}), R"("\"A\\\u0001\u00e9")");
  EXPECT_EQ(text(s, {0, 0, 0, 0}), R"("")");
}

// typed_value (plugin ABI 1.5; an f32 as EDGEGW_VALUE_FLOAT32 since 1.6, which the host writes as
// its shortest text) is the JSON text above as a JSON reader takes it: what the host made of the
// tago_json this plugin wrote before, so the cloud gets the same values.
TEST(ModbusValue, TypedValuesAreTheirJsonTextAsReadByTheHost) {
  struct Case {
    Point point;
    std::vector<std::uint16_t> regs;
  };
  Point scaled = point(Type::kI16);
  scaled.scale = 0.1;
  scaled.offset = -1;
  scaled.decimals = 1;
  Point scaled_float = point(Type::kF32);
  scaled_float.scale = 0.001;
  Point bit = point(Type::kBool);
  bit.bit = 3;
  Point text_point = point(Type::kString);
  text_point.count = 4;
  const Case cases[] = {
      {point(Type::kU16), {65534}},
      {point(Type::kI16), {0xfffe}},
      {point(Type::kI64), {0x8000, 0, 0, 0}},                      // the least int64
      {point(Type::kU64), {0xffff, 0xffff, 0xffff, 0xffff}},       // beyond int64: a number
      {point(Type::kF32), float_registers(230.1f, false, false)},  // the float's shortest text
      {point(Type::kF64), {0x405c, 0xc666, 0x6666, 0x6666}},       // 115.1
      {scaled, {0xff9c}},                                          // -100 x 0.1 - 1 = -11
      {scaled_float, float_registers(49.99f, false, false)},
      {bit, {0x0008}},
      {text_point, {0x2241, 0x5c01, 0xe900, 0}},  // a quote, a backslash, a control, Latin-1 é
  };
  for (const Case& c : cases) {
    const std::string json = text(c.point, c.regs);
    edgegw_reading r{};
    std::string value_text, scratch;
    double number = 0;
    ASSERT_TRUE(typed_value(c.point, c.regs.data(), false, r, value_text, scratch, &number))
        << json;
    boost::json::value typed;
    switch (r.type) {
      case EDGEGW_VALUE_NUMBER:
        typed = r.number;
        break;
      case EDGEGW_VALUE_FLOAT32: {  // the host writes the float's shortest text
        ASSERT_EQ(static_cast<double>(static_cast<float>(r.number)), r.number) << json;
        char buf[24];
        const auto end = std::to_chars(buf, buf + sizeof buf, static_cast<float>(r.number)).ptr;
        typed = boost::json::parse(std::string_view(buf, static_cast<std::size_t>(end - buf)));
        break;
      }
      case EDGEGW_VALUE_INTEGER:
        typed = r.integer;
        break;
      case EDGEGW_VALUE_TEXT:
        typed = value_text;
        break;
      case EDGEGW_VALUE_BOOL:
        typed = r.integer != 0;
        break;
      default:
        FAIL() << "type " << r.type;
    }
    boost::json::value parsed = boost::json::parse(json);
    // The host keeps an integer beyond int64 as a number (edgegw/reading.h), as typed_value does.
    if (parsed.is_uint64()) parsed = static_cast<double>(parsed.as_uint64());
    EXPECT_EQ(typed, parsed) << json << " typed as " << boost::json::serialize(typed);
    EXPECT_EQ(typed.kind(), parsed.kind()) << json;
  }
  // Not a number: nothing, as append_value.
  edgegw_reading r{};
  std::string value_text, scratch;
  EXPECT_FALSE(
      typed_value(point(Type::kF32),
                  float_registers(std::numeric_limits<float>::quiet_NaN(), false, false).data(),
                  false, r, value_text, scratch, nullptr));
}

}  // namespace
}  // namespace edgegw::plugins::modbus
