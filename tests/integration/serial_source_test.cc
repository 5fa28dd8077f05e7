// SPDX-License-Identifier: Apache-2.0
// `edgegw run` with the serial plugin reading socat pseudo-terminal pairs (the test writes into
// one end, the gateway reads the other) and delivering to the cloud emulator: every format, a
// device field that routes one bus to several devices, a port that disappears and comes back,
// garbage that is counted while reading goes on, and `reject_new` back-pressure that loses
// nothing.
#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "launcher.h"
#include "support/http_client.h"
#include "support/pty.h"
#include "support/subprocess.h"

namespace edgegw {
namespace {

using namespace std::chrono_literals;
using namespace std::string_literals;

using testing::PtyPair;

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
    ++n;
  }
  return n;
}

struct Device {
  std::string key;
  std::string token;
};

std::string token_of(int i) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-1111-4222-8333-%012x", 0x5e41a100 + i, 0x44440000 + i);
  return buf;
}

// An emulator and a gateway config with the given sources and devices.
class Gateway {
 public:
  Gateway(const std::vector<Device>& devices, std::string extra = {}) : devices_(devices) {
    std::vector<std::string> args;
    for (const auto& d : devices) {
      args.push_back("--device");
      args.push_back(d.key + "=" + d.token);
    }
    cloud_ = std::make_unique<testing::CloudEmulator>(args);
    extra_ = std::move(extra);
  }

  std::string link(const std::string& name) const { return dir_.path() + "/" + name; }
  testing::CloudEmulator& cloud() { return *cloud_; }
  testing::Subprocess& process() { return *gw_; }

  void start(const std::string& sources, const std::string& log_level = "debug") {
    std::string c = "gateway:\n  data_dir: " + dir_.path() + "/data\n  log_level: " + log_level +
                    "\n  shutdown_timeout: 3s\n"
                    "metrics: { listen: '127.0.0.1:0' }\n"
                    "cloud:\n  url: " +
                    cloud_->url() +
                    "\n  batch: { max_readings: 500, linger: 20ms }\n"
                    "  retry: { initial_backoff: 20ms, max_backoff: 500ms }\n" +
                    extra_ + "sources:\n" + sources + "devices:\n";
    for (const auto& d : devices_) c += "  - key: " + d.key + "\n    token: " + d.token + "\n";
    c += "unmapped: reject\n";
    const std::string cfg = dir_.write("gw.yaml", c, 0600);
    gw_ = std::make_unique<testing::Subprocess>(
        std::vector<std::string>{testing::edgegw_binary(), "run", "-c", cfg});
  }

  // Waits for the n-th "opened PORT" of the source.
  bool wait_opened(const std::string& port, std::size_t n = 1) {
    return testing::wait_until([&] { return count_of(gw_->err(), "opened " + port + " (") >= n; },
                               15s);
  }

  std::int64_t readings(const std::string& device) {
    return cloud_->device_stat(device, "readings");
  }
  bool wait_readings(const std::string& device, std::int64_t n) {
    return testing::wait_until([&] { return readings(device) >= n; }, 30s);
  }

  // GET /data?variable=V&query=Q with the device's token: the bare result.
  std::string query(const Device& d, const std::string& variable, const std::string& q) {
    testing::HttpClient client = cloud_->client();
    auto r = client.get("/data?variable=" + variable + "&query=" + q, {{"Device-Token", d.token}});
    return r.body;
  }

  // SIGTERM, exit 0, and the whole log.
  std::string stop() {
    gw_->signal(SIGTERM);
    const auto code = gw_->wait(15s);
    EXPECT_EQ(code, 0) << gw_->err();
    return gw_->err();
  }

 private:
  testing::TempDir dir_;
  std::vector<Device> devices_;
  std::string extra_;
  std::unique_ptr<testing::CloudEmulator> cloud_;
  std::unique_ptr<testing::Subprocess> gw_;
};

std::string serial_source(const std::string& name, const std::string& format,
                          const std::string& port, const std::string& config,
                          const std::string& extra = "") {
  return "  - name: " + name + "\n    plugin: serial\n    format: " + format + "\n" + extra +
         "    config: { port: '" + port + "', baud: 115200, " + config +
         ", reopen_backoff: 20ms, reopen_max_backoff: 200ms }\n";
}

