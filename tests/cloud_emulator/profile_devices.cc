// SPDX-License-Identifier: Apache-2.0
#include "profile_devices.h"

#include <algorithm>
#include <charconv>
#include <map>

#include <boost/json/array.hpp>

#include "core/time.h"
#include "device_api/query.h"

namespace edgegw::cloud_emulator {

namespace json = boost::json;

namespace {

constexpr std::string_view kSortable[] = {"id",   "name",   "created_at", "updated_at",
                                          "type", "active", "visible",    "serie_number"};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// "filter[tags][0][key]" -> base "filter", segments {"tags", "0", "key"}.
struct Key {
  std::string base;
  std::vector<std::string> segments;
};

Key split_key(std::string_view key) {
  Key k;
  auto open = key.find('[');
  k.base = std::string(key.substr(0, open));
  while (open != std::string_view::npos) {
    const auto close = key.find(']', open);
    if (close == std::string_view::npos) break;
    k.segments.emplace_back(key.substr(open + 1, close - open - 1));
    open = key.find('[', close);
  }
  return k;
}

bool parse_positive(const std::string& text, std::size_t& out) {
  std::size_t n = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, n);
  if (ec != std::errc() || ptr != end || text.empty() || n == 0) return false;
  out = n;
  return true;
}

Status set_order(DeviceListQuery& q, std::string_view field, std::string_view direction) {
  const auto known = std::find(std::begin(kSortable), std::end(kSortable), field);
  const std::string dir = lower(direction);
  if (known == std::end(kSortable) || (!dir.empty() && dir != "asc" && dir != "desc")) {
    std::string list;
    for (auto f : kSortable) list += (list.empty() ? "" : ", ") + std::string(f);
    return Status::invalid_argument("orderBy must be FIELD,asc or FIELD,desc with FIELD one of " +
                                    list + "; got \"" + std::string(field) + "," + dir + "\"");
  }
  q.order_field = std::string(field);
  q.descending = dir == "desc";
  return Status::ok();
}

// -1, 0, 1 on `field`.
int compare(const ProfileDevice& a, const ProfileDevice& b, std::string_view field) {
  auto cmp = [](const auto& x, const auto& y) { return x < y ? -1 : (y < x ? 1 : 0); };
  if (field == "id") return cmp(a.id, b.id);
  if (field == "created_at") return cmp(a.created_ms, b.created_ms);
  if (field == "updated_at") return cmp(a.updated_ms, b.updated_ms);
  if (field == "type") return cmp(a.type, b.type);
  if (field == "active") return cmp(a.active, b.active);
  if (field == "visible") return cmp(a.visible, b.visible);
  if (field == "serie_number") return cmp(a.serie_number, b.serie_number);
  return cmp(a.name, b.name);
}

}  // namespace

json::object device_object(const ProfileDevice& d, std::string_view profile_id,
                           std::int64_t last_input_ms) {
  json::object o;
  o["id"] = d.id;
  o["name"] = d.name;
  o["profile"] = profile_id;
  o["active"] = d.active;
  o["visible"] = d.visible;
  o["type"] = d.type;
  if (d.type == "immutable") {
    o["chunk_period"] = d.chunk_period ? json::value(*d.chunk_period) : json::value(nullptr);
    o["chunk_retention"] =
        d.chunk_retention ? json::value(*d.chunk_retention) : json::value(nullptr);
  }
  o["connector"] = d.connector;
  o["network"] = d.network;
  if (d.serie_number) o["serie_number"] = *d.serie_number;
  if (d.description) o["description"] = *d.description;
  o["last_input"] = last_input_ms != 0 ? json::value(core::format_iso8601_ms(last_input_ms))
                                       : json::value(nullptr);
  o["last_output"] = nullptr;
  o["created_at"] = core::format_iso8601_ms(d.created_ms);
  o["updated_at"] = core::format_iso8601_ms(d.updated_ms);
  o["payload_decoder"] = nullptr;
  json::array tags;
  for (const auto& t : d.tags) tags.push_back(json::object{{"key", t.key}, {"value", t.value}});
  o["tags"] = std::move(tags);
  o["bucket"] = {{"id", d.bucket_id}, {"name", d.name}};
  o["rpm"] = nullptr;
  return o;
}

