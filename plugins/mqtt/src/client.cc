// SPDX-License-Identifier: Apache-2.0
#include "client.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <utility>

#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>

namespace edgegw::plugins::mqtt {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

constexpr std::size_t kReadChunk = 64 * 1024;  // the smallest free space a read is given
// A read that brings this many messages already shares its store and send enough: no pause.
constexpr std::size_t kCoalesceBelow = 8;

std::string seconds_text(std::chrono::milliseconds d) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1fs", static_cast<double>(d.count()) / 1000.0);
  return text;
}

std::string describe(const boost::system::error_code& ec) {
  if (ec == asio::error::eof) return "the broker closed the connection";
  if (ec == asio::ssl::error::stream_truncated) return "the broker closed the TLS stream";
  return ec.message();
}

}  // namespace

Client::Client(ClientConfig config, ClientHandler& handler)
    : config_(std::move(config)),
      handler_(handler),
      session_(config_.session),
      work_(asio::make_work_guard(io_)),
      timer_(io_),
      tick_timer_(io_),
      read_timer_(io_),
      in_(kReadChunk) {}

Client::~Client() { stop(); }

void Client::start() {
  asio::post(io_, [this] { attempt(); });
  thread_ = std::thread([this] { io_.run(); });
}

void Client::stop() {
  if (!thread_.joinable()) return;
  asio::post(io_, [this] {
    stopping_ = true;
    timer_.cancel();
    tick_timer_.cancel();
    read_timer_.cancel();
    holding_ = false;  // what the buffer refused stays the broker's
    if (transport_ && session_.up() && !write_busy_) {
      // A polite DISCONNECT (the session stays, as its expiry says), then close; at most 1 s.
      out_.clear();
      send(session_.disconnect());
      if (!write_busy_) {  // it left at once
        close_transport();
        work_.reset();
        return;
      }
      close_after_flush_ = Closing{"stopped", false};
      timer_.expires_after(1s);
      timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) close_transport();
      });
    } else {
      close_transport();
    }
    work_.reset();
  });
  thread_.join();
  handler_.set_up(false);
}

void Client::attempt() {
  if (stopping_) return;
  if (!handler_.ready_to_connect()) {
    ++failures_;
    schedule_attempt(next_delay());
    return;
  }
  auto t = std::make_shared<Transport>(io_, config_.tls);
  transport_ = t;
  was_up_ = false;
  timer_.expires_after(config_.connect_timeout);
  timer_.async_wait([this, t](const boost::system::error_code& ec) {
    if (ec || t != transport_ || session_.up()) return;
    lost("no answer within connect_timeout (" + seconds_text(config_.connect_timeout) + ")", false);
  });
  t->connect(config_.host, config_.port, config_.verify_host,
             [this, t](const boost::system::error_code& ec, const char* what) {
               if (t != transport_) return;
               if (ec) {
                 lost(std::string(what) + ": " + describe(ec), false);
                 return;
               }
               connected(t);
             });
}

void Client::connected(const std::shared_ptr<Transport>& t) {
  Session::Qos2Ids stored;
  std::string error;
  if (!handler_.load_qos2(stored, error)) {
    lost("cannot read the stored QoS 2 packet ids: " + error, true);
    return;
  }
  (void)t;
  timer_.cancel();  // the CONNACK's deadline is the session's from here
  in_len_ = 0;
  send(session_.connect(stored, Clock::now()));
  arm_tick();  // the CONNACK's deadline (connect_timeout), then keep-alive
  read();
}

void Client::read_next(std::size_t messages) {
  // The data was there, or came soon after the read asked for it: messages come close together.
  const bool close_together = read_waited_ < config_.coalesce;
  // Each read costs the loop a sleep and a wake-up, and the buffer a write: at a plant's steady
  // pace (one message per read, a thousand reads a second) they are most of a message's cost.
  // Pausing lets the socket gather the next few. At high rates reads are large and never pause;
  // at low rates they are far apart and never pause either.
  if (messages == 0 || messages >= kCoalesceBelow || !close_together || !session_.up()) {
    read();
    return;
  }
  pausing_ = true;
  read_timer_.expires_after(config_.coalesce);
  auto t = transport_;
  read_timer_.async_wait([this, t](const boost::system::error_code& ec) {
    if (t != transport_) return;
    pausing_ = false;
    if (!ec) read();
  });
}

void Client::read() {
  if (holding_ || reading_ || pausing_ || !transport_ || close_after_flush_) return;
  if (in_.size() - in_len_ < kReadChunk / 4) {
    // An unfinished packet fills the buffer: grow it (the session bounds a packet's size).
    in_.resize(std::max(in_.size() * 2, in_len_ + kReadChunk));
  }
  reading_ = true;
  const Clock::time_point asked = Clock::now();
  auto t = transport_;
  t->read_some(asio::buffer(in_.data() + in_len_, in_.size() - in_len_),
               [this, t, asked](const boost::system::error_code& ec, std::size_t n) {
                 if (t != transport_) return;
                 reading_ = false;
                 read_waited_ = Clock::now() - asked;
                 if (ec) {
                   lost("connection to " + config_.uri + " lost (" + describe(ec) + ")", false);
                   return;
                 }
                 on_read(n);
               });
}

void Client::on_read(std::size_t n) {
  in_len_ += n;
  session_.receive(std::string_view(in_.data(), in_len_), Clock::now(), inbound_);
  for (LogNote& note : inbound_.notes) handler_.log(note.level, {}, std::move(note.text));
  if (!inbound_.send_now.empty()) send(inbound_.send_now);
  // The CONNACK turns the session's deadline from connect_timeout to keep-alive.
  if (session_.next_tick() < tick_timer_.expiry()) arm_tick();
  commit();
}