std::string summary(std::size_t appended, const std::string& dropped) {
  return "stopped: " + std::to_string(appended) + " frame(s) appended; dropped: " + dropped;
}

constexpr const char* kClean = "overlong=0 nul=0 invalid_utf8=0 partial=0 no_device=0";

TEST(SerialSource, LinesOfEveryFormatArrive) {
  const Device csv{"line-csv", token_of(1)}, flat{"line-flat", token_of(2)},
      tago{"line-tago", token_of(3)}, raw{"line-raw", token_of(4)};
  Gateway gw({csv, flat, tago, raw});
  PtyPair p_csv(gw.link("csv"), gw.link("csv-dev")), p_flat(gw.link("flat"), gw.link("flat-dev")),
      p_tago(gw.link("tago"), gw.link("tago-dev")), p_raw(gw.link("raw"), gw.link("raw-dev"));
  gw.start(
      serial_source("s-csv", "csv", p_csv.gw_link(), "device: line-csv") +
      serial_source("s-flat", "flat_json", p_flat.gw_link(), "device: line-flat") +
      serial_source("s-tago", "tago_json", p_tago.gw_link(), "device: line-tago, data_bits: 8") +
      serial_source("s-raw", "raw", p_raw.gw_link(),
                    "device: line-raw, framing: delimiter, delimiter: ';'",
                    "    variable: level\n"));
  for (const auto* p : {&p_csv, &p_flat, &p_tago, &p_raw}) {
    ASSERT_TRUE(gw.wait_opened(p->gw_link())) << gw.process().err();
  }

  std::string csv_text, flat_text, tago_text, raw_text;
  for (int i = 1; i <= 100; ++i) {
    const std::string n = std::to_string(i);
    csv_text += "temp," + n + ",C" + (i % 2 ? "\r\n" : "\n");  // CRLF and LF lines
    flat_text += R"({"temperature":)" + n + R"(,"humidity":)" + n + "}\n";
    tago_text +=
        R"({"variable":"level","value":)" + n + R"(,"unit":"m","metadata":{"seq":)" + n + "}}\n";
    raw_text += n + ";";
  }
  // Writes of every size: the framer joins what the tty layer splits.
  for (std::size_t at = 0; at < csv_text.size(); at += 7) p_csv.write(csv_text.substr(at, 7));
  p_flat.write(flat_text);
  p_tago.write(tago_text);
  p_raw.write(raw_text);

  ASSERT_TRUE(gw.wait_readings("line-csv", 100)) << gw.process().err();
  ASSERT_TRUE(gw.wait_readings("line-flat", 200)) << gw.process().err();
  ASSERT_TRUE(gw.wait_readings("line-tago", 100)) << gw.process().err();
  ASSERT_TRUE(gw.wait_readings("line-raw", 100)) << gw.process().err();

  // Every value once: the sums of 1..100.
  EXPECT_EQ(gw.query(csv, "temp", "sum"), R"({"status":true,"result":5050})");
  EXPECT_EQ(gw.query(flat, "temperature", "sum"), R"({"status":true,"result":5050})");
  EXPECT_EQ(gw.query(flat, "humidity", "sum"), R"({"status":true,"result":5050})");
  EXPECT_EQ(gw.query(raw, "level", "sum"), R"({"status":true,"result":5050})");
  EXPECT_EQ(gw.query(tago, "level", "sum"), R"({"status":true,"result":5050})");
  EXPECT_NE(gw.query(csv, "temp", "last_item").find(R"("unit":"C")"), std::string::npos);
  auto& cloud = gw.cloud();
  EXPECT_EQ(cloud.device_stat("line-tago", "order_violations"), 0);
  EXPECT_EQ(cloud.device_stat("line-tago", "distinct_seqs"), 100);
  EXPECT_EQ(cloud.device_stat("line-tago", "duplicates"), 0);

  const std::string log = gw.stop();
  EXPECT_NE(log.find("opened " + p_csv.gw_link() + " (/dev/pts/"), std::string::npos) << log;
  EXPECT_NE(log.find("at 115200 baud 8N1"), std::string::npos) << log;
  EXPECT_NE(log.find("source s-csv: " + summary(100, kClean)), std::string::npos) << log;
  EXPECT_NE(log.find("source s-flat: " + summary(100, kClean)), std::string::npos) << log;
  EXPECT_NE(log.find("source s-tago: " + summary(100, kClean)), std::string::npos) << log;
  EXPECT_NE(log.find("source s-raw: " + summary(100, kClean)), std::string::npos) << log;
  for (const auto& d : {csv, flat, tago, raw}) EXPECT_EQ(log.find(d.token), std::string::npos);
}

