// SPDX-License-Identifier: Apache-2.0
// One serial source: a reader thread (Boost.Asio serial_port on its own io_context) cuts the byte
// stream into frames and queues them; an appender thread hands every queued frame to the host in
// one append call, in order, and retries the same frames while the host's buffer is full. When
// the queue reaches its high-water mark the reader stops reading, so a full buffer pushes back on
// the port (the kernel's buffer, then the device's flow control) instead of dropping lines.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/serial_port.hpp>
#include <boost/asio/steady_timer.hpp>

#include "config.h"
#include "edgegw/log_limiter.h"
#include "edgegw/plugin_sdk.h"
#include "framer.h"

namespace edgegw::plugins::serial {

// Frames read but not yet appended: payload and device bytes in one arena, offsets per frame.
struct FrameQueue {
  static constexpr std::uint32_t kFixedDevice = UINT32_MAX;  // device_len: the config's `device`
  struct Item {
    std::uint32_t payload_offset;
    std::uint32_t payload_len;
    std::uint32_t device_offset;
    std::uint32_t device_len;
    std::int64_t receive_time_ms;
  };
  std::string arena;
  std::vector<Item> items;

  bool empty() const noexcept { return items.empty(); }
  void clear() noexcept {
    arena.clear();
    items.clear();
  }
  void push(std::string_view payload, std::string_view device, bool fixed_device,
            std::int64_t time_ms);
  // Moves every frame of `other` to the end of this queue, in order; `other` is left empty.
  void take(FrameQueue& other);
};

// Framing and content problems: counted, logged at most once per reason per interval.
enum class Problem { kOverlong, kNul, kInvalidUtf8, kPartial, kNoDevice, kCount };

class SerialSource {
 public:
  SerialSource(sdk::Host host, std::string_view name, std::string_view config_json);
  SerialSource(const SerialSource&) = delete;
  SerialSource& operator=(const SerialSource&) = delete;
  ~SerialSource();

  void start();
  void stop();

 private:
  struct ProblemState {
    std::atomic<std::uint64_t> total{0};
  };

  // Reader side (io thread).
  void run_io();
  void open_port();
  void schedule_reopen();
  void start_read();
  void on_read(const boost::system::error_code& ec, std::size_t n);
  void port_lost(const std::string& why);
  void handle_frame(std::string_view frame, std::int64_t time_ms);
  void note(Problem p);
  void report_problems(bool all);
  void arm_report_timer();

  // Appender side.
  void run_appender();
  void deliver(FrameQueue& queue);
  bool wait_or_stop(std::chrono::milliseconds d);

  sdk::Host host_;
  std::string name_;
  Config config_;

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  boost::asio::serial_port port_;
  boost::asio::steady_timer reopen_timer_;
  boost::asio::steady_timer report_timer_;
  std::vector<char> read_buf_;
  Framer framer_;
  FrameQueue staged_;  // frames of the current read, before they join the shared queue
  std::string device_scratch_;
  std::string payload_scratch_;
  bool reading_ = false;
  std::chrono::milliseconds next_backoff_;
  std::chrono::steady_clock::time_point opened_at_{};
  std::string last_open_error_;  // logged once per distinct reason
  std::array<ProblemState, static_cast<std::size_t>(Problem::kCount)> problems_;
  sdk::RateLimiter problem_limiter_;  // a window per reason; the timer reports what it held back
  std::thread io_thread_;

  // Shared between the reader and the appender.
  std::mutex mu_;
  std::condition_variable wake_;
  FrameQueue queue_;          // guarded by mu_
  bool read_paused_ = false;  // guarded: the reader stopped at the high-water mark
  bool stopping_ = false;     // guarded
  std::thread appender_thread_;

  sdk::RateLimiter refusal_limiter_;  // a refusal warns at most once per window, else debug
  std::atomic<std::uint64_t> frames_appended_{0};
  std::atomic<std::uint64_t> frames_lost_at_stop_{0};
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace edgegw::plugins::serial
