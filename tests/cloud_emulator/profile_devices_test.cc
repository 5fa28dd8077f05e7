// SPDX-License-Identifier: Apache-2.0
// GET /device's query (profile_devices.h) without a server: the SDK's qs keys, the tag and name
// filters, paging and ordering.
#include "profile_devices.h"

#include <gtest/gtest.h>

namespace edgegw::cloud_emulator {
namespace {

ProfileDevice device(std::string name, std::vector<Tag> tags = {}, std::uint64_t order = 0) {
  ProfileDevice d;
  d.id = "0123456789abcdef0123456" + std::to_string(order % 10);
  d.name = std::move(name);
  d.tags = std::move(tags);
  d.order = order;
  d.created_ms = 1000 * static_cast<std::int64_t>(order);
  return d;
}

TEST(ProfileDevices, WildcardMatch) {
  EXPECT_TRUE(wildcard_match("pump-1", "pump-1"));
  EXPECT_FALSE(wildcard_match("pump-1", "pump-10"));
  EXPECT_FALSE(wildcard_match("pump", "pump-1"));
  EXPECT_TRUE(wildcard_match("pump*", "pump-1"));
  EXPECT_TRUE(wildcard_match("*-1", "valve-1"));
  EXPECT_TRUE(wildcard_match("*ump*", "pump-1"));
  EXPECT_TRUE(wildcard_match("*", ""));
  EXPECT_TRUE(wildcard_match("a*b*c", "aXXbYYbc"));
  EXPECT_FALSE(wildcard_match("a*b*c", "aXXbYYb"));
  EXPECT_TRUE(wildcard_match("**x", "x"));
  EXPECT_FALSE(wildcard_match("", "x"));
  EXPECT_FALSE(wildcard_match("P*", "pump"));  // case matters
}

TEST(ProfileDevices, ParsesTheSdkQueryEncodedOrNot) {
  for (const std::string q :
       {"page=2&fields[0]=id&fields[1]=name&filter[tags][0][key]=serial&filter[tags][0][value]=SN1"
        "&filter[tags][1][key]=gw&filter[tags][1][value]=a%20b&amount=5&orderBy=created_at,desc"
        "&resolveBucketName=false",
        "page=2&fields%5B0%5D=id&fields%5B1%5D=name&filter%5Btags%5D%5B0%5D%5Bkey%5D=serial"
        "&filter%5Btags%5D%5B0%5D%5Bvalue%5D=SN1&filter%5Btags%5D%5B1%5D%5Bkey%5D=gw"
        "&filter%5Btags%5D%5B1%5D%5Bvalue%5D=a+b&amount=5&orderBy%5B0%5D=created_at"
        "&orderBy%5B1%5D=DESC"}) {
    auto parsed = parse_device_list_query(q);
    ASSERT_TRUE(parsed) << parsed.status().message();
    const DeviceListQuery& query = *parsed;
    EXPECT_EQ(query.page, 2u);
    EXPECT_EQ(query.amount, 5u);
    EXPECT_EQ(query.fields, (std::vector<std::string>{"id", "name"}));
    ASSERT_EQ(query.tags.size(), 2u);
    EXPECT_EQ(query.tags[0].key, "serial");
    EXPECT_EQ(query.tags[0].value, "SN1");
    EXPECT_EQ(query.tags[1].key, "gw");
    EXPECT_EQ(query.tags[1].value, "a b");
    EXPECT_EQ(query.order_field, "created_at");
    EXPECT_TRUE(query.descending);
  }
  auto defaults = parse_device_list_query("");
  ASSERT_TRUE(defaults);
  EXPECT_EQ(defaults->page, 1u);
  EXPECT_EQ(defaults->amount, kDefaultAmount);
  EXPECT_EQ(defaults->order_field, "name");
  EXPECT_FALSE(defaults->descending);
  EXPECT_EQ(parse_device_list_query("amount=99999")->amount, kMaxAmount);
  EXPECT_EQ(parse_device_list_query("fields=id,name,tags")->fields.size(), 3u);
  for (const char* bad : {"page=0", "page=", "amount=0", "amount=1x", "orderBy=color,asc",
                          "orderBy=name,up", "filter[active]=yes"}) {
    EXPECT_FALSE(parse_device_list_query(bad)) << bad;
  }
}

TEST(ProfileDevices, ADeviceMatchesWhenItHasEveryTag) {
  const ProfileDevice d = device("gw-dev-1", {{"gateway", "gw01"}, {"serial", "SN1"}});
  auto matches = [&](const std::string& q) {
    return device_matches(*parse_device_list_query(q), d);
  };
  EXPECT_TRUE(matches(""));
  EXPECT_TRUE(matches("filter[tags][0][key]=serial&filter[tags][0][value]=SN1"));
  EXPECT_TRUE(
      matches("filter[tags][0][key]=serial&filter[tags][0][value]=SN1"
              "&filter[tags][1][key]=gateway&filter[tags][1][value]=gw01"));
  EXPECT_FALSE(
      matches("filter[tags][0][key]=serial&filter[tags][0][value]=SN1"
              "&filter[tags][1][key]=gateway&filter[tags][1][value]=gw02"));
  // A key and a value of two different tags are no match.
  EXPECT_FALSE(matches("filter[tags][0][key]=serial&filter[tags][0][value]=gw01"));
  EXPECT_TRUE(matches("filter[tags][0][key]=gateway"));
  EXPECT_TRUE(matches("filter[tags][0][value]=gw01"));
  EXPECT_TRUE(matches("filter[name]=gw-*&filter[active]=true"));
  EXPECT_FALSE(matches("filter[active]=false"));
  EXPECT_FALSE(matches("filter[name]=gw"));
  EXPECT_TRUE(matches("filter[id]=x&filter[id]=" + d.id));
  EXPECT_FALSE(matches("filter[id]=x"));
  EXPECT_TRUE(matches("filter[type]=mutable"));
  EXPECT_FALSE(matches("filter[serie_number]=SN1"));
}

TEST(ProfileDevices, OrdersAndPages) {
  const std::vector<ProfileDevice> all = {device("b", {}, 1), device("a", {}, 2),
                                          device("c", {}, 3), device("a", {}, 4)};
  std::vector<const ProfileDevice*> list;
  for (const auto& d : all) list.push_back(&d);
  auto run = [&](const std::string& q) {
    std::vector<std::uint64_t> orders;
    for (const auto* d : order_and_page(list, *parse_device_list_query(q))) {
      orders.push_back(d->order);
    }
    return orders;
  };
  EXPECT_EQ(run(""), (std::vector<std::uint64_t>{2, 4, 1, 3}));
  EXPECT_EQ(run("orderBy=name,desc"), (std::vector<std::uint64_t>{3, 1, 4, 2}));
  EXPECT_EQ(run("orderBy=created_at,asc"), (std::vector<std::uint64_t>{1, 2, 3, 4}));
  EXPECT_EQ(run("orderBy=created_at,desc&amount=3"), (std::vector<std::uint64_t>{4, 3, 2}));
  EXPECT_EQ(run("amount=3&page=2"), (std::vector<std::uint64_t>{3}));
  EXPECT_TRUE(run("amount=3&page=3").empty());
  EXPECT_TRUE(run("amount=10000&page=18446744073709551615").empty());
}

}  // namespace
}  // namespace edgegw::cloud_emulator
