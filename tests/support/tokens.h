// SPDX-License-Identifier: Apache-2.0
// Made-up device tokens for the tests and benches: shaped like the cloud's (a UUID), numbered,
// valid only at the local cloud emulator. One place, so that no file carries a token-like
// literal of its own.
#pragma once

#include <cstdio>
#include <string>

namespace edgegw::testing {

// "00000000-0000-4000-8000-<n, 12 digits>"
inline std::string fake_token(long long n) {
  char t[48];  // room for any long long, so that -Wformat-truncation has nothing to say
  std::snprintf(t, sizeof t, "00000000-0000-4000-8000-%012lld", n);
  return t;
}

}  // namespace edgegw::testing
