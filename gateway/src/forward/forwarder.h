// SPDX-License-Identifier: Apache-2.0
// Readings leave the buffer in batches, one lane per cloud device, and reach the cloud's Device API
// whatever the uplink does (DESIGN.md, Part 1 "Forwarder").
//
// - A lane has at most one batch in flight: per-device order holds.
// - Ready lanes wait in one round-robin queue: each gets one request per turn, so a device with a
//   huge backlog cannot starve a quiet one, and cloud.requests_per_minute is shared fairly.
// - At most cloud.max_in_flight requests at once over all lanes (a pool of keep-alive connections).
// - A batch closes at batch.max_readings, batch.max_bytes, or batch.linger after its first reading.
// - Each answer is handled per outcome.h; nothing is acked in the buffer that the cloud did not
//   accept (or that was dead-lettered), so a crash or a stop at any moment loses nothing.
// - A circuit breaker: after consecutive failures of the whole cloud, one probe at a time.
// - cloud.drain: fresh_first (fresh_pick.h): a lane whose oldest reading has waited longer than
//   batch.linger + cloud.fresh_after, with more than a batch waiting, sends each variable's
//   newest reading first, then readings that arrive meanwhile (every other turn of the lane at
//   most), then the backlog from its head. Readings sent out of order are removed one by one
//   (Buffer::remove_delivered); nothing is sent twice but the batch in flight at a crash.
// All scheduling state lives on one strand. The buffer's reads and acks (RocksDB work) are posted
// to the io_context and report back to the strand (the gateway runs the forwarder's io_context on
// one thread of its own, where a post costs no thread hand-off: app/daemon.h). The
// acks of the answers that arrive while one write of acks is on its way go together in the next
// (Buffer::remove): many lanes' removals cost one write, not one each.
// Every instant and every wait comes from a TimeSource (time_source.h): the steady clock in the
// gateway, a clock of their own in the unit tests.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

#include "buffer/buffer.h"
#include "config/config.h"
#include "forward/backoff.h"
#include "forward/http_client.h"
#include "forward/outcome.h"
#include "forward/pacer.h"
#include "forward/stats.h"
#include "forward/time_source.h"
#include "forward/unsynced_times.h"
#include "log/rate_limited.h"

namespace edgegw::forward {

class Forwarder final : public StatsSource {
 public:
  Forwarder(boost::asio::io_context& io, buffer::Buffer& buffer, const config::CloudConfig& cloud,
            std::unique_ptr<HttpClient> client, TimeSource& time = steady_time());
  ~Forwarder();

  // Creates or updates the lane of a device. A new token releases a lane held for a refused one,
  // and a lane that has readings waiting starts sending them. An empty token keeps the lane from
  // sending (a provisioned device the operator made the gateway forget) until one is set.
  void set_device(buffer::DeviceId id, std::string key, config::Secret token);
  // Runs `done` (on an I/O thread) once no request of the device that was sent before this call
  // is still waiting for its answer: at once when none is. A token rotation deletes the old
  // token after this.
  void after_in_flight(buffer::DeviceId id, std::function<void()> done);

  // Starts delivering what is already buffered; afterwards the buffer's on_append drives it.
  void start();
  // A device got readings (any thread).
  void notify(buffer::DeviceId id);
  // Stops sending; `done` runs (on an I/O thread) once no request is in flight. The caller bounds
  // the wait (gateway.shutdown_timeout): an abandoned batch stays in the buffer.
  void stop(std::function<void()> done);

  void set_observer(RequestObserver* observer) { observer_ = observer; }
  // The clocks readings stamped before a clock sync are judged by (unsynced_times.h); tests
  // give their own. Before start().
  void set_clock(std::function<ClockView()> clock) { clock_ = std::move(clock); }
  ForwarderStats stats() const override;

 private:
  // kReady: queued for a read; kLoading: its batch is being read; kLoaded: the batch waits for a
  // request slot; kInFlight: the request and then the ack.
  enum class LaneState { kIdle, kLingering, kReady, kLoading, kLoaded, kInFlight, kWaiting, kHeld };
  // Where a lane's batch comes from: the head of its queue (acked as a run), or out of order
  // (fresh_first): each variable's newest reading of the backlog, or readings newer than it.
  enum class Pick { kHead, kFresh, kLive };
  struct Lane;
  struct Range {
    std::size_t begin;
    std::size_t end;
  };

