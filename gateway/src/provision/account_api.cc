// SPDX-License-Identifier: Apache-2.0
#include "provision/account_api.h"

#include <algorithm>

#include <boost/asio/post.hpp>
#include <boost/json.hpp>

#include "device_api/query.h"
#include "forward/url.h"

namespace edgegw::provision {

namespace json = boost::json;
using device_api::url_encode;
using Method = forward::BeastHttpClient::Method;

namespace {

// The cloud's words of a refusal: {"message": ...} or {"result": ...} (tagoio-api.md section 4),
// clipped; the raw body's start when it is not the cloud's JSON.
std::string cloud_message(std::string_view body) {
  boost::system::error_code ec;
  const json::value v = json::parse(body, ec);
  std::string text;
  if (!ec && v.is_object()) {
    const json::object& o = v.get_object();
    for (std::string_view field : {"message", "result"}) {
      if (const json::value* m = o.if_contains(field)) {
        if (m->is_string()) text = std::string(m->get_string());
        if (const json::object* inner = m->if_object()) {
          if (const json::value* mm = inner->if_contains("message"); mm && mm->is_string()) {
            text = std::string(mm->get_string());
          }
        }
        if (!text.empty()) break;
      }
    }
  }
  if (text.empty()) text = std::string(body.substr(0, 120));
  if (text.size() > 200) text = text.substr(0, 200) + "...";
  std::replace_if(
      text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  return text;
}

Status status_of(const forward::Response& r, const std::string& what) {
  const std::string head = what + ": ";
  if (r.status == 0) return Status::unavailable(head + "no answer (" + r.error + ")");
  const std::string said = "HTTP " + std::to_string(r.status) + " " + cloud_message(r.body);
  if (r.status == 401 || r.status == 403) {
    return Status::unauthenticated(head + "the cloud refused the account token (" + said + ")");
  }
  if (r.status == 429 || r.status >= 500) return Status::unavailable(head + said);
  if (r.status == 404) return Status::not_found(head + said);
  return Status::invalid_argument(head + said);
}

std::string hex_id_or_empty(const json::value* v) {
  if (v == nullptr || !v->is_string()) return {};
  return std::string(v->get_string());
}

}  // namespace

Result<std::unique_ptr<AccountApi>> AccountApi::create(boost::asio::io_context& io,
                                                       const config::CloudConfig& cloud,
                                                       boost::asio::any_io_executor executor) {
  auto url = forward::parse_url(cloud.url);
  if (!url) return url.status();
  auto client =
      forward::BeastHttpClient::create(io, std::move(url).value(), cloud.tls, cloud.timeout);
  if (!client) return client.status();
  return std::unique_ptr<AccountApi>(new AccountApi(
      std::move(client).value(), cloud.provisioning.account_token, std::move(executor)));
}

AccountApi::AccountApi(std::unique_ptr<forward::BeastHttpClient> client, config::Secret token,
                       boost::asio::any_io_executor executor)
    : client_(std::move(client)),
      token_(std::make_shared<const config::Secret>(std::move(token))),
      executor_(std::move(executor)) {}

void AccountApi::set_token(config::Secret token) {
  auto next = std::make_shared<const config::Secret>(std::move(token));
  std::lock_guard lock(token_mu_);
  token_ = std::move(next);
}

void AccountApi::call(Method method, std::string path, std::string body, std::string what,
                      std::function<void(Result<json::value>)> then) {
  std::shared_ptr<const config::Secret> token;
  {
    std::lock_guard lock(token_mu_);
    token = token_;
  }
  // The body lives in the callback, which the client keeps until it answers.
  auto shared_body = std::make_shared<std::string>(std::move(body));
  const forward::BeastHttpClient::Headers headers = {{"Authorization", token->reveal()}};
  client_->request(
      method, path, headers, *shared_body,
      [executor = executor_, shared_body, what = std::move(what),
       then = std::move(then)](forward::Response r) {
        Result<json::value> result = Status::internal("unset");
        if (r.status < 200 || r.status > 299) {
          result = status_of(r, what);
        } else {
          boost::system::error_code ec;
          json::value v = json::parse(r.body, ec);
          const json::object* o = ec ? nullptr : v.if_object();
          const json::value* status = o != nullptr ? o->if_contains("status") : nullptr;
          const json::value* inner = o != nullptr ? o->if_contains("result") : nullptr;
          if (inner == nullptr || (status != nullptr && status->is_bool() && !status->get_bool())) {
            result =
                Status::unavailable(what + ": the cloud's answer is not what it sends (HTTP " +
                                    std::to_string(r.status) + " " + cloud_message(r.body) + ")");
          } else {
            result = json::value(*inner);
          }
        }
        boost::asio::post(
            executor, [then, result = std::move(result)]() mutable { then(std::move(result)); });
      });
}

void AccountApi::find(const Tags& tags, Then<std::vector<FoundDevice>> then) {
  std::string path = "/device?page=1&amount=100&fields%5B0%5D=id&fields%5B1%5D=name";
  for (std::size_t i = 0; i < tags.size(); ++i) {
    const std::string at = "filter%5Btags%5D%5B" + std::to_string(i) + "%5D";
    path += "&" + at + "%5Bkey%5D=" + url_encode(tags[i].first);
    path += "&" + at + "%5Bvalue%5D=" + url_encode(tags[i].second);
  }
  call(Method::kGet, std::move(path), {}, "device lookup",
       [then = std::move(then)](Result<json::value> r) {
         if (!r) return then(r.status());
         const json::array* list = r->if_array();
         if (list == nullptr) {
           return then(Status::unavailable("device lookup: the cloud's result is not a list"));
         }
         std::vector<FoundDevice> found;
         for (const json::value& d : *list) {
           const json::object* o = d.if_object();
           if (o == nullptr) continue;
           FoundDevice f{hex_id_or_empty(o->if_contains("id")),
                         hex_id_or_empty(o->if_contains("name"))};
           if (!f.id.empty()) found.push_back(std::move(f));
         }
         // ObjectIds begin with their creation time: every gateway agrees on which is oldest.
         std::sort(found.begin(), found.end(),
                   [](const FoundDevice& a, const FoundDevice& b) { return a.id < b.id; });
         then(std::move(found));
       });
}

void AccountApi::create_device(const DeviceSpec& spec, Then<Created> then) {
  const config::ProvisioningConfig& p = *spec.settings;
  json::array tags;
  for (const auto& [k, v] : spec.tags) tags.push_back(json::object{{"key", k}, {"value", v}});
  json::object body{{"name", spec.name},        {"type", p.immutable ? "immutable" : "mutable"},
                    {"connector", p.connector}, {"network", p.network},
                    {"tags", std::move(tags)},  {"active", true},
                    {"visible", true}};
  if (p.immutable) {
    body["chunk_period"] = p.chunk_period;
    body["chunk_retention"] = p.chunk_retention;
  }
  call(
      Method::kPost, "/device", json::serialize(body), "device creation",
      [then = std::move(then)](Result<json::value> r) {
        if (!r) return then(r.status());
        const json::object* o = r->if_object();
        // The SDKs and every analysis read device_id; the OpenAPI example says deviceID.
        std::string id = o == nullptr ? "" : hex_id_or_empty(o->if_contains("device_id"));
        if (id.empty() && o != nullptr) id = hex_id_or_empty(o->if_contains("deviceID"));
        if (id.empty()) {
          return then(Status::unavailable("device creation: the cloud's answer has no device_id"));
        }
        then(Created{std::move(id),
                     config::Secret(o == nullptr ? "" : hex_id_or_empty(o->if_contains("token")))});
      });
}

void AccountApi::create_token(const std::string& device_id, const std::string& name,
                              Then<config::Secret> then) {
  const json::object body{
      {"device", device_id}, {"name", name}, {"permission", "write"}, {"expire_time", "never"}};
  call(Method::kPost, "/device/token", json::serialize(body), "token creation",
       [then = std::move(then)](Result<json::value> r) {
         if (!r) return then(r.status());
         const json::object* o = r->if_object();
         std::string token = o == nullptr ? "" : hex_id_or_empty(o->if_contains("token"));
         if (token.empty()) {
           return then(Status::unavailable("token creation: the cloud's answer has no token"));
         }
         then(config::Secret(std::move(token)));
       });
}

namespace {
// A 404 means what was to be deleted is gone: done.
void done_unless_error(Result<json::value> r, const AccountApi::Done& done) {
  if (!r && r.status().code() == Code::kNotFound) return done(Status::ok());
  done(r ? Status::ok() : r.status());
}
}  // namespace

void AccountApi::delete_token(const config::Secret& token, Done done) {
  call(Method::kDelete, "/device/token/" + url_encode(token.reveal()), {}, "token deletion",
       [done = std::move(done)](Result<json::value> r) { done_unless_error(std::move(r), done); });
}

void AccountApi::delete_device(const std::string& id, Done done) {
  call(Method::kDelete, "/device/" + url_encode(id), {}, "device deletion",
       [done = std::move(done)](Result<json::value> r) { done_unless_error(std::move(r), done); });
}

}  // namespace edgegw::provision
