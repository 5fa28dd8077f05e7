// SPDX-License-Identifier: Apache-2.0
#include "forward/forwarder.h"

#include <algorithm>
#include <utility>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/json.hpp>

#include "config/units.h"
#include "forward/fresh_pick.h"
#include "forward/unsynced_times.h"

namespace edgegw::forward {

namespace asio = boost::asio;
using std::chrono::milliseconds;

namespace {

// Consecutive failures of the whole cloud before the breaker opens.
constexpr int kBreakerThreshold = 5;
constexpr std::size_t kMaxReasonBytes = 500;
// fresh_first: how far back from a backlog's end its newest readings are looked for (at least;
// four batches when batches are larger). A variable not seen there is sent with the backfill.
constexpr std::size_t kFreshScan = 1000;
// How often a lane whose readings wait for the system clock looks again.
constexpr std::chrono::milliseconds kClockWait{1000};

// The cloud's explanation: {"status":false,"message":"..."} or {"result":{"message":...}}, else
// the body; at most kMaxReasonBytes either way (a misbehaving cloud can send a megabyte of it).
std::string cloud_message(const Response& r) {
  const auto clip = [](std::string_view text) {
    return std::string(text.substr(0, kMaxReasonBytes));
  };
  if (r.status == 0) return clip(r.error);
  boost::json::error_code ec;
  const auto v = boost::json::parse(r.body, ec);
  if (!ec && v.is_object()) {
    const auto& o = v.get_object();
    if (auto it = o.find("message"); it != o.end() && it->value().is_string()) {
      return clip(it->value().get_string());
    }
    if (auto it = o.find("result"); it != o.end()) {
      if (it->value().is_string()) return clip(it->value().get_string());
      if (it->value().is_object()) {
        if (auto m = it->value().get_object().find("message");
            m != it->value().get_object().end() && m->value().is_string()) {
          return clip(m->value().get_string());
        }
      }
    }
  }
  return clip(r.body);
}

}  // namespace

struct Forwarder::Lane {
  Lane(std::unique_ptr<Timer> lane_timer, const config::RetryConfig& retry)
      : timer(std::move(lane_timer)),
        backoff(retry.initial_backoff, retry.max_backoff, retry.multiplier) {}
  buffer::DeviceId id = 0;
  std::string key;
  config::Secret token;
  LaneState state = LaneState::kIdle;
  std::optional<buffer::Batch> batch;  // the batch being delivered
  std::deque<Range> parts;             // what of it is still to send, in order (after splits)
  std::string part_body;               // the body of a split part (the request's view of it)
  // Readings were appended while the lane was busy. Its read may have missed them: the buffer
  // counts an append when it is gathered, but a reader sees it only once it is written.
  bool notified = false;
  Listening listening = Listening::kEveryAppend;     // its listening_ entry (set_listening)
  bool requesting = false;                           // a request of this lane waits for its answer
  std::vector<std::function<void()>> after_request;  // after_in_flight(): run at its answer
  std::unique_ptr<Timer> timer;
  Backoff backoff;
  // cloud.drain: fresh_first.
  Pick pick = Pick::kHead;                 // where the batch in hand came from
  std::optional<buffer::Seq> backlog_end;  // a backfill runs: its backlog ends here
  buffer::Seq live_next = 0;               // the first reading after it not sent yet
  bool failing = false;                    // its last request failed (no answer, 429, 5xx, 401)
  Clock::time_point recovered_at{};        // its first request accepted after failures
  Clock::time_point backfill_found{};      // when its backfill began
  bool restarted = false;                  // its backfill gave way to newer readings
  bool reread = false;  // its batch in hand was read again for the present: it leaves as it is
};

Forwarder::Forwarder(asio::io_context& io, buffer::Buffer& buffer, const config::CloudConfig& cloud,
                     std::unique_ptr<HttpClient> client, TimeSource& time)
    : io_(io),
      buffer_(buffer),
      cloud_(cloud),
      client_(std::move(client)),
      time_(time),
      strand_(asio::make_strand(io)),
      logger_(log::get("forward")),
      problems_(logger_, std::chrono::seconds(10)),
      pacer_(cloud.requests_per_minute),
      pump_timer_(time.make_timer(strand_)),
      notify_timer_(time.make_timer(strand_)),
      rng_(std::random_device{}()),
      breaker_backoff_(cloud.retry.initial_backoff, cloud.retry.max_backoff,
                       cloud.retry.multiplier) {}

Forwarder::~Forwarder() = default;

void Forwarder::set_device(buffer::DeviceId id, std::string key, config::Secret token) {
  asio::post(strand_, [this, id, key = std::move(key), token = std::move(token)]() mutable {
    auto& slot = lanes_[id];
    if (!slot) {
      slot = std::make_unique<Lane>(time_.make_timer(strand_), cloud_.retry);
      slot->id = id;
    }
    Lane& lane = *slot;
    const bool new_token = lane.token != token;
    lane.key = std::move(key);
    lane.token = std::move(token);
    if (!new_token || lane.token.empty()) return;
    // A lane parked without a token hears appends again before it looks at its queue below.
    if (lane.state == LaneState::kIdle) set_listening(lane, Listening::kEveryAppend);
    if (lane.state == LaneState::kHeld) {
      logger_->info("device {}: new token; sending its readings again", lane.key);
      lane.timer->cancel();
      make_ready(lane);
      pump();
    } else if (started_ && !stopping_ && lane.state == LaneState::kIdle &&
               buffer_.queued(id).readings > 0) {
      make_ready(lane);  // a device provisioned while its readings waited
      pump();
    }
  });
}

void Forwarder::after_in_flight(buffer::DeviceId id, std::function<void()> done) {
  asio::post(strand_, [this, id, done = std::move(done)]() mutable {
    auto it = lanes_.find(id);
    if (it == lanes_.end() || !it->second->requesting) {
      asio::post(io_, std::move(done));
      return;
    }
    it->second->after_request.push_back(std::move(done));
  });
}

void Forwarder::start() {
  asio::post(strand_, [this] {
    started_ = true;
    // What waited in the buffer while the gateway was down goes at once, without linger.
    for (const buffer::DeviceId id : buffer_.devices_with_data()) {
      if (auto it = lanes_.find(id); it != lanes_.end()) make_ready(*it->second);
    }
    pump();
  });
}

void Forwarder::notify(buffer::DeviceId id) {
  // Called once per append, on the producers' threads. A lane that looks at its queue by itself
  // later takes the append then (listening_): nothing to do, nor for a lingering lane unless the
  // append filled a batch. Otherwise gather the devices and drain them once a millisecond at most,
  // rather than waking an I/O thread for every append (a producer of single-message appends, such
  // as an MQTT subscriber at a plant's pace, would pay a thread wake-up and a timer per message).
  Listening listening = Listening::kEveryAppend;
  {
    std::lock_guard lock(notify_mu_);
    if (id < listening_.size()) listening = listening_[id];
  }
  if (listening == Listening::kNone) return;
  if (listening == Listening::kFullBatch) {
    const buffer::Buffer::Queued q = buffer_.queued(id);
    if (q.readings < cloud_.batch.max_readings && q.bytes < cloud_.batch.max_bytes) return;
  }
  std::lock_guard lock(notify_mu_);
  if (notified_.empty() || notified_.back() != id) notified_.push_back(id);
  if (notify_posted_) return;
  notify_posted_ = true;
  asio::post(strand_, [this] {
    if (stopping_) return;  // stop() cancelled the timer; nothing more is sent
    notify_timer_->wait_until(time_.now() + std::chrono::milliseconds(1), [this](bool expired) {
      if (expired) drain_notifications();
    });
  });
}

void Forwarder::drain_notifications() {
  std::vector<buffer::DeviceId> ids;
  {
    std::lock_guard lock(notify_mu_);
    ids.swap(notified_);
    notify_posted_ = false;
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  for (const buffer::DeviceId id : ids) on_notify(id);
}

void Forwarder::stop(std::function<void()> done) {
  asio::post(strand_, [this, done = std::move(done)]() mutable {
    stopping_ = true;
    stopped_ = std::move(done);
    pump_timer_->cancel();
    notify_timer_->cancel();
    for (auto& [id, lane] : lanes_) lane->timer->cancel();
    client_->close_idle();
    maybe_finish_stop();
  });
}

ForwarderStats Forwarder::stats() const {
  ForwarderStats out;
  {
    std::lock_guard lock(stats_mu_);
    out = stats_;
  }
  for (auto& [id, lane] : out.lanes) {
    if (lane.backlog_end == 0) continue;
    const buffer::Buffer::Span span = buffer_.span(id);
    // About: the readings of the backlog sent out of order count until the head passes them.
    lane.backfill_readings = span.first <= lane.backlog_end ? lane.backlog_end + 1 - span.first : 0;
    lane.backfill_age_ms = span.head_age_ms;
    out.backfill_readings += lane.backfill_readings;
  }
  return out;
}

void Forwarder::on_notify(buffer::DeviceId id) {
  if (!started_ || stopping_) return;
  auto it = lanes_.find(id);
  if (it == lanes_.end()) return;
  Lane& lane = *it->second;
  if (lane.state != LaneState::kIdle && lane.state != LaneState::kLingering) {
    lane.notified = true;
    return;
  }
  const buffer::Buffer::Queued q = buffer_.queued(id);
  if (q.readings == 0) return;
  const bool full = q.readings >= cloud_.batch.max_readings || q.bytes >= cloud_.batch.max_bytes;
  if (full) {
    make_ready(lane);
    pump();
    return;
  }
  if (lane.state == LaneState::kIdle) {
    wait_then_ready(lane, cloud_.batch.linger, LaneState::kLingering);
  }
}

void Forwarder::set_listening(Lane& lane, Listening listening) {
  if (lane.listening == listening) return;
  lane.listening = listening;
  std::lock_guard lock(notify_mu_);
  if (lane.id >= listening_.size()) listening_.resize(lane.id + 1u, Listening::kEveryAppend);
  listening_[lane.id] = listening;
}

void Forwarder::make_ready(Lane& lane) {
  if (lane.state == LaneState::kReady || lane.state == LaneState::kLoading ||
      lane.state == LaneState::kLoaded || lane.state == LaneState::kInFlight) {
    return;
  }
  if (lane.state == LaneState::kHeld) {
    std::lock_guard lock(stats_mu_);
    --stats_.devices_held;
    stats_.lanes[lane.id].held = false;
  }
  if (lane.token.empty()) {  // forgotten
    park_without_token(lane);
    return;
  }
  set_listening(lane, Listening::kNone);  // its read has not started: it will see the appends
  lane.state = LaneState::kReady;
  ready_.push_back(lane.id);
}

void Forwarder::park_without_token(Lane& lane) {
  // A request without a token would only be refused (401, and the lane held). What it had read
  // stays in the buffer; set_device, with its next token, looks at the queue, so until then no
  // append needs to wake the forwarder for it.
  lane.parts.clear();
  lane.batch.reset();
  lane.reread = false;
  lane.state = LaneState::kIdle;
  set_listening(lane, Listening::kNone);
}

void Forwarder::wait_then_ready(Lane& lane, milliseconds wait, LaneState state) {
  lane.state = state;
  // The wait ends in make_ready, which reads the whole queue (and listens again first).
  set_listening(lane, state == LaneState::kLingering ? Listening::kFullBatch : Listening::kNone);
  lane.timer->wait_until(time_.now() + wait, [this, &lane, state](bool expired) {
    if (!expired || stopping_ || lane.state != state) return;
    make_ready(lane);
    pump();
  });
}

void Forwarder::schedule_pump(Clock::time_point when) {
  if (pump_scheduled_) return;
  pump_scheduled_ = true;
  pump_timer_->wait_until(when, [this](bool expired) {
    pump_scheduled_ = false;
    if (expired) pump();
  });
}

void Forwarder::pump() {
  // Reads run ahead of the requests: while the cloud works on a lane's batch, the next lanes'
  // batches are read, so a freed slot sends at once instead of waiting for the disk.
  for (;;) {
    const bool loaded = start_loads();  // both, every time: a send frees room for a load
    const bool sent = start_sends();
    if (!loaded && !sent) break;
  }
}

bool Forwarder::start_loads() {
  const auto max_loaded = static_cast<std::size_t>(cloud_.max_in_flight);
  bool progress = false;
  while (!stopping_ && loading_ + loaded_.size() < max_loaded && !ready_.empty()) {
    const buffer::DeviceId id = ready_.front();
    ready_.pop_front();
    auto it = lanes_.find(id);
    if (it == lanes_.end() || it->second->state != LaneState::kReady) continue;
    load(*it->second);
    progress = true;
  }
  return progress;
}

bool Forwarder::start_sends() {
  const auto max_in_flight = static_cast<std::size_t>(cloud_.max_in_flight);
  bool progress = false;
  while (!stopping_ && in_flight_ < max_in_flight && !loaded_.empty()) {
    const auto now = time_.now();
    if (breaker_open_) {
      if (now < breaker_until_) {
        schedule_pump(breaker_until_);
        break;
      }
      if (in_flight_ > 0) break;  // half-open: one probe at a time
    }
    if (const auto next = pacer_.next_allowed(); next > now) {
      schedule_pump(next);
      break;
    }
    const buffer::DeviceId id = loaded_.front();
    loaded_.pop_front();
    Lane& lane = *lanes_.at(id);
    if (lane.token.empty()) {  // forgotten after its batch was read or asked for
      park_without_token(lane);
      continue;
    }
    if (lane.failing && !lane.reread && gives_way_to_the_present(lane)) {
      // Its batch was read before or during the outage (a retry, or one waiting for an open
      // breaker's single probe): not delivered (or a duplicate at worst, as any retry), it stays
      // in the buffer for the backfill, and what is newest now goes instead. Once per send: the
      // batch read again leaves as it is, though readings kept coming during its read.
      lane.parts.clear();
      lane.batch.reset();
      if (lane.backlog_end) {  // the same backlog, grown: picked again from its new end
        end_backfill(lane);
        lane.restarted = true;
      }
      lane.reread = true;
      load(lane);
      progress = true;
      continue;
    }
    lane.reread = false;
    pacer_.on_send(now);
    lane.state = LaneState::kInFlight;
    ++in_flight_;
    send_part(lane);
    progress = true;
  }
  return progress;
}

std::string_view Forwarder::body_of(Lane& lane, Range range) {
  const buffer::Batch& b = *lane.batch;
  if (range.begin == 0 && range.end == b.size()) return b.body;
  lane.part_body = "[";
  for (std::size_t i = range.begin; i < range.end; ++i) {
    if (i > range.begin) lane.part_body += ',';
    lane.part_body += b.reading(i);
  }
  lane.part_body += ']';
  return lane.part_body;
}

void Forwarder::load(Lane& lane) {
  if (!lane.parts.empty()) {  // the rest of a batch (a retry, a split): already in hand
    lane.state = LaneState::kLoaded;
    loaded_.push_back(lane.id);
    return;
  }
  lane.state = LaneState::kLoading;
  set_listening(lane, Listening::kEveryAppend);  // before the read: later appends notify
  lane.notified = false;  // appends written before now, the read sees; later ones notify again
  ++loading_;
  choose_pick(lane);
  start_read(lane);
}

bool Forwarder::backlog_is_old(const buffer::Buffer::Span& span) const {
  const auto threshold = std::chrono::duration_cast<milliseconds>(cloud_.batch.linger) +
                         std::chrono::duration_cast<milliseconds>(cloud_.fresh_after);
  // A backlog one batch takes whole holds its present already: no request more for it.
  return span.readings > cloud_.batch.max_readings && span.head_age_ms > threshold.count();
}

bool Forwarder::gives_way_to_the_present(const Lane& lane) const {
  if (cloud_.drain != config::DrainOrder::kFreshFirst) return false;
  const Range& part = lane.parts.front();
  if (lane.parts.size() != 1 || part.begin != 0 || part.end != lane.batch->size()) {
    return false;  // a split batch is finished first
  }
  const buffer::Buffer::Span span = buffer_.span(lane.id);
  if (!backlog_is_old(span)) return false;
  // A head batch that waited out an outage; or a backfill's batch that failed while newer
  // readings came: they are the present now.
  if (!lane.backlog_end) return lane.pick == Pick::kHead;
  return span.next - 1 > std::max(*lane.backlog_end, lane.batch->entries.back().seq);
}

void Forwarder::end_backfill(Lane& lane) {
  if (!lane.backlog_end) return;
  lane.backlog_end.reset();
  std::lock_guard lock(stats_mu_);
  --stats_.backfilling;
  stats_.lanes[lane.id].backlog_end = 0;
}

void Forwarder::backlog_as_read(Lane& lane, buffer::Seq newest_seen) {
  // The buffer counts an append's readings before its group commit writes them: a pick made
  // meanwhile misses them. They are newer than its backlog, then: readings that go next (kLive),
  // and that the batch in hand gives way to at its retry (gives_way_to_the_present).
  if (!lane.backlog_end || newest_seen >= *lane.backlog_end) return;
  lane.backlog_end = newest_seen;
  lane.live_next = std::min(lane.live_next, newest_seen + 1);
  std::lock_guard lock(stats_mu_);
  stats_.lanes[lane.id].backlog_end = newest_seen;
}

bool Forwarder::backfill_done(Lane& lane) {
  if (!lane.backlog_end) return true;
  const buffer::Buffer::Span span = buffer_.span(lane.id);
  if (span.readings != 0 && span.first <= *lane.backlog_end) return false;
  end_backfill(lane);
  // After an outage every device says so at once: a line per 10 s, with the count of the others.
  problems_.log(log::Level::info, "backfilled",
                fmt::format("device {}: its backlog is delivered; oldest first again", lane.key));
  return true;
}

void Forwarder::choose_pick(Lane& lane) {
  const Pick previous = std::exchange(lane.pick, Pick::kHead);
  if (cloud_.drain != config::DrainOrder::kFreshFirst) return;
  (void)backfill_done(lane);
  const buffer::Buffer::Span span = buffer_.span(lane.id);
  if (!lane.backlog_end) {
    const bool restarted = std::exchange(lane.restarted, false);
    if (!backlog_is_old(span)) return;
    lane.backlog_end = span.next - 1;
    lane.live_next = span.next;
    lane.pick = Pick::kFresh;
    {
      std::lock_guard lock(stats_mu_);
      ++stats_.backfilling;
      stats_.lanes[lane.id].backlog_end = *lane.backlog_end;
      if (restarted) return;  // counted and said when it began
      ++stats_.backfills;
    }
    lane.backfill_found = time_.now();
    problems_.log(log::Level::info, "backfill",
                  fmt::format("device {}: {} readings wait, the oldest for {} s: each variable's "
                              "newest reading goes first, then the backlog oldest first "
                              "(cloud.drain: fresh_first)",
                              lane.key, span.readings, span.head_age_ms / 1000));
    return;
  }
  // Newer than the backlog: first, but every other turn at most, so that a lane whose turns are
  // few (a tight requests_per_minute) still moves its backlog while readings keep coming.
  if (span.next > lane.live_next && previous != Pick::kLive) lane.pick = Pick::kLive;
}

void Forwarder::start_read(Lane& lane) {
  asio::post(io_, [this, id = lane.id, pick = lane.pick, end = lane.backlog_end.value_or(0),
                   live = lane.live_next] {
    const std::size_t max_readings = cloud_.batch.max_readings;
    const std::size_t max_bytes = cloud_.batch.max_bytes;
    buffer::Seq newest_seen = 0;  // kFresh: the newest reading its scan saw
    Result<buffer::Batch> batch = [&]() -> Result<buffer::Batch> {
      if (pick == Pick::kFresh) {
        Result<FreshPick> fresh = newest_per_variable(
            buffer_, id, end, std::max(kFreshScan, 4 * max_readings), max_readings, max_bytes);
        if (!fresh) return std::move(fresh).take_status();
        newest_seen = fresh->newest_seen;
        return std::move(fresh->batch);
      }
      return pick == Pick::kLive ? buffer_.read_from(id, live, max_readings, max_bytes)
                                 : buffer_.read(id, max_readings, max_bytes);
    }();
    // Readings stamped before the clock was synchronised get their real time now, or wait.
    const std::int64_t wait_ms =
        std::chrono::duration_cast<milliseconds>(cloud_.clock_wait).count();
    const bool clock_wait =
        batch && fix_unsynced_times(*batch, clock_, wait_ms) == TimesFixed::kWait;
    asio::post(strand_, [this, id, batch = std::move(batch), newest_seen, clock_wait]() mutable {
      on_read(id, std::move(batch), newest_seen, clock_wait);
    });
  });
}

void Forwarder::release(Lane& lane, LaneState state) {
  --in_flight_;
  lane.state = state;
}

void Forwarder::on_read(buffer::DeviceId id, Result<buffer::Batch> batch, buffer::Seq newest_seen,
                        bool clock_wait) {
  Lane& lane = *lanes_.at(id);
  --loading_;
  if (clock_wait && !stopping_) {
    problems_.log(log::Level::warn, "clock",
                  fmt::format("device {}: readings the gateway stamped while the system clock "
                              "was not synchronised wait for it (their real time is known then)",
                              lane.key));
    wait_then_ready(lane, kClockWait, LaneState::kWaiting);
  } else if (!batch) {
    lane.state = LaneState::kWaiting;
    problems_.log(log::Level::err, "read",
                  "cannot read the buffer: " + std::string(batch.status().message()));
    wait_then_ready(lane, lane.backoff.next(rng_), LaneState::kWaiting);
  } else if (batch->empty() && lane.pick != Pick::kHead && !stopping_) {
    // Nothing of that kind (removed meanwhile, or appended but not written yet): the head then.
    lane.pick = Pick::kHead;
    ++loading_;
    start_read(lane);
    return;
  } else if (batch->empty() || stopping_) {
    lane.state = LaneState::kIdle;
    if (lane.notified) {
      lane.notified = false;
      on_notify(id);  // an append landed after the read: look again
    }
  } else {
    lane.parts = {{0, batch->size()}};
    if (lane.pick == Pick::kLive) lane.live_next = batch->entries.back().seq + 1;
    if (lane.pick == Pick::kFresh) backlog_as_read(lane, newest_seen);
    lane.batch = std::move(batch).value();
    set_listening(lane, Listening::kNone);  // after the batch, it looks at the queue
    lane.state = LaneState::kLoaded;
    loaded_.push_back(id);
  }
  maybe_finish_stop();
  pump();
}

void Forwarder::send_part(Lane& lane) {
  const Range range = lane.parts.front();
  const std::string_view body = body_of(lane, range);
  const auto started = time_.now();
  lane.requesting = true;
  client_->post(
      "/data", lane.token.reveal(), body, [this, id = lane.id, range, started](Response response) {
        asio::post(strand_, [this, id, range, started, r = std::move(response)]() mutable {
          on_response(id, range, std::move(r), started);
        });
      });
}

void Forwarder::on_response(buffer::DeviceId id, Range range, Response response,
                            Clock::time_point started) {
  {
    std::lock_guard lock(stats_mu_);
    ++stats_.requests_by_status[response.status];
  }
  if (observer_ != nullptr) {
    observer_->on_request(response.status, time_.now() - started, range.end - range.begin);
  }
  Lane& lane = *lanes_.at(id);
  lane.requesting = false;
  for (auto& done : std::exchange(lane.after_request, {})) asio::post(io_, std::move(done));
  const Outcome outcome = classify(response.status, response.retry_after, response.body);
  const auto count_retry = [this] {
    std::lock_guard lock(stats_mu_);
    ++stats_.retries;
  };
  switch (outcome.action) {
    case Action::kDelivered:
      breaker_success();
      lane.backoff.reset();
      if (std::exchange(lane.failing, false)) lane.recovered_at = started;
      remove_part(lane, range, std::nullopt);  // the lane stays busy until the ack is done
      return;
    case Action::kRateLimited: {
      release(lane, LaneState::kWaiting);
      lane.failing = true;
      breaker_success();
      count_retry();
      const milliseconds wait =
          outcome.retry_after ? milliseconds(*outcome.retry_after) : lane.backoff.next(rng_);
      pacer_.pause_until(time_.now() + wait);
      problems_.log(log::Level::warn, "429",
                    fmt::format("the cloud's rate limit was reached (429); pausing all sends "
                                "for {} ms (set cloud.requests_per_minute to the profile's "
                                "budget to avoid this)",
                                wait.count()));
      make_ready(lane);
      break;
    }
    case Action::kRetry: {
      release(lane, LaneState::kWaiting);
      lane.failing = true;
      breaker_failure();
      count_retry();
      const milliseconds wait =
          outcome.retry_after ? milliseconds(*outcome.retry_after) : lane.backoff.next(rng_);
      const std::string what =
          response.status == 0
              ? "cannot reach the cloud: " + response.error
              : fmt::format("the cloud answered {}: {}", response.status, cloud_message(response));
      problems_.log(
          log::Level::warn, fmt::format("retry/{}", response.status),
          fmt::format("{}; retrying (device {} waits {} ms)", what, lane.key, wait.count()));
      wait_then_ready(lane, wait, LaneState::kWaiting);
      break;
    }
    case Action::kTokenRefused:
      release(lane, LaneState::kWaiting);
      lane.failing = true;
      breaker_success();
      {
        std::lock_guard lock(stats_mu_);
        ++stats_.devices_held;
        stats_.lanes[lane.id].held = true;
      }
      logger_->error(
          "device {}: the cloud refused its token ({}); its readings are kept and sent again "
          "in {} or when the config gives it a new token",
          lane.key, response.status, config::format_duration(cloud_.retry.max_backoff));
      wait_then_ready(lane, cloud_.retry.max_backoff, LaneState::kHeld);
      break;
    case Action::kSplit:
      breaker_success();
      handle_refused(lane, range, response);
      return;
  }
  maybe_finish_stop();
  pump();
}

void Forwarder::handle_refused(Lane& lane, Range range, const Response& response) {
  const std::size_t n = range.end - range.begin;
  if (n == 1) return remove_part(lane, range, response);  // refused alone: dead-letter it
  // Halve the refused part and send both halves in order, until the refused readings stand
  // alone: the others are delivered, only those are dead-lettered.
  const std::size_t mid = range.begin + n / 2;
  lane.parts.front() = {range.begin, mid};
  lane.parts.insert(lane.parts.begin() + 1, Range{mid, range.end});
  release(lane, LaneState::kWaiting);
  make_ready(lane);
  maybe_finish_stop();
  pump();
}

void Forwarder::remove_part(Lane& lane, Range range, std::optional<Response> refused) {
  // The request is over: its slot goes to the next lane now, while this lane (still busy, so its
  // order holds) waits for its ack. A slot held through the disk work would leave the cloud idle.
  --in_flight_;
  ++removing_;
  // The batch stays in hand, untouched, until on_removed: the I/O thread reads its entries.
  Removing removing{lane.id, range, removal_of(lane, range)};
  if (refused) {
    removing.dead = true;
    removing.reading = std::string(lane.batch->reading(range.begin));
    removing.reason = cloud_message(*refused);
    removing.http_status = refused->status;
  }
  queue_removal(std::move(removing));
  pump();  // the freed slot
}

buffer::Removal Forwarder::removal_of(const Lane& lane, Range range) const {
  const buffer::Batch& b = *lane.batch;
  const std::span<const buffer::Batch::Entry> entries(b.entries.data() + range.begin,
                                                      range.end - range.begin);
  if (lane.pick != Pick::kHead) return {lane.id, std::nullopt, entries};
  // The whole rest of the batch: the read saw the reading after it (the new head's time).
  return {lane.id, range.end == b.size() ? buffer::AckPoint::through(b)
                                         : buffer::AckPoint::of(entries.back())};
}

void Forwarder::queue_removal(Removing removing) {
  std::lock_guard lock(removals_mu_);
  removals_.push_back(std::move(removing));
  if (std::exchange(removals_posted_, true)) return;
  asio::post(io_, [this] { write_removals(); });
}

void Forwarder::write_removals() {
  std::vector<Removing> gathered;
  {
    std::lock_guard lock(removals_mu_);
    gathered.swap(removals_);
  }
  std::vector<buffer::Removal> removals;
  removals.reserve(gathered.size());
  for (const Removing& r : gathered) {
    removals.push_back(r.removal);
    // Views of `gathered`, which stays put until the write is done.
    if (r.dead) removals.back().refused = {r.reading, r.reason, r.http_status};
  }
  std::vector<Status> statuses = buffer_.remove(removals);
  for (std::size_t i = 0; i < gathered.size(); ++i) gathered[i].status = std::move(statuses[i]);
  asio::post(strand_, [this, gathered = std::move(gathered)]() mutable {
    for (Removing& r : gathered) {
      on_removed(r.id, r.range, std::move(r.status), r.dead, r.http_status, r.reason);
    }
  });
  // One write at a time: what arrived during this one is the next (posted, not looped, so that
  // the reads waiting on the pool go in between).
  std::lock_guard lock(removals_mu_);
  if (removals_.empty()) {
    removals_posted_ = false;
  } else {
    asio::post(io_, [this] { write_removals(); });
  }
}

void Forwarder::on_removed(buffer::DeviceId id, Range range, Status status, bool dead_lettered,
                           int http_status, const std::string& reason) {
  Lane& lane = *lanes_.at(id);
  --removing_;
  lane.state = LaneState::kWaiting;
  if (!status) {
    if (dead_lettered) {
      // Not stored as a dead letter: the reading stays in the queue and is tried again later.
      problems_.log(log::Level::err, "dead_letter",
                    "cannot dead-letter a refused reading: " + std::string(status.message()));
      wait_then_ready(lane, lane.backoff.next(rng_), LaneState::kWaiting);
      maybe_finish_stop();
      pump();
      return;
    }
    problems_.log(log::Level::err, "ack",
                  "cannot remove delivered readings from the buffer: " +
                      std::string(status.message()) + "; retrying the removal");
    if (!stopping_) {
      // Delivered but still in the buffer (a full disk, say): retry the removal after a backoff,
      // the lane still busy. Sending the batch again would duplicate it at every attempt.
      ++removing_;
      lane.timer->wait_until(
          time_.now() + lane.backoff.next(rng_), [this, &lane, range](bool expired) {
            if (!expired || stopping_) {
              --removing_;  // left in the buffer: sent again after the restart (a duplicate)
              maybe_finish_stop();
              return;
            }
            queue_removal({lane.id, range, removal_of(lane, range)});
          });
      return;
    }
    // Stopping: the readings stay in the buffer and go again after the restart (a duplicate).
  }
  {
    std::lock_guard lock(stats_mu_);
    LaneStats& lane_stats = stats_.lanes[id];
    if (dead_lettered) {
      ++stats_.readings_dead_lettered;
      ++stats_.dead_lettered_by_status[http_status];
      ++lane_stats.readings_dead_lettered;
    } else {
      stats_.readings_forwarded += range.end - range.begin;
      lane_stats.readings_forwarded += range.end - range.begin;
      if (lane.pick == Pick::kFresh) {  // the present reached the cloud
        const Clock::time_point since = std::max(lane.recovered_at, lane.backfill_found);
        stats_.present_delay_seconds = std::chrono::duration<double>(time_.now() - since).count();
      }
    }
  }
  if (dead_lettered) {
    problems_.log(log::Level::warn, fmt::format("refused/{}", lane.key),
                  fmt::format("device {}: the cloud refused a reading for good ({}: {}); it is in "
                              "the dead-letter store (edgegw buffer dead-letter list)",
                              lane.key, http_status, reason));
  }
  lane.parts.pop_front();
  after_batch_part(lane);
  maybe_finish_stop();
  pump();
}

void Forwarder::after_batch_part(Lane& lane) {
  lane.state = LaneState::kWaiting;  // neither idle nor ready: decided below
  if (!lane.parts.empty()) {
    make_ready(lane);
    return;
  }
  lane.batch.reset();
  (void)backfill_done(lane);
  // Listening again before the look at the queue: an append it misses notifies.
  set_listening(lane, Listening::kEveryAppend);
  if (!stopping_ && (lane.notified || buffer_.queued(lane.id).readings > 0)) {
    make_ready(lane);  // what arrived meanwhile has waited a round trip already: no linger
  } else {
    lane.state = LaneState::kIdle;
  }
}

void Forwarder::breaker_success() {
  consecutive_failures_ = 0;
  if (breaker_open_) {
    breaker_open_ = false;
    breaker_backoff_.reset();
    {
      std::lock_guard lock(stats_mu_);
      stats_.breaker_open = false;
    }
    logger_->info("the cloud answers again; sending at full rate");
  }
}

void Forwarder::breaker_failure() {
  ++consecutive_failures_;
  if (!breaker_open_ && consecutive_failures_ < kBreakerThreshold) return;
  const milliseconds wait = breaker_backoff_.next(rng_);
  if (!breaker_open_) {
    logger_->warn("the cloud failed {} requests in a row; probing with one request at a time",
                  consecutive_failures_);
    std::lock_guard lock(stats_mu_);
    stats_.breaker_open = true;
  }
  breaker_open_ = true;
  breaker_until_ = time_.now() + wait;
}

void Forwarder::maybe_finish_stop() {
  if (!stopping_ || in_flight_ > 0 || loading_ > 0 || removing_ > 0 || !stopped_) return;
  auto done = std::move(stopped_);
  stopped_ = nullptr;
  done();
}

}  // namespace edgegw::forward
