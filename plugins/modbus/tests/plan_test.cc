// SPDX-License-Identifier: Apache-2.0
// Request planning: adjacent points share a request, within the protocol's limits.
#include "plan.h"

#include <gtest/gtest.h>

namespace edgegw::plugins::modbus {
namespace {

Point point(Kind kind, std::uint16_t address, std::uint16_t count = 1) {
  Point p;
  p.kind = kind;
  p.address = address;
  p.count = count;
  p.type = is_bit_kind(kind) ? Type::kBool : Type::kU16;
  return p;
}

TEST(ModbusPlan, AdjacentRegistersShareOneRequest) {
  // Out of order in the config, with a f32 (2 registers) in the middle.
  const std::vector<Point> points = {point(Kind::kHolding, 3), point(Kind::kHolding, 0),
                                     point(Kind::kHolding, 1, 2), point(Kind::kHolding, 4)};
  const auto r = plan_requests(points, 0);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].address, 0);
  EXPECT_EQ(r[0].count, 5);
  ASSERT_EQ(r[0].members.size(), 4u);
  EXPECT_EQ(r[0].members[0].point, 1);
  EXPECT_EQ(r[0].members[0].offset, 0);
  EXPECT_EQ(r[0].members[1].point, 2);
  EXPECT_EQ(r[0].members[1].offset, 1);
  EXPECT_EQ(r[0].members[3].point, 3);
  EXPECT_EQ(r[0].members[3].offset, 4);
  EXPECT_EQ(describe(r, points.size()), "4 point(s) in 1 request(s): holding 0-4");
}

TEST(ModbusPlan, AGapOrAnotherTableStartsANewRequest) {
  const std::vector<Point> points = {point(Kind::kHolding, 0), point(Kind::kHolding, 2),
                                     point(Kind::kInput, 1),   point(Kind::kCoil, 5),
                                     point(Kind::kCoil, 6),    point(Kind::kDiscreteInput, 6)};
  const auto r = plan_requests(points, 0);
  EXPECT_EQ(describe(r, points.size()),
            "6 point(s) in 5 request(s): coil 5-6, discrete_input 6, holding 0, holding 2, "
            "input 1");
  // max_gap 1 reads the unused register 1 to save a request.
  EXPECT_EQ(describe(plan_requests(points, 1), points.size()),
            "6 point(s) in 4 request(s): coil 5-6, discrete_input 6, holding 0-2, input 1");
}

TEST(ModbusPlan, OverlappingPointsShareTheirRegisters) {
  Point status = point(Kind::kHolding, 10);
  status.type = Type::kBool;
  status.bit = 3;
  const std::vector<Point> points = {point(Kind::kHolding, 10), status,
                                     point(Kind::kHolding, 9, 4)};
  const auto r = plan_requests(points, 0);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].address, 9);
  EXPECT_EQ(r[0].count, 4);
}

TEST(ModbusPlan, AtMost125RegistersAnd2000BitsPerRequest) {
  std::vector<Point> regs;
  for (std::uint16_t a = 0; a < 130; a += 2) regs.push_back(point(Kind::kInput, a, 2));
  const auto r = plan_requests(regs, 0);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].count, 124);  // a 2-register point never straddles two requests
  EXPECT_EQ(r[1].address, 124);
  EXPECT_EQ(r[1].count, 6);

  std::vector<Point> bits;
  for (std::uint16_t a = 0; a < 2500; ++a) bits.push_back(point(Kind::kCoil, a));
  const auto b = plan_requests(bits, 0);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[0].count, 2000);
  EXPECT_EQ(b[1].address, 2000);
  EXPECT_EQ(b[1].count, 500);
}

TEST(ModbusPlan, ABitGapIsCountedInRegisters) {
  // max_gap 1 is 16 bits.
  const std::vector<Point> bits = {point(Kind::kCoil, 0), point(Kind::kCoil, 17),
                                   point(Kind::kCoil, 40)};
  EXPECT_EQ(describe(plan_requests(bits, 1), 3), "3 point(s) in 2 request(s): coil 0-17, coil 40");
}

}  // namespace
}  // namespace edgegw::plugins::modbus
