// SPDX-License-Identifier: Apache-2.0
#include "support/pki.h"

#include <stdexcept>
#include <vector>

namespace edgegw::testing {

Pki make_pki(const TempDir& dir) {
  const std::string d = dir.path();
  const std::string ext = dir.write("server.ext",
                                    "basicConstraints=CA:FALSE\n"
                                    "keyUsage=digitalSignature,keyEncipherment\n"
                                    "extendedKeyUsage=serverAuth\n"
                                    "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
  const std::vector<std::vector<std::string>> steps = {
      {"openssl",
       "req",
       "-x509",
       "-newkey",
       "ec",
       "-pkeyopt",
       "ec_paramgen_curve:prime256v1",
       "-nodes",
       "-keyout",
       d + "/ca.key",
       "-out",
       d + "/ca.pem",
       "-days",
       "2",
       "-subj",
       "/CN=edgegw test CA",
       "-addext",
       "basicConstraints=critical,CA:TRUE",
       "-addext",
       "keyUsage=critical,keyCertSign,cRLSign"},
      {"openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
       "-keyout", d + "/server.key", "-out", d + "/server.csr", "-subj", "/CN=localhost"},
      {"openssl", "x509", "-req", "-in", d + "/server.csr", "-CA", d + "/ca.pem", "-CAkey",
       d + "/ca.key", "-CAcreateserial", "-out", d + "/server.pem", "-days", "2", "-extfile", ext},
  };
  for (const auto& step : steps) {
    const auto r = run_command(step);
    if (r.exit_code != 0) throw std::runtime_error("openssl failed: " + r.err);
  }
  return {d + "/ca.pem", d + "/server.pem", d + "/server.key"};
}

}  // namespace edgegw::testing
