// SPDX-License-Identifier: Apache-2.0
#include "plugin_host/source.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <thread>

#include "plugin_host/validate.h"
#include "support/subprocess.h"

namespace edgegw::plugin_host {
namespace {

using namespace std::chrono_literals;

const std::string kPluginDir = EDGEGW_PLUGIN_DIR;
const std::string kTestPluginDir = EDGEGW_TEST_PLUGIN_DIR;

class HostTest : public ::testing::Test {
 protected:
  void open_buffer(std::uint64_t max_bytes = 1 << 30) {
    buffer_.reset();
    buffer::Options o;
    o.path = dir_.path() + "/buffer";
    o.sync = buffer::SyncMode::kNone;
    o.max_bytes = max_bytes;
    o.on_full = buffer::OnFull::kRejectNew;
    buffer_ = std::move(buffer::Buffer::open(o)).value();
    device_ = *buffer_->register_device("dev-1");
    std::vector<config::DeviceConfig> devices(1);
    devices[0].key = "dev-1";
    mapping_.store(std::make_shared<const ingest::MappingTable>(
        devices, std::vector<buffer::DeviceId>{device_}, std::nullopt));
  }
  void SetUp() override { open_buffer(); }

  config::SourceConfig source(std::string plugin, std::string config_json) {
    config::SourceConfig s;
    s.name = "plant";
    s.plugin = std::move(plugin);
    s.format = decode::Format::kTagoJson;
    s.config_json = std::move(config_json);
    return s;
  }

  std::string create_error(const std::string& dir, const std::string& plugin,
                           const std::string& config_json = "{}") {
    auto s = Source::create(source(plugin, config_json), 0, dir, "", mapping_, *buffer_);
    EXPECT_FALSE(s);
    return s ? std::string() : std::string(s.status().message());
  }