void Client::commit() {
  if (inbound_.needs_write()) {
    std::string error;
    switch (handler_.store(inbound_, error)) {
      case ClientHandler::StoreResult::kOk:
        break;
      case ClientHandler::StoreResult::kFull: {
        // Hold them unacknowledged and stop reading: the broker sees a slow subscriber.
        holding_ = true;
        handler_.log(LogNote::Level::kWarn, "buffer-full",
                     "cannot buffer " + std::to_string(inbound_.deliveries.size()) +
                         " message(s) (" + error +
                         "): holding them unacknowledged and not reading from the broker until "
                         "the buffer takes them");
        timer_.expires_after(store_delay_);
        store_delay_ = std::min<std::chrono::milliseconds>(store_delay_ * 2, 1s);
        auto t = transport_;
        timer_.async_wait([this, t](const boost::system::error_code& ec) {
          if (!ec && t == transport_ && holding_) commit();
        });
        return;
      }
      case ClientHandler::StoreResult::kStopped:
        return;
      case ClientHandler::StoreResult::kFailed:
        lost("cannot buffer messages (" + error +
                 "): reconnecting; the broker keeps what was not acknowledged",
             false);
        return;
    }
  }
  holding_ = false;
  store_delay_ = 50ms;
  session_.committed(inbound_);
  send(inbound_.acks);
  if (inbound_.subscribed) {
    was_up_ = true;
    failures_ = 0;
    handler_.set_up(true);
  }
  // Keep the unfinished packet at the front for the next read.
  std::memmove(in_.data(), in_.data() + inbound_.consumed, in_len_ - inbound_.consumed);
  in_len_ -= inbound_.consumed;
  if (inbound_.closing) {
    send(inbound_.send_after_acks);
    close_after_flush_ = std::move(inbound_.closing);
    if (!write_busy_) lost(close_after_flush_->why, close_after_flush_->refused);
    return;
  }
  read_next(inbound_.deliveries.size());
}

void Client::send(std::string_view bytes) {
  if (bytes.empty() || !transport_) return;
  out_.append(bytes);
  flush();
}

void Client::flush() {
  if (write_busy_ || out_.empty() || !transport_) return;
  session_.sent(Clock::now());
  // What the socket takes at once needs no completion handler: at a plant's pace a read's acks
  // leave in one send, and the loop sleeps in the next wait instead of running a handler first.
  const std::size_t now = transport_->write_now(out_);
  out_.erase(0, now);
  if (out_.empty()) return;
  std::swap(out_, writing_);
  out_.clear();
  write_busy_ = true;
  auto t = transport_;
  t->write(asio::buffer(writing_), [this, t](const boost::system::error_code& ec, std::size_t) {
    if (t != transport_) return;
    write_busy_ = false;
    writing_.clear();
    if (ec) {
      lost("connection to " + config_.uri + " lost while writing (" + describe(ec) + ")", false);
      return;
    }
    flush();
    if (!write_busy_ && close_after_flush_) {
      if (stopping_) {
        close_transport();
      } else {
        lost(close_after_flush_->why, close_after_flush_->refused);
      }
    }
  });
}

void Client::arm_tick() {
  tick_timer_.expires_at(session_.next_tick());
  auto t = transport_;
  tick_timer_.async_wait([this, t](const boost::system::error_code& ec) {
    if (ec || t != transport_) return;
    TickResult r = session_.tick(Clock::now(), !holding_);
    if (r.closing) {
      lost(r.closing->why, r.closing->refused);
      return;
    }
    send(r.send);
    arm_tick();
  });
}

void Client::close_transport() {
  if (!transport_) return;
  transport_->close();
  transport_.reset();
  reading_ = false;
  pausing_ = false;
  read_timer_.cancel();
  write_busy_ = false;
  writing_.clear();
  out_.clear();
  close_after_flush_.reset();
  holding_ = false;
  inbound_.clear();
  in_len_ = 0;
  tick_timer_.cancel();
  timer_.cancel();
}

void Client::lost(std::string why, bool refused) {
  const bool attempt_failed = !was_up_;
  close_transport();
  if (stopping_) return;
  handler_.set_up(false);
  if (refused || attempt_failed) {
    ++failures_;
  } else {
    failures_ = 0;
  }
  const auto delay = next_delay();
  std::string text;
  if (attempt_failed) {
    text = "cannot connect to " + config_.uri + ": " + why + "; attempt " +
           std::to_string(failures_) + ", next in " + seconds_text(delay);
  } else {
    text = why + "; reconnecting in " + seconds_text(delay) +
           ". If this repeats every few seconds, another client may be using client id '" +
           config_.session.client_id + "'";
  }
  if (failures_ == 1 && attempt_failed) {
    handler_.log(LogNote::Level::kWarn, {}, std::move(text));
  } else {
    handler_.log(LogNote::Level::kWarn, "connection", std::move(text));
  }
  schedule_attempt(delay);
}

std::chrono::milliseconds Client::next_delay() {
  backoff_ = failures_ <= 1 ? config_.reconnect_min : std::min(config_.reconnect_max, backoff_ * 2);
  // Equal jitter: at least half the backoff (no tight loop), spread over the other half so a fleet
  // of gateways does not reconnect in step after a broker restart.
  std::uniform_int_distribution<std::int64_t> jitter(0, backoff_.count() / 2);
  return backoff_ / 2 + std::chrono::milliseconds(jitter(rng_));
}

void Client::schedule_attempt(std::chrono::milliseconds delay) {
  timer_.expires_after(delay);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) attempt();
  });
}

}  // namespace edgegw::plugins::mqtt
