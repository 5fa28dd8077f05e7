// SPDX-License-Identifier: Apache-2.0
#include "plan.h"

#include <algorithm>
#include <numeric>

namespace edgegw::plugins::modbus {

std::vector<Request> plan_requests(const std::vector<Point>& points, std::uint16_t max_gap) {
  std::vector<std::uint16_t> order(points.size());
  std::iota(order.begin(), order.end(), std::uint16_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::uint16_t a, std::uint16_t b) {
    const Point& pa = points[a];
    const Point& pb = points[b];
    if (pa.kind != pb.kind) return pa.kind < pb.kind;
    return pa.address < pb.address;
  });

  std::vector<Request> requests;
  std::uint32_t end = 0;  // one past the last register (bit) of the current request
  for (const std::uint16_t i : order) {
    const Point& p = points[i];
    const bool bits = is_bit_kind(p.kind);
    const std::uint32_t limit = bits ? kMaxReadBits : kMaxReadRegisters;
    const std::uint32_t gap = bits ? 16u * max_gap : max_gap;
    const std::uint32_t p_end = std::uint32_t{p.address} + p.count;
    bool joins = false;
    if (!requests.empty()) {
      const Request& r = requests.back();
      joins =
          r.kind == p.kind && p.address <= end + gap && std::max(end, p_end) - r.address <= limit;
    }
    if (!joins) {
      Request r;
      r.kind = p.kind;
      r.address = p.address;
      requests.push_back(std::move(r));
      end = p.address;
    }
    Request& r = requests.back();
    end = std::max(end, p_end);
    r.count = static_cast<std::uint16_t>(end - r.address);
    r.members.push_back({i, static_cast<std::uint16_t>(p.address - r.address)});
  }
  return requests;
}

std::string describe(const Request& r) {
  std::string s(kind_name(r.kind));
  s += ' ';
  s += std::to_string(r.address);
  if (r.count > 1) s += "-" + std::to_string(r.address + r.count - 1);
  return s;
}

std::string describe(const std::vector<Request>& requests, std::size_t points) {
  std::string s =
      std::to_string(points) + " point(s) in " + std::to_string(requests.size()) + " request(s): ";
  for (std::size_t i = 0; i < requests.size(); ++i) {
    if (i > 0) s += ", ";
    s += describe(requests[i]);
  }
  return s;
}

}  // namespace edgegw::plugins::modbus
