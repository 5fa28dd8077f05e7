// SPDX-License-Identifier: Apache-2.0
// The client (Asio transport, session and store hand-off) against a scripted broker on loopback:
// what is acknowledged, when, in what order, and what happens on a full buffer, a failed store,
// bad bytes, a lost connection and a stop.
#include "client.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "scripted_broker.h"

namespace edgegw::plugins::mqtt {
namespace {

using namespace std::chrono_literals;
using codec::PacketType;
using codec::Version;
using testing::BrokerConnection;
using testing::ScriptedBroker;

// The host's side, recording every store; its QoS 2 ids are "durable" across connections.
class FakeStore : public ClientHandler {
 public:
  StoreResult store(const Inbound& in, std::string& error) override {
    std::lock_guard lock(mu_);
    std::vector<std::string> payloads;
    for (const Delivery& d : in.deliveries) payloads.emplace_back(d.payload);
    attempts_.push_back(payloads);
    StoreResult r = StoreResult::kOk;
    if (full_) r = StoreResult::kFull;
    if (!script_.empty()) {
      r = script_.front();
      script_.pop_front();
    }
    if (r == StoreResult::kOk) {
      for (const Qos2Change& q : in.qos2) qos2_.set(q.packet_id, q.stored);
      for (std::string& p : payloads) stored_.push_back(std::move(p));
      ++stores_;
    } else {
      error = "scripted refusal";
    }
    cv_.notify_all();
    return r;
  }
  bool load_qos2(Session::Qos2Ids& ids, std::string&) override {
    std::lock_guard lock(mu_);
    ids = qos2_;
    ++loads_;
    return true;
  }
  void log(LogNote::Level, std::string_view, std::string message) override {
    std::lock_guard lock(mu_);
    logs_ += message + "\n";
    cv_.notify_all();
  }
  void set_up(bool up) override {
    std::lock_guard lock(mu_);
    up_ = up;
    cv_.notify_all();
  }

  template <typename F>
  bool wait(F f, std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return f(*this); });
  }
  void set_full(bool full) {
    std::lock_guard lock(mu_);
    full_ = full;
  }
  void then(StoreResult r) {
    std::lock_guard lock(mu_);
    script_.push_back(r);
  }

  // Read under the lock (wait()'s predicate) or after the client stopped.
  std::vector<std::vector<std::string>> attempts_;
  std::vector<std::string> stored_;
  int stores_ = 0;
  int loads_ = 0;
  std::string logs_;
  bool up_ = false;
  Session::Qos2Ids qos2_;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool full_ = false;
  std::deque<StoreResult> script_;
};

ClientConfig client_config(const ScriptedBroker& broker, Version v,
                           std::chrono::seconds keep_alive = 30s,
                           std::chrono::milliseconds coalesce = 2ms) {
  ClientConfig c;
  c.coalesce = coalesce;
  c.uri = broker.uri();
  c.host = "127.0.0.1";
  c.port = static_cast<std::uint16_t>(broker.port());
  c.connect_timeout = 5s;
  c.reconnect_min = 10ms;
  c.reconnect_max = 100ms;
  c.session.version = v;
  c.session.broker = broker.uri();
  c.session.client_id = "client-test";
  c.session.keep_alive = keep_alive;
  c.session.subscriptions = {{"sensors/+/data", 1}};
  return c;
}

std::string publish(Version v, std::uint8_t qos, std::uint16_t id, std::string_view payload,
                    bool dup = false) {
  std::string out;
  codec::encode(out, codec::Publish{qos, dup, false, "sensors/a/data", id, {}, payload}, v);
  return out;
}

// The packet ids of the next `n` packets of `type` the broker reads (0 for another packet).
std::vector<std::uint16_t> read_acks(BrokerConnection& conn, PacketType type, int n) {
  std::vector<std::uint16_t> ids;
  for (int i = 0; i < n; ++i) {
    auto r = conn.read();
    if (!r) break;
    const auto* a = std::get_if<codec::Ack>(&r->packet);
    ids.push_back(a != nullptr && a->type == type ? a->packet_id : 0);
  }
  return ids;
}

// A broker, a store and a client started against it, connected and subscribed.
struct Connected {
  explicit Connected(Version v = Version::k311, std::chrono::seconds keep_alive = 30s,
                     std::chrono::milliseconds coalesce = 2ms)
      : broker(v),
        client(client_config(broker, v, keep_alive, coalesce), store),
        conn(up(broker, client)) {}
  static std::optional<BrokerConnection> up(ScriptedBroker& broker, Client& client) {
    client.start();
    auto conn = broker.accept();
    if (!conn || !conn->handshake()) return std::nullopt;
    return conn;
  }
  ScriptedBroker broker;
  FakeStore store;
  Client client;
  std::optional<BrokerConnection> conn;
};

