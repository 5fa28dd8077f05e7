// SPDX-License-Identifier: Apache-2.0
// deploy/prometheus/: the scrape config and the alert rules pass promtool (syntax, and the rules'
// own unit tests), the Grafana dashboard is valid JSON with sane panels, and both name only
// metrics the gateway exports.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <regex>
#include <set>

#include "metrics/catalog.h"
#include "support/subprocess.h"

namespace edgegw::metrics {
namespace {

std::string deploy_dir() { return testing::source_dir() + "/deploy/prometheus"; }

// The metric names a text mentions that do not exist (histogram series resolve to their family).
std::set<std::string> unknown_metrics(const std::string& text) {
  std::set<std::string> known;
  for (const Description& d : catalogue()) known.emplace(d.name);
  std::set<std::string> unknown;
  const std::regex name(R"(edgegw_[a-z0-9_]+)");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), name); it != std::sregex_iterator();
       ++it) {
    std::string n = it->str();
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      const std::string s(suffix);
      if (!known.count(n) && n.ends_with(s)) n = n.substr(0, n.size() - s.size());
    }
    if (!known.count(n)) unknown.insert(it->str());
  }
  return unknown;
}

TEST(DeployPrometheus, AlertRulesPassPromtoolAndTheirOwnTests) {
  auto r =
      testing::run_command({"promtool", "check", "rules", deploy_dir() + "/edgegw-alerts.yml"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, ::testing::HasSubstr("SUCCESS: 15 rules found"));
  r = testing::run_command({"promtool", "test", "rules", deploy_dir() + "/edgegw-alerts.test.yml"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, ::testing::HasSubstr("SUCCESS"));
}

TEST(DeployPrometheus, ScrapeConfigPassesPromtool) {
  const auto r =
      testing::run_command({"promtool", "check", "config", deploy_dir() + "/prometheus.yml"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, ::testing::HasSubstr("SUCCESS: 1 rule files found"));
}

TEST(DeployPrometheus, RulesNameOnlyExportedMetrics) {
  EXPECT_THAT(unknown_metrics(testing::read_file(deploy_dir() + "/edgegw-alerts.yml")),
              ::testing::IsEmpty());
}

TEST(DeployPrometheus, GrafanaDashboardIsValid) {
  const std::string text = testing::read_file(deploy_dir() + "/grafana-dashboard.json");
  boost::system::error_code ec;
  const boost::json::value dashboard = boost::json::parse(text, ec);
  ASSERT_FALSE(ec) << ec.message();
  const auto& d = dashboard.as_object();
  EXPECT_EQ(d.at("uid").as_string(), "edgegw-overview");
  EXPECT_FALSE(d.at("title").as_string().empty());
  std::set<std::int64_t> ids;
  int queries = 0;
  for (const auto& panel : d.at("panels").as_array()) {
    const auto& p = panel.as_object();
    const std::string title(p.at("title").as_string());
    SCOPED_TRACE(title);
    EXPECT_TRUE(ids.insert(p.at("id").as_int64()).second) << "duplicate panel id";
    const auto& pos = p.at("gridPos").as_object();
    EXPECT_LE(pos.at("x").as_int64() + pos.at("w").as_int64(), 24);
    if (p.at("type").as_string() == "row") continue;
    EXPECT_EQ(p.at("datasource").at("uid").as_string(), "${datasource}");
    const auto& targets = p.at("targets").as_array();
    EXPECT_FALSE(targets.empty());
    for (const auto& t : targets) {
      const std::string expr(t.at("expr").as_string());
      EXPECT_THAT(expr, ::testing::HasSubstr("edgegw_"));
      ++queries;
    }
  }
  EXPECT_GE(queries, 30);
  EXPECT_THAT(unknown_metrics(text), ::testing::IsEmpty());
}

}  // namespace
}  // namespace edgegw::metrics
