// SPDX-License-Identifier: Apache-2.0
#include "ingest/pipeline.h"

#include <gtest/gtest.h>

#include <limits>
#include <set>

#include <boost/json/parse.hpp>

#include "buffer/values.h"
#include "core/clock_sync.h"
#include "core/json_text.h"
#include "core/unsynced_stamp.h"
#include "decode/decoder.h"
#include "decode/encode.h"
#include "history/history.h"
#include "support/dead_letters.h"
#include "support/subprocess.h"

namespace edgegw::ingest {
namespace {

// The tests' clock, not the machine's (whose state must not change what they see): not
// synchronised, so that the fixed receive time of msg(), years back, is no reason to judge a
// reading's time as in the future; and readings stamped on it are not held (kNoClockWait).
bool synchronised() { return false; }
const TimeRules kNoClockWait{config::TimePolicy::kStamp, 5 * 60 * 1000, 0};

RawMessage msg(std::string_view device, std::string_view payload, std::string_view variable = {}) {
  return RawMessage{"src", device, variable, payload, 1700000000000};
}

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override { open_buffer(0); }

  // A new buffer in dir_/`name` (the history off unless `history_per_variable`), boiler-1 mapped.
  void open_buffer(std::size_t history_per_variable, const std::string& name = "buffer") {
    buffer_.reset();
    buffer::Options o;
    o.path = dir_.path() + "/" + name;
    o.sync = buffer::SyncMode::kNone;
    o.max_bytes = 64 * 1024;
    o.on_full = buffer::OnFull::kRejectNew;
    buffer_ = std::move(buffer::Buffer::open(o)).value();
    ASSERT_TRUE(history::attach(*buffer_, history_per_variable));
    boiler_ = *buffer_->register_device("boiler-1");
    other_ = *buffer_->register_device(kUnmappedDeviceKey);
    std::vector<config::DeviceConfig> devices(1);
    devices[0].key = "boiler-1";
    config::VariableMapping temp;
    temp.rename = "temperature";
    temp.unit = "C";
    temp.scale = 0.1;
    devices[0].variables["temp"] = temp;
    mapping_.store(std::make_shared<const MappingTable>(
        devices, std::vector<buffer::DeviceId>{boiler_}, std::nullopt, kNoClockWait));
    source_.name = "src";
    source_.format = decode::Format::kTagoJson;
  }

  std::string queued(buffer::DeviceId id) {
    auto batch = buffer_->read(id, 1000, 1 << 20);
    EXPECT_TRUE(batch);
    return batch->body;
  }