TEST(MqttClient, AcknowledgesAReadAfterItsOneStoreInArrivalOrder) {
  Connected c;
  FakeStore& store = c.store;
  Client& client = c.client;
  auto& conn = c.conn;
  ASSERT_TRUE(conn);
  ASSERT_TRUE(store.wait([](FakeStore& s) { return s.up_; }));

  std::string burst;
  for (std::uint16_t id : {5, 3, 9, 1, 7})
    burst += publish(Version::k311, 1, id, std::to_string(id));
  ASSERT_TRUE(conn->write(burst));  // one read's worth
  auto first = conn->read();
  ASSERT_TRUE(first);
  // The first acknowledgement came after the store of all five: one store, one batch.
  {
    std::vector<std::vector<std::string>> attempts;
    store.wait([&](FakeStore& s) {
      attempts = s.attempts_;
      return true;
    });
    ASSERT_EQ(attempts.size(), 1u);
    EXPECT_EQ(attempts[0], (std::vector<std::string>{"5", "3", "9", "1", "7"}));
  }
  ASSERT_TRUE(std::holds_alternative<codec::Ack>(first->packet));
  EXPECT_EQ(std::get<codec::Ack>(first->packet).packet_id, 5);
  EXPECT_EQ(read_acks(*conn, PacketType::kPuback, 4), (std::vector<std::uint16_t>{3, 9, 1, 7}));
  client.stop();
}

