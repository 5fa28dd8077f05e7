// SPDX-License-Identifier: Apache-2.0
#include "app/buffer_commands.h"

#include <fmt/format.h>
#include <boost/json.hpp>

#include "app/buffer_options.h"
#include "app/cli.h"
#include "app/data_dir.h"
#include "buffer/buffer.h"
#include "config/loader.h"
#include "core/time.h"

namespace edgegw::app {

namespace {

std::optional<config::Config> load(const std::string& path, std::ostream& err) {
  config::LoadResult loaded = config::load_file(path);
  if (!loaded.config) {
    for (const auto& e : loaded.errors) err << e.to_string() << '\n';
    return std::nullopt;
  }
  return std::move(*loaded.config);
}

// The commands that change the store need it alone: the running gateway holds the data_dir lock.
std::optional<DataDirLock> lock_stopped_gateway(const config::Config& config, std::ostream& err) {
  Result<DataDirLock> lock = DataDirLock::acquire(config.gateway.data_dir);
  if (!lock) {
    err << "edgegw: " << lock.status().message();
    if (lock.status().code() == Code::kAlreadyExists) err << "; stop the gateway first";
    err << '\n';
    return std::nullopt;
  }
  return std::move(lock).value();
}

std::unique_ptr<buffer::Buffer> open(const config::Config& config, bool read_only,
                                     std::ostream& err) {
  auto opened = open_buffer(config, read_only);
  if (!opened) {
    err << "edgegw: " << opened.status().message() << '\n';
    return nullptr;
  }
  return std::move(opened).value();
}

}  // namespace

std::string format_age(std::int64_t ms) {
  if (ms < 0) return "-";
  const std::int64_t s = ms / 1000;
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m{}s", s / 60, s % 60);
  if (s < 86400) return fmt::format("{}h{}m", s / 3600, s % 3600 / 60);
  return fmt::format("{}d{}h", s / 86400, s % 86400 / 3600);
}

int buffer_stats(const std::string& config_path, std::ostream& out, std::ostream& err) {
  auto config = load(config_path, err);
  if (!config) return kExitUsage;
  auto buf = open(*config, /*read_only=*/true, err);
  if (!buf) return kExitFailure;
  const std::int64_t now = core::now_ms();
  const auto age = [now](std::int64_t stored) {
    return stored == 0 ? "-" : format_age(now - stored);
  };
  out << fmt::format("{:<32} {:>12} {:>14} {:>10}\n", "device", "readings", "bytes", "oldest");
  for (const auto& d : buf->device_stats()) {
    out << fmt::format("{:<32} {:>12} {:>14} {:>10}\n", d.key, d.readings, d.bytes,
                       age(d.oldest_stored_ms));
  }
  const buffer::Stats s = buf->stats();
  out << fmt::format("{:<32} {:>12} {:>14} {:>10}\n", "total", s.readings, s.bytes,
                     age(s.oldest_stored_ms));
  out << "dead letters: " << s.dead_letters << '\n';
  return kExitOk;
}

int dead_letter_list(const std::string& config_path, std::ostream& out, std::ostream& err) {
  auto config = load(config_path, err);
  if (!config) return kExitUsage;
  auto buf = open(*config, /*read_only=*/true, err);
  if (!buf) return kExitFailure;
  // One JSON object per line: easy to read, grep and feed to jq.
  Status s = buf->for_each_dead_letter([&](const buffer::DeadLetter& d) {
    boost::json::object line;
    line["id"] = d.id;
    line["device"] = buf->device_key(d.device);
    line["status"] = d.http_status;
    line["time"] = core::format_iso8601_ms(d.time_ms);
    line["reason"] = d.reason;
    boost::json::error_code ec;
    boost::json::value reading = boost::json::parse(d.reading_json, ec);
    line["reading"] = ec ? boost::json::value(d.reading_json) : std::move(reading);
    out << boost::json::serialize(line) << '\n';
    return true;
  });
  if (!s) {
    err << "edgegw: " << s.message() << '\n';
    return kExitFailure;
  }
  return kExitOk;
}

namespace {

// Runs `change` on the buffer of a stopped gateway and prints what it says it did.
int change_dead_letters(const std::string& config_path, std::ostream& out, std::ostream& err,
                        Result<std::uint64_t> (buffer::Buffer::*change)(), const char* done) {
  auto config = load(config_path, err);
  if (!config) return kExitUsage;
  auto lock = lock_stopped_gateway(*config, err);
  if (!lock) return kExitFailure;
  auto buf = open(*config, /*read_only=*/false, err);
  if (!buf) return kExitFailure;
  auto count = ((*buf).*change)();
  if (!count) {
    err << "edgegw: " << count.status().message() << '\n';
    return kExitFailure;
  }
  out << *count << " dead letter(s) " << done << '\n';
  return kExitOk;
}

}  // namespace

int dead_letter_retry(const std::string& config_path, std::ostream& out, std::ostream& err) {
  return change_dead_letters(config_path, out, err, &buffer::Buffer::retry_dead_letters,
                             "queued again; they are sent when the gateway runs");
}

int dead_letter_purge(const std::string& config_path, std::ostream& out, std::ostream& err) {
  return change_dead_letters(config_path, out, err, &buffer::Buffer::purge_dead_letters, "deleted");
}

int buffer_repair(const std::string& config_path, std::ostream& out, std::ostream& err) {
  auto config = load(config_path, err);
  if (!config) return kExitUsage;
  auto lock = lock_stopped_gateway(*config, err);
  if (!lock) return kExitFailure;
  const std::string path = buffer_options(*config).path;
  if (Status s = buffer::repair(path); !s) {
    err << "edgegw: " << s.message() << '\n';
    return kExitFailure;
  }
  auto buf = open(*config, /*read_only=*/false, err);
  if (!buf) return kExitFailure;
  const buffer::Stats s = buf->stats();
  out << "repaired " << path << ": " << s.readings << " reading(s) and " << s.dead_letters
      << " dead letter(s) recovered\n";
  return kExitOk;
}

}  // namespace edgegw::app