  testing::TempDir dir_;
  std::unique_ptr<buffer::Buffer> buffer_;
  buffer::DeviceId boiler_ = 0;
  buffer::DeviceId other_ = 0;
  Mapping mapping_;
  config::SourceConfig source_;
};

TEST_F(PipelineTest, DecodesMapsAndAppendsInOneCall) {
  Pipeline p(source_, mapping_, *buffer_, nullptr, std::chrono::seconds(10), synchronised);
  const RawMessage messages[] = {
      msg("boiler-1", R"([{"variable":"temp","value":215},{"variable":"Hum","value":40}])"),
      msg("boiler-1", R"({"variable":"temp","value":200,"time":"2024-01-02T03:04:05Z"})"),
  };
  ASSERT_TRUE(p.append(messages));
  EXPECT_EQ(
      queued(boiler_),
      R"([{"variable":"temperature","value":21.5,"unit":"C","time":"2023-11-14T22:13:20.000Z"},)"
      R"({"variable":"hum","value":40,"time":"2023-11-14T22:13:20.000Z"},)"
      R"({"variable":"temperature","value":20.0,"unit":"C","time":"2024-01-02T03:04:05.000Z"}])");
  EXPECT_EQ(p.stats().messages, 2u);
  EXPECT_EQ(p.stats().received, 3u);
  EXPECT_EQ(p.stats().appended, 3u);
  EXPECT_EQ(p.stats().rejected_decode, 0u);
}

TEST_F(PipelineTest, UndecodablePayloadIsCountedNotAnError) {
  Pipeline p(source_, mapping_, *buffer_, nullptr, std::chrono::seconds(10), synchronised);
  const RawMessage messages[] = {msg("boiler-1", "not json"),
                                 msg("boiler-1", R"({"variable":"ok","value":1})")};
  ASSERT_TRUE(p.append(messages));
  EXPECT_EQ(p.stats().rejected_decode, 1u);
  EXPECT_EQ(p.stats().appended, 1u);
}

TEST_F(PipelineTest, InvalidReadingsAreCountedAndTheOthersKept) {
  Pipeline p(source_, mapping_, *buffer_, nullptr, std::chrono::seconds(10), synchronised);
  const RawMessage messages[] = {
      msg("boiler-1", R"([{"variable":"a-b","value":1},{"variable":"good","value":2}])")};
  ASSERT_TRUE(p.append(messages));
  EXPECT_EQ(p.stats().rejected_invalid, 1u);
  EXPECT_EQ(p.stats().appended, 1u);
}

TEST_F(PipelineTest, TypedReadingsAreMappedAndQueuedAsDecodedOnesAre) {
  Pipeline p(source_, mapping_, *buffer_, nullptr, std::chrono::seconds(10), synchronised);
  // One poll of a unit, as the modbus source hands it over (plugin ABI 1.5): no payload.
  const TypedReading poll[] = {
      {"Temp", std::int64_t{215}, "", {}},                // mapped: renamed, scaled, its unit set
      {"flow", 12.5, "m3/h", {}},                         // a number
      {"count", std::int64_t{9007199254740993}, "", {}},  // exact beyond a double's 53 bits
      {"model", std::string_view("M1-\"X\""), "", {}},    // text, escaped when encoded
      {"door", true, "", {}}};
  const TypedMessage messages[] = {{"boiler-1", poll, 1700000000000}};
  ASSERT_TRUE(p.append(messages));
  EXPECT_EQ(
      queued(boiler_),
      R"([{"variable":"temperature","value":21.5,"unit":"C","time":"2023-11-14T22:13:20.000Z"},)"
      R"({"variable":"flow","value":12.5,"unit":"m3/h","time":"2023-11-14T22:13:20.000Z"},)"
      R"({"variable":"count","value":9007199254740993,"time":"2023-11-14T22:13:20.000Z"},)"
      R"({"variable":"model","value":"M1-\"X\"","time":"2023-11-14T22:13:20.000Z"},)"
      R"({"variable":"door","value":true,"time":"2023-11-14T22:13:20.000Z"}])");
  EXPECT_EQ(p.stats().messages, 1u);
  EXPECT_EQ(p.stats().received, 5u);
  EXPECT_EQ(p.stats().appended, 5u);
}

TEST_F(PipelineTest, TypedReadingsAreCheckedByTheRulesOfDecodedOnes) {
  Pipeline p(source_, mapping_, *buffer_, nullptr, std::chrono::seconds(10), synchronised);
  const TypedReading poll[] = {
      {"a-b", 1.0, "", {}},                                       // a forbidden character
      {"nan", std::numeric_limits<double>::quiet_NaN(), "", {}},  // not finite
      {"latin", std::string_view("caf\xe9"), "", {}},             // not UTF-8
      {"odd", 0.0, "", 9},                                        // a type the host does not know
      {"unit", 1.0, "a unit longer than the cloud's 25 characters", {}},
      {"good", 2.0, "", {}}};
  const TypedMessage messages[] = {{"boiler-1", poll, 1700000000000},
                                   {"stranger", std::span(poll).last(1), 1700000000000}};
  ASSERT_TRUE(p.append(messages));
  EXPECT_EQ(p.stats().received, 2u);  // the readings that passed the checks, as for a decoder
  EXPECT_EQ(p.stats().rejected_invalid, 5u);
  EXPECT_EQ(p.stats().rejected_unmapped, 1u);
  EXPECT_EQ(p.stats().appended, 1u);
  EXPECT_EQ(queued(boiler_),
            R"([{"variable":"good","value":2.0,"time":"2023-11-14T22:13:20.000Z"}])");
  // The strict mode names the first refused reading, by its index (and name, past its variable).
  const TypedMessage one[] = {{"boiler-1", std::span(poll).subspan(1, 1), 1700000000000}};
  Pipeline::AppendOptions strict;
  strict.all_or_nothing = true;
  const Status st = p.append(one, strict);
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_EQ(st.message(),
            "reading refused: reading 0 (\"nan\"): value is not a finite number (the cloud's "
            "JSON cannot carry it)");
}

