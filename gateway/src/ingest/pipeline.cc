// SPDX-License-Identifier: Apache-2.0
#include "ingest/pipeline.h"

#include <optional>
#include <variant>
#include <vector>

#include "buffer/values.h"
#include "core/json_text.h"
#include "core/time.h"
#include "core/unsynced_stamp.h"
#include "decode/decoder.h"
#include "decode/encode.h"
#include "decode/validate.h"

namespace edgegw::ingest {

namespace {

// Reused by every append of a thread (capacity kept between calls).
struct Scratch {
  decode::DecodeOutput decoded;
  std::string json;                   // the encoded readings of one call, back to back
  std::vector<buffer::DeviceId> ids;  // per encoded reading
  std::vector<std::size_t> ends;      // per encoded reading: its end in json
  // The values (buffer/values.h) of the readings the queue stores so, back to back; per encoded
  // reading, its end there (its JSON in json is then for the hooks only, empty without them).
  std::string values;
  std::vector<std::size_t> value_ends;
  // Only while a write hook wants the readings (the local history, configured actions):
  std::string variables;              // the readings' variables back to back
  std::vector<std::size_t> var_ends;  // per encoded reading: its variable's end in variables
  std::vector<std::optional<double>> numbers;  // per encoded reading: its value if a number
  std::vector<std::int64_t> times;             // per encoded reading: its time
  std::vector<buffer::Record> records;
  // Readings with an implausible time (judge_time): counted, and the rejected ones
  // dead-lettered, only once the call's append succeeded (a refused call is sent again).
  std::vector<TimeJudgement> judged;
  std::vector<TimeRejection> rejected;
};

thread_local Scratch t_scratch;

// Where a message's part of the scratch begins: what a message refused alone is rolled back to.
struct Marks {
  std::size_t json, values, ids, variables, var_ends, judged, rejected;
};

Marks marks_of(const Scratch& s) {
  return {s.json.size(),     s.values.size(), s.ids.size(),     s.variables.size(),
          s.var_ends.size(), s.judged.size(), s.rejected.size()};
}

void roll_back(Scratch& s, const Marks& m) {
  s.json.resize(m.json);
  s.ids.resize(m.ids);
  s.ends.resize(m.ids);
  s.values.resize(m.values);
  s.value_ends.resize(m.ids);
  s.variables.resize(m.variables);
  s.var_ends.resize(m.var_ends);
  s.times.resize(m.var_ends);
  s.numbers.resize(m.var_ends);
  s.judged.resize(m.judged);
  s.rejected.resize(m.rejected);
}

// Past this, the scratch is released after the call rather than kept for the next.
constexpr std::size_t kKeepScratchBytes = 4 * 1024 * 1024;

std::string_view clip(std::string_view s) { return s.substr(0, 100); }

}  // namespace

Pipeline::Pipeline(const config::SourceConfig& source, const Mapping& mapping,
                   buffer::Buffer& buffer, std::shared_ptr<SourceStats> stats,
                   std::chrono::milliseconds log_interval, ClockSynchronised clock_synchronised)
    : source_(source.name),
      format_(source.format),
      variable_(source.variable),
      mapping_(mapping),
      buffer_(buffer),
      stats_(stats ? std::move(stats) : std::make_shared<SourceStats>()),
      problems_(log::get("ingest"), log_interval),
      clock_synchronised_(std::move(clock_synchronised)) {}

void Pipeline::log_problem(std::string_view key, std::string_view device_key,
                           std::string_view what) {
  problems_.log(log::Level::warn, key,
                fmt::format("source {}: device '{}': {}", source_, clip(device_key), what));
}

bool Pipeline::judge_time(const MappingTable& table, const MappedDevice& device,
                          std::string_view key, std::int64_t arrival_ms, bool strict, Reading& r,
                          std::string& refusal) {
  const TimeRules& rules = table.time_rules();
  auto problem = implausible_time(r.time_ms, arrival_ms, rules, clock_synchronised_);
  if (!problem) return true;
  t_scratch.judged.emplace_back(device.id, rules.policy);
  switch (rules.policy) {
    case config::TimePolicy::kKeep:
      return true;
    case config::TimePolicy::kStamp:
      log_problem("time", key,
                  "variable " + r.variable + ": " + *problem + "; sent with its arrival time " +
                      "(the original in metadata.original_time; cloud.implausible_time)");
      r.metadata_json = with_original_time(r.metadata_json, r.time_ms);
      r.time_ms = arrival_ms;
      return true;
    case config::TimePolicy::kReject:
      break;
  }
  const std::string reason = "variable " + r.variable + ": " + *problem;
  if (strict) {
    refusal = reason;
    return false;
  }
  TimeRejection& rejected = t_scratch.rejected.emplace_back();
  rejected.device = device.id;
  decode::append_cloud_json(r, rejected.json);
  rejected.reason = reason + " (cloud.implausible_time: reject)";
  log_problem("time", key,
              reason + "; dead-lettered (edgegw buffer dead-letter list; cloud.implausible_time)");
  return false;
}

void Pipeline::apply_time_judgements(std::span<const TimeJudgement> judged,
                                     std::span<const TimeRejection> rejected) {
  if (judged.empty()) return;
  stats_->implausible_times.add(judged);
  for (const TimeRejection& r : rejected) {
    // After the readings' append: a crash in between loses the letter, never an accepted reading.
    if (Status st = buffer_.dead_letter(r.device, r.json, r.reason, 0); !st) {
      problems_.log(log::Level::err, "time_dead_letter",
                    fmt::format("source {}: cannot dead-letter a reading refused for its time "
                                "({}); it is dropped: {}",
                                source_, r.reason, st.message()));
    }
  }
}

void Pipeline::decode_message(const RawMessage& msg, decode::DecodeOutput& out) const {
  if (!msg.variable.empty()) return decode::decode(format_, msg, out);
  RawMessage with_variable = msg;
  with_variable.variable = variable_;
  decode::decode(format_, with_variable, out);
}

void Pipeline::decode_message(const TypedMessage& msg, decode::DecodeOutput& out) const {
  decode::decode(msg, out);
}

Status Pipeline::append(std::span<const RawMessage> messages, const AppendOptions& options) {
  return append_messages(messages, options);
}

Status Pipeline::append(std::span<const TypedMessage> messages, const AppendOptions& options) {
  return append_messages(messages, options);
}

template <class Message>
Status Pipeline::append_messages(std::span<const Message> messages, const AppendOptions& options) {
  const std::span<MessageOutcome> each = options.each;
  const bool strict = options.all_or_nothing || !each.empty();
  // Hooks may come to want the readings while sources run (actions, on a reload): asked once
  // per call.
  const bool keep_variables = buffer_.hooks_want_readings();
  if (options.appended != nullptr) *options.appended = 0;
  Scratch& s = t_scratch;
  s.json.clear();
  s.ids.clear();
  s.ends.clear();
  s.values.clear();
  s.value_ends.clear();
  s.variables.clear();
  s.var_ends.clear();
  s.times.clear();
  s.numbers.clear();
  s.judged.clear();
  s.rejected.clear();
  std::uint64_t received = 0, decode_failed = 0, invalid = 0, unmapped = 0;
  std::uint64_t decode_invalid = 0;  // readings the decoder refused (not in `received`)
  std::string refusal;               // all_or_nothing: why the call is refused
  // Readings stamped here while the system clock is not synchronised carry their boot's clock
  // instead (core/unsynced_stamp.h); the clock is asked once per call, and only when needed.
  std::optional<bool> synchronised;
  std::int64_t wall_now = 0, boot_now = 0;

  const std::shared_ptr<const MappingTable> table = mapping_.load();
  // One message's readings decoded, checked, mapped and encoded into the scratch; with `strict`,
  // the first problem sets `refusal` and ends it.
  const auto take = [&](const Message& msg) {
    s.decoded.clear();
    decode_message(msg, s.decoded);
    received += s.decoded.readings.size();
    if (s.decoded.payload_rejected) {
      ++decode_failed;
      if (strict) {
        refusal = "payload not decoded: " + s.decoded.first_error;
        return;
      }
      log_problem("decode", msg.device_key, "payload not decoded: " + s.decoded.first_error);
      return;
    }
    if (s.decoded.invalid > 0) {
      invalid += s.decoded.invalid;
      decode_invalid += s.decoded.invalid;
      if (strict) {
        refusal = "reading refused: " + s.decoded.first_error;
        return;
      }
      log_problem("invalid", msg.device_key, "reading refused: " + s.decoded.first_error);
    }
    const MappedDevice* device = !table   ? nullptr
                                 : strict ? table->find_configured(msg.device_key)
                                          : table->find(msg.device_key);
    if (device == nullptr) {
      unmapped += s.decoded.readings.size();
      if (strict) {
        refusal = "device '" + std::string(clip(msg.device_key)) + "' is not in devices:";
        return;
      }
      log_problem("unmapped", msg.device_key,
                  "not a device of devices:, nor one unmapped: takes (reject, or provisioning "
                  "refused it: see its log); its readings are dropped");
      return;
    }
    for (Reading& r : s.decoded.readings) {
      if (!device->variables.empty()) {
        if (auto it = device->variables.find(r.variable); it != device->variables.end()) {
          auto problem = apply(it->second, r);
          if (!problem) problem = decode::normalize(r);
          if (problem) {
            ++invalid;
            if (strict) {
              refusal = "variable " + r.variable + ": " + *problem;
              break;
            }
            log_problem("invalid", msg.device_key, "variable " + r.variable + ": " + *problem);
            continue;
          }
        }
      }
      // A time of the reading's own (the decoder stamps the others with the arrival time).
      if (r.time_ms != msg.receive_time_ms &&
          !judge_time(*table, *device, msg.device_key, msg.receive_time_ms, strict, r, refusal)) {
        if (!refusal.empty()) break;
        continue;
      }
      if (r.time_ms == msg.receive_time_ms && table->time_rules().clock_wait_ms > 0) {
        if (!synchronised) {  // the arrival time is ours: is the clock right?
          synchronised = clock_synchronised_();
          wall_now = core::now_ms();
          boot_now = core::boottime_ms();
          // Long after boot, a clock still unsynchronised has no time service to wait for.
          if (boot_now >= table->time_rules().clock_wait_ms) synchronised = true;
        }
        if (!*synchronised) {
          const core::UnsyncedStamp stamp{core::boot_id(),
                                          boot_now - (wall_now - msg.receive_time_ms)};
          r.metadata_json = with_unsynced_stamp(r.metadata_json, stamp.text());
        }
      }
      // A plain reading is queued as its values, a quarter of its JSON's bytes (the forwarder
      // reads the same JSON back); the hooks, when there are any, take its JSON.
      const bool as_values = r.group.empty() && r.location_json.empty() && r.metadata_json.empty();
      if (as_values) {
        buffer::encode_values({r.variable, decode::value_view(r), r.unit, r.time_ms}, s.values);
      }
      if (!as_values || keep_variables) decode::append_cloud_json(r, s.json);
      s.ids.push_back(device->id);
      s.ends.push_back(s.json.size());
      s.value_ends.push_back(s.values.size());
      if (keep_variables) {
        s.variables += r.variable;
        s.var_ends.push_back(s.variables.size());
        s.times.push_back(r.time_ms);
        s.numbers.push_back(core::number_of(decode::value_view(r)));  // Record::number
      }
    }
  };
  for (std::size_t m = 0; m < messages.size(); ++m) {
    const Marks marks = marks_of(s);
    const std::uint64_t received_before = received, unmapped_before = unmapped,
                        decode_invalid_before = decode_invalid, invalid_before = invalid;
    take(messages[m]);
    if (refusal.empty()) {
      if (!each.empty()) each[m] = {Status::ok(), s.ids.size() - marks.ids};
      continue;
    }
    if (each.empty()) break;  // the whole call is refused
    // This message alone is refused: what it added goes, and its readings count as refused.
    roll_back(s, marks);
    invalid = invalid_before + (received - received_before) - (unmapped - unmapped_before) +
              (decode_invalid - decode_invalid_before);
    each[m] = {Status::invalid_argument(std::move(refusal)), 0};
    refusal.clear();
  }

  // Refused whole: every reading decoded so far is refused, as unmapped or as invalid.
  if (!refusal.empty()) invalid = received - unmapped + decode_invalid;
  SourceStats& st = *stats_;
  st.messages.fetch_add(messages.size(), std::memory_order_relaxed);
  if (received) st.received.fetch_add(received, std::memory_order_relaxed);
  if (decode_failed) st.rejected_decode.fetch_add(decode_failed, std::memory_order_relaxed);
  if (invalid) st.rejected_invalid.fetch_add(invalid, std::memory_order_relaxed);
  if (unmapped) st.rejected_unmapped.fetch_add(unmapped, std::memory_order_relaxed);

  Status status;
  if (!refusal.empty()) {
    status = Status::invalid_argument(std::move(refusal));  // nothing of the call is appended
  } else if (!s.ids.empty() || !options.state.empty()) {
    s.records.clear();
    std::size_t begin = 0, value_begin = 0, var_begin = 0;
    for (std::size_t i = 0; i < s.ids.size(); ++i) {
      buffer::Record& record = s.records.emplace_back();
      record.device = s.ids[i];
      record.json = std::string_view(s.json).substr(begin, s.ends[i] - begin);
      record.values = std::string_view(s.values).substr(value_begin, s.value_ends[i] - value_begin);
      begin = s.ends[i];
      value_begin = s.value_ends[i];
      if (keep_variables) {
        record.variable =
            std::string_view(s.variables).substr(var_begin, s.var_ends[i] - var_begin);
        record.time_ms = s.times[i];
        record.number = s.numbers[i];
        var_begin = s.var_ends[i];
      }
    }
    status = buffer_.append(s.records, options.state);
    if (status) {
      st.appended.fetch_add(s.records.size(), std::memory_order_relaxed);
      if (options.appended != nullptr) *options.appended = s.records.size();
    } else if (status.code() == Code::kResourceExhausted) {
      st.rejected_buffer_full.fetch_add(s.records.size(), std::memory_order_relaxed);
    }
  }
  if (status) {
    apply_time_judgements(s.judged, s.rejected);
  } else {
    for (MessageOutcome& outcome : each) outcome = {status, 0};  // nothing was appended
  }
  if (s.json.capacity() > kKeepScratchBytes) s = Scratch();
  return status;
}

}  // namespace edgegw::ingest
