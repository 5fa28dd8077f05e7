// SPDX-License-Identifier: Apache-2.0
// cloud.provisioning: the account token, the connector and network, and what the gateway gives
// each cloud device it makes for a device key the config does not map (`unmapped: provision`).
#include <string>
#include <string_view>

#include "config/secrets.h"
#include "config/sections.h"

namespace edgegw::config::detail {
namespace {

// The cloud's ids (MongoDB ObjectIds) are 24 hexadecimal digits.
constexpr std::size_t kIdDigits = 24;
constexpr std::size_t kMaxTags = 20;

constexpr EnumName<bool> kTypes[] = {{"mutable", false}, {"immutable", true}};
constexpr EnumName<std::string_view> kChunkPeriods[] = {
    {"day", "day"}, {"week", "week"}, {"month", "month"}, {"quarter", "quarter"}};

// The section being read, and what the checks across its keys need.
struct ProvisioningRead {
  ProvisioningConfig& out;
  bool type_ok = true;
};

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// A value as written, and what ${NAME} made of it when that differs: ids are no secrets.
std::string shown(const Scalar& s) {
  if (s.value == s.written) return quote(s.written);
  return quote(s.written) + " (" + quote(s.value) + ")";
}

// connector: and network: a cloud id, kept in lower case (as the cloud writes them).
void read_id(Reader& r, const Item& it, std::string_view what, std::string& out) {
  auto s = r.scalar(it, "an id of 24 hexadecimal digits");
  if (!s) return;
  bool ok = s->value.size() == kIdDigits;
  for (char c : s->value) ok = ok && is_hex(c);
  if (!ok) {
    r.error(it, shown(*s) + " is not a " + std::string(what) +
                    " id: 24 hexadecimal digits, as the cloud shows it");
    return;
  }
  for (char& c : s->value) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  out = std::move(s->value);
}

// name: text with the placeholders {key} and {gateway}, and {key} at least once.
void read_name_template(Reader& r, const Item& it, ProvisioningRead& p) {
  if (it.node.IsMap()) {  // name: {key} is a flow map to YAML
    r.error(it, "expected a name template, got a map; write it in quotes: name: \"{key}\"");
    return;
  }
  auto s = r.scalar(it, "a name template");
  if (!s) return;
  const std::string_view text = s->value;
  bool has_key = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '}') {
      r.error(it, quote(s->written) + " has a '}' without an opening '{'");
      return;
    }
    if (text[i] != '{') continue;
    const std::size_t close = text.find_first_of("{}", i + 1);
    if (close == std::string_view::npos || text[close] == '{') {
      r.error(it, quote(s->written) + " has a '{' without a closing '}'");
      return;
    }
    const std::string_view name = text.substr(i + 1, close - i - 1);
    if (name != "key" && name != "gateway") {
      r.error(it, "unknown placeholder " + quote(text.substr(i, close - i + 1)) +
                      "; the placeholders are {key} and {gateway}");
      return;
    }
    has_key |= name == "key";
    i = close;
  }
  if (!has_key) {
    r.error(it, quote(s->written) +
                    " must contain {key} (the device key): without it every device made would "
                    "have the same name");
    return;
  }
  p.out.name = std::move(s->value);
}

void read_tags(Reader& r, const Item& item, ProvisioningRead& p) {
  std::size_t count = 0;
  r.for_each_entry(item, [&](const std::string& key, const Item& value) {
    if (++count == kMaxTags + 1) {
      r.error(value.key_mark, item.path,
              "at most " + std::to_string(kMaxTags) + " tags (the gateway adds " +
                  std::string(kProvisionDeviceTag) + " and " + std::string(kProvisionGatewayTag) +
                  ")");
    }
    bool ok = true;
    if (key.empty()) {
      r.error(value.key_mark, item.path, "a tag key must not be empty");
      ok = false;
    } else if (key == kProvisionDeviceTag || key == kProvisionGatewayTag) {
      r.error(value.key_mark, value.path,
              "reserved: the gateway sets this tag itself on every device it makes");
      ok = false;
    }
    auto s = r.scalar(value, "a tag value (text or a number)");
    if (!s || !ok) return;
    p.out.tags[key] = std::move(s->value);
  });
}

constexpr Key<ProvisioningRead> kProvisioningKeys[] = {
    {"token", [](Reader& r, const Item& it,
                 ProvisioningRead& p) { read_inline_token(r, it, p.out.account_token); }},
    {"token_file", [](Reader& r, const Item& it,
                      ProvisioningRead& p) { read_file_token(r, it, p.out.account_token); }},
    {"connector",
     [](Reader& r, const Item& it, ProvisioningRead& p) {
       read_id(r, it, "connector", p.out.connector);
     },
     true},
    {"network",
     [](Reader& r, const Item& it, ProvisioningRead& p) {
       read_id(r, it, "network", p.out.network);
     },
     true},
    {"type", [](Reader& r, const Item& it,
                ProvisioningRead& p) { p.type_ok = r.read_enum(it, kTypes, p.out.immutable); }},
    {"chunk_period",
     [](Reader& r, const Item& it, ProvisioningRead& p) {
       std::string_view period;
       if (r.read_enum(it, kChunkPeriods, period)) p.out.chunk_period = period;
     }},
    {"chunk_retention", [](Reader& r, const Item& it,
                           ProvisioningRead& p) { r.read_int(it, 0, 36, p.out.chunk_retention); }},
    {"name", read_name_template},
    {"tags", read_tags},
    {"max_created_per_hour",
     [](Reader& r, const Item& it, ProvisioningRead& p) {
       r.read_int(it, 1, 100000, p.out.max_created_per_hour);
     }},
    {"max_pending", [](Reader& r, const Item& it,
                       ProvisioningRead& p) { r.read_int(it, 1, 1000000, p.out.max_pending); }},
};
constexpr std::size_t kTokenKey = 0;
constexpr std::size_t kTokenFileKey = 1;
constexpr std::size_t kChunkPeriodKey = 5;
constexpr std::size_t kChunkRetentionKey = 6;

}  // namespace

void read_provisioning(Reader& reader, const Item& item, ProvisioningConfig& out) {
  out.set = true;
  out.mark = item.mark();
  ProvisioningRead read{out};
  const Seen seen = reader.read_map<ProvisioningRead>(item, kProvisioningKeys, read);
  const bool is_map = item.node.IsMap() || item.node.IsNull() || !item.node.IsDefined();
  if (!is_map) return;  // reported by read_map
  check_one_token(reader, item, seen[kTokenKey], seen[kTokenFileKey]);
  if (!read.type_ok) return;
  for (const std::size_t i : {kChunkPeriodKey, kChunkRetentionKey}) {
    const std::string_view name = kProvisioningKeys[i].name;
    if (out.immutable && !seen[i]) {
      reader.error(item.mark(), join_path(item.path, name), "required with type: immutable");
    } else if (!out.immutable && seen[i]) {
      reader.error(seen[i]->key_mark, seen[i]->path,
                   "only with type: immutable (a mutable device keeps no chunks)");
    }
  }
}

}  // namespace edgegw::config::detail
