// SPDX-License-Identifier: Apache-2.0
#include "app/cloud_commands.h"

#include <algorithm>
#include <chrono>
#include <iomanip>
#include <optional>
#include <set>

#include <boost/asio/io_context.hpp>

#include "app/cli.h"
#include "app/control_socket.h"
#include "app/data_dir.h"
#include "config/loader.h"
#include "core/time.h"
#include "provision/account_api.h"
#include "provision/store.h"

namespace edgegw::app {

namespace {

// The rotation waits for the requests in flight (cloud.timeout at most) and the cloud's calls.
constexpr std::chrono::seconds kControlTimeout{120};

std::optional<config::Config> load(const std::string& path, std::ostream& err) {
  config::LoadResult loaded = config::load_file(path);
  if (!loaded.config) {
    for (const auto& e : loaded.errors) err << e.to_string() << '\n';
    err << "edgegw: " << path << ": " << loaded.errors.size() << " error(s)\n";
    return std::nullopt;
  }
  return std::move(*loaded.config);
}

// Runs one Account API call on `io` and returns its result.
template <typename T, typename Start>
T wait_for(boost::asio::io_context& io, Start start) {
  std::optional<T> result;
  start([&result](auto&& r) { result.emplace(std::forward<decltype(r)>(r)); });
  io.restart();
  io.run();
  return std::move(*result);
}

// What the gateway does when it runs: done here when it does not (the lock is held).
using Operation =
    std::function<Status(const config::Config&, provision::Store&, provision::AccountApi&,
                         boost::asio::io_context&, std::string& message)>;

int run_command(const std::string& config_path, const std::string& command, const std::string& key,
                const Operation& offline, std::ostream& out, std::ostream& err) {
  auto config = load(config_path, err);
  if (!config) return kExitUsage;
  const std::string& dir = config->gateway.data_dir;
  if (auto answer = control_request(dir, command, key, kControlTimeout)) {
    (answer->ok ? out : err) << (answer->ok ? "" : "edgegw: ") << key << ": " << answer->message
                             << '\n';
    return answer->ok ? kExitOk : kExitFailure;
  } else if (answer.status().code() != Code::kUnavailable) {
    err << "edgegw: " << answer.status().message() << '\n';
    return kExitFailure;
  }
  auto lock = DataDirLock::acquire(dir);
  if (!lock) {
    err << "edgegw: the gateway of " << dir << " runs but does not answer on "
        << control_socket_path(dir) << " (" << lock.status().message() << ")\n";
    return kExitFailure;
  }
  if (!config->cloud.provisioning.set) {
    err << "edgegw: cloud.provisioning is not configured in " << config_path
        << ": the account token is needed\n";
    return kExitUsage;
  }
  auto store = provision::Store::load(provision::Store::path_in(dir));
  if (!store) {
    err << "edgegw: " << store.status().message() << '\n';
    return kExitFailure;
  }
  if (store->find(key) == nullptr) {
    err << "edgegw: '" << key << "' is not a device the gateway provisioned (edgegw cloud "
        << "devices lists them)\n";
    return kExitFailure;
  }
  boost::asio::io_context io;
  auto api = provision::AccountApi::create(io, config->cloud, io.get_executor());
  if (!api) {
    err << "edgegw: " << api.status().message() << '\n';
    return kExitFailure;
  }
  std::string message;
  if (Status s = offline(*config, *store, **api, io, message); !s) {
    err << "edgegw: " << key << ": " << s.message() << '\n';
    return kExitFailure;
  }
  out << key << ": " << message << " (the gateway is not running)\n";
  return kExitOk;
}

// Deletes the tokens in the cloud; says which could not be.
std::string delete_tokens(provision::AccountApi& api, boost::asio::io_context& io,
                          const std::vector<config::Secret>& tokens) {
  std::string failure;
  for (const config::Secret& t : tokens) {
    Status s = wait_for<Status>(io, [&](auto done) { api.delete_token(t, done); });
    if (!s && failure.empty()) failure = std::string(s.message());
  }
  return failure;
}

}  // namespace

int cloud_devices(const std::string& config_path, std::ostream& out, std::ostream& err) {
  auto config = load(config_path, err);
  if (!config) return kExitUsage;
  auto store = provision::Store::load(provision::Store::path_in(config->gateway.data_dir));
  if (!store) {
    err << "edgegw: " << store.status().message() << '\n';
    return kExitFailure;
  }
  std::set<std::string, std::less<>> configured;
  for (const auto& d : config->devices) configured.insert(d.key);
  if (store->entries().empty()) {
    out << "no provisioned device (" << store->path() << ")\n";
    return kExitOk;
  }
  std::size_t width = 3;
  for (const auto& [key, e] : store->entries()) width = std::max(width, key.size());
  out << std::left << std::setw(static_cast<int>(width)) << "KEY"
      << "  CLOUD DEVICE              HOW      TOKEN SINCE               NOTE\n";
  for (const auto& [key, e] : store->entries()) {
    std::string note;
    if (configured.count(key) != 0) note = "in devices: now (the config's token is used)";
    if (!e.old_tokens.empty()) {
      if (!note.empty()) note += "; ";
      note += std::to_string(e.old_tokens.size()) + " old token(s) not yet deleted in the cloud";
    }
    out << std::left << std::setw(static_cast<int>(width)) << key << "  " << std::setw(24)
        << e.device_id << "  " << std::setw(7) << (e.created ? "created" : "found") << "  "
        << std::setw(24) << core::format_iso8601_ms(e.since_ms) << "  " << note << '\n';
  }
  out << store->entries().size() << " device(s); tokens are kept in " << store->path()
      << " (mode 0600)\n";
  return kExitOk;
}

int cloud_rotate_token(const std::string& config_path, const std::string& key, std::ostream& out,
                       std::ostream& err) {
  return run_command(
      config_path, "rotate-token", key,
      [&key](const config::Config& config, provision::Store& store, provision::AccountApi& api,
             boost::asio::io_context& io, std::string& message) -> Status {
        provision::Entry entry = *store.find(key);
        auto token = wait_for<Result<config::Secret>>(io, [&](auto done) {
          api.create_token(entry.device_id, "edgegw " + config.gateway.id, done);
        });
        if (!token) return token.status();
        entry.old_tokens.push_back(entry.token);
        entry.token = *token;
        entry.since_ms = core::now_ms();
        if (Status s = store.put(entry); !s) {
          (void)delete_tokens(api, io, {*token});
          return s;
        }
        const std::string failure = delete_tokens(api, io, entry.old_tokens);
        if (failure.empty()) {
          entry.old_tokens.clear();
          if (Status s = store.put(entry); !s) return s;
          message = "a new token is stored; the old one is deleted in the cloud";
        } else {
          message = "a new token is stored; the old one could not be deleted in the cloud (" +
                    failure + "): the gateway tries again at its next start";
        }
        return Status::ok();
      },
      out, err);
}

int cloud_forget(const std::string& config_path, const std::string& key, std::ostream& out,
                 std::ostream& err) {
  return run_command(
      config_path, "forget", key,
      [&key](const config::Config&, provision::Store& store, provision::AccountApi& api,
             boost::asio::io_context& io, std::string& message) -> Status {
        const provision::Entry entry = *store.find(key);
        if (Status s = store.erase(key); !s) return s;
        std::vector<config::Secret> tokens = entry.old_tokens;
        tokens.push_back(entry.token);
        const std::string failure = delete_tokens(api, io, tokens);
        message = failure.empty() ? "forgotten; its token is deleted in the cloud"
                                  : "forgotten; its token could not be deleted in the cloud (" +
                                        failure + "): delete it there by hand";
        return Status::ok();
      },
      out, err);
}

}  // namespace edgegw::app
