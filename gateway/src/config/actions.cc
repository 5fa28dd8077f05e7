// SPDX-License-Identifier: Apache-2.0
// actions (a condition on readings, and what to do when it is met: publish over MQTT, POST a
// webhook, run an analysis) and analyses (scripts run on the box), as the cloud names them.
#include <chrono>
#include <map>
#include <set>

#include "config/net.h"
#include "config/numbers.h"
#include "config/secrets.h"
#include "config/sections.h"
#include "config/units.h"

namespace edgegw::config::detail {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr Duration kPositive = milliseconds(1);
constexpr Duration kMaxAnalysisTimeout = hours(1);
constexpr Duration kMinEvery = seconds(1);

bool has_control(std::string_view text) {
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return true;
  }
  return false;
}

// A value that is never quoted back: a password, a header's value, an analysis' environment.
bool read_secret(Reader& r, const Item& it, Secret& out) {
  auto value = r.scalar(it, "a string");
  if (!value) return false;
  out = Secret(std::move(value->value));
  return true;
}

// Of two keys of one map, the one written later (where "give a or b, not both" points).
const Item& later(const Item& a, const Item& b) {
  const bool b_later = b.key_mark.line > a.key_mark.line || (b.key_mark.line == a.key_mark.line &&
                                                             b.key_mark.column > a.key_mark.column);
  return b_later ? b : a;
}

// The hint for a name that is none of `names`: "; did you mean 'x'?", or nothing.
std::string did_you_mean(std::string_view name, std::span<const std::string_view> names) {
  const std::string_view near = closest(name, names);
  return near.empty() ? std::string() : "; did you mean '" + std::string(near) + "'?";
}

constexpr Key<TlsConfig> kTlsKeys[] = {
    {"verify", [](Reader& r, const Item& it, TlsConfig& t) { r.read_bool(it, t.verify); }},
    {"ca_file", [](Reader& r, const Item& it, TlsConfig& t) { r.read_string(it, t.ca_file); }},
};

constexpr EnumName<ConditionOp> kConditionOps[] = {
    {"*", ConditionOp::kAny},           {"=", ConditionOp::kEqual},
    {"!=", ConditionOp::kNotEqual},     {">", ConditionOp::kGreater},
    {">=", ConditionOp::kGreaterEqual}, {"<", ConditionOp::kLess},
    {"<=", ConditionOp::kLessEqual}};

bool is_numeric_op(ConditionOp op) {
  return op == ConditionOp::kGreater || op == ConditionOp::kGreaterEqual ||
         op == ConditionOp::kLess || op == ConditionOp::kLessEqual;
}

// A condition being read, and whether its operator and value were read (to check them together).
struct ConditionRead {
  Condition& out;
  bool op_ok = true;
  bool value_ok = true;
};

void read_condition_variable(Reader& r, const Item& it, ConditionRead& c) {
  auto value = r.scalar(it, "a variable name");
  if (!value) return;
  if (auto problem = mapped_variable_problem(value->value)) {
    r.error(it, quote(value->written) + " " + *problem);
    return;
  }
  c.out.variable = std::move(value->value);
}

void read_condition_op(Reader& r, const Item& it, ConditionRead& c) {
  c.op_ok = false;
  const auto value = r.scalar(it, "one of *, =, !=, >, >=, <, <=");
  if (!value) return;
  for (const auto& op : kConditionOps) {
    if (op.name == value->value) {
      c.out.op = op.value;
      c.op_ok = true;
      return;
    }
  }
  std::string what = quote(value->written) + " is not one of *, =, !=, >, >=, <, <=";
  if (value->written.empty()) {
    // A bare != is a tag to YAML, a bare > or | a block scalar: each reads as an empty value.
    const std::string& tag = it.node.Tag();
    if (tag != "?" && tag != "!") what = "'" + printable(tag) + "' (unquoted) is not an operator";
    what += "; quote it (condition: \">=\"): YAML reads a bare *, !, > or | as something else";
  }
  r.error(it, what);
}

