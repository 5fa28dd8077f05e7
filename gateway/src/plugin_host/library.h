// SPDX-License-Identifier: Apache-2.0
// A shared object opened with dlopen(RTLD_NOW | RTLD_LOCAL), closed by the destructor.
#pragma once

#include <string>
#include <string_view>

#include "edgegw/status.h"

namespace edgegw::plugin_host {

class Library {
 public:
  // kNotFound when the file does not exist; kInvalidArgument with dlerror()'s text otherwise.
  static Result<Library> open(const std::string& path);

  Library() = default;
  Library(Library&& other) noexcept;
  Library& operator=(Library&& other) noexcept;
  Library(const Library&) = delete;
  Library& operator=(const Library&) = delete;
  ~Library();

  // The address of an exported symbol, or nullptr.
  void* symbol(const char* name) const noexcept;
  const std::string& path() const noexcept { return path_; }
  explicit operator bool() const noexcept { return handle_ != nullptr; }

 private:
  Library(void* handle, std::string path) : handle_(handle), path_(std::move(path)) {}
  void* handle_ = nullptr;
  std::string path_;
};

}  // namespace edgegw::plugin_host