  testing::TempDir dir_;
  testing::TempDir state_;
  std::unique_ptr<buffer::Buffer> buffer_;
  buffer::DeviceId device_ = 0;
  ingest::Mapping mapping_;
};

TEST(PluginPaths, FileNameAndDefaultDirectory) {
  EXPECT_EQ(plugin_path("/usr/lib/edgegw/plugins", "mqtt"),
            "/usr/lib/edgegw/plugins/libedgegw_mqtt.so");
  EXPECT_EQ(plugin_path("/p/", "mqtt"), "/p/libedgegw_mqtt.so");
  EXPECT_TRUE(default_plugin_dir().ends_with("/lib/edgegw/plugins")) << default_plugin_dir();
  config::GatewayConfig g;
  EXPECT_EQ(plugin_dir(g), default_plugin_dir());
  g.plugin_dir = "/opt/p";
  EXPECT_EQ(plugin_dir(g), "/opt/p");
  EXPECT_EQ(abi_version_string(0x00020003), "2.3");
}

TEST_F(HostTest, RunsTheExamplePlugin) {
  auto s = Source::create(source("example", R"({"device":"dev-1","count":25,"batch":4,)"
                                            R"("payload":"{\"variable\":\"n\",\"value\":{i}}"})"),
                          0, kPluginDir, state_.path() + "/sources", mapping_, *buffer_);
  ASSERT_TRUE(s) << s.status().to_string();
  // The host made the source's state directory (ABI 1.1), private to the gateway's user.
  EXPECT_TRUE(std::filesystem::is_directory(state_.path() + "/sources/plant"));
  EXPECT_EQ(std::filesystem::status(state_.path() + "/sources").permissions(),
            std::filesystem::perms::owner_all);
  ASSERT_TRUE((*s)->start());
  ASSERT_TRUE(testing::wait_until([&] { return (*s)->stats().appended == 25; }, 5s));
  EXPECT_TRUE((*s)->stats().up);
  (*s)->stop();
  EXPECT_FALSE((*s)->stats().up);
  EXPECT_EQ((*s)->stats().messages, 25u);
  auto batch = buffer_->read(device_, 100, 1 << 20);
  ASSERT_TRUE(batch);
  ASSERT_EQ(batch->size(), 25u);
  EXPECT_TRUE(batch->reading(24).starts_with(R"({"variable":"n","value":25,)"))
      << batch->reading(24);
}

TEST_F(HostTest, ExamplePluginRetriesWhileTheBufferIsFull) {
  open_buffer(8 * 1024);
  const std::string payload =
      R"({\"variable\":\"blob\",\"value\":\")" + std::string(1000, 'x') + R"(\"})";
  auto s = Source::create(
      source("example", R"({"device":"dev-1","count":50,"payload":")" + payload + "\"}"), 0,
      kPluginDir, "", mapping_, *buffer_);
  ASSERT_TRUE(s) << s.status().to_string();
  ASSERT_TRUE((*s)->start());
  ASSERT_TRUE(testing::wait_until([&] { return (*s)->stats().rejected_buffer_full > 0; }, 5s));
  const std::uint64_t stored = (*s)->stats().appended;
  EXPECT_LT(stored, 50u);
  // The forwarder would drain the queue; here we ack what is there and the plugin goes on.
  auto batch = buffer_->read(device_, 1000, 1 << 20);
  ASSERT_TRUE(batch);
  ASSERT_TRUE(buffer_->ack(device_, buffer::AckPoint::of(batch->entries.back())));
  ASSERT_TRUE(testing::wait_until([&] { return (*s)->stats().appended > stored; }, 5s));
  (*s)->stop();  // returns although the plugin is still retrying
}

TEST_F(HostTest, ExamplePluginConfigErrorIsThePluginsMessage) {
  EXPECT_EQ(create_error(kPluginDir, "example", R"({"count":3})"),
            "sources[0] 'plant': plugin 'example': create failed (invalid argument): device: "
            "required");
}

TEST_F(HostTest, MissingFileSaysWhereItLooked) {
  EXPECT_EQ(create_error("/nonexistent/plugins", "mqtt"),
            "sources[0] 'plant': plugin 'mqtt': /nonexistent/plugins/libedgegw_mqtt.so not found "
            "(gateway.plugin_dir is /nonexistent/plugins)");
}

TEST_F(HostTest, WrongMajorIsRefused) {
  EXPECT_EQ(create_error(kTestPluginDir, "wrong_major"),
            "sources[0] 'plant': plugin 'wrong_major': " + kTestPluginDir +
                "/libedgegw_wrong_major.so is built for plugin ABI 2.0; this gateway supports ABI "
                "1.0 to " +
                abi_version_string(EDGEGW_PLUGIN_ABI_VERSION) +
                ": rebuild the plugin against this gateway's edgegw/plugin.h");
}

TEST_F(HostTest, NewerMinorIsRefused) {
  EXPECT_EQ(create_error(kTestPluginDir, "newer_minor"),
            "sources[0] 'plant': plugin 'newer_minor': " + kTestPluginDir +
                "/libedgegw_newer_minor.so is built for plugin ABI " +
                abi_version_string(EDGEGW_PLUGIN_ABI_VERSION + 7) + ", newer than this gateway's " +
                abi_version_string(EDGEGW_PLUGIN_ABI_VERSION) + ": upgrade the gateway or use a " +
                "plugin built for ABI " + abi_version_string(EDGEGW_PLUGIN_ABI_VERSION));
}

TEST_F(HostTest, MissingEntryPointIsRefused) {
  EXPECT_EQ(create_error(kTestPluginDir, "no_entry"),
            "sources[0] 'plant': plugin 'no_entry': " + kTestPluginDir +
                "/libedgegw_no_entry.so does not export edgegw_plugin_entry: it is not an edgegw "
                "plugin (or was built without EDGEGW_PLUGIN_EXPORT)");
}

TEST_F(HostTest, FailingCreateGivesThePluginsMessage) {
  EXPECT_EQ(create_error(kTestPluginDir, "failing_create"),
            "sources[0] 'plant': plugin 'failing_create': create failed (invalid argument): "
            "port: /dev/ttyUSB9 does not exist");
}

TEST_F(HostTest, NotASharedObjectIsOneClearLine) {
  dir_.write("libedgegw_junk.so", "not an ELF file");
  const std::string message = create_error(dir_.path(), "junk");
  EXPECT_TRUE(message.starts_with("sources[0] 'plant': plugin 'junk': cannot load " + dir_.path() +
                                  "/libedgegw_junk.so: "))
      << message;
}

// check-config's validate() says what Source::create says, with no buffer, and leaves nothing
// behind in the temporary directory.
TEST_F(HostTest, ValidateSaysWhatCreateSays) {
  testing::TempDir tmp;
  const char* old_tmp = ::getenv("TMPDIR");
  const std::string restore = old_tmp != nullptr ? old_tmp : "";
  ::setenv("TMPDIR", tmp.path().c_str(), 1);
  struct Case {
    std::string dir, plugin, config_json;
  };
  const Case failing[] = {
      {kPluginDir, "example", R"({"count":3})"},
      {"/nonexistent/plugins", "mqtt", "{}"},
      {kTestPluginDir, "wrong_major", "{}"},
      {kTestPluginDir, "failing_create", "{}"},
  };
  for (const Case& c : failing) {
    const Status s = validate(source(c.plugin, c.config_json), 0, c.dir);
    EXPECT_FALSE(s) << c.plugin;
    EXPECT_EQ(std::string(s.message()), create_error(c.dir, c.plugin, c.config_json));
  }
  const Status ok = validate(source("example", R"({"device":"dev-1","count":3})"), 0, kPluginDir);
  EXPECT_TRUE(ok) << ok.to_string();
  EXPECT_TRUE(std::filesystem::is_empty(tmp.path()));
  if (old_tmp != nullptr) {
    ::setenv("TMPDIR", restore.c_str(), 1);
  } else {
    ::unsetenv("TMPDIR");
  }
}

}  // namespace
}  // namespace edgegw::plugin_host