void read_condition_value(Reader& r, const Item& it, ConditionRead& c) {
  c.value_ok = false;
  auto value = r.scalar(it, "a number or a string to compare with");
  if (!value) return;
  const auto number = parse_double(value->value);
  if (const double* n = std::get_if<double>(&number)) c.out.number = *n;
  c.out.value = std::move(value->value);
  c.value_ok = true;
}

constexpr Key<ConditionRead> kConditionKeys[] = {
    {"variable", read_condition_variable, true},
    {"condition", read_condition_op},
    {"value", read_condition_value},
};
constexpr std::size_t kConditionValueKey = 2;

void read_condition(Reader& r, const Item& it, Condition& out) {
  if (!it.node.IsMap()) {  // an empty value too: a condition has a required key
    r.error(it,
            "expected a map {variable, condition, value}, got " + std::string(kind_of(it.node)));
    return;
  }
  ConditionRead read{out};
  const Seen seen = r.read_map<ConditionRead>(it, kConditionKeys, read);
  if (!read.op_ok) return;
  const std::optional<Item>& value = seen[kConditionValueKey];
  const std::string op(to_string(out.op));
  if (out.op == ConditionOp::kAny) {
    if (value) {
      r.error(value->key_mark, value->path,
              "has no use with condition '*' (any value): give a condition to compare with it, "
              "e.g. condition: \"=\"");
    }
    return;
  }
  if (!value) {
    r.error(it.mark(), join_path(it.path, "value"),
            "required key is missing (condition '" + op + "' compares with it)");
    return;
  }
  if (read.value_ok && is_numeric_op(out.op) && !out.number) {
    r.error(*value, quote(value->node.Scalar()) + " is not a finite number, which condition '" +
                        op + "' needs");
  }
}

constexpr std::string_view kPlaceholders[] = {"device", "variable", "value", "unit", "time"};
constexpr std::string_view kPlaceholderList = "{device}, {variable}, {value}, {unit} and {time}";

bool is_identifier_char(char c, bool first) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         (!first && c >= '0' && c <= '9');
}

// Why `text` holds a {name} that is no placeholder, or nullopt. Only {identifier} is a
// placeholder: other braces (a JSON payload's) are text.
std::optional<std::string> template_problem(std::string_view text) {
  for (std::size_t open = text.find('{'); open != std::string_view::npos;
       open = text.find('{', open + 1)) {
    std::size_t end = open + 1;
    while (end < text.size() && is_identifier_char(text[end], end == open + 1)) ++end;
    if (end == open + 1 || end == text.size() || text[end] != '}') continue;
    const std::string_view name = text.substr(open + 1, end - open - 1);
    bool known = false;
    for (std::string_view p : kPlaceholders) known |= p == name;
    if (known) continue;
    std::string why = "'{" + printable(name) + "}' is not a placeholder; the placeholders are " +
                      std::string(kPlaceholderList);
    if (const std::string_view near = closest(name, kPlaceholders); !near.empty()) {
      why += "; did you mean '{" + std::string(near) + "}'?";
    }
    return why;
  }
  return std::nullopt;
}

constexpr std::string_view kBrokerSchemes[] = {"tcp://",   "ssl://", "mqtt://",
                                               "mqtts://", "ws://",  "wss://"};

// Why `broker` is no Paho server URI (scheme://host[:port], a path only for ws and wss), or
// nullopt. The reason never repeats the URI.
std::optional<std::string> broker_problem(std::string_view broker) {
  std::string_view scheme;
  for (std::string_view s : kBrokerSchemes) {
    if (broker.substr(0, s.size()) == s) scheme = s;
  }
  if (scheme.empty()) {
    return std::string("must start with tcp://, ssl://, mqtt://, mqtts://, ws:// or wss://");
  }
  for (char c : broker) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return std::string("must not hold spaces or control characters");
  }
  const std::string_view rest = broker.substr(scheme.size());
  const std::size_t slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  if (authority.find('@') != std::string_view::npos) {
    return std::string("must not hold user credentials (user@host): give username and password");
  }
  const bool web = scheme == "ws://" || scheme == "wss://";
  if (slash != std::string_view::npos && !web) {
    return "must be " + std::string(scheme) + "host[:port], without a path";
  }
  // The host and port, checked as a URL's.
  return url_problem("http://" + std::string(authority));
}

