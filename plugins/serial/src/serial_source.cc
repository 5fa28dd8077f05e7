// SPDX-License-Identifier: Apache-2.0
#include "serial_source.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <termios.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <optional>
#include <utility>

#include <boost/asio/post.hpp>

#include "edgegw/clock.h"
#include "frame_check.h"

namespace edgegw::plugins::serial {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t kReadChunk = 64 * 1024;
// The reader stops reading while this much waits for the appender (bytes or frames).
constexpr std::size_t kHighWaterBytes = 1024 * 1024;
constexpr std::size_t kHighWaterFrames = 32 * 1024;
// One append call carries at most this many frames (one group commit in the host's buffer).
constexpr std::size_t kMaxPerAppend = 4096;
constexpr auto kReportInterval = 10s;
// A port that stayed open at least this long restarts its reopen backoff from the beginning.
constexpr auto kStableOpen = 1s;
constexpr auto kFullRetryMin = 20ms;
constexpr auto kFullRetryMax = 1000ms;

std::string format_ms(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + "s";
  return std::to_string(d.count()) + "ms";
}

speed_t speed_of(std::uint32_t baud) {
  switch (baud) {
    case 50:
      return B50;
    case 75:
      return B75;
    case 110:
      return B110;
    case 134:
      return B134;
    case 150:
      return B150;
    case 200:
      return B200;
    case 300:
      return B300;
    case 600:
      return B600;
    case 1200:
      return B1200;
    case 1800:
      return B1800;
    case 2400:
      return B2400;
    case 4800:
      return B4800;
    case 9600:
      return B9600;
    case 19200:
      return B19200;
    case 38400:
      return B38400;
    case 57600:
      return B57600;
    case 115200:
      return B115200;
    case 230400:
      return B230400;
    case 460800:
      return B460800;
    case 500000:
      return B500000;
    case 576000:
      return B576000;
    case 921600:
      return B921600;
    case 1000000:
      return B1000000;
    case 1152000:
      return B1152000;
    case 1500000:
      return B1500000;
    case 2000000:
      return B2000000;
    case 2500000:
      return B2500000;
    case 3000000:
      return B3000000;
    case 3500000:
      return B3500000;
    case 4000000:
      return B4000000;
    default:
      return B0;  // refused by parse_config
  }
}

// Raw mode with the configured line settings, in one tcsetattr. With parity checking on, a byte
// received with a parity or framing error is read as NUL (INPCK without IGNPAR/PARMRK), so the
// frame holding it is dropped and counted as a NUL frame rather than passed on with a wrong byte.
int configure_line(int fd, const Config& c) {
  termios t{};
  if (::tcgetattr(fd, &t) != 0) return errno;
  ::cfmakeraw(&t);
  t.c_cflag |= CLOCAL | CREAD;
  t.c_cflag &= ~static_cast<tcflag_t>(CSIZE);
  switch (c.data_bits) {
    case 5:
      t.c_cflag |= CS5;
      break;
    case 6:
      t.c_cflag |= CS6;
      break;
    case 7:
      t.c_cflag |= CS7;
      break;
    default:
      t.c_cflag |= CS8;
      break;
  }
  t.c_cflag &= ~static_cast<tcflag_t>(PARENB | PARODD);
  t.c_iflag &= ~static_cast<tcflag_t>(INPCK | IGNPAR | PARMRK);
  if (c.parity != Parity::kNone) {
    t.c_cflag |= PARENB;
    if (c.parity == Parity::kOdd) t.c_cflag |= PARODD;
    t.c_iflag |= INPCK;
  }
  if (c.stop_bits == 2) {
    t.c_cflag |= CSTOPB;
  } else {
    t.c_cflag &= ~static_cast<tcflag_t>(CSTOPB);
  }
  t.c_cflag &= ~static_cast<tcflag_t>(CRTSCTS);
  t.c_iflag &= ~static_cast<tcflag_t>(IXON | IXOFF | IXANY);
  if (c.flow_control == FlowControl::kHardware) t.c_cflag |= CRTSCTS;
  if (c.flow_control == FlowControl::kSoftware) t.c_iflag |= IXON | IXOFF;
  t.c_cc[VMIN] = 1;
  t.c_cc[VTIME] = 0;
  const speed_t speed = speed_of(c.baud);
  if (::cfsetispeed(&t, speed) != 0 || ::cfsetospeed(&t, speed) != 0) return errno;
  if (::tcsetattr(fd, TCSANOW, &t) != 0) return errno;
  return 0;
}

// The problem's name: its key in the log limiter and in the summary at a stop.
constexpr std::array<const char*, static_cast<std::size_t>(Problem::kCount)> kProblemNames = {
    "overlong", "nul", "invalid_utf8", "partial", "no_device"};

const char* problem_text(Problem p) {
  switch (p) {
    case Problem::kOverlong:
      return "frame(s) longer than max_frame dropped (resynchronised at the next delimiter)";
    case Problem::kNul:
      return "frame(s) holding a NUL byte dropped (binary noise, or parity/framing errors)";
    case Problem::kInvalidUtf8:
      return "frame(s) that are not valid UTF-8 dropped (wrong baud rate or line settings?)";
    case Problem::kPartial:
      return "unterminated frame(s) dropped when the port closed";
    case Problem::kNoDevice:
      return "frame(s) without a usable device key dropped (device_field missing, not a string "
             "or number, or not a CSV/JSON line; no fallback `device`)";
    case Problem::kCount:
      break;
  }
  return "?";
}

}  // namespace

