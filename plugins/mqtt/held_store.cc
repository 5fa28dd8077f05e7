#include "held_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace edgegw::plugins::mqtt {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kMagic = "edgegw-held-1\n";

void put_field(std::string& out, std::string_view field) {
  const auto n = static_cast<std::uint32_t>(field.size());
  out.append(reinterpret_cast<const char*>(&n), sizeof n);
  out.append(field);
}

bool get_field(std::string_view& in, std::string& out) {
  std::uint32_t n = 0;
  if (in.size() < sizeof n) return false;
  std::memcpy(&n, in.data(), sizeof n);
  in.remove_prefix(sizeof n);
  if (in.size() < n) return false;
  out.assign(in.substr(0, n));
  in.remove_prefix(n);
  return true;
}

std::string errno_text() { return std::strerror(errno); }

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// File names: 20-digit numbers, so that name order is arrival order.
std::uint64_t number_of(const fs::path& p) {
  const std::string name = p.filename().string();
  if (name.size() != 20 ||
      !std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return 0;
  }
  return std::stoull(name);
}

}  // namespace

std::optional<std::string> HeldStore::keep(std::string_view device, std::string_view variable,
                                           std::string_view payload, std::int64_t receive_time_ms) {
  if (dir_.empty()) return "no state directory to keep it in";
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) return "cannot create " + dir_ + ": " + ec.message();
  if (next_ == 0) {
    next_ = 1;
    for (const auto& entry : fs::directory_iterator(dir_, ec)) {
      next_ = std::max(next_, number_of(entry.path()) + 1);
    }
  }
  std::string record(kMagic);
  put_field(record, device);
  put_field(record, variable);
  put_field(record, payload);
  record.append(reinterpret_cast<const char*>(&receive_time_ms), sizeof receive_time_ms);

  char name[32];
  std::snprintf(name, sizeof name, "%020llu", static_cast<unsigned long long>(next_++));
  const std::string final_path = dir_ + "/" + name;
  const std::string tmp_path = final_path + ".tmp";
  const int fd = ::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return "cannot create " + tmp_path + ": " + errno_text();
  const bool ok = write_all(fd, record) && ::fsync(fd) == 0;
  const std::string why = ok ? std::string() : errno_text();
  ::close(fd);
  if (!ok || ::rename(tmp_path.c_str(), final_path.c_str()) != 0) {
    ::unlink(tmp_path.c_str());
    return "cannot write " + final_path + ": " + (why.empty() ? errno_text() : why);
  }
  const int dir_fd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return std::nullopt;
}

std::vector<HeldMessage> HeldStore::load(std::vector<std::string>& problems) const {
  std::vector<HeldMessage> out;
  std::error_code ec;
  if (dir_.empty() || !fs::is_directory(dir_, ec)) return out;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    if (number_of(entry.path()) != 0) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const fs::path& file : files) {
    std::ifstream in(file, std::ios::binary);
    const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::string_view rest(data);
    HeldMessage m;
    m.path = file.string();
    if (!rest.starts_with(kMagic)) {
      problems.push_back(m.path + ": not a held message");
      continue;
    }
    rest.remove_prefix(kMagic.size());
    if (!get_field(rest, m.device) || !get_field(rest, m.variable) || !get_field(rest, m.payload) ||
        rest.size() != sizeof m.receive_time_ms) {
      problems.push_back(m.path + ": truncated");
      continue;
    }
    std::memcpy(&m.receive_time_ms, rest.data(), sizeof m.receive_time_ms);
    out.push_back(std::move(m));
  }
  return out;
}

void HeldStore::forget(const HeldMessage& message) const { ::unlink(message.path.c_str()); }

}  // namespace edgegw::plugins::mqtt
