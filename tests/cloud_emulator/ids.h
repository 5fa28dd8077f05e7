// SPDX-License-Identifier: Apache-2.0
// Fresh identifiers as the cloud makes them, from OpenSSL's CSPRNG: device tokens (UUID v4) and
// resource ids (24-hex ObjectIds).
#pragma once

#include <cstdint>
#include <string>

namespace edgegw::cloud_emulator {

// "1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b": 36 characters, version 4, RFC 4122 variant.
std::string uuid_v4();

// 24 hex: 8 of the creation time's seconds, 16 random (device_api::object_id).
std::string random_object_id(std::int64_t created_ms);

}  // namespace edgegw::cloud_emulator
