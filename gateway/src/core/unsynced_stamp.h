// SPDX-License-Identifier: Apache-2.0
// A reading the gateway stamps while the system clock is not synchronised (core/clock_sync.h)
// cannot be given a real time yet. It carries, in its metadata, the boot it arrived in and the
// instant on that boot's own clock (CLOCK_BOOTTIME); the forwarder turns that into a real time
// once the clock is synchronised (forward/unsynced_times.h), or, after a reboot, marks the
// reading `metadata.clock: unsynced` instead of inventing a time.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace edgegw::core {

inline constexpr std::string_view kUnsyncedStampKey = "edgegw_unsynced_at";

struct UnsyncedStamp {
  std::string boot_id;
  std::int64_t boot_ms = 0;  // CLOCK_BOOTTIME at arrival

  // "BOOT_ID/BOOT_MS"
  std::string text() const { return boot_id + "/" + std::to_string(boot_ms); }
  static std::optional<UnsyncedStamp> parse(std::string_view text) {
    const auto slash = text.rfind('/');
    if (slash == std::string_view::npos) return std::nullopt;
    UnsyncedStamp s{std::string(text.substr(0, slash)), 0};
    const std::string_view ms = text.substr(slash + 1);
    const auto [end, ec] = std::from_chars(ms.data(), ms.data() + ms.size(), s.boot_ms);
    if (ec != std::errc() || end != ms.data() + ms.size()) return std::nullopt;
    return s;
  }
};

}  // namespace edgegw::core
