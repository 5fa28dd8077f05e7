// SPDX-License-Identifier: Apache-2.0
// Provisioning (`unmapped: provision`, issue 21) end to end: the real gateway, Mosquitto and the
// cloud emulator's Account API. MQTT readings of device keys the config does not list make cloud
// devices and tokens; the checks are those of the reliability suite (every reading the broker
// acknowledged reaches the cloud, in order per device) plus the account's own: each key has
// exactly one cloud device, found by its tags before one is made.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <csignal>
#include <fstream>
#include <random>
#include <sstream>

#include <boost/json.hpp>

#include "harness.h"
#include "support/tokens.h"

namespace edgegw::reliability {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

const std::string kAccount = testing::fake_token(900'000);
constexpr char kConnector[] = "5f5a8f3351d4db99c40dece5";
constexpr char kNetwork[] = "5bbd0d144051a50034cd19fb";

// Mosquitto, the emulator with an account token and `mapped` devices of its own (dev-1..), and a
// gateway that maps those and provisions dev-<mapped+1>..dev-<devices>.
struct ProvisioningRig {
  ProvisioningRig(int mapped_devices, int all_devices)
      : devices(all_devices), cloud(cloud_args(mapped_devices)) {
    options.devices = all_devices;
    options.mapped = mapped_devices;
    options.unmapped = "provision";
    options.cloud_extra =
        "  provisioning:\n    token_file: " + dir.write("account.token", kAccount + "\n", 0600) +
        "\n    connector: " + kConnector + "\n    network: " + kNetwork +
        "\n    tags: { site: test }\n    max_created_per_hour: 1000\n";
    config = dir.write(
        "gw.yaml", gateway_config(dir.path() + "/data", cloud.url(), broker.uri(), options), 0600);
  }
  static std::vector<std::string> cloud_args(int mapped) {
    auto args = emulator_args(mapped);
    args.insert(args.end(), {"--account-token", kAccount});
    return args;
  }

  void start() {
    gw = start_gateway(config);
    ASSERT_TRUE(wait_subscribed(*gw)) << gw->err();
    metrics = testing::metrics_address(*gw);
  }
  double metric_now(const std::string& sample) const {
    return metric(http_get(metrics, "/metrics").second, sample);
  }
  // Waits until the gateway has found `n` devices in the cloud by their tags.
  bool wait_found(double n) const {
    return testing::wait_until(
        [&] { return metric_now(R"(edgegw_provisioning_devices_total{how="found"})") == n; }, 20s);
  }
  // `edgegw cloud ARGS -c config`.
  testing::RunResult cloud_command(std::vector<std::string> args) const {
    std::vector<std::string> argv = {testing::edgegw_binary(), "cloud"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"-c", config});
    return testing::run_command(argv);
  }
  // The cloud devices tagged with `key`.
  json::array devices_of(const std::string& key) {
    json::value found = cloud.devices("tag=edgegw_device=" + key);
    return std::move(found.as_array());
  }
  std::int64_t account(const std::string& field) {
    return cloud.stats().at("account").at(field).to_number<std::int64_t>();
  }
  // The provisioned devices' tokens (secrets as much as the configured ones).
  std::vector<std::string> secrets_now() {
    std::vector<std::string> more = {kAccount};
    const json::value provisioned = cloud.devices("provisioned=true");
    for (const auto& d : provisioned.as_array()) {
      for (const auto& t : d.at("tokens").as_array()) more.emplace_back(t.as_string());
    }
    return secrets(devices, more);
  }

  // The only token of the cloud device tagged with `key` ("" and a failure if not just one).
  std::string only_token(const std::string& key) {
    const auto found = devices_of(key);
    EXPECT_EQ(found.size(), 1u) << key;
    if (found.size() != 1 || found[0].at("tokens").as_array().size() != 1) return "";
    return std::string(found[0].at("tokens").as_array()[0].as_string());
  }
  // SIGTERM (exit 0 expected); then no secret of the test in the gateway's output nor `more`.
  void stop_checking_secrets(const std::string& more = {}) {
    const auto all = secrets_now();
    gw->signal(SIGTERM);
    EXPECT_EQ(gw->wait(15s), 0);
    expect_no_secret(more + gw->err() + gw->out(), all, "the gateway's logs");
  }

  int devices;
  testing::Mosquitto broker;
  testing::CloudEmulator cloud;
  testing::TempDir dir;
  GatewayOptions options;
  std::string config;
  std::unique_ptr<testing::Subprocess> gw;
  std::string metrics;
};

// Waits until the broker has acknowledged `seqs` more of every device's readings.
bool load_moves_on(const LoadPublisher& load, int seqs) {
  const int from = load.acknowledged();
  return testing::wait_until([&] { return load.acknowledged() >= from + seqs; }, 30s);
}

// Stops the load, waits until the cloud has every acknowledged reading of dev-1..`devices`, and
// checks them (in order; at most `max_duplicates` twice, and every reading once more per other
// gateway forwarding the same load). Returns the seqs acknowledged per device, 0 (a failure
// added) when the load failed or the readings did not all arrive.
int stop_and_drain(LoadPublisher& load, testing::CloudEmulator& cloud, int devices,
                   std::int64_t max_duplicates, const testing::Subprocess& gw, int gateways = 1) {
  load.stop();
  const int acked = load.acknowledged();
  if (load.failed() || acked == 0) {
    ADD_FAILURE() << "the load failed or published nothing";
    return 0;
  }
  if (!wait_drained(cloud, devices, acked, std::chrono::seconds(90))) {
    ADD_FAILURE() << "not every acknowledged reading reached the cloud\n" << gw.err();
    return 0;
  }
  CloudTally tally;
  tally.add(cloud, devices);
  expect_delivered(tally, devices, acked,
                   max_duplicates + static_cast<std::int64_t>(gateways - 1) * acked * devices);
  return acked;
}

std::int64_t status_count(testing::CloudEmulator& cloud, int status) {
  const auto stats = cloud.stats();
  const auto* n =
      stats.at("requests").at("by_status").as_object().if_contains(std::to_string(status));
  return n == nullptr ? 0 : n->to_number<std::int64_t>();
}

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Makes a cloud device the way another gateway (or an earlier run) would have: tagged with its
// key. Returns its id.
std::string make_cloud_device(testing::CloudEmulator& cloud, const std::string& key) {
  json::array tags;
  tags.push_back(json::object{{"key", "edgegw_device"}, {"value", key}});
  tags.push_back(json::object{{"key", "site"}, {"value", "test"}});
  json::object body{{"name", key},
                    {"type", "mutable"},
                    {"connector", kConnector},
                    {"network", kNetwork},
                    {"tags", std::move(tags)}};
  auto r = cloud.client().post("/device", json::serialize(body), {{"Account-Token", kAccount}});
  EXPECT_EQ(r.status, 201) << r.body;
  if (r.status != 201) return "";
  return std::string(json::parse(r.body).at("result").at("device_id").as_string());
}

TEST(Provisioning, HundredNewDevicesAtOnceAreEachMadeOnceAndEveryReadingArrives) {
  constexpr int kMapped = 2, kDevices = 102, kFoundBefore = 10;
  ProvisioningRig rig(kMapped, kDevices);
  // The last ten exist in the cloud already (made by an earlier run or another gateway): they
  // must be found, not made again.
  for (int d = kDevices - kFoundBefore + 1; d <= kDevices; ++d) {
    make_cloud_device(rig.cloud, device_key(d));
  }
  ASSERT_NO_FATAL_FAILURE(rig.start());
  // Every device at once, 20 readings a second each: many readings of a key arrive while its
  // device is being made.
  LoadPublisher load(rig.broker.uri(), kDevices, 2000, /*reconnecting=*/false);
  ASSERT_TRUE(load_moves_on(load, 30));
  ASSERT_GT(stop_and_drain(load, rig.cloud, kDevices, 0, *rig.gw), 0);
  const int made = kDevices - kMapped - kFoundBefore;
  EXPECT_EQ(rig.account("devices_created"), made + kFoundBefore);  // the test's ten as well
  EXPECT_EQ(rig.account("creates"), made + kFoundBefore);
  EXPECT_EQ(rig.account("devices_deleted"), 0);
  // A lookup before each create, one after it (a race between gateways), one per found device.
  EXPECT_EQ(rig.account("lookups"), 2 * made + kFoundBefore);
  for (int d = kMapped + 1; d <= kDevices; ++d) {
    const auto found = rig.devices_of(device_key(d));
    ASSERT_EQ(found.size(), 1u) << device_key(d) << ": " << json::serialize(found);
    // The cloud's default token of a device the gateway made is deleted: one token, its own.
    if (d <= kDevices - kFoundBefore) {
      EXPECT_EQ(found[0].at("tokens").as_array().size(), 1u) << device_key(d);
    }
  }
  const std::string scrape = http_get(rig.metrics, "/metrics").second;
  EXPECT_EQ(metric(scrape, R"(edgegw_provisioning_devices_total{how="created"})"), made);
  EXPECT_EQ(metric(scrape, R"(edgegw_provisioning_devices_total{how="found"})"), kFoundBefore);
  EXPECT_EQ(metric(scrape, "edgegw_provisioning_pending_devices"), 0);
  EXPECT_EQ(metric(scrape, "edgegw_provisioning_pending_readings"), 0);
  EXPECT_EQ(metric(scrape, "edgegw_provisioning_failures_total"), 0);

  // `edgegw cloud devices` through the running gateway: the 100 it provisioned.
  const auto listed = rig.cloud_command({"devices"});
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find("100 device(s)"), std::string::npos) << listed.out;
  EXPECT_EQ(count_of(listed.out, " created "), static_cast<std::size_t>(made)) << listed.out;
  EXPECT_EQ(count_of(listed.out, " found "), static_cast<std::size_t>(kFoundBefore));
  struct stat st {};
  ASSERT_EQ(::stat((rig.dir.path() + "/data/provisioned.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  rig.stop_checking_secrets();
  const auto all = rig.secrets_now();
  expect_no_secret(scrape, all, "/metrics");
  expect_no_secret(listed.out + listed.err, all, "edgegw cloud devices");
}

// The actions watch a provisioned device as a configured one: an action on every device fires
// once for each (its reset never holds), the mapped one and the two made at first sight, from
// their first readings on (the actions learn a key before its first reading is appended).
TEST(Provisioning, TheActionsWatchProvisionedDevices) {
  constexpr int kMapped = 1, kDevices = 3;
  ProvisioningRig rig(kMapped, kDevices);
  {  // the action publishes to the rig's own broker
    std::ofstream f(rig.config, std::ios::app);
    f << "actions:\n  - name: seen\n"
      << "    when_set: { variable: temp, condition: \">=\", value: 0 }\n"
      << "    when_reset: { variable: temp, condition: \"<\", value: 0 }\n"
      << "    type: mqtt\n    mqtt: { broker: " << rig.broker.uri()
      << ", topic: \"seen/{device}\", payload: \"{value}\", qos: 1 }\n";
  }
  ASSERT_NO_FATAL_FAILURE(rig.start());
  LoadPublisher load(rig.broker.uri(), kDevices, 300, /*reconnecting=*/false);
  ASSERT_TRUE(load_moves_on(load, 5));
  ASSERT_GT(stop_and_drain(load, rig.cloud, kDevices, 0, *rig.gw), 0);
  EXPECT_EQ(rig.account("devices_created"), kDevices - kMapped);
  EXPECT_EQ(rig.metric_now(R"(edgegw_action_fired_total{action="seen"})"), kDevices)
      << rig.gw->err();
  EXPECT_TRUE(testing::wait_until(
      [&] {
        return rig.metric_now(R"(edgegw_action_jobs_total{action="seen",result="done"})") ==
               kDevices;
      },
      10s))
      << rig.gw->err();
  rig.stop_checking_secrets();
}

TEST(Provisioning, KillNineMidProvisioningLeavesNoDuplicateDeviceAndLosesNoReading) {
  constexpr int kMapped = 1, kDevices = 41;
  const int rounds = env_int("EDGEGW_REL_ROUNDS", 6);
  const unsigned seed = static_cast<unsigned>(
      env_int("EDGEGW_REL_SEED", static_cast<int>(std::random_device{}() & 0x7fffffff)));
  std::printf("provisioning kill -9: %d rounds, seed %u (EDGEGW_REL_SEED to replay)\n", rounds,
              seed);
  std::mt19937 random(seed);
  ProvisioningRig rig(kMapped, kDevices);
  // A slow Account API (every call 100 ms late: provisioning lasts seconds, four keys at a time),
  // so that kills land between its steps, and two
  // lost answers to a create: the device is made, the gateway does not hear of it.
  rig.cloud.set_fault(R"({"delay_ms":100,"path":"/device*"})");
  rig.cloud.set_fault(
      R"({"status":503,"method":"POST","path":"/device","count":2,"after_processing":true})");
  ASSERT_NO_FATAL_FAILURE(rig.start());
  LoadPublisher load(rig.broker.uri(), kDevices, 2000, /*reconnecting=*/false);
  std::string logs;
  // Kills anywhere from start-up on, by the load's progress (about 50 seqs a second per device).
  std::uniform_int_distribution<int> kill_after_seqs(0, 50);
  for (int round = 1; round <= rounds; ++round) {
    ASSERT_TRUE(load_moves_on(load, kill_after_seqs(random)));
    rig.gw->signal(SIGKILL);
    ASSERT_EQ(rig.gw->wait(10s), 128 + SIGKILL) << "round " << round << rig.gw->err();
    logs += rig.gw->err();
    ASSERT_FALSE(load.failed()) << "the broker refused the publisher in round " << round;
    rig.gw = start_gateway(rig.config);
  }
  ASSERT_TRUE(wait_subscribed(*rig.gw)) << rig.gw->err();
  rig.metrics = testing::metrics_address(*rig.gw);
  ASSERT_TRUE(load_moves_on(load, 20));  // the last gateway takes load too
  // Per kill, each device's batch in flight and the broker's unacknowledged window again.
  const int acked =
      stop_and_drain(load, rig.cloud, kDevices,
                     static_cast<std::int64_t>(rounds) * (kDevices * 100 + 20), *rig.gw);
  ASSERT_GT(acked, 0);
  CloudTally tally;
  tally.add(rig.cloud, kDevices);
  // One device per key, whatever the kills cut short: a device made before a kill (or whose
  // answer was lost) is found by its tags afterwards; a second one, made while the first one's
  // create was still on its way, lost the oldest-wins check and was deleted.
  for (int d = kMapped + 1; d <= kDevices; ++d) {
    const auto found = rig.devices_of(device_key(d));
    EXPECT_EQ(found.size(), 1u) << device_key(d) << ": " << json::serialize(found);
  }
  EXPECT_EQ(rig.account("devices"), kDevices - kMapped);
  EXPECT_EQ(rig.account("devices_created") - rig.account("devices_deleted"), kDevices - kMapped);
  EXPECT_EQ(rig.metric_now("edgegw_provisioning_pending_devices"), 0);
  const auto listed = rig.cloud_command({"devices"});
  EXPECT_NE(listed.out.find(std::to_string(kDevices - kMapped) + " device(s)"), std::string::npos)
      << listed.out;
  // How often a kill cut provisioning short: keys resumed at a start, devices found again.
  logs += rig.gw->err();
  const std::size_t resumed = count_of(logs, "has readings waiting and no cloud device yet");
  std::printf(
      "provisioning kill -9: %d readings acknowledged, %lld duplicates; devices made %lld, deleted "
      "%lld (lost races); keys resumed after a kill %zu, devices found again %zu\n",
      acked * kDevices, static_cast<long long>(tally.duplicates()),
      static_cast<long long>(rig.account("devices_created")),
      static_cast<long long>(rig.account("devices_deleted")), resumed,
      count_of(logs, ": found cloud device"));
  EXPECT_GT(resumed, 0u) << "no kill landed while a device was being provisioned";
  rig.stop_checking_secrets(logs);
}

TEST(Provisioning, TwoGatewaysProvisioningTheSameKeysAgreeOnOneDeviceEach) {
  // Two gateways on one broker topic, each with its own data dir and MQTT session, see the same
  // new keys at the same moment; a slow Account API lets both look a key up before either made
  // it. The oldest device wins on both; the other is deleted by the gateway that made it.
  constexpr int kMapped = 1, kDevices = 11;
  ProvisioningRig rig(kMapped, kDevices);
  rig.cloud.set_fault(R"({"delay_ms":100,"path":"/device*"})");
  GatewayOptions second = rig.options;
  second.client_id = "gw-b";
  const std::string config_b = rig.dir.write(
      "gw-b.yaml",
      gateway_config(rig.dir.path() + "/data-b", rig.cloud.url(), rig.broker.uri(), second), 0600);
  auto gw_b = start_gateway(config_b);
  ASSERT_NO_FATAL_FAILURE(rig.start());
  ASSERT_TRUE(wait_subscribed(*gw_b)) << gw_b->err();
  const std::string metrics_b = testing::metrics_address(*gw_b);
  LoadPublisher load(rig.broker.uri(), kDevices, 1000, /*reconnecting=*/false);
  ASSERT_TRUE(load_moves_on(load, 100));
  // Each gateway delivers every reading: the second copy of each is a duplicate, by design.
  ASSERT_GT(stop_and_drain(load, rig.cloud, kDevices, 0, *rig.gw, /*gateways=*/2), 0)
      << gw_b->err();
  for (int d = kMapped + 1; d <= kDevices; ++d) {
    EXPECT_EQ(rig.devices_of(device_key(d)).size(), 1u) << device_key(d);
  }
  const double deleted = rig.metric_now("edgegw_provisioning_duplicates_deleted_total") +
                         metric(http_get(metrics_b, "/metrics").second,
                                "edgegw_provisioning_duplicates_deleted_total");
  EXPECT_EQ(rig.account("devices"), kDevices - kMapped);
  EXPECT_EQ(rig.account("devices_deleted"), static_cast<std::int64_t>(deleted));
  std::printf("two gateways: %lld devices made, %g deleted after a lost race\n",
              static_cast<long long>(rig.account("devices_created")), deleted);
  gw_b->signal(SIGTERM);
  EXPECT_EQ(gw_b->wait(15s), 0);
  rig.gw->signal(SIGTERM);
  EXPECT_EQ(rig.gw->wait(15s), 0);
}

TEST(Provisioning, ARevokedAccountTokenStopsProvisioningWhileMappedDevicesFlow) {
  constexpr int kMapped = 2, kDevices = 6;
  ProvisioningRig rig(kMapped, kDevices);
  rig.cloud.set_account(R"({"revoked":true})");
  ASSERT_NO_FATAL_FAILURE(rig.start());
  LoadPublisher load(rig.broker.uri(), kDevices, 1000, /*reconnecting=*/false);
  ASSERT_TRUE(load_moves_on(load, 100));
  load.stop();
  ASSERT_FALSE(load.failed());
  const int acked = load.acknowledged();
  ASSERT_GT(acked, 0);
  // The mapped devices deliver everything; the new ones hold all of theirs.
  ASSERT_TRUE(wait_drained(rig.cloud, kMapped, acked, 30s)) << rig.gw->err();
  const std::string scrape = http_get(rig.metrics, "/metrics").second;
  EXPECT_EQ(metric(scrape, "edgegw_provisioning_stopped"), 1);
  EXPECT_EQ(metric(scrape, "edgegw_provisioning_pending_devices"), kDevices - kMapped);
  EXPECT_EQ(metric(scrape, "edgegw_provisioning_pending_readings"),
            static_cast<double>(acked) * (kDevices - kMapped));
  EXPECT_EQ(rig.account("devices"), 0);
  EXPECT_EQ(count_of(rig.gw->err(), "provisioning stopped:"), 1u) << rig.gw->err();

  // A valid account token again, and a reload: the held readings follow.
  rig.cloud.set_account(R"({"revoked":false})");
  rig.gw->signal(SIGHUP);
  ASSERT_TRUE(wait_drained(rig.cloud, kDevices, acked, 30s)) << rig.gw->err();
  CloudTally tally;
  tally.add(rig.cloud, kDevices);
  expect_delivered(tally, kDevices, acked, 0);
  EXPECT_EQ(rig.metric_now("edgegw_provisioning_stopped"), 0);
  EXPECT_EQ(rig.account("devices"), kDevices - kMapped);
  rig.stop_checking_secrets();
}

TEST(Provisioning, TokenRotationAndForgetUnderLoadLoseNothing) {
  constexpr int kMapped = 1, kDevices = 5;
  ProvisioningRig rig(kMapped, kDevices);
  ASSERT_NO_FATAL_FAILURE(rig.start());
  LoadPublisher load(rig.broker.uri(), kDevices, 2000, /*reconnecting=*/false);
  ASSERT_TRUE(
      testing::wait_until([&] { return rig.account("devices") == kDevices - kMapped; }, 20s))
      << rig.gw->err();
  ASSERT_TRUE(testing::wait_until(  // readings flow with the first tokens
      [&] {
        for (int d = kMapped + 1; d <= kDevices; ++d) {
          if (rig.cloud.device_stat(device_key(d), "readings") == 0) return false;
        }
        return true;
      },
      20s));

  // Rotations under load, through the running gateway; dev-2 three times in a row.
  const std::string first_dev2_token = rig.only_token("dev-2");
  ASSERT_FALSE(first_dev2_token.empty());
  for (const char* key : {"dev-2", "dev-3", "dev-2", "dev-2"}) {
    const auto r = rig.cloud_command({"rotate-token", key});
    EXPECT_EQ(r.exit_code, 0) << key << ": " << r.out << r.err;
    ASSERT_TRUE(load_moves_on(load, 50));  // readings flow with the new token
  }
  // Forget: the gateway provisions it again at once, finds it by its tags, makes a new token.
  const auto forgot = rig.cloud_command({"forget", "dev-4"});
  EXPECT_EQ(forgot.exit_code, 0) << forgot.out << forgot.err;
  ASSERT_TRUE(rig.wait_found(1)) << rig.gw->err();
  ASSERT_TRUE(load_moves_on(load, 50));
  ASSERT_GT(stop_and_drain(load, rig.cloud, kDevices, 0, *rig.gw), 0);
  // No request was refused: every old token was deleted after its last request was answered.
  EXPECT_EQ(status_count(rig.cloud, 401), 0);
  for (int d = kMapped + 1; d <= kDevices; ++d) {
    const auto found = rig.devices_of(device_key(d));
    ASSERT_EQ(found.size(), 1u) << device_key(d);
    EXPECT_EQ(found[0].at("tokens").as_array().size(), 1u)
        << device_key(d) << ": the old tokens are deleted in the cloud";
  }
  EXPECT_NE(rig.only_token("dev-2"), first_dev2_token);
  EXPECT_EQ(rig.account("devices_created"), kDevices - kMapped);  // forget made none
  const std::string scrape = http_get(rig.metrics, "/metrics").second;
  EXPECT_EQ(metric(scrape, "edgegw_provisioning_token_rotations_total"), 4);
  EXPECT_EQ(metric(scrape, R"(edgegw_provisioning_devices_total{how="found"})"), 1);
  rig.stop_checking_secrets();
}

TEST(Provisioning, ADeviceTokenTheCloudRefusesIsMendedWithForget) {
  // Someone deletes a provisioned device's token in the cloud: its readings get 401 and wait
  // (the other devices flow); `edgegw cloud forget KEY` provisions it again (found by its tags,
  // a new token), and everything it held arrives.
  constexpr int kMapped = 1, kDevices = 3;
  ProvisioningRig rig(kMapped, kDevices);
  ASSERT_NO_FATAL_FAILURE(rig.start());
  LoadPublisher load(rig.broker.uri(), kDevices, 600, /*reconnecting=*/false);
  ASSERT_TRUE(
      testing::wait_until([&] { return rig.cloud.device_stat("dev-2", "readings") > 0; }, 20s))
      << rig.gw->err();
  const std::string token = rig.only_token("dev-2");
  ASSERT_FALSE(token.empty());
  auto r = rig.cloud.client().del("/device/token/" + token, {{"Account-Token", kAccount}});
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_TRUE(testing::wait_until([&] { return status_count(rig.cloud, 401) > 0; }, 20s))
      << "the deleted token was not refused";
  const auto forgot = rig.cloud_command({"forget", "dev-2"});
  EXPECT_EQ(forgot.exit_code, 0) << forgot.out << forgot.err;
  EXPECT_NE(forgot.out.find("provisioned again"), std::string::npos) << forgot.out;
  ASSERT_TRUE(rig.wait_found(1)) << rig.gw->err();
  ASSERT_TRUE(load_moves_on(load, 30));
  // The batch refused with 401 is sent again with the new token (never dead-lettered).
  ASSERT_GT(stop_and_drain(load, rig.cloud, kDevices, 0, *rig.gw), 0);
  EXPECT_EQ(rig.account("devices_created"), kDevices - kMapped);  // found again, not made
  const std::string new_token = rig.only_token("dev-2");
  EXPECT_FALSE(new_token.empty());
  EXPECT_NE(new_token, token);
  rig.stop_checking_secrets(forgot.out + forgot.err);
  const auto dead = testing::run_command(
      {testing::edgegw_binary(), "buffer", "dead-letter", "list", "-c", rig.config});
  EXPECT_EQ(dead.exit_code, 0) << dead.err;
  EXPECT_EQ(dead.out.find("dev-2"), std::string::npos) << dead.out;
  expect_no_secret(rig.gw->err(), {token}, "the gateway's logs");  // the deleted token too
}

}  // namespace
}  // namespace edgegw::reliability
