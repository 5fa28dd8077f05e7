// SPDX-License-Identifier: Apache-2.0
#include "body_scan.h"

#include <boost/json/basic_parser_impl.hpp>
#include <cmath>
#include <limits>

#include "core/time.h"
#include "rules.h"

namespace edgegw::cloud_emulator {

namespace {

namespace json = boost::json;

enum class Field : std::uint8_t {
  kOther,
  kVariable,
  kValue,
  kUnit,
  kTime,
  kGroup,
  kSerie,
  kLocation,
  kMetadata
};

Field field_of(std::string_view key) {
  switch (key.size()) {
    case 4:
      if (key == "unit") return Field::kUnit;
      if (key == "time") return Field::kTime;
      break;
    case 5:
      if (key == "value") return Field::kValue;
      if (key == "group") return Field::kGroup;
      if (key == "serie") return Field::kSerie;
      break;
    case 8:
      if (key == "variable") return Field::kVariable;
      if (key == "location") return Field::kLocation;
      if (key == "metadata") return Field::kMetadata;
      break;
    default:
      break;
  }
  return Field::kOther;
}

enum class LocationKey : std::uint8_t { kOther, kLat, kLng, kType, kCoordinates };

// Characters of `s` as a JSON string body (escapes included, quotes not).
std::size_t escaped_size(std::string_view s) {
  std::size_t n = s.size();
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u == '"' || u == '\\') {
      n += 1;
    } else if (u < 0x20) {
      n += (c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t') ? 1 : 5;
    }
  }
  return n;
}

std::string quote(std::string_view s) {
  constexpr std::size_t kShown = 40;
  std::string out = "\"";
  out.append(s.substr(0, kShown));
  if (s.size() > kShown) out += "...";
  out += '"';
  return out;
}

constexpr std::string_view kNotAnObjectOrArray =
    "The body must be a data item or an array of data items";
constexpr std::string_view kLocationRule =
    "location must be {\"lat\":n,\"lng\":n} or a GeoJSON Point "
    "{\"type\":\"Point\",\"coordinates\":[lng,lat]}";

}  // namespace

struct BodyScanner::Handler {
  static constexpr std::size_t max_object_size = std::numeric_limits<std::size_t>::max();
  static constexpr std::size_t max_array_size = std::numeric_limits<std::size_t>::max();
  static constexpr std::size_t max_key_size = std::numeric_limits<std::size_t>::max();
  static constexpr std::size_t max_string_size = std::numeric_limits<std::size_t>::max();

  std::vector<ScannedItem> items;
  std::int64_t now_ms = 0;
  std::string problem;  // the complete 400 message once the scan failed

  int depth = 0;       // containers open
  int item_depth = 0;  // depth of an item's fields: 1 (a lone object) or 2 (in an array)
  bool in_item = false;
  std::string scratch;  // a key or string given in parts
  std::size_t number_part_size = 0;

  // The current item.
  Field field = Field::kOther;
  bool variable_seen = false;
  bool group_given = false;  // `group` wins over `serie`
  std::string p_variable, p_value, p_unit, p_group, p_location, p_metadata, p_time;
  int location_depth = 0;  // depth of the location object's members (0: not inside)
  int coordinates_depth = 0;
  LocationKey location_key = LocationKey::kOther;
  std::optional<double> lat, lng;
  bool point = false;
  int coordinates = 0;
  bool location_bad = false;
  int metadata_depth = 0;  // depth of the metadata object's members (0: not inside)
  std::size_t metadata_size = 0;
  bool seq_key = false;

  std::size_t index() const { return items.size() - 1; }

  bool fail(json::error_code& ec, std::string message) {
    problem = std::move(message);
    ec = json::error::syntax;
    return false;
  }
  bool fail_item(json::error_code& ec, std::string_view what, std::size_t i) {
    return fail(ec, "Invalid data item at index " + std::to_string(i) + ": " + std::string(what));
  }
  // A scalar or array outside any item: the body or an array element is not an object.
  bool not_an_item(json::error_code& ec) {
    if (depth == 0) return fail(ec, std::string(kNotAnObjectOrArray));
    return fail_item(ec, "a data item must be a JSON object", items.size());
  }
  bool in_metadata() const { return metadata_depth != 0 && depth >= metadata_depth; }
  bool in_location() const { return location_depth != 0 && depth >= location_depth; }

