// SPDX-License-Identifier: Apache-2.0
// The Device API's GET/DELETE /data filters (tagoio-api.md, "GET /data query params"): query
// strings, the filter they describe, and the query run over any set of records. Shared by the
// gateway's local history (the http source's GET /data) and the cloud emulator, so both answer a
// query the same way.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/value.hpp>

#include "edgegw/status.h"

namespace edgegw::device_api {

// Percent-decoding; '+' is a space.
std::string url_decode(std::string_view text);
// Percent-encoding of a query value or a path segment (RFC 3986's unreserved characters kept).
std::string url_encode(std::string_view text);
// The decoded (key, value) pairs of a query string, in order, keys as written ("a[0][b]").
std::vector<std::pair<std::string, std::string>> decode_query(std::string_view query);

// A decoded query string. Keys in the qs forms "name[]" and "name[3]" are filed under "name"
// (decode_query keeps them whole).
class QueryParams {
 public:
  static QueryParams parse(std::string_view query);
  // The first value of `name`, or nullptr.
  const std::string* first(std::string_view name) const;
  // Every value of any of `names`, in order of appearance.
  std::vector<std::string> all(std::initializer_list<std::string_view> names) const;
  const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

struct DataFilter {
  std::vector<std::string> variables;  // lower-cased
  std::vector<std::string> groups;
  std::vector<std::string> values;
  std::vector<std::uint64_t> id_serials;
  bool has_ids = false;
  std::optional<std::int64_t> start_ms;
  std::optional<std::int64_t> end_ms;
  std::string query;  // "" for a plain list
  std::size_t qty = 15;
  std::size_t skip = 0;
  bool ascending = false;
  bool details = false;
};

inline constexpr std::size_t kDefaultQty = 15;
inline constexpr std::size_t kMaxQty = 10000;

// Reads the filters; an invalid parameter is an invalid_argument naming it.
Result<DataFilter> parse_data_filter(const QueryParams& params, std::int64_t now_ms);

// "2024-01-01T00:00:00Z", "2014-12-25 23:33:22" or relative to now ("1 day", "30 minutes").
std::optional<std::int64_t> parse_date(std::string_view text, std::int64_t now_ms);

// What a query looks at in each record. The group and the value are asked for only when a filter
// names them (they may cost a parse).
class RecordSet {
 public:
  virtual ~RecordSet() = default;
  virtual std::size_t size() const = 0;
  virtual std::string_view variable(std::size_t i) const = 0;
  virtual std::int64_t time_ms(std::size_t i) const = 0;
  virtual std::uint64_t serial(std::size_t i) const = 0;  // the low part of its id
  virtual bool has_value(std::size_t i) const = 0;
  virtual bool has_location(std::size_t i) const = 0;
  virtual std::optional<double> number(std::size_t i) const = 0;  // the value, when a number
  virtual std::string group(std::size_t i) const = 0;
  virtual const boost::json::value* value(std::size_t i) const = 0;  // nullptr: none
};

struct QueryResult {
  std::optional<double> number;      // count, avg, sum
  std::vector<std::size_t> indices;  // records, in answer order
};

// Records are in arrival order (which last_insert/first_insert follow).
Result<QueryResult> run_query(const RecordSet& records, const DataFilter& filter);

}  // namespace edgegw::device_api
