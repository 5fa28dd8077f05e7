// SPDX-License-Identifier: Apache-2.0
// Fuzzes the modbus plugin's config parser, request planner and value decoder: the input is the
// JSON text of a source's `config:`. Invariants: no crash; a refused config is an
// EDGEGW_ERR_INVALID_ARGUMENT error naming a key ("KEY: ..."); an accepted one plans requests
// within the protocol's limits (125 registers, 2000 bits) that cover each point exactly once, and
// every point decodes from any registers to non-empty JSON text.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config.h"
#include "edgegw/plugin_sdk.h"
#include "fuzz_check.h"
#include "plan.h"
#include "value.h"

using edgegw::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace edgegw::plugins::modbus;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  Config c;
  try {
    c = parse_config(text);
  } catch (const edgegw::sdk::Error& e) {
    check(e.code() == EDGEGW_ERR_INVALID_ARGUMENT, "a config error with another code");
    const std::string what = e.what();
    check(what.find(": ") != std::string::npos && what.find(": ") > 0, "an error without its key");
    return 0;
  }
  check(!c.units.empty(), "accepted without units");
  std::vector<std::uint16_t> regs(kMaxReadRegisters);
  for (std::size_t i = 0; i < regs.size(); ++i) {
    regs[i] = static_cast<std::uint16_t>(size > 0 ? data[i % size] * 257u + i : i);
  }
  for (const Unit& u : c.units) {
    check(!u.groups.empty(), "a unit without groups");
    for (const Group& g : u.groups) {
      const std::vector<Request> requests = plan_requests(g.points, c.max_gap);
      std::vector<int> seen(g.points.size(), 0);
      for (const Request& r : requests) {
        const bool bits = is_bit_kind(r.kind);
        check(r.count >= 1 && r.count <= (bits ? kMaxReadBits : kMaxReadRegisters),
              "a request beyond the protocol's limit");
        check(std::uint32_t{r.address} + r.count <= 65536u, "a request past address 65535");
        for (const Request::Member& m : r.members) {
          const Point& p = g.points.at(m.point);
          ++seen.at(m.point);
          check(p.kind == r.kind, "a point in a request of another table");
          check(m.offset + p.count <= r.count, "a point outside its request");
          check(r.address + m.offset == p.address, "a point at the wrong offset");
          std::string out;
          double number = 0;
          if (append_value(p, regs.data() + (m.offset % 4), (data[0] & 1) != 0, out, &number)) {
            check(!out.empty(), "an empty value");
          }
        }
      }
      for (const int n : seen) check(n == 1, "a point not read exactly once");
    }
  }
  return 0;
}