TEST(SerialSource, DeviceFieldRoutesOneBusToSeveralDevices) {
  const Device p1{"press-1", token_of(11)}, p2{"press-2", token_of(12)},
      p3{"press-3", token_of(13)};
  Gateway gw({p1, p2, p3});
  PtyPair bus_csv(gw.link("bus-csv"), gw.link("bus-csv-dev"));
  PtyPair bus_json(gw.link("bus-json"), gw.link("bus-json-dev"));
  gw.start(serial_source("bus-csv", "csv", bus_csv.gw_link(), "device_field: 3") +
           serial_source("bus-json", "flat_json", bus_json.gw_link(), "device_field: dev"));
  ASSERT_TRUE(gw.wait_opened(bus_csv.gw_link())) << gw.process().err();
  ASSERT_TRUE(gw.wait_opened(bus_json.gw_link())) << gw.process().err();

  std::string csv_text, json_text;
  std::int64_t sums[3] = {0, 0, 0};
  for (int i = 1; i <= 60; ++i) {
    const std::string dev = "press-" + std::to_string(i % 3 + 1);
    sums[i % 3] += i;
    csv_text += "temp," + std::to_string(i) + "," + dev + "\n";
    json_text += R"({"humidity":)" + std::to_string(i) + R"(,"dev":")" + dev + "\"}\n";
    if (i == 30) {
      csv_text += "temp,5\n";                         // no third column: counted, dropped
      csv_text += "temp,7,ghost\n";                   // a device nobody mapped: the host's count
      csv_text += "# a comment of the csv format\n";  // skipped
      json_text += R"({"humidity":1})"
                   "\n";  // no "dev": counted, dropped
    }
  }
  bus_csv.write(csv_text);
  bus_json.write(json_text);

  for (const auto* d : {&p1, &p2, &p3}) {
    ASSERT_TRUE(gw.wait_readings(d->key, 40)) << gw.process().err();
  }
  const Device* by_index[3] = {&p1, &p2, &p3};
  for (int k = 0; k < 3; ++k) {
    // i % 3 == k went to press-(k+1).
    const std::string expected = R"({"status":true,"result":)" + std::to_string(sums[k]) + "}";
    EXPECT_EQ(gw.query(*by_index[k], "temp", "sum"), expected) << by_index[k]->key;
    EXPECT_EQ(gw.query(*by_index[k], "humidity", "sum"), expected) << by_index[k]->key;
    // The device field is not a reading of its own.
    EXPECT_EQ(gw.query(*by_index[k], "dev", "count"), R"({"status":true,"result":0})");
  }

  const std::string log = gw.stop();
  for (const auto* d : {&p1, &p2, &p3}) EXPECT_EQ(gw.readings(d->key), 40);
  EXPECT_NE(log.find("source bus-csv: " +
                     summary(61, "overlong=0 nul=0 invalid_utf8=0 partial=0 no_device=1")),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("source bus-json: " +
                     summary(60, "overlong=0 nul=0 invalid_utf8=0 partial=0 no_device=1")),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("frame(s) without a usable device key dropped"), std::string::npos) << log;
  EXPECT_NE(log.find("device 'ghost'"), std::string::npos) << log;
}

