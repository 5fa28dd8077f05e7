// SPDX-License-Identifier: Apache-2.0
// Pins the plugin ABI: changing plugins/include/edgegw/plugin.h (anything but comments and
// whitespace) fails this test until the version is bumped and the pin updated. Adding a field or
// an error code: bump EDGEGW_PLUGIN_ABI_MINOR. Changing or removing anything: bump the MAJOR.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "edgegw/plugin.h"
#include "edgegw/plugin_sdk.h"
#include "support/subprocess.h"

namespace edgegw {
namespace {

constexpr std::uint32_t kPinnedVersion = 0x00010006;       // 1.6
constexpr std::uint64_t kPinnedHash = 0x56618319bf42f28e;  // of the normalized text of version 1.6

// The header without comments, with every run of whitespace as one space.
std::string normalized(const std::string& text) {
  std::string out;
  bool space = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text.compare(i, 2, "/*") == 0) {
      const std::size_t end = text.find("*/", i + 2);
      i = end == std::string::npos ? text.size() : end + 1;
      space = true;
      continue;
    }
    if (text.compare(i, 2, "//") == 0) {
      const std::size_t end = text.find('\n', i);
      i = end == std::string::npos ? text.size() : end;
      space = true;
      continue;
    }
    const char c = text[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::uint64_t fnv1a(const std::string& s) {
  std::uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

TEST(PluginAbi, HeaderChangesComeWithAVersionBump) {
  const std::string text =
      testing::read_file(testing::source_dir() + "/plugins/include/edgegw/plugin.h");
  ASSERT_FALSE(text.empty());
  const std::uint64_t hash = fnv1a(normalized(text));
  EXPECT_EQ(EDGEGW_PLUGIN_ABI_VERSION, kPinnedVersion)
      << "the ABI version changed: update kPinnedVersion and kPinnedHash together";
  EXPECT_EQ(hash, kPinnedHash) << std::hex << std::showbase
                               << "plugin.h changed without a version bump: bump "
                                  "EDGEGW_PLUGIN_ABI_MINOR (additions) or _MAJOR (changes), "
                                  "then pin kPinnedVersion and kPinnedHash = "
                               << hash;
}

TEST(PluginAbi, LayoutOfVersionOneOnLp64) {
  // Fields of 1.0 never move; newer versions may only grow the structs (struct_size tells).
  static_assert(offsetof(edgegw_raw_message, struct_size) == 0);
  static_assert(offsetof(edgegw_host, struct_size) == 0);
  static_assert(offsetof(edgegw_plugin, struct_size) == 0);
  static_assert(offsetof(edgegw_source_info, struct_size) == 0);
  if constexpr (sizeof(void*) == 8) {
    EXPECT_EQ(offsetof(edgegw_raw_message, payload), 40u);
    EXPECT_EQ(offsetof(edgegw_raw_message, receive_time_ms), 56u);
    EXPECT_EQ(sizeof(edgegw_raw_message), 96u);
    EXPECT_EQ(offsetof(edgegw_host, append), 24u);
    EXPECT_EQ(offsetof(edgegw_host, set_up), 40u);
    EXPECT_EQ(sizeof(edgegw_host), 112u);
    EXPECT_EQ(offsetof(edgegw_plugin, create), 32u);
    EXPECT_EQ(offsetof(edgegw_plugin, destroy), 56u);
    EXPECT_EQ(sizeof(edgegw_plugin), 128u);
    EXPECT_EQ(sizeof(edgegw_source_info), 72u);
    // 1.2: the local Device API took the first reserved slot of the host's table.
    EXPECT_EQ(offsetof(edgegw_host, device_api), 48u);
    EXPECT_EQ(offsetof(edgegw_device_api, authenticate), 8u);
    EXPECT_EQ(offsetof(edgegw_device_api, free_buffer), 48u);
    EXPECT_EQ(sizeof(edgegw_device_api), 120u);
    EXPECT_EQ(sizeof(edgegw_host_buffer), 16u);
    // 1.3: the source's own state took the next reserved slot.
    EXPECT_EQ(offsetof(edgegw_host, source_state), 56u);
    EXPECT_EQ(offsetof(edgegw_source_state, append_with_state), 8u);
    EXPECT_EQ(offsetof(edgegw_source_state, load), 16u);
    EXPECT_EQ(sizeof(edgegw_source_state), 72u);
    EXPECT_EQ(sizeof(edgegw_state_change), 56u);
    // 1.4: append_each took the first reserved slot of the Device API's table.
    EXPECT_EQ(offsetof(edgegw_device_api, append_each), 56u);
    EXPECT_EQ(sizeof(edgegw_device_api), 120u);
    EXPECT_EQ(offsetof(edgegw_append_outcome, code), 8u);
    EXPECT_EQ(offsetof(edgegw_append_outcome, readings), 16u);
    EXPECT_EQ(sizeof(edgegw_append_outcome), 56u);
  }
}

TEST(PluginAbi, ErrorCodesNeverRenumber) {
  EXPECT_EQ(EDGEGW_OK, 0);
  EXPECT_EQ(EDGEGW_ERR_INVALID_ARGUMENT, 1);
  EXPECT_EQ(EDGEGW_ERR_FULL, 2);
  EXPECT_EQ(EDGEGW_ERR_UNAVAILABLE, 3);
  EXPECT_EQ(EDGEGW_ERR_IO, 4);
  EXPECT_EQ(EDGEGW_ERR_INTERNAL, 5);
  EXPECT_EQ(EDGEGW_ERR_STOPPED, 6);
  EXPECT_EQ(EDGEGW_ERR_UNSUPPORTED, 7);
  EXPECT_EQ(EDGEGW_ERR_DENIED, 8);
}

TEST(PluginSdk, GuardTurnsExceptionsIntoCodes) {
  char error[16];
  EXPECT_EQ(sdk::guard(error, sizeof error,
                       [] { throw sdk::Error(EDGEGW_ERR_FULL, "buffer is quite full"); }),
            EDGEGW_ERR_FULL);
  EXPECT_STREQ(error, "buffer is quite");  // truncated to fit, NUL-terminated
  EXPECT_EQ(sdk::guard(error, sizeof error, [] { throw 42; }), EDGEGW_ERR_INTERNAL);
  EXPECT_STREQ(error, "unknown excepti");
  EXPECT_EQ(sdk::guard(nullptr, 0, [] { return std::int32_t{EDGEGW_ERR_IO}; }), EDGEGW_ERR_IO);
  EXPECT_EQ(sdk::guard(error, sizeof error, [] {}), EDGEGW_OK);
}

}  // namespace
}  // namespace edgegw
