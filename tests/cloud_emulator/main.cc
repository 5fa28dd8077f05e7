// SPDX-License-Identifier: Apache-2.0
// edgegw-cloud-emulator: a fast local stand-in for the cloud's Device API, with fault injection
// and statistics, for the gateway's integration tests, benchmarks and demo. See README.md.
#include <csignal>
#include <cstdio>

#include "emulator.h"
#include "options.h"
#include "server.h"

int main(int argc, char** argv) {
  using namespace edgegw::cloud_emulator;
  std::signal(SIGPIPE, SIG_IGN);
  auto options = parse_options(argc, argv);
  if (!options) {
    std::fprintf(stderr, "edgegw-cloud-emulator: %s\n",
                 std::string(options.status().message()).c_str());
    return 2;
  }
  if (options->help) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  EmulatorConfig config;
  config.keep = options->keep;
  config.max_body_bytes = options->max_body_bytes;
  config.log_requests = options->log_requests;
  config.startup_faults = options->startup_faults;
  Emulator emulator(config);
  for (const auto& d : options->devices) {
    if (auto s = emulator.add_device(d.name, d.token); !s) {
      std::fprintf(stderr, "edgegw-cloud-emulator: device '%s': %s\n", d.name.c_str(),
                   std::string(s.message()).c_str());
      return 2;
    }
  }
  for (const auto& token : options->account_tokens) {
    if (auto s = emulator.add_account_token(token); !s) {
      std::fprintf(stderr, "edgegw-cloud-emulator: --account-token: %s\n",
                   std::string(s.message()).c_str());
      return 2;
    }
  }
  if (auto s = emulator.apply_startup_faults(); !s) {
    std::fprintf(stderr, "edgegw-cloud-emulator: %s\n", std::string(s.message()).c_str());
    return 2;
  }

  ServerConfig server_config;
  server_config.host = options->host;
  server_config.port = options->port;
  server_config.threads = options->threads;
  server_config.tls_cert = options->tls_cert;
  server_config.tls_key = options->tls_key;
  server_config.log_requests = options->log_requests;
  Server server(emulator, server_config);
  auto address = server.listen();
  if (!address) {
    std::fprintf(stderr, "edgegw-cloud-emulator: %s\n",
                 std::string(address.status().message()).c_str());
    return 1;
  }
  std::printf("listening on %s\n", address->c_str());
  std::fflush(stdout);
  std::fprintf(stderr, "edgegw-cloud-emulator: listening on %s (%s, %u threads, %zu devices)\n",
               address->c_str(), options->tls_cert.empty() ? "http" : "https and http",
               options->threads, options->devices.size());
  server.run();
  std::fprintf(stderr, "edgegw-cloud-emulator: stopped\n");
  return 0;
}
