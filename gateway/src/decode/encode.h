// SPDX-License-Identifier: Apache-2.0
// A reading -> the cloud's JSON data item: {"variable","value","unit","time","group","location",
// "metadata"}, absent fields omitted, time as ISO 8601 UTC with milliseconds, location and metadata
// as given. The buffer stores this form, so a batch is a concatenation.
#pragma once

#include <string>

#include "edgegw/reading.h"

namespace edgegw::decode {

void append_cloud_json(const Reading& reading, std::string& out);
std::string to_cloud_json(const Reading& reading);

}  // namespace edgegw::decode
