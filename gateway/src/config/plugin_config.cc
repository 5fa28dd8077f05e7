// SPDX-License-Identifier: Apache-2.0
#include "config/plugin_config.h"

#include <boost/json.hpp>

#include <charconv>
#include <cstdint>
#include <limits>
#include <variant>

#include "config/numbers.h"
#include "config/secrets.h"

namespace edgegw::config::detail {
namespace json = boost::json;
namespace {

bool is_digits(std::string_view text, std::string_view allowed) {
  if (text.empty()) return false;
  for (char c : text) {
    if (allowed.find(c) == std::string_view::npos) return false;
  }
  return true;
}

constexpr std::string_view kDecimal = "0123456789";
constexpr auto kInt64Max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?  (YAML 1.2 core schema float)
bool is_core_float(std::string_view t) {
  if (!t.empty() && (t.front() == '+' || t.front() == '-')) t.remove_prefix(1);
  const std::size_t e = t.find_first_of("eE");
  std::string_view mantissa = t.substr(0, e);
  if (e != std::string_view::npos) {
    std::string_view exponent = t.substr(e + 1);
    if (!exponent.empty() && (exponent.front() == '+' || exponent.front() == '-')) {
      exponent.remove_prefix(1);
    }
    if (!is_digits(exponent, kDecimal)) return false;
  }
  const std::size_t dot = mantissa.find('.');
  if (dot == std::string_view::npos) return is_digits(mantissa, kDecimal);
  const std::string_view whole = mantissa.substr(0, dot);
  const std::string_view fraction = mantissa.substr(dot + 1);
  if (whole.empty()) return is_digits(fraction, kDecimal);
  return is_digits(whole, kDecimal) && (fraction.empty() || is_digits(fraction, kDecimal));
}

struct NotFinite {};

// A plain scalar as the YAML 1.2 core schema types it.
std::variant<json::value, NotFinite> resolve_plain(const std::string& text) {
  if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") {
    return json::value(nullptr);
  }
  if (text == "true" || text == "True" || text == "TRUE") return json::value(true);
  if (text == "false" || text == "False" || text == "FALSE") return json::value(false);
  std::string_view special = text;
  if (special.front() == '+' || special.front() == '-') special.remove_prefix(1);
  if (special == ".inf" || special == ".Inf" || special == ".INF") return NotFinite{};
  if (text == ".nan" || text == ".NaN" || text == ".NAN") return NotFinite{};

  std::string_view t = text;
  const bool negative = t.front() == '-';
  if (t.front() == '+' || t.front() == '-') t.remove_prefix(1);
  int base = 0;
  if (is_digits(t, kDecimal)) {
    base = 10;
  } else if (t.size() > 2 && t.substr(0, 2) == "0x" &&
             is_digits(t.substr(2), "0123456789abcdefABCDEF") && text.front() != '+' && !negative) {
    base = 16;
    t.remove_prefix(2);
  } else if (t.size() > 2 && t.substr(0, 2) == "0o" && is_digits(t.substr(2), "01234567") &&
             text.front() != '+' && !negative) {
    base = 8;
    t.remove_prefix(2);
  }
  if (base != 0) {
    std::uint64_t magnitude = 0;
    const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), magnitude, base);
    if (ec == std::errc() && end == t.data() + t.size()) {
      if (!negative && magnitude <= kInt64Max) {
        return json::value(static_cast<std::int64_t>(magnitude));
      }
      if (!negative) return json::value(magnitude);
      if (magnitude <= kInt64Max + 1) {
        return json::value(static_cast<std::int64_t>(0 - magnitude));
      }
    }
    if (base != 10) return json::value(text);  // too large for 64 bits: keep the text
    // A decimal integer beyond 64 bits is kept as the nearest double, as JSON readers would.
  }
  if (is_core_float(text)) {
    const auto number = parse_double(text);
    if (const double* value = std::get_if<double>(&number)) return json::value(*value);
    return NotFinite{};
  }
  return json::value(text);
}

