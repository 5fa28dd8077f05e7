// SPDX-License-Identifier: Apache-2.0
#include "log/log.h"

#include <algorithm>
#include <cstdio>
#include <mutex>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <boost/json.hpp>

#include "core/bug.h"
#include "core/time.h"

namespace edgegw::log {

namespace {

constexpr std::string_view kRedacted = "<redacted>";
constexpr std::size_t kMinSecretLength = 4;

// {"time":"…Z","level":"warn","component":"forward","msg":"…"} — one object per line.
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()).count();
    boost::json::object line;
    line["time"] = core::format_iso8601_ms(ms);
    const auto level = spdlog::level::to_string_view(msg.level);
    line["level"] = boost::json::string_view(level.data(), level.size());
    line["component"] = boost::json::string_view(msg.logger_name.data(), msg.logger_name.size());
    line["msg"] = boost::json::string_view(msg.payload.data(), msg.payload.size());
    const std::string text = boost::json::serialize(line);
    dest.append(text.data(), text.data() + text.size());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

class RedactingSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  void configure(Format format, std::ostream* out) {
    std::lock_guard lock(mutex_);
    out_ = out;
    if (format == Format::kJson) {
      formatter_ = std::make_unique<JsonFormatter>();
    } else {
      formatter_ = std::make_unique<spdlog::pattern_formatter>("%Y-%m-%dT%H:%M:%S.%eZ %-5l [%n] %v",
                                                               spdlog::pattern_time_type::utc);
    }
  }

  void set_secrets(std::vector<std::string> secrets) {
    std::lock_guard lock(mutex_);
    secrets_ = std::move(secrets);
  }

  std::string redact(std::string_view text) {
    std::lock_guard lock(mutex_);
    return redact_locked(text);
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    // Scrub the message before formatting, so JSON escaping cannot hide a secret from the scan.
    const std::string_view payload(msg.payload.data(), msg.payload.size());
    std::string scrubbed;
    const spdlog::details::log_msg* to_format = &msg;
    spdlog::details::log_msg copy(msg);
    if (contains_secret(payload)) {
      scrubbed = redact_locked(payload);
      copy.payload = spdlog::string_view_t(scrubbed.data(), scrubbed.size());
      to_format = &copy;
    }
    spdlog::memory_buf_t formatted;
    formatter_->format(*to_format, formatted);
    if (out_ != nullptr) {
      out_->write(formatted.data(), static_cast<std::streamsize>(formatted.size()));
    } else {
      std::fwrite(formatted.data(), 1, formatted.size(), stderr);
    }
  }

  void flush_() override {
    if (out_ != nullptr) {
      out_->flush();
    } else {
      std::fflush(stderr);
    }
  }

 private:
  bool contains_secret(std::string_view text) const {
    for (const auto& s : secrets_) {
      if (text.find(s) != std::string_view::npos) return true;
    }
    return false;
  }

  std::string redact_locked(std::string_view text) const {
    std::string out(text);
    for (const auto& s : secrets_) {
      for (std::size_t pos = out.find(s); pos != std::string::npos;
           pos = out.find(s, pos + kRedacted.size())) {
        out.replace(pos, s.size(), kRedacted);
      }
    }
    return out;
  }

  std::ostream* out_ = nullptr;
  std::vector<std::string> secrets_;
};

struct State {
  std::mutex mutex;
  std::shared_ptr<RedactingSink> sink = [] {
    auto s = std::make_shared<RedactingSink>();
    s->configure(Format::kText, nullptr);
    return s;
  }();
  Level level = Level::info;
};

State& state() {
  static State s;
  return s;
}

// EDGEGW_BUG reports (core/bug.h) as error lines of the "bug" logger, scrubbed like any line.
void log_bug(std::string_view where, std::string_view what) noexcept {
  try {
    get("bug")->error("BUG at {}: {}", where, what);
  } catch (...) {  // the count (edgegw_bugs_total) still says it
  }
}

}  // namespace

void init(Format format, Level level, std::ostream* out) {
  State& s = state();
  s.sink->configure(format, out);
  set_level(level);
  core::set_bug_sink(&log_bug);
}

void set_level(Level level) {
  State& s = state();
  std::lock_guard lock(s.mutex);
  s.level = level;
  spdlog::apply_all([level](const std::shared_ptr<spdlog::logger>& l) { l->set_level(level); });
}

void set_secrets(const std::vector<std::string>& secrets) {
  std::vector<std::string> kept;
  for (const auto& secret : secrets) {
    if (secret.size() >= kMinSecretLength) kept.push_back(secret);
  }
  // Longest first, so a secret that contains another is replaced whole.
  std::sort(kept.begin(), kept.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  state().sink->set_secrets(std::move(kept));
}

std::shared_ptr<spdlog::logger> get(std::string_view component) {
  State& s = state();
  std::lock_guard lock(s.mutex);
  const std::string name(component);
  if (auto existing = spdlog::get(name)) return existing;
  auto logger = std::make_shared<spdlog::logger>(name, s.sink);
  logger->set_level(s.level);
  logger->flush_on(Level::warn);
  spdlog::register_logger(logger);
  return logger;
}

void flush() { state().sink->flush(); }

std::string redact(std::string_view text) { return state().sink->redact(text); }

}  // namespace edgegw::log
