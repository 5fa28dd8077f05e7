// SPDX-License-Identifier: Apache-2.0
// The mqtt source's client: one thread running one Asio loop for one broker connection, which it
// makes, keeps alive and remakes with backoff. It reads, lets the Session parse everything one
// read brought, hands the messages to the ClientHandler's store() in one call, and only when that
// returned sends all of their acknowledgements in one write, in arrival order. Never two stores in
// flight (the loop is single-threaded), so one device's messages keep their order.
//
// Coalescing: a read that brought fewer than 8 messages and found them within `coalesce` of
// asking is followed by a pause of `coalesce` before the next read, so that the socket gathers
// the next few. At a plant's steady pace that turns one wake-up, one store and one send per
// message into one per several; reads that are large or far apart never pause.
//
// Back-pressure: when store() answers kFull, the client keeps the messages (unacknowledged: the
// broker still owns them), stops reading from the socket, and retries the same store with backoff;
// the broker sees a slow subscriber through TCP. Keep-alive PINGREQs go on meanwhile.
//
// The store runs on the loop's thread, so a store that stalls also stalls the keep-alive: one that
// takes longer than 1.5 x keep_alive (45 s by default) makes the broker drop the connection, and
// it redelivers the unacknowledged messages to the next one. Nothing is lost; a thread hand-off
// per read would cost more than the whole message on a small box.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "session.h"
#include "transport.h"

namespace edgegw::plugins::mqtt {

// What the client needs from its owner; called on the client's thread only.
class ClientHandler {
 public:
  enum class StoreResult {
    kOk,       // durable: the acknowledgements go out now
    kFull,     // not stored, try again later (back-pressure)
    kStopped,  // not stored; the client is being stopped
    kFailed,   // not stored: close the connection (the broker redelivers) and reconnect
  };
  virtual ~ClientHandler() = default;

  // Stores the messages of `in` and its QoS 2 id changes in one durable write. `error`: why not.
  virtual StoreResult store(const Inbound& in, std::string& error) = 0;
  // The stored QoS 2 packet ids, before each connection. False (and why) when they cannot be read.
  virtual bool load_qos2(Session::Qos2Ids& ids, std::string& error) = 0;
  // Before each connection attempt; false: not yet, try again after the backoff.
  virtual bool ready_to_connect() { return true; }
  // A log line. `key` non-empty: rate-limited per key.
  virtual void log(LogNote::Level level, std::string_view key, std::string message) = 0;
  virtual void set_up(bool up) = 0;
};

struct ClientConfig {
  std::string uri;  // for the log
  std::string host;
  std::uint16_t port = 1883;
  std::shared_ptr<boost::asio::ssl::context> tls;  // null: plain TCP
  bool verify_host = true;
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds reconnect_min{500};
  std::chrono::milliseconds reconnect_max{30'000};
  // When messages come one or a few per read, faster than one per `coalesce`, wait this long
  // before the next read so that one store and one send serve several (0: read at once).
  std::chrono::microseconds coalesce{5'000};
  SessionConfig session;
};

class Client {
 public:
  Client(ClientConfig config, ClientHandler& handler);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Starts the thread, which connects at once.
  void start();
  // Disconnects (an MQTT DISCONNECT when connected; messages not yet stored stay the broker's),
  // and returns once the thread has ended: no handler call after that.
  void stop();

 private:
  using Clock = std::chrono::steady_clock;

  void attempt();
  void connected(const std::shared_ptr<Transport>& t);
  void read();
  // read() now, or after config_.coalesce when the last reads came small and close together.
  void read_next(std::size_t messages);
  void on_read(std::size_t n);
  void commit();
  void send(std::string_view bytes);
  void flush();
  void arm_tick();
  // Closes the connection and, unless stopping, schedules the next attempt.
  void lost(std::string why, bool refused);
  void close_transport();
  void schedule_attempt(std::chrono::milliseconds delay);
  // The next backoff after failures_ failures (doubling from reconnect_min, with jitter).
  std::chrono::milliseconds next_delay();

  ClientConfig config_;
  ClientHandler& handler_;
  Session session_;

  boost::asio::io_context io_{1};  // one thread runs it: the scheduler may skip its locking
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
  boost::asio::steady_timer timer_;       // connect timeout, backoff, store retry
  boost::asio::steady_timer tick_timer_;  // the session's keep-alive
  boost::asio::steady_timer read_timer_;  // the coalescing pause before a read

  // The current connection; handlers of an older one see it replaced and do nothing. Each
  // handler keeps its transport alive until it ran (a TLS stream's operations use it to the end).
  std::shared_ptr<Transport> transport_;
  std::vector<char> in_;
  std::size_t in_len_ = 0;
  Inbound inbound_;
  bool holding_ = false;  // inbound_ awaits a store the buffer refused: not reading
  bool reading_ = false;
  bool pausing_ = false;           // read_timer_ will read()
  Clock::duration read_waited_{};  // how long the last read waited for data
  std::string out_;                // queued for the next write
  std::string writing_;            // the write in flight
  bool write_busy_ = false;
  std::optional<Closing> close_after_flush_;
  bool was_up_ = false;  // this connection got its SUBACK
  bool stopping_ = false;

  int failures_ = 0;  // attempts failed in a row
  std::chrono::milliseconds backoff_{};
  std::chrono::milliseconds store_delay_{50};
  std::mt19937_64 rng_{std::random_device{}()};
};

}  // namespace edgegw::plugins::mqtt