void FrameQueue::push(std::string_view payload, std::string_view device, bool fixed_device,
                      std::int64_t time_ms) {
  Item item{};
  item.payload_offset = static_cast<std::uint32_t>(arena.size());
  item.payload_len = static_cast<std::uint32_t>(payload.size());
  arena.append(payload);
  if (fixed_device) {
    item.device_offset = 0;
    item.device_len = kFixedDevice;
  } else {
    item.device_offset = static_cast<std::uint32_t>(arena.size());
    item.device_len = static_cast<std::uint32_t>(device.size());
    arena.append(device);
  }
  item.receive_time_ms = time_ms;
  items.push_back(item);
}

void FrameQueue::take(FrameQueue& other) {
  if (other.items.empty()) return;
  if (items.empty()) {
    std::swap(arena, other.arena);
    std::swap(items, other.items);
    other.clear();
    return;
  }
  const auto base = static_cast<std::uint32_t>(arena.size());
  arena.append(other.arena);
  for (Item item : other.items) {
    item.payload_offset += base;
    if (item.device_len != kFixedDevice) item.device_offset += base;
    items.push_back(item);
  }
  other.clear();
}

SerialSource::SerialSource(sdk::Host host, std::string_view name, std::string_view config_json)
    : host_(host),
      name_(name),
      config_(parse_config(config_json)),
      work_(boost::asio::make_work_guard(io_)),
      port_(io_),
      reopen_timer_(io_),
      report_timer_(io_),
      read_buf_(kReadChunk),
      framer_(config_.delimiter, config_.line_framing, config_.max_frame),
      next_backoff_(config_.reopen_backoff) {}

SerialSource::~SerialSource() { stop(); }

void SerialSource::start() {
  if (started_) return;
  started_ = true;
  host_.set_up(false);
  appender_thread_ = std::thread([this] { run_appender(); });
  boost::asio::post(io_, [this] {
    open_port();
    arm_report_timer();
  });
  io_thread_ = std::thread([this] { run_io(); });
}

