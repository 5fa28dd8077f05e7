// SPDX-License-Identifier: Apache-2.0
// Parsing the config's YAML text into one document, around yaml-cpp's known traps.
#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>
#include <vector>

#include "config/config.h"

namespace edgegw::config::detail {

struct YamlProblem {
  Mark mark;
  std::string message;
};

struct ParsedYaml {
  std::optional<YAML::Node> root;  // nullopt: nothing to read, `problems` says why
  std::vector<YamlProblem> problems;
};

// The file's single document. A syntax error, an empty file or nesting too deep leave no root;
// a second document is a problem reported beside the first one's root.
ParsedYaml parse_single_document(const std::string& text);

}  // namespace edgegw::config::detail
