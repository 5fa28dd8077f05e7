// SPDX-License-Identifier: Apache-2.0
// Fuzzes the Device API's query strings (GET/DELETE /data from the network, in the http source's
// local API and the cloud emulator): the input is the query string. Invariants: no crash;
// percent-decoding never grows the text; a parsed filter keeps qty within kMaxQty; a query over a
// fixed set of records answers with distinct indices of that set, and a plain list is at most qty
// records in time order.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "device_api/query.h"
#include "fuzz_check.h"

namespace {

using edgegw::fuzz::check;
namespace api = edgegw::device_api;

struct Record {
  std::string variable;
  std::int64_t time_ms;
  std::optional<double> number;
  std::string group;
  bool location;
  boost::json::value value;
};

class Records final : public api::RecordSet {
 public:
  Records() {
    rows_.push_back({"temperature", 1'700'000'000'000, 21.5, "g1", false, 21.5});
    rows_.push_back({"temperature", 1'700'000'060'000, -3, "g1", true, -3});
    rows_.push_back({"humidity", 1'700'000'000'000, 40, "g2", false, 40});
    rows_.push_back({"status", 1'699'000'000'000, std::nullopt, "", false, "on"});
    rows_.push_back({"status", 1'700'000'120'000, std::nullopt, "g2", true, nullptr});
    rows_.push_back({"x", 0, 1e300, "g3", false, 1e300});
  }
  std::size_t size() const override { return rows_.size(); }
  std::string_view variable(std::size_t i) const override { return rows_[i].variable; }
  std::int64_t time_ms(std::size_t i) const override { return rows_[i].time_ms; }
  std::uint64_t serial(std::size_t i) const override { return i + 1; }
  bool has_value(std::size_t i) const override { return !rows_[i].value.is_null(); }
  bool has_location(std::size_t i) const override { return rows_[i].location; }
  std::optional<double> number(std::size_t i) const override { return rows_[i].number; }
  std::string group(std::size_t i) const override { return rows_[i].group; }
  const boost::json::value* value(std::size_t i) const override {
    return rows_[i].value.is_null() ? nullptr : &rows_[i].value;
  }

 private:
  std::vector<Record> rows_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view query(reinterpret_cast<const char*>(data), size);
  constexpr std::int64_t kNow = 1'700'000'100'000;
  check(api::url_decode(query).size() <= query.size(), "percent-decoding grew the text");
  (void)api::parse_date(query, kNow);

  const api::QueryParams params = api::QueryParams::parse(query);
  for (const auto& [key, value] : params.items()) {
    check(key.size() + value.size() <= query.size(), "a parameter longer than the query");
  }
  const auto filter = api::parse_data_filter(params, kNow);
  if (!filter.is_ok()) {
    check(!filter.status().message().empty(), "refused without a reason");
    return 0;
  }
  const api::DataFilter& f = filter.value();
  check(f.qty <= api::kMaxQty, "qty over kMaxQty");

  static const Records records;
  const auto result = api::run_query(records, f);
  if (!result.is_ok()) return 0;
  const std::vector<std::size_t>& indices = result.value().indices;
  for (std::size_t k = 0; k < indices.size(); ++k) {
    check(indices[k] < records.size(), "an index outside the records");
    for (std::size_t j = 0; j < k; ++j) check(indices[j] != indices[k], "an index twice");
  }
  if (f.query.empty()) {
    check(indices.size() <= f.qty, "more records than qty");
    for (std::size_t k = 1; k < indices.size(); ++k) {
      const std::int64_t a = records.time_ms(indices[k - 1]);
      const std::int64_t b = records.time_ms(indices[k]);
      check(f.ascending ? a <= b : a >= b, "a list out of time order");
    }
  } else if (f.query == "count") {
    check(result.value().number && *result.value().number <= static_cast<double>(records.size()),
          "a count over the records");
  }
  return 0;
}
