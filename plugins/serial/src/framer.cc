// SPDX-License-Identifier: Apache-2.0
#include "framer.h"

#include <utility>

namespace edgegw::plugins::serial {

Framer::Framer(std::string delimiter, bool strip_cr, std::size_t max_frame)
    : delimiter_(std::move(delimiter)),
      strip_cr_(strip_cr),
      max_frame_(max_frame),
      slack_(delimiter_.size() - 1 + (strip_cr ? 1 : 0)) {}

void Framer::keep_rest(std::string_view data, std::size_t start) {
  std::size_t rest = data.size() - start;
  if (!discarding_ && rest > max_frame_ + slack_) {
    // Whatever follows, this frame is longer than max_frame: count it now and stop holding it.
    ++overlong_;
    discarding_ = true;
  }
  if (discarding_) {
    // Keep only what could be the start of the delimiter that ends the overlong frame.
    const std::size_t tail = delimiter_.size() - 1;
    if (rest > tail) {
      start = data.size() - tail;
      rest = tail;
    }
  }
  if (!buf_.empty() && data.data() == buf_.data()) {
    buf_.erase(0, start);
  } else {
    buf_.assign(data.substr(start, rest));
  }
  // A delimiter may start in the last (size - 1) bytes held, once more bytes arrive.
  scan_ = buf_.size() >= delimiter_.size() - 1 ? buf_.size() - (delimiter_.size() - 1) : 0;
}

bool Framer::reset() noexcept {
  const bool partial = !discarding_ && !buf_.empty() && !(strip_cr_ && buf_ == "\r");
  buf_.clear();
  scan_ = 0;
  discarding_ = false;
  return partial;
}

}  // namespace edgegw::plugins::serial