void SerialSource::stop() {
  if (!started_ || stopped_) return;
  stopped_ = true;
  // The reader first: no more frames.
  io_.stop();
  if (io_thread_.joinable()) io_thread_.join();
  boost::system::error_code ignored;
  reopen_timer_.cancel();
  report_timer_.cancel();
  port_.close(ignored);
  if (framer_.reset()) note(Problem::kPartial);
  // The appender delivers what the reader queued (one attempt if the buffer is full), then ends.
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (appender_thread_.joinable()) appender_thread_.join();
  report_problems(true);

  std::string summary =
      "stopped: " + std::to_string(frames_appended_.load()) + " frame(s) appended";
  summary += "; dropped:";
  for (std::size_t i = 0; i < problems_.size(); ++i) {
    summary +=
        std::string(" ") + kProblemNames[i] + "=" + std::to_string(problems_[i].total.load());
  }
  if (const std::uint64_t lost = frames_lost_at_stop_.load(); lost > 0) {
    summary +=
        "; " + std::to_string(lost) + " frame(s) read but not appended (buffer full at stop)";
  }
  host_.info(summary);
  host_.set_up(false);
}

// ---- reader --------------------------------------------------------------------------------

void SerialSource::run_io() {
  for (;;) {
    try {
      io_.run();
      return;
    } catch (const std::exception& e) {
      // A handler threw (out of memory, a bug): log it and keep the source alive.
      host_.error(std::string("serial reader: unexpected error: ") + e.what());
    } catch (...) {
      host_.error("serial reader: unexpected error");
    }
    if (io_.stopped()) return;
  }
}

void SerialSource::open_port() {
  boost::system::error_code ec;
  port_.open(config_.port, ec);
  std::string why;
  if (ec) {
    why = ec.message();
  } else if (const int err = configure_line(port_.native_handle(), config_); err != 0) {
    why = std::string("cannot set ") + std::to_string(config_.baud) + " baud " +
          line_settings(config_) + ": " + std::strerror(err);
  } else if (config_.exclusive && ::ioctl(port_.native_handle(), TIOCEXCL) != 0) {
    why = std::string("cannot get exclusive access (TIOCEXCL): ") + std::strerror(errno);
  }
  if (!why.empty()) {
    boost::system::error_code ignored;
    port_.close(ignored);
    if (why != last_open_error_) {
      host_.warn("cannot open " + config_.port + ": " + why + "; retrying every " +
                 format_ms(config_.reopen_backoff) + " … " + format_ms(config_.reopen_max_backoff) +
                 " (logged again only if the reason changes)");
      last_open_error_ = why;
    } else {
      host_.log(EDGEGW_LOG_DEBUG, "cannot open " + config_.port + ": " + why);
    }
    schedule_reopen();
    return;
  }

  // By-id names are symbolic links: opening the path resolves them anew each time; say where to.
  std::string opened = config_.port;
  if (char* real = ::realpath(config_.port.c_str(), nullptr); real != nullptr) {
    if (config_.port != real) opened += std::string(" (") + real + ")";
    std::free(real);
  }
  host_.info("opened " + opened + " at " + std::to_string(config_.baud) + " baud " +
             line_settings(config_));
  last_open_error_.clear();
  opened_at_ = std::chrono::steady_clock::now();
  host_.set_up(true);
  start_read();
}

void SerialSource::schedule_reopen() {
  reopen_timer_.expires_after(next_backoff_);
  next_backoff_ = std::min(next_backoff_ * 2, config_.reopen_max_backoff);
  reopen_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) open_port();
  });
}

void SerialSource::start_read() {
  if (!port_.is_open() || reading_) return;
  std::size_t waiting = 0;
  {
    std::lock_guard lock(mu_);
    if (queue_.arena.size() >= kHighWaterBytes || queue_.items.size() >= kHighWaterFrames) {
      read_paused_ = true;  // the appender resumes us when it takes the queue
      waiting = queue_.items.size();
    }
  }
  if (waiting > 0) {
    host_.log(EDGEGW_LOG_DEBUG, "reading from " + config_.port + " paused: " +
                                    std::to_string(waiting) + " frame(s) wait for the buffer");
    return;
  }
  reading_ = true;
  port_.async_read_some(boost::asio::buffer(read_buf_),
                        [this](const boost::system::error_code& ec, std::size_t n) {
                          reading_ = false;
                          on_read(ec, n);
                        });
}

