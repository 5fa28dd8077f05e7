// Messages the source took from the broker but could not buffer when it had to stop (the buffer
// full under on_full: reject_new): written here, fsync'd, before Paho acknowledges them, and
// handed to the host first at the next start. One small file per message, named in arrival order,
// in the source's state directory; normally empty.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edgegw::plugins::mqtt {

struct HeldMessage {
  std::string path;  // its file
  std::string device;
  std::string variable;
  std::string payload;
  std::int64_t receive_time_ms = 0;
};

class HeldStore {
 public:
  // `dir` is created when needed. Empty: no store (nothing can be kept).
  explicit HeldStore(std::string dir) : dir_(std::move(dir)) {}

  bool enabled() const noexcept { return !dir_.empty(); }
  const std::string& dir() const noexcept { return dir_; }

  // Writes one message durably (file and directory fsync'd). The error text, or nullopt.
  std::optional<std::string> keep(std::string_view device, std::string_view variable,
                                  std::string_view payload, std::int64_t receive_time_ms);
  // Every kept message, oldest first; files that cannot be read are reported in `problems`.
  std::vector<HeldMessage> load(std::vector<std::string>& problems) const;
  // Deletes a message once the host has it.
  void forget(const HeldMessage& message) const;

 private:
  std::string dir_;
  std::uint64_t next_ = 0;  // the next file number (0: not scanned yet)
};

}  // namespace edgegw::plugins::mqtt
