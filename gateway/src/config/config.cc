// SPDX-License-Identifier: Apache-2.0
#include "config/config.h"

namespace edgegw::config {

std::size_t Config::history_per_variable() const {
  if (buffer.history_per_variable) return *buffer.history_per_variable;
  for (const SourceConfig& source : sources) {
    if (source.plugin == "http") return kDefaultHistoryPerVariable;
  }
  return 0;
}

std::vector<std::string> Config::secret_values() const {
  std::vector<std::string> out;
  const auto add = [&out](const Secret& secret) {
    if (!secret.empty()) out.push_back(secret.reveal());
  };
  for (const DeviceConfig& device : devices) {
    add(device.token);
    add(device.local_token);
  }
  add(unmapped.default_token);
  add(cloud.provisioning.account_token);
  for (const SourceConfig& source : sources) {
    for (const Secret& secret : source.config_secrets) add(secret);
  }
  for (const ActionConfig& action : actions) {
    add(action.mqtt.password);
    for (const auto& [name, value] : action.post.headers) add(value);
  }
  for (const AnalysisConfig& analysis : analyses) {
    for (const auto& [key, value] : analysis.environment) add(value);
    add(analysis.token);
  }
  return out;
}

std::string_view to_string(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::kTrace:
      return "trace";
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "unknown";
}

std::string_view to_string(LogFormat format) noexcept {
  switch (format) {
    case LogFormat::kText:
      return "text";
    case LogFormat::kJson:
      return "json";
  }
  return "unknown";
}

std::string_view to_string(ConditionOp op) noexcept {
  switch (op) {
    case ConditionOp::kAny:
      return "*";
    case ConditionOp::kEqual:
      return "=";
    case ConditionOp::kNotEqual:
      return "!=";
    case ConditionOp::kGreater:
      return ">";
    case ConditionOp::kGreaterEqual:
      return ">=";
    case ConditionOp::kLess:
      return "<";
    case ConditionOp::kLessEqual:
      return "<=";
  }
  return "unknown";
}

std::string_view to_string(ActionType type) noexcept {
  switch (type) {
    case ActionType::kMqtt:
      return "mqtt";
    case ActionType::kPost:
      return "post";
    case ActionType::kAnalysis:
      return "analysis";
  }
  return "unknown";
}

}  // namespace edgegw::config
