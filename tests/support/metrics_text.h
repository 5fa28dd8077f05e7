// SPDX-License-Identifier: Apache-2.0
// Reading the Prometheus text format in tests: every sample line as "name{labels}" -> value,
// exactly as written (prometheus-cpp writes labels in the order the gateway gives them).
//
//   auto samples = testing::parse_metrics(body);
//   EXPECT_EQ(samples.at(R"(edgegw_readings_received_total{source="plant"})"), 300);
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "support/http_client.h"

namespace edgegw::testing {

// A client for the gateway's metrics address ("127.0.0.1:9464"); the server closes each
// connection after its answer, so the client does not keep it alive.
HttpClient metrics_client(const std::string& address);

class Subprocess;
// The address from a running gateway's "metrics: http://ADDR/metrics" log line (waits up to
// 10 s for it; metrics.listen with port 0 picks a free port), or "" if it does not come.
std::string metrics_address(const Subprocess& gateway);

std::map<std::string, double> parse_metrics(std::string_view text);

// `promtool check metrics` over `text`: its complaints (stdout and stderr), empty when none, or
// a line saying that promtool failed.
std::string promtool_check_metrics(const std::string& text);

}  // namespace edgegw::testing