TEST(MqttClient, MessagesComingOneByOneCloseTogetherShareAStoreAndASend) {
  Connected c(Version::k311, 30s, 100ms);
  FakeStore& store = c.store;
  auto& conn = c.conn;
  ASSERT_TRUE(conn);
  ASSERT_TRUE(store.wait([](FakeStore& s) { return s.up_; }));

  // One message, then a second as soon as the first is stored: the second comes soon after the
  // client's read asked for it, so the client pauses (100 ms) after storing it. The next eight,
  // each in its own segment, arrive during that pause and come in one read: one store, one send.
  auto stores_reach = [&](int n) {
    return store.wait([n](FakeStore& s) { return s.stores_ >= n; });
  };
  ASSERT_TRUE(conn->write(publish(Version::k311, 1, 1, "1")));
  ASSERT_TRUE(stores_reach(1));
  ASSERT_TRUE(conn->write(publish(Version::k311, 1, 2, "2")));
  ASSERT_TRUE(stores_reach(2));
  for (std::uint16_t id = 3; id <= 10; ++id) {
    ASSERT_TRUE(conn->write(publish(Version::k311, 1, id, std::to_string(id))));
  }
  EXPECT_EQ(read_acks(*conn, PacketType::kPuback, 10),
            (std::vector<std::uint16_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
  std::vector<std::vector<std::string>> attempts;
  store.wait([&](FakeStore& s) {
    attempts = s.attempts_;
    return true;
  });
  EXPECT_EQ(attempts, (std::vector<std::vector<std::string>>{
                          {"1"}, {"2"}, {"3", "4", "5", "6", "7", "8", "9", "10"}}))
      << "the client read again at once after a close read";
  c.client.stop();
}

TEST(MqttClient, AFullBufferHoldsTheMessagesUnacknowledgedAndStopsReading) {
  Connected c;
  FakeStore& store = c.store;
  Client& client = c.client;
  auto& conn = c.conn;
  ASSERT_TRUE(conn);
  store.set_full(true);
  ASSERT_TRUE(conn->write(publish(Version::k311, 1, 1, "a") + publish(Version::k311, 1, 2, "b")));
  ASSERT_TRUE(store.wait([](FakeStore& s) { return s.attempts_.size() >= 2; }));
  ASSERT_TRUE(conn->write(publish(Version::k311, 1, 3, "c")));  // arrives while held
  ASSERT_TRUE(store.wait([](FakeStore& s) { return s.attempts_.size() >= 3; }));
  EXPECT_FALSE(conn->read(200ms)) << "an acknowledgement while the buffer refused";
  store.set_full(false);
  EXPECT_EQ(read_acks(*conn, PacketType::kPuback, 3), (std::vector<std::uint16_t>{1, 2, 3}));
  client.stop();
  // Every retry offered the same two messages: the third was not read meanwhile.
  ASSERT_GE(store.attempts_.size(), 4u);
  for (std::size_t i = 0; i + 1 < store.attempts_.size(); ++i) {
    EXPECT_EQ(store.attempts_[i], (std::vector<std::string>{"a", "b"})) << i;
  }
  EXPECT_EQ(store.attempts_.back(), (std::vector<std::string>{"c"}));
  EXPECT_NE(store.logs_.find("holding them unacknowledged"), std::string::npos) << store.logs_;
}

TEST(MqttClient, AFailedStoreClosesWithoutAcknowledgingAndReconnects) {
  ScriptedBroker broker;
  FakeStore store;
  Client client(client_config(broker, Version::k311), store);
  client.start();
  auto conn = broker.accept();
  ASSERT_TRUE(conn && conn->handshake(false));
  store.then(ClientHandler::StoreResult::kFailed);
  ASSERT_TRUE(conn->write(publish(Version::k311, 1, 4, "x")));
  EXPECT_TRUE(conn->closed_within(5s));
  EXPECT_TRUE(conn->pending().empty()) << "something was sent after the failed store";
  auto again = broker.accept();
  ASSERT_TRUE(again && again->handshake(true));
  ASSERT_TRUE(again->write(publish(Version::k311, 1, 4, "x", true)));  // the broker redelivers
  EXPECT_EQ(read_acks(*again, PacketType::kPuback, 1), (std::vector<std::uint16_t>{4}));
  client.stop();
  EXPECT_EQ(store.stored_, (std::vector<std::string>{"x"}));
  EXPECT_NE(store.logs_.find("cannot buffer messages (scripted refusal)"), std::string::npos);
}

TEST(MqttClient, BadBytesFromTheBrokerCloseWithOneLineAndReconnect) {
  Connected c(Version::k5);
  ScriptedBroker& broker = c.broker;
  FakeStore& store = c.store;
  Client& client = c.client;
  auto& conn = c.conn;
  ASSERT_TRUE(conn);
  ASSERT_TRUE(conn->write(publish(Version::k5, 1, 1, "ok") + std::string("\x36\x03\x00\x01t", 5)));
  // The good message is stored and acknowledged, then the client says why and closes.
  EXPECT_EQ(read_acks(*conn, PacketType::kPuback, 1), (std::vector<std::uint16_t>{1}));
  auto disconnect = conn->read();
  ASSERT_TRUE(disconnect);
  EXPECT_EQ(std::get<codec::Disconnect>(disconnect->packet).reason,
            codec::reason::kMalformedPacket);
  EXPECT_TRUE(conn->closed_within(5s));
  EXPECT_TRUE(broker.accept());
  client.stop();
  EXPECT_NE(store.logs_.find("the broker sent a bad packet: PUBLISH: QoS 3"), std::string::npos)
      << store.logs_;
}

TEST(MqttClient, Qos2CompletesAcrossAReconnect) {
  ScriptedBroker broker(Version::k5);
  FakeStore store;
  Client client(client_config(broker, Version::k5), store);
  client.start();
  {
    auto conn = broker.accept();
    ASSERT_TRUE(conn && conn->handshake());
    ASSERT_TRUE(conn->write(publish(Version::k5, 2, 3, "q2")));
    EXPECT_EQ(read_acks(*conn, PacketType::kPubrec, 1), (std::vector<std::uint16_t>{3}));
  }  // the connection drops before the PUBREL
  ASSERT_TRUE(store.wait([](FakeStore& s) { return !s.up_; }));
  auto conn = broker.accept();
  ASSERT_TRUE(conn && conn->handshake(/*session_present=*/true));
  // The broker resends the PUBLISH (its PUBREC was lost, say): PUBREC only, no second store.
  ASSERT_TRUE(conn->write(publish(Version::k5, 2, 3, "q2", true)));
  EXPECT_EQ(read_acks(*conn, PacketType::kPubrec, 1), (std::vector<std::uint16_t>{3}));
  std::string rel;
  codec::encode(rel, codec::Ack{PacketType::kPubrel, 3, 0, {}}, Version::k5);
  ASSERT_TRUE(conn->write(rel));
  EXPECT_EQ(read_acks(*conn, PacketType::kPubcomp, 1), (std::vector<std::uint16_t>{3}));
  client.stop();
  EXPECT_EQ(store.stored_, (std::vector<std::string>{"q2"}));
  EXPECT_FALSE(store.qos2_.test(3)) << "the id outlived its PUBCOMP";
  EXPECT_GE(store.loads_, 2);
}

TEST(MqttClient, StopDisconnectsAndLeavesHeldMessagesWithTheBroker) {
  Connected c;
  FakeStore& store = c.store;
  Client& client = c.client;
  auto& conn = c.conn;
  ASSERT_TRUE(conn);
  store.set_full(true);
  ASSERT_TRUE(conn->write(publish(Version::k311, 1, 1, "held")));
  ASSERT_TRUE(store.wait([](FakeStore& s) { return !s.attempts_.empty(); }));
  client.stop();
  auto last = conn->read();
  ASSERT_TRUE(last);
  EXPECT_TRUE(std::holds_alternative<codec::Disconnect>(last->packet));
  EXPECT_TRUE(conn->closed_within(5s));
  EXPECT_TRUE(store.stored_.empty());
  EXPECT_FALSE(store.up_);
}

TEST(MqttClient, PingsWhenIdleAndBacksOffWhenRefused) {
  ScriptedBroker broker;
  FakeStore store;
  Client client(client_config(broker, Version::k311, 1s), store);
  client.start();
  {
    auto refused = broker.accept();
    ASSERT_TRUE(refused && refused->read());
    ASSERT_TRUE(refused->write(codec::Connack{false, 5, {}}));
    EXPECT_TRUE(refused->closed_within(5s));
  }
  auto conn = broker.accept();
  ASSERT_TRUE(conn && conn->handshake());
  auto ping = conn->read(5s);
  ASSERT_TRUE(ping);
  EXPECT_EQ(std::get<codec::Ping>(ping->packet).type, PacketType::kPingreq);
  client.stop();
  EXPECT_NE(store.logs_.find("cannot connect to " + broker.uri() +
                             ": the broker refused the connection: not authorised"),
            std::string::npos)
      << store.logs_;
}

}  // namespace
}  // namespace edgegw::plugins::mqtt
