// SPDX-License-Identifier: Apache-2.0
// The buffer key of the catch-all device of `unmapped: {default: ...}`: a leaf header, for the
// mapping that uses it and the metrics that label it.
#pragma once

#include <string_view>

namespace edgegw::ingest {

// Configured keys may not hold control characters, so this one cannot collide with any of them.
inline constexpr std::string_view kUnmappedDeviceKey = "\x01unmapped";

}  // namespace edgegw::ingest