void SerialSource::on_read(const boost::system::error_code& ec, std::size_t n) {
  if (n > 0) {
    const std::int64_t time = sdk::now_ms();
    framer_.feed(std::string_view(read_buf_.data(), n),
                 [&](std::string_view frame) { handle_frame(frame, time); });
    // Overlong frames are counted by the framer; report the new ones.
    const std::uint64_t overlong = framer_.overlong();
    auto& state = problems_[static_cast<std::size_t>(Problem::kOverlong)];
    while (state.total.load(std::memory_order_relaxed) < overlong) note(Problem::kOverlong);
    if (!staged_.empty()) {
      {
        std::lock_guard lock(mu_);
        queue_.take(staged_);
      }
      wake_.notify_one();
    }
  }
  if (ec) {
    if (ec == boost::asio::error::operation_aborted) return;
    port_lost(ec == boost::asio::error::eof ? std::string("end of file (hung up)") : ec.message());
    return;
  }
  start_read();
}

void SerialSource::handle_frame(std::string_view frame, std::int64_t time_ms) {
  switch (check_frame(frame)) {
    case FrameProblem::kNul:
      note(Problem::kNul);
      return;
    case FrameProblem::kInvalidUtf8:
      note(Problem::kInvalidUtf8);
      return;
    case FrameProblem::kNone:
      break;
  }
  if (!config_.device_field) {
    staged_.push(frame, {}, true, time_ms);
    return;
  }
  const DeviceField& field = *config_.device_field;
  bool found = false;
  if (field.kind == DeviceField::Kind::kCsvColumn) {
    const std::size_t first = frame.find_first_not_of(" \t");
    if (first != std::string_view::npos && frame[first] == '#') return;  // a CSV comment
    found = take_csv_column(frame, field.column, device_scratch_, payload_scratch_);
  } else {
    found = take_json_key(frame, field.key, device_scratch_, payload_scratch_);
  }
  if (found && is_valid_device_key(device_scratch_)) {
    staged_.push(payload_scratch_, device_scratch_, false, time_ms);
  } else if (!config_.device.empty()) {
    staged_.push(frame, {}, true, time_ms);  // the fallback device, the line as it came
  } else {
    note(Problem::kNoDevice);
  }
}

void SerialSource::port_lost(const std::string& why) {
  if (framer_.reset()) note(Problem::kPartial);
  boost::system::error_code ignored;
  port_.close(ignored);
  host_.set_up(false);
  const auto open_for = std::chrono::steady_clock::now() - opened_at_;
  if (open_for >= kStableOpen) next_backoff_ = config_.reopen_backoff;
  host_.warn("lost " + config_.port + ": " + why + "; reopening in " + format_ms(next_backoff_) +
             ", backing off to " + format_ms(config_.reopen_max_backoff));
  schedule_reopen();
}

void SerialSource::note(Problem p) {
  const auto i = static_cast<std::size_t>(p);
  const std::uint64_t total = problems_[i].total.fetch_add(1, std::memory_order_relaxed) + 1;
  // Each reason its own window: a noisy one never hides another.
  const std::optional<std::uint64_t> suppressed = problem_limiter_.admit(kProblemNames[i]);
  if (!suppressed) return;
  std::string msg = std::to_string(*suppressed + 1) + " " + problem_text(p);
  if (p == Problem::kOverlong) msg += " [max_frame " + std::to_string(config_.max_frame) + "]";
  msg += "; " + std::to_string(total) + " since start";
  host_.warn(msg);
}

void SerialSource::report_problems(bool all) {
  problem_limiter_.flush(
      [this](std::string_view key, std::uint64_t n, sdk::RateLimiter::Clock::duration since) {
        const auto i = static_cast<std::size_t>(
            std::find(kProblemNames.begin(), kProblemNames.end(), key) - kProblemNames.begin());
        if (i >= kProblemNames.size()) return;
        host_.warn(std::to_string(n) + " more " + problem_text(static_cast<Problem>(i)) +
                   " in the last " +
                   std::to_string(std::chrono::duration_cast<std::chrono::seconds>(since).count()) +
                   "s; " + std::to_string(problems_[i].total.load(std::memory_order_relaxed)) +
                   " since start");
      },
      all);
}

