// SPDX-License-Identifier: Apache-2.0
// The actions' conditions and templates, and the engine on a real buffer (RocksDB on a temp dir):
// what fires, when it re-arms, what survives a reopen, and that a write that failed fires nothing.
#include "actions/engine.h"

#include <gtest/gtest.h>
#include <rocksdb/write_batch.h>

#include <charconv>
#include <thread>

#include "actions/condition.h"
#include "actions/executor.h"
#include "actions/template.h"
#include "support/subprocess.h"

namespace edgegw::actions {
namespace {

config::Condition condition(config::ConditionOp op, std::string value = "") {
  config::Condition c;
  c.variable = "temperature";
  c.op = op;
  c.value = value;
  char* end = nullptr;
  const double n = std::strtod(value.c_str(), &end);
  if (!value.empty() && end == value.c_str() + value.size()) c.number = n;
  return c;
}

bool holds_for(const config::Condition& c, const std::string& value_json) {
  return holds(c, value_of(R"({"variable":"temperature","value":)" + value_json + "}"));
}

TEST(Condition, ComparesAsTheCloudDoes) {
  using Op = config::ConditionOp;
  EXPECT_TRUE(holds_for(condition(Op::kGreater, "80"), "80.5"));
  EXPECT_FALSE(holds_for(condition(Op::kGreater, "80"), "80"));
  EXPECT_TRUE(holds_for(condition(Op::kGreaterEqual, "80"), "80"));
  EXPECT_TRUE(holds_for(condition(Op::kLess, "0"), "-3"));
  EXPECT_TRUE(holds_for(condition(Op::kLessEqual, "1e2"), "100"));
  // A number sent as a string compares as a number; a word never does.
  EXPECT_TRUE(holds_for(condition(Op::kGreater, "80"), R"("90")"));
  EXPECT_FALSE(holds_for(condition(Op::kGreater, "80"), R"("hot")"));
  EXPECT_FALSE(holds_for(condition(Op::kGreater, "80"), "true"));
  // = and != compare numbers as numbers, and text as text.
  EXPECT_TRUE(holds_for(condition(Op::kEqual, "5"), "5.0"));
  EXPECT_TRUE(holds_for(condition(Op::kEqual, "fault"), R"("fault")"));
  EXPECT_FALSE(holds_for(condition(Op::kEqual, "fault"), R"("Fault")"));
  EXPECT_TRUE(holds_for(condition(Op::kEqual, "true"), "true"));
  EXPECT_TRUE(holds_for(condition(Op::kNotEqual, "ok"), R"("fault")"));
  // * holds for any reading of the variable, even one without a value.
  EXPECT_TRUE(holds(condition(Op::kAny), value_of(R"({"variable":"temperature"})")));
  EXPECT_FALSE(holds(condition(Op::kEqual, "1"), value_of(R"({"variable":"temperature"})")));
  EXPECT_FALSE(holds(condition(Op::kEqual, "1"), value_of("not json")));
}

TEST(Condition, ShowsValuesAsTheyWereSent) {
  EXPECT_EQ(value_of(R"({"value":81.5})").text, "81.5");
  EXPECT_EQ(value_of(R"({"value":85})").text, "85");
  EXPECT_EQ(value_of(R"({"value":"on"})").text, "on");
  EXPECT_EQ(value_of(R"({"value":false})").text, "false");
  EXPECT_EQ(string_field(R"({"variable":"t","unit":"\u00b0C"})", "unit"),
            "\xc2\xb0"
            "C");
}

// value_of reads the encoder's shape directly: it must answer as the parser does, for that shape
// and for anything else.
TEST(Condition, TheShortcutAnswersAsTheParser) {
  const char* readings[] = {
      R"({"variable":"t","value":21.53,"unit":"C"})",
      R"({"variable":"t","value":-0.1})",
      R"({"variable":"t","value":18446744073709551615})",
      R"({"variable":"t","value":1e400})",
      R"({"variable":"t","value":"42","time":"2026-01-01T00:00:00.000Z"})",
      R"({"variable":"t","value":"a \"quoted\" word"})",
      R"({"variable":"t","value":"caf\u00e9"})",
      R"({"variable":"t\"x","value":5})",
      R"({"variable":"t","value":true})",
      R"({"variable":"t","value":false,"metadata":{"value":3}})",
      R"({"variable":"t","value":null})",
      R"({"variable":"t","value":{"a":1}})",
      R"({"variable":"t","unit":"C","metadata":{"value":3}})",
      R"({"value":7,"variable":"t"})",
      R"({"variable":"t","value":)",
      R"({"variable":"t","value":12abc})",
      "",
  };
  for (const char* r : readings) {
    SCOPED_TRACE(r);
    const ReadingValue fast = value_of(r);
    const ReadingValue parsed = parsed_value_of(r);
    EXPECT_EQ(fast.kind, parsed.kind);
    EXPECT_EQ(fast.numeric, parsed.numeric);
    if (fast.numeric) {
      EXPECT_EQ(fast.number, parsed.number);
    }
    EXPECT_EQ(fast.text, parsed.text);
  }
  EXPECT_EQ(value_of(R"({"variable":"t","value":"a \"b\""})").text, "a \"b\"");
}

