// SPDX-License-Identifier: Apache-2.0
#include "core/bug.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace edgegw::core {

namespace {

#ifdef NDEBUG
constexpr bool kAbortByDefault = false;
#else
constexpr bool kAbortByDefault = true;
#endif

std::atomic<std::uint64_t> g_bugs{0};
std::atomic<BugSink> g_sink{nullptr};
std::atomic<bool> g_abort{kAbortByDefault};

// The path from the tree's top folder on: what a reader can open.
std::string_view short_path(std::string_view file) noexcept {
  for (std::string_view top : {"gateway/", "plugins/", "tests/", "bench/"}) {
    if (const std::size_t at = file.rfind(top); at != std::string_view::npos) {
      return file.substr(at);
    }
  }
  return file;
}

void to_stderr(std::string_view where, std::string_view what) noexcept {
  std::fprintf(stderr, "edgegw: BUG at %.*s: %.*s\n", static_cast<int>(where.size()), where.data(),
               static_cast<int>(what.size()), what.data());
}

}  // namespace

void report_bug(const BugSite& site, std::string_view what) noexcept {
  g_bugs.fetch_add(1, std::memory_order_relaxed);
  try {
    std::string where(short_path(site.file != nullptr ? site.file : "?"));
    where += ':';
    where += std::to_string(site.line);
    if (site.function != nullptr) {
      where += " (";
      where += site.function;
      where += ')';
    }
    const BugSink sink = g_sink.load();
    (sink != nullptr ? sink : to_stderr)(where, what);
    if (g_abort.load()) {
      if (sink != nullptr) to_stderr(where, what);  // the log may be buffered
      std::abort();
    }
  } catch (...) {  // no memory even for the location: the count still says it
    if (g_abort.load()) std::abort();
  }
}

std::uint64_t bugs_reported() noexcept { return g_bugs.load(std::memory_order_relaxed); }

void set_bug_sink(BugSink sink) noexcept { g_sink.store(sink); }

bool set_abort_on_bug(bool abort) noexcept { return g_abort.exchange(abort); }

}  // namespace edgegw::core
