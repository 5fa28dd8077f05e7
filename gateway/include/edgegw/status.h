// SPDX-License-Identifier: Apache-2.0
// Status and Result<T>: the error type of the data path (no exceptions there).
// An OK Status holds a null pointer, so returning success never allocates (as RocksDB's Status).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace edgegw {

// Codes are appended, never renumbered.
enum class Code : std::uint8_t {
  kOk = 0,
  kInvalidArgument,    // bad input: config, payload, request
  kNotFound,           // a file, device, plugin that does not exist
  kAlreadyExists,      // a duplicate name or a second instance
  kPermissionDenied,   // a file we may not read or write; a world-readable secret
  kUnauthenticated,    // the cloud refused a token
  kResourceExhausted,  // buffer full, rate limit, disk full
  kUnavailable,        // transient: the cloud or broker is unreachable; retry later
  kDeadlineExceeded,   // a timeout
  kIoError,            // an I/O failure of the local machine
  kCorruption,         // data on disk that does not parse
  kCancelled,          // stopped by shutdown
  kInternal,           // a bug
};

std::string_view code_name(Code code) noexcept;

class [[nodiscard]] Status {
 public:
  Status() noexcept = default;
  Status(Code code, std::string message);
  Status(const Status& other)
      : state_(other.state_ ? std::make_unique<State>(*other.state_) : nullptr) {}
  Status& operator=(const Status& other) {
    if (this != &other) state_ = other.state_ ? std::make_unique<State>(*other.state_) : nullptr;
    return *this;
  }
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;
  ~Status() = default;

  static Status ok() noexcept { return Status(); }
  static Status invalid_argument(std::string msg) {
    return {Code::kInvalidArgument, std::move(msg)};
  }
  static Status not_found(std::string msg) { return {Code::kNotFound, std::move(msg)}; }
  static Status already_exists(std::string msg) { return {Code::kAlreadyExists, std::move(msg)}; }
  static Status permission_denied(std::string msg) {
    return {Code::kPermissionDenied, std::move(msg)};
  }
  static Status unauthenticated(std::string msg) {
    return {Code::kUnauthenticated, std::move(msg)};
  }
  static Status resource_exhausted(std::string msg) {
    return {Code::kResourceExhausted, std::move(msg)};
  }
  static Status unavailable(std::string msg) { return {Code::kUnavailable, std::move(msg)}; }
  static Status deadline_exceeded(std::string msg) {
    return {Code::kDeadlineExceeded, std::move(msg)};
  }
  static Status io_error(std::string msg) { return {Code::kIoError, std::move(msg)}; }
  static Status corruption(std::string msg) { return {Code::kCorruption, std::move(msg)}; }
  static Status cancelled(std::string msg) { return {Code::kCancelled, std::move(msg)}; }
  static Status internal(std::string msg) { return {Code::kInternal, std::move(msg)}; }

  bool is_ok() const noexcept { return state_ == nullptr; }
  explicit operator bool() const noexcept { return is_ok(); }
  Code code() const noexcept { return state_ ? state_->code : Code::kOk; }
  std::string_view message() const noexcept {
    return state_ ? std::string_view(state_->message) : std::string_view();
  }
  // Transient failures that the same operation may overcome later.
  bool retryable() const noexcept {
    const Code c = code();
    return c == Code::kUnavailable || c == Code::kDeadlineExceeded ||
           c == Code::kResourceExhausted || c == Code::kIoError;
  }
  // "OK" or "<code name>: <message>".
  std::string to_string() const;

 private:
  struct State {
    Code code;
    std::string message;
  };
  std::unique_ptr<State> state_;
};

// A value or the Status that explains why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {}  // NOLINT(google-explicit-constructor)

  bool is_ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return is_ok(); }
  const Status& status() const& {
    static const Status kOk;
    return is_ok() ? kOk : std::get<1>(v_);
  }
  Status take_status() && { return is_ok() ? Status() : std::get<1>(std::move(v_)); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace edgegw
