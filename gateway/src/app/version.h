// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <string_view>

namespace edgegw::app {

std::string_view version() noexcept;  // "0.1.0"
std::string_view commit() noexcept;   // the git commit built (12 hex digits), or "unknown"
// What `edgegw version` prints: version, commit, compiler and library versions.
std::string version_text();

}  // namespace edgegw::app
