// SPDX-License-Identifier: Apache-2.0
// devices (key, token, variable mappings) and the policy for readings of devices not listed.
#include <limits>
#include <map>

#include "config/secrets.h"
#include "config/sections.h"
#include "decode/validate.h"

namespace edgegw::config::detail {
namespace {

constexpr double kAnyFinite = std::numeric_limits<double>::max();

std::size_t utf8_chars(std::string_view text) {
  std::size_t n = 0;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

void read_rename(Reader& r, const Item& it, VariableMapping& m) {
  auto value = r.scalar(it, "a variable name");
  if (!value) return;
  if (auto problem = mapped_variable_problem(value->value)) {
    r.error(it, quote(value->written) + " " + *problem);
    return;
  }
  m.rename = std::move(value->value);
}

void read_unit(Reader& r, const Item& it, VariableMapping& m) {
  auto value = r.scalar(it, "a unit");
  if (!value) return;
  if (const std::size_t chars = utf8_chars(value->value); chars > decode::kMaxUnitChars) {
    r.error(it, quote(value->written) + " is " + std::to_string(chars) +
                    " characters long; the cloud allows at most " +
                    std::to_string(decode::kMaxUnitChars));
    return;
  }
  m.unit = std::move(value->value);
}

constexpr Key<VariableMapping> kMappingKeys[] = {
    {"rename", read_rename},
    {"unit", read_unit},
    {"scale", [](Reader& r, const Item& it,
                 VariableMapping& m) { r.read_double(it, -kAnyFinite, kAnyFinite, m.scale); }},
    {"offset", [](Reader& r, const Item& it,
                  VariableMapping& m) { r.read_double(it, -kAnyFinite, kAnyFinite, m.offset); }},
};

void read_variables(Reader& r, const Item& item, DeviceConfig& d) {
  r.for_each_entry(item, [&](const std::string& name, const Item& value) {
    const auto problem = mapped_variable_problem(name);
    if (problem) r.error(value.key_mark, value.path, quote(name) + " " + *problem);
    VariableMapping mapping;  // read even under a bad name, to report its errors too
    r.read_map<VariableMapping>(value, kMappingKeys, mapping);
    if (!problem) d.variables[name] = std::move(mapping);
  });
}

void read_key(Reader& r, const Item& it, DeviceConfig& d) {
  auto value = r.scalar(it, "a device key");
  if (!value) return;
  if (value->value.empty()) {
    r.error(it, "must not be empty");
    return;
  }
  for (char c : value->value) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      r.error(it, quote(value->written) + " holds a control character");
      return;
    }
  }
  d.key = std::move(value->value);
}

constexpr Key<DeviceConfig> kDeviceKeys[] = {
    {"key", read_key, true},
    {"token",
     [](Reader& r, const Item& it, DeviceConfig& d) { read_inline_token(r, it, d.token); }},
    {"token_file",
     [](Reader& r, const Item& it, DeviceConfig& d) { read_file_token(r, it, d.token); }},
    {"variables", read_variables},
    {"local_token",
     [](Reader& r, const Item& it, DeviceConfig& d) { read_inline_token(r, it, d.local_token); }},
    {"local_token_file",
     [](Reader& r, const Item& it, DeviceConfig& d) { read_file_token(r, it, d.local_token); }},
};
constexpr std::size_t kKeyKey = 0;
constexpr std::size_t kTokenKey = 1;
constexpr std::size_t kTokenFileKey = 2;
constexpr std::size_t kLocalTokenKey = 4;
constexpr std::size_t kLocalTokenFileKey = 5;

constexpr Key<UnmappedPolicy> kDefaultKeys[] = {
    {"token", [](Reader& r, const Item& it,
                 UnmappedPolicy& u) { read_inline_token(r, it, u.default_token); }},
    {"token_file",
     [](Reader& r, const Item& it, UnmappedPolicy& u) { read_file_token(r, it, u.default_token); }},
};

void read_default(Reader& r, const Item& it, UnmappedPolicy& u) {
  u.reject = false;
  if (!it.node.IsMap()) {
    r.error(it, "expected a map {token: ...} or {token_file: ...}, got " +
                    std::string(kind_of(it.node)));
    return;
  }
  const Seen seen = r.read_map<UnmappedPolicy>(it, kDefaultKeys, u);
  check_one_token(r, it, seen[0], seen[1]);
}

constexpr Key<UnmappedPolicy> kUnmappedKeys[] = {
    {"default", read_default, true},
};

constexpr std::string_view kUnmappedForms = "reject, provision or a map {default: {token: ...}}";

}  // namespace

void read_devices(Reader& reader, const Item& item, std::vector<DeviceConfig>& out) {
  const UniqueList<DeviceConfig> list{kDeviceKeys, kKeyKey, &DeviceConfig::key, "key",
                                      "key, token, variables"};
  reader.read_unique_list<DeviceConfig>(
      item, list, out, [&](DeviceConfig&, const Item& element, const Seen& seen) {
        check_one_token(reader, element, seen[kTokenKey], seen[kTokenFileKey]);
        if (seen[kLocalTokenKey] && seen[kLocalTokenFileKey]) {
          reader.error(seen[kLocalTokenFileKey]->key_mark, seen[kLocalTokenFileKey]->path,
                       "give local_token or local_token_file, not both");
        }
      });
}

void read_unmapped(Reader& reader, const Item& item, UnmappedPolicy& out) {
  if (item.node.IsNull() || !item.node.IsDefined()) return;  // as if absent: reject
  if (item.node.IsScalar()) {
    // Not quoted back: a token written here by mistake must not reach the terminal.
    const auto value = reader.scalar(item, kUnmappedForms);
    if (!value) return;
    if (value->value == "reject") {
      out.reject = true;
      return;
    }
    if (value->value == "provision") {  // needs cloud.provisioning: checked in read_config
      out.reject = false;
      out.provision = true;
      return;
    }
    reader.error(item, "must be " + std::string(kUnmappedForms));
    return;
  }
  if (!item.node.IsMap()) {
    reader.error(item, "expected " + std::string(kUnmappedForms) + ", got " +
                           std::string(kind_of(item.node)));
    return;
  }
  reader.read_map<UnmappedPolicy>(item, kUnmappedKeys, out);
}

}  // namespace edgegw::config::detail
