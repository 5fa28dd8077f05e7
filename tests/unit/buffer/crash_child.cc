// SPDX-License-Identifier: Apache-2.0
// Child of crash_test.cc: N producer threads append to their own device of the buffer at PATH as
// fast as they can, and print "device value" on stdout after each acknowledged append, until
// killed.
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "buffer/buffer.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s PATH BASE SYNC(none|batch|always)\n", argv[0]);
    return 2;
  }
  using namespace edgegw;
  buffer::Options o;
  o.path = argv[1];
  const long long base = std::atoll(argv[2]);
  const std::string sync = argv[3];
  o.sync = sync == "always"  ? buffer::SyncMode::kAlways
           : sync == "batch" ? buffer::SyncMode::kBatch
                             : buffer::SyncMode::kNone;
  auto opened = buffer::Buffer::open(o);
  if (!opened) {
    std::fprintf(stderr, "open: %s\n", opened.status().to_string().c_str());
    return 1;
  }
  auto& buf = *opened.value();
  constexpr int kThreads = 4;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&buf, t, base] {
      auto id = buf.register_device("d" + std::to_string(t));
      if (!id) std::abort();
      long long value = base;
      for (int round = 0;; ++round) {
        const int n = 1 + round % 10;  // 1..10 readings per call
        std::vector<std::string> jsons;
        for (int i = 0; i < n; ++i) {
          jsons.push_back("{\"variable\":\"v\",\"value\":" + std::to_string(value + i) + "}");
        }
        std::vector<buffer::Record> records;
        for (const auto& j : jsons) records.push_back({*id, j});
        if (!buf.append(records)) std::abort();
        char line[64];
        const int len = std::snprintf(line, sizeof line, "%d %lld\n", t, value + n - 1);
        if (::write(1, line, static_cast<std::size_t>(len)) != len) std::abort();
        value += n;
      }
    });
  }
  for (auto& th : threads) th.join();
}
