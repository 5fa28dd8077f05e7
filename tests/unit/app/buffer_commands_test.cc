// SPDX-License-Identifier: Apache-2.0
// `edgegw buffer ...` through the real binary, on a buffer filled through the Buffer API.
#include "app/buffer_commands.h"

#include <gtest/gtest.h>

#include <csignal>

#include <boost/json.hpp>

#include "buffer/buffer.h"
#include "support/subprocess.h"

namespace edgegw::app {
namespace {

using namespace std::chrono_literals;
using testing::run_command;

class BufferCommands : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ =
        dir_.write("gw.yaml", "gateway:\n  data_dir: " + dir_.path() +
                                  "/data\n  log_level: info\nmetrics: { listen: '127.0.0.1:0' }\n");
    buffer::Options o;
    o.path = dir_.path() + "/data/buffer";
    auto b = std::move(buffer::Buffer::open(o)).value();
    const auto boiler = *b->register_device("boiler-1");
    const auto press = *b->register_device("press-7");
    const std::string r1 = R"({"variable":"temperature","value":21.5})";
    const std::string r2 = R"({"variable":"pressure","value":3})";
    std::vector<buffer::Record> records = {{boiler, r1}, {boiler, r1}, {press, r2}};
    ASSERT_TRUE(b->append(records));
    ASSERT_TRUE(b->dead_letter(press, r2, "value out of range", 400));
  }
  testing::RunResult edgegw(std::vector<std::string> args) {
    args.insert(args.begin(), testing::edgegw_binary());
    args.push_back("-c");
    args.push_back(config_);
    return run_command(args);
  }
  testing::TempDir dir_;
  std::string config_;
};

TEST_F(BufferCommands, StatsListsDevicesAndTotals) {
  auto r = edgegw({"buffer", "stats"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("boiler-1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("press-7"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("total                                       3"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("dead letters: 1"), std::string::npos) << r.out;
}

TEST_F(BufferCommands, DeadLetterListRetryPurge) {
  auto r = edgegw({"buffer", "dead-letter", "list"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto line = boost::json::parse(r.out);
  EXPECT_EQ(line.at("device").as_string(), "press-7");
  EXPECT_EQ(line.at("status").as_int64(), 400);
  EXPECT_EQ(line.at("reason").as_string(), "value out of range");
  EXPECT_EQ(line.at("reading").at("variable").as_string(), "pressure");

  r = edgegw({"buffer", "dead-letter", "retry"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "1 dead letter(s) queued again; they are sent when the gateway runs\n");
  r = edgegw({"buffer", "stats"});
  EXPECT_NE(r.out.find("dead letters: 0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("total                                       4"), std::string::npos)
      << r.out;
  r = edgegw({"buffer", "dead-letter", "purge"});
  EXPECT_EQ(r.out, "0 dead letter(s) deleted\n");
}

TEST_F(BufferCommands, RepairKeepsTheData) {
  auto r = edgegw({"buffer", "repair"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("3 reading(s) and 1 dead letter(s) recovered"), std::string::npos) << r.out;
}

TEST_F(BufferCommands, WritingCommandsRefuseWhileTheGatewayRuns) {
  testing::Subprocess gw({testing::edgegw_binary(), "run", "-c", config_});
  ASSERT_TRUE(gw.wait_for_err("edgegw started", 10s)) << gw.err();
  EXPECT_NE(gw.err().find("buffer: 3 reading(s)"), std::string::npos) << gw.err();
  auto r = edgegw({"buffer", "dead-letter", "purge"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("stop the gateway first"), std::string::npos) << r.err;
  r = edgegw({"buffer", "stats"});  // read-only: fine while running
  EXPECT_EQ(r.exit_code, 0) << r.err;
  gw.signal(SIGTERM);
  EXPECT_EQ(gw.wait(10s), 0);
}

TEST(FormatAge, ReadableUnits) {
  EXPECT_EQ(format_age(0), "0s");
  EXPECT_EQ(format_age(59999), "59s");
  EXPECT_EQ(format_age(61000), "1m1s");
  EXPECT_EQ(format_age(2 * 3600000 + 13 * 60000), "2h13m");
  EXPECT_EQ(format_age(3 * 86400000LL + 4 * 3600000), "3d4h");
  EXPECT_EQ(format_age(-5), "-");
}

}  // namespace
}  // namespace edgegw::app
