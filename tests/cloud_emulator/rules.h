// SPDX-License-Identifier: Apache-2.0
// The cloud's limits for one data item (tagoio-api.md, "Data-item fields" and "Limits"). They are
// checked by body_scan.cc, the way the cloud refuses a request: any broken rule refuses it whole.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include <boost/json/value.hpp>

#include "device_api/record.h"

namespace edgegw::cloud_emulator {

inline constexpr std::size_t kMaxVariableChars = 100;
inline constexpr std::size_t kMaxUnitChars = 25;
inline constexpr std::size_t kMaxGroupChars = 100;
inline constexpr std::size_t kMaxValueBytes = 6 * 1024;
inline constexpr std::size_t kMaxMetadataBytes = 10 * 1024;
inline constexpr std::string_view kForbiddenVariableChars = "*?!<>.-=$ ";

// Unicode code points in UTF-8 text (what the cloud's "chars" limits count).
std::size_t count_chars(std::string_view text) noexcept;

using device_api::LngLat;
using device_api::parse_location;

}  // namespace edgegw::cloud_emulator
