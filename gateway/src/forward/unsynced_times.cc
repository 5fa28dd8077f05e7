// SPDX-License-Identifier: Apache-2.0
#include "forward/unsynced_times.h"

#include <optional>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "core/clock_sync.h"
#include "core/time.h"
#include "core/unsynced_stamp.h"

namespace edgegw::forward {

ClockView ClockView::system() {
  return {core::system_clock_synchronised(), core::now_ms(), core::boottime_ms(), core::boot_id()};
}

namespace {

enum class Step { kKeep, kWait, kRewritten };

// One reading: its JSON rewritten into `out` when it carries a stamp.
Step fix_one(std::string_view json, const ClockView& clock, std::int64_t clock_wait_ms,
             std::string& out) {
  if (json.find(core::kUnsyncedStampKey) == std::string_view::npos) return Step::kKeep;
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(json, ec);
  if (ec || !v.is_object()) return Step::kKeep;
  boost::json::object& reading = v.get_object();
  auto* metadata = reading.if_contains("metadata");
  if (metadata == nullptr || !metadata->is_object()) return Step::kKeep;
  const auto* stamp_text = metadata->get_object().if_contains(core::kUnsyncedStampKey);
  if (stamp_text == nullptr || !stamp_text->is_string()) return Step::kKeep;
  const auto stamp = core::UnsyncedStamp::parse(stamp_text->get_string());
  const bool this_boot = stamp && stamp->boot_id == clock.boot_id;
  if (this_boot && !clock.synchronised && clock.boot_ms - stamp->boot_ms < clock_wait_ms) {
    return Step::kWait;
  }
  // The metadata first: a change to the reading's own keys may move its members (`metadata`
  // would dangle).
  boost::json::object& meta = metadata->get_object();
  meta.erase(core::kUnsyncedStampKey);
  const bool real_time = this_boot && clock.synchronised;
  if (!real_time) meta["clock"] = "unsynced";
  const bool no_metadata = meta.empty();
  if (no_metadata) reading.erase("metadata");
  if (real_time) {
    reading["time"] = core::format_iso8601_ms(clock.wall_ms - (clock.boot_ms - stamp->boot_ms));
  } else if (!this_boot) {  // another boot: nothing links its clock to a real time any more
    reading.erase("time");
  }  // else: waited cloud.clock_wait in vain; it goes as stamped
  out = boost::json::serialize(v);
  return Step::kRewritten;
}

}  // namespace

TimesFixed fix_unsynced_times(buffer::Batch& batch, const std::function<ClockView()>& now,
                              std::int64_t clock_wait_ms) {
  if (batch.body.find(core::kUnsyncedStampKey) == std::string::npos) return TimesFixed::kNone;
  const ClockView clock = now();
  // First every reading's new text (the batch untouched when one has to wait), then the body.
  std::vector<std::optional<std::string>> rewritten(batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) {
    std::string text;
    const Step step = fix_one(batch.reading(i), clock, clock_wait_ms, text);
    if (step == Step::kWait) return TimesFixed::kWait;
    if (step == Step::kRewritten) rewritten[i] = std::move(text);
  }
  std::string body = "[";
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const std::string_view text = rewritten[i] ? std::string_view(*rewritten[i]) : batch.reading(i);
    if (i > 0) body += ',';
    batch.entries[i].offset = static_cast<std::uint32_t>(body.size());
    batch.entries[i].size = static_cast<std::uint32_t>(text.size());
    body += text;
  }
  body += ']';
  batch.body = std::move(body);
  return TimesFixed::kFixed;
}

}  // namespace edgegw::forward
