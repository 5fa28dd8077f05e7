// SPDX-License-Identifier: Apache-2.0
#include "ingest/time_check.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "config/units.h"
#include "core/time.h"
#include "core/unsynced_stamp.h"

namespace edgegw::ingest {

std::optional<std::string> implausible_time(std::int64_t time_ms, std::int64_t arrival_ms,
                                            const TimeRules& rules,
                                            const std::function<bool()>& clock_synchronised) {
  if (time_ms < kYear2000Ms) {
    return "its time " + core::format_iso8601_ms(time_ms) + " is before 2000";
  }
  if (time_ms - arrival_ms > rules.future_tolerance_ms && clock_synchronised()) {
    return "its time " + core::format_iso8601_ms(time_ms) + " is more than " +
           config::format_duration(config::Duration(rules.future_tolerance_ms)) +
           " (cloud.future_tolerance) after it arrived, at " + core::format_iso8601_ms(arrival_ms);
  }
  return std::nullopt;
}

namespace {

std::string with_key(std::string_view metadata_json, std::string_view key, std::string value) {
  boost::json::object metadata;
  if (!metadata_json.empty()) {
    boost::json::error_code ec;
    boost::json::value parsed = boost::json::parse(metadata_json, ec);
    if (!ec && parsed.is_object()) metadata = std::move(parsed.get_object());
  }
  metadata[key] = std::move(value);
  return boost::json::serialize(metadata);
}

}  // namespace

std::string with_original_time(std::string_view metadata_json, std::int64_t time_ms) {
  return with_key(metadata_json, "original_time", core::format_iso8601_ms(time_ms));
}

std::string with_unsynced_stamp(std::string_view metadata_json, std::string_view stamp) {
  return with_key(metadata_json, core::kUnsyncedStampKey, std::string(stamp));
}

namespace {

void count(ImplausibleTimes::Counts& c, config::TimePolicy done) {
  switch (done) {
    case config::TimePolicy::kStamp:
      ++c.stamped;
      break;
    case config::TimePolicy::kKeep:
      ++c.kept;
      break;
    case config::TimePolicy::kReject:
      ++c.rejected;
      break;
  }
}

}  // namespace

void ImplausibleTimes::add(buffer::DeviceId device, config::TimePolicy done) {
  std::lock_guard lock(mu_);
  count(counts_[device], done);
}

void ImplausibleTimes::add(std::span<const TimeJudgement> judged) {
  std::lock_guard lock(mu_);
  for (const auto& [device, done] : judged) count(counts_[device], done);
}

std::unordered_map<buffer::DeviceId, ImplausibleTimes::Counts> ImplausibleTimes::by_device() const {
  std::lock_guard lock(mu_);
  return counts_;
}

}  // namespace edgegw::ingest
