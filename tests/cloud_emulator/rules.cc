#include "rules.h"

#include <boost/json/object.hpp>

namespace edgegw::cloud_emulator {

namespace {

std::optional<double> as_number(const boost::json::value& v) {
  if (v.is_double()) return v.get_double();
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  return std::nullopt;
}

}  // namespace

std::size_t count_chars(std::string_view text) noexcept {
  std::size_t n = 0;
  for (char c : text) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

std::optional<LngLat> parse_location(const boost::json::value& location) {
  if (!location.is_object()) return std::nullopt;
  const auto& o = location.get_object();
  const auto* lat = o.if_contains("lat");
  const auto* lng = o.if_contains("lng");
  if (lat != nullptr && lng != nullptr) {
    const auto la = as_number(*lat);
    const auto ln = as_number(*lng);
    if (la && ln) return LngLat{*ln, *la};
    return std::nullopt;
  }
  const auto* type = o.if_contains("type");
  const auto* coordinates = o.if_contains("coordinates");
  if (type != nullptr && type->is_string() && type->get_string() == "Point" &&
      coordinates != nullptr && coordinates->is_array() && coordinates->get_array().size() == 2) {
    const auto ln = as_number(coordinates->get_array()[0]);
    const auto la = as_number(coordinates->get_array()[1]);
    if (la && ln) return LngLat{*ln, *la};
  }
  return std::nullopt;
}

}  // namespace edgegw::cloud_emulator