TEST(Template, ReplacesOnlyItsPlaceholders) {
  const TemplateFields f{"boiler-1", "temperature", "85", "C", "2026-12-05T08:00:00.000Z"};
  EXPECT_EQ(expand("alarms/{device}/{variable}", f), "alarms/boiler-1/temperature");
  EXPECT_EQ(expand(R"({"v": {value}, "u": "{unit}", "at": "{time}"})", f),
            R"({"v": 85, "u": "C", "at": "2026-12-05T08:00:00.000Z"})");
  EXPECT_EQ(expand("{other} {value} {", f), "{other} 85 {");
}

TEST(ScopeItem, PutsTheDeviceFirst) {
  Job job;
  job.device = "boiler-\"1";
  job.reading = R"({"variable":"t","value":1})";
  EXPECT_EQ(scope_item(job), R"({"device":"boiler-\"1","variable":"t","value":1})");
}

class EngineTest : public ::testing::Test {
 protected:
  void open(const std::string& path = "") {
    engine_ = nullptr;
    buffer_.reset();
    buffer::Options o;
    o.path = path.empty() ? dir_.path() + "/buffer" : path;
    o.sync = buffer::SyncMode::kNone;
    auto b = buffer::Buffer::open(o);
    ASSERT_TRUE(b) << b.status().to_string();
    buffer_ = std::move(b).value();
    boiler_ = *buffer_->register_device("boiler-1");
    press_ = *buffer_->register_device("press-7");
    auto engine = std::make_unique<Engine>(*buffer_);
    ASSERT_TRUE(engine->load());
    engine_ = engine.get();
    buffer_->add_write_hook(std::move(engine));
  }
  void configure(std::vector<config::ActionConfig> actions) {
    const std::vector<std::pair<buffer::DeviceId, std::string>> devices{{boiler_, "boiler-1"},
                                                                        {press_, "press-7"}};
    ASSERT_TRUE(engine_->configure(actions, devices));
  }
  static config::ActionConfig overheat() {
    config::ActionConfig a;
    a.name = "overheat";
    a.when_set = condition(config::ConditionOp::kGreater, "80");
    a.when_reset = condition(config::ConditionOp::kLess, "70");
    return a;
  }
  Status send(buffer::DeviceId device, const std::string& value,
              const std::string& variable = "temperature") {
    const std::string json = R"({"variable":")" + variable + R"(","value":)" + value + "}";
    buffer::Record r{device, json, variable, 1000};
    // As the pipeline gives it: the decoded number too, when the value is one.
    double number = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
    if (ec == std::errc() && end == value.data() + value.size()) r.number = number;
    return buffer_->append({&r, 1});
  }
  std::vector<Job> ready() { return engine_->take_ready(); }

  testing::TempDir dir_;
  std::unique_ptr<buffer::Buffer> buffer_;
  Engine* engine_ = nullptr;
  buffer::DeviceId boiler_ = 0, press_ = 0;
};

