// SPDX-License-Identifier: Apache-2.0
// The fuzz targets' invariant check: a broken invariant prints what broke and traps, which
// libFuzzer reports as a crash with the input that caused it (and the corpus replay as a failure).
#pragma once

#include <cstdio>

namespace edgegw::fuzz {

inline void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    __builtin_trap();
  }
}

}  // namespace edgegw::fuzz
