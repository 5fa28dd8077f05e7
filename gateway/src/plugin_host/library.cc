// SPDX-License-Identifier: Apache-2.0
#include "plugin_host/library.h"

#include <dlfcn.h>
#include <sys/stat.h>

#include <utility>

namespace edgegw::plugin_host {

Result<Library> Library::open(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Status::not_found(path + " not found");
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = ::dlerror();
    return Status::invalid_argument("cannot load " + path + ": " +
                                    (why != nullptr ? why : "dlopen failed"));
  }
  return Library(handle, path);
}

Library::Library(Library&& other) noexcept
    : handle_(std::exchange(other.handle_, nullptr)), path_(std::move(other.path_)) {}

Library& Library::operator=(Library&& other) noexcept {
  if (this != &other) {
    if (handle_ != nullptr) ::dlclose(handle_);
    handle_ = std::exchange(other.handle_, nullptr);
    path_ = std::move(other.path_);
  }
  return *this;
}

Library::~Library() {
  if (handle_ != nullptr) ::dlclose(handle_);
}

void* Library::symbol(const char* name) const noexcept {
  return handle_ == nullptr ? nullptr : ::dlsym(handle_, name);
}

}  // namespace edgegw::plugin_host
