// SPDX-License-Identifier: Apache-2.0
// Provisioning (`unmapped: provision`, cloud.provisioning): a device key the config does not map
// gets a cloud device and a token of its own, made by the gateway with the account's token.
//
// - First sight of a key (resolve(), on a source's thread): its buffer queue is made at once, so
//   its readings are buffered durably like any other while the cloud is asked; its lane waits.
// - Then, at most kMaxWorking keys at a time: look the device up by its tags (it may exist: made
//   before a crash, or by another gateway), create it only when absent (at most
//   max_created_per_hour), create a token, store both (store.h), and give the lane its token.
//   After a create, a second lookup settles a race between gateways: the oldest device wins
//   everywhere, and a gateway whose device lost deletes it.
// - Failures back off per key (cloud.retry). A refused account token (401/403) stops all
//   provisioning with one log line until a reload brings a new one; mapped devices keep flowing.
// - At start, the store's devices get their lanes, and queues with readings but no device (a
//   crash mid-provisioning) are provisioned again; an interrupted rotation's old token is deleted.
// - rotate_token() and forget() serve `edgegw cloud rotate-token` and `forget` (control_socket.h).
//
// Locking: work_mu_ guards the provisioning state and the store (the cloud's answers arrive on
// I/O threads); nodes_mu_ guards the key map resolve() reads (shared, per message of a key
// the config does not map). Order: work_mu_, then nodes_mu_. A source thread takes work_mu_
// only at a key's first sight.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "buffer/buffer.h"
#include "config/config.h"
#include "forward/backoff.h"
#include "forward/forwarder.h"
#include "ingest/mapping.h"
#include "log/rate_limited.h"
#include "provision/account_api.h"
#include "provision/stats.h"
#include "provision/store.h"

namespace edgegw::provision {

class Provisioner final : public ingest::DeviceResolver, public StatsSource {
 public:
  using Reply = std::function<void(Status, std::string)>;  // the outcome, said to the operator

  // Reads the store (<data_dir>/provisioned.json); a damaged one is an error.
  static Result<std::unique_ptr<Provisioner>> create(boost::asio::io_context& io,
                                                     buffer::Buffer& buffer,
                                                     forward::Forwarder& forwarder,
                                                     const config::Config& config);
  ~Provisioner() override;

  // At start and on each reload: the settings, and the keys the config maps (a provisioned key
  // that the config now lists is left to it). The store's other devices get their lanes; at the
  // first call, queues with readings and no device start provisioning.
  void configure(const config::Config& config);
  // Told of each device whose readings the gateway takes from now on (first sight of a key, the
  // store's devices, a crash's leftovers), before its first reading is appended, under the
  // provisioner's lock: the actions watch it (Actions::add_device). Set before configure().
  using OnDevice = std::function<void(buffer::DeviceId, const std::string&)>;
  void set_on_device(OnDevice on_device);
  // Stops asking the cloud (at shutdown); answers still in flight are ignored.
  void stop();

  const ingest::MappedDevice* resolve(std::string_view key) override;

  // A new token for a provisioned device; the lane switches to it, and once the requests sent
  // with the old one are answered, the old one is deleted in the cloud.
  void rotate_token(const std::string& key, Reply reply);
  // Drops the device's token (deleted in the cloud) and its entry; with `unmapped: provision`
  // it is provisioned again at once (found by its tags: a new token), else its readings are
  // unmapped from now on.
  void forget(const std::string& key, Reply reply);

  ProvisionStats stats() const override;

  static constexpr int kMaxWorking = 4;             // keys provisioned at once
  static constexpr std::size_t kMaxKeyBytes = 128;  // longer keys are not provisioned

  // What became of a key (public for a helper of the .cc, not for callers).
  enum class State { kPending, kWorking, kProvisioned, kConfigured, kForgotten };

 private:
  struct Node;
  Provisioner(boost::asio::io_context& io, buffer::Buffer& buffer, forward::Forwarder& forwarder,
              Store store, std::unique_ptr<AccountApi> api);

  // Under work_mu_:
  Node& node_locked(const std::string& key, buffer::DeviceId id);  // existing or new
  // Every change of a node's state: pending_ and working_ follow it.
  void set_state_locked(Node& node, State next);
  void enqueue_locked(Node& node);
  void pump_locked();
  void lookup_locked(Node& node);
  void create_locked(Node& node);
  void make_token_locked(Node& node, std::string device_id, bool created);
  void finish_locked(Node& node);
  void fail_locked(Node& node, const Status& status);
  void stop_provisioning_locked(const Status& status);
  void delete_old_tokens_locked(const std::string& key, Reply reply);  // reply may be empty
  Tags lookup_tags(const std::string& key) const;
  std::string device_name(const std::string& key) const;
  bool creation_allowed_locked();
  void release_capped_locked();  // capped_ keys, as many as may be created now, to the queue
  // Runs `step` under work_mu_ unless stopped; for the cloud's answers.
  template <typename F>
  auto guarded(F step);

  boost::asio::io_context& io_;
  buffer::Buffer& buffer_;
  forward::Forwarder& forwarder_;
  std::unique_ptr<AccountApi> api_;
  std::shared_ptr<spdlog::logger> logger_;
  log::RateLimitedLog problems_;

  mutable std::mutex work_mu_;
  Store store_;
  config::ProvisioningConfig settings_;
  config::RetryConfig retry_;
  std::string gateway_id_;
  std::set<std::string, std::less<>> configured_;
  std::deque<Node*> queue_;   // pending keys, in order of first sight
  std::deque<Node*> capped_;  // pending keys to create, waiting for max_created_per_hour
  int working_ = 0;           // nodes in kWorking
  bool stopped_ = false;      // the account token was refused
  bool stopping_ = false;     // shutdown
  bool configured_once_ = false;
  OnDevice on_device_;
  std::deque<std::chrono::steady_clock::time_point> created_at_;  // within the last hour
  std::unique_ptr<boost::asio::steady_timer> budget_timer_;       // the next creation allowed
  std::mt19937_64 rng_{std::random_device{}()};
  std::uint64_t created_ = 0, found_ = 0, failed_ = 0, duplicates_deleted_ = 0, rotations_ = 0;

  mutable std::shared_mutex nodes_mu_;
  std::unordered_map<std::string, std::unique_ptr<Node>, ingest::StringHash, std::equal_to<>>
      nodes_;
  std::atomic<bool> provision_{false};   // unmapped: provision
  std::atomic<std::size_t> pending_{0};  // nodes in kPending or kWorking
  std::atomic<std::size_t> max_pending_{1000};
  std::atomic<std::uint64_t> refused_{0};
};

}  // namespace edgegw::provision
