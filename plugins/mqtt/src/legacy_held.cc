// SPDX-License-Identifier: Apache-2.0
#include "legacy_held.h"

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

std::vector<HeldMessage> load_held(const std::string& dir, std::vector<std::string>& problems) {
  std::vector<HeldMessage> out;
  std::error_code ec;
  if (dir.empty() || !fs::is_directory(dir, ec)) return out;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
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

void forget_held(const HeldMessage& message) { ::unlink(message.path.c_str()); }

}  // namespace edgegw::plugins::mqtt
