// SPDX-License-Identifier: Apache-2.0
// Test certificates: a CA and a server certificate for localhost and 127.0.0.1 signed by it,
// made with the openssl CLI (EC keys: fast), for HTTPS tests against a CA the test controls.
#pragma once

#include <string>

#include "support/subprocess.h"

namespace edgegw::testing {

struct Pki {
  std::string ca;    // PEM of the CA certificate
  std::string cert;  // PEM of the server certificate
  std::string key;   // PEM of the server key
};

// Writes the files into `dir`; throws std::runtime_error when openssl fails.
Pki make_pki(const TempDir& dir);

}  // namespace edgegw::testing
