// SPDX-License-Identifier: Apache-2.0
// Decoders and the cloud encoding: the per-reading cost of the ingest hot path.
#include <benchmark/benchmark.h>

#include <string>

#include "decode/decoder.h"
#include "decode/encode.h"

namespace {

using edgegw::RawMessage;
using edgegw::Reading;
namespace decode = edgegw::decode;

// 120 bytes: a typical sensor reading in the Device API's format.
constexpr std::string_view kReading =
    R"({"variable":"temperature","value":21.537,"unit":"C","time":"2024-01-01T12:00:00Z",)"
    R"("group":"boiler-1","metadata":{"q":1}})";
static_assert(kReading.size() == 120);

std::string reading_array(int n) {
  std::string payload = "[";
  for (int i = 0; i < n; ++i) {
    if (i > 0) payload += ',';
    payload += kReading;
  }
  payload += ']';
  return payload;
}

void run_decode(benchmark::State& state, decode::Format format, std::string_view payload,
                std::size_t readings_per_payload, std::string_view variable = {}) {
  decode::DecodeOutput out;
  const RawMessage msg{"bench", "dev", variable, payload, 1700000000000};
  for (auto _ : state) {
    out.clear();
    decode::decode(format, msg, out);
    benchmark::DoNotOptimize(out.readings.data());
  }
  if (out.readings.size() != readings_per_payload) state.SkipWithError("wrong reading count");
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(readings_per_payload));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(payload.size()));
}

void BM_DecodeTagoJsonOne(benchmark::State& state) {
  run_decode(state, decode::Format::kTagoJson, kReading, 1);
}
BENCHMARK(BM_DecodeTagoJsonOne);

void BM_DecodeTagoJsonArray100(benchmark::State& state) {
  const std::string payload = reading_array(100);
  run_decode(state, decode::Format::kTagoJson, payload, 100);
}
BENCHMARK(BM_DecodeTagoJsonArray100);

void BM_DecodeFlatJson(benchmark::State& state) {
  run_decode(
      state, decode::Format::kFlatJson,
      R"({"temperature":21.53,"humidity":40,"pressure":1013.2,"time":"2024-01-01T12:00:00Z"})", 3);
}
BENCHMARK(BM_DecodeFlatJson);

void BM_DecodeCsv100(benchmark::State& state) {
  std::string payload;
  for (int i = 0; i < 100; ++i) payload += "temperature," + std::to_string(20 + i) + ".5,C\r\n";
  run_decode(state, decode::Format::kCsv, payload, 100);
}
BENCHMARK(BM_DecodeCsv100);

void BM_DecodeRaw(benchmark::State& state) {
  run_decode(state, decode::Format::kRaw, "21.53\n", 1, "temperature");
}
BENCHMARK(BM_DecodeRaw);

void BM_EncodeOne(benchmark::State& state) {
  decode::DecodeOutput decoded;
  decode::decode(decode::Format::kTagoJson, RawMessage{"bench", "dev", "", kReading, 0}, decoded);
  const Reading reading = decoded.readings.at(0);
  std::string out;
  for (auto _ : state) {
    out.clear();  // keeps the capacity, as the buffer's reused batch string does
    decode::append_cloud_json(reading, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(out.size()));
}
BENCHMARK(BM_EncodeOne);

}  // namespace