  void begin_item() {
    ScannedItem& item = items.emplace_back();
    item.time_ms = now_ms;
    in_item = true;
    field = Field::kOther;
    variable_seen = group_given = false;
    p_variable.clear();
    p_value.clear();
    p_unit.clear();
    p_group.clear();
    p_location.clear();
    p_metadata.clear();
    p_time.clear();
    location_depth = coordinates_depth = metadata_depth = 0;
    seq_key = false;
  }

  // A value of the wrong kind for the current field (an object, array, bool or number where
  // the field needs something else). `what` names the kind for value/time.
  void wrong_kind() {
    switch (field) {
      case Field::kVariable:
        variable_seen = true;
        if (p_variable.empty()) p_variable = "variable must be a string";
        break;
      case Field::kValue:
        if (p_value.empty()) p_value = "value must be a string, a number or a boolean";
        break;
      case Field::kUnit:
        if (p_unit.empty()) p_unit = "unit must be a string";
        break;
      case Field::kGroup:
      case Field::kSerie:
        if (p_group.empty()) p_group = "group must be a string";
        break;
      case Field::kTime:
        if (p_time.empty()) p_time = "time must be an ISO 8601 string or a Unix timestamp";
        break;
      case Field::kLocation:
        if (p_location.empty()) p_location = std::string(kLocationRule);
        break;
      case Field::kMetadata:
        if (p_metadata.empty()) p_metadata = "metadata must be a JSON object";
        break;
      case Field::kOther:
        break;
    }
  }

  bool end_item(json::error_code& ec) {
    ScannedItem& item = items.back();
    in_item = false;
    if (p_variable.empty()) {
      std::string& name = item.variable;
      if (!variable_seen) {
        p_variable = "variable is required";
      } else if (name.empty()) {
        p_variable = "variable is required (it is empty)";
      } else {
        for (char& c : name) {
          if (kForbiddenVariableChars.find(c) != std::string_view::npos) {
            p_variable = "variable " + quote(name) + " holds " +
                         (c == ' ' ? std::string("a space") : "'" + std::string(1, c) + "'") +
                         " (not allowed: *?!<>.-=$ and spaces)";
            break;
          }
          if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        }
        if (const auto chars = count_chars(name); p_variable.empty() && chars > kMaxVariableChars) {
          p_variable = "variable " + quote(name) + " is " + std::to_string(chars) +
                       " characters (the limit is " + std::to_string(kMaxVariableChars) + ")";
        }
      }
    }
    for (const std::string* p :
         {&p_variable, &p_value, &p_unit, &p_group, &p_location, &p_metadata, &p_time}) {
      if (!p->empty()) return fail_item(ec, *p, index());
    }
    return true;
  }

