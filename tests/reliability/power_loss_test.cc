// `buffer.sync: always` survives a power cut only if the WAL is synced before the source
// acknowledges. The gateway runs under strace; every PUBACK must come after an fsync/fdatasync of
// the buffer's WAL that returned after the previous PUBACK (the reasoning: POWER_LOSS.md). The
// same check must fail with `sync: none`, which shows that it measures something.
#include <gtest/gtest.h>

#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "harness.h"

namespace edgegw::reliability {
namespace {

using namespace std::chrono_literals;

constexpr int kMessages = 40;

// The gateway's pid: strace's only child.
pid_t child_of(pid_t parent) {
  std::ifstream children("/proc/" + std::to_string(parent) + "/task/" + std::to_string(parent) +
                         "/children");
  pid_t pid = 0;
  children >> pid;
  return pid;
}

struct SyncCheck {
  int pubacks = 0;
  int unsynced = 0;  // PUBACKs with no WAL sync since the previous PUBACK
  int wal_syncs = 0;
};

// Walks strace's lines in order. A sync counts when it returned (a whole line, or its
// "resumed" line) with 0 on a WAL file (`-y` prints the path: ".../buffer/000004.log").
SyncCheck check_trace(const std::string& trace) {
  static const std::regex kSync(
      R"((?:^\d+\s+(?:fsync|fdatasync)\(\d+<[^>]*/buffer/\d+\.log>\)|<\.\.\. (?:fsync|fdatasync) resumed>\)) += 0)");
  static const std::regex kWalSyncStart(
      R"(^(\d+)\s+(?:fsync|fdatasync)\(\d+<[^>]*/buffer/\d+\.log>)");
  // A PUBACK: the 4 bytes 0x40 0x02 id id, as one write/send or the first iovec of a writev.
  static const std::regex kPuback(R"(^\d+\s+(?:write|send|sendto|writev|sendmsg)\(.*"\\x40\\x02)");
  SyncCheck check;
  bool synced_since_last = false;
  std::set<std::string> wal_sync_pending;  // pids whose WAL sync is unfinished
  std::istringstream lines(trace);
  std::string line;
  while (std::getline(lines, line)) {
    std::smatch m;
    if (std::regex_search(line, m, kWalSyncStart) &&
        line.find("<unfinished ...>") != std::string::npos) {
      wal_sync_pending.insert(m[1]);
      continue;
    }
    if (std::regex_search(line, kSync)) {
      // A resumed line names no file: it counts only if its start was a WAL sync.
      const bool resumed = line.find("resumed>") != std::string::npos;
      const std::string pid = line.substr(0, line.find_first_of(" \t"));
      if (!resumed || wal_sync_pending.erase(pid) > 0) {
        synced_since_last = true;
        ++check.wal_syncs;
      }
      continue;
    }
    if (std::regex_search(line, kPuback)) {
      ++check.pubacks;
      if (!synced_since_last) ++check.unsynced;
      synced_since_last = false;
    }
  }
  return check;
}

// `cloud`: where the gateway forwards; none: nothing listens there, so the forwarder never
// removes anything.
SyncCheck run_traced(const std::string& sync, std::string& trace_out,
                     testing::CloudEmulator* cloud = nullptr) {
  testing::Mosquitto broker;
  testing::TempDir dir;
  GatewayOptions options;
  options.devices = 1;
  options.sync = sync;
  const std::string cloud_url =
      cloud != nullptr ? cloud->url() : "http://127.0.0.1:" + std::to_string(testing::free_port());
  const std::string config = dir.write(
      "gw.yaml", gateway_config(dir.path() + "/data", cloud_url, broker.uri(), options), 0600);
  const std::string trace = dir.path() + "/strace.txt";
  testing::Subprocess strace({"strace", "-f", "-y", "-qq", "-x", "-s", "8", "-e", "signal=none",
                              "-e", "trace=fsync,fdatasync,write,writev,send,sendto,sendmsg", "-o",
                              trace, testing::edgegw_binary(), "run", "-c", config},
                             // LeakSanitizer (asan preset) cannot run under a tracer.
                             {"ASAN_OPTIONS=detect_leaks=0"});
  EXPECT_TRUE(wait_subscribed(strace, 30s)) << strace.err();
  testing::MqttPublisher pub(broker.uri(), "one-at-a-time");
  for (int seq = 1; seq <= kMessages; ++seq) {
    // publish() returns when the broker acknowledged the publisher, which says nothing about
    // the gateway: wait for the gateway's own PUBACK of this message before sending the next.
    EXPECT_TRUE(pub.publish("sensors/dev-1/data", payload(seq)));
    const int before = seq;
    EXPECT_TRUE(testing::wait_until(
        [&] { return check_trace(testing::read_file(trace)).pubacks >= before; }, 10s))
        << "no PUBACK for message " << seq << " in the trace";
    if (cloud != nullptr) {
      // Delivered (and so removed from the buffer) before the next one arrives.
      EXPECT_TRUE(testing::wait_until(
          [&] { return cloud->stats().at("readings_accepted").to_number<int>() >= before; }, 10s))
          << "message " << seq << " did not reach the cloud";
    }
  }
  const pid_t gateway = child_of(strace.pid());
  EXPECT_GT(gateway, 0);
  if (gateway > 0) ::kill(gateway, SIGTERM);
  EXPECT_EQ(strace.wait(20s), 0) << strace.err();
  trace_out = testing::read_file(trace);
  return check_trace(trace_out);
}

TEST(PowerLoss, SyncAlwaysSyncsTheWalBeforeEveryAcknowledgement) {
  if (const auto probe = testing::run_command({"strace", "-f", "-o", "/dev/null", "true"});
      probe.exit_code != 0) {
    GTEST_SKIP() << "strace cannot trace here (deploy/setup.sh installs it; ptrace must be "
                    "allowed): "
                 << probe.err;
  }
  std::string trace;
  const SyncCheck always = run_traced("always", trace);
  EXPECT_EQ(always.pubacks, kMessages) << trace.substr(0, 4000);
  EXPECT_EQ(always.unsynced, 0) << "PUBACKs sent before the WAL was synced\n" << trace;
  EXPECT_GE(always.wal_syncs, kMessages);

  // The control: without sync, acknowledgements go out with no sync before them.
  const SyncCheck none = run_traced("none", trace);
  EXPECT_EQ(none.pubacks, kMessages) << trace.substr(0, 4000);
  EXPECT_GT(none.unsynced, kMessages / 2) << "the check did not notice missing syncs\n" << trace;
}

// Removing delivered readings needs no sync: a removal lost to a power cut only brings readings
// back to be sent again. With the cloud up, each of the messages is appended (a sync before its
// PUBACK) and then delivered and removed (no sync): about one WAL sync per message, not two.
TEST(PowerLoss, SyncAlwaysDoesNotSyncTheRemovalOfDeliveredReadings) {
  if (const auto probe = testing::run_command({"strace", "-f", "-o", "/dev/null", "true"});
      probe.exit_code != 0) {
    GTEST_SKIP() << "strace cannot trace here: " << probe.err;
  }
  testing::CloudEmulator cloud(emulator_args(1));
  std::string trace;
  const SyncCheck check = run_traced("always", trace, &cloud);
  EXPECT_EQ(check.pubacks, kMessages) << trace.substr(0, 4000);
  EXPECT_EQ(check.unsynced, 0) << "PUBACKs sent before the WAL was synced\n" << trace;
  EXPECT_EQ(cloud.stats().at("readings_accepted").to_number<int>(), kMessages);
  // Appends, plus a few for the device's registration at start: far fewer than appends + removals.
  EXPECT_LT(check.wal_syncs, kMessages + kMessages / 2) << trace;
}

}  // namespace
}  // namespace edgegw::reliability
