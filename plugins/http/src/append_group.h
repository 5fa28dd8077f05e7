// SPDX-License-Identifier: Apache-2.0
// The POST /data bodies that one I/O thread reads in one turn of its event loop, appended in one
// call (ABI 1.4 append_each): one write-ahead-log write for all of them instead of one each, while
// each body stays all or nothing on its own, as the cloud takes it.
//
// A request's coroutine hands its body over and is resumed once the call is done. The call is
// posted when the first body of a turn arrives, so it runs after the reads that completed in the
// same turn: under load it gathers as many bodies as the thread's connections had ready, and
// alone it costs one post.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include "local_api.h"

namespace edgegw::plugins::http {

class AppendGroup {
 public:
  // Runs on `ioc` (one thread); `api` is this group's own copy.
  AppendGroup(boost::asio::io_context& ioc, LocalApi api) : ioc_(ioc), api_(std::move(api)) {}
  AppendGroup(const AppendGroup&) = delete;
  AppendGroup& operator=(const AppendGroup&) = delete;

  struct Outcome {
    ApiResult result;
    std::size_t readings = 0;
  };
  // Appends `body` as device_key's with the other bodies of this turn. `device_key` and `body`
  // must stay valid until it returns (they are the caller's request's).
  boost::asio::awaitable<Outcome> append(std::string_view device_key, std::string_view body,
                                         std::int64_t now_ms);

 private:
  struct Waiting {
    AppendRequest request;
    Outcome* outcome;
    boost::asio::any_completion_handler<void()> resume;
  };
  void flush();

  boost::asio::io_context& ioc_;
  LocalApi api_;
  std::vector<Waiting> waiting_;  // this turn's bodies
  bool flush_posted_ = false;
  // flush()'s scratch, kept between turns.
  std::vector<Waiting> taken_;
  std::vector<AppendRequest> requests_;
  std::vector<ApiResult> results_;
  std::vector<std::size_t> readings_;
};

}  // namespace edgegw::plugins::http
