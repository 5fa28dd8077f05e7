// SPDX-License-Identifier: Apache-2.0
#include "device_api/query.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "core/time.h"
#include "device_api/record.h"

namespace edgegw::device_api {

namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool parse_size(std::string_view text, std::size_t& out) {
  const auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end && !text.empty();
}

std::optional<double> number_of(const boost::json::value& v) {
  if (v.is_double()) return v.get_double();
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  return std::nullopt;
}

bool value_matches(const boost::json::value& v, const std::string& text) {
  if (v.is_string()) return v.get_string() == text;
  if (v.is_bool()) return (v.get_bool() ? "true" : "false") == text;
  if (const auto n = number_of(v)) {
    double wanted = 0;
    const auto* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, wanted);
    return ec == std::errc() && ptr == end && wanted == *n;
  }
  return false;
}

bool matches(const RecordSet& records, std::size_t i, const DataFilter& f) {
  const std::int64_t time = records.time_ms(i);
  if (f.start_ms && time < *f.start_ms) return false;
  if (f.end_ms && time > *f.end_ms) return false;
  if (!f.variables.empty() &&
      std::find(f.variables.begin(), f.variables.end(), records.variable(i)) == f.variables.end()) {
    return false;
  }
  if (f.has_ids && std::find(f.id_serials.begin(), f.id_serials.end(), records.serial(i)) ==
                       f.id_serials.end()) {
    return false;
  }
  if (!f.groups.empty() &&
      std::find(f.groups.begin(), f.groups.end(), records.group(i)) == f.groups.end()) {
    return false;
  }
  if (!f.values.empty()) {
    const auto* v = records.has_value(i) ? records.value(i) : nullptr;
    if (v == nullptr) return false;
    if (std::none_of(f.values.begin(), f.values.end(),
                     [&](const std::string& t) { return value_matches(*v, t); })) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string url_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%' && i + 2 < text.size() && hex_digit(text[i + 1]) >= 0 &&
               hex_digit(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_digit(text[i + 1]) * 16 + hex_digit(text[i + 2]));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

std::string url_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || u == '-' ||
        u == '_' || u == '.' || u == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0xF];
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> decode_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> pairs;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (part.empty()) continue;
    const auto eq = part.find('=');
    pairs.emplace_back(url_decode(part.substr(0, eq)), eq == std::string_view::npos
                                                           ? std::string()
                                                           : url_decode(part.substr(eq + 1)));
  }
  return pairs;
}

QueryParams QueryParams::parse(std::string_view query) {
  QueryParams params;
  params.items_ = decode_query(query);
  for (auto& [key, value] : params.items_) {
    if (const auto bracket = key.find('['); bracket != std::string::npos && key.back() == ']') {
      key.resize(bracket);
    }
  }
  return params;
}

const std::string* QueryParams::first(std::string_view name) const {
  for (const auto& [k, v] : items_) {
    if (k == name) return &v;
  }
  return nullptr;
}

std::vector<std::string> QueryParams::all(std::initializer_list<std::string_view> names) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : items_) {
    if (std::find(names.begin(), names.end(), k) != names.end()) out.push_back(v);
  }
  return out;
}

std::optional<std::int64_t> parse_date(std::string_view text, std::int64_t now_ms) {
  if (auto ms = core::parse_iso8601(text)) return ms;
  // Relative: "N unit" (or "N units"), meaning N units before now.
  const auto space = text.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  std::int64_t n = 0;
  const std::string_view number = text.substr(0, space);
  auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), n);
  if (ec != std::errc() || ptr != number.data() + number.size() || n < 0) return std::nullopt;
  std::string unit = lower(text.substr(space + 1));
  if (unit.size() > 1 && unit.back() == 's') unit.pop_back();
  std::int64_t unit_ms = 0;
  if (unit == "second") unit_ms = 1000;
  if (unit == "minute") unit_ms = 60'000;
  if (unit == "hour") unit_ms = 3'600'000;
  if (unit == "day") unit_ms = 86'400'000;
  if (unit == "week") unit_ms = 7 * 86'400'000LL;
  if (unit == "month") unit_ms = 30 * 86'400'000LL;
  if (unit == "quarter") unit_ms = 91 * 86'400'000LL;
  if (unit == "year") unit_ms = 365 * 86'400'000LL;
  if (unit_ms == 0) return std::nullopt;
  return now_ms - n * unit_ms;
}