TEST(SerialSource, ReadingResumesWhenThePortDisappearsAndComesBack) {
  const Device tank{"tank-1", token_of(21)};
  Gateway gw({tank});
  PtyPair pty(gw.link("tty-tank"), gw.link("tty-tank-dev"));
  gw.start(serial_source("tank", "tago_json", pty.gw_link(), "device: tank-1"));
  ASSERT_TRUE(gw.wait_opened(pty.gw_link())) << gw.process().err();

  auto lines = [](int from, int to) {
    std::string s;
    for (int i = from; i <= to; ++i) {
      s += R"({"variable":"level","value":)" + std::to_string(i) + R"(,"metadata":{"seq":)" +
           std::to_string(i) + "}}\n";
    }
    return s;
  };
  pty.write(lines(1, 50));
  ASSERT_TRUE(gw.wait_readings("tank-1", 50)) << gw.process().err();

  // A line cut off by the disconnect: once socat has passed it on, it waits in the gateway's
  // side of the pty (or is read already) and is dropped as partial, never delivered.
  const std::string partial = R"({"variable":"level","val)";
  pty.write(partial);
  ASSERT_TRUE(pty.wait_transferred(partial.size()));
  // A pty's hang-up discards input nobody read yet: let the gateway read it first.
  ASSERT_TRUE(pty.wait_read_by_gateway());
  pty.stop();
  ASSERT_TRUE(gw.process().wait_for_err("lost " + pty.gw_link() + ": ", 15s)) << gw.process().err();
  // The link is gone: the gateway retries (debug lines) but warns once.
  const std::string cannot = "cannot open " + pty.gw_link() + ": No such file or directory";
  ASSERT_TRUE(testing::wait_until([&] { return count_of(gw.process().err(), cannot) >= 4; }, 15s))
      << gw.process().err();

  pty.start();  // a new pty pair (other /dev/pts numbers) under the same link
  ASSERT_TRUE(gw.wait_opened(pty.gw_link(), 2)) << gw.process().err();
  pty.write(lines(51, 100));
  ASSERT_TRUE(gw.wait_readings("tank-1", 100)) << gw.process().err();
  auto& cloud = gw.cloud();
  EXPECT_EQ(cloud.device_stat("tank-1", "distinct_seqs"), 100);
  EXPECT_EQ(cloud.device_stat("tank-1", "missing_seqs"), 0);
  EXPECT_EQ(cloud.device_stat("tank-1", "order_violations"), 0);
  EXPECT_EQ(cloud.device_stat("tank-1", "duplicates"), 0);

  const std::string log = gw.stop();
  EXPECT_EQ(gw.readings("tank-1"), 100);
  // Warned once for the outage however often it retried; the rest at debug level.
  EXPECT_EQ(count_of(log, " warning [source] source tank: " + cannot), 1u) << log;
  EXPECT_NE(log.find("source tank: " +
                     summary(100, "overlong=0 nul=0 invalid_utf8=0 partial=1 no_device=0")),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("unterminated frame(s) dropped when the port closed"), std::string::npos);
}

TEST(SerialSource, GarbageOverlongLinesAndBinaryNoiseAreCountedAndReadingGoesOn) {
  const Device meter{"meter-1", token_of(31)};
  Gateway gw({meter});
  PtyPair pty(gw.link("tty-meter"), gw.link("tty-meter-dev"));
  gw.start(serial_source("meter", "tago_json", pty.gw_link(), "device: meter-1"));
  ASSERT_TRUE(gw.wait_opened(pty.gw_link())) << gw.process().err();

  auto line = [](int i) {
    return R"({"variable":"power","value":)" + std::to_string(i) + R"(,"metadata":{"seq":)" +
           std::to_string(i) + "}}\n";
  };
  std::string s;
  for (int i = 1; i <= 50; ++i) s += line(i);
  for (int k = 0; k < 3; ++k) s += std::string(5000, 'x') + "\n";  // overlong (max_frame 4096)
  s += "{\"variable\":\"power\",\"value\":\0\0\x01}\n"s;           // NUL bytes
  s += "\x00\x00\x00\x00\n"s;                                      // NULs alone
  s += "{\"variable\":\"power\",\"value\":\"\xff\xfe\"}\n";        // not UTF-8
  s += "\xc0\xaf\xed\xa0\x80\n";                                   // overlong form, surrogate
  s += "%%% this is no JSON at all ###\n";                         // the host's decode count
  // Binary noise: 3000 random bytes without a newline, one of them NUL: one frame, a NUL frame.
  std::mt19937 rng(42);
  std::string noise(3000, '\0');
  for (char& c : noise) {
    c = static_cast<char>(rng() % 256);
    if (c == '\n') c = 'n';
  }
  noise[1234] = '\0';
  s += noise + "\n";
  for (int i = 51; i <= 100; ++i) s += line(i);
  pty.write(s);

  ASSERT_TRUE(gw.wait_readings("meter-1", 100)) << gw.process().err();
  auto& cloud = gw.cloud();
  EXPECT_EQ(cloud.device_stat("meter-1", "distinct_seqs"), 100);
  EXPECT_EQ(cloud.device_stat("meter-1", "order_violations"), 0);

  const std::string log = gw.stop();
  EXPECT_EQ(gw.readings("meter-1"), 100);
  // 100 good lines and the one the host could not decode were appended.
  EXPECT_NE(log.find("source meter: " +
                     summary(101, "overlong=3 nul=3 invalid_utf8=2 partial=0 no_device=0")),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("frame(s) longer than max_frame dropped"), std::string::npos) << log;
  EXPECT_NE(log.find("frame(s) holding a NUL byte dropped"), std::string::npos) << log;
  EXPECT_NE(log.find("frame(s) that are not valid UTF-8 dropped"), std::string::npos) << log;
  EXPECT_NE(log.find("payload not decoded"), std::string::npos) << log;
}

