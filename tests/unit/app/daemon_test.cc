// SPDX-License-Identifier: Apache-2.0
// `edgegw run`: start, reload on SIGHUP, graceful stop on SIGTERM, clear start-up failures.
#include <gtest/gtest.h>

#include <csignal>

#include "support/subprocess.h"

namespace edgegw::app {
namespace {

using namespace std::chrono_literals;
using testing::Subprocess;
using testing::TempDir;

constexpr const char* kToken = "7c1f3a52-9e0b-4d6a-8c2f-5b4e3d2a1f00";

std::string config_text(const std::string& data_dir, const std::string& level = "trace") {
  return "gateway:\n"
         "  id: test-gw\n"
         "  data_dir: " +
         data_dir +
         "\n"
         "  log_level: " +
         level +
         "\n"
         "  shutdown_timeout: 2s\n"
         "metrics: { listen: '127.0.0.1:0' }\n"
         "devices:\n"
         "  - key: boiler-1\n"
         "    token: " +
         kToken + "\n";
}

TEST(Daemon, StartsReloadsAndStopsGracefully) {
  TempDir dir;
  const std::string cfg = dir.write("gw.yaml", config_text(dir.path() + "/data"));
  Subprocess gw({testing::edgegw_binary(), "run", "-c", cfg});
  ASSERT_TRUE(gw.wait_for_err("edgegw started: id=test-gw", 10s)) << gw.err();

  // An invalid new config is refused and the old one kept.
  dir.write("gw.yaml", "gateway:\n  data_dir: [oops\n");
  gw.signal(SIGHUP);
  ASSERT_TRUE(gw.wait_for_err("reload refused", 10s)) << gw.err();
  EXPECT_TRUE(gw.running());

  // A valid one is applied: at warn level the next info line is not written.
  dir.write("gw.yaml", config_text(dir.path() + "/data", "warn"));
  gw.signal(SIGHUP);
  ASSERT_TRUE(gw.wait_for_err("config reloaded", 10s)) << gw.err();

  gw.signal(SIGTERM);
  EXPECT_EQ(gw.wait(10s), 0) << gw.err();
  EXPECT_EQ(gw.err().find("edgegw stopped"), std::string::npos);  // info, below warn now
  EXPECT_EQ(gw.err().find(kToken), std::string::npos);
}

TEST(Daemon, SigintStopsWithExitZero) {
  TempDir dir;
  const std::string cfg = dir.write("gw.yaml", config_text(dir.path() + "/data", "info"));
  Subprocess gw({testing::edgegw_binary(), "run", "-c", cfg});
  ASSERT_TRUE(gw.wait_for_err("edgegw started", 10s)) << gw.err();
  gw.signal(SIGINT);
  EXPECT_EQ(gw.wait(10s), 0) << gw.err();
  EXPECT_NE(gw.err().find("SIGINT: stopping"), std::string::npos) << gw.err();
  EXPECT_NE(gw.err().find("edgegw stopped"), std::string::npos) << gw.err();
}

TEST(Daemon, UnusableDataDirIsOneClearLine) {
  TempDir dir;
  const std::string file = dir.write("not-a-dir", "x");
  const std::string cfg = dir.write("gw.yaml", config_text(file + "/data"));
  auto r = testing::run_command({testing::edgegw_binary(), "run", "-c", cfg});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "edgegw: cannot start: cannot create data_dir '" + file + "/data': Not a directory\n");
}

TEST(Daemon, SecondInstanceOnTheSameDataDirIsRefused) {
  TempDir dir;
  const std::string cfg = dir.write("gw.yaml", config_text(dir.path() + "/data", "info"));
  Subprocess first({testing::edgegw_binary(), "run", "-c", cfg});
  ASSERT_TRUE(first.wait_for_err("edgegw started", 10s)) << first.err();
  auto r = testing::run_command({testing::edgegw_binary(), "run", "-c", cfg});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("is in use by another edgegw process"), std::string::npos) << r.err;
  first.signal(SIGTERM);
  EXPECT_EQ(first.wait(10s), 0);
}

TEST(Daemon, InvalidConfigDoesNotStart) {
  TempDir dir;
  const std::string cfg = dir.write("gw.yaml", "gateway:\n  log_level: loud\n");
  auto r = testing::run_command({testing::edgegw_binary(), "run", "-c", cfg});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("not starting"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace edgegw::app