void read_broker(Reader& r, const Item& it, MqttActionConfig& m) {
  auto value = r.scalar(it, "a broker URI");
  if (!value) return;
  if (auto problem = broker_problem(value->value)) {
    r.error(it, *problem);
    return;
  }
  m.broker = std::move(value->value);
}

void read_topic(Reader& r, const Item& it, MqttActionConfig& m) {
  auto value = r.scalar(it, "a topic");
  if (!value) return;
  if (value->value.empty()) {
    r.error(it, "must not be empty");
    return;
  }
  if (value->value.find_first_of("+#") != std::string::npos) {
    r.error(it, quote(value->written) +
                    " holds a wildcard ('+' or '#'), which only subscriptions may use");
    return;
  }
  if (has_control(value->value)) {
    r.error(it, quote(value->written) + " holds a control character");
    return;
  }
  if (auto problem = template_problem(value->value)) {
    r.error(it, *problem);
    return;
  }
  m.topic = std::move(value->value);
}

void read_payload(Reader& r, const Item& it, MqttActionConfig& m) {
  auto value = r.scalar(it, "a payload template");
  if (!value) return;
  if (auto problem = template_problem(value->value)) {
    r.error(it, *problem);
    return;
  }
  m.payload = std::move(value->value);
}

constexpr Key<MqttActionConfig> kMqttKeys[] = {
    {"broker", read_broker, true},
    {"client_id",
     [](Reader& r, const Item& it, MqttActionConfig& m) { r.read_string(it, m.client_id); }},
    {"username",
     [](Reader& r, const Item& it, MqttActionConfig& m) { r.read_string(it, m.username); }},
    {"password",
     [](Reader& r, const Item& it, MqttActionConfig& m) { read_secret(r, it, m.password); }},
    {"topic", read_topic, true},
    {"payload", read_payload},
    {"qos", [](Reader& r, const Item& it, MqttActionConfig& m) { r.read_int(it, 0, 2, m.qos); }},
    {"retain", [](Reader& r, const Item& it, MqttActionConfig& m) { r.read_bool(it, m.retain); }},
};

// Why `url` cannot be POSTed to, or nullopt; never repeats the URL. A query is allowed (a hook's
// own parameters); credentials belong in headers, which are secrets.
std::optional<std::string> post_url_problem(std::string_view url) {
  const std::size_t scheme_end = url.find("://");
  const std::string_view rest =
      scheme_end == std::string_view::npos ? url : url.substr(scheme_end + 3);
  if (rest.substr(0, rest.find_first_of("/?#")).find('@') != std::string_view::npos) {
    return std::string(
        "must not hold user credentials (user@host): give them in headers (Authorization), "
        "which are kept out of logs");
  }
  if (url.find('#') != std::string_view::npos) {
    return std::string("must not hold a fragment (#): it is never sent");
  }
  return url_problem(url.substr(0, url.find('?')));
}

void read_post_url(Reader& r, const Item& it, PostActionConfig& p) {
  auto value = r.scalar(it, "a URL");
  if (!value) return;
  if (auto problem = post_url_problem(value->value)) {
    r.error(it, *problem);
    return;
  }
  p.url = std::move(value->value);
}

// RFC 9110's token: the characters of a header's name.
bool is_token_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!is_token_char(c)) return false;
  }
  return true;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