TEST_F(PipelineTest, UnmappedIsRejectedOrSentToTheDefaultDevice) {
  Pipeline p(source_, mapping_, *buffer_, nullptr, std::chrono::seconds(10), synchronised);
  const RawMessage messages[] = {
      msg("stranger", R"([{"variable":"x","value":1},{"variable":"y"}])")};
  ASSERT_TRUE(p.append(messages));
  EXPECT_EQ(p.stats().rejected_unmapped, 2u);
  EXPECT_EQ(p.stats().appended, 0u);

  mapping_.store(std::make_shared<const MappingTable>(
      std::vector<config::DeviceConfig>{}, std::vector<buffer::DeviceId>{}, other_, kNoClockWait));
  ASSERT_TRUE(p.append(messages));
  EXPECT_EQ(p.stats().appended, 2u);
  EXPECT_EQ(buffer_->queued(other_).readings, 2u);
}

TEST_F(PipelineTest, RawUsesTheSourceVariableUnlessTheMessageNamesOne) {
  source_.format = decode::Format::kRaw;
  source_.variable = "level";
  Pipeline p(source_, mapping_, *buffer_, nullptr, std::chrono::seconds(10), synchronised);
  const RawMessage messages[] = {msg("boiler-1", "12"), msg("boiler-1", "7", "depth")};
  ASSERT_TRUE(p.append(messages));
  EXPECT_EQ(queued(boiler_),
            R"([{"variable":"level","value":12,"time":"2023-11-14T22:13:20.000Z"},)"
            R"({"variable":"depth","value":7,"time":"2023-11-14T22:13:20.000Z"}])");
}

TEST_F(PipelineTest, AFullBufferRefusesTheWholeCall) {
  Pipeline p(source_, mapping_, *buffer_, nullptr, std::chrono::seconds(10), synchronised);
  const std::string big = R"({"variable":"blob","value":")" + std::string(5000, 'x') + "\"}";
  std::vector<RawMessage> messages(4, msg("boiler-1", big));
  Status last;
  for (int i = 0; i < 20 && last; ++i) last = p.append(messages);
  ASSERT_FALSE(last);
  EXPECT_EQ(last.code(), Code::kResourceExhausted);
  EXPECT_GT(p.stats().rejected_buffer_full, 0u);
  EXPECT_EQ(p.stats().appended % 4, 0u);  // all or nothing per call
}

TEST_F(PipelineTest, AllOrNothingRefusesTheWholeCallAndSaysWhy) {
  Pipeline p(source_, mapping_, *buffer_, nullptr, std::chrono::seconds(10), synchronised);
  std::size_t appended = 99;
  const Pipeline::AppendOptions strict{true, &appended};
  const RawMessage invalid[] = {
      msg("boiler-1", R"([{"variable":"ok","value":1},{"variable":"no way","value":2}])")};
  Status s = p.append(invalid, strict);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("[1].variable"), std::string::npos) << s.message();
  EXPECT_EQ(appended, 0u);
  EXPECT_EQ(queued(boiler_), "");
  EXPECT_EQ(p.stats().rejected_invalid, 2u);  // the good one is refused with the bad one

  const RawMessage undecodable[] = {msg("boiler-1", "{not json")};
  EXPECT_EQ(p.append(undecodable, strict).code(), Code::kInvalidArgument);
  const RawMessage unknown[] = {msg("nobody", R"({"variable":"ok","value":1})")};
  s = p.append(unknown, strict);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("'nobody'"), std::string::npos) << s.message();

  const RawMessage good[] = {msg("boiler-1", R"([{"variable":"a","value":1},{"variable":"b"}])")};
  ASSERT_TRUE(p.append(good, strict));
  EXPECT_EQ(appended, 2u);
  EXPECT_EQ(buffer_->queued(boiler_).readings, 2u);
}

