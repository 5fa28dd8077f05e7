// SPDX-License-Identifier: Apache-2.0
#include "provision/provisioner.h"

#include <algorithm>
#include <utility>

#include <boost/asio/post.hpp>

#include "core/time.h"
#include "ingest/unmapped.h"

namespace edgegw::provision {

namespace {

using SteadyClock = std::chrono::steady_clock;

// Keys that can name a cloud device and a tag: not empty, not too long, no control characters.
bool provisionable(std::string_view key) {
  if (key.empty() || key.size() > Provisioner::kMaxKeyBytes) return false;
  return std::none_of(key.begin(), key.end(),
                      [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

Status not_provisioned(const std::string& key) {
  return Status::not_found("'" + key +
                           "' is not a device the gateway provisioned (edgegw cloud devices "
                           "lists them)");
}

void replace_all(std::string& text, std::string_view what, std::string_view with) {
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + with.size())) {
    text.replace(at, what.size(), with);
  }
}

}  // namespace

struct Provisioner::Node {
  std::string key;
  ingest::MappedDevice device;      // its buffer queue (immutable once published)
  std::atomic<bool> usable{false};  // resolve() maps the key to it
  // Under work_mu_:
  State state = State::kForgotten;  // changed by set_state_locked() only
  bool queued = false;              // in queue_ or capped_
  // Progress not yet in the store: the device found or made, the token made.
  std::string device_id;
  bool created = false;
  std::optional<config::Secret> token;
  std::optional<forward::Backoff> backoff;  // since its last success
  std::unique_ptr<boost::asio::steady_timer> retry;
};

template <typename F>
auto Provisioner::guarded(F step) {
  return [this, step = std::move(step)](auto&&... args) mutable {
    std::lock_guard lock(work_mu_);
    if (stopping_) return;
    step(std::forward<decltype(args)>(args)...);
  };
}

Result<std::unique_ptr<Provisioner>> Provisioner::create(boost::asio::io_context& io,
                                                         buffer::Buffer& buffer,
                                                         forward::Forwarder& forwarder,
                                                         const config::Config& config) {
  auto store = Store::load(Store::path_in(config.gateway.data_dir));
  if (!store) return store.status();
  auto api = AccountApi::create(io, config.cloud, io.get_executor());
  if (!api) return api.status();
  return std::unique_ptr<Provisioner>(
      new Provisioner(io, buffer, forwarder, std::move(store).value(), std::move(api).value()));
}

Provisioner::Provisioner(boost::asio::io_context& io, buffer::Buffer& buffer,
                         forward::Forwarder& forwarder, Store store,
                         std::unique_ptr<AccountApi> api)
    : io_(io),
      buffer_(buffer),
      forwarder_(forwarder),
      api_(std::move(api)),
      logger_(log::get("provision")),
      problems_(logger_, std::chrono::seconds(10)),
      store_(std::move(store)),
      budget_timer_(std::make_unique<boost::asio::steady_timer>(io)) {}

Provisioner::~Provisioner() { stop(); }

void Provisioner::stop() {
  std::lock_guard lock(work_mu_);
  stopping_ = true;
  budget_timer_->cancel();
  std::shared_lock nodes(nodes_mu_);
  for (auto& [key, node] : nodes_) {
    if (node->retry) node->retry->cancel();
  }
}

Provisioner::Node& Provisioner::node_locked(const std::string& key, buffer::DeviceId id) {
  {
    std::shared_lock lock(nodes_mu_);
    if (auto it = nodes_.find(key); it != nodes_.end()) return *it->second;
  }
  // New (nodes are added under work_mu_ only). The actions learn the device before resolve()
  // can hand it out: none of its readings is appended unseen by them.
  if (on_device_) on_device_(id, key);
  auto node = std::make_unique<Node>();
  node->key = key;
  node->device.id = id;
  std::unique_lock lock(nodes_mu_);
  auto& slot = nodes_[key];
  slot = std::move(node);
  return *slot;
}

void Provisioner::set_on_device(OnDevice on_device) {
  std::lock_guard lock(work_mu_);
  on_device_ = std::move(on_device);
}

namespace {
bool waiting(Provisioner::State state) {
  return state == Provisioner::State::kPending || state == Provisioner::State::kWorking;
}
}  // namespace

void Provisioner::set_state_locked(Node& node, State next) {
  if (waiting(node.state) && !waiting(next)) pending_.fetch_sub(1);
  if (!waiting(node.state) && waiting(next)) pending_.fetch_add(1);
  if (node.state == State::kWorking) --working_;
  if (next == State::kWorking) ++working_;
  node.state = next;
}

void Provisioner::configure(const config::Config& config) {
  std::lock_guard lock(work_mu_);
  const bool new_token = settings_.account_token != config.cloud.provisioning.account_token;
  settings_ = config.cloud.provisioning;
  retry_ = config.cloud.retry;
  gateway_id_ = config.gateway.id;
  if (new_token) api_->set_token(settings_.account_token);
  if (stopped_) {  // a reload is the operator's word that the account token may work now
    stopped_ = false;
    logger_->info("provisioning: resumes after the reload (the account token is tried again)");
  }
  provision_.store(config.unmapped.provision);
  max_pending_.store(settings_.max_pending);
  configured_.clear();
  for (const auto& d : config.devices) configured_.insert(d.key);

  // The store's devices: the config's own entry wins; the others get their lanes.
  for (const auto& [key, entry] : store_.entries()) {
    if (configured_.count(key) != 0) continue;
    auto id = buffer_.register_device(key);
    if (!id) {
      logger_->error("provisioned device {}: no buffer queue ({}); its readings are refused", key,
                     id.status().message());
      continue;
    }
    Node& node = node_locked(key, *id);
    if (node.state != State::kProvisioned) {
      set_state_locked(node, State::kProvisioned);
      forwarder_.set_device(*id, key, entry.token);
    }
    node.usable.store(true);
  }
  {
    std::shared_lock nodes(nodes_mu_);
    for (auto& [key, node] : nodes_) {
      Node& n = *node;
      if (configured_.count(key) != 0) {
        set_state_locked(n, State::kConfigured);  // an answer still in flight finds it so
        n.usable.store(false);
      } else if (n.state == State::kConfigured || n.state == State::kForgotten) {
        if (store_.find(key) != nullptr) continue;  // done above
        set_state_locked(n, config.unmapped.provision ? State::kPending : State::kForgotten);
        n.usable.store(n.state == State::kPending);
      } else if (waiting(n.state)) {
        n.usable.store(config.unmapped.provision);
      }
    }
  }

  if (!configured_once_) {
    configured_once_ = true;
    // Readings of a key whose provisioning a crash cut short wait in its queue.
    if (config.unmapped.provision) {
      for (const buffer::DeviceId id : buffer_.devices_with_data()) {
        const std::string key = buffer_.device_key(id);
        if (key == ingest::kUnmappedDeviceKey || configured_.count(key) != 0 ||
            store_.find(key) != nullptr || !provisionable(key)) {
          continue;
        }
        Node& node = node_locked(key, id);
        if (node.state != State::kForgotten) continue;
        set_state_locked(node, State::kPending);
        node.usable.store(true);
        logger_->info("provisioning: device {} has readings waiting and no cloud device yet", key);
      }
    }
    // A rotation cut short left its old token in the cloud.
    for (const auto& [key, entry] : store_.entries()) {
      if (!entry.old_tokens.empty()) delete_old_tokens_locked(key, nullptr);
    }
  }
  {
    std::shared_lock nodes(nodes_mu_);
    for (auto& [key, node] : nodes_) {
      if (node->state == State::kPending) enqueue_locked(*node);
    }
  }
  pump_locked();  // keys queued before a stop
}

const ingest::MappedDevice* Provisioner::resolve(std::string_view key) {
  {
    std::shared_lock lock(nodes_mu_);
    if (auto it = nodes_.find(key); it != nodes_.end()) {
      if (it->second->usable.load(std::memory_order_acquire)) return &it->second->device;
      // Not usable: forgotten or configured, or being made by another source's thread this
      // moment (then the way below waits for it under work_mu_ instead of refusing the reading).
      if (!provision_.load(std::memory_order_relaxed)) return nullptr;
    }
  }
  if (!provision_.load(std::memory_order_relaxed) || !provisionable(key)) return nullptr;
  if (pending_.load() >= max_pending_.load()) {
    // Every reading of such a key comes here: a line now and then, no formatting for the rest.
    if (refused_.fetch_add(1, std::memory_order_relaxed) % 1000 == 0) {
      logger_->warn(
          "provisioning: device '{}' refused (and {} readings of new devices since the last "
          "line): {} devices wait for theirs already (cloud.provisioning.max_pending)",
          key, refused_.load() - 1, pending_.load());
    }
    return nullptr;
  }
  // Its queue first, durably (idempotent: a racing thread gets the same id), with no lock held.
  const std::string name(key);
  auto id = buffer_.register_device(name);
  if (!id) {
    problems_.log(
        log::Level::err, "register",
        fmt::format("provisioning: device '{}': no buffer queue: {}", key, id.status().message()));
    return nullptr;
  }
  std::lock_guard lock(work_mu_);
  Node& node = node_locked(name, *id);
  if (node.state == State::kForgotten && !node.usable.load()) {  // new, as far as we know
    set_state_locked(node, State::kPending);
    node.usable.store(true, std::memory_order_release);
    logger_->info(
        "provisioning: new device {}: its readings are buffered until it has a cloud device and "
        "a token",
        name);
    if (!stopping_) enqueue_locked(node);
  }
  return node.usable.load() ? &node.device : nullptr;
}

void Provisioner::enqueue_locked(Node& node) {
  if (node.queued || node.state != State::kPending) return;
  node.queued = true;
  queue_.push_back(&node);
  pump_locked();
}

void Provisioner::pump_locked() {
  while (!stopped_ && !stopping_ && provision_.load() && working_ < kMaxWorking &&
         !queue_.empty()) {
    Node& node = *queue_.front();
    queue_.pop_front();
    node.queued = false;
    if (node.state != State::kPending) continue;
    set_state_locked(node, State::kWorking);
    if (node.token) {
      finish_locked(node);
    } else if (!node.device_id.empty()) {
      make_token_locked(node, node.device_id, node.created);
    } else {
      lookup_locked(node);
    }
  }
}

Tags Provisioner::lookup_tags(const std::string& key) const {
  Tags tags{{std::string(config::kProvisionDeviceTag), key}};
  for (const auto& [k, v] : settings_.tags) tags.emplace_back(k, v);
  return tags;
}

std::string Provisioner::device_name(const std::string& key) const {
  std::string name = settings_.name;
  replace_all(name, "{key}", key);
  replace_all(name, "{gateway}", gateway_id_);
  return name;
}

void Provisioner::lookup_locked(Node& node) {
  api_->find(lookup_tags(node.key), guarded([this, &node](Result<std::vector<FoundDevice>> r) {
               if (node.state != State::kWorking) return;
               if (!r) return fail_locked(node, r.status());
               if (!r->empty()) return make_token_locked(node, r->front().id, false);
               create_locked(node);
             }));
}

bool Provisioner::creation_allowed_locked() {
  const auto hour_ago = SteadyClock::now() - std::chrono::hours(1);
  while (!created_at_.empty() && created_at_.front() <= hour_ago) created_at_.pop_front();
  return created_at_.size() < static_cast<std::size_t>(settings_.max_created_per_hour);
}

void Provisioner::create_locked(Node& node) {
  if (!creation_allowed_locked()) {
    // It waits for a slot, not in the queue: no lookup again until one is free.
    set_state_locked(node, State::kPending);
    node.queued = true;
    capped_.push_back(&node);
    problems_.log(log::Level::warn, "cap",
                  fmt::format("provisioning: {} devices made in the last hour "
                              "(cloud.provisioning.max_created_per_hour); {} device(s) wait "
                              "for a slot, their readings buffered",
                              created_at_.size(), capped_.size()));
    if (capped_.size() == 1) {
      budget_timer_->expires_at(created_at_.front() + std::chrono::hours(1));
      budget_timer_->async_wait(guarded([this](const boost::system::error_code& ec) {
        if (!ec) release_capped_locked();
      }));
    }
    return;
  }
  created_at_.push_back(SteadyClock::now());
  DeviceSpec spec{device_name(node.key), lookup_tags(node.key), &settings_};
  spec.tags.emplace_back(std::string(config::kProvisionGatewayTag), gateway_id_);
  api_->create_device(
      spec, guarded([this, &node](Result<AccountApi::Created> created) {
        if (!created) return fail_locked(node, created.status());
        const std::string made = created->id;
        ++created_;
        node.device_id = made;
        node.created = true;
        logger_->info("provisioning: device {}: cloud device {} created", node.key, made);
        // The cloud's default token (full permission) is not used: the gateway makes its own,
        // with write permission and a name that says whose it is.
        if (!created->token.empty()) {
          api_->delete_token(created->token, [this, key = node.key](Status s) {
            if (!s) {
              logger_->warn(
                  "provisioning: device {}: cannot delete the cloud's default token of "
                  "the new device: {}",
                  key, s.message());
            }
          });
        }
        // Another gateway may have made one at the same moment: every gateway keeps the oldest.
        api_->find(
            lookup_tags(node.key),
            guarded([this, &node, ours = made](Result<std::vector<FoundDevice>> r) {
              if (node.state != State::kWorking) return;
              if (!r || r->empty() || r->front().id == ours)
                return make_token_locked(node, ours, true);
              const std::string winner = r->front().id;
              ++duplicates_deleted_;
              logger_->warn(
                  "provisioning: device {}: cloud device {} was made first (by another "
                  "gateway?); deleting ours, {}",
                  node.key, winner, ours);
              api_->delete_device(ours, [this, key = node.key, ours](Status s) {
                if (!s) {
                  logger_->error(
                      "provisioning: device {}: cannot delete the duplicate cloud device {}: "
                      "{}; delete it by hand",
                      key, ours, s.message());
                }
              });
              make_token_locked(node, winner, false);
            }));
      }));
}

void Provisioner::release_capped_locked() {
  creation_allowed_locked();  // forgets the creations older than an hour
  std::size_t room = static_cast<std::size_t>(settings_.max_created_per_hour) - created_at_.size();
  for (; room > 0 && !capped_.empty(); --room) {
    Node& node = *capped_.front();
    capped_.pop_front();
    node.queued = false;
    enqueue_locked(node);  // looked up again first: another gateway may have made it meanwhile
  }
  if (!capped_.empty()) {
    budget_timer_->expires_at(created_at_.front() + std::chrono::hours(1));
    budget_timer_->async_wait(guarded([this](const boost::system::error_code& ec) {
      if (!ec) release_capped_locked();
    }));
  }
}

void Provisioner::make_token_locked(Node& node, std::string device_id, bool created) {
  node.device_id = std::move(device_id);
  node.created = created;
  api_->create_token(node.device_id, "edgegw " + gateway_id_,
                     guarded([this, &node](Result<config::Secret> token) {
                       if (node.state != State::kWorking) return;
                       if (!token) {
                         // Deleted meanwhile: look it up (or make it) again.
                         if (token.status().code() == Code::kNotFound) node.device_id.clear();
                         return fail_locked(node, token.status());
                       }
                       node.token = std::move(token).value();
                       finish_locked(node);
                     }));
}

void Provisioner::finish_locked(Node& node) {
  Entry entry{node.key, node.device_id, *node.token, node.created, core::now_ms(), {}};
  if (Status s = store_.put(entry); !s) return fail_locked(node, s);
  set_state_locked(node, State::kProvisioned);
  node.backoff.reset();
  if (!node.created) ++found_;
  logger_->info(
      "provisioning: device {}: {} cloud device {} and a token of its own; its readings "
      "go to the cloud",
      node.key, node.created ? "made" : "found", node.device_id);
  forwarder_.set_device(node.device.id, node.key, *node.token);
  forwarder_.notify(node.device.id);
  node.token.reset();
  node.device_id.clear();
  pump_locked();
}

void Provisioner::fail_locked(Node& node, const Status& status) {
  if (node.state != State::kWorking) return;
  set_state_locked(node, State::kPending);
  if (status.code() == Code::kUnauthenticated) {
    node.queued = true;
    queue_.push_front(&node);
    return stop_provisioning_locked(status);
  }
  ++failed_;
  if (!node.backoff) {
    node.backoff.emplace(retry_.initial_backoff, retry_.max_backoff, retry_.multiplier);
  }
  const auto wait = std::max(node.backoff->next(rng_), std::chrono::milliseconds(100));
  problems_.log(log::Level::warn, "failed",
                fmt::format("provisioning: device {}: {}; trying again in {} ms (its readings "
                            "stay buffered)",
                            node.key, status.message(), wait.count()));
  if (!node.retry) node.retry = std::make_unique<boost::asio::steady_timer>(io_);
  node.retry->expires_after(wait);
  node.retry->async_wait(guarded([this, &node](const boost::system::error_code& ec) {
    if (!ec) enqueue_locked(node);
  }));
  pump_locked();
}

void Provisioner::stop_provisioning_locked(const Status& status) {
  if (stopped_) return;
  stopped_ = true;
  logger_->error(
      "provisioning stopped: {}. Devices already mapped keep flowing; new devices' "
      "readings are buffered and wait. Give cloud.provisioning a valid token and reload "
      "(SIGHUP)",
      status.message());
}

void Provisioner::rotate_token(const std::string& key, Reply reply) {
  std::lock_guard lock(work_mu_);
  if (!settings_.set) {
    return reply(Status::invalid_argument("cloud.provisioning is not configured: rotating a "
                                          "token needs the account token"),
                 "");
  }
  const Entry* entry = store_.find(key);
  if (entry == nullptr) {
    return reply(not_provisioned(key), "");
  }
  if (configured_.count(key) != 0) {
    return reply(Status::invalid_argument(key + " is in devices: now: it uses the config's token"),
                 "");
  }
  api_->create_token(entry->device_id, "edgegw " + gateway_id_,
                     guarded([this, key, reply](Result<config::Secret> token) {
                       if (!token) return reply(token.status(), "");
                       const Entry* current = store_.find(key);
                       if (current == nullptr) {
                         api_->delete_token(*token, [](Status) {});
                         return reply(Status::not_found(key + " was forgotten meanwhile"), "");
                       }
                       Entry next = *current;
                       next.old_tokens.push_back(next.token);
                       next.token = *token;
                       next.since_ms = core::now_ms();
                       if (Status s = store_.put(next); !s) {
                         api_->delete_token(*token, [](Status) {});
                         return reply(s, "");
                       }
                       ++rotations_;
                       buffer::DeviceId id = 0;
                       {
                         std::shared_lock nodes(nodes_mu_);
                         if (auto it = nodes_.find(key); it != nodes_.end())
                           id = it->second->device.id;
                       }
                       logger_->info(
                           "provisioning: device {}: a new token; the old one is deleted once the "
                           "requests sent with it are answered",
                           key);
                       forwarder_.set_device(id, key, next.token);
                       forwarder_.after_in_flight(id, guarded([this, key, reply] {
                                                    delete_old_tokens_locked(key, reply);
                                                  }));
                     }));
}

void Provisioner::delete_old_tokens_locked(const std::string& key, Reply reply) {
  const Entry* entry = store_.find(key);
  if (entry == nullptr || entry->old_tokens.empty()) {
    if (reply) reply(Status::ok(), "the new token is in use; the old one is deleted in the cloud");
    return;
  }
  const config::Secret old = entry->old_tokens.front();
  api_->delete_token(
      old, guarded([this, key, old, reply](Status s) {
        if (!s) {
          logger_->warn(
              "provisioning: device {}: cannot delete its old token in the cloud: {}; "
              "trying again at the next start",
              key, s.message());
          if (reply) {
            reply(Status::ok(),
                  "the new token is in use; the old one could not be deleted in the "
                  "cloud (" +
                      std::string(s.message()) + "): the gateway tries again at its next start");
          }
          return;
        }
        if (const Entry* e = store_.find(key)) {
          Entry next = *e;
          std::erase(next.old_tokens, old);
          if (Status st = store_.put(next); !st) {
            logger_->warn("provisioning: device {}: {}", key, st.message());
          }
        }
        delete_old_tokens_locked(key, reply);
      }));
}

void Provisioner::forget(const std::string& key, Reply reply) {
  std::lock_guard lock(work_mu_);
  const Entry* entry = store_.find(key);
  if (entry == nullptr) {
    return reply(not_provisioned(key), "");
  }
  const Entry forgotten = *entry;
  if (Status s = store_.erase(key); !s) return reply(s, "");
  Node* node = nullptr;
  {
    std::shared_lock nodes(nodes_mu_);
    if (auto it = nodes_.find(key); it != nodes_.end()) node = it->second.get();
  }
  std::string what = "forgotten";
  if (node != nullptr && node->state == State::kProvisioned) {
    forwarder_.set_device(node->device.id, key, config::Secret{});  // its lane waits
    if (provision_.load()) {
      set_state_locked(*node, State::kPending);
      enqueue_locked(*node);
      what +=
          "; it is provisioned again now (unmapped: provision): found by its tags, with a "
          "new token";
    } else {
      set_state_locked(*node, State::kForgotten);
      node->usable.store(false);
      what += "; its readings are unmapped from now on";
    }
  }
  // Its tokens go once no request carries them any more.
  const buffer::DeviceId id = node != nullptr ? node->device.id : 0;
  forwarder_.after_in_flight(
      id, guarded([this, forgotten, what, reply] {
        auto tokens = std::make_shared<std::vector<config::Secret>>(forgotten.old_tokens);
        tokens->push_back(forgotten.token);
        auto left = std::make_shared<std::size_t>(tokens->size());
        auto failure = std::make_shared<std::string>();
        for (const config::Secret& t : *tokens) {
          api_->delete_token(
              t, guarded([left, failure, what, reply](Status s) {
                if (!s && failure->empty()) failure->assign(std::string(s.message()));
                if (--*left > 0) return;
                reply(Status::ok(), failure->empty()
                                        ? what + "; its token is deleted in the cloud"
                                        : what + "; its token could not be deleted in the cloud (" +
                                              *failure + "): delete it there by hand");
              }));
        }
      }));
}

ProvisionStats Provisioner::stats() const {
  ProvisionStats s;
  std::vector<buffer::DeviceId> waiting;
  {
    std::lock_guard lock(work_mu_);
    s.created = created_;
    s.found = found_;
    s.failed = failed_;
    s.duplicates_deleted = duplicates_deleted_;
    s.rotations = rotations_;
    s.provisioned = store_.entries().size();
    s.stopped = stopped_;
    std::shared_lock nodes(nodes_mu_);
    for (const auto& [key, node] : nodes_) {
      if (node->state == State::kPending || node->state == State::kWorking) {
        waiting.push_back(node->device.id);
      }
    }
  }
  s.pending = waiting.size();
  for (const buffer::DeviceId id : waiting) s.pending_readings += buffer_.queued(id).readings;
  s.refused = refused_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace edgegw::provision
