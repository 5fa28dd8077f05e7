// SPDX-License-Identifier: Apache-2.0
// The cloud's Account API calls provisioning needs (tagoio-api.md section 7), with the account's
// (profile's) token in the Authorization header: find devices by their tags, create a device,
// create and delete a device's token, delete a device. Each call answers once, on `executor`.
//
// Errors: kUnauthenticated when the cloud refuses the account token (401/403: provisioning
// stops); kUnavailable for what a retry may cure (no answer, 429, 5xx, an answer that is not the
// cloud's JSON); kNotFound for a 404; kInvalidArgument for the cloud's other refusals (4xx: a
// retry would get the same). Messages quote the cloud's own text, never a token.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/value.hpp>

#include "config/config.h"
#include "edgegw/status.h"
#include "forward/http_client.h"

namespace edgegw::provision {

using Tags = std::vector<std::pair<std::string, std::string>>;

struct FoundDevice {
  std::string id;
  std::string name;
};

struct DeviceSpec {
  std::string name;
  Tags tags;
  const config::ProvisioningConfig* settings = nullptr;  // connector, network, type
};

class AccountApi {
 public:
  template <typename T>
  using Then = std::function<void(Result<T>)>;
  using Done = std::function<void(Status)>;

  // A client of cloud.url (cloud.tls, cloud.timeout) with cloud.provisioning's account token.
  static Result<std::unique_ptr<AccountApi>> create(boost::asio::io_context& io,
                                                    const config::CloudConfig& cloud,
                                                    boost::asio::any_io_executor executor);

  // The devices that carry every one of `tags`, oldest first (GET /device, filter[tags]).
  void find(const Tags& tags, Then<std::vector<FoundDevice>> then);
  struct Created {
    std::string id;
    config::Secret token;  // the cloud's default token of the device (full permission), if any
  };
  // POST /device: the new device's id and default token.
  void create_device(const DeviceSpec& spec, Then<Created> then);
  // POST /device/token (permission write, never expires): the new token.
  void create_token(const std::string& device_id, const std::string& name,
                    Then<config::Secret> then);
  // DELETE /device/token/{token}; a token the cloud no longer knows (404) counts as deleted.
  void delete_token(const config::Secret& token, Done done);
  // DELETE /device/{id}; an unknown device (404) counts as deleted.
  void delete_device(const std::string& id, Done done);

  // The account token in use (a reload may bring a new one).
  void set_token(config::Secret token);

 private:
  struct Call;
  AccountApi(std::unique_ptr<forward::BeastHttpClient> client, config::Secret token,
             boost::asio::any_io_executor executor);
  // Sends, then hands the answer's `result` (or the error) to `then` on executor_.
  void call(forward::BeastHttpClient::Method method, std::string path, std::string body,
            std::string what, std::function<void(Result<boost::json::value>)> then);

  std::unique_ptr<forward::BeastHttpClient> client_;
  std::mutex token_mu_;
  std::shared_ptr<const config::Secret> token_;  // replaced whole: calls in flight keep theirs
  boost::asio::any_io_executor executor_;
};

}  // namespace edgegw::provision
