// SPDX-License-Identifier: Apache-2.0
#include "provision/store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

#include <boost/json.hpp>

#include "config/unique_fd.h"

namespace edgegw::provision {

namespace json = boost::json;

namespace {

std::string errno_text() { return std::strerror(errno); }

Status write_all(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::io_error("cannot write " + path + ": " + errno_text());
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return Status::ok();
}

std::string directory_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

Result<Entry> entry_of(const json::value& v) {
  const json::object* o = v.if_object();
  if (o == nullptr) return Status::corruption("an entry is not an object");
  Entry e;
  const auto text = [&](std::string_view name, std::string& out) -> bool {
    const json::value* f = o->if_contains(name);
    if (f == nullptr || !f->is_string()) return false;
    out = std::string(f->get_string());
    return true;
  };
  std::string token;
  if (!text("key", e.key) || !text("device_id", e.device_id) || !text("token", token)) {
    return Status::corruption("an entry lacks key, device_id or token");
  }
  e.token = config::Secret(std::move(token));
  if (const json::value* f = o->if_contains("created"); f != nullptr && f->is_bool()) {
    e.created = f->get_bool();
  }
  if (const json::value* f = o->if_contains("since_ms"); f != nullptr && f->is_int64()) {
    e.since_ms = f->get_int64();
  }
  if (const json::value* f = o->if_contains("old_tokens"); f != nullptr && f->is_array()) {
    for (const json::value& t : f->get_array()) {
      if (t.is_string()) e.old_tokens.emplace_back(std::string(t.get_string()));
    }
  }
  return e;
}

}  // namespace

std::string Store::path_in(std::string_view data_dir) {
  return std::string(data_dir) + "/provisioned.json";
}

Result<Store> Store::load(std::string path) {
  Store store(std::move(path));
  const std::string& p = store.path_;
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) {
    if (errno == ENOENT) return store;
    return Status::io_error("cannot read " + p + ": " + errno_text());
  }
  if ((st.st_mode & 077) != 0 && ::chmod(p.c_str(), 0600) != 0) {
    return Status::permission_denied(p + " holds tokens and others may read it; chmod 600 " +
                                     "failed: " + errno_text());
  }
  std::ifstream in(p, std::ios::binary);
  if (!in) return Status::io_error("cannot read " + p + ": " + errno_text());
  std::stringstream text;
  text << in.rdbuf();
  boost::system::error_code ec;
  const json::value doc = json::parse(text.str(), ec);
  const auto damaged = [&](std::string_view why) {
    return Status::corruption(p + " is damaged (" + std::string(why) +
                              "): move it away and run `edgegw cloud devices` again; the "
                              "gateway then finds its devices again by their tags");
  };
  if (ec) return damaged(ec.message());
  const json::object* root = doc.if_object();
  const json::value* devices = root != nullptr ? root->if_contains("devices") : nullptr;
  if (devices == nullptr || !devices->is_array()) return damaged("no devices array");
  for (const json::value& v : devices->get_array()) {
    auto entry = entry_of(v);
    if (!entry) return damaged(entry.status().message());
    std::string key = entry->key;
    store.entries_.insert_or_assign(std::move(key), std::move(entry).value());
  }
  return store;
}

const Entry* Store::find(std::string_view key) const {
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : &it->second;
}

Status Store::put(Entry entry) {
  const std::string key = entry.key;
  auto previous = entries_.find(key);
  std::optional<Entry> old;
  if (previous != entries_.end()) old = previous->second;
  entries_.insert_or_assign(key, std::move(entry));
  Status s = save();
  if (!s) {  // the file and the memory say the same
    if (old) {
      entries_.insert_or_assign(key, std::move(*old));
    } else {
      entries_.erase(key);
    }
  }
  return s;
}

Status Store::erase(std::string_view key) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return Status::ok();
  Entry old = std::move(it->second);
  entries_.erase(it);
  Status s = save();
  if (!s) entries_.insert_or_assign(old.key, std::move(old));
  return s;
}

Status Store::save() const {
  json::array devices;
  for (const auto& [key, e] : entries_) {
    json::array old;
    for (const config::Secret& t : e.old_tokens) old.emplace_back(t.reveal());
    devices.push_back(json::object{{"key", e.key},
                                   {"device_id", e.device_id},
                                   {"token", e.token.reveal()},
                                   {"created", e.created},
                                   {"since_ms", e.since_ms},
                                   {"old_tokens", std::move(old)}});
  }
  const std::string text =
      json::serialize(json::object{{"version", 1}, {"devices", std::move(devices)}}) + "\n";
  const std::string tmp = path_ + ".tmp";
  {
    config::detail::UniqueFd fd(
        ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (fd.get() < 0) return Status::io_error("cannot write " + tmp + ": " + errno_text());
    if (::fchmod(fd.get(), 0600) != 0) {
      return Status::io_error("cannot chmod " + tmp + ": " + errno_text());
    }
    if (Status s = write_all(fd.get(), text, tmp); !s) return s;
    if (::fsync(fd.get()) != 0) return Status::io_error("cannot sync " + tmp + ": " + errno_text());
  }
  if (::rename(tmp.c_str(), path_.c_str()) != 0) {
    return Status::io_error("cannot replace " + path_ + ": " + errno_text());
  }
  config::detail::UniqueFd dir(
      ::open(directory_of(path_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() >= 0)
    ::fsync(dir.get());  // the rename itself: best effort (some filesystems refuse)
  return Status::ok();
}

}  // namespace edgegw::provision
