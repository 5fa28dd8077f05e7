// SPDX-License-Identifier: Apache-2.0
#include "actions/service.h"

#include <set>

#include <boost/json/parse.hpp>

#include "actions/analysis_executor.h"
#include "actions/mqtt_executor.h"
#include "actions/post_executor.h"

namespace edgegw::actions {

namespace {

// Fields joined with a separator no config value holds: equal strings, equal settings.
class Definition {
 public:
  Definition& add(std::string_view field) {
    text_ += field;
    text_ += '\x1f';
    return *this;
  }
  Definition& add(std::int64_t number) { return add(std::to_string(number)); }
  std::string str() && { return std::move(text_); }

 private:
  std::string text_;
};

std::string definition(const config::AnalysisConfig& a, const std::string& api) {
  Definition d;
  d.add(static_cast<std::int64_t>(a.command.size()));
  for (const auto& arg : a.command) d.add(arg);
  d.add(static_cast<std::int64_t>(a.environment.size()));
  for (const auto& [key, value] : a.environment) d.add(key).add(value.reveal());
  d.add(a.token.reveal()).add(api).add(a.timeout.count());
  d.add(a.every ? a.every->count() : -1).add(a.max_running);
  d.add(static_cast<std::int64_t>(a.max_queued));
  return std::move(d).str();
}

std::string definition(const config::ActionConfig& a, const std::string& analysis_definition) {
  Definition d;
  d.add(config::to_string(a.type));
  switch (a.type) {
    case config::ActionType::kMqtt:
      d.add(a.mqtt.broker).add(a.mqtt.client_id).add(a.mqtt.username);
      d.add(a.mqtt.password.reveal()).add(a.mqtt.topic).add(a.mqtt.payload);
      d.add(a.mqtt.qos).add(a.mqtt.retain ? 1 : 0);
      break;
    case config::ActionType::kPost:
      d.add(a.post.url).add(a.post.timeout.count());
      d.add(a.post.tls.verify ? 1 : 0).add(a.post.tls.ca_file);
      for (const auto& [name, value] : a.post.headers) d.add(name).add(value.reveal());
      break;
    case config::ActionType::kAnalysis:
      d.add(a.analysis).add(analysis_definition);
      break;
  }
  return std::move(d).str();
}

}  // namespace

std::string analysis_api(const config::Config& config, const config::AnalysisConfig& analysis) {
  if (!analysis.api.empty()) return analysis.api;
  for (const auto& source : config.sources) {
    if (source.plugin != "http") continue;
    boost::system::error_code ec;
    const auto parsed = boost::json::parse(source.config_json, ec);
    std::string listen = "127.0.0.1:8080";  // the http plugin's default
    if (!ec && parsed.is_object()) {
      if (const auto* value = parsed.get_object().if_contains("listen");
          value && value->is_string()) {
        listen = std::string(value->get_string());
      }
    }
    if (listen.starts_with("0.0.0.0:")) listen = "127.0.0.1:" + listen.substr(8);
    if (listen.starts_with("[::]:")) listen = "[::1]:" + listen.substr(5);
    return "http://" + listen;
  }
  return config.cloud.url;
}

Result<std::unique_ptr<Actions>> Actions::create(boost::asio::io_context& io,
                                                 buffer::Buffer& buffer,
                                                 const config::RetryConfig& retry) {
  auto engine = std::make_unique<Engine>(buffer);
  if (Status s = engine->load(); !s) return s;
  Engine& ref = *engine;
  buffer.add_write_hook(std::move(engine));
  return std::unique_ptr<Actions>(new Actions(io, ref, retry));
}

Actions::Actions(boost::asio::io_context& io, Engine& engine, const config::RetryConfig& retry)
    : io_(io), engine_(engine), dispatcher_(io, engine, retry) {}

Actions::~Actions() { stop(); }

Status Actions::configure(const config::Config& config,
                          std::span<const std::pair<buffer::DeviceId, std::string>> devices) {
  // Everything new is made first, so that a failure keeps the previous setup whole.
  std::map<std::string, Runner> runners;
  std::set<const AnalysisRunner*> fresh;
  for (const auto& a : config.analyses) {
    const std::string api = analysis_api(config, a);
    std::string def = definition(a, api);
    if (auto old = runners_.find(a.name); old != runners_.end() && old->second.definition == def) {
      runners.emplace(a.name, old->second);
      continue;
    }
    auto runner = std::make_shared<AnalysisRunner>(io_, a, api);
    fresh.insert(runner.get());
    runners.emplace(a.name, Runner{std::move(def), std::move(runner)});
  }
  std::map<std::string, Built> executors;
  for (const auto& a : config.actions) {
    const auto runner = runners.find(a.analysis);
    std::string def =
        definition(a, runner == runners.end() ? std::string() : runner->second.definition);
    if (auto old = executors_.find(a.name);
        old != executors_.end() && old->second.definition == def) {
      executors.emplace(a.name, old->second);
      continue;
    }
    std::shared_ptr<Executor> executor;
    switch (a.type) {
      case config::ActionType::kMqtt:
        try {
          executor = std::make_shared<MqttExecutor>(
              a, a.mqtt.client_id.empty() ? "edgegw-" + config.gateway.id + "-" + a.name
                                          : a.mqtt.client_id);
        } catch (const std::exception& e) {  // Paho refuses what the config check let through
          return Status::invalid_argument("action " + a.name + ": mqtt.broker: " + e.what());
        }
        break;
      case config::ActionType::kPost: {
        auto made = PostExecutor::create(io_, a);
        if (!made) return made.status();
        executor = std::move(made).value();
        break;
      }
      case config::ActionType::kAnalysis:
        if (runner == runners.end()) {
          return Status::invalid_argument("action " + a.name + ": no analysis named " + a.analysis);
        }
        executor = std::make_shared<AnalysisExecutor>(runner->second.runner);
        break;
    }
    executors.emplace(a.name, Built{std::move(def), std::move(executor)});
  }

  if (Status s = engine_.configure(config.actions, devices); !s) return s;
  std::map<std::string, std::shared_ptr<Executor>> lanes;
  for (const auto& [name, built] : executors) lanes.emplace(name, built.executor);
  dispatcher_.configure(std::move(lanes));
  std::map<std::string, Runner> retired;
  {
    std::lock_guard lock(mu_);
    for (auto& [name, old] : runners_) {
      auto kept = runners.find(name);
      if (kept == runners.end() || kept->second.runner != old.runner) retired.emplace(name, old);
    }
    runners_ = runners;
  }
  executors_ = std::move(executors);
  for (auto& [name, old] : retired) old.runner->stop();
  for (auto& [name, r] : runners) {
    if (fresh.contains(r.runner.get())) r.runner->start_schedule();
  }
  return Status::ok();
}

void Actions::stop() {
  dispatcher_.stop();
  std::lock_guard lock(mu_);
  for (auto& [name, r] : runners_) r.runner->stop();
}

std::map<std::string, std::shared_ptr<ActionStats>> Actions::action_stats() const {
  return engine_.stats();
}

std::map<std::string, std::shared_ptr<const AnalysisStats>> Actions::analysis_stats() const {
  std::lock_guard lock(mu_);
  std::map<std::string, std::shared_ptr<const AnalysisStats>> out;
  // Each shares its runner's ownership: a scrape may outlive a reload that retired it.
  for (const auto& [name, r] : runners_)
    out.emplace(name, std::shared_ptr<const AnalysisStats>(r.runner, &r.runner->stats()));
  return out;
}

}  // namespace edgegw::actions