// Many requests in one call (the http source's append_each): each message is all or nothing on
// its own; the others are appended together, and each outcome says what became of its message.
TEST_F(PipelineTest, EachMessageIsAllOrNothingOnItsOwn) {
  Pipeline p(source_, mapping_, *buffer_, nullptr, std::chrono::seconds(10), synchronised);
  std::size_t appended = 99;
  std::vector<Pipeline::MessageOutcome> each(5);
  Pipeline::AppendOptions options;
  options.appended = &appended;
  options.each = each;
  const RawMessage messages[] = {
      msg("boiler-1", R"([{"variable":"a","value":1},{"variable":"temp","value":215}])"),
      msg("boiler-1", R"([{"variable":"ok","value":1},{"variable":"no way","value":2}])"),
      msg("boiler-1", "{not json"), msg("nobody", R"({"variable":"ok","value":1})"),
      msg("boiler-1", R"({"variable":"c","value":3})")};
  ASSERT_TRUE(p.append(messages, options));
  EXPECT_TRUE(each[0].status);
  EXPECT_EQ(each[0].readings, 2u);
  EXPECT_EQ(each[1].status.code(), Code::kInvalidArgument);
  EXPECT_NE(each[1].status.message().find("[1].variable"), std::string::npos)
      << each[1].status.message();
  EXPECT_EQ(each[1].readings, 0u);
  EXPECT_EQ(each[2].status.code(), Code::kInvalidArgument);
  EXPECT_NE(each[2].status.message().find("not decoded"), std::string::npos);
  EXPECT_EQ(each[3].status.code(), Code::kInvalidArgument);
  EXPECT_NE(each[3].status.message().find("'nobody'"), std::string::npos);
  EXPECT_TRUE(each[4].status);
  EXPECT_EQ(each[4].readings, 1u);
  // Exactly the readings of the messages taken, in their order, mapped.
  EXPECT_EQ(appended, 3u);
  EXPECT_EQ(
      queued(boiler_),
      R"([{"variable":"a","value":1,"time":"2023-11-14T22:13:20.000Z"},)"
      R"({"variable":"temperature","value":21.5,"unit":"C","time":"2023-11-14T22:13:20.000Z"},)"
      R"({"variable":"c","value":3,"time":"2023-11-14T22:13:20.000Z"}])");
  EXPECT_EQ(p.stats().appended, 3u);
  EXPECT_EQ(p.stats().rejected_invalid, 2u);  // both readings of the refused message
  EXPECT_EQ(p.stats().rejected_decode, 1u);
  EXPECT_EQ(p.stats().rejected_unmapped, 1u);
}

TEST_F(PipelineTest, EachMessagesOutcomeIsAFullBuffersError) {
  Pipeline p(source_, mapping_, *buffer_, nullptr, std::chrono::seconds(10), synchronised);
  const std::string big = R"({"variable":"blob","value":")" + std::string(5000, 'x') + "\"}";
  const std::vector<RawMessage> messages = {msg("boiler-1", big), msg("boiler-1", "{bad"),
                                            msg("boiler-1", big)};
  std::vector<Pipeline::MessageOutcome> each(messages.size());
  Pipeline::AppendOptions options;
  options.each = each;
  Status last;
  for (int i = 0; i < 20 && last; ++i) last = p.append(messages, options);
  ASSERT_EQ(last.code(), Code::kResourceExhausted);
  for (const auto& outcome : each) {
    EXPECT_EQ(outcome.status.code(), Code::kResourceExhausted);  // nothing of the call appended
    EXPECT_EQ(outcome.readings, 0u);
  }
  EXPECT_EQ(p.stats().appended % 2, 0u);
}

// With the local history on, each appended reading is kept under its mapped variable and time;
// with it off (the default) the same call only queues them.
TEST_F(PipelineTest, FeedsTheLocalHistoryOnlyWhenItIsOn) {
  const RawMessage messages[] = {
      msg("boiler-1", R"([{"variable":"temp","value":215},{"variable":"Hum","value":40}])"),
      msg("boiler-1", R"({"variable":"temp","value":200,"time":"2024-01-02T03:04:05Z"})"),
  };
  {
    Pipeline p(source_, mapping_, *buffer_, nullptr, std::chrono::seconds(10), synchronised);
    ASSERT_TRUE(p.append(messages));
    EXPECT_EQ(buffer_->queued(boiler_).readings, 3u);
    EXPECT_EQ(history::of(*buffer_), nullptr);
  }
  open_buffer(10, "with-history");
  Pipeline p(source_, mapping_, *buffer_, nullptr, std::chrono::seconds(10), synchronised);
  ASSERT_TRUE(p.append(messages));
  auto kept = history::of(*buffer_)->entries(boiler_, {});
  ASSERT_TRUE(kept) << kept.status().to_string();
  std::vector<std::pair<std::string, std::int64_t>> got;
  for (const auto& e : *kept) got.emplace_back(e.variable, e.time_ms);
  EXPECT_EQ(got, (std::vector<std::pair<std::string, std::int64_t>>{
                     {"hum", 1700000000000},
                     {"temperature", 1700000000000},
                     {"temperature", 1704164645000},
                 }));
}

