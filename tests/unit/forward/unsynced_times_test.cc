// SPDX-License-Identifier: Apache-2.0
// Readings stamped while the system clock was not synchronised, before they are sent: on clocks
// the test makes up (no change to the machine's clock).
#include "forward/unsynced_times.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace edgegw::forward {
namespace {

// A batch of these readings, as the buffer gives them (sequences 1.., cum_bytes made up).
buffer::Batch batch_of(const std::vector<std::string>& readings) {
  buffer::Batch b;
  b.body = "[";
  buffer::Seq seq = 1;
  for (const auto& r : readings) {
    if (!b.empty()) b.body += ',';
    b.entries.push_back({seq, static_cast<std::uint32_t>(b.body.size()),
                         static_cast<std::uint32_t>(r.size()), seq * 100});
    ++seq;
    b.body += r;
  }
  b.body += ']';
  return b;
}

constexpr char kStamped[] = R"({"variable":"t","value":1,"time":"1970-01-01T00:01:40.000Z",)"
                            R"("metadata":{"edgegw_unsynced_at":"boot-a/60000"}})";
constexpr char kStampedWithMetadata[] =
    R"({"variable":"p","value":2,"time":"1970-01-01T00:01:45.000Z",)"
    R"("metadata":{"k":"v","edgegw_unsynced_at":"boot-a/65000"}})";
constexpr char kOwnTime[] = R"({"variable":"h","value":3,"time":"2026-12-06T10:00:00.000Z"})";

constexpr std::int64_t kWait = 600'000;  // cloud.clock_wait: 10 minutes

// The clocks as fix_unsynced_times asks for them.
std::function<ClockView()> at(ClockView clock) {
  return [clock] { return clock; };
}

// 2026-12-06T12:00:00Z, 100 s after the boot clock's 60 s.
ClockView synced_at_noon() { return {true, 1796558400000, 160000, "boot-a"}; }

TEST(UnsyncedTimes, ABatchWithoutStampsIsLeftAlone) {
  buffer::Batch b = batch_of({kOwnTime});
  const std::string before = b.body;
  const auto not_asked = [] {
    ADD_FAILURE() << "the clocks are asked for a batch without stamps";
    return ClockView{};
  };
  EXPECT_EQ(fix_unsynced_times(b, not_asked, kWait), TimesFixed::kNone);
  EXPECT_EQ(b.body, before);
}

TEST(UnsyncedTimes, WhileTheClockIsUnsynchronisedTheyWait) {
  buffer::Batch b = batch_of({kOwnTime, kStamped});
  const std::string before = b.body;
  EXPECT_EQ(fix_unsynced_times(b, at(ClockView{false, 5000, 160000, "boot-a"}), kWait),
            TimesFixed::kWait);
  EXPECT_EQ(b.body, before);  // untouched, entries too
  EXPECT_EQ(b.reading(0), kOwnTime);
  EXPECT_EQ(b.reading(1), kStamped);
}

TEST(UnsyncedTimes, PastClockWaitTheyGoAsStampedAndSaySo) {
  buffer::Batch b = batch_of({kStamped});
  // Arrived at 60 s on the boot clock; 10 minutes later the clock is still unsynchronised.
  EXPECT_EQ(fix_unsynced_times(b, at(ClockView{false, 5000, 60000 + kWait - 1, "boot-a"}), kWait),
            TimesFixed::kWait);
  ASSERT_EQ(fix_unsynced_times(b, at(ClockView{false, 5000, 60000 + kWait, "boot-a"}), kWait),
            TimesFixed::kFixed);
  EXPECT_EQ(b.reading(0), R"({"variable":"t","value":1,"time":"1970-01-01T00:01:40.000Z",)"
                          R"("metadata":{"clock":"unsynced"}})");
}

TEST(UnsyncedTimes, OnceSynchronisedTheBootClockGivesTheirRealTime) {
  buffer::Batch b = batch_of({kStamped, kOwnTime, kStampedWithMetadata});
  const std::vector<std::uint32_t> stored = {b.entries[0].size, b.entries[1].size,
                                             b.entries[2].size};
  ASSERT_EQ(fix_unsynced_times(b, at(synced_at_noon()), kWait), TimesFixed::kFixed);
  ASSERT_EQ(b.size(), 3u);
  // Boot clock 60 s when it arrived, 160 s now at noon: 100 s before noon.
  EXPECT_EQ(b.reading(0), R"({"variable":"t","value":1,"time":"2026-12-06T11:58:20.000Z"})");
  EXPECT_EQ(b.reading(1), kOwnTime);
  EXPECT_EQ(b.reading(2),
            R"({"variable":"p","value":2,"time":"2026-12-06T11:58:25.000Z","metadata":{"k":"v"}})");
  EXPECT_EQ(b.body, "[" + std::string(b.reading(0)) + "," + std::string(kOwnTime) + "," +
                        std::string(b.reading(2)) + "]");
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(b.entries[i].seq, i + 1);
    EXPECT_EQ(b.entries[i].cum_bytes, (i + 1) * 100);
    EXPECT_EQ(b.entries[i].stored_size, stored[i]);  // the buffer's accounting is untouched
  }
}

TEST(UnsyncedTimes, AfterARebootNoTimeIsInventedAndTheReadingSaysSo) {
  buffer::Batch b = batch_of({kStampedWithMetadata});
  ClockView later_boot = synced_at_noon();
  later_boot.boot_id = "boot-b";
  ASSERT_EQ(fix_unsynced_times(b, at(later_boot), kWait), TimesFixed::kFixed);
  EXPECT_EQ(b.reading(0), R"({"variable":"p","value":2,"metadata":{"k":"v","clock":"unsynced"}})");
  // Another boot's readings do not wait for this boot's clock either.
  buffer::Batch c = batch_of({kStamped});
  later_boot.synchronised = false;
  ASSERT_EQ(fix_unsynced_times(c, at(later_boot), kWait), TimesFixed::kFixed);
  EXPECT_EQ(c.reading(0), R"({"variable":"t","value":1,"metadata":{"clock":"unsynced"}})");
}

}  // namespace
}  // namespace edgegw::forward
