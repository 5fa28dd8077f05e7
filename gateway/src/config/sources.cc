// SPDX-License-Identifier: Apache-2.0
// sources: the protocol plugins, each with a unique name, a payload format and its own settings.
#include <map>

#include "config/plugin_config.h"
#include "config/sections.h"
#include "decode/format.h"
#include "decode/validate.h"

namespace edgegw::config::detail {
namespace {

bool is_plugin_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

void read_source_name(Reader& r, const Item& it, SourceConfig& s) { read_name(r, it, s.name); }

}  // namespace

void read_name(Reader& r, const Item& it, std::string& out) {
  auto value = r.scalar(it);
  if (!value) return;
  if (value->value.empty()) {
    r.error(it, "must not be empty");
    return;
  }
  for (char c : value->value) {
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                         (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    if (!allowed) {
      r.error(it, quote(value->written) + " may hold only letters, digits, '_', '.' and '-'");
      return;
    }
  }
  out = std::move(value->value);
}

namespace {

void read_plugin(Reader& r, const Item& it, SourceConfig& s) {
  auto value = r.scalar(it);
  if (!value) return;
  if (value->value.empty()) {
    r.error(it, "must not be empty");
    return;
  }
  for (char c : value->value) {
    if (!is_plugin_name_char(c)) {
      r.error(it, quote(value->written) +
                      " may hold only lower-case letters, digits and '_' (the plugin's file is "
                      "libedgegw_<plugin>.so)");
      return;
    }
  }
  s.plugin = std::move(value->value);
  s.plugin_mark = it.mark();
}

void read_format(Reader& r, const Item& it, SourceConfig& s) {
  const auto value = r.scalar(it, "a format name");
  if (!value) return;
  if (const auto format = decode::parse_format(value->value)) {
    s.format = *format;
    return;
  }
  std::string names;
  for (auto f : {decode::Format::kTagoJson, decode::Format::kFlatJson, decode::Format::kCsv,
                 decode::Format::kRaw}) {
    if (!names.empty()) names += ", ";
    names += decode::format_name(f);
  }
  r.error(it, quote(value->written) + " is not one of " + names);
}

void read_variable(Reader& r, const Item& it, SourceConfig& s) {
  auto value = r.scalar(it, "a variable name");
  if (!value) return;
  if (auto problem = mapped_variable_problem(value->value)) {
    r.error(it, quote(value->written) + " " + *problem);
    return;
  }
  s.variable = std::move(value->value);
}

constexpr Key<SourceConfig> kSourceKeys[] = {
    {"name", read_source_name, true}, {"plugin", read_plugin, true},  {"format", read_format},
    {"variable", read_variable},      {"config", read_plugin_config},
};
constexpr std::size_t kNameKey = 0;

}  // namespace

std::optional<std::string> mapped_variable_problem(std::string_view name) {
  if (auto problem = decode::variable_name_problem(name)) {
    return "is not a valid variable name: " + *problem;
  }
  for (char c : name) {
    if (c >= 'A' && c <= 'Z') {
      return std::string("must be lower case: variable names are lower-cased at decode");
    }
  }
  return std::nullopt;
}

void read_sources(Reader& reader, const Item& item, std::vector<SourceConfig>& out) {
  const UniqueList<SourceConfig> list{kSourceKeys, kNameKey, &SourceConfig::name, "name",
                                      "name, plugin, format, config"};
  reader.read_unique_list<SourceConfig>(item, list, out);
}

}  // namespace edgegw::config::detail