// A plain reading (no group, location or metadata) is stored as its values, without a hook that
// wants its JSON; every reading reads back as the JSON the decoder's encoding gives it, whichever
// way it was stored, and the byte accounting counts what was stored.
TEST_F(PipelineTest, PlainReadingsAreStoredAsTheirValuesAndReadBackAsTheirJson) {
  const RawMessage messages[] = {
      msg("boiler-1",
          R"([{"variable":"temp","value":215},{"variable":"n","value":-9007199254740993},)"
          R"({"variable":"s","value":"a\"\u0001b ü","unit":"x"},{"variable":"b","value":false},)"
          R"({"variable":"none"},{"variable":"g","value":1.5,"group":"g1"},)"
          R"({"variable":"l","value":1,"location":{"lat":1.5,"lng":2}},)"
          R"({"variable":"m","value":1,"metadata":{"k":"v"}},{"variable":"t","value":1e300}])")};
  decode::DecodeOutput decoded;
  decode::decode(decode::Format::kTagoJson, messages[0], decoded);
  ASSERT_EQ(decoded.readings.size(), 9u) << decoded.first_error;
  decoded.readings[0] = {"temperature", 21.5, "C", 1700000000000, {}, {}, {}};  // mapped
  std::string expected = "[";
  std::uint64_t json_bytes = 0;
  for (const Reading& r : decoded.readings) {
    const std::string json = decode::to_cloud_json(r);
    expected += (expected.size() > 1 ? "," : "") + json;
    json_bytes += buffer::entry_bytes(json.size());
  }
  expected += "]";
  std::uint64_t stored_bytes = 0;
  {
    Pipeline p(source_, mapping_, *buffer_, nullptr, std::chrono::seconds(10), synchronised);
    ASSERT_TRUE(p.append(messages));
    EXPECT_EQ(queued(boiler_), expected);
    // Six readings as values (a third of their JSON here, short as their variables are), three
    // (group, location, metadata) as their JSON.
    stored_bytes = buffer_->queued(boiler_).bytes;
    EXPECT_LT(stored_bytes, json_bytes * 3 / 4);
  }
  // With the history on, its hook takes each reading's JSON; the queue stores the same.
  open_buffer(10, "with-history");
  Pipeline p(source_, mapping_, *buffer_, nullptr, std::chrono::seconds(10), synchronised);
  ASSERT_TRUE(p.append(messages));
  EXPECT_EQ(queued(boiler_), expected);
  EXPECT_EQ(buffer_->queued(boiler_).bytes, stored_bytes);
  auto kept = history::of(*buffer_)->entries(boiler_, {});
  ASSERT_TRUE(kept) << kept.status().to_string();
  std::set<std::string> history_json, expected_json;
  for (const auto& e : *kept) history_json.insert(e.json);
  for (const Reading& r : decoded.readings) expected_json.insert(decode::to_cloud_json(r));
  EXPECT_EQ(history_json, expected_json);
}

// The readings' JSON, variable, time and number are filled in only while a hook wants them (the
// actions engine, only while an action is configured).
TEST_F(PipelineTest, ReadingsAreFilledInForTheHooksOnlyWhileOneWantsThem) {
  struct Seen final : buffer::WriteHook {
    void on_append(rocksdb::WriteBatch&, const buffer::Record& r, buffer::Seq,
                   std::int64_t) override {
      got.push_back(std::string(r.json) + "|" + std::string(r.variable));
    }
    bool wants_readings() const override { return wants; }
    bool wants = false;
    std::vector<std::string> got;
  };
  auto hook = std::make_unique<Seen>();
  Seen& seen = *hook;
  buffer_->add_write_hook(std::move(hook));
  Pipeline p(source_, mapping_, *buffer_, nullptr, std::chrono::seconds(10), synchronised);
  const RawMessage messages[] = {msg("boiler-1", R"({"variable":"hum","value":40})")};
  ASSERT_TRUE(p.append(messages));
  seen.wants = true;
  buffer_->hooks_changed();
  ASSERT_TRUE(p.append(messages));
  const std::string json = R"({"variable":"hum","value":40,"time":"2023-11-14T22:13:20.000Z"})";
  EXPECT_EQ(seen.got, (std::vector<std::string>{"|", json + "|hum"}));
  EXPECT_EQ(queued(boiler_), "[" + json + "," + json + "]");
}