void read_headers(Reader& r, const Item& item, PostActionConfig& p) {
  std::map<std::string, Mark> first_at;  // by the name in lower case: HTTP ignores case
  r.for_each_entry(item, [&](const std::string& name, const Item& value) {
    bool ok = true;
    if (!is_token(name)) {
      ok = false;
      if (is_showable_key(name)) {
        r.error(value.key_mark, value.path,
                quote(name) + " is not a header name (letters, digits and !#$%&'*+-.^_`|~)");
      } else {
        r.error(value.key_mark, item.path,
                "a header name holds ':' or '=', or is long (not shown: a space missing after "
                "':'?)");
      }
    } else if (const auto [first, inserted] = first_at.try_emplace(lower(name), value.key_mark);
               !inserted) {
      ok = false;
      r.error(value.key_mark, value.path,
              "repeats a header (names ignore case; first at " +
                  std::to_string(first->second.line) + ":" + std::to_string(first->second.column) +
                  ")");
    }
    Secret secret;
    if (!read_secret(r, value, secret)) return;
    for (char c : secret.reveal()) {
      const auto u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t') || u == 0x7f) {
        r.error(value, "the value holds a control character (it would corrupt the HTTP request)");
        return;
      }
    }
    if (ok) p.headers[name] = std::move(secret);
  });
}

constexpr Key<PostActionConfig> kPostKeys[] = {
    {"url", read_post_url, true},
    {"headers", read_headers},
    {"timeout", [](Reader& r, const Item& it,
                   PostActionConfig& p) { r.read_duration(it, kPositive, p.timeout); }},
    {"tls", [](Reader& r, const Item& it,
               PostActionConfig& p) { r.read_map<TlsConfig>(it, kTlsKeys, p.tls); }},
};

// An action as it is read: with where its references to devices stand, checked once the list is
// read (devices: may come later in the file).
struct ActionRead : ActionConfig {
  std::vector<Item> device_items;  // one per entry of `devices`
  bool type_ok = false;
};

void read_action_name(Reader& r, const Item& it, ActionRead& a) { read_name(r, it, a.name); }

void read_action_devices(Reader& r, const Item& item, ActionRead& a) {
  if (item.node.IsSequence() && item.node.size() == 0) {
    r.error(item, "must not be empty (leave devices out for every device)");
    return;
  }
  r.for_each_element(item, [&](const Item& element) {
    auto value = r.scalar(element, "a device key");
    if (!value) return;
    if (value->value.empty()) {
      r.error(element, "must not be empty");
      return;
    }
    a.devices.push_back(std::move(value->value));
    a.device_items.push_back(element);
  });
}

void read_device_pattern(Reader& r, const Item& it, ActionRead& a) {
  auto value = r.scalar(it, "a glob (e.g. boiler-*)");
  if (!value) return;
  if (value->value.empty()) {
    r.error(it, "must not be empty (leave device_pattern out for every device)");
    return;
  }
  if (has_control(value->value)) {
    r.error(it, quote(value->written) + " holds a control character");
    return;
  }
  a.device_pattern = std::move(value->value);
}

constexpr std::string_view kActionTypes[] = {"mqtt", "post", "analysis"};

void read_action_type(Reader& r, const Item& it, ActionRead& a) {
  const auto value = r.scalar(it, "mqtt, post or analysis");
  if (!value) return;
  const std::string& v = value->value;
  if (v == "mqtt") {
    a.type = ActionType::kMqtt;
  } else if (v == "post") {
    a.type = ActionType::kPost;
  } else if (v == "analysis") {
    a.type = ActionType::kAnalysis;
  } else if (v == "sms" || v == "email") {
    r.error(it, quote(value->written) +
                    " actions need the cloud's messaging services, which the gateway does not "
                    "have: keep this action in the cloud");
    return;
  } else {
    r.error(it, quote(value->written) + " is not one of mqtt, post, analysis" +
                    did_you_mean(v, kActionTypes));
    return;
  }
  a.type_ok = true;
}

