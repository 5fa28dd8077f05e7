// SPDX-License-Identifier: Apache-2.0
// "Cannot happen" states (Envoy's ENVOY_BUG; ../shared/STYLE.md "Invariants"): where the code
// meets a state its own logic rules out, it says so instead of going on silently.
//   if (lane == nullptr) {
//     EDGEGW_BUG("answer for device " + std::to_string(id) + ", which has no lane");
//     return;
//   }
// A debug build aborts there (with the report on stderr), so a test that reaches it fails at the
// place. A release build reports it — one error line with file:line, the function and the
// context, and edgegw_bugs_total — then the caller's own fallback runs: a gateway in the field
// keeps delivering what it can. The context must never hold a secret (tokens, passwords).
#pragma once

#include <cstdint>
#include <string_view>

namespace edgegw::core {

struct BugSite {
  const char* file;  // as the compiler gives it; reports show it from gateway/ or plugins/ on
  int line;
  const char* function;
};

// Counts, reports to the sink, and aborts in a debug build (NDEBUG not defined) unless
// set_abort_on_bug(false). Thread-safe; never throws.
void report_bug(const BugSite& site, std::string_view what) noexcept;

// Reports since the process started (edgegw_bugs_total).
std::uint64_t bugs_reported() noexcept;

// Where reports go: by default one line on stderr; log::init points it at the "bug" logger.
// `where` is "gateway/src/buffer/queue.cc:120 (refresh_head_time)".
using BugSink = void (*)(std::string_view where, std::string_view what) noexcept;
void set_bug_sink(BugSink sink) noexcept;

// Tests of the release path in a debug build turn the abort off; returns the previous setting.
bool set_abort_on_bug(bool abort) noexcept;

}  // namespace edgegw::core

#define EDGEGW_BUG(what) ::edgegw::core::report_bug({__FILE__, __LINE__, __func__}, (what))