Result<DataFilter> parse_data_filter(const QueryParams& params, std::int64_t now_ms) {
  DataFilter f;
  for (auto& v : params.all({"variable", "variables"})) f.variables.push_back(lower(v));
  f.groups = params.all({"group", "groups", "serie", "series"});
  f.values = params.all({"value", "values"});
  for (const auto& id : params.all({"id", "ids"})) {
    f.has_ids = true;
    f.id_serials.push_back(serial_of_id(id));
  }
  if (const auto* q = params.first("query")) {
    f.query = lower(*q);
    if (f.query == "default") f.query.clear();
  }
  if (const auto* qty = params.first("qty")) {
    if (!parse_size(*qty, f.qty)) return Status::invalid_argument("qty must be a number");
    f.qty = std::min(f.qty, kMaxQty);
  }
  if (const auto* skip = params.first("skip")) {
    if (!parse_size(*skip, f.skip)) return Status::invalid_argument("skip must be a number");
  }
  if (const auto* ord = params.first("ordination")) {
    const std::string o = lower(*ord);
    if (o == "ascending" || o == "asc") {
      f.ascending = true;
    } else if (o != "descending" && o != "desc") {
      return Status::invalid_argument("ordination must be ascending or descending");
    }
  }
  for (const char* key : {"start_date", "end_date"}) {
    if (const auto* text = params.first(key)) {
      const auto ms = parse_date(*text, now_ms);
      if (!ms)
        return Status::invalid_argument(std::string(key) + " \"" + *text + "\" is not a date");
      (std::string_view(key) == "start_date" ? f.start_ms : f.end_ms) = *ms;
    }
  }
  if (const auto* details = params.first("details")) f.details = (*details == "true");
  return f;
}

Result<QueryResult> run_query(const RecordSet& records, const DataFilter& f) {
  std::vector<std::size_t> hits;
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (matches(records, i, f)) hits.push_back(i);
  }
  // Time order (stable: equal times keep arrival order).
  auto by_time = [&](std::size_t a, std::size_t b) {
    return records.time_ms(a) < records.time_ms(b);
  };
  QueryResult out;
  const std::string& q = f.query;
  if (q.empty()) {
    std::stable_sort(hits.begin(), hits.end(), by_time);
    if (!f.ascending) std::reverse(hits.begin(), hits.end());
    const std::size_t begin = std::min(f.skip, hits.size());
    const std::size_t end = std::min(hits.size(), begin + f.qty);
    out.indices.assign(hits.begin() + static_cast<std::ptrdiff_t>(begin),
                       hits.begin() + static_cast<std::ptrdiff_t>(end));
    return out;
  }
  if (q == "count") {
    out.number = static_cast<double>(hits.size());
    return out;
  }
  if (q == "avg" || q == "sum") {
    double sum = 0;
    std::size_t n = 0;
    for (auto i : hits) {
      if (const auto x = records.number(i)) {
        sum += *x;
        ++n;
      }
    }
    out.number = q == "sum" ? sum : (n == 0 ? 0.0 : sum / static_cast<double>(n));
    return out;
  }
  if (q == "min" || q == "max") {
    std::optional<std::size_t> best;
    double best_value = 0;
    for (auto i : hits) {
      const auto x = records.number(i);
      if (!x) continue;
      if (!best || (q == "min" ? *x <= best_value : *x >= best_value)) {
        best = i;
        best_value = *x;
      }
    }
    if (best) out.indices.push_back(*best);
    return out;
  }
  const bool last = q.starts_with("last_");
  const bool first = q.starts_with("first_");
  const std::string_view kind = std::string_view(q).substr(last ? 5 : first ? 6 : 0);
  if ((!last && !first) ||
      (kind != "item" && kind != "value" && kind != "location" && kind != "insert")) {
    return Status::invalid_argument("query \"" + q + "\" is not supported");
  }
  // One answer per requested variable, or one overall.
  std::vector<std::string> groups_of = f.variables;
  if (groups_of.empty()) groups_of.emplace_back();
  for (const auto& variable : groups_of) {
    std::optional<std::size_t> best;
    for (auto i : hits) {
      if (!variable.empty() && records.variable(i) != variable) continue;
      if (kind == "value" && !records.has_value(i)) continue;
      if (kind == "location" && !records.has_location(i)) continue;
      if (!best) {
        best = i;
        continue;
      }
      if (kind == "insert") {
        if (last) best = i;  // arrival order: the later index
      } else if (last ? records.time_ms(i) >= records.time_ms(*best)
                      : records.time_ms(i) < records.time_ms(*best)) {
        best = i;
      }
    }
    if (best && std::find(out.indices.begin(), out.indices.end(), *best) == out.indices.end()) {
      out.indices.push_back(*best);
    }
  }
  return out;
}

}  // namespace edgegw::device_api