constexpr Key<ActionRead> kActionKeys[] = {
    {"name", read_action_name, true},
    {"devices", read_action_devices},
    {"device_pattern", read_device_pattern},
    {"when_set",
     [](Reader& r, const Item& it, ActionRead& a) { read_condition(r, it, a.when_set); }, true},
    {"when_reset",
     [](Reader& r, const Item& it, ActionRead& a) {
       a.when_reset.emplace();
       read_condition(r, it, *a.when_reset);
     }},
    {"type", read_action_type, true},
    {"max_queued",
     [](Reader& r, const Item& it, ActionRead& a) { r.read_int(it, 1, 1000000, a.max_queued); }},
    {"mqtt", [](Reader& r, const Item& it,
                ActionRead& a) { r.read_map<MqttActionConfig>(it, kMqttKeys, a.mqtt); }},
    {"post", [](Reader& r, const Item& it,
                ActionRead& a) { r.read_map<PostActionConfig>(it, kPostKeys, a.post); }},
    {"analysis", [](Reader& r, const Item& it, ActionRead& a) { read_name(r, it, a.analysis); }},
};
constexpr std::size_t kActionNameKey = 0;
constexpr std::size_t kDevicesKey = 1;
constexpr std::size_t kDevicePatternKey = 2;
constexpr std::size_t kMqttKey = 7;
constexpr std::size_t kPostKey = 8;
constexpr std::size_t kAnalysisKey = 9;
// The key of each type's settings.
constexpr std::size_t kTypeKeys[] = {kMqttKey, kPostKey, kAnalysisKey};
constexpr ActionType kTypes[] = {ActionType::kMqtt, ActionType::kPost, ActionType::kAnalysis};

void check_devices(Reader& r, const ActionRead& a, const std::vector<DeviceConfig>& devices) {
  std::vector<std::string_view> keys;
  keys.reserve(devices.size());
  for (const DeviceConfig& d : devices) keys.push_back(d.key);
  const std::set<std::string_view> known(keys.begin(), keys.end());
  std::map<std::string_view, Mark> first_at;
  for (std::size_t i = 0; i < a.devices.size(); ++i) {
    const std::string& key = a.devices[i];
    const Item& item = a.device_items[i];
    if (!known.contains(key)) {
      r.error(item, quote(item.node.Scalar()) +
                        " is not the key of a device of devices:" + did_you_mean(key, keys));
      continue;
    }
    const auto [first, inserted] = first_at.try_emplace(key, item.mark());
    if (!inserted) {
      r.error(item, quote(item.node.Scalar()) + " is listed twice (first at " +
                        std::to_string(first->second.line) + ":" +
                        std::to_string(first->second.column) + ")");
    }
  }
}

void check_action(Reader& r, const ActionRead& a, const Item& element, const Seen& seen,
                  const std::vector<DeviceConfig>& devices,
                  const std::vector<AnalysisConfig>& analyses) {
  if (seen[kDevicesKey] && seen[kDevicePatternKey]) {
    const Item& second = later(*seen[kDevicesKey], *seen[kDevicePatternKey]);
    r.error(second.key_mark, second.path, "give devices or device_pattern, not both");
  }
  check_devices(r, a, devices);
  if (!a.type_ok) return;
  const std::string type(to_string(a.type));
  for (std::size_t i = 0; i < std::size(kTypes); ++i) {
    const std::optional<Item>& settings = seen[kTypeKeys[i]];
    const std::string_view name = kActionKeys[kTypeKeys[i]].name;
    if (kTypes[i] == a.type && !settings) {
      r.error(element.mark(), join_path(element.path, name),
              "required key is missing (the action is type " + type + ")");
    } else if (kTypes[i] != a.type && settings) {
      r.error(settings->key_mark, settings->path,
              "is for type " + std::string(name) + "; this action is type " + type);
    }
  }
  const std::optional<Item>& analysis = seen[kAnalysisKey];
  if (a.type != ActionType::kAnalysis || !analysis || a.analysis.empty()) return;
  std::vector<std::string_view> names;
  for (const AnalysisConfig& an : analyses) {
    if (an.name == a.analysis) return;
    names.push_back(an.name);
  }
  r.error(*analysis,
          quote(analysis->node.Scalar()) +
              " is not the name of an analysis of analyses:" + did_you_mean(a.analysis, names));
}

