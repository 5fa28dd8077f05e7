// SPDX-License-Identifier: Apache-2.0
// The mqtt plugin in the real gateway against a real Mosquitto (started by the test on a free port)
// and the cloud emulator: readings arrive complete and in order per device through a broker
// restart, a kill -9 of the gateway, credentials, TLS, malformed payloads and a shared
// subscription split over two gateways.
#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <boost/json/serialize.hpp>

#include "launcher.h"
#include "support/mosquitto.h"
#include "support/mqtt_publisher.h"
#include "support/pki.h"
#include "support/subprocess.h"
#include "support/tokens.h"

namespace edgegw {
namespace {

using namespace std::chrono_literals;
using testing::Mosquitto;
using testing::MqttPublisher;

constexpr int kDevices = 4;

std::string token(int device) { return testing::fake_token(device); }

std::vector<std::string> emulator_devices() {
  std::vector<std::string> args;
  for (int d = 1; d <= kDevices; ++d) {
    args.push_back("--device");
    args.push_back("dev-" + std::to_string(d) + "=" + token(d));
  }
  return args;
}

std::string payload(int seq) {
  return R"({"variable":"temp","value":)" + std::to_string(seq % 97) + R"(,"metadata":{"seq":)" +
         std::to_string(seq) + "}}";
}

// A gateway config with one mqtt source whose `config:` holds `mqtt` (YAML flow mapping lines).
std::string gateway_config(const std::string& data_dir, const std::string& cloud_url,
                           const std::string& mqtt) {
  std::string devices;
  for (int d = 1; d <= kDevices; ++d) {
    devices += "  - key: dev-" + std::to_string(d) + "\n    token: " + token(d) + "\n";
  }
  return "gateway:\n  data_dir: " + data_dir +
         "\n  log_level: info\n  shutdown_timeout: 3s\n"
         "metrics:\n  listen: 127.0.0.1:0\n"
         "cloud:\n  url: " +
         cloud_url +
         "\n  batch: { max_readings: 100, linger: 20ms }\n"
         "  retry: { initial_backoff: 20ms, max_backoff: 500ms }\n"
         "sources:\n  - name: plant\n    plugin: mqtt\n    format: tago_json\n    config:\n" +
         mqtt + "devices:\n" + devices + "unmapped: reject\n";
}

std::string mqtt_block(const std::string& uri, const std::string& client_id,
                       const std::string& extra = "",
                       const std::string& topic = "sensors/{device}/data") {
  return "      uri: " + uri + "\n      client_id: " + client_id + "\n      topics: [\"" + topic +
         "\"]\n      qos: 1\n      clean_session: false\n      reconnect_min: 50ms\n"
         "      reconnect_max: 500ms\n" +
         extra;
}

// Writes <dir>/<name>.yaml (data in <dir>/<name>) and returns its path.
std::string write_config(const testing::TempDir& dir, const std::string& name,
                         const std::string& cloud_url, const std::string& mqtt) {
  return dir.write(name + ".yaml", gateway_config(dir.path() + "/" + name, cloud_url, mqtt), 0600);
}

std::int64_t total(testing::CloudEmulator& cloud, const std::string& field) {
  std::int64_t sum = 0;
  for (int d = 1; d <= kDevices; ++d) sum += cloud.device_stat("dev-" + std::to_string(d), field);
  return sum;
}

// Every device got seqs 1..n (each at least once), none out of order.
void expect_complete(testing::CloudEmulator& cloud, int n, bool allow_duplicates) {
  for (int d = 1; d <= kDevices; ++d) {
    const std::string dev = "dev-" + std::to_string(d);
    EXPECT_EQ(cloud.device_stat(dev, "distinct_seqs"), n) << dev;
    EXPECT_EQ(cloud.device_stat(dev, "missing_seqs"), 0) << dev;
    EXPECT_EQ(cloud.device_stat(dev, "order_violations"), 0) << dev;
    if (!allow_duplicates) {
      EXPECT_EQ(cloud.device_stat(dev, "duplicates"), 0) << dev;
    }
  }
}

// Publishes seqs [from, to] for every device, one message at a time (each acknowledged before
// the next: a publisher that survives a broker restart without reordering).
void publish_range(MqttPublisher& pub, int from, int to) {
  for (int seq = from; seq <= to; ++seq) {
    for (int d = 1; d <= kDevices; ++d) {
      ASSERT_TRUE(pub.publish("sensors/dev-" + std::to_string(d) + "/data", payload(seq)));
    }
  }
}

bool wait_distinct(testing::CloudEmulator& cloud, int n, std::chrono::milliseconds timeout) {
  return testing::wait_until([&] { return total(cloud, "distinct_seqs") == n * kDevices; },
                             timeout);
}

// The gateway's source is up once it logged its subscription.
bool wait_subscribed(const testing::Subprocess& gw, std::chrono::milliseconds timeout = 15s) {
  return gw.wait_for_err("subscribed to", timeout);
}

TEST(MqttSource, DeliversManyDevicesInOrderAndCountsMalformedPayloads) {
  Mosquitto broker;
  testing::CloudEmulator cloud(emulator_devices());
  testing::TempDir dir;
  const std::string cfg = write_config(dir, "gw", cloud.url(), mqtt_block(broker.uri(), "gw"));
  testing::Subprocess gw({testing::edgegw_binary(), "run", "-c", cfg});
  ASSERT_TRUE(wait_subscribed(gw)) << gw.err();

  constexpr int kPerDevice = 500;
  std::vector<MqttPublisher::Message> messages;
  for (int seq = 1; seq <= kPerDevice; ++seq) {
    for (int d = 1; d <= kDevices; ++d) {
      messages.push_back({"sensors/dev-" + std::to_string(d) + "/data", payload(seq)});
      if (seq % 100 == 0 && d == 1) {
        messages.push_back({"sensors/dev-1/data", "{not json"});    // malformed: dropped, acked
        messages.push_back({"sensors/nobody/data", payload(seq)});  // unmapped device
      }
    }
  }
  MqttPublisher pub(broker.uri(), "test-pub");
  ASSERT_TRUE(pub.publish_all(messages, 1));
  ASSERT_TRUE(wait_distinct(cloud, kPerDevice, 30s)) << gw.err();
  expect_complete(cloud, kPerDevice, /*allow_duplicates=*/false);
  EXPECT_NE(gw.err().find("decode"), std::string::npos) << gw.err();

  // The malformed messages were acknowledged: a restart of the gateway gets nothing back.
  gw.signal(SIGTERM);
  ASSERT_EQ(gw.wait(10s), 0) << gw.err();
  testing::Subprocess again({testing::edgegw_binary(), "run", "-c", cfg});
  ASSERT_TRUE(wait_subscribed(again)) << again.err();
  ASSERT_TRUE(pub.publish("sensors/dev-1/data", payload(kPerDevice + 1)));
  ASSERT_TRUE(testing::wait_until(
      [&] { return cloud.device_stat("dev-1", "distinct_seqs") == kPerDevice + 1; }, 10s));
  EXPECT_EQ(again.err().find("decode"), std::string::npos) << again.err();
  EXPECT_EQ(total(cloud, "duplicates"), 0);
}

TEST(MqttSource, BrokerRestartMidStreamLosesNothing) {
  Mosquitto broker;
  testing::CloudEmulator cloud(emulator_devices());
  testing::TempDir dir;
  const std::string cfg = write_config(dir, "gw", cloud.url(), mqtt_block(broker.uri(), "gw"));
  testing::Subprocess gw({testing::edgegw_binary(), "run", "-c", cfg});
  ASSERT_TRUE(wait_subscribed(gw)) << gw.err();

  constexpr int kPerDevice = 300;
  std::thread publisher([&] {
    MqttPublisher pub(broker.uri(), "test-pub");
    publish_range(pub, 1, kPerDevice);
  });
  ASSERT_TRUE(testing::wait_until([&] { return total(cloud, "readings") >= 200; }, 20s));
  broker.restart();
  publisher.join();
  ASSERT_TRUE(wait_distinct(cloud, kPerDevice, 30s)) << gw.err() << broker.log();
  expect_complete(cloud, kPerDevice, /*allow_duplicates=*/true);
  EXPECT_NE(gw.err().find("connection to " + broker.uri() + " lost"), std::string::npos)
      << gw.err();
}

// Kills the gateway three times while a publisher goes on (and lets it run after its last
// restart), then checks that every reading arrived, in order, with duplicates only from what was
// in flight at the kills. `qos`: of the publisher and the subscription; `pace`: the publisher's
// pause after each round of devices (none: as fast as the broker takes them).
void kill_rounds(int qos, const std::string& extra, std::chrono::milliseconds pace) {
  Mosquitto broker;
  testing::CloudEmulator cloud(emulator_devices());
  testing::TempDir dir;
  std::string mqtt = mqtt_block(broker.uri(), "gw", extra);
  mqtt.replace(mqtt.find("qos: 1"), 6, "qos: " + std::to_string(qos));
  const std::string cfg = write_config(dir, "gw", cloud.url(), mqtt);
  const std::vector<std::string> argv = {testing::edgegw_binary(), "run", "-c", cfg};
  auto gw = std::make_unique<testing::Subprocess>(argv);
  ASSERT_TRUE(wait_subscribed(*gw)) << gw->err();

  // The broker keeps what the dead gateway's session has not acknowledged, and what it
  // acknowledged is in the buffer. The publisher stops when told, however fast or slow the
  // machine is.
  std::atomic<int> published{0};
  std::atomic<bool> stop{false};
  std::thread publisher([&] {
    MqttPublisher pub(broker.uri(), "test-pub");
    for (int seq = 1; !stop; ++seq) {
      for (int d = 1; d <= kDevices; ++d) {
        if (!pub.publish("sensors/dev-" + std::to_string(d) + "/data", payload(seq), qos)) {
          ADD_FAILURE() << "the broker took no message for 30 s";
          return;
        }
      }
      published = seq;
      if (pace.count() > 0) std::this_thread::sleep_for(pace);
    }
  });
  const auto some_more_delivered = [&] {
    const std::int64_t before = total(cloud, "readings");
    return testing::wait_until([&] { return total(cloud, "readings") >= before + 300; }, 20s);
  };
  for (int round = 1; round <= 3; ++round) {
    if (!some_more_delivered()) break;
    gw->signal(SIGKILL);
    gw->wait(5s);
    gw = std::make_unique<testing::Subprocess>(argv);
  }
  const bool delivering_after_kills = some_more_delivered();
  stop = true;
  publisher.join();
  ASSERT_TRUE(delivering_after_kills) << gw->err();
  const int per_device = published.load();
  ASSERT_TRUE(wait_distinct(cloud, per_device, 60s)) << gw->err();
  expect_complete(cloud, per_device, /*allow_duplicates=*/true);
  // Duplicates only from the forwarder's batches in flight at each kill (3 kills, at most 100
  // per batch, a batch per device), and at QoS 1 from the messages stored whose PUBACK the broker
  // had not read yet.
  EXPECT_LE(total(cloud, "duplicates"), 3 * kDevices * 100) << total(cloud, "duplicates");
}

// QoS 1 at a plant's pace. A flooded Mosquitto 2.0 lets far more than max_inflight_messages out
// unacknowledged and reads the acknowledgements late; the reset of a killed connection discards
// those it had not read, so it redelivers thousands: duplicates (never a loss) that say nothing
// about the gateway. QoS 2 below is flooded.
TEST(MqttSource, KillNineOfTheGatewayLosesNothingWithAPersistentSession) {
  kill_rounds(1, "", 1ms);
}

// QoS 2 (MQTT 5), flooded: a message and its packet id are stored in one write, so a PUBLISH the
// broker sends again after a kill (its PUBREC unread) is answered, not stored twice.
TEST(MqttSource, KillNineAtQos2StoresEachMessageOnceThroughTheFlood) {
  kill_rounds(2, "      protocol: \"5\"\n", 0ms);
}

TEST(MqttSource, AFullBufferHoldsMessagesUnacknowledgedAndAStopLeavesThemWithTheBroker) {
  Mosquitto broker;
  testing::CloudEmulator cloud(emulator_devices());
  testing::TempDir dir;
  // The cloud is unreachable and the buffer small with reject_new: it fills, and the source must
  // stop taking messages rather than acknowledge what it could not keep.
  const std::string full_cfg =
      gateway_config(dir.path() + "/gw", "http://127.0.0.1:9", mqtt_block(broker.uri(), "gw"));
  const std::string buffer = "buffer:\n  max_bytes: 1MiB\n  on_full: reject_new\n";
  const std::string cfg = dir.write("gw.yaml", buffer + full_cfg, 0600);
  testing::Subprocess gw({testing::edgegw_binary(), "run", "-c", cfg});
  ASSERT_TRUE(wait_subscribed(gw)) << gw.err();
  constexpr int kPerDevice = 4000;  // ~16,000 readings: more than 1 MiB holds
  std::vector<MqttPublisher::Message> messages;
  for (int seq = 1; seq <= kPerDevice; ++seq) {
    for (int d = 1; d <= kDevices; ++d) {
      messages.push_back({"sensors/dev-" + std::to_string(d) + "/data",
                          payload(seq).insert(1, R"("unit":"degrees-celsius",)")});
    }
  }
  MqttPublisher pub(broker.uri(), "test-pub");
  ASSERT_TRUE(pub.publish_all(messages, 1));
  ASSERT_TRUE(gw.wait_for_err("holding them unacknowledged", 20s)) << gw.err();
  gw.signal(SIGTERM);
  ASSERT_EQ(gw.wait(15s), 0) << gw.err();

  // With the cloud back, everything arrives: the buffered readings, and the rest (the messages
  // held unacknowledged at the stop among them) from the broker, which kept them for the session.
  write_config(dir, "gw", cloud.url(), mqtt_block(broker.uri(), "gw"));
  testing::Subprocess again({testing::edgegw_binary(), "run", "-c", cfg});
  ASSERT_TRUE(wait_distinct(cloud, kPerDevice, 30s))
      << again.err() << boost::json::serialize(cloud.stats());
  expect_complete(cloud, kPerDevice, /*allow_duplicates=*/true);
  // Nothing was acknowledged that was not stored, so nothing had to be kept aside at the stop.
  EXPECT_EQ(again.err().find("held at the last stop"), std::string::npos) << again.err();
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/gw/sources/plant/held"));
}

// An edgegw before 0.2 kept the messages it had to acknowledge at a stop in <state dir>/held/;
// after an upgrade they reach the buffer before anything new from the broker.
TEST(MqttSource, MessagesHeldByAnOlderVersionAreHandedOverFirst) {
  Mosquitto broker;
  testing::CloudEmulator cloud(emulator_devices());
  testing::TempDir dir;
  const auto held = [](std::string_view device, std::string_view payload_text) {
    std::string out = "edgegw-held-1\n";
    for (std::string_view field : {device, std::string_view(), payload_text}) {
      const auto n = static_cast<std::uint32_t>(field.size());
      out.append(reinterpret_cast<const char*>(&n), sizeof n);
      out.append(field);
    }
    const std::int64_t time_ms = 1'700'000'000'000;
    out.append(reinterpret_cast<const char*>(&time_ms), sizeof time_ms);
    return out;
  };
  dir.write("gw/sources/plant/held/00000000000000000001", held("dev-1", payload(1)), 0600);
  dir.write("gw/sources/plant/held/00000000000000000002", held("dev-1", payload(2)), 0600);
  const std::string cfg = write_config(dir, "gw", cloud.url(), mqtt_block(broker.uri(), "gw"));
  testing::Subprocess gw({testing::edgegw_binary(), "run", "-c", cfg});
  ASSERT_TRUE(wait_subscribed(gw)) << gw.err();
  MqttPublisher pub(broker.uri(), "test-pub");
  ASSERT_TRUE(pub.publish("sensors/dev-1/data", payload(3)));
  ASSERT_TRUE(
      testing::wait_until([&] { return cloud.device_stat("dev-1", "distinct_seqs") == 3; }, 20s))
      << gw.err();
  EXPECT_EQ(cloud.device_stat("dev-1", "order_violations"), 0);
  EXPECT_NE(gw.err().find("handing over 2 message(s) held at the last stop"), std::string::npos)
      << gw.err();
  EXPECT_TRUE(std::filesystem::is_empty(dir.path() + "/gw/sources/plant/held"));
}

TEST(MqttSource, UsernameAndPassword) {
  testing::MosquittoOptions options;
  options.users = {{"edge", "correct-horse-7"}};
  Mosquitto broker(options);
  testing::CloudEmulator cloud(emulator_devices());
  testing::TempDir dir;

  // A wrong password: the source stays down, says why, and never prints the password.
  const std::string bad = dir.write(
      "bad.yaml",
      gateway_config(dir.path() + "/bad", cloud.url(),
                     mqtt_block(broker.uri(), "gw-bad",
                                "      username: edge\n      password: wrong-battery-9\n")),
      0600);
  testing::Subprocess gw_bad({testing::edgegw_binary(), "run", "-c", bad});
  ASSERT_TRUE(gw_bad.wait_for_err("not authorised (check username and password", 10s))
      << gw_bad.err();
  gw_bad.signal(SIGTERM);
  EXPECT_EQ(gw_bad.wait(10s), 0);
  EXPECT_EQ(gw_bad.err().find("wrong-battery-9"), std::string::npos) << gw_bad.err();

  const std::string good = dir.write(
      "good.yaml",
      gateway_config(dir.path() + "/good", cloud.url(),
                     mqtt_block(broker.uri(), "gw-good",
                                "      username: edge\n      password: ${MQTT_PASSWORD}\n")),
      0600);
  testing::Subprocess gw({testing::edgegw_binary(), "run", "-c", good},
                         {"MQTT_PASSWORD=correct-horse-7"});
  ASSERT_TRUE(wait_subscribed(gw)) << gw.err();
  testing::PublisherOptions publisher;
  publisher.username = "edge";
  publisher.password = "correct-horse-7";
  MqttPublisher pub(broker.uri(), "test-pub", publisher);
  publish_range(pub, 1, 20);
  ASSERT_TRUE(wait_distinct(cloud, 20, 15s)) << gw.err();
  EXPECT_EQ(gw.err().find("correct-horse-7"), std::string::npos);
}

// MQTT 5: the broker's reason code for the refused CONNECT is what the source says.
TEST(MqttSource, Mqtt5RefusedLoginSaysTheBrokersReason) {
  testing::MosquittoOptions options;
  options.users = {{"edge", "correct-horse-7"}};
  Mosquitto broker(options);
  testing::TempDir dir;
  const std::string config =
      dir.write("v5.yaml",
                gateway_config(dir.path() + "/data", "http://127.0.0.1:9",
                               mqtt_block(broker.uri(), "gw-v5",
                                          "      protocol: \"5\"\n      username: edge\n"
                                          "      password: wrong-battery-9\n")),
                0600);
  testing::Subprocess gw({testing::edgegw_binary(), "run", "-c", config});
  const std::string refused = "cannot connect to " + broker.uri() + ": ";
  ASSERT_TRUE(gw.wait_for_err(refused, 10s)) << gw.err();
  gw.signal(SIGTERM);
  EXPECT_EQ(gw.wait(10s), 0);
  const std::string err = gw.err();
  const std::string reason = err.substr(err.find(refused) + refused.size());
  EXPECT_TRUE(reason.starts_with("the broker refused the connection: Not authorized (0x87)") ||
              reason.starts_with("the broker refused the connection: Bad User Name or Password"))
      << err;
  EXPECT_EQ(err.find("wrong-battery-9"), std::string::npos) << err;
}

TEST(MqttSource, TlsWithTheBrokersCaAndRefusalOfAnUnknownCa) {
  testing::TempDir pki_dir;
  const testing::Pki pki = testing::make_pki(pki_dir);
  testing::MosquittoOptions options;
  options.tls_ca_file = pki.ca;
  options.tls_cert_file = pki.cert;
  options.tls_key_file = pki.key;
  Mosquitto broker(options);
  testing::CloudEmulator cloud(emulator_devices());
  testing::TempDir dir;

  // Without our CA the system trust store does not know the broker: refused, with the reason.
  const std::string untrusted = dir.write(
      "untrusted.yaml",
      gateway_config(dir.path() + "/u", cloud.url(), mqtt_block(broker.tls_uri(), "gw-u")), 0600);
  testing::Subprocess gw_u({testing::edgegw_binary(), "run", "-c", untrusted});
  ASSERT_TRUE(gw_u.wait_for_err("cannot connect to " + broker.tls_uri(), 10s)) << gw_u.err();
  EXPECT_NE(gw_u.err().find("certificate"), std::string::npos) << gw_u.err();
  gw_u.signal(SIGTERM);
  EXPECT_EQ(gw_u.wait(10s), 0);

  const std::string cfg = dir.write(
      "gw.yaml",
      gateway_config(dir.path() + "/data", cloud.url(),
                     mqtt_block(broker.tls_uri(), "gw", "      ca_file: " + pki.ca + "\n")),
      0600);
  testing::Subprocess gw({testing::edgegw_binary(), "run", "-c", cfg});
  ASSERT_TRUE(wait_subscribed(gw)) << gw.err();
  MqttPublisher pub(broker.uri(), "test-pub");  // the plain listener
  publish_range(pub, 1, 20);
  ASSERT_TRUE(wait_distinct(cloud, 20, 15s)) << gw.err();
}

TEST(MqttSource, SharedSubscriptionSplitsTheLoadBetweenTwoGateways) {
  Mosquitto broker;
  testing::CloudEmulator cloud(emulator_devices());
  testing::TempDir dir;
  std::vector<std::unique_ptr<testing::Subprocess>> gateways;
  for (const std::string name : {"a", "b"}) {
    const std::string cfg =
        dir.write(name + ".yaml",
                  gateway_config(dir.path() + "/" + name, cloud.url(),
                                 mqtt_block(broker.uri(), "gw-" + name, "      protocol: \"5\"\n",
                                            "$share/edge/sensors/{device}/data")),
                  0600);
    gateways.push_back(std::make_unique<testing::Subprocess>(
        std::vector<std::string>{testing::edgegw_binary(), "run", "-c", cfg}));
  }
  for (auto& gw : gateways) ASSERT_TRUE(wait_subscribed(*gw)) << gw->err();

  constexpr int kPerDevice = 250;
  std::vector<MqttPublisher::Message> messages;
  for (int seq = 1; seq <= kPerDevice; ++seq) {
    for (int d = 1; d <= kDevices; ++d) {
      messages.push_back({"sensors/dev-" + std::to_string(d) + "/data", payload(seq)});
    }
  }
  MqttPublisher pub(broker.uri(), "test-pub");
  ASSERT_TRUE(pub.publish_all(messages, 1));
  ASSERT_TRUE(wait_distinct(cloud, kPerDevice, 30s));
  // Exactly once between them (no crash here, so no duplicate).
  EXPECT_EQ(total(cloud, "duplicates"), 0);
  EXPECT_EQ(total(cloud, "readings"), kPerDevice * kDevices);
  // Both took a share: each buffered (and forwarded) some of the readings.
  for (auto& gw : gateways) {
    gw->signal(SIGTERM);
    EXPECT_EQ(gw->wait(10s), 0) << gw->err();
  }
  for (const std::string name : {"a", "b"}) {
    const auto stats = testing::run_command(
        {testing::edgegw_binary(), "buffer", "stats", "-c", dir.path() + "/" + name + ".yaml"});
    EXPECT_EQ(stats.exit_code, 0) << stats.err;
    EXPECT_NE(stats.out.find("dev-"), std::string::npos) << name << ": " << stats.out;
  }
}

}  // namespace
}  // namespace edgegw
