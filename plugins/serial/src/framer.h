// SPDX-License-Identifier: Apache-2.0
// Cuts a byte stream into frames at a delimiter. Bounded: a frame longer than max_frame is dropped
// (counted) and the framer resynchronises at the next delimiter, so noise without delimiters
// cannot grow memory. Not thread-safe (one reader owns it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace edgegw::plugins::serial {

class Framer {
 public:
  // `strip_cr`: one '\r' before the delimiter is removed (LF or CRLF lines with delimiter "\n").
  // `max_frame`: the largest frame, without its delimiter (and the stripped '\r').
  Framer(std::string delimiter, bool strip_cr, std::size_t max_frame);

  // Feeds the next bytes of the stream; calls on_frame(std::string_view) for every complete frame
  // that is not empty and not longer than max_frame, in order. The view is valid during the call.
  template <typename OnFrame>
  void feed(std::string_view in, OnFrame&& on_frame);

  // The stream broke (the port closed): forgets the unterminated rest. True when that rest held
  // bytes of a frame (a partial frame, lost), false when nothing or an overlong frame's tail was
  // pending.
  bool reset() noexcept;

  // Frames dropped for being longer than max_frame (each counted once, however long it was).
  std::uint64_t overlong() const noexcept { return overlong_; }
  // Bytes held for an unterminated frame.
  std::size_t pending() const noexcept { return buf_.size(); }

 private:
  std::size_t find_delimiter(std::string_view data, std::size_t from) const noexcept;
  template <typename OnFrame>
  void emit(std::string_view frame, OnFrame& on_frame);
  // Keeps the unterminated rest of `data` (which may be buf_ itself) from `start` on.
  void keep_rest(std::string_view data, std::size_t start);

  const std::string delimiter_;
  const bool strip_cr_;
  const std::size_t max_frame_;
  const std::size_t slack_;  // bytes an unterminated rest may exceed max_frame by: a partial
                             // delimiter and the '\r'
  std::string buf_;          // the unterminated rest of the stream
  std::size_t scan_ = 0;     // in buf_: no delimiter starts before this
  bool discarding_ = false;  // inside an overlong frame, dropping bytes until its delimiter
  std::uint64_t overlong_ = 0;
};

inline std::size_t Framer::find_delimiter(std::string_view data, std::size_t from) const noexcept {
  if (delimiter_.size() == 1) {
    if (from >= data.size()) return std::string_view::npos;
    const void* p = std::memchr(data.data() + from, delimiter_[0], data.size() - from);
    return p == nullptr ? std::string_view::npos
                        : static_cast<std::size_t>(static_cast<const char*>(p) - data.data());
  }
  return data.find(delimiter_, from);
}

template <typename OnFrame>
void Framer::emit(std::string_view frame, OnFrame& on_frame) {
  if (strip_cr_ && !frame.empty() && frame.back() == '\r') frame.remove_suffix(1);
  if (frame.size() > max_frame_) {
    ++overlong_;
    return;
  }
  if (!frame.empty()) on_frame(frame);
}

template <typename OnFrame>
void Framer::feed(std::string_view in, OnFrame&& on_frame) {
  if (in.empty()) return;
  std::string_view data = in;
  std::size_t scan = 0;
  if (!buf_.empty()) {
    buf_.append(in);
    data = buf_;
    scan = scan_;
  }
  std::size_t start = 0;
  for (;;) {
    const std::size_t at = find_delimiter(data, scan);
    if (at == std::string_view::npos) break;
    if (discarding_) {
      discarding_ = false;  // the overlong frame ends here: resynchronised
    } else {
      emit(data.substr(start, at - start), on_frame);
    }
    start = at + delimiter_.size();
    scan = start;
  }
  keep_rest(data, start);
}

}  // namespace edgegw::plugins::serial