TEST_F(EngineTest, FiresOnceUntilTheResetAndKeepsThatAcrossAReopen) {
  open();
  configure({overheat()});
  ASSERT_TRUE(send(boiler_, "85"));
  auto jobs = ready();
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].action, "overheat");
  EXPECT_EQ(jobs[0].device, "boiler-1");
  EXPECT_EQ(jobs[0].time_ms, 1000);
  EXPECT_EQ(jobs[0].reading, R"({"variable":"temperature","value":85})");
  ASSERT_TRUE(send(boiler_, "90"));
  ASSERT_TRUE(send(press_, "99"));  // another device: its own state
  jobs = ready();
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].device, "press-7");

  open();  // the disarmed marks and the two jobs not finished are in the store
  configure({overheat()});
  jobs = ready();
  ASSERT_EQ(jobs.size(), 2u);
  ASSERT_TRUE(engine_->finish(jobs[0]));
  ASSERT_TRUE(engine_->finish(jobs[1]));
  ASSERT_TRUE(send(boiler_, "95"));
  EXPECT_TRUE(ready().empty());
  ASSERT_TRUE(send(boiler_, "65"));  // the reset
  EXPECT_TRUE(ready().empty());
  ASSERT_TRUE(send(boiler_, "81"));
  jobs = ready();
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_GT(jobs[0].id, 2u);  // ids go on after the reopen

  open();  // the finished jobs are gone
  configure({overheat()});
  jobs = ready();
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].reading, R"({"variable":"temperature","value":81})");
}

TEST_F(EngineTest, WithoutAResetItFiresOnEveryReadingThatMeetsIt) {
  open();
  auto a = overheat();
  a.when_reset.reset();
  configure({a});
  for (const char* v : {"85", "60", "90", "91"}) ASSERT_TRUE(send(boiler_, v));
  EXPECT_EQ(ready().size(), 3u);
}

TEST_F(EngineTest, WatchesOnlyItsDevices) {
  open();
  auto by_key = overheat();
  by_key.name = "by-key";
  by_key.devices = {"press-7"};
  auto by_pattern = overheat();
  by_pattern.name = "by-pattern";
  by_pattern.device_pattern = "boiler-*";
  configure({by_key, by_pattern});
  ASSERT_TRUE(send(boiler_, "85"));
  ASSERT_TRUE(send(press_, "85"));
  ASSERT_TRUE(send(boiler_, "85", "pressure"));  // another variable
  const auto jobs = ready();
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs[0].action, "by-pattern");
  EXPECT_EQ(jobs[0].device, "boiler-1");
  EXPECT_EQ(jobs[1].action, "by-key");
  EXPECT_EQ(jobs[1].device, "press-7");
}

// A device the config does not list (provisioned) is watched once added, by the actions on all
// devices and those whose pattern names it; it stays watched through a reload, and its disarmed
// mark outlives a restart as a configured device's does.
TEST_F(EngineTest, AnAddedDeviceIsWatchedLikeAConfiguredOne) {
  open();
  auto all = overheat();
  all.name = "all";
  auto boilers = overheat();
  boilers.name = "boilers";
  boilers.device_pattern = "boiler-*";
  auto press = overheat();
  press.name = "press";
  press.devices = {"press-7"};
  configure({all, boilers, press});
  const buffer::DeviceId added = *buffer_->register_device("boiler-new");
  const buffer::DeviceId other = *buffer_->register_device("pump-new");
  ASSERT_TRUE(engine_->add_device(added, "boiler-new"));
  ASSERT_TRUE(engine_->add_device(other, "pump-new"));
  ASSERT_TRUE(send(added, "85"));
  ASSERT_TRUE(send(other, "85"));
  auto jobs = ready();
  ASSERT_EQ(jobs.size(), 3u);
  EXPECT_EQ(jobs[0].action, "all");
  EXPECT_EQ(jobs[0].device, "boiler-new");
  EXPECT_EQ(jobs[1].action, "boilers");
  EXPECT_EQ(jobs[1].device, "boiler-new");
  EXPECT_EQ(jobs[2].action, "all");
  EXPECT_EQ(jobs[2].device, "pump-new");
  // "all" no longer watches only the configured devices' set: press-7 still fires it once.
  ASSERT_TRUE(send(press_, "85"));
  EXPECT_EQ(ready().size(), 2u);  // all, press

  configure({all, boilers, press});  // a reload: the added devices stay watched, still disarmed
  ASSERT_TRUE(send(added, "90"));
  EXPECT_TRUE(ready().empty());
  ASSERT_TRUE(send(added, "60"));  // the reset
  ASSERT_TRUE(send(added, "90"));
  EXPECT_EQ(ready().size(), 2u);  // all, boilers

  open();  // a restart: the provisioner adds the device again; its marks are read
  configure({all, boilers, press});
  ready();
  ASSERT_TRUE(engine_->add_device(added, "boiler-new"));
  ASSERT_TRUE(send(added, "95"));
  EXPECT_TRUE(ready().empty()) << "fired again before its reset";
  ASSERT_TRUE(send(added, "60"));
  ASSERT_TRUE(send(added, "95"));
  EXPECT_EQ(ready().size(), 2u);
}