// A plugin's float (EDGEGW_VALUE_FLOAT32, a Modbus f32) is queued in 4 bytes and read back as its
// shortest text, what the plugin would have printed: 0.1, not 0.10000000149011612. The hooks
// compare the 0.1 that text says; a device mapping's scale starts from it too.
TEST_F(PipelineTest, AFloatIsQueuedAsAFloatAndReadAsItsShortestText) {
  struct Seen final : buffer::WriteHook {
    void on_append(rocksdb::WriteBatch&, const buffer::Record& r, buffer::Seq,
                   std::int64_t) override {
      numbers.push_back(r.number);
      jsons.emplace_back(r.json);
    }
    std::vector<std::optional<double>> numbers;
    std::vector<std::string> jsons;
  };
  auto hook = std::make_unique<Seen>();
  Seen& seen = *hook;
  buffer_->add_write_hook(std::move(hook));
  Pipeline p(source_, mapping_, *buffer_, nullptr, std::chrono::seconds(10), synchronised);
  // As the host takes EDGEGW_VALUE_FLOAT32 (plugin_host/source_readings.cc): the float's value.
  const auto f32 = [](std::string_view variable, float v, std::string_view unit = {}) {
    return TypedReading{variable, static_cast<double>(v), unit, {}, true};
  };
  const TypedReading poll[] = {
      f32("level", 0.1f, "m"),
      f32("count", 230.0f),       // integral: "230", as the float's text
      f32("temp", 215.3f),        // mapped: 215.3 x 0.1, not 215.300003 x 0.1
      f32("big", 3.4028235e38f),  // the largest float
      f32("bad", std::numeric_limits<float>::infinity()),  // not finite: refused
      {"wide", 0.1, "", {}, true}};  // EDGEGW_VALUE_FLOAT32 holding no float's value: refused
  const TypedMessage messages[] = {{"boiler-1", poll, 1700000000000}};
  ASSERT_TRUE(p.append(messages));
  EXPECT_EQ(p.stats().rejected_invalid, 2u);
  Pipeline::AppendOptions strict;
  strict.all_or_nothing = true;
  const TypedMessage wide[] = {{"boiler-1", std::span(poll).last(1), 1700000000000}};
  EXPECT_EQ(p.append(wide, strict).message(),
            "reading refused: reading 0 (\"wide\"): value is EDGEGW_VALUE_FLOAT32 but its number "
            "is no float's");
  const std::string t = R"("time":"2023-11-14T22:13:20.000Z"})";
  // The scale applies to 215.3, as to a JSON reading "value":215.3; not to the float's exact value.
  const double scaled = 215.3 * 0.1;
  std::string scaled_text, widened_text;
  core::append_double(scaled, scaled_text);
  core::append_double(static_cast<double>(215.3f) * 0.1, widened_text);
  ASSERT_NE(scaled_text, widened_text);
  const std::vector<std::string> expected = {
      R"({"variable":"level","value":0.1,"unit":"m",)" + t,
      R"({"variable":"count","value":230,)" + t,
      R"({"variable":"temperature","value":)" + scaled_text + R"(,"unit":"C",)" + t,
      R"({"variable":"big","value":3.4028235e+38,)" + t};
  EXPECT_EQ(queued(boiler_),
            "[" + expected[0] + "," + expected[1] + "," + expected[2] + "," + expected[3] + "]");
  EXPECT_EQ(seen.jsons, expected);
  EXPECT_EQ(seen.numbers, (std::vector<std::optional<double>>{0.1, 230.0, scaled, 3.4028235e38}));
  // The float takes 4 bytes in the queue, as a double's 8 would be 4 more.
  auto batch = buffer_->read(boiler_, 1, 1 << 20);
  ASSERT_TRUE(batch);
  std::string as_double;
  buffer::encode_values({"level", core::ValueView{0.1}, "m", 1700000000000}, as_double);
  EXPECT_EQ(batch->entries[0].stored_size + 4, as_double.size());
}

// cloud.implausible_time, on a clock the test says is synchronised or not.
class PipelineTimeTest : public PipelineTest {
 protected:
  // `clock_wait_ms`: cloud.clock_wait (0: readings stamped on an unsynchronised clock are not
  // held; the default here, so that the time tests see the times alone).
  void rules(config::TimePolicy policy, std::int64_t clock_wait_ms = 0) {
    std::vector<config::DeviceConfig> devices(1);
    devices[0].key = "boiler-1";
    mapping_.store(std::make_shared<const MappingTable>(
        devices, std::vector<buffer::DeviceId>{boiler_}, std::nullopt,
        TimeRules{policy, 5 * 60 * 1000, clock_wait_ms}));
  }
  Pipeline pipeline() {
    return Pipeline(source_, mapping_, *buffer_, nullptr, std::chrono::seconds(10),
                    [this] { return synchronised_; });
  }
  std::vector<buffer::DeadLetter> dead_letters() { return testing::dead_letters(*buffer_); }
  ImplausibleTimes::Counts counts(Pipeline& p) {
    const auto by_device = p.stats().implausible_times.by_device();
    auto it = by_device.find(boiler_);
    return it == by_device.end() ? ImplausibleTimes::Counts{} : it->second;
  }

