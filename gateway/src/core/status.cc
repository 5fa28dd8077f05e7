// SPDX-License-Identifier: Apache-2.0
#include "edgegw/status.h"

namespace edgegw {

std::string_view code_name(Code code) noexcept {
  switch (code) {
    case Code::kOk:
      return "OK";
    case Code::kInvalidArgument:
      return "invalid argument";
    case Code::kNotFound:
      return "not found";
    case Code::kAlreadyExists:
      return "already exists";
    case Code::kPermissionDenied:
      return "permission denied";
    case Code::kUnauthenticated:
      return "unauthenticated";
    case Code::kResourceExhausted:
      return "resource exhausted";
    case Code::kUnavailable:
      return "unavailable";
    case Code::kDeadlineExceeded:
      return "deadline exceeded";
    case Code::kIoError:
      return "I/O error";
    case Code::kCorruption:
      return "corruption";
    case Code::kCancelled:
      return "cancelled";
    case Code::kInternal:
      return "internal error";
  }
  return "unknown";
}

Status::Status(Code code, std::string message)
    : state_(code == Code::kOk ? nullptr
                               : std::make_unique<State>(State{code, std::move(message)})) {}

std::string Status::to_string() const {
  if (is_ok()) return "OK";
  std::string out(code_name(state_->code));
  out += ": ";
  out += state_->message;
  return out;
}

}  // namespace edgegw
