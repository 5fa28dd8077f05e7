// SPDX-License-Identifier: Apache-2.0
// Fuzzes the serial plugin's framer and frame checks: the input's first byte picks the delimiter,
// max_frame and how the rest is split into reads. Invariants: no crash; every frame is non-empty,
// at most max_frame bytes and holds no delimiter; the bytes held for an unterminated frame stay
// bounded; splitting the stream differently gives the same frames; the device-field extraction
// never crashes and leaves a payload no longer than the frame.
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "frame_check.h"
#include "framer.h"
#include "fuzz_check.h"

using edgegw::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace edgegw::plugins::serial;
  if (size < 2) return 0;
  const std::uint8_t mode = data[0];
  const std::uint8_t step = static_cast<std::uint8_t>(data[1] % 16 + 1);
  const std::string_view stream(reinterpret_cast<const char*>(data) + 2, size - 2);
  static const char* const kDelimiters[] = {"\n", "\r", ";", "\r\n", "##", "<END>"};
  const std::string delimiter = kDelimiters[mode % 6];
  const bool strip_cr = delimiter == "\n";
  const std::size_t max_frame = 1 + (mode >> 3) * 4;

  std::vector<std::string> whole, pieces;
  Framer a(delimiter, strip_cr, max_frame), b(delimiter, strip_cr, max_frame);
  std::string device, payload;
  a.feed(stream, [&](std::string_view f) {
    check(!f.empty(), "empty frame");
    check(f.size() <= max_frame, "frame longer than max_frame");
    check(f.find(delimiter) == std::string_view::npos, "delimiter inside a frame");
    (void)check_frame(f);
    if (take_csv_column(f, 2, device, payload)) check(payload.size() < f.size(), "csv payload");
    if (take_json_key(f, "dev", device, payload)) check(payload.size() < f.size(), "json payload");
    whole.emplace_back(f);
  });
  for (std::size_t at = 0; at < stream.size(); at += step) {
    b.feed(stream.substr(at, step), [&](std::string_view f) { pieces.emplace_back(f); });
    check(b.pending() <= max_frame + delimiter.size() + 1 + step, "unbounded pending bytes");
  }
  check(whole == pieces, "frames depend on how the stream was split");
  check(a.overlong() == b.overlong(), "overlong count depends on the split");
  return 0;
}