void SerialSource::arm_report_timer() {
  report_timer_.expires_after(kReportInterval);
  report_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    report_problems(false);
    arm_report_timer();
  });
}

// ---- appender ------------------------------------------------------------------------------

void SerialSource::run_appender() {
  FrameQueue work;
  for (;;) {
    bool resume = false;
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [this] { return !queue_.empty() || stopping_; });
      if (queue_.empty()) return;  // stopping, nothing left
      std::swap(work, queue_);
      resume = std::exchange(read_paused_, false);
    }
    if (resume) boost::asio::post(io_, [this] { start_read(); });
    try {
      deliver(work);
    } catch (const std::exception& e) {
      host_.error(std::string("serial appender: unexpected error: ") + e.what());
    }
    work.clear();
  }
}

bool SerialSource::wait_or_stop(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  return !wake_.wait_for(lock, d, [this] { return stopping_; });
}

void SerialSource::deliver(FrameQueue& queue) {
  std::vector<edgegw_raw_message> messages;
  messages.reserve(std::min(queue.items.size(), kMaxPerAppend));
  bool refused_logged = false;
  bool refusal_warned = false;
  std::size_t done = 0;
  while (done < queue.items.size()) {
    const std::size_t n = std::min(kMaxPerAppend, queue.items.size() - done);
    messages.clear();
    for (std::size_t i = done; i < done + n; ++i) {
      const FrameQueue::Item& item = queue.items[i];
      const std::string_view payload(queue.arena.data() + item.payload_offset, item.payload_len);
      const std::string_view device =
          item.device_len == FrameQueue::kFixedDevice
              ? std::string_view(config_.device)
              : std::string_view(queue.arena.data() + item.device_offset, item.device_len);
      messages.push_back(sdk::message(device, payload, item.receive_time_ms));
    }
    auto retry = kFullRetryMin;
    for (;;) {
      const sdk::AppendResult r = host_.append(messages);
      if (r.ok()) {
        if (refused_logged) {
          host_.log(refusal_warned ? EDGEGW_LOG_INFO : EDGEGW_LOG_DEBUG,
                    "the buffer accepts again: reading from " + config_.port + " resumed");
        }
        refused_logged = false;
        break;
      }
      if (r.code == EDGEGW_ERR_STOPPED) {
        frames_lost_at_stop_ += queue.items.size() - done;
        return;
      }
      bool stopping = false;
      {
        std::lock_guard lock(mu_);
        stopping = stopping_;
      }
      if (stopping) {
        frames_lost_at_stop_ += queue.items.size() - done;
        host_.warn("stopping while the buffer refuses frames (" + r.message + ")");
        return;
      }
      if (!refused_logged) {
        // Not acknowledged: keep these frames, stop reading the port once the queue is full.
        // A warning at most once per interval: a buffer at its cap refuses and accepts by turns.
        const bool warn = refusal_limiter_.admit("refused").has_value();
        host_.log(warn ? EDGEGW_LOG_WARN : EDGEGW_LOG_DEBUG,
                  "the buffer refused " + std::to_string(n) + " frame(s) (" + r.message +
                      "): holding them and pausing reads from " + config_.port +
                      " until it accepts");
        refused_logged = true;
        refusal_warned = warn;
      }
      (void)wait_or_stop(retry);
      retry = std::min(retry * 2, kFullRetryMax);
    }
    frames_appended_.fetch_add(n, std::memory_order_relaxed);
    done += n;
  }
}

}  // namespace edgegw::plugins::serial

extern "C" EDGEGW_PLUGIN_EXPORT const edgegw_plugin* edgegw_plugin_entry(
    std::uint32_t host_abi_version) {
  return edgegw::sdk::plugin_table<edgegw::plugins::serial::SerialSource>("serial", "1.0.0",
                                                                          host_abi_version);
}
