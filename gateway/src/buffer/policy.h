// SPDX-License-Identifier: Apache-2.0
// The buffer's policies as the config names them (buffer.on_full, buffer.sync): a leaf header
// shared by the config's structs and buffer::Options.
#pragma once

#include <string_view>

namespace edgegw::buffer {

// What a full buffer does with a new append.
enum class OnFull { kDropOldest, kRejectNew };
// When an append's WAL write is synced to disk (DESIGN.md, Part 2 "buffer.sync").
enum class SyncMode { kNone, kBatch, kAlways };

constexpr std::string_view to_string(OnFull policy) noexcept {
  switch (policy) {
    case OnFull::kDropOldest:
      return "drop_oldest";
    case OnFull::kRejectNew:
      return "reject_new";
  }
  return "unknown";
}

constexpr std::string_view to_string(SyncMode mode) noexcept {
  switch (mode) {
    case SyncMode::kNone:
      return "none";
    case SyncMode::kBatch:
      return "batch";
    case SyncMode::kAlways:
      return "always";
  }
  return "unknown";
}

}  // namespace edgegw::buffer
