// SPDX-License-Identifier: Apache-2.0
// The host's side of the local Device API (ABI 1.2 edgegw_device_api): GET /data and DELETE /data
// over the local history, and GET /info, with the cloud's filters and answer shapes
// (device_api/query.h, device_api/record.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "buffer/buffer.h"
#include "edgegw/status.h"

namespace edgegw::history {

// The device's id in answers: 24 hex digits, like the cloud's ids.
std::string device_id(buffer::DeviceId device);

// GET /data?<query>: the JSON text of the answer's `result` (an array of records, or a number for
// count/avg/sum). invalid_argument: a bad filter; not_found: the history is disabled.
Result<std::string> query_json(const buffer::Buffer& buffer, buffer::DeviceId device,
                               std::string_view query, std::int64_t now_ms);

// DELETE /data?<query>: removes the matching readings from the history and, those still queued,
// from the buffer; returns how many readings matched and were removed.
Result<std::uint64_t> delete_matching(buffer::Buffer& buffer, buffer::DeviceId device,
                                      std::string_view query, std::int64_t now_ms);

// GET /info: {id, name, active, type, last_input, buffered_readings, buffered_bytes,
// history_readings, history_per_variable}.
std::string info_json(const buffer::Buffer& buffer, buffer::DeviceId device,
                      std::string_view device_key);

}  // namespace edgegw::history
