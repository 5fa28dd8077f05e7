// SPDX-License-Identifier: Apache-2.0
// One pass over a POST /data body: parse it (Boost.JSON's SAX parser, no DOM, no allocation per
// reading) and check every item against the cloud's rules (rules.h), keeping only the facts the
// emulator needs. This is the emulator's hot path.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edgegw::cloud_emulator {

struct ScannedItem {
  std::string variable;  // lower-cased
  std::string group;     // `group` (or its alias `serie`) when given
  bool has_group = false;
  bool has_value = false;  // a non-null value
  bool has_location = false;
  std::optional<double> number;     // the value, when it is a number
  std::int64_t time_ms = 0;         // `time`, or the receive time
  bool has_time = false;            // `time` was given
  std::optional<std::int64_t> seq;  // an integer metadata.seq
};

class BodyScanner {
 public:
  BodyScanner();
  BodyScanner(const BodyScanner&) = delete;
  BodyScanner& operator=(const BodyScanner&) = delete;
  ~BodyScanner();

  // Scans `body` (a data item or an array of them). Returns the 400 message when the body is not
  // JSON or an item breaks a rule ("Invalid data item at index 3: ..."); otherwise items() holds
  // one entry per item.
  std::optional<std::string> scan(std::string_view body, std::int64_t now_ms);
  std::vector<ScannedItem>& items();

 private:
  struct Handler;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgegw::cloud_emulator
