// SPDX-License-Identifier: Apache-2.0
#include "decode/decoder.h"

#include <exception>
#include <new>

#include "decode/internal.h"

namespace edgegw::decode {

namespace {

constexpr std::string_view kFormatNames[] = {"tago_json", "flat_json", "csv", "raw"};

// The payload is refused as a whole: nothing it produced is kept.
void reject(DecodeOutput& out, std::size_t first_reading, std::size_t invalid_before,
            std::string_view message, std::string_view detail = {}) noexcept {
  out.readings.erase(out.readings.begin() + static_cast<std::ptrdiff_t>(first_reading),
                     out.readings.end());
  out.invalid = invalid_before;
  out.payload_rejected = true;
  try {
    if (out.first_error.empty()) out.first_error.append(message).append(detail);
  } catch (...) {  // no memory even for the message: the flag still says it
  }
}

}  // namespace

std::optional<Format> parse_format(std::string_view name) noexcept {
  for (std::size_t i = 0; i < std::size(kFormatNames); ++i) {
    if (kFormatNames[i] == name) return static_cast<Format>(i);
  }
  return std::nullopt;
}

std::string_view format_name(Format format) noexcept {
  const auto i = static_cast<std::size_t>(format);
  return i < std::size(kFormatNames) ? kFormatNames[i] : std::string_view("unknown");
}

void decode(Format format, const RawMessage& msg, DecodeOutput& out) noexcept {
  const std::size_t first_reading = out.readings.size();
  const std::size_t invalid_before = out.invalid;
  try {
    if (msg.payload.empty()) return reject(out, first_reading, invalid_before, "empty payload");
    if (msg.payload.size() > kMaxPayloadBytes) {
      return reject(out, first_reading, invalid_before,
                    "payload of " + std::to_string(msg.payload.size()) +
                        " bytes is over the limit of " + std::to_string(kMaxPayloadBytes));
    }
    if (const std::size_t bad = internal::first_invalid_utf8(msg.payload);
        bad != std::string_view::npos) {
      return reject(out, first_reading, invalid_before,
                    "payload is not valid UTF-8 (at byte " + std::to_string(bad) + ")");
    }
    switch (format) {
      case Format::kTagoJson:
        decode_tago_json(msg, out);
        break;
      case Format::kFlatJson:
        decode_flat_json(msg, out);
        break;
      case Format::kCsv:
        decode_csv(msg, out);
        break;
      case Format::kRaw:
        decode_raw(msg, out);
        break;
      default:
        return reject(out, first_reading, invalid_before, "unknown format");
    }
    if (out.payload_rejected) {
      out.readings.erase(out.readings.begin() + static_cast<std::ptrdiff_t>(first_reading),
                         out.readings.end());
      out.invalid = invalid_before;
    }
  } catch (const std::bad_alloc&) {
    reject(out, first_reading, invalid_before, "out of memory while decoding");
  } catch (const std::exception& e) {
    reject(out, first_reading, invalid_before, "decoding failed: ", e.what());
  } catch (...) {
    reject(out, first_reading, invalid_before, "decoding failed");
  }
}

void decode(const TypedMessage& msg, DecodeOutput& out) noexcept {
  const std::size_t first_reading = out.readings.size();
  const std::size_t invalid_before = out.invalid;
  try {
    check_typed(msg, out);
  } catch (const std::bad_alloc&) {
    reject(out, first_reading, invalid_before, "out of memory while checking readings");
  } catch (...) {
    reject(out, first_reading, invalid_before, "checking readings failed");
  }
}

}  // namespace edgegw::decode