  void drain_notifications();
  void on_notify(buffer::DeviceId id);
  void make_ready(Lane& lane);
  void park_without_token(Lane& lane);  // idle, deaf to appends, until set_device's next token
  void pump();
  bool start_loads();  // ready lanes -> batches read ahead (at most max_in_flight of them)
  bool start_sends();  // loaded lanes -> requests (at most max_in_flight; pacer, breaker)
  void schedule_pump(Clock::time_point when);
  // A lane is busy from load until its answer is handled: reading its batch (kLoading), waiting
  // for a slot (kLoaded), the request and the ack (kInFlight). Only the request holds one of the
  // max_in_flight slots.
  void load(Lane& lane);
  // fresh_first: where the lane's next batch comes from (starts and ends its backfill).
  void choose_pick(Lane& lane);
  bool backlog_is_old(const buffer::Buffer::Span& span) const;
  // A failed lane's batch in hand that the present should overtake when it is about to leave
  // (start_sends); it is read again later.
  bool gives_way_to_the_present(const Lane& lane) const;
  void end_backfill(Lane& lane);
  // A backlog's end is where its pick's scan found the newest reading (newest_per_variable).
  void backlog_as_read(Lane& lane, buffer::Seq newest_seen);
  bool backfill_done(Lane& lane);  // ends the backfill when the head passed its backlog
  void start_read(Lane& lane);     // the batch of lane.pick, read on the I/O pool
  // A delivered (or dead-lettered) part of a lane's batch to remove from the buffer: an ack of
  // the head's run, or the readings one by one when they were picked out of order.
  struct Removing {
    buffer::DeviceId id = 0;
    Range range{};
    buffer::Removal removal;
    bool dead = false;  // `reading` refused for good: a dead letter in the same write
    std::string reading = {};
    std::string reason = {};
    int http_status = 0;
    Status status = {};  // the outcome
  };
  buffer::Removal removal_of(const Lane& lane, Range range) const;
  // Removals are gathered and written together (write_removals, on the I/O pool): the answers
  // that arrive while one write is on its way share the next, instead of a write per request.
  void queue_removal(Removing removing);
  void write_removals();
  void on_read(buffer::DeviceId id, Result<buffer::Batch> batch, buffer::Seq newest_seen,
               bool clock_wait);
  void send_part(Lane& lane);
  void on_response(buffer::DeviceId id, Range range, Response response, Clock::time_point started);
  void handle_refused(Lane& lane, Range range, const Response& response);
  // Removes [head .. entry i] of the lane's batch from the buffer (after dead-lettering the
  // reading when `dead_letter` is set), off the strand; then continues with the rest.
  void remove_part(Lane& lane, Range range, std::optional<Response> dead_letter);
  void on_removed(buffer::DeviceId id, Range range, Status status, bool dead_lettered,
                  int http_status, const std::string& reason);
  void release(Lane& lane, LaneState state);
  void after_batch_part(Lane& lane);
  void wait_then_ready(Lane& lane, std::chrono::milliseconds wait, LaneState state);
  void breaker_success();
  void breaker_failure();
  void maybe_finish_stop();
  std::string_view body_of(Lane& lane, Range range);

  boost::asio::io_context& io_;
  buffer::Buffer& buffer_;
  config::CloudConfig cloud_;
  std::unique_ptr<HttpClient> client_;
  TimeSource& time_;
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  std::shared_ptr<spdlog::logger> logger_;
  log::RateLimitedLog problems_;

  std::unordered_map<buffer::DeviceId, std::unique_ptr<Lane>> lanes_;
  std::deque<buffer::DeviceId> ready_;
  std::deque<buffer::DeviceId> loaded_;  // lanes whose batch is read, in the order they were ready
  std::size_t loading_ = 0;              // batches being read
  std::size_t in_flight_ = 0;            // slots taken: requests (max_in_flight)
  std::size_t removing_ = 0;             // acks and dead letters being written
  Pacer pacer_;
  std::unique_ptr<Timer> pump_timer_;
  std::unique_ptr<Timer> notify_timer_;  // gathers appends' notifications for a moment
  bool pump_scheduled_ = false;
  std::mt19937_64 rng_;

  // Circuit breaker over the whole cloud.
  int consecutive_failures_ = 0;
  bool breaker_open_ = false;
  Clock::time_point breaker_until_{};
  Backoff breaker_backoff_;

  bool started_ = false;
  bool stopping_ = false;
  std::function<void()> stopped_;
  RequestObserver* observer_ = nullptr;
  std::function<ClockView()> clock_ = ClockView::system;

  // Devices announced by appends since the strand last looked: many appends, one strand post.
  std::mutex notify_mu_;
  std::vector<buffer::DeviceId> notified_;
  bool notify_posted_ = false;
  // What an append to a device needs to tell its lane, by device id. A lane notified of an append
  // reads its queue; but most lanes look at their queue by themselves later, so an append needs
  // no notification while a lane waits out a backoff or a hold (its wait ends in a read), waits
  // for its read (kReady: the read will see it), or has a batch in hand (kLoaded, kInFlight: after
  // it, it looks at the queue), and only a full batch while it lingers. Only an idle lane and a
  // lane whose read runs listen to every append; an idle lane without a token (forgotten) to none:
  // set_device looks at its queue with the next one. During an uplink outage, with the breaker
  // open, no append wakes the forwarder. Set on the strand, and set back to kEveryAppend before the
  // lane's own look at the queue, so an append it skipped is always in the look that follows.
  enum class Listening : std::uint8_t { kEveryAppend, kFullBatch, kNone };
  std::vector<Listening> listening_;
  void set_listening(Lane& lane, Listening listening);

  // Removals waiting for the next write (queue_removal, write_removals); one write at a time.
  std::mutex removals_mu_;
  std::vector<Removing> removals_;
  bool removals_posted_ = false;  // a write_removals is posted or running

  mutable std::mutex stats_mu_;
  ForwarderStats stats_;
};

}  // namespace edgegw::forward
