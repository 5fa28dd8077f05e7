// SPDX-License-Identifier: Apache-2.0
// The actions and analyses of the config, put together: the engine (a write hook of the buffer),
// the dispatcher and its executors, one runner per analysis. The daemon creates it once the
// buffer is open and configures it at start and on each reload.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "actions/analysis_runner.h"
#include "actions/dispatcher.h"
#include "actions/engine.h"
#include "actions/stats.h"
#include "buffer/buffer.h"
#include "config/config.h"
#include "edgegw/status.h"

namespace edgegw::actions {

class Actions final : public StatsSource {
 public:
  // Adds the engine to the buffer's write hooks and loads what an earlier run left in the outbox.
  static Result<std::unique_ptr<Actions>> create(boost::asio::io_context& io,
                                                 buffer::Buffer& buffer,
                                                 const config::RetryConfig& retry);
  ~Actions() override;

  // The config's actions and analyses, for the buffer's devices (id, key), from now on. An
  // executor or runner whose settings did not change is kept (with its connection, its running
  // scripts); a changed one is replaced. Fails only when the store cannot be read or an
  // executor cannot be made (a CA file that cannot be read): the previous setup is then kept.
  Status configure(const config::Config& config,
                   std::span<const std::pair<buffer::DeviceId, std::string>> devices);

  // A device the config does not list, whose readings the gateway takes from now on (a
  // provisioned one): the actions that name it, or all devices, watch it too (Engine::add_device).
  Status add_device(buffer::DeviceId id, const std::string& key) {
    return engine_.add_device(id, key);
  }

  // Stops the schedules and the executors, kills the running analyses. Jobs not done stay in
  // the outbox.
  void stop();

  std::map<std::string, std::shared_ptr<ActionStats>> action_stats() const override;
  std::map<std::string, std::shared_ptr<const AnalysisStats>> analysis_stats() const override;

 private:
  Actions(boost::asio::io_context& io, Engine& engine, const config::RetryConfig& retry);

  boost::asio::io_context& io_;
  Engine& engine_;  // owned by the buffer
  Dispatcher dispatcher_;
  struct Built {
    std::string definition;  // what it was made from: a change makes a new one
    std::shared_ptr<Executor> executor;
  };
  std::map<std::string, Built> executors_;  // by action
  struct Runner {
    std::string definition;
    std::shared_ptr<AnalysisRunner> runner;
  };
  std::map<std::string, Runner> runners_;  // by analysis
  mutable std::mutex mu_;                  // guards runners_ for analysis_stats()
};

// What TAGOIO_API is for an analysis: its `api`, else the local Device API of the first http
// source (its listen address, 0.0.0.0 and :: read as loopback), else cloud.url.
std::string analysis_api(const config::Config& config, const config::AnalysisConfig& analysis);

}  // namespace edgegw::actions
