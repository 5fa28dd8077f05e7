// SPDX-License-Identifier: Apache-2.0
// Process-wide logging over spdlog: levels, text or JSON lines on stderr, and a last line of
// defence that scrubs every known secret (tokens, passwords) from every line before it is written.
//
// Components take a named logger once (log::get("forward")) and log with fmt syntax:
//   logger_->warn("device {}: token refused by the cloud", key);
#pragma once

#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/spdlog.h>

namespace edgegw::log {

enum class Format { kText, kJson };
using Level = spdlog::level::level_enum;

// Sets up the shared sink. `out` (tests) replaces stderr; it must outlive the logging.
// Calling it again replaces the format and the output of every logger.
void init(Format format, Level level, std::ostream* out = nullptr);

void set_level(Level level);

// Replaces the set of secrets scrubbed from every line (shown as "<redacted>"). Values shorter
// than 4 characters are not scrubbed: replacing every "ab" would ruin the log and hide nothing.
void set_secrets(const std::vector<std::string>& secrets);

// The logger of a component, sharing the one sink. Cheap to call; keep the pointer.
std::shared_ptr<spdlog::logger> get(std::string_view component);

// Flushes the sink (before exit).
void flush();

// Replaces every occurrence of each secret in `text` (what set_secrets installed).
std::string redact(std::string_view text);

}  // namespace edgegw::log
