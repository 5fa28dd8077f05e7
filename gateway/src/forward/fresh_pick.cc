// SPDX-License-Identifier: Apache-2.0
#include "forward/fresh_pick.h"

#include <algorithm>
#include <unordered_set>
#include <vector>

#include <boost/json/parse.hpp>

namespace edgegw::forward {

std::optional<std::string> variable_of(std::string_view json) {
  // The gateway's own encoding starts with the variable (decode::append_cloud_json): read it
  // without a parse unless it holds an escape.
  constexpr std::string_view kPrefix = R"({"variable":")";
  if (json.starts_with(kPrefix)) {
    const std::size_t end = json.find_first_of("\"\\", kPrefix.size());
    if (end != std::string_view::npos && json[end] == '"') {
      return std::string(json.substr(kPrefix.size(), end - kPrefix.size()));
    }
  }
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(json, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto* variable = v.get_object().if_contains("variable");
  if (variable == nullptr || !variable->is_string()) return std::nullopt;
  return std::string(variable->get_string());
}

Result<FreshPick> newest_per_variable(const buffer::Buffer& buffer, buffer::DeviceId device,
                                      buffer::Seq last, std::size_t max_scan,
                                      std::size_t max_readings, std::size_t max_bytes) {
  struct Picked {
    buffer::Seq seq;
    std::uint64_t cum_bytes;
    std::string json;
    std::uint32_t stored_size;
  };
  std::vector<Picked> picked;
  std::unordered_set<std::string> seen;
  std::size_t bytes = 2;  // the brackets
  FreshPick pick;
  Status s = buffer.visit_back(device, last, max_scan, [&](const buffer::Buffer::Stored& r) {
    if (pick.newest_seen == 0) pick.newest_seen = r.seq;
    auto variable = variable_of(r.json);
    if (!variable || !seen.insert(std::move(*variable)).second) return true;
    if (!picked.empty() && bytes + 1 + r.json.size() > max_bytes) return false;
    bytes += r.json.size() + (picked.empty() ? 0 : 1);
    picked.push_back({r.seq, r.cum_bytes, std::string(r.json), r.stored_size});
    return picked.size() < max_readings;
  });
  if (!s) return s;
  buffer::Batch& batch = pick.batch;
  batch.device = device;
  if (picked.empty()) return pick;
  std::reverse(picked.begin(), picked.end());  // queue order
  batch.body.reserve(bytes);
  batch.body += '[';
  for (const Picked& p : picked) {
    if (!batch.empty()) batch.body += ',';
    batch.entries.push_back({p.seq, static_cast<std::uint32_t>(batch.body.size()),
                             static_cast<std::uint32_t>(p.json.size()), p.cum_bytes,
                             p.stored_size});
    batch.body += p.json;
  }
  batch.body += ']';
  return pick;
}

}  // namespace edgegw::forward