  bool synchronised_ = true;
  // A device clock never set, one an hour ahead, and a good one (a minute before arrival).
  const RawMessage messages_[1] = {msg(
      "boiler-1", R"([{"variable":"a","value":1,"time":"1970-01-01T00:00:10Z","metadata":{"k":1}},)"
                  R"({"variable":"b","value":2,"time":"2023-11-14T23:13:20Z"},)"
                  R"({"variable":"c","value":3,"time":"2023-11-14T22:12:20Z"}])")};
};

TEST_F(PipelineTimeTest, StampGivesTheArrivalTimeAndKeepsTheOriginalInMetadata) {
  rules(config::TimePolicy::kStamp);
  Pipeline p = pipeline();
  ASSERT_TRUE(p.append(messages_));
  EXPECT_EQ(queued(boiler_), R"([{"variable":"a","value":1,"time":"2023-11-14T22:13:20.000Z",)"
                             R"("metadata":{"k":1,"original_time":"1970-01-01T00:00:10.000Z"}},)"
                             R"({"variable":"b","value":2,"time":"2023-11-14T22:13:20.000Z",)"
                             R"("metadata":{"original_time":"2023-11-14T23:13:20.000Z"}},)"
                             R"({"variable":"c","value":3,"time":"2023-11-14T22:12:20.000Z"}])");
  EXPECT_EQ(counts(p).stamped, 2u);
  EXPECT_EQ(p.stats().appended, 3u);
}

TEST_F(PipelineTimeTest, AnUnsynchronisedClockJudgesOnlyTimesBeforeTwoThousand) {
  rules(config::TimePolicy::kStamp);
  synchronised_ = false;
  Pipeline p = pipeline();
  ASSERT_TRUE(p.append(messages_));
  const std::string q = queued(boiler_);
  EXPECT_NE(q.find(R"({"variable":"b","value":2,"time":"2023-11-14T23:13:20.000Z"})"),
            std::string::npos)
      << q;
  EXPECT_EQ(counts(p).stamped, 1u);
}

// While the clock is not synchronised, a reading the gateway stamps (no time of its own, or one
// cloud.implausible_time: stamp replaced) carries this boot and its instant on the boot clock
// (the forwarder gives it its real time later); a device's own time is left alone.
TEST_F(PipelineTimeTest, ReadingsStampedOnAnUnsynchronisedClockCarryTheBootClock) {
  rules(config::TimePolicy::kStamp, std::numeric_limits<std::int64_t>::max());  // a young box
  synchronised_ = false;
  Pipeline p = pipeline();
  const RawMessage m[] = {msg("boiler-1",
                              R"([{"variable":"a","value":1},)"
                              R"({"variable":"b","value":2,"time":"1970-01-01T00:00:10Z"},)"
                              R"({"variable":"c","value":3,"time":"2023-11-14T22:12:20Z"}])")};
  const std::int64_t boot_before = core::boottime_ms();
  ASSERT_TRUE(p.append(m));
  const std::int64_t boot_after = core::boottime_ms();
  const auto batch = buffer_->read(boiler_, 10, 1 << 20);
  ASSERT_EQ(batch->size(), 3u);
  for (std::size_t i = 0; i < 2; ++i) {
    const auto v = boost::json::parse(batch->reading(i));
    const std::string text(v.at("metadata").at("edgegw_unsynced_at").as_string());
    const auto stamp = core::UnsyncedStamp::parse(text);
    ASSERT_TRUE(stamp) << text;
    EXPECT_EQ(stamp->boot_id, core::boot_id());
    EXPECT_FALSE(stamp->boot_id.empty());
    // The arrival (msg(): a fixed receive time, years before now) on the boot clock: before the
    // append (it may be negative: before this boot, as the wall clock sees it).
    EXPECT_LE(stamp->boot_ms, boot_before);
    EXPECT_LE(boot_before, boot_after);
  }
  EXPECT_EQ(batch->reading(2), R"({"variable":"c","value":3,"time":"2023-11-14T22:12:20.000Z"})");
  synchronised_ = true;
  ASSERT_TRUE(p.append(m));
  // Long after boot (past cloud.clock_wait), an unsynchronised clock is not waited for.
  synchronised_ = false;
  rules(config::TimePolicy::kStamp, 1);
  ASSERT_TRUE(p.append(m));
  const auto more = buffer_->read(boiler_, 10, 1 << 20);
  ASSERT_EQ(more->size(), 9u);
  for (std::size_t i = 3; i < 9; ++i) {
    EXPECT_EQ(std::string(more->reading(i)).find("edgegw_unsynced_at"), std::string::npos) << i;
  }
}

