// SPDX-License-Identifier: Apache-2.0
// The gateway's configuration as typed structs, with the contract's defaults (DESIGN.md, Part 2).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "buffer/policy.h"
#include "decode/format.h"

namespace edgegw::config {

using Duration = std::chrono::milliseconds;

enum class LogLevel { kTrace, kDebug, kInfo, kWarn, kError };
enum class LogFormat { kText, kJson };
using buffer::OnFull;  // buffer/policy.h: the buffer's vocabulary, spelled by the config
using buffer::SyncMode;
using buffer::to_string;

// A token or password. It prints as "<redacted>" and is read only through reveal(), so it cannot
// reach a log line, a metric or an error message by accident.
class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}
  const std::string& reveal() const noexcept { return value_; }
  bool empty() const noexcept { return value_.empty(); }
  bool operator==(const Secret&) const = default;
  friend std::ostream& operator<<(std::ostream& os, const Secret&) { return os << "<redacted>"; }

 private:
  std::string value_;
};

// A position in the config file, 1-based (0: unknown).
struct Mark {
  int line = 0;
  int column = 0;
};

struct GatewayConfig {
  std::string id;          // default: the host name
  std::string data_dir;    // required
  std::string plugin_dir;  // default (empty here): <binary dir>/../lib/edgegw/plugins
  LogLevel log_level = LogLevel::kInfo;
  LogFormat log_format = LogFormat::kText;  // extension: `log_format: json` for JSON lines
  Duration shutdown_timeout = std::chrono::seconds(10);
};

struct BufferConfig {
  std::uint64_t max_bytes = 1ULL << 30;
  // Appends are refused while the data_dir's filesystem has less free (0: only when a write
  // fails): room for the store's own flushes, for removals, and for the rest of the box.
  std::uint64_t min_free = 64ULL << 20;
  Duration max_age = std::chrono::hours(24 * 7);
  OnFull on_full = OnFull::kDropOldest;
  SyncMode sync = SyncMode::kBatch;
  Duration sync_interval = std::chrono::milliseconds(100);
  // The local history (GET /data of the http source): the last N readings of each device and
  // variable, from every source; 0 disables it (and its cost on the ingest path). Unset: 1000
  // when a source uses the http plugin (the only reader), else 0 (history_per_variable()).
  std::optional<std::size_t> history_per_variable;
};

struct TlsConfig {
  bool verify = true;
  std::string ca_file;  // empty: the system's CA store
  bool operator==(const TlsConfig&) const = default;
};

struct BatchConfig {
  std::size_t max_readings = 500;
  std::size_t max_bytes = 190ULL * 1024;  // the cloud refuses bodies over 200 kB
  Duration linger = std::chrono::milliseconds(200);
  bool operator==(const BatchConfig&) const = default;
};

struct RetryConfig {
  Duration initial_backoff = std::chrono::milliseconds(500);
  Duration max_backoff = std::chrono::minutes(5);
  double multiplier = 2.0;
  bool operator==(const RetryConfig&) const = default;
};

// What happens to a reading whose own time cannot be right (ingest/time_check.h): before 2000, or
// more than future_tolerance ahead of a synchronised system clock.
enum class TimePolicy {
  kStamp,   // the arrival time replaces it; the original is kept in metadata.original_time
  kKeep,    // sent as it is (counted)
  kReject,  // dead-lettered with the reason (the local Device API refuses the request)
};

// The order a lane sends a backlog in (cloud.drain).
enum class DrainOrder {
  // When the oldest reading has waited more than batch.linger + fresh_after (an outage): the
  // newest reading of each variable first, readings that arrive meanwhile next, then the backlog
  // oldest first.
  kFreshFirst,
  kFifo,  // always oldest first
};

