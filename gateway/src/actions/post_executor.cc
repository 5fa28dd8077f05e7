// SPDX-License-Identifier: Apache-2.0
#include "actions/post_executor.h"

#include "forward/outcome.h"
#include "forward/url.h"

namespace edgegw::actions {

Result<std::unique_ptr<PostExecutor>> PostExecutor::create(boost::asio::io_context& io,
                                                           const config::ActionConfig& action) {
  const std::string& url = action.post.url;
  // parse_url takes scheme://host[:port][/base]; the rest of the path goes with each request.
  const std::size_t scheme = url.find("://");
  const std::size_t path_at =
      scheme == std::string::npos ? std::string::npos : url.find('/', scheme + 3);
  const std::string origin = path_at == std::string::npos ? url : url.substr(0, path_at);
  std::string path = path_at == std::string::npos ? "/" : url.substr(path_at);
  auto parsed = forward::parse_url(origin);
  if (!parsed) {
    return Status::invalid_argument("action " + action.name +
                                    ": post.url: " + std::string(parsed.status().message()));
  }
  auto client = forward::BeastHttpClient::create(io, std::move(parsed).value(), action.post.tls,
                                                 action.post.timeout);
  if (!client) return client.status();
  forward::BeastHttpClient::Headers headers;
  for (const auto& [name, value] : action.post.headers) headers.emplace_back(name, value.reveal());
  return std::unique_ptr<PostExecutor>(
      new PostExecutor(std::move(client).value(), std::move(path), std::move(headers)));
}

PostExecutor::PostExecutor(std::unique_ptr<forward::BeastHttpClient> client, std::string path,
                           forward::BeastHttpClient::Headers headers)
    : client_(std::move(client)), path_(std::move(path)), headers_(std::move(headers)) {}

void PostExecutor::run(const Job& job, Done done) {
  auto body = std::make_shared<std::string>("[" + scope_item(job) + "]");
  client_->post(path_, headers_, *body, [body, done](forward::Response r) {
    done(classify_post(r.status, r.retry_after, r.error));
  });
}

Attempt classify_post(int status, std::string_view retry_after, std::string_view error) {
  Attempt a;
  a.status = status;
  if (status >= 200 && status < 300) return a;
  if (status == 0) {
    a.result = Attempt::Result::kRetry;
    a.why = error.empty() ? std::string("no answer") : std::string(error);
    return a;
  }
  a.why = "HTTP " + std::to_string(status);
  if (status == 408 || status == 429 || status >= 500) {
    a.result = Attempt::Result::kRetry;
    if (auto wait = forward::parse_retry_after(retry_after)) a.retry_after = *wait;
    return a;
  }
  a.result = Attempt::Result::kReject;  // 4xx (and anything unexpected below 200, 3xx): for good
  return a;
}

}  // namespace edgegw::actions