TEST_F(PipelineTimeTest, KeepSendsThemAsTheyAreAndCountsThem) {
  rules(config::TimePolicy::kKeep);
  Pipeline p = pipeline();
  ASSERT_TRUE(p.append(messages_));
  const std::string q = queued(boiler_);
  EXPECT_NE(q.find(R"("time":"1970-01-01T00:00:10.000Z")"), std::string::npos) << q;
  EXPECT_EQ(q.find("original_time"), std::string::npos) << q;
  EXPECT_EQ(counts(p).kept, 2u);
  EXPECT_EQ(p.stats().appended, 3u);
}

TEST_F(PipelineTimeTest, RejectDeadLettersThemWithTheReasonAndKeepsTheOthers) {
  rules(config::TimePolicy::kReject);
  Pipeline p = pipeline();
  ASSERT_TRUE(p.append(messages_));
  EXPECT_EQ(queued(boiler_), R"([{"variable":"c","value":3,"time":"2023-11-14T22:12:20.000Z"}])");
  const auto letters = dead_letters();
  ASSERT_EQ(letters.size(), 2u);
  EXPECT_EQ(letters[0].device, boiler_);
  EXPECT_EQ(letters[0].reading_json,
            R"({"variable":"a","value":1,"time":"1970-01-01T00:00:10.000Z","metadata":{"k":1}})");
  EXPECT_NE(letters[0].reason.find("variable a: its time 1970-01-01T00:00:10.000Z is before 2000"),
            std::string::npos)
      << letters[0].reason;
  EXPECT_NE(letters[1].reason.find("cloud.future_tolerance"), std::string::npos);
  EXPECT_EQ(counts(p).rejected, 2u);
  EXPECT_EQ(p.stats().appended, 1u);
}

// A call the full buffer refuses is sent again by its source: its rejected readings are
// dead-lettered (and counted) once, when the call is taken.
TEST_F(PipelineTimeTest, ARefusedCallDeadLettersNothingUntilItIsTaken) {
  rules(config::TimePolicy::kReject);
  Pipeline p = pipeline();
  // Filled with readings the size of the one good reading of messages_.
  const RawMessage filler[] = {
      msg("boiler-1", R"({"variable":"c","value":3,"time":"2023-11-14T22:12:20Z"})")};
  Status full;
  for (int i = 0; i < 10000 && full; ++i) full = p.append(filler);
  ASSERT_EQ(full.code(), Code::kResourceExhausted);
  EXPECT_EQ(p.append(messages_).code(), Code::kResourceExhausted);
  EXPECT_EQ(p.append(messages_).code(), Code::kResourceExhausted);
  EXPECT_TRUE(dead_letters().empty());
  EXPECT_EQ(counts(p).rejected, 0u);

  auto batch = buffer_->read(boiler_, 1000, 1 << 20);  // the cloud takes the backlog
  ASSERT_TRUE(batch && !batch->empty());
  ASSERT_TRUE(buffer_->ack(boiler_, buffer::AckPoint::of(batch->entries.back())));
  ASSERT_TRUE(p.append(messages_));
  EXPECT_EQ(dead_letters().size(), 2u);
  EXPECT_EQ(counts(p).rejected, 2u);
}

TEST_F(PipelineTimeTest, RejectRefusesAnAllOrNothingCallAndSaysWhy) {
  rules(config::TimePolicy::kReject);
  Pipeline p = pipeline();
  const Pipeline::AppendOptions strict{true, nullptr};
  const Status s = p.append(messages_, strict);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("variable a: its time 1970-01-01T00:00:10.000Z is before 2000"),
            std::string_view::npos)
      << s.message();
  EXPECT_EQ(buffer_->queued(boiler_).readings, 0u);
  EXPECT_TRUE(dead_letters().empty()) << "the client is told; nothing is kept";
}

}  // namespace
}  // namespace edgegw::ingest
