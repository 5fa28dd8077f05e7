// SPDX-License-Identifier: Apache-2.0
#include "history/local_api.h"

#include <cmath>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>

#include "core/time.h"
#include "device_api/query.h"
#include "device_api/record.h"
#include "history/history.h"

namespace edgegw::history {

namespace json = boost::json;

namespace {

// History entries as the shared query sees them (each entry's JSON parsed once).
class Entries final : public device_api::RecordSet {
 public:
  explicit Entries(std::vector<Entry> entries) : entries_(std::move(entries)) {
    items_.reserve(entries_.size());
    for (const Entry& e : entries_) {
      json::error_code ec;
      json::value v = json::parse(e.json, ec);
      items_.push_back(ec || !v.is_object() ? json::object() : std::move(v).as_object());
    }
  }
  std::size_t size() const override { return entries_.size(); }
  std::string_view variable(std::size_t i) const override { return entries_[i].variable; }
  std::int64_t time_ms(std::size_t i) const override { return entries_[i].time_ms; }
  std::uint64_t serial(std::size_t i) const override { return entries_[i].queue_seq; }
  bool has_value(std::size_t i) const override { return value(i) != nullptr; }
  bool has_location(std::size_t i) const override {
    return items_[i].if_contains("location") != nullptr;
  }
  std::optional<double> number(std::size_t i) const override {
    const json::value* v = value(i);
    if (v == nullptr) return std::nullopt;
    if (v->is_double()) return v->get_double();
    if (v->is_int64()) return static_cast<double>(v->get_int64());
    if (v->is_uint64()) return static_cast<double>(v->get_uint64());
    return std::nullopt;
  }
  std::string group(std::size_t i) const override {
    const json::value* g = items_[i].if_contains("group");
    return g != nullptr && g->is_string() ? std::string(g->get_string()) : std::string();
  }
  const json::value* value(std::size_t i) const override {
    const json::value* v = items_[i].if_contains("value");
    return v != nullptr && !v->is_null() ? v : nullptr;
  }
  const Entry& entry(std::size_t i) const { return entries_[i]; }
  const json::object& item(std::size_t i) const { return items_[i]; }

 private:
  std::vector<Entry> entries_;
  std::vector<json::object> items_;
};

struct Matched {
  device_api::DataFilter filter;
  std::optional<Entries> entries;
  device_api::QueryResult result;
};

Result<Matched> match(const buffer::Buffer& buffer, buffer::DeviceId device, std::string_view query,
                      std::int64_t now_ms) {
  const History* h = of(buffer);
  if (h == nullptr || !h->enabled()) {
    return Status::not_found(
        "the local history is disabled (buffer.history_per_variable: 0): nothing to query");
  }
  auto filter = device_api::parse_data_filter(device_api::QueryParams::parse(query), now_ms);
  if (!filter) return filter.status();
  auto entries = h->entries(device, filter->variables);
  if (!entries) return entries.status();
  Matched m;
  m.filter = std::move(filter).value();
  m.entries.emplace(std::move(entries).value());
  auto result = device_api::run_query(*m.entries, m.filter);
  if (!result) return result.status();
  m.result = std::move(result).value();
  return m;
}

}  // namespace

std::string device_id(buffer::DeviceId device) { return device_api::object_id(0, device); }

Result<std::string> query_json(const buffer::Buffer& buffer, buffer::DeviceId device,
                               std::string_view query, std::int64_t now_ms) {
  auto m = match(buffer, device, query, now_ms);
  if (!m) return m.status();
  if (m->result.number) {
    const double n = *m->result.number;
    if (std::trunc(n) == n && std::fabs(n) < 9e15) {
      return std::to_string(static_cast<std::int64_t>(n));
    }
    return device_api::json_text(json::value(n));
  }
  const std::string id = device_id(device);
  std::string out = "[";
  for (const std::size_t i : m->result.indices) {
    const Entry& e = m->entries->entry(i);
    const json::value* g = m->entries->item(i).if_contains("group");
    std::optional<std::string> group;
    if (g != nullptr && g->is_string()) group = std::string(g->get_string());
    device_api::RecordHeader header{device_api::object_id(e.stored_ms, e.queue_seq),
                                    id,
                                    e.variable,
                                    std::move(group),
                                    e.time_ms,
                                    e.stored_ms};
    if (out.size() > 1) out += ',';
    device_api::append_json_text(
        device_api::record_json(header, m->entries->item(i), m->filter.details), out);
  }
  out += ']';
  return out;
}

Result<std::uint64_t> delete_matching(buffer::Buffer& buffer, buffer::DeviceId device,
                                      std::string_view query, std::int64_t now_ms) {
  auto m = match(buffer, device, query, now_ms);
  if (!m) return m.status();
  if (m->result.number || m->result.indices.empty()) return std::uint64_t{0};
  std::vector<Entry> gone;
  std::vector<buffer::Seq> seqs;
  for (const std::size_t i : m->result.indices) {
    gone.push_back(m->entries->entry(i));
    seqs.push_back(gone.back().queue_seq);
  }
  // The history first: should the queue's removal fail, the readings are still forwarded (and
  // the answer is an error), and no history entry names a queue sequence that is gone (one
  // withdrawn at the tail may be reused after a restart).
  if (Status s = of(buffer)->remove(gone, false); !s) return s;
  if (auto w = buffer.withdraw(device, seqs); !w) return w.status();
  return static_cast<std::uint64_t>(gone.size());
}

std::string info_json(const buffer::Buffer& buffer, buffer::DeviceId device,
                      std::string_view device_key) {
  json::object o;
  o["id"] = device_id(device);
  o["name"] = device_key;
  o["active"] = true;
  o["visible"] = true;
  o["type"] = "mutable";
  const buffer::Buffer::Queued queued = buffer.queued(device);
  DeviceSummary summary;
  std::size_t per_variable = 0;
  if (const History* h = of(buffer); h != nullptr && h->enabled()) {
    summary = h->summary(device);
    per_variable = h->per_variable();
  }
  o["last_input"] = summary.last_input_ms != 0
                        ? json::value(core::format_iso8601_ms(summary.last_input_ms))
                        : json::value(nullptr);
  o["buffered_readings"] = queued.readings;
  o["buffered_bytes"] = queued.bytes;
  o["history_readings"] = summary.readings;
  o["history_per_variable"] = per_variable;
  return device_api::json_text(o);
}

}  // namespace edgegw::history
