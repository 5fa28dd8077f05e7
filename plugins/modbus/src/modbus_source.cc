// SPDX-License-Identifier: Apache-2.0
#include "modbus_source.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <utility>

#include "edgegw/plugin_worker.h"
#include "value.h"

namespace edgegw::plugins::modbus {
namespace {

using namespace std::chrono_literals;

// Polls refused by a full buffer stay held (no new poll is taken meanwhile: a device keeps its
// values) and are handed over again after this, doubling up to a second (as the serial source).
constexpr auto kHeldRetryMin = 20ms;
constexpr auto kHeldRetryMax = 1000ms;

std::string format_ms(std::chrono::milliseconds d) {
  if (d.count() % 60000 == 0 && d.count() > 0) return std::to_string(d.count() / 60000) + "m";
  if (d.count() % 1000 == 0 && d.count() > 0) return std::to_string(d.count() / 1000) + "s";
  return std::to_string(d.count()) + "ms";
}

void set_timeout(modbus_t* ctx, std::chrono::milliseconds d,
                 int (*set)(modbus_t*, std::uint32_t, std::uint32_t)) {
  const auto ms = static_cast<std::uint32_t>(d.count());
  (void)set(ctx, ms / 1000, (ms % 1000) * 1000);
}

const char* exception_name(int code) {
  switch (code) {
    case MODBUS_EXCEPTION_ILLEGAL_FUNCTION:
      return "illegal function";
    case MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS:
      return "illegal data address";
    case MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE:
      return "illegal data value";
    case MODBUS_EXCEPTION_SLAVE_OR_SERVER_FAILURE:
      return "server device failure";
    case MODBUS_EXCEPTION_ACKNOWLEDGE:
      return "acknowledge";
    case MODBUS_EXCEPTION_SLAVE_OR_SERVER_BUSY:
      return "server device busy";
    case MODBUS_EXCEPTION_MEMORY_PARITY:
      return "memory parity error";
    case MODBUS_EXCEPTION_GATEWAY_PATH:
      return "gateway path unavailable";
    case MODBUS_EXCEPTION_GATEWAY_TARGET:
      return "gateway target device failed to respond";
    default:
      return "unknown exception";
  }
}

// Whether two reported values are the same (on_change without a deadband); a string's texts are
// given apart.
bool same_value(const edgegw_reading& a, std::string_view a_text, const edgegw_reading& b,
                std::string_view b_text) {
  if (a.type != b.type) return false;
  switch (a.type) {
    case EDGEGW_VALUE_TEXT:
      return a_text == b_text;
    case EDGEGW_VALUE_NUMBER:
    case EDGEGW_VALUE_FLOAT32:
      return a.number == b.number;
    default:  // integer, bool
      return a.integer == b.integer;
  }
}

}  // namespace

ModbusSource::ModbusSource(sdk::Host host, std::string_view name, std::string_view config_json)
    : host_(host),
      name_(name),
      config_(parse_config(config_json)),
      bus_(describe(config_)),
      limited_(host),
      reconnect_backoff_(config_.initial_backoff),
      regs_(kMaxReadRegisters),
      bits_(kMaxReadBits) {
  if (config_.transport == Transport::kTcp) {
    const std::string port = std::to_string(config_.tcp_port);
    ctx_ = modbus_new_tcp_pi(config_.host.c_str(), port.c_str());
  } else {
    ctx_ = modbus_new_rtu(config_.serial_port.c_str(), static_cast<int>(config_.baud),
                          config_.parity, config_.data_bits, config_.stop_bits);
  }
  if (ctx_ == nullptr) {
    throw sdk::Error(EDGEGW_ERR_INVALID_ARGUMENT,
                     "config: libmodbus refused " + bus_ + ": " + modbus_strerror(errno));
  }
  (void)modbus_set_error_recovery(ctx_, MODBUS_ERROR_RECOVERY_NONE);
  set_timeout(ctx_, config_.timeout, &modbus_set_response_timeout);

  // The plan: what each group costs, said once here (and so by `edgegw check-config`).
  std::size_t groups = 0, requests = 0;
  double per_second = 0;
  units_.reserve(config_.units.size());
  for (const Unit& u : config_.units) {
    UnitState& us = units_.emplace_back();
    us.config = &u;
    us.label = "unit " + std::to_string(u.id) + " (" + u.device + ")";
    for (const Group& g : u.groups) {
      GroupState& gs = us.groups.emplace_back();
      gs.config = &g;
      gs.requests = plan_requests(g.points, config_.max_gap);
      gs.points.resize(g.points.size());
      host_.info(us.label + ", group '" + g.name + "' every " + format_ms(g.interval) + ": " +
                 describe(gs.requests, g.points.size()));
      ++groups;
      requests += gs.requests.size();
      per_second += static_cast<double>(gs.requests.size()) * 1000.0 /
                    static_cast<double>(g.interval.count());
    }
  }
  char rate[32];
  std::snprintf(rate, sizeof rate, "%.3g", per_second);
  host_.info(bus_ + ": " + std::to_string(units_.size()) + " unit(s), " + std::to_string(groups) +
             " group(s), " + std::to_string(requests) + " request(s) per round of polls, " + rate +
             " request(s)/s");
}

ModbusSource::~ModbusSource() {
  stop();  // closes the connection
  if (ctx_ != nullptr) modbus_free(ctx_);
}

void ModbusSource::start() {
  if (started_) return;
  started_ = true;
  host_.set_up(false);
  const Clock::time_point now = Clock::now();
  for (UnitState& u : units_) {
    for (GroupState& g : u.groups) g.next_due = now;
  }
  thread_ = std::thread([this] {
    try {
      run();
    } catch (const std::exception& e) {
      host_.error(std::string("modbus: the polling thread ended: ") + e.what());
    }
  });
}

void ModbusSource::stop() {
  if (!started_ || stopped_) return;
  stopped_ = true;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    // A TCP read waiting for its answer ends now; a serial one within `timeout`.
    if (socket_ >= 0 && config_.transport == Transport::kTcp) ::shutdown(socket_, SHUT_RDWR);
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (connected_) {
    modbus_close(ctx_);
    connected_ = false;
  }
  limited_.flush(EDGEGW_LOG_WARN, true);  // the counts no later line said
  for (const UnitState& u : units_) host_.info("stopped: " + summary(u));
  if (refused_ || readings_lost_ > 0) {
    const std::size_t waiting = refused_ ? readings_.size() : 0;
    host_.warn("stopped with " + std::to_string(waiting + readings_lost_) +
               " reading(s) the buffer did not take (full)");
  }
  host_.set_up(false);
}

std::string ModbusSource::summary(const UnitState& u) const {
  const Counters& c = u.counters;
  return u.label + ": " + std::to_string(c.polls) + " poll(s), " + std::to_string(c.requests) +
         " request(s), " + std::to_string(c.readings) +
         " reading(s); timeouts=" + std::to_string(c.timeouts) +
         " crc_errors=" + std::to_string(c.crc_errors) +
         " exceptions=" + std::to_string(c.exceptions) +
         " bad_responses=" + std::to_string(c.bad_responses) +
         " not_a_number=" + std::to_string(c.not_a_number);
}

bool ModbusSource::stopping() {
  std::lock_guard lock(mu_);
  return stopping_;
}

bool ModbusSource::wait_until(Clock::time_point t) {
  std::unique_lock lock(mu_);
  return !wake_.wait_until(lock, t, [this] { return stopping_; });
}

// ---- the bus thread ----------------------------------------------------------------------

ModbusSource::Clock::time_point ModbusSource::next_wake() const {
  Clock::time_point next = Clock::time_point::max();
  for (const UnitState& u : units_) {
    for (const GroupState& g : u.groups) {
      next = std::min(next, u.down ? std::max(g.next_due, u.retry_at) : g.next_due);
    }
  }
  return next;
}

void ModbusSource::run() {
  std::vector<GroupState*> due;
  while (!stopping()) {
    // Back-pressure: while the buffer refuses a round, no new poll is taken (a device keeps its
    // values; a poll not taken loses nothing), and the held one is handed over again, in order.
    if (refused_) {
      if (!deliver_round()) {
        if (!wait_until(Clock::now() + held_retry_)) break;
        held_retry_ = std::min<std::chrono::milliseconds>(held_retry_ * 2, kHeldRetryMax);
        continue;
      }
      held_retry_ = kHeldRetryMin;
    }
    if (!connected_) {
      deliver_round();  // what was polled before the link went: no reason to hold it
      if (!connect()) {
        if (!wait_until(Clock::now() + reconnect_backoff_)) break;
        reconnect_backoff_ = std::min(reconnect_backoff_ * 2, config_.max_backoff);
        continue;
      }
      reconnect_backoff_ = config_.initial_backoff;
    }
    const Clock::time_point wake = next_wake();
    if (wake > Clock::now()) {
      if (!wait_until(wake)) break;
      continue;
    }
    const Clock::time_point now = Clock::now();
    bool silence = false;  // a unit answered nothing this round
    for (UnitState& u : units_) {
      if (u.down && now < u.retry_at) continue;
      due.clear();
      for (GroupState& g : u.groups) {
        if (g.next_due <= now) due.push_back(&g);
      }
      if (due.empty()) continue;
      silence = poll(u, due, now) || silence;
      if (!connected_ || stopping()) break;
    }
    deliver_when_due(now);
    if (silence && connected_ && config_.transport == Transport::kTcp &&
        std::all_of(units_.begin(), units_.end(), [](const UnitState& u) { return u.down; })) {
      // No unit answers: the connection may be dead without a reset (a NAT or a cellular link
      // that dropped it). A new one costs little; the next try of a unit goes over it.
      limited_.log(EDGEGW_LOG_WARN, "all-silent",
                   "no unit of " + bus_ + " answers: reconnecting before the next try");
      close_connection();
    }
    update_up();
  }
  deliver_round();  // stopping: what was polled goes to the buffer (stop() waits for it)
}

bool ModbusSource::connect() {
  std::string why;
  if (config_.transport == Transport::kTcp) {
    // libmodbus waits for a TCP connect as long as for an answer.
    set_timeout(ctx_, config_.connect_timeout, &modbus_set_response_timeout);
  }
  if (modbus_connect(ctx_) == -1) why = modbus_strerror(errno);
  set_timeout(ctx_, config_.timeout, &modbus_set_response_timeout);
  if (!why.empty()) {
    if (why != last_connect_error_) {
      host_.warn("cannot connect to " + bus_ + ": " + why + "; retrying every " +
                 format_ms(config_.initial_backoff) + " … " + format_ms(config_.max_backoff) +
                 " (logged again only if the reason changes)");
      last_connect_error_ = why;
    } else {
      host_.log(EDGEGW_LOG_DEBUG, "cannot connect to " + bus_ + ": " + why);
    }
    return false;
  }
  if (config_.transport == Transport::kRtu && config_.rs485 &&
      modbus_rtu_set_serial_mode(ctx_, MODBUS_RTU_RS485) == -1) {
    limited_.log(EDGEGW_LOG_WARN, "rs485",
                 "rs485: the driver of " + config_.serial_port +
                     " has no RS-485 mode (TIOCSRS485: " + std::strerror(errno) +
                     "): the adapter must switch the line's direction itself");
  }
  last_connect_error_.clear();
  {
    std::lock_guard lock(mu_);
    socket_ = modbus_get_socket(ctx_);
  }
  connected_ = true;
  (void)modbus_flush(ctx_);  // whatever a serial line held before we listened
  host_.info("connected: " + bus_);
  return true;
}

void ModbusSource::close_connection() {
  {
    std::lock_guard lock(mu_);
    socket_ = -1;
  }
  modbus_close(ctx_);
  connected_ = false;
}

void ModbusSource::disconnect(const std::string& why) {
  close_connection();
  update_up();
  if (!stopping()) {
    host_.warn("lost " + bus_ + ": " + why + "; reconnecting (while that fails: every " +
               format_ms(config_.initial_backoff) + ", backing off to " +
               format_ms(config_.max_backoff) + ")");
  }
}

void ModbusSource::update_up() {
  bool up = false;
  if (connected_) {
    for (const UnitState& u : units_) up = up || !u.down;
  }
  if (up != up_) {
    up_ = up;
    host_.set_up(up);
  }
}

ModbusSource::Outcome ModbusSource::read(const Request& r, int& error) {
  if (config_.request_delay.count() > 0) {
    const Clock::time_point ready = last_request_end_ + config_.request_delay;
    if (ready > Clock::now()) (void)wait_until(ready);
  }
  int rc = -1;
  errno = 0;
  switch (r.kind) {
    case Kind::kCoil:
      rc = modbus_read_bits(ctx_, r.address, r.count, bits_.data());
      break;
    case Kind::kDiscreteInput:
      rc = modbus_read_input_bits(ctx_, r.address, r.count, bits_.data());
      break;
    case Kind::kHolding:
      rc = modbus_read_registers(ctx_, r.address, r.count, regs_.data());
      break;
    case Kind::kInput:
      rc = modbus_read_input_registers(ctx_, r.address, r.count, regs_.data());
      break;
  }
  error = errno;
  if (config_.request_delay.count() > 0) last_request_end_ = Clock::now();
  if (rc == r.count) return Outcome::kOk;
  if (rc >= 0) return Outcome::kBadResponse;
  if (error == ETIMEDOUT) return Outcome::kTimeout;
  if (error > MODBUS_ENOBASE && error <= EMBXGTAR) return Outcome::kException;
  if (error == EMBBADCRC) return Outcome::kCrc;
  if (error >= EMBBADDATA && error <= EMBBADSLAVE) return Outcome::kBadResponse;
  return Outcome::kLinkLost;  // reset, broken pipe, I/O error of a vanished adapter, ...
}

void ModbusSource::add_readings(UnitState& unit, GroupState& group, const Request& r) {
  for (const Request::Member& m : r.members) {
    const Point& p = group.config->points[m.point];
    PointState& ps = group.points[m.point];
    edgegw_reading reading = sdk::reading(p.name, p.unit);
    double number = 0;
    if (!typed_value(p, regs_.data() + m.offset, bits_[m.offset] != 0, reading, value_text_,
                     value_scratch_, &number)) {
      ++unit.counters.not_a_number;
      limited_.log(EDGEGW_LOG_WARN, "nan-" + std::to_string(unit.config->id),
                   unit.label + ": '" + p.name + "' is not a number (NaN or infinity): left out; " +
                       std::to_string(unit.counters.not_a_number) + " since start");
      continue;
    }
    if (p.report == Report::kOnChange) {
      const bool changed =
          !ps.has_last ||
          (p.deadband > 0 ? std::fabs(number - ps.last_number) > p.deadband
                          : !same_value(reading, value_text_, ps.last, ps.last_text));
      if (!changed) continue;
      ps.has_last = true;
      ps.last_number = number;
      ps.last = reading;
      if (reading.type == EDGEGW_VALUE_TEXT) ps.last_text = value_text_;
    }
    std::size_t text_at = std::string::npos;
    if (reading.type == EDGEGW_VALUE_TEXT) {
      text_at = texts_.size();
      texts_ += value_text_;
      reading.text.len = value_text_.size();  // its ptr is set when the polls are handed over
    }
    readings_.push_back(reading);
    text_at_.push_back(text_at);
  }
}

void ModbusSource::note_failure(UnitState& unit, const Request& r, Outcome outcome, int error) {
  const std::string id = std::to_string(unit.config->id);
  const std::string what = unit.label + ", " + describe(r) + ": ";
  switch (outcome) {
    case Outcome::kTimeout:
      ++unit.counters.timeouts;
      break;  // logged by poll(), which decides about the backoff
    case Outcome::kException: {
      ++unit.counters.exceptions;
      const int code = error - MODBUS_ENOBASE;
      limited_.log(EDGEGW_LOG_WARN, "exception-" + id,
                   what + "exception " + std::to_string(code) + " (" + exception_name(code) +
                       "): its points left out; " + std::to_string(unit.counters.exceptions) +
                       " exception(s) since start");
      break;
    }
    case Outcome::kCrc:
      ++unit.counters.crc_errors;
      limited_.log(EDGEGW_LOG_WARN, "crc-" + id,
                   what +
                       "answer with a bad CRC (noise on the line? wrong baud or parity?): its "
                       "points left out; " +
                       std::to_string(unit.counters.crc_errors) + " since start");
      break;
    case Outcome::kBadResponse:
      ++unit.counters.bad_responses;
      limited_.log(EDGEGW_LOG_WARN, "bad-" + id,
                   what + "malformed answer (" + modbus_strerror(error) +
                       "): its points left out; " + std::to_string(unit.counters.bad_responses) +
                       " since start");
      break;
    case Outcome::kOk:
    case Outcome::kLinkLost:
      break;
  }
}

bool ModbusSource::poll(UnitState& unit, std::vector<GroupState*>& due, Clock::time_point now) {
  const std::int64_t time_ms = sdk::now_ms();  // the time of every reading of this poll
  ++unit.counters.polls;
  (void)modbus_set_slave(ctx_, unit.config->id);
  const std::size_t begin = readings_.size();  // this poll's, after the held polls' readings
  bool answered = false;
  bool timed_out = false;
  const Request* timed_out_request = nullptr;
  for (GroupState* g : due) {
    g->next_due += g->config->interval;
    if (g->next_due <= now) g->next_due = now + g->config->interval;  // late: skip, no burst
  }
  for (GroupState* g : due) {
    for (const Request& r : g->requests) {
      int error = 0;
      const Outcome outcome = read(r, error);
      ++unit.counters.requests;
      if (outcome == Outcome::kOk) {
        answered = true;
        add_readings(unit, *g, r);
        continue;
      }
      if (outcome == Outcome::kLinkLost) {
        end_poll(unit, begin, time_ms);
        disconnect(std::string(modbus_strerror(error)) + " (" + unit.label + ", " + describe(r) +
                   ")");
        return false;
      }
      note_failure(unit, r, outcome, error);
      if (outcome == Outcome::kException) {
        answered = true;
      } else {
        // Whatever may still arrive for this request must not be read as the next answer.
        (void)modbus_flush(ctx_);
      }
      if (outcome == Outcome::kTimeout) {
        timed_out = true;
        timed_out_request = &r;
        break;  // this unit's poll ends here: the others on the bus are not kept waiting
      }
    }
    if (timed_out) break;
  }
  end_poll(unit, begin, time_ms);

  if (answered) {
    if (timed_out) {
      limited_.log(EDGEGW_LOG_WARN, "timeout-" + std::to_string(unit.config->id),
                   unit.label + ", " + describe(*timed_out_request) + ": no answer within " +
                       format_ms(config_.timeout) +
                       " (its points and those of the rest of the "
                       "poll left out; the unit answered the poll's other requests); " +
                       std::to_string(unit.counters.timeouts) + " timeout(s) since start");
    }
    if (unit.down) {
      host_.info(unit.label + " answers again (after " + std::to_string(unit.failed_polls) +
                 " poll(s) without an answer)");
    }
    unit.down = false;
    unit.failed_polls = 0;
    unit.backoff = std::chrono::milliseconds(0);
    return false;
  }
  if (!timed_out) return false;
  // Nothing answered: back off this unit.
  unit.backoff =
      unit.down ? std::min(unit.backoff * 2, config_.max_backoff) : config_.initial_backoff;
  unit.retry_at = Clock::now() + unit.backoff;
  ++unit.failed_polls;
  const std::string message =
      unit.label + " does not answer (no response within " + format_ms(config_.timeout) + " to " +
      describe(*timed_out_request) + "): next try in " + format_ms(unit.backoff) +
      " (backing off to " + format_ms(config_.max_backoff) + "; the other units are polled as " +
      "usual); " + std::to_string(unit.counters.timeouts) + " timeout(s) since start";
  if (!unit.down) {
    host_.warn(message);
  } else {
    limited_.log(EDGEGW_LOG_DEBUG, "silent-" + std::to_string(unit.config->id), message);
  }
  unit.down = true;
  return true;
}

void ModbusSource::end_poll(UnitState& unit, std::size_t begin, std::int64_t time_ms) {
  const std::size_t readings = readings_.size() - begin;
  if (readings == 0) return;
  unit.counters.readings += readings;  // read; any the buffer never took are readings_lost_
  round_.push_back({&unit, begin, readings_.size(), time_ms});
}

void ModbusSource::deliver_when_due(Clock::time_point round_start) {
  if (round_.empty()) return;
  const Clock::time_point now = Clock::now();
  if (held_since_ == Clock::time_point{}) held_since_ = now;
  const Clock::time_point deadline = held_since_ + config_.append_interval;
  // The next round joins if it is due, and likely over (it takes what this one took), in time.
  if (connected_ && next_wake() + (now - round_start) < deadline) return;
  deliver_round();
}

bool ModbusSource::deliver_round() {
  if (round_.empty()) return true;
  if (!texts_.empty()) {  // texts_ has its final address now
    for (std::size_t i = 0; i < readings_.size(); ++i) {
      if (text_at_[i] != std::string::npos) readings_[i].text.ptr = texts_.data() + text_at_[i];
    }
  }
  batches_.clear();
  for (const Poll& p : round_) {
    batches_.push_back(sdk::reading_batch(
        p.unit->config->device,
        std::span<const edgegw_reading>(readings_).subspan(p.begin, p.end - p.begin), p.time_ms));
  }
  const sdk::AppendResult r = host_.append_readings(batches_);
  if (held(r)) {
    if (!refused_) {
      limited_.log(EDGEGW_LOG_WARN, "refused", [&] {
        return "the buffer refused a round of polls (" + r.message +
               "): holding it, and taking no new poll until the buffer takes it";
      });
    }
    refused_ = true;
    return false;
  }
  if (r.ok() && refused_) {
    host_.info("the buffer takes polls again: " + std::to_string(round_.size()) +
               " held poll(s) appended; polling goes on");
  } else if (!r.ok()) {
    readings_lost_ += readings_.size();
  }
  refused_ = false;
  held_since_ = {};
  round_.clear();
  readings_.clear();
  text_at_.clear();
  texts_.clear();
  return true;
}

bool ModbusSource::held(const sdk::AppendResult& r) {
  if (r.ok()) return false;
  // Full buffer or disk: try again later. Stopping: the round is lost with the stop (counted).
  if (r.code == EDGEGW_ERR_FULL || r.code == EDGEGW_ERR_IO) return true;
  if (r.code != EDGEGW_ERR_STOPPED) {
    // Refused for good (a reading the gateway cannot take): retrying would hold the bus forever.
    host_.error("the gateway refused a round of polls for good (" + r.message +
                "): dropped; the next polls go on");
  }
  return false;
}

}  // namespace edgegw::plugins::modbus
