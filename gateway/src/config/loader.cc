// SPDX-License-Identifier: Apache-2.0
#include "config/loader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <system_error>

#include "config/reader.h"
#include "config/sections.h"
#include "config/unique_fd.h"
#include "config/yaml_document.h"

namespace edgegw::config {
namespace {

using detail::Item;
using detail::Key;
using detail::Reader;

// A config is a page of YAML; anything this large is a mistake (or an attack on the parser).
constexpr std::size_t kMaxConfigBytes = 4ULL * 1024 * 1024;

constexpr Key<Config> kTopKeys[] = {
    {"gateway", [](Reader& r, const Item& it, Config& c) { read_gateway(r, it, c.gateway); }},
    {"buffer", [](Reader& r, const Item& it, Config& c) { read_buffer(r, it, c.buffer); }},
    {"cloud", [](Reader& r, const Item& it, Config& c) { read_cloud(r, it, c.cloud); }},
    {"metrics", [](Reader& r, const Item& it, Config& c) { read_metrics(r, it, c.metrics); }},
    {"sources", [](Reader& r, const Item& it, Config& c) { read_sources(r, it, c.sources); }},
    {"devices", [](Reader& r, const Item& it, Config& c) { read_devices(r, it, c.devices); }},
    {"unmapped", [](Reader& r, const Item& it, Config& c) { read_unmapped(r, it, c.unmapped); }},
    // Read in read_config, after the devices and analyses they name.
    {"actions", [](Reader&, const Item&, Config&) {}},
    {"analyses", [](Reader& r, const Item& it, Config& c) { read_analyses(r, it, c.analyses); }},
};
constexpr std::size_t kGatewayKey = 0;
constexpr std::size_t kUnmappedKey = 6;
constexpr std::size_t kActionsKey = 7;

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "edgegw";
  return name;
}

LoadResult failure(const std::string& file, Mark mark, std::string message) {
  LoadResult result;
  result.errors.push_back({file, mark, std::move(message)});
  return result;
}

// The bytes of a config file (reading stops one chunk past the size limit, which load_string
// reports), or why it cannot be read.
struct FileText {
  std::string content;
  std::string problem;
};

FileText read_config_text(const std::string& path) {
  FileText text;
  detail::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  struct stat st {};
  if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0) {
    text.problem = std::generic_category().message(errno);
    return text;
  }
  if (S_ISDIR(st.st_mode)) {
    text.problem = "it is a directory";
    return text;
  }
  char buf[65536];
  while (text.content.size() <= kMaxConfigBytes) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      text.problem = std::generic_category().message(errno);
      break;
    }
    if (n == 0) break;
    text.content.append(buf, static_cast<std::size_t>(n));
  }
  return text;
}

LoadResult load(std::string_view yaml, const std::string& file_name, const EnvLookup& env,
                const std::string& base_dir) {
  if (yaml.size() > kMaxConfigBytes) {
    return failure(file_name, {1, 1},
                   "the file is larger than " + std::to_string(kMaxConfigBytes / (1024ULL * 1024)) +
                       " MiB; is it really the config?");
  }
  detail::ParsedYaml parsed = detail::parse_single_document(std::string(yaml));
  Reader reader(file_name, env, base_dir);
  for (auto& problem : parsed.problems) reader.error(problem.mark, "", problem.message);
  if (!parsed.root) {
    LoadResult result;
    result.errors = reader.take_errors();
    return result;
  }
  const YAML::Node& root = *parsed.root;
  Config config;
  config.path = file_name;
  if (!root.IsMap()) {
    reader.error(detail::mark_of(root), "",
                 "the top level must be a map of sections (gateway, buffer, cloud, metrics, "
                 "sources, devices, unmapped, actions, analyses), not " +
                     std::string(detail::kind_of(root)));
  } else {
    detail::read_config(reader, Item{root, "", detail::mark_of(root)}, config);
  }

  LoadResult result;
  result.errors = reader.take_errors();
  if (result.errors.empty()) result.config = std::move(config);
  return result;
}

}  // namespace

namespace detail {

void read_config(Reader& reader, const Item& root, Config& out) {
  const Seen seen = reader.read_map<Config>(root, kTopKeys, out);
  // No gateway section: read an empty one, so that its required keys are reported by name.
  if (!seen[kGatewayKey])
    read_gateway(reader, Item{YAML::Node(), "gateway", root.mark()}, out.gateway);
  if (out.gateway.id.empty()) out.gateway.id = host_name();
  if (out.unmapped.provision && !out.cloud.provisioning.set) {
    reader.error(*seen[kUnmappedKey],
                 "provision needs cloud.provisioning (the account token, connector and network "
                 "the gateway makes devices with)");
  }
  if (seen[kActionsKey]) {
    read_actions(reader, *seen[kActionsKey], out.devices, out.analyses, out.actions);
  }
}

}  // namespace detail

std::string Diagnostic::to_string() const {
  return file + ":" + std::to_string(mark.line) + ":" + std::to_string(mark.column) + ": " +
         message;
}

EnvLookup process_environment() {
  return [](std::string_view name) -> std::optional<std::string> {
    // getenv races only with setenv, which the gateway never calls.
    const char* value = std::getenv(std::string(name).c_str());  // NOLINT(concurrency-mt-unsafe)
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

LoadResult load_file(const std::string& path, const EnvLookup& env) {
  try {
    FileText text = read_config_text(path);
    if (!text.problem.empty()) {
      return failure(path, {}, "cannot read the config file: " + text.problem);
    }
    std::string base_dir = std::filesystem::path(path).parent_path().string();
    if (base_dir.empty()) base_dir = ".";
    return load_string(text.content, path, env, base_dir);
  } catch (const std::exception& e) {
    return failure(path, {}, std::string("internal error while reading the config: ") + e.what());
  }
}

LoadResult load_string(std::string_view yaml, const std::string& file_name, const EnvLookup& env,
                       const std::string& base_dir) {
  try {
    return load(yaml, file_name, env, base_dir);
  } catch (const std::exception& e) {
    // A bug or an exhausted machine, never a reason to bring the gateway down with it.
    return failure(file_name, {},
                   std::string("internal error while reading the config: ") + e.what());
  } catch (...) {
    return failure(file_name, {}, "internal error while reading the config");
  }
}

}  // namespace edgegw::config
