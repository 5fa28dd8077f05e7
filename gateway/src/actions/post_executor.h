// SPDX-License-Identifier: Apache-2.0
// type: post — the triggering reading, as a JSON array of one scope item, POSTed to the action's
// URL with its headers, one at a time per action (in order). 2xx: done; 408, 429, 5xx and no
// answer: retried (Retry-After honoured); any other 4xx: dead-lettered.
#pragma once

#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "actions/executor.h"
#include "config/config.h"
#include "edgegw/status.h"
#include "forward/http_client.h"

namespace edgegw::actions {

class PostExecutor final : public Executor {
 public:
  static Result<std::unique_ptr<PostExecutor>> create(boost::asio::io_context& io,
                                                      const config::ActionConfig& action);
  void run(const Job& job, Done done) override;
  std::size_t max_in_flight() const override { return 1; }
  void stop() override { client_->close_idle(); }

 private:
  PostExecutor(std::unique_ptr<forward::BeastHttpClient> client, std::string path,
               forward::BeastHttpClient::Headers headers);
  std::unique_ptr<forward::BeastHttpClient> client_;
  std::string path_;  // the URL's path and query (the client holds scheme, host and port)
  forward::BeastHttpClient::Headers headers_;
};

// The attempt an HTTP answer makes (status 0: none came).
Attempt classify_post(int status, std::string_view retry_after, std::string_view error);

}  // namespace edgegw::actions
