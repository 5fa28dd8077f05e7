// SPDX-License-Identifier: Apache-2.0
#include "append_group.h"

#include <exception>
#include <utility>

#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace edgegw::plugins::http {

namespace asio = boost::asio;

asio::awaitable<AppendGroup::Outcome> AppendGroup::append(std::string_view device_key,
                                                          std::string_view body,
                                                          std::int64_t now_ms) {
  Outcome outcome;
  co_await asio::async_initiate<decltype(asio::use_awaitable), void()>(
      [&](auto resume) {
        waiting_.push_back({{device_key, body, now_ms}, &outcome, std::move(resume)});
        if (!flush_posted_) {
          flush_posted_ = true;
          asio::post(ioc_, [this] { flush(); });
        }
      },
      asio::use_awaitable);
  co_return outcome;
}

void AppendGroup::flush() {
  flush_posted_ = false;
  taken_.clear();
  taken_.swap(waiting_);  // a body that arrives while the coroutines resume waits for the next
  bool appended = true;
  try {
    requests_.clear();
    for (const Waiting& w : taken_) requests_.push_back(w.request);
    results_.assign(taken_.size(), ApiResult{});
    readings_.assign(taken_.size(), 0);
    api_.append_each(requests_, results_, readings_);
  } catch (const std::exception&) {
    // Out of memory: answered as an internal error, which the client retries (if it came after
    // the host's write, the retry is a duplicate, never a loss).
    appended = false;
  }
  for (std::size_t i = 0; i < taken_.size(); ++i) {
    *taken_[i].outcome = appended ? Outcome{std::move(results_[i]), readings_[i]}
                                  : Outcome{{EDGEGW_ERR_INTERNAL, "out of memory"}, 0};
    // Resumes the request's coroutine here, on this thread, up to its answer's write.
    std::move(taken_[i].resume)();
  }
  taken_.clear();
}

}  // namespace edgegw::plugins::http