  // ---- SAX events ----

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }

  bool on_object_begin(json::error_code&) {
    if (depth == 0) {
      item_depth = 1;
      begin_item();
    } else if (!in_item) {
      begin_item();  // an element of the top array
    } else if (depth == item_depth) {
      if (field == Field::kLocation) {
        location_depth = depth + 1;
        location_key = LocationKey::kOther;
        lat.reset();
        lng.reset();
        point = location_bad = false;
        coordinates = 0;
      } else if (field == Field::kMetadata) {
        metadata_depth = depth + 1;
        metadata_size = 1;
      } else {
        wrong_kind();
      }
    } else if (in_metadata()) {
      metadata_size += 1;
    } else if (in_location()) {
      location_value_of_wrong_kind();
    }
    ++depth;
    return true;
  }

  // A location member of a kind its key does not allow (unknown keys are ignored).
  void location_value_of_wrong_kind() {
    if ((depth == location_depth && location_key != LocationKey::kOther) ||
        (coordinates_depth != 0 && depth == coordinates_depth)) {
      location_bad = true;
    }
  }

  bool on_object_end(std::size_t n, json::error_code& ec) {
    --depth;
    if (in_item && depth == item_depth - 1) return end_item(ec);
    if (metadata_depth != 0 && depth >= metadata_depth - 1) {
      metadata_size += 1 + (n > 0 ? n - 1 : 0);
      if (depth == metadata_depth - 1) {
        metadata_depth = 0;
        if (metadata_size > kMaxMetadataBytes && p_metadata.empty()) {
          p_metadata = "metadata is " + std::to_string(metadata_size) +
                       " bytes (the limit is 10 kB, " + std::to_string(kMaxMetadataBytes) +
                       " bytes)";
        }
      }
    }
    if (location_depth != 0 && depth == location_depth - 1) {
      location_depth = 0;
      const bool lat_lng = lat.has_value() && lng.has_value();
      if (!location_bad && (lat_lng || (point && coordinates == 2))) {
        items.back().has_location = true;
      } else if (p_location.empty()) {
        p_location = std::string(kLocationRule);
      }
    }
    return true;
  }

  bool on_array_begin(json::error_code& ec) {
    if (depth == 0) {
      item_depth = 2;
    } else if (!in_item) {
      return not_an_item(ec);
    } else if (depth == item_depth) {
      wrong_kind();
    } else if (in_metadata()) {
      metadata_size += 1;
    } else if (in_location()) {
      if (depth == location_depth && location_key == LocationKey::kCoordinates &&
          coordinates_depth == 0) {
        coordinates_depth = depth + 1;
      } else {
        location_value_of_wrong_kind();
      }
    }
    ++depth;
    return true;
  }

  bool on_array_end(std::size_t n, json::error_code&) {
    --depth;
    if (in_metadata()) metadata_size += 1 + (n > 0 ? n - 1 : 0);
    if (coordinates_depth != 0 && depth == coordinates_depth - 1) coordinates_depth = 0;
    return true;
  }

  bool on_key_part(json::string_view s, std::size_t n, json::error_code&) {
    if (n == s.size()) scratch.clear();
    scratch.append(s.data(), s.size());
    return true;
  }

  bool on_key(json::string_view s, std::size_t n, json::error_code&) {
    std::string_view key(s.data(), s.size());
    if (n != s.size()) {
      scratch.append(s.data(), s.size());
      key = scratch;
    }
    if (depth == item_depth) {
      field = field_of(key);
    } else if (in_metadata()) {
      metadata_size += escaped_size(key) + 3;
      seq_key = depth == metadata_depth && key == "seq";
    } else if (in_location() && depth == location_depth) {
      location_key = key == "lat"           ? LocationKey::kLat
                     : key == "lng"         ? LocationKey::kLng
                     : key == "type"        ? LocationKey::kType
                     : key == "coordinates" ? LocationKey::kCoordinates
                                            : LocationKey::kOther;
    }
    return true;
  }

  bool on_string_part(json::string_view s, std::size_t n, json::error_code&) {
    if (n == s.size()) scratch.clear();
    scratch.append(s.data(), s.size());
    return true;
  }

  bool on_string(json::string_view s, std::size_t n, json::error_code& ec) {
    std::string_view text(s.data(), s.size());
    if (n != s.size()) {
      scratch.append(s.data(), s.size());
      text = scratch;
    }
    if (!in_item) return not_an_item(ec);
    if (depth == item_depth) {
      ScannedItem& item = items.back();
      switch (field) {
        case Field::kVariable:
          variable_seen = true;
          p_variable.clear();
          item.variable.assign(text);
          break;
        case Field::kValue:
          item.has_value = true;
          item.number.reset();
          p_value.clear();
          if (text.size() > kMaxValueBytes) {
            p_value = "value is " + std::to_string(text.size()) + " bytes (the limit is 6 kB, " +
                      std::to_string(kMaxValueBytes) + " bytes)";
          }
          break;
        case Field::kUnit:
          if (const auto chars = count_chars(text); chars > kMaxUnitChars) {
            p_unit = "unit " + quote(text) + " is " + std::to_string(chars) +
                     " characters (the limit is " + std::to_string(kMaxUnitChars) + ")";
          }
          break;
        case Field::kGroup:
        case Field::kSerie:
          if (field == Field::kGroup || !group_given) {
            group_given = group_given || field == Field::kGroup;
            item.group.assign(text);
            item.has_group = true;
            p_group.clear();
            if (const auto chars = count_chars(text); chars > kMaxGroupChars) {
              p_group = "group " + quote(text) + " is " + std::to_string(chars) +
                        " characters (the limit is " + std::to_string(kMaxGroupChars) + ")";
            }
          }
          break;
        case Field::kTime:
          if (const auto ms = core::parse_iso8601(text)) {
            item.time_ms = *ms;
            item.has_time = true;
            p_time.clear();
          } else {
            p_time = "time " + quote(text) + " is not a valid date";
          }
          break;
        case Field::kLocation:
        case Field::kMetadata:
          wrong_kind();
          break;
        case Field::kOther:
          break;
      }
    } else if (in_metadata()) {
      metadata_size += escaped_size(text) + 2;
      seq_key = false;
    } else if (in_location()) {
      if (depth == location_depth && location_key == LocationKey::kType) {
        point = text == "Point";
      } else {
        location_value_of_wrong_kind();
      }
    }
    return true;
  }

  bool on_number_part(json::string_view s, json::error_code&) {
    number_part_size += s.size();
    return true;
  }

  bool number(double d, std::optional<std::int64_t> exact, std::size_t text_size,
              json::error_code& ec) {
    text_size += number_part_size;
    number_part_size = 0;
    if (!in_item) return not_an_item(ec);
    if (depth == item_depth) {
      ScannedItem& item = items.back();
      switch (field) {
        case Field::kValue:
          item.has_value = true;
          item.number = d;
          p_value.clear();
          break;
        case Field::kTime:
          if (const auto ms = core::unix_timestamp_to_ms(d)) {
            item.time_ms = *ms;
            item.has_time = true;
            p_time.clear();
          } else {
            p_time = "time is not a valid Unix timestamp";
          }
          break;
        default:
          wrong_kind();
      }
    } else if (in_metadata()) {
      metadata_size += text_size;
      if (seq_key && depth == metadata_depth) {
        if (exact) {
          items.back().seq = *exact;
        } else if (std::trunc(d) == d && std::fabs(d) < 9e15) {
          items.back().seq = static_cast<std::int64_t>(d);
        }
      }
      seq_key = false;
    } else if (in_location()) {
      if (depth == location_depth && location_key == LocationKey::kLat) {
        lat = d;
      } else if (depth == location_depth && location_key == LocationKey::kLng) {
        lng = d;
      } else if (coordinates_depth != 0 && depth == coordinates_depth) {
        ++coordinates;
      } else {
        location_value_of_wrong_kind();
      }
    }
    return true;
  }

  bool on_int64(std::int64_t i, json::string_view s, json::error_code& ec) {
    return number(static_cast<double>(i), i, s.size(), ec);
  }
  bool on_uint64(std::uint64_t u, json::string_view s, json::error_code& ec) {
    std::optional<std::int64_t> exact;
    if (u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      exact = static_cast<std::int64_t>(u);
    }
    return number(static_cast<double>(u), exact, s.size(), ec);
  }
  bool on_double(double d, json::string_view s, json::error_code& ec) {
    return number(d, std::nullopt, s.size(), ec);
  }

  bool on_bool(bool b, json::error_code& ec) {
    if (!in_item) return not_an_item(ec);
    if (depth == item_depth) {
      if (field == Field::kValue) {
        items.back().has_value = true;
        items.back().number.reset();
        p_value.clear();
      } else {
        wrong_kind();
      }
    } else if (in_metadata()) {
      metadata_size += b ? 4 : 5;
      seq_key = false;
    } else if (in_location()) {
      location_value_of_wrong_kind();
    }
    return true;
  }

  bool on_null(json::error_code& ec) {
    if (!in_item) return not_an_item(ec);
    if (depth == item_depth) {
      // A null field is an absent one (a null variable is a missing one).
      ScannedItem& item = items.back();
      if (field == Field::kValue) {
        item.has_value = false;
        item.number.reset();
      } else if (field == Field::kTime) {
        item.time_ms = now_ms;
        item.has_time = false;
      }
    } else if (in_metadata()) {
      metadata_size += 4;
      seq_key = false;
    } else if (in_location()) {
      location_value_of_wrong_kind();
    }
    return true;
  }
};

struct BodyScanner::Impl {
  Impl() : parser(json::parse_options{}) {}
  json::basic_parser<Handler> parser;
};

BodyScanner::BodyScanner() : impl_(std::make_unique<Impl>()) {}
BodyScanner::~BodyScanner() = default;

std::vector<ScannedItem>& BodyScanner::items() { return impl_->parser.handler().items; }

std::optional<std::string> BodyScanner::scan(std::string_view body, std::int64_t now_ms) {
  auto& parser = impl_->parser;
  Handler& h = parser.handler();
  parser.reset();
  h.items.clear();
  h.problem.clear();
  h.now_ms = now_ms;
  h.depth = 0;
  h.item_depth = 0;
  h.in_item = false;
  h.number_part_size = 0;
  json::error_code ec;
  const std::size_t used = parser.write_some(false, body.data(), body.size(), ec);
  if (ec) {
    if (!h.problem.empty()) return std::move(h.problem);
    return "Invalid JSON body: " + ec.message();
  }
  if (used != body.size()) return std::string("Invalid JSON body: extra data after the JSON");
  return std::nullopt;
}

}  // namespace edgegw::cloud_emulator
