// SPDX-License-Identifier: Apache-2.0
// A device of the profile as the Account API describes it (tagoio-api.md sections 1, 3 "GET /info
// result" and 7), and GET /device's query over such devices: the SDK's qs form
// (filter[tags][0][key]=..., fields[0]=..., page, amount, orderBy=name,asc), URL-encoded or not.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "edgegw/status.h"

namespace edgegw::cloud_emulator {

struct Tag {
  std::string key;
  std::string value;
};

struct ProfileDevice {
  std::string id;
  std::string bucket_id;
  std::string name;
  std::string type = "mutable";  // or "immutable", with chunk_period and chunk_retention
  std::optional<std::string> chunk_period;
  std::optional<std::int64_t> chunk_retention;
  std::string connector = "5f5a8f3351d4db99c40dece5";
  std::string network = "5bbd0d144051a50034cd19fb";
  std::optional<std::string> serie_number;
  std::optional<std::string> description;
  bool active = true;
  bool visible = true;
  std::vector<Tag> tags;
  std::int64_t created_ms = 0;
  std::int64_t updated_ms = 0;
  bool provisioned = false;  // made by POST /device (not by --device or the control API)
  std::uint64_t order = 0;   // creation order: ties in sorting keep it
};

// The device object of GET /device/{id}, GET /device and GET /info: id, name, profile, active,
// visible, type, connector, network, last_input, last_output, created_at, updated_at,
// payload_decoder, tags, bucket {id,name}, rpm; serie_number and description when set;
// chunk_period and chunk_retention for an immutable device. last_input_ms 0: null.
boost::json::object device_object(const ProfileDevice& device, std::string_view profile_id,
                                  std::int64_t last_input_ms);

struct TagFilter {
  std::optional<std::string> key;  // nullopt: any key
  std::optional<std::string> value;
};

inline constexpr std::size_t kDefaultAmount = 20;
inline constexpr std::size_t kMaxAmount = 10000;

struct DeviceListQuery {
  std::vector<TagFilter> tags;      // a device matches when it has a tag matching each
  std::optional<std::string> name;  // '*' matches any run of characters
  std::vector<std::string> ids;     // filter[id], one or several
  std::optional<bool> active;
  std::optional<std::string> type;
  std::optional<std::string> connector;
  std::optional<std::string> network;
  std::optional<std::string> serie_number;
  std::vector<std::string> fields;  // empty: the whole object; "id" is always given
  std::size_t page = 1;             // 1-based
  std::size_t amount = kDefaultAmount;
  std::string order_field = "name";
  bool descending = false;
};

// Reads the query string of GET /device; an invalid page, amount or orderBy is an
// invalid_argument naming it. Unknown parameters are ignored (resolveBucketName, ...).
Result<DeviceListQuery> parse_device_list_query(std::string_view query);

// Whether `device` passes every filter of `query`.
bool device_matches(const DeviceListQuery& query, const ProfileDevice& device);

// Orders `devices` by the query's orderBy (ties by creation order, in the same direction) and
// returns its page.
std::vector<const ProfileDevice*> order_and_page(std::vector<const ProfileDevice*> devices,
                                                 const DeviceListQuery& query);

// `pattern` against `text`, where '*' matches any run of characters (and nothing else is special).
bool wildcard_match(std::string_view pattern, std::string_view text);

}  // namespace edgegw::cloud_emulator