void read_command(Reader& r, const Item& item, AnalysisConfig& an) {
  if (item.node.IsScalar()) {  // one string: the executable alone
    std::string program;
    if (r.read_non_empty(item, program)) an.command = {std::move(program)};
    return;
  }
  if (!item.node.IsSequence()) {
    r.error(item, "expected a list (the executable and its arguments), got " +
                      std::string(kind_of(item.node)));
    return;
  }
  if (item.node.size() == 0) {
    r.error(item, "must not be empty: give the executable and its arguments");
    return;
  }
  std::vector<std::string> command;
  bool ok = true;
  r.for_each_element(item, [&](const Item& element) {
    std::string arg;
    if (!r.read_non_empty(element, arg)) {
      ok = false;
      return;
    }
    command.push_back(std::move(arg));
  });
  if (ok) an.command = std::move(command);
}

void read_environment(Reader& r, const Item& item, AnalysisConfig& an) {
  r.for_each_entry(item, [&](const std::string& key, const Item& value) {
    if (key.empty()) {
      r.error(value.key_mark, item.path, "a key must not be empty");
      return;
    }
    Secret secret;
    if (read_secret(r, value, secret)) an.environment.emplace_back(key, std::move(secret));
  });
}

void read_api(Reader& r, const Item& it, AnalysisConfig& an) {
  auto value = r.scalar(it, "a URL");
  if (!value) return;
  if (auto problem = url_problem(value->value)) {
    r.error(it, *problem);
    return;
  }
  an.api = std::move(value->value);
}

void read_analysis_timeout(Reader& r, const Item& it, AnalysisConfig& an) {
  Duration timeout{};
  if (!r.read_duration(it, kPositive, timeout)) return;
  if (timeout > kMaxAnalysisTimeout) {
    r.error(it, printable(it.node.Scalar()) + " must be at most " +
                    format_duration(kMaxAnalysisTimeout));
    return;
  }
  an.timeout = timeout;
}

constexpr Key<AnalysisConfig> kAnalysisKeys[] = {
    {"name", [](Reader& r, const Item& it, AnalysisConfig& an) { read_name(r, it, an.name); },
     true},
    {"command", read_command, true},
    {"environment", read_environment},
    {"token",
     [](Reader& r, const Item& it, AnalysisConfig& an) { read_inline_token(r, it, an.token); }},
    {"api", read_api},
    {"timeout", read_analysis_timeout},
    {"every",
     [](Reader& r, const Item& it, AnalysisConfig& an) {
       Duration every{};
       if (r.read_duration(it, kMinEvery, every)) an.every = every;
     }},
    {"max_running",
     [](Reader& r, const Item& it, AnalysisConfig& an) { r.read_int(it, 1, 64, an.max_running); }},
    {"max_queued", [](Reader& r, const Item& it,
                      AnalysisConfig& an) { r.read_int(it, 1, 100000, an.max_queued); }},
};
constexpr std::size_t kAnalysisNameKey = 0;

}  // namespace

void read_analyses(Reader& reader, const Item& item, std::vector<AnalysisConfig>& out) {
  const UniqueList<AnalysisConfig> list{kAnalysisKeys, kAnalysisNameKey, &AnalysisConfig::name,
                                        "name", "name, command, environment, timeout"};
  reader.read_unique_list<AnalysisConfig>(item, list, out);
}

void read_actions(Reader& reader, const Item& item, const std::vector<DeviceConfig>& devices,
                  const std::vector<AnalysisConfig>& analyses, std::vector<ActionConfig>& out) {
  const UniqueList<ActionRead> list{kActionKeys, kActionNameKey, &ActionRead::name, "name",
                                    "name, devices, when_set, type"};
  std::vector<ActionRead> read;
  reader.read_unique_list<ActionRead>(item, list, read,
                                      [&](ActionRead& a, const Item& element, const Seen& seen) {
                                        check_action(reader, a, element, seen, devices, analyses);
                                      });
  out.reserve(read.size());
  for (ActionRead& a : read) out.push_back(std::move(static_cast<ActionConfig&>(a)));
}

}  // namespace edgegw::config::detail