// cloud.provisioning: how the gateway makes a cloud device and its token for a device key the
// config does not map (`unmapped: provision`), with the account's (profile's) token: the cloud's
// Account API (tagoio-api.md section 7). Read by config/provisioning.cc.
struct ProvisioningConfig {
  bool set = false;            // the section is present
  Secret account_token;        // token_file: PATH or token: ${ENV} (required)
  std::string connector;       // the cloud's connector id: 24 hex digits (required)
  std::string network;         // the cloud's network id: 24 hex digits (required)
  bool immutable = false;      // type: mutable (default) | immutable
  std::string chunk_period;    // immutable only (then required): day | week | month | quarter
  int chunk_retention = 0;     // immutable only (then required): 0..36
  std::string name = "{key}";  // the cloud device's name: a template of {key} and {gateway}
  // Tags given to every device made (key -> value); the gateway adds kProvisionGatewayTag and
  // kProvisionDeviceTag.
  std::map<std::string, std::string> tags;
  int max_created_per_hour = 100;  // devices created (not found) per hour; 1..100000
  // Unknown keys waiting for their device at once; readings of more new keys are refused as
  // unmapped (a device sending garbage keys cannot fill the store with queues). 1..1000000
  std::size_t max_pending = 1000;
  Mark mark;
};
// The tags every provisioned device carries: the device key finds it again (lookups before
// creates), the gateway id says who made it.
inline constexpr std::string_view kProvisionDeviceTag = "edgegw_device";
inline constexpr std::string_view kProvisionGatewayTag = "edgegw_gateway";

struct CloudConfig {
  std::string url = "https://api.tago.io";
  Duration timeout = std::chrono::seconds(10);
  int max_in_flight = 8;
  int requests_per_minute = 0;  // 0: no fixed budget, learn from 429s
  TlsConfig tls;
  BatchConfig batch;
  RetryConfig retry;
  TimePolicy implausible_time = TimePolicy::kStamp;
  Duration future_tolerance = std::chrono::minutes(5);
  DrainOrder drain = DrainOrder::kFreshFirst;
  Duration fresh_after = std::chrono::minutes(1);
  // Readings the gateway stamps within this long of the box's boot while the system clock is not
  // synchronised wait for it (at most this long after their arrival), to be sent with their real
  // time (core/unsynced_stamp.h). 0: never held.
  Duration clock_wait = std::chrono::minutes(10);
  ProvisioningConfig provisioning;
};

struct MetricsConfig {
  std::string listen = "127.0.0.1:9464";
  bool per_device = false;
};

struct SourceConfig {
  std::string name;
  std::string plugin;
  decode::Format format = decode::Format::kTagoJson;
  std::string variable;  // extension: the variable of `raw` payloads when the plugin gives none
  std::string config_json = "{}";  // the `config:` subtree as a JSON object, handed to the plugin
  // Where each key of `config:` stands, by path ("uri", "topics[0]"), so that a plugin's complaint
  // about a key can be reported as FILE:LINE:COL.
  std::map<std::string, Mark> config_marks;
  // The values under secret-named keys of `config:` (password, token, secret, *_password, ...).
  std::vector<Secret> config_secrets;
  Mark mark;         // the source's entry in `sources:`
  Mark plugin_mark;  // its `plugin:` value
};

struct VariableMapping {
  std::string rename;               // empty: keep the name
  std::optional<std::string> unit;  // set: replaces the reading's unit
  double scale = 1.0;               // value * scale + offset, for numeric values
  double offset = 0.0;
};

struct DeviceConfig {
  std::string key;
  Secret token;
  Secret local_token;  // optional: the token the local Device API accepts instead of `token`
  std::map<std::string, VariableMapping> variables;  // by the variable name the source reports
  Mark mark;
};

struct UnmappedPolicy {
  bool reject = true;      // `unmapped: reject`
  bool provision = false;  // `unmapped: provision` (reject is false then): needs cloud.provisioning
  Secret default_token;    // `unmapped: {default: {token: ...}}`
  bool uses_default() const noexcept { return !reject && !provision; }
};

// actions: and analyses: the cloud's Actions and Analyses, run on the box (every key, with its
// default: config/reference.yaml; read by config/actions.cc).
// A condition on one variable of a reading, as the cloud's `when_set_*` / `when_reset_*`.
enum class ConditionOp { kAny, kEqual, kNotEqual, kGreater, kGreaterEqual, kLess, kLessEqual };

