// SPDX-License-Identifier: Apache-2.0
// Carries out the outbox's jobs (actions/engine.h): one lane per action, each with its executor
// (mqtt, post, analysis), at most the executor's max_in_flight jobs at once, and exponential
// backoff (cloud.retry's settings) while its attempts fail. A job leaves the outbox when done or
// dead-lettered; until then a restart runs it again. Nothing here runs on the ingest path.
// Executors answer on any thread; their answers are handled on a strand.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "actions/engine.h"
#include "actions/executor.h"
#include "config/config.h"
#include "forward/backoff.h"
#include "log/rate_limited.h"

namespace edgegw::actions {

class Dispatcher {
 public:
  Dispatcher(boost::asio::io_context& io, Engine& engine, config::RetryConfig retry);
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // The executors by action name, from now on. A lane whose executor changed gives the jobs in
  // flight on the old one back to its queue (they may run twice: at least once); jobs of an
  // action no longer configured are dead-lettered. Then takes what the engine has ready.
  void configure(std::map<std::string, std::shared_ptr<Executor>> executors);
  // Stops every lane: no new attempt; jobs not done stay in the outbox for the next start.
  void stop();

 private:
  struct Lane {
    explicit Lane(boost::asio::strand<boost::asio::io_context::executor_type>& strand,
                  const config::RetryConfig& retry);
    std::shared_ptr<Executor> executor;
    std::uint64_t generation = 0;  // of the executor: answers of a replaced one are ignored
    std::deque<Job> queue;
    std::map<std::uint64_t, Job> in_flight;  // by job id
    forward::Backoff backoff;
    boost::asio::steady_timer timer;
    bool waiting = false;                // backing off: no new attempt until the timer fires
    std::shared_ptr<ActionStats> stats;  // the engine's counters of the action
  };

  void take_ready();
  // mu_ held:
  void take_ready_locked();
  void pump(const std::string& action, Lane& lane);
  void on_attempt(const std::string& action, std::uint64_t generation, std::uint64_t job_id,
                  Attempt attempt);
  void back_off(const std::string& action, Lane& lane, std::chrono::milliseconds wait);

  Engine& engine_;
  config::RetryConfig retry_;
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  // The lanes are touched by the strand's handlers and by configure() and stop() from the
  // daemon's thread (which may run while no thread runs the io_context: at start, at the end).
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<Lane>> lanes_;
  std::uint64_t next_generation_ = 1;
  bool stopped_ = false;
  std::mt19937_64 rng_{std::random_device{}()};
  log::RateLimitedLog problems_;
};

}  // namespace edgegw::actions
