// SPDX-License-Identifier: Apache-2.0
#include "history/local_api.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include "device_api/record.h"

#include "history/history.h"
#include "test_util.h"

namespace edgegw::history {
namespace {

namespace json = boost::json;

class LocalApiTest : public testing_util::HistoryTest {
 protected:
  void SetUp() override {
    b_ = open(100);
    dev_ = *b_->register_device("boiler-1");
    append(*b_, dev_, "temp", 0, 20, R"(,"unit":"C","location":{"lat":1.5,"lng":2.5})");
    append(*b_, dev_, "hum", 100, 5, R"(,"group":"g1","metadata":{"a":1})");
  }
  json::value query(std::string_view q) {
    auto r = query_json(*b_, dev_, q, now_);
    EXPECT_TRUE(r) << r.status().to_string();
    return r ? json::parse(*r) : json::value();
  }
  std::vector<std::int64_t> values(std::string_view q) {
    std::vector<std::int64_t> out;
    const json::value answer = query(q);
    for (const auto& rec : answer.as_array()) out.push_back(rec.at("value").as_int64());
    return out;
  }

  std::unique_ptr<buffer::Buffer> b_;
  buffer::DeviceId dev_ = 0;
};

TEST_F(LocalApiTest, ListsNewestFirstFifteenByDefault) {
  const auto all = values("");
  ASSERT_EQ(all.size(), 15u);
  EXPECT_EQ(all.front(), 104);  // hum's times are the latest
  EXPECT_EQ(values("variable=temp&qty=3"), (std::vector<std::int64_t>{19, 18, 17}));
  EXPECT_EQ(values("variables%5B0%5D=TEMP&qty=2&ordination=ascending"),
            (std::vector<std::int64_t>{0, 1}));
  EXPECT_EQ(values("variable=temp&qty=2&skip=1"), (std::vector<std::int64_t>{18, 17}));
}

TEST_F(LocalApiTest, RecordsHaveTheCloudsShape) {
  const json::value r = query("variable=temp&qty=1&details=true");
  const json::object& rec = r.as_array().at(0).as_object();
  EXPECT_EQ(rec.at("id").as_string().size(), 24u);
  EXPECT_EQ(rec.at("device").as_string(), device_id(dev_));
  EXPECT_EQ(rec.at("variable").as_string(), "temp");
  EXPECT_EQ(rec.at("unit").as_string(), "C");
  EXPECT_EQ(rec.at("time").as_string(), "2024-01-01T00:00:19.000Z");
  EXPECT_EQ(device_api::json_text(rec.at("location")),
            R"({"type":"Point","coordinates":[2.5,1.5]})");
  EXPECT_TRUE(rec.contains("created_at"));
  EXPECT_FALSE(rec.contains("group"));  // none sent: the cloud assigns its own on forwarding
  const json::value h = query("variable=hum&qty=1");
  EXPECT_EQ(h.as_array().at(0).at("group").as_string(), "g1");
  EXPECT_EQ(device_api::json_text(h.as_array().at(0).at("metadata")), R"({"a":1})");
}

TEST_F(LocalApiTest, AnswersTheQueryKinds) {
  EXPECT_EQ(query("query=count").as_int64(), 25);
  EXPECT_EQ(query("query=count&variable=hum").as_int64(), 5);
  EXPECT_EQ(values("query=last_value&variable=temp"), (std::vector<std::int64_t>{19}));
  EXPECT_EQ(values("query=first_item&variable=hum"), (std::vector<std::int64_t>{100}));
  EXPECT_EQ(values("query=last_item&variables[]=temp&variables[]=hum"),
            (std::vector<std::int64_t>{19, 104}));
  EXPECT_EQ(values("query=max&variable=temp"), (std::vector<std::int64_t>{19}));
  EXPECT_EQ(query("query=sum&variable=hum&start_date=2020-01-01").as_int64(), 510);
  // start_date and end_date bound the time (inclusive).
  EXPECT_EQ(values("variable=temp&start_date=2024-01-01T00:00:05Z&end_date=2024-01-01 00:00:07"),
            (std::vector<std::int64_t>{7, 6, 5}));
  EXPECT_EQ(values("value=3&variable=temp"), (std::vector<std::int64_t>{3}));
  EXPECT_EQ(values("group=g1&qty=100").size(), 5u);
}

TEST_F(LocalApiTest, BadFiltersAreInvalidArguments) {
  for (const char* q :
       {"qty=many", "ordination=sideways", "start_date=yesterday-ish", "query=aggregate"}) {
    auto r = query_json(*b_, dev_, q, now_);
    ASSERT_FALSE(r) << q;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << q;
  }
}

TEST_F(LocalApiTest, DeleteRemovesFromHistoryAndQueue) {
  ASSERT_EQ(b_->queued(dev_).readings, 25u);
  auto removed = delete_matching(*b_, dev_, "variable=temp&qty=5", now_);
  ASSERT_TRUE(removed) << removed.status().to_string();
  EXPECT_EQ(*removed, 5u);
  EXPECT_EQ(query("query=count&variable=temp").as_int64(), 15);
  EXPECT_EQ(values("variable=temp&qty=1"), (std::vector<std::int64_t>{14}));
  EXPECT_EQ(b_->queued(dev_).readings, 20u);
  auto batch = b_->read(dev_, 100, 1 << 20);
  ASSERT_TRUE(batch);
  EXPECT_EQ(batch->size(), 20u);
  EXPECT_EQ(batch->body.find("\"value\":19,"), std::string::npos);
  // The SDK's deleteData() without arguments: the last item.
  EXPECT_EQ(*delete_matching(*b_, dev_, "query=last_item", now_), 1u);
  EXPECT_EQ(query("query=count").as_int64(), 19);
  // A count deletes nothing.
  EXPECT_EQ(*delete_matching(*b_, dev_, "query=count", now_), 0u);
}

TEST_F(LocalApiTest, DeleteOfForwardedReadingsLeavesTheQueueAlone) {
  auto batch = b_->read(dev_, 100, 1 << 20);
  ASSERT_TRUE(b_->ack(dev_, buffer::AckPoint::of(batch->entries.back())));
  EXPECT_EQ(*delete_matching(*b_, dev_, "variable=hum&qty=100", now_), 5u);
  EXPECT_EQ(b_->stats().readings, 0u);
  EXPECT_EQ(query("query=count").as_int64(), 20);
}

TEST_F(LocalApiTest, InfoSaysWhatTheGatewayKnows) {
  const json::value info = json::parse(info_json(*b_, dev_, "boiler-1"));
  EXPECT_EQ(info.at("name").as_string(), "boiler-1");
  EXPECT_EQ(info.at("id").as_string(), device_id(dev_));
  EXPECT_EQ(info.at("buffered_readings").as_int64(), 25);
  EXPECT_EQ(info.at("history_readings").as_int64(), 25);
  EXPECT_EQ(info.at("last_input").as_string(), core::format_iso8601_ms(now_));
}

TEST_F(LocalApiTest, DisabledHistoryIsNotFound) {
  b_.reset();
  b_ = open(0);
  auto r = query_json(*b_, dev_, "", now_);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.status().code(), Code::kNotFound);
  EXPECT_NE(r.status().message().find("history_per_variable"), std::string::npos);
  const json::value info = json::parse(info_json(*b_, dev_, "boiler-1"));
  EXPECT_TRUE(info.at("last_input").is_null());
}

}  // namespace
}  // namespace edgegw::history
