// SPDX-License-Identifier: Apache-2.0
#include "actions/dispatcher.h"

#include <boost/asio/post.hpp>

namespace edgegw::actions {

namespace asio = boost::asio;

Dispatcher::Lane::Lane(asio::strand<asio::io_context::executor_type>& strand,
                       const config::RetryConfig& retry)
    : backoff(retry.initial_backoff, retry.max_backoff, retry.multiplier), timer(strand) {}

Dispatcher::Dispatcher(asio::io_context& io, Engine& engine, config::RetryConfig retry)
    : engine_(engine),
      retry_(retry),
      strand_(asio::make_strand(io)),
      problems_(log::get("actions"), std::chrono::seconds(10)) {
  engine_.set_on_ready([this] { asio::post(strand_, [this] { take_ready(); }); });
}

Dispatcher::~Dispatcher() {
  engine_.set_on_ready({});
  stop();
}

void Dispatcher::configure(std::map<std::string, std::shared_ptr<Executor>> executors) {
  std::lock_guard lock(mu_);
  for (auto it = lanes_.begin(); it != lanes_.end();) {
    if (executors.contains(it->first)) {
      ++it;
      continue;
    }
    Lane& lane = *it->second;
    lane.timer.cancel();
    if (lane.executor) lane.executor->stop();
    for (auto& [id, job] : lane.in_flight) lane.queue.push_back(std::move(job));
    for (const Job& job : lane.queue) {
      (void)engine_.dead_letter(job, 0, "the action is no longer configured");
    }
    it = lanes_.erase(it);
  }
  const auto stats = engine_.stats();  // configured before the dispatcher (Actions::configure)
  for (auto& [name, executor] : executors) {
    auto& lane = lanes_[name];
    if (!lane) lane = std::make_unique<Lane>(strand_, retry_);
    if (auto it = stats.find(name); it != stats.end()) lane->stats = it->second;
    if (lane->executor == executor) continue;
    if (lane->executor) lane->executor->stop();
    lane->executor = executor;
    lane->generation = next_generation_++;
    // Given back in id order, before what waited: the order they fired in.
    for (auto it = lane->in_flight.rbegin(); it != lane->in_flight.rend(); ++it) {
      lane->queue.push_front(std::move(it->second));
    }
    lane->in_flight.clear();
  }
  take_ready_locked();
}

void Dispatcher::stop() {
  std::lock_guard lock(mu_);
  stopped_ = true;
  for (auto& [name, lane] : lanes_) {
    lane->timer.cancel();
    if (lane->executor) lane->executor->stop();
  }
}

void Dispatcher::take_ready() {
  std::lock_guard lock(mu_);
  take_ready_locked();
}

void Dispatcher::take_ready_locked() {
  for (Job& job : engine_.take_ready()) {
    auto it = lanes_.find(job.action);
    if (it == lanes_.end()) {
      (void)engine_.dead_letter(job, 0, "the action is no longer configured");
      continue;
    }
    it->second->queue.push_back(std::move(job));
  }
  for (auto& [name, lane] : lanes_) pump(name, *lane);
}

void Dispatcher::pump(const std::string& action, Lane& lane) {
  if (stopped_ || lane.waiting || !lane.executor) return;
  while (!lane.queue.empty() && lane.in_flight.size() < lane.executor->max_in_flight()) {
    Job job = std::move(lane.queue.front());
    lane.queue.pop_front();
    const std::uint64_t id = job.id;
    auto [it, inserted] = lane.in_flight.emplace(id, std::move(job));
    lane.executor->run(it->second, [this, action, generation = lane.generation, id](Attempt a) {
      asio::post(strand_, [this, action, generation, id, a = std::move(a)]() mutable {
        on_attempt(action, generation, id, std::move(a));
      });
    });
  }
}

void Dispatcher::on_attempt(const std::string& action, std::uint64_t generation,
                            std::uint64_t job_id, Attempt attempt) {
  std::lock_guard lock(mu_);
  auto it = lanes_.find(action);
  if (it == lanes_.end() || it->second->generation != generation) return;  // replaced meanwhile
  Lane& lane = *it->second;
  auto job_it = lane.in_flight.find(job_id);
  if (job_it == lane.in_flight.end()) return;
  Job job = std::move(job_it->second);
  lane.in_flight.erase(job_it);
  switch (attempt.result) {
    case Attempt::Result::kDone: {
      lane.backoff.reset();
      if (Status s = engine_.finish(job); !s) {
        problems_.log(log::Level::warn, action + "/finish",
                      "action " + action + ": cannot remove a done job from the outbox (" +
                          std::string(s.message()) + "); it may run again after a restart");
      }
      break;
    }
    case Attempt::Result::kReject: {
      lane.backoff.reset();
      problems_.log(log::Level::warn, action + "/reject",
                    "action " + action + ": device " + job.device + ": refused for good (" +
                        attempt.why + "); kept as a dead job");
      if (Status s = engine_.dead_letter(job, attempt.status, attempt.why); !s) {
        problems_.log(
            log::Level::err, action + "/dead",
            "action " + action + ": cannot store a dead job: " + std::string(s.message()));
      }
      break;
    }
    case Attempt::Result::kRetry: {
      if (lane.stats) lane.stats->retries.fetch_add(1, std::memory_order_relaxed);
      problems_.log(log::Level::warn, action + "/retry",
                    "action " + action + ": " + attempt.why + "; trying again later");
      lane.queue.push_front(std::move(job));
      back_off(action, lane, attempt.retry_after ? *attempt.retry_after : lane.backoff.next(rng_));
      return;
    }
  }
  pump(action, lane);
}

void Dispatcher::back_off(const std::string& action, Lane& lane, std::chrono::milliseconds wait) {
  if (lane.waiting || stopped_) return;
  lane.waiting = true;
  lane.timer.expires_after(wait);
  lane.timer.async_wait([this, action](boost::system::error_code ec) {
    if (ec) return;
    std::lock_guard lock(mu_);
    auto it = lanes_.find(action);
    if (it == lanes_.end()) return;
    it->second->waiting = false;
    pump(action, *it->second);
  });
}

}  // namespace edgegw::actions
