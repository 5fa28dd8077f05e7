// SPDX-License-Identifier: Apache-2.0
// A source's own state (plugin ABI 1.3) in the buffer: written in the same batch as the readings
// of the same append, private to its source, kept across a reopen, and never refused by a full
// buffer when it comes alone.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "buffer/buffer.h"
#include "support/subprocess.h"

namespace edgegw::buffer {
namespace {

std::map<std::string, std::string> state_of(const Buffer& b, std::string_view source) {
  std::map<std::string, std::string> out;
  EXPECT_TRUE(b.for_each_source_state(source, [&](std::string_view k, std::string_view v) {
    out.emplace(std::string(k), std::string(v));
  }));
  return out;
}

Options options(const testing::TempDir& dir) {
  Options o;
  o.path = dir.path() + "/buffer";
  o.sync = buffer::SyncMode::kNone;
  return o;
}

TEST(BufferSourceState, IsWrittenWithTheReadingsAndKeptAcrossReopen) {
  testing::TempDir dir;
  {
    auto b = std::move(Buffer::open(options(dir))).value();
    const DeviceId dev = *b->register_device("dev-1");
    const std::string json = R"({"variable":"v","value":1})";
    const Record records[] = {{dev, json}};
    const StateChange changes[] = {{meta_source_key("plant", "q2\x01"), ""},
                                   {meta_source_key("plant", "q2\x02"), "x"},
                                   {meta_source_key("plant/b", "q2\x01"), "other source"}};
    ASSERT_TRUE(b->append(records, changes));
    EXPECT_EQ(b->stats().readings, 1u);
    const StateChange release[] = {{meta_source_key("plant", "q2\x01"), std::nullopt}};
    ASSERT_TRUE(b->append({}, release));  // a change alone
    EXPECT_EQ(b->stats().readings, 1u);
  }
  auto b = std::move(Buffer::open(options(dir))).value();
  EXPECT_EQ(state_of(*b, "plant"), (std::map<std::string, std::string>{{"q2\x02", "x"}}));
  // Names are length-prefixed: "plant" never sees "plant/b"'s keys, nor the other way round.
  EXPECT_EQ(state_of(*b, "plant/b"),
            (std::map<std::string, std::string>{{"q2\x01", "other source"}}));
  EXPECT_TRUE(state_of(*b, "plan").empty());
}

TEST(BufferSourceState, AFullBufferRefusesReadingsButNotAChangeAlone) {
  testing::TempDir dir;
  Options o = options(dir);
  o.max_bytes = 200;
  o.on_full = buffer::OnFull::kRejectNew;
  auto b = std::move(Buffer::open(o)).value();
  const DeviceId dev = *b->register_device("dev-1");
  const std::string json(150, ' ');
  const Record records[] = {{dev, json}};
  ASSERT_TRUE(b->append(records));
  const StateChange put[] = {{meta_source_key("plant", "q2\x07"), ""}};
  // Readings with the change: refused whole, the change with them.
  EXPECT_EQ(b->append(records, put).code(), Code::kResourceExhausted);
  EXPECT_TRUE(state_of(*b, "plant").empty());
  // The change alone (a QoS 2 release, say) adds nothing to the buffer: written.
  EXPECT_TRUE(b->append({}, put));
  EXPECT_EQ(state_of(*b, "plant").size(), 1u);
}

}  // namespace
}  // namespace edgegw::buffer
