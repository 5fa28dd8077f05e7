// SPDX-License-Identifier: Apache-2.0
// The payload formats a source can be configured with (`format:`): a leaf header, so the config's
// structs name a format without pulling in the decoders.
#pragma once

#include <optional>
#include <string_view>

namespace edgegw::decode {

enum class Format { kTagoJson, kFlatJson, kCsv, kRaw };

std::optional<Format> parse_format(std::string_view name) noexcept;  // "tago_json", ...
std::string_view format_name(Format format) noexcept;

}  // namespace edgegw::decode