TEST_F(EngineTest, AFullOutboxRefusesAndStaysArmed) {
  open();
  auto a = overheat();
  a.max_queued = 1;
  configure({a});
  ASSERT_TRUE(send(boiler_, "85"));
  ASSERT_TRUE(send(press_, "85"));  // refused: one job waits
  auto jobs = ready();
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(engine_->stats().at("overheat")->refused.load(), 1u);
  ASSERT_TRUE(engine_->finish(jobs[0]));
  ASSERT_TRUE(send(press_, "86"));  // still armed: fires now there is room
  jobs = ready();
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].device, "press-7");
}

TEST_F(EngineTest, AChangedConditionStartsArmedAndDeadJobsAreKept) {
  open();
  configure({overheat()});
  ASSERT_TRUE(send(boiler_, "85"));
  auto jobs = ready();
  ASSERT_EQ(jobs.size(), 1u);
  ASSERT_TRUE(engine_->dead_letter(jobs[0], 404, "HTTP 404"));
  auto changed = overheat();
  changed.when_set = condition(config::ConditionOp::kGreater, "75");
  configure({changed});
  ASSERT_TRUE(send(boiler_, "85"));
  EXPECT_EQ(ready().size(), 1u);

  int dead = 0;
  ASSERT_TRUE(engine_->for_each_dead_letter([&](const Job& job, int status, std::string_view why) {
    ++dead;
    EXPECT_EQ(job.action, "overheat");
    EXPECT_EQ(status, 404);
    EXPECT_EQ(why, "HTTP 404");
  }));
  EXPECT_EQ(dead, 1);
  open();
  configure({changed});
  EXPECT_EQ(ready().size(), 1u);  // the second job; the dead one is not run again
}

// A number compares as a number, whether the buffer was given it decoded or only the JSON; against
// a condition value that is not a number, its text is compared.
TEST_F(EngineTest, NumbersCompareAsNumbersAndTextAsText) {
  open();
  auto equal = overheat();
  equal.name = "equal";
  equal.when_set = condition(config::ConditionOp::kEqual, "85");
  equal.when_reset.reset();
  auto not_on = overheat();
  not_on.name = "not-on";
  not_on.when_set = condition(config::ConditionOp::kNotEqual, "on");
  not_on.when_reset.reset();
  configure({equal, not_on});
  ASSERT_TRUE(send(boiler_, "85.0"));  // decoded: 85
  const std::string json = R"({"variable":"temperature","value":85.00})";
  const buffer::Record undecoded{boiler_, json, "temperature", 1000};
  ASSERT_TRUE(buffer_->append({&undecoded, 1}));
  ASSERT_TRUE(send(boiler_, R"("on")"));  // a string: neither fires
  EXPECT_EQ(engine_->stats().at("equal")->fired.load(), 2u);
  EXPECT_EQ(engine_->stats().at("not-on")->fired.load(), 2u);
}

// A group whose write fails fires nothing: its jobs are dropped and the disarmed marks it carried
// are read back from the store (the buffer's part, calling on_written(false) for a failed group,
// is tested on a full disk in buffer/disk_full_test.cc).
TEST_F(EngineTest, AFailedWriteFiresNothing) {
  open();
  configure({overheat()});
  rocksdb::WriteBatch failed;
  const std::string hot = R"({"variable":"temperature","value":85})";
  engine_->on_append(failed, buffer::Record{boiler_, hot, "temperature", 1000, 85}, 1, 1000);
  engine_->on_written(failed, false);
  EXPECT_TRUE(ready().empty());
  EXPECT_EQ(engine_->stats().at("overheat")->fired.load(), 0u);
  EXPECT_EQ(engine_->stats().at("overheat")->queued.load(), 0u);
  // Still armed: the same reading, written this time, fires.
  ASSERT_TRUE(send(boiler_, "85"));
  EXPECT_EQ(ready().size(), 1u);
  EXPECT_EQ(engine_->stats().at("overheat")->fired.load(), 1u);
}

}  // namespace
}  // namespace edgegw::actions