struct Condition {
  std::string variable;  // as the reading names it after the device mapping; lower case
  ConditionOp op = ConditionOp::kAny;
  std::string value;  // as written, after ${NAME} (empty for kAny)
  // The value as a number when all of it parses as a finite one: compared numerically. Always set
  // for kGreater, kGreaterEqual, kLess and kLessEqual (the loader refuses a value that is none).
  std::optional<double> number;
};

enum class ActionType { kMqtt, kPost, kAnalysis };

// type: mqtt. Published through Paho; templates take {device} {variable} {value} {unit} {time}.
struct MqttActionConfig {
  std::string broker;     // Paho's server URI: tcp:// ssl:// mqtt:// mqtts:// ws:// wss://
  std::string client_id;  // empty: "edgegw-<gateway.id>-<action name>"
  std::string username;
  Secret password;
  std::string topic;                // template; never empty, no '+' or '#'
  std::string payload = "{value}";  // template
  int qos = 1;
  bool retain = false;
};

// type: post. The triggering readings as a JSON array, POSTed; 2xx done, 4xx dead-lettered, the
// rest retried with backoff.
struct PostActionConfig {
  std::string url;                        // http:// or https://, a query allowed, no user@
  std::map<std::string, Secret> headers;  // values may hold credentials: secrets
  Duration timeout = std::chrono::seconds(10);
  TlsConfig tls;
};

struct ActionConfig {
  std::string name;                  // unique among actions; [A-Za-z0-9_.-]
  std::vector<std::string> devices;  // keys of devices: entries; with no pattern either: all
  std::string device_pattern;  // a glob over device keys (fnmatch: * ? [...]); not with devices
  Condition when_set;
  std::optional<Condition> when_reset;  // set: after firing, fires again only once this was met
  ActionType type = ActionType::kMqtt;  // required in the file; only its own settings are set
  MqttActionConfig mqtt;
  PostActionConfig post;
  std::string analysis;            // type: analysis — the name of an entry of analyses:
  std::size_t max_queued = 10000;  // fired and not yet done, kept durably; beyond: refused, counted
  Mark mark;
};

struct AnalysisConfig {
  std::string name;                  // unique among analyses; [A-Za-z0-9_.-]
  std::vector<std::string> command;  // executable and arguments (required, non-empty)
  // Handed to the script as T_ANALYSIS_ENV ([{key, value}]), as the cloud does; values are secrets.
  std::vector<std::pair<std::string, Secret>> environment;
  Secret token;     // T_ANALYSIS_TOKEN (optional)
  std::string api;  // TAGOIO_API; empty: the local Device API (an http source), else cloud.url
  Duration timeout = std::chrono::seconds(30);  // 1ms..1h
  std::optional<Duration> every;  // also run on this schedule (>= 1s), with an empty scope
  int max_running = 1;            // at once (1..64); the rest wait in a queue of
  std::size_t max_queued = 100;   // runs (1..100000; beyond: refused, counted)
  Mark mark;
};

inline constexpr std::size_t kDefaultHistoryPerVariable = 1000;

struct Config {
  std::string path;  // the file it was read from
  GatewayConfig gateway;
  BufferConfig buffer;
  CloudConfig cloud;
  MetricsConfig metrics;
  std::vector<SourceConfig> sources;
  std::vector<DeviceConfig> devices;
  UnmappedPolicy unmapped;
  std::vector<ActionConfig> actions;
  std::vector<AnalysisConfig> analyses;

  // Every secret value read (tokens, passwords, anything under a key named like one), so the
  // logger can scrub them from any line as a second line of defence.
  std::vector<std::string> secret_values() const;
  // buffer.history_per_variable, or its default: kDefaultHistoryPerVariable with an http source.
  std::size_t history_per_variable() const;
};

std::string_view to_string(LogLevel level) noexcept;
std::string_view to_string(LogFormat format) noexcept;
std::string_view to_string(ConditionOp op) noexcept;  // "*", "=", "!=", ">", ">=", "<", "<="
std::string_view to_string(ActionType type) noexcept;

}  // namespace edgegw::config
