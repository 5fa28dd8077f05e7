// Query strings and the GET/DELETE /data filters (tagoio-api.md, "GET /data query params").
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "edgegw/status.h"
#include "store.h"

namespace edgegw::cloud_emulator {

// Percent-decoding; '+' is a space.
std::string url_decode(std::string_view text);

// A decoded query string. Keys in the qs forms "name[]" and "name[3]" are filed under "name".
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

struct QueryResult {
  std::optional<double> number;      // count, avg, sum
  std::vector<std::size_t> indices;  // records, in answer order
};

// The item a record was sent as (for filters on `value`), or nullptr.
using ItemLookup = std::function<const boost::json::object*(const Record&)>;

Result<QueryResult> run_query(const std::deque<Record>& records, const DataFilter& filter,
                              const ItemLookup& item_of);

}  // namespace edgegw::cloud_emulator
