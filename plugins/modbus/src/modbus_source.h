// SPDX-License-Identifier: Apache-2.0
// One modbus source: one bus (a TCP connection, or a serial line) polled by one thread with
// libmodbus. Each unit's groups are due at their own interval; the points of one unit that one
// poll read are one batch of typed readings (plugin ABI 1.5: no JSON to write or parse) carrying
// the poll's time, and the batches of the units polled in one round (those due at the same
// moment) go to the host in one append. When
// rounds come faster than `append_interval`, the rounds of one interval share that append: one
// durable write per interval rather than per round (a write costs the gateway more than a round's
// requests, see bench/results/analysis.md). A poll is held about that long at most (the next
// round's length is foreseen as the last one's), and not at all when the next round would end
// later than that, or the bus is about to reconnect or stop.
//
// Faults, per unit: a request without an answer (timeout) ends that unit's poll; a unit that
// answered nothing in a poll is backed off (initial_backoff doubling to max_backoff) so that it
// costs the bus one timeout per retry instead of one per request. Exception responses, CRC errors
// and malformed answers cost only the points of that request. A lost connection (TCP reset,
// serial adapter gone) closes it and reconnects with the same backoff; a TCP connection over which
// no unit answers any more is replaced before the next try (it may be dead without a reset). All
// are counted per unit, logged rate-limited, and totalled when the source stops. A point that could
// not be read is left out of its poll's readings: no value is ever made up.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <modbus.h>

#include "config.h"
#include "edgegw/log_limiter.h"
#include "edgegw/plugin_sdk.h"
#include "plan.h"

namespace edgegw::plugins::modbus {

class ModbusSource {
 public:
  ModbusSource(sdk::Host host, std::string_view name, std::string_view config_json);
  ModbusSource(const ModbusSource&) = delete;
  ModbusSource& operator=(const ModbusSource&) = delete;
  ~ModbusSource();

  void start();
  void stop();

 private:
  using Clock = std::chrono::steady_clock;

  struct PointState {  // on_change's memory
    bool has_last = false;
    double last_number = 0;  // the value last reported, as read (the deadband's)
    edgegw_reading last{};   // … as reported: its type and number or integer
    std::string last_text;   // … and its text, for a string
  };
  struct GroupState {
    const Group* config = nullptr;
    std::vector<Request> requests;
    std::vector<PointState> points;
    Clock::time_point next_due{};
  };
  struct Counters {
    std::uint64_t polls = 0;
    std::uint64_t requests = 0;
    std::uint64_t readings = 0;
    std::uint64_t timeouts = 0;
    std::uint64_t crc_errors = 0;
    std::uint64_t exceptions = 0;
    std::uint64_t bad_responses = 0;
    std::uint64_t not_a_number = 0;
  };
  struct UnitState {
    const Unit* config = nullptr;
    std::string label;  // "unit 3 (meter-3)"
    std::vector<GroupState> groups;
    bool down = false;
    Clock::time_point retry_at{};
    std::chrono::milliseconds backoff{0};
    std::uint64_t failed_polls = 0;  // while down
    Counters counters;
  };
  enum class Outcome { kOk, kTimeout, kCrc, kException, kBadResponse, kLinkLost };
  // A held poll: its readings are readings_[begin, end).
  struct Poll {
    const UnitState* unit = nullptr;
    std::size_t begin = 0;
    std::size_t end = 0;
    std::int64_t time_ms = 0;
  };

  void run();
  bool connect();
  void disconnect(const std::string& why);
  void close_connection();
  bool wait_until(Clock::time_point t);
  bool stopping();
  Clock::time_point next_wake() const;
  // True when the unit answered nothing (it is backed off now).
  bool poll(UnitState& unit, std::vector<GroupState*>& due, Clock::time_point now);
  Outcome read(const Request& r, int& error);
  void add_readings(UnitState& unit, GroupState& group, const Request& r);
  void note_failure(UnitState& unit, const Request& r, Outcome outcome, int error);
  void end_poll(UnitState& unit, std::size_t begin, std::int64_t time_ms);
  // Appends the polls held since the last append unless the next round, started at its due time
  // and as long as the one started at `round_start`, ends before the oldest has waited
  // append_interval (a poll slower than that is never held).
  void deliver_when_due(Clock::time_point round_start);
  // Appends the held polls in one call. Polls the buffer refuses (full) stay held, refused_ set:
  // no new poll is taken until they are taken. False while they are refused.
  bool deliver_round();
  // Whether `r` asks to hold what it refused (full buffer or disk); logs a refusal for good.
  bool held(const sdk::AppendResult& r);
  void update_up();
  std::string summary(const UnitState& unit) const;

  sdk::Host host_;
  std::string name_;
  Config config_;
  std::string bus_;  // "tcp 10.0.0.5:502"
  sdk::LogLimiter limited_;
  std::vector<UnitState> units_;
  modbus_t* ctx_ = nullptr;

  // The bus thread's own.
  bool connected_ = false;
  bool up_ = false;
  std::chrono::milliseconds reconnect_backoff_;
  std::string last_connect_error_;
  Clock::time_point last_request_end_{};
  std::vector<std::uint16_t> regs_;
  std::vector<std::uint8_t> bits_;
  std::vector<edgegw_reading> readings_;       // the readings of the polls held for one append
  std::vector<std::size_t> text_at_;           // … per reading: its text's offset in texts_
  std::string texts_;                          // … the text values' bytes
  std::vector<Poll> round_;                    // … and which are each poll's
  Clock::time_point held_since_{};             // when round_ got its first poll
  std::vector<edgegw_reading_batch> batches_;  // one per held poll, for one append
  std::string value_text_, value_scratch_;     // typed_value's
  bool refused_ = false;                       // the held polls were refused by a full buffer
  std::chrono::milliseconds held_retry_{20};   // their next retry (doubling)
  std::uint64_t readings_lost_ = 0;

  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mu_
  int socket_ = -1;        // guarded by mu_: stop() shuts a TCP connection down to end a wait
  std::thread thread_;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace edgegw::plugins::modbus