Result<DeviceListQuery> parse_device_list_query(std::string_view query) {
  DeviceListQuery q;
  std::map<std::string, TagFilter> tags;  // by the index in filter[tags][i]
  std::string order_field, order_direction;
  bool order_given = false;
  for (auto& [name, value] : device_api::decode_query(query)) {
    const Key key = split_key(name);
    const auto& seg = key.segments;
    if (key.base == "filter" && !seg.empty()) {
      const std::string& what = seg[0];
      if (what == "tags" && seg.size() == 3 && (seg[2] == "key" || seg[2] == "value")) {
        (seg[2] == "key" ? tags[seg[1]].key : tags[seg[1]].value) = std::move(value);
      } else if (what == "name") {
        q.name = std::move(value);
      } else if (what == "id") {
        q.ids.push_back(std::move(value));
      } else if (what == "active") {
        if (value != "true" && value != "false") {
          return Status::invalid_argument("filter[active] must be true or false");
        }
        q.active = value == "true";
      } else if (what == "type") {
        q.type = std::move(value);
      } else if (what == "connector") {
        q.connector = std::move(value);
      } else if (what == "network") {
        q.network = std::move(value);
      } else if (what == "serie_number") {
        q.serie_number = std::move(value);
      }
    } else if (key.base == "fields") {
      std::string_view rest = value;
      while (!rest.empty()) {  // "fields[0]=id" or "fields=id,name"
        const auto comma = rest.find(',');
        if (comma != 0) q.fields.emplace_back(rest.substr(0, comma));
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      }
    } else if (key.base == "page") {
      if (!parse_positive(value, q.page)) {
        return Status::invalid_argument("page must be a positive integer, got \"" + value + "\"");
      }
    } else if (key.base == "amount") {
      if (!parse_positive(value, q.amount)) {
        return Status::invalid_argument("amount must be a positive integer, got \"" + value + "\"");
      }
      q.amount = std::min(q.amount, kMaxAmount);
    } else if (key.base == "orderBy") {
      order_given = true;
      if (seg.empty()) {  // "name,asc"
        const auto comma = value.find(',');
        order_field = value.substr(0, comma);
        order_direction = comma == std::string::npos ? "" : value.substr(comma + 1);
      } else if (seg[0] == "0") {  // orderBy[0]=name&orderBy[1]=asc
        order_field = std::move(value);
      } else if (seg[0] == "1") {
        order_direction = std::move(value);
      }
    }
  }
  for (auto& [index, tag] : tags) q.tags.push_back(std::move(tag));
  if (order_given) {
    if (auto s = set_order(q, order_field, order_direction); !s) return s;
  }
  return q;
}

bool wildcard_match(std::string_view pattern, std::string_view text) {
  // Greedy matching with backtracking to the last '*'.
  std::size_t p = 0, t = 0;
  std::size_t star = std::string_view::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool device_matches(const DeviceListQuery& q, const ProfileDevice& d) {
  for (const TagFilter& f : q.tags) {
    const bool has = std::any_of(d.tags.begin(), d.tags.end(), [&](const Tag& t) {
      return (!f.key || t.key == *f.key) && (!f.value || t.value == *f.value);
    });
    if (!has) return false;
  }
  if (q.name && !wildcard_match(*q.name, d.name)) return false;
  if (!q.ids.empty() && std::find(q.ids.begin(), q.ids.end(), d.id) == q.ids.end()) return false;
  if (q.active && *q.active != d.active) return false;
  if (q.type && *q.type != d.type) return false;
  if (q.connector && *q.connector != d.connector) return false;
  if (q.network && *q.network != d.network) return false;
  if (q.serie_number && q.serie_number != d.serie_number) return false;
  return true;
}

std::vector<const ProfileDevice*> order_and_page(std::vector<const ProfileDevice*> devices,
                                                 const DeviceListQuery& q) {
  std::sort(devices.begin(), devices.end(), [&](const ProfileDevice* a, const ProfileDevice* b) {
    const int c = compare(*a, *b, q.order_field);
    if (c != 0) return q.descending ? c > 0 : c < 0;
    return q.descending ? a->order > b->order : a->order < b->order;
  });
  const std::size_t pages_before = q.page - 1;
  const std::size_t begin = pages_before > devices.size()
                                ? devices.size()
                                : std::min(devices.size(), pages_before * q.amount);
  const std::size_t end = std::min(devices.size(), begin + q.amount);
  return {devices.begin() + static_cast<std::ptrdiff_t>(begin),
          devices.begin() + static_cast<std::ptrdiff_t>(end)};
}

}  // namespace edgegw::cloud_emulator
