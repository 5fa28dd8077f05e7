// SPDX-License-Identifier: Apache-2.0
// A reading -> the cloud's JSON data item: {"variable","value","unit","time","group","location",
// "metadata"}, absent fields omitted, time as ISO 8601 UTC with milliseconds, location and metadata
// as given. The buffer stores this form, or a plain reading's values, which it reads back as this
// same form (buffer/values.h): a batch is a concatenation.
#pragma once

#include <string>

#include "core/json_text.h"
#include "edgegw/reading.h"

namespace edgegw::decode {

void append_cloud_json(const Reading& reading, std::string& out);
std::string to_cloud_json(const Reading& reading);
// The value, borrowed (a text's view into it).
core::ValueView value_view(const Value& value) noexcept;

}  // namespace edgegw::decode
