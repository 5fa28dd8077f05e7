// SPDX-License-Identifier: Apache-2.0
// What the host's append callback does for one source: decode each raw message with the source's
// format, map it to its cloud device (rename, unit, scale/offset), encode each reading once as the
// cloud's JSON, and append them all to the buffer in one call (one group commit).
//
// Hot path: no lock of our own, no per-reading allocation once the per-thread scratch buffers have
// grown; counters are relaxed atomics bumped once per call; problems are logged rate-limited.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "buffer/buffer.h"
#include "config/config.h"
#include "core/clock_sync.h"
#include "decode/decoder.h"
#include "edgegw/reading.h"
#include "edgegw/status.h"
#include "ingest/mapping.h"
#include "ingest/source_stats.h"
#include "ingest/time_check.h"
#include "log/rate_limited.h"

namespace edgegw::ingest {

class Pipeline {
 public:
  // Whether the system clock is synchronised (tests give their own).
  using ClockSynchronised = std::function<bool()>;

  // `mapping` and `buffer` must outlive the pipeline.
  Pipeline(const config::SourceConfig& source, const Mapping& mapping, buffer::Buffer& buffer,
           std::shared_ptr<SourceStats> stats,
           std::chrono::milliseconds log_interval = std::chrono::seconds(10),
           ClockSynchronised clock_synchronised = core::system_clock_synchronised);

  // Decodes, maps and appends. OK: every reading that could be kept is durable (payloads that
  // could not be decoded and unmapped devices are counted, logged and dropped: not an error).
  // An error (kResourceExhausted: buffer or disk full) means nothing of the call was appended.
  Status append(std::span<const RawMessage> messages) { return append(messages, {}); }

  // What became of one message under AppendOptions::each.
  struct MessageOutcome {
    Status status;             // invalid_argument: the message was refused (nothing of it appended)
    std::size_t readings = 0;  // its readings appended
  };
  struct AppendOptions {
    // The cloud's rule for one request: any payload not decoded, reading refused or device not
    // configured is an invalid_argument naming it, and nothing is appended (nothing is logged:
    // the caller answers its client).
    bool all_or_nothing = false;
    std::size_t* appended = nullptr;  // set to the readings appended
    // The source's own state changes, written in the same batch as the readings (plugin ABI 1.3;
    // written even when no reading is kept).
    std::span<const buffer::StateChange> state = {};
    // The same rule for each message on its own (many requests, one write): a message refused
    // alone gets its invalid_argument here, the others are appended. One outcome per message;
    // an error returned (nothing appended) is every message's outcome too.
    std::span<MessageOutcome> each = {};
  };
  Status append(std::span<const RawMessage> messages, const AppendOptions& options);

  // The same for readings a plugin handed over as values (plugin ABI 1.5): checked instead of
  // decoded, then mapped and appended exactly as decoded readings are.
  Status append(std::span<const TypedMessage> messages, const AppendOptions& options);
  Status append(std::span<const TypedMessage> messages) { return append(messages, {}); }

  const std::string& source() const noexcept { return source_; }
  SourceStats& stats() noexcept { return *stats_; }

 private:
  // append() for either kind of message; the readings of one come from decode_message.
  template <class Message>
  Status append_messages(std::span<const Message> messages, const AppendOptions& options);
  void decode_message(const RawMessage& msg, decode::DecodeOutput& out) const;
  void decode_message(const TypedMessage& msg, decode::DecodeOutput& out) const;
  void log_problem(std::string_view key, std::string_view device_key, std::string_view what);
  // Applies the table's TimePolicy to a device-given time that cannot be right. False: the
  // reading is not to be appended (rejected: dead-lettered once the call's append succeeded, or,
  // with `strict`, `refusal` says why the call is refused).
  // Counts the call's judged times and writes its dead letters (the call's append succeeded).
  void apply_time_judgements(std::span<const TimeJudgement> judged,
                             std::span<const TimeRejection> rejected);
  bool judge_time(const MappingTable& table, const MappedDevice& device, std::string_view key,
                  std::int64_t arrival_ms, bool strict, Reading& r, std::string& refusal);

  std::string source_;
  decode::Format format_;
  std::string variable_;  // the fallback variable of raw payloads
  const Mapping& mapping_;
  buffer::Buffer& buffer_;
  std::shared_ptr<SourceStats> stats_;
  log::RateLimitedLog problems_;
  ClockSynchronised clock_synchronised_;
};

}  // namespace edgegw::ingest
