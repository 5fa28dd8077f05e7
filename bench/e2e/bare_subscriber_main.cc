// SPDX-License-Identifier: Apache-2.0
// edgegw-bare-subscriber: the broker's raw QoS 1 delivery rate (bare_subscriber.h), the MQTT
// baseline of bench/e2e/run_scenarios.sh.
//
//   edgegw-bare-subscriber --uri URI --client-id ID --session        # make the persistent
//                                                                     # session, then leave
//   edgegw-bare-subscriber --uri URI --client-id ID --count N        # come back, take N
//
// The second form says "subscribed" on stderr once it is, and at the end prints one JSON line:
// {"messages":N,"seconds":S,"messages_per_second":R,"cpu_seconds":C}, the clock running from the
// subscription's acknowledgement to the N-th message, and C the process's CPU (user + system)
// over the same span.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "bare_subscriber.h"

namespace {

struct Options {
  std::string uri = "tcp://127.0.0.1:1883";
  std::string client_id = "edgegw-bare-subscriber";
  std::string topic = "sim/+/data";
  long long count = 0;
  bool session_only = false;
  int timeout_s = 300;
};

double cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    const bool has_value = i + 1 < argc;
    if (k == "--session") {
      o.session_only = true;
    } else if (k == "--uri" && has_value) {
      o.uri = argv[++i];
    } else if (k == "--client-id" && has_value) {
      o.client_id = argv[++i];
    } else if (k == "--topic" && has_value) {
      o.topic = argv[++i];
    } else if (k == "--count" && has_value) {
      o.count = std::atoll(argv[++i]);
    } else if (k == "--timeout" && has_value) {
      o.timeout_s = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr,
                   "usage: edgegw-bare-subscriber --uri URI --client-id ID [--topic T] "
                   "(--session | --count N [--timeout S])\n");
      return 2;
    }
  }
  if (!o.session_only && o.count <= 0) {
    std::fprintf(stderr, "edgegw-bare-subscriber: --count N (> 0) or --session\n");
    return 2;
  }
  edgegw::bench::BareSubscriber sub(o.uri, o.client_id, o.topic);
  if (!sub.subscribe()) {
    std::fprintf(stderr, "edgegw-bare-subscriber: cannot subscribe at %s\n", o.uri.c_str());
    return 1;
  }
  if (o.session_only) return 0;
  std::fprintf(stderr, "subscribed\n");
  std::fflush(stderr);
  const double cpu0 = cpu_seconds();
  const double s = sub.wait_for(o.count, std::chrono::seconds(o.timeout_s));
  const double cpu = cpu_seconds() - cpu0;
  if (s < 0) {
    std::fprintf(stderr, "edgegw-bare-subscriber: %lld of %lld messages in %d s\n", sub.count(),
                 o.count, o.timeout_s);
    return 1;
  }
  std::printf(
      "{\"messages\":%lld,\"seconds\":%.4f,\"messages_per_second\":%.1f,\"cpu_seconds\":%.4f}\n",
      o.count, s, static_cast<double>(o.count) / s, cpu);
  return 0;
}