TEST(SerialSource, AFullBufferStopsReadingAndLosesNothing) {
  const Device flow{"flow-1", token_of(41)};
  Gateway gw({flow}, "buffer: { max_bytes: 1MiB, on_full: reject_new, sync: none }\n");
  PtyPair pty(gw.link("tty-flow"), gw.link("tty-flow-dev"));
  // The cloud is down: the buffer fills.
  gw.cloud().set_fault(R"({"status":503})");
  gw.start(serial_source("flow", "tago_json", pty.gw_link(), "device: flow-1"));
  ASSERT_TRUE(gw.wait_opened(pty.gw_link())) << gw.process().err();

  // ~5 MB: more than the buffer, the plugin's queue and the pty's buffers hold together, so the
  // writer blocks until the gateway reads again.
  constexpr int kLines = 100000;
  std::atomic<bool> written{false};
  std::thread writer([&] {
    std::string chunk;
    for (int i = 1; i <= kLines; ++i) {
      chunk += R"({"variable":"flow","value":)" + std::to_string(i) + R"(,"metadata":{"seq":)" +
               std::to_string(i) + "}}\n";
      if (chunk.size() > 16384 || i == kLines) {
        pty.write(chunk);
        chunk.clear();
      }
    }
    written = true;
  });
  ASSERT_TRUE(gw.process().wait_for_err("the buffer refused", 30s)) << gw.process().err();
  ASSERT_TRUE(gw.process().wait_for_err("reading from " + pty.gw_link() + " paused", 30s))
      << gw.process().err();
  EXPECT_FALSE(written.load());  // the port is not being read: the writer is held up

  gw.cloud().clear_faults();
  const bool all = testing::wait_until([&] { return gw.readings("flow-1") >= kLines; }, 60s);
  writer.join();
  ASSERT_TRUE(all) << gw.process().err();
  auto& cloud = gw.cloud();
  EXPECT_EQ(cloud.device_stat("flow-1", "distinct_seqs"), kLines);
  EXPECT_EQ(cloud.device_stat("flow-1", "missing_seqs"), 0);
  EXPECT_EQ(cloud.device_stat("flow-1", "order_violations"), 0);

  const std::string log = gw.stop();
  EXPECT_NE(log.find("the buffer accepts again: reading from " + pty.gw_link() + " resumed"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("source flow: " + summary(kLines, kClean)), std::string::npos) << log;
}

TEST(SerialSource, BadConfigStopsStartUpNamingTheKey) {
  testing::TempDir dir;
  const std::string cfg = dir.write(
      "gw.yaml", "gateway:\n  data_dir: " + dir.path() +
                     "/data\ncloud:\n  url: http://127.0.0.1:9\n"
                     "sources:\n  - name: line1\n    plugin: serial\n    format: csv\n"
                     "    config: { port: /dev/ttyUSB0, baud: 115201, device: press-7 }\n");
  auto r = testing::run_command({testing::edgegw_binary(), "run", "-c", cfg});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("sources[0] 'line1': plugin 'serial': create failed (invalid argument): "
                       "baud: 115201 is not a standard rate"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace edgegw
