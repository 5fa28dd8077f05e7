// SPDX-License-Identifier: Apache-2.0
// The invariants of a decode, for the fuzz targets and tests (header-only: not in the daemon).
#pragma once

#include <boost/json/parse.hpp>
#include <optional>
#include <string>

#include "decode/decoder.h"
#include "decode/encode.h"
#include "decode/validate.h"

namespace edgegw::decode {

// What is broken in `out`, or nullopt: a rejection keeps no reading and says why; every reading
// passes normalize() unchanged; its cloud JSON parses and decodes back (tago_json) to it.
inline std::optional<std::string> check_decode_output(const DecodeOutput& out) {
  if (out.payload_rejected && (!out.readings.empty() || out.invalid != 0)) {
    return "a rejected payload kept readings";
  }
  if ((out.payload_rejected || out.invalid > 0) && out.first_error.empty()) {
    return "a problem without a first_error";
  }
  if (out.first_error.size() > 400) return "first_error is too long: " + out.first_error;
  if (!is_valid_utf8(out.first_error)) return "first_error is not UTF-8";
  for (const Reading& r : out.readings) {
    Reading again = r;
    if (auto problem = normalize(again)) return "a kept reading fails normalize(): " + *problem;
    if (!(again == r)) return "normalize() changed a kept reading";
    const std::string json = to_cloud_json(r);
    boost::json::error_code ec;
    boost::json::parse_options opt;
    opt.max_depth = 64;
    (void)boost::json::parse(json, ec, {}, opt);
    if (ec) return "the cloud JSON does not parse: " + json;
    DecodeOutput back;
    decode(Format::kTagoJson, RawMessage{"check", "", "", json, 0}, back);
    if (back.payload_rejected || back.invalid != 0 || back.readings.size() != 1) {
      return "the cloud JSON does not decode: " + json + ": " + back.first_error;
    }
    if (!(back.readings[0] == r)) return "the cloud JSON decodes to another reading: " + json;
  }
  return std::nullopt;
}

}  // namespace edgegw::decode