class Converter {
 public:
  Converter(Reader& reader, SourceConfig& out, std::size_t prefix)
      : reader_(reader), out_(out), prefix_(prefix) {}

  // The value, or nullopt once a problem with it is reported.
  std::optional<json::value> convert(const Item& item, bool secret, int depth) {
    if (depth > kMaxPluginConfigDepth) {
      if (!too_deep_reported_) {
        reader_.error(item,
                      "is nested deeper than " + std::to_string(kMaxPluginConfigDepth) + " levels");
      }
      too_deep_reported_ = true;  // once: a cyclic alias would report every branch
      return std::nullopt;
    }
    switch (item.node.Type()) {
      case YAML::NodeType::Map:
        return convert_map(item, secret, depth);
      case YAML::NodeType::Sequence:
        return convert_list(item, secret, depth);
      case YAML::NodeType::Scalar:
        return convert_scalar(item, secret);
      case YAML::NodeType::Null:
      case YAML::NodeType::Undefined:
        break;
    }
    return json::value(nullptr);
  }

 private:
  std::string relative(const std::string& path) const {
    return path.size() > prefix_ ? path.substr(prefix_) : std::string();
  }

  std::optional<json::value> convert_map(const Item& item, bool secret, int depth) {
    json::object object;
    bool ok = true;
    reader_.for_each_entry(item, [&](const std::string& key, const Item& value) {
      out_.config_marks[relative(value.path)] = value.key_mark;
      auto converted = convert(value, secret || is_secret_key(key), depth + 1);
      if (!converted) {
        ok = false;
        return;
      }
      object.emplace(key, std::move(*converted));
    });
    if (!ok) return std::nullopt;
    return json::value(std::move(object));
  }

  std::optional<json::value> convert_list(const Item& item, bool secret, int depth) {
    json::array array;
    bool ok = true;
    reader_.for_each_element(item, [&](const Item& element) {
      out_.config_marks[relative(element.path)] = element.key_mark;
      auto converted = convert(element, secret, depth + 1);
      if (!converted) {
        ok = false;
        return;
      }
      array.push_back(std::move(*converted));
    });
    if (!ok) return std::nullopt;
    return json::value(std::move(array));
  }

  std::optional<json::value> convert_scalar(const Item& item, bool secret) {
    auto s = reader_.scalar(item);
    if (!s) return std::nullopt;
    if (secret && !s->value.empty()) out_.config_secrets.emplace_back(s->value);
    const std::string& tag = item.node.Tag();
    if (tag != "?" && tag != "tag:yaml.org,2002:int" && tag != "tag:yaml.org,2002:float" &&
        tag != "tag:yaml.org,2002:bool" && tag != "tag:yaml.org,2002:null") {
      return json::value(s->value);  // quoted, !!str or an application tag: a string
    }
    auto resolved = resolve_plain(s->value);
    if (std::holds_alternative<NotFinite>(resolved)) {
      const std::string what = secret ? std::string("the value") : quote(s->written);
      reader_.error(item, what +
                              " is not a finite number, which JSON cannot carry (quote it to pass "
                              "it as a string)");
      return std::nullopt;
    }
    return std::get<json::value>(std::move(resolved));
  }

  Reader& reader_;
  SourceConfig& out_;
  std::size_t prefix_;
  bool too_deep_reported_ = false;
};

}  // namespace

void read_plugin_config(Reader& reader, const Item& item, SourceConfig& out) {
  out.config_json = "{}";
  if (!item.node.IsNull() && item.node.IsDefined() && !item.node.IsMap()) {
    reader.error(item,
                 "expected a map (the plugin's settings), got " + std::string(kind_of(item.node)));
    return;
  }
  Converter converter(reader, out, item.path.size() + 1);
  auto value = converter.convert(item, false, 0);
  if (value && value->is_object()) out.config_json = json::serialize(*value);
}

}  // namespace edgegw::config::detail
